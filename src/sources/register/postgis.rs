//! The shared register store: PostgreSQL with PostGIS, for deployments
//! where several GapMap replicas (or QGIS desks) write the same register.
//! The semantics are exactly those of the GeoPackage store
//! ([`super::gpkg::GpkgStore`]): the same tables and columns, one
//! transaction per write, the version check, the change log.
//!
//! `register_entries` is a PostGIS point table in WGS 84
//! (`geometry(Point,4326)`, longitude/latitude order), so QGIS opens it as
//! it is. Text columns hold what the store was given: dates and timestamps
//! stay the validated ISO strings (they sort as text), so a value reads
//! back exactly as written whatever the server's `DateStyle` or time zone.
//! The before/after images in `register_changes` are `jsonb`.
//!
//! Concurrency: every write is one transaction on one connection; a write
//! that names a version locks the row (`SELECT ... FOR UPDATE`) before it
//! compares, so of several writers expecting the same version exactly one
//! wins and the others get [`StoreError::VersionMismatch`]. The change log
//! is numbered in commit order (see [`lock_log`]), so a replica polling
//! [`RegisterStore::changes_since`] never skips a change.
//!
//! The client is the synchronous `postgres` crate, which runs its own
//! small Tokio runtime: call the store from a plain thread or
//! `tokio::task::spawn_blocking`, never from inside an async task.

mod areas;

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use postgres::config::Host;
use postgres::{Client, Config, IsolationLevel, NoTls, Row, Transaction};

use super::{Loaded, RegisterStore, Stamp, StoreError};
use crate::model::register::{
    Action, Change, Entry, EntryFields, RegisterCategory, Role, TokenRecord,
};

/// GapMap's tables. `IF NOT EXISTS` throughout: opening an existing
/// register changes nothing. Unqualified names, so the register lives in
/// the first schema of the connection's `search_path` (set it with the
/// URL's `options=-csearch_path%3D...` to keep several registers in one
/// database).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS register_entries (
  fid bigserial PRIMARY KEY, geom geometry(Point, 4326) NOT NULL,
  name text NOT NULL, category text NOT NULL, address text, postcode text,
  organisation text, contact text, description text, opening_hours text,
  capacity bigint, valid_from text, valid_to text, version bigint NOT NULL,
  created_by text NOT NULL, created_at text NOT NULL,
  updated_by text NOT NULL, updated_at text NOT NULL);
CREATE INDEX IF NOT EXISTS register_entries_geom ON register_entries USING gist (geom);
CREATE TABLE IF NOT EXISTS register_changes (
  seq bigserial PRIMARY KEY, entry_id bigint NOT NULL, action text NOT NULL,
  actor text NOT NULL, at text NOT NULL, before jsonb, after jsonb);
CREATE INDEX IF NOT EXISTS register_changes_entry ON register_changes (entry_id, seq);
CREATE TABLE IF NOT EXISTS register_tokens (
  fid bigserial PRIMARY KEY, token_id text NOT NULL UNIQUE, name text NOT NULL UNIQUE,
  role text NOT NULL, hash text NOT NULL, created_at text NOT NULL, revoked_at text);
CREATE TABLE IF NOT EXISTS register_categories (
  fid bigserial PRIMARY KEY, id text NOT NULL UNIQUE, label text NOT NULL);
";

/// First key of GapMap's advisory locks ("GAPM"); the second is the oid of
/// the table the lock stands for, so registers in different schemas of one
/// database do not wait for each other.
const LOCK_CLASS: i32 = 0x4741_504D;

const ENTRY_COLUMNS: &str = "fid, ST_X(geom), ST_Y(geom), name, category, address, postcode, \
     organisation, contact, description, opening_hours, capacity, valid_from, valid_to, \
     version, created_by, created_at, updated_by, updated_at";

const CHANGE_COLUMNS: &str = "seq, entry_id, action, actor, at, before::text, after::text";

const TOKEN_COLUMNS: &str = "token_id, name, role, hash, created_at, revoked_at";

/// The register in a PostgreSQL database with PostGIS.
pub struct PostgisStore {
    config: Config,
    location: String,
    /// `None` only between a lost connection and the next call (which
    /// reconnects), or while being dropped.
    conn: Mutex<Option<Client>>,
}

impl std::fmt::Debug for PostgisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgisStore")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl Drop for PostgisStore {
    fn drop(&mut self) {
        // Dropping a `postgres::Client` blocks on its own Tokio runtime (to
        // say goodbye to the server), which panics on an async worker
        // thread. The last owner of a store may well be an async task (a
        // server shutting down), so inside any runtime the client is
        // closed on a thread of its own.
        if tokio::runtime::Handle::try_current().is_ok() {
            let client = self
                .conn
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            if let Some(client) = client {
                // Should the thread not start, the closure (and the client)
                // is dropped here after all; nothing better is possible.
                let _ = std::thread::Builder::new()
                    .name("gapmap-pg-close".into())
                    .spawn(move || drop(client));
            }
        }
    }
}

/// The driver's message: for a server error its text, detail and SQLSTATE;
/// otherwise the error and its cause (e.g. "connection refused").
fn pg_message(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{db} (SQLSTATE {})", db.code().code());
    }
    match std::error::Error::source(e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}

fn query_err(operation: impl Into<String>) -> impl FnOnce(postgres::Error) -> StoreError {
    let operation = operation.into();
    move |e| StoreError::Query {
        operation,
        message: pg_message(&e),
    }
}

/// `url` as it may be shown: user, hosts, ports, database and options, and
/// never a password (neither `user:password@` nor `?password=`), because it
/// is rebuilt from the parsed parts rather than edited.
fn redact(url: &str) -> String {
    let Ok(config) = url.parse::<Config>() else {
        // Unparseable: keep the scheme and what follows the credentials,
        // up to any parameters (where a password may be).
        let (scheme, rest) = url.split_once("://").unwrap_or(("postgresql", ""));
        let rest = rest.split_once('@').map_or(rest, |(_, r)| r);
        let rest = rest.split_once('?').map_or(rest, |(r, _)| r);
        return format!("{scheme}://{rest} (unparseable)");
    };
    let mut out = String::from("postgresql://");
    if let Some(user) = config.get_user() {
        out.push_str(user);
        out.push('@');
    }
    let ports = config.get_ports();
    for (i, host) in config.get_hosts().iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match host {
            Host::Tcp(name) => out.push_str(name),
            Host::Unix(path) => out.push_str(&path.display().to_string()),
        }
        // One port for all hosts, or one per host.
        if let Some(port) = ports.get(i).or_else(|| ports.first()) {
            out.push(':');
            out.push_str(&port.to_string());
        }
    }
    if let Some(db) = config.get_dbname() {
        out.push('/');
        out.push_str(db);
    }
    if let Some(options) = config.get_options() {
        out.push_str("?options=");
        out.push_str(options);
    }
    out
}

impl PostgisStore {
    /// Connects to `url` (`postgresql://user[:password]@host[:port]/db`,
    /// with any libpq-style parameters `tokio-postgres` knows; no TLS) and
    /// creates the PostGIS extension and the register tables when absent.
    /// Without a `connect_timeout` in the URL, connecting gives up after
    /// 10 s.
    ///
    /// # Errors
    /// [`StoreError::Open`] naming the password-free location: the URL
    /// does not parse, the server cannot be reached or refuses the login,
    /// the database is not UTF-8, PostGIS is not installed or may not be
    /// created by this user.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let location = redact(url);
        let open_err = |message: String| StoreError::Open {
            location: location.clone(),
            message,
        };
        let mut config: Config = url.parse().map_err(|e| open_err(pg_message(&e)))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let mut client = config
            .connect(NoTls)
            .map_err(|e| open_err(pg_message(&e)))?;
        Self::create_schema(&mut client).map_err(|e| open_err(pg_message(&e)))?;
        let encoding: String = client
            .query_one("SELECT current_setting('server_encoding')", &[])
            .and_then(|r| r.try_get(0))
            .map_err(|e| open_err(pg_message(&e)))?;
        // Entries hold any Unicode text; a database in another encoding
        // would refuse some of it at the first write, so refuse it now.
        if encoding != "UTF8" {
            return Err(open_err(format!(
                "the database encoding is {encoding}, not UTF8"
            )));
        }
        Ok(Self {
            config,
            location,
            conn: Mutex::new(Some(client)),
        })
    }

    /// Creates PostGIS (when absent) and the tables, in one transaction
    /// under an advisory lock, so replicas starting together on an empty
    /// database do not race each other's `CREATE`s.
    fn create_schema(client: &mut Client) -> Result<(), postgres::Error> {
        let mut tx = client.transaction()?;
        // "relation already exists, skipping" at every open is noise.
        tx.batch_execute("SET LOCAL client_min_messages = warning")?;
        tx.execute("SELECT pg_advisory_xact_lock($1, 0)", &[&LOCK_CLASS])?;
        // Only when missing: a database where an administrator created
        // PostGIS may be used by a user who could not create it.
        let has_postgis: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis')",
                &[],
            )?
            .try_get(0)?;
        if !has_postgis {
            tx.batch_execute("CREATE EXTENSION IF NOT EXISTS postgis")?;
        }
        tx.batch_execute(SCHEMA)?;
        // Every open: a register made before saved areas existed gains them.
        tx.batch_execute(areas::SCHEMA)?;
        tx.commit()
    }

    fn connect(&self) -> Result<Client, StoreError> {
        self.config.connect(NoTls).map_err(|e| StoreError::Query {
            operation: format!("reconnect to {}", self.location),
            message: pg_message(&e),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Option<Client>> {
        // A panic while holding the lock cannot leave a transaction open
        // (a dropped `Transaction` rolls back), so a poisoned lock is usable.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The open connection in `slot`, connecting anew when there is none or
    /// the server closed it (a restart, an administrator's
    /// `pg_terminate_backend`).
    fn ensure<'a>(&self, slot: &'a mut Option<Client>) -> Result<&'a mut Client, StoreError> {
        if slot.as_ref().is_some_and(Client::is_closed) {
            *slot = None;
        }
        let client = match slot.take() {
            Some(client) => client,
            None => self.connect()?,
        };
        Ok(slot.insert(client))
    }

    /// Runs `f` on the connection. When `f` fails because the connection
    /// was lost, and `f` had not yet asked for its commit (it sets the flag
    /// just before), nothing was written (the server rolls back what a lost
    /// session left open), so `f` runs once more on a new connection. A
    /// connection lost during the commit is not retried: whether the write
    /// happened is unknown, and a repeated creation would be a second entry.
    fn run<T>(
        &self,
        mut f: impl FnMut(&mut Client, &mut bool) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut slot = self.lock();
        let mut committing = false;
        let first = f(self.ensure(&mut slot)?, &mut committing);
        match first {
            Err(StoreError::Query { .. }) if !committing && lost(&mut slot) => {
                committing = false;
                f(self.ensure(&mut slot)?, &mut committing)
            }
            other => other,
        }
    }

    /// Runs `f` in one read-write transaction and commits it (see
    /// [`PostgisStore::run`] for what happens when the connection is lost).
    fn write<T>(
        &self,
        what: &str,
        mut f: impl FnMut(&mut Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.run(|client, committing| {
            let mut tx = client
                .transaction()
                .map_err(query_err(format!("begin {what}")))?;
            let out = f(&mut tx)?;
            *committing = true;
            tx.commit().map_err(query_err(format!("commit {what}")))?;
            Ok(out)
        })
    }
}

/// Whether the connection in `slot` is gone, after a statement failed.
/// The driver may not know yet: a server ending an idle session sends a
/// FATAL message, which the next statement receives as its own error,
/// before the driver reads the end of the stream. So unless it already
/// knows, an empty query (at most 5 s) asks; this costs a round trip only
/// after a failed statement, never after `NotFound` and the like.
fn lost(slot: &mut Option<Client>) -> bool {
    match slot {
        None => true,
        Some(client) => client.is_closed() || client.is_valid(Duration::from_secs(5)).is_err(),
    }
}

fn entry_err(row: i64, column: &'static str) -> impl FnOnce(postgres::Error) -> StoreError {
    move |e| StoreError::Corrupt {
        table: "register_entries",
        row,
        column,
        message: pg_message(&e),
    }
}

fn entry_from_row(row: &Row) -> Result<Entry, StoreError> {
    let id: i64 = row.try_get(0).map_err(entry_err(0, "fid"))?;
    let num = |i: usize, column: &'static str| -> Result<f64, StoreError> {
        row.try_get::<_, f64>(i).map_err(entry_err(id, column))
    };
    let text = |i: usize, column: &'static str| -> Result<Option<String>, StoreError> {
        row.try_get::<_, Option<String>>(i)
            .map_err(entry_err(id, column))
    };
    let req = |i: usize, column: &'static str| -> Result<String, StoreError> {
        row.try_get::<_, String>(i).map_err(entry_err(id, column))
    };
    let capacity: Option<i64> = row.try_get(11).map_err(entry_err(id, "capacity"))?;
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
            name: req(3, "name")?,
            category: req(4, "category")?,
            lon: num(1, "geom")?,
            lat: num(2, "geom")?,
            address: text(5, "address")?,
            postcode: text(6, "postcode")?,
            organisation: text(7, "organisation")?,
            contact: text(8, "contact")?,
            description: text(9, "description")?,
            opening_hours: text(10, "opening_hours")?,
            capacity,
            valid_from: text(12, "valid_from")?,
            valid_to: text(13, "valid_to")?,
        },
        version: row.try_get(14).map_err(entry_err(id, "version"))?,
        created_by: req(15, "created_by")?,
        created_at: req(16, "created_at")?,
        updated_by: req(17, "updated_by")?,
        updated_at: req(18, "updated_at")?,
    })
}

fn change_err(row: i64, column: &'static str) -> impl FnOnce(postgres::Error) -> StoreError {
    move |e| StoreError::Corrupt {
        table: "register_changes",
        row,
        column,
        message: pg_message(&e),
    }
}

fn change_from_row(row: &Row) -> Result<Change, StoreError> {
    let seq: i64 = row.try_get(0).map_err(change_err(0, "seq"))?;
    let action: String = row.try_get(2).map_err(change_err(seq, "action"))?;
    let json = |i: usize, column: &'static str| -> Result<Option<Entry>, StoreError> {
        let text: Option<String> = row.try_get(i).map_err(change_err(seq, column))?;
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
        entry_id: row.try_get(1).map_err(change_err(seq, "entry_id"))?,
        action: Action::parse(&action).ok_or_else(|| StoreError::Corrupt {
            table: "register_changes",
            row: seq,
            column: "action",
            message: format!("unknown action '{action}'"),
        })?,
        actor: row.try_get(3).map_err(change_err(seq, "actor"))?,
        at: row.try_get(4).map_err(change_err(seq, "at"))?,
        before: json(5, "before")?,
        after: json(6, "after")?,
    })
}

fn token_from_row(row: &Row) -> Result<TokenRecord, StoreError> {
    let bad = |column: &'static str| {
        move |e: postgres::Error| StoreError::Corrupt {
            table: "register_tokens",
            row: 0,
            column,
            message: pg_message(&e),
        }
    };
    let role: String = row.try_get(2).map_err(bad("role"))?;
    Ok(TokenRecord {
        id: row.try_get(0).map_err(bad("token_id"))?,
        name: row.try_get(1).map_err(bad("name"))?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt {
            table: "register_tokens",
            row: 0,
            column: "role",
            message: format!("unknown role '{role}'"),
        })?,
        hash: row.try_get(3).map_err(bad("hash"))?,
        created_at: row.try_get(4).map_err(bad("created_at"))?,
        revoked_at: row.try_get(5).map_err(bad("revoked_at"))?,
    })
}

fn to_json(e: Option<&Entry>) -> Option<String> {
    // Entry holds only strings, numbers and options: serialisation cannot fail.
    e.and_then(|e| serde_json::to_string(e).ok())
}

/// Takes the change-log lock, held until the transaction ends. Every write
/// takes it before inserting into `register_changes`.
///
/// Why: `seq` comes from a sequence, and sequence values are handed out at
/// insert time, not at commit. Without the lock, transaction A could take
/// seq 5, transaction B seq 6, and B commit first: a replica polling
/// `changes_since(4)` at that moment sees 6, remembers 6, and never asks for
/// 5 once A commits, silently missing a change. Under the lock a writer
/// takes its seq and commits before the next writer can take one, so seqs
/// become visible in increasing order (a rolled-back writer leaves a gap
/// that never fills, which pollers ignore). PostgreSQL releases the lock
/// only after the commit is visible to new snapshots.
///
/// An advisory lock rather than `LOCK TABLE ... IN EXCLUSIVE MODE`: it
/// needs no table privilege beyond `INSERT`, and it does not conflict with
/// autovacuum or `ANALYZE` (which would make a writer wait up to
/// `deadlock_timeout` for them to cancel). Its second key is the oid of the
/// `register_changes` this session sees, so it is one lock per register,
/// whichever schema it lives in. Row locks are always taken before it, so
/// it cannot deadlock with them.
fn lock_log(tx: &mut Transaction<'_>) -> Result<(), StoreError> {
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, 'register_changes'::regclass::oid::int)",
        &[&LOCK_CLASS],
    )
    .map_err(query_err("lock the change log"))?;
    Ok(())
}

const INSERT_CHANGE: &str =
    "INSERT INTO register_changes (entry_id, action, actor, at, before, after) \
     VALUES ($1, $2, $3, $4, $5::text::jsonb, $6::text::jsonb) RETURNING seq";

/// Appends a change to the log inside the caller's transaction, which holds
/// [`lock_log`]. `insert` is [`INSERT_CHANGE`], or that statement prepared
/// (a bulk creation saves a round trip per entry).
fn log_change<S: postgres::ToStatement + ?Sized>(
    tx: &mut Transaction<'_>,
    insert: &S,
    entry_id: i64,
    action: Action,
    stamp: Stamp<'_>,
    before: Option<Entry>,
    after: Option<Entry>,
) -> Result<Change, StoreError> {
    let seq: i64 = tx
        .query_one(
            insert,
            &[
                &entry_id,
                &action.as_str(),
                &stamp.actor,
                &stamp.at,
                &to_json(before.as_ref()),
                &to_json(after.as_ref()),
            ],
        )
        .and_then(|r| r.try_get(0))
        .map_err(query_err(format!("log change to entry {entry_id}")))?;
    Ok(Change {
        seq,
        entry_id,
        action,
        actor: stamp.actor.to_owned(),
        at: stamp.at.to_owned(),
        before,
        after,
    })
}

fn get_entry(client: &mut Client, id: i64) -> Result<Option<Entry>, StoreError> {
    let sql = format!("SELECT {ENTRY_COLUMNS} FROM register_entries WHERE fid = $1");
    client
        .query_opt(&sql, &[&id])
        .map_err(query_err(format!("read entry {id}")))?
        .as_ref()
        .map(entry_from_row)
        .transpose()
}

/// Locks entry `id` for a write and checks it exists and is at `expected`.
/// The row lock makes a concurrent writer wait, then read the version this
/// write leaves (PostgreSQL re-reads a row locked `FOR UPDATE` once its
/// locker commits), so it sees the mismatch.
fn current(tx: &mut Transaction<'_>, id: i64, expected: Option<i64>) -> Result<Entry, StoreError> {
    let sql = format!("SELECT {ENTRY_COLUMNS} FROM register_entries WHERE fid = $1 FOR UPDATE");
    let row = tx
        .query_opt(&sql, &[&id])
        .map_err(query_err(format!("lock entry {id}")))?
        .ok_or(StoreError::NotFound { id })?;
    let before = entry_from_row(&row)?;
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

/// The added categories, in the order added.
const CATEGORIES_SQL: &str = "SELECT id, label FROM register_categories ORDER BY fid";

/// Categories from rows of [`CATEGORIES_SQL`] (read within a load's
/// transaction, or alone when polled).
fn categories_from(rows: &[Row]) -> Result<Vec<RegisterCategory>, postgres::Error> {
    rows.iter()
        .map(|r| {
            Ok(RegisterCategory {
                id: r.try_get(0)?,
                label: r.try_get(1)?,
            })
        })
        .collect()
}

fn read_changes(
    client: &mut Client,
    operation: &str,
    sql: &str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
) -> Result<Vec<Change>, StoreError> {
    client
        .query(sql, params)
        .map_err(query_err(operation))?
        .iter()
        .map(change_from_row)
        .collect()
}

impl RegisterStore for PostgisStore {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn load(&self) -> Result<Loaded, StoreError> {
        self.run(|client, _| {
            // One snapshot: entries and seq from the same instant.
            let mut tx = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .map_err(query_err("load register"))?;
            let seq: i64 = tx
                .query_one("SELECT COALESCE(MAX(seq), 0) FROM register_changes", &[])
                .and_then(|r| r.try_get(0))
                .map_err(query_err("read change log position"))?;
            let sql = format!("SELECT {ENTRY_COLUMNS} FROM register_entries ORDER BY fid");
            let entries = tx
                .query(&sql, &[])
                .map_err(query_err("read entries"))?
                .iter()
                .map(entry_from_row)
                .collect::<Result<Vec<_>, _>>()?;
            let categories = tx
                .query(CATEGORIES_SQL, &[])
                .and_then(|rows| categories_from(&rows))
                .map_err(query_err("read categories"))?;
            tx.commit().map_err(query_err("load register"))?;
            Ok(Loaded {
                entries,
                categories,
                seq,
            })
        })
    }

    fn changes_since(&self, seq: i64, limit: usize) -> Result<Vec<Change>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let sql = format!(
            "SELECT {CHANGE_COLUMNS} FROM register_changes WHERE seq > $1 ORDER BY seq LIMIT $2"
        );
        self.run(|client, _| read_changes(client, "read change log", &sql, &[&seq, &limit]))
    }

    fn last_seq(&self) -> Result<i64, StoreError> {
        self.run(|client, _| {
            client
                .query_one("SELECT COALESCE(MAX(seq), 0) FROM register_changes", &[])
                .and_then(|r| r.try_get(0))
                .map_err(query_err("read change log position"))
        })
    }

    fn categories(&self) -> Result<Vec<RegisterCategory>, StoreError> {
        self.run(|client, _| {
            client
                .query(CATEGORIES_SQL, &[])
                .and_then(|rows| categories_from(&rows))
                .map_err(query_err("read categories"))
        })
    }

    fn create(
        &self,
        entries: &[EntryFields],
        action: Action,
        stamp: Stamp<'_>,
    ) -> Result<Vec<Change>, StoreError> {
        self.write("create", |tx| {
            lock_log(tx)?;
            // Prepared once: a bulk import runs them per entry.
            let log = tx
                .prepare(INSERT_CHANGE)
                .map_err(query_err("prepare create"))?;
            let insert = tx
                .prepare(
                    "INSERT INTO register_entries (geom, name, category, address, postcode, organisation, contact, description, opening_hours, capacity, valid_from, valid_to, version, created_by, created_at, updated_by, updated_at)
                     VALUES (ST_SetSRID(ST_MakePoint($1, $2), 4326), $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1, $14, $15, $14, $15) RETURNING fid",
                )
                .map_err(query_err("prepare create"))?;
            let mut changes = Vec::with_capacity(entries.len());
            for (i, f) in entries.iter().enumerate() {
                let capacity = f.capacity.map(i64::from);
                let id: i64 = tx
                    .query_one(
                        &insert,
                        &[
                            &f.lon, &f.lat, &f.name, &f.category, &f.address, &f.postcode,
                            &f.organisation, &f.contact, &f.description, &f.opening_hours,
                            &capacity, &f.valid_from, &f.valid_to, &stamp.actor, &stamp.at,
                        ],
                    )
                    .and_then(|r| r.try_get(0))
                    .map_err(query_err(format!("create entry {}", i + 1)))?;
                let after = Entry {
                    id,
                    fields: f.clone(),
                    version: 1,
                    created_by: stamp.actor.to_owned(),
                    created_at: stamp.at.to_owned(),
                    updated_by: stamp.actor.to_owned(),
                    updated_at: stamp.at.to_owned(),
                };
                changes.push(log_change(tx, &log, id, action, stamp, None, Some(after))?);
            }
            Ok(changes)
        })
    }

    fn replace(
        &self,
        id: i64,
        expected: Option<i64>,
        fields: &EntryFields,
        action: Action,
        stamp: Stamp<'_>,
    ) -> Result<Change, StoreError> {
        self.write(&format!("update of entry {id}"), |tx| {
            let before = current(tx, id, expected)?;
            let f = fields;
            let version = before.version + 1;
            let capacity = f.capacity.map(i64::from);
            tx.execute(
                "UPDATE register_entries SET geom = ST_SetSRID(ST_MakePoint($2, $3), 4326), name = $4, category = $5,
                   address = $6, postcode = $7, organisation = $8, contact = $9, description = $10,
                   opening_hours = $11, capacity = $12, valid_from = $13, valid_to = $14,
                   version = $15, updated_by = $16, updated_at = $17 WHERE fid = $1",
                &[
                    &id, &f.lon, &f.lat, &f.name, &f.category, &f.address, &f.postcode,
                    &f.organisation, &f.contact, &f.description, &f.opening_hours, &capacity,
                    &f.valid_from, &f.valid_to, &version, &stamp.actor, &stamp.at,
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
            lock_log(tx)?;
            log_change(tx, INSERT_CHANGE, id, action, stamp, Some(before), Some(after))
        })
    }

    fn delete(
        &self,
        id: i64,
        expected: Option<i64>,
        stamp: Stamp<'_>,
    ) -> Result<Change, StoreError> {
        self.write(&format!("delete of entry {id}"), |tx| {
            let before = current(tx, id, expected)?;
            tx.execute("DELETE FROM register_entries WHERE fid = $1", &[&id])
                .map_err(query_err(format!("delete entry {id}")))?;
            lock_log(tx)?;
            log_change(
                tx,
                INSERT_CHANGE,
                id,
                Action::Delete,
                stamp,
                Some(before),
                None,
            )
        })
    }

    fn get(&self, id: i64) -> Result<Option<Entry>, StoreError> {
        self.run(|client, _| get_entry(client, id))
    }

    fn history(&self, id: i64) -> Result<Vec<Change>, StoreError> {
        let sql = format!(
            "SELECT {CHANGE_COLUMNS} FROM register_changes WHERE entry_id = $1 ORDER BY seq"
        );
        let operation = format!("read history of entry {id}");
        self.run(|client, _| read_changes(client, &operation, &sql, &[&id]))
    }

    fn add_category(&self, category: &RegisterCategory) -> Result<(), StoreError> {
        let n = self.run(|client, _| {
            client
                .execute(
                    "INSERT INTO register_categories (id, label) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
                    &[&category.id, &category.label],
                )
                .map_err(query_err(format!("add category {}", category.id)))
        })?;
        if n == 0 {
            return Err(StoreError::Duplicate {
                what: "category",
                name: category.id.clone(),
            });
        }
        Ok(())
    }

    fn add_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        // A taken name is `Duplicate`; a taken token id (16 random hex
        // digits) is a failed query, as in the GeoPackage store.
        let n = self.run(|client, _| {
            client
                .execute(
                    "INSERT INTO register_tokens (token_id, name, role, hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (name) DO NOTHING",
                    &[&token.id, &token.name, &token.role.as_str(), &token.hash, &token.created_at, &token.revoked_at],
                )
                .map_err(query_err(format!("add token {}", token.name)))
        })?;
        if n == 0 {
            return Err(StoreError::Duplicate {
                what: "token",
                name: token.name.clone(),
            });
        }
        Ok(())
    }

    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        // Byte order, as SQLite's: the database's collation may differ.
        let sql =
            format!("SELECT {TOKEN_COLUMNS} FROM register_tokens ORDER BY name COLLATE \"C\"");
        self.run(|client, _| {
            client
                .query(&sql, &[])
                .map_err(query_err("list tokens"))?
                .iter()
                .map(token_from_row)
                .collect()
        })
    }

    fn token(&self, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM register_tokens WHERE token_id = $1");
        self.run(|client, _| {
            client
                .query_opt(&sql, &[&id])
                .map_err(query_err("read token"))?
                .as_ref()
                .map(token_from_row)
                .transpose()
        })
    }

    fn revoke_token(&self, name: &str, at: &str) -> Result<bool, StoreError> {
        let n = self.run(|client, _| {
            client
                .execute(
                    "UPDATE register_tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL",
                    &[&name, &at],
                )
                .map_err(query_err(format!("revoke token {name}")))
        })?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_never_show_a_password() {
        for (url, want) in [
            (
                "postgresql://gapmap:s3cret@db.example:5433/register",
                "postgresql://gapmap@db.example:5433/register",
            ),
            (
                "postgres://gapmap:s3cret@db.example/register?password=s3cret&application_name=x",
                "postgresql://gapmap@db.example:5432/register",
            ),
            (
                "postgresql://db.example/register?user=gapmap&password=s3cret",
                "postgresql://gapmap@db.example:5432/register",
            ),
            (
                "postgresql://u:s3cret@h/d?options=-csearch_path%3Dreg",
                "postgresql://u@h:5432/d?options=-csearch_path=reg",
            ),
            // Does not parse: the password is cut all the same.
            (
                "postgresql://u:s3cret@h/d?sslmode=bogus&password=s3cret",
                "postgresql://h/d (unparseable)",
            ),
        ] {
            let got = redact(url);
            assert_eq!(got, want, "{url}");
            assert!(!got.contains("s3cret"), "{got}");
        }
    }

    #[test]
    fn an_unreachable_server_is_an_open_error_without_the_password() {
        // Port 1 on loopback: nothing listens, the connection is refused.
        let err = PostgisStore::open("postgresql://u:s3cret@127.0.0.1:1/d").expect_err("refused");
        let StoreError::Open { location, message } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(location, "postgresql://u@127.0.0.1:1/d");
        assert!(!err.to_string().contains("s3cret"), "{err}");
        assert!(!message.is_empty());
    }
}
