//! The analysis of one atlas, computed once per snapshot: access, 2SFCA and
//! IMD 2019 carried onto 2021 LSOAs per LSOA ([`Analysis`]), and ward,
//! district and region roll-ups ([`Results`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::access::{self, AccessParams, AccessTable};
use super::fca::{self, FcaParams, FcaTable};
use super::origins::Origins;
use super::rollup::{self, AreaRollup, AssetsPerLsoa};
use super::{history, origins};
use crate::atlas::{Atlas, CategoryIdx, IndicatorValue};
use crate::parallel::par_map;

/// The per-LSOA analysis the gap query reads (access, 2SFCA, IMD 2019 on
/// 2021 LSOAs). Built by [`Analysis::new`], which the CLI also uses.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// Straight-line access per LSOA × category.
    pub access: AccessTable,
    /// 2SFCA assets per 10,000 residents per LSOA × category.
    pub fca: FcaTable,
    /// IMD 2019 values carried onto each 2021 LSOA (shared by the analyses
    /// [`Results::update`] derives: it does not depend on assets).
    pub imd2019: Arc<Vec<Vec<IndicatorValue>>>,
    /// The access origins (postcodes per LSOA) the tables were computed
    /// from, kept for [`Results::update`] (they do not depend on assets).
    pub origins: Arc<Origins>,
    /// Wall-clock time of the computation.
    pub elapsed: Duration,
    /// Wall-clock time of each part, for `gapmap gaps --timings`.
    pub timings: AnalysisTimings,
}

/// Wall-clock time of each part of the analysis.
#[derive(Debug, Clone, Copy, Default)]
pub struct AnalysisTimings {
    /// Access origins (postcodes per LSOA).
    pub origins: Duration,
    /// Nearest-asset distances and band counts, every LSOA × category.
    pub access: Duration,
    /// 2SFCA, every LSOA × category.
    pub fca: Duration,
    /// IMD 2019 carried onto 2021 LSOAs.
    pub history: Duration,
}

impl Analysis {
    /// Computes the per-LSOA analysis with default parameters.
    #[must_use]
    pub fn new(atlas: &Atlas) -> Self {
        Self::with_params(atlas, &AccessParams::default(), &FcaParams::defaults(atlas))
    }

    /// Computes the per-LSOA analysis with the given parameters.
    #[must_use]
    pub fn with_params(
        atlas: &Atlas,
        access_params: &AccessParams,
        fca_params: &FcaParams,
    ) -> Self {
        let started = Instant::now();
        let mut lap = Instant::now();
        let mut split = || {
            let now = Instant::now();
            std::mem::replace(&mut lap, now).elapsed()
        };
        let origins = origins::build(atlas);
        let origins_t = split();
        let access = access::compute(atlas, &origins, access_params);
        let access_t = split();
        let fca = fca::compute(atlas, &origins, fca_params);
        let fca_t = split();
        let imd2019 = Arc::new(history::carry_all(atlas));
        let history_t = split();
        Self {
            access,
            fca,
            imd2019,
            origins: Arc::new(origins),
            elapsed: started.elapsed(),
            timings: AnalysisTimings {
                origins: origins_t,
                access: access_t,
                fca: fca_t,
                history: history_t,
            },
        }
    }
}

impl Analysis {
    /// The analysis of `atlas` from access and 2SFCA tables computed on it
    /// earlier (a prepared atlas's, see `sources::prepared`): only the
    /// origins and IMD 2019 carried onto 2021 LSOAs, a fraction of a second
    /// for England, are computed.
    #[must_use]
    pub fn from_tables(atlas: &Atlas, access: AccessTable, fca: FcaTable) -> Self {
        let started = Instant::now();
        let origins = origins::build(atlas);
        let origins_t = started.elapsed();
        let imd2019 = Arc::new(history::carry_all(atlas));
        Self {
            access,
            fca,
            imd2019,
            origins: Arc::new(origins),
            elapsed: started.elapsed(),
            timings: AnalysisTimings {
                origins: origins_t,
                access: Duration::ZERO,
                fca: Duration::ZERO,
                history: started.elapsed().saturating_sub(origins_t),
            },
        }
    }

    /// The analysis of `atlas`, derived from this one's with
    /// [`Atlas::with_assets`]: what [`Results::update`] computes, without
    /// the roll-ups. `changed` as there.
    #[must_use]
    pub fn derived(&self, atlas: &Atlas, changed: &[CategoryIdx]) -> Self {
        if self.origins.kinds.len() != atlas.lsoa21.len() {
            // Not derived from this analysis's atlas: nothing can be reused.
            return Self::new(atlas);
        }
        self.update(atlas, &self.recompute(atlas, changed))
    }

    /// Per category of `atlas`: whether it must be computed anew (changed,
    /// or beyond the categories of this analysis).
    fn recompute(&self, atlas: &Atlas, changed: &[CategoryIdx]) -> Vec<bool> {
        let known = self.access.categories;
        (0..atlas.categories.len())
            .map(|c| c >= known || changed.iter().any(|&x| usize::from(x) == c))
            .collect()
    }

    /// The analysis of an atlas derived from this one's
    /// ([`Atlas::with_assets`]): access and 2SFCA are computed anew only for
    /// the categories flagged in `recompute` and those beyond this
    /// analysis's; origins and IMD 2019 are shared.
    fn update(&self, atlas: &Atlas, recompute: &[bool]) -> Self {
        let started = Instant::now();
        let access = access::update(&self.access, atlas, &self.origins, recompute);
        let access_t = started.elapsed();
        let fca = fca::update(&self.fca, atlas, &self.origins, recompute);
        Self {
            access,
            fca,
            imd2019: Arc::clone(&self.imd2019),
            origins: Arc::clone(&self.origins),
            elapsed: started.elapsed(),
            timings: AnalysisTimings {
                origins: Duration::ZERO,
                access: access_t,
                fca: started.elapsed().saturating_sub(access_t),
                history: Duration::ZERO,
            },
        }
    }
}

/// Everything computed from one atlas: the per-LSOA analysis and the ward,
/// district and region roll-ups. Part of every served snapshot.
#[derive(Debug, Clone, Default)]
pub struct Results {
    /// Per-LSOA analysis.
    pub analysis: Analysis,
    /// Roll-up per ward, in `atlas.wards` order.
    pub wards: Vec<AreaRollup>,
    /// Roll-up per district, in `atlas.districts` order.
    pub districts: Vec<AreaRollup>,
    /// Roll-up of the whole region.
    pub region: AreaRollup,
}

impl Results {
    /// Runs the start-up analysis over the atlas.
    #[must_use]
    pub fn new(atlas: &Atlas) -> Self {
        Self::with_analysis(atlas, Analysis::new(atlas))
    }

    /// The results of `atlas` from its per-LSOA analysis: the roll-ups are
    /// computed.
    #[must_use]
    pub fn with_analysis(atlas: &Atlas, analysis: Analysis) -> Self {
        let a = &analysis;
        // Independent per area, and several seconds for England's wards
        // (assets within 1 km of each boundary): on all cores.
        let per_lsoa = AssetsPerLsoa::count(atlas, &vec![true; atlas.categories.len()]);
        let wards = par_map(&atlas.wards, |w| {
            rollup::rollup_counted(
                atlas,
                &w.lsoas,
                w.geometry.as_ref(),
                &a.imd2019,
                &a.access,
                &a.fca,
                &per_lsoa,
            )
        });
        let districts = par_map(&atlas.districts, |d| {
            rollup::rollup_counted(
                atlas,
                &d.lsoas,
                Some(&d.geometry),
                &a.imd2019,
                &a.access,
                &a.fca,
                &per_lsoa,
            )
        });
        let all: Vec<u32> = (0..atlas.lsoa21.len())
            .filter_map(|i| u32::try_from(i).ok())
            .collect();
        let region = rollup::rollup(atlas, &all, None, &a.imd2019, &a.access, &a.fca);
        Self {
            analysis,
            wards,
            districts,
            region,
        }
    }

    /// The results for an atlas derived from the one these were computed on
    /// ([`Atlas::with_assets`]: same areas and postcodes, other assets):
    /// access, 2SFCA and the per-category roll-ups are computed anew for the
    /// `changed` categories and for categories beyond those these results
    /// know; everything else (origins, IMD 2019 carried onto 2021 LSOAs,
    /// deprivation roll-ups, the other categories) is reused.
    ///
    /// Equals [`Results::new`] on `atlas` (timings aside) provided `changed`
    /// lists every category whose assets, sources or coverage differ
    /// between the two atlases. Unknown indices in `changed` are ignored.
    #[must_use]
    pub fn update(&self, atlas: &Atlas, changed: &[CategoryIdx]) -> Self {
        let same_areas = self.analysis.origins.kinds.len() == atlas.lsoa21.len()
            && self.wards.len() == atlas.wards.len()
            && self.districts.len() == atlas.districts.len();
        if !same_areas {
            // Not derived from these results' atlas: nothing can be reused.
            return Self::new(atlas);
        }
        let recompute = self.analysis.recompute(atlas, changed);
        let analysis = self.analysis.update(atlas, &recompute);
        let a = &analysis;
        let per_lsoa = AssetsPerLsoa::count(atlas, &recompute);
        let redo = |old: &AreaRollup, lsoas: &[u32], boundary| {
            rollup::update(
                old, atlas, lsoas, boundary, &a.access, &a.fca, &recompute, &per_lsoa,
            )
        };
        let wards: Vec<(usize, &AreaRollup)> = self.wards.iter().enumerate().collect();
        let wards = par_map(&wards, |&(i, old)| {
            let w = atlas.wards.get(i);
            redo(
                old,
                w.map_or(&[][..], |w| w.lsoas.as_slice()),
                w.and_then(|w| w.geometry.as_ref()),
            )
        });
        let districts: Vec<(usize, &AreaRollup)> = self.districts.iter().enumerate().collect();
        let districts = par_map(&districts, |&(i, old)| {
            let d = atlas.districts.get(i);
            redo(
                old,
                d.map_or(&[][..], |d| d.lsoas.as_slice()),
                d.map(|d| &d.geometry),
            )
        });
        let all: Vec<u32> = (0..atlas.lsoa21.len())
            .filter_map(|i| u32::try_from(i).ok())
            .collect();
        let region = redo(&self.region, &all, None);
        Self {
            analysis,
            wards,
            districts,
            region,
        }
    }

    /// Extra properties (roll-ups) for a ward feature in the `wards` collection.
    #[must_use]
    pub fn ward_properties(&self, ward: u32) -> serde_json::Map<String, serde_json::Value> {
        self.wards
            .get(ward as usize)
            .map(rollup::flatten)
            .unwrap_or_default()
    }

    /// Extra properties (roll-ups) for a district feature in the `districts` collection.
    #[must_use]
    pub fn district_properties(&self, district: u32) -> serde_json::Map<String, serde_json::Value> {
        self.districts
            .get(district as usize)
            .map(rollup::flatten)
            .unwrap_or_default()
    }
}
