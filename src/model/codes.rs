//! Codes and classifications shared by every layer: how 2011 LSOAs became
//! 2021 LSOAs, the rural/urban classification, and published deprivation values.

use serde::Serialize;

/// How a 2011 LSOA became 2021 LSOAs.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, borsh::BorshSerialize, borsh::BorshDeserialize,
)]
pub enum ChangeCode {
    /// Unchanged.
    #[serde(rename = "U")]
    Unchanged,
    /// Split into several 2021 LSOAs.
    #[serde(rename = "S")]
    Split,
    /// Merged with others into one 2021 LSOA.
    #[serde(rename = "M")]
    Merged,
    /// Irregular redistribution.
    #[serde(rename = "X")]
    Irregular,
}

impl ChangeCode {
    /// Parses the ONS one-letter code.
    #[must_use]
    pub fn parse(code: &str) -> Option<Self> {
        match code.trim() {
            "U" => Some(Self::Unchanged),
            "S" => Some(Self::Split),
            "M" => Some(Self::Merged),
            "X" => Some(Self::Irregular),
            _ => None,
        }
    }

    /// The ONS one-letter code.
    #[must_use]
    pub fn letter(self) -> &'static str {
        match self {
            Self::Unchanged => "U",
            Self::Split => "S",
            Self::Merged => "M",
            Self::Irregular => "X",
        }
    }
}

/// Rural/urban classification of an LSOA.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, borsh::BorshSerialize, borsh::BorshDeserialize,
)]
pub struct RuralUrban {
    /// e.g. `UN1`.
    pub code: String,
    /// e.g. `Urban: Nearer to a major town or city`.
    pub classification: String,
    /// `Urban` or `Rural`.
    pub ruc: String,
}

/// The published values of one indicator for one area. Any part may be absent
/// (IoD2019 publishes sub-domain scores but no sub-domain deciles, say).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Serialize,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
pub struct IndicatorValue {
    /// National decile: 1 = the most deprived 10% of areas in England.
    pub decile: Option<u8>,
    /// National rank: 1 = the most deprived area in England.
    pub rank: Option<u32>,
    /// Score (higher = more deprived, in the units of the indicator).
    pub score: Option<f64>,
}

impl IndicatorValue {
    /// True when no part of the value was published.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.decile.is_none() && self.rank.is_none() && self.score.is_none()
    }
}
