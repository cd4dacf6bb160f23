//! `GET /wards/{code}/profile`: a ward's community insight profile — its
//! LSOAs, deprivation across domains against its district and England
//! (2019 and 2025), its assets, its access gaps and the change since 2019.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::analysis::access::Access;
use crate::analysis::gap_report::{
    parse_max_decile, parse_min_distance_m, report, GapRequest, DEFAULT_MAX_DECILE,
    DEFAULT_MIN_DISTANCE_M,
};
use crate::analysis::gaps::Measure;
use crate::analysis::rollup::{decile_share_json, summary_json, AreaRollup, DecileShare};
use crate::analysis::{Results, Year};
use crate::api::error::ApiError;
use crate::api::query::{ApiPath, Params};
use crate::api::Snap;
use crate::atlas::Atlas;

/// Default deprived threshold of the profile's gaps (the shared gap default).
pub const PROFILE_MAX_DECILE: u8 = DEFAULT_MAX_DECILE;
/// Default distance threshold (m) of the profile's gaps (the shared gap default).
pub const PROFILE_MIN_DISTANCE_M: f64 = DEFAULT_MIN_DISTANCE_M;

/// The gap thresholds a profile uses: an IMD 2025 decile at most
/// `max_decile` and a mean distance of at least `min_distance_m` metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GapThresholds {
    /// Largest decile counted as deprived (1-10).
    pub max_decile: u8,
    /// Smallest mean distance counted as far (m).
    pub min_distance_m: f64,
}

impl Default for GapThresholds {
    fn default() -> Self {
        Self {
            max_decile: PROFILE_MAX_DECILE,
            min_distance_m: PROFILE_MIN_DISTANCE_M,
        }
    }
}

fn r(x: Option<f64>, places: i32) -> Value {
    let f = 10_f64.powi(places);
    x.map_or(Value::Null, |v| json!((v * f).round() / f))
}

fn share(d: Option<&DecileShare>) -> Value {
    d.map_or(Value::Null, decile_share_json)
}

fn find<'a>(r: &'a AreaRollup, year: Year, id: &str) -> Option<&'a DecileShare> {
    let y = match year {
        Year::Y2019 => &r.y2019,
        Year::Y2025 => &r.y2025,
    };
    y.indicators.iter().find(|(i, _)| i == id).map(|(_, d)| d)
}

/// The profile document of ward `index`, its gaps by `thresholds`.
#[must_use]
pub fn ward_profile(
    atlas: &Atlas,
    planner: &Results,
    index: usize,
    thresholds: GapThresholds,
) -> Option<Value> {
    let ward = atlas.wards.get(index)?;
    let roll = planner.wards.get(index)?;
    let district_idx = ward.district.map(|d| d as usize);
    let district = district_idx.and_then(|d| atlas.districts.get(d));
    let district_roll = district_idx.and_then(|d| planner.districts.get(d));
    let analysis = &planner.analysis;

    let lsoas: Vec<Value> = ward
        .lsoas
        .iter()
        .filter_map(|&i| {
            let l = atlas.lsoa21.get(i as usize)?;
            let by_id = |vals: &[crate::atlas::IndicatorValue], release: &crate::atlas::DeprivationRelease| -> Value {
                crate::analysis::rollup::INDICATORS
                    .iter()
                    .map(|id| {
                        let v = release.position(id).and_then(|k| vals.get(k));
                        ((*id).to_owned(), json!({"decile": v.and_then(|v| v.decile), "score": v.and_then(|v| v.score)}))
                    })
                    .collect::<serde_json::Map<_, _>>()
                    .into()
            };
            let carried = analysis.imd2019.get(i as usize).map_or(&[][..], Vec::as_slice);
            Some(json!({
                "code": l.code,
                "name": l.name,
                "residents": l.residents,
                "rural_urban": l.rural_urban.as_ref().map(|r| &r.classification),
                "imd2025": by_id(&l.imd, &atlas.imd2025),
                "imd2019": by_id(carried, &atlas.imd2019),
                "lsoa11": l.lsoa11.iter().filter_map(|(j, c)| Some(json!({"code": atlas.lsoa11.get(*j as usize)?.code, "change": c.letter()}))).collect::<Vec<_>>(),
            }))
        })
        .collect();

    let deprivation: Vec<Value> = crate::analysis::rollup::INDICATORS
        .iter()
        .map(|id| {
            let label = atlas
                .imd2025
                .indicators
                .iter()
                .find(|d| d.id == *id)
                .map(|d| d.label.clone());
            let (w19, w25) = (find(roll, Year::Y2019, id), find(roll, Year::Y2025, id));
            let change = |f: fn(&DecileShare) -> u32| match (w19, w25) {
                (Some(a), Some(b)) => json!(i64::from(f(b)) - i64::from(f(a))),
                _ => Value::Null,
            };
            json!({
                "id": id,
                "label": label,
                "ward": {"2019": share(w19), "2025": share(w25)},
                "district": {
                    "2019": share(district_roll.and_then(|d| find(d, Year::Y2019, id))),
                    "2025": share(district_roll.and_then(|d| find(d, Year::Y2025, id))),
                },
                "england": {"lsoa_share_top10": 0.1, "lsoa_share_top20": 0.2},
                "change_since_2019": {
                    "lsoas_top10": change(|d| d.lsoas_top10),
                    "lsoas_top20": change(|d| d.lsoas_top20),
                },
            })
        })
        .collect();

    // A ward no LSOA best-fits has no asset through its LSOAs: its assets
    // are those inside its polygon, and its residents are apportioned.
    let orphan = ward.lsoas.is_empty();
    let inside = if orphan {
        crate::analysis::apportion::assets_inside(atlas, ward)
    } else {
        Vec::new()
    };
    let apportioned = if orphan {
        crate::analysis::apportion::residents(atlas, ward)
    } else {
        None
    };
    let assets: Vec<Value> = atlas
        .assets
        .iter()
        .enumerate()
        .filter(|(i, a)| {
            if orphan {
                inside.contains(i)
            } else {
                a.ward == Some(u32::try_from(index).unwrap_or(u32::MAX))
            }
        })
        .map(|(_, a)| {
            json!({
                "id": a.id,
                "name": a.name,
                "category": atlas.categories.get(usize::from(a.category)).map(|c| &c.id),
                "address": a.address,
                "postcode": a.postcode,
                "lon": a.location.lonlat.x(),
                "lat": a.location.lonlat.y(),
            })
        })
        .collect();

    let access: Vec<Value> = roll
        .categories
        .iter()
        .enumerate()
        .map(|(c, cr)| {
            let request = GapRequest {
                category: c,
                indicator: "imd".to_owned(),
                year: Year::Y2025,
                max_decile: thresholds.max_decile,
                min_distance_m: thresholds.min_distance_m,
                measure: Measure::Mean,
            };
            let full = report(atlas, analysis, &request);
            let in_ward = |i: usize| ward.lsoas.contains(&u32::try_from(i).unwrap_or(u32::MAX));
            let cannot_answer: Vec<Value> = full
                .unanswered
                .iter()
                .filter(|u| in_ward(u.lsoa))
                .filter_map(|u| {
                    Some(json!({
                        "lsoa21_code": atlas.lsoa21.get(u.lsoa)?.code,
                        "decile": u.decile,
                        "status": u.why.status(),
                        "reason": full.reason(analysis, u.why),
                    }))
                })
                .collect();
            let imd = atlas.imd2025.position("imd");
            let deprived = ward
                .lsoas
                .iter()
                .filter(|&&i| {
                    atlas
                        .lsoa21
                        .get(i as usize)
                        .and_then(|l| l.imd.get(imd?)?.decile)
                        .is_some_and(|d| d <= thresholds.max_decile)
                })
                .count();
            let gaps: Vec<Value> = full
                .rows
                .iter()
                .filter(|g| ward.lsoas.contains(&u32::try_from(g.lsoa).unwrap_or(u32::MAX)))
                .filter_map(|g| {
                    Some(json!({
                        "lsoa21_code": atlas.lsoa21.get(g.lsoa)?.code,
                        "decile": g.decile,
                        "mean_distance_m": r(Some(g.measured.mean_m), 1),
                    }))
                })
                .collect();
            let no_data = ward.lsoas.iter().all(|&i| matches!(analysis.access.get(i as usize, c), Some(Access::NoData) | None));
            let assets_inside = if orphan {
                json!(inside.iter().filter(|&&i| atlas.assets.get(i).is_some_and(|a| usize::from(a.category) == c)).count())
            } else {
                json!(cr.assets_inside)
            };
            let no_data = no_data && !orphan;
            // One word per category, so a page never reads "no gaps" where
            // the data cannot say: gaps, no_gaps, no_deprived_lsoas,
            // no_data (no LSOA of the ward covered) or cannot_answer (some
            // deprived LSOAs without an answer and no gap among the rest).
            let status = if !gaps.is_empty() {
                "gaps"
            } else if no_data {
                "no_data"
            } else if !cannot_answer.is_empty() {
                "cannot_answer"
            } else if deprived == 0 {
                "no_deprived_lsoas"
            } else {
                "no_gaps"
            };
            json!({
                "status": status,
                "deprived_lsoas": deprived,
                "cannot_answer": cannot_answer,
                "category": cr.category,
                "label": atlas.categories.get(c).map(|c| &c.label),
                "assets_inside": assets_inside,
                "assets_within_1km": cr.assets_within_1km,
                "mean_distance_m": r(cr.mean_distance_m, 0),
                "district_mean_distance_m": r(district_roll.and_then(|d| d.categories.get(c)).and_then(|d| d.mean_distance_m), 0),
                "per_10k_residents": r(cr.per_10k_residents, 3),
                "covered_lsoas": cr.covered_lsoas,
                "no_data": no_data.then(|| analysis.access.no_data_reasons.get(c).cloned()).flatten(),
                "gaps": gaps,
            })
        })
        .collect();

    Some(json!({
        "ward": {
            "code": ward.code,
            "name": ward.name,
            "district_code": district.map(|d| &d.code),
            "district_name": district.map(|d| &d.name),
            "boundary": ward.geometry_note,
            "lsoas": roll.lsoas,
            "residents": apportioned.as_ref().map_or(json!(roll.residents), |p| json!(p.residents.round())),
            "apportioned": apportioned.as_ref().map(|p| json!({
                "residents": p.residents.round(),
                "postcode_units": p.postcode_units,
                "from_lsoas": p.from_lsoas.iter().filter_map(|(i, r)| Some(json!({"code": atlas.lsoa21.get(*i as usize)?.code, "residents": (r * 10.0).round() / 10.0}))).collect::<Vec<_>>(),
                "method": crate::analysis::apportion::RULE,
            })),
        },
        "lsoas": lsoas,
        "summary": {
            "ward": summary_json(roll),
            "district": district_roll.map(summary_json),
        },
        "gap_thresholds": {
            "max_decile": thresholds.max_decile,
            "min_distance_m": thresholds.min_distance_m,
            "defaults": {"max_decile": DEFAULT_MAX_DECILE, "min_distance_m": DEFAULT_MIN_DISTANCE_M},
        },
        "imd_score": {
            "ward": {"2019": r(roll.y2019.imd_score, 3), "2025": r(roll.y2025.imd_score, 3)},
            "district": {
                "2019": r(district_roll.and_then(|d| d.y2019.imd_score), 3),
                "2025": r(district_roll.and_then(|d| d.y2025.imd_score), 3),
            },
            "change_since_2019": r(roll.y2025.imd_score.zip(roll.y2019.imd_score).map(|(b, a)| b - a), 3),
            "note": "resident-weighted mean of LSOA IMD scores; scores of different releases are not strictly comparable (the indicators and their weights were revised), so change in rank-based shares is the safer comparison",
        },
        "deprivation": deprivation,
        "assets": assets,
        "access": access,
        "method": {
            "england": "Deciles are national: by definition 10% of England's LSOAs are in each decile, so England's share in the most deprived 10% is 0.1 and in the most deprived 20% is 0.2.",
            "years": "2019 values are IMD 2019 (2011 LSOAs) carried onto the ward's 2021 LSOAs: unchanged and split LSOAs take their 2011 parent's values; merged or irregular ones take the most populous parent's decile and the population-weighted score. Both years use Census 2021 residents.",
            "wards": "2021 LSOAs are assigned to 2024 wards by the ONS best-fit lookup",
            "distances": "straight-line geodesic distances (WGS84) from the LSOAs' postcodes to the nearest asset; means weighted by residents over LSOAs the category's sources cover",
            "assets_within_1km": "assets inside the ward or within 1 km (straight line) of its boundary",
            "gaps": format!("LSOAs of the ward in IMD 2025 decile <= {} whose mean distance to the category is >= {} m (GapMap's defaults: decile <= {DEFAULT_MAX_DECILE}, >= {DEFAULT_MIN_DISTANCE_M} m; set max_decile and min_distance_m to change)", thresholds.max_decile, thresholds.min_distance_m),
            "summary": crate::analysis::rollup::SUMMARY_RULE,
            "capacity": "2SFCA assets per 10,000 residents (see /gaps method)",
            "assets_located": crate::analysis::located::assets_located(atlas, None),
        },
        "attribution": atlas.area_sources.iter().map(|s| s.attribution.clone()).chain(atlas.sources.iter().map(|s| s.attribution.clone())).collect::<std::collections::BTreeSet<_>>(),
    }))
}

/// `GET /wards/{code}/profile`.
///
/// Query parameters: `max_decile` (1-10) and `min_distance_m` (metres, ≥ 0)
/// for the gaps, defaulting to the shared gap definition.
///
/// # Errors
/// A 404 problem for a code that is not a ward of the region; a 400 problem
/// naming an unknown or invalid parameter.
pub async fn handler(
    Snap(state): Snap,
    ApiPath(code): ApiPath<String>,
    params: Params,
) -> Result<Response, ApiError> {
    params.only(&["max_decile", "min_distance_m"])?;
    let thresholds = GapThresholds {
        max_decile: params
            .get("max_decile")
            .map_or(Ok(PROFILE_MAX_DECILE), parse_max_decile)?,
        min_distance_m: params
            .get("min_distance_m")
            .map_or(Ok(PROFILE_MIN_DISTANCE_M), parse_min_distance_m)?,
    };
    let atlas = &state.atlas;
    let Some((index, _)) = atlas.ward_by_code(code.trim()) else {
        return Err(ApiError::not_found(format!(
            "no 2024 ward with code '{code}' in {}",
            atlas.region.name
        )));
    };
    let body = ward_profile(atlas, &state.results, index as usize, thresholds)
        .ok_or_else(|| ApiError::not_found(format!("no profile for ward '{code}'")))?;
    let mut response = body.to_string().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}
