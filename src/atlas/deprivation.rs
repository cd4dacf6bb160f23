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
