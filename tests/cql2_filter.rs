//! CQL2 filters over HTTP (in process) on the real Oxfordshire atlas: hostile
//! inputs are fast 400s naming `filter`, and every selection is checked
//! against a brute-force selection computed here from the served GeoJSON,
//! with numbers read from their exact text (not through `serde_json`'s
//! float parsing) and geometry tests written independently of `geo`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)] // tests may panic; numbers are exact

mod common;

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use tower::ServiceExt;

const BNG: &str = "http://www.opengis.net/def/crs/EPSG/0/27700";

async fn get(uri: &str) -> (StatusCode, String, String) {
    let app = gapmap::api::app(common::app_state());
    let req = Request::builder()
        .uri(uri)
        .header("host", "test.local")
        .body(Body::empty())
        .unwrap();
    let response = app.oneshot(req).await.unwrap();
    let status = response.status();
    let ctype = response
        .headers()
        .get("content-type")
        .map_or(String::new(), |v| v.to_str().unwrap().to_owned());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, ctype, String::from_utf8_lossy(&body).into_owned())
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A coordinate tree read from GeoJSON text, numbers parsed from their digits.
#[derive(Debug, Clone)]
enum Nest {
    Num(f64),
    List(Vec<Nest>),
}

fn nest(text: &str) -> Nest {
    fn go(b: &[u8], i: &mut usize) -> Nest {
        while b[*i].is_ascii_whitespace() {
            *i += 1;
        }
        if b[*i] == b'[' {
            *i += 1;
            let mut items = Vec::new();
            loop {
                while b[*i].is_ascii_whitespace() || b[*i] == b',' {
                    *i += 1;
                }
                if b[*i] == b']' {
                    *i += 1;
                    return Nest::List(items);
                }
                items.push(go(b, i));
            }
        }
        let start = *i;
        while *i < b.len() && !matches!(b[*i], b',' | b']') && !b[*i].is_ascii_whitespace() {
            *i += 1;
        }
        Nest::Num(std::str::from_utf8(&b[start..*i]).unwrap().parse().unwrap())
    }
    go(text.as_bytes(), &mut 0)
}

impl Nest {
    fn list(&self) -> &[Nest] {
        match self {
            Nest::List(v) => v,
            Nest::Num(_) => panic!("expected a list"),
        }
    }
    fn pos(&self) -> [f64; 2] {
        match self.list() {
            [Nest::Num(x), Nest::Num(y), ..] => [*x, *y],
            other => panic!("not a position: {other:?}"),
        }
    }
}

#[derive(Deserialize)]
struct RawGeometry {
    #[serde(rename = "type")]
    kind: String,
    coordinates: Box<RawValue>,
}

#[derive(Deserialize)]
struct RawFeature {
    id: String,
    geometry: Option<RawGeometry>,
    properties: HashMap<String, Box<RawValue>>,
}

#[derive(Deserialize)]
struct RawPage {
    features: Vec<RawFeature>,
}

/// A served feature: its properties as raw JSON text and its geometry as
/// polygons (rings of positions) or a point.
struct Served {
    id: String,
    props: HashMap<String, String>,
    point: Option<[f64; 2]>,
    polygons: Vec<Vec<Vec<[f64; 2]>>>,
}

impl Served {
    fn num(&self, name: &str) -> Option<f64> {
        self.props.get(name).and_then(|t| t.parse().ok())
    }
    fn string(&self, name: &str) -> Option<String> {
        self.props
            .get(name)
            .and_then(|t| serde_json::from_str::<Option<String>>(t).ok().flatten())
    }
    fn vertices(&self) -> impl Iterator<Item = [f64; 2]> + '_ {
        self.point
            .into_iter()
            .chain(self.polygons.iter().flatten().flatten().copied())
    }
}

/// Every feature of a collection as served (GeoJSON, all pages).
async fn served(collection: &str, crs: Option<&str>) -> Vec<Served> {
    let mut out = Vec::new();
    loop {
        let mut uri = format!(
            "/collections/{collection}/items?limit=10000&offset={}",
            out.len()
        );
        if let Some(c) = crs {
            let _ = write!(uri, "&crs={}", enc(c));
        }
        let (status, _, body) = get(&uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        let page: RawPage = serde_json::from_str(&body).unwrap();
        let n = page.features.len();
        for f in page.features {
            let (mut point, mut polygons) = (None, Vec::new());
            if let Some(g) = f.geometry {
                let c = nest(g.coordinates.get());
                match g.kind.as_str() {
                    "Point" => point = Some(c.pos()),
                    "Polygon" => polygons.push(rings(&c)),
                    "MultiPolygon" => polygons.extend(c.list().iter().map(rings)),
                    other => panic!("unexpected geometry {other}"),
                }
            }
            out.push(Served {
                id: f.id,
                props: f
                    .properties
                    .into_iter()
                    .map(|(k, v)| (k, v.get().to_owned()))
                    .collect(),
                point,
                polygons,
            });
        }
        if n < 10_000 {
            return out;
        }
    }
}

fn rings(p: &Nest) -> Vec<Vec<[f64; 2]>> {
    p.list()
        .iter()
        .map(|r| r.list().iter().map(Nest::pos).collect())
        .collect()
}

fn ids_of<'a>(it: impl Iterator<Item = &'a Served>) -> BTreeSet<String> {
    it.map(|f| f.id.clone()).collect()
}

/// The ids a filter selects (all pages), asserting a 200.
async fn select(collection: &str, filter: &str, extra: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    loop {
        let uri = format!(
            "/collections/{collection}/items?limit=10000&offset={}&filter={}{extra}",
            out.len(),
            enc(filter)
        );
        let (status, _, body) = get(&uri).await;
        assert_eq!(status, StatusCode::OK, "{filter}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        let page: Vec<String> = v["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_owned())
            .collect();
        let n = page.len();
        out.extend(page);
        if n < 10_000 {
            return out;
        }
    }
}

async fn select_json(collection: &str, json: &str) -> BTreeSet<String> {
    select(collection, json, "&filter-lang=cql2-json").await
}

/// Asserts a fast 400 problem document naming `filter`; returns its detail.
async fn fast_400(uri_tail: &str) -> String {
    // Load the atlas first, so that the timing is of the request alone.
    let _ = common::app_state();
    let t = Instant::now();
    let (status, ctype, body) = get(uri_tail).await;
    let took = t.elapsed();
    let shown = &uri_tail[..uri_tail.len().min(120)];
    assert_eq!(status, StatusCode::BAD_REQUEST, "{shown}: {body}");
    assert_eq!(ctype, "application/problem+json", "{shown}");
    let p: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(p["parameter"], "filter", "{shown}: {p}");
    // Generous: these take milliseconds; the bound only proves "not exponential, not hung".
    assert!(took < Duration::from_secs(2), "{shown} took {took:?}");
    p["detail"].as_str().unwrap().to_owned()
}

async fn fast_400_text(collection: &str, filter: &str) -> String {
    fast_400(&format!(
        "/collections/{collection}/items?filter={}",
        enc(filter)
    ))
    .await
}

#[tokio::test]
async fn hostile_filters_are_fast_400s() {
    let d = fast_400_text(
        "lsoa",
        &format!("{}imd_decile=1{}", "(".repeat(372), ")".repeat(372)),
    )
    .await;
    assert!(d.contains("nested"), "{d}");
    fast_400_text("lsoa", &format!("{}imd_decile=1", "NOT ".repeat(1800))).await;
    fast_400_text("lsoa", &format!("imd_decile = {}1", "-".repeat(3000))).await;
    fast_400_text("lsoa", &format!("imd_decile = {}1", "- ".repeat(3000))).await;
    fast_400_text("lsoa", &format!("residents = 2{}", "^2".repeat(3000))).await;
    fast_400_text("lsoa", &format!("residents = 1{}", "+1".repeat(3000))).await;
    // 22 unclosed brackets: linear time, an error at the end of the text.
    let d = fast_400_text("lsoa", "((((((((((((((((((((((imd_decile=1").await;
    assert!(d.contains("at byte 34"), "{d}");
    fast_400_text("lsoa", &"(".repeat(5000)).await;
    // Brackets nested in WKT literals.
    fast_400_text(
        "lsoa",
        &format!(
            "S_INTERSECTS(geometry,POINT{}-1.2 51.7{})",
            "(".repeat(2000),
            ")".repeat(2000)
        ),
    )
    .await;
    fast_400_text(
        "lsoa",
        &format!(
            "S_INTERSECTS(geometry,GEOMETRYCOLLECTION({}POINT(-1.2 51.7){}))",
            "GEOMETRYCOLLECTION(".repeat(500),
            ")".repeat(500)
        ),
    )
    .await;
    fast_400_text(
        "lsoa",
        &format!(
            "S_INTERSECTS(geometry,MULTIPOLYGON({}((-1 51,-1 52,-2 52,-1 51)){}))",
            "(".repeat(1000),
            ")".repeat(1000)
        ),
    )
    .await;
    // Function arguments and IN lists.
    fast_400_text(
        "lsoa",
        &format!("name = {}'x'{}", "CASEI(".repeat(1000), ")".repeat(1000)),
    )
    .await;
    fast_400_text(
        "lsoa",
        &format!("name IN {}'x'{}", "(".repeat(1000), ")".repeat(1000)),
    )
    .await;
    // Too long.
    let d = fast_400_text("lsoa", &format!("name = '{}'", "x".repeat(17_000))).await;
    assert!(d.contains("16384"), "{d}");
    // JSON nesting beyond serde_json's own limit and far beyond ours.
    let deep = format!(
        "{}{{\"op\":\"=\",\"args\":[{{\"property\":\"imd_decile\"}},1]}}{}",
        "{\"op\":\"not\",\"args\":[".repeat(400),
        "]}".repeat(400)
    );
    fast_400(&format!(
        "/collections/lsoa/items?filter-lang=cql2-json&filter={}",
        enc(&deep)
    ))
    .await;
    fast_400(&format!(
        "/collections/lsoa/items?filter-lang=cql2-json&filter={}",
        enc(&"[".repeat(5000))
    ))
    .await;
    // A 2,000-vertex literal is refused outright: written compactly it fits
    // the length limit and exceeds the vertex limit...
    let mut ring: Vec<String> = (0..1999)
        .map(|i| format!("{} {}", i % 90, i % 89))
        .collect();
    ring.push("0 0".to_owned());
    let compact = format!("S_CROSSES(geometry,POLYGON(({})))", ring.join(","));
    assert!(compact.len() < 16 * 1024);
    let d = fast_400_text("lsoa", &compact).await;
    assert!(d.contains("1000 vertices"), "{d}");
    // ...and written with real coordinates it exceeds the length limit.
    let ring: Vec<String> = (0..2000)
        .map(|i| {
            let a = f64::from(i) / 1999.0 * std::f64::consts::TAU;
            if i == 1999 {
                "-0.95000 51.75000".to_owned()
            } else {
                format!("{:.5} {:.5}", -1.25 + 0.3 * a.cos(), 51.75 + 0.2 * a.sin())
            }
        })
        .collect();
    let d = fast_400_text(
        "lsoa",
        &format!("S_CROSSES(geometry,POLYGON(({})))", ring.join(",")),
    )
    .await;
    assert!(d.contains("16384"), "{d}");
}

#[tokio::test]
async fn arithmetic_operators_and_precedence() {
    let lsoa = served("lsoa", None).await;
    let residents = |f: &Served| f.num("residents");
    let want =
        |p: &dyn Fn(f64) -> bool| ids_of(lsoa.iter().filter(|f| residents(f).is_some_and(p)));
    let (r1, r2) = (residents(&lsoa[0]).unwrap(), residents(&lsoa[1]).unwrap());
    for (filter, expected) in [
        ("residents % 7 = 3", want(&|r| r % 7.0 == 3.0)),
        (
            "residents div 10 >= 159",
            want(&|r| (r / 10.0).floor() >= 159.0),
        ),
        ("residents ^ 2 > 2550409", want(&|r| r > 1597.0)),
        // * / % div before + -, ^ before *, left-associative -.
        (
            "residents - 10 * 2 ^ 2 > 1500",
            want(&|r| r - 40.0 > 1500.0),
        ),
        ("residents - 1000 - 500 > 100", want(&|r| r > 1600.0)),
        ("residents - (1000 - 500) > 1100", want(&|r| r > 1600.0)),
        ("(residents + 10) / 2 < 800", want(&|r| r + 10.0 < 1600.0)),
        ("-residents < -1600", want(&|r| r > 1600.0)),
        (
            "residents % 10 div 2 = 2",
            want(&|r| (r % 10.0 / 2.0).trunc() == 2.0),
        ),
        (
            "residents BETWEEN 1000 + 500 AND 2 * 800",
            want(&|r| (1500.0..=1600.0).contains(&r)),
        ),
        (
            &format!("residents IN ({} + 500, {} - 1)", r1 - 500.0, r2 + 1.0) as &str,
            want(&|r| r == r1 || r == r2),
        ),
    ] {
        assert!(!expected.is_empty(), "{filter} should select something");
        assert!(
            expected.len() < lsoa.len(),
            "{filter} should not select everything"
        );
        assert_eq!(select("lsoa", filter, "").await, expected, "{filter}");
    }
    // The same in CQL2 JSON.
    let json = r#"{"op":"and","args":[
        {"op":"=","args":[{"op":"%","args":[{"property":"residents"},7]},3]},
        {"op":">=","args":[{"op":"div","args":[{"property":"residents"},10]},159]},
        {"op":">","args":[{"op":"^","args":[{"property":"residents"},2]},2550409]}]}"#;
    assert_eq!(
        select_json("lsoa", json).await,
        want(&|r| r % 7.0 == 3.0 && r >= 1590.0 && r > 1597.0)
    );
    // Division by zero is unknown, not an error or a match.
    assert!(select("lsoa", "residents / 0 > 1", "").await.is_empty());
    assert!(select("lsoa", "residents % 0 = 1", "").await.is_empty());
}

#[tokio::test]
async fn string_escapes_and_like() {
    let lsoa = served("lsoa", None).await;
    let st_marys = ids_of(
        lsoa.iter()
            .filter(|f| f.string("ward_name").as_deref() == Some("St Mary's")),
    );
    assert!(!st_marys.is_empty());
    assert_eq!(
        select("lsoa", r"ward_name = 'St Mary\'s'", "").await,
        st_marys
    );
    assert_eq!(
        select("lsoa", "ward_name = 'St Mary''s'", "").await,
        st_marys
    );
    assert_eq!(
        select("lsoa", r"ward_name LIKE 'St Mary\'_'", "").await,
        st_marys
    );
    let assets = served("assets", None).await;
    let id = "ace_library-abingdon-ox14-3ly";
    assert_eq!(
        ids_of(assets.iter().filter(|f| f.id == id)).len(),
        1,
        "the fixture asset exists"
    );
    let one: BTreeSet<String> = [id.to_owned()].into();
    assert_eq!(
        select("assets", r"id LIKE 'ace\\_library-abingdon-ox14-3ly'", "").await,
        one
    );
    assert_eq!(
        select("assets", r"id LIKE 'ace\_library-abingdon-ox14-3ly'", "").await,
        one
    );
    // Unescaped, `_` is a wildcard: the same and any one-letter variants.
    let wild = ids_of(
        assets
            .iter()
            .filter(|f| f.id.len() == id.len() && f.id.starts_with("ace") && f.id[4..] == id[4..]),
    );
    assert_eq!(
        select("assets", "id LIKE 'ace_library-abingdon-ox14-3ly'", "").await,
        wild
    );
    // Keywords in any case, double-quoted names, CASEI.
    assert_eq!(
        select(
            "lsoa",
            r#"casei("ward_name") like casei('ST MARY''S') and "residents" is not null"#,
            ""
        )
        .await,
        st_marys
    );
}

/// CASEI is Unicode default case folding (CaseFolding.txt, statuses C and F),
/// not lowercasing: `ß` folds to `ss` and the `ﬁ` ligature to `fi`, which
/// lowercasing leaves alone; the Turkish dotless `ı` folds to itself (so not
/// to `i`), and `İ` to `i` plus a combining dot. The expected truth values
/// here are read from CaseFolding.txt by hand, not computed.
#[tokio::test]
async fn casei_folds_full_unicode_case() {
    let lsoa = served("lsoa", None).await;
    let all = ids_of(lsoa.iter());
    let st_marys = ids_of(
        lsoa.iter()
            .filter(|f| f.string("ward_name").as_deref() == Some("St Mary's")),
    );
    assert!(!st_marys.is_empty());
    let none = BTreeSet::new();
    for (cond, holds) in [
        ("CASEI('Straße') = CASEI('STRASSE')", true),
        ("CASEI('straße') = CASEI('Strasse')", true),
        ("CASEI('ﬁle') = CASEI('FILE')", true),
        ("CASEI('ΣΊΣΥΦΟΣ') = CASEI('σίσυφος')", true),
        ("CASEI('Ǆ') = CASEI('ǆ')", true),
        ("CASEI('ı') = CASEI('I')", false),
        ("CASEI('ı') = CASEI('ı')", true),
        ("CASEI('İ') = CASEI('i')", false),
        ("CASEI('İ') = CASEI('i̇')", true),
        ("CASEI('Straße') = CASEI('STRASE')", false),
        ("CASEI('STRASSE') LIKE CASEI('straß%')", true),
        ("CASEI('Straße') <> CASEI('STRASSE')", false),
    ] {
        let want = if holds { &all } else { &none };
        assert_eq!(&select("lsoa", cond, "").await, want, "{cond}");
        // With a property on one side, the folding applies per feature.
        let with = format!("CASEI(ward_name) = CASEI('ST MARY''S') AND {cond}");
        let want = if holds { &st_marys } else { &none };
        assert_eq!(&select("lsoa", &with, "").await, want, "{with}");
        let json = format!(
            r#"{{"op":"and","args":[{{"op":"=","args":[{{"op":"casei","args":[{{"property":"ward_name"}}]}},{{"op":"casei","args":["sT mArY'S"]}}]}},{}]}}"#,
            cql2_json_of(cond)
        );
        assert_eq!(&select_json("lsoa", &json).await, want, "{json}");
    }
}

/// `CASEI('a') OP CASEI('b')` in CQL2 JSON, for the shapes used above.
fn cql2_json_of(cond: &str) -> String {
    let (a, rest) = cond
        .strip_prefix("CASEI('")
        .unwrap()
        .split_once("') ")
        .unwrap();
    let (op, rest) = rest.split_once(' ').unwrap();
    let b = rest
        .strip_prefix("CASEI('")
        .unwrap()
        .strip_suffix("')")
        .unwrap();
    let op = match op {
        "=" => "=",
        "<>" => "<>",
        "LIKE" => "like",
        other => panic!("{other}"),
    };
    format!(
        r#"{{"op":"{op}","args":[{{"op":"casei","args":[{}]}},{{"op":"casei","args":[{}]}}]}}"#,
        serde_json::to_string(a).unwrap(),
        serde_json::to_string(b).unwrap()
    )
}

/// The text of a number as JSON would carry it (the served text itself).
fn raw(f: &Served, name: &str) -> String {
    f.props[name].clone()
}

#[tokio::test]
async fn json_numbers_round_trip_exactly() {
    let pitches = served("assets-sports_pitch", None).await;
    // The served area with the most digits: the hardest to round-trip. (The
    // 5.1e14 m² areas the issue quoted were a winding bug, since fixed.)
    let big: String = pitches
        .iter()
        .filter(|f| f.num("area_m2").is_some())
        .map(|f| raw(f, "area_m2"))
        .max_by_key(|t| (t.len(), t.clone()))
        .expect("pitches with an area");
    assert!(big.len() >= 15, "a long-digit area: {big}");
    let want: BTreeSet<String> = ids_of(pitches.iter().filter(|f| f.props["area_m2"] == big));
    assert!(!want.is_empty(), "a pitch with area_m2 {big}");
    let json = format!(r#"{{"op":"=","args":[{{"property":"area_m2"}},{big}]}}"#);
    assert_eq!(select_json("assets-sports_pitch", &json).await, want);
    assert_eq!(
        select("assets-sports_pitch", &format!("area_m2 = {big}"), "").await,
        want
    );
    // Every distinct served area, as text and JSON, selects exactly the
    // features that print it (a sample, to keep the test quick).
    let mut areas: Vec<String> = pitches
        .iter()
        .filter(|f| f.num("area_m2").is_some())
        .map(|f| raw(f, "area_m2"))
        .collect();
    areas.sort();
    areas.dedup();
    assert!(areas.len() > 20);
    for a in areas.iter().step_by(areas.len() / 20) {
        let want = ids_of(pitches.iter().filter(|f| f.props["area_m2"] == *a));
        let json = format!(r#"{{"op":"=","args":[{{"property":"area_m2"}},{a}]}}"#);
        assert_eq!(select_json("assets-sports_pitch", &json).await, want, "{a}");
        assert_eq!(
            select("assets-sports_pitch", &format!("area_m2 = {a}"), "").await,
            want,
            "{a}"
        );
    }
    // IN lists in JSON.
    let list: Vec<&String> = areas.iter().take(5).collect();
    let want = ids_of(
        pitches
            .iter()
            .filter(|f| list.contains(&&f.props["area_m2"])),
    );
    let json = format!(
        r#"{{"op":"in","args":[{{"property":"area_m2"}},[{}]]}}"#,
        list.iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    );
    assert_eq!(select_json("assets-sports_pitch", &json).await, want);
    // Every long-digit number served in `assets` (areas of all kinds): the
    // served text, in JSON and in text, selects exactly the features that
    // print it.
    let assets = served("assets", None).await;
    let mut long: Vec<String> = assets
        .iter()
        .filter_map(|f| f.props.get("area_m2"))
        .filter(|v| v.len() >= 16 && v.parse::<f64>().is_ok())
        .cloned()
        .collect();
    long.sort();
    long.dedup();
    assert!(long.len() >= 20, "{long:?}");
    for v in &long {
        let want = ids_of(assets.iter().filter(|g| g.props.get("area_m2") == Some(v)));
        let json = format!(r#"{{"op":"=","args":[{{"property":"area_m2"}},{v}]}}"#);
        assert_eq!(select_json("assets", &json).await, want, "area_m2 = {v}");
        assert_eq!(
            select("assets", &format!("area_m2 = {v}"), "").await,
            want,
            "area_m2 = {v}"
        );
    }
    // The brief's example value: the same answer in both encodings.
    let v = "18.250999999999998";
    let json = format!(r#"{{"op":"<","args":[{{"property":"imd_score"}},{v}]}}"#);
    assert_eq!(
        select_json("lsoa", &json).await,
        select("lsoa", &format!("imd_score < {v}"), "").await
    );
}

/// Even-odd point in polygon over all rings; `None` when the point is on an edge.
fn in_polygon(p: [f64; 2], rings: &[Vec<[f64; 2]>]) -> Option<bool> {
    let mut inside = false;
    for r in rings {
        for w in r.windows(2) {
            let (a, b) = (w[0], w[1]);
            let cross = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
            let within_box = p[0] >= a[0].min(b[0])
                && p[0] <= a[0].max(b[0])
                && p[1] >= a[1].min(b[1])
                && p[1] <= a[1].max(b[1]);
            if cross == 0.0 && within_box {
                return None;
            }
            if (a[1] > p[1]) != (b[1] > p[1]) {
                let x = a[0] + (p[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1]);
                if p[0] < x {
                    inside = !inside;
                }
            }
        }
    }
    Some(inside)
}

/// Whether segments ab and cd cross at a point interior to both.
fn proper_crossing(a: [f64; 2], b: [f64; 2], c: [f64; 2], d: [f64; 2]) -> bool {
    let orient = |p: [f64; 2], q: [f64; 2], r: [f64; 2]| {
        (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
    };
    orient(a, b, c) * orient(a, b, d) < 0.0 && orient(c, d, a) * orient(c, d, b) < 0.0
}

fn in_feature(p: [f64; 2], f: &Served) -> Option<bool> {
    let mut any = false;
    for poly in &f.polygons {
        match in_polygon(p, poly) {
            None => return None,
            Some(true) => any = true,
            Some(false) => {}
        }
    }
    Some(any)
}

#[tokio::test]
async fn spatial_predicates_in_the_literal_crs() {
    let assets = served("assets", None).await;
    let gp = assets
        .iter()
        .find(|f| f.id == "nhs_gp-k84618")
        .expect("the GP practice");
    let [x, y] = gp.point.unwrap();
    assert_eq!((x, y), (-1.473_765_225_110_625_5, 51.782_265_427_066_385));
    let same_point = ids_of(assets.iter().filter(|f| f.point == Some([x, y])));
    assert!(same_point.contains("nhs_gp-k84618"));
    let pt = "POINT(-1.4737652251106255 51.782265427066385)";
    for op in ["S_INTERSECTS", "S_EQUALS", "S_CONTAINS", "S_WITHIN"] {
        assert_eq!(
            select("assets", &format!("{op}(geometry,{pt})"), "").await,
            same_point,
            "{op}"
        );
    }
    assert!(select("assets", &format!("S_TOUCHES(geometry,{pt})"), "")
        .await
        .is_empty());
    assert_eq!(
        select("assets", &format!("S_DISJOINT(geometry,{pt})"), "")
            .await
            .len(),
        assets.len() - same_point.len()
    );
    // Literal first: the relation is mirrored.
    assert_eq!(
        select("assets", &format!("S_WITHIN({pt},geometry)"), "").await,
        same_point
    );

    // The same in British National Grid, with the coordinates served in it.
    let assets_bng = served("assets", Some(BNG)).await;
    let gp_bng = assets_bng.iter().find(|f| f.id == "nhs_gp-k84618").unwrap();
    let [e, n] = gp_bng.point.unwrap();
    let same_bng = ids_of(assets_bng.iter().filter(|f| f.point == Some([e, n])));
    let pt_bng = format!("{} {}", num(e), num(n));
    let crs = format!("&filter-crs={}", enc(BNG));
    for op in ["S_INTERSECTS", "S_EQUALS", "S_CONTAINS"] {
        assert_eq!(
            select("assets", &format!("{op}(geometry,POINT({pt_bng}))"), &crs).await,
            same_bng,
            "{op} in BNG"
        );
    }

    // A box with a corner on the GP and Oxford inside: intersects includes
    // the GP, within does not (boundary), in either CRS.
    let boxes = [
        (x, y - 0.06, x + 0.25, y, "", &assets),
        (e, n - 7000.0, e + 17000.0, n, crs.as_str(), &assets_bng),
    ];
    for (w, s, east, north, extra, data) in boxes {
        let bbox = |f: &str| {
            let mut t = format!("{f}(geometry,BBOX(");
            for (i, v) in [w, s, east, north].into_iter().enumerate() {
                if i > 0 {
                    t.push(',');
                }
                t.push_str(&num(v));
            }
            t.push_str("))");
            t
        };
        let closed = ids_of(data.iter().filter(|f| {
            f.point
                .is_some_and(|[px, py]| px >= w && px <= east && py >= s && py <= north)
        }));
        let open = ids_of(data.iter().filter(|f| {
            f.point
                .is_some_and(|[px, py]| px > w && px < east && py > s && py < north)
        }));
        let edge: BTreeSet<String> = closed.difference(&open).cloned().collect();
        assert!(edge.contains("nhs_gp-k84618"), "{edge:?}");
        assert!(open.len() > 3, "{extra}");
        assert_eq!(select("assets", &bbox("S_INTERSECTS"), extra).await, closed);
        assert_eq!(select("assets", &bbox("S_WITHIN"), extra).await, open);
        assert_eq!(select("assets", &bbox("S_TOUCHES"), extra).await, edge);
        assert_eq!(
            select("assets", &bbox("S_DISJOINT"), extra).await.len(),
            data.len() - closed.len()
        );
        // The same box in CQL2 JSON: its edges are exact there too.
        let json = format!(
            r#"{{"op":"s_intersects","args":[{{"property":"geometry"}},{{"bbox":[{},{},{},{}]}}]}}"#,
            num(w),
            num(s),
            num(east),
            num(north)
        );
        assert_eq!(
            select("assets", &json, &format!("&filter-lang=cql2-json{extra}")).await,
            closed
        );
    }
}

/// A number as text that reads back as the same `f64` (Rust's `Display`
/// writes the shortest such digits).
fn num(v: f64) -> String {
    format!("{v}")
}

#[tokio::test]
async fn spatial_predicates_on_areas() {
    let lsoa = served("lsoa", None).await;
    let (w, s, e, n) = (-1.28, 51.72, -1.2, 51.77);
    let inside = |p: [f64; 2]| p[0] > w && p[0] < e && p[1] > s && p[1] < n;
    let outside = |p: [f64; 2]| p[0] < w || p[0] > e || p[1] < s || p[1] > n;
    let bbox = format!("BBOX({w},{s},{e},{n})");
    // Within a box: every vertex in the closed box.
    let within = ids_of(lsoa.iter().filter(|f| f.vertices().all(|p| !outside(p))));
    assert!(within.len() > 5);
    assert_eq!(
        select("lsoa", &format!("S_WITHIN(geometry,{bbox})"), "").await,
        within
    );
    // Overlapping it: interiors meet (a vertex strictly inside the box, an
    // edge crossing an edge of the box, or the box's centre inside the LSOA),
    // yet the LSOA has a vertex outside the box and does not hold the box.
    let corners = [[w, s], [e, s], [e, n], [w, n], [w, s]];
    let overlaps = ids_of(lsoa.iter().filter(|f| {
        let crosses_box_edge = f.polygons.iter().flatten().any(|r| {
            r.windows(2).any(|seg| {
                corners
                    .windows(2)
                    .any(|edge| proper_crossing(seg[0], seg[1], edge[0], edge[1]))
            })
        });
        let meets = f.vertices().any(inside)
            || crosses_box_edge
            || in_feature([f64::midpoint(w, e), f64::midpoint(s, n)], f) == Some(true);
        meets
            && f.vertices().any(outside)
            && !corners.iter().all(|&c| in_feature(c, f) == Some(true))
    }));
    assert!(overlaps.len() > 5);
    assert_eq!(
        select("lsoa", &format!("S_OVERLAPS(geometry,{bbox})"), "").await,
        overlaps
    );
    // Areas never cross areas.
    assert!(select("lsoa", &format!("S_CROSSES(geometry,{bbox})"), "")
        .await
        .is_empty());

    // Contains a point: the one LSOA around it (even-odd test).
    let p = [-1.2577, 51.7520];
    let around = ids_of(lsoa.iter().filter(|f| in_feature(p, f) == Some(true)));
    assert_eq!(around.len(), 1);
    assert_eq!(
        select(
            "lsoa",
            &format!("S_CONTAINS(geometry,POINT({} {}))", p[0], p[1]),
            ""
        )
        .await,
        around
    );
    assert_eq!(
        select(
            "lsoa",
            &format!("S_INTERSECTS(geometry,POINT({} {}))", p[0], p[1]),
            ""
        )
        .await,
        around
    );
    // A vertex shared by several LSOAs: they touch it, none contains it.
    let first = lsoa.iter().find(|f| f.id == "E01028513").unwrap();
    let v = first.polygons[0][0][0];
    let sharing = ids_of(lsoa.iter().filter(|f| in_feature(v, f).is_none()));
    assert!(sharing.len() >= 2, "{sharing:?}");
    let pt = format!("POINT({} {})", num(v[0]), num(v[1]));
    assert_eq!(
        select("lsoa", &format!("S_TOUCHES(geometry,{pt})"), "").await,
        sharing
    );
    assert!(select("lsoa", &format!("S_CONTAINS(geometry,{pt})"), "")
        .await
        .is_empty());

    // A line across Oxford crosses the LSOAs it enters and leaves: sampled
    // densely, some sample lies inside and some outside.
    let (a, b) = ([-1.30, 51.70], [-1.15, 51.80]);
    let samples: Vec<[f64; 2]> = (0..=4000)
        .map(|i| {
            let t = f64::from(i) / 4000.0;
            [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]
        })
        .collect();
    let crossed = ids_of(lsoa.iter().filter(|f| {
        samples.iter().any(|&q| in_feature(q, f) == Some(true))
            && samples.iter().any(|&q| in_feature(q, f) == Some(false))
    }));
    assert!(crossed.len() > 10);
    let line = format!("LINESTRING({} {},{} {})", a[0], a[1], b[0], b[1]);
    assert_eq!(
        select("lsoa", &format!("S_CROSSES(geometry,{line})"), "").await,
        crossed
    );
    assert_eq!(
        select("lsoa", &format!("S_INTERSECTS(geometry,{line})"), "").await,
        crossed
    );
    // An LSOA equals its own served geometry (when small enough to send).
    let small = lsoa
        .iter()
        .filter(|f| f.polygons.len() == 1 && f.vertices().count() < 300)
        .min_by_key(|f| f.vertices().count())
        .unwrap();
    let rings: Vec<String> = small.polygons[0]
        .iter()
        .map(|r| {
            let pts: Vec<String> = r
                .iter()
                .map(|p| format!("{} {}", num(p[0]), num(p[1])))
                .collect();
            format!("({})", pts.join(","))
        })
        .collect();
    let poly = format!("POLYGON({})", rings.join(","));
    let want: BTreeSet<String> = [small.id.clone()].into();
    assert_eq!(
        select("lsoa", &format!("S_EQUALS(geometry,{poly})"), "").await,
        want
    );
    assert!(select("lsoa", &format!("S_WITHIN(geometry,{poly})"), "")
        .await
        .contains(&small.id));
}

#[tokio::test]
async fn out_of_range_coordinates_are_400s() {
    for f in [
        "S_INTERSECTS(geometry,BBOX(1000000,1000000,2000000,2000000))",
        "S_INTERSECTS(geometry,POINT(90 180))",
        "S_INTERSECTS(geometry,POINT(-181 51))",
        "S_WITHIN(geometry,POLYGON((0 0,1 0,1 91,0 0)))",
        "S_INTERSECTS(geometry,BBOX(-1,52,1,51))",
    ] {
        fast_400_text("assets", f).await;
    }
    let d = fast_400_text("assets", "S_INTERSECTS(geometry,POINT(90 180))").await;
    assert!(d.contains("latitude"), "{d}");
    // British National Grid has its own range.
    let bng = format!("&filter-crs={}", enc(BNG));
    for f in [
        "S_INTERSECTS(geometry,POINT(5000000 200000))",
        "S_INTERSECTS(geometry,BBOX(450000,200000,460000,9000000))",
        "S_INTERSECTS(geometry,BBOX(460000,200000,450000,210000))",
    ] {
        fast_400(&format!("/collections/assets/items?filter={}{bng}", enc(f))).await;
    }
    let ok = select(
        "assets",
        "S_INTERSECTS(geometry,BBOX(450000,200000,460000,210000))",
        &bng,
    )
    .await;
    assert!(!ok.is_empty());
    // Degrees with filter-crs=EPSG:27700 are in range (they are a few metres
    // from the grid's origin, in the sea) and select nothing.
    assert!(
        select("assets", "S_INTERSECTS(geometry,POINT(-1.2 51.7))", &bng)
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn unknown_properties_and_unsupported_operators() {
    for (f, needle) in [
        ("imd_decille < 3", "imd_decille"),
        ("S_INTERSECTS(geom,POINT(1 2))", "geom"),
        ("CASEI(nmae) = 'x'", "nmae"),
        ("name IN ('a', nme)", "nme"),
        (
            "T_AFTER(name,TIMESTAMP('2020-01-01T00:00:00Z'))",
            "temporal",
        ),
        ("ACCENTI(name) = 'x'", "ACCENTI"),
        ("name = 1", "compares"),
        ("residents + 'a' > 1", "numbers"),
        ("geometry = 1", "geometry"),
    ] {
        let d = fast_400_text("lsoa", f).await;
        assert!(d.contains(needle), "{f}: {d}");
    }
    let d = fast_400_text("lsoa", "imd_decile = 1 AND name = 'x' OR").await;
    assert!(d.contains("at byte 32"), "{d}");
}

#[tokio::test]
async fn worst_case_spatial_filters_stay_fast() {
    // The largest literal the limits admit (1,000 vertices: a star-shaped
    // ring over central Oxfordshire), with each relation, on every collection.
    let n = 1000;
    let mut ring: Vec<String> = (0..n - 1)
        .map(|i| {
            let a = f64::from(i) / f64::from(n - 1) * std::f64::consts::TAU;
            let r = if i % 2 == 0 { 0.35 } else { 0.2 };
            // Three decimals keep 1,000 positions within the length limit.
            format!("{:.3} {:.3}", -1.3 + r * a.cos(), 51.8 + r * 0.62 * a.sin())
        })
        .collect();
    ring.push(ring[0].clone());
    let poly = format!("POLYGON(({}))", ring.join(","));
    let _ = common::app_state();
    for collection in ["lsoa", "wards", "districts", "assets"] {
        for op in [
            "S_INTERSECTS",
            "S_CROSSES",
            "S_TOUCHES",
            "S_OVERLAPS",
            "S_WITHIN",
            "S_CONTAINS",
        ] {
            let t = Instant::now();
            let got = select(collection, &format!("{op}(geometry,{poly})"), "").await;
            let took = t.elapsed();
            assert!(
                took < Duration::from_secs(5),
                "{op} on {collection}: {took:?}"
            );
            if op == "S_INTERSECTS" {
                assert!(!got.is_empty(), "{collection}");
            }
        }
        // The most literals allowed, each over the whole county.
        let many: Vec<String> = (0..16)
            .map(|i| {
                format!(
                    "S_TOUCHES(geometry,POLYGON((-1.8 51.4,-0.8 51.4,-1.3 52.{i:02},-1.8 51.4)))"
                )
            })
            .collect();
        let t = Instant::now();
        select(collection, &many.join(" OR "), "").await;
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "16 literals on {collection}: {:?}",
            t.elapsed()
        );
    }
    // One more literal is refused.
    let many: Vec<String> = (0..17)
        .map(|i| format!("S_TOUCHES(geometry,POINT(-1.{i:02} 51.7))"))
        .collect();
    let d = fast_400_text("lsoa", &many.join(" OR ")).await;
    assert!(d.contains("16 geometry literals"), "{d}");
}
