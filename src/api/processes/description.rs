//! `GET /processes` and `GET /processes/{process_id}`: the process list and
//! the OGC process description of `area-profile`.

use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::api::error::ApiError;
use crate::api::ogc::links::link;
use crate::api::ogc::respond::{media, RequestInfo};
use crate::api::query::{ApiPath, Params};

/// The one process.
pub const AREA_PROFILE: &str = "area-profile";

fn summary(base: &str) -> Value {
    json!({
        "id": AREA_PROFILE,
        "title": "Area profile",
        "description": "The community insight profile of any area: residents (Census 2021, apportioned from LSOAs by postcode units), IMD 2025 and 2019 by decile with population-weighted scores for the IMD and its domains, assets inside and around per category with coverage, residents' distance to the nearest asset and deprived-and-far residents, benchmarked against the containing districts, the region and England.",
        "version": "1.0.0",
        "jobControlOptions": ["sync-execute"],
        "outputTransmission": ["value"],
        "links": [
            link(&format!("{base}/processes/{AREA_PROFILE}"), "self", media::JSON, "The process description"),
            link(&format!("{base}/processes/{AREA_PROFILE}/execution"), "http://www.opengis.net/def/rel/ogc/1.0/execute", media::JSON, "Execute the process"),
        ],
    })
}

fn codes(title: &str, description: &str, pattern: &str) -> Value {
    json!({
        "title": title,
        "description": description,
        "minOccurs": 0,
        "maxOccurs": 1,
        "schema": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": pattern}},
    })
}

/// The process description (OGC process description JSON).
#[must_use]
pub fn process(base: &str) -> Value {
    let mut doc = summary(base);
    if let Some(o) = doc.as_object_mut() {
        o.insert("inputs".into(), json!({
            "geometry": {
                "title": "Area boundary",
                "description": "A GeoJSON Polygon or MultiPolygon (holes allowed), or a Feature or FeatureCollection of them, in the CRS given by `crs` (default CRS84). A self-intersecting polygon is repaired (MakeValid) or refused.",
                "minOccurs": 0, "maxOccurs": 1,
                "schema": {"type": "object", "contentMediaType": "application/geo+json", "required": ["type"]},
            },
            "crs": {
                "title": "CRS of the geometry",
                "description": "EPSG:n, urn:ogc:def:crs:EPSG::n, http://www.opengis.net/def/crs/EPSG/0/n, CRS84 (OGC:CRS84, its OGC URI or URN) or WKT; never fetched from a URL or read from a file. Default http://www.opengis.net/def/crs/OGC/1.3/CRS84.",
                "minOccurs": 0, "maxOccurs": 1,
                "schema": {"type": "string", "default": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"},
            },
            "file": {
                "title": "Boundary file",
                "description": "An uploaded boundary file GDAL reads (GeoJSON, GeoPackage, zipped Shapefile, KML, FlatGeobuf, GML, MapInfo), base64-encoded, in the CRS the file declares (a Shapefile needs its .prj; a file without one is refused); every feature must be a polygon. `filename` gives its extension (`.zip` for a zipped Shapefile).",
                "minOccurs": 0, "maxOccurs": 1,
                "schema": {"type": "object", "required": ["value"], "properties": {
                    "value": {"type": "string", "contentEncoding": "base64"},
                    "encoding": {"type": "string", "enum": ["base64"]},
                    "mediaType": {"type": "string"},
                    "filename": {"type": "string"},
                }},
            },
            "lsoas": codes("2021 LSOAs", "The area made of these whole 2021 LSOAs of the region.", "^E01[0-9]{6}$"),
            "wards": codes("Wards", "The area made of these 2024 wards' best-fit 2021 LSOAs.", "^E05[0-9]{6}$"),
            "districts": codes("Districts", "The area made of these districts' 2021 LSOAs.", "^E0[6-9][0-9]{6}$"),
            "area": {
                "title": "Saved area",
                "description": "The id of a saved area (collection `areas`, e.g. `areas-3`), profiled exactly as its geometry would be. An unknown id is a 404.",
                "minOccurs": 0, "maxOccurs": 1,
                "schema": {"type": "string", "pattern": "^areas-[1-9][0-9]*$"},
            },
            "max_decile": {
                "title": "Deprived: largest IMD 2025 decile",
                "minOccurs": 0, "maxOccurs": 1,
                "schema": {"type": "integer", "minimum": 1, "maximum": 10, "default": 2},
            },
            "min_distance_m": {
                "title": "Far: smallest straight-line distance (m)",
                "minOccurs": 0, "maxOccurs": 1,
                "schema": {"type": "number", "minimum": 0, "default": 1600},
            },
        }));
        o.insert("outputs".into(), json!({
            "profile": {
                "title": "The area profile",
                "description": "JSON (the whole profile) or CSV (one row per measure); choose with `outputs.profile.format.mediaType` or `?f=json|csv`.",
                "schema": {"oneOf": [
                    {"type": "object", "contentMediaType": "application/json"},
                    {"type": "string", "contentMediaType": "text/csv"},
                ]},
            },
        }));
    }
    doc
}

fn json_response(doc: &Value) -> Response {
    let mut r = doc.to_string().into_response();
    r.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static(media::JSON),
    );
    r
}

/// `GET /processes`.
///
/// # Errors
/// A 400 for a query parameter other than `f=json`.
pub async fn list_page(headers: HeaderMap, uri: Uri, params: Params) -> Result<Response, ApiError> {
    check_f(&params)?;
    let info = RequestInfo::new(&headers, uri);
    let base = &info.base;
    Ok(json_response(&json!({
        "processes": [summary(base)],
        "links": [link(&format!("{base}/processes"), "self", media::JSON, "The processes")],
    })))
}

/// `GET /processes/{process_id}`.
///
/// # Errors
/// A 404 for another process id; a 400 for a query parameter other than `f=json`.
pub async fn process_page(
    headers: HeaderMap,
    uri: Uri,
    params: Params,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    check_f(&params)?;
    if id != AREA_PROFILE {
        return Err(no_such_process(&id));
    }
    let info = RequestInfo::new(&headers, uri);
    Ok(json_response(&process(&info.base)))
}

/// A 404 naming a process that does not exist (OGC API – Processes
/// exception type `no-such-process`).
pub fn no_such_process(id: &str) -> ApiError {
    let shown: String = id.chars().take(80).collect();
    ApiError {
        parameter: Some("process_id".into()),
        ..ApiError::not_found(format!(
            "no process '{shown}'; the processes are: {AREA_PROFILE}"
        ))
    }
}

fn check_f(params: &Params) -> Result<(), ApiError> {
    params.only(&["f"])?;
    match params.get("f") {
        None | Some("json") => Ok(()),
        Some(_) => Err(ApiError::bad_parameter("f", "json")),
    }
}
