//! IMD 2019 carried onto 2021 LSOAs, so that 2019 and 2025 can be compared
//! area by area and roll-ups count the same areas and residents in both years.
//!
//! IoD2019 is published on 2011 LSOAs. ONS's 2011→2021 lookup links each
//! 2021 LSOA to the 2011 LSOA(s) it derives from, with a change code:
//! - **U** (unchanged) and **S** (the 2011 LSOA was split): the 2021 LSOA has
//!   one parent and takes its values. A split 2011 LSOA was ranked as one
//!   area, so each of its 2021 parts inherits the same decile;
//! - **M** (several 2011 LSOAs merged) and **X** (irregular): several
//!   parents. Scores are averaged weighted by the parents' mid-2015
//!   populations (the IoD2019 denominators); the decile and rank are those
//!   of the parent with the largest mid-2015 population (ties: the more
//!   deprived), because deciles cannot be averaged meaningfully.
//!
//! A 2021 LSOA with no linked parent carrying data gets empty values.
//!
//! A carried decile and a carried score can disagree: the largest parent's
//! decile need not be the decile the weighted score falls in (51 of
//! England's merged or irregular 2021 LSOAs). Both are kept, and
//! [`score_decile_2019`] gives the decile the carried score falls in by
//! IoD2019's own decile score ranges over all 32,844 2011 LSOAs, so such
//! LSOAs are flagged rather than silently given one or the other.

use crate::atlas::{Atlas, IndicatorValue, Lsoa21};

/// IMD 2019 values for one 2021 LSOA, in the order of `atlas.imd2019.indicators`.
pub fn carry_2019(atlas: &Atlas, lsoa: &Lsoa21) -> Vec<IndicatorValue> {
    // Parents outside the region (loaded for this) count as in England.
    let outside = lsoa
        .lsoa11_outside
        .iter()
        .filter_map(|(i, _)| atlas.ring.lsoa11.get(*i as usize));
    let parents: Vec<(&crate::atlas::Lsoa11, f64)> = lsoa
        .lsoa11
        .iter()
        .filter_map(|(i, _)| atlas.lsoa11.get(*i as usize))
        .chain(outside)
        .filter(|p| !p.imd.is_empty())
        .map(|p| (p, f64::from(p.population_2015.unwrap_or(0))))
        .collect();
    let n = atlas.imd2019.indicators.len();
    match parents.as_slice() {
        [] => vec![IndicatorValue::default(); n],
        [(only, _)] => {
            let mut v = only.imd.clone();
            v.resize(n, IndicatorValue::default());
            v
        }
        many => (0..n).map(|k| combine(many, k)).collect(),
    }
}

/// For a 2021 LSOA with several parents carrying data (merged or
/// irregular), the IoD2019 decile that its carried score of indicator `k`
/// falls in ([`crate::atlas::DeprivationRelease::decile_of_score`]); `None`
/// for unchanged and split LSOAs, whose published decile and score belong
/// to the same area and agree by construction, and without a carried score.
#[must_use]
pub fn score_decile_2019(
    atlas: &Atlas,
    lsoa: &Lsoa21,
    carried: &[IndicatorValue],
    k: usize,
) -> Option<u8> {
    let inside = lsoa
        .lsoa11
        .iter()
        .filter_map(|(i, _)| atlas.lsoa11.get(*i as usize));
    let outside = lsoa
        .lsoa11_outside
        .iter()
        .filter_map(|(i, _)| atlas.ring.lsoa11.get(*i as usize));
    let parents = inside.chain(outside).filter(|p| !p.imd.is_empty()).count();
    if parents < 2 {
        return None;
    }
    atlas.imd2019.decile_of_score(k, carried.get(k)?.score?)
}

/// Combines indicator `k` of several parents (see the module notes).
fn combine(parents: &[(&crate::atlas::Lsoa11, f64)], k: usize) -> IndicatorValue {
    let values: Vec<(IndicatorValue, f64)> = parents
        .iter()
        .map(|(p, w)| (p.imd.get(k).copied().unwrap_or_default(), *w))
        .collect();
    let dominant = values
        .iter()
        .filter(|(v, _)| v.decile.is_some() || v.rank.is_some())
        .max_by(|(a, wa), (b, wb)| {
            wa.total_cmp(wb)
                // Equal populations: prefer the more deprived (lower rank).
                .then_with(|| b.rank.unwrap_or(u32::MAX).cmp(&a.rank.unwrap_or(u32::MAX)))
        })
        .map(|(v, _)| *v)
        .unwrap_or_default();
    IndicatorValue {
        decile: dominant.decile,
        rank: dominant.rank,
        score: weighted_mean(values.iter().filter_map(|(v, w)| Some((v.score?, *w)))),
    }
}

/// Weighted mean; a plain mean when all weights are zero; `None` when empty.
///
/// ```
/// use gapmap::analysis::history::weighted_mean;
/// assert_eq!(weighted_mean([(10.0, 1.0), (20.0, 3.0)].into_iter()), Some(17.5));
/// assert_eq!(weighted_mean([(10.0, 0.0), (20.0, 0.0)].into_iter()), Some(15.0));
/// assert_eq!(weighted_mean(std::iter::empty()), None);
/// ```
pub fn weighted_mean(values: impl Iterator<Item = (f64, f64)>) -> Option<f64> {
    let v: Vec<(f64, f64)> = values.collect();
    if v.is_empty() {
        return None;
    }
    let w: f64 = v.iter().map(|(_, w)| w).sum();
    if w > 0.0 {
        Some(v.iter().map(|(x, w)| x * w).sum::<f64>() / w)
    } else {
        Some(v.iter().map(|(x, _)| x).sum::<f64>() / v.len() as f64)
    }
}

/// IMD 2019 on every 2021 LSOA of the atlas, in LSOA order.
pub fn carry_all(atlas: &Atlas) -> Vec<Vec<IndicatorValue>> {
    atlas.lsoa21.iter().map(|l| carry_2019(atlas, l)).collect()
}
