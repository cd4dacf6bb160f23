//! Compressed responses: content negotiation, a cache of compressed
//! variants, and an `ETag` per encoding.
//!
//! Compressing a large GeoJSON page costs far more than building it (the
//! pages are pre-encoded): brotli at its default quality (11) takes about
//! 1 s for 170 KB. So [`compressed`] (a middleware around the compression
//! layers of [`crate::api::app`]):
//! - chooses one encoding per request from `Accept-Encoding` (q-values
//!   honoured; `br` before `gzip` at equal q) and passes only that one on,
//!   so the compression layers cannot pick another;
//! - keeps the compressed `200` answers of repeated `GET`s in a cache bounded
//!   by bytes ([`ResponseCache`], per [`crate::api::AppState`]), keyed by the
//!   snapshot tag, the URI, the encoding and every request header a response
//!   may vary by; a new snapshot (data reload, register write) empties it;
//! - gives each encoding its own strong `ETag` (`"tag"` → `"tag.br"`), as
//!   RFC 9110 §8.8.3 requires of different representations, and answers
//!   `If-None-Match` with `304` for the encoded tags, from the cache or by
//!   asking the handler with the plain tag.
//!
//! Not cached: requests with `Authorization` (a token may be revoked; some
//! answers depend on who asks), with `Range`, other methods than `GET`,
//! answers other than `200`, with `Cache-Control: no-store` or `private`,
//! that vary by a header outside the key, or larger than a sixteenth of the
//! budget. Those are compressed as they stream, as before.
//!
//! Levels, measured on `lsoa` pages of 170 KB and 740 KB: brotli 4 gives
//! 26.8/114 KB in 8/34 ms (gzip 6: 28.3/121 KB in 11/44 ms; brotli 11:
//! 17.5/70 KB in 0.95/3.3 s), so brotli runs at 4 and gzip at its default 6:
//! no client gets more bytes than gzip 6 gave, and a cache miss costs
//! milliseconds, not seconds.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use http_body::Frame;

use super::AppState;

/// Default budget of the cache of compressed responses, in bytes.
pub const DEFAULT_BUDGET: u64 = 64 * 1024 * 1024;

/// Byte budget of the encoded vector tiles ([`crate::api::AppState::tiles`]):
/// England's tiles down to zoom 8, the map's first views, take about 20 MB.
pub const TILE_BUDGET: u64 = 32 * 1024 * 1024;

/// How long [`ResponseCache::stored_or_make`] waits for a body another
/// caller is building before building its own: longer than the slowest
/// tile of England (about 2 s on a loaded machine), shorter than a
/// request's time budget.
pub const SINGLE_FLIGHT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Request headers a cached answer may depend on, besides the URI and the
/// chosen encoding: the representation (`Accept`) and the links' base
/// (`Host`, a trusted proxy's headers, and the base the link layer sealed).
const KEYED: [&str; 7] = [
    "accept",
    "host",
    "forwarded",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-prefix",
    super::ogc::respond::BASE_HEADER,
];

/// A content coding GapMap sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// Brotli (RFC 7932).
    Br,
    /// gzip (RFC 1952).
    Gzip,
}

impl Encoding {
    fn token(self) -> &'static str {
        match self {
            Self::Br => "br",
            Self::Gzip => "gzip",
        }
    }
}

/// The encoding to send for an `Accept-Encoding` value: the highest q among
/// `br` and `gzip` (`*` stands for either), `br` first at equal q; `None`
/// for identity.
#[must_use]
pub fn negotiate(accept_encoding: &str) -> Option<Encoding> {
    let mut br: Option<f32> = None;
    let mut gzip: Option<f32> = None;
    let mut star: Option<f32> = None;
    for item in accept_encoding.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let mut q = 1.0_f32;
        for p in parts {
            if let Some((k, v)) = p.split_once('=') {
                if k.trim().eq_ignore_ascii_case("q") {
                    q = v.trim().parse::<f32>().unwrap_or(0.0).clamp(0.0, 1.0);
                }
            }
        }
        match name.as_str() {
            "br" => br = Some(q),
            "gzip" | "x-gzip" => gzip = Some(q),
            "*" => star = Some(q),
            _ => {}
        }
    }
    let br = br.or(star).unwrap_or(0.0);
    let gzip = gzip.or(star).unwrap_or(0.0);
    if br <= 0.0 && gzip <= 0.0 {
        None
    } else if br >= gzip {
        Some(Encoding::Br)
    } else {
        Some(Encoding::Gzip)
    }
}

/// The cache key of a request, or of a body a handler stored
/// ([`ResponseCache::store`]: no encoding, no headers, its own key).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    tag: u64,
    encoding: Option<Encoding>,
    uri: String,
    headers: Vec<Option<HeaderValue>>,
}

/// A cached answer.
#[derive(Debug)]
struct Cached {
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Debug, Clone, Copy)]
struct ByBytes;

impl quick_cache::Weighter<Key, Arc<Cached>> for ByBytes {
    fn weight(&self, key: &Key, val: &Arc<Cached>) -> u64 {
        let headers: usize = val
            .headers
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len() + 32)
            .sum();
        (key.uri.len() + headers + val.body.len() + 64) as u64
    }
}

/// Compressed answers of this server's snapshot, bounded by bytes.
pub struct ResponseCache {
    cache: quick_cache::sync::Cache<Key, Arc<Cached>, ByBytes>,
    /// The snapshot tag the entries belong to.
    tag: AtomicU64,
    /// The largest answer kept.
    max_entry: u64,
    /// Bodies built by [`ResponseCache::stored_or_make`] (cache misses).
    made: AtomicU64,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache")
            .field("entries", &self.cache.len())
            .field("bytes", &self.cache.weight())
            .field("budget", &self.cache.capacity())
            .field("tag", &self.tag)
            .field("max_entry", &self.max_entry)
            .field("made", &self.made)
            .finish()
    }
}

impl Default for ResponseCache {
    fn default() -> Self {
        Self::new(DEFAULT_BUDGET)
    }
}

impl ResponseCache {
    /// A cache of at most `budget` bytes (0 turns it off).
    #[must_use]
    pub fn new(budget: u64) -> Self {
        Self {
            cache: quick_cache::sync::Cache::with_weighter(1024, budget.max(1), ByBytes),
            tag: AtomicU64::new(0),
            max_entry: budget / 16,
            made: AtomicU64::new(0),
        }
    }

    /// How many bodies [`ResponseCache::stored_or_make`] has built (each
    /// a miss that did the work; callers that waited for another's body
    /// are not counted).
    #[must_use]
    pub fn made(&self) -> u64 {
        self.made.load(Ordering::Relaxed)
    }

    /// The body stored under `key` for the snapshot `tag`, or the one `make`
    /// builds, which is then stored as [`ResponseCache::store`] would.
    /// Single flight: while one caller builds a key's body, concurrent
    /// callers of the same key wait for it (at most [`SINGLE_FLIGHT_WAIT`],
    /// then build their own) instead of doing the same work again. A body
    /// too large to keep is not shared: the next waiter builds it.
    pub fn stored_or_make(&self, tag: u64, key: &str, make: impl FnOnce() -> Bytes) -> Bytes {
        let key = Key {
            tag,
            encoding: None,
            uri: key.to_owned(),
            headers: Vec::new(),
        };
        let guard = match self
            .cache
            .get_value_or_guard(&key, Some(SINGLE_FLIGHT_WAIT))
        {
            quick_cache::sync::GuardResult::Value(hit) => return hit.body.clone(),
            quick_cache::sync::GuardResult::Guard(guard) => Some(guard),
            quick_cache::sync::GuardResult::Timeout => None,
        };
        self.made.fetch_add(1, Ordering::Relaxed);
        let body = make();
        if let Some(guard) = guard {
            if body.len() as u64 <= self.max_entry && self.tag.load(Ordering::Acquire) == tag {
                let _ = guard.insert(Arc::new(Cached {
                    headers: HeaderMap::new(),
                    body: body.clone(),
                }));
            }
        }
        body
    }

    /// Entries and bytes held.
    #[must_use]
    pub fn usage(&self) -> (usize, u64) {
        (self.cache.len(), self.cache.weight())
    }

    /// Empties the cache when the served snapshot is no longer the one its
    /// entries came from. `tag` is the tag of the snapshot served now
    /// (`AppState::snapshot().tag`), not of one a request took earlier.
    pub fn follow(&self, tag: u64) {
        if self.tag.swap(tag, Ordering::AcqRel) != tag {
            self.cache.clear();
        }
    }

    /// A body stored with [`ResponseCache::store`] for the snapshot `tag`.
    #[must_use]
    pub fn stored(&self, tag: u64, key: &str) -> Option<Bytes> {
        self.cache
            .get(&Key {
                tag,
                encoding: None,
                uri: key.to_owned(),
                headers: Vec::new(),
            })
            .map(|c| c.body.clone())
    }

    /// Keeps a body a handler built from the snapshot `tag` (an encoded
    /// vector tile: `tile/<collection>/<z>/<x>/<y>`), within the same byte
    /// budget as the compressed answers; not kept when larger than a
    /// sixteenth of the budget or when the cache follows another snapshot
    /// ([`ResponseCache::follow`]).
    pub fn store(&self, tag: u64, key: String, body: Bytes) {
        if body.len() as u64 > self.max_entry || self.tag.load(Ordering::Acquire) != tag {
            return;
        }
        let cached = Cached {
            headers: HeaderMap::new(),
            body,
        };
        self.cache.insert(
            Key {
                tag,
                encoding: None,
                uri: key,
                headers: Vec::new(),
            },
            Arc::new(cached),
        );
    }
}

/// `"x"` → `"x.br"` (and `W/"x"` → `W/"x.br"`).
fn encoded_etag(etag: &HeaderValue, encoding: Encoding) -> Option<HeaderValue> {
    let s = etag.to_str().ok()?;
    let inner = s.strip_suffix('"')?;
    HeaderValue::from_str(&format!("{inner}.{}\"", encoding.token())).ok()
}

/// `If-None-Match` with this encoding's tags made plain again (for the
/// handler), and whether any was.
fn plain_if_none_match(value: &HeaderValue, encoding: Encoding) -> Option<(HeaderValue, bool)> {
    let s = value.to_str().ok()?;
    let suffix = format!(".{}\"", encoding.token());
    let mut changed = false;
    let tags: Vec<String> = s
        .split(',')
        .map(|t| {
            let t = t.trim();
            match t.strip_suffix(&suffix) {
                Some(stem) => {
                    changed = true;
                    format!("{stem}\"")
                }
                None => t.to_owned(),
            }
        })
        .collect();
    Some((HeaderValue::from_str(&tags.join(", ")).ok()?, changed))
}

/// Whether `If-None-Match` names `etag` (weak comparison, RFC 9110 §13.1.2).
#[must_use]
pub fn matches(if_none_match: &HeaderValue, etag: &HeaderValue) -> bool {
    let (Ok(inm), Ok(etag)) = (if_none_match.to_str(), etag.to_str()) else {
        return false;
    };
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let want = opaque(etag);
    inm.split(',').any(|t| t.trim() == "*" || opaque(t) == want)
}

/// Whether an answer may be cached, judged by its headers.
fn cacheable(response: &Response, encoding: Encoding) -> bool {
    let h = response.headers();
    if response.status() != StatusCode::OK
        || h.get(header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            != Some(encoding.token())
    {
        return false;
    }
    if h.get_all(header::CACHE_CONTROL).iter().any(|v| {
        v.to_str().map_or(true, |v| {
            let v = v.to_ascii_lowercase();
            v.contains("no-store") || v.contains("private")
        })
    }) {
        return false;
    }
    h.get_all(header::VARY).iter().all(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',').all(|name| {
                let name = name.trim().to_ascii_lowercase();
                name == "accept-encoding" || name == "origin" || KEYED.contains(&name.as_str())
            })
        })
    })
}

/// The middleware (see the module documentation).
pub async fn compressed(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let encoding = request
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .and_then(negotiate);
    let Some(encoding) = encoding else {
        request.headers_mut().remove(header::ACCEPT_ENCODING);
        return next.run(request).await;
    };
    request.headers_mut().insert(
        header::ACCEPT_ENCODING,
        HeaderValue::from_static(encoding.token()),
    );
    let cache = &state.responses;
    let key = (request.method() == Method::GET
        && cache.max_entry > 0
        && !request.headers().contains_key(header::AUTHORIZATION)
        && !request.headers().contains_key(header::RANGE))
    .then(|| {
        let tag = state.snapshot().tag;
        cache.follow(tag);
        Key {
            tag,
            encoding: Some(encoding),
            uri: request.uri().to_string(),
            headers: KEYED
                .iter()
                .map(|name| request.headers().get(*name).cloned())
                .collect(),
        }
    });
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
    if let Some(hit) = key.as_ref().and_then(|k| cache.cache.get(k)) {
        return from_cache(&hit, if_none_match.as_ref());
    }
    // The handler knows only the plain tags.
    let mut restore_etag = false;
    if let Some(inm) = &if_none_match {
        if let Some((plain, changed)) = plain_if_none_match(inm, encoding) {
            request.headers_mut().insert(header::IF_NONE_MATCH, plain);
            restore_etag = changed;
        }
    }
    let mut response = next.run(request).await;
    let compressed = response
        .headers()
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        == Some(encoding.token());
    let retag = compressed || (response.status() == StatusCode::NOT_MODIFIED && restore_etag);
    if retag {
        if let Some(e) = response
            .headers()
            .get(header::ETAG)
            .and_then(|e| encoded_etag(e, encoding))
        {
            response.headers_mut().insert(header::ETAG, e);
        }
    }
    match key {
        Some(key) if cacheable(&response, encoding) => {
            let (parts, body) = response.into_parts();
            let headers = parts.headers.clone();
            let tee = Tee {
                inner: body,
                kept: Vec::new(),
                limit: cache.max_entry,
                overflow: false,
                done: Some(Box::new(move |body: Bytes| {
                    // Only while the snapshot is still the one keyed.
                    if state.snapshot().tag == key.tag {
                        state
                            .responses
                            .cache
                            .insert(key, Arc::new(Cached { headers, body }));
                    }
                })),
            };
            Response::from_parts(parts, Body::new(tee))
        }
        _ => response,
    }
}

/// A cached answer, or `304` when `If-None-Match` names its tag.
fn from_cache(hit: &Cached, if_none_match: Option<&HeaderValue>) -> Response {
    let etag = hit.headers.get(header::ETAG);
    if let (Some(inm), Some(etag)) = (if_none_match, etag) {
        if matches(inm, etag) {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::NOT_MODIFIED;
            // RFC 9110 §15.4.5: the headers a 200 would have had that matter
            // to caches.
            for name in [
                header::ETAG,
                header::CACHE_CONTROL,
                header::VARY,
                header::CONTENT_LOCATION,
                header::EXPIRES,
            ] {
                for v in hit.headers.get_all(&name) {
                    r.headers_mut().append(name.clone(), v.clone());
                }
            }
            return r;
        }
    }
    let mut r = Response::new(Body::from(hit.body.clone()));
    *r.headers_mut() = hit.headers.clone();
    r.headers_mut().remove(header::TRANSFER_ENCODING);
    r.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(hit.body.len()));
    r
}

type Done = Box<dyn FnOnce(Bytes) + Send>;

pin_project_lite::pin_project! {
    /// A body passed through as it streams, with a copy kept (up to `limit`
    /// bytes) and handed to `done` when it ends whole.
    struct Tee {
        #[pin]
        inner: Body,
        kept: Vec<u8>,
        limit: u64,
        overflow: bool,
        done: Option<Done>,
    }
}

impl http_body::Body for Tee {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    if (this.kept.len() + data.len()) as u64 > *this.limit {
                        *this.overflow = true;
                        *this.kept = Vec::new();
                    } else if !*this.overflow {
                        this.kept.extend_from_slice(data);
                    }
                } else {
                    // Trailers: not kept, so not cached.
                    *this.overflow = true;
                }
            }
            Poll::Ready(Some(Err(_))) => *this.overflow = true,
            Poll::Ready(None) => {
                if let Some(done) = this.done.take() {
                    if !*this.overflow {
                        done(Bytes::from(std::mem::take(this.kept)));
                    }
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::{encoded_etag, matches, negotiate, plain_if_none_match, Encoding};
    use axum::http::HeaderValue;

    #[test]
    fn negotiation_follows_q_values() {
        assert_eq!(negotiate("gzip, deflate, br"), Some(Encoding::Br));
        assert_eq!(negotiate("gzip, deflate, br, zstd"), Some(Encoding::Br));
        assert_eq!(negotiate("gzip"), Some(Encoding::Gzip));
        assert_eq!(negotiate("br;q=0.5, gzip"), Some(Encoding::Gzip));
        assert_eq!(negotiate("br;q=0, gzip;q=0"), None);
        assert_eq!(negotiate("identity"), None);
        assert_eq!(negotiate("*"), Some(Encoding::Br));
        assert_eq!(negotiate("*;q=0.1, br;q=0"), Some(Encoding::Gzip));
        assert_eq!(negotiate("deflate"), None);
        assert_eq!(negotiate(""), None);
        assert_eq!(negotiate("br;q=nonsense, gzip"), Some(Encoding::Gzip));
    }

    #[test]
    fn each_encoding_has_its_own_tag() {
        let strong = HeaderValue::from_static("\"v7-abc\"");
        let weak = HeaderValue::from_static("W/\"v7-abc\"");
        let br = encoded_etag(&strong, Encoding::Br).unwrap();
        assert_eq!(br, "\"v7-abc.br\"");
        assert_eq!(
            encoded_etag(&weak, Encoding::Gzip).unwrap(),
            "W/\"v7-abc.gzip\""
        );
        let (plain, changed) = plain_if_none_match(&br, Encoding::Br).unwrap();
        assert_eq!(plain, strong);
        assert!(changed);
        // Another encoding's tag is left alone (and so does not match).
        let (other, changed) = plain_if_none_match(&br, Encoding::Gzip).unwrap();
        assert_eq!(other, br);
        assert!(!changed);
        assert!(matches(
            &HeaderValue::from_static("\"a\", \"v7-abc.br\""),
            &br
        ));
        assert!(matches(&HeaderValue::from_static("W/\"v7-abc.br\""), &br));
        assert!(matches(&HeaderValue::from_static("*"), &br));
        assert!(!matches(&strong, &br));
    }
}
