//! With a register attached, data that a write can change is served for
//! revalidation (`Cache-Control: no-cache`) with an ETag naming the
//! snapshot: a cache holding an asset page asks again, gets 304 while
//! nothing changed, and a new page with a new ETag after a register write.
//! Checked against the real binary on Oxfordshire over loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::ffi::OsString;

use common::http::Client;
use common::server::{make_token, Launch};
use serde_json::json;

#[test]
fn asset_collections_revalidate_and_change_etag_after_a_register_write() {
    let mut server = Launch::new().start();
    server.kill_at_exit();
    let store = [
        OsString::from("--state-dir"),
        server.state_path().as_os_str().to_owned(),
    ];
    let editor = make_token(&store, "cache-editor", "editor");
    let c = Client::new(server.addr);
    let paths = [
        "/collections/assets-community_larder/items",
        "/collections/lsoa/items?limit=5",
        "/collections/assets-gp_practice",
    ];
    let mut etags = Vec::new();
    for path in paths {
        let r = c.get(path);
        assert_eq!(r.status, 200, "{path}: {r}");
        assert_eq!(r.header("cache-control"), Some("no-cache"), "{path}");
        let etag = r.header("etag").expect("an ETag").to_owned();
        // Unchanged: the ETag revalidates to 304.
        let again = c.send("GET", path, &[("If-None-Match", &etag)], None);
        assert_eq!(again.status, 304, "{path}: {again}");
        etags.push(etag);
    }

    let feature = json!({
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-1.2577, 51.7520]},
        "properties": {"name": "Cache test larder", "category": "community_larder"},
    });
    let auth = format!("Bearer {editor}");
    let body = feature.to_string();
    let created = c.send(
        "POST",
        "/collections/register/items",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/geo+json"),
        ],
        Some(body.as_bytes()),
    );
    assert_eq!(created.status, 201, "{created}");

    // The write replaced the snapshot: the old ETags no longer match, and
    // the larder page now lists the new entry.
    for (path, old) in paths.iter().zip(&etags) {
        let r = c.send("GET", path, &[("If-None-Match", old)], None);
        assert_eq!(r.status, 200, "{path} after a write: {r}");
        assert_ne!(r.header("etag"), Some(old.as_str()), "{path}");
    }
    let larders = c.get_json(paths[0]);
    assert!(
        larders["features"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["properties"]["name"] == "Cache test larder"),
        "{larders}"
    );
}
