//! Real OGC API clients against the real binary: GDAL's OAPIF driver
//! (`ogrinfo`, `ogr2ogr`) and OWSLib. The tools are required: CI installs
//! `gdal-bin` and `pip install owslib`, and a missing tool fails the test with
//! a message saying which.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use common::server::Server;
use geo::{Intersects, Rect};

fn start_server() -> Server {
    let server = Server::start::<&str>(&[]);
    let url = &server.url;
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with('/'),
        "{url}"
    );
    server
}

fn run(tool: &str, args: &[&str]) -> Output {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("cannot run `{tool}` ({e}): install it (GDAL: apt-get install gdal-bin; OWSLib: pip install owslib)")
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

#[test]
fn gdal_and_owslib_read_the_api() {
    // Check the tools first: a missing one should fail fast, before the atlas loads.
    run("ogrinfo", &["--version"]);
    run("ogr2ogr", &["--version"]);
    require_python_owslib();

    let atlas = common::atlas();
    let bbox = Rect::new((-1.215, 51.705), (-1.185, 51.725));
    let bbox_expected = atlas
        .lsoa21
        .iter()
        .filter(|l| l.geometry.lonlat.intersects(&bbox))
        .count();
    let mut collections: BTreeSet<String> = ["lsoa", "lsoa-2011", "wards", "districts", "assets"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    collections.extend(atlas.categories.iter().map(|c| format!("assets-{}", c.id)));

    let server = start_server();
    let source = format!("OAPIF:{}", server.url);

    // ogrinfo lists every collection as a layer.
    let info = run("ogrinfo", &["-ro", "-so", "-q", &source]);
    let listing = String::from_utf8_lossy(&info.stdout);
    let layers: BTreeSet<String> = listing
        .lines()
        .filter_map(|l| {
            l.split_once(": ")
                .map(|(_, rest)| rest.split(" (").next().unwrap_or(rest).trim().to_owned())
        })
        .collect();
    for c in &collections {
        assert!(layers.contains(c), "ogrinfo does not list {c}:\n{listing}");
    }

    // ogr2ogr copies every LSOA, with the IMD fields, into a GeoPackage.
    let dir = tempfile::tempdir().expect("temp dir");
    let gpkg = dir.path().join("out.gpkg");
    let gpkg_s = gpkg.to_str().expect("UTF-8 temp path");
    run("ogr2ogr", &["-f", "GPKG", gpkg_s, &source, "lsoa"]);
    assert!(Path::new(gpkg_s).exists());
    let info = run("ogrinfo", &["-ro", "-so", gpkg_s, "lsoa"]);
    let summary = String::from_utf8_lossy(&info.stdout);
    assert!(summary.contains("Feature Count: 429"), "{summary}");
    assert!(summary.contains("imd_decile:"), "{summary}");
    assert!(summary.contains("health_score:"), "{summary}");

    // OWSLib: collections, bbox, paging and a filter.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/owslib_check.py");
    let out = run(
        "python3",
        &[
            script.to_str().expect("UTF-8 path"),
            &server.url,
            &bbox_expected.to_string(),
        ],
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("owslib ok"), "{said}");
    drop(server);
}
