//! Real clients against the real binary, over every collection: GDAL's OAPIF
//! driver exports each to GeoPackage, FlatGeobuf and PostgreSQL dump (no
//! `-nlt` help) with as many features as the API's `numberMatched`; OWSLib
//! reads each with an antimeridian bbox, paging, a filter and sortby; and the
//! polygon assets' `area_m2` matches pyproj's geodesic area. The tools are
//! required: CI installs `gdal-bin`, and `pip install owslib pyproj shapely`
//! (scripts/install); a missing one fails with a message saying which.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output};

use common::server::{make_token, Launch, Server};
use serde_json::Value;

fn start_server() -> Server {
    Launch::new().env_remove("GAPMAP_PUBLIC_URL").start()
}

fn run(tool: &str, args: &[&str]) -> Output {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("cannot run `{tool}` ({e}): install it (GDAL: apt-get install gdal-bin; python: pip install owslib pyproj shapely)")
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

/// A GET over plain HTTP/1.0 on loopback, returning the JSON body.
fn get_json(base: &str, path: &str) -> Value {
    let hostport = base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut s = TcpStream::connect(&hostport).expect("connect to the server");
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: {hostport}\r\nAccept: application/json\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(
        head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"),
        "{path}: {head}"
    );
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{path}: not JSON ({e})"))
}

/// Feature counts per layer in an OGR dataset, from `ogrinfo -so -al`.
fn ogr_counts(path: &str) -> BTreeMap<String, u64> {
    let out = run("ogrinfo", &["-ro", "-so", "-al", path]);
    let text = String::from_utf8_lossy(&out.stdout);
    let mut counts = BTreeMap::new();
    let mut layer = None;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("Layer name: ") {
            layer = Some(name.trim().to_owned());
        }
        if let (Some(n), Some(l)) = (line.strip_prefix("Feature Count: "), &layer) {
            counts.insert(l.clone(), n.trim().parse().unwrap());
        }
    }
    counts
}

/// Rows per table in a PGDUMP file: `COPY` blocks (the driver's default)
/// or `INSERT` statements.
fn pgdump_counts(path: &Path) -> BTreeMap<String, u64> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut copying: Option<String> = None;
    for line in text.lines() {
        if let Some(t) = &copying {
            if line == "\\." {
                copying = None;
            } else {
                *counts.entry(t.clone()).or_default() += 1;
            }
        } else if let Some(rest) = line.strip_prefix("COPY ") {
            let table = table_name(rest);
            counts.entry(table.clone()).or_default();
            copying = Some(table);
        } else if let Some(rest) = line.strip_prefix("INSERT INTO ") {
            *counts.entry(table_name(rest)).or_default() += 1;
        } else if let Some(rest) = line.strip_prefix("CREATE TABLE ") {
            counts.entry(table_name(rest)).or_default();
        }
    }
    counts
}

/// `"public"."lsoa_2011" (...` -> `lsoa_2011`.
fn table_name(rest: &str) -> String {
    let name = rest.split([' ', '(']).next().unwrap_or(rest);
    name.rsplit('.')
        .next()
        .unwrap_or(name)
        .trim_matches('"')
        .to_owned()
}

#[test]
#[allow(clippy::too_many_lines)]
fn gdal_exports_and_owslib_reads_every_collection() {
    run("ogr2ogr", &["--version"]);
    for module in ["owslib.ogcapi.features", "pyproj", "shapely"] {
        let out = Command::new("python3")
            .args(["-c", &format!("import {module}")])
            .output()
            .expect("python3 is required");
        assert!(
            out.status.success(),
            "python3 lacks {module}: run `pip install owslib pyproj shapely`"
        );
    }
    let server = start_server();
    let source = format!("OAPIF:{}", server.url);
    // A few register entries, so the writable collection is exported and
    // read with features (non-ASCII names, nulls) like the others.
    let store = [
        std::ffi::OsStr::new("--state-dir"),
        server.state_path().as_os_str(),
    ];
    let token = make_token(&store, "clients-editor", "editor");
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/seed_register.py");
    run("python3", &[seed.to_str().unwrap(), &server.url, &token]);

    // numberMatched of every collection, from the API.
    let collections = get_json(&server.url, "/collections");
    let mut matched: BTreeMap<String, u64> = BTreeMap::new();
    for c in collections["collections"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        let fc = get_json(&server.url, &format!("/collections/{id}/items?limit=1"));
        matched.insert(id.to_owned(), fc["numberMatched"].as_u64().unwrap());
    }
    assert!(matched.len() >= 5, "{matched:?}");
    assert_eq!(matched.get("register"), Some(&7), "{matched:?}");
    // GDAL's layer names follow the collection ids; PostgreSQL's launder
    // `-` to `_`.
    let laundered = |id: &str| id.replace('-', "_");

    let dir = tempfile::tempdir().unwrap();
    // The driver reads pages of 1000 (fewer requests than its default).
    let page = ["-oo", "PAGE_SIZE=1000"];

    let gpkg = dir.path().join("all.gpkg");
    let gpkg_s = gpkg.to_str().unwrap();
    run(
        "ogr2ogr",
        &[&["-f", "GPKG", gpkg_s, &source][..], &page[..]].concat(),
    );
    assert_eq!(ogr_counts(gpkg_s), matched, "GeoPackage");

    let fgb = dir.path().join("fgb");
    let fgb_s = fgb.to_str().unwrap();
    run(
        "ogr2ogr",
        &[&["-f", "FlatGeobuf", fgb_s, &source][..], &page[..]].concat(),
    );
    let mut fgb_counts = BTreeMap::new();
    for id in matched.keys() {
        let f = fgb.join(format!("{id}.fgb"));
        let counts = ogr_counts(f.to_str().unwrap());
        fgb_counts.extend(counts.into_values().map(|n| (id.clone(), n)));
    }
    assert_eq!(fgb_counts, matched, "FlatGeobuf");
    // FlatGeobuf layers are typed: polygons as MultiPolygon.
    let info = run(
        "ogrinfo",
        &[
            "-ro",
            "-so",
            fgb.join("lsoa-2011.fgb").to_str().unwrap(),
            "lsoa-2011",
        ],
    );
    assert!(
        String::from_utf8_lossy(&info.stdout).contains("Geometry: Multi Polygon"),
        "{}",
        String::from_utf8_lossy(&info.stdout)
    );

    let sql = dir.path().join("all.sql");
    run(
        "ogr2ogr",
        &[
            &["-f", "PGDUMP", sql.to_str().unwrap(), &source][..],
            &page[..],
        ]
        .concat(),
    );
    let want: BTreeMap<String, u64> = matched.iter().map(|(k, v)| (laundered(k), *v)).collect();
    assert_eq!(pgdump_counts(&sql), want, "PGDUMP");

    // OWSLib over every collection.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/owslib_conformance.py");
    let out = run("python3", &[script.to_str().unwrap(), &server.url]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("owslib conformance ok"), "{said}");

    // Polygon assets: area_m2 against pyproj on the same OSM polygons.
    let assets = get_json(
        &server.url,
        "/collections/assets/items?limit=10000&filter=area_m2%20IS%20NOT%20NULL",
    );
    let polygons: Vec<(String, f64)> = assets["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_owned(),
                f["properties"]["area_m2"].as_f64().unwrap(),
            )
        })
        .collect();
    assert!(polygons.len() > 50, "{} polygon assets", polygons.len());
    let (mut ways, mut relations) = (Vec::new(), Vec::new());
    for (id, _) in &polygons {
        let key = id
            .strip_prefix("osm-")
            .expect("polygon assets come from OSM");
        if let Some(w) = key.strip_prefix("way-") {
            ways.push(format!("'{w}'"));
        } else if let Some(r) = key.strip_prefix("relation-") {
            relations.push(format!("'{r}'"));
        }
    }
    let mut clauses = Vec::new();
    if !ways.is_empty() {
        clauses.push(format!("osm_way_id IN ({})", ways.join(",")));
    }
    if !relations.is_empty() {
        clauses.push(format!(
            "(osm_way_id IS NULL AND osm_id IN ({}))",
            relations.join(",")
        ));
    }
    let pbf = common::data_dir().join("assets/osm_oxford_2012.osm.pbf");
    let geojson = dir.path().join("polygons.geojson");
    run(
        "ogr2ogr",
        &[
            "-f",
            "GeoJSON",
            geojson.to_str().unwrap(),
            pbf.to_str().unwrap(),
            "multipolygons",
            "-where",
            &clauses.join(" OR "),
        ],
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/geodesic_areas.py");
    let out = run(
        "python3",
        &[script.to_str().unwrap(), geojson.to_str().unwrap()],
    );
    let reference: HashMap<String, f64> = serde_json::from_slice(&out.stdout).unwrap();
    for (id, area) in &polygons {
        let key = id.strip_prefix("osm-").unwrap();
        let want = reference
            .get(key)
            .unwrap_or_else(|| panic!("{id}: not among the OSM polygons"));
        assert!(*want > 0.0 && *area > 0.0, "{id}: {area} vs {want}");
        assert!(
            (area - want).abs() <= 1e-3 * want,
            "{id}: area_m2 {area} vs pyproj {want}"
        );
    }
    drop(server);
}
