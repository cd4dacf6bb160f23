//! The serving loop: accepts TCP connections and serves HTTP/1.1 on them
//! with limits that keep slow, idle or greedy clients from taking the server
//! down or stalling it.
//!
//! `axum::serve` sets no timeouts, so a client that opens a connection and
//! sends nothing (or one header byte a second) holds a task, a socket and
//! hyper's buffers for ever. [`serve`] runs its own accept loop instead:
//!
//! - at most [`ServerLimits::max_connections`] connections are served at
//!   once; further ones wait in the kernel's accept queue (costing this
//!   process nothing) until a connection closes;
//! - one client address may hold at most
//!   [`ServerLimits::max_connections_per_peer`] of them: a connection beyond
//!   that is answered at once with 503 `application/problem+json` and
//!   `Retry-After`, and closed, so a client holding many slow connections
//!   cannot keep others waiting in the queue;
//! - a request's line and headers must arrive within
//!   [`ServerLimits::header_timeout`] of the server starting to wait for them
//!   (connection opened, or previous response sent), and may be at most
//!   [`ServerLimits::max_head_bytes`] long (431 beyond);
//! - a connection with no request in progress on which no byte has moved in
//!   either direction for [`ServerLimits::idle_timeout`] is closed: an idle
//!   keep-alive connection, or a client that stopped reading its response;
//! - every request has [`ServerLimits::request_timeout`] to produce its
//!   response; after it the handler's future is dropped (cancelled) and the
//!   client gets 503 `application/problem+json` with `Retry-After`;
//! - a request body may be at most [`ServerLimits::max_body_bytes`], an
//!   upload's at most [`ServerLimits::max_upload_bytes`] (413 beyond), and
//!   is read within the request's time budget; at most
//!   [`ServerLimits::max_uploads`] uploads are read at once (503 beyond);
//! - a request hyper itself cannot parse (malformed request line or header
//!   bytes, 414, 431) gets its status with a problem document, not hyper's
//!   bare head: see [`Tracked`];
//! - every request is logged once, bounded: method, path (at most
//!   [`LOGGED_PATH_CHARS`] characters, control characters escaped), the
//!   query's length only, status and latency.
//!
//! Shutdown is graceful: when the `shutdown` future completes the listener
//! closes, idle connections close, and requests in progress get to finish
//! (within their time budget).

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;
use tracing::Instrument;

use super::ApiError;

/// How many characters of a request's path the access log keeps.
pub const LOGGED_PATH_CHARS: usize = 200;

/// What `Retry-After` says (seconds) when a request ran out of time.
const RETRY_AFTER_SECONDS: u64 = 5;

/// Limits on connections and requests; see the module documentation for
/// what each one bounds. [`ServerLimits::default`] holds the CLI's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Connections served at once (at least 1); more wait to be accepted.
    pub max_connections: usize,
    /// Connections one peer address may hold at once (at least 1); more are
    /// answered 503 and closed.
    pub max_connections_per_peer: usize,
    /// Time allowed for a request's line and headers to arrive, counted from
    /// when the server starts waiting for them.
    pub header_timeout: Duration,
    /// A connection with no request in progress and no bytes moving for
    /// this long is closed.
    pub idle_timeout: Duration,
    /// Time budget of one request, from its headers being read to its
    /// response head being ready.
    pub request_timeout: Duration,
    /// Largest request body accepted, in bytes, except on the upload routes.
    pub max_body_bytes: usize,
    /// Largest body of an upload, in bytes: a process execution (whose
    /// boundary file may be 8 MiB before base64) and a register import
    /// ([`ServerLimits::body_limit`]).
    pub max_upload_bytes: usize,
    /// Largest request line plus headers, in bytes (hyper's read buffer; at
    /// least [`MIN_HEAD_BYTES`]).
    pub max_head_bytes: usize,
    /// Uploads read at once ([`ServerLimits::is_upload`]): their bodies are
    /// held whole, so at most this many times
    /// [`ServerLimits::max_upload_bytes`] of memory; one more gets 503 with
    /// `Retry-After`.
    pub max_uploads: usize,
}

/// The smallest [`ServerLimits::max_head_bytes`] hyper accepts.
pub const MIN_HEAD_BYTES: usize = 8192;

/// Default [`ServerLimits::max_upload_bytes`]: an 8 MiB boundary file is
/// 10.7 MiB in base64, plus its JSON wrapping.
pub const DEFAULT_MAX_UPLOAD_BYTES: usize = 12 * 1024 * 1024;

/// Default [`ServerLimits::max_uploads`].
pub const DEFAULT_MAX_UPLOADS: usize = 4;

impl ServerLimits {
    /// Whether a request is an upload: a `POST` to a process execution
    /// (`/processes/{id}/execution`) or a collection import
    /// (`/collections/{id}/import`).
    #[must_use]
    pub fn is_upload(method: &Method, path: &str) -> bool {
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        *method == Method::POST
            && matches!(
                segments.as_slice(),
                ["", "processes", _, "execution"] | ["", "collections", _, "import"]
            )
    }

    /// The body limit of a request: [`ServerLimits::max_upload_bytes`] for
    /// an upload ([`ServerLimits::is_upload`]), else
    /// [`ServerLimits::max_body_bytes`].
    #[must_use]
    pub fn body_limit(&self, method: &Method, path: &str) -> usize {
        if Self::is_upload(method, path) {
            self.max_upload_bytes
        } else {
            self.max_body_bytes
        }
    }
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            max_connections_per_peer: 256,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_body_bytes: 1024 * 1024,
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            // A 64 KiB URL (the most `http::Uri` takes) plus 16 KiB of headers.
            max_head_bytes: 80 * 1024,
            max_uploads: DEFAULT_MAX_UPLOADS,
        }
    }
}

/// Serves `router` on `listener` under `limits` until `shutdown` completes,
/// then closes the listener and waits (at most the request time budget plus
/// the idle timeout) for open connections to finish.
///
/// # Errors
/// Never for a client's doing: errors on single connections are logged at
/// debug level and end only that connection. An `Err` is returned only if
/// the listener's address cannot be read.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let addr = listener.local_addr()?;
    let max_connections = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let slots = Arc::new(Semaphore::new(max_connections));
    let uploads = Arc::new(Semaphore::new(
        limits.max_uploads.clamp(1, Semaphore::MAX_PERMITS),
    ));
    let peers: Arc<Mutex<HashMap<IpAddr, usize>>> = Arc::default();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.max_head_bytes.max(MIN_HEAD_BYTES))
        // The buffer limit alone lets a head through that arrives whole in
        // one read; this one counts the parsed head itself.
        .max_header_size(limits.max_head_bytes.max(MIN_HEAD_BYTES))
        .keep_alive(true);
    let http = Arc::new(http);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    tracing::debug!(%addr, max_connections, ?limits, "accepting connections");

    loop {
        // Take a slot before accepting, so that excess connections wait in
        // the kernel's accept queue rather than in this process's memory.
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break, // the semaphore is never closed
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    if !is_connection_error(&e) {
                        // EMFILE and the like: wait for connections to close.
                        tracing::error!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let Some(peer_slot) = PeerSlot::take(&peers, peer.ip(), limits.max_connections_per_peer)
        else {
            tracing::debug!(%peer, "too many connections from this peer; 503");
            tokio::spawn(async move {
                refuse_busy(stream).await;
                drop(slot);
            });
            continue;
        };
        let connection = serve_connection(
            stream,
            peer,
            router.clone(),
            Arc::clone(&http),
            limits,
            Arc::clone(&uploads),
            stop_rx.clone(),
        );
        tokio::spawn(async move {
            connection.await;
            drop(peer_slot);
            drop(slot);
        });
    }

    drop(listener);
    let _ = stop_tx.send(true);
    let grace = limits.request_timeout + limits.idle_timeout + Duration::from_secs(1);
    let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(grace, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!(
            open = max_connections - slots.available_permits(),
            "connections still open at shutdown; closing them"
        );
    }
    Ok(())
}

/// One connection counted against its peer's limit until dropped.
struct PeerSlot {
    peers: Arc<Mutex<HashMap<IpAddr, usize>>>,
    ip: IpAddr,
}

impl PeerSlot {
    /// Counts a connection from `ip`, or `None` when it already holds `max`.
    fn take(peers: &Arc<Mutex<HashMap<IpAddr, usize>>>, ip: IpAddr, max: usize) -> Option<Self> {
        let mut map = peers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let held = map.entry(ip).or_insert(0);
        if *held >= max.max(1) {
            return None;
        }
        *held += 1;
        Some(Self {
            peers: Arc::clone(peers),
            ip,
        })
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut map = self
            .peers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(held) = map.get_mut(&self.ip) {
            *held -= 1;
            if *held == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// Answers a connection over its peer's limit with 503 and closes it,
/// without reading its request; at most one second is spent writing.
async fn refuse_busy(mut stream: TcpStream) {
    use tokio::io::AsyncWriteExt as _;
    let body = ApiError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        title: "Too many connections",
        detail: "this client address holds as many connections as the server allows one \
                 client; close some, or retry later"
            .to_owned(),
        parameter: None,
    }
    .to_json()
    .to_string();
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
         cache-control: no-store\r\nretry-after: {RETRY_AFTER_SECONDS}\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let write = async {
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await?;
        // Read what the client sent until it closes: closing with unread
        // bytes would reset the connection and could lose the answer.
        let mut sink = [0u8; 4096];
        while tokio::io::AsyncReadExt::read(&mut stream, &mut sink).await? > 0 {}
        Ok::<_, io::Error>(())
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), write).await;
}

/// Serves one connection until it closes, breaks a limit, or shutdown.
async fn serve_connection(
    stream: TcpStream,
    peer: std::net::SocketAddr,
    router: Router,
    http: Arc<hyper::server::conn::http1::Builder>,
    limits: ServerLimits,
    uploads: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Tracked {
        inner: stream,
        activity: Arc::clone(&activity),
        heads: 0,
        replacement: None,
        max_head_bytes: limits.max_head_bytes.max(MIN_HEAD_BYTES),
    });
    let service = {
        let activity = Arc::clone(&activity);
        hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            // Handlers that trust only configured proxies need the peer.
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            let in_flight = InFlight::begin(Arc::clone(&activity));
            let router = router.clone();
            let uploads = Arc::clone(&uploads);
            async move {
                let response = handle(router, request, limits, uploads).await;
                drop(in_flight);
                Ok::<_, Infallible>(response)
            }
        })
    };
    let connection = http.serve_connection(io, service);
    let mut connection = std::pin::pin!(connection);
    let mut stopping = *stop.borrow();
    if stopping {
        connection.as_mut().graceful_shutdown();
    }
    loop {
        let deadline = activity.idle_deadline(limits.idle_timeout);
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    // Timeouts, malformed requests, resets: the client's doing.
                    tracing::debug!(error = %e, "connection ended");
                }
                return;
            }
            () = tokio::time::sleep_until(deadline.into()) => {
                if activity.in_flight() == 0 && activity.idle_for() >= limits.idle_timeout {
                    // Dropping the connection closes the socket. (A graceful
                    // shutdown would wait for a blocked write to finish.)
                    tracing::debug!("connection idle too long; closing it");
                    return;
                }
            }
            changed = stop.changed(), if !stopping => {
                stopping = true;
                if changed.is_ok() {
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// Handles one request: logging, body limit and time budget around `router`.
async fn handle(
    router: Router,
    request: hyper::Request<Incoming>,
    limits: ServerLimits,
    uploads: Arc<Semaphore>,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = sanitise_path(request.uri().path(), LOGGED_PATH_CHARS);
    let query_bytes = request.uri().query().map_or(0, str::len);
    let span = tracing::info_span!("request", %method, path = %path);
    async move {
        let declared_length = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let body_limit = limits.body_limit(&method, request.uri().path());
        let max_body = u64::try_from(body_limit).unwrap_or(u64::MAX);
        let too_long = declared_length.is_some_and(|n| n > max_body);
        // An upload's body is held whole: only so many at once.
        let upload_slot = ServerLimits::is_upload(&method, request.uri().path())
            .then(|| uploads.try_acquire_owned());
        let response = if too_long {
            body_too_large(body_limit)
        } else if matches!(upload_slot, Some(Err(_))) {
            uploads_busy(limits.max_uploads)
        } else {
            let request =
                request.map(|body| Body::new(http_body_util::Limited::new(body, body_limit)));
            // Dropping the router's future on timeout cancels the handler at
            // its next await point.
            let deadline = tokio::time::Instant::now() + limits.request_timeout;
            match tokio::time::timeout_at(deadline, router.oneshot(request)).await {
                // `timeout_at` polls the handler before its deadline: on a
                // loaded machine a worker that wakes late finds both done
                // and the handler wins, however late. A read answered past
                // its budget is a 503 all the same, so the budget holds
                // whatever the scheduler does; a write's answer is kept,
                // since what it says was stored is true.
                Ok(Ok(_late)) if method.is_safe() && tokio::time::Instant::now() > deadline => {
                    out_of_time(limits.request_timeout)
                }
                Ok(Ok(response)) => response,
                Ok(Err(never)) => match never {},
                Err(_elapsed) => match stored_writes(&path) {
                    Some(listing) if !method.is_safe() => {
                        write_out_of_time(limits.request_timeout, listing)
                    }
                    // Reads, and POSTs that store nothing (process
                    // executions): safe to send again.
                    _ => out_of_time(limits.request_timeout),
                },
            }
        };
        drop(upload_slot);
        tracing::info!(
            status = response.status().as_u16(),
            latency_ms = started.elapsed().as_millis(),
            query_bytes,
            "response"
        );
        response
    }
    .instrument(span)
    .await
}

/// 503 for an upload while [`ServerLimits::max_uploads`] others are read.
fn uploads_busy(max: usize) -> Response {
    unavailable(
        "Too many uploads",
        format!(
            "{max} uploads (process executions, imports) are being read; send it again shortly"
        ),
    )
}

/// 503 problem+json with `Retry-After`: the request may be sent again.
fn unavailable(title: &'static str, detail: String) -> Response {
    let mut response = ApiError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        title,
        detail,
        parameter: None,
    }
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    response
}

/// The open-file limit before and after [`raise_open_file_limit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenFileLimit {
    /// The soft limit the process started with.
    pub before: u64,
    /// The soft limit now (the hard limit, when raising it worked).
    pub now: u64,
}

/// Raises the soft limit on open files (`RLIMIT_NOFILE`) to the hard limit,
/// so that the connection limit (1024 by default, one descriptor each) does
/// not meet the common soft default of 1024 first: the accept loop would then
/// only back off while the atlas, register and log hold files too.
///
/// # Errors
/// When the limit cannot be read or set (the process keeps its limit).
pub fn raise_open_file_limit() -> io::Result<OpenFileLimit> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` writes one `rlimit` into the valid pointer given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let before = limit.rlim_cur;
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: `setrlimit` reads one valid `rlimit`.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raw const limit) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(OpenFileLimit {
        before,
        now: limit.rlim_cur,
    })
}

/// 503 for a request that used up its time budget.
fn out_of_time(budget: Duration) -> Response {
    unavailable(
        "Request took too long",
        format!(
            "the request was not answered within its time budget of {} ms and was abandoned; \
             retry later, or ask for less (a smaller limit, bbox or area)",
            budget.as_millis()
        ),
    )
}

/// Where what a write to `path` stores can be looked up: the register's
/// and the saved areas' items; `None` for paths whose writes store nothing
/// (process executions).
fn stored_writes(path: &str) -> Option<&'static str> {
    if path.starts_with("/collections/register") || path.starts_with("/register/") {
        Some("the register (/collections/register/items)")
    } else if path.starts_with("/collections/areas") {
        Some("the saved areas (/collections/areas/items)")
    } else {
        None
    }
}

/// 503 for a write (any method that is not safe) that used up its time
/// budget. A register or area write is stored before its snapshot is
/// built, so it may well be stored: the client is told to look (in
/// `listing`) before it retries, and gets no `Retry-After` that would
/// invite a blind duplicate.
fn write_out_of_time(budget: Duration, listing: &str) -> Response {
    ApiError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        title: "Request took too long",
        detail: format!(
            "the write was not answered within the time budget of {} ms (a request body sent \
             too slowly also ends so); it may already be stored and served shortly: check \
             {listing} before sending it again",
            budget.as_millis()
        ),
        parameter: None,
    }
    .into_response()
}

/// 413 for a body declared longer than the limit.
fn body_too_large(max: usize) -> Response {
    ApiError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        title: "Request body too large",
        detail: format!("request bodies may be at most {max} bytes"),
        parameter: None,
    }
    .into_response()
}

/// The path as logged: at most `max_chars` characters, control and
/// non-ASCII characters escaped (`\n`, `\u{..}`) so that a path cannot forge
/// or break log lines, and the number of bytes cut when it was truncated.
pub fn sanitise_path(path: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(max_chars.min(path.len()) + 24);
    for (kept, (i, c)) in path.char_indices().enumerate() {
        if kept == max_chars {
            let _ = write!(out, "…(+{} bytes)", path.len() - i);
            break;
        }
        if c.is_ascii_graphic() {
            out.push(c);
        } else {
            out.extend(c.escape_default());
        }
    }
    out
}

/// Middleware for [`super::app`]: any 4xx/5xx response that is not already
/// a typed document (axum's plain-text extractor rejections, such as a path
/// segment that is not valid UTF-8 once percent-decoded, or an empty 405) is
/// turned into `application/problem+json` with the same status, keeping its
/// text (at most 500 characters) as the detail.
pub async fn problem_json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|v| {
            v.to_str()
                .is_ok_and(|v| v.to_ascii_lowercase().starts_with("text/plain"))
        });
    if !plain {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 8 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let text = text.trim();
    let title = status.canonical_reason().unwrap_or("Error");
    let detail = if text.is_empty() {
        title.to_owned()
    } else {
        text.chars().take(500).collect()
    };
    let mut problem = ApiError {
        status,
        title,
        detail,
        parameter: None,
    }
    .into_response();
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(value) = parts.headers.get(&name) {
            problem.headers_mut().insert(name, value.clone());
        }
    }
    problem
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// What a connection is doing, shared by its socket wrapper, its requests
/// and its watchdog: when a byte last moved, and how many requests are in
/// progress.
#[derive(Debug)]
struct Activity {
    origin: Instant,
    /// Milliseconds after `origin` at which a byte was last read or written.
    last_progress_ms: AtomicU64,
    in_flight: AtomicUsize,
    /// Requests handed to the service so far on this connection.
    requests: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Self {
            origin: Instant::now(),
            last_progress_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_progress_ms.store(ms, Ordering::Relaxed);
    }

    fn last_progress(&self) -> Instant {
        self.origin + Duration::from_millis(self.last_progress_ms.load(Ordering::Relaxed))
    }

    fn idle_for(&self) -> Duration {
        self.last_progress().elapsed()
    }

    fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// When the watchdog should look next: `timeout` after the last
    /// progress, or a full `timeout` from now while a request is in progress
    /// (the request's own budget bounds it; its end restarts the clock).
    fn idle_deadline(&self, timeout: Duration) -> Instant {
        if self.in_flight() > 0 {
            Instant::now() + timeout
        } else {
            // Never in the past, so a stale clock cannot spin the loop.
            (self.last_progress() + timeout).max(Instant::now() + Duration::from_millis(10))
        }
    }
}

/// Counts a request as in progress until dropped (finished or cancelled).
struct InFlight(Arc<Activity>);

impl InFlight {
    fn begin(activity: Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        activity.requests.fetch_add(1, Ordering::Relaxed);
        activity.touch();
        Self(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        // The idle clock restarts when the response is ready, not when the
        // request arrived: a slow handler must not count against the client.
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A TCP stream that records when bytes move through it, and that puts a
/// problem document in place of hyper's own error responses.
///
/// When hyper cannot parse a request (a malformed request line, a header
/// byte that is not allowed, a head over the limit) it writes a bare status
/// head itself, with no body, and closes the connection; no service call
/// ever sees that request, and hyper offers no hook to change the answer.
/// Its head is recognised here as a final status line written while every
/// request handed to the service already has its response head out
/// (`heads` has caught up with [`Activity::requests`]): that head is
/// dropped and a complete `application/problem+json` response with the same
/// status goes out instead; anything hyper writes after it on this
/// connection (nothing, as it closes) is swallowed.
///
/// A response head is recognised only at the start of a write, which is
/// where hyper puts it. Missing one (a head in the middle of a coalesced
/// write) only makes a later hyper error keep its bare head; it cannot turn a
/// service's response into a problem.
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
    /// Final response heads seen at the start of a write.
    heads: usize,
    /// A problem response replacing hyper's head, and how much of it is out.
    replacement: Option<(Vec<u8>, usize)>,
    /// The head limit, for the 431 detail.
    max_head_bytes: usize,
}

impl Tracked {
    /// Looks at the first bytes of a write; starts a replacement when they
    /// are the head of hyper's own error response.
    fn inspect(&mut self, first: &[u8]) {
        if self.replacement.is_some() || !first.starts_with(b"HTTP/1.") {
            return;
        }
        let Some(status) = first
            .get(9..12)
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| d.parse::<u16>().ok())
        else {
            return;
        };
        if status < 200 {
            return; // 100 Continue: an interim head, not a response
        }
        if self.heads < self.activity.requests.load(Ordering::Relaxed) {
            self.heads += 1;
            return;
        }
        if status >= 400 {
            self.replacement = Some((parse_error_response(status, self.max_head_bytes), 0));
        }
    }

    /// Writes the replacement (when there is one); `Ready(Ok(()))` once it
    /// is all out, after which hyper's bytes are swallowed.
    fn poll_replacement(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some((bytes, done)) = &mut self.replacement else {
            return Poll::Ready(Ok(()));
        };
        while let Some(rest) = bytes.get(*done..).filter(|r| !r.is_empty()) {
            match Pin::new(&mut self.inner).poll_write(cx, rest) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    *done += n;
                    self.activity.touch();
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }
}

/// The complete response sent instead of hyper's bare error head.
fn parse_error_response(status: u16, max_head_bytes: usize) -> Vec<u8> {
    let (title, detail) = match status {
        431 => (
            "Request header fields too large",
            format!("the request line and headers may be at most {max_head_bytes} bytes"),
        ),
        414 => (
            "URI too long",
            "the request target is longer than the server accepts (64 KiB)".to_owned(),
        ),
        _ => (
            "Malformed request",
            "the request line or a header is not valid HTTP/1.1 (method, target, version, \
             or a header name or value with bytes that are not allowed)"
                .to_owned(),
        ),
    };
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = ApiError {
        status: code,
        title,
        detail,
        parameter: None,
    }
    .to_json()
    .to_string();
    format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/problem+json\r\ncache-control: no-store\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        code.as_u16(),
        code.canonical_reason().unwrap_or("Error"),
        body.len()
    )
    .into_bytes()
}

impl AsyncRead for Tracked {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.touch();
        }
        result
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.inspect(buf);
        if this.replacement.is_some() {
            return this.poll_replacement(cx).map_ok(|()| buf.len());
        }
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        result
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(first) = bufs.iter().find(|b| !b.is_empty()) {
            this.inspect(first);
        }
        if this.replacement.is_some() {
            let total = bufs.iter().map(|b| b.len()).sum();
            return this.poll_replacement(cx).map_ok(|()| total);
        }
        let result = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        std::task::ready!(this.poll_replacement(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        std::task::ready!(this.poll_replacement(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_file_limit_is_raised_to_the_hard_limit() {
        let files = raise_open_file_limit().expect("rlimit");
        // Read back independently: /proc states both limits.
        let text = std::fs::read_to_string("/proc/self/limits").expect("/proc/self/limits");
        let line = text
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .expect("open files line");
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (soft, hard) = (fields[3], fields[4]);
        assert_eq!(soft, hard, "{line}");
        if soft != "unlimited" {
            assert_eq!(soft, files.now.to_string(), "{line}");
        }
        assert!(files.now >= files.before);
    }

    #[test]
    fn short_paths_are_kept_as_they_are() {
        assert_eq!(
            sanitise_path("/collections/lsoa/items", 200),
            "/collections/lsoa/items"
        );
    }

    #[test]
    fn long_paths_are_cut_with_the_count_of_bytes_dropped() {
        let path = format!("/{}", "a".repeat(60_000));
        let logged = sanitise_path(&path, 200);
        assert_eq!(logged, format!("/{}…(+59801 bytes)", "a".repeat(199)));
    }

    #[test]
    fn control_and_non_ascii_characters_are_escaped() {
        assert_eq!(
            sanitise_path("/a\nb\u{1b}[31m\u{e9}", 200),
            "/a\\nb\\u{1b}[31m\\u{e9}"
        );
        // An escape counts as one character towards the limit.
        assert_eq!(sanitise_path("\n\n\nabc", 2), "\\n\\n…(+4 bytes)");
    }
}
