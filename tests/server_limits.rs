//! The serving loop's limits, against the real server on loopback: slow and
//! idle clients are cut off while others are served, connections beyond the
//! limit wait for a free slot, requests over their time budget get 503 and
//! are cancelled, bodies are bounded, shutdown is graceful, static paths that
//! name no file are 404 problem+json, bad paths are problem+json, and the
//! access log stays bounded for huge URLs.
//!
//! Most tests serve a tiny router through `gapmap::api::server::serve` with
//! short limits, so they need no data; the path tests serve the real app on
//! the Oxfordshire atlas, and the log test runs the `gapmap` binary. Every
//! wait is bounded, and every server stops when its test ends.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::{get, post};
use axum::Router;
use common::server::{Launch, Server as Binary, Stderr};
use gapmap::api::server::{serve, ServerLimits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

// ---------------------------------------------------------------- harness

/// A server on 127.0.0.1:0, stopped (gracefully) by `stop` or when the
/// test's runtime ends.
struct TestServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: JoinHandle<std::io::Result<()>>,
}

async fn start(router: Router, limits: ServerLimits) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let done = tokio::spawn(serve(listener, router, limits, async move {
        let _ = stopped.await;
    }));
    TestServer {
        addr,
        stop: Some(stop),
        done,
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Short limits for tests; each test overrides what it exercises.
fn limits() -> ServerLimits {
    ServerLimits {
        max_connections: 64,
        max_connections_per_peer: 64,
        header_timeout: Duration::from_secs(2),
        idle_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        max_body_bytes: 1000,
        max_upload_bytes: 4000,
        max_uploads: 1,
        max_head_bytes: 80 * 1024,
    }
}

/// A tiny router: `/ok`, `/big` (32 MiB), `/echo` (reads its body).
fn tiny_router() -> Router {
    Router::new()
        .route("/ok", get(|| async { "ok" }))
        .route(
            "/big",
            get(|| async { axum::body::Bytes::from(vec![b'x'; 32 << 20]) }),
        )
        .route("/echo", post(|body: String| async move { body }))
        .route(
            "/processes/area-profile/execution",
            post(|body: String| async move { body }).put(|body: String| async move { body }),
        )
}

/// A parsed HTTP/1.1 response.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// Parses one whole response (the connection was closed after it).
fn parse_reply(raw: &[u8]) -> Reply {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of head in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..line_end]).unwrap().trim(), 16)
                .unwrap();
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// Sends `request` (raw bytes) on a new connection and reads until the
/// server closes it, within `limit`.
async fn exchange(addr: SocketAddr, request: &[u8], limit: Duration) -> Reply {
    tokio::time::timeout(limit, async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(request).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        parse_reply(&raw)
    })
    .await
    .unwrap_or_else(|_| panic!("no whole response within {limit:?}"))
}

/// `GET path` with `Connection: close`, answered within `limit`.
async fn get_path(addr: SocketAddr, path: &str, limit: Duration) -> Reply {
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    exchange(addr, request.as_bytes(), limit).await
}

/// Reads until the server closes the connection (EOF or reset); returns
/// when that happened, or `None` if it had not after `limit`.
async fn wait_closed(stream: &mut TcpStream, limit: Duration) -> Option<Instant> {
    let mut buf = [0u8; 4096];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return Instant::now(),
                Ok(_) => {} // e.g. an error response before the close
            }
        }
    })
    .await
    .ok()
}

fn assert_problem(reply: &Reply, status: u16, what: &str) {
    assert_eq!(
        reply.status,
        status,
        "{what}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(
        reply.header("content-type"),
        "application/problem+json",
        "{what}"
    );
    assert_eq!(reply.json()["status"], status, "{what}");
}

// ---------------------------------------------------------------- connections

#[test]
fn slow_and_idle_clients_are_cut_off_while_a_normal_client_is_served() {
    runtime().block_on(async {
        let limits = limits();
        let server = start(tiny_router(), limits).await;
        let addr = server.addr;
        let started = Instant::now();

        // Slow loris: a request line and headers one byte every 100 ms, never finished.
        let mut slow = Vec::new();
        for _ in 0..10 {
            slow.push(tokio::spawn(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                let opened = Instant::now();
                let trickle = b"GET /ok HTTP/1.1\r\nHost: test\r\nX-Slow: "
                    .iter()
                    .chain(std::iter::repeat(&b'a'));
                let mut buf = [0u8; 1024];
                for byte in trickle {
                    if stream.write_all(&[*byte]).await.is_err() {
                        return opened.elapsed();
                    }
                    let read =
                        tokio::time::timeout(Duration::from_millis(100), stream.read(&mut buf))
                            .await;
                    if let Ok(Ok(0) | Err(_)) = read {
                        return opened.elapsed();
                    }
                    assert!(
                        opened.elapsed() < Duration::from_secs(10),
                        "slow loris never cut off"
                    );
                }
                unreachable!()
            }));
        }
        // Idle: connect and send nothing.
        let mut idle = Vec::new();
        for _ in 0..10 {
            idle.push(tokio::spawn(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                let opened = Instant::now();
                wait_closed(&mut stream, Duration::from_secs(10))
                    .await
                    .expect("idle connection never cut off")
                    - opened
            }));
        }
        // Keep-alive: one request answered, then nothing.
        let mut kept = Vec::new();
        for _ in 0..5 {
            kept.push(tokio::spawn(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                stream
                    .write_all(b"GET /ok HTTP/1.1\r\nHost: test\r\n\r\n")
                    .await
                    .unwrap();
                let mut buf = vec![0u8; 4096];
                let mut got = Vec::new();
                while !got.ends_with(b"ok") {
                    let n = stream.read(&mut buf).await.unwrap();
                    assert!(n > 0, "closed before answering");
                    got.extend_from_slice(&buf[..n]);
                }
                let answered = Instant::now();
                assert!(
                    got.starts_with(b"HTTP/1.1 200"),
                    "{}",
                    String::from_utf8_lossy(&got)
                );
                wait_closed(&mut stream, Duration::from_secs(10))
                    .await
                    .expect("idle keep-alive connection never cut off")
                    - answered
            }));
        }

        // Meanwhile a normal client is served at once, again and again.
        tokio::time::sleep(Duration::from_millis(300)).await;
        while started.elapsed() < Duration::from_millis(2500) {
            let asked = Instant::now();
            let reply = get_path(addr, "/ok", Duration::from_secs(5)).await;
            assert_eq!(reply.status, 200);
            assert_eq!(reply.body, b"ok");
            assert!(
                asked.elapsed() < Duration::from_secs(1),
                "a normal request took {:?} while slow clients were connected",
                asked.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }

        // Each was cut off after its timeout (2 s), not before, not much after.
        let window =
            limits.header_timeout.mul_f64(0.9)..limits.header_timeout + Duration::from_millis(1500);
        for (kind, tasks) in [("slow", slow), ("idle", idle), ("keep-alive", kept)] {
            for task in tasks {
                let after = task.await.unwrap();
                assert!(
                    window.contains(&after),
                    "{kind} connection cut off after {after:?}"
                );
            }
        }
        drop(server);
    });
}

#[test]
fn a_client_that_stops_reading_its_response_is_cut_off() {
    runtime().block_on(async {
        let limits = limits();
        let server = start(tiny_router(), limits).await;
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(b"GET /big HTTP/1.1\r\nHost: test\r\n\r\n")
            .await
            .unwrap();
        // Read nothing for longer than the idle timeout: socket buffers fill
        // and the server's writes block.
        tokio::time::sleep(limits.idle_timeout + Duration::from_secs(1)).await;
        // Then read what was sent: the server closed the connection before
        // sending all 32 MiB.
        let mut received = 0usize;
        let mut buf = vec![0u8; 1 << 16];
        let ended = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => received += n,
                }
            }
        })
        .await;
        assert!(ended.is_ok(), "the connection was not closed");
        assert!(received > 0, "nothing was sent");
        assert!(
            received < 32 << 20,
            "the whole response ({received} bytes) was sent: not stalled?"
        );
        // And the server still serves.
        let reply = get_path(server.addr, "/ok", Duration::from_secs(2)).await;
        assert_eq!(reply.status, 200);
    });
}

#[test]
fn connections_beyond_the_limit_wait_and_are_served_after_others_close() {
    runtime().block_on(async {
        let limits = ServerLimits {
            max_connections: 4,
            header_timeout: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(20),
            ..limits()
        };
        let server = start(tiny_router(), limits).await;
        let mut held = Vec::new();
        for _ in 0..limits.max_connections {
            held.push(TcpStream::connect(server.addr).await.unwrap());
        }
        // More than the limit: these wait (not answered, not refused).
        let mut extra = Vec::new();
        for _ in 0..8 {
            extra.push(TcpStream::connect(server.addr).await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut client = TcpStream::connect(server.addr).await.unwrap();
        client
            .write_all(b"GET /ok HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut raw = Vec::new();
        let early =
            tokio::time::timeout(Duration::from_millis(700), client.read_to_end(&mut raw)).await;
        assert!(
            early.is_err() && raw.is_empty(),
            "answered although all 4 slots were taken: {}",
            String::from_utf8_lossy(&raw)
        );
        // The slot holders and the extra connections leave; the client is served.
        drop(held);
        drop(extra);
        let closed = Instant::now();
        tokio::time::timeout(Duration::from_secs(3), client.read_to_end(&mut raw))
            .await
            .expect("not served within 3 s of the others closing")
            .unwrap();
        let reply = parse_reply(&raw);
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body, b"ok");
        assert!(
            closed.elapsed() < Duration::from_secs(2),
            "{:?}",
            closed.elapsed()
        );
    });
}

#[test]
fn a_peer_over_its_connection_limit_gets_503_while_another_client_is_served() {
    runtime().block_on(async {
        let limits = ServerLimits {
            max_connections: 16,
            max_connections_per_peer: 4,
            header_timeout: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(20),
            ..limits()
        };
        let server = start(tiny_router(), limits).await;
        // A slow-loris client from 127.0.0.1 fills its share with half-sent heads.
        let mut loris = Vec::new();
        for _ in 0..limits.max_connections_per_peer {
            let mut s = TcpStream::connect(server.addr).await.unwrap();
            s.write_all(b"GET /ok HTTP/1.1\r\nHost: t").await.unwrap();
            loris.push(s);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        // Its next connection is refused at once with a problem.
        let started = Instant::now();
        let reply = get_path(server.addr, "/ok", Duration::from_secs(3)).await;
        assert_problem(&reply, 503, "a fifth connection from the same peer");
        assert_eq!(reply.header("retry-after"), "5");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        // Another client address is served meanwhile.
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        let mut other = socket.connect(server.addr).await.unwrap();
        other
            .write_all(b"GET /ok HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut raw = Vec::new();
        tokio::time::timeout(Duration::from_secs(3), other.read_to_end(&mut raw))
            .await
            .expect("the other client is served within 3 s")
            .unwrap();
        let reply = parse_reply(&raw);
        assert_eq!((reply.status, reply.body.as_slice()), (200, &b"ok"[..]));
        // When the loris lets go, its address is served again.
        drop(loris);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let reply = get_path(server.addr, "/ok", Duration::from_secs(3)).await;
        assert_eq!(reply.status, 200);
    });
}

// ---------------------------------------------------------------- requests

#[test]
fn a_request_over_its_time_budget_gets_503_and_its_handler_is_cancelled() {
    /// Sets its flag when dropped: the handler's future was dropped.
    struct Flag(Arc<AtomicBool>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let finished = Arc::new(AtomicBool::new(false));
    let router = {
        let (dropped, finished) = (Arc::clone(&dropped), Arc::clone(&finished));
        tiny_router().route(
            "/slow",
            get(move || {
                let flag = Flag(Arc::clone(&dropped));
                let finished = Arc::clone(&finished);
                async move {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    finished.store(true, Ordering::SeqCst);
                    drop(flag);
                    "done"
                }
            }),
        )
    };
    runtime().block_on(async {
        let limits = ServerLimits {
            request_timeout: Duration::from_millis(300),
            ..limits()
        };
        let server = start(router, limits).await;
        let asked = Instant::now();
        let reply = get_path(server.addr, "/slow", Duration::from_secs(5)).await;
        let took = asked.elapsed();
        assert_problem(&reply, 503, "slow request");
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_secs(2),
            "503 after {took:?}"
        );
        let retry_after: u64 = reply
            .header("retry-after")
            .parse()
            .expect("numeric Retry-After");
        assert!(retry_after > 0);
        assert!(reply.json()["detail"].as_str().unwrap().contains("300 ms"));
        // The handler was dropped, not left running.
        let deadline = Instant::now() + Duration::from_secs(1);
        while !dropped.load(Ordering::SeqCst) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(dropped.load(Ordering::SeqCst), "the handler still runs");
        assert!(!finished.load(Ordering::SeqCst));
        // Fast requests are unaffected.
        assert_eq!(
            get_path(server.addr, "/ok", Duration::from_secs(2))
                .await
                .status,
            200
        );
    });
}

#[test]
fn work_of_an_abandoned_request_stops_at_its_next_check() {
    // Work on the blocking pool that polls its interrupt, as an area
    // profile does: it reports whether it stopped because it was told to.
    let stopped = Arc::new(AtomicBool::new(false));
    let slots = Arc::new(tokio::sync::Semaphore::new(1));
    let router = {
        let stopped = Arc::clone(&stopped);
        tiny_router().route(
            "/spin",
            get(move || {
                let (stopped, slots) = (Arc::clone(&stopped), Arc::clone(&slots));
                async move {
                    gapmap::api::blocking::off_workers_limited(&slots, move |interrupt| {
                        let started = Instant::now();
                        while started.elapsed() < Duration::from_secs(30) {
                            if interrupt.check().is_err() {
                                stopped.store(true, Ordering::SeqCst);
                                return "interrupted";
                            }
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        "done"
                    })
                    .await
                }
            }),
        )
    };
    runtime().block_on(async {
        let limits = ServerLimits {
            request_timeout: Duration::from_millis(300),
            ..limits()
        };
        let server = start(router, limits).await;
        let reply = get_path(server.addr, "/spin", Duration::from_secs(5)).await;
        assert_problem(&reply, 503, "abandoned work");
        let deadline = Instant::now() + Duration::from_secs(2);
        while !stopped.load(Ordering::SeqCst) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            stopped.load(Ordering::SeqCst),
            "the work still runs after its request's 503"
        );
    });
}

#[test]
fn unstoppable_work_left_by_abandoned_requests_never_exceeds_its_slots() {
    // Work that cannot be stopped midway (as a GEOS call), in one slot:
    // requests abandoned while it runs wait, are dropped, and never start.
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let started = Arc::new(AtomicUsize::new(0));
    let slots = Arc::new(tokio::sync::Semaphore::new(1));
    let router = {
        let (running, most, started) = (
            Arc::clone(&running),
            Arc::clone(&most),
            Arc::clone(&started),
        );
        tiny_router().route(
            "/unstoppable",
            get(move || {
                let (running, most, started, slots) = (
                    Arc::clone(&running),
                    Arc::clone(&most),
                    Arc::clone(&started),
                    Arc::clone(&slots),
                );
                async move {
                    gapmap::api::blocking::off_workers_limited(&slots, move |_interrupt| {
                        started.fetch_add(1, Ordering::SeqCst);
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(800));
                        running.fetch_sub(1, Ordering::SeqCst);
                        "done"
                    })
                    .await
                }
            }),
        )
    };
    runtime().block_on(async {
        let limits = ServerLimits {
            request_timeout: Duration::from_millis(200),
            ..limits()
        };
        let server = start(router, limits).await;
        let asks: Vec<_> = (0..5)
            .map(|_| {
                let addr = server.addr;
                tokio::spawn(
                    async move { get_path(addr, "/unstoppable", Duration::from_secs(5)).await },
                )
            })
            .collect();
        for ask in asks {
            assert_eq!(ask.await.unwrap().status, 503);
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(
            most.load(Ordering::SeqCst),
            1,
            "more than one slot's work at once"
        );
        assert_eq!(
            started.load(Ordering::SeqCst),
            1,
            "abandoned waiting requests started work"
        );
        assert_eq!(running.load(Ordering::SeqCst), 0);
    });
}

#[test]
fn request_bodies_are_bounded() {
    runtime().block_on(async {
        let server = start(tiny_router(), limits()).await;
        let limit = Duration::from_secs(3);
        // Declared too long: refused before the body is read.
        let reply = exchange(
            server.addr,
            b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 5000000\r\nConnection: close\r\n\r\nabc",
            limit,
        )
        .await;
        assert_problem(&reply, 413, "declared length");
        // Chunked and too long: the read stops at the limit.
        let chunk = "x".repeat(600);
        let request = format!(
            "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n258\r\n{chunk}\r\n258\r\n{chunk}\r\n0\r\n\r\n"
        );
        let reply = exchange(server.addr, request.as_bytes(), limit).await;
        assert_eq!(reply.status, 413);
        // Within the limit: echoed.
        let reply = exchange(
            server.addr,
            b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
            limit,
        )
        .await;
        assert_eq!((reply.status, reply.body.as_slice()), (200, &b"hello"[..]));
        // An upload (a process execution's POST) has its own, larger limit;
        // the same body elsewhere, or another method on the same path, has
        // the general one.
        let post = |path: &str, method: &str, n: usize| {
            format!(
                "{method} {path} HTTP/1.1\r\nHost: test\r\nContent-Length: {n}\r\nConnection: close\r\n\r\n{}",
                "y".repeat(n)
            )
        };
        let upload = "/processes/area-profile/execution";
        let reply = exchange(server.addr, post(upload, "POST", 3000).as_bytes(), limit).await;
        assert_eq!((reply.status, reply.body.len()), (200, 3000));
        let limited = |reply: &Reply, bytes: &str| {
            assert_problem(reply, 413, bytes);
            let detail = reply.json()["detail"].as_str().unwrap_or("").to_owned();
            assert!(detail.contains(&format!("at most {bytes} bytes")), "{detail}");
        };
        let reply = exchange(server.addr, post("/echo", "POST", 3000).as_bytes(), limit).await;
        limited(&reply, "1000");
        let reply = exchange(server.addr, post(upload, "PUT", 3000).as_bytes(), limit).await;
        limited(&reply, "1000");
        let reply = exchange(server.addr, post(upload, "POST", 5000).as_bytes(), limit).await;
        limited(&reply, "4000");
    });
}

#[test]
fn uploads_beyond_the_limit_at_once_get_503_while_other_requests_are_served() {
    runtime().block_on(async {
        let server = start(tiny_router(), limits()).await;
        let limit = Duration::from_secs(3);
        let upload = b"POST /processes/area-profile/execution HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
        // An upload whose body is still coming holds the only upload slot.
        let mut first = TcpStream::connect(server.addr).await.unwrap();
        first
            .write_all(b"POST /processes/area-profile/execution HTTP/1.1\r\nHost: test\r\nContent-Length: 100\r\nConnection: close\r\n\r\nabc")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let reply = exchange(server.addr, upload, limit).await;
        assert_problem(&reply, 503, "a second upload at once");
        assert_eq!(reply.header("retry-after"), "5");
        // Other requests are served meanwhile.
        let reply = exchange(
            server.addr,
            b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
            limit,
        )
        .await;
        assert_eq!(reply.status, 200);
        // The first upload ends; its slot is free again.
        first.write_all(&[b'y'; 97]).await.unwrap();
        let mut raw = Vec::new();
        tokio::time::timeout(limit, first.read_to_end(&mut raw))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(parse_reply(&raw).status, 200);
        let reply = exchange(server.addr, upload, limit).await;
        assert_eq!((reply.status, reply.body.as_slice()), (200, &b"hello"[..]));
    });
}

#[test]
fn shutdown_lets_requests_in_progress_finish_and_closes_the_rest() {
    let router = tiny_router().route(
        "/slowish",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            "finished"
        }),
    );
    runtime().block_on(async {
        let mut server = start(router, limits()).await;
        let addr = server.addr;
        let mut idle = TcpStream::connect(addr).await.unwrap();
        let in_progress =
            tokio::spawn(async move { get_path(addr, "/slowish", Duration::from_secs(5)).await });
        tokio::time::sleep(Duration::from_millis(150)).await;
        let stopped = Instant::now();
        server.stop.take().unwrap().send(()).unwrap();
        let reply = in_progress.await.unwrap();
        assert_eq!(
            (reply.status, reply.body.as_slice()),
            (200, &b"finished"[..])
        );
        assert!(
            wait_closed(&mut idle, Duration::from_secs(2))
                .await
                .is_some(),
            "idle connection left open at shutdown"
        );
        tokio::time::timeout(Duration::from_secs(3), &mut server.done)
            .await
            .expect("serve returned within 3 s of shutdown")
            .unwrap()
            .unwrap();
        assert!(stopped.elapsed() < Duration::from_secs(2));
        // The listener is closed.
        assert!(TcpStream::connect(addr).await.is_err());
    });
}

// ---------------------------------------------------------------- the real app

/// The real app on the Oxfordshire atlas, served with default limits.
async fn start_app() -> TestServer {
    let state = tokio::task::spawn_blocking(common::app_state)
        .await
        .unwrap();
    start(gapmap::api::app(state), ServerLimits::default()).await
}

#[test]
fn static_paths_naming_no_file_are_404_problem_json() {
    runtime().block_on(async {
        let server = start_app().await;
        let limit = Duration::from_secs(10);
        // A real file is served.
        let reply = get_path(server.addr, "/web/static/index.html", limit).await;
        assert_eq!(reply.status, 200);
        assert!(reply.header("content-type").starts_with("text/html"));
        let long = "a".repeat(256);
        let deep = vec!["b".repeat(200); 30].join("/");
        for path in [
            format!("/web/static/{long}"),                 // ENAMETOOLONG
            format!("/web/static/{deep}"),                 // path over PATH_MAX
            "/web/static/nothing.js".to_owned(),           // missing
            "/web/static/index.html/x".to_owned(),         // ENOTDIR
            "/web/static/%FF%FE.js".to_owned(),            // invalid UTF-8
            "/web/static/a%00b".to_owned(),                // NUL
            "/web/static/..%2F..%2FCargo.toml".to_owned(), // escape upwards
            "/web/static/css/..%2F..%2F..%2FCargo.toml".to_owned(),
            "/web/static/%2e%2e/%2e%2e/Cargo.toml".to_owned(),
            "/web/static/%zz".to_owned(), // bad percent-encoding
            format!("/web/vendor/maplibre-gl/{long}"),
        ] {
            let reply = get_path(server.addr, &path, limit).await;
            assert_problem(&reply, 404, &path);
        }
    });
}

#[test]
fn undecodable_paths_anywhere_are_problem_json() {
    runtime().block_on(async {
        let server = start_app().await;
        let limit = Duration::from_secs(10);
        for path in [
            "/wards/%FF/profile",
            "/wards/%C0%AF/profile",
            "/collections/%FF%FE",
            "/collections/%FF/items",
            "/collections/lsoa/items/%E2%82",
            "/web/api/lsoa/%FF",
            "/web/api/boundaries/%FF",
            "/collections/lsoa/tiles/WebMercatorQuad/%FF/0/0",
            "/collections/lsoa/tiles/WebMercatorQuad/999/0/0",
            "/wards/%zz/profile",
            "/%FF",
        ] {
            let reply = get_path(server.addr, path, limit).await;
            assert!(
                reply.status == 400 || reply.status == 404,
                "{path}: {} {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            );
            assert_problem(&reply, reply.status, path);
        }
        // A method the route does not allow: 405 problem+json, Allow kept.
        let reply = exchange(
            server.addr,
            b"DELETE /collections HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
            limit,
        )
        .await;
        assert_problem(&reply, 405, "DELETE /collections");
        assert!(reply.header("allow").contains("GET"), "{:?}", reply.headers);
    });
}

// ---------------------------------------------------------------- the binary

/// The `gapmap` binary serving Oxfordshire, logging at `info` into memory
/// as plain lines (as in a log file); killed when dropped.
fn start_binary(args: &[&str]) -> Binary {
    Launch::new()
        .args(args)
        .env("GAPMAP_LOG", "info")
        .env("NO_COLOR", "1")
        .stderr(Stderr::Capture)
        .start()
}

/// Waits (at most 2 s) until stderr has a line containing `needle`.
fn wait_for_log(binary: &Binary, needle: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let lines = binary.stderr.lock().unwrap().clone();
        if lines.iter().any(|l| l.contains(needle)) || Instant::now() > deadline {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_binary_logs_a_bounded_line_for_a_huge_url_and_takes_its_limit_options() {
    let binary = start_binary(&[
        "--header-timeout",
        "1500ms",
        "--request-timeout",
        "5s",
        "--max-connections",
        "32",
    ]);
    let before: usize = binary.stderr.lock().unwrap().iter().map(String::len).sum();
    let marker = "/huge-url-marker-";
    let path = format!("{marker}{}", "a".repeat(60_000));
    let query = format!("q={}", "b".repeat(2_000));
    let reply = runtime().block_on(get_path(
        binary.addr,
        &format!("{path}?{query}"),
        Duration::from_secs(10),
    ));
    assert_problem(&reply, 404, "huge URL");
    let lines = wait_for_log(&binary, marker);
    let logged: Vec<&String> = lines.iter().filter(|l| l.contains(marker)).collect();
    assert_eq!(logged.len(), 1, "{lines:#?}");
    let line = logged[0];
    assert!(line.len() < 600, "log line of {} bytes: {line}", line.len());
    assert!(line.contains("status=404"), "{line}");
    assert!(line.contains("query_bytes=2002"), "{line}");
    assert!(line.contains("(+59817 bytes)"), "{line}");
    assert!(!line.contains("bbbb"), "the query was logged: {line}");
    let after: usize = lines.iter().map(String::len).sum();
    assert!(
        after - before < 1000,
        "{} bytes logged for one request",
        after - before
    );

    // --header-timeout reached the server: an idle connection is cut at 1.5 s.
    runtime().block_on(async {
        let mut idle = TcpStream::connect(binary.addr).await.unwrap();
        let opened = Instant::now();
        let closed = wait_closed(&mut idle, Duration::from_secs(5))
            .await
            .expect("idle connection not cut off");
        let after = closed - opened;
        assert!(
            after >= Duration::from_millis(1300) && after < Duration::from_millis(3500),
            "cut off after {after:?}"
        );
    });
}

#[cfg(unix)]
#[test]
fn the_binary_stops_on_sigterm() {
    let mut binary = start_binary(&[]);
    let status = Command::new("kill")
        .args(["-TERM", &binary.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = binary.child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let lines = wait_for_log(&binary, "shutting down");
    assert!(
        lines.iter().any(|l| l.contains("shutting down")),
        "{lines:#?}"
    );
}

#[test]
fn serve_help_documents_the_limits_and_their_defaults() {
    let out = Command::new(env!("CARGO_BIN_EXE_gapmap"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "--max-connections",
        "[env: GAPMAP_MAX_CONNECTIONS=]",
        "[default: 1024]",
        "--header-timeout",
        "[default: 10s]",
        "--idle-timeout",
        "--request-timeout",
        "[default: 30s]",
        "--max-body-bytes",
        "[default: 1048576]",
        "--max-head-bytes",
        "[default: 81920]",
    ] {
        assert!(help.contains(expected), "{expected} missing from:\n{help}");
    }
}

#[test]
fn cpu_bound_handlers_answer_503_on_time_instead_of_holding_a_worker() {
    // A synchronous handler inside an async fn cannot be interrupted: it
    // used to finish (and answer 200) however long past its budget it ran,
    // holding a worker all along. Off the workers (api::blocking), each of
    // these (tens of milliseconds of CPU on Oxfordshire) is cut at its 1 ms
    // budget, and the server answers the next request at once.
    runtime().block_on(async {
        let state = tokio::task::spawn_blocking(common::app_state)
            .await
            .unwrap();
        let limits = ServerLimits {
            request_timeout: Duration::from_millis(1),
            ..ServerLimits::default()
        };
        let server = start(gapmap::api::app(state), limits).await;
        // Only the whole LSOA layers (every polygon built as JSON: about
        // 45 ms each on Oxfordshire, never near 1 ms); a page of items is
        // pre-encoded and a tile can take under 1 ms, so they would prove
        // nothing here.
        for path in [
            "/web/api/lsoa-layer?year=2025",
            "/web/api/lsoa-layer?year=2019",
        ] {
            let reply = get_path(server.addr, path, Duration::from_secs(10)).await;
            assert_problem(&reply, 503, path);
            assert!(!reply.header("retry-after").is_empty(), "{path}");
        }
    });
}

#[test]
fn whole_region_reads_wait_for_a_heavy_work_slot() {
    // A gap report, the whole LSOA layer and the region profile walk every
    // LSOA (England's gap report of all of them: 35 MB written, some 400
    // MB while writing). They ran however many were abandoned, so a client
    // that sent them and left could grow memory without bound. Now each
    // waits for one of the heavy-work slots: with every slot held (as by
    // abandoned work still running) they answer 503 at their budget while
    // other reads are served, and run once a slot is free.
    runtime().block_on(async {
        let shared = tokio::task::spawn_blocking(common::app_state)
            .await
            .unwrap();
        let atlas = Arc::clone(&shared.snapshot().atlas);
        let state = tokio::task::spawn_blocking(move || {
            Arc::new(gapmap::api::AppState::from_snapshot(
                gapmap::api::Snapshot::build(atlas),
            ))
        })
        .await
        .unwrap();
        let slots = Arc::clone(&state.heavy_work);
        let all = u32::try_from(slots.available_permits()).unwrap();
        let held = slots.acquire_many_owned(all).await.unwrap();
        let limits = ServerLimits {
            request_timeout: Duration::from_millis(500),
            ..ServerLimits::default()
        };
        let server = start(gapmap::api::app(Arc::clone(&state)), limits).await;
        let heavy = [
            "/gaps?category=gp_practice&max_decile=10&min_distance_m=0",
            "/web/api/lsoa-layer?year=2025",
            "/web/api/region",
        ];
        for path in heavy {
            let reply = get_path(server.addr, path, Duration::from_secs(10)).await;
            assert_problem(&reply, 503, path);
        }
        let reply = get_path(server.addr, "/conformance", Duration::from_secs(10)).await;
        assert_eq!(reply.status, 200, "a light read while the slots are held");
        drop(held);
        for path in heavy {
            // Given room: the budget above is for the wait, not the work.
            let mut status = 0;
            for _ in 0..20 {
                status = get_path(server.addr, path, Duration::from_secs(10))
                    .await
                    .status;
                if status == 200 {
                    break;
                }
            }
            assert_eq!(status, 200, "{path} once a slot is free");
        }
    });
}
