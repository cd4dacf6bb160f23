//! The `gapmap check` command, run as a user would.
#![allow(clippy::unwrap_used)] // fixtures that cannot be built should stop the test

use std::process::Command;

mod common;

fn gapmap() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gapmap"))
}

fn data_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/geodata")
}

#[test]
fn check_prints_counts_coverage_and_timings() {
    let out = gapmap()
        .args(["check", "--quiet", "--data-dir"])
        .arg(data_dir())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("LSOAs 2021               429"), "{text}");
    assert!(text.contains("LSOAs 2011               407"), "{text}");
    assert!(
        text.contains(
            // 23 best-fit wards and Holywell, which no LSOA best-fits (issue 13).
            "E07000178 Oxford                   24 wards    84 LSOAs 2021    83 LSOAs 2011"
        ),
        "{text}"
    );
    assert!(
        text.contains("LSOAs 2021 without IMD 2025           0"),
        "{text}"
    );
    assert!(text.contains("Rows not geocoded:"), "{text}");
    assert!(text.contains("peak memory (RSS)"), "{text}");
    assert!(text.contains("ODbL-1.0"), "{text}");
}

#[test]
fn missing_data_dir_fails_with_a_clear_message() {
    let out = gapmap()
        .args(["check", "--quiet", "--data-dir", "/nonexistent/geodata"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/geodata"), "{err}");
}

#[test]
fn a_broken_source_fails_naming_file_row_and_column() {
    // A data directory that is the real one except for a corrupt population table.
    let dir = tempfile::tempdir().unwrap();
    let real = data_dir();
    for entry in std::fs::read_dir(&real).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "population" {
            std::os::unix::fs::symlink(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
    }
    std::fs::create_dir(dir.path().join("population")).unwrap();
    std::fs::write(
        dir.path()
            .join("population/census21_usual_residents_lsoa21.csv"),
        "lsoa21_code,total_residents\nE01028513,12x\n",
    )
    .unwrap();
    let out = gapmap()
        .args(["check", "--quiet", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("census21_usual_residents_lsoa21.csv: row 1, column 'total_residents': cannot parse '12x'"),
        "{err}"
    );
}

#[test]
fn unknown_region_lists_the_known_ones() {
    let out = gapmap()
        .args(["check", "--quiet", "--region", "atlantis", "--data-dir"])
        .arg(data_dir())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown region 'atlantis'") && err.contains("england"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------
// Broken copies of the data: each test builds a data directory of symlinks
// to the real files, with the one broken file written into a tempdir.
// ---------------------------------------------------------------------------

/// A data directory that is the real one except for `replaced`
/// (`"dir/file"` → contents); the real files are linked, never copied.
fn broken_copy(replaced: &[(&str, Vec<u8>)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let real = data_dir();
    for entry in std::fs::read_dir(&real).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let inside: Vec<&(&str, Vec<u8>)> = replaced
            .iter()
            .filter(|(p, _)| p.starts_with(&format!("{name}/")))
            .collect();
        if inside.is_empty() {
            std::os::unix::fs::symlink(entry.path(), dir.path().join(&name)).unwrap();
            continue;
        }
        std::fs::create_dir(dir.path().join(&name)).unwrap();
        for file in std::fs::read_dir(entry.path()).unwrap() {
            let file = file.unwrap();
            let rel = format!("{name}/{}", file.file_name().to_string_lossy());
            if !inside.iter().any(|(p, _)| *p == rel) {
                std::os::unix::fs::symlink(file.path(), dir.path().join(&rel)).unwrap();
            }
        }
        for (rel, bytes) in inside {
            std::fs::write(dir.path().join(rel), bytes).unwrap();
        }
    }
    dir
}

/// The real file's first `keep` lines (header included), each with its line break.
fn first_lines(rel: &str, keep: usize) -> (Vec<u8>, Vec<String>) {
    let text = std::fs::read_to_string(data_dir().join(rel)).unwrap();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let dropped = lines[keep..]
        .iter()
        .map(|l| l.trim_end().to_owned())
        .collect();
    (lines[..keep].concat().into_bytes(), dropped)
}

/// Runs `gapmap check` on a data directory (and optional definition file).
fn check(data: &std::path::Path, config: Option<&std::path::Path>) -> (bool, String, String) {
    let mut cmd = gapmap();
    cmd.args(["check", "--quiet", "--data-dir"]).arg(data);
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `gapmap serve` on a data directory and waits (at most two minutes)
/// for it to exit; a server that starts listening instead is killed and
/// reported as `None`.
fn serve_exit(data: &std::path::Path) -> Option<(bool, String)> {
    let launched = common::server::Launch::new()
        .args(&[std::ffi::OsStr::new("--data-dir"), data.as_os_str()])
        .env_remove("GAPMAP_LOG")
        .stderr(common::server::Stderr::Capture)
        .launch(std::time::Duration::from_mins(2));
    match launched {
        Ok(_server) => None,
        Err(exited) => Some((exited.status.success(), exited.stderr)),
    }
}

const POPULATION: &str = "population/census21_usual_residents_lsoa21.csv";
const IMD2025: &str = "deprivation/imd2025_lsoa21.csv";
const WARD_LOOKUP: &str = "lookups/lsoa21_ward24_lad24.csv";

#[test]
fn population_cut_at_a_line_break_is_an_error_counting_the_missing_lsoas() {
    // Half the rows, each whole: no row is malformed, the rest are gone.
    let total = std::fs::read_to_string(data_dir().join(POPULATION))
        .unwrap()
        .lines()
        .count();
    let (bytes, dropped) = first_lines(POPULATION, total / 2);
    let english_dropped = dropped.iter().filter(|l| l.starts_with('E')).count();
    let first_missing = dropped
        .iter()
        .filter(|l| l.starts_with('E'))
        .map(|l| l.split(',').next().unwrap().to_owned())
        .min()
        .unwrap();
    let dir = broken_copy(&[(POPULATION, bytes)]);
    let (ok, out, err) = check(dir.path(), None);
    assert!(!ok, "{out}");
    assert!(err.contains("census21_usual_residents_lsoa21.csv"), "{err}");
    // England has 33,755 LSOAs (IoD2025); every one the cut dropped is named.
    assert!(
        err.contains(&format!(
            "{english_dropped} of the 33755 LSOAs (2021) in England are missing (e.g. {first_missing},"
        )),
        "{err}"
    );
}

#[test]
fn imd_table_cut_at_a_line_break_fails_check_and_serve() {
    // Cut before Oxfordshire's rows (E01028...), as in the reported copy
    // whose server answered imd_decile: null everywhere.
    let (bytes, dropped) = first_lines(IMD2025, 20_000);
    let dir = broken_copy(&[(IMD2025, bytes)]);
    let (ok, out, err) = check(dir.path(), None);
    assert!(!ok, "{out}");
    assert!(
        err.contains(&format!(
            "imd2025_lsoa21.csv: {} of the 33755 LSOAs (2021) in England are missing",
            dropped.len()
        )),
        "{err}"
    );
    // `serve` goes through the same load and refuses to start.
    let (ok, err) = serve_exit(dir.path()).expect("serve started on data check rejects");
    assert!(!ok);
    assert!(err.contains("imd2025_lsoa21.csv"), "{err}");
}

#[test]
fn imd_table_cut_inside_a_row_names_row_and_column() {
    let text = std::fs::read_to_string(data_dir().join(IMD2025)).unwrap();
    // Cut in the middle of data row 20,000 (line 20,001), inside its third cell.
    let start: usize = text.split_inclusive('\n').take(20_000).map(str::len).sum();
    let line = text[start..].lines().next().unwrap();
    let third_cell_end = line.match_indices(',').nth(2).unwrap().0;
    let cut = start + third_cell_end - 1;
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let dir = broken_copy(&[(IMD2025, text.as_bytes()[..cut].to_vec())]);
    let (ok, out, err) = check(dir.path(), None);
    assert!(!ok, "{out}");
    assert!(
        err.contains(&format!(
            "imd2025_lsoa21.csv: row 20000, column '{}'",
            header[2]
        )),
        "{err}"
    );
    assert!(err.contains("truncated"), "{err}");
}

#[test]
fn lookup_cut_at_a_line_break_is_an_error() {
    // The ward lookup decides which LSOAs a region has: cut short, it would
    // silently shrink the region.
    let total = std::fs::read_to_string(data_dir().join(WARD_LOOKUP))
        .unwrap()
        .lines()
        .count();
    let (bytes, dropped) = first_lines(WARD_LOOKUP, total * 2 / 3);
    let english = dropped
        .iter()
        .filter(|l| l.split(',').nth(1).is_some_and(|c| c.starts_with('E')))
        .count();
    let dir = broken_copy(&[(WARD_LOOKUP, bytes)]);
    let (ok, out, err) = check(dir.path(), None);
    assert!(!ok, "{out}");
    assert!(
        err.contains(&format!(
            "lsoa21_ward24_lad24.csv: {english} of the 33755 LSOAs (2021) in England are missing"
        )),
        "{err}"
    );
}

const LSOA21: &str = "boundaries/lsoa21_ew_bsc.geojson";
/// Blackbird Leys, Oxford.
const OXFORD_LSOA: &str = "E01028513";

/// The real 2021 LSOA boundaries with `edit` applied to one Oxford LSOA's
/// first exterior ring.
fn edited_boundaries(edit: impl Fn(&mut Vec<serde_json::Value>)) -> Vec<u8> {
    let text = std::fs::read(data_dir().join(LSOA21)).unwrap();
    let mut doc: serde_json::Value = serde_json::from_slice(&text).unwrap();
    let feature = doc["features"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|f| f["properties"]["lsoa21_code"] == OXFORD_LSOA)
        .unwrap();
    let geometry = &mut feature["geometry"];
    let ring = if geometry["type"] == "Polygon" {
        &mut geometry["coordinates"][0]
    } else {
        &mut geometry["coordinates"][0][0]
    };
    edit(ring.as_array_mut().unwrap());
    serde_json::to_vec(&doc).unwrap()
}

#[test]
fn self_intersecting_lsoa_fails_naming_file_and_feature() {
    let bytes = edited_boundaries(|ring| {
        // A bow-tie over the LSOA's bounding box: its edges cross at the centre.
        let xs: Vec<f64> = ring.iter().map(|p| p[0].as_f64().unwrap()).collect();
        let ys: Vec<f64> = ring.iter().map(|p| p[1].as_f64().unwrap()).collect();
        let (x0, x1) = (
            xs.iter().copied().fold(f64::MAX, f64::min),
            xs.iter().copied().fold(f64::MIN, f64::max),
        );
        let (y0, y1) = (
            ys.iter().copied().fold(f64::MAX, f64::min),
            ys.iter().copied().fold(f64::MIN, f64::max),
        );
        *ring = [[x0, y0], [x1, y1], [x1, y0], [x0, y1], [x0, y0]]
            .iter()
            .map(|p| serde_json::json!(p))
            .collect();
    });
    let dir = broken_copy(&[(LSOA21, bytes)]);
    let (ok, out, err) = check(dir.path(), None);
    assert!(!ok, "{out}");
    assert!(err.contains("lsoa21_ew_bsc.geojson: row"), "{err}");
    assert!(
        err.contains(&format!(
            "feature {OXFORD_LSOA}: polygon 1, ring 1: the ring crosses or touches itself"
        )),
        "{err}"
    );
}

#[test]
fn unclosed_lsoa_ring_is_closed_and_reported() {
    let bytes = edited_boundaries(|ring| {
        ring.pop();
    });
    let dir = broken_copy(&[(LSOA21, bytes)]);
    let (ok, out, err) = check(dir.path(), None);
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("LSOAs 2021               429"), "{out}");
    assert!(
        err.contains(&format!("feature {OXFORD_LSOA} (row"))
            && err.contains("repaired geometry: polygon 1, ring 1 not closed"),
        "{err}"
    );
}

#[test]
fn osm_extract_cut_halfway_fails_naming_the_file() {
    let rel = "assets/osm_oxford_2012.osm.pbf";
    let bytes = std::fs::read(data_dir().join(rel)).unwrap();
    let dir = broken_copy(&[(rel, bytes[..bytes.len() / 2].to_vec())]);
    let (ok, out, err) = check(dir.path(), None);
    assert!(!ok, "{out}");
    assert!(err.contains("osm_oxford_2012.osm.pbf"), "{err}");
    assert!(err.contains("truncated or corrupt"), "{err}");
}

#[test]
fn misspelt_or_out_of_range_setting_fails_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let default = gapmap::config::DEFAULT_ATLAS_TOML;
    for (from, to, expected) in [
        (
            "dedupe_within_m = 100.0",
            "dedupe_within = 100.0",
            "unknown key 'dedupe_within' in [[asset_sources]]; the nearest valid key is 'dedupe_within_m'",
        ),
        (
            "edge_buffer_m = 5000.0",
            "edge_buffer_m = -1.0",
            "edge_buffer_m = -1 is out of range",
        ),
    ] {
        let text = default.replacen(from, to, 1);
        let line = text.lines().position(|l| l.contains(to)).unwrap() + 1;
        let path = dir.path().join("atlas.toml");
        std::fs::write(&path, &text).unwrap();
        let (ok, out, err) = check(&data_dir(), Some(&path));
        assert!(!ok, "{out}");
        assert!(
            err.contains(&format!("{}: line {line},", path.display())),
            "{err}"
        );
        assert!(err.contains(expected), "{err}");
    }
}

#[test]
fn asset_csv_cut_at_a_line_break_is_an_error_counting_the_rows() {
    // The GP list cut after 8,000 whole rows (it has no header): every row
    // read is valid, so only the declared row count can tell.
    const GP: &str = "assets/nhs_gp_practices_epraccur_2024-01.csv";
    let (bytes, dropped) = first_lines(GP, 8_000);
    assert!(!dropped.is_empty());
    // The declared count, read here from the real file with a plain line
    // count (no GP row spans lines).
    let total = std::fs::read_to_string(data_dir().join(GP))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    let dir = broken_copy(&[(GP, bytes)]);
    let (ok, out, err) = check(dir.path(), None);
    assert!(!ok, "{out}");
    assert!(
        err.contains(&format!(
            "nhs_gp_practices_epraccur_2024-01.csv: 8000 data rows, but the configuration declares {total} (`rows`)"
        )),
        "{err}"
    );
}
