//! The community asset register proved with real clients and real crashes,
//! against the real binary on its own temporary state:
//!
//! - OWSLib's OGC API Features client creates, replaces and deletes entries
//!   (Part 4) with a bearer token and reads them back; GDAL's OAPIF driver
//!   (`ogrinfo`, `ogr2ogr`) reads the same values; the register GeoPackage
//!   opens in GDAL as it is and passes GDAL's own GeoPackage validator.
//! - `kill -9` in the middle of a stream of writes loses no acknowledged
//!   write, and the GeoPackage still opens.
//! - Two servers on one register see each other's writes (register items
//!   and `/gaps`) within a second.
//! - Bulk import: `gapmap register import` of CSV (all or nothing, naming
//!   the bad row and column) and GeoJSON, and a `POST` of a GeoPackage.
//!
//! The tools are required: CI installs `gdal-bin`, `python3-gdal` (the
//! validator) and `pip install owslib` (scripts/install); a missing one
//! fails with a message saying which. The crash and replica tests also run
//! against PostgreSQL when `GAPMAP_TEST_POSTGRES` names a database (a fresh
//! schema per test, made with `psql`); without it that half is skipped,
//! unless `CI` is set: then it fails.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::server::{make_token, Launch, Server};
use geo::InteriorPoint;
use serde_json::{json, Value};

const PG_ENV: &str = "GAPMAP_TEST_POSTGRES";

// ---------------------------------------------------------------------------
// The server: the shared test helper, timed.

/// Starts `gapmap serve` with `extra` arguments (the register's store) and
/// waits until it serves; also how long that took.
fn start_server_with(extra: &[String]) -> (Server, Duration) {
    let started = Instant::now();
    let server = Launch::new()
        .args(extra)
        .env_remove("GAPMAP_PUBLIC_URL")
        .start();
    (server, started.elapsed())
}

/// `kill -9` (what `Child::kill` sends on Unix), then reaps it.
fn kill_9(server: &mut Server) {
    server.child.kill().expect("SIGKILL the server");
    let status = server.child.wait().expect("reap the server");
    assert!(!status.success(), "the server exited by itself: {status}");
}

/// Runs a tool that must succeed.
fn run(tool: &str, args: &[&str]) -> Output {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("cannot run `{tool}` ({e}): install it (GDAL: apt-get install gdal-bin python3-gdal; OWSLib: pip install owslib; psql: apt-get install postgresql-client)")
    });
    assert!(
        out.status.success(),
        "`{tool} {}` failed:\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs the gapmap binary (not a server) with the data directory set.
fn gapmap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gapmap"))
        .args(args)
        .env("GAPMAP_DATA_DIR", common::data_dir())
        .env("GAPMAP_LOG", "warn")
        .env_remove("GAPMAP_STATE_DIR")
        .output()
        .expect("run the gapmap binary")
}

fn require_python_owslib() {
    let out = Command::new("python3")
        .args(["-c", "import owslib.ogcapi.features"])
        .output()
        .unwrap_or_else(|e| panic!("python3 is required for the OWSLib check ({e})"));
    assert!(
        out.status.success(),
        "OWSLib is not installed for python3: run `pip install owslib`\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A Python with GDAL's bindings (`osgeo_utils`): Debian's `python3-gdal`
/// installs them for the system Python, which may not be the first
/// `python3` on the PATH (pyenv).
fn python_with_gdal() -> &'static str {
    for python in ["python3", "/usr/bin/python3"] {
        let ok = Command::new(python)
            .args(["-c", "from osgeo_utils.samples import validate_gpkg"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return python;
        }
    }
    panic!("no python3 with GDAL's bindings: run `apt-get install python3-gdal`")
}

// ---------------------------------------------------------------------------
// HTTP over loopback, by hand: no client library between the test and the
// server.

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.0 request (the connection closes after the response, so the
/// body ends there). `Err` when the server cannot be reached or stops
/// mid-response.
fn request(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Reply> {
    let hostport = base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut s = TcpStream::connect(&hostport)?;
    s.set_read_timeout(Some(Duration::from_mins(2)))?;
    let mut head = format!("{method} {path} HTTP/1.0\r\nHost: {hostport}\r\n");
    for (k, v) in headers {
        let _ = write!(head, "{k}: {v}\r\n");
    }
    let _ = write!(head, "Content-Length: {}\r\n\r\n", body.len());
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line: {head}")))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Ok(Reply {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    })
}

fn get(base: &str, path: &str) -> Reply {
    request(base, "GET", path, &[("Accept", "application/json")], b"")
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

fn get_json(base: &str, path: &str) -> Value {
    let r = get(base, path);
    assert_eq!(r.status, 200, "GET {path}: {}", r.text());
    r.json()
}

/// POSTs a feature to the register with a bearer token.
fn post_entry(base: &str, token: &str, feature: &Value) -> std::io::Result<Reply> {
    let auth = format!("Bearer {token}");
    request(
        base,
        "POST",
        "/collections/register/items",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/geo+json"),
        ],
        feature.to_string().as_bytes(),
    )
}

fn point_feature(name: &str, category: &str, lon: f64, lat: f64) -> Value {
    json!({
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"name": name, "category": category},
    })
}

/// Every register feature a server serves, by id.
fn register_items(base: &str) -> BTreeMap<String, Value> {
    let fc = get_json(base, "/collections/register/items?limit=10000");
    fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["id"].as_str().unwrap().to_owned(), f.clone()))
        .collect()
}

// ---------------------------------------------------------------------------
// The stores.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Gpkg,
    Postgis,
}

/// A fresh empty register: a GeoPackage in a temporary state directory, or
/// a fresh schema of the `GAPMAP_TEST_POSTGRES` database.
struct Store {
    dir: tempfile::TempDir,
    pg: Option<PgSchema>,
}

impl Store {
    /// `None` when PostgreSQL is asked for but not configured (outside CI).
    fn fresh(kind: Kind, test: &str) -> Option<Self> {
        let dir = tempfile::tempdir().expect("tempdir");
        let pg = match kind {
            Kind::Gpkg => None,
            Kind::Postgis => {
                let Ok(base) = std::env::var(PG_ENV) else {
                    assert!(
                        std::env::var_os("CI").is_none(),
                        "CI is set but {PG_ENV} is not: the PostgreSQL half of {test} must run in CI \
                         (scripts/test starts a PostgreSQL cluster and sets it)"
                    );
                    eprintln!("{PG_ENV} not set: PostgreSQL half of {test} skipped");
                    return None;
                };
                Some(PgSchema::create(&base, test))
            }
        };
        Some(Self { dir, pg })
    }

    /// The register's GeoPackage (the default file under the state dir).
    fn gpkg(&self) -> PathBuf {
        self.dir.path().join("state/register.gpkg")
    }

    /// The options that select this register, for `serve`, `token` and
    /// `register import`: the state directory for the GeoPackage (the
    /// default file in it), the URL for PostgreSQL.
    fn args(&self) -> Vec<String> {
        match &self.pg {
            None => vec![
                "--state-dir".into(),
                self.dir.path().join("state").display().to_string(),
            ],
            Some(pg) => vec!["--register".into(), pg.url.clone()],
        }
    }

    /// The same register named the other way `--register` takes: the
    /// GeoPackage's path (replicas share the file), or the URL.
    fn register_args(&self) -> Vec<String> {
        match &self.pg {
            None => vec!["--register".into(), self.gpkg().display().to_string()],
            Some(pg) => vec!["--register".into(), pg.url.clone()],
        }
    }

    /// A new token with `role`, as `gapmap token add` prints it.
    fn token(&self, name: &str, role: &str) -> String {
        make_token(&self.args(), name, role)
    }

    /// GDAL's name of the store, for `ogrinfo`.
    fn ogr_source(&self) -> String {
        match &self.pg {
            None => self.gpkg().display().to_string(),
            // GDAL's PostgreSQL driver takes the schema in the layer name
            // (see `ogr_layer`), not from a search_path in the URL.
            Some(pg) => format!("PG:{}", pg.base),
        }
    }

    /// GDAL's name of the entries table in the store.
    fn ogr_layer(&self) -> String {
        match &self.pg {
            None => "register_entries".to_owned(),
            Some(pg) => format!("{}.register_entries", pg.schema),
        }
    }
}

/// A schema of its own in the test database, dropped at the end.
struct PgSchema {
    base: String,
    schema: String,
    url: String,
}

impl PgSchema {
    fn create(base: &str, test: &str) -> Self {
        let short: String = test.chars().take(24).collect();
        let schema = format!("rc_{short}_{}", std::process::id());
        // Several test binaries may create PostGIS at once: one does, under
        // an advisory lock, the others find it there.
        run(
            "psql",
            &[
                base,
                "-v",
                "ON_ERROR_STOP=1",
                "-q",
                "-c",
                "SELECT pg_advisory_xact_lock(7101); CREATE EXTENSION IF NOT EXISTS postgis SCHEMA public",
            ],
        );
        run(
            "psql",
            &[
                base,
                "-v",
                "ON_ERROR_STOP=1",
                "-q",
                "-c",
                &format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"),
            ],
        );
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-csearch_path%3D{schema},public");
        Self {
            base: base.to_owned(),
            schema,
            url,
        }
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([
                &self.base,
                "-q",
                "-c",
                &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema),
            ])
            .output();
    }
}

/// Generates `gpkg::NAME` and `postgis::NAME` for each test function.
macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        mod gpkg {
            $(#[test] fn $name() { super::$name(super::Kind::Gpkg, stringify!($name)); })*
        }
        mod postgis {
            $(#[test] fn $name() { super::$name(super::Kind::Postgis, stringify!($name)); })*
        }
    };
}

both_stores!(
    acknowledged_writes_survive_kill_9,
    a_write_to_one_replica_shows_on_the_other,
);

// ---------------------------------------------------------------------------
// GDAL's readings.

/// A feature as `ogrinfo` lists it: field values by name, and its point.
type Listed = (BTreeMap<String, String>, Option<(f64, f64)>);

/// Features of an `ogrinfo -al` listing.
fn ogrinfo_features(text: &str) -> Vec<Listed> {
    let mut out = Vec::new();
    let mut current: Option<Listed> = None;
    for line in text.lines() {
        if line.starts_with("OGRFeature(") {
            out.extend(current.take());
            current = Some((BTreeMap::new(), None));
            continue;
        }
        let Some((fields, point)) = current.as_mut() else {
            continue;
        };
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("POINT (") {
            let mut xy = rest.trim_end_matches(')').split_whitespace();
            let x: f64 = xy.next().unwrap().parse().unwrap();
            let y: f64 = xy.next().unwrap().parse().unwrap();
            *point = Some((x, y));
        } else if let Some((name, value)) = line.split_once(" = ") {
            // `name (Type) = value`
            if let Some((name, _)) = name.split_once(" (") {
                fields.insert(name.to_owned(), value.to_owned());
            }
        }
    }
    out.extend(current);
    out
}

/// Feature count of one layer, from `ogrinfo -so`.
fn ogr_count(source: &str, layer: &str) -> usize {
    let out = run("ogrinfo", &["-ro", "-so", source, layer]);
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("Feature Count: "))
        .unwrap_or_else(|| panic!("no feature count in:\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

/// GDAL's GeoPackage validator (`validate_gpkg.py`, with its extra checks
/// and warnings as errors).
fn validate_gpkg(path: &Path) {
    let python = python_with_gdal();
    let out = Command::new(python)
        .args([
            "-c",
            "import sys; from osgeo_utils.samples import validate_gpkg as v; \
             sys.exit(v.main(['validate_gpkg', '-k', '--extra', '--warning-as-error', sys.argv[1]]))",
            path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "GDAL's validator refuses {}:\n{}{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9
}

// ---------------------------------------------------------------------------
// 1, 2: OWSLib writes, GDAL reads.

#[test]
#[allow(clippy::too_many_lines)]
fn owslib_writes_and_gdal_reads_back() {
    run("ogrinfo", &["--version"]);
    run("ogr2ogr", &["--version"]);
    require_python_owslib();
    python_with_gdal();

    let store = Store::fresh(Kind::Gpkg, "owslib").unwrap();
    let token = store.token("owslib-editor", "editor");
    let (server, _) = start_server_with(&store.args());

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/owslib_register.py");
    let out = run("python3", &[script.to_str().unwrap(), &server.url, &token]);
    let said: Value = serde_json::from_slice(
        out.stdout
            .split(|&b| b == b'\n')
            .rfind(|l| !l.is_empty())
            .unwrap(),
    )
    .unwrap();
    let created: Vec<&str> = said["created"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(created.len(), 3, "{said}");
    // The values the script sent (not read back), for the survivors.
    let expected: BTreeMap<String, Value> = said["expected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["id"].as_str().unwrap().to_owned(), e.clone()))
        .collect();
    assert_eq!(
        expected.keys().map(String::as_str).collect::<Vec<_>>(),
        vec![created[0], created[1]]
    );

    // Each change is in the history, with the token's name as the actor.
    let history = get_json(
        &server.url,
        &format!("/collections/register/items/{}/history", created[1]),
    );
    let actions: Vec<(&str, &str)> = history["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["action"].as_str().unwrap(), c["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        vec![("create", "owslib-editor"), ("replace", "owslib-editor")]
    );
    let gone = get_json(
        &server.url,
        &format!("/collections/register/items/{}/history", created[2]),
    );
    assert_eq!(gone["deleted"], json!(true), "{gone}");

    let check = |fields: &BTreeMap<String, String>, point: Option<(f64, f64)>, what: &str| {
        let id = &fields["id"];
        let want = &expected[id];
        assert_eq!(
            fields["name"],
            want["name"].as_str().unwrap(),
            "{what} {id}"
        );
        assert_eq!(
            fields["category"],
            want["category"].as_str().unwrap(),
            "{what} {id}"
        );
        assert_eq!(
            fields["version"],
            want["version"].to_string(),
            "{what} {id}"
        );
        let (x, y) = point.unwrap_or_else(|| panic!("{what} {id}: no point"));
        let (wx, wy) = (
            want["lonlat"][0].as_f64().unwrap(),
            want["lonlat"][1].as_f64().unwrap(),
        );
        assert!(
            close(x, wx) && close(y, wy),
            "{what} {id}: ({x}, {y}) vs ({wx}, {wy})"
        );
    };

    // GDAL's OAPIF driver on the collection.
    let collection = format!("OAPIF:{}collections/register", server.url);
    let out = run("ogrinfo", &["-ro", "-al", "-q", &collection]);
    let listed = ogrinfo_features(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(listed.len(), 2, "{}", String::from_utf8_lossy(&out.stdout));
    for (fields, point) in &listed {
        check(fields, *point, "ogrinfo OAPIF");
    }

    // ogr2ogr through the landing page, to GeoJSON.
    let dir = tempfile::tempdir().unwrap();
    let geojson = dir.path().join("register.geojson");
    run(
        "ogr2ogr",
        &[
            "-f",
            "GeoJSON",
            geojson.to_str().unwrap(),
            &format!("OAPIF:{}", server.url),
            "register",
        ],
    );
    let fc: Value = serde_json::from_slice(&std::fs::read(&geojson).unwrap()).unwrap();
    let features = fc["features"].as_array().unwrap();
    assert_eq!(features.len(), 2, "{fc}");
    for f in features {
        let p = &f["properties"];
        let fields: BTreeMap<String, String> = ["id", "name", "category", "version"]
            .iter()
            .map(|k| {
                let v = &p[*k];
                (
                    (*k).to_owned(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                )
            })
            .collect();
        let c = &f["geometry"]["coordinates"];
        check(
            &fields,
            Some((c[0].as_f64().unwrap(), c[1].as_f64().unwrap())),
            "ogr2ogr GeoJSON",
        );
    }

    // The GeoPackage itself, as the server leaves it while running (WAL):
    // GDAL opens it and lists the entries at the same points.
    let gpkg = store.gpkg();
    let out = run("ogrinfo", &[gpkg.to_str().unwrap(), "register_entries"]);
    let stored = ogrinfo_features(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(stored.len(), 2, "{}", String::from_utf8_lossy(&out.stdout));
    for (fields, point) in &stored {
        // The table has no id column: its fid is the entry number.
        let mut fields = fields.clone();
        let want = expected
            .values()
            .find(|e| e["name"].as_str() == Some(fields["name"].as_str()))
            .unwrap_or_else(|| panic!("unexpected entry {fields:?}"));
        fields.insert("id".into(), want["id"].as_str().unwrap().to_owned());
        check(&fields, *point, "ogrinfo GeoPackage");
    }
    let fids: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("OGRFeature(register_entries):"))
        .map(|n| format!("register-{}", n.trim()))
        .collect();
    assert_eq!(fids, expected.keys().cloned().collect());
    validate_gpkg(&gpkg);
    drop(server);
}

// ---------------------------------------------------------------------------
// 3: kill -9 in a stream of writes.

/// A point inside Oxfordshire for the `i`th crash entry: a small grid over
/// central Oxford.
#[allow(clippy::cast_precision_loss)] // i is small
fn crash_point(i: usize) -> (f64, f64) {
    (
        -1.27 + (i % 20) as f64 * 0.002,
        51.74 + (i / 20 % 10) as f64 * 0.002,
    )
}

#[allow(clippy::too_many_lines)]
fn acknowledged_writes_survive_kill_9(kind: Kind, test: &str) {
    const ACKS: usize = 40;
    run("ogrinfo", &["--version"]);
    let Some(store) = Store::fresh(kind, test) else {
        return;
    };
    let token = store.token("crash-writer", "editor");
    let (mut server, first_start) = start_server_with(&store.args());

    // The writer POSTs one entry after another, recording the ones the
    // server acknowledged (201) and whether a request is outstanding.
    let acked: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let sent: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let in_flight = Arc::new(AtomicBool::new(false));
    let writer = {
        let (acked, sent, in_flight) = (
            Arc::clone(&acked),
            Arc::clone(&sent),
            Arc::clone(&in_flight),
        );
        let (url, token) = (server.url.clone(), token.clone());
        std::thread::spawn(move || {
            for i in 0.. {
                let name = format!("crash entry {i}");
                let (lon, lat) = crash_point(i);
                sent.lock().unwrap().insert(name.clone());
                let feature = point_feature(&name, "warm_space", lon, lat);
                in_flight.store(true, Ordering::SeqCst);
                let reply = post_entry(&url, &token, &feature);
                // Cleared before the acknowledgement is recorded, so that
                // "40 recorded and one in flight" means a later request.
                in_flight.store(false, Ordering::SeqCst);
                // A reply cut off by the kill (no reply, or a body that
                // does not parse) is not an acknowledgement: the writer
                // stops there.
                let Ok(reply) = reply else { break };
                assert_eq!(reply.status, 201, "write {i}: {}", reply.text());
                let Ok(body) = serde_json::from_slice::<Value>(&reply.body) else {
                    break;
                };
                let id = body["id"].as_str().unwrap().to_owned();
                acked.lock().unwrap().push((id, name));
            }
        })
    };
    let deadline = Instant::now() + Duration::from_mins(10);
    let write_start = Instant::now();
    loop {
        let n = acked.lock().unwrap().len();
        if n >= ACKS && in_flight.load(Ordering::SeqCst) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {n} writes acknowledged in 10 minutes"
        );
        assert!(!writer.is_finished(), "the writer stopped early");
        std::thread::sleep(Duration::from_millis(1));
    }
    let writing_for = write_start.elapsed();
    kill_9(&mut server);
    writer.join().expect("the writer thread");
    let acked = acked.lock().unwrap().clone();
    let sent = sent.lock().unwrap().clone();
    #[allow(clippy::cast_precision_loss)]
    let per_write = writing_for.as_secs_f64() * 1000.0 / acked.len() as f64;
    eprintln!(
        "{test} ({kind:?}): {} writes acknowledged before kill -9 ({:.0} ms each), {} sent",
        acked.len(),
        per_write,
        sent.len()
    );
    assert!(acked.len() >= ACKS);
    // The kill came while the next write was in flight.
    assert_eq!(sent.len(), acked.len() + 1);

    // GDAL opens the store as the crash left it (for the GeoPackage: its
    // write-ahead log not checkpointed).
    let n = ogr_count(&store.ogr_source(), &store.ogr_layer());
    assert!(
        n >= acked.len() && n <= sent.len(),
        "{n} entries after the crash"
    );

    let (restarted, restart) = start_server_with(&store.args());
    eprintln!(
        "{test} ({kind:?}): restart served in {:.1} s (first start {:.1} s)",
        restart.as_secs_f64(),
        first_start.as_secs_f64()
    );
    let items = register_items(&restarted.url);
    for (id, name) in &acked {
        let f = items
            .get(id)
            .unwrap_or_else(|| panic!("acknowledged {id} ({name}) lost in the crash"));
        assert_eq!(
            f["properties"]["name"].as_str(),
            Some(name.as_str()),
            "{id}"
        );
        assert_eq!(f["properties"]["version"], json!(1), "{id}");
    }
    // Anything else present is a write that was sent (the one in flight
    // may or may not have committed), whole.
    for (id, f) in &items {
        let name = f["properties"]["name"].as_str().unwrap();
        assert!(sent.contains(name), "{id}: {name} was never sent");
        let i: usize = name.rsplit(' ').next().unwrap().parse().unwrap();
        let (lon, lat) = crash_point(i);
        let c = &f["geometry"]["coordinates"];
        assert!(
            close(c[0].as_f64().unwrap(), lon) && close(c[1].as_f64().unwrap(), lat),
            "{id}: {c}"
        );
    }
    assert!(
        items.len() <= acked.len() + 1,
        "{} entries, {} acknowledged",
        items.len(),
        acked.len()
    );

    // Writes go on after the restart, with ids after the survivors'.
    let r = post_entry(
        &restarted.url,
        &token,
        &point_feature("after the crash", "warm_space", -1.25, 51.75),
    )
    .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    let new_id = r.json()["id"].as_str().unwrap().to_owned();
    assert!(!items.contains_key(&new_id), "{new_id} reused");

    let n = ogr_count(&store.ogr_source(), &store.ogr_layer());
    assert_eq!(n, items.len() + 1);
    if kind == Kind::Gpkg {
        validate_gpkg(&store.gpkg());
    }
}

// ---------------------------------------------------------------------------
// 4: two replicas on one register.

/// A GeoJSON (Multi)Polygon as a `geo` multipolygon.
fn multipolygon(g: &Value) -> geo::MultiPolygon<f64> {
    let ring = |r: &Value| -> geo::LineString<f64> {
        r.as_array()
            .unwrap()
            .iter()
            .map(|c| (c[0].as_f64().unwrap(), c[1].as_f64().unwrap()))
            .collect::<Vec<_>>()
            .into()
    };
    let polygon = |p: &Value| -> geo::Polygon<f64> {
        let rings = p.as_array().unwrap();
        geo::Polygon::new(ring(&rings[0]), rings[1..].iter().map(ring).collect())
    };
    match g["type"].as_str() {
        Some("Polygon") => geo::MultiPolygon(vec![polygon(&g["coordinates"])]),
        Some("MultiPolygon") => geo::MultiPolygon(
            g["coordinates"]
                .as_array()
                .unwrap()
                .iter()
                .map(polygon)
                .collect(),
        ),
        other => panic!("not a polygon: {other:?}"),
    }
}

const GAPS: &str = "/gaps?category=gp_practice&max_decile=2&min_distance_m=1000";

/// The LSOA codes `/gaps` lists, with their geometries.
fn gaps(base: &str) -> BTreeMap<String, Value> {
    get_json(base, GAPS)["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["id"].as_str().unwrap().to_owned(), f["geometry"].clone()))
        .collect()
}

/// Polls `done` every 50 ms for up to 5 s; the time it took.
fn poll(mut done: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if done() {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[allow(clippy::too_many_lines)]
fn a_write_to_one_replica_shows_on_the_other(kind: Kind, test: &str) {
    use geo::Area;
    let Some(store) = Store::fresh(kind, test) else {
        return;
    };
    let token = store.token("replica-editor", "editor");
    // Created first, so that the two servers open an existing register.
    let args = store.register_args();
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| start_server_with(&args).0);
        let b = s.spawn(|| start_server_with(&args).0);
        (a.join().unwrap(), b.join().unwrap())
    });

    // A GP practice inside the smallest LSOA that B lists as a gap: its
    // residents are then all within 1000 m of one, so it leaves the list.
    let before = gaps(&b.url);
    assert!(!before.is_empty(), "no gaps to close");
    let (code, geometry) = before
        .iter()
        .map(|(c, g)| (c, multipolygon(g)))
        .min_by(|x, y| x.1.unsigned_area().total_cmp(&y.1.unsigned_area()))
        .unwrap();
    let inside = geometry.interior_point().unwrap();
    let sent = Instant::now();
    let r = post_entry(
        &a.url,
        &token,
        &point_feature(
            "Replica test surgery",
            "gp_practice",
            inside.x(),
            inside.y(),
        ),
    )
    .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    let acked = Instant::now();
    let a_took = acked - sent;
    let created = r.json();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(
        r.header("Location")
            .is_some_and(|l| l.ends_with(&format!("/collections/register/items/{id}"))),
        "{:?}",
        r.header("Location")
    );
    assert!(
        r.header("ETag").is_some_and(|t| t.starts_with("\"v1-")),
        "{:?}",
        r.header("ETag")
    );
    assert_eq!(
        created["properties"]["lsoa21"].as_str(),
        Some(code.as_str()),
        "the interior point is not in {code}"
    );
    let item_path = format!("/collections/register/items/{id}");
    let seen = poll(|| get(&b.url, &item_path).status == 200);
    let seen_items = acked.elapsed();
    let closed = poll(|| !gaps(&b.url).contains_key(code));
    let seen_gaps = acked.elapsed();
    // B follows the store's change log on its own clock, so it may catch
    // up while A is still making its snapshot: also report from the send.
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    eprintln!(
        "{test} ({kind:?}): A acknowledged {id} {:.0} ms after the POST; B served it {:.0} ms \
         after A's acknowledgement ({:.0} ms after the POST) and its /gaps dropped {code} {:.0} ms \
         after A's acknowledgement",
        ms(a_took),
        ms(seen_items),
        ms(seen_items + a_took),
        ms(seen_gaps)
    );
    assert!(seen.is_some(), "B never served {id}");
    assert!(closed.is_some(), "B's /gaps still lists {code}");
    assert!(seen_gaps < Duration::from_secs(2), "{seen_gaps:?}");
    // A answers only once its own snapshot has the entry.
    assert!(!gaps(&a.url).contains_key(code), "A still lists {code}");
    let on_b = get_json(&b.url, &item_path);
    assert_eq!(on_b["properties"]["name"], json!("Replica test surgery"));
    assert_eq!(on_b["properties"]["version"], json!(1));
    let c = &on_b["geometry"]["coordinates"];
    assert!(close(c[0].as_f64().unwrap(), inside.x()) && close(c[1].as_f64().unwrap(), inside.y()));
    // The rest of B's gaps are A's: the same list.
    assert_eq!(
        gaps(&b.url).keys().collect::<Vec<_>>(),
        gaps(&a.url).keys().collect::<Vec<_>>()
    );

    // And back: B deletes it, A follows and the gap reopens.
    let auth = format!("Bearer {token}");
    let r = request(
        &b.url,
        "DELETE",
        &item_path,
        &[("Authorization", &auth)],
        b"",
    )
    .unwrap();
    assert_eq!(r.status, 204, "{}", r.text());
    let acked = Instant::now();
    let gone = poll(|| get(&a.url, &item_path).status == 404);
    let reopened = poll(|| gaps(&a.url).contains_key(code));
    let back = acked.elapsed();
    eprintln!(
        "{test} ({kind:?}): A dropped {id} after {:.0} ms and listed {code} again after {:.0} ms",
        gone.unwrap_or_default().as_secs_f64() * 1000.0,
        back.as_secs_f64() * 1000.0
    );
    assert!(
        gone.is_some() && reopened.is_some(),
        "A did not follow B's delete"
    );
    assert!(back < Duration::from_secs(2), "{back:?}");
    assert_eq!(
        gaps(&a.url).keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );

    // A category an admin adds on A, then an entry of it written on A: B
    // counts the entry as an asset of that category too, with its label.
    let admin = format!("Bearer {}", store.token("replica-admin", "admin"));
    let r = request(
        &a.url,
        "POST",
        "/register/categories",
        &[
            ("Authorization", &admin),
            ("Content-Type", "application/json"),
        ],
        br#"{"id": "repair_cafe", "label": "Repair cafes"}"#,
    )
    .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    let r = post_entry(
        &a.url,
        &token,
        &point_feature("Cowley Repair Cafe", "repair_cafe", -1.238_3, 51.745_6),
    )
    .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    let repair = r.json()["id"].as_str().unwrap().to_owned();
    let counted = poll(|| {
        let r = get(&b.url, "/collections/assets-repair_cafe/items");
        r.status == 200
            && r.json()["features"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["id"].as_str() == Some(repair.as_str()))
    });
    assert!(
        counted.is_some(),
        "B does not serve {repair} among the repair_cafe assets"
    );
    let on_b = get_json(&b.url, &format!("/collections/register/items/{repair}"));
    assert_eq!(on_b["properties"]["category_label"], json!("Repair cafes"));
}

// ---------------------------------------------------------------------------
// 5: bulk import.

/// `gapmap gaps` counts the register's entries as the server does: a
/// register-only category is unknown without a register, and with one its
/// entry is the nearest asset of the LSOA it stands in.
#[test]
fn gaps_cli_counts_the_register_entries() {
    let store = Store::fresh(Kind::Gpkg, "gaps-cli").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("one.csv");
    std::fs::write(
        &csv,
        "name,category,lon,lat\nBlackbird Leys Warm Space,warm_space,-1.2108371,51.7176123\n",
    )
    .unwrap();
    let mut args = vec!["register", "import", csv.to_str().unwrap(), "--as", "t"];
    let store_args = store.args();
    args.extend(store_args.iter().map(String::as_str));
    let out = gapmap(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let gaps = |state: &[String]| {
        let mut a = vec![
            "gaps",
            "--category",
            "warm_space",
            "--max-decile",
            "10",
            "--min-distance-m",
            "0",
            "--format",
            "csv",
            "--quiet",
        ];
        a.extend(state.iter().map(String::as_str));
        gapmap(&a)
    };
    // No register (an empty state directory, where none is created).
    let empty = tempfile::tempdir().unwrap();
    let none = gaps(&["--state-dir".into(), empty.path().display().to_string()]);
    let said = String::from_utf8_lossy(&none.stderr);
    assert!(
        !none.status.success() && said.contains("warm_space"),
        "{said}"
    );
    assert!(said.contains("data sources only"), "{said}");
    assert!(!empty.path().join("register.gpkg").exists());
    // The register: its one warm space.
    let out = gaps(&store_args);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains(": 1 entries included"), "{said}");
    let mut reader = csv::Reader::from_reader(&out.stdout[..]);
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (code, min) = (col("lsoa21_code"), col("min_distance_m"));
    let nearest = reader
        .records()
        .filter_map(|r| {
            let r = r.ok()?;
            Some((r.get(code)?.to_owned(), r.get(min)?.parse::<f64>().ok()?))
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap();
    let csv = String::from_utf8_lossy(&out.stdout);
    // The LSOA the entry stands in, as the API places it.
    let atlas = common::atlas();
    let here = geo::Point::new(-1.210_837_1, 51.717_612_3);
    let inside = atlas
        .lsoa21
        .iter()
        .find(|l| geo::Contains::contains(&l.geometry.lonlat, &here))
        .unwrap();
    assert_eq!(nearest.0, inside.code, "{csv}");
    assert!(nearest.1 < 800.0, "{nearest:?}");
}

#[test]
#[allow(clippy::too_many_lines)]
fn bulk_import_is_all_or_nothing() {
    run("ogr2ogr", &["--version"]);
    let store = Store::fresh(Kind::Gpkg, "import").unwrap();
    let admin = store.token("importer", "admin");
    let editor = store.token("import-editor", "editor");
    let gpkg = store.gpkg();
    let count = || ogr_count(gpkg.to_str().unwrap(), "register_entries");
    let dir = tempfile::tempdir().unwrap();
    let import = |file: &Path| {
        let mut args = vec!["register", "import", file.to_str().unwrap(), "--as", "bulk"];
        let s = store.args();
        args.extend(s.iter().map(String::as_str));
        gapmap(&args)
    };

    // A good CSV: three entries.
    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        "name,category,lon,lat,capacity,opening_hours,valid_from\n\
         Rose Hill Larder,community_larder,-1.2253117,51.7272843,25,Fr 12:00-14:00,2024-01-15\n\
         \"Blackbird Leys Warm Space, Library\",warm_space,-1.2108371,51.7176123,,,\n\
         Wantage Walking Group,walking_group,-1.4265521,51.5880234,12,,\n",
    )
    .unwrap();
    assert_eq!(count(), 0);
    let out = import(&good);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("Imported 3 entries") && said.contains("(register-1 to register-3)"),
        "{said}"
    );
    assert_eq!(count(), 3);

    // A second CSV, with one bad row (row 2, capacity): nothing is written.
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "name,category,lon,lat,capacity\n\
         Good One,warm_space,-1.25,51.75,10\n\
         Bad One,warm_space,-1.25,51.75,lots\n\
         Good Two,social_group,-1.26,51.76,\n",
    )
    .unwrap();
    let out = import(&bad);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("row 2, column capacity"), "{stderr}");
    assert!(
        !stderr.contains("row 1,") && !stderr.contains("row 3,"),
        "{stderr}"
    );
    assert_eq!(count(), 3, "a failed import wrote entries");

    // A GeoJSON FeatureCollection: two entries.
    let geojson = dir.path().join("entries.geojson");
    std::fs::write(
        &geojson,
        json!({"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-1.339_731_2, 52.062_987_1]},
             "properties": {"name": "Banbury Youth Club", "category": "youth_club", "capacity": 30}},
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-1.241_751_9, 51.608_052_7]},
             "properties": {"name": "Didcot Community Cafe", "category": "community_cafe", "valid_to": "2030-12-31"}},
        ]})
        .to_string(),
    )
    .unwrap();
    let out = import(&geojson);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("Imported 2 entries") && said.contains("(register-4 to register-5)"),
        "{said}"
    );
    assert_eq!(count(), 5);

    // The server loads them all, as written.
    let (server, _) = start_server_with(&store.args());
    let items = register_items(&server.url);
    let summary: BTreeMap<&str, (&str, &str)> = items
        .iter()
        .map(|(id, f)| {
            (
                id.as_str(),
                (
                    f["properties"]["name"].as_str().unwrap(),
                    f["properties"]["created_by"].as_str().unwrap(),
                ),
            )
        })
        .collect();
    assert_eq!(
        summary,
        BTreeMap::from([
            ("register-1", ("Rose Hill Larder", "bulk")),
            ("register-2", ("Blackbird Leys Warm Space, Library", "bulk")),
            ("register-3", ("Wantage Walking Group", "bulk")),
            ("register-4", ("Banbury Youth Club", "bulk")),
            ("register-5", ("Didcot Community Cafe", "bulk")),
        ])
    );
    let rose = &items["register-1"];
    assert_eq!(rose["properties"]["capacity"], json!(25));
    assert_eq!(rose["properties"]["opening_hours"], json!("Fr 12:00-14:00"));
    assert_eq!(rose["properties"]["valid_from"], json!("2024-01-15"));
    let c = &rose["geometry"]["coordinates"];
    assert!(
        close(c[0].as_f64().unwrap(), -1.225_311_7) && close(c[1].as_f64().unwrap(), 51.727_284_3)
    );
    assert_eq!(items["register-4"]["properties"]["capacity"], json!(30));
    assert_eq!(
        items["register-5"]["properties"]["valid_to"],
        json!("2030-12-31")
    );

    // A CLI import while the server runs: the server follows the store's
    // change log and serves it without a restart.
    let one = dir.path().join("one.geojson");
    std::fs::write(
        &one,
        json!({"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-1.275_1, 51.752_3]},
             "properties": {"name": "Jericho Coffee Morning", "category": "social_group"}},
        ]})
        .to_string(),
    )
    .unwrap();
    let out = import(&one);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let followed =
        poll(|| get(&server.url, "/collections/register/items/register-6").status == 200);
    assert!(
        followed.is_some(),
        "the server did not pick up the CLI import"
    );
    eprintln!(
        "bulk_import_is_all_or_nothing: the server served a CLI import {:.0} ms after the command ended",
        followed.unwrap().as_secs_f64() * 1000.0
    );

    // POST of a GeoPackage made by ogr2ogr from a small GeoJSON.
    let small = dir.path().join("small.geojson");
    std::fs::write(
        &small,
        json!({"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-1.200_123_4, 51.749_123_4]},
             "properties": {"name": "Headington Social Group", "category": "social_group", "capacity": 15, "valid_from": "2025-02-01"}},
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-1.151_234_5, 51.899_567_8]},
             "properties": {"name": "Bicester Larder", "category": "community_larder", "opening_hours": "Sa 09:00-11:00"}},
        ]})
        .to_string(),
    )
    .unwrap();
    let upload = dir.path().join("upload.gpkg");
    run(
        "ogr2ogr",
        &[
            "-f",
            "GPKG",
            upload.to_str().unwrap(),
            small.to_str().unwrap(),
        ],
    );
    let body = std::fs::read(&upload).unwrap();
    let post = |token: &str| {
        let auth = format!("Bearer {token}");
        request(
            &server.url,
            "POST",
            "/collections/register/import",
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/geopackage+sqlite3"),
            ],
            &body,
        )
        .unwrap()
    };
    // Editors may not import.
    let r = post(&editor);
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(count(), 6);
    let r = post(&admin);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"imported": 2, "ids": ["register-7", "register-8"]})
    );
    assert_eq!(count(), 8);
    let items = register_items(&server.url);
    let social = &items["register-7"]["properties"];
    assert_eq!(social["name"], json!("Headington Social Group"));
    assert_eq!(social["category"], json!("social_group"));
    assert_eq!(social["capacity"], json!(15));
    assert_eq!(social["valid_from"], json!("2025-02-01"));
    assert_eq!(social["created_by"], json!("importer"));
    let larder = &items["register-8"];
    assert_eq!(larder["properties"]["name"], json!("Bicester Larder"));
    assert_eq!(
        larder["properties"]["opening_hours"],
        json!("Sa 09:00-11:00")
    );
    let c = &larder["geometry"]["coordinates"];
    assert!(
        close(c[0].as_f64().unwrap(), -1.151_234_5) && close(c[1].as_f64().unwrap(), 51.899_567_8)
    );

    // The same file's first feature reprojected to British National Grid
    // by ogr2ogr: the layer's CRS is honoured, and the point comes back
    // to within a centimetre (1e-7 degrees) of where it started.
    let bng = dir.path().join("bng.gpkg");
    run(
        "ogr2ogr",
        &[
            "-f",
            "GPKG",
            "-t_srs",
            "EPSG:27700",
            "-where",
            "name = 'Headington Social Group'",
            "-nln",
            "bng",
            bng.to_str().unwrap(),
            small.to_str().unwrap(),
        ],
    );
    let auth = format!("Bearer {admin}");
    let r = request(
        &server.url,
        "POST",
        "/collections/register/import",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/geopackage+sqlite3"),
        ],
        &std::fs::read(&bng).unwrap(),
    )
    .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json(), json!({"imported": 1, "ids": ["register-9"]}));
    let again = get_json(&server.url, "/collections/register/items/register-9");
    let c = &again["geometry"]["coordinates"];
    let (x, y) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
    assert!(
        (x + 1.200_123_4).abs() < 1e-7 && (y - 51.749_123_4).abs() < 1e-7,
        "({x}, {y})"
    );
    assert_eq!(
        again["properties"]["lsoa21"],
        items["register-7"]["properties"]["lsoa21"]
    );
    assert_eq!(count(), 9);
    validate_gpkg(&gpkg);
    drop(server);
}
