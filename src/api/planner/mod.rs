//! Planner endpoints: asset gaps, ward profiles, priority areas.
//!
//! Everything heavy (access per LSOA and category, 2SFCA, IMD 2019 carried
//! onto 2021 LSOAs, ward and district roll-ups) is computed once in
//! [`PlannerState::new`] at start-up; handlers only read and filter.
//!
//! - `GET /gaps` — LSOAs both deprived and far from a category ([`gaps`]);
//! - `GET /wards/{code}/profile` — a ward's community insight profile ([`profile`]);
//! - `GET /priority-areas` — wards containing the most deprived LSOAs ([`priority`]).

pub mod gaps;
pub mod priority;
pub mod profile;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;

use super::AppState;
use crate::analysis::access::{self, AccessParams, AccessTable};
use crate::analysis::fca::{self, FcaParams, FcaTable};
use crate::analysis::rollup::{self, AreaRollup};
use crate::analysis::{history, origins};
use crate::atlas::{Atlas, IndicatorValue};

/// The per-LSOA analysis the gap query reads (access, 2SFCA, IMD 2019 on
/// 2021 LSOAs). Built by [`Analysis::new`], which the CLI also uses.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// Straight-line access per LSOA × category.
    pub access: AccessTable,
    /// 2SFCA assets per 10,000 residents per LSOA × category.
    pub fca: FcaTable,
    /// IMD 2019 values carried onto each 2021 LSOA.
    pub imd2019: Vec<Vec<IndicatorValue>>,
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
        let imd2019 = history::carry_all(atlas);
        let history_t = split();
        Self {
            access,
            fca,
            imd2019,
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

/// Analysis results computed once at start-up.
#[derive(Debug, Clone, Default)]
pub struct PlannerState {
    /// Per-LSOA analysis.
    pub analysis: Analysis,
    /// Roll-up per ward, in `atlas.wards` order.
    pub wards: Vec<AreaRollup>,
    /// Roll-up per district, in `atlas.districts` order.
    pub districts: Vec<AreaRollup>,
    /// Roll-up of the whole region.
    pub region: AreaRollup,
}

impl PlannerState {
    /// Runs the start-up analysis over the atlas.
    #[must_use]
    pub fn new(atlas: &Atlas) -> Self {
        let analysis = Analysis::new(atlas);
        let a = &analysis;
        let wards = atlas
            .wards
            .iter()
            .map(|w| {
                rollup::rollup(
                    atlas,
                    &w.lsoas,
                    w.geometry.as_ref(),
                    &a.imd2019,
                    &a.access,
                    &a.fca,
                )
            })
            .collect();
        let districts = atlas
            .districts
            .iter()
            .map(|d| {
                rollup::rollup(
                    atlas,
                    &d.lsoas,
                    Some(&d.geometry),
                    &a.imd2019,
                    &a.access,
                    &a.fca,
                )
            })
            .collect();
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

/// Parses the `year` parameter shared by the planner endpoints.
fn parse_year(text: &str) -> Result<crate::analysis::Year, crate::api::ApiError> {
    crate::analysis::Year::parse(text).ok_or_else(|| {
        crate::api::ApiError::bad_parameter("year", format!("2019 or 2025 (got '{text}')"))
    })
}

/// Parses the `max_decile` parameter shared by the planner endpoints.
fn parse_max_decile(text: &str) -> Result<u8, crate::api::ApiError> {
    text.trim()
        .parse::<u8>()
        .ok()
        .filter(|d| (1..=10).contains(d))
        .ok_or_else(|| {
            crate::api::ApiError::bad_parameter(
                "max_decile",
                format!("an integer from 1 to 10 (got '{text}')"),
            )
        })
}

/// Planner routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/gaps", get(gaps::handler))
        .route("/wards/{code}/profile", get(profile::handler))
        .route("/priority-areas", get(priority::handler))
}

/// GeoJSON geometry of a (multi)polygon, coordinates rounded to 6 decimals
/// (about 0.1 m), which is finer than the generalised boundaries.
pub(crate) fn multipolygon_json(mp: &geo::MultiPolygon<f64>) -> serde_json::Value {
    let ring = |r: &geo::LineString<f64>| -> Vec<[f64; 2]> {
        r.coords()
            .map(|c| [(c.x * 1e6).round() / 1e6, (c.y * 1e6).round() / 1e6])
            .collect()
    };
    let polys: Vec<Vec<Vec<[f64; 2]>>> =
        mp.0.iter()
            .map(|p| {
                std::iter::once(ring(p.exterior()))
                    .chain(p.interiors().iter().map(ring))
                    .collect()
            })
            .collect();
    serde_json::json!({ "type": "MultiPolygon", "coordinates": polys })
}

/// Splits a raw query string into pairs, decoding `%xx` and `+`.
pub(crate) fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.unwrap_or("")
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(v) = hex {
                    out.push(v);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
