//! Malformed inputs give the intended error, naming the file and, where it
//! applies, the row and column. Each test writes its own small broken file.
#![allow(clippy::expect_used)] // fixtures that cannot be written should stop the test

mod common;

use std::path::Path;

use gapmap::config::{AtlasConfig, BoundaryConfig, PopulationConfig, TableRef};
use gapmap::sources::{read_boundaries, tables::read_population, SourceError};

fn population(file: &str) -> PopulationConfig {
    PopulationConfig {
        table: TableRef {
            path: file.into(),
            layer: None,
            open_options: vec![],
        },
        lsoa: "lsoa21_code".into(),
        residents: "total_residents".into(),
        provenance: common::test_provenance(),
    }
}

fn boundaries(file: &str) -> BoundaryConfig {
    BoundaryConfig {
        table: TableRef {
            path: file.into(),
            layer: None,
            open_options: vec![],
        },
        code: "code".into(),
        name: "name".into(),
        provenance: common::test_provenance(),
        recode: std::collections::BTreeMap::default(),
    }
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write fixture");
}

#[test]
fn missing_file_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = read_population(dir.path(), &population("nope.csv")).unwrap_err();
    assert!(
        matches!(&err, SourceError::MissingFile { file } if file.ends_with("nope.csv")),
        "{err}"
    );
    assert!(err.to_string().contains("nope.csv: file not found"));
}

#[test]
fn empty_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "empty.csv", "");
    let err = read_population(dir.path(), &population("empty.csv")).unwrap_err();
    assert!(matches!(err, SourceError::Empty { .. }), "{err}");
    write(
        dir.path(),
        "header_only.csv",
        "lsoa21_code,total_residents\n",
    );
    let err = read_population(dir.path(), &population("header_only.csv")).unwrap_err();
    assert!(matches!(err, SourceError::Empty { .. }), "{err}");
}

#[test]
fn missing_column_names_file_and_column() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pop.csv",
        "lsoa21_code,residents\nE01000001,1474\n",
    );
    let err = read_population(dir.path(), &population("pop.csv")).unwrap_err();
    match &err {
        SourceError::MissingColumn {
            file,
            column,
            available,
        } => {
            assert!(file.ends_with("pop.csv"));
            assert_eq!(column, "total_residents");
            assert!(available.contains("residents"));
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn unparseable_number_names_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pop.csv",
        "lsoa21_code,total_residents\nE01000001,1474.0\nE01000002,many\n",
    );
    let err = read_population(dir.path(), &population("pop.csv")).unwrap_err();
    match &err {
        SourceError::BadValue {
            row, column, value, ..
        } => {
            assert_eq!(*row, 2);
            assert_eq!(column, "total_residents");
            assert_eq!(value, "many");
        }
        other => panic!("unexpected {other}"),
    }
    assert!(
        err.to_string().contains("row 2, column 'total_residents'"),
        "{err}"
    );
}

#[test]
fn good_population_file_reads() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pop.csv",
        "lsoa21_code,total_residents\nE01000001,1474.0\n",
    );
    let map = read_population(dir.path(), &population("pop.csv")).unwrap();
    assert_eq!(map.get("E01000001"), Some(&1474));
}

const SQUARE: &str = "[[[-1.2,51.7],[-1.1,51.7],[-1.1,51.8],[-1.2,51.8],[-1.2,51.7]]]";

fn collection(features: &[(&str, &str)]) -> String {
    let f: Vec<String> = features
        .iter()
        .map(|(code, geometry)| {
            format!(r#"{{"type":"Feature","properties":{{"code":"{code}","name":"n"}},"geometry":{geometry}}}"#)
        })
        .collect();
    format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        f.join(",")
    )
}

#[test]
fn valid_polygon_is_read_in_both_crss() {
    let dir = tempfile::tempdir().unwrap();
    let poly = format!(r#"{{"type":"Polygon","coordinates":{SQUARE}}}"#);
    write(dir.path(), "b.geojson", &collection(&[("A", &poly)]));
    let areas = read_boundaries(dir.path(), &boundaries("b.geojson"), |_| true).unwrap();
    assert_eq!(areas.len(), 1);
    let bng = areas[0].geometry.bng_bbox;
    // -1.2, 51.7 is near Oxford: easting ~452 km, northing ~202 km.
    assert!((440_000.0..460_000.0).contains(&bng.min().x), "{bng:?}");
    assert!((190_000.0..215_000.0).contains(&bng.min().y), "{bng:?}");
}

#[test]
fn point_where_polygon_expected_is_invalid_geometry_with_row() {
    let dir = tempfile::tempdir().unwrap();
    let poly = format!(r#"{{"type":"Polygon","coordinates":{SQUARE}}}"#);
    let point = r#"{"type":"Point","coordinates":[-1.2,51.7]}"#;
    write(
        dir.path(),
        "b.geojson",
        &collection(&[("A", &poly), ("B", point)]),
    );
    let err = read_boundaries(dir.path(), &boundaries("b.geojson"), |_| true).unwrap_err();
    match &err {
        SourceError::InvalidGeometry { row, reason, .. } => {
            assert_eq!(*row, 2);
            assert!(reason.contains("point"), "{reason}");
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn degenerate_ring_is_invalid_geometry() {
    let dir = tempfile::tempdir().unwrap();
    let ring = r#"{"type":"Polygon","coordinates":[[[-1.2,51.7],[-1.1,51.7],[-1.2,51.7]]]}"#;
    write(dir.path(), "b.geojson", &collection(&[("A", ring)]));
    let err = read_boundaries(dir.path(), &boundaries("b.geojson"), |_| true).unwrap_err();
    assert!(
        matches!(err, SourceError::InvalidGeometry { row: 1, .. }),
        "{err}"
    );
}

#[test]
fn missing_geometry_is_invalid_geometry() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "b.geojson", &collection(&[("A", "null")]));
    let err = read_boundaries(dir.path(), &boundaries("b.geojson"), |_| true).unwrap_err();
    assert!(
        err.to_string()
            .contains("row 1: invalid geometry: missing geometry"),
        "{err}"
    );
}

#[test]
fn areas_outside_the_filter_are_not_even_validated() {
    let dir = tempfile::tempdir().unwrap();
    let point = r#"{"type":"Point","coordinates":[-1.2,51.7]}"#;
    let poly = format!(r#"{{"type":"Polygon","coordinates":{SQUARE}}}"#);
    write(
        dir.path(),
        "b.geojson",
        &collection(&[("OUT", point), ("IN", &poly)]),
    );
    let areas = read_boundaries(dir.path(), &boundaries("b.geojson"), |c| c == "IN").unwrap();
    assert_eq!(areas.len(), 1);
    assert_eq!(areas[0].code, "IN");
}

#[test]
fn default_definition_parses_and_bad_references_are_rejected() {
    let config = AtlasConfig::default_definition().unwrap();
    assert_eq!(config.default_region, "oxfordshire");
    assert_eq!(config.regions["oxfordshire"].districts.len(), 5);
    let broken = gapmap::config::DEFAULT_ATLAS_TOML
        .replace("category = \"pharmacy\"", "category = \"pharmacies\"");
    let err = AtlasConfig::from_toml(&broken, Path::new("x.toml")).unwrap_err();
    assert!(err.to_string().contains("'pharmacies'"), "{err}");
    assert!(config
        .region("mars")
        .unwrap_err()
        .to_string()
        .contains("oxfordshire"));
}
