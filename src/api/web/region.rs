//! `GET /web/api/region`: the profile of the loaded region (a county such as
//! Oxfordshire, or England) for the printable region page
//! (`/web/static/region.html`).
//!
//! MHCLG publishes IoD summaries per district (File 10), and GapMap reads no
//! county-level file, so the region's own figures are GapMap's roll-up of the
//! official LSOA data ([`crate::analysis::Results::region`]) and say so; the
//! districts' official figures are given beside them as published.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::analysis::access::Access;
use crate::analysis::gap_report::{
    parse_max_decile, parse_min_distance_m, report, GapRequest, DEFAULT_MAX_DECILE,
    DEFAULT_MIN_DISTANCE_M,
};
use crate::analysis::gaps::Measure;
use crate::analysis::rollup::{decile_share_json, summary_json, AreaRollup, INDICATORS};
use crate::analysis::{Results, Year};
use crate::api::error::ApiError;
use crate::api::query::Params;
use crate::api::AppState;
use crate::atlas::{Atlas, Coverage};

/// How the region's figures are made (they are not a published figure).
pub const REGION_METHOD: &str = "GapMap's roll-up of the official LSOA data, not a published figure: MHCLG publishes IoD summaries for local authority districts (File 10), and GapMap reads no county-level summary. The region's figures are computed over its 2021 LSOAs: deciles and ranks are MHCLG's national (England) ones for each LSOA, counted by decile; scores are means weighted by Census 2021 usual residents; IMD 2019 values are carried onto 2021 LSOAs (unchanged and split LSOAs take their 2011 parent's values, merged and irregular ones the largest parent's decile and the mid-2015-population-weighted score).";

/// Where the districts' official figures come from.
pub const OFFICIAL_SOURCE: &str = "MHCLG, English Indices of Deprivation, local authority district summaries (File 10): IoD2025 (corrected v2, November 2025) on 2024 districts and IoD2019 on 2019 districts, as published. Rank 1 = most deprived district in England.";

fn round(x: Option<f64>, places: i32) -> Value {
    let f = 10_f64.powi(places);
    x.map_or(Value::Null, |v| json!((v * f).round() / f))
}

/// `GET /web/api/region[?max_decile=&min_distance_m=]`: the region's
/// residents, IMD by decile (2025 and 2019 carried), domains, its districts
/// with MHCLG's official summaries, and per asset category the gap answer
/// with a status (`gaps`, `no_gaps`, `no_data`, `cannot_answer`,
/// `no_deprived_lsoas`), coverage and sources.
///
/// # Errors
/// A 400 problem naming an unknown or invalid parameter.
pub async fn region(State(app): State<Arc<AppState>>, params: Params) -> Response {
    // Every LSOA and category: a heavy-work slot, so that abandoned
    // requests cannot pile work up.
    crate::api::blocking::heavy(&app, move |state, _| {
        params.only(&["max_decile", "min_distance_m"])?;
        let max_decile = params
            .get("max_decile")
            .map_or(Ok(DEFAULT_MAX_DECILE), parse_max_decile)?;
        let min_distance_m = params
            .get("min_distance_m")
            .map_or(Ok(DEFAULT_MIN_DISTANCE_M), parse_min_distance_m)?;
        let body = region_profile(&state.atlas, &state.results, max_decile, min_distance_m);
        Ok::<_, ApiError>(
            (
                [(header::CONTENT_TYPE, "application/json")],
                body.to_string(),
            )
                .into_response(),
        )
    })
    .await
}

/// The region profile document (see [`region`]).
#[must_use]
pub fn region_profile(
    atlas: &Atlas,
    results: &Results,
    max_decile: u8,
    min_distance_m: f64,
) -> Value {
    let roll = &results.region;
    let share = |r: &AreaRollup, year: Year, id: &str| {
        let y = match year {
            Year::Y2019 => &r.y2019,
            Year::Y2025 => &r.y2025,
        };
        y.indicators
            .iter()
            .find(|(i, _)| i == id)
            .map_or(Value::Null, |(_, d)| decile_share_json(d))
    };
    let deprivation: Vec<Value> = INDICATORS
        .iter()
        .map(|id| {
            let ind = atlas.imd2025.indicators.iter().find(|d| d.id == *id);
            json!({
                "id": id,
                "label": ind.map(|d| &d.label),
                "kind": ind.map(|d| &d.kind),
                "2025": share(roll, Year::Y2025, id),
                "2019": share(roll, Year::Y2019, id),
            })
        })
        .collect();
    let districts: Vec<Value> = atlas
        .districts
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let r = results.districts.get(i);
            let mut official: Map<String, Value> = Map::new();
            for year in ["2025", "2019"] {
                // The IMD's measures (`official_2025_imd_average_score`,
                // `official_2025_imd25_extent`, ...), keyed by measure.
                let prefix = format!("official_{year}_");
                let measures: Map<String, Value> = atlas
                    .district_summaries
                    .figures
                    .get(&d.code)
                    .into_iter()
                    .flatten()
                    .filter_map(|(k, v)| {
                        let rest = k.strip_prefix(&prefix)?;
                        let m = rest
                            .strip_prefix("imd_")
                            .or_else(|| rest.strip_prefix("imd25_"))?;
                        Some((m.to_owned(), json!(v)))
                    })
                    .collect();
                official.insert(
                    year.into(),
                    if measures.is_empty() {
                        Value::Null
                    } else {
                        Value::Object(measures)
                    },
                );
            }
            json!({
                "code": d.code,
                "name": d.name,
                "wards": d.wards.len(),
                "lsoas": d.lsoas.len(),
                "residents": r.map(|r| r.residents),
                "official_imd": official,
                "rollup": {
                    "imd_score": {
                        "2025": round(r.and_then(|r| r.y2025.imd_score), 3),
                        "2019": round(r.and_then(|r| r.y2019.imd_score), 3),
                    },
                    "imd_2025": r.map_or(Value::Null, |r| share(r, Year::Y2025, "imd")),
                },
            })
        })
        .collect();
    json!({
        "region": {
            "id": atlas.region.id,
            "name": atlas.region.name,
            "wards": atlas.wards.len(),
            "districts": atlas.districts.len(),
        },
        "summary": summary_json(roll),
        "deprivation": deprivation,
        "districts": districts,
        "access": access(atlas, results, max_decile, min_distance_m),
        "gap_thresholds": {
            "max_decile": max_decile,
            "min_distance_m": min_distance_m,
            "defaults": {"max_decile": DEFAULT_MAX_DECILE, "min_distance_m": DEFAULT_MIN_DISTANCE_M},
        },
        "method": {
            "region": REGION_METHOD,
            "official": OFFICIAL_SOURCE,
            "gaps": format!("LSOAs of the region in IMD 2025 decile <= {max_decile} whose resident-weighted mean straight-line (geodesic, WGS84) distance from their postcodes to the nearest asset of the category is >= {min_distance_m} m; a deprived LSOA outside every source of the category has no answer (no data), never a 'no gap'."),
            "distances": "straight-line geodesic distances (WGS84) from the LSOAs' postcodes to the nearest asset; means weighted by residents over the LSOAs the category's sources cover",
        },
    })
}

/// Per category: the gap answer over the region with a status, the assets,
/// coverage and the sources (with vintage and what they cover).
fn access(atlas: &Atlas, results: &Results, max_decile: u8, min_distance_m: f64) -> Vec<Value> {
    let analysis = &results.analysis;
    atlas
        .categories
        .iter()
        .enumerate()
        .map(|(c, cat)| {
            let request = GapRequest {
                category: c,
                indicator: "imd".to_owned(),
                year: Year::Y2025,
                max_decile,
                min_distance_m,
                measure: Measure::Mean,
            };
            let gaps = report(atlas, analysis, &request);
            let residents = |lsoas: &mut dyn Iterator<Item = usize>| -> u64 {
                lsoas
                    .filter_map(|i| atlas.lsoa21.get(i)?.residents)
                    .map(u64::from)
                    .sum()
            };
            let gap_residents = residents(&mut gaps.rows.iter().map(|r| r.lsoa));
            let unanswered_residents = residents(&mut gaps.unanswered.iter().map(|u| u.lsoa));
            let no_data = (0..atlas.lsoa21.len())
                .all(|i| matches!(analysis.access.get(i, c), Some(Access::NoData) | None));
            let status = if !gaps.rows.is_empty() {
                "gaps"
            } else if no_data {
                "no_data"
            } else if !gaps.unanswered.is_empty() {
                "cannot_answer"
            } else if gaps.deprived == 0 {
                "no_deprived_lsoas"
            } else {
                "no_gaps"
            };
            let cr = results.region.categories.get(c);
            let sources: Vec<Value> = atlas
                .category_sources(c)
                .map(|s| {
                    json!({
                        "id": s.id,
                        "title": s.title,
                        "publisher": s.publisher,
                        "vintage": s.vintage,
                        "coverage": s.coverage.description(),
                        "partial": !matches!(s.coverage, Coverage::CodePrefix { .. }),
                    })
                })
                .collect();
            let reasons: Vec<String> = {
                let mut seen: Vec<String> = Vec::new();
                for u in &gaps.unanswered {
                    let r = gaps.reason(analysis, u.why);
                    if !seen.contains(&r) {
                        seen.push(r);
                    }
                }
                seen
            };
            json!({
                "category": cat.id,
                "label": cat.label,
                "status": status,
                "headline": gaps.headline(atlas),
                "deprived_lsoas": gaps.deprived,
                "gap_lsoas": gaps.rows.len(),
                "gap_residents": gap_residents,
                "cannot_answer_lsoas": gaps.unanswered.len(),
                "cannot_answer_residents": unanswered_residents,
                "cannot_answer_reasons": reasons,
                "assets_inside": cr.map(|r| r.assets_inside),
                "covered_lsoas": cr.map(|r| r.covered_lsoas),
                "mean_distance_m": round(cr.and_then(|r| r.mean_distance_m), 0),
                "per_10k_residents": round(cr.and_then(|r| r.per_10k_residents), 3),
                "no_data": no_data.then(|| analysis.access.no_data_reasons.get(c).cloned()).flatten(),
                "sources": sources,
            })
        })
        .collect()
}
