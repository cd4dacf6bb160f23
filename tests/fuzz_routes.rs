//! A bounded, deterministic fuzz of every route of the real `gapmap` binary
//! on the Oxfordshire data, over loopback.
//!
//! The routes and their parameters are read from the server's own OpenAPI
//! document (`/api`); path values come from what the server lists
//! (collections, feature ids, ward codes) mixed with hostile ones; query
//! values, headers (`Accept`, `Accept-Encoding`, `If-None-Match`,
//! `Content-Crs`, `Authorization`), methods and register bodies (with and
//! without a token) are drawn from a small seeded PRNG, so a failure
//! repeats. Every hostile input of issue 12 is sent as well.
//!
//! Asserted for every request: an HTTP reply arrives (no dropped
//! connection); no 5xx except a 503 from the time budget, which carries
//! `Retry-After` and a problem document; every 4xx is
//! `application/problem+json` with its status in the body; a 400 caused by
//! one bad query parameter names that parameter.
//!
//! Bounded in count ([`MAX_REQUESTS`]) and time ([`TIME_BUDGET`]): whichever
//! comes first ends the run; the number fuzzed is printed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::http::{parse_reply, Reply};
use common::server::{make_token, Launch};
use serde_json::{json, Value};

/// Most requests sent by the random part of the fuzz.
const MAX_REQUESTS: usize = 4_000;
/// Wall time the random part may take (the fixed inputs come on top).
const TIME_BUDGET: Duration = Duration::from_secs(35);
/// Client threads.
const THREADS: usize = 4;
/// The seed: change it to explore, keep it fixed in CI.
const SEED: u64 = 0x006a_706d_6170_3132;
/// A "not hung" bound for one reply.
const REPLY_LIMIT: Duration = Duration::from_secs(90);

// ------------------------------------------------------------------ PRNG

/// `SplitMix64`: small, fast, and good enough to pick cases.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n as u64)).unwrap()
    }

    /// True with probability `1/n`.
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

// ------------------------------------------------------------------ HTTP

/// Sends raw bytes on a fresh connection and reads the reply until the
/// server closes (requests carry `Connection: close`).
fn exchange(addr: SocketAddr, request: &[u8]) -> Result<Reply, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(REPLY_LIMIT)).unwrap();
    stream.set_write_timeout(Some(REPLY_LIMIT)).unwrap();
    // The server may answer (431, 413) before reading everything; a write
    // error then is not a failure as long as a reply can be read.
    let written = stream.write_all(request);
    let mut raw = Vec::new();
    let read = stream.read_to_end(&mut raw);
    if raw.is_empty() {
        return Err(format!(
            "no reply (write: {written:?}, read: {read:?}): connection dropped"
        ));
    }
    parse_reply(&raw).ok_or_else(|| {
        format!(
            "not an HTTP reply: {:?}",
            String::from_utf8_lossy(&raw[..raw.len().min(300)])
        )
    })
}

/// Percent-encodes everything but unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// One request to send, and what it is expected to name when it fails.
#[derive(Debug, Clone)]
struct Case {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    /// The one query parameter made bad: a 400 must name it (or one of
    /// `unsent`, the route's parameters that are missing).
    blame: Option<String>,
    unsent: Vec<String>,
}

impl Case {
    fn get(target: impl Into<String>) -> Self {
        Self {
            method: "GET".into(),
            target: target.into(),
            headers: Vec::new(),
            body: None,
            blame: None,
            unsent: Vec::new(),
        }
    }

    fn blaming(mut self, parameter: &str) -> Self {
        self.blame = Some(parameter.into());
        self
    }

    fn bytes(&self, addr: SocketAddr) -> Vec<u8> {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n",
            self.method, self.target
        );
        for (k, v) in &self.headers {
            let _ = write!(head, "{k}: {v}\r\n");
        }
        if let Some(b) = &self.body {
            let _ = write!(head, "Content-Length: {}\r\n", b.len());
        }
        head.push_str("\r\n");
        let mut out = head.into_bytes();
        out.extend_from_slice(self.body.as_deref().unwrap_or_default());
        out
    }

    fn describe(&self) -> String {
        let target: String = self.target.chars().take(300).collect();
        format!(
            "{} {target}{} (headers {:?}, body {} bytes)",
            self.method,
            if self.target.len() > 300 { "…" } else { "" },
            self.headers,
            self.body.as_ref().map_or(0, Vec::len)
        )
    }
}

/// Checks one reply against the rules; `Err` says what is wrong.
fn judge(case: &Case, reply: &Reply) -> Result<(), String> {
    let status = reply.status;
    let ctype = reply.header("content-type").unwrap_or("");
    let problem = ctype.starts_with("application/problem+json");
    if status >= 500 {
        if status != 503 {
            return Err(format!("server error {status}"));
        }
        if reply.header("retry-after").is_none() || !problem {
            return Err("503 without Retry-After or problem+json".into());
        }
    }
    if !(400..600).contains(&status) {
        return Ok(());
    }
    if !problem {
        return Err(format!("{status} is {ctype:?}, not problem+json"));
    }
    if case.method == "HEAD" || reply.header("content-encoding").is_some() {
        return Ok(());
    }
    let doc: Value = serde_json::from_slice(&reply.body)
        .map_err(|e| format!("{status} problem is not JSON ({e})"))?;
    if doc["status"] != status {
        return Err(format!("problem status {} for {status}", doc["status"]));
    }
    if let (400, Some(blame)) = (status, &case.blame) {
        let named = doc["parameter"].as_str().unwrap_or("");
        if named != blame && !case.unsent.iter().any(|u| u == named) {
            return Err(format!("400 names {named:?}, not {blame:?}: {doc}"));
        }
    }
    Ok(())
}

// ------------------------------------------------------------------ the API

/// One operation of the OpenAPI document.
#[derive(Debug, Clone)]
struct Operation {
    method: String,
    template: String,
    query: Vec<Param>,
}

#[derive(Debug, Clone)]
struct Param {
    name: String,
    /// `enum` values of its schema, as text.
    choices: Vec<String>,
}

/// What the server lists, for path values that name something.
#[derive(Debug, Default)]
struct Known {
    collections: Vec<String>,
    /// (collection, feature id)
    features: Vec<(String, String)>,
    /// (collection, queryable property)
    properties: Vec<(String, String)>,
    codes: Vec<String>,
    layers: Vec<String>,
    admin: String,
    editor: String,
}

fn operations(api: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    for (template, item) in api["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if !["get", "post", "put", "patch", "delete", "options"].contains(&method.as_str()) {
                continue;
            }
            let query = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| resolve(api, p))
                .filter(|p| p["in"] == "query")
                .map(|p| Param {
                    name: p["name"].as_str().unwrap_or_default().to_owned(),
                    choices: enum_values(&p["schema"]),
                })
                .collect();
            out.push(Operation {
                method: method.to_ascii_uppercase(),
                template: template.clone(),
                query,
            });
        }
    }
    out
}

/// A parameter, or the one its `$ref` points to.
fn resolve<'a>(api: &'a Value, p: &'a Value) -> &'a Value {
    p["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/"))
        .map_or(p, |r| r.split('/').fold(api, |v, key| &v[key]))
}

fn enum_values(schema: &Value) -> Vec<String> {
    let from = |v: &Value| {
        v["enum"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned))
            .collect::<Vec<_>>()
    };
    let mut out = from(schema);
    out.extend(from(&schema["items"]));
    out
}

fn get_json(addr: SocketAddr, target: &str) -> Value {
    let reply = exchange(addr, &Case::get(target).bytes(addr)).expect(target);
    assert_eq!(reply.status, 200, "GET {target}");
    serde_json::from_slice(&reply.body).expect("JSON")
}

fn discover(addr: SocketAddr) -> Known {
    let mut known = Known {
        layers: vec!["wards".into(), "districts".into(), "lsoa".into()],
        ..Known::default()
    };
    let collections = get_json(addr, "/collections?f=json");
    for c in collections["collections"].as_array().expect("collections") {
        let id = c["id"].as_str().expect("id").to_owned();
        let items = get_json(addr, &format!("/collections/{id}/items?limit=3&f=json"));
        for f in items["features"].as_array().into_iter().flatten() {
            let fid = match &f["id"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if id == "wards" || id == "lsoa" {
                known.codes.push(fid.clone());
            }
            known.features.push((id.clone(), fid));
        }
        let q = get_json(addr, &format!("/collections/{id}/queryables?f=json"));
        for name in q["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|p| p.0)
        {
            known.properties.push((id.clone(), name.clone()));
        }
        known.collections.push(id);
    }
    assert!(known.collections.len() > 3 && !known.codes.is_empty());
    known
}

// ------------------------------------------------------------------ values

const JUNK: &[&str] = &[
    "",
    " ",
    "-1",
    "0",
    "1e309",
    "NaN",
    "99999999999999999999999",
    "%",
    "%00",
    "\u{0}",
    "\u{7f}",
    "'",
    "\"",
    "\\",
    "é",
    "😀",
    "..",
    "../../etc/passwd",
    "<script>",
    "a,b,c",
    ",,,",
    "true",
    "null",
    "[]",
    "{}",
    "1,2",
    "1,2,3,4,5",
];

fn junk(rng: &mut Rng) -> String {
    match rng.below(6) {
        0 => "x".repeat(rng.below(3000)),
        1 => (0..rng.below(40))
            .map(|_| char::from(u8::try_from(rng.below(0x5f) + 0x20).unwrap()))
            .collect(),
        _ => (*rng.pick(JUNK)).to_owned(),
    }
}

fn number(rng: &mut Rng) -> String {
    match rng.below(5) {
        0 => rng.below(20).to_string(),
        1 => format!("-{}", rng.below(5000)),
        2 => rng.below(1_000_000).to_string(),
        3 => format!("{}.{}", rng.below(100), rng.below(100)),
        _ => (*rng.pick(&[
            "1e3",
            "0x10",
            "+5",
            "1_000",
            "10001",
            "18446744073709551616",
        ]))
        .to_owned(),
    }
}

fn coordinate(rng: &mut Rng) -> f64 {
    f64::from(u32::try_from(rng.below(2000)).unwrap()) / 1000.0 - 1.0
}

fn polygon_wkt(rng: &mut Rng, vertices: usize) -> String {
    let (cx, cy) = (-1.25 + coordinate(rng) * 0.5, 51.75 + coordinate(rng) * 0.3);
    let mut ring = Vec::with_capacity(vertices + 1);
    for i in 0..vertices {
        let a = std::f64::consts::TAU * (i as f64) / (vertices as f64);
        ring.push(format!(
            "{:.5} {:.5}",
            cx + 0.2 * a.cos(),
            cy + 0.1 * a.sin()
        ));
    }
    ring.push(ring[0].clone());
    format!("POLYGON(({}))", ring.join(","))
}

fn filter_text(rng: &mut Rng, properties: &[String]) -> String {
    let prop = if properties.is_empty() || rng.one_in(6) {
        "no_such_property".to_owned()
    } else {
        rng.pick(properties).clone()
    };
    let spatial = [
        "S_INTERSECTS",
        "S_WITHIN",
        "S_CONTAINS",
        "S_CROSSES",
        "S_TOUCHES",
        "S_DISJOINT",
    ];
    match rng.below(14) {
        0 => format!("{prop}={}", number(rng)),
        1 => format!("{prop}<>'{}'", junk(rng).replace('\'', "''")),
        2 => format!("{prop} LIKE '%{}%'", rng.below(10)),
        3 => format!("{prop} IN (1,2,'x')"),
        4 => format!("{prop} BETWEEN 1 AND {}", number(rng)),
        5 => format!("{prop} IS NULL OR NOT {prop}>{}", number(rng)),
        6 => {
            let vertices = 3 + rng.below(400);
            format!(
                "{}(geometry,{})",
                rng.pick(&spatial),
                polygon_wkt(rng, vertices)
            )
        }
        7 => format!("S_INTERSECTS(geometry,BBOX({}))", bbox(rng)),
        8 => "T_INTERSECTS(datetime,INTERVAL('2020-01-01','..'))".to_owned(),
        9 => format!("CASEI({prop})=casei('{}')", rng.below(9)),
        10 => format!("{prop}+{}*2^3 div 0 % 0 > -{}", number(rng), number(rng)),
        11 => {
            let depth = rng.below(80);
            format!(
                "{}{prop}=1{}",
                "(".repeat(depth),
                ")".repeat(rng.below(depth + 1))
            )
        }
        12 => junk(rng),
        _ => {
            // A valid filter with a random cut or inserted byte.
            let mut s = format!("{prop}>=1 AND ({prop}<9 OR {prop} IS NOT NULL)").into_bytes();
            let at = rng.below(s.len());
            if rng.one_in(2) {
                s.truncate(at);
            } else {
                s.insert(at, u8::try_from(rng.below(0x5f) + 0x20).unwrap());
            }
            String::from_utf8_lossy(&s).into_owned()
        }
    }
}

fn json_filter(rng: &mut Rng, properties: &[String]) -> String {
    let prop = properties
        .first()
        .cloned()
        .unwrap_or_else(|| "x".to_owned());
    match rng.below(4) {
        0 => json!({"op": "=", "args": [{"property": prop}, 1]}).to_string(),
        1 => json!({"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [-1.3, 51.7, -1.2, 51.8]}]}).to_string(),
        2 => format!("{}1{}", "[".repeat(rng.below(300)), "]".repeat(rng.below(300))),
        _ => format!("{{\"op\":\"not\",\"args\":[{}]}}", "{\"op\":\"not\",\"args\":[".repeat(rng.below(200))),
    }
}

fn bbox(rng: &mut Rng) -> String {
    match rng.below(5) {
        0 => "-1.3,51.7,-1.2,51.8".into(),
        1 => "440000,200000,460000,220000".into(),
        2 => "179,-10,-179,10".into(),
        3 => format!(
            "{},{},{},{}",
            coordinate(rng) * 200.0,
            coordinate(rng) * 100.0,
            coordinate(rng) * 200.0,
            coordinate(rng) * 100.0
        ),
        _ => junk(rng),
    }
}

const CRSS: &[&str] = &[
    "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    "http://www.opengis.net/def/crs/EPSG/0/27700",
    "http://www.opengis.net/def/crs/EPSG/0/4326",
    "http://www.opengis.net/def/crs/EPSG/0/3857",
    "EPSG:27700",
    "[EPSG:27700]",
];

/// A value for query parameter `p` of a route.
fn value(rng: &mut Rng, p: &Param, properties: &[String]) -> String {
    if !p.choices.is_empty() && rng.below(3) > 0 {
        return rng.pick(&p.choices).clone();
    }
    if rng.one_in(5) {
        return junk(rng);
    }
    match p.name.as_str() {
        "filter" => {
            if rng.one_in(5) {
                json_filter(rng, properties)
            } else {
                filter_text(rng, properties)
            }
        }
        "filter-lang" => (*rng.pick(&["cql2-text", "cql2-json", "CQL2-TEXT", "ecql"])).into(),
        "bbox" => bbox(rng),
        "datetime" => (*rng.pick(&[
            "2020-01-01T00:00:00Z",
            "../2021-01-01T00:00:00Z",
            "2019-01-01T00:00:00Z/..",
            "2021-13-45T99:99:99Z",
            "..",
            "2020-01-01",
        ]))
        .into(),
        "limit" | "offset" | "max_decile" | "min_distance_m" | "z" | "x" | "y" => number(rng),
        "sortby" => {
            let p = if properties.is_empty() {
                "x".to_owned()
            } else {
                rng.pick(properties).clone()
            };
            format!("{}{p}", rng.pick(&["", "+", "-", " ", "--"]))
        }
        "crs" | "bbox-crs" | "filter-crs" => (*rng.pick(CRSS)).into(),
        "properties" => {
            let n = rng.below(4);
            (0..n)
                .map(|_| {
                    if properties.is_empty() {
                        "x".to_owned()
                    } else {
                        rng.pick(properties).clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(",")
        }
        "f" => (*rng.pick(&["json", "html", "geojson", "csv", "xml"])).into(),
        "year" => (*rng.pick(&["2019", "2025", "2030", "19"])).into(),
        "q" => (*rng.pick(&["Oxford", "OX1 1AA", "E05", "%", "a"])).into(),
        _ => junk(rng),
    }
}

/// A value for path parameter `name`; `None` for a hostile one.
fn path_value(rng: &mut Rng, name: &str, collection: &str, known: &Known) -> Option<String> {
    if rng.one_in(6) {
        return None;
    }
    Some(match name {
        "collectionId" | "collection_id" => collection.to_owned(),
        "featureId" | "feature_id" => {
            let of: Vec<&String> = known
                .features
                .iter()
                .filter(|(c, _)| c == collection)
                .map(|(_, f)| f)
                .collect();
            if of.is_empty() || rng.one_in(4) {
                (*rng.pick(&["E01999999", "0", "register-99999", "-1", "a b"])).replace(' ', "%20")
            } else {
                encode(of[rng.below(of.len())])
            }
        }
        "code" => rng.pick(&known.codes).clone(),
        "layer" => rng.pick(&known.layers).clone(),
        "z" => (*rng.pick(&["10", "0", "14", "22", "31", "99"])).into(),
        "x" => (*rng.pick(&["508", "0", "1023", "4294967295"])).into(),
        "y" => (*rng.pick(&["340", "0", "341", "-3"])).into(),
        "path" => (*rng.pick(&[
            "index.html",
            "app.js",
            "maplibre-gl.js",
            "%2e%2e/%2e%2e/Cargo.toml",
            "..%2f..%2fCargo.toml",
            "a/b/c/",
            "",
        ]))
        .into(),
        "process_id" => (*rng.pick(&["area-profile", "nothing", "%2e%2e"])).into(),
        other => panic!("a path parameter the fuzz does not know: {other}"),
    })
}

fn write_body(rng: &mut Rng) -> Vec<u8> {
    let (lon, lat) = (-1.25 + coordinate(rng) * 0.1, 51.75 + coordinate(rng) * 0.1);
    let category = *rng.pick(&[
        "community_larder",
        "gp_practice",
        "dragon_lair",
        "",
        "library",
    ]);
    let mut feature = json!({
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"name": format!("fuzz {}", rng.below(1_000_000)), "category": category},
    });
    match rng.below(8) {
        0 => feature["geometry"]["coordinates"] = json!([1e308, -1e308]),
        1 => feature["geometry"] = json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}),
        2 => feature["properties"]["name"] = json!("n".repeat(rng.below(100_000))),
        3 => feature["properties"] = json!([1, 2]),
        4 => {
            let text = feature.to_string();
            return text.as_bytes()[..rng.below(text.len())].to_vec();
        }
        5 => {
            return format!(
                "{}{}",
                "[".repeat(rng.below(5000)),
                "]".repeat(rng.below(10))
            )
            .into_bytes()
        }
        _ => {}
    }
    feature.to_string().into_bytes()
}

/// One random case.
fn random_case(rng: &mut Rng, ops: &[Operation], known: &Known) -> Case {
    let op = rng.pick(ops);
    let collection = if op.template.contains("{collectionId}") {
        rng.pick(&known.collections).clone()
    } else {
        op.template
            .strip_prefix("/collections/")
            .and_then(|r| r.split('/').next())
            .unwrap_or("lsoa")
            .to_owned()
    };
    let properties: Vec<String> = known
        .properties
        .iter()
        .filter(|(c, _)| *c == collection)
        .map(|(_, p)| p.clone())
        .collect();
    let mut path_junk = false;
    let path = op
        .template
        .split('/')
        .map(
            |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => path_value(rng, name, &collection, known).unwrap_or_else(|| {
                    path_junk = true;
                    encode(&junk(rng))
                }),
                None => seg.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join("/");
    let mut case = Case::get(path);
    case.method.clone_from(&op.method);
    let mut query: Vec<(String, String)> = Vec::new();
    match rng.below(4) {
        // Only one parameter, maybe bad: a 400 must name it.
        0 if !op.query.is_empty() => {
            let p = rng.pick(&op.query);
            let bad = junk(rng);
            query.push((p.name.clone(), bad));
            case.blame = (!path_junk).then(|| p.name.clone());
            // A missing required parameter may be named first.
            case.unsent = op
                .query
                .iter()
                .filter(|q| q.name != p.name)
                .map(|q| q.name.clone())
                .collect();
        }
        // Several, mixed.
        1 | 2 => {
            for _ in 0..rng.below(5) {
                if op.query.is_empty() {
                    break;
                }
                let p = rng.pick(&op.query);
                query.push((p.name.clone(), value(rng, p, &properties)));
            }
        }
        _ => {
            let name = (*rng.pick(&["zz_fuzz", "LIMIT", "filter[", "", "%ff"])).to_owned();
            query.push((name, junk(rng)));
        }
    }
    if !query.is_empty() {
        let q: Vec<String> = query
            .iter()
            .map(|(k, v)| {
                if k.starts_with('%') {
                    format!("{k}={}", encode(v))
                } else {
                    format!("{}={}", encode(k), encode(v))
                }
            })
            .collect();
        case.target = format!("{}?{}", case.target, q.join("&"));
    }
    // Methods other than the documented one now and then.
    if rng.one_in(12) {
        case.method = (*rng.pick(&["HEAD", "OPTIONS", "TRACE", "PUT", "DELETE", "FUZZ"])).into();
        case.blame = None;
    }
    for (name, values) in [
        (
            "Accept",
            &[
                "application/json",
                "text/html",
                "application/geo+json",
                "*/*",
                "image/png",
                "text/html;q=0, application/json;q=0",
                "\u{7f}garbage",
            ][..],
        ),
        (
            "Accept-Encoding",
            &["gzip", "br", "identity", "gzip;q=0, *;q=0", "zz"][..],
        ),
        (
            "If-None-Match",
            &["*", "W/\"x\"", "\"1\"", "garbage", ""][..],
        ),
        (
            "Content-Crs",
            &[
                "<http://www.opengis.net/def/crs/EPSG/0/27700>",
                "EPSG:1",
                "",
            ][..],
        ),
        (
            "Authorization",
            &["Bearer gm_nope", "Basic Zm9vOmJhcg==", "Bearer "][..],
        ),
    ] {
        if rng.one_in(5) {
            let value = *rng.pick(values);
            if value.contains('\u{7f}') {
                // hyper refuses the whole request before any parameter.
                case.blame = None;
            }
            case.headers.push((name.into(), value.into()));
        }
    }
    if ["POST", "PUT", "PATCH"].contains(&case.method.as_str()) {
        case.headers.retain(|(k, _)| k != "Authorization");
        match rng.below(3) {
            0 => {}
            1 => case
                .headers
                .push(("Authorization".into(), format!("Bearer {}", known.editor))),
            _ => case
                .headers
                .push(("Authorization".into(), format!("Bearer {}", known.admin))),
        }
        let ctype = *rng.pick(&[
            "application/geo+json",
            "application/json",
            "text/plain",
            "application/merge-patch+json",
        ]);
        case.headers.push(("Content-Type".into(), ctype.into()));
        case.body = Some(write_body(rng));
    }
    case
}

/// Every literal input of issue 12, each with what a 400 must name.
fn issue_cases() -> Vec<Case> {
    let items = "/collections/lsoa/items";
    let f = |text: &str| Case::get(format!("{items}?filter={}", encode(text))).blaming("filter");
    // Compact, so that 3,500 vertices fit a URL: a county-sized circle with
    // three decimals, only spaces escaped.
    let big = |n: usize| {
        let ring: Vec<String> = (0..=n)
            .map(|i| {
                let a = std::f64::consts::TAU * (i % n) as f64 / n as f64;
                format!(
                    "{:.3}%20{:.3}",
                    -1.25 + 0.9 * a.cos(),
                    51.75 + 0.6 * a.sin()
                )
            })
            .collect();
        let text = format!("S_CROSSES(geometry,POLYGON(({})))", ring.join(","));
        Case::get(format!("{items}?filter={text}")).blaming("filter")
    };
    vec![
        f(&format!(
            "{}imd_decile=1{}",
            "(".repeat(372),
            ")".repeat(372)
        )),
        f(&format!(
            "{}imd_decile=1{}",
            "(".repeat(371),
            ")".repeat(371)
        )),
        f(&format!("{}imd_decile=1", "NOT ".repeat(1800))),
        f(&format!("imd_decile={}1", "-".repeat(3000))),
        f(&format!(
            "S_INTERSECTS(geometry,{}POINT(-1.2 51.7){})",
            "GEOMETRYCOLLECTION(".repeat(500),
            ")".repeat(500)
        )),
        f(&format!(
            "S_INTERSECTS(geometry,POLYGON({}-1.2 51.7{}))",
            "(".repeat(400),
            ")".repeat(400)
        )),
        f(&format!("{}imd_decile=1", "(".repeat(22))),
        big(2000),
        big(3500),
        Case::get(format!("/web/static/{}", "a".repeat(256))),
        Case::get(format!("/{}", "a".repeat(60_000))),
        Case::get(format!("{items}?zz={}", "a".repeat(60_000))).blaming("zz"),
    ]
}

#[test]
fn every_route_survives_a_bounded_deterministic_fuzz() {
    let mut server = Launch::new().start();
    server.kill_at_exit();
    let addr = server.addr;
    let state = server.state_path().as_os_str().to_owned();
    let store = [std::ffi::OsString::from("--state-dir"), state];
    let mut known = discover(addr);
    known.admin = make_token(&store, "fuzz-admin", "admin");
    known.editor = make_token(&store, "fuzz-editor", "editor");
    let api = get_json(addr, "/api?f=json");
    let ops = operations(&api);
    assert!(ops.len() > 20, "{} operations in /api", ops.len());

    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = |case: &Case, result: Result<Reply, String>, started: Instant| {
        let verdict = result.and_then(|reply| judge(case, &reply));
        if let Err(why) = verdict {
            failures.lock().unwrap().push(format!(
                "{why} after {:?}: {}",
                started.elapsed(),
                case.describe()
            ));
        }
    };

    // The inputs of the issue, each one alone on the server.
    let fixed = issue_cases();
    let mut worst = Duration::ZERO;
    for case in &fixed {
        let started = Instant::now();
        let result = exchange(addr, &case.bytes(addr));
        worst = worst.max(started.elapsed());
        if let Ok(reply) = &result {
            if case.blame.is_some() {
                assert_eq!(reply.status, 400, "{}", case.describe());
            }
        }
        record(case, result, started);
    }

    // Requests hyper refuses before any handler: each still gets its status
    // with a problem document, never a bare head or a dropped connection.
    let raw: Vec<(Vec<u8>, u16)> = vec![
        (
            b"GET /conformance HTTP/1.1\r\nHost: x\r\nAccept: \x7fbad\r\n\r\n".to_vec(),
            400,
        ),
        (
            b"GET /con formance HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            400,
        ),
        (b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), 400),
        (b"GET / HTTP/9.9\r\nHost: x\r\n\r\n".to_vec(), 400),
        (
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03".to_vec(),
            400,
        ),
        (
            format!(
                "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
                "b".repeat(100_000)
            )
            .into_bytes(),
            431,
        ),
        (
            format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000)).into_bytes(),
            414,
        ),
    ];
    for (bytes, status) in &raw {
        let started = Instant::now();
        let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(60)]).into_owned();
        let reply = exchange(addr, bytes).unwrap_or_else(|e| panic!("{shown:?}: {e}"));
        assert_eq!(reply.status, *status, "{shown:?}");
        let case = Case::get(shown);
        record(&case, Ok(reply), started);
    }

    let sent = AtomicUsize::new(0);
    let deadline = Instant::now() + TIME_BUDGET;
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (ops, known, sent, record) = (&ops, &known, &sent, &record);
            scope.spawn(move || {
                let mut rng = Rng(SEED ^ (t as u64 + 1).wrapping_mul(0x9E37_79B9));
                while Instant::now() < deadline
                    && sent.fetch_add(1, Ordering::Relaxed) < MAX_REQUESTS
                {
                    let case = random_case(&mut rng, ops, known);
                    let started = Instant::now();
                    let result = exchange(addr, &case.bytes(addr));
                    record(&case, result, started);
                }
            });
        }
    });
    let random = sent.load(Ordering::Relaxed).min(MAX_REQUESTS);
    let total = random + fixed.len() + raw.len();
    println!(
        "fuzzed {total} requests ({random} random, {} fixed, {} malformed; slowest fixed {worst:?})",
        fixed.len(),
        raw.len()
    );
    // The server must still answer.
    let ok = exchange(addr, &Case::get("/conformance").bytes(addr)).expect("still serving");
    assert_eq!(ok.status, 200);
    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {total} requests broke a rule:\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
