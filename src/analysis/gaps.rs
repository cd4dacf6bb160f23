//! Gaps: LSOAs that are both deprived and far from a category of asset.
//!
//! An LSOA is a gap when
//! - its decile on the chosen indicator and year is at most `max_decile`
//!   (1 = the most deprived 10% in England), and
//! - its chosen distance measure (mean or max over its origins of the
//!   straight-line distance to the nearest asset) is at least `min_distance_m`.
//!
//! Never a gap: an LSOA outside the category's coverage ("no data"), one
//! whose nearest asset may lie beyond a coverage edge (uncertain), one with
//! no asset or origin to measure from, or one without a decile. These are
//! counted, not hidden. Gaps are sorted by need: decile ascending, then
//! distance descending, then LSOA order.

use super::access::{Access, AccessTable};

/// Which distance a gap query compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Mean over the LSOA's origins of the distance to the nearest asset.
    Mean,
    /// Largest distance from one of the LSOA's origins to its nearest asset.
    Max,
}

impl Measure {
    /// Parses `mean` or `max`.
    ///
    /// ```
    /// use gapmap::analysis::gaps::Measure;
    /// assert_eq!(Measure::parse("max"), Some(Measure::Max));
    /// assert_eq!(Measure::parse("median"), None);
    /// ```
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "mean" => Some(Self::Mean),
            "max" => Some(Self::Max),
            _ => None,
        }
    }

    /// The name used in APIs.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Mean => "mean",
            Self::Max => "max",
        }
    }
}

/// A gap query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GapQuery {
    /// Category index.
    pub category: usize,
    /// Largest decile counted as deprived (1..=10).
    pub max_decile: u8,
    /// Smallest distance (m) counted as far.
    pub min_distance_m: f64,
    /// Distance measure compared.
    pub measure: Measure,
}

/// One gap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gap {
    /// 2021 LSOA index.
    pub lsoa: usize,
    /// Decile on the chosen indicator and year.
    pub decile: u8,
    /// The compared distance (m, straight line).
    pub distance_m: f64,
}

/// The result of a gap query, with what was left out and why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GapSelection {
    /// Gaps, most in need first.
    pub gaps: Vec<Gap>,
    /// Deprived LSOAs outside the category's coverage (no data).
    pub deprived_no_data: usize,
    /// Deprived and far LSOAs left out because the nearest asset may lie beyond a coverage edge.
    pub deprived_uncertain: usize,
    /// Deprived LSOAs with no asset or origin to measure.
    pub deprived_unmeasured: usize,
    /// LSOAs with no decile for the indicator.
    pub without_decile: usize,
}

/// Selects the gaps. `deciles` holds each LSOA's decile on the chosen
/// indicator and year, in LSOA order.
///
/// ```
/// use gapmap::analysis::access::AccessTable;
/// use gapmap::analysis::gaps::{select, GapQuery, Measure};
/// // An empty table has no gaps, whatever the deciles.
/// let q = GapQuery { category: 0, max_decile: 2, min_distance_m: 1600.0, measure: Measure::Mean };
/// assert!(select(&AccessTable::default(), &[Some(1)], &q).gaps.is_empty());
/// ```
#[must_use]
pub fn select(access: &AccessTable, deciles: &[Option<u8>], query: &GapQuery) -> GapSelection {
    let mut out = GapSelection::default();
    for (lsoa, decile) in deciles.iter().enumerate() {
        let Some(decile) = *decile else {
            out.without_decile += 1;
            continue;
        };
        if decile > query.max_decile {
            continue;
        }
        match access.get(lsoa, query.category) {
            Some(Access::Measured(m)) => {
                let distance_m = match query.measure {
                    Measure::Mean => m.mean_m,
                    Measure::Max => m.max_m,
                };
                if distance_m < query.min_distance_m {
                    continue;
                }
                if m.edge.is_some() {
                    out.deprived_uncertain += 1;
                    continue;
                }
                out.gaps.push(Gap {
                    lsoa,
                    decile,
                    distance_m,
                });
            }
            Some(Access::NoData) => out.deprived_no_data += 1,
            Some(Access::NoAsset | Access::NoOrigin) | None => out.deprived_unmeasured += 1,
        }
    }
    out.gaps.sort_by(|a, b| {
        a.decile
            .cmp(&b.decile)
            .then_with(|| b.distance_m.total_cmp(&a.distance_m))
            .then_with(|| a.lsoa.cmp(&b.lsoa))
    });
    out
}
