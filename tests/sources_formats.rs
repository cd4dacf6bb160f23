//! The native CSV and GeoJSON readers and the GDAL reader give the same
//! rows, and boundaries in British National Grid load like those in CRS84.
//! Fixtures are cut from the real data with `ogr2ogr` into a temporary
//! folder; nothing is copied into the repository.
#![allow(clippy::expect_used, clippy::unwrap_used)] // fixtures that cannot be made should stop the test

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use gapmap::config::{BoundaryConfig, TableRef};
use gapmap::sources::table::Table;
use gapmap::sources::{read_boundaries, RawArea};

/// Blackbird Leys and Littlemore LSOAs (Oxford), as published.
const CODES: [&str; 4] = ["E01028513", "E01028514", "E01028569", "E01028570"];

fn boundary_config(path: &Path, layer: Option<&str>) -> BoundaryConfig {
    BoundaryConfig {
        table: TableRef {
            path: path.display().to_string(),
            layer: layer.map(str::to_owned),
            open_options: vec![],
        },
        code: "lsoa21_code".into(),
        name: "lsoa21_name".into(),
        provenance: common::test_provenance(),
        recode: std::collections::BTreeMap::default(),
    }
}

/// Cuts the four LSOAs out of the real 2021 boundary file with ogr2ogr.
fn cut(dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let source = common::data_dir().join("boundaries/lsoa21_ew_bsc.geojson");
    let out = dir.join(name);
    let filter = format!(
        "lsoa21_code IN ({})",
        CODES.map(|c| format!("'{c}'")).join(",")
    );
    let status = Command::new("ogr2ogr")
        .args(extra)
        .arg("-where")
        .arg(&filter)
        .arg(&out)
        .arg(&source)
        .status()
        .expect("run ogr2ogr (gdal-bin)");
    assert!(status.success(), "ogr2ogr failed for {name}");
    out
}

fn read(path: &Path, layer: Option<&str>) -> Vec<RawArea> {
    let mut areas = read_boundaries(Path::new("/"), &boundary_config(path, layer), |_| true)
        .expect("read boundaries");
    areas.sort_by(|a, b| a.code.cmp(&b.code));
    areas
}

fn max_vertex_gap(a: &geo::MultiPolygon<f64>, b: &geo::MultiPolygon<f64>) -> f64 {
    use geo::CoordsIter;
    assert_eq!(a.coords_count(), b.coords_count(), "vertex counts differ");
    a.coords_iter()
        .zip(b.coords_iter())
        .map(|(p, q)| (p.x - q.x).hypot(p.y - q.y))
        .fold(0.0, f64::max)
}

#[test]
fn native_geojson_equals_gdal_geojson() {
    let dir = tempfile::tempdir().unwrap();
    let file = cut(
        dir.path(),
        "four.geojson",
        &["-f", "GeoJSON", "-nln", "four"],
    );
    let native = read(&file, None);
    // Naming the layer sends the same file through GDAL's GeoJSON driver.
    let gdal = read(&file, Some("four"));
    assert_eq!(native.len(), 4);
    let codes: Vec<&str> = native.iter().map(|a| a.code.as_str()).collect();
    assert_eq!(codes, CODES);
    for (n, g) in native.iter().zip(&gdal) {
        assert_eq!(n.code, g.code);
        assert_eq!(n.name, g.name);
        assert!(n.name.starts_with("Oxford "), "{}", n.name);
        assert!(max_vertex_gap(&n.geometry.lonlat, &g.geometry.lonlat) < 1e-12);
        assert!(max_vertex_gap(&n.geometry.bng, &g.geometry.bng) < 1e-6);
    }
}

#[test]
fn bng_geopackage_and_geojson_load_like_crs84() {
    let dir = tempfile::tempdir().unwrap();
    let crs84 = cut(dir.path(), "four.geojson", &["-f", "GeoJSON"]);
    let gpkg = cut(
        dir.path(),
        "four_bng.gpkg",
        &["-f", "GPKG", "-t_srs", "EPSG:27700", "-nln", "lsoa"],
    );
    // GeoJSON with a (pre-RFC 7946) `crs` member naming EPSG:27700, read natively.
    let bng_json = cut(
        dir.path(),
        "four_bng.geojson",
        &["-f", "GeoJSON", "-t_srs", "EPSG:27700"],
    );
    let text = std::fs::read_to_string(&bng_json).unwrap();
    assert!(text.contains("EPSG::27700"), "ogr2ogr wrote no crs member");

    let reference = read(&crs84, None);
    for other in [read(&gpkg, Some("lsoa")), read(&bng_json, None)] {
        assert_eq!(other.len(), reference.len());
        for (o, r) in other.iter().zip(&reference) {
            assert_eq!(o.code, r.code);
            // Both went through the same PROJ transformation once; the BNG
            // file's CRS84 side is the inverse, so agrees to well under 1 mm.
            assert!(max_vertex_gap(&o.geometry.bng, &r.geometry.bng) < 0.01);
            assert!(max_vertex_gap(&o.geometry.lonlat, &r.geometry.lonlat) < 1e-7);
        }
    }
}

/// Every cell of every row, as text.
fn cells(table: &Table, columns: &[&str]) -> Vec<Vec<Option<String>>> {
    let cols: Vec<_> = columns
        .iter()
        .map(|c| table.column(c).expect("column"))
        .collect();
    let mut rows = Vec::new();
    table
        .for_each_row(|row| {
            rows.push(cols.iter().map(|c| row.text(c)).collect());
            Ok(())
        })
        .expect("rows");
    rows
}

#[test]
fn native_csv_equals_gdal_csv() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("quirks.csv");
    // A byte-order mark, a quoted comma, a quoted quote, a blank cell, padding
    // and a short row.
    std::fs::write(
        &file,
        "\u{feff}code,name,value\nE01028513,\"Oxford 016A, Blackbird Leys\",3\nE01028514,\"The \"\"Leys\"\"\",\n E01028569 ,  padded  ,7.5\nE01028570\n",
    )
    .unwrap();
    let native = Table::open(&file, None, &[]).unwrap();
    // An open option the native reader does not implement sends the file
    // through GDAL's CSV driver.
    let gdal = Table::open(&file, None, &["AUTODETECT_TYPE=NO"]).unwrap();
    let columns = ["code", "name", "value"];
    let (n, g) = (cells(&native, &columns), cells(&gdal, &columns));
    assert_eq!(n, g);
    assert_eq!(n.len(), 4);
    assert_eq!(n[0][1].as_deref(), Some("Oxford 016A, Blackbird Leys"));
    assert_eq!(n[1][1].as_deref(), Some("The \"Leys\""));
    assert_eq!(n[1][2], None);
    assert_eq!(n[2][0].as_deref(), Some("E01028569"));
    assert_eq!(n[3][1], None);

    // Without headers, columns are field_1, field_2, ... in both readers.
    let native = Table::open(&file, None, &["HEADERS=NO"]).unwrap();
    let gdal = Table::open(&file, None, &["HEADERS=NO", "AUTODETECT_TYPE=NO"]).unwrap();
    let columns = ["field_1", "field_2", "field_3"];
    let (n, g) = (cells(&native, &columns), cells(&gdal, &columns));
    assert_eq!(n, g);
    assert_eq!(n.len(), 5);
    assert_eq!(n[0][0].as_deref(), Some("code"));
}
