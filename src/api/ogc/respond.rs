//! Building responses: absolute base URLs for links, content types, and HTTP
//! caching. The atlas never changes while the server runs, so a response is
//! fully determined by the start-up, the URL, the link base and the
//! negotiated format; the ETag hashes those, which lets `If-None-Match` be
//! answered with a 304 before any body is written.
//!
//! # Link bases
//! Links are absolute. Their base (`scheme://host[:port][/prefix]`) is, in
//! order of preference:
//! 1. the configured public URL (`--public-url`, `GAPMAP_PUBLIC_URL`): the
//!    same for every request, so nothing a client sends reaches a link;
//! 2. from a configured trusted proxy (`--trusted-proxy`, by the peer
//!    address of the TCP connection), the `Forwarded` (RFC 7239) or
//!    `X-Forwarded-Host` / `-Proto` / `-Prefix` headers it sets;
//! 3. the request's `Host` (syntax-checked) over plain `http`.
//!
//! In cases 2 and 3 the response depends on request headers, so it carries
//! `Vary: Host` (and the forwarding headers): a shared cache then never
//! serves a page whose links were built from one client's `Host` to a
//! request with another. Absolute links were kept rather than relative
//! ones because OGC clients (GDAL, OWSLib, QGIS) follow `next` links as
//! given, and the API's own tests pin absolute links.
//!
//! Handlers see only headers and the URI, so [`with_link_base`] (a
//! middleware around the whole router, where the peer address is known)
//! decides the base and hands it to [`RequestInfo::new`] in a request
//! header signed with a per-process secret; a client cannot forge it, and
//! without the middleware the header is ignored (case 3 applies).

use std::collections::hash_map::DefaultHasher;
use std::hash::{BuildHasher, Hash, Hasher};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;

use super::items::QUERYABLES_REL;
use super::params::Format;
use crate::api::error::ApiError;

/// `Cache-Control` for data responses.
pub const CACHE_CONTROL: &str = "public, max-age=3600";

/// Media types.
pub mod media {
    /// JSON.
    pub const JSON: &str = "application/json";
    /// GeoJSON.
    pub const GEOJSON: &str = "application/geo+json";
    /// HTML.
    pub const HTML: &str = "text/html; charset=utf-8";
    /// OpenAPI 3.0 JSON.
    pub const OPENAPI: &str = "application/vnd.oai.openapi+json;version=3.0";
    /// JSON Schema.
    pub const SCHEMA: &str = "application/schema+json";
}

/// What a request looks like, for links and caching.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    /// `scheme://host[:port][/prefix]` with no trailing slash.
    pub base: String,
    /// Request URI (path and query).
    pub uri: Uri,
    /// `If-None-Match`, if sent.
    pub if_none_match: Option<String>,
    /// `Accept`, if sent.
    pub accept: Option<String>,
    /// Request headers the base was taken from, for `Vary` (empty when the
    /// base is the configured public URL).
    pub vary: &'static str,
}

impl RequestInfo {
    /// Reads the parts of a request that responses depend on. The base comes
    /// from [`with_link_base`] when the router is wrapped in it, otherwise
    /// from the `Host` header.
    pub fn new(headers: &HeaderMap, uri: Uri) -> Self {
        let text = |h: header::HeaderName| {
            headers
                .get(h)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (base, vary) = headers
            .get(BASE_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(unseal)
            .unwrap_or_else(|| (host_base(headers, &uri), VARY_HOST));
        Self {
            base,
            uri,
            if_none_match: text(header::IF_NONE_MATCH),
            accept: text(header::ACCEPT),
            vary,
        }
    }

    /// The weak ETag of the response to this request in a given format.
    pub fn etag(&self, startup_tag: u64, format: Format, extra: &str) -> String {
        let mut h = DefaultHasher::new();
        startup_tag.hash(&mut h);
        self.base.hash(&mut h);
        self.uri.path().hash(&mut h);
        self.uri.query().unwrap_or("").hash(&mut h);
        (format == Format::Html).hash(&mut h);
        extra.hash(&mut h);
        format!("W/\"{:016x}\"", h.finish())
    }

    /// Whether the client already holds the response with this ETag.
    pub fn not_modified(&self, etag: &str) -> bool {
        let Some(inm) = &self.if_none_match else {
            return false;
        };
        let strip = |t: &str| t.trim().trim_start_matches("W/").to_owned();
        let ours = strip(etag);
        inm.split(',').any(|t| t.trim() == "*" || strip(t) == ours)
    }
}

/// The `Link` header of a collection or its items (so that `HEAD` finds
/// them): the collection's queryables (OGC API – Features Part 3).
fn link_header(info: &RequestInfo) -> Option<String> {
    let rest = info.uri.path().strip_prefix("/collections/")?;
    let id = rest.strip_suffix("/items").unwrap_or(rest);
    if id.is_empty() || id.contains('/') {
        return None;
    }
    Some(format!(
        "<{}/collections/{id}/queryables>; rel=\"{QUERYABLES_REL}\"; type=\"{}\"; title=\"Queryable properties\"",
        info.base,
        media::SCHEMA
    ))
}

/// A successful, cacheable response. `body` runs only when the client does
/// not already hold the current version.
///
/// # Errors
/// Whatever `body` returns.
pub fn cached(
    info: &RequestInfo,
    etag: &str,
    content_type: &str,
    extra_headers: &[(&'static str, String)],
    body: impl FnOnce() -> Result<String, ApiError>,
) -> Result<Response, ApiError> {
    // Negotiation reads Accept, and links may read Host and the forwarding
    // headers: caches must keep those variants apart.
    let vary = if info.vary.is_empty() {
        "Accept".to_owned()
    } else {
        format!("Accept, {}", info.vary)
    };
    let mut builder = Response::builder()
        .header(header::ETAG, etag)
        .header(header::CACHE_CONTROL, CACHE_CONTROL)
        .header(header::VARY, vary);
    if let Some(link) = link_header(info) {
        builder = builder.header(header::LINK, link);
    }
    for (name, value) in extra_headers {
        builder = builder.header(*name, value.as_str());
    }
    let response = if info.not_modified(etag) {
        builder.status(StatusCode::NOT_MODIFIED).body(Body::empty())
    } else {
        builder
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body()?))
    };
    response.map_err(ApiError::internal)
}

/// A JSON body from a `serde_json` value.
///
/// # Errors
/// Only if serialisation fails, which it cannot for values built in memory.
pub fn json_text(value: &serde_json::Value) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(ApiError::internal)
}

/// An `ApiError` as a response, for handlers returning `Response`.
pub fn error(e: ApiError) -> Response {
    e.into_response()
}

/// A header value, falling back to empty when the text is not a valid header.
pub fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Vary` when the base comes from the `Host` header.
const VARY_HOST: &str = "Host";
/// `Vary` when the base may come from a trusted proxy's headers.
const VARY_FORWARDED: &str =
    "Host, Forwarded, X-Forwarded-Host, X-Forwarded-Proto, X-Forwarded-Prefix";

/// Internal request header carrying the base from [`with_link_base`] to
/// [`RequestInfo::new`]: `<secret> <vary-code> <base>`.
pub(crate) const BASE_HEADER: &str = "x-gapmap-link-base";

/// A secret fixed per process (128 random bits from the standard library's
/// randomly keyed hasher), so that a client cannot send [`BASE_HEADER`]
/// itself and have it believed.
fn secret() -> &'static str {
    static SECRET: OnceLock<String> = OnceLock::new();
    SECRET.get_or_init(|| {
        let word = |salt: u64| std::collections::hash_map::RandomState::new().hash_one(salt);
        format!("{:016x}{:016x}", word(1), word(2))
    })
}

fn seal(base: &str, vary: &'static str) -> Option<HeaderValue> {
    let code = match vary {
        "" => "p",
        VARY_HOST => "h",
        _ => "f",
    };
    HeaderValue::from_str(&format!("{} {code} {base}", secret())).ok()
}

fn unseal(value: &str) -> Option<(String, &'static str)> {
    let rest = value.strip_prefix(secret())?.strip_prefix(' ')?;
    let (code, base) = rest.split_once(' ')?;
    let vary = match code {
        "p" => "",
        "h" => VARY_HOST,
        "f" => VARY_FORWARDED,
        _ => return None,
    };
    Some((base.to_owned(), vary))
}

/// Whether `h` is a valid `host[:port]`: a DNS name or IPv4 address of
/// letters, digits, `-` and `.`, or a bracketed IPv6 address, then an
/// optional numeric port. Anything else (user info, paths, quotes, spaces)
/// could not be a host and must not reach a link.
fn valid_host(h: &str) -> bool {
    let (host, port) = if let Some(rest) = h.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return false;
        };
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        match after {
            "" => return true,
            p => ("x", p.strip_prefix(':').unwrap_or("x")),
        }
    } else {
        match h.rsplit_once(':') {
            Some((host, port)) => (host, port),
            None => (h, "0"),
        }
    };
    !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !port.is_empty()
        && port.len() <= 5
        && port.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `p` is a usable path prefix: empty, or `/` followed by path
/// segments of unreserved characters (no `..`, no empty segment).
fn valid_prefix(p: &str) -> bool {
    if p.is_empty() {
        return true;
    }
    let Some(rest) = p.strip_prefix('/') else {
        return false;
    };
    rest.split('/').all(|seg| {
        !seg.is_empty()
            && seg != ".."
            && seg != "."
            && seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
    })
}

/// The base from the `Host` header (or the URI's authority), over http.
fn host_base(headers: &HeaderMap, uri: &Uri) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| uri.authority().map(ToString::to_string))
        .filter(|h| valid_host(h))
        .unwrap_or_else(|| "localhost".to_owned());
    format!("http://{host}")
}

/// An IP network: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Parses `192.0.2.7`, `10.0.0.0/8`, `::1` or `fd00::/8`.
    ///
    /// # Errors
    /// A message naming the text when it is not an address or network.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let bad = || format!("'{t}' is not an IP address or CIDR network (10.0.0.0/8, ::1)");
        let (addr, prefix) = match t.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (t, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Self { addr, prefix })
    }

    /// Whether the network holds `ip` (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let shift = |bits: u32| bits.saturating_sub(u32::from(self.prefix));
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                let m = u32::MAX.checked_shl(shift(32)).unwrap_or(0);
                u32::from(net) & m == u32::from(a) & m
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                let m = u128::MAX.checked_shl(shift(128)).unwrap_or(0);
                u128::from(net) & m == u128::from(a) & m
            }
            _ => false,
        }
    }
}

/// How link bases are chosen (see the module documentation).
#[derive(Debug, Clone, Default)]
pub struct LinkBase {
    public_url: Option<String>,
    trusted: Vec<IpNet>,
}

impl LinkBase {
    /// A configuration from a public URL (`https://host[:port][/prefix]`)
    /// and the proxies whose forwarding headers are believed.
    ///
    /// # Errors
    /// A message when the URL is not an absolute http(s) URL with a valid
    /// host and a plain path, or a proxy is not an IP address or network.
    pub fn new(public_url: Option<&str>, trusted_proxies: &[String]) -> Result<Self, String> {
        let public_url = public_url
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|u| {
                let bad = |why: &str| format!("public URL '{u}': {why}");
                let (scheme, rest) = u
                    .split_once("://")
                    .ok_or_else(|| bad("expected http://host/... or https://host/..."))?;
                let scheme = scheme.to_ascii_lowercase();
                if scheme != "http" && scheme != "https" {
                    return Err(bad("the scheme must be http or https"));
                }
                if rest.contains(['?', '#']) {
                    return Err(bad("no query or fragment"));
                }
                let (host, path) = match rest.find('/') {
                    Some(i) => rest.split_at(i),
                    None => (rest, ""),
                };
                if !valid_host(host) {
                    return Err(bad("not a valid host[:port]"));
                }
                let path = path.trim_end_matches('/');
                if !valid_prefix(path) {
                    return Err(bad("the path must be plain segments such as /gapmap"));
                }
                Ok(format!("{scheme}://{host}{path}"))
            })
            .transpose()?;
        let trusted = trusted_proxies
            .iter()
            .flat_map(|t| t.split(','))
            .filter(|t| !t.trim().is_empty())
            .map(IpNet::parse)
            .collect::<Result<_, _>>()?;
        Ok(Self {
            public_url,
            trusted,
        })
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|n| n.contains(ip))
    }

    /// The base of links for a request from `peer`, and the request headers
    /// it was read from (for `Vary`).
    pub fn resolve(
        &self,
        headers: &HeaderMap,
        uri: &Uri,
        peer: Option<IpAddr>,
    ) -> (String, &'static str) {
        if let Some(u) = &self.public_url {
            return (u.clone(), "");
        }
        if peer.is_some_and(|p| self.trusts(p)) {
            if let Some(base) = self.forwarded_base(headers) {
                return (base, VARY_FORWARDED);
            }
            return (host_base(headers, uri), VARY_FORWARDED);
        }
        (host_base(headers, uri), VARY_HOST)
    }

    /// The client a request comes from: the connection's peer, unless that
    /// is a trusted proxy, when the address the proxies recorded is used —
    /// `Forwarded`'s `for=` (or else `X-Forwarded-For`) read from the right
    /// while the address is itself a trusted proxy, so a value a client
    /// wrote is never believed. The failed-authentication limit counts by
    /// this address: behind a proxy, counting the proxy would let ten bad
    /// tokens from anyone lock every editor out.
    pub fn client(&self, headers: &HeaderMap, peer: IpAddr) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let values = |name: &str| -> Vec<String> {
            headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let parse = |v: &str| -> Option<IpAddr> {
            let v = v.trim().trim_matches('"');
            let inner = v.trim_start_matches('[');
            let inner = inner.split(']').next().unwrap_or(inner);
            inner
                .parse::<IpAddr>()
                .ok()
                .or_else(|| v.parse::<SocketAddr>().ok().map(|s| s.ip()))
        };
        let forwarded: Vec<Option<IpAddr>> = values("forwarded")
            .iter()
            .map(|element| {
                element.split(';').find_map(|pair| {
                    let (k, v) = pair.split_once('=')?;
                    k.trim().eq_ignore_ascii_case("for").then(|| parse(v))?
                })
            })
            .collect();
        let chain: Vec<Option<IpAddr>> = if forwarded.is_empty() {
            values("x-forwarded-for").iter().map(|v| parse(v)).collect()
        } else {
            forwarded
        };
        let mut client = peer;
        for hop in chain.iter().rev() {
            match hop {
                // An obfuscated or unparsable hop: nothing further left can
                // be believed; the last trusted hop stands for the client.
                None => break,
                Some(ip) => {
                    client = *ip;
                    if !self.trusts(*ip) {
                        break;
                    }
                }
            }
        }
        client
    }

    /// The base a trusted proxy describes. From `Forwarded`, the element
    /// added by the outermost trusted proxy: elements are read from the
    /// right (the peer's own) leftwards while their `for=` is itself a
    /// trusted proxy, so one a client wrote is never used. Otherwise the
    /// last `X-Forwarded-Host` / `-Proto` values (those the peer set).
    /// `X-Forwarded-Prefix` adds a path prefix in either case.
    fn forwarded_base(&self, headers: &HeaderMap) -> Option<String> {
        let all = |name: &str| -> Vec<String> {
            headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let mut host: Option<String> = None;
        let mut proto: Option<String> = None;
        let elements = all("forwarded");
        for element in elements.iter().rev() {
            let mut for_ip = None;
            let (mut h, mut p) = (None, None);
            for pair in element.split(';') {
                let Some((k, v)) = pair.split_once('=') else {
                    continue;
                };
                let v = v.trim().trim_matches('"');
                match k.trim().to_ascii_lowercase().as_str() {
                    "host" => h = Some(v.to_owned()),
                    "proto" => p = Some(v.to_ascii_lowercase()),
                    "for" => {
                        let addr = v.trim_start_matches('[');
                        let addr = addr.split(']').next().unwrap_or(addr);
                        for_ip = addr
                            .parse::<IpAddr>()
                            .ok()
                            .or_else(|| v.parse::<SocketAddr>().ok().map(|s| s.ip()));
                    }
                    _ => {}
                }
            }
            host = h.or(host);
            proto = p.or(proto);
            if !for_ip.is_some_and(|ip| self.trusts(ip)) {
                break;
            }
        }
        if elements.is_empty() {
            host = all("x-forwarded-host").pop();
            proto = all("x-forwarded-proto")
                .pop()
                .map(|p| p.to_ascii_lowercase());
        }
        let prefix = all("x-forwarded-prefix")
            .pop()
            .map(|p| p.trim_end_matches('/').to_owned())
            .unwrap_or_default();
        let host = host.filter(|h| valid_host(h))?;
        let proto = proto
            .filter(|p| p == "http" || p == "https")
            .unwrap_or_else(|| "http".to_owned());
        let prefix = if valid_prefix(&prefix) {
            prefix
        } else {
            String::new()
        };
        Some(format!("{proto}://{host}{prefix}"))
    }
}

/// The client's address as judged by [`LinkBase::client`], put in each
/// request's extensions by [`with_link_base`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// Wraps a router so that every request's link base follows `config`. The
/// peer address comes from axum's `ConnectInfo`, which the server provides
/// when it serves `into_make_service_with_connect_info::<SocketAddr>()`;
/// without it no proxy is trusted.
pub fn with_link_base(router: Router, config: LinkBase) -> Router {
    router.layer(axum::middleware::from_fn_with_state(
        Arc::new(config),
        link_base_middleware,
    ))
}

async fn link_base_middleware(
    State(config): State<Arc<LinkBase>>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let (base, vary) = config.resolve(req.headers(), req.uri(), peer);
    if let Some(p) = peer {
        let client = config.client(req.headers(), p);
        req.extensions_mut().insert(ClientAddr(client));
    }
    let headers = req.headers_mut();
    headers.remove(BASE_HEADER);
    if let Some(v) = seal(&base, vary) {
        headers.insert(HeaderName::from_static(BASE_HEADER), v);
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::LinkBase;
    use axum::http::HeaderMap;
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_client_is_the_peer_unless_a_trusted_proxy_says_otherwise() {
        let base = LinkBase::new(None, &["10.0.0.0/8".to_owned()]).unwrap();
        let spoof = headers(&[("x-forwarded-for", "203.0.113.9")]);
        // An untrusted peer's headers are never believed.
        assert_eq!(base.client(&spoof, ip("198.51.100.7")), ip("198.51.100.7"));
        // A trusted proxy's last hop is the client.
        assert_eq!(base.client(&spoof, ip("10.1.2.3")), ip("203.0.113.9"));
        // A client-written hop left of the first untrusted one is ignored.
        let chain = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9, 10.9.9.9")]);
        assert_eq!(base.client(&chain, ip("10.1.2.3")), ip("203.0.113.9"));
        // Forwarded (RFC 7239) wins over X-Forwarded-For, with IPv6 and ports.
        let fwd = headers(&[
            (
                "forwarded",
                "for=1.2.3.4, for=\"[2001:db8::1]:4711\";proto=https",
            ),
            ("x-forwarded-for", "5.6.7.8"),
        ]);
        assert_eq!(base.client(&fwd, ip("10.1.2.3")), ip("2001:db8::1"));
        // An unparsable hop stops the walk at the last trusted address.
        let hidden = headers(&[("forwarded", "for=_hidden")]);
        assert_eq!(base.client(&hidden, ip("10.1.2.3")), ip("10.1.2.3"));
        // No proxy headers: the proxy itself.
        assert_eq!(
            base.client(&HeaderMap::new(), ip("10.1.2.3")),
            ip("10.1.2.3")
        );
    }
}
