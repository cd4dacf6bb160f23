//! Entity tags of register entries and `If-Match` (optimistic locking,
//! OGC API – Features Part 4 with RFC 9110 §13.1.1).
//!
//! A register feature's ETag is strong and reads `"v<version>-<variant>"`:
//! the entry's version, then a hash of what else shapes the representation
//! ([`entry_etag`]: link base, format, query such as CRS or properties,
//! and where the entry was placed) — not the snapshot, so the ETag a write
//! answers is the one a later `GET` of the same entry gives, until the entry
//! changes. `If-Match` compares versions only, so any
//! representation's ETag can guard a write; weak tags never match (strong
//! comparison), and `*` matches any existing entry.

use axum::http::{header, HeaderMap, StatusCode};

use crate::api::error::ApiError;

/// The strong ETag of a register feature at `version`; `variant` is the
/// weak ETag the representation would otherwise have.
#[must_use]
pub fn feature_etag(version: i64, variant: &str) -> String {
    let hex = variant.trim_start_matches("W/").trim_matches('"');
    format!("\"v{version}-{hex}\"")
}

/// The strong ETag of a placed register entry as served with the link
/// `base`, as HTML or not, for the request's `query` (CRS, properties, `f`).
#[must_use]
pub fn entry_etag(
    placed: &crate::atlas::register::PlacedEntry,
    base: &str,
    html: bool,
    query: &str,
) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    base.hash(&mut h);
    html.hash(&mut h);
    query.hash(&mut h);
    // Placement comes from the atlas, not the entry: a data change moves it.
    placed.lsoa21.hash(&mut h);
    placed.ward.hash(&mut h);
    placed.district.hash(&mut h);
    format!("\"v{}-{:016x}\"", placed.entry.version, h.finish())
}

/// What an `If-Match` header asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// No header: write unconditionally (the store still serialises).
    Absent,
    /// `*`: the entry must exist.
    Any,
    /// The entry must be at one of these versions (empty: none can match).
    Versions(Vec<i64>),
}

/// Parses `If-Match`.
///
/// # Errors
/// A 400 naming `If-Match` when the header is not text.
pub fn if_match(headers: &HeaderMap) -> Result<IfMatch, ApiError> {
    let mut values = headers.get_all(header::IF_MATCH).iter().peekable();
    if values.peek().is_none() {
        return Ok(IfMatch::Absent);
    }
    let mut versions = Vec::new();
    for v in values {
        let text = v
            .to_str()
            .map_err(|_| ApiError::bad_parameter("If-Match", "entity tags in ASCII"))?;
        for tag in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            if tag == "*" {
                return Ok(IfMatch::Any);
            }
            // Weak tags never match under strong comparison.
            if tag.starts_with("W/") {
                continue;
            }
            let inner = tag.trim_matches('"');
            let version = inner
                .strip_prefix('v')
                .map(|r| r.split('-').next().unwrap_or(""))
                .and_then(|n| n.parse::<i64>().ok());
            if let Some(v) = version {
                versions.push(v);
            }
        }
    }
    Ok(IfMatch::Versions(versions))
}

/// The version a write must find, given `If-Match` and the version stored
/// now (`None`: the entry was not read).
///
/// # Errors
/// 412 when no listed version is the current one.
pub fn expected(m: &IfMatch, current: i64) -> Result<Option<i64>, ApiError> {
    match m {
        IfMatch::Absent | IfMatch::Any => Ok(None),
        IfMatch::Versions(v) if v.contains(&current) => Ok(Some(current)),
        IfMatch::Versions(_) => Err(ApiError {
            status: StatusCode::PRECONDITION_FAILED,
            title: "Precondition failed",
            detail: format!(
                "the entry is at version {current}; If-Match names another (or only weak tags); read it again and reapply the change"
            ),
            parameter: Some("If-Match".into()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn h(v: &str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert(header::IF_MATCH, HeaderValue::from_str(v).expect("ascii"));
        m
    }

    #[test]
    fn parses_tags() {
        assert_eq!(if_match(&HeaderMap::new()), Ok(IfMatch::Absent));
        assert_eq!(if_match(&h("*")), Ok(IfMatch::Any));
        assert_eq!(
            if_match(&h("\"v3-00ff\", \"v4-aa\"")),
            Ok(IfMatch::Versions(vec![3, 4]))
        );
        assert_eq!(if_match(&h("W/\"v3-00ff\"")), Ok(IfMatch::Versions(vec![])));
        assert_eq!(feature_etag(7, "W/\"abc\""), "\"v7-abc\"");
        assert_eq!(expected(&IfMatch::Versions(vec![3]), 3), Ok(Some(3)));
        assert_eq!(
            expected(&IfMatch::Versions(vec![3]), 4).map_err(|e| e.status),
            Err(StatusCode::PRECONDITION_FAILED)
        );
    }
}
