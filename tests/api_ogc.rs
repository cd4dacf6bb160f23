//! OGC API – Features in process: every endpoint, checked against selections
//! computed independently from the real Oxfordshire atlas.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::float_cmp,
    clippy::cast_possible_truncation
)] // tests may panic; counts are small

mod common;

use std::collections::BTreeSet;
use std::fmt::Write as _;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use gapmap::atlas::Lsoa21;
use geo::{Intersects, Rect};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

const OXFORD: &str = "E07000178";

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn ctype(&self) -> &str {
        self.headers
            .get("content-type")
            .map_or("", |v| v.to_str().unwrap())
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

async fn request(uri: &str, headers: &[(&str, &str)]) -> Reply {
    let app = gapmap::api::app(common::app_state());
    let mut req = Request::builder().uri(uri).header("host", "test.local");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let response = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

async fn get(uri: &str) -> Reply {
    request(uri, &[]).await
}

async fn get_ok(uri: &str) -> Value {
    let r = get(uri).await;
    assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
    r.json()
}

fn ids(fc: &Value) -> Vec<String> {
    fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect()
}

fn link<'a>(doc: &'a Value, rel: &str) -> Option<&'a str> {
    doc["links"]
        .as_array()?
        .iter()
        .find(|l| l["rel"] == rel)
        .and_then(|l| l["href"].as_str())
}

/// Path and query of an absolute link, for the in-process router.
fn local(href: &str) -> String {
    href.strip_prefix("http://test.local")
        .unwrap_or_else(|| panic!("link not on this host: {href}"))
        .to_owned()
}

fn imd_decile(l: &Lsoa21) -> Option<u8> {
    let state = common::app_state().snapshot();
    let k = state.atlas.imd2025.position("imd").unwrap();
    l.imd.get(k).and_then(|v| v.decile)
}

async fn assert_problem(uri: &str, status: StatusCode, parameter: Option<&str>) -> Value {
    let r = get(uri).await;
    assert_eq!(r.status, status, "{uri}: {}", r.body);
    assert_eq!(r.ctype(), "application/problem+json", "{uri}");
    let p = r.json();
    assert_eq!(p["status"], status.as_u16());
    if let Some(name) = parameter {
        assert_eq!(p["parameter"], name, "{uri}: {p}");
        assert!(p["detail"].as_str().unwrap().contains(name), "{p}");
    }
    p
}

#[tokio::test]
async fn landing_page_links_and_credits() {
    let r = get("/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.ctype().starts_with("application/json"), "{}", r.ctype());
    let doc = r.json();
    assert_eq!(link(&doc, "self"), Some("http://test.local/"));
    assert_eq!(link(&doc, "service-desc"), Some("http://test.local/api"));
    assert_eq!(
        link(&doc, "conformance"),
        Some("http://test.local/conformance")
    );
    assert_eq!(link(&doc, "data"), Some("http://test.local/collections"));
    assert!(doc["title"].as_str().unwrap().contains("Oxfordshire"));
    let attribution = doc["attribution"].as_str().unwrap();
    assert!(
        attribution.contains("Open Government Licence"),
        "{attribution}"
    );
    assert!(attribution.contains("Give Food"), "{attribution}");
    let state = common::app_state().snapshot();
    let n_sources = state.atlas.sources.len() + state.atlas.area_sources.len();
    assert_eq!(doc["sources"].as_array().unwrap().len(), n_sources);
    assert!(doc["links"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["rel"] == "license"));

    let html = request("/", &[("accept", "text/html,application/xhtml+xml;q=0.9")]).await;
    assert_eq!(html.status, StatusCode::OK);
    assert!(html.ctype().starts_with("text/html"));
    // Same URL, other answer by Accept: caches must know.
    assert!(html.headers.get_all("vary").iter().any(|v| v
        .to_str()
        .unwrap()
        .to_ascii_lowercase()
        .contains("accept")));
    // A browser gets the map; `f=html` the OGC landing page.
    let f = get("/?f=html").await;
    assert!(f.ctype().starts_with("text/html"));
    assert!(
        f.body.contains("http://test.local/collections"),
        "{}",
        f.body
    );
    assert_ne!(f.body, html.body);
    assert_problem("/?f=xml", StatusCode::BAD_REQUEST, Some("f")).await;
}

#[tokio::test]
async fn conformance_and_openapi() {
    let doc = get_ok("/conformance").await;
    let classes: Vec<&str> = doc["conformsTo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for c in [
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    ] {
        assert!(classes.contains(&c), "missing {c}");
    }
    let r = get("/api").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.ctype().contains("openapi"), "{}", r.ctype());
    let api = r.json();
    assert!(api["openapi"].as_str().unwrap().starts_with("3.0"));
    for path in [
        "/",
        "/conformance",
        "/api",
        "/collections",
        "/collections/{collectionId}",
        "/collections/{collectionId}/items",
        "/collections/{collectionId}/items/{featureId}",
        "/collections/{collectionId}/queryables",
        "/collections/lsoa/items",
    ] {
        assert!(
            api["paths"][path]["get"]["responses"]["200"].is_object(),
            "path {path}"
        );
    }
    assert_eq!(
        api["components"]["parameters"]["limit"]["schema"]["maximum"],
        10_000
    );
    let lsoa_params = api["paths"]["/collections/lsoa/items"]["get"]["parameters"]
        .as_array()
        .unwrap();
    assert!(lsoa_params
        .iter()
        .any(|p| p["name"] == "imd_decile" && p["schema"]["type"] == "integer"));
}

#[tokio::test]
async fn collections_list_every_collection_with_extent_and_crs() {
    let state = common::app_state().snapshot();
    let atlas = &state.atlas;
    let doc = get_ok("/collections").await;
    let list = doc["collections"].as_array().unwrap();
    let got: BTreeSet<&str> = list.iter().map(|c| c["id"].as_str().unwrap()).collect();
    let mut want: BTreeSet<String> = ["lsoa", "lsoa-2011", "wards", "districts", "assets"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    want.extend(atlas.categories.iter().map(|c| format!("assets-{}", c.id)));
    assert_eq!(got, want.iter().map(String::as_str).collect());
    assert!(got.contains("assets-park"));

    let lsoa = get_ok("/collections/lsoa").await;
    // Extent = union of the LSOA polygons' CRS84 bounding boxes, computed here.
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for l in atlas.lsoa21.iter() {
        let b = l.geometry.lonlat_bbox;
        x0 = x0.min(b.min().x);
        y0 = y0.min(b.min().y);
        x1 = x1.max(b.max().x);
        y1 = y1.max(b.max().y);
    }
    let bbox: Vec<f64> = lsoa["extent"]["spatial"]["bbox"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    for (a, b) in bbox.iter().zip([x0, y0, x1, y1]) {
        assert!((a - b).abs() < 1e-9, "{bbox:?}");
    }
    assert!(
        (-1.8..-0.8).contains(&x0) && (51.4..52.2).contains(&y1),
        "Oxfordshire extent {bbox:?}"
    );
    assert_eq!(
        lsoa["extent"]["spatial"]["crs"],
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    );
    assert_eq!(
        lsoa["storageCrs"],
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    );
    let crs: Vec<&str> = lsoa["crs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(crs.contains(&"http://www.opengis.net/def/crs/EPSG/0/27700"));
    assert!(lsoa["attribution"]
        .as_str()
        .unwrap()
        .contains("Indices of Deprivation 2025"));
    assert!(lsoa["description"].as_str().unwrap().contains("OGL-UK-3.0"));
    assert!(lsoa["links"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["rel"] == "license"));
    assert_eq!(
        link(&lsoa, "items"),
        Some("http://test.local/collections/lsoa/items")
    );

    let osm = get_ok("/collections/assets-park").await;
    assert!(
        osm["attribution"]
            .as_str()
            .unwrap()
            .contains("OpenStreetMap"),
        "{}",
        osm["attribution"]
    );
}

#[tokio::test]
async fn items_default_page_and_headers() {
    let r = get("/collections/lsoa/items").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.ctype(), "application/geo+json");
    assert_eq!(
        r.headers.get("content-crs").unwrap(),
        "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    );
    assert_eq!(
        r.headers.get("cache-control").unwrap(),
        "public, max-age=3600"
    );
    let fc = r.json();
    assert_eq!(fc["type"], "FeatureCollection");
    assert_eq!(fc["numberMatched"], 429);
    assert_eq!(fc["numberReturned"], 100);
    assert_eq!(fc["features"].as_array().unwrap().len(), 100);
    let ts = fc["timeStamp"].as_str().unwrap();
    assert!(
        ts.len() == 20 && ts.ends_with('Z') && ts.as_bytes()[10] == b'T',
        "{ts}"
    );
    assert_eq!(
        link(&fc, "next"),
        Some("http://test.local/collections/lsoa/items?offset=100")
    );
    assert!(link(&fc, "prev").is_none());

    // The feature's properties come from the atlas.
    let state = common::app_state().snapshot();
    let (_, l) = state.atlas.lsoa21_by_code("E01028513").unwrap();
    let f = get_ok("/collections/lsoa/items/E01028513").await;
    assert_eq!(f["id"], "E01028513");
    assert_eq!(f["properties"]["name"], l.name.as_str());
    assert_eq!(f["properties"]["residents"], l.residents.unwrap());
    assert_eq!(
        f["properties"]["imd_decile"].as_u64().map(|d| d as u8),
        imd_decile(l)
    );
    assert_eq!(
        f["properties"]["district"],
        state.atlas.district_of(l).unwrap().code.as_str()
    );
    assert_eq!(
        f["properties"]["ward_name"],
        state.atlas.ward_of(l).unwrap().name.as_str()
    );
    for ind in &state.atlas.imd2025.indicators {
        for part in ["decile", "rank", "score"] {
            assert!(
                f["properties"].get(format!("{}_{part}", ind.id)).is_some(),
                "{}_{part}",
                ind.id
            );
        }
    }
    let k = state.atlas.imd2025.position("health").unwrap();
    assert_eq!(
        f["properties"]["health_rank"].as_u64(),
        l.imd[k].rank.map(u64::from)
    );

    // Properties of the other collections.
    let w = get_ok("/collections/wards/items?limit=1000").await;
    assert_eq!(
        w["numberMatched"].as_u64().unwrap() as usize,
        state.atlas.wards.len()
    );
    assert_eq!(state.atlas.wards.len(), 112); // with Holywell, which no LSOA best-fits (issue 13)
    let d = get_ok("/collections/districts/items").await;
    assert_eq!(
        ids(&d),
        state
            .atlas
            .districts
            .iter()
            .map(|d| d.code.clone())
            .collect::<Vec<_>>()
    );
    let oxford = d["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == OXFORD)
        .unwrap();
    assert_eq!(oxford["properties"]["name"], "Oxford");
    let (_, dist) = state.atlas.district_by_code(OXFORD).unwrap();
    let residents: u32 = dist
        .lsoas
        .iter()
        .filter_map(|&i| state.atlas.lsoa21[i as usize].residents)
        .sum();
    assert_eq!(oxford["properties"]["residents"], residents);
    let old = get_ok("/collections/lsoa-2011/items?limit=1").await;
    assert_eq!(old["numberMatched"], 407);
    assert!(old["features"][0]["properties"]
        .get("idaci_score")
        .is_some());
    assert!(old["features"][0]["properties"]
        .get("population_2015")
        .is_some());
}

/// Oxfordshire's one merged 2021 LSOA carries IMD 2019 from its two 2011
/// parents (ONS lookup): the larger parent's decile and rank, the mid-2015
/// population-weighted score, checked against the decile that score falls
/// in. Expected values straight from the published files.
#[tokio::test]
async fn lsoa_items_carry_imd_2019_with_the_merged_check() {
    let decile_rows = common::csv_rows("deprivation/imd2019_lsoa11.csv");
    let score_rows = common::csv_rows("deprivation/imd2019_lsoa11_scores.csv");
    let row = |code: &str| {
        let d = decile_rows
            .iter()
            .find(|r| r["lsoa11_code"] == code)
            .unwrap();
        let s = score_rows.iter().find(|r| r["LSOA11CD"] == code).unwrap();
        let n = |v: &str| v.parse::<f64>().unwrap();
        (
            n(&d["IMD_decile"]),
            n(&d["IMD_rank"]),
            n(&s["IMD"]),
            n(&s["Population (Total)"]),
        )
    };
    let (a, b) = (row("E01028583"), row("E01028585"));
    let larger = if a.3 >= b.3 { a } else { b };
    let score = (a.2 * a.3 + b.2 * b.3) / (a.3 + b.3);
    let p = &get_ok("/collections/lsoa/items/E01035740").await["properties"];
    assert_eq!(p["imd_2019_link"], "merged");
    assert_eq!(p["imd_decile_2019"].as_f64(), Some(larger.0));
    assert_eq!(p["imd_rank_2019"].as_f64(), Some(larger.1));
    assert!((p["imd_score_2019"].as_f64().unwrap() - score).abs() < 1e-9);
    // 6.173 lies in decile 9's published score range, as the larger parent's decile.
    assert_eq!(format!("{score:.3}"), "6.173");
    assert_eq!(p["imd_score_decile_2019"], 9);
    assert_eq!(p["imd_decile_2019_disagrees"], false);

    // An unchanged LSOA: its 2011 self's values, which agree by construction.
    let (d, r, s, _) = row("E01028513");
    let p = &get_ok("/collections/lsoa/items/E01028513").await["properties"];
    assert_eq!(p["imd_2019_link"], "unchanged");
    assert_eq!(p["imd_decile_2019"].as_f64(), Some(d));
    assert_eq!(p["imd_rank_2019"].as_f64(), Some(r));
    assert_eq!(p["imd_score_2019"].as_f64(), Some(s));
    assert_eq!(p["imd_score_decile_2019"].as_f64(), Some(d));
    assert_eq!(p["imd_decile_2019_disagrees"], false);
}

#[tokio::test]
async fn paging_returns_every_lsoa_exactly_once() {
    let state = common::app_state().snapshot();
    let mut seen: Vec<String> = Vec::new();
    let mut next = Some("/collections/lsoa/items?limit=50".to_owned());
    let mut pages = 0;
    while let Some(uri) = next {
        let fc = get_ok(&uri).await;
        assert_eq!(fc["numberMatched"], 429);
        let page = ids(&fc);
        assert_eq!(fc["numberReturned"].as_u64().unwrap() as usize, page.len());
        assert!(page.len() <= 50);
        if pages > 0 {
            assert!(link(&fc, "prev").is_some());
        }
        seen.extend(page);
        next = link(&fc, "next").map(local);
        if let Some(n) = &next {
            assert!(n.contains("limit=50"), "params kept: {n}");
        }
        pages += 1;
        assert!(pages < 20);
    }
    assert_eq!(pages, 9);
    assert_eq!(seen.len(), 429);
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 429);
    let want: BTreeSet<&String> = state.atlas.lsoa21.iter().map(|l| &l.code).collect();
    assert_eq!(unique, want);

    let past = get_ok("/collections/lsoa/items?offset=1000").await;
    assert_eq!(past["numberReturned"], 0);
    assert_eq!(past["numberMatched"], 429);
    // Larger limits are clamped, not refused.
    let all = get_ok("/collections/lsoa/items?limit=20000&properties=code").await;
    assert_eq!(all["numberReturned"], 429);
    assert!(link(&all, "next").is_none());
}

fn blackbird_leys() -> Rect<f64> {
    Rect::new((-1.215, 51.705), (-1.185, 51.725))
}

fn expected_in(rect: Rect<f64>) -> BTreeSet<String> {
    let state = common::app_state().snapshot();
    state
        .atlas
        .lsoa21
        .iter()
        .filter(|l| l.geometry.lonlat.intersects(&rect))
        .map(|l| l.code.clone())
        .collect()
}

#[tokio::test]
async fn bbox_selects_intersecting_lsoas() {
    let want = expected_in(blackbird_leys());
    assert!(
        want.len() >= 5,
        "Blackbird Leys area should hold several LSOAs: {want:?}"
    );
    let fc = get_ok("/collections/lsoa/items?bbox=-1.215,51.705,-1.185,51.725&limit=1000").await;
    let got: BTreeSet<String> = ids(&fc).into_iter().collect();
    assert_eq!(got, want);
    assert_eq!(fc["numberMatched"].as_u64().unwrap() as usize, want.len());

    // The same box as a CQL2 polygon, and as a BBOX function.
    let poly = "S_INTERSECTS(geometry,POLYGON((-1.215 51.705,-1.185 51.705,-1.185 51.725,-1.215 51.725,-1.215 51.705)))";
    let fc = get_ok(&format!(
        "/collections/lsoa/items?limit=1000&filter={}",
        enc(poly)
    ))
    .await;
    assert_eq!(ids(&fc).into_iter().collect::<BTreeSet<_>>(), want);
    let bbox_fn = "S_INTERSECTS(geometry, BBOX(-1.215,51.705,-1.185,51.725))";
    let fc = get_ok(&format!(
        "/collections/lsoa/items?limit=1000&filter={}",
        enc(bbox_fn)
    ))
    .await;
    assert_eq!(ids(&fc).into_iter().collect::<BTreeSet<_>>(), want);

    // bbox in British National Grid: compare with the atlas's BNG polygons.
    let state = common::app_state().snapshot();
    let bng = Rect::new((452_000.0, 203_000.0), (455_000.0, 205_500.0));
    let want_bng: BTreeSet<String> = state
        .atlas
        .lsoa21
        .iter()
        .filter(|l| l.geometry.bng.intersects(&bng))
        .map(|l| l.code.clone())
        .collect();
    assert!(!want_bng.is_empty());
    let fc = get_ok(
        "/collections/lsoa/items?bbox=452000,203000,455000,205500&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/27700&limit=1000",
    )
    .await;
    assert_eq!(ids(&fc).into_iter().collect::<BTreeSet<_>>(), want_bng);

    // Assets in a box are the atlas points inside it.
    let rect = Rect::new((-1.27, 51.74), (-1.23, 51.77));
    let want_assets: BTreeSet<String> = state
        .atlas
        .assets
        .iter()
        .filter(|a| a.location.lonlat.intersects(&rect))
        .map(|a| a.id.clone())
        .collect();
    assert!(want_assets.len() > 20);
    let fc = get_ok("/collections/assets/items?bbox=-1.27,51.74,-1.23,51.77&limit=10000").await;
    assert_eq!(ids(&fc).into_iter().collect::<BTreeSet<_>>(), want_assets);
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

#[tokio::test]
async fn cql2_filters_match_hand_selection() {
    let state = common::app_state().snapshot();
    let atlas = &state.atlas;
    let want: BTreeSet<String> = atlas
        .lsoa21
        .iter()
        .filter(|l| {
            imd_decile(l).is_some_and(|d| d <= 2)
                && atlas.district_of(l).is_some_and(|d| d.code == OXFORD)
        })
        .map(|l| l.code.clone())
        .collect();
    assert!(!want.is_empty());
    let q = enc("imd_decile <= 2 AND district = 'E07000178'");
    let fc = get_ok(&format!("/collections/lsoa/items?limit=1000&filter={q}")).await;
    assert_eq!(ids(&fc).into_iter().collect::<BTreeSet<_>>(), want);
    // Explicit filter-lang, and the JSON encoding of the same filter.
    let fc = get_ok(&format!(
        "/collections/lsoa/items?limit=1000&filter-lang=cql2-text&filter={q}"
    ))
    .await;
    assert_eq!(ids(&fc).len(), want.len());
    let json = r#"{"op":"and","args":[{"op":"<=","args":[{"property":"imd_decile"},2]},{"op":"=","args":[{"property":"district"},"E07000178"]}]}"#;
    let fc = get_ok(&format!(
        "/collections/lsoa/items?limit=1000&filter-lang=cql2-json&filter={}",
        enc(json)
    ))
    .await;
    assert_eq!(ids(&fc).into_iter().collect::<BTreeSet<_>>(), want);

    // The same selection as equality parameters plus a filter.
    let eq: BTreeSet<String> = atlas
        .lsoa21
        .iter()
        .filter(|l| {
            imd_decile(l) == Some(1) && atlas.district_of(l).is_some_and(|d| d.code == OXFORD)
        })
        .map(|l| l.code.clone())
        .collect();
    let fc = get_ok("/collections/lsoa/items?district=E07000178&imd_decile=1&limit=1000").await;
    assert_eq!(ids(&fc).into_iter().collect::<BTreeSet<_>>(), eq);

    // IN, BETWEEN, NOT, LIKE, IS NULL, CASEI.
    let between: BTreeSet<String> = atlas
        .lsoa21
        .iter()
        .filter(|l| {
            imd_decile(l).is_some_and(|d| (3..=4).contains(&d))
                && atlas.district_of(l).is_none_or(|d| d.code != OXFORD)
        })
        .map(|l| l.code.clone())
        .collect();
    let q = enc("imd_decile BETWEEN 3 AND 4 AND NOT district IN ('E07000178')");
    let fc = get_ok(&format!("/collections/lsoa/items?limit=1000&filter={q}")).await;
    assert_eq!(ids(&fc).into_iter().collect::<BTreeSet<_>>(), between);

    let like: BTreeSet<String> = atlas
        .lsoa21
        .iter()
        .filter(|l| l.name.starts_with("Cherwell 01"))
        .map(|l| l.code.clone())
        .collect();
    assert!(!like.is_empty());
    let fc = get_ok(&format!(
        "/collections/lsoa/items?limit=1000&filter={}",
        enc("name LIKE 'Cherwell 01%'")
    ))
    .await;
    assert_eq!(ids(&fc).into_iter().collect::<BTreeSet<_>>(), like);
    let fc = get_ok(&format!(
        "/collections/lsoa/items?limit=1000&filter={}",
        enc("CASEI(name) LIKE CASEI('cherwell 01%')")
    ))
    .await;
    assert_eq!(ids(&fc).into_iter().collect::<BTreeSet<_>>(), like);

    let libraries = atlas
        .assets
        .iter()
        .filter(|a| atlas.categories[usize::from(a.category)].id == "library")
        .count();
    let no_postcode = atlas
        .assets
        .iter()
        .filter(|a| {
            atlas.categories[usize::from(a.category)].id == "library" && a.postcode.is_none()
        })
        .count();
    let fc = get_ok("/collections/assets/items?category=library&limit=1000").await;
    assert_eq!(fc["numberMatched"].as_u64().unwrap() as usize, libraries);
    let fc = get_ok(&format!(
        "/collections/assets/items?category=library&limit=1000&filter={}",
        enc("postcode IS NULL")
    ))
    .await;
    assert_eq!(fc["numberMatched"].as_u64().unwrap() as usize, no_postcode);
    let fc = get_ok("/collections/assets-library/items?limit=1000").await;
    assert_eq!(fc["numberMatched"].as_u64().unwrap() as usize, libraries);
    let outside = atlas.assets.iter().filter(|a| !a.in_region).count();
    let fc = get_ok("/collections/assets/items?in_region=false&limit=10000").await;
    assert_eq!(fc["numberMatched"].as_u64().unwrap() as usize, outside);
    assert!(outside > 0);

    // Errors name the parameter.
    let p = assert_problem(
        &format!("/collections/lsoa/items?filter={}", enc("imd_decille < 3")),
        StatusCode::BAD_REQUEST,
        Some("filter"),
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("imd_decille"), "{p}");
    assert_problem(
        &format!("/collections/lsoa/items?filter={}", enc("imd_decile <")),
        StatusCode::BAD_REQUEST,
        Some("filter"),
    )
    .await;
    assert_problem(
        &format!("/collections/lsoa/items?filter={}", enc("imd_decile = 'x'")),
        StatusCode::BAD_REQUEST,
        Some("filter"),
    )
    .await;
    assert_problem(
        "/collections/lsoa/items?filter=x&filter-lang=ecql",
        StatusCode::BAD_REQUEST,
        Some("filter-lang"),
    )
    .await;
    assert_problem(
        "/collections/lsoa/items?imd_decile=one",
        StatusCode::BAD_REQUEST,
        Some("imd_decile"),
    )
    .await;
}

#[tokio::test]
async fn bng_output_matches_gdal_transform() {
    use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
    let state = common::app_state().snapshot();
    let (_, l) = state.atlas.lsoa21_by_code("E01028513").unwrap();
    let mut from = SpatialRef::from_epsg(4326).unwrap();
    from.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    let mut to = SpatialRef::from_epsg(27700).unwrap();
    to.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    let ct = CoordTransform::new(&from, &to).unwrap();
    let ring = &l.geometry.lonlat.0[0].exterior().0;
    let mut xs: Vec<f64> = ring.iter().map(|c| c.x).collect();
    let mut ys: Vec<f64> = ring.iter().map(|c| c.y).collect();
    ct.transform_coords(&mut xs, &mut ys, &mut []).unwrap();

    let r =
        get("/collections/lsoa/items/E01028513?crs=http://www.opengis.net/def/crs/EPSG/0/27700")
            .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.headers.get("content-crs").unwrap(),
        "<http://www.opengis.net/def/crs/EPSG/0/27700>"
    );
    let f = r.json();
    let coords = match f["geometry"]["type"].as_str().unwrap() {
        "Polygon" => f["geometry"]["coordinates"][0].clone(),
        _ => f["geometry"]["coordinates"][0][0].clone(),
    };
    let coords = coords.as_array().unwrap();
    assert_eq!(coords.len(), xs.len());
    for (c, (x, y)) in coords.iter().zip(xs.iter().zip(&ys)) {
        let (e, n) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
        assert!(
            (e - x).abs() < 0.01 && (n - y).abs() < 0.01,
            "({e},{n}) vs ({x},{y})"
        );
        assert!(
            (440_000.0..470_000.0).contains(&e) && (195_000.0..215_000.0).contains(&n),
            "Oxford in BNG: {e},{n}"
        );
    }
    // Items in BNG say so too.
    let r = get("/collections/lsoa/items?limit=1&crs=EPSG:27700").await;
    assert_eq!(
        r.headers.get("content-crs").unwrap(),
        "<http://www.opengis.net/def/crs/EPSG/0/27700>"
    );
    assert_problem(
        "/collections/lsoa/items?crs=EPSG:4326x",
        StatusCode::BAD_REQUEST,
        Some("crs"),
    )
    .await;
}

#[tokio::test]
async fn properties_parameter_selects_fields() {
    // A repeated name is written once (a short URL must not multiply the answer).
    let once = get("/collections/lsoa/items?limit=1&properties=code,imd_decile,code,code").await;
    assert_eq!(once.body.matches("\"code\":").count(), 1, "{}", once.body);
    let fc = get_ok("/collections/lsoa/items?limit=3&properties=code,imd_decile").await;
    for f in fc["features"].as_array().unwrap() {
        let keys: Vec<&String> = f["properties"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["code", "imd_decile"]);
    }
    assert!(link(&fc, "next")
        .unwrap()
        .contains("properties=code,imd_decile"));
    assert_problem(
        "/collections/lsoa/items?properties=code,nope",
        StatusCode::BAD_REQUEST,
        Some("properties"),
    )
    .await;
}

#[tokio::test]
async fn queryables_schema() {
    let r = get("/collections/lsoa/queryables").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.ctype(), "application/schema+json");
    let q = r.json();
    assert!(q["$schema"].as_str().unwrap().contains("json-schema.org"));
    assert_eq!(q["$id"], "http://test.local/collections/lsoa/queryables");
    assert_eq!(q["type"], "object");
    assert_eq!(q["properties"]["imd_decile"]["type"], "integer");
    assert_eq!(q["properties"]["imd_score"]["type"], "number");
    assert_eq!(q["properties"]["name"]["type"], "string");
    // The collection's one geometry type (Part 3), no longer the wildcard.
    assert_eq!(
        q["properties"]["geometry"]["format"],
        "geometry-multipolygon"
    );
    let a = get_ok("/collections/assets/queryables").await;
    assert_eq!(a["properties"]["in_region"]["type"], "boolean");
}

#[tokio::test]
async fn errors_are_problem_documents() {
    assert_problem(
        "/collections/lsoa/items?foo=1",
        StatusCode::BAD_REQUEST,
        Some("foo"),
    )
    .await;
    assert_problem("/collections?foo=1", StatusCode::BAD_REQUEST, Some("foo")).await;
    assert_problem(
        "/collections/lsoa/items?bbox=1,2,3",
        StatusCode::BAD_REQUEST,
        Some("bbox"),
    )
    .await;
    assert_problem(
        "/collections/lsoa/items?bbox=a,b,c,d",
        StatusCode::BAD_REQUEST,
        Some("bbox"),
    )
    .await;
    // Reversed corners: south above north. (West above east is no longer
    // an error in CRS84: it crosses the antimeridian, OGC API - Features
    // 1.0 §7.15.3; see tests/ogc_conformance.rs.)
    assert_problem(
        "/collections/lsoa/items?bbox=1,4,3,2",
        StatusCode::BAD_REQUEST,
        Some("bbox"),
    )
    .await;
    assert_problem(
        "/collections/lsoa/items?limit=0",
        StatusCode::BAD_REQUEST,
        Some("limit"),
    )
    .await;
    assert_problem(
        "/collections/lsoa/items?limit=-5",
        StatusCode::BAD_REQUEST,
        Some("limit"),
    )
    .await;
    assert_problem(
        "/collections/lsoa/items?limit=ten",
        StatusCode::BAD_REQUEST,
        Some("limit"),
    )
    .await;
    assert_problem(
        "/collections/lsoa/items?offset=-1",
        StatusCode::BAD_REQUEST,
        Some("offset"),
    )
    .await;
    assert_problem(
        "/collections/lsoa/items?limit=1&limit=2",
        StatusCode::BAD_REQUEST,
        Some("limit"),
    )
    .await;
    assert_problem(
        "/collections/lsoa/items?bbox-crs=EPSG:27700",
        StatusCode::BAD_REQUEST,
        Some("bbox-crs"),
    )
    .await;
    assert_problem(
        "/collections/lsoa/items/E01028513?limit=1",
        StatusCode::BAD_REQUEST,
        Some("limit"),
    )
    .await;
    let p = assert_problem("/collections/nope", StatusCode::NOT_FOUND, None).await;
    assert!(p["detail"].as_str().unwrap().contains("nope"));
    assert_problem("/collections/nope/items", StatusCode::NOT_FOUND, None).await;
    assert_problem("/collections/nope/queryables", StatusCode::NOT_FOUND, None).await;
    assert_problem(
        "/collections/lsoa/items/E99999999",
        StatusCode::NOT_FOUND,
        None,
    )
    .await;
    assert_problem("/no/such/path", StatusCode::NOT_FOUND, None).await;
    // Malformed input never 500s.
    for uri in [
        "/collections/lsoa/items?filter=%FF%FE",
        "/collections/lsoa/items?filter=S_INTERSECTS(geometry,POLYGON((1 2, 3)))",
        "/collections/lsoa/items?filter=S_INTERSECTS(name,POINT(1 2))",
        "/collections/lsoa/items?filter=((((((",
        "/collections/lsoa/items?bbox=1e400,0,1,1",
        "/collections/lsoa/items?limit=99999999999999999999999",
        "/collections/lsoa/items?filter=T_AFTER(name,TIMESTAMP('2020-01-01T00:00:00Z'))",
    ] {
        let r = get(&uri.replace(' ', "%20")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}: {}", r.body);
    }
}

#[tokio::test]
async fn etag_gives_304() {
    let r = get("/collections/lsoa/items?limit=5").await;
    let etag = r.headers.get("etag").unwrap().to_str().unwrap().to_owned();
    let again = request(
        "/collections/lsoa/items?limit=5",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    let other = request(
        "/collections/lsoa/items?limit=6",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(other.status, StatusCode::OK);
    let meta = get("/collections").await;
    let etag = meta
        .headers
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let again = request("/collections", &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn compression_and_cors() {
    let r = request(
        "/collections/lsoa/items?limit=50",
        &[
            ("accept-encoding", "gzip"),
            ("origin", "http://example.org"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers.get("content-encoding").unwrap(), "gzip");
    assert_eq!(r.headers.get("access-control-allow-origin").unwrap(), "*");
    let r = request("/collections", &[("accept-encoding", "br")]).await;
    assert_eq!(r.headers.get("content-encoding").unwrap(), "br");
}

#[tokio::test]
async fn html_encodings() {
    for uri in [
        "/collections?f=html",
        "/collections/lsoa?f=html",
        "/collections/lsoa/items?f=html&limit=5",
        "/collections/lsoa/items/E01028513?f=html",
        "/conformance?f=html",
    ] {
        let r = get(uri).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}");
        assert!(r.ctype().starts_with("text/html"), "{uri}");
        assert!(r.body.starts_with("<!doctype html>"));
    }
    let r = get("/collections/lsoa/items/E01028513?f=html").await;
    assert!(r.body.contains("E01028513"));
}

/// The planner's roll-ups appear, value for value, on ward and district features
/// (except where a roll-up key clashes with one of the collection's own properties).
#[tokio::test]
async fn wards_and_districts_carry_planner_rollups() {
    let state = common::app_state().snapshot();
    let own_ward = [
        "code",
        "name",
        "district",
        "district_name",
        "lsoa_count",
        "residents",
        "boundary_note",
    ];
    let wards = get_ok("/collections/wards/items?limit=1000").await;
    let mut checked = 0;
    for (i, w) in state.atlas.wards.iter().enumerate() {
        let extra = state.results.ward_properties(u32::try_from(i).unwrap());
        let f = wards["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == w.code.as_str())
            .unwrap();
        assert_eq!(f["properties"]["name"], w.name.as_str());
        for (k, v) in &extra {
            if own_ward.contains(&k.as_str()) {
                continue;
            }
            let got = &f["properties"][k.as_str()];
            match (got.as_f64(), v.as_f64()) {
                (Some(a), Some(b)) => assert!(
                    (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                    "{} {k}: {a} vs {b}",
                    w.code
                ),
                _ => assert_eq!(got, v, "{} {k}", w.code),
            }
            checked += 1;
        }
    }
    assert!(checked > 0, "the planner gives ward roll-ups");
    let districts = get_ok("/collections/districts/items").await;
    for (i, d) in state.atlas.districts.iter().enumerate() {
        let extra = state.results.district_properties(u32::try_from(i).unwrap());
        let f = districts["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == d.code.as_str())
            .unwrap();
        for (k, v) in &extra {
            if ["code", "name", "ward_count", "lsoa_count", "residents"].contains(&k.as_str())
                || v.is_object()
                || v.is_array()
            {
                continue;
            }
            assert!(
                f["properties"].get(k.as_str()).is_some(),
                "{} lacks {k}",
                d.code
            );
        }
    }
}
