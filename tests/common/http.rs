//! A small blocking HTTP/1.1 client over `std::net::TcpStream` for tests
//! against the real server: one request per connection (`Connection:
//! close`), chunked responses decoded, no compression asked for. A client
//! may connect from another loopback address (`127.0.0.2`...), which the
//! server sees as another client: the failed-authentication limit counts
//! per address.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;

/// How long a response may take before the test fails (a "not hung" bound).
const REPLY_LIMIT: Duration = Duration::from_mins(2);

/// A response.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers, names in lower case, in order.
    pub headers: Vec<(String, String)>,
    /// Body (de-chunked).
    pub body: Vec<u8>,
}

impl Reply {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    ///
    /// # Panics
    /// When it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text()))
    }

    /// The `parameter` member of a problem+json body.
    pub fn problem_parameter(&self) -> Option<String> {
        serde_json::from_slice::<Value>(&self.body)
            .ok()?
            .get("parameter")?
            .as_str()
            .map(str::to_owned)
    }
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.text())
    }
}

/// A client of one server, connecting from one loopback address.
#[derive(Debug, Clone, Copy)]
pub struct Client {
    /// The server.
    pub addr: SocketAddr,
    /// The local address to connect from (`None`: the system's choice).
    pub from: Option<IpAddr>,
}

impl Client {
    /// A client of the server at `addr`.
    pub fn new(addr: SocketAddr) -> Self {
        Self { addr, from: None }
    }

    /// The same server, from loopback address `127.0.0.<n>` (n ≥ 2).
    #[must_use]
    pub fn via_loopback(self, n: u8) -> Self {
        Self {
            from: Some(IpAddr::from([127, 0, 0, n])),
            ..self
        }
    }

    fn connect(&self) -> TcpStream {
        let stream = match self.from {
            None => TcpStream::connect(self.addr).expect("connect to the server"),
            Some(ip) => {
                // std cannot bind before connecting; tokio's socket can.
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_io()
                    .build()
                    .expect("a runtime");
                let stream = rt.block_on(async {
                    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
                    socket
                        .bind(SocketAddr::new(ip, 0))
                        .unwrap_or_else(|e| panic!("bind {ip}: {e}"));
                    socket.connect(self.addr).await.expect("connect")
                });
                let std = stream.into_std().expect("a std stream");
                std.set_nonblocking(false).expect("blocking mode");
                std
            }
        };
        stream.set_read_timeout(Some(REPLY_LIMIT)).unwrap();
        stream.set_write_timeout(Some(REPLY_LIMIT)).unwrap();
        stream
    }

    /// Sends one request with `headers` and an optional body, and reads the
    /// whole response.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        let mut stream = self.connect();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.addr
        );
        for (k, v) in headers {
            let _ = write!(head, "{k}: {v}\r\n");
        }
        if let Some(b) = body {
            let _ = write!(head, "Content-Length: {}\r\n", b.len());
        }
        head.push_str("\r\n");
        let mut request = head.into_bytes();
        request.extend_from_slice(body.unwrap_or_default());
        stream.write_all(&request).expect("send the request");
        let mut raw = Vec::new();
        stream
            .read_to_end(&mut raw)
            .unwrap_or_else(|e| panic!("{method} {path}: reading the reply: {e}"));
        parse_reply(&raw).unwrap_or_else(|| {
            panic!(
                "{method} {path}: not an HTTP reply: {}",
                String::from_utf8_lossy(&raw)
            )
        })
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Reply {
        self.send("GET", path, &[], None)
    }

    /// `GET path`, asserting 200, as JSON.
    pub fn get_json(&self, path: &str) -> Value {
        let r = self.get(path);
        assert_eq!(r.status, 200, "GET {path}: {r}");
        r.json()
    }
}

/// A raw HTTP/1.1 response (head, then the body, de-chunked), or `None`
/// when it is not one.
pub fn parse_reply(raw: &[u8]) -> Option<Reply> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(raw.get(..split)?).ok()?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw.get(split + 4..)?.to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"))
    {
        body = dechunk(&body)?;
    }
    Some(Reply {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(data.get(..line_end)?).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = data.get(line_end + 2..)?;
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}
