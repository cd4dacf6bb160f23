//! The community asset register over HTTP: OGC API – Features Part 4 writes
//! on the `register` collection (`POST`, `PUT`, `PATCH`, `DELETE`, and
//! `OPTIONS` on every items path), entry history, bulk import and category
//! management, each behind a bearer token ([`auth`]).
//!
//! Handlers parse and authorise; [`crate::live::Register`] validates
//! against the served atlas, writes and publishes.

pub mod auth;
pub mod etag;
mod extra;
pub mod openapi;
pub(crate) mod write;

use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

pub use auth::FailureLimiter;
pub use extra::{categories_page, history_page, import_page, session_page};
pub use write::{create_item, delete_item, item_options, items_options, patch_item, replace_item};

use super::error::ApiError;
use crate::live::LiveError;
use crate::sources::register::StoreError;

/// The collection that takes writes.
pub const COLLECTION: &str = "register";

/// Methods allowed on the register's items and on one of its items.
pub const ITEMS_ALLOW: &str = "GET, HEAD, POST, OPTIONS";
/// Methods allowed on one register item.
pub const ITEM_ALLOW: &str = "GET, HEAD, PUT, PATCH, DELETE, OPTIONS";
/// Methods allowed on the items of read-only collections.
pub const READ_ONLY_ALLOW: &str = "GET, HEAD, OPTIONS";

/// A problem response with extra headers (`Allow`, `WWW-Authenticate`,
/// `Retry-After`).
pub fn with_headers(error: ApiError, headers: &[(HeaderName, String)]) -> Response {
    let mut r = error.into_response();
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(value) {
            r.headers_mut().insert(name.clone(), v);
        }
    }
    r
}

/// A problem with a status and title.
pub fn problem(status: StatusCode, title: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError {
        status,
        title,
        detail: detail.into(),
        parameter: None,
    }
}

/// 405 for writes to a read-only collection.
pub fn read_only(collection: &str, allow: &str) -> Response {
    with_headers(
        problem(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed",
            format!("collection '{collection}' is read-only; only '{COLLECTION}' takes writes"),
        ),
        &[(header::ALLOW, allow.to_owned())],
    )
}

impl From<LiveError> for ApiError {
    fn from(e: LiveError) -> Self {
        match e {
            LiveError::Invalid { field, message } => ApiError {
                status: StatusCode::BAD_REQUEST,
                title: "Invalid entry",
                detail: format!("{field}: {message}"),
                parameter: Some(field),
            },
            LiveError::InvalidRows(rows) => ApiError {
                status: StatusCode::BAD_REQUEST,
                title: "Invalid import",
                detail: format!(
                    "{} invalid rows, nothing imported: {}",
                    rows.len(),
                    rows.iter()
                        .take(50)
                        .map(|r| format!("row {}, {}: {}", r.row, r.column, r.message))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                parameter: rows.first().map(|r| r.column.clone()),
            },
            LiveError::Store(StoreError::NotFound { id }) => ApiError::not_found(format!(
                "no feature '{}' in collection '{COLLECTION}'",
                crate::model::register::feature_id(id)
            )),
            LiveError::Store(StoreError::VersionMismatch {
                id,
                expected,
                current,
            }) => ApiError {
                status: StatusCode::PRECONDITION_FAILED,
                title: "Precondition failed",
                detail: format!(
                    "feature '{}' is at version {current}, not {expected} as If-Match says; read it again and reapply the change",
                    crate::model::register::feature_id(id)
                ),
                parameter: Some("If-Match".into()),
            },
            LiveError::Store(StoreError::Duplicate { what, name }) => ApiError {
                status: StatusCode::CONFLICT,
                title: "Conflict",
                detail: format!("{what} '{name}' already exists"),
                parameter: Some("id".into()),
            },
            other => ApiError::internal(other),
        }
    }
}
