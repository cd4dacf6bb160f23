//! Saved areas over HTTP: OGC API – Features Part 4 writes on the `areas`
//! collection (`POST` items, `PUT`, `PATCH` with a JSON merge patch,
//! `DELETE`), each behind an editor token as register writes are, and the
//! strong ETag of an area. Reading goes through the ordinary collection
//! handlers (the collection is part of the snapshot).
//!
//! Bodies are GeoJSON Features with a Polygon or MultiPolygon geometry in
//! CRS84, or in EPSG:27700 with `Content-Crs:
//! <http://www.opengis.net/def/crs/EPSG/0/27700>`; see
//! [`crate::live::areas::validate`] for the rules. A write is answered once
//! the snapshot serving it is, so the `Location` reads at once and the
//! process profiles the area.

pub mod openapi;

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::blocking::limited;
use super::error::ApiError;
use super::ogc::params::Format;
use super::ogc::respond::RequestInfo;
use super::register::auth::require;
use super::register::etag::{self, IfMatch};
use super::register::write::{content_type_ok, json_body, register_of};
use super::{AppState, Snapshot};
use crate::live::areas::{self as live_areas, AreaCrs, PlacedArea};
use crate::live::LiveError;
use crate::model::area::{feature_id, parse_feature_id, AreaFields, SavedArea};
use crate::model::register::Role;
use crate::model::Crs;
use crate::sources::register::StoreError;

pub use crate::api::ogc::areas_collection::ID as COLLECTION;

/// Media types a feature body may have.
const FEATURE_TYPES: &[&str] = &["application/geo+json", "application/json"];
/// Media types a `PATCH` body may have.
const PATCH_TYPES: &[&str] = &[
    "application/merge-patch+json",
    "application/geo+json",
    "application/json",
];

/// The placed area `id` in a snapshot.
#[must_use]
pub fn placed(s: &Snapshot, id: i64) -> Option<&PlacedArea> {
    let i = s.areas.binary_search_by_key(&id, |p| p.area.id).ok()?;
    s.areas.get(i)
}

/// The strong ETag of an area as served with the link `base`, as HTML or
/// not, for the request's `query`: `"v<version>-<hash>"`, so `If-Match`
/// can guard a write (versions are compared, as for the register).
#[must_use]
pub fn area_etag(area: &SavedArea, base: &str, html: bool, query: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    "areas".hash(&mut h);
    base.hash(&mut h);
    html.hash(&mut h);
    query.hash(&mut h);
    format!("\"v{}-{:016x}\"", area.version, h.finish())
}

fn missing(id: &str) -> ApiError {
    let shown: String = id.chars().take(80).collect();
    ApiError {
        parameter: Some("featureId".into()),
        ..ApiError::not_found(format!("no feature '{shown}' in collection '{COLLECTION}'"))
    }
}

fn to_api(e: LiveError) -> ApiError {
    match e {
        LiveError::Invalid { field, message } => ApiError {
            status: StatusCode::BAD_REQUEST,
            title: "Invalid area",
            detail: format!("{field}: {message}"),
            parameter: Some(field),
        },
        LiveError::Store(StoreError::NotFound { id }) => missing(&feature_id(id)),
        LiveError::Store(StoreError::VersionMismatch {
            id,
            expected,
            current,
        }) => ApiError {
            status: StatusCode::PRECONDITION_FAILED,
            title: "Precondition failed",
            detail: format!(
                "feature '{}' is at version {current}, not {expected} as If-Match says; read it again and reapply the change",
                feature_id(id)
            ),
            parameter: Some("If-Match".into()),
        },
        other => ApiError::from(other),
    }
}

fn area_crs(headers: &HeaderMap) -> Result<AreaCrs, ApiError> {
    match headers.get("content-crs") {
        None => Ok(AreaCrs::Crs84),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(AreaCrs::from_header)
            .ok_or_else(|| {
                ApiError::bad_parameter(
                    "Content-Crs",
                    "<http://www.opengis.net/def/crs/OGC/1.3/CRS84> or <http://www.opengis.net/def/crs/EPSG/0/27700>",
                )
            }),
    }
}

/// Validates a body against the served snapshot, off the async runtime
/// (GDAL repairs and projects, the region check apportions) in one of the
/// heavy-work slots ([`AppState::heavy_work`], held until the check ends);
/// the region check stops if the request is abandoned.
async fn validated(
    state: &Arc<AppState>,
    body: Value,
    crs: AreaCrs,
) -> Result<AreaFields, ApiError> {
    let state = Arc::clone(state);
    limited(&Arc::clone(&state.heavy_work), move |interrupt| {
        // Taken once a slot is free: the newest snapshot when the check runs.
        let s = state.snapshot();
        live_areas::validate(&body, crs, &s.atlas, &s.results, interrupt)
    })
    .await?
    .map_err(to_api)
}

/// The written area as now served, with its strong ETag.
fn written(
    state: &Arc<AppState>,
    area: &SavedArea,
    headers: &HeaderMap,
    uri: Uri,
    status: StatusCode,
) -> Response {
    let snapshot = state.snapshot();
    let info = RequestInfo::new(headers, uri);
    let fid = area.feature_id();
    let location = format!("{}/collections/{COLLECTION}/items/{fid}", info.base);
    let body = snapshot
        .ogc
        .provider(COLLECTION)
        .and_then(|c| c.write_item(&fid, Crs::Crs84, None, &info.base));
    let mut builder = Response::builder()
        .status(status)
        .header(header::LOCATION, location)
        .header(header::ETAG, area_etag(area, &info.base, false, ""))
        .header(header::CACHE_CONTROL, "no-store");
    let body = match body {
        Some(text) => {
            builder = builder.header(header::CONTENT_TYPE, "application/geo+json");
            axum::body::Body::from(text)
        }
        None => axum::body::Body::empty(),
    };
    builder
        .body(body)
        .unwrap_or_else(|e| ApiError::internal(e).into_response())
}

fn area_id(fid: &str) -> Result<i64, ApiError> {
    parse_feature_id(fid).ok_or_else(|| missing(fid))
}

/// The version a write must find, reading the stored area when `If-Match`
/// names one.
async fn expected_version(
    register: &crate::live::Register,
    id: i64,
    m: &IfMatch,
) -> Result<Option<i64>, ApiError> {
    if *m == IfMatch::Absent {
        return Ok(None);
    }
    let current = register
        .get_area(id)
        .await
        .map_err(to_api)?
        .ok_or_else(|| missing(&feature_id(id)))?;
    etag::expected(m, current.version)
}

/// `POST /collections/areas/items`: saves an area (editors).
pub async fn create(
    state: Arc<AppState>,
    ip: std::net::IpAddr,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let principal = match require(&state, &headers, ip, Role::Editor).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let result = async {
        content_type_ok(&headers, FEATURE_TYPES)?;
        let crs = area_crs(&headers)?;
        let value = json_body(&body)?;
        let register = register_of(&state)?;
        let fields = validated(&state, value, crs).await?;
        register
            .create_area(fields, &principal.name)
            .await
            .map_err(to_api)
    }
    .await;
    match result {
        Ok(area) => written(&state, &area, &headers, uri, StatusCode::CREATED),
        Err(e) => e.into_response(),
    }
}

/// `PUT /collections/areas/items/{featureId}`: replaces an area (editors).
pub async fn replace(
    state: Arc<AppState>,
    fid: String,
    ip: std::net::IpAddr,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let principal = match require(&state, &headers, ip, Role::Editor).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let result = async {
        let id = area_id(&fid)?;
        let register = register_of(&state)?;
        let m = etag::if_match(&headers)?;
        content_type_ok(&headers, FEATURE_TYPES)?;
        let crs = area_crs(&headers)?;
        let value = json_body(&body)?;
        let expected = expected_version(&register, id, &m).await?;
        let fields = validated(&state, value, crs).await?;
        register
            .replace_area(id, expected, fields, "replace", &principal.name)
            .await
            .map_err(to_api)
    }
    .await;
    match result {
        Ok(area) => written(&state, &area, &headers, uri, StatusCode::OK),
        Err(e) => e.into_response(),
    }
}

/// `PATCH /collections/areas/items/{featureId}`: a JSON merge patch of the
/// name, description or geometry (editors). The geometry, when the patch
/// sets it, is in `Content-Crs`; the stored one is CRS84.
pub async fn patch(
    state: Arc<AppState>,
    fid: String,
    ip: std::net::IpAddr,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let principal = match require(&state, &headers, ip, Role::Editor).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let result = async {
        let id = area_id(&fid)?;
        let register = register_of(&state)?;
        let m = etag::if_match(&headers)?;
        content_type_ok(&headers, PATCH_TYPES)?;
        let crs = area_crs(&headers)?;
        let patch = json_body(&body)?;
        if !patch.is_object() {
            return Err(ApiError::bad_parameter("body", "a JSON merge patch object"));
        }
        let current = register
            .get_area(id)
            .await
            .map_err(to_api)?
            .ok_or_else(|| missing(&fid))?;
        // Without If-Match the client named no version: the patch applies
        // to whatever is stored when it is written (a 412 would blame a
        // header it did not send).
        let expected = etag::expected(&m, current.version)?;
        let sets_geometry = patch.get("geometry").is_some_and(|g| !g.is_null());
        let mut merged = json!({
            "type": "Feature",
            "geometry": serde_json::from_str::<Value>(&crate::api::ogc::encode::multipolygon(&current.fields.geometry)).map_err(ApiError::internal)?,
            "properties": { "name": current.fields.name, "description": current.fields.description },
        });
        crate::live::validate::merge_patch(&mut merged, &patch);
        let crs = if sets_geometry { crs } else { AreaCrs::Crs84 };
        let fields = validated(&state, merged, crs).await?;
        register
            .replace_area(id, expected, fields, "update", &principal.name)
            .await
            .map_err(to_api)
    }
    .await;
    match result {
        Ok(area) => written(&state, &area, &headers, uri, StatusCode::OK),
        Err(e) => e.into_response(),
    }
}

/// `DELETE /collections/areas/items/{featureId}` (editors; `If-Match`
/// optional).
pub async fn delete(
    state: Arc<AppState>,
    fid: String,
    ip: std::net::IpAddr,
    headers: HeaderMap,
) -> Response {
    let principal = match require(&state, &headers, ip, Role::Editor).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let result = async {
        let id = area_id(&fid)?;
        let register = register_of(&state)?;
        let m = etag::if_match(&headers)?;
        let expected = expected_version(&register, id, &m).await?;
        register
            .delete_area(id, expected, &principal.name)
            .await
            .map_err(to_api)
    }
    .await;
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

/// The strong ETag of area feature `fid` for a `GET` (None: not an area
/// of this snapshot).
#[must_use]
pub fn feature_etag(
    s: &Snapshot,
    fid: &str,
    base: &str,
    format: Format,
    query: &str,
) -> Option<String> {
    let p = placed(s, parse_feature_id(fid)?)?;
    Some(area_etag(&p.area, base, format == Format::Html, query))
}
