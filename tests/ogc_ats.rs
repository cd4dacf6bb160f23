//! The OGC abstract test suites against the real binary: every abstract
//! test of every conformance class `/conformance` declares (Part 1 Core,
//! GeoJSON, HTML, OAS 3.0; Part 2 CRS; Part 3 Queryables and Filter; the
//! CQL2 classes; Part 4 create-replace-delete, update and ETags), each
//! reported under its ATS identifier by `tests/clients/ogc_ats.py`, which
//! recomputes every expected selection itself (shapely, pyproj, a CQL2
//! evaluator of its own) from the features fetched without filters. Also
//! `sortby` on queryables of every collection, both directions, paged.
//!
//! The register gets a few entries first (`tests/clients/seed_register.py`),
//! so its collection is tested with features, non-ASCII names among them.
//! Needs python3 with pyproj, shapely and openapi-spec-validator
//! (scripts/install).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use common::server::{make_token, Launch};

fn script(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(name)
        .to_str()
        .expect("UTF-8 path")
        .to_owned()
}

fn python(args: &[&str]) -> (bool, String, String) {
    let out = Command::new("python3")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("python3 is required ({e})"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_declared_class_passes_its_abstract_tests() {
    let (ok, _, err) = python(&["-c", "import pyproj, shapely, openapi_spec_validator"]);
    assert!(
        ok,
        "python3 lacks pyproj, shapely or openapi-spec-validator: run scripts/install\n{err}"
    );
    let server = Launch::new().env_remove("GAPMAP_PUBLIC_URL").start();
    let store = [OsStr::new("--state-dir"), server.state_path().as_os_str()];
    let token = make_token(&store, "ats-editor", "editor");
    let (ok, out, err) = python(&[&script("seed_register.py"), &server.url, &token]);
    assert!(ok, "seeding the register failed:\n{out}\n{err}");

    let (ok, out, err) = python(&[&script("ogc_ats.py"), &server.url, &token]);
    println!("{out}");
    assert!(ok, "abstract tests failed (FAIL lines above):\n{err}");
    assert!(!out.contains("FAIL "), "{out}");

    // Every declared class was run, with at least one passing test.
    let conformance = common::http::Client::new(server.addr).get_json("/conformance");
    let summary = out.split("SUMMARY\n").nth(1).expect("a summary");
    for class in conformance["conformsTo"].as_array().unwrap() {
        let short = class
            .as_str()
            .unwrap()
            .trim_start_matches("http://www.opengis.net/spec/");
        let line = summary
            .lines()
            .find(|l| l.starts_with(&format!("{short}:")))
            .unwrap_or_else(|| panic!("no abstract tests ran for {short}"));
        assert!(!line.contains(" 0 pass"), "{line}");
    }
    // Named by ATS identifiers, a few by hand.
    for id in [
        "PASS /conf/core/fc-limit-response",
        "PASS /conf/core/fc-bbox-response",
        "PASS /conf/crs/crs-parameter-transform",
        "PASS /conf/filter/filter-crs-wgs84",
        "PASS /conf/case-insensitive-comparison/casei",
        "PASS /conf/spatial-functions/s_within",
        "PASS /conf/create-replace-delete/update/put/rid-exception",
        "PASS /conf/optimistic-locking-etags/ifmatch-put-eval",
        "PASS sortby",
    ] {
        assert!(out.contains(id), "{id} missing:\n{out}");
    }
}
