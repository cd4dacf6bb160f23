//! Coordinate reference systems (OGC API – Features Part 2): which CRSs are
//! offered and how request parameters name them. Every geometry is held in both
//! CRSs by the atlas, so choosing one is a lookup, never a reprojection.

use crate::api::error::ApiError;
use crate::atlas::Crs;

/// The CRSs every collection offers, storage CRS first.
pub const SUPPORTED: [Crs; 2] = [Crs::Crs84, Crs::Bng];

/// The URIs of [`SUPPORTED`], for collection metadata.
pub fn supported_uris() -> Vec<&'static str> {
    SUPPORTED.iter().map(|c| c.uri()).collect()
}

/// Parses a CRS parameter (`crs`, `bbox-crs`, `filter-crs`).
///
/// # Errors
/// A 400 naming the parameter and the accepted URIs.
pub fn parse(parameter: &str, value: &str) -> Result<Crs, ApiError> {
    Crs::from_uri(value).ok_or_else(|| {
        ApiError::bad_parameter(parameter, format!("one of {}", supported_uris().join(", ")))
    })
}

/// The `Content-Crs` header value: the URI in angle brackets.
pub fn content_crs(crs: Crs) -> String {
    format!("<{}>", crs.uri())
}
