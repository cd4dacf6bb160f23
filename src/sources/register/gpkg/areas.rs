//! Saved areas in the GeoPackage: `saved_areas`, a MultiPolygon feature
//! table in WGS 84 (QGIS opens it as a layer), and `saved_area_changes`,
//! their change log. [`migrate`] adds both to a register file made before
//! saved areas existed, in one transaction, at every open.

use rusqlite::{params, Connection, Row, TransactionBehavior};

use super::{query_err, GpkgStore};
use crate::model::area::{AreaChange, AreaFields, SavedArea};
use crate::sources::register::saved_areas::{
    check_version, decode_gpkg, encode_gpkg, written, AreaStore, LoadedAreas,
};
use crate::sources::register::{Stamp, StoreError};

/// The tables and their GeoPackage registration; idempotent.
const MIGRATION: &str = "
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS saved_areas (
  fid INTEGER PRIMARY KEY AUTOINCREMENT, geom MULTIPOLYGON NOT NULL,
  name TEXT NOT NULL, description TEXT, version INTEGER NOT NULL,
  created_by TEXT NOT NULL, created_at DATETIME NOT NULL,
  updated_by TEXT NOT NULL, updated_at DATETIME NOT NULL);
CREATE TABLE IF NOT EXISTS saved_area_changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, area_id INTEGER NOT NULL, action TEXT NOT NULL,
  actor TEXT NOT NULL, at DATETIME NOT NULL);
INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES
  ('saved_areas', 'features', 'saved_areas', 'GapMap saved areas (the areas collection)', 4326),
  ('saved_area_changes', 'attributes', 'saved_area_changes', 'Every change to the saved areas: which, who, when', NULL);
INSERT OR IGNORE INTO gpkg_geometry_columns VALUES ('saved_areas', 'geom', 'MULTIPOLYGON', 4326, 0, 0);
COMMIT;";

const COLUMNS: &str =
    "fid, geom, name, description, version, created_by, created_at, updated_by, updated_at";

/// Creates the saved-area tables when absent (a register made by an
/// earlier GapMap gains them); changes nothing otherwise.
///
/// # Errors
/// The driver's error.
pub(super) fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(MIGRATION)
}

fn corrupt(row: i64, column: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |e| StoreError::Corrupt {
        table: "saved_areas",
        row,
        column,
        message: e.to_string(),
    }
}

fn area_from_row(row: &Row<'_>) -> Result<SavedArea, StoreError> {
    let id: i64 = row.get(0).map_err(corrupt(0, "fid"))?;
    let blob: Vec<u8> = row.get(1).map_err(corrupt(id, "geom"))?;
    let geometry = decode_gpkg(&blob).map_err(|message| StoreError::Corrupt {
        table: "saved_areas",
        row: id,
        column: "geom",
        message,
    })?;
    let text = |i: usize, column: &'static str| -> Result<String, StoreError> {
        row.get::<_, String>(i).map_err(corrupt(id, column))
    };
    Ok(SavedArea {
        id,
        fields: AreaFields {
            name: text(2, "name")?,
            description: row.get(3).map_err(corrupt(id, "description"))?,
            geometry,
        },
        version: row.get(4).map_err(corrupt(id, "version"))?,
        created_by: text(5, "created_by")?,
        created_at: text(6, "created_at")?,
        updated_by: text(7, "updated_by")?,
        updated_at: text(8, "updated_at")?,
    })
}

fn get(conn: &Connection, id: i64) -> Result<Option<SavedArea>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM saved_areas WHERE fid = ?1");
    let mut stmt = conn
        .prepare_cached(&sql)
        .map_err(query_err(format!("read area {id}")))?;
    let mut rows = stmt
        .query(params![id])
        .map_err(query_err(format!("read area {id}")))?;
    match rows.next().map_err(query_err(format!("read area {id}")))? {
        Some(row) => area_from_row(row).map(Some),
        None => Ok(None),
    }
}

fn log(
    tx: &rusqlite::Transaction<'_>,
    area_id: i64,
    action: &str,
    stamp: Stamp<'_>,
) -> Result<AreaChange, StoreError> {
    // GeoPackage readers (QGIS) watch last_change to know the table changed.
    tx.execute(
        "UPDATE gpkg_contents SET last_change = ?1 WHERE table_name IN ('saved_areas', 'saved_area_changes')",
        params![stamp.at],
    )
    .map_err(query_err("touch gpkg_contents"))?;
    tx.execute(
        "INSERT INTO saved_area_changes (area_id, action, actor, at) VALUES (?1, ?2, ?3, ?4)",
        params![area_id, action, stamp.actor, stamp.at],
    )
    .map_err(query_err(format!("log change to area {area_id}")))?;
    Ok(AreaChange {
        seq: tx.last_insert_rowid(),
        area_id,
        action: action.to_owned(),
    })
}

fn current(
    tx: &rusqlite::Transaction<'_>,
    id: i64,
    expected: Option<i64>,
) -> Result<SavedArea, StoreError> {
    let before = get(tx, id)?.ok_or(StoreError::NotFound { id })?;
    check_version(id, expected, before.version)?;
    Ok(before)
}

impl AreaStore for GpkgStore {
    fn load_areas(&self) -> Result<LoadedAreas, StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(query_err("load areas"))?;
        let seq: i64 = tx
            .query_row(
                "SELECT COALESCE(MAX(seq), 0) FROM saved_area_changes",
                [],
                |r| r.get(0),
            )
            .map_err(query_err("read area change log position"))?;
        let mut areas = Vec::new();
        {
            let sql = format!("SELECT {COLUMNS} FROM saved_areas ORDER BY fid");
            let mut stmt = tx.prepare(&sql).map_err(query_err("read areas"))?;
            let mut rows = stmt.query([]).map_err(query_err("read areas"))?;
            while let Some(row) = rows.next().map_err(query_err("read areas"))? {
                areas.push(area_from_row(row)?);
            }
        }
        tx.commit().map_err(query_err("load areas"))?;
        Ok(LoadedAreas { areas, seq })
    }

    fn area_changes_since(&self, seq: i64, limit: usize) -> Result<Vec<AreaChange>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, area_id, action FROM saved_area_changes WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )
            .map_err(query_err("read area change log"))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![seq, limit], |r| {
                Ok(AreaChange {
                    seq: r.get(0)?,
                    area_id: r.get(1)?,
                    action: r.get(2)?,
                })
            })
            .map_err(query_err("read area change log"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(query_err("read area change log"))
    }

    fn last_area_seq(&self) -> Result<i64, StoreError> {
        self.lock()
            .query_row(
                "SELECT COALESCE(MAX(seq), 0) FROM saved_area_changes",
                [],
                |r| r.get(0),
            )
            .map_err(query_err("read area change log position"))
    }

    fn get_area(&self, id: i64) -> Result<Option<SavedArea>, StoreError> {
        get(&self.lock(), id)
    }

    fn create_area(
        &self,
        fields: &AreaFields,
        stamp: Stamp<'_>,
    ) -> Result<(SavedArea, AreaChange), StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(query_err("begin create area"))?;
        tx.execute(
            "INSERT INTO saved_areas (geom, name, description, version, created_by, created_at, updated_by, updated_at)
             VALUES (?1, ?2, ?3, 1, ?4, ?5, ?4, ?5)",
            params![encode_gpkg(&fields.geometry), fields.name, fields.description, stamp.actor, stamp.at],
        )
        .map_err(query_err("create area"))?;
        let id = tx.last_insert_rowid();
        let change = log(&tx, id, "create", stamp)?;
        tx.commit().map_err(query_err("commit create area"))?;
        Ok((written(id, fields, None, stamp), change))
    }

    fn replace_area(
        &self,
        id: i64,
        expected: Option<i64>,
        fields: &AreaFields,
        action: &str,
        stamp: Stamp<'_>,
    ) -> Result<(SavedArea, AreaChange), StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(query_err(format!("begin update of area {id}")))?;
        let before = current(&tx, id, expected)?;
        let after = written(id, fields, Some(&before), stamp);
        tx.execute(
            "UPDATE saved_areas SET geom = ?2, name = ?3, description = ?4, version = ?5,
               updated_by = ?6, updated_at = ?7 WHERE fid = ?1",
            params![
                id,
                encode_gpkg(&fields.geometry),
                fields.name,
                fields.description,
                after.version,
                stamp.actor,
                stamp.at
            ],
        )
        .map_err(query_err(format!("update area {id}")))?;
        let change = log(&tx, id, action, stamp)?;
        tx.commit()
            .map_err(query_err(format!("commit update of area {id}")))?;
        Ok((after, change))
    }

    fn delete_area(
        &self,
        id: i64,
        expected: Option<i64>,
        stamp: Stamp<'_>,
    ) -> Result<AreaChange, StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(query_err(format!("begin delete of area {id}")))?;
        current(&tx, id, expected)?;
        tx.execute("DELETE FROM saved_areas WHERE fid = ?1", params![id])
            .map_err(query_err(format!("delete area {id}")))?;
        let change = log(&tx, id, "delete", stamp)?;
        tx.commit()
            .map_err(query_err(format!("commit delete of area {id}")))?;
        Ok(change)
    }
}
