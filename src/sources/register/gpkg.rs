//! The embedded register store: one GeoPackage file (SQLite), created on
//! first use, that QGIS and GDAL open as it is (`register_entries` is a
//! point feature table in WGS 84; the change log, tokens and categories are
//! attribute tables).
//!
//! Durability: write-ahead log with `synchronous=FULL`, so a write is on
//! disk before it is acknowledged and a `kill -9` loses nothing committed.
//! Each write is one `BEGIN IMMEDIATE` transaction.

mod areas;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{params, Connection, Row, TransactionBehavior};

use super::gpkg_blob::{decode_point, encode_point};
use super::{Loaded, RegisterStore, Stamp, StoreError};
use crate::model::register::{
    Action, Change, Entry, EntryFields, RegisterCategory, Role, TokenRecord,
};

const WGS84_WKT: &str = r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#;

/// The GeoPackage core tables (GeoPackage 1.2 Annex C) and GapMap's own.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
CREATE TABLE IF NOT EXISTS gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE IF NOT EXISTS register_entries (
  fid INTEGER PRIMARY KEY AUTOINCREMENT, geom POINT NOT NULL,
  name TEXT NOT NULL, category TEXT NOT NULL, address TEXT, postcode TEXT,
  organisation TEXT, contact TEXT, description TEXT, opening_hours TEXT,
  capacity INTEGER, valid_from DATE, valid_to DATE, version INTEGER NOT NULL,
  created_by TEXT NOT NULL, created_at DATETIME NOT NULL,
  updated_by TEXT NOT NULL, updated_at DATETIME NOT NULL);
CREATE TABLE IF NOT EXISTS register_changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, entry_id INTEGER NOT NULL, action TEXT NOT NULL,
  actor TEXT NOT NULL, at DATETIME NOT NULL, before TEXT, after TEXT);
CREATE INDEX IF NOT EXISTS register_changes_entry ON register_changes (entry_id, seq);
CREATE TABLE IF NOT EXISTS register_tokens (
  fid INTEGER PRIMARY KEY AUTOINCREMENT, token_id TEXT NOT NULL UNIQUE, name TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL, hash TEXT NOT NULL, created_at DATETIME NOT NULL, revoked_at DATETIME);
CREATE TABLE IF NOT EXISTS register_categories (
  fid INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, label TEXT NOT NULL);
";

const ENTRY_COLUMNS: &str = "fid, geom, name, category, address, postcode, organisation, \
     contact, description, opening_hours, capacity, valid_from, valid_to, version, \
     created_by, created_at, updated_by, updated_at";

/// The register in a GeoPackage file.
pub struct GpkgStore {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for GpkgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpkgStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn query_err(operation: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> StoreError {
    let operation = operation.into();
    move |e| StoreError::Query {
        operation,
        message: e.to_string(),
    }
}

impl GpkgStore {
    /// Opens the GeoPackage at `path`, creating it (and its folder) with the
    /// GeoPackage core tables and the register tables when absent.
    ///
    /// # Errors
    /// [`StoreError::Open`] naming the file.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        // 0x47504B47 = "GPKG".
        const GPKG: i64 = 0x4750_4B47;
        let open_err = |message: String| StoreError::Open {
            location: path.display().to_string(),
            message,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        }
        let conn = Connection::open(path).map_err(|e| open_err(e.to_string()))?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(|e| open_err(e.to_string()))?;
        // WAL: readers never block the writer; FULL: the WAL is synced
        // at every commit, so an acknowledged write survives a crash.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| open_err(e.to_string()))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| open_err(e.to_string()))?;
        let app_id: i64 = conn
            .pragma_query_value(None, "application_id", |r| r.get(0))
            .map_err(|e| open_err(e.to_string()))?;
        if app_id != 0 && app_id != GPKG {
            return Err(open_err(format!(
                "not a GeoPackage (application_id {app_id:#x})"
            )));
        }
        conn.execute_batch(SCHEMA)
            .map_err(|e| open_err(e.to_string()))?;
        if app_id == 0 {
            Self::register_contents(&conn).map_err(|e| open_err(e.to_string()))?;
        }
        // Every open: a register made before saved areas existed gains them.
        areas::migrate(&conn).map_err(|e| open_err(e.to_string()))?;
        Ok(Self {
            path: path.to_owned(),
            conn: Mutex::new(conn),
        })
    }

    /// Writes the rows that make the file a GeoPackage: the three required
    /// SRSs, `gpkg_contents` and the geometry column.
    fn register_contents(conn: &Connection) -> rusqlite::Result<()> {
        conn.execute_batch(&format!(
            "BEGIN;
             PRAGMA application_id = 1196444487;
             PRAGMA user_version = 10200;
             INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES
               ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
               ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
               ('WGS 84 geodetic', 4326, 'EPSG', 4326, '{WGS84_WKT}', 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');
             INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES
               ('register_entries', 'features', 'register_entries', 'GapMap community asset register', 4326),
               ('register_changes', 'attributes', 'register_changes', 'Every change to the register: who, when, before and after', NULL),
               ('register_tokens', 'attributes', 'register_tokens', 'Bearer tokens (argon2id hashes only)', NULL),
               ('register_categories', 'attributes', 'register_categories', 'Categories added by admins', NULL);
             INSERT OR IGNORE INTO gpkg_geometry_columns VALUES ('register_entries', 'geom', 'POINT', 4326, 0, 0);
             COMMIT;"
        ))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a transaction open
        // (rusqlite rolls back on drop), so a poisoned lock is still usable.
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn entry_from_row(row: &Row<'_>) -> Result<Entry, StoreError> {
    let id: i64 = row.get(0).map_err(corrupt_err(0, "fid"))?;
    let blob: Vec<u8> = row.get(1).map_err(corrupt_err(id, "geom"))?;
    let (lon, lat) = decode_point(&blob).map_err(|message| StoreError::Corrupt {
        table: "register_entries",
        row: id,
        column: "geom",
        message,
    })?;
    let text = |i: usize, column: &'static str| -> Result<Option<String>, StoreError> {
        row.get::<_, Option<String>>(i)
            .map_err(corrupt_err(id, column))
    };
    let req = |i: usize, column: &'static str| -> Result<String, StoreError> {
        row.get::<_, String>(i).map_err(corrupt_err(id, column))
    };
    let capacity: Option<i64> = row.get(10).map_err(corrupt_err(id, "capacity"))?;
    let capacity = capacity
        .map(u32::try_from)
        .transpose()
        .map_err(|e| StoreError::Corrupt {
            table: "register_entries",
            row: id,
            column: "capacity",
            message: e.to_string(),
        })?;
    Ok(Entry {
        id,
        fields: EntryFields {
            name: req(2, "name")?,
            category: req(3, "category")?,
            lon,
            lat,
            address: text(4, "address")?,
            postcode: text(5, "postcode")?,
            organisation: text(6, "organisation")?,
            contact: text(7, "contact")?,
            description: text(8, "description")?,
            opening_hours: text(9, "opening_hours")?,
            capacity,
            valid_from: text(11, "valid_from")?,
            valid_to: text(12, "valid_to")?,
        },
        version: row.get(13).map_err(corrupt_err(id, "version"))?,
        created_by: req(14, "created_by")?,
        created_at: req(15, "created_at")?,
        updated_by: req(16, "updated_by")?,
        updated_at: req(17, "updated_at")?,
    })
}

fn corrupt_err(row: i64, column: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |e| StoreError::Corrupt {
        table: "register_entries",
        row,
        column,
        message: e.to_string(),
    }
}

fn change_from_row(row: &Row<'_>) -> Result<Change, StoreError> {
    let seq: i64 = row.get(0).map_err(change_err(0, "seq"))?;
    let action: String = row.get(2).map_err(change_err(seq, "action"))?;
    let json = |i: usize, column: &'static str| -> Result<Option<Entry>, StoreError> {
        let text: Option<String> = row.get(i).map_err(change_err(seq, column))?;
        text.map(|t| serde_json::from_str(&t))
            .transpose()
            .map_err(|e| StoreError::Corrupt {
                table: "register_changes",
                row: seq,
                column,
                message: e.to_string(),
            })
    };
    Ok(Change {
        seq,
        entry_id: row.get(1).map_err(change_err(seq, "entry_id"))?,
        action: Action::parse(&action).ok_or_else(|| StoreError::Corrupt {
            table: "register_changes",
            row: seq,
            column: "action",
            message: format!("unknown action '{action}'"),
        })?,
        actor: row.get(3).map_err(change_err(seq, "actor"))?,
        at: row.get(4).map_err(change_err(seq, "at"))?,
        before: json(5, "before")?,
        after: json(6, "after")?,
    })
}

fn change_err(row: i64, column: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |e| StoreError::Corrupt {
        table: "register_changes",
        row,
        column,
        message: e.to_string(),
    }
}

fn token_from_row(row: &Row<'_>) -> Result<TokenRecord, StoreError> {
    let bad = |column: &'static str| {
        move |e: rusqlite::Error| StoreError::Corrupt {
            table: "register_tokens",
            row: 0,
            column,
            message: e.to_string(),
        }
    };
    let role: String = row.get(2).map_err(bad("role"))?;
    Ok(TokenRecord {
        id: row.get(0).map_err(bad("token_id"))?,
        name: row.get(1).map_err(bad("name"))?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt {
            table: "register_tokens",
            row: 0,
            column: "role",
            message: format!("unknown role '{role}'"),
        })?,
        hash: row.get(3).map_err(bad("hash"))?,
        created_at: row.get(4).map_err(bad("created_at"))?,
        revoked_at: row.get(5).map_err(bad("revoked_at"))?,
    })
}

fn to_json(e: Option<&Entry>) -> Option<String> {
    // Entry holds only strings, numbers and options: serialisation cannot fail.
    e.and_then(|e| serde_json::to_string(e).ok())
}

/// Appends a change to the log inside the caller's transaction.
fn log_change(
    tx: &rusqlite::Transaction<'_>,
    entry_id: i64,
    action: Action,
    stamp: Stamp<'_>,
    before: Option<Entry>,
    after: Option<Entry>,
) -> Result<Change, StoreError> {
    // GeoPackage readers (QGIS) watch last_change to know the table changed.
    tx.execute(
        "UPDATE gpkg_contents SET last_change = ?1 WHERE table_name IN ('register_entries', 'register_changes')",
        params![stamp.at],
    )
    .map_err(query_err("touch gpkg_contents"))?;
    tx.execute(
        "INSERT INTO register_changes (entry_id, action, actor, at, before, after) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![entry_id, action.as_str(), stamp.actor, stamp.at, to_json(before.as_ref()), to_json(after.as_ref())],
    )
    .map_err(query_err(format!("log change to entry {entry_id}")))?;
    Ok(Change {
        seq: tx.last_insert_rowid(),
        entry_id,
        action,
        actor: stamp.actor.to_owned(),
        at: stamp.at.to_owned(),
        before,
        after,
    })
}

fn get_entry(conn: &Connection, id: i64) -> Result<Option<Entry>, StoreError> {
    let sql = format!("SELECT {ENTRY_COLUMNS} FROM register_entries WHERE fid = ?1");
    let mut stmt = conn
        .prepare_cached(&sql)
        .map_err(query_err(format!("read entry {id}")))?;
    let mut rows = stmt
        .query(params![id])
        .map_err(query_err(format!("read entry {id}")))?;
    match rows.next().map_err(query_err(format!("read entry {id}")))? {
        Some(row) => entry_from_row(row).map(Some),
        None => Ok(None),
    }
}

/// Reads entry `id` for a write, checking it exists and is at `expected`.
fn current(
    tx: &rusqlite::Transaction<'_>,
    id: i64,
    expected: Option<i64>,
) -> Result<Entry, StoreError> {
    let before = get_entry(tx, id)?.ok_or(StoreError::NotFound { id })?;
    if let Some(expected) = expected {
        if before.version != expected {
            return Err(StoreError::VersionMismatch {
                id,
                expected,
                current: before.version,
            });
        }
    }
    Ok(before)
}

/// The added categories, in the order added (within a load's transaction,
/// or alone when polled).
fn read_categories(conn: &Connection) -> Result<Vec<RegisterCategory>, StoreError> {
    let mut stmt = conn
        .prepare("SELECT id, label FROM register_categories ORDER BY fid")
        .map_err(query_err("read categories"))?;
    let rows = stmt
        .query_map([], |row| {
            Ok(RegisterCategory {
                id: row.get(0)?,
                label: row.get(1)?,
            })
        })
        .map_err(query_err("read categories"))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(query_err("read categories"))
}

impl RegisterStore for GpkgStore {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn load(&self) -> Result<Loaded, StoreError> {
        let mut conn = self.lock();
        // One read transaction: entries and seq from the same instant.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(query_err("load register"))?;
        let seq: i64 = tx
            .query_row(
                "SELECT COALESCE(MAX(seq), 0) FROM register_changes",
                [],
                |r| r.get(0),
            )
            .map_err(query_err("read change log position"))?;
        let mut entries = Vec::new();
        {
            let sql = format!("SELECT {ENTRY_COLUMNS} FROM register_entries ORDER BY fid");
            let mut stmt = tx.prepare(&sql).map_err(query_err("read entries"))?;
            let mut rows = stmt.query([]).map_err(query_err("read entries"))?;
            while let Some(row) = rows.next().map_err(query_err("read entries"))? {
                entries.push(entry_from_row(row)?);
            }
        }
        let categories = read_categories(&tx)?;
        tx.commit().map_err(query_err("load register"))?;
        Ok(Loaded {
            entries,
            categories,
            seq,
        })
    }

    fn changes_since(&self, seq: i64, limit: usize) -> Result<Vec<Change>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, entry_id, action, actor, at, before, after FROM register_changes WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )
            .map_err(query_err("read change log"))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut rows = stmt
            .query(params![seq, limit])
            .map_err(query_err("read change log"))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(query_err("read change log"))? {
            out.push(change_from_row(row)?);
        }
        Ok(out)
    }

    fn last_seq(&self) -> Result<i64, StoreError> {
        self.lock()
            .query_row(
                "SELECT COALESCE(MAX(seq), 0) FROM register_changes",
                [],
                |r| r.get(0),
            )
            .map_err(query_err("read change log position"))
    }

    fn categories(&self) -> Result<Vec<RegisterCategory>, StoreError> {
        read_categories(&self.lock())
    }

    fn create(
        &self,
        entries: &[EntryFields],
        action: Action,
        stamp: Stamp<'_>,
    ) -> Result<Vec<Change>, StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(query_err("begin create"))?;
        let mut changes = Vec::with_capacity(entries.len());
        for (i, f) in entries.iter().enumerate() {
            tx.execute(
                "INSERT INTO register_entries (geom, name, category, address, postcode, organisation, contact, description, opening_hours, capacity, valid_from, valid_to, version, created_by, created_at, updated_by, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 1, ?13, ?14, ?13, ?14)",
                params![
                    encode_point(f.lon, f.lat), f.name, f.category, f.address, f.postcode,
                    f.organisation, f.contact, f.description, f.opening_hours, f.capacity,
                    f.valid_from, f.valid_to, stamp.actor, stamp.at
                ],
            )
            .map_err(query_err(format!("create entry {}", i + 1)))?;
            let id = tx.last_insert_rowid();
            let after = Entry {
                id,
                fields: f.clone(),
                version: 1,
                created_by: stamp.actor.to_owned(),
                created_at: stamp.at.to_owned(),
                updated_by: stamp.actor.to_owned(),
                updated_at: stamp.at.to_owned(),
            };
            changes.push(log_change(&tx, id, action, stamp, None, Some(after))?);
        }
        tx.commit().map_err(query_err("commit create"))?;
        Ok(changes)
    }

    fn replace(
        &self,
        id: i64,
        expected: Option<i64>,
        fields: &EntryFields,
        action: Action,
        stamp: Stamp<'_>,
    ) -> Result<Change, StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(query_err(format!("begin update of entry {id}")))?;
        let before = current(&tx, id, expected)?;
        let f = fields;
        let version = before.version + 1;
        tx.execute(
            "UPDATE register_entries SET geom = ?2, name = ?3, category = ?4, address = ?5, postcode = ?6, organisation = ?7,
               contact = ?8, description = ?9, opening_hours = ?10, capacity = ?11, valid_from = ?12, valid_to = ?13,
               version = ?14, updated_by = ?15, updated_at = ?16 WHERE fid = ?1",
            params![
                id, encode_point(f.lon, f.lat), f.name, f.category, f.address, f.postcode,
                f.organisation, f.contact, f.description, f.opening_hours, f.capacity,
                f.valid_from, f.valid_to, version, stamp.actor, stamp.at
            ],
        )
        .map_err(query_err(format!("update entry {id}")))?;
        let after = Entry {
            id,
            fields: f.clone(),
            version,
            created_by: before.created_by.clone(),
            created_at: before.created_at.clone(),
            updated_by: stamp.actor.to_owned(),
            updated_at: stamp.at.to_owned(),
        };
        let change = log_change(&tx, id, action, stamp, Some(before), Some(after))?;
        tx.commit()
            .map_err(query_err(format!("commit update of entry {id}")))?;
        Ok(change)
    }

    fn delete(
        &self,
        id: i64,
        expected: Option<i64>,
        stamp: Stamp<'_>,
    ) -> Result<Change, StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(query_err(format!("begin delete of entry {id}")))?;
        let before = current(&tx, id, expected)?;
        tx.execute("DELETE FROM register_entries WHERE fid = ?1", params![id])
            .map_err(query_err(format!("delete entry {id}")))?;
        let change = log_change(&tx, id, Action::Delete, stamp, Some(before), None)?;
        tx.commit()
            .map_err(query_err(format!("commit delete of entry {id}")))?;
        Ok(change)
    }

    fn get(&self, id: i64) -> Result<Option<Entry>, StoreError> {
        get_entry(&self.lock(), id)
    }

    fn history(&self, id: i64) -> Result<Vec<Change>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, entry_id, action, actor, at, before, after FROM register_changes WHERE entry_id = ?1 ORDER BY seq",
            )
            .map_err(query_err(format!("read history of entry {id}")))?;
        let mut rows = stmt
            .query(params![id])
            .map_err(query_err(format!("read history of entry {id}")))?;
        let mut out = Vec::new();
        while let Some(row) = rows
            .next()
            .map_err(query_err(format!("read history of entry {id}")))?
        {
            out.push(change_from_row(row)?);
        }
        Ok(out)
    }

    fn add_category(&self, category: &RegisterCategory) -> Result<(), StoreError> {
        let conn = self.lock();
        let n = conn
            .execute(
                "INSERT OR IGNORE INTO register_categories (id, label) VALUES (?1, ?2)",
                params![category.id, category.label],
            )
            .map_err(query_err(format!("add category {}", category.id)))?;
        if n == 0 {
            return Err(StoreError::Duplicate {
                what: "category",
                name: category.id.clone(),
            });
        }
        Ok(())
    }

    fn add_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        let conn = self.lock();
        let taken: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM register_tokens WHERE name = ?1)",
                params![token.name],
                |r| r.get(0),
            )
            .map_err(query_err(format!("add token {}", token.name)))?;
        if taken {
            return Err(StoreError::Duplicate {
                what: "token",
                name: token.name.clone(),
            });
        }
        conn.execute(
            "INSERT INTO register_tokens (token_id, name, role, hash, created_at, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![token.id, token.name, token.role.as_str(), token.hash, token.created_at, token.revoked_at],
        )
        .map_err(query_err(format!("add token {}", token.name)))?;
        Ok(())
    }

    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare(
                "SELECT token_id, name, role, hash, created_at, revoked_at FROM register_tokens ORDER BY name",
            )
            .map_err(query_err("list tokens"))?;
        let mut rows = stmt.query([]).map_err(query_err("list tokens"))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(query_err("list tokens"))? {
            out.push(token_from_row(row)?);
        }
        Ok(out)
    }

    fn token(&self, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached(
                "SELECT token_id, name, role, hash, created_at, revoked_at FROM register_tokens WHERE token_id = ?1",
            )
            .map_err(query_err("read token"))?;
        let mut rows = stmt.query(params![id]).map_err(query_err("read token"))?;
        rows.next()
            .map_err(query_err("read token"))?
            .map(token_from_row)
            .transpose()
    }

    fn revoke_token(&self, name: &str, at: &str) -> Result<bool, StoreError> {
        let n = self
            .lock()
            .execute(
                "UPDATE register_tokens SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL",
                params![name, at],
            )
            .map_err(query_err(format!("revoke token {name}")))?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_open_keeps_the_file_a_geopackage_and_the_data() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state/register.gpkg");
        let fields = EntryFields {
            name: "Larder".into(),
            category: "community_larder".into(),
            lon: -1.2,
            lat: 51.75,
            address: None,
            postcode: None,
            organisation: None,
            contact: None,
            description: None,
            opening_hours: None,
            capacity: Some(30),
            valid_from: None,
            valid_to: None,
        };
        {
            let s = GpkgStore::open(&path).expect("open");
            let stamp = Stamp {
                actor: "t",
                at: "2026-01-01T00:00:00Z",
            };
            let c = s
                .create(std::slice::from_ref(&fields), Action::Create, stamp)
                .expect("create");
            assert_eq!(c[0].entry_id, 1);
        }
        let s = GpkgStore::open(&path).expect("reopen");
        let l = s.load().expect("load");
        assert_eq!(l.entries.len(), 1);
        assert_eq!(l.entries[0].fields, fields);
        assert_eq!(l.seq, 1);
        let conn = s.lock();
        let app: i64 = conn
            .pragma_query_value(None, "application_id", |r| r.get(0))
            .expect("pragma");
        assert_eq!(app, 0x4750_4B47);
    }
}
