//! The register stores' contract, one set of tests run against both
//! stores: a fresh GeoPackage in a temporary folder (`gpkg::*`), and a
//! fresh schema in the PostgreSQL database `GAPMAP_TEST_POSTGRES` names
//! (`postgis::*`; `scripts/test` starts a throwaway cluster and sets it).
//! Without that variable the PostGIS half is skipped, unless `CI` is set:
//! then it fails, so CI cannot pass without testing PostGIS.
//!
//! Every expected value is built here from the inputs, not read back
//! through the store under test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)] // tests may panic; coordinates are exact

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Barrier};
use std::time::{Duration, Instant};

use gapmap::model::register::{
    Action, Change, Entry, EntryFields, RegisterCategory, Role, TokenRecord,
};
use gapmap::sources::register::{self, RegisterStore, Stamp, StoreError};

const PG_ENV: &str = "GAPMAP_TEST_POSTGRES";
/// Set in the crash test's child: the store it writes to.
const WRITER_ENV: &str = "GAPMAP_TEST_REGISTER_WRITER";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Gpkg,
    Postgis,
}

impl Kind {
    fn module(self) -> &'static str {
        match self {
            Kind::Gpkg => "gpkg",
            Kind::Postgis => "postgis",
        }
    }
}

/// Which store and which test: what a test function is given.
#[derive(Debug, Clone, Copy)]
struct Ctx {
    kind: Kind,
    test: &'static str,
}

impl Ctx {
    /// A fresh empty register, or `None` when PostgreSQL is not configured
    /// (outside CI).
    fn fixture(self) -> Option<Fixture> {
        match self.kind {
            Kind::Gpkg => {
                let dir = tempfile::tempdir().expect("tempdir");
                let path = dir.path().join("register.gpkg");
                Some(Fixture {
                    spec: path.display().to_string(),
                    gpkg: Some(path),
                    _dir: Some(dir),
                    pg: None,
                })
            }
            Kind::Postgis => {
                let Ok(base) = std::env::var(PG_ENV) else {
                    assert!(
                        std::env::var_os("CI").is_none(),
                        "CI is set but {PG_ENV} is not: the PostGIS store tests must run in CI \
                         (scripts/test starts a PostgreSQL cluster and sets it)"
                    );
                    eprintln!("{PG_ENV} not set: PostGIS store test {} skipped", self.test);
                    return None;
                };
                let schema = PgSchema::create(&base, self.test);
                Some(Fixture {
                    spec: schema.url.clone(),
                    gpkg: None,
                    _dir: None,
                    pg: Some(schema),
                })
            }
        }
    }
}

/// Generates `gpkg::NAME` and `postgis::NAME` for each test function.
macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        mod gpkg {
            $(#[test] fn $name() { super::$name(super::Ctx { kind: super::Kind::Gpkg, test: stringify!($name) }); })*
        }
        mod postgis {
            $(#[test] fn $name() { super::$name(super::Ctx { kind: super::Kind::Postgis, test: stringify!($name) }); })*
        }
    };
}

both_stores!(
    every_field_round_trips,
    replace_bumps_the_version_and_keeps_the_creation_stamp,
    a_stale_version_changes_nothing,
    missing_entries_are_not_found,
    delete_keeps_the_history,
    changes_since_is_ordered_and_limited,
    a_failed_creation_writes_nothing,
    tokens_are_unique_listed_and_revoked_once,
    categories_are_unique_and_kept_in_order,
    concurrent_writers_of_one_version_one_wins,
    a_poller_sees_every_change,
    acknowledged_writes_survive_kill_9,
    works_from_spawn_blocking_and_drops_in_async_code,
);

/// One test's register. Dropped last in each test (declared first), so
/// every store it opened is closed before the schema goes.
struct Fixture {
    /// What `register::open` takes: a GeoPackage path or a URL.
    spec: String,
    gpkg: Option<PathBuf>,
    _dir: Option<tempfile::TempDir>,
    pg: Option<PgSchema>,
}

impl Fixture {
    /// A new connection (or file handle) through the production `open`.
    fn open(&self) -> Box<dyn RegisterStore> {
        register::open(Some(&self.spec), Path::new("/nonexistent")).expect("open register")
    }

    /// Makes every creation of an entry named `poison` fail inside the
    /// store's transaction, by a trigger the stores know nothing of.
    fn poison_creations(&self) {
        if let Some(path) = &self.gpkg {
            let conn = rusqlite::Connection::open(path).expect("open gpkg");
            conn.execute_batch(
                "CREATE TRIGGER poison BEFORE INSERT ON register_entries
                 WHEN NEW.name = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END;",
            )
            .expect("trigger");
        }
        if let Some(pg) = &self.pg {
            let s = &pg.schema;
            pg.admin()
                .batch_execute(&format!(
                    "CREATE FUNCTION {s}.poison() RETURNS trigger LANGUAGE plpgsql AS $$
                     BEGIN IF NEW.name = 'poison' THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END $$;
                     CREATE TRIGGER poison BEFORE INSERT ON {s}.register_entries
                     FOR EACH ROW EXECUTE FUNCTION {s}.poison();"
                ))
                .expect("trigger");
        }
    }
}

/// A schema of its own in the test database, dropped at the end. The
/// store reaches it through the URL's `search_path` option; PostGIS lives
/// in `public`, created once here (so no test creates it in its schema).
struct PgSchema {
    base: String,
    schema: String,
    url: String,
}

impl PgSchema {
    fn create(base: &str, test: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let short: String = test.chars().take(32).collect();
        let schema = format!("t_{short}_{}_{n}", std::process::id());
        let mut admin = postgres::Client::connect(base, postgres::NoTls).expect("connect admin");
        // Tests of several threads (and binaries) start together: one
        // creates PostGIS, the others wait for it.
        let mut tx = admin.transaction().expect("begin");
        tx.batch_execute(
            "SELECT pg_advisory_xact_lock(7101); CREATE EXTENSION IF NOT EXISTS postgis SCHEMA public",
        )
        .expect("create postgis");
        tx.commit().expect("commit");
        admin
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .expect("create schema");
        let sep = if base.contains('?') { '&' } else { '?' };
        // application_name: the reconnection test finds this test's
        // sessions by it.
        let url =
            format!("{base}{sep}options=-csearch_path%3D{schema},public&application_name={schema}");
        Self {
            base: base.to_owned(),
            schema,
            url,
        }
    }

    fn admin(&self) -> postgres::Client {
        postgres::Client::connect(&self.base, postgres::NoTls).expect("connect admin")
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.base, postgres::NoTls) {
            let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}

const T1: &str = "2026-01-02T03:04:05Z";
const T2: &str = "2026-02-03T04:05:06Z";

fn alice() -> Stamp<'static> {
    Stamp {
        actor: "alice",
        at: T1,
    }
}

fn bob() -> Stamp<'static> {
    Stamp {
        actor: "bob",
        at: T2,
    }
}

/// An entry with every optional field set, and awkward text.
fn full(name: &str) -> EntryFields {
    EntryFields {
        name: name.to_owned(),
        category: "community_larder".into(),
        lon: -1.234_567_890_123_456_7,
        lat: 51.987_654_321_098_76,
        address: Some("Flat 2, 10 O'Brien's Road\n\"Back door\" \\ side".into()),
        postcode: Some("OX4 3JG".into()),
        organisation: Some("Ünïcödé Trust — Café ☕ 𝄞 تجربة 測試".into()),
        contact: Some("https://example.org/?a=1&b='x'".into()),
        description: Some("Tuesdays; bring bags. 100% volunteer-run.".into()),
        opening_hours: Some("Tu 10:00-12:00; PH off".into()),
        capacity: Some(u32::MAX),
        valid_from: Some("2023-01-01".into()),
        valid_to: Some("2026-12-31".into()),
    }
}

/// An entry with no optional field.
fn bare(name: &str) -> EntryFields {
    EntryFields {
        name: name.to_owned(),
        category: "warm_space".into(),
        lon: -180.0,
        lat: 90.0,
        address: None,
        postcode: None,
        organisation: None,
        contact: None,
        description: None,
        opening_hours: None,
        capacity: None,
        valid_from: None,
        valid_to: None,
    }
}

/// The entry the store should hold after a creation.
fn created(id: i64, fields: &EntryFields, stamp: Stamp<'_>) -> Entry {
    Entry {
        id,
        fields: fields.clone(),
        version: 1,
        created_by: stamp.actor.into(),
        created_at: stamp.at.into(),
        updated_by: stamp.actor.into(),
        updated_at: stamp.at.into(),
    }
}

fn create_one(store: &dyn RegisterStore, fields: &EntryFields) -> i64 {
    let changes = store
        .create(std::slice::from_ref(fields), Action::Create, alice())
        .expect("create");
    assert_eq!(changes.len(), 1);
    changes[0].entry_id
}

fn every_field_round_trips(ctx: Ctx) {
    let Some(fx) = ctx.fixture() else { return };
    let store = fx.open();
    let empty = store.load().expect("load empty");
    assert!(empty.entries.is_empty() && empty.categories.is_empty());
    assert_eq!(empty.seq, 0);
    assert_eq!(store.last_seq().expect("last_seq"), 0);

    let a = full("Barton Community Larder — Ünïcödé ☕");
    let b = bare("Warm space");
    let changes = store
        .create(&[a.clone(), b.clone()], Action::Import, alice())
        .expect("create");
    assert_eq!(changes.len(), 2);
    let (ia, ib) = (changes[0].entry_id, changes[1].entry_id);
    assert!(ia > 0 && ib > ia, "ids {ia}, {ib}");
    assert!(changes[0].seq > 0 && changes[1].seq > changes[0].seq);
    let want_a = created(ia, &a, alice());
    let want_b = created(ib, &b, alice());
    for (c, want) in changes.iter().zip([&want_a, &want_b]) {
        assert_eq!(c.action, Action::Import);
        assert_eq!((c.actor.as_str(), c.at.as_str()), ("alice", T1));
        assert_eq!(c.before, None);
        assert_eq!(c.after.as_ref(), Some(want));
    }
    assert_eq!(store.get(ia).expect("get").as_ref(), Some(&want_a));
    assert_eq!(store.get(ib).expect("get").as_ref(), Some(&want_b));
    assert_eq!(store.get(ib + 1000).expect("get"), None);

    // A second connection (a fresh file handle) reads the same.
    let other = fx.open();
    let loaded = other.load().expect("load");
    assert_eq!(loaded.entries, vec![want_a, want_b]);
    assert_eq!(loaded.seq, changes[1].seq);
    assert_eq!(other.last_seq().expect("last_seq"), changes[1].seq);
    // The change log holds the same images.
    assert_eq!(other.changes_since(0, 10).expect("changes"), changes);
}

fn replace_bumps_the_version_and_keeps_the_creation_stamp(ctx: Ctx) {
    let Some(fx) = ctx.fixture() else { return };
    let store = fx.open();
    let id = create_one(store.as_ref(), &full("Larder"));
    let v1 = created(id, &full("Larder"), alice());

    let new = bare("Larder, moved");
    let c = store
        .replace(id, Some(1), &new, Action::Replace, bob())
        .expect("replace");
    let v2 = Entry {
        id,
        fields: new.clone(),
        version: 2,
        created_by: "alice".into(),
        created_at: T1.into(),
        updated_by: "bob".into(),
        updated_at: T2.into(),
    };
    assert_eq!(c.action, Action::Replace);
    assert_eq!(c.entry_id, id);
    assert_eq!((c.actor.as_str(), c.at.as_str()), ("bob", T2));
    assert_eq!(c.before.as_ref(), Some(&v1));
    assert_eq!(c.after.as_ref(), Some(&v2));
    assert_eq!(store.get(id).expect("get").as_ref(), Some(&v2));

    // Without a version: unconditional.
    let c3 = store
        .replace(id, None, &full("Larder again"), Action::Update, alice())
        .expect("update");
    let got = store.get(id).expect("get").expect("present");
    assert_eq!(got.version, 3);
    assert_eq!(got.fields, full("Larder again"));
    assert_eq!(
        (got.created_by.as_str(), got.created_at.as_str()),
        ("alice", T1)
    );
    assert_eq!(
        (got.updated_by.as_str(), got.updated_at.as_str()),
        ("alice", T1)
    );
    assert_eq!(c3.action, Action::Update);
    assert!(c3.seq > c.seq);
}

fn a_stale_version_changes_nothing(ctx: Ctx) {
    let Some(fx) = ctx.fixture() else { return };
    let store = fx.open();
    let id = create_one(store.as_ref(), &full("Larder"));
    store
        .replace(id, Some(1), &bare("v2"), Action::Update, bob())
        .expect("first write");
    let v2 = store.get(id).expect("get").expect("present");
    let seq = store.last_seq().expect("seq");

    let err = store
        .replace(id, Some(1), &bare("lost"), Action::Update, alice())
        .expect_err("stale");
    assert!(
        matches!(err, StoreError::VersionMismatch { id: i, expected: 1, current: 2 } if i == id),
        "{err:?}"
    );
    let err = store
        .delete(id, Some(1), alice())
        .expect_err("stale delete");
    assert!(
        matches!(
            err,
            StoreError::VersionMismatch {
                expected: 1,
                current: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(store.get(id).expect("get"), Some(v2));
    assert_eq!(store.last_seq().expect("seq"), seq);
    assert_eq!(store.history(id).expect("history").len(), 2);
}

fn missing_entries_are_not_found(ctx: Ctx) {
    let Some(fx) = ctx.fixture() else { return };
    let store = fx.open();
    let err = store
        .replace(999, None, &bare("x"), Action::Replace, alice())
        .expect_err("missing");
    assert!(matches!(err, StoreError::NotFound { id: 999 }), "{err:?}");
    let err = store.delete(999, Some(1), alice()).expect_err("missing");
    assert!(matches!(err, StoreError::NotFound { id: 999 }), "{err:?}");
    assert_eq!(store.get(999).expect("get"), None);
    assert!(store.history(999).expect("history").is_empty());
    assert_eq!(store.last_seq().expect("seq"), 0);

    let id = create_one(store.as_ref(), &bare("x"));
    store.delete(id, None, alice()).expect("delete");
    let err = store
        .replace(id, None, &bare("y"), Action::Replace, alice())
        .expect_err("deleted");
    assert!(
        matches!(err, StoreError::NotFound { id: i } if i == id),
        "{err:?}"
    );
    let err = store.delete(id, None, alice()).expect_err("deleted twice");
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
}

fn delete_keeps_the_history(ctx: Ctx) {
    let Some(fx) = ctx.fixture() else { return };
    let store = fx.open();
    let keep = create_one(store.as_ref(), &bare("kept"));
    let id = create_one(store.as_ref(), &full("gone"));
    store
        .replace(id, Some(1), &bare("going"), Action::Update, bob())
        .expect("update");
    let v2 = store.get(id).expect("get").expect("present");
    let del = store.delete(id, Some(2), bob()).expect("delete");
    assert_eq!(del.action, Action::Delete);
    assert_eq!(del.before.as_ref(), Some(&v2));
    assert_eq!(del.after, None);
    assert_eq!(store.get(id).expect("get"), None);
    let loaded = store.load().expect("load");
    assert_eq!(
        loaded.entries.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![keep]
    );
    assert_eq!(loaded.seq, del.seq);

    let h = store.history(id).expect("history");
    assert_eq!(
        h.iter().map(|c| c.action).collect::<Vec<_>>(),
        vec![Action::Create, Action::Update, Action::Delete]
    );
    assert!(h.iter().all(|c| c.entry_id == id));
    assert!(h.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(h[0].before, None);
    assert_eq!(h[0].after, Some(created(id, &full("gone"), alice())));
    assert_eq!(h[1].before, h[0].after);
    assert_eq!(h[1].after.as_ref(), Some(&v2));
    assert_eq!(h[2].before.as_ref(), Some(&v2));
    assert_eq!(h[2], del);
    // The other entry's history is its own.
    assert_eq!(store.history(keep).expect("history").len(), 1);
}

fn changes_since_is_ordered_and_limited(ctx: Ctx) {
    let Some(fx) = ctx.fixture() else { return };
    let store = fx.open();
    let mut all: Vec<Change> = Vec::new();
    for i in 0..5 {
        all.extend(
            store
                .create(&[bare(&format!("e{i}"))], Action::Create, alice())
                .expect("create"),
        );
    }
    all.push(
        store
            .replace(
                all[1].entry_id,
                Some(1),
                &bare("e1'"),
                Action::Update,
                bob(),
            )
            .expect("update"),
    );
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(store.changes_since(0, 100).expect("all"), all);
    assert_eq!(store.changes_since(0, 2).expect("first two"), all[..2]);
    assert_eq!(store.changes_since(all[2].seq, 2).expect("page"), all[3..5]);
    assert_eq!(
        store.changes_since(all[4].seq, usize::MAX).expect("tail"),
        all[5..]
    );
    assert!(store
        .changes_since(all[5].seq, 10)
        .expect("none")
        .is_empty());
    assert!(store.changes_since(0, 0).expect("limit 0").is_empty());
    assert_eq!(store.last_seq().expect("seq"), all[5].seq);
}

fn a_failed_creation_writes_nothing(ctx: Ctx) {
    let Some(fx) = ctx.fixture() else { return };
    let store = fx.open();
    let first = create_one(store.as_ref(), &bare("before"));
    let seq = store.last_seq().expect("seq");
    fx.poison_creations();
    let err = store
        .create(
            &[full("a"), bare("b"), bare("poison"), bare("d")],
            Action::Import,
            alice(),
        )
        .expect_err("poisoned");
    assert!(matches!(err, StoreError::Query { .. }), "{err:?}");
    assert!(err.to_string().contains("poisoned"), "{err}");
    let loaded = store.load().expect("load");
    assert_eq!(
        loaded.entries.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![first]
    );
    assert_eq!(loaded.seq, seq);
    assert_eq!(store.changes_since(seq, 10).expect("changes"), vec![]);
    // The store is usable after the failure.
    let next = create_one(store.as_ref(), &bare("after"));
    assert!(next > first);
    assert_eq!(store.load().expect("load").entries.len(), 2);
}

fn token(id: &str, name: &str, role: Role) -> TokenRecord {
    TokenRecord {
        id: id.into(),
        name: name.into(),
        role,
        hash: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA${name}"),
        created_at: T1.into(),
        revoked_at: None,
    }
}

fn tokens_are_unique_listed_and_revoked_once(ctx: Ctx) {
    let Some(fx) = ctx.fixture() else { return };
    let store = fx.open();
    assert!(store.tokens().expect("tokens").is_empty());
    let alice = token("00000000000000a1", "alice", Role::Editor);
    let bob = token("00000000000000b0", "bob", Role::Admin);
    // Upper case sorts before lower case in byte order, whatever the
    // database's collation says.
    let zed = token("0000000000000023", "Zed", Role::Viewer);
    let mut old = token("00000000000000c3", "old", Role::Viewer);
    old.revoked_at = Some(T1.into());
    for t in [&bob, &alice, &zed, &old] {
        store.add_token(t).expect("add token");
    }
    let err = store
        .add_token(&token("00000000000000ff", "alice", Role::Admin))
        .expect_err("duplicate");
    assert!(
        matches!(&err, StoreError::Duplicate { what: "token", name } if name == "alice"),
        "{err:?}"
    );
    assert_eq!(
        store.tokens().expect("tokens"),
        vec![zed.clone(), alice.clone(), bob.clone(), old.clone()]
    );
    assert_eq!(
        store.token("00000000000000b0").expect("token"),
        Some(bob.clone())
    );
    assert_eq!(store.token("00000000000000ff").expect("token"), None);

    assert!(store.revoke_token("bob", T2).expect("revoke"));
    assert!(!store
        .revoke_token("bob", "2027-01-01T00:00:00Z")
        .expect("again"));
    assert!(!store.revoke_token("old", T2).expect("revoked before"));
    assert!(!store.revoke_token("nobody", T2).expect("nobody"));
    let revoked = store
        .token("00000000000000b0")
        .expect("token")
        .expect("kept");
    assert_eq!(revoked.revoked_at.as_deref(), Some(T2));
    assert_eq!(
        store
            .token("00000000000000c3")
            .expect("token")
            .and_then(|t| t.revoked_at),
        Some(T1.to_owned())
    );
    assert_eq!(store.tokens().expect("tokens").len(), 4);
}

fn categories_are_unique_and_kept_in_order(ctx: Ctx) {
    let Some(fx) = ctx.fixture() else { return };
    let store = fx.open();
    let warm = RegisterCategory {
        id: "warm_space".into(),
        label: "Warm spaces".into(),
    };
    let cafe = RegisterCategory {
        id: "repair_cafe".into(),
        label: "Repair cafés ☕".into(),
    };
    store.add_category(&warm).expect("add");
    store.add_category(&cafe).expect("add");
    let err = store
        .add_category(&RegisterCategory {
            id: "warm_space".into(),
            label: "Other".into(),
        })
        .expect_err("duplicate");
    assert!(
        matches!(&err, StoreError::Duplicate { what: "category", name } if name == "warm_space"),
        "{err:?}"
    );
    assert_eq!(fx.open().load().expect("load").categories, vec![warm, cafe]);
}

fn concurrent_writers_of_one_version_one_wins(ctx: Ctx) {
    const THREADS: usize = 8;
    const ROUNDS: i64 = 20;
    let Some(fx) = ctx.fixture() else { return };
    let store = fx.open();
    let id = create_one(store.as_ref(), &bare("contested"));
    // Each thread its own connection, as separate replicas would have.
    let stores: Vec<_> = (0..THREADS).map(|_| fx.open()).collect();
    let barrier = Barrier::new(THREADS);
    // wins[round] = the thread that won it.
    let results: Vec<Vec<(i64, Result<i64, String>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = stores
            .iter()
            .enumerate()
            .map(|(t, st)| {
                let barrier = &barrier;
                s.spawn(move || {
                    let mut out = Vec::new();
                    for round in 0..ROUNDS {
                        let v = 1 + round;
                        barrier.wait();
                        let fields = bare(&format!("round {round} thread {t}"));
                        let r = match st.replace(id, Some(v), &fields, Action::Update, bob()) {
                            Ok(c) => Ok(c.after.expect("after").version),
                            Err(StoreError::VersionMismatch {
                                expected, current, ..
                            }) => {
                                assert_eq!(
                                    (expected, current),
                                    (v, v + 1),
                                    "thread {t} round {round}"
                                );
                                Err("mismatch".to_owned())
                            }
                            Err(e) => panic!("thread {t} round {round}: {e}"),
                        };
                        out.push((round, r));
                        // Everyone is done with this round before the next.
                        barrier.wait();
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let mut winners = Vec::new();
    for round in 0..ROUNDS {
        let won: Vec<usize> = results
            .iter()
            .enumerate()
            .filter(|(_, r)| matches!(r[usize::try_from(round).unwrap()], (_, Ok(_))))
            .map(|(t, _)| t)
            .collect();
        assert_eq!(won.len(), 1, "round {round}: winners {won:?}");
        assert_eq!(
            results[won[0]][usize::try_from(round).unwrap()].1,
            Ok(round + 2)
        );
        winners.push(won[0]);
    }
    let last = store.get(id).expect("get").expect("present");
    assert_eq!(last.version, 1 + ROUNDS);
    assert_eq!(
        last.fields.name,
        format!("round {} thread {}", ROUNDS - 1, winners[winners.len() - 1])
    );
    let h = store.history(id).expect("history");
    assert_eq!(h.len(), 1 + usize::try_from(ROUNDS).unwrap());
    let updates = &h[1..];
    assert!(updates.iter().all(|c| c.action == Action::Update));
    // No lost update: each change starts from the one before it.
    for (round, (c, w)) in updates.iter().zip(&winners).enumerate() {
        let before = c.before.as_ref().expect("before");
        let after = c.after.as_ref().expect("after");
        assert_eq!(after.version, i64::try_from(round).unwrap() + 2);
        assert_eq!(before.version, after.version - 1);
        assert_eq!(after.fields.name, format!("round {round} thread {w}"));
    }
    for w in h.windows(2) {
        assert_eq!(w[0].after, w[1].before);
    }
}

fn a_poller_sees_every_change(ctx: Ctx) {
    const WRITERS: usize = 4;
    const PER_WRITER: usize = 40;
    let Some(fx) = ctx.fixture() else { return };
    let writers: Vec<_> = (0..WRITERS).map(|_| fx.open()).collect();
    let poller = fx.open();
    let done = AtomicUsize::new(0);
    // What a replica does: remember the last seq seen, ask for what follows.
    let seen: Vec<i64> = std::thread::scope(|s| {
        for (w, st) in writers.iter().enumerate() {
            let done = &done;
            s.spawn(move || {
                for i in 0..PER_WRITER {
                    st.create(&[bare(&format!("w{w} e{i}"))], Action::Create, alice())
                        .expect("create");
                }
                done.fetch_add(1, Ordering::SeqCst);
            });
        }
        let mut seen = Vec::new();
        let mut last = 0;
        let deadline = Instant::now() + Duration::from_mins(2);
        loop {
            let finished = done.load(Ordering::SeqCst) == WRITERS;
            for c in poller.changes_since(last, 7).expect("poll") {
                assert!(c.seq > last);
                last = c.seq;
                seen.push(c.seq);
            }
            if finished && poller.changes_since(last, 1).expect("poll").is_empty() {
                break;
            }
            assert!(Instant::now() < deadline, "writers hung");
        }
        seen
    });
    let all: Vec<i64> = poller
        .changes_since(0, usize::MAX)
        .expect("log")
        .iter()
        .map(|c| c.seq)
        .collect();
    assert_eq!(all.len(), WRITERS * PER_WRITER);
    assert_eq!(seen, all, "the poller skipped changes");
}

/// The crash test's child: writes entries until killed, printing each id
/// once `create` has returned it.
fn write_until_killed(spec: &str) {
    use std::io::Write;
    let store = register::open(Some(spec), Path::new("/nonexistent")).expect("child: open");
    let mut out = std::io::stdout().lock();
    for i in 0..100_000 {
        let c = store
            .create(&[full(&format!("crash {i}"))], Action::Create, alice())
            .expect("child: create");
        writeln!(out, "ACK {}", c[0].entry_id).expect("child: stdout");
        out.flush().expect("child: flush");
    }
}

fn acknowledged_writes_survive_kill_9(ctx: Ctx) {
    if let Ok(spec) = std::env::var(WRITER_ENV) {
        write_until_killed(&spec);
        return;
    }
    let Some(fx) = ctx.fixture() else { return };
    // Created (schema and all) before the child starts writing.
    drop(fx.open());
    let test = format!("{}::{}", ctx.kind.module(), ctx.test);
    let mut child = Command::new(std::env::current_exe().expect("current exe"))
        .args(["--exact", &test, "--nocapture", "--test-threads=1"])
        .env(WRITER_ENV, &fx.spec)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn writer");
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut s);
        s
    });
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // The harness's "test NAME ... " may precede the first one.
            if let Some((_, id)) = line.rsplit_once("ACK ") {
                if tx.send(id.parse::<i64>().expect("id")).is_err() {
                    break;
                }
            }
        }
    });
    let mut acked = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_mins(2);
    while acked.len() < 50 {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(id) => {
                acked.insert(id);
            }
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "writer stopped after {} acknowledgements ({e}): {}",
                    acked.len(),
                    err_thread.join().unwrap_or_default()
                );
            }
        }
    }
    // std's kill is SIGKILL on Unix: no destructor, no rollback, no flush.
    child.kill().expect("kill -9");
    let status = child.wait().expect("wait");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9),
        "{status}"
    );
    // Acknowledgements already in the pipe count too.
    reader.join().expect("reader");
    acked.extend(rx.try_iter());

    let store = fx.open();
    for &id in &acked {
        let e = store
            .get(id)
            .expect("get")
            .unwrap_or_else(|| panic!("acknowledged entry {id} lost"));
        assert!(e.fields.name.starts_with("crash "), "{e:?}");
        assert_eq!(e.fields, full(&e.fields.name));
    }
    let loaded = store.load().expect("load after kill");
    let ids: BTreeSet<i64> = loaded.entries.iter().map(|e| e.id).collect();
    assert!(
        acked.is_subset(&ids),
        "acknowledged {acked:?}, present {ids:?}"
    );
    // At most the write in flight is extra, and its log entry is there too.
    assert!(
        ids.len() <= acked.len() + 1,
        "{} present, {} acked",
        ids.len(),
        acked.len()
    );
    assert_eq!(
        store.changes_since(0, usize::MAX).expect("log").len(),
        ids.len()
    );
    // And the store still takes writes.
    create_one(store.as_ref(), &bare("after the crash"));
}

fn works_from_spawn_blocking_and_drops_in_async_code(ctx: Ctx) {
    let Some(fx) = ctx.fixture() else { return };
    let spec = fx.spec.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let store = tokio::task::spawn_blocking(move || {
            let store = register::open(Some(&spec), Path::new("/nonexistent")).expect("open");
            create_one(store.as_ref(), &bare("from a blocking task"));
            store
        })
        .await
        .expect("join");
        let store = std::sync::Arc::<dyn RegisterStore>::from(store);
        let s2 = std::sync::Arc::clone(&store);
        let loaded = tokio::task::spawn_blocking(move || s2.load())
            .await
            .expect("join")
            .expect("load");
        assert_eq!(loaded.entries.len(), 1);
        // The last owner goes away on an async worker thread, as in a
        // server shutting down: that must not panic.
        drop(store);
    });
}

/// PostGIS only: a session the server ends (restart, administrator) is
/// replaced at the next call, and nothing is written twice.
#[test]
fn postgis_reconnects_after_the_server_ends_the_session() {
    let Some(fx) = (Ctx {
        kind: Kind::Postgis,
        test: "postgis_reconnects",
    })
    .fixture() else {
        return;
    };
    let pg = fx.pg.as_ref().expect("pg");
    let store = fx.open();
    let id = create_one(store.as_ref(), &bare("before"));
    let terminate = || {
        let n: i64 = pg
            .admin()
            .query_one(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
                 WHERE application_name = $1 AND pid <> pg_backend_pid()",
                &[&pg.schema],
            )
            .expect("terminate")
            .get(0);
        assert_eq!(n, 1, "the store's session");
    };
    terminate();
    assert_eq!(
        store.get(id).expect("read after termination").map(|e| e.id),
        Some(id)
    );
    terminate();
    let seq = store.last_seq().expect("seq");
    let id2 = create_one(store.as_ref(), &bare("after"));
    assert_eq!(store.changes_since(seq, 10).expect("changes").len(), 1);
    terminate();
    store
        .replace(id2, Some(1), &bare("after'"), Action::Update, bob())
        .expect("write after termination");
    assert_eq!(store.load().expect("load").entries.len(), 2);
    assert_eq!(store.history(id2).expect("history").len(), 2);
}

/// PostGIS only: messages and `location()` never carry the password.
#[test]
fn postgis_location_has_no_password() {
    let Some(fx) = (Ctx {
        kind: Kind::Postgis,
        test: "postgis_location",
    })
    .fixture() else {
        return;
    };
    // Trust authentication ignores the password; the store must not show it.
    let url = format!("{}&password=hunter2", fx.spec);
    let store = register::open(Some(&url), Path::new("/nonexistent")).expect("open");
    let location = store.location();
    assert!(location.starts_with("postgresql://"), "{location}");
    assert!(!location.contains("hunter2"), "{location}");
    assert!(
        location.contains(&fx.pg.as_ref().expect("pg").schema),
        "{location}"
    );
}

/// Not a test: writes per second of single-entry creations and the
/// latency of `replace`, on both stores. Run with
/// `cargo test --test register_store -- --ignored --nocapture measure`.
#[test]
#[ignore = "a measurement, not a test"]
fn measure_write_rates() {
    for kind in [Kind::Gpkg, Kind::Postgis] {
        let Some(fx) = (Ctx {
            kind,
            test: "measure",
        })
        .fixture() else {
            continue;
        };
        let store = fx.open();
        let n = 500;
        let t = Instant::now();
        for i in 0..n {
            store
                .create(&[full(&format!("m{i}"))], Action::Create, alice())
                .expect("create");
        }
        let create = t.elapsed();
        let id = create_one(store.as_ref(), &bare("replaced"));
        let mut lat = Vec::new();
        for v in 1..=n {
            let t = Instant::now();
            store
                .replace(id, Some(i64::from(v)), &full("r"), Action::Update, bob())
                .expect("replace");
            lat.push(t.elapsed());
        }
        lat.sort();
        let t = Instant::now();
        let batch: Vec<_> = (0..1000).map(|i| full(&format!("b{i}"))).collect();
        store
            .create(&batch, Action::Import, alice())
            .expect("import");
        let import = t.elapsed();
        println!(
            "{kind:?}: create {:.0}/s ({:.2} ms each); replace p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms; import of 1000 in one call {:.0} ms",
            f64::from(n) / create.as_secs_f64(),
            create.as_secs_f64() * 1000.0 / f64::from(n),
            lat[lat.len() / 2].as_secs_f64() * 1000.0,
            lat[lat.len() * 95 / 100].as_secs_f64() * 1000.0,
            lat[lat.len() - 1].as_secs_f64() * 1000.0,
            import.as_secs_f64() * 1000.0,
        );
    }
}
