//! Saved areas: the store round trip (GeoPackage always; PostGIS in a
//! schema of its own when `GAPMAP_TEST_POSTGRES` is set, skipped otherwise),
//! the migration of a register file made before saved areas existed, and
//! the `areas` collection over HTTP against the real binary on the real
//! Oxfordshire data: create, list, get with a strong ETag, delete, bad
//! input and no token (nothing stored), and the profile of a saved area
//! equal to the profile of the geometry it was saved from.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)] // tests may panic; coordinates are exact

mod common;

use std::ffi::OsString;

use common::http::Client;
use common::server::{make_token, Launch};
use gapmap::model::area::AreaFields;
use gapmap::sources::register::gpkg::GpkgStore;
use gapmap::sources::register::postgis::PostgisStore;
use gapmap::sources::register::saved_areas::AreaStore;
use gapmap::sources::register::{RegisterStore, Stamp, StoreError};
use geo::{Coord, LineString, MultiPolygon, Polygon};
use serde_json::{json, Value};

fn ring(pts: &[(f64, f64)]) -> LineString<f64> {
    LineString(pts.iter().map(|&(x, y)| Coord { x, y }).collect())
}

/// Two parts, the first with a hole; coordinates with full f64 digits.
fn fields(name: &str) -> AreaFields {
    AreaFields {
        name: name.into(),
        description: Some("Estate & \"patch\" — ünïcode".into()),
        geometry: MultiPolygon(vec![
            Polygon::new(
                ring(&[
                    (-1.215_123_456_789_1, 51.708),
                    (-1.185, 51.708),
                    (-1.185, 51.725),
                    (-1.215_123_456_789_1, 51.708),
                ]),
                vec![ring(&[
                    (-1.2, 51.712),
                    (-1.195, 51.712),
                    (-1.195, 51.715),
                    (-1.2, 51.712),
                ])],
            ),
            Polygon::new(
                ring(&[(-1.1, 51.7), (-1.09, 51.7), (-1.09, 51.71), (-1.1, 51.7)]),
                vec![],
            ),
        ]),
    }
}

/// The store contract, the same for both stores.
fn round_trip(store: &dyn RegisterStore) {
    let stamp = Stamp {
        actor: "ed",
        at: "2026-11-30T12:00:00.000Z",
    };
    assert_eq!(store.last_area_seq().unwrap(), 0);
    let f = fields("Leys");
    let (a, c) = store.create_area(&f, stamp).unwrap();
    assert_eq!(
        (a.version, c.area_id, c.action.as_str()),
        (1, a.id, "create")
    );
    let loaded = store.load_areas().unwrap();
    assert_eq!(loaded.seq, c.seq);
    assert_eq!(loaded.areas.len(), 1);
    // Bit for bit: every coordinate, the hole, both parts, the text.
    assert_eq!(loaded.areas[0].fields, f);
    assert_eq!(loaded.areas[0].created_by, "ed");
    let later = Stamp {
        actor: "al",
        at: "2026-11-30T12:05:00.000Z",
    };
    let g = AreaFields {
        description: None,
        ..fields("Leys (new)")
    };
    match store.replace_area(a.id, Some(7), &g, "replace", later) {
        Err(StoreError::VersionMismatch {
            expected: 7,
            current: 1,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(store.get_area(a.id).unwrap().unwrap().fields, f);
    let (b, _) = store
        .replace_area(a.id, Some(1), &g, "replace", later)
        .unwrap();
    assert_eq!(
        (b.version, b.created_by.as_str(), b.updated_by.as_str()),
        (2, "ed", "al")
    );
    assert_eq!(store.get_area(a.id).unwrap().unwrap(), b);
    let d = store.delete_area(a.id, None, later).unwrap();
    assert!(store.get_area(a.id).unwrap().is_none());
    assert!(matches!(
        store.delete_area(a.id, None, later),
        Err(StoreError::NotFound { .. })
    ));
    let log = store.area_changes_since(0, 10).unwrap();
    let actions: Vec<&str> = log.iter().map(|c| c.action.as_str()).collect();
    assert_eq!(actions, ["create", "replace", "delete"]);
    assert_eq!(store.last_area_seq().unwrap(), d.seq);
    // Ids are never reused.
    let (again, _) = store.create_area(&f, stamp).unwrap();
    assert!(again.id > a.id);
}

#[test]
fn gpkg_store_round_trip_and_migration() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("register.gpkg");
    round_trip(&GpkgStore::open(&path).unwrap());
    // A register made before saved areas: the tables and their GeoPackage
    // rows gone. Opening it again adds them, keeping what is stored.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "DROP TABLE saved_areas; DROP TABLE saved_area_changes;
             DELETE FROM gpkg_geometry_columns WHERE table_name = 'saved_areas';
             DELETE FROM gpkg_contents WHERE table_name IN ('saved_areas', 'saved_area_changes');",
        )
        .unwrap();
    }
    let store = GpkgStore::open(&path).unwrap();
    assert!(store.load_areas().unwrap().areas.is_empty());
    store
        .create_area(
            &fields("after migration"),
            Stamp {
                actor: "ed",
                at: "2026-11-30T12:00:00.000Z",
            },
        )
        .unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let registered: String = conn
        .query_row(
            "SELECT geometry_type_name FROM gpkg_geometry_columns WHERE table_name = 'saved_areas'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(registered, "MULTIPOLYGON");
    // GDAL reads the layer as it is (what QGIS opens).
    let out = std::process::Command::new("ogrinfo")
        .args(["-ro", "-so", "-al"])
        .arg(&path)
        .arg("saved_areas")
        .output();
    if let Ok(out) = out {
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Feature Count: 1"), "{text}");
        assert!(text.contains("Multi Polygon"), "{text}");
    }
}

#[test]
fn postgis_store_round_trip() {
    let Ok(base) = std::env::var("GAPMAP_TEST_POSTGRES") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must test PostGIS: set GAPMAP_TEST_POSTGRES"
        );
        eprintln!("GAPMAP_TEST_POSTGRES unset: PostGIS saved areas not tested");
        return;
    };
    let schema = format!("saved_areas_{}", std::process::id());
    let mut admin = postgres::Client::connect(&base, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!(
            "CREATE EXTENSION IF NOT EXISTS postgis; DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-csearch_path%3D{schema},public");
    {
        let store = PostgisStore::open(&url).unwrap();
        round_trip(&store);
        // A second open of the same register changes nothing.
        let again = PostgisStore::open(&url).unwrap();
        assert_eq!(again.load_areas().unwrap().areas.len(), 1);
    }
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
}

// ------------------------------------------------------------------ HTTP

const ITEMS: &str = "/collections/areas/items";
const EXECUTE: &str = "/processes/area-profile/execution";

fn leys_geometry() -> Value {
    json!({"type": "Polygon", "coordinates": [[
        [-1.215, 51.708], [-1.185, 51.708], [-1.185, 51.725], [-1.215, 51.725], [-1.215, 51.708]
    ]]})
}

fn feature(name: &str, geometry: &Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"type": "Feature", "geometry": geometry,
        "properties": {"name": name, "description": "Blackbird Leys and Greater Leys"}}))
    .unwrap()
}

fn profile(client: &Client, inputs: &Value) -> (u16, Value) {
    let body = serde_json::to_vec(&json!({ "inputs": inputs })).unwrap();
    let r = client.send(
        "POST",
        EXECUTE,
        &[("Content-Type", "application/json")],
        Some(&body),
    );
    (r.status, r.json())
}

#[test]
fn areas_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let store_args: Vec<OsString> = vec!["--state-dir".into(), state.clone().into_os_string()];
    let editor = make_token(&store_args, "ed", "editor");
    let viewer = make_token(&store_args, "vi", "viewer");
    let server = Launch::new().args(&store_args).owning(dir).start();
    let client = Client::new(server.addr);
    let auth = format!("Bearer {editor}");
    let post = |body: &[u8], extra: &[(&str, &str)]| {
        let mut h = vec![
            ("Content-Type", "application/geo+json"),
            ("Authorization", auth.as_str()),
        ];
        h.extend_from_slice(extra);
        client.send("POST", ITEMS, &h, Some(body))
    };

    // Listed, empty, among the collections.
    let collections = client.get_json("/collections");
    assert!(collections["collections"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == "areas"));
    assert_eq!(client.get_json(ITEMS)["numberMatched"], 0);

    // Refusals store nothing, and each names what is wrong.
    let body = feature("Leys", &leys_geometry());
    let r = client.send(
        "POST",
        ITEMS,
        &[("Content-Type", "application/geo+json")],
        Some(&body),
    );
    assert_eq!(r.status, 401, "{r}");
    let v = format!("Bearer {viewer}");
    let r = client.send(
        "POST",
        ITEMS,
        &[
            ("Content-Type", "application/geo+json"),
            ("Authorization", &v),
        ],
        Some(&body),
    );
    assert_eq!(r.status, 403, "{r}");
    let london = json!({"type": "Polygon", "coordinates": [[
        [-0.15, 51.5], [-0.1, 51.5], [-0.1, 51.52], [-0.15, 51.5]]]});
    let point = json!({"type": "Point", "coordinates": [-1.2, 51.7]});
    let bowtie_line = json!({"type": "Polygon", "coordinates": [[
        [-1.2, 51.71], [-1.19, 51.71], [-1.18, 51.71], [-1.2, 51.71]]]});
    let circle: Vec<Value> = (0..20_001)
        .map(|i| {
            let t = f64::from(i) / 20_001.0 * std::f64::consts::TAU;
            json!([-1.2 + 0.01 * t.cos(), 51.715 + 0.01 * t.sin()])
        })
        .collect();
    let closed: Vec<Value> = circle.iter().chain(circle.first()).cloned().collect();
    let many = json!({"type": "Polygon", "coordinates": [closed]});
    for (body, extra, parameter) in [
        (feature("Far", &london), vec![], "geometry"),
        (feature("Point", &point), vec![], "geometry"),
        (feature("Line", &bowtie_line), vec![], "geometry"),
        (feature("Many", &many), vec![], "geometry"),
        (feature("", &leys_geometry()), vec![], "properties.name"),
        (b"{not json".to_vec(), vec![], "body"),
        (
            serde_json::to_vec(&json!({"type": "Feature", "geometry": leys_geometry(),
                "properties": {"name": "x", "colour": "red"}}))
            .unwrap(),
            vec![],
            "properties.colour",
        ),
        (
            feature("Leys", &leys_geometry()),
            vec![(
                "Content-Crs",
                "<http://www.opengis.net/def/crs/EPSG/0/3857>",
            )],
            "Content-Crs",
        ),
    ] {
        let r = post(&body, &extra);
        assert_eq!(r.status, 400, "{parameter}: {r}");
        assert_eq!(r.problem_parameter().as_deref(), Some(parameter), "{r}");
    }
    assert_eq!(client.get_json(ITEMS)["numberMatched"], 0);

    // Create; the Location and the ETag read at once.
    let r = post(&body, &[]);
    assert_eq!(r.status, 201, "{r}");
    let location = r.header("location").unwrap().to_owned();
    assert!(
        location.ends_with("/collections/areas/items/areas-1"),
        "{location}"
    );
    let etag = r.header("etag").unwrap().to_owned();
    assert!(etag.starts_with("\"v1-"), "{etag}");
    let got = client.get("/collections/areas/items/areas-1");
    assert_eq!(got.status, 200);
    assert_eq!(got.header("etag"), Some(etag.as_str()));
    let f = got.json();
    assert_eq!(f["properties"]["name"], "Leys");
    assert_eq!(f["properties"]["created_by"], "ed");
    assert_eq!(f["geometry"]["type"], "MultiPolygon");
    let page = client.get_json(&format!("{ITEMS}?bbox=-1.3,51.6,-1.1,51.8&limit=1"));
    assert_eq!(page["numberMatched"], 1);
    let page = client.get_json(&format!("{ITEMS}?bbox=0,51,0.1,51.1"));
    assert_eq!(page["numberMatched"], 0);

    // The saved area's profile is the geometry's, to the bit.
    let (s1, by_area) = profile(&client, &json!({"area": "areas-1"}));
    let (s2, by_geometry) = profile(&client, &json!({"geometry": leys_geometry()}));
    assert_eq!((s1, s2), (200, 200), "{by_area}");
    assert!(by_area["residents"].is_object() || by_area.is_object());
    assert_eq!(by_area, by_geometry);
    let (s, p) = profile(&client, &json!({"area": "areas-99"}));
    assert_eq!(s, 404);
    assert_eq!(p["parameter"], "area", "{p}");

    // British National Grid in, CRS84 out: the same LSOAs apportioned.
    let bng = json!({"type": "Polygon", "coordinates": [[
        [455_000.0, 202_500.0], [457_500.0, 202_500.0], [457_500.0, 204_000.0],
        [455_000.0, 204_000.0], [455_000.0, 202_500.0]]]});
    let r = post(
        &feature("Leys BNG", &bng),
        &[(
            "Content-Crs",
            "<http://www.opengis.net/def/crs/EPSG/0/27700>",
        )],
    );
    assert_eq!(r.status, 201, "{r}");
    let (s, p) = profile(&client, &json!({"area": "areas-2"}));
    assert_eq!(s, 200, "{p}");
    let (_, q) = profile(
        &client,
        &json!({"geometry": bng, "crs": "http://www.opengis.net/def/crs/EPSG/0/27700"}),
    );
    assert_eq!(p["residents"], q["residents"]);

    // PATCH the name (the geometry stays); PUT a new geometry; each bumps
    // the version and the ETag follows.
    let patch = serde_json::to_vec(&json!({"properties": {"name": "The Leys"}})).unwrap();
    let r = client.send(
        "PATCH",
        "/collections/areas/items/areas-2",
        &[
            ("Content-Type", "application/merge-patch+json"),
            ("Authorization", auth.as_str()),
        ],
        Some(&patch),
    );
    assert_eq!(r.status, 200, "{r}");
    assert!(r.header("etag").unwrap().starts_with("\"v2-"), "{r}");
    let f2 = client.get_json("/collections/areas/items/areas-2");
    assert_eq!(f2["properties"]["name"], "The Leys");
    assert_eq!(f2["properties"]["version"], 2);
    let (_, after_patch) = profile(&client, &json!({"area": "areas-2"}));
    assert_eq!(after_patch["area"]["residents"], p["area"]["residents"]);
    let r = client.send(
        "PUT",
        "/collections/areas/items/areas-2",
        &[
            ("Content-Type", "application/geo+json"),
            ("Authorization", auth.as_str()),
            ("If-Match", "\"v1-0\""),
        ],
        Some(&feature("Leys", &leys_geometry())),
    );
    assert_eq!(r.status, 412, "{r}");
    let r = client.send(
        "PUT",
        "/collections/areas/items/areas-2",
        &[
            ("Content-Type", "application/geo+json"),
            ("Authorization", auth.as_str()),
            ("If-Match", "\"v2-0\""),
        ],
        Some(&feature("Leys again", &leys_geometry())),
    );
    assert_eq!(r.status, 200, "{r}");
    let (_, after_put) = profile(&client, &json!({"area": "areas-2"}));
    assert_eq!(after_put, by_geometry);

    // Delete with a stale If-Match: 412, nothing changes; then 204 and gone.
    let del = |extra: &[(&str, &str)]| {
        let mut h = vec![("Authorization", auth.as_str())];
        h.extend_from_slice(extra);
        client.send("DELETE", "/collections/areas/items/areas-1", &h, None)
    };
    let r = del(&[("If-Match", "\"v9-0\"")]);
    assert_eq!(r.status, 412, "{r}");
    assert_eq!(r.problem_parameter().as_deref(), Some("If-Match"));
    let r = client.send("DELETE", "/collections/areas/items/areas-1", &[], None);
    assert_eq!(r.status, 401, "{r}");
    let r = del(&[("If-Match", etag.as_str())]);
    assert_eq!(r.status, 204, "{r}");
    assert_eq!(client.get("/collections/areas/items/areas-1").status, 404);
    assert_eq!(del(&[]).status, 404);
    let (s, _) = profile(&client, &json!({"area": "areas-1"}));
    assert_eq!(s, 404);
    assert_eq!(client.get_json(ITEMS)["numberMatched"], 1);
}

/// Two servers on one PostGIS register: an area saved through one is
/// served by the other once it follows the change log, and a deletion
/// through the other reaches the first.
#[test]
fn replicas_following_postgis_see_new_areas() {
    let Ok(base) = std::env::var("GAPMAP_TEST_POSTGRES") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must test PostGIS: set GAPMAP_TEST_POSTGRES"
        );
        eprintln!("GAPMAP_TEST_POSTGRES unset: replicas not tested");
        return;
    };
    let schema = format!("saved_areas_replicas_{}", std::process::id());
    let mut admin = postgres::Client::connect(&base, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!(
            "CREATE EXTENSION IF NOT EXISTS postgis; DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-csearch_path%3D{schema},public");
    let store_args: Vec<OsString> = vec!["--register".into(), url.clone().into()];
    let editor = make_token(&store_args, "ed", "editor");
    let launch = || {
        Launch::new()
            .args(&store_args)
            .args(&["--region", "oxford", "--follow-interval", "100ms"])
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| launch().start());
        let b = s.spawn(|| launch().start());
        (a.join().unwrap(), b.join().unwrap())
    });
    let (ca, cb) = (Client::new(a.addr), Client::new(b.addr));
    let auth = format!("Bearer {editor}");
    let r = ca.send(
        "POST",
        ITEMS,
        &[
            ("Content-Type", "application/geo+json"),
            ("Authorization", &auth),
        ],
        Some(&feature("Leys", &leys_geometry())),
    );
    assert_eq!(r.status, 201, "{r}");
    let until = |c: &Client, n: u64| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_mins(1);
        loop {
            if c.get_json(ITEMS)["numberMatched"] == n {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "not followed");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    };
    until(&cb, 1);
    let (s, _) = profile(&cb, &json!({"area": "areas-1"}));
    assert_eq!(s, 200);
    let r = cb.send(
        "DELETE",
        "/collections/areas/items/areas-1",
        &[("Authorization", &auth)],
        None,
    );
    assert_eq!(r.status, 204, "{r}");
    until(&ca, 0);
    drop((a, b));
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
}
