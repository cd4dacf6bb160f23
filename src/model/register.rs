//! The community asset register's plain records: entries teams record
//! themselves (larders, warm spaces, coffee mornings, a park no national list
//! holds), the change history kept for every write, and the bearer tokens
//! that may write. Stores ([`crate::sources::register`]) read and write these;
//! the live atlas ([`crate::live`]) validates and serves them.

use serde::{Deserialize, Serialize};

/// The fields of an entry a team writes (everything but the id and the
/// bookkeeping). Validated before it reaches a store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryFields {
    /// Name, e.g. "Barton Community Larder". 1–200 characters.
    pub name: String,
    /// Category id, e.g. `community_larder` or `gp_practice`.
    pub category: String,
    /// Longitude, degrees east, CRS84.
    pub lon: f64,
    /// Latitude, degrees north, CRS84.
    pub lat: f64,
    /// Address.
    pub address: Option<String>,
    /// Postcode, normalised (`OX4 3JG`).
    pub postcode: Option<String>,
    /// Organisation that runs it.
    pub organisation: Option<String>,
    /// Contact (telephone, e-mail or web address).
    pub contact: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Opening times in OpenStreetMap `opening_hours` syntax.
    pub opening_hours: Option<String>,
    /// How many people it serves at once, where that matters.
    pub capacity: Option<u32>,
    /// First day it is open, `YYYY-MM-DD`; `None`: since before records.
    pub valid_from: Option<String>,
    /// Last day it is open, `YYYY-MM-DD`; `None`: still open.
    pub valid_to: Option<String>,
}

/// A stored entry: its fields plus id, version and who changed it when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Store-assigned id, unique and never reused (`register-<id>` in URLs).
    pub id: i64,
    /// The fields.
    #[serde(flatten)]
    pub fields: EntryFields,
    /// 1 at creation, +1 at each change: the `ETag` of the entry.
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

impl Entry {
    /// The feature id of an entry in every collection: `register-<id>`.
    #[must_use]
    pub fn feature_id(&self) -> String {
        feature_id(self.id)
    }

    /// Whether the entry is open on `date` (`YYYY-MM-DD`): `valid_from` ≤
    /// date ≤ `valid_to`, either end open when absent. ISO dates compare as
    /// text.
    #[must_use]
    pub fn open_on(&self, date: &str) -> bool {
        self.fields
            .valid_from
            .as_deref()
            .is_none_or(|from| from <= date)
            && self.fields.valid_to.as_deref().is_none_or(|to| date <= to)
    }
}

/// The feature id of entry `id`.
#[must_use]
pub fn feature_id(id: i64) -> String {
    format!("register-{id}")
}

/// The entry id in a feature id (`register-17` → 17).
#[must_use]
pub fn parse_feature_id(feature_id: &str) -> Option<i64> {
    let n = feature_id.strip_prefix("register-")?;
    // Only canonical spellings: no sign, no leading zeros.
    if n.is_empty() || n.starts_with('0') || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok().filter(|&i| i > 0)
}

/// What a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// `POST` of one entry.
    Create,
    /// `PUT`.
    Replace,
    /// `PATCH`.
    Update,
    /// `DELETE`.
    Delete,
    /// One entry of a bulk import.
    Import,
}

impl Action {
    /// Stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Replace => "replace",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Import => "import",
        }
    }

    /// From the stored name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "create" => Action::Create,
            "replace" => Action::Replace,
            "update" => Action::Update,
            "delete" => Action::Delete,
            "import" => Action::Import,
            _ => return None,
        })
    }
}

/// One change, as kept in the history: the register's change log, read by
/// every replica to follow the others' writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Position in the change log, increasing.
    pub seq: i64,
    /// The entry changed.
    pub entry_id: i64,
    /// What was done.
    pub action: Action,
    /// Name of the token that did it.
    pub actor: String,
    /// When, RFC 3339 UTC.
    pub at: String,
    /// The entry before (`None` for a creation).
    pub before: Option<Entry>,
    /// The entry after (`None` for a deletion).
    pub after: Option<Entry>,
}

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Read only (when reading is not public).
    Viewer,
    /// Create, change and delete entries.
    Editor,
    /// Also import files and manage categories.
    Admin,
}

impl Role {
    /// Stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    /// From the stored name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "viewer" => Role::Viewer,
            "editor" => Role::Editor,
            "admin" => Role::Admin,
            _ => return None,
        })
    }
}

/// A bearer token as stored: never the token itself, only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Public part of the token (`gm_<id>_<secret>`), 16 hex digits.
    pub id: String,
    /// Unique name, e.g. `alice` or `qgis-desk-3`; recorded as the actor.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// Argon2id PHC string of the secret part.
    pub hash: String,
    /// When it was made, RFC 3339 UTC.
    pub created_at: String,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
}

/// A category the register holds besides the atlas's own, added by an admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterCategory {
    /// Identifier, `[a-z][a-z0-9_]*`, e.g. `warm_space`.
    pub id: String,
    /// Plural label, e.g. "Warm spaces".
    pub label: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_ids_round_trip_and_reject_other_spellings() {
        assert_eq!(parse_feature_id(&feature_id(17)), Some(17));
        for bad in [
            "register-",
            "register-0",
            "register-017",
            "register--1",
            "register-+1",
            "register-1x",
            "osm-1",
            "register-99999999999999999999",
        ] {
            assert_eq!(parse_feature_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn open_on_respects_both_ends() {
        let mut e = Entry {
            id: 1,
            fields: EntryFields {
                name: "x".into(),
                category: "warm_space".into(),
                lon: -1.2,
                lat: 51.7,
                address: None,
                postcode: None,
                organisation: None,
                contact: None,
                description: None,
                opening_hours: None,
                capacity: None,
                valid_from: Some("2023-01-01".into()),
                valid_to: Some("2023-12-31".into()),
            },
            version: 1,
            created_by: "t".into(),
            created_at: "2023-01-01T00:00:00Z".into(),
            updated_by: "t".into(),
            updated_at: "2023-01-01T00:00:00Z".into(),
        };
        assert!(e.open_on("2023-01-01"));
        assert!(e.open_on("2023-12-31"));
        assert!(!e.open_on("2022-12-31"));
        assert!(!e.open_on("2024-01-01"));
        e.fields.valid_to = None;
        assert!(e.open_on("2030-01-01"));
    }
}
