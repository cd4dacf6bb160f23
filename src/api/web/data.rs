//! The map's layers as GeoJSON, and the metadata the page needs to build its
//! controls, legend and attribution.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use geo::{InteriorPoint, MultiPolygon, Rect};
use serde_json::{json, Map, Value};

use super::geojson_out::{self, feature};
use crate::api::error::ApiError;
use crate::api::query::{ApiPath, Params};
use crate::api::{AppState, Snap, Snapshot};
use crate::atlas::{Atlas, Lsoa21};

/// How the 2019 value of a 2021 LSOA was derived from the 2011 LSOAs it came from.
pub struct Link2019 {
    /// `matched` (one 2011 LSOA: unchanged or split), `largest parent`
    /// (several: merged or irregular), or `none`.
    pub method: &'static str,
    /// The linked 2011 LSOA codes with their change codes.
    pub lsoa11: Vec<(String, &'static str)>,
    /// Per IMD 2025 indicator (same order): the 2019 decile carried over
    /// (a whole decile: the carry-over rule never averages deciles).
    pub deciles: Vec<Option<u8>>,
}

/// Links a 2021 LSOA to IMD 2019 with the one rule the whole service uses,
/// [`crate::analysis::history::carry_2019`], so the map shows the same 2019
/// values as `/gaps`, the profiles and the roll-ups.
pub fn link_2019(atlas: &Atlas, lsoa: &Lsoa21) -> Link2019 {
    let carried = crate::analysis::history::carry_2019(atlas, lsoa);
    let deciles = atlas
        .imd2025
        .indicators
        .iter()
        .map(|ind| {
            let pos = atlas.imd2019.position(&ind.id)?;
            carried.get(pos)?.decile
        })
        .collect();
    // Parents outside the region (E01027305's, in West Northamptonshire)
    // are linked too: the ONS lookup links them, and carry_2019 uses them.
    let outside = lsoa
        .lsoa11_outside
        .iter()
        .filter_map(|&(i, c)| Some((atlas.ring.lsoa11.get(i as usize)?.code.clone(), c.letter())));
    let lsoa11: Vec<(String, &'static str)> = lsoa
        .lsoa11
        .iter()
        .filter_map(|&(i, c)| Some((atlas.lsoa11.get(i as usize)?.code.clone(), c.letter())))
        .chain(outside)
        .collect();
    let method = match lsoa11.len() {
        0 => "none",
        1 => "matched",
        _ => "largest parent",
    };
    Link2019 {
        method,
        lsoa11,
        deciles,
    }
}

/// The choropleth values of a 2021 LSOA: how 2019 was linked, and per
/// IMD 2025 indicator (in `atlas.imd2025.indicators` order) the 2025 decile,
/// the 2019 decile carried over and the change. The GeoJSON layer
/// ([`insert_choropleth_values`]) and the vector tiles both read these, so
/// the map colours an LSOA the same way in either mode.
pub struct Choropleth {
    /// `link`: how 2019 was linked ([`Link2019::method`]).
    pub link: &'static str,
    /// Per indicator: 2025 decile (`d_<id>`), 2019 decile carried over
    /// (`p_<id>`), change 2025 − 2019 (`c_<id>`).
    pub values: Vec<(Option<u8>, Option<u8>, Option<i16>)>,
}

/// [`Choropleth`] of a 2021 LSOA.
#[must_use]
pub fn choropleth_values(atlas: &Atlas, lsoa: &Lsoa21) -> Choropleth {
    let link = link_2019(atlas, lsoa);
    let values = (0..atlas.imd2025.indicators.len())
        .map(|k| {
            let d = lsoa.imd.get(k).and_then(|v| v.decile);
            let prev = link.deciles.get(k).copied().flatten();
            let change = d.zip(prev).map(|(d, p)| i16::from(d) - i16::from(p));
            (d, prev, change)
        })
        .collect();
    Choropleth {
        link: link.method,
        values,
    }
}

/// Writes the [`Choropleth`] values of a 2021 LSOA as `link`, `d_<id>`,
/// `p_<id>` and `c_<id>`.
pub fn insert_choropleth_values(atlas: &Atlas, lsoa: &Lsoa21, p: &mut Map<String, Value>) {
    let c = choropleth_values(atlas, lsoa);
    p.insert("link".into(), json!(c.link));
    for (ind, (d, prev, change)) in atlas.imd2025.indicators.iter().zip(c.values) {
        p.insert(format!("d_{}", ind.id), json!(d));
        p.insert(format!("p_{}", ind.id), json!(prev));
        p.insert(format!("c_{}", ind.id), json!(change));
    }
}

/// The region's bounding box (union of district boxes).
pub fn region_bbox(atlas: &Atlas) -> Option<Rect<f64>> {
    let mut it = atlas.districts.iter().map(|d| d.geometry.lonlat_bbox);
    let first = it.next()?;
    Some(it.fold(first, |a, b| {
        Rect::new(
            (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
            (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
        )
    }))
}

/// `GET /web/api/meta`: region, releases and indicators, categories, sources
/// with coverage and attribution.
pub async fn meta(Snap(state): Snap, params: Params) -> Result<Json<Value>, ApiError> {
    params.only(&[])?;
    let atlas = &state.atlas;
    let release = |r: &crate::atlas::DeprivationRelease, has_decile: &dyn Fn(usize) -> bool| {
        json!({
            "year": r.year,
            "title": r.title,
            "geography": r.geography,
            "areas_ranked": r.areas_ranked,
            "attribution": r.attribution,
            "indicators": r.indicators.iter().enumerate().map(|(i, d)| json!({
                "id": d.id, "label": d.label, "kind": d.kind, "has_decile": has_decile(i),
            })).collect::<Vec<_>>(),
        })
    };
    let has25 = |i: usize| {
        atlas
            .lsoa21
            .iter()
            .any(|l| l.imd.get(i).is_some_and(|v| v.decile.is_some()))
    };
    let has19 = |i: usize| {
        atlas
            .lsoa11
            .iter()
            .any(|l| l.imd.get(i).is_some_and(|v| v.decile.is_some()))
    };
    let categories: Vec<Value> = atlas
        .categories
        .iter()
        .enumerate()
        .map(|(ci, c)| {
            let count = atlas
                .assets
                .iter()
                .filter(|a| usize::from(a.category) == ci)
                .count();
            json!({
                "id": c.id,
                "label": c.label,
                "count": count,
                "sources": atlas.category_sources(ci).map(|s| s.id.clone()).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(json!({
        "region": { "id": atlas.region.id, "name": atlas.region.name, "lsoa_count": atlas.lsoa21.len(),
                    "bbox": region_bbox(atlas).map(geojson_out::bbox) },
        "releases": [release(&atlas.imd2025, &has25), release(&atlas.imd2019, &has19)],
        "categories": categories,
        "sources": atlas.sources,
        "area_sources": *atlas.area_sources,
        "districts": atlas.districts.iter().map(|d| json!({"code": d.code, "name": d.name})).collect::<Vec<_>>(),
        "gap_defaults": {
            "max_decile": crate::analysis::gap_report::DEFAULT_MAX_DECILE,
            "min_distance_m": crate::analysis::gap_report::DEFAULT_MIN_DISTANCE_M,
        },
    })))
}

/// `GET /web/api/lsoa-layer?year=2025|2019`: the region's LSOAs with deciles.
///
/// For 2025, properties `d_<id>` (2025 decile), `p_<id>` (linked 2019 decile,
/// mean over linked 2011 LSOAs), `c_<id>` (2025 minus 2019; positive = less
/// deprived relative to England) and `link` (matched / mean / none).
/// For 2019, the 2011 LSOAs with `d_<id>`.
pub async fn lsoa_layer(State(app): State<Arc<AppState>>, params: Params) -> Response {
    // Every LSOA with its geometry (England's: tens of MB): a heavy-work
    // slot, so that abandoned requests cannot pile work up.
    crate::api::blocking::heavy(&app, move |state, _| lsoa_layer_of(state, &params)).await
}

fn lsoa_layer_of(state: &Snapshot, params: &Params) -> Result<Response, ApiError> {
    params.only(&["year"])?;
    let atlas = &state.atlas;
    Ok(match params.get("year").map_or("2025", str::trim) {
        "2025" => {
            let features: Vec<Value> = atlas
                .lsoa21
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let mut p = Map::new();
                    p.insert("fid".into(), json!(i));
                    p.insert("code".into(), json!(l.code));
                    p.insert("name".into(), json!(l.name));
                    let ward = atlas.ward_of(l);
                    p.insert("ward_code".into(), json!(ward.map(|w| &w.code)));
                    p.insert("ward_name".into(), json!(ward.map(|w| &w.name)));
                    let district = atlas.district_of(l);
                    p.insert("district_code".into(), json!(district.map(|d| &d.code)));
                    p.insert("district_name".into(), json!(district.map(|d| &d.name)));
                    p.insert("residents".into(), json!(l.residents));
                    if let Some(pt) = largest_interior_point(&l.geometry.lonlat) {
                        p.insert("lx".into(), json!(geojson_out::round5(pt.x())));
                        p.insert("ly".into(), json!(geojson_out::round5(pt.y())));
                    }
                    insert_choropleth_values(atlas, l, &mut p);
                    feature(geojson_out::multipolygon(&l.geometry.lonlat), p)
                })
                .collect();
            Json(geojson_out::collection(features)).into_response()
        }
        "2019" => {
            let features: Vec<Value> = atlas
                .lsoa11
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let mut p = Map::new();
                    p.insert("fid".into(), json!(i));
                    p.insert("code".into(), json!(l.code));
                    p.insert("name".into(), json!(l.name));
                    p.insert("population_2015".into(), json!(l.population_2015));
                    p.insert("lsoa21".into(), json!(became_2021(atlas, l)));
                    for (k, ind) in atlas.imd2019.indicators.iter().enumerate() {
                        p.insert(
                            format!("d_{}", ind.id),
                            json!(l.imd.get(k).and_then(|v| v.decile)),
                        );
                    }
                    feature(geojson_out::multipolygon(&l.geometry.lonlat), p)
                })
                .collect();
            Json(geojson_out::collection(features)).into_response()
        }
        other => {
            return Err(ApiError::bad_parameter(
                "year",
                format!("2019 or 2025 (got '{other}')"),
            ))
        }
    })
}

/// The 2021 LSOAs a 2011 LSOA became (ONS lookup), comma-separated in code
/// order, so that the panel of a 2011 LSOA links to them: the same text in
/// the 2019 layer and the `lsoa-2011` tiles.
pub(crate) fn became_2021(atlas: &Atlas, l: &crate::atlas::Lsoa11) -> String {
    let mut became: Vec<&str> = l
        .lsoa21
        .iter()
        .filter_map(|&(j, _)| atlas.lsoa21.get(j as usize))
        .map(|c| c.code.as_str())
        .collect();
    became.sort_unstable();
    became.join(",")
}

/// `GET /web/api/boundaries/{wards|districts}`: outlines with code and name.
pub async fn boundaries(
    Snap(state): Snap,
    ApiPath(layer): ApiPath<String>,
    params: Params,
) -> Result<Response, ApiError> {
    params.only(&[])?;
    let atlas = &state.atlas;
    let features: Vec<Value> = match layer.as_str() {
        "wards" => atlas
            .wards
            .iter()
            .filter_map(|w| {
                let g = w.geometry.as_ref()?;
                let mut p = Map::new();
                p.insert("code".into(), json!(w.code));
                p.insert("name".into(), json!(w.name));
                let d = w.district.and_then(|d| atlas.districts.get(d as usize));
                p.insert("district_name".into(), json!(d.map(|d| &d.name)));
                Some(feature(geojson_out::multipolygon(&g.lonlat), p))
            })
            .collect(),
        "districts" => atlas
            .districts
            .iter()
            .map(|d| {
                let mut p = Map::new();
                p.insert("code".into(), json!(d.code));
                p.insert("name".into(), json!(d.name));
                feature(geojson_out::multipolygon(&d.geometry.lonlat), p)
            })
            .collect(),
        _ => {
            return Err(ApiError::not_found(
                "no such layer: layer must be wards or districts",
            ))
        }
    };
    Ok(Json(geojson_out::collection(features)).into_response())
}

/// An interior point of the largest part of a multipolygon (for labels and clicks).
pub fn largest_interior_point(mp: &MultiPolygon<f64>) -> Option<geo::Point<f64>> {
    use geo::Area;
    mp.iter()
        .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))
        .and_then(InteriorPoint::interior_point)
}

/// `GET /web/api/labels/{wards|districts}`: one label point per area
/// (an interior point of its largest part). Built once per snapshot
/// ([`super::layers`]).
pub async fn labels(
    Snap(state): Snap,
    ApiPath(layer): ApiPath<String>,
    params: Params,
) -> Result<Response, ApiError> {
    params.only(&[])?;
    let body = match layer.as_str() {
        "wards" => state.web.ward_labels_json(),
        "districts" => state.web.district_labels_json(),
        _ => {
            return Err(ApiError::not_found(
                "no such layer: layer must be wards or districts",
            ))
        }
    };
    json_bytes(body, "labels")
}

/// The label points of the wards (`wards`) or districts (`districts`) as a
/// GeoJSON FeatureCollection: code, name, and an interior point of each
/// area's largest part; `None` for another layer.
pub(super) fn labels_of(atlas: &Atlas, layer: &str) -> Option<Value> {
    let largest = largest_interior_point;
    let rows: Vec<(String, String, Option<geo::Point<f64>>)> = match layer {
        "wards" => atlas
            .wards
            .iter()
            .filter_map(|w| {
                Some((
                    w.code.clone(),
                    w.name.clone(),
                    largest(&w.geometry.as_ref()?.lonlat),
                ))
            })
            .collect(),
        "districts" => atlas
            .districts
            .iter()
            .map(|d| (d.code.clone(), d.name.clone(), largest(&d.geometry.lonlat)))
            .collect(),
        _ => return None,
    };
    let features: Vec<Value> = rows
        .into_iter()
        .filter_map(|(code, name, pt)| {
            let mut p = Map::new();
            p.insert("code".into(), json!(code));
            p.insert("name".into(), json!(name));
            Some(feature(geojson_out::point(pt?), p))
        })
        .collect();
    Some(geojson_out::collection(features))
}

/// A prebuilt JSON body, or a logged 500 naming the layer that could not
/// be encoded.
fn json_bytes(body: Option<axum::body::Bytes>, what: &str) -> Result<Response, ApiError> {
    let body =
        body.ok_or_else(|| ApiError::internal(format!("the {what} layer could not be encoded")))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `GET /web/api/assets`: every asset as a point. Built once per snapshot
/// ([`super::layers`]): with the snapshot at start, by the first request
/// after a register write.
pub async fn assets(Snap(state): Snap, params: Params) -> Result<Response, ApiError> {
    params.only(&[])?;
    Ok(crate::api::blocking::off_workers(move || {
        json_bytes(state.web.assets_json(&state.atlas), "assets")
    })
    .await)
}

/// Every asset of `atlas` as a GeoJSON point feature: id, name, category
/// (id and label), source (id, title, vintage), address, postcode and
/// whether it lies in the region.
pub(super) fn assets_of(atlas: &Atlas) -> Value {
    let features: Vec<Value> = atlas
        .assets
        .iter()
        .map(|a| {
            let mut p = Map::new();
            p.insert("id".into(), json!(a.id));
            p.insert("name".into(), json!(a.name));
            let cat = atlas.categories.get(usize::from(a.category));
            p.insert("category".into(), json!(cat.map(|c| &c.id)));
            p.insert("category_label".into(), json!(cat.map(|c| &c.label)));
            let src = atlas.sources.get(usize::from(a.source));
            p.insert("source".into(), json!(src.map(|s| &s.id)));
            p.insert("source_title".into(), json!(src.map(|s| &s.title)));
            p.insert("vintage".into(), json!(src.map(|s| &s.vintage)));
            p.insert("address".into(), json!(a.address));
            p.insert("postcode".into(), json!(a.postcode));
            p.insert("in_region".into(), json!(a.in_region));
            feature(geojson_out::point(a.location.lonlat), p)
        })
        .collect();
    geojson_out::collection(features)
}

/// `GET /web/api/coverage`: the area each partial-coverage source covers
/// (sources covering all of England are left out), with the categories it
/// feeds. Built once per snapshot ([`super::layers`]).
pub async fn coverage(Snap(state): Snap, params: Params) -> Result<Response, ApiError> {
    params.only(&[])?;
    json_bytes(state.web.coverage_json(), "coverage")
}
