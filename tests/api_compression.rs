//! Compressed responses as browsers and GIS clients ask for them: one
//! encoding chosen by q-value, bytes no more than gzip 6 of the same body
//! (computed here with flate2), an `ETag` per encoding with `304`s, the
//! cache of compressed variants, and its invalidation by a new snapshot.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::io::{Read, Write};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use gapmap::api::{AppState, Snapshot};
use http_body_util::BodyExt;
use tower::ServiceExt;

const CHROMIUM: &str = "gzip, deflate, br, zstd";

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// The body decoded by its `Content-Encoding`, with decoders that share
    /// nothing with the server's.
    fn decoded(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self.header("content-encoding") {
            None => out.clone_from(&self.body),
            Some("gzip") => {
                flate2::read::GzDecoder::new(&self.body[..])
                    .read_to_end(&mut out)
                    .unwrap();
            }
            Some("br") => {
                brotli_decompressor::Decompressor::new(&self.body[..], 4096)
                    .read_to_end(&mut out)
                    .unwrap();
            }
            Some(other) => panic!("unexpected encoding {other}"),
        }
        out
    }
}

async fn get(state: &Arc<AppState>, uri: &str, headers: &[(&str, &str)]) -> Reply {
    let app = gapmap::api::app(Arc::clone(state));
    let mut req = Request::builder().uri(uri).header("host", "test.local");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let response = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

/// The body with its `"timeStamp"` value blanked: two answers built in
/// different seconds differ only there.
fn same_instant(body: &[u8]) -> Vec<u8> {
    const KEY: &[u8] = b"\"timeStamp\":\"";
    let Some(at) = body.windows(KEY.len()).position(|w| w == KEY) else {
        return body.to_vec();
    };
    let start = at + KEY.len();
    let len = body[start..].iter().position(|&b| b == b'"').unwrap_or(0);
    let mut out = body[..start].to_vec();
    out.extend_from_slice(&body[start + len..]);
    out
}

fn gzip6(body: &[u8]) -> usize {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    e.write_all(body).unwrap();
    e.finish().unwrap().len()
}

/// A state of its own (the cache is per state), sharing the loaded atlas.
fn own_state() -> Arc<AppState> {
    let atlas = Arc::clone(&common::app_state().snapshot().atlas);
    Arc::new(AppState::from_snapshot(Snapshot::build(atlas)))
}

#[tokio::test]
async fn a_browser_gets_brotli_no_larger_than_gzip_6_and_the_same_features() {
    let state = own_state();
    for uri in [
        "/collections/lsoa/items?limit=100",
        "/collections/lsoa/items?limit=1000",
        "/collections/lsoa/items?bbox=-1.30,51.70,-1.20,51.78",
        "/collections/assets/items?limit=500",
    ] {
        let plain = get(&state, uri, &[]).await;
        assert_eq!(plain.status, StatusCode::OK, "{uri}");
        assert_eq!(plain.header("content-encoding"), None);
        let br = get(&state, uri, &[("accept-encoding", CHROMIUM)]).await;
        assert_eq!(br.status, StatusCode::OK, "{uri}");
        assert_eq!(br.header("content-encoding"), Some("br"), "{uri}");
        assert_eq!(
            same_instant(&br.decoded()),
            same_instant(&plain.body),
            "{uri}: not the same body"
        );
        assert!(
            br.body.len() <= gzip6(&plain.body),
            "{uri}: brotli {} bytes > gzip 6 {}",
            br.body.len(),
            gzip6(&plain.body)
        );
        let vary: Vec<String> = br
            .headers
            .get_all("vary")
            .iter()
            .map(|v| v.to_str().unwrap().to_ascii_lowercase())
            .collect();
        assert!(
            vary.iter().any(|v| v.contains("accept-encoding")),
            "{uri}: Vary {vary:?}"
        );
        // Each encoding its own tag; identity keeps the plain one.
        let tag = plain.header("etag").expect("an ETag");
        assert_eq!(
            br.header("etag").unwrap(),
            format!("{}.br\"", tag.strip_suffix('"').unwrap())
        );
        // The second answer comes from the cache, byte for byte.
        let again = get(&state, uri, &[("accept-encoding", CHROMIUM)]).await;
        assert_eq!(again.body, br.body, "{uri}");
        assert_eq!(again.header("etag"), br.header("etag"));
        assert_eq!(
            again
                .header("content-length")
                .map(|l| l.parse::<usize>().unwrap()),
            Some(br.body.len())
        );
        // gzip-only clients get gzip 6, under its own tag.
        let gz = get(&state, uri, &[("accept-encoding", "gzip")]).await;
        assert_eq!(gz.header("content-encoding"), Some("gzip"));
        assert_eq!(same_instant(&gz.decoded()), same_instant(&plain.body));
        // Level 6, streamed: within 1 % of one-shot gzip 6.
        let one_shot = gzip6(&plain.body);
        assert!(
            gz.body.len().abs_diff(one_shot) * 100 <= one_shot,
            "{uri}: gzip {} bytes, one-shot gzip 6 {one_shot}",
            gz.body.len()
        );
        assert!(gz.header("etag").unwrap().ends_with(".gzip\""));
    }
    let (entries, bytes) = state.responses.usage();
    assert_eq!(entries, 8, "four URIs × two encodings cached");
    assert!(bytes > 0 && bytes < gapmap::api::cache::DEFAULT_BUDGET);
}

#[tokio::test]
async fn q_values_choose_the_encoding() {
    let state = own_state();
    let uri = "/collections/districts/items";
    let enc = |r: &Reply| r.header("content-encoding").map(str::to_owned);
    assert_eq!(
        enc(&get(&state, uri, &[("accept-encoding", "br;q=0.2, gzip")]).await),
        Some("gzip".into())
    );
    assert_eq!(
        enc(&get(&state, uri, &[("accept-encoding", "br;q=0, gzip;q=0")]).await),
        None
    );
    assert_eq!(
        enc(&get(&state, uri, &[("accept-encoding", "identity")]).await),
        None
    );
    assert_eq!(
        enc(&get(&state, uri, &[("accept-encoding", "*")]).await),
        Some("br".into())
    );
}

#[tokio::test]
async fn if_none_match_with_an_encoded_tag_is_a_304_cached_or_not() {
    let state = own_state();
    let uri = "/collections/wards/items?limit=20";
    let first = get(&state, uri, &[("accept-encoding", CHROMIUM)]).await;
    let tag = first.header("etag").unwrap().to_owned();
    assert!(tag.ends_with(".br\""));
    // From the cache.
    let cached = get(
        &state,
        uri,
        &[("accept-encoding", CHROMIUM), ("if-none-match", &tag)],
    )
    .await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    assert_eq!(cached.header("etag"), Some(tag.as_str()));
    assert!(cached.body.is_empty());
    // Not cached (a fresh state): the handler judges the plain tag.
    let fresh = own_state();
    // Same atlas, new snapshot tag: the old tag no longer matches...
    let other = get(
        &fresh,
        uri,
        &[("accept-encoding", CHROMIUM), ("if-none-match", &tag)],
    )
    .await;
    assert_eq!(other.status, StatusCode::OK);
    // ...but its own does, before anything is cached for this header set.
    let own = other.header("etag").unwrap().to_owned();
    let fresh2 = get(
        &fresh,
        "/collections/wards/items?limit=20&offset=0",
        &[("accept-encoding", "gzip")],
    )
    .await;
    assert_eq!(fresh2.status, StatusCode::OK);
    let miss = get(
        &fresh,
        "/collections/wards/items?limit=20&offset=0",
        &[
            ("accept-encoding", "gzip"),
            ("if-none-match", fresh2.header("etag").unwrap()),
            ("accept", "application/geo+json"),
        ],
    )
    .await;
    assert_eq!(miss.status, StatusCode::NOT_MODIFIED, "uncached 304");
    assert_eq!(miss.header("etag"), fresh2.header("etag"));
    // A gzip tag does not match a brotli answer.
    let cross = get(
        &fresh,
        uri,
        &[("accept-encoding", "gzip"), ("if-none-match", &own)],
    )
    .await;
    assert_eq!(cross.status, StatusCode::OK);
}

#[tokio::test]
async fn a_new_snapshot_empties_the_cache_and_changes_every_tag() {
    let state = own_state();
    let uri = "/collections/lsoa/items?limit=50";
    let before = get(&state, uri, &[("accept-encoding", CHROMIUM)]).await;
    assert_eq!(state.responses.usage().0, 1);
    let atlas = Arc::clone(&state.snapshot().atlas);
    state.replace(Snapshot::build(atlas));
    let after = get(&state, uri, &[("accept-encoding", CHROMIUM)]).await;
    assert_ne!(after.header("etag"), before.header("etag"));
    let features = |r: &Reply| -> serde_json::Value {
        serde_json::from_slice::<serde_json::Value>(&r.decoded()).unwrap()["features"].clone()
    };
    assert!(
        features(&after) == features(&before),
        "same data, same features"
    );
    assert_eq!(state.responses.usage().0, 1, "the old entry is gone");
}

#[tokio::test]
async fn answers_to_a_bearer_or_a_write_are_not_cached() {
    let state = own_state();
    let r = get(
        &state,
        "/collections/districts/items",
        &[
            ("accept-encoding", CHROMIUM),
            ("authorization", "Bearer gm_0000000000000000_00"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-encoding"), Some("br"));
    // A problem (404) is compressed but never kept.
    let nf = get(
        &state,
        "/collections/nope/items",
        &[("accept-encoding", CHROMIUM)],
    )
    .await;
    assert_eq!(nf.status, StatusCode::NOT_FOUND);
    assert_eq!(state.responses.usage().0, 0);
}
