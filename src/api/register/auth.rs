//! Bearer-token authorisation of register writes (and of reads when reading
//! needs a token).
//!
//! No token: 401 with `WWW-Authenticate: Bearer`. A token that is not one
//! (or has the wrong secret): 401 with `error="invalid_token"`. A revoked
//! token, or one whose role is too low: 403. Each 401 counts as a failure
//! for the client's address (behind a `--trusted-proxy`, the address the
//! proxy recorded); after [`MAX_FAILURES`] in [`WINDOW`] the
//! address gets 429 with `Retry-After` until the window ends, before any
//! token is checked (so guessing costs the guesser, not the server). The
//! limit is judged again just before a secret is hashed (a few at a time,
//! [`crate::live::HASH_TURNS`]), so concurrent guesses from one address get
//! at most a few more than the limit checked.
//! Tokens appear in no log line and no response.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::response::Response;

use super::{problem, with_headers};
use crate::api::error::ApiError;
use crate::api::ogc::respond::ClientAddr;
use crate::api::AppState;
use crate::live::{Principal, TokenRejection};
use crate::model::register::Role;

/// Failed authentications allowed per address per window.
pub const MAX_FAILURES: u32 = 10;
/// The window.
pub const WINDOW: Duration = Duration::from_mins(1);
/// Addresses tracked at most (a bound on memory under a spray of addresses;
/// beyond it, expired windows are dropped, then the oldest).
const MAX_TRACKED: usize = 10_000;

/// Failed authentications per client address.
#[derive(Debug, Default)]
pub struct FailureLimiter {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl FailureLimiter {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, (u32, Instant)>> {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Seconds until `ip` may try again, if it is blocked.
    pub fn blocked(&self, ip: IpAddr) -> Option<u64> {
        let m = self.lock();
        let &(n, start) = m.get(&ip)?;
        let left = WINDOW.checked_sub(start.elapsed())?;
        (n >= MAX_FAILURES).then(|| left.as_secs().max(1))
    }

    /// Counts a failure of `ip`.
    pub fn fail(&self, ip: IpAddr) {
        let mut m = self.lock();
        if m.len() >= MAX_TRACKED && !m.contains_key(&ip) {
            m.retain(|_, (_, start)| start.elapsed() < WINDOW);
            if m.len() >= MAX_TRACKED {
                if let Some(oldest) = m.iter().min_by_key(|(_, (_, s))| *s).map(|(k, _)| *k) {
                    m.remove(&oldest);
                }
            }
        }
        let e = m.entry(ip).or_insert((0, Instant::now()));
        if e.1.elapsed() >= WINDOW {
            *e = (0, Instant::now());
        }
        e.0 = e.0.saturating_add(1);
    }
}

/// The client address of a request: the one trusted proxies recorded
/// ([`ClientAddr`]), else the connection's peer, else loopback (in-process
/// tests).
fn client_addr(extensions: &axum::http::Extensions) -> IpAddr {
    if let Some(ClientAddr(ip)) = extensions.get::<ClientAddr>() {
        return *ip;
    }
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip())
}

/// The client address of a request (see [`client_addr`]).
pub fn peer<B>(request: &Request<B>) -> IpAddr {
    client_addr(request.extensions())
}

fn unauthorized(detail: &str, error: Option<&str>) -> Response {
    let challenge = match error {
        Some(e) => format!("Bearer realm=\"gapmap\", error=\"{e}\""),
        None => "Bearer realm=\"gapmap\"".to_owned(),
    };
    with_headers(
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            title: "Unauthorized",
            detail: detail.to_owned(),
            parameter: Some("Authorization".into()),
        },
        &[(header::WWW_AUTHENTICATE, challenge)],
    )
}

/// 429 for an address over the failed-authentication limit.
fn too_many(wait: u64) -> Response {
    with_headers(
        problem(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed authentications",
            format!("too many failed authentications from this address; try again in {wait} s"),
        ),
        &[(header::RETRY_AFTER, wait.to_string())],
    )
}

/// Checks the request's bearer token grants `needed`.
///
/// # Errors
/// The 401, 403, 429 or 500 response to send instead.
pub async fn require(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    ip: IpAddr,
    needed: Role,
) -> Result<Principal, Response> {
    let Some(register) = state.register() else {
        return Err(with_headers(
            problem(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
                "this server has no register attached",
            ),
            &[(header::ALLOW, super::READ_ONLY_ALLOW.to_owned())],
        ));
    };
    if let Some(wait) = state.auth_failures.blocked(ip) {
        return Err(too_many(wait));
    }
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(unauthorized(
            "this needs a bearer token: Authorization: Bearer gm_…",
            None,
        ));
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .unwrap_or("");
    let verdict = register
        .authenticate(token, || state.auth_failures.blocked(ip).is_none())
        .await
        .map_err(|e| axum::response::IntoResponse::into_response(ApiError::internal(e)))?;
    match verdict {
        Err(TokenRejection::Invalid) => {
            state.auth_failures.fail(ip);
            Err(unauthorized(
                "the bearer token is not valid",
                Some("invalid_token"),
            ))
        }
        Err(TokenRejection::Throttled) => {
            Err(too_many(state.auth_failures.blocked(ip).unwrap_or(1)))
        }
        Err(TokenRejection::Revoked) => {
            Err(axum::response::IntoResponse::into_response(ApiError {
                status: StatusCode::FORBIDDEN,
                title: "Forbidden",
                detail: "this token has been revoked".into(),
                parameter: Some("Authorization".into()),
            }))
        }
        Ok(p) if p.role < needed => Err(axum::response::IntoResponse::into_response(ApiError {
            status: StatusCode::FORBIDDEN,
            title: "Forbidden",
            detail: format!(
                "token '{}' has role {}; this needs {}",
                p.name,
                p.role.as_str(),
                needed.as_str()
            ),
            parameter: Some("Authorization".into()),
        })),
        Ok(p) => Ok(p),
    }
}

/// Whether a request fetches the pages' shell: the map and ward pages'
/// HTML, their scripts, styles and MapLibre. They hold no data, and a
/// browser must load them to show the sign-in form that gets a token for
/// the data requests (which the scripts then send with every request).
fn page_shell(method: &axum::http::Method, path: &str) -> bool {
    if method != axum::http::Method::GET && method != axum::http::Method::HEAD {
        return false;
    }
    path == "/map"
        || path.starts_with("/web/static/")
        || path.starts_with("/web/vendor/")
        || path
            .strip_prefix("/wards/")
            .is_some_and(|code| !code.is_empty() && !code.contains('/'))
}

/// Middleware: when reading needs a token, every request but `OPTIONS`
/// (CORS preflight, method discovery) and the pages' shell
/// ([`page_shell`]) must carry a valid one.
pub async fn read_gate(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if state.read_access == crate::api::state::ReadAccess::Public
        || request.method() == axum::http::Method::OPTIONS
        || page_shell(request.method(), request.uri().path())
        || (request.method() == axum::http::Method::GET
            && crate::api::ogc::landing_wants_map(request.uri(), request.headers()))
    {
        return next.run(request).await;
    }
    let ip = peer(&request);
    match require(&state, request.headers(), ip, Role::Viewer).await {
        Ok(_) => next.run(request).await,
        Err(r) => r,
    }
}

/// The client address of a request, as an extractor (see [`client_addr`]).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(client_addr(&parts.extensions)))
    }
}

#[cfg(test)]
mod tests {
    use super::page_shell;
    use axum::http::Method;

    #[test]
    fn only_the_page_shell_passes_without_a_token() {
        for p in [
            "/map",
            "/wards/E05013106",
            "/web/static/js/app.mjs",
            "/web/vendor/maplibre-gl/maplibre-gl.mjs",
        ] {
            assert!(page_shell(&Method::GET, p), "{p}");
            assert!(page_shell(&Method::HEAD, p), "{p}");
            assert!(!page_shell(&Method::POST, p), "{p}");
        }
        for p in [
            "/",
            "/wards/E05013106/profile",
            "/wards/",
            "/web/api/meta",
            "/web/staticx",
            "/collections/lsoa/items",
            "/search",
            "/gaps",
            "/register/session",
        ] {
            assert!(!page_shell(&Method::GET, p), "{p}");
        }
    }
}
