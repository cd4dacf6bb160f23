//! The one error type every handler returns. It renders as an RFC 7807
//! `application/problem+json` document that names the parameter at fault and
//! what was expected, so that a client can correct its request without reading
//! the server's logs. Internal errors are logged with an id and reported by
//! that id only: their details may hold paths or data the client must not see.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::analysis::AnalysisError;

/// An error answered to the client as `application/problem+json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Short, fixed summary of the problem type ("Invalid parameter").
    pub title: &'static str,
    /// What went wrong in this request, for people.
    pub detail: String,
    /// The query or path parameter at fault, if any.
    pub parameter: Option<String>,
}

impl ApiError {
    /// A query parameter with a value that cannot be used: `expected` says
    /// what would have been accepted.
    pub fn bad_parameter(parameter: &str, expected: impl fmt::Display) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            title: "Invalid parameter",
            detail: format!("parameter '{parameter}': expected {expected}"),
            parameter: Some(parameter.to_owned()),
        }
    }

    /// A query parameter the endpoint does not know (OGC API – Features Part 1,
    /// requirement 9: unknown parameters are an error, not silently ignored).
    pub fn unknown_parameter(parameter: &str, allowed: &[&str]) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            title: "Unknown parameter",
            detail: if allowed.is_empty() {
                format!("parameter '{parameter}' is not recognised here: this resource takes no query parameters")
            } else {
                format!(
                    "parameter '{parameter}' is not recognised here; expected one of: {}",
                    allowed.join(", ")
                )
            },
            parameter: Some(parameter.to_owned()),
        }
    }

    /// A resource that does not exist.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            title: "Not found",
            detail: detail.into(),
            parameter: None,
        }
    }

    /// A bad request not tied to one parameter.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            title: "Bad request",
            detail: detail.into(),
            parameter: None,
        }
    }

    /// A failure on our side. The cause is logged with an id; the client sees
    /// only the id, to quote when reporting it.
    pub fn internal(cause: impl fmt::Display) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        tracing::error!(error_id = id, %cause, "internal error");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            title: "Internal error",
            detail: format!("internal error {id}; it has been logged"),
            parameter: None,
        }
    }

    /// The problem document.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        let mut body = serde_json::json!({
            "type": "about:blank",
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if let (Some(p), Some(map)) = (&self.parameter, body.as_object_mut()) {
            map.insert("parameter".to_owned(), serde_json::Value::String(p.clone()));
        }
        body
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.title,
            self.detail
        )
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.to_json().to_string();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        // Errors depend on the request, not on the data: never cache them.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

impl From<AnalysisError> for ApiError {
    fn from(e: AnalysisError) -> Self {
        match e {
            AnalysisError::InvalidParameter {
                parameter,
                expected,
            } => Self::bad_parameter(parameter, expected),
            // Nobody reads this answer (the request was dropped); it is
            // still a proper problem document.
            AnalysisError::Interrupted => Self {
                status: StatusCode::SERVICE_UNAVAILABLE,
                title: "Service unavailable",
                detail: e.to_string(),
                parameter: None,
            },
        }
    }
}

impl ApiError {
    /// A path parameter axum could not deserialise, named as the route names it.
    #[must_use]
    pub fn from_path_rejection(rejection: &PathRejection) -> Self {
        let PathRejection::FailedToDeserializePathParams(e) = rejection else {
            // Only a route declared without the parameters its handler
            // extracts gets here: a fault of ours, not the client's.
            return Self::internal(rejection.body_text());
        };
        match e.kind() {
            ErrorKind::ParseErrorAtKey {
                key,
                value,
                expected_type,
            } => Self::bad_parameter(
                key,
                format!("{} (got '{}')", plain_type(expected_type), bounded(value)),
            ),
            ErrorKind::ParseErrorAtIndex {
                index,
                value,
                expected_type,
            } => Self::bad_parameter(
                &format!("path segment {}", index + 1),
                format!("{} (got '{}')", plain_type(expected_type), bounded(value)),
            ),
            ErrorKind::InvalidUtf8InPathParam { key } => {
                Self::bad_parameter(key, "percent-encoded UTF-8 text")
            }
            other => Self::bad_request(format!("the path cannot be read: {other}")),
        }
    }
}

/// A Rust type name as a client would say it.
fn plain_type(t: &str) -> &str {
    match t {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number, 0 or more",
        "i32" | "i64" => "a whole number",
        "f64" | "f32" => "a number",
        _ => "text",
    }
}

/// At most 80 characters of a client's value, for echoing back.
fn bounded(value: &str) -> String {
    let mut out: String = value.chars().take(80).collect();
    if value.chars().nth(80).is_some() {
        out.push('…');
    }
    out
}

/// Answers any path no route matched.
pub async fn fallback(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no resource at {}", bounded(uri.path())))
}

/// Answers a method a route does not allow (405), as a problem document.
pub async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        title: "Method not allowed",
        detail: format!("{method} is not allowed on {}", bounded(uri.path())),
        parameter: None,
    }
}
