//! `GET /search?q=`: wards and districts by name, LSOAs by code or name, and
//! postcodes (Code-Point Open, in the region).

use axum::Json;
use geo::Centroid;
use serde_json::{json, Value};

use super::geojson_out::{bbox, round5};
use crate::api::error::ApiError;
use crate::api::ogc::params::parse_uint;
use crate::api::query::Params;
use crate::api::Snap;

/// Searches the atlas; exact matches (postcode, LSOA code) come first, then
/// names starting with the query, then names containing it.
pub async fn search(Snap(state): Snap, params: Params) -> Result<Json<Value>, ApiError> {
    params.only(&["q", "limit"])?;
    let atlas = &state.atlas;
    let q = params.get("q").unwrap_or("").trim();
    let limit = match params.get("limit") {
        None => 20,
        Some(v) => usize::try_from(parse_uint("limit", v, 1)?)
            .unwrap_or(usize::MAX)
            .min(100),
    };
    let needle = q.to_lowercase();
    let mut results: Vec<(u8, Value)> = Vec::new();
    if needle.len() >= 2 {
        if let Some(pc) = atlas.postcode(q) {
            let lsoa = atlas.lsoa21.get(pc.lsoa21 as usize);
            let ward = lsoa.and_then(|l| atlas.ward_of(l));
            results.push((0, json!({
                "kind": "postcode", "code": pc.code, "name": pc.code,
                "detail": format!("{} · {}", lsoa.map_or("", |l| l.name.as_str()), ward.map_or("", |w| w.name.as_str())),
                "lsoa": lsoa.map(|l| &l.code), "ward": ward.map(|w| &w.code),
                "lon": round5(pc.location.lonlat.x()), "lat": round5(pc.location.lonlat.y()),
            })));
        }
        for l in atlas.lsoa21.iter() {
            let code = l.code.to_lowercase();
            let name = l.name.to_lowercase();
            let rank = if code == needle || name == needle {
                1
            } else if code.starts_with(&needle) {
                2
            } else if name.starts_with(&needle) && needle.len() >= 3 {
                4
            } else {
                continue;
            };
            let c = l.geometry.lonlat.centroid();
            results.push((rank, json!({
                "kind": "lsoa", "code": l.code, "name": l.name,
                "detail": atlas.ward_of(l).map_or(String::new(), |w| format!("LSOA in {}", w.name)),
                "lsoa": l.code, "bbox": bbox(l.geometry.lonlat_bbox),
                "lon": c.map(|c| round5(c.x())), "lat": c.map(|c| round5(c.y())),
            })));
        }
        for w in atlas.wards.iter() {
            let name = w.name.to_lowercase();
            let rank = if name == needle || w.code.to_lowercase() == needle {
                1
            } else if name.starts_with(&needle) {
                3
            } else if name.contains(&needle) {
                5
            } else {
                continue;
            };
            let district = w.district.and_then(|d| atlas.districts.get(d as usize));
            results.push((
                rank,
                json!({
                    "kind": "ward", "code": w.code, "name": w.name,
                    "detail": format!("Ward in {}", district.map_or("", |d| d.name.as_str())),
                    "ward": w.code, "bbox": w.geometry.as_ref().map(|g| bbox(g.lonlat_bbox)),
                }),
            ));
        }
        for d in atlas.districts.iter() {
            let name = d.name.to_lowercase();
            let rank = if name == needle || d.code.to_lowercase() == needle {
                1
            } else if name.contains(&needle) {
                6
            } else {
                continue;
            };
            results.push((
                rank,
                json!({
                    "kind": "district", "code": d.code, "name": d.name, "detail": "District",
                    "bbox": bbox(d.geometry.lonlat_bbox),
                }),
            ));
        }
    }
    results.sort_by_key(|(r, _)| *r);
    let total = results.len();
    let results: Vec<Value> = results.into_iter().take(limit).map(|(_, v)| v).collect();
    Ok(Json(
        json!({ "query": q, "total": total, "results": results }),
    ))
}
