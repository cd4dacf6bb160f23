//! Saved areas in PostGIS: `saved_areas` (`geometry(MultiPolygon, 4326)`,
//! longitude/latitude order; QGIS opens it as a layer) and
//! `saved_area_changes`, their change log, numbered in commit order under
//! an advisory lock as the register's is ([`super::lock_log`]), so a
//! replica polling it never skips a change. The tables are created with the
//! register's at every open ([`SCHEMA`]), so an older register gains them.

use postgres::{Client, Row, Transaction};

use super::{pg_message, query_err, PostgisStore, LOCK_CLASS};
use crate::model::area::{AreaChange, AreaFields, SavedArea};
use crate::sources::register::saved_areas::{
    check_version, decode_wkb, encode_wkb, written, AreaStore, LoadedAreas,
};
use crate::sources::register::{Stamp, StoreError};

/// The saved-area tables; `IF NOT EXISTS` throughout.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS saved_areas (
  fid bigserial PRIMARY KEY, geom geometry(MultiPolygon, 4326) NOT NULL,
  name text NOT NULL, description text, version bigint NOT NULL,
  created_by text NOT NULL, created_at text NOT NULL,
  updated_by text NOT NULL, updated_at text NOT NULL);
CREATE INDEX IF NOT EXISTS saved_areas_geom ON saved_areas USING gist (geom);
CREATE TABLE IF NOT EXISTS saved_area_changes (
  seq bigserial PRIMARY KEY, area_id bigint NOT NULL, action text NOT NULL,
  actor text NOT NULL, at text NOT NULL);
";

const COLUMNS: &str = "fid, ST_AsBinary(geom), name, description, version, created_by, \
     created_at, updated_by, updated_at";

fn corrupt(row: i64, column: &'static str) -> impl FnOnce(postgres::Error) -> StoreError {
    move |e| StoreError::Corrupt {
        table: "saved_areas",
        row,
        column,
        message: pg_message(&e),
    }
}

fn area_from_row(row: &Row) -> Result<SavedArea, StoreError> {
    let id: i64 = row.try_get(0).map_err(corrupt(0, "fid"))?;
    let wkb: Vec<u8> = row.try_get(1).map_err(corrupt(id, "geom"))?;
    let geometry = decode_wkb(&wkb).map_err(|message| StoreError::Corrupt {
        table: "saved_areas",
        row: id,
        column: "geom",
        message,
    })?;
    let text = |i: usize, column: &'static str| -> Result<String, StoreError> {
        row.try_get::<_, String>(i).map_err(corrupt(id, column))
    };
    Ok(SavedArea {
        id,
        fields: AreaFields {
            name: text(2, "name")?,
            description: row.try_get(3).map_err(corrupt(id, "description"))?,
            geometry,
        },
        version: row.try_get(4).map_err(corrupt(id, "version"))?,
        created_by: text(5, "created_by")?,
        created_at: text(6, "created_at")?,
        updated_by: text(7, "updated_by")?,
        updated_at: text(8, "updated_at")?,
    })
}

fn get(client: &mut Client, id: i64) -> Result<Option<SavedArea>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM saved_areas WHERE fid = $1");
    client
        .query_opt(&sql, &[&id])
        .map_err(query_err(format!("read area {id}")))?
        .as_ref()
        .map(area_from_row)
        .transpose()
}

/// Locks area `id` for a write and checks its version.
fn current(
    tx: &mut Transaction<'_>,
    id: i64,
    expected: Option<i64>,
) -> Result<SavedArea, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM saved_areas WHERE fid = $1 FOR UPDATE");
    let row = tx
        .query_opt(&sql, &[&id])
        .map_err(query_err(format!("lock area {id}")))?
        .ok_or(StoreError::NotFound { id })?;
    let before = area_from_row(&row)?;
    check_version(id, expected, before.version)?;
    Ok(before)
}

/// Takes the area change-log lock (see [`super::lock_log`] for why), then
/// appends the change.
fn log(
    tx: &mut Transaction<'_>,
    area_id: i64,
    action: &str,
    stamp: Stamp<'_>,
) -> Result<AreaChange, StoreError> {
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, 'saved_area_changes'::regclass::oid::int)",
        &[&LOCK_CLASS],
    )
    .map_err(query_err("lock the area change log"))?;
    let seq: i64 = tx
        .query_one(
            "INSERT INTO saved_area_changes (area_id, action, actor, at) VALUES ($1, $2, $3, $4) RETURNING seq",
            &[&area_id, &action, &stamp.actor, &stamp.at],
        )
        .and_then(|r| r.try_get(0))
        .map_err(query_err(format!("log change to area {area_id}")))?;
    Ok(AreaChange {
        seq,
        area_id,
        action: action.to_owned(),
    })
}

impl AreaStore for PostgisStore {
    fn load_areas(&self) -> Result<LoadedAreas, StoreError> {
        self.run(|client, _| {
            let mut tx = client
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .map_err(query_err("load areas"))?;
            let seq: i64 = tx
                .query_one("SELECT COALESCE(MAX(seq), 0) FROM saved_area_changes", &[])
                .and_then(|r| r.try_get(0))
                .map_err(query_err("read area change log position"))?;
            let sql = format!("SELECT {COLUMNS} FROM saved_areas ORDER BY fid");
            let areas = tx
                .query(&sql, &[])
                .map_err(query_err("read areas"))?
                .iter()
                .map(area_from_row)
                .collect::<Result<Vec<_>, _>>()?;
            tx.commit().map_err(query_err("load areas"))?;
            Ok(LoadedAreas { areas, seq })
        })
    }

    fn area_changes_since(&self, seq: i64, limit: usize) -> Result<Vec<AreaChange>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(|client, _| {
            client
                .query(
                    "SELECT seq, area_id, action FROM saved_area_changes WHERE seq > $1 ORDER BY seq LIMIT $2",
                    &[&seq, &limit],
                )
                .map_err(query_err("read area change log"))?
                .iter()
                .map(|r| {
                    Ok(AreaChange {
                        seq: r.try_get(0)?,
                        area_id: r.try_get(1)?,
                        action: r.try_get(2)?,
                    })
                })
                .collect::<Result<Vec<_>, postgres::Error>>()
                .map_err(query_err("read area change log"))
        })
    }

    fn last_area_seq(&self) -> Result<i64, StoreError> {
        self.run(|client, _| {
            client
                .query_one("SELECT COALESCE(MAX(seq), 0) FROM saved_area_changes", &[])
                .and_then(|r| r.try_get(0))
                .map_err(query_err("read area change log position"))
        })
    }

    fn get_area(&self, id: i64) -> Result<Option<SavedArea>, StoreError> {
        self.run(|client, _| get(client, id))
    }

    fn create_area(
        &self,
        fields: &AreaFields,
        stamp: Stamp<'_>,
    ) -> Result<(SavedArea, AreaChange), StoreError> {
        let wkb = encode_wkb(&fields.geometry);
        self.write("create area", |tx| {
            let id: i64 = tx
                .query_one(
                    "INSERT INTO saved_areas (geom, name, description, version, created_by, created_at, updated_by, updated_at)
                     VALUES (ST_GeomFromWKB($1, 4326), $2, $3, 1, $4, $5, $4, $5) RETURNING fid",
                    &[&wkb, &fields.name, &fields.description, &stamp.actor, &stamp.at],
                )
                .and_then(|r| r.try_get(0))
                .map_err(query_err("create area"))?;
            let change = log(tx, id, "create", stamp)?;
            Ok((written(id, fields, None, stamp), change))
        })
    }

    fn replace_area(
        &self,
        id: i64,
        expected: Option<i64>,
        fields: &AreaFields,
        action: &str,
        stamp: Stamp<'_>,
    ) -> Result<(SavedArea, AreaChange), StoreError> {
        let wkb = encode_wkb(&fields.geometry);
        self.write(&format!("update of area {id}"), |tx| {
            let before = current(tx, id, expected)?;
            let after = written(id, fields, Some(&before), stamp);
            tx.execute(
                "UPDATE saved_areas SET geom = ST_GeomFromWKB($2, 4326), name = $3, description = $4,
                   version = $5, updated_by = $6, updated_at = $7 WHERE fid = $1",
                &[&id, &wkb, &fields.name, &fields.description, &after.version, &stamp.actor, &stamp.at],
            )
            .map_err(query_err(format!("update area {id}")))?;
            let change = log(tx, id, action, stamp)?;
            Ok((after, change))
        })
    }

    fn delete_area(
        &self,
        id: i64,
        expected: Option<i64>,
        stamp: Stamp<'_>,
    ) -> Result<AreaChange, StoreError> {
        self.write(&format!("delete of area {id}"), |tx| {
            current(tx, id, expected)?;
            tx.execute("DELETE FROM saved_areas WHERE fid = $1", &[&id])
                .map_err(query_err(format!("delete area {id}")))?;
            log(tx, id, "delete", stamp)
        })
    }
}
