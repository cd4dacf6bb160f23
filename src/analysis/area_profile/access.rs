//! Residents' straight-line distance to the nearest asset of one category,
//! from the origins an area covers, and the area's deprived-and-far
//! residents.
//!
//! - Each covered origin (postcode unit) stands for its equal share of its
//!   LSOA's residents and is measured to its geodesic nearest asset
//!   ([`crate::analysis::nearest::nearest_geodesic`], as `/gaps` does);
//!   origins in LSOAs the category's sources do not cover are "no data".
//! - **Gap residents** (the `/gaps` definition): apportioned residents of
//!   the area's LSOAs in IMD 2025 decile ≤ `max_decile` whose mean distance
//!   is ≥ `min_distance_m` (LSOAs near a bounding-box coverage edge left
//!   out, as `/gaps` leaves them out).
//! - **Deprived-and-far residents** (finer, per postcode unit): residents of
//!   covered origins in such deprived LSOAs whose own distance is ≥
//!   `min_distance_m`.

use super::{AreaSpec, ProfileParams};
use crate::analysis::access::Access;
use crate::analysis::nearest::nearest_geodesic;
use crate::analysis::{Analysis, AnalysisError, Interrupt};
use crate::atlas::Atlas;

/// Access of an area's residents to one category.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CategoryAccess {
    /// Residents in LSOAs the category's sources cover.
    pub covered_residents: f64,
    /// Residents measured (covered, with an asset to measure to).
    pub measured_residents: f64,
    /// Resident-weighted mean distance to the nearest asset (m).
    pub mean_m: Option<f64>,
    /// Resident-weighted median distance (m).
    pub median_m: Option<f64>,
    /// Residents within each access band (cumulative), in band order.
    pub residents_within: Vec<f64>,
    /// LSOAs of the area that are gaps (the `/gaps` definition).
    pub gap_lsoas: Vec<u32>,
    /// Apportioned residents of those LSOAs.
    pub gap_residents: f64,
    /// Residents of deprived LSOAs whose own postcode unit is far.
    pub deprived_far_residents: f64,
}

/// Access of `spec`'s residents to category `c`; `parts` are the area's
/// `(LSOA, apportioned residents)`.
///
/// # Errors
/// [`AnalysisError::Interrupted`] once `interrupt` is raised.
pub fn category(
    atlas: &Atlas,
    analysis: &Analysis,
    c: usize,
    spec: &AreaSpec,
    parts: &[(u32, f64)],
    params: &ProfileParams,
    interrupt: &Interrupt,
) -> Result<CategoryAccess, AnalysisError> {
    let mut out = CategoryAccess {
        residents_within: vec![0.0; params.access_bands_m.len()],
        ..CategoryAccess::default()
    };
    let deprived = |lsoa: usize| {
        let k = atlas.imd2025.position("imd");
        atlas
            .lsoa21
            .get(lsoa)
            .and_then(|l| l.imd.get(k?)?.decile)
            .is_some_and(|d| d <= params.max_decile)
    };
    for &(i, residents) in parts {
        match analysis.access.get(i as usize, c) {
            Some(Access::NoData) | None => {}
            Some(Access::Measured(m)) => {
                out.covered_residents += residents;
                if deprived(i as usize) && m.edge.is_none() && m.mean_m >= params.min_distance_m {
                    out.gap_lsoas.push(i);
                    out.gap_residents += residents;
                }
            }
            Some(_) => out.covered_residents += residents,
        }
    }
    let Some(tree) = atlas.indexes.assets.category(c) else {
        return Ok(out);
    };
    let mut measured: Vec<(f64, f64)> = Vec::new();
    for (visited, &k) in spec.origins.iter().enumerate() {
        interrupt.check_at(visited)?;
        let (Some(o), Some(lsoa)) = (analysis.origins.get(k), analysis.origins.group_of(k)) else {
            continue;
        };
        let residents = analysis.origins.share(lsoa);
        let Some(Access::Measured(m)) = analysis.access.get(lsoa, c) else {
            continue;
        };
        let Some(n) = nearest_geodesic(tree, o, |a| {
            atlas.assets.get(a as usize).map(|a| a.location.lonlat)
        }) else {
            continue;
        };
        measured.push((n.distance_m, residents));
        for (slot, &band) in out.residents_within.iter_mut().zip(&params.access_bands_m) {
            if n.distance_m <= band {
                *slot += residents;
            }
        }
        if deprived(lsoa) && m.edge.is_none() && n.distance_m >= params.min_distance_m {
            out.deprived_far_residents += residents;
        }
    }
    out.measured_residents = measured.iter().map(|(_, w)| w).sum();
    out.mean_m = crate::analysis::history::weighted_mean(measured.iter().copied());
    measured.sort_by(|a, b| a.0.total_cmp(&b.0));
    let half = out.measured_residents / 2.0;
    let mut acc = 0.0;
    out.median_m = measured.iter().find_map(|&(d, w)| {
        acc += w;
        (acc >= half).then_some(d)
    });
    Ok(out)
}
