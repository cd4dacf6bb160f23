//! Capacity-aware access: the two-step floating catchment area method
//! (2SFCA; Luo and Wang 2003), with optional Gaussian distance decay
//! (Dai 2010).
//!
//! 1. For each asset *j*, the supply-to-demand ratio
//!    `R_j = S_j / Σ_k P_k · w(d_kj)` over the origins *k* within the
//!    catchment `d0` of *j*.
//! 2. For each origin *i*, `A_i = Σ_j w(d_ij) · R_j` over the assets within
//!    `d0` of *i*.
//!
//! Here the supply `S_j` of every asset is 1 (no capacity — list sizes,
//! opening hours, floor area — is published in every source), so the result
//! reads as "assets per resident reachable", reported per 10,000 residents.
//! Origins are postcodes; each carries an equal share of its LSOA's Census
//! 2021 residents. An LSOA's value is the resident-weighted mean of its
//! origins' values. `d` is the geodesic straight-line distance. Weights:
//! [`Decay::None`] `w = 1` within `d0`; [`Decay::Gaussian`]
//! `w = (e^{-½(d/d0)²} − e^{-½}) / (1 − e^{-½})` within `d0`.
//!
//! Demand comes from every origin in the region and in its ring of
//! neighbouring LSOAs ([`crate::atlas::Ring`], reaching twice the widest
//! default catchment), covered or not (residents use an asset whatever its
//! data source covers); values are reported only for the region's LSOAs
//! that the category's sources cover. So a region LSOA's value equals the
//! England-wide one for catchments up to half the ring's reach.

use super::nearest::{group_within, within_among, Candidate};
use super::origins::Origins;
use crate::atlas::{Atlas, DualPoint};
use crate::parallel::par_map;

/// Distance decay within the catchment.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Decay {
    /// Every asset within the catchment counts fully.
    None,
    /// Gaussian decay, reaching zero at the catchment edge.
    Gaussian,
}

impl Decay {
    /// The weight of distance `d` in catchment `d0` (0 beyond it).
    ///
    /// ```
    /// use gapmap::analysis::fca::Decay;
    /// assert_eq!(Decay::None.weight(900.0, 1000.0), 1.0);
    /// assert_eq!(Decay::Gaussian.weight(0.0, 1000.0), 1.0);
    /// assert!(Decay::Gaussian.weight(1000.0, 1000.0).abs() < 1e-12);
    /// assert_eq!(Decay::Gaussian.weight(1200.0, 1000.0), 0.0);
    /// ```
    #[must_use]
    pub fn weight(self, d: f64, d0: f64) -> f64 {
        if d > d0 || d0 <= 0.0 {
            return 0.0;
        }
        match self {
            Decay::None => 1.0,
            Decay::Gaussian => {
                let edge = (-0.5_f64).exp();
                (((-0.5) * (d / d0).powi(2)).exp() - edge) / (1.0 - edge)
            }
        }
    }
}

/// Default catchment (metres) for a category, chosen by how far people are
/// usually expected to travel for it: 800 m (a 10-minute walk) for parks and
/// playgrounds; 1.6 km (a 20-minute walk, the NHS "reasonable walking
/// distance" often used for GPs and pharmacies) for everyday services; 3 km for
/// libraries and leisure centres, which serve a town; 5 km for nature
/// reserves.
///
/// ```
/// use gapmap::analysis::fca::default_catchment_m;
/// assert_eq!(default_catchment_m("gp_practice"), 1600.0);
/// assert_eq!(default_catchment_m("park"), 800.0);
/// ```
#[must_use]
pub fn default_catchment_m(category: &str) -> f64 {
    match category {
        "park" | "playground" => 800.0,
        "library" | "leisure_centre" => 3000.0,
        "nature_reserve" => 5000.0,
        _ => 1600.0,
    }
}

/// Parameters of the 2SFCA run.
#[derive(
    Debug, Clone, PartialEq, serde::Serialize, borsh::BorshSerialize, borsh::BorshDeserialize,
)]
pub struct FcaParams {
    /// Catchment per category (metres), in category order.
    pub catchment_m: Vec<f64>,
    /// Distance decay.
    pub decay: Decay,
}

impl FcaParams {
    /// Default catchments for the atlas's categories, no decay.
    #[must_use]
    pub fn defaults(atlas: &Atlas) -> Self {
        Self {
            catchment_m: atlas
                .categories
                .iter()
                .map(|c| default_catchment_m(&c.id))
                .collect(),
            decay: Decay::None,
        }
    }
}

/// 2SFCA results: assets per 10,000 residents, per LSOA × category.
#[derive(Debug, Clone, Default, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct FcaTable {
    /// Parameters used.
    pub params: Option<FcaParams>,
    /// Number of categories.
    pub categories: usize,
    #[borsh(deserialize_with = "crate::model::borsh_vec::read_vec")]
    values: Vec<Option<f64>>,
}

impl FcaTable {
    /// Assets per 10,000 residents for an LSOA and category; `None` outside
    /// coverage or for an LSOA without residents.
    #[must_use]
    pub fn get(&self, lsoa: usize, category: usize) -> Option<f64> {
        if category >= self.categories {
            return None;
        }
        self.values
            .get(lsoa * self.categories + category)
            .copied()
            .flatten()
    }
}

/// Calls `f(asset, weight)` for each candidate within the catchment of an
/// origin. Without decay the distance itself is not needed, only
/// membership, which the planar distance settles for most pairs.
fn weighted_among(
    candidates: &[Candidate],
    origin: &DualPoint,
    d0: f64,
    decay: Decay,
    mut f: impl FnMut(u32, f64),
) {
    let need_distance = decay != Decay::None;
    within_among(candidates, origin, d0, need_distance, |item, d| {
        f(item, d.map_or(1.0, |d| decay.weight(d, d0)));
    });
}

/// Runs 2SFCA for every category, on all cores.
///
/// Both steps walk the same (origin, asset) pairs within the catchment, LSOA
/// by LSOA: the assets that can be within `d0` of any of an LSOA's
/// postcodes are found with one range query ([`group_within`]), then each
/// postcode is tested against those few. Step 1 adds each pair's residents
/// to the asset's demand (per thread, then summed); step 2 adds the asset's
/// ratio to the origin's accessibility.
pub fn compute(atlas: &Atlas, origins: &Origins, params: &FcaParams) -> FcaTable {
    let categories = atlas.categories.len();
    let per_category: Vec<Vec<Option<f64>>> = (0..categories)
        .map(|c| compute_category(atlas, origins, params, c))
        .collect();
    assemble(atlas.lsoa21.len(), params, per_category)
}

/// Lays per-category columns out as the LSOA × category table.
fn assemble(n: usize, params: &FcaParams, per_category: Vec<Vec<Option<f64>>>) -> FcaTable {
    let categories = per_category.len();
    let mut values = vec![None; n * categories];
    for (c, col) in per_category.into_iter().enumerate() {
        for (i, v) in col.into_iter().enumerate() {
            if let Some(slot) = values.get_mut(i * categories + c) {
                *slot = v;
            }
        }
    }
    FcaTable {
        params: Some(params.clone()),
        categories,
        values,
    }
}

/// 2SFCA for an atlas derived from the one `previous` was computed on
/// ([`Atlas::with_assets`]: same LSOAs and origins, other assets):
/// categories whose `recompute` flag is set, and categories beyond
/// `previous.categories`, are computed anew; the others' values are copied
/// (a category's values depend on its own assets only). Catchments of
/// copied categories are those of `previous`; the others take their
/// default ([`default_catchment_m`]); the decay is that of `previous`.
///
/// Equals [`compute`] with those parameters provided every category whose
/// assets, sources or coverage differ between the two atlases is flagged.
pub fn update(
    previous: &FcaTable,
    atlas: &Atlas,
    origins: &Origins,
    recompute: &[bool],
) -> FcaTable {
    let n = atlas.lsoa21.len();
    let same_lsoas = previous.values.len() == n * previous.categories;
    let reused = |c: usize| {
        same_lsoas && c < previous.categories && !recompute.get(c).copied().unwrap_or(false)
    };
    let old = previous.params.as_ref();
    let params = FcaParams {
        catchment_m: atlas
            .categories
            .iter()
            .enumerate()
            .map(|(c, cat)| {
                old.filter(|_| reused(c))
                    .and_then(|p| p.catchment_m.get(c).copied())
                    .unwrap_or_else(|| default_catchment_m(&cat.id))
            })
            .collect(),
        decay: old.map_or(Decay::None, |p| p.decay),
    };
    let per_category: Vec<Vec<Option<f64>>> = (0..atlas.categories.len())
        .map(|c| {
            if reused(c) {
                (0..n).map(|i| previous.get(i, c)).collect()
            } else {
                compute_category(atlas, origins, &params, c)
            }
        })
        .collect();
    assemble(n, &params, per_category)
}

/// 2SFCA values of one category, per LSOA (all `None` for an unknown or
/// empty category).
fn compute_category(
    atlas: &Atlas,
    origins: &Origins,
    params: &FcaParams,
    c: usize,
) -> Vec<Option<f64>> {
    let n = atlas.lsoa21.len();
    let asset_lonlat = |i: u32| atlas.assets.get(i as usize).map(|a| a.location.lonlat);
    let lsoas: Vec<usize> = (0..n).collect();
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    // Demand groups: the region's LSOAs and the ring's.
    let groups = origins.groups().max(n);
    let step = groups.div_ceil(threads * 4).max(1);
    let blocks: Vec<std::ops::Range<usize>> = (0..groups)
        .step_by(step)
        .map(|a| a..(a + step).min(groups))
        .collect();
    let Some(category) = atlas.categories.get(c) else {
        return vec![None; n];
    };
    let d0 = params
        .catchment_m
        .get(c)
        .copied()
        .unwrap_or_else(|| default_catchment_m(&category.id));
    let Some(tree) = atlas.indexes.assets.category(c).filter(|t| t.size() > 0) else {
        return vec![None; n];
    };
    let candidates_of = |i: usize| {
        origins
            .bounds
            .get(i)
            .copied()
            .flatten()
            .map(|g| group_within(tree, g, d0, asset_lonlat))
            .unwrap_or_default()
    };
    // Step 1: demand on each asset, from every origin in the region and ring.
    let partial: Vec<Vec<f64>> = par_map(&blocks, |block| {
        let mut demand = vec![0.0; atlas.assets.len()];
        for i in block.clone() {
            let candidates = candidates_of(i);
            let residents = origins.share(i);
            for o in origins.of(i).iter() {
                weighted_among(&candidates, o, d0, params.decay, |j, w| {
                    if let Some(slot) = demand.get_mut(j as usize) {
                        *slot += residents * w;
                    }
                });
            }
        }
        demand
    });
    let mut ratio_of = vec![0.0; atlas.assets.len()];
    for part in &partial {
        for (total, d) in ratio_of.iter_mut().zip(part) {
            *total += d;
        }
    }
    for r in &mut ratio_of {
        *r = if *r > 0.0 { 1.0 / *r } else { 0.0 };
    }
    // Step 2: accessibility of each origin, then the LSOA's resident-weighted mean.
    let cat = u16::try_from(c).unwrap_or(u16::MAX);
    par_map(&lsoas, |&i| {
        let lsoa = atlas.lsoa21.get(i)?;
        if !atlas.category_covers(cat, lsoa) {
            return None;
        }
        let pts = origins.of(i);
        let residents = origins.share(i);
        // Summed origin by origin, as the residents were spread.
        let people: f64 = pts.iter().map(|_| residents).sum();
        if people <= 0.0 {
            return None;
        }
        let candidates = candidates_of(i);
        let total: f64 = pts
            .iter()
            .map(|o| {
                let mut a = 0.0;
                weighted_among(&candidates, o, d0, params.decay, |j, w| {
                    // The site stands for `copies` assets at one position,
                    // each with the same demand and so the same ratio.
                    let copies = f64::from(atlas.indexes.assets.copies(c, j));
                    a += copies * w * ratio_of.get(j as usize).copied().unwrap_or(0.0);
                });
                a * residents
            })
            .sum();
        Some(total / people * 10_000.0)
    })
}
