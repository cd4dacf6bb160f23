//! OGC API – Features conformance, in process, against the real Oxfordshire
//! atlas: bbox (antimeridian, ranges), datetime syntax, ring winding and one
//! geometry type per collection, queryables links and types, field
//! descriptions, `sortby`, and link bases behind a reverse proxy. Expected
//! values are computed here from the atlas or from first principles, never
//! from the API's own helpers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::float_cmp,
    clippy::cast_possible_truncation
)] // tests may panic

mod common;

use std::cmp::Ordering;
use std::fmt::Write as _;
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use gapmap::api::ogc::respond::{with_link_base, LinkBase};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    fn header(&self, name: &str) -> String {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

async fn send(
    app: Router,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    peer: Option<&str>,
) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    if !headers.iter().any(|(k, _)| *k == "host") {
        req = req.header("host", "test.local");
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut req = req.body(Body::empty()).unwrap();
    if let Some(p) = peer {
        let addr: SocketAddr = p.parse().unwrap();
        req.extensions_mut().insert(ConnectInfo(addr));
    }
    let response = app.oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn app() -> Router {
    gapmap::api::app(common::app_state())
}

async fn get(uri: &str) -> Reply {
    send(app(), Method::GET, uri, &[], None).await
}

async fn get_ok(uri: &str) -> Value {
    let r = get(uri).await;
    assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
    r.json()
}

fn assert_bad(r: &Reply, parameter: &str, what: &str) {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{what}: {}", r.body);
    let p = r.json();
    assert_eq!(p["parameter"], parameter, "{what}: {p}");
    assert!(
        r.header("content-type")
            .starts_with("application/problem+json"),
        "{what}"
    );
}

async fn collection_ids() -> Vec<String> {
    get_ok("/collections").await["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Every feature of a collection, in one page.
async fn all_features(id: &str, extra: &str) -> Vec<Value> {
    let fc = get_ok(&format!("/collections/{id}/items?limit=10000{extra}")).await;
    assert_eq!(
        fc["numberMatched"], fc["numberReturned"],
        "{id}: one page holds all"
    );
    fc["features"].as_array().unwrap().clone()
}

#[tokio::test]
async fn bbox_crossing_the_antimeridian_is_valid_and_empty_here() {
    for uri in [
        "/collections/lsoa/items?bbox=177,65,-177,70",
        "/collections/assets/items?bbox=170,-10,-170,10",
        // Six numbers, crossing too.
        "/collections/lsoa/items?bbox=177,65,0,-177,70,10",
    ] {
        let fc = get_ok(uri).await;
        assert_eq!(fc["numberMatched"], 0, "{uri}");
        assert_eq!(fc["features"].as_array().unwrap().len(), 0, "{uri}");
    }
    // A crossing box that reaches Oxfordshire on its eastern part
    // (-180..-1.0) finds the LSOAs a plain box over the same part finds.
    let split = get_ok("/collections/lsoa/items?bbox=179,51.70,-1.25,51.76&limit=1000").await;
    let plain = get_ok("/collections/lsoa/items?bbox=-180,51.70,-1.25,51.76&limit=1000").await;
    assert!(plain["numberMatched"].as_u64().unwrap() > 0);
    assert_eq!(split["numberMatched"], plain["numberMatched"]);
}

#[tokio::test]
async fn bbox_out_of_range_is_refused() {
    for (q, what) in [
        ("bbox=-1.5,-95,-1.0,95", "latitudes beyond ±90"),
        (
            "bbox=-1.5,-95,0,-1.0,95,10",
            "six numbers, latitudes beyond ±90",
        ),
        (
            "bbox=-1.5,51,0,-1.0,52,-10",
            "six numbers, heights reversed",
        ),
        ("bbox=-200,51,-1.0,52", "longitude beyond ±180"),
        ("bbox=-1.0,52,-1.5,51", "south above north"),
    ] {
        let r = get(&format!("/collections/lsoa/items?{q}")).await;
        assert_bad(&r, "bbox", what);
    }
    // Small numbers are valid BNG positions (near the false origin): they
    // simply select nothing in Oxfordshire.
    let fc = get_ok("/collections/lsoa/items?bbox=-1.5,51,-1.0,52&bbox-crs=EPSG:27700").await;
    assert_eq!(fc["numberMatched"], 0);
    for q in [
        "bbox=440000,200000,460000,9000000",
        "bbox=-5000000,200000,460000,210000",
        "bbox=460000,200000,440000,210000",
        "bbox=440000,200000,0,460000,9000000,0",
    ] {
        let r = get(&format!("/collections/lsoa/items?{q}&bbox-crs=EPSG:27700")).await;
        assert_bad(&r, "bbox", q);
    }
    // A plausible BNG box over Oxford finds LSOAs.
    let fc = get_ok("/collections/lsoa/items?bbox=450000,205000,452000,207000&bbox-crs=EPSG:27700")
        .await;
    assert!(fc["numberMatched"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn datetime_must_be_rfc3339() {
    let all = get_ok("/collections/lsoa/items?limit=1").await["numberMatched"].clone();
    for bad in [
        "yesterday",
        "2018-02-12T00:00:00Z/2018-13-45",
        "../..",
        "..",
        "2018-02-30",
        "2018-02-12T25:00:00Z",
        "2018-02-12T12:00:00",
        "2018-03-01T00:00:00Z/2018-02-01T00:00:00Z",
    ] {
        let mut q = String::new();
        for b in bad.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                q.push(char::from(b));
            } else {
                write!(q, "%{b:02X}").unwrap();
            }
        }
        let r = get(&format!("/collections/lsoa/items?datetime={q}")).await;
        assert_bad(&r, "datetime", bad);
    }
    for ok in [
        "2018-02-12T23:20:50Z",
        "2018-02-12",
        "2018-02-12T00:00:00Z/..",
        "../2018-03-18T12:31:12Z",
        "2018-02-12T00:00:00%2B01:00/2019-01-01T00:00:00Z",
    ] {
        // No collection has a temporal property: a valid datetime keeps all.
        let fc = get_ok(&format!("/collections/lsoa/items?limit=1&datetime={ok}")).await;
        assert_eq!(fc["numberMatched"], all, "{ok}");
    }
}

/// Twice the signed area of a ring by the shoelace formula: positive when
/// counter-clockwise in its (x, y) plane.
fn ring_area2(ring: &Value) -> f64 {
    let pts: Vec<(f64, f64)> = ring
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
        .collect();
    pts.windows(2)
        .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
        .sum()
}

/// Checks RFC 7946 winding of a MultiPolygon: exteriors counter-clockwise,
/// holes clockwise. Returns the number of rings checked.
fn check_winding(what: &str, geometry: &Value) -> usize {
    assert_eq!(geometry["type"], "MultiPolygon", "{what}: {geometry:.100}");
    let mut rings = 0;
    for polygon in geometry["coordinates"].as_array().unwrap() {
        for (i, ring) in polygon.as_array().unwrap().iter().enumerate() {
            let a = ring_area2(ring);
            if i == 0 {
                assert!(a > 0.0, "{what}: exterior ring is clockwise ({a})");
            } else {
                assert!(a < 0.0, "{what}: hole {i} is counter-clockwise ({a})");
            }
            rings += 1;
        }
    }
    rings
}

#[tokio::test]
async fn polygons_are_wound_and_typed_alike_in_both_crss() {
    let mut holes_seen = 0;
    for id in ["lsoa", "lsoa-2011", "wards", "districts"] {
        let meta = get_ok(&format!("/collections/{id}")).await;
        assert_eq!(meta["geometryType"], "MultiPolygon", "{id}");
        let q = get_ok(&format!("/collections/{id}/queryables")).await;
        assert_eq!(
            q["properties"]["geometry"]["format"], "geometry-multipolygon",
            "{id}"
        );
        for crs in ["", "&crs=http://www.opengis.net/def/crs/EPSG/0/27700"] {
            let features = all_features(id, crs).await;
            assert!(!features.is_empty(), "{id}");
            for f in &features {
                if f["geometry"].is_null() {
                    continue; // wards without a published boundary
                }
                let what = format!("{id} {} {crs}", f["id"]);
                let rings = check_winding(&what, &f["geometry"]);
                holes_seen += rings - f["geometry"]["coordinates"].as_array().unwrap().len();
            }
        }
    }
    // The data have holes (an LSOA enclosing another, say), so the hole rule was exercised.
    assert!(holes_seen > 0);
    // The map's ward boundaries too.
    let r = get("/web/api/boundaries/wards").await;
    assert_eq!(r.status, StatusCode::OK);
    let fc = r.json();
    let features = fc["features"].as_array().unwrap();
    assert!(!features.is_empty());
    for f in features {
        check_winding(&format!("web ward {}", f["properties"]), &f["geometry"]);
    }
    // Point collections say so.
    for id in collection_ids().await {
        if id.starts_with("assets") {
            let meta = get_ok(&format!("/collections/{id}")).await;
            assert_eq!(meta["geometryType"], "Point", "{id}");
            let q = get_ok(&format!("/collections/{id}/queryables")).await;
            assert_eq!(q["properties"]["geometry"]["format"], "geometry-point");
        }
    }
}

#[tokio::test]
async fn the_multipart_lsoa_2011_is_a_multipolygon_like_the_rest() {
    let f = get_ok("/collections/lsoa-2011/items/E01028563").await;
    assert_eq!(f["geometry"]["type"], "MultiPolygon");
    assert!(f["geometry"]["coordinates"].as_array().unwrap().len() > 1);
    let first = get_ok("/collections/lsoa-2011/items?limit=1").await;
    assert_eq!(first["features"][0]["geometry"]["type"], "MultiPolygon");
}

#[tokio::test]
async fn queryables_are_linked_from_collection_items_and_headers() {
    let rel = "http://www.opengis.net/def/rel/ogc/1.0/queryables";
    let want = "http://test.local/collections/lsoa/queryables";
    for uri in ["/collections/lsoa/items", "/collections/lsoa"] {
        let r = send(app(), Method::HEAD, uri, &[], None).await;
        assert_eq!(r.status, StatusCode::OK, "HEAD {uri}");
        let link = r.header("link");
        assert!(
            link.contains(&format!("<{want}>")) && link.contains(&format!("rel=\"{rel}\"")),
            "HEAD {uri}: Link: {link}"
        );
    }
    let fc = get_ok("/collections/lsoa/items?limit=1").await;
    let links = fc["links"].as_array().unwrap();
    assert!(
        links.iter().any(|l| l["rel"] == rel && l["href"] == want),
        "{links:?}"
    );
    let c = get_ok("/collections/lsoa").await;
    assert!(c["links"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["rel"] == rel && l["href"] == want));
}

fn validates(kind: &str, v: &Value) -> bool {
    match kind {
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        _ => false,
    }
}

#[tokio::test]
async fn every_served_property_has_its_queryable_type() {
    let mut checked = 0_usize;
    for id in collection_ids().await {
        let q = get_ok(&format!("/collections/{id}/queryables")).await;
        let schema = q["properties"].as_object().unwrap();
        for f in all_features(&id, "").await {
            for (k, v) in f["properties"].as_object().unwrap() {
                // Null is "not published / not applicable"; objects are not queryable.
                if v.is_null() || v.is_object() || v.is_array() {
                    continue;
                }
                let kind = schema
                    .get(k)
                    .and_then(|s| s["type"].as_str())
                    .unwrap_or_else(|| panic!("{id}: property {k} is not a queryable"));
                assert!(
                    validates(kind, v),
                    "{id} {}: {k} = {v} is not a JSON {kind}",
                    f["id"]
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 10_000, "{checked}");
    // The 2019 deciles, in particular, are integers as in 2025.
    let f = get_ok("/collections/lsoa-2011/items/E01028563").await;
    assert!(
        f["properties"]["imd_decile"].is_u64(),
        "{}",
        f["properties"]
    );
    assert!(f["properties"]["imd_rank"].is_u64());
}

#[tokio::test]
async fn field_descriptions_say_which_way_is_deprived() {
    for id in ["lsoa", "lsoa-2011"] {
        let q = get_ok(&format!("/collections/{id}/queryables")).await;
        let mut n = 0;
        for (k, p) in q["properties"].as_object().unwrap() {
            let title = p["title"].as_str().unwrap();
            if k.ends_with("_score") {
                assert!(
                    title.contains("higher = more deprived"),
                    "{id} {k}: {title}"
                );
                assert!(!title.contains("1 = most deprived"), "{id} {k}: {title}");
                n += 1;
            }
            if k.ends_with("_rank") || k.ends_with("_decile") {
                assert!(title.contains("1 = most deprived"), "{id} {k}: {title}");
            }
        }
        assert!(n >= 14, "{id}: {n} scores");
    }
    // Income and employment scores are rates, per the IoD technical report.
    let q = get_ok("/collections/lsoa/queryables").await;
    let income = q["properties"]["income_score"]["title"].as_str().unwrap();
    assert!(income.contains("proportion"), "{income}");
    let rank = q["properties"]["imd_rank"]["title"].as_str().unwrap();
    assert!(rank.contains("33755"), "{rank}");
    // Roll-up fields of wards are described, not just their key.
    let q = get_ok("/collections/wards/queryables").await;
    let t = q["properties"]["imd_2025_lsoas_top10"]["title"]
        .as_str()
        .unwrap();
    assert!(t.contains("most deprived 10%"), "{t}");
}

fn ids(fc: &Value) -> Vec<String> {
    fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn sortby_orders_and_pages_stably() {
    let atlas = common::atlas();
    let imd = atlas.imd2025.position("imd").unwrap();
    // Expected, from the atlas: IMD score descending, then code; and name
    // ascending, then code.
    let mut by_score: Vec<(Option<f64>, &str)> = atlas
        .lsoa21
        .iter()
        .map(|l| (l.imd.get(imd).and_then(|v| v.score), l.code.as_str()))
        .collect();
    by_score.sort_by(|a, b| match (a.0, b.0) {
        (Some(x), Some(y)) => y.total_cmp(&x).then(a.1.cmp(b.1)),
        (None, None) => a.1.cmp(b.1),
        (None, _) => Ordering::Less,
        (_, None) => Ordering::Greater,
    });
    let want: Vec<String> = by_score.iter().map(|(_, c)| (*c).to_owned()).collect();
    let got = ids(&get_ok("/collections/lsoa/items?limit=1000&sortby=-imd_score").await);
    assert_eq!(got, want);

    let mut by_name: Vec<(&str, &str)> = atlas
        .lsoa21
        .iter()
        .map(|l| (l.name.as_str(), l.code.as_str()))
        .collect();
    by_name.sort_unstable();
    let want: Vec<String> = by_name.iter().map(|(_, c)| (*c).to_owned()).collect();
    // `+` in a query string is a space once decoded; both spellings ascend.
    for s in ["+name", "%2Bname", "name"] {
        let got = ids(&get_ok(&format!("/collections/lsoa/items?limit=1000&sortby={s}")).await);
        assert_eq!(got, want, "{s}");
    }

    // Many ties (district has five values): pages concatenate to the whole,
    // without repeats, and ties come in id order.
    let whole = ids(&get_ok("/collections/lsoa/items?limit=1000&sortby=-district").await);
    let mut paged = Vec::new();
    let mut url = "/collections/lsoa/items?limit=37&sortby=-district".to_owned();
    loop {
        let page = get_ok(&url).await;
        paged.extend(ids(&page));
        let next = page["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "next")
            .map(|l| l["href"].as_str().unwrap().to_owned());
        match next {
            Some(n) => url = n.strip_prefix("http://test.local").unwrap().to_owned(),
            None => break,
        }
    }
    assert_eq!(paged, whole);
    let district: std::collections::HashMap<&str, Option<&str>> = atlas
        .lsoa21
        .iter()
        .map(|l| {
            (
                l.code.as_str(),
                atlas.district_of(l).map(|d| d.code.as_str()),
            )
        })
        .collect();
    // Null sorts after every value (SQL's default), so first when descending:
    // E01027305 has no region district (it is in West Northamptonshire).
    let key = |d: Option<&'static str>| (d.is_none(), d);
    for w in whole.windows(2) {
        let (a, b) = (key(district[w[0].as_str()]), key(district[w[1].as_str()]));
        assert!(a >= b, "descending district");
        if a == b {
            assert!(w[0] < w[1], "ties by id: {} {}", w[0], w[1]);
        }
    }

    // Two keys, and a filter with it.
    let got = ids(&get_ok(
        "/collections/lsoa/items?limit=1000&sortby=district,-imd_score&filter=imd_decile%3C%3D3",
    )
    .await);
    let mut want: Vec<(Option<&str>, Option<f64>, &str)> = atlas
        .lsoa21
        .iter()
        .filter(|l| {
            l.imd
                .get(imd)
                .and_then(|v| v.decile)
                .is_some_and(|d| d <= 3)
        })
        .map(|l| {
            (
                atlas.district_of(l).map(|d| d.code.as_str()),
                l.imd.get(imd).and_then(|v| v.score),
                l.code.as_str(),
            )
        })
        .collect();
    want.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| b.1.unwrap().total_cmp(&a.1.unwrap()))
            .then(a.2.cmp(b.2))
    });
    assert!(!want.is_empty());
    assert_eq!(got, want.iter().map(|w| w.2.to_owned()).collect::<Vec<_>>());

    for bad in ["nonexistent", "-", "name,,code", "geometry"] {
        let r = get(&format!("/collections/lsoa/items?sortby={bad}")).await;
        assert_bad(&r, "sortby", bad);
    }
    // Declared in the API definition.
    let api = get_ok("/api").await;
    assert_eq!(api["components"]["parameters"]["sortby"]["name"], "sortby");
    let params = api["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]
        .as_array()
        .unwrap();
    assert!(params
        .iter()
        .any(|p| p["$ref"] == "#/components/parameters/sortby"));
}

fn hrefs(doc: &Value) -> Vec<String> {
    doc["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["href"].as_str().unwrap().to_owned())
        .filter(|h| !h.contains("nationalarchives") && !h.contains("opendatacommons"))
        .collect()
}

#[tokio::test]
async fn links_behind_a_reverse_proxy() {
    let state = common::app_state();
    let forwarded = [
        ("x-forwarded-host", "maps.example.org"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-prefix", "/gapmap"),
    ];

    // 1. A public URL wins over everything a request says.
    let public = with_link_base(
        gapmap::api::app(state.clone()),
        LinkBase::new(Some("https://public.example.net/atlas/"), &[]).unwrap(),
    );
    let r = send(
        public.clone(),
        Method::GET,
        "/collections/lsoa/items?limit=5",
        &forwarded,
        Some("10.0.0.2:5000"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    for h in hrefs(&r.json()) {
        assert!(
            h.starts_with("https://public.example.net/atlas/collections/lsoa"),
            "{h}"
        );
    }
    assert!(!r.header("vary").contains("Host"), "{}", r.header("vary"));
    assert!(r
        .header("link")
        .contains("<https://public.example.net/atlas/collections/lsoa/queryables>"));

    // 2. A trusted proxy's forwarding headers are used.
    let proxied = with_link_base(
        gapmap::api::app(state.clone()),
        LinkBase::new(None, &["10.0.0.0/8".to_owned(), "::1".to_owned()]).unwrap(),
    );
    let r = send(
        proxied.clone(),
        Method::GET,
        "/collections",
        &forwarded,
        Some("10.1.2.3:4000"),
    )
    .await;
    let links = hrefs(&r.json());
    assert!(
        links.contains(&"https://maps.example.org/gapmap/collections".to_owned()),
        "{links:?}"
    );
    let vary = r.header("vary");
    assert!(
        vary.contains("Host") && vary.contains("X-Forwarded-Host"),
        "{vary}"
    );
    // RFC 7239 Forwarded: the element a client wrote (leftmost) is not believed.
    let r = send(
        proxied.clone(),
        Method::GET,
        "/collections",
        &[(
            "forwarded",
            "host=evil.example;proto=http, for=198.51.100.7;host=maps.example.org;proto=https",
        )],
        Some("[::1]:4000"),
    )
    .await;
    let links = hrefs(&r.json());
    assert!(
        links.contains(&"https://maps.example.org/collections".to_owned()),
        "{links:?}"
    );

    // 3. The same headers from anyone else are ignored: Host, with Vary.
    let r = send(
        proxied.clone(),
        Method::GET,
        "/collections",
        &forwarded,
        Some("203.0.113.9:4000"),
    )
    .await;
    let links = hrefs(&r.json());
    assert!(
        links.contains(&"http://test.local/collections".to_owned()),
        "{links:?}"
    );
    assert!(r.header("vary").contains("Host"));
    // Without the peer address (no ConnectInfo), nobody is trusted.
    let r = send(proxied, Method::GET, "/collections", &forwarded, None).await;
    assert!(hrefs(&r.json()).contains(&"http://test.local/collections".to_owned()));

    // 4. Without the wrapper, forwarding headers and a forged internal
    //    header are ignored; the Host is used and declared in Vary.
    let r = send(
        app(),
        Method::GET,
        "/collections",
        &[
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "evil.example"),
            ("x-gapmap-link-base", "0 p https://evil.example"),
        ],
        None,
    )
    .await;
    let links = hrefs(&r.json());
    assert!(
        links.contains(&"http://test.local/collections".to_owned()),
        "{links:?}"
    );
    assert!(r.header("vary").contains("Host"), "{}", r.header("vary"));
    // A Host that is not a host never reaches a link.
    let r = send(
        app(),
        Method::GET,
        "/collections",
        &[("host", "evil.example/phish?")],
        None,
    )
    .await;
    assert!(hrefs(&r.json()).iter().all(|h| !h.contains("evil")));

    // Bad configurations are refused at start-up.
    assert!(LinkBase::new(Some("ftp://x.example"), &[]).is_err());
    assert!(LinkBase::new(Some("https://x.example/a?b"), &[]).is_err());
    assert!(LinkBase::new(None, &["10.0.0.0/33".to_owned()]).is_err());
    assert!(LinkBase::new(None, &["proxy.local".to_owned()]).is_err());
}
