//! OGC API – Features Part 4 on the `register` collection: create (`POST`
//! items), replace (`PUT`), update (`PATCH`, JSON merge patch) and delete,
//! and `OPTIONS` advertising what each items path allows.
//!
//! Bodies are GeoJSON features (`application/geo+json` or
//! `application/json`; `PATCH` also `application/merge-patch+json`) whose
//! coordinates are in the CRS of `Content-Crs` (CRS84 when absent; EPSG:4326
//! latitude first; EPSG:27700). A write is acknowledged only once the
//! served snapshot contains it, so the `Location` can be read at once and
//! `/gaps` already counts the entry.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::auth::{require, Peer};
use super::etag::{self, IfMatch};
use super::{read_only, COLLECTION, ITEMS_ALLOW, ITEM_ALLOW, READ_ONLY_ALLOW};
use crate::api::error::ApiError;
use crate::api::ogc::params::Format;
use crate::api::ogc::respond::RequestInfo;
use crate::api::query::ApiPath;
use crate::api::{AppState, Snapshot};
use crate::live::validate::{self, InputCrs};
use crate::live::{LiveError, Register};
use crate::model::register::{parse_feature_id, Action, Entry, Role};
use crate::model::Crs;
use crate::sources::register::StoreError;

/// Media types a feature body may have.
const FEATURE_TYPES: &[&str] = &["application/geo+json", "application/json"];
/// Media types a `PATCH` body may have.
const PATCH_TYPES: &[&str] = &[
    "application/merge-patch+json",
    "application/geo+json",
    "application/json",
];
/// How often a `PATCH` without `If-Match` is retried when another write
/// changed the entry between its read and its write.
const PATCH_RETRIES: usize = 5;

pub(crate) fn content_type_ok(headers: &HeaderMap, allowed: &[&str]) -> Result<(), ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    match ct {
        Some(t) if allowed.contains(&t.as_str()) => Ok(()),
        _ => Err(ApiError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            title: "Unsupported media type",
            detail: format!("the body must be one of {}", allowed.join(", ")),
            parameter: Some("Content-Type".into()),
        }),
    }
}

fn input_crs(headers: &HeaderMap) -> Result<InputCrs, ApiError> {
    match headers.get("content-crs") {
        None => Ok(InputCrs::Crs84),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(InputCrs::from_header)
            .ok_or_else(|| {
                ApiError::bad_parameter(
                    "Content-Crs",
                    "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>, <http://www.opengis.net/def/crs/EPSG/0/4326> or <http://www.opengis.net/def/crs/EPSG/0/27700>",
                )
            }),
    }
}

pub(crate) fn json_body(body: &Bytes) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError {
        status: StatusCode::BAD_REQUEST,
        title: "Invalid body",
        detail: format!("the body is not JSON: {e}"),
        parameter: Some("body".into()),
    })
}

pub(crate) fn register_of(state: &Arc<AppState>) -> Result<Arc<Register>, ApiError> {
    state.register().cloned().ok_or_else(|| {
        super::problem(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed",
            "this server has no register attached",
        )
    })
}

fn entry_id(fid: &str) -> Result<i64, ApiError> {
    parse_feature_id(fid).ok_or_else(|| {
        ApiError::not_found(format!("no feature '{fid}' in collection '{COLLECTION}'"))
    })
}

/// Validates a feature against the served atlas, off the async runtime
/// (BNG input needs a GDAL transformation).
async fn validated(
    snapshot: Arc<Snapshot>,
    body: Value,
    crs: InputCrs,
) -> Result<crate::model::register::EntryFields, ApiError> {
    tokio::task::spawn_blocking(move || validate::feature(&body, crs, &snapshot.atlas))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::from)
}

/// The written feature as now served, with its strong ETag.
fn written(
    state: &Arc<AppState>,
    entry: &Entry,
    headers: &HeaderMap,
    uri: Uri,
    status: StatusCode,
) -> Response {
    let snapshot = state.snapshot();
    let info = RequestInfo::new(headers, uri);
    let fid = entry.feature_id();
    let location = format!("{}/collections/{COLLECTION}/items/{fid}", info.base);
    let body = snapshot
        .ogc
        .provider(COLLECTION)
        .and_then(|c| c.write_item(&fid, Crs::Crs84, None, &info.base));
    // The same tag a `GET` of the entry (GeoJSON, no query) gives.
    let placed = snapshot
        .register
        .binary_search_by_key(&entry.id, |p| p.entry.id)
        .ok()
        .and_then(|i| snapshot.register.get(i))
        .filter(|p| p.entry.version == entry.version);
    let etag = match placed {
        Some(p) => etag::entry_etag(p, &info.base, false, ""),
        None => etag::feature_etag(entry.version, &info.etag(snapshot.tag, Format::Json, &fid)),
    };
    let mut builder = Response::builder()
        .status(status)
        .header(header::LOCATION, location)
        .header(header::ETAG, etag)
        .header(header::CACHE_CONTROL, "no-store");
    match body {
        Some(text) => {
            builder = builder.header(header::CONTENT_TYPE, "application/geo+json");
            builder
                .body(axum::body::Body::from(text))
                .unwrap_or_else(|e| ApiError::internal(e).into_response())
        }
        None => builder
            .body(axum::body::Body::empty())
            .unwrap_or_else(|e| ApiError::internal(e).into_response()),
    }
}

/// `POST /collections/{collectionId}/items`: creates an entry (editors).
pub async fn create_item(
    State(state): State<Arc<AppState>>,
    ApiPath(collection): ApiPath<String>,
    Peer(ip): Peer,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    if collection == crate::api::areas::COLLECTION && state.register().is_some() {
        return crate::api::areas::create(state, ip, headers, uri, body).await;
    }
    if collection != COLLECTION {
        return not_register(&state, &collection);
    }
    let principal = match require(&state, &headers, ip, Role::Editor).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let result = async {
        content_type_ok(&headers, FEATURE_TYPES)?;
        let crs = input_crs(&headers)?;
        let value = json_body(&body)?;
        let register = register_of(&state)?;
        let fields = validated(state.snapshot(), value, crs).await?;
        Ok::<_, ApiError>(register.create(fields, &principal.name).await?)
    }
    .await;
    match result {
        Ok(entry) => written(&state, &entry, &headers, uri, StatusCode::CREATED),
        Err(e) => e.into_response(),
    }
}

/// `PUT /collections/{collectionId}/items/{featureId}`: replaces an entry.
pub async fn replace_item(
    State(state): State<Arc<AppState>>,
    ApiPath((collection, fid)): ApiPath<(String, String)>,
    Peer(ip): Peer,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    if collection == crate::api::areas::COLLECTION && state.register().is_some() {
        return crate::api::areas::replace(state, fid, ip, headers, uri, body).await;
    }
    if collection != COLLECTION {
        return not_register(&state, &collection);
    }
    let principal = match require(&state, &headers, ip, Role::Editor).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let result = async {
        let id = entry_id(&fid)?;
        let register = register_of(&state)?;
        let m = etag::if_match(&headers)?;
        content_type_ok(&headers, FEATURE_TYPES)?;
        let crs = input_crs(&headers)?;
        let value = json_body(&body)?;
        let expected = if m == IfMatch::Absent {
            None
        } else {
            let current = register
                .get(id)
                .await?
                .ok_or(LiveError::Store(StoreError::NotFound { id }))?;
            etag::expected(&m, current.version)?
        };
        let fields = validated(state.snapshot(), value, crs).await?;
        Ok::<_, ApiError>(
            register
                .replace(id, expected, fields, Action::Replace, &principal.name)
                .await?,
        )
    }
    .await;
    match result {
        Ok(entry) => written(&state, &entry, &headers, uri, StatusCode::OK),
        Err(e) => e.into_response(),
    }
}

/// The writable view of an entry as a GeoJSON feature in CRS84, the target
/// of a merge patch.
fn writable_feature(e: &Entry) -> Value {
    let f = &e.fields;
    json!({
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [f.lon, f.lat]},
        "properties": {
            "name": f.name, "category": f.category, "address": f.address,
            "postcode": f.postcode, "organisation": f.organisation, "contact": f.contact,
            "description": f.description, "opening_hours": f.opening_hours,
            "capacity": f.capacity, "valid_from": f.valid_from, "valid_to": f.valid_to,
        }
    })
}

/// `PATCH /collections/{collectionId}/items/{featureId}`: updates the
/// properties (and geometry) a JSON merge patch names.
pub async fn patch_item(
    State(state): State<Arc<AppState>>,
    ApiPath((collection, fid)): ApiPath<(String, String)>,
    Peer(ip): Peer,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    if collection == crate::api::areas::COLLECTION && state.register().is_some() {
        return crate::api::areas::patch(state, fid, ip, headers, uri, body).await;
    }
    if collection != COLLECTION {
        return not_register(&state, &collection);
    }
    let principal = match require(&state, &headers, ip, Role::Editor).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let result = async {
        let id = entry_id(&fid)?;
        let register = register_of(&state)?;
        let m = etag::if_match(&headers)?;
        content_type_ok(&headers, PATCH_TYPES)?;
        let crs = input_crs(&headers)?;
        let patch = json_body(&body)?;
        if !patch.is_object() {
            return Err(ApiError::bad_parameter("body", "a JSON merge patch object"));
        }
        // The geometry is in Content-Crs only when the patch sets it.
        let geometry_crs = if patch.get("geometry").is_some_and(|g| !g.is_null()) {
            crs
        } else {
            InputCrs::Crs84
        };
        for attempt in 0..=PATCH_RETRIES {
            // Without If-Match the patch applies to whatever is stored, so
            // this process's such patches take turns from read to write:
            // with only the version check, N concurrent ones made up to
            // N - 1 rounds of lost races, more than the retries allow, and
            // a patch that named no version was refused with 412.
            let turn = if m == IfMatch::Absent {
                Some(register.rmw_turn().await)
            } else {
                None
            };
            let current = register
                .get(id)
                .await?
                .ok_or(LiveError::Store(StoreError::NotFound { id }))?;
            let expected = match &m {
                IfMatch::Absent => Some(current.version),
                _ => etag::expected(&m, current.version)?,
            };
            let mut merged = writable_feature(&current);
            validate::merge_patch(&mut merged, &patch);
            let fields = validated(state.snapshot(), merged, geometry_crs).await?;
            let written = register
                .replace_unpublished(id, expected, fields, Action::Update, &principal.name)
                .await;
            drop(turn);
            match written {
                Ok(change) => {
                    register.catch_up(change.seq).await?;
                    return Ok(change
                        .after
                        .ok_or_else(|| LiveError::Task("update returned no entry".into()))?);
                }
                Err(LiveError::Store(StoreError::VersionMismatch { .. }))
                    if m == IfMatch::Absent && attempt < PATCH_RETRIES =>
                {
                    // A write from elsewhere (an unconditional PUT, another
                    // replica) came between the read and this one: merge
                    // the patch into what it left.
                }
                Err(LiveError::Store(StoreError::VersionMismatch { .. })) if m == IfMatch::Absent => {
                    // The client named no version: a 412 about If-Match
                    // would blame a header it did not send.
                    return Err(super::problem(
                        StatusCode::CONFLICT,
                        "Conflict",
                        format!(
                            "feature '{fid}' kept changing while this patch was applied ({} attempts); send it again",
                            PATCH_RETRIES + 1
                        ),
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(ApiError::internal("patch retries exhausted"))
    }
    .await;
    match result {
        Ok(entry) => written(&state, &entry, &headers, uri, StatusCode::OK),
        Err(e) => e.into_response(),
    }
}

/// `DELETE /collections/{collectionId}/items/{featureId}`: deletes an entry
/// (its history stays; to record that a place closed, set `valid_to`).
pub async fn delete_item(
    State(state): State<Arc<AppState>>,
    ApiPath((collection, fid)): ApiPath<(String, String)>,
    Peer(ip): Peer,
    headers: HeaderMap,
) -> Response {
    if collection == crate::api::areas::COLLECTION && state.register().is_some() {
        return crate::api::areas::delete(state, fid, ip, headers).await;
    }
    if collection != COLLECTION {
        return not_register(&state, &collection);
    }
    let principal = match require(&state, &headers, ip, Role::Editor).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let result = async {
        let id = entry_id(&fid)?;
        let register = register_of(&state)?;
        let m = etag::if_match(&headers)?;
        let expected = if m == IfMatch::Absent {
            None
        } else {
            let current = register
                .get(id)
                .await?
                .ok_or(LiveError::Store(StoreError::NotFound { id }))?;
            etag::expected(&m, current.version)?
        };
        register.delete(id, expected, &principal.name).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

/// A write to a collection other than the register: 404 when there is no
/// such collection, else 405 with what it allows.
fn not_register(state: &Arc<AppState>, collection: &str) -> Response {
    if state.snapshot().ogc.provider(collection).is_none() {
        return ApiError::not_found(format!("no collection '{collection}'")).into_response();
    }
    read_only(collection, READ_ONLY_ALLOW)
}

fn options(state: &Arc<AppState>, collection: &str, register_allow: &'static str) -> Response {
    if state.snapshot().ogc.provider(collection).is_none() {
        return ApiError::not_found(format!("no collection '{collection}'")).into_response();
    }
    let writable = collection == COLLECTION || collection == crate::api::areas::COLLECTION;
    let allow = if writable && state.register().is_some() {
        register_allow
    } else {
        READ_ONLY_ALLOW
    };
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut()
        .insert(header::ALLOW, axum::http::HeaderValue::from_static(allow));
    r
}

/// `OPTIONS /collections/{collectionId}/items`: the methods allowed (QGIS
/// asks before it offers editing).
pub async fn items_options(
    State(state): State<Arc<AppState>>,
    ApiPath(collection): ApiPath<String>,
) -> Response {
    options(&state, &collection, ITEMS_ALLOW)
}

/// `OPTIONS /collections/{collectionId}/items/{featureId}`.
pub async fn item_options(
    State(state): State<Arc<AppState>>,
    ApiPath((collection, _fid)): ApiPath<(String, String)>,
) -> Response {
    options(&state, &collection, ITEM_ALLOW)
}
