//! `POST /processes/{process_id}/execution`: runs `area-profile`
//! synchronously and answers its one output, JSON or CSV, as the response
//! body (OGC API – Processes "raw" response). Nothing is stored.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::description::{no_such_process, AREA_PROFILE};
use super::inputs::{self, OutputFormat};
use crate::analysis::area_profile::{self, output, Limits};
use crate::analysis::Interrupt;
use crate::api::blocking::off_workers_limited;
use crate::api::error::ApiError;
use crate::api::query::{ApiPath, Params};
use crate::api::state::{Snap, Snapshot};
use crate::api::AppState;

/// Runs a parsed execution on a snapshot: the response body and its type.
///
/// # Errors
/// A 400 naming the input at fault (see [`inputs::resolve`]).
///
/// The work stops with a 503 once `interrupt` is raised (the request was
/// abandoned).
pub fn run(
    s: &Snapshot,
    execution: inputs::Execution,
    limits: &Limits,
    interrupt: &Interrupt,
) -> Result<Response, ApiError> {
    let (spec, repaired) = inputs::resolve(s, execution.area, limits, interrupt)?;
    let profile = area_profile::compute(&s.atlas, &s.results, &spec, &execution.params, interrupt)?;
    let mut response = match execution.format {
        OutputFormat::Json => {
            let mut doc = output::to_json(&s.atlas, &profile);
            if let Some(area) = doc.get_mut("area").and_then(Value::as_object_mut) {
                area.insert("repaired".into(), Value::Bool(repaired));
            }
            let mut r = doc.to_string().into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        OutputFormat::Csv => {
            let columns = vec![("area".to_owned(), output::measures(&s.atlas, &profile))];
            let mut r = output::to_csv(&columns).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            r
        }
    };
    // Each answer depends on the body posted: never cache it.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `POST /processes/{process_id}/execution` with a JSON execute request
/// (`{"inputs": {...}, "outputs": {...}}`); `?f=json|csv` picks the output
/// format.
///
/// # Errors
/// A 404 for another process; a 400 naming the input at fault.
pub async fn handler(
    State(state): State<Arc<AppState>>,
    Snap(s): Snap,
    ApiPath(id): ApiPath<String>,
    params: Params,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    params.only(&["f"])?;
    if params.get("f").is_some_and(|f| f != "json" && f != "csv") {
        return Err(ApiError::bad_parameter("f", "json or csv"));
    }
    if id != AREA_PROFILE {
        return Err(no_such_process(&id));
    }
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    if !ctype.trim_start().starts_with("application/json") {
        return Err(ApiError {
            status: axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            title: "Unsupported media type",
            detail: "the body must be application/json (an OGC API – Processes execute request)"
                .into(),
            parameter: Some("Content-Type".into()),
        });
    }
    let body: Value = serde_json::from_slice(&body).map_err(|e| ApiError {
        parameter: Some("body".into()),
        ..ApiError::bad_request(format!("the body is not a JSON execute request: {e}"))
    })?;
    let limits = Limits::default();
    let execution = inputs::parse(&body, params.get("f"), &limits)?;
    Ok(off_workers_limited(&state.heavy_work, move |interrupt| {
        run(&s, execution, &limits, interrupt)
    })
    .await)
}

/// `GET /processes/{process_id}/execution`: execution is a `POST`; a query
/// string is checked first, so an unknown parameter is named as on every
/// other route.
///
/// # Errors
/// A 400 naming an unknown parameter; otherwise a 405 saying to `POST`.
pub async fn not_get(params: Params) -> Result<Response, ApiError> {
    params.only(&["f"])?;
    let mut r = ApiError {
        status: axum::http::StatusCode::METHOD_NOT_ALLOWED,
        title: "Method not allowed",
        detail: "a process is executed with POST and a JSON execute request".into(),
        parameter: None,
    }
    .into_response();
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    Ok(r)
}
