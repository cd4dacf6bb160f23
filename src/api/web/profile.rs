//! The side panel's data: an LSOA's profile (deciles by domain, residents,
//! nearest assets, change since 2019) and a ward summary, computed from the
//! atlas so the map works before or without the planner endpoints.

use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::data::link_2019;
use super::geojson_out;
use crate::analysis::access::{Access, AccessTable};
use crate::analysis::gap_report::{DEFAULT_MAX_DECILE, DEFAULT_MIN_DISTANCE_M};
use crate::analysis::rollup;
use crate::api::error::ApiError;
use crate::api::query::{ApiPath, Params};
use crate::api::Snap;
use crate::atlas::{Atlas, Lsoa21};

fn not_found(what: &str, code: &str) -> ApiError {
    ApiError::not_found(format!("no {what} {code} in this atlas"))
}

/// The nearest asset of every category, read from the planner's access table
/// (origins: the LSOA's postcode units), so the panel shows the same
/// straight-line distances as `/gaps` and the ward profiles.
fn nearest_assets(
    atlas: &Atlas,
    access: &AccessTable,
    lsoa_idx: usize,
    lsoa: &Lsoa21,
) -> Vec<Value> {
    atlas
        .categories
        .iter()
        .enumerate()
        .map(|(ci, c)| {
            let covered = u16::try_from(ci).is_ok_and(|i| atlas.category_covers(i, lsoa));
            let measured = access.get(lsoa_idx, ci).and_then(Access::measured);
            let asset = measured.and_then(|m| atlas.assets.get(m.nearest_asset as usize));
            match (measured, asset) {
                (Some(m), Some(a)) => json!({
                    "category": c.id, "label": c.label, "covered": covered,
                    "id": a.id, "name": a.name,
                    "location_precision": a.location_precision,
                    "distance_m": m.mean_m.round(),
                    "min_distance_m": m.min_m.round(),
                    "max_distance_m": m.max_m.round(),
                    "lon": geojson_out::round5(a.location.lonlat.x()),
                    "lat": geojson_out::round5(a.location.lonlat.y()),
                }),
                _ => json!({
                    "category": c.id, "label": c.label, "covered": covered,
                    "id": null, "name": null, "distance_m": null,
                }),
            }
        })
        .collect()
}

/// One LSOA's profile as JSON.
pub fn lsoa_json(atlas: &Atlas, access: &AccessTable, lsoa_idx: usize, l: &Lsoa21) -> Value {
    let link = link_2019(atlas, l);
    let indicators: Vec<Value> = atlas
        .imd2025
        .indicators
        .iter()
        .enumerate()
        .map(|(k, ind)| {
            let v = l.imd.get(k).copied().unwrap_or_default();
            let prev = link.deciles.get(k).copied().flatten();
            json!({
                "id": ind.id, "label": ind.label, "kind": ind.kind,
                "decile": v.decile, "rank": v.rank, "score": v.score,
                "decile_2019": prev,
                "change": v.decile.zip(prev).map(|(d, p)| i16::from(d) - i16::from(p)),
            })
        })
        .collect();
    let nearest = nearest_assets(atlas, access, lsoa_idx, l);
    let ward = atlas.ward_of(l);
    let district = atlas.district_of(l);
    json!({
        "code": l.code,
        "name": l.name,
        "residents": l.residents,
        "rural_urban": l.rural_urban,
        "ward": ward.map(|w| json!({"code": w.code, "name": w.name})),
        "district": district.map(|d| json!({"code": d.code, "name": d.name})),
        "bbox": geojson_out::bbox(l.geometry.lonlat_bbox),
        "indicators": indicators,
        "link_2019": {
            "method": link.method,
            "lsoa11": link.lsoa11.iter().map(|(c, ch)| json!({"code": c, "change": ch})).collect::<Vec<_>>(),
            "note": "2019 values are for the 2011 LSOA this 2021 LSOA matches (unchanged or split), or the linked 2011 LSOA with the largest mid-2015 population (merged or irregular)",
        },
        "nearest_from": "the LSOA's postcode units: every current OS Code-Point Open unit placed in it, residential or not, since Code-Point Open has no residential flag (distance_m is the mean over them; the asset is the one nearest any of them), straight-line (geodesic) distance",
        "nearest": nearest,
    })
}

/// `GET /web/api/lsoa/{code}`: a 2021 LSOA's profile.
pub async fn lsoa(
    Snap(state): Snap,
    ApiPath(code): ApiPath<String>,
    params: Params,
) -> Result<Response, ApiError> {
    params.only(&[])?;
    let atlas = &state.atlas;
    let (i, l) = atlas
        .lsoa21_by_code(code.trim())
        .ok_or_else(|| not_found("2021 LSOA", &code))?;
    Ok(Json(lsoa_json(
        atlas,
        &state.results.analysis.access,
        i as usize,
        l,
    ))
    .into_response())
}

/// What England's figures are, as the ward pages say: deciles are national,
/// so shares are the reference, and England's mean decile depends on the weights.
pub const ENGLAND_NOTE: &str = "England: by definition 10% of LSOAs are in each national decile, so 10% of LSOAs are in the most deprived 10% and 20% in the most deprived 20%. England's mean LSOA decile is 5.5 as a plain mean of LSOA deciles and 5.46 weighted by Census 2021 residents (IMD 2025); GapMap shows neither as a ward figure, since deciles are not averaged.";

/// `GET /web/api/ward/{code}`: a ward summary for the panel and the printable
/// profile (deciles vs district and England, LSOAs, assets in the ward, change).
pub async fn ward(
    Snap(state): Snap,
    ApiPath(code): ApiPath<String>,
    params: Params,
) -> Result<Response, ApiError> {
    params.only(&[])?;
    let atlas = &state.atlas;
    let Some((wi, w)) = atlas.ward_by_code(code.trim()) else {
        return Err(not_found("ward", &code));
    };
    let lsoas: Vec<&Lsoa21> = w
        .lsoas
        .iter()
        .filter_map(|&i| atlas.lsoa21.get(i as usize))
        .collect();
    let district = w.district.and_then(|d| atlas.districts.get(d as usize));
    let district_lsoas: &[u32] = district.map_or(&[], |d| d.lsoas.as_slice());
    // Every indicator (sub-domains too) by the one rule of `analysis::rollup`.
    let by_decile = |members: &[u32], k: usize| {
        let d = rollup::decile_share(atlas, members, |i| atlas.lsoa21.get(i)?.imd.get(k)?.decile);
        rollup::decile_share_json(&d)
    };
    let domains: Vec<Value> = atlas
        .imd2025
        .indicators
        .iter()
        .enumerate()
        .map(|(k, ind)| {
            let ward = by_decile(&w.lsoas, k);
            json!({
                "id": ind.id, "label": ind.label, "kind": ind.kind,
                "lsoas_in_most_deprived_20pct": ward["lsoas_top20"],
                "ward": ward,
                "district": district.map(|_| by_decile(district_lsoas, k)),
                "england": {"lsoa_share_top10": 0.1, "lsoa_share_top20": 0.2},
            })
        })
        .collect();
    let imd = atlas.imd2025.position("imd");
    let lsoa_rows: Vec<Value> = lsoas
        .iter()
        .map(|l| {
            let link = link_2019(atlas, l);
            let d = imd.and_then(|k| l.imd.get(k)).and_then(|v| v.decile);
            let p = imd.and_then(|k| link.deciles.get(k).copied().flatten());
            json!({
                "code": l.code, "name": l.name, "residents": l.residents,
                "imd_decile": d, "imd_decile_2019": p,
                "change": d.zip(p).map(|(d, p)| i16::from(d) - i16::from(p)),
                "link": link.method,
            })
        })
        .collect();
    let assets: Vec<Value> = atlas
        .categories
        .iter()
        .enumerate()
        .map(|(ci, c)| {
            let in_ward: Vec<Value> = atlas
                .assets
                .iter()
                .filter(|a| usize::from(a.category) == ci && a.ward == Some(wi))
                .map(|a| json!({"id": a.id, "name": a.name}))
                .collect();
            let covered = u16::try_from(ci).is_ok_and(|i| lsoas.iter().any(|l| atlas.category_covers(i, l)));
            json!({"category": c.id, "label": c.label, "count": in_ward.len(), "covered": covered, "assets": in_ward})
        })
        .collect();
    let residents: u32 = lsoas.iter().filter_map(|l| l.residents).sum();
    let results = &state.results;
    let summary = json!({
        "ward": results.wards.get(wi as usize).map(rollup::summary_json),
        "district": w.district.and_then(|d| results.districts.get(d as usize)).map(rollup::summary_json),
    });
    let change = json!({
        "lsoas_more_deprived": lsoa_rows.iter().filter(|r| r["change"].as_f64().is_some_and(|c| c < 0.0)).count(),
        "lsoas_less_deprived": lsoa_rows.iter().filter(|r| r["change"].as_f64().is_some_and(|c| c > 0.0)).count(),
    });
    Ok(Json(json!({
        "code": w.code,
        "name": w.name,
        "district": district.map(|d| json!({"code": d.code, "name": d.name})),
        "residents": residents,
        "lsoa_count": lsoas.len(),
        "bbox": w.geometry.as_ref().map(|g| geojson_out::bbox(g.lonlat_bbox)),
        "geometry_note": w.geometry_note,
        "domains": domains,
        "lsoas": lsoa_rows,
        "assets": assets,
        "summary": summary,
        "change": change,
        "gap_defaults": {"max_decile": DEFAULT_MAX_DECILE, "min_distance_m": DEFAULT_MIN_DISTANCE_M},
        "note": rollup::SUMMARY_RULE,
        "england": ENGLAND_NOTE,
    }))
    .into_response())
}
