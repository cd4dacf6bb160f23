//! The prepared atlas (`serve --cache-dir`): a start-up that reads the
//! atlas and its analysis back from the file an earlier start-up wrote
//! answers exactly as one that loaded every source; a changed data file or
//! a damaged prepared file is not used (the server says why and loads from
//! the data files).
#![allow(clippy::unwrap_used)] // fixtures that cannot be built should stop the test

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

use common::http::Client;
use common::server::{Launch, Server, Stderr};

/// Answers compared between start-ups: every OGC collection kind, the
/// analysis (gaps, access distances in profiles and the map's layers), a
/// tile and the search index.
const PATHS: &[&str] = &[
    "/collections",
    "/collections/lsoa/items?limit=1000",
    "/collections/lsoa-2011/items?limit=1000",
    "/collections/wards/items?limit=1000",
    "/collections/districts/items",
    "/collections/assets/items?limit=10000",
    "/gaps?category=gp_practice&max_decile=3&min_distance_m=800",
    "/gaps?category=pharmacy&max_decile=4&min_distance_m=1000&measure=mean",
    "/wards/E05010924/profile",
    "/priority-areas",
    "/web/api/meta",
    "/web/api/lsoa-layer",
    "/web/api/assets",
    "/web/api/coverage",
    "/web/api/lsoa/E01027305",
    "/collections/lsoa/tiles/WebMercatorQuad/12/2033/1357",
    "/search?q=Blackbird",
];

/// The file a start-up on the default region writes.
const FILE: &str = "atlas-oxfordshire.bin";

/// A server on `data_dir` with `cache` as its cache directory, logging at
/// info level into memory.
fn start(data_dir: &Path, cache: &Path) -> Server {
    Launch::new()
        .env("GAPMAP_DATA_DIR", data_dir)
        .env("GAPMAP_LOG", "info")
        .args(&[Path::new("--cache-dir").as_os_str(), cache.as_os_str()])
        .stderr(Stderr::Capture)
        .start()
}

/// Whether some log line holds `text`.
fn logged(server: &Server, text: &str) -> bool {
    server.stderr_lines().iter().any(|l| l.contains(text))
}

/// Waits until the server logs that it wrote its prepared atlas (on a
/// thread of its own, after it started serving).
fn wait_written(server: &Server) {
    let started = Instant::now();
    while !logged(server, "prepared atlas written") {
        assert!(
            !logged(server, "prepared atlas not written"),
            "{:#?}",
            server.stderr_lines()
        );
        assert!(started.elapsed() < Duration::from_mins(5), "never written");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Drops the members that say when a response was made.
fn timeless(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("timeStamp");
            map.values_mut().for_each(timeless);
        }
        Value::Array(items) => items.iter_mut().for_each(timeless),
        _ => {}
    }
}

/// Every answer in [`PATHS`]: status, content type and body (JSON without
/// its time stamps and with the server's address as `SERVER`).
fn answers(server: &Server) -> Vec<(String, u16, String, Vec<u8>)> {
    let client = Client::new(server.addr);
    PATHS
        .iter()
        .map(|path| {
            let reply = client.get(path);
            assert_eq!(reply.status, 200, "{path}: {reply}");
            let kind = reply.header("content-type").unwrap_or_default().to_owned();
            let body = if kind.contains("json") {
                let mut v = reply.json();
                timeless(&mut v);
                // Links name the server's own (random) port.
                let text = serde_json::to_string(&v).unwrap();
                text.replace(&server.addr.to_string(), "SERVER")
                    .into_bytes()
            } else {
                reply.body
            };
            ((*path).to_owned(), reply.status, kind, body)
        })
        .collect()
}

/// Asserts two start-ups' answers are the same, naming the first path that
/// differs.
fn assert_same(a: &[(String, u16, String, Vec<u8>)], b: &[(String, u16, String, Vec<u8>)]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        if x == y {
            continue;
        }
        let at = x.3.iter().zip(&y.3).take_while(|(p, q)| p == q).count();
        let around = |b: &[u8]| {
            String::from_utf8_lossy(&b[at.saturating_sub(80)..(at + 80).min(b.len())]).into_owned()
        };
        panic!(
            "{} differs ({} {} then {} {}) at byte {at}:\n{}\nthen\n{}",
            x.0,
            x.1,
            x.2,
            y.1,
            y.2,
            around(&x.3),
            around(&y.3)
        );
    }
}

/// A data directory of links to the real data's entries, except the
/// population table, which is a copy (so that its time can change).
fn linked_data_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let real = common::data_dir();
    for entry in std::fs::read_dir(&real).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "population" {
            std::os::unix::fs::symlink(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
    }
    let population = dir.path().join("population");
    std::fs::create_dir(&population).unwrap();
    for entry in std::fs::read_dir(real.join("population")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), population.join(entry.file_name())).unwrap();
    }
    let path = dir.path().to_path_buf();
    (dir, path)
}

#[test]
fn a_prepared_start_answers_as_a_full_load_and_stale_or_damaged_files_are_not_used() {
    let (_data, data_dir) = linked_data_dir();
    let cache = tempfile::tempdir().unwrap();
    let file = cache.path().join(FILE);

    // First start-up: nothing prepared yet; loads the sources, writes it.
    let first = start(&data_dir, cache.path());
    assert!(
        logged(&first, "no prepared atlas yet"),
        "{:#?}",
        first.stderr_lines()
    );
    let loaded = answers(&first);
    wait_written(&first);
    drop(first);
    assert!(file.is_file());

    // Second: read back, the same answers.
    let second = start(&data_dir, cache.path());
    assert!(
        logged(&second, "atlas read from its prepared file"),
        "{:#?}",
        second.stderr_lines()
    );
    assert_same(&loaded, &answers(&second));
    drop(second);

    // A damaged file (one byte of the payload changed) is not used, and
    // is replaced.
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&file, &bytes).unwrap();
    let damaged = start(&data_dir, cache.path());
    assert!(
        logged(&damaged, "not a usable prepared atlas"),
        "{:#?}",
        damaged.stderr_lines()
    );
    assert_same(&loaded, &answers(&damaged));
    wait_written(&damaged);
    drop(damaged);

    // A truncated file likewise.
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() - 3]).unwrap();
    let truncated = start(&data_dir, cache.path());
    assert!(
        logged(&truncated, "not a usable prepared atlas"),
        "{:#?}",
        truncated.stderr_lines()
    );
    wait_written(&truncated);
    drop(truncated);

    // A data file with a new modification time: stale, named in the log.
    let table = std::fs::read_dir(data_dir.join("population"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::File::options()
        .write(true)
        .open(&table)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - Duration::from_hours(24))
        .unwrap();
    let stale = start(&data_dir, cache.path());
    let lines = stale.stderr_lines();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("prepared from other data files")
                && l.contains(&*table.file_name().unwrap().to_string_lossy())),
        "{lines:#?}"
    );
    assert_same(&loaded, &answers(&stale));
}

#[test]
fn no_cache_reads_and_writes_nothing() {
    let cache = tempfile::tempdir().unwrap();
    let server = Launch::new()
        .env("GAPMAP_LOG", "info")
        .args(&[
            Path::new("--cache-dir").as_os_str(),
            cache.path().as_os_str(),
            Path::new("--no-cache").as_os_str(),
        ])
        .stderr(Stderr::Capture)
        .start();
    assert_eq!(Client::new(server.addr).get("/collections").status, 200);
    // Long enough for a writer thread that should not exist.
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        !logged(&server, "prepared atlas"),
        "{:#?}",
        server.stderr_lines()
    );
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0);
}
