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

// ---------------------------------------------------------------------------
// Truncated and corrupt files, invalid geometry, and configuration keys and
// ranges. Each test writes its own broken copy into a temporary folder.
// ---------------------------------------------------------------------------

#[test]
fn csv_cut_inside_a_row_names_file_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    // Cut after the code of row 2: one of two cells, no line break.
    write(
        dir.path(),
        "pop.csv",
        "lsoa21_code,total_residents\nE01000001,1474\nE01000002",
    );
    let err = read_population(dir.path(), &population("pop.csv")).unwrap_err();
    match &err {
        SourceError::Truncated {
            file, row, column, ..
        } => {
            assert!(file.ends_with("pop.csv"));
            assert_eq!(*row, 2);
            assert_eq!(column, "lsoa21_code");
        }
        other => panic!("unexpected {other}"),
    }
    assert!(err.to_string().contains("truncated"), "{err}");
}

#[test]
fn csv_cut_inside_a_quoted_value_is_truncated() {
    let dir = tempfile::tempdir().unwrap();
    // The quoted value spans a line break, so the file does end with one.
    write(
        dir.path(),
        "pop.csv",
        "lsoa21_code,total_residents\nE01000001,1474\nE01000002,\"15\n",
    );
    let err = read_population(dir.path(), &population("pop.csv")).unwrap_err();
    assert!(
        matches!(&err, SourceError::Truncated { row: 2, column, .. } if column == "total_residents"),
        "{err}"
    );
}

#[test]
fn csv_without_final_line_break_but_whole_last_row_reads() {
    // Many editors write no final line break; a whole row is not a cut.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pop.csv",
        "lsoa21_code,total_residents\nE01000001,1474\nE01000002,1509",
    );
    let map = read_population(dir.path(), &population("pop.csv")).unwrap();
    assert_eq!(map.get("E01000002"), Some(&1509));
}

#[test]
fn truncated_geojson_names_file_and_position() {
    let dir = tempfile::tempdir().unwrap();
    let poly = format!(r#"{{"type":"Polygon","coordinates":{SQUARE}}}"#);
    let whole = collection(&[("A", &poly), ("B", &poly)]);
    let cut = &whole[..whole.len() / 2];
    write(dir.path(), "b.geojson", cut);
    let err = read_boundaries(dir.path(), &boundaries("b.geojson"), |_| true).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, SourceError::Open { .. }), "{text}");
    assert!(text.contains("b.geojson"), "{text}");
    // The whole document is one line, so the parser stops at its end.
    assert!(
        text.contains(&format!("line 1 column {}", cut.len())),
        "{text}"
    );
    assert!(text.contains("truncated"), "{text}");
}

#[test]
fn unclosed_ring_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    // The square without its closing position.
    let open =
        r#"{"type":"Polygon","coordinates":[[[-1.2,51.7],[-1.1,51.7],[-1.1,51.8],[-1.2,51.8]]]}"#;
    write(dir.path(), "b.geojson", &collection(&[("A", open)]));
    let areas = read_boundaries(dir.path(), &boundaries("b.geojson"), |_| true).unwrap();
    let ring = &areas[0].geometry.lonlat.0[0].exterior().0;
    assert_eq!(ring.len(), 5);
    assert_eq!(ring[4], ring[0]);
    assert!((ring[0].x - -1.2).abs() < 1e-12 && (ring[0].y - 51.7).abs() < 1e-12);
}

#[test]
fn unclosed_ring_that_closes_into_a_bow_tie_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    // Closing (-1.2,51.7) → (-1.1,51.8) → (-1.1,51.7) → (-1.2,51.8) crosses itself.
    let open =
        r#"{"type":"Polygon","coordinates":[[[-1.2,51.7],[-1.1,51.8],[-1.1,51.7],[-1.2,51.8]]]}"#;
    let poly = format!(r#"{{"type":"Polygon","coordinates":{SQUARE}}}"#);
    write(
        dir.path(),
        "b.geojson",
        &collection(&[("GOOD", &poly), ("BAD", open)]),
    );
    let err = read_boundaries(dir.path(), &boundaries("b.geojson"), |_| true).unwrap_err();
    match &err {
        SourceError::InvalidGeometry { row, reason, .. } => {
            assert_eq!(*row, 2);
            assert!(reason.contains("feature BAD"), "{reason}");
            assert!(reason.contains("crosses or touches itself"), "{reason}");
            assert!(reason.contains("open"), "{reason}");
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn self_intersecting_polygon_is_an_error_naming_file_and_feature() {
    let dir = tempfile::tempdir().unwrap();
    // A bow-tie whose two edges cross at (-1.15, 51.75).
    let bow_tie = r#"{"type":"Polygon","coordinates":[[[-1.2,51.7],[-1.1,51.8],[-1.1,51.7],[-1.2,51.8],[-1.2,51.7]]]}"#;
    write(
        dir.path(),
        "b.geojson",
        &collection(&[("E01099999", bow_tie)]),
    );
    let err = read_boundaries(dir.path(), &boundaries("b.geojson"), |_| true).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(&err, SourceError::InvalidGeometry { file, row: 1, .. } if file.ends_with("b.geojson")),
        "{text}"
    );
    assert!(text.contains("feature E01099999"), "{text}");
    assert!(text.contains("near (-1.15, 51.75)"), "{text}");
}

#[test]
fn truncated_osm_pbf_is_an_error_naming_the_file() {
    let config = AtlasConfig::default_definition().unwrap();
    let osm = config
        .asset_sources
        .iter()
        .find(|s| s.id == "osm")
        .expect("osm source");
    let real = common::data_dir().join(&osm.table.path);
    let bytes = std::fs::read(&real).expect("read the OSM extract");

    // The whole file reads without error...
    let whole = gapmap::sources::read_asset_source(&common::data_dir(), osm).unwrap();
    assert!(whole.assets.len() > 100, "{}", whole.assets.len());

    // ...and each cut copy fails, naming the file, wherever the cut falls.
    for fraction in [2, 3, 10] {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join(&osm.table.path);
        std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
        std::fs::write(&copy, &bytes[..bytes.len() / fraction]).unwrap();
        let err = gapmap::sources::read_asset_source(dir.path(), osm).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, SourceError::Gdal { .. }), "{text}");
        assert!(text.contains("osm_oxford_2012.osm.pbf"), "{text}");
        assert!(text.contains("truncated or corrupt"), "{text}");
    }
}

/// 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("needle in text")
        + 1
}

#[test]
fn misspelt_key_names_file_line_and_nearest_key() {
    let broken = gapmap::config::DEFAULT_ATLAS_TOML
        .replace("dedupe_within_m = 100.0", "dedupe_within = 100.0");
    let line = line_of(&broken, "dedupe_within = 100.0");
    let err = AtlasConfig::from_toml(&broken, Path::new("my-atlas.toml")).unwrap_err();
    let text = err.to_string();
    match &err {
        gapmap::config::ConfigError::UnknownKey(k) => {
            assert_eq!(k.path, Path::new("my-atlas.toml"));
            assert_eq!(k.line, line);
            assert_eq!(k.column, 1);
            assert_eq!(k.key, "dedupe_within");
            assert_eq!(k.nearest, "dedupe_within_m");
            assert_eq!(k.section.as_deref(), Some("[[asset_sources]]"));
        }
        other => panic!("unexpected {other}"),
    }
    assert!(
        text.contains(&format!("my-atlas.toml: line {line},")),
        "{text}"
    );
}

#[test]
fn unknown_key_beside_a_table_path_is_rejected() {
    // These tables embed path/layer/open_options; they used to accept anything.
    for (from, to, nearest) in [
        (
            "residents = \"total_residents\"",
            "resident = \"total_residents\"",
            "residents",
        ),
        (
            "path = \"boundaries/lsoa21_ew_bsc.geojson\"",
            "paht = \"boundaries/lsoa21_ew_bsc.geojson\"",
            "path",
        ),
        ("key = \"lsoa21_code\"", "keys = \"lsoa21_code\"", "key"),
    ] {
        let broken = gapmap::config::DEFAULT_ATLAS_TOML.replacen(from, to, 1);
        let line = line_of(&broken, to);
        let err = AtlasConfig::from_toml(&broken, Path::new("x.toml")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(&format!("line {line},")), "{text}");
        assert!(
            text.contains(&format!("nearest valid key is '{nearest}'")),
            "{text}"
        );
    }
}

#[test]
fn a_key_of_another_kind_of_source_is_rejected() {
    // lat_column means nothing to a postcode-located source.
    let broken = gapmap::config::DEFAULT_ATLAS_TOML.replacen(
        "postcode_column = \"field_10\"",
        "postcode_column = \"field_10\"\nlat_column = \"field_11\"",
        1,
    );
    let err = AtlasConfig::from_toml(&broken, Path::new("x.toml")).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("'lat_column' does not apply to kind = \"postcode\""),
        "{text}"
    );
    assert!(text.contains("nhs_gp"), "{text}");
}

#[test]
fn numeric_settings_out_of_range_name_the_line() {
    let cases = [
        (
            "edge_buffer_m = 5000.0",
            "edge_buffer_m = -5000.0",
            "edge_buffer_m = -5000 is out of range",
        ),
        (
            "edge_buffer_m = 5000.0",
            "edge_buffer_m = nan",
            "edge_buffer_m = NaN is out of range",
        ),
        (
            "dedupe_within_m = 100.0",
            "dedupe_within_m = -1.0",
            "dedupe_within_m = -1 is out of range",
        ),
        (
            "dedupe_within_m = 100.0",
            "dedupe_within_m = 50000.0",
            "dedupe_within_m = 50000 is out of range",
        ),
        (
            "areas_ranked = 33755",
            "areas_ranked = 0",
            "areas_ranked = 0",
        ),
        ("year = 2025", "year = 25", "year = 25 is out of range"),
        ("postcode = 1", "postcode = 0", "column position 0"),
        (
            "bbox = [-1.345, 51.748, -1.241, 51.797]",
            "bbox = [-1.241, 51.748, -1.345, 51.797]",
            "each minimum below its maximum",
        ),
    ];
    for (from, to, expected) in cases {
        let broken = gapmap::config::DEFAULT_ATLAS_TOML.replacen(from, to, 1);
        assert_ne!(broken, gapmap::config::DEFAULT_ATLAS_TOML, "{from}");
        let line = line_of(&broken, to);
        let err = AtlasConfig::from_toml(&broken, Path::new("x.toml")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(expected), "{to}: {text}");
        assert!(
            text.contains(&format!("line {line}, column")),
            "{to}: {text}"
        );
    }
    // The boundaries themselves are accepted.
    let zero = gapmap::config::DEFAULT_ATLAS_TOML
        .replacen("edge_buffer_m = 5000.0", "edge_buffer_m = 0.0", 1)
        .replacen("dedupe_within_m = 100.0", "dedupe_within_m = 0", 1);
    let config = AtlasConfig::from_toml(&zero, Path::new("x.toml")).unwrap();
    assert!(config.regions["oxfordshire"].edge_buffer_m.abs() < f64::EPSILON);
    let osm = config.asset_sources.iter().find(|s| s.id == "osm").unwrap();
    assert!(osm.dedupe_within_m.is_some_and(|d| d.abs() < f64::EPSILON));
}

#[test]
fn checks_across_keys_name_the_line_and_nearest_value() {
    for (from, to, expected) in [
        (
            "category = \"pharmacy\"",
            "category = \"pharmacies\"",
            "uses category 'pharmacies'",
        ),
        (
            "\"imd.decile\" = \"IMD_decile\"",
            "\"imdd.decile\" = \"IMD_decile\"",
            "column key 'imdd.decile' names no indicator; the nearest defined one is 'imd'",
        ),
        (
            "\"imd.rank\" = \"IMD_rank\"",
            "\"imd.rnk\" = \"IMD_rank\"",
            "(nearest: 'imd.rank')",
        ),
        (
            "kind = \"subdomain\" }",
            "kind = \"sub-domain\" }",
            "has kind 'sub-domain'; expected one of index, domain, subdomain, supplementary (nearest: 'subdomain')",
        ),
    ] {
        let broken = gapmap::config::DEFAULT_ATLAS_TOML.replacen(from, to, 1);
        let line = line_of(&broken, to);
        let err = AtlasConfig::from_toml(&broken, Path::new("x.toml")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(expected), "{to}: {text}");
        assert!(text.contains(&format!("x.toml: line {line}: ")), "{to}: {text}");
    }
}
