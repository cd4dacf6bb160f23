//! Deprivation indicators (IMD overall, domains, sub-domains, supplementary
//! indices) as the atlas holds them: a schema per release and a compact row of
//! values per small area.

use serde::Serialize;

/// One indicator published in a deprivation release (e.g. the Health domain).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IndicatorDef {
    /// Stable identifier used in APIs and configuration (`imd`, `health`, `indoors`...).
    pub id: String,
    /// Human-readable name.
    pub label: String,
    /// `index`, `domain`, `subdomain` or `supplementary`.
    pub kind: String,
}

/// The published values of one indicator for one area. Any part may be absent
/// (IoD2019 publishes sub-domain scores but no sub-domain deciles, say).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
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

/// A deprivation release: its indicators and descriptive metadata.
#[derive(Debug, Clone, Serialize)]
pub struct DeprivationRelease {
    /// Publication year (2019, 2025).
    pub year: u16,
    /// Title, e.g. "English Indices of Deprivation 2025".
    pub title: String,
    /// Geography the release is published on (`lsoa21` or `lsoa11`).
    pub geography: String,
    /// Number of areas ranked nationally (for "most deprived x%" reasoning).
    pub areas_ranked: u32,
    /// The indicators, in the order values are stored.
    pub indicators: Vec<IndicatorDef>,
    /// Licence and attribution line.
    pub attribution: String,
}

impl DeprivationRelease {
    /// Position of an indicator in each area's value row.
    #[must_use]
    pub fn position(&self, id: &str) -> Option<usize> {
        self.indicators.iter().position(|d| d.id == id)
    }
}
