//! `GET /register/session`: who a bearer token is, for the map's sign-in.
//! Tokens are made and revoked straight in a GeoPackage store in a
//! temporary directory, as `gapmap token add` / `revoke` do; the server
//! is the real router in process with that register attached.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use gapmap::api::{AppState, Snapshot};
use gapmap::config::AtlasConfig;
use gapmap::live::{tokens, Register};
use gapmap::model::register::Role;
use gapmap::sources::register::{self, RegisterStore};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

const NOW: &str = "2026-01-05T10:00:00.000Z";

/// A server state with a register in `dir`.
fn served(store: Arc<dyn RegisterStore>) -> Arc<AppState> {
    let config = AtlasConfig::default_definition().unwrap();
    let prepared = Register::prepare(store.as_ref(), common::atlas(), &config.register).unwrap();
    let state = Arc::new(AppState::from_snapshot(
        Snapshot::build(Arc::new(prepared.atlas)).with_register(prepared.entries),
    ));
    state.attach_register(Arc::new(Register::new(
        store,
        state.publisher(),
        config.register,
        prepared.state,
    )));
    state
}

/// Adds a token to the store; returns the token to present.
fn add(store: &dyn RegisterStore, name: &str, role: Role) -> String {
    let t = tokens::make(name, role, NOW).unwrap();
    store.add_token(&t.record).unwrap();
    t.token
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

async fn session(state: &Arc<AppState>, uri: &str, auth: Option<&str>) -> Reply {
    let mut req = Request::builder().uri(uri);
    if let Some(a) = auth {
        req = req.header(header::AUTHORIZATION, a);
    }
    let response = gapmap::api::app(Arc::clone(state))
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{uri}: not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
    Reply {
        status,
        headers,
        body,
    }
}

fn content_type(r: &Reply) -> &str {
    r.headers
        .get(header::CONTENT_TYPE)
        .map_or("", |v| v.to_str().unwrap())
}

#[tokio::test]
async fn a_token_is_told_its_name_and_role_and_nothing_else_gets_in() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn RegisterStore> = Arc::from(register::open(None, dir.path()).unwrap());
    let editor = add(store.as_ref(), "alice", Role::Editor);
    let viewer = add(store.as_ref(), "vera", Role::Viewer);
    let admin = add(store.as_ref(), "ada", Role::Admin);
    let revoked = add(store.as_ref(), "rob", Role::Editor);
    assert!(store.revoke_token("rob", NOW).unwrap());
    let state = served(Arc::clone(&store));

    for (token, name, role) in [
        (&editor, "alice", "editor"),
        (&viewer, "vera", "viewer"),
        (&admin, "ada", "admin"),
    ] {
        let r = session(
            &state,
            "/register/session",
            Some(&format!("Bearer {token}")),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert_eq!(r.body, serde_json::json!({"name": name, "role": role}));
        assert_eq!(content_type(&r), "application/json");
        assert_eq!(r.headers[header::CACHE_CONTROL], "no-store", "{name}");
    }
    // The scheme is case-insensitive (RFC 7235).
    let r = session(
        &state,
        "/register/session",
        Some(&format!("bearer {editor}")),
    )
    .await;
    assert_eq!(r.body["name"], "alice");

    // No token: 401 with a Bearer challenge, naming the header.
    let r = session(&state, "/register/session", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(content_type(&r), "application/problem+json");
    assert_eq!(r.body["parameter"], "Authorization");
    assert_eq!(
        r.headers[header::WWW_AUTHENTICATE],
        "Bearer realm=\"gapmap\""
    );

    // The right id with another secret, and no token shape at all: 401 invalid_token.
    let forged = format!("{}{}", &editor[..editor.len() - 64], "0".repeat(64));
    assert_ne!(forged, editor);
    for bad in [forged.as_str(), "gm_nonsense", "alice"] {
        let r = session(&state, "/register/session", Some(&format!("Bearer {bad}"))).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{bad}");
        assert_eq!(
            r.headers[header::WWW_AUTHENTICATE],
            "Bearer realm=\"gapmap\", error=\"invalid_token\"",
            "{bad}"
        );
        // The problem never echoes the token.
        assert!(!r.body.to_string().contains(bad), "{bad}: {}", r.body);
    }

    // Revoked: 403.
    let r = session(
        &state,
        "/register/session",
        Some(&format!("Bearer {revoked}")),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(r.body["parameter"], "Authorization");

    // Unknown query parameters are refused by name, before any token check.
    let r = session(
        &state,
        "/register/session?token=x",
        Some(&format!("Bearer {editor}")),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["parameter"], "token");
}

#[tokio::test]
async fn failed_sign_ins_count_towards_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn RegisterStore> = Arc::from(register::open(None, dir.path()).unwrap());
    let editor = add(store.as_ref(), "alice", Role::Editor);
    let state = served(store);
    let forged = format!("{}{}", &editor[..editor.len() - 64], "f".repeat(64));
    // Ten failures a minute are allowed (the documented limit).
    assert_eq!(gapmap::api::register::auth::MAX_FAILURES, 10);
    for i in 0..10 {
        let r = session(
            &state,
            "/register/session",
            Some(&format!("Bearer {forged}")),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // Blocked now, even with the good token: guessing through the sign-in
    // costs as much as guessing through a write.
    let r = session(
        &state,
        "/register/session",
        Some(&format!("Bearer {editor}")),
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    let wait: u64 = r.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
}

#[tokio::test]
async fn a_server_without_a_register_has_no_session() {
    let r = session(&common::app_state(), "/register/session", Some("Bearer x")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(content_type(&r), "application/problem+json");
}
