//! The `gapmap check` command, run as a user would.

use std::process::Command;

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
            "E07000178 Oxford                   23 wards    84 LSOAs 2021    83 LSOAs 2011"
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
