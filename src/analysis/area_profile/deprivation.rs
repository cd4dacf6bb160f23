//! Deprivation of an area in one release, from LSOAs counted with a weight
//! (their apportioned residents): LSOAs and residents by national decile,
//! shares in the most deprived 10% / 20%, and resident-weighted scores of
//! every indicator of the release. The rule is the ward roll-up's
//! ([`crate::analysis::rollup::SUMMARY_RULE`]) with apportioned residents
//! as weights, so an area of whole LSOAs has exactly the roll-up's figures.

use crate::analysis::history::weighted_mean;
use crate::analysis::rollup::INDICATORS;
use crate::analysis::Year;
use crate::atlas::{Atlas, DeprivationRelease, IndicatorValue};

/// LSOAs and residents by national decile on one indicator.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Deciles {
    /// LSOAs (any share counted) with a decile.
    pub lsoas_with_decile: u32,
    /// LSOAs by decile: element `d - 1` counts decile `d`.
    pub lsoas_by_decile: [u32; 10],
    /// Apportioned residents by decile.
    pub residents_by_decile: [f64; 10],
}

impl Deciles {
    /// Residents of LSOAs with a decile.
    #[must_use]
    pub fn residents_with_decile(&self) -> f64 {
        self.residents_by_decile.iter().sum()
    }

    /// Residents in the most deprived `deciles` tenths (1 or 2).
    #[must_use]
    pub fn residents_top(&self, deciles: usize) -> f64 {
        self.residents_by_decile.iter().take(deciles).sum()
    }

    /// LSOAs in the most deprived `deciles` tenths.
    #[must_use]
    pub fn lsoas_top(&self, deciles: usize) -> u32 {
        self.lsoas_by_decile.iter().take(deciles).sum()
    }

    /// Share of residents (with a decile) in the most deprived `deciles`
    /// tenths; `None` without residents.
    #[must_use]
    pub fn resident_share_top(&self, deciles: usize) -> Option<f64> {
        let all = self.residents_with_decile();
        (all > 0.0).then(|| self.residents_top(deciles) / all)
    }
}

/// One indicator's resident-weighted score.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// Indicator id (`imd`, `health`, `indoors`...).
    pub id: String,
    /// Label.
    pub label: String,
    /// `index`, `domain`, `subdomain` or `supplementary`.
    pub kind: String,
    /// Resident-weighted mean score; `None` when no LSOA has one.
    pub score: Option<f64>,
}

/// Deprivation of an area in one release.
#[derive(Debug, Clone, PartialEq)]
pub struct Deprivation {
    /// The release.
    pub year: Year,
    /// Every indicator of the release, in its order.
    pub scores: Vec<Score>,
    /// Deciles of the IMD and its seven domains ([`INDICATORS`], in order).
    pub deciles: Vec<(String, Deciles)>,
}

impl Deprivation {
    /// The resident-weighted score of an indicator.
    #[must_use]
    pub fn score(&self, id: &str) -> Option<f64> {
        self.scores
            .iter()
            .find(|s| s.id == id)
            .and_then(|s| s.score)
    }

    /// The deciles of an indicator of [`INDICATORS`].
    #[must_use]
    pub fn deciles_of(&self, id: &str) -> Option<&Deciles> {
        self.deciles.iter().find(|(i, _)| i == id).map(|(_, d)| d)
    }
}

/// Deprivation over `parts` (`(2021 LSOA index, weight)`), `values(lsoa)`
/// giving an LSOA's row in `release`'s indicator order.
pub fn deprivation<'a>(
    year: Year,
    release: &DeprivationRelease,
    parts: &[(u32, f64)],
    values: impl Fn(usize) -> Option<&'a [IndicatorValue]>,
) -> Deprivation {
    let scores = release
        .indicators
        .iter()
        .enumerate()
        .map(|(k, def)| Score {
            id: def.id.clone(),
            label: def.label.clone(),
            kind: def.kind.clone(),
            score: weighted_mean(
                parts
                    .iter()
                    .filter_map(|&(i, w)| Some((values(i as usize)?.get(k)?.score?, w))),
            ),
        })
        .collect();
    let deciles = INDICATORS
        .iter()
        .map(|id| {
            let mut d = Deciles::default();
            if let Some(k) = release.position(id) {
                for &(i, w) in parts {
                    let Some(decile) = values(i as usize).and_then(|v| v.get(k)?.decile) else {
                        continue;
                    };
                    let slot = usize::from(decile.clamp(1, 10)) - 1;
                    d.lsoas_with_decile += 1;
                    if let Some(n) = d.lsoas_by_decile.get_mut(slot) {
                        *n += 1;
                    }
                    if let Some(r) = d.residents_by_decile.get_mut(slot) {
                        *r += w;
                    }
                }
            }
            ((*id).to_owned(), d)
        })
        .collect();
    Deprivation {
        year,
        scores,
        deciles,
    }
}

/// IMD 2025 over `parts`.
pub fn year_2025(atlas: &Atlas, parts: &[(u32, f64)]) -> Deprivation {
    deprivation(Year::Y2025, &atlas.imd2025, parts, |i| {
        atlas.lsoa21.get(i).map(|l| l.imd.as_slice())
    })
}

/// IMD 2019, carried onto 2021 LSOAs (`carried`, in LSOA order), over `parts`.
pub fn year_2019(
    atlas: &Atlas,
    carried: &[Vec<IndicatorValue>],
    parts: &[(u32, f64)],
) -> Deprivation {
    deprivation(Year::Y2019, &atlas.imd2019, parts, |i| {
        carried.get(i).map(Vec::as_slice)
    })
}
