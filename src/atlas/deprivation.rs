//! Deprivation indicators (IMD overall, domains, sub-domains, supplementary
//! indices) as the atlas holds them: a schema per release and a compact row of
//! values per small area.

use serde::Serialize;

/// One indicator published in a deprivation release (e.g. the Health domain).
#[derive(
    Debug, Clone, Serialize, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize,
)]
pub struct IndicatorDef {
    /// Stable identifier used in APIs and configuration (`imd`, `health`, `indoors`...).
    pub id: String,
    /// Human-readable name.
    pub label: String,
    /// `index`, `domain`, `subdomain` or `supplementary`.
    pub kind: String,
}

/// A deprivation release: its indicators and descriptive metadata.
#[derive(Debug, Clone, Serialize, borsh::BorshSerialize, borsh::BorshDeserialize)]
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
    /// Per indicator (release order), the lowest published score in each of
    /// deciles 1–9 over every area of the national table (England, not only
    /// the region): the decile score ranges. `None` for an indicator without
    /// both deciles and scores. Read with [`Self::decile_of_score`].
    #[serde(skip)]
    pub decile_floors: Vec<Option<[f64; 9]>>,
}

impl DeprivationRelease {
    /// Position of an indicator in each area's value row.
    #[must_use]
    pub fn position(&self, id: &str) -> Option<usize> {
        self.indicators.iter().position(|d| d.id == id)
    }

    /// The national decile a score of indicator `k` falls in by the release's
    /// own decile score ranges: the most deprived decile `d` whose lowest
    /// published score is at or below `score` (higher scores are more
    /// deprived), 10 below every floor. `None` without ranges for `k`.
    ///
    /// Used to check values carried onto areas the release did not rank
    /// (merged or irregular 2021 LSOAs, see `analysis::history`).
    #[must_use]
    pub fn decile_of_score(&self, k: usize, score: f64) -> Option<u8> {
        let floors = self.decile_floors.get(k)?.as_ref()?;
        let d = floors.iter().position(|&floor| score >= floor).unwrap_or(9);
        u8::try_from(d + 1).ok()
    }
}

/// The decile score ranges of every indicator (see
/// [`DeprivationRelease::decile_floors`]) from a national table of published
/// values: `rows` yields each area's values in release order.
#[must_use]
pub fn decile_floors<'a>(
    indicators: usize,
    rows: impl Iterator<Item = &'a [crate::model::IndicatorValue]>,
) -> Vec<Option<[f64; 9]>> {
    let mut floors = vec![[f64::INFINITY; 9]; indicators];
    let mut seen = vec![[false; 9]; indicators];
    for row in rows {
        for (k, v) in row.iter().enumerate().take(indicators) {
            if let (Some(d @ 1..=9), Some(score)) = (v.decile, v.score) {
                let i = usize::from(d - 1);
                floors[k][i] = floors[k][i].min(score);
                seen[k][i] = true;
            }
        }
    }
    floors
        .into_iter()
        .zip(seen)
        .map(|(f, s)| s.iter().all(|&x| x).then_some(f))
        .collect()
}
