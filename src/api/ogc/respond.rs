//! Building responses: absolute base URLs for links, content types, and HTTP
//! caching. The atlas never changes while the server runs, so a response is
//! fully determined by the start-up, the URL, the host and the negotiated
//! format; the ETag hashes those, which lets `If-None-Match` be answered with
//! a 304 before any body is written.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use super::params::Format;
use crate::api::error::ApiError;

/// `Cache-Control` for data responses.
pub const CACHE_CONTROL: &str = "public, max-age=3600";

/// Media types.
pub mod media {
    /// JSON.
    pub const JSON: &str = "application/json";
    /// GeoJSON.
    pub const GEOJSON: &str = "application/geo+json";
    /// HTML.
    pub const HTML: &str = "text/html; charset=utf-8";
    /// OpenAPI 3.0 JSON.
    pub const OPENAPI: &str = "application/vnd.oai.openapi+json;version=3.0";
    /// JSON Schema.
    pub const SCHEMA: &str = "application/schema+json";
}

/// What a request looks like, for links and caching.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    /// `scheme://host` with no trailing slash.
    pub base: String,
    /// Request URI (path and query).
    pub uri: Uri,
    /// `If-None-Match`, if sent.
    pub if_none_match: Option<String>,
    /// `Accept`, if sent.
    pub accept: Option<String>,
}

impl RequestInfo {
    /// Reads the parts of a request that responses depend on.
    pub fn new(headers: &HeaderMap, uri: Uri) -> Self {
        let text = |h: header::HeaderName| {
            headers
                .get(h)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let host = text(header::HOST)
            .or_else(|| uri.authority().map(ToString::to_string))
            .filter(|h| {
                h.bytes().all(|b| b.is_ascii_graphic()) && !h.contains(['/', '"', '<', '>'])
            })
            .unwrap_or_else(|| "localhost".to_owned());
        // Behind a TLS-terminating proxy, links must keep the client's scheme.
        let scheme = headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .filter(|s| matches!(*s, "http" | "https"))
            .unwrap_or("http");
        Self {
            base: format!("{scheme}://{host}"),
            uri,
            if_none_match: text(header::IF_NONE_MATCH),
            accept: text(header::ACCEPT),
        }
    }

    /// The weak ETag of the response to this request in a given format.
    pub fn etag(&self, startup_tag: u64, format: Format, extra: &str) -> String {
        let mut h = DefaultHasher::new();
        startup_tag.hash(&mut h);
        self.base.hash(&mut h);
        self.uri.path().hash(&mut h);
        self.uri.query().unwrap_or("").hash(&mut h);
        (format == Format::Html).hash(&mut h);
        extra.hash(&mut h);
        format!("W/\"{:016x}\"", h.finish())
    }

    /// Whether the client already holds the response with this ETag.
    pub fn not_modified(&self, etag: &str) -> bool {
        let Some(inm) = &self.if_none_match else {
            return false;
        };
        let strip = |t: &str| t.trim().trim_start_matches("W/").to_owned();
        let ours = strip(etag);
        inm.split(',').any(|t| t.trim() == "*" || strip(t) == ours)
    }
}

/// A successful, cacheable response. `body` runs only when the client does
/// not already hold the current version.
///
/// # Errors
/// Whatever `body` returns.
pub fn cached(
    info: &RequestInfo,
    etag: &str,
    content_type: &str,
    extra_headers: &[(&'static str, String)],
    body: impl FnOnce() -> Result<String, ApiError>,
) -> Result<Response, ApiError> {
    let mut builder = Response::builder()
        .header(header::ETAG, etag)
        .header(header::CACHE_CONTROL, CACHE_CONTROL)
        // Negotiation reads Accept; caches must keep the variants apart.
        .header(header::VARY, "Accept");
    for (name, value) in extra_headers {
        builder = builder.header(*name, value.as_str());
    }
    let response = if info.not_modified(etag) {
        builder.status(StatusCode::NOT_MODIFIED).body(Body::empty())
    } else {
        builder
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body()?))
    };
    response.map_err(ApiError::internal)
}

/// A JSON body from a `serde_json` value.
///
/// # Errors
/// Only if serialisation fails, which it cannot for values built in memory.
pub fn json_text(value: &serde_json::Value) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(ApiError::internal)
}

/// An `ApiError` as a response, for handlers returning `Response`.
pub fn error(e: ApiError) -> Response {
    e.into_response()
}

/// A header value, falling back to empty when the text is not a valid header.
pub fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""))
}
