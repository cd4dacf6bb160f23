//! The side panel's data: an LSOA's profile (deciles by domain, residents,
//! nearest assets, change since 2019) and a ward summary, computed from the
//! atlas so the map works before or without the planner endpoints.

use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::data::{link_2019, round1};
use super::geojson_out;
use crate::analysis::access::{Access, AccessTable};
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

/// Population-weighted mean decile of an indicator over LSOAs (weights:
/// Census 2021 residents; 1 where unknown).
fn weighted_decile<'a>(lsoas: impl Iterator<Item = &'a Lsoa21>, k: usize) -> Option<f64> {
    let (mut sum, mut weight) = (0.0, 0.0);
    for l in lsoas {
        if let Some(d) = l.imd.get(k).and_then(|v| v.decile) {
            let w = l.residents.map_or(1.0, f64::from);
            sum += f64::from(d) * w;
            weight += w;
        }
    }
    (weight > 0.0).then(|| round1(sum / weight))
}

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
    let district_lsoas: Vec<&Lsoa21> = district
        .map(|d| {
            d.lsoas
                .iter()
                .filter_map(|&i| atlas.lsoa21.get(i as usize))
                .collect()
        })
        .unwrap_or_default();
    let domains: Vec<Value> = atlas
        .imd2025
        .indicators
        .iter()
        .enumerate()
        .map(|(k, ind)| {
            let most_deprived_20 = lsoas
                .iter()
                .filter(|l| l.imd.get(k).and_then(|v| v.decile).is_some_and(|d| d <= 2))
                .count();
            json!({
                "id": ind.id, "label": ind.label, "kind": ind.kind,
                "ward": weighted_decile(lsoas.iter().copied(), k),
                "district": weighted_decile(district_lsoas.iter().copied(), k),
                "england": 5.5,
                "lsoas_in_most_deprived_20pct": most_deprived_20,
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
    let mean_of = |f: &dyn Fn(&Value) -> Option<f64>| {
        let v: Vec<f64> = lsoa_rows.iter().filter_map(f).collect();
        (!v.is_empty()).then(|| round1(v.iter().sum::<f64>() / v.len() as f64))
    };
    let change = json!({
        "imd_mean_decile_2025": mean_of(&|r| r["imd_decile"].as_f64()),
        "imd_mean_decile_2019": mean_of(&|r| r["imd_decile_2019"].as_f64()),
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
        "change": change,
        "note": "Ward and district values are population-weighted (Census 2021 residents) means of LSOA national deciles; England's mean decile is 5.5 by construction.",
    }))
    .into_response())
}
