//! QGIS, headless, against the real binary: its OAPIF provider loads every
//! collection (the register with a few entries in it) and reads the same
//! features, attributes and coordinates as plain HTTP; a bbox request and a
//! layer filter select what GDAL's geometry engine and plain Python select
//! (`tests/clients/qgis_check.py`). QGIS is Debian's `python3-qgis` (3.22),
//! installed by scripts/install for Debian's own python3, run with
//! `QT_QPA_PLATFORM=offscreen`; a missing QGIS fails the test saying so.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use common::server::{make_token, Launch};

/// Debian's python3, which python3-qgis installs for (pyenv's may come
/// first on PATH).
const DEBIAN_PYTHON: &str = "/usr/bin/python3";

fn script(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(name)
        .to_str()
        .expect("UTF-8 path")
        .to_owned()
}

#[test]
fn qgis_reads_every_collection_with_bbox_and_filter() {
    let probe = Command::new(DEBIAN_PYTHON)
        .args(["-c", "import qgis.core, osgeo.ogr"])
        .output()
        .unwrap_or_else(|e| panic!("{DEBIAN_PYTHON} is required ({e})"));
    assert!(
        probe.status.success(),
        "QGIS is not installed for {DEBIAN_PYTHON}: apt-get install python3-qgis python3-gdal (scripts/install)\n{}",
        String::from_utf8_lossy(&probe.stderr)
    );

    let server = Launch::new().env_remove("GAPMAP_PUBLIC_URL").start();
    let store = [OsStr::new("--state-dir"), server.state_path().as_os_str()];
    let token = make_token(&store, "qgis-editor", "editor");
    let seed = Command::new(DEBIAN_PYTHON)
        .args([&script("seed_register.py"), &server.url, &token])
        .output()
        .expect("run seed_register.py");
    assert!(
        seed.status.success(),
        "seeding the register failed: {}",
        String::from_utf8_lossy(&seed.stderr)
    );

    let runtime = tempfile::tempdir().unwrap();
    let out = Command::new(DEBIAN_PYTHON)
        .arg(script("qgis_check.py"))
        .arg(&server.url)
        .env("QT_QPA_PLATFORM", "offscreen")
        .env("XDG_RUNTIME_DIR", runtime.path())
        // QGIS keeps settings and caches under HOME; keep them out of ours.
        .env("HOME", runtime.path())
        .output()
        .expect("run qgis_check.py");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "QGIS check failed:\n{said}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{said}");
    assert!(said.contains("qgis ok"), "{said}");
    assert!(said.contains("register: 7 features"), "{said}");
}
