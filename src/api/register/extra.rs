//! The register's own endpoints beside Part 4: an entry's history, bulk
//! import (admins), adding categories (admins), and who a token is (the
//! map's sign-in).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::auth::{require, Peer};
use super::COLLECTION;
use crate::api::error::ApiError;
use crate::api::query::{ApiPath, Params};
use crate::api::AppState;
use crate::live::{validate::InputCrs, LiveError};
use crate::model::register::{parse_feature_id, Change, RegisterCategory, Role};
use crate::sources::register::import::{self, ImportFormat};

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response()
}

fn change_json(c: &Change) -> Value {
    json!({
        "seq": c.seq,
        "action": c.action,
        "actor": c.actor,
        "at": c.at,
        "version": c.after.as_ref().or(c.before.as_ref()).map(|e| e.version),
        "before": c.before,
        "after": c.after,
    })
}

/// `GET /collections/register/items/{featureId}/history`: every change to
/// an entry, oldest first: who, when, and the entry before and after
/// (coordinates in CRS84). Also for deleted entries.
pub async fn history_page(
    State(state): State<Arc<AppState>>,
    ApiPath((collection, fid)): ApiPath<(String, String)>,
    params: Params,
) -> Response {
    let result = async {
        params.only(&[])?;
        let missing =
            || ApiError::not_found(format!("no feature '{fid}' in collection '{collection}'"));
        if collection != COLLECTION {
            return Err(missing());
        }
        let id = parse_feature_id(&fid).ok_or_else(missing)?;
        let register = state.register().cloned().ok_or_else(missing)?;
        let changes = register.history(id).await?;
        if changes.is_empty() {
            return Err(missing());
        }
        Ok(json!({
            "id": fid,
            "deleted": changes.last().is_some_and(|c| c.after.is_none()),
            "changes": changes.iter().map(change_json).collect::<Vec<_>>(),
        }))
    }
    .await;
    match result {
        Ok(doc) => json_response(StatusCode::OK, &doc),
        Err(e) => e.into_response(),
    }
}

/// `POST /collections/register/import`: a whole file of entries (CSV,
/// GeoJSON FeatureCollection or GeoPackage, by `Content-Type`), validated
/// in full first and then written all at once, or not at all with every
/// bad row and column listed (admins).
pub async fn import_page(
    State(state): State<Arc<AppState>>,
    ApiPath(collection): ApiPath<String>,
    Peer(ip): Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if collection != COLLECTION {
        return ApiError::not_found(format!("no import for collection '{collection}'"))
            .into_response();
    }
    let principal = match require(&state, &headers, ip, Role::Admin).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let result = async {
        let ct = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
            .unwrap_or_default();
        let format = ImportFormat::from_media_type(&ct).ok_or_else(|| ApiError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            title: "Unsupported media type",
            detail: "the body must be text/csv, application/geo+json or application/geopackage+sqlite3".into(),
            parameter: Some("Content-Type".into()),
        })?;
        let crs = match headers.get("content-crs") {
            None => InputCrs::Crs84,
            Some(v) => v.to_str().ok().and_then(InputCrs::from_header).ok_or_else(|| {
                ApiError::bad_parameter("Content-Crs", "CRS84, EPSG:4326 or EPSG:27700")
            })?,
        };
        let register = state.register().cloned().ok_or_else(|| {
            super::problem(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed", "no register attached")
        })?;
        let snapshot = state.snapshot();
        let fields = tokio::task::spawn_blocking(move || {
            let rows = import::read(&body, format).map_err(|e| LiveError::Invalid {
                field: "body".into(),
                message: e.to_string(),
            })?;
            crate::live::validate::rows(&rows, crs, &snapshot.atlas)
        })
        .await
        .map_err(ApiError::internal)??;
        let n = fields.len();
        let entries = register.import(fields, &principal.name).await?;
        Ok::<_, ApiError>(json!({
            "imported": n,
            "ids": entries.iter().map(crate::model::register::Entry::feature_id).collect::<Vec<_>>(),
        }))
    }
    .await;
    match result {
        Ok(doc) => json_response(StatusCode::CREATED, &doc),
        Err(e) => e.into_response(),
    }
}

/// `POST /register/categories` `{"id": "warm_space", "label": "Warm spaces"}`:
/// adds a category the register may hold (admins); it is served at once,
/// with its own `assets-<id>` collection and gap analysis.
pub async fn categories_page(
    State(state): State<Arc<AppState>>,
    Peer(ip): Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let _principal = match require(&state, &headers, ip, Role::Admin).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let result = async {
        let category: RegisterCategory = serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_parameter("body", format!("{{\"id\": …, \"label\": …}} ({e})"))
        })?;
        let register = state.register().cloned().ok_or_else(|| {
            super::problem(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
                "no register attached",
            )
        })?;
        register.add_category(category.clone()).await?;
        Ok::<_, ApiError>(json!({"id": category.id, "label": category.label.trim()}))
    }
    .await;
    match result {
        Ok(doc) => json_response(StatusCode::CREATED, &doc),
        Err(e) => e.into_response(),
    }
}

/// `GET /register/session`: who the request's bearer token belongs to,
/// `{"name": "alice", "role": "editor"}`, so that the map can show whom it
/// writes as. The same checks as a write needing the lowest role: no token
/// or an invalid one 401 (counted towards the failed-authentication limit,
/// so this is no cheaper a way to guess tokens), revoked 403, 429 while the
/// address is blocked. 404 when the server has no register. No query
/// parameters; never cached.
pub async fn session_page(
    State(state): State<Arc<AppState>>,
    Peer(ip): Peer,
    params: Params,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = params.only(&[]) {
        return e.into_response();
    }
    if state.register().is_none() {
        return ApiError::not_found("this server has no register attached").into_response();
    }
    match require(&state, &headers, ip, Role::Viewer).await {
        Ok(p) => json_response(
            StatusCode::OK,
            &json!({"name": p.name, "role": p.role.as_str()}),
        ),
        Err(r) => r,
    }
}
