//! Saved areas: named boundaries a team draws or uploads once (an estate,
//! a primary care network area, "our patch") and profiles again by link.
//! Stored beside the community asset register
//! ([`crate::sources::register::saved_areas`]), served as the OGC API –
//! Features collection `areas`, and accepted by the `area-profile` process
//! as `{"area": "areas-<n>"}`.

use geo::MultiPolygon;

/// Feature-id prefix of saved areas (`areas-17`).
pub const FEATURE_PREFIX: &str = "areas-";

/// What a team writes: everything but the id and the bookkeeping.
/// Validated ([`crate::live::areas`]) before it reaches a store.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaFields {
    /// Name, 1–200 characters, e.g. "Blackbird Leys and Greater Leys".
    pub name: String,
    /// Free text, at most 2,000 characters.
    pub description: Option<String>,
    /// The boundary in OGC CRS84 (longitude, latitude, degrees): valid
    /// (repaired where that is well defined), within the vertex and part
    /// limits of the area-profile process, inside the served region.
    pub geometry: MultiPolygon<f64>,
}

/// A stored saved area.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedArea {
    /// Store-assigned id, never reused (`areas-<id>` in URLs).
    pub id: i64,
    /// The fields.
    pub fields: AreaFields,
    /// 1 at creation, +1 at each change: part of the feature's `ETag`.
    pub version: i64,
    /// Name of the token that created it.
    pub created_by: String,
    /// When, RFC 3339 UTC.
    pub created_at: String,
    /// Name of the token that last changed it.
    pub updated_by: String,
    /// When, RFC 3339 UTC.
    pub updated_at: String,
}

impl SavedArea {
    /// The OGC feature id, `areas-<id>`.
    #[must_use]
    pub fn feature_id(&self) -> String {
        feature_id(self.id)
    }
}

/// The OGC feature id of saved area `id`.
#[must_use]
pub fn feature_id(id: i64) -> String {
    format!("{FEATURE_PREFIX}{id}")
}

/// The area id in a feature id (`areas-17` → 17); only canonical spellings
/// (no sign, no leading zeros).
#[must_use]
pub fn parse_feature_id(feature_id: &str) -> Option<i64> {
    let n = feature_id.strip_prefix(FEATURE_PREFIX)?;
    if n.is_empty() || n.starts_with('0') || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok().filter(|&i| i > 0)
}

/// One write to the saved areas, as the store's change log records it
/// (which area, not its content: followers read the area itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaChange {
    /// Change-log position.
    pub seq: i64,
    /// The area written.
    pub area_id: i64,
    /// `create`, `replace`, `update` or `delete`.
    pub action: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_ids_round_trip_and_refuse_other_spellings() {
        assert_eq!(feature_id(17), "areas-17");
        assert_eq!(parse_feature_id("areas-17"), Some(17));
        for bad in [
            "areas-",
            "areas-0",
            "areas-017",
            "areas--1",
            "area-1",
            "areas-1x",
        ] {
            assert_eq!(parse_feature_id(bad), None, "{bad}");
        }
    }
}
