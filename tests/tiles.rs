//! Vector tiles: real tiles of the real binary on Oxfordshire decoded by
//! Python's `mapbox-vector-tile` (which shares no code with our encoder)
//! and checked against the source polygons (tests/clients/tiles_check.py:
//! clip buffer, half-pixel accuracy, properties, size, the issue's
//! districts 14/8132/5408); and the tile cache: a repeated tile is not
//! encoded again, a new snapshot invalidates it, and `If-None-Match` gets a
//! `304` (plain and compressed). Needs `pip install mapbox-vector-tile
//! shapely` (scripts/install).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use common::server::Launch;
use gapmap::api::{AppState, Snapshot};
use http_body_util::BodyExt;
use tower::ServiceExt;

#[test]
fn tiles_decode_within_the_clip_buffer_and_half_a_pixel_of_the_source() {
    let server = Launch::new().start();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/tiles_check.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(&server.url)
        .output()
        .expect("python3 is required");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("No module named"),
        "python3 lacks a module: run `pip install mapbox-vector-tile shapely` (scripts/install)\n{stderr}"
    );
    assert!(
        out.status.success(),
        "tiles_check.py failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("districts 14/8132/5408: 1 features"),
        "{stdout}"
    );
    assert!(stdout.contains("all tiles agree"), "{stdout}");
}

async fn get(
    state: &Arc<AppState>,
    uri: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Bytes) {
    let app = gapmap::api::app(Arc::clone(state));
    let mut req = Request::builder().uri(uri).header("host", "test.local");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let response = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, body)
}

fn etag(headers: &HeaderMap) -> String {
    headers.get("etag").unwrap().to_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_repeated_tile_comes_from_the_cache_until_the_areas_change() {
    let atlas = Arc::clone(&common::app_state().snapshot().atlas);
    let state = Arc::new(AppState::from_snapshot(Snapshot::build(Arc::clone(&atlas))));
    let uri = "/collections/lsoa/tiles/WebMercatorQuad/12/2033/1357";
    let key = "tile/lsoa/12/2033/1357";

    let (status, headers, first) = get(&state, uri, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers.get("content-type").unwrap(),
        "application/vnd.mapbox-vector-tile"
    );
    assert!(!first.is_empty(), "Oxford city centre has LSOAs");
    let tag = state.snapshot().areas_tag;
    assert_eq!(state.tiles.stored(tag, key), Some(first.clone()));

    // If-None-Match: 304 without a body, plain and per encoding.
    let e = etag(&headers);
    let (status, h, body) = get(&state, uri, &[("if-none-match", &e)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(etag(&h), e);
    let (status, h, _) = get(&state, uri, &[("accept-encoding", "gzip")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h.get("content-encoding").unwrap(), "gzip");
    let gz = etag(&h);
    assert_eq!(gz, format!("{}.gzip\"", e.trim_end_matches('"')));
    let (status, _, _) = get(
        &state,
        uri,
        &[("accept-encoding", "gzip"), ("if-none-match", &gz)],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);

    // Replace the stored body: a second request that encoded the tile again
    // would not answer it.
    let marker = Bytes::from_static(b"stored tile");
    state.tiles.store(tag, key.to_owned(), marker.clone());
    let (status, headers2, second) = get(&state, uri, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(second, marker);
    assert_eq!(etag(&headers2), etag(&headers));

    // A snapshot with other assets (what a register write publishes) has
    // the same areas: the tile keeps its ETag and its stored body.
    let derived = state.snapshot().derive(
        atlas.with_assets(
            atlas.assets.iter().skip(1).cloned().collect(),
            atlas.categories.clone(),
            atlas.sources.clone(),
        ),
        &[],
    );
    assert_ne!(derived.tag, state.snapshot().tag);
    state.replace(derived);
    let (status, _, body) = get(&state, uri, &[("if-none-match", &e)]).await;
    assert_eq!((status, body.is_empty()), (StatusCode::NOT_MODIFIED, true));
    let (status, headers4, fourth) = get(&state, uri, &[]).await;
    assert_eq!((status, fourth), (StatusCode::OK, marker));
    assert_eq!(etag(&headers4), e);

    // A new snapshot built from an atlas: the stored body and the old tag
    // are gone.
    state.replace(Snapshot::build(atlas));
    let (status, headers3, third) = get(&state, uri, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(third, first, "the same data encodes the same tile");
    assert_ne!(etag(&headers3), e);
    let (status, _, _) = get(&state, uri, &[("if-none-match", &e)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(state.tiles.stored(tag, key), None);
}

/// Concurrent first requests for one tile cut it once: the others wait
/// for the same body (single flight), counted by the cache, not timed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_requests_cut_a_tile_once() {
    let atlas = Arc::clone(&common::app_state().snapshot().atlas);
    let state = Arc::new(AppState::from_snapshot(Snapshot::build(atlas)));
    let uri = "/collections/lsoa/tiles/WebMercatorQuad/8/127/85";
    assert_eq!(state.tiles.made(), 0);
    let requests: Vec<_> = (0..8)
        .map(|_| {
            let state = Arc::clone(&state);
            tokio::spawn(async move { get(&state, uri, &[]).await })
        })
        .collect();
    let mut bodies = Vec::new();
    for r in requests {
        let (status, _, body) = r.await.unwrap();
        assert_eq!(status, StatusCode::OK);
        bodies.push(body);
    }
    assert!(!bodies[0].is_empty(), "Oxfordshire reaches this tile");
    assert!(bodies.iter().all(|b| *b == bodies[0]));
    assert_eq!(state.tiles.made(), 1, "one cut for eight requests");

    // The guarantee itself, where the work is slow enough that every
    // caller surely arrives while it runs: eight threads released at once.
    let cache = gapmap::api::cache::ResponseCache::default();
    cache.follow(7);
    let start = std::sync::Barrier::new(8);
    let bodies: Vec<Bytes> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    cache.stored_or_make(7, "tile/x", || {
                        std::thread::sleep(std::time::Duration::from_millis(300));
                        Bytes::from_static(b"cut once")
                    })
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(bodies.iter().all(|b| b.as_ref() == b"cut once"));
    assert_eq!(cache.made(), 1);
}
