//! Issue 13, section 3: every ward exists. Oxford's Holywell ward
//! (E05013106) receives no LSOA in the 2024 best-fit lookup, yet it has a
//! polygon, residents (apportioned by postcode units), assets inside and a
//! profile, and search finds it. The polygon is read here straight from the
//! boundary file and points are tested by our own ray casting, not `geo`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)] // tests may panic

mod common;

use std::collections::{BTreeSet, HashMap};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn get(uri: &str) -> (StatusCode, serde_json::Value) {
    let app = gapmap::api::app(common::app_state());
    let response = app
        .oneshot(Request::builder().uri(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap())
}

/// Holywell's rings (lon/lat) from `wards22_uk_bsc.geojson`.
fn holywell_rings() -> Vec<Vec<(f64, f64)>> {
    let text =
        std::fs::read_to_string(common::data_dir().join("boundaries/wards22_uk_bsc.geojson"))
            .unwrap();
    let fc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let f = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["properties"]["ward22_code"] == "E05013106")
        .expect("Holywell in the 2022 wards");
    assert_eq!(f["properties"]["ward22_name"], "Holywell");
    let g = &f["geometry"];
    let polygons: Vec<&serde_json::Value> = match g["type"].as_str().unwrap() {
        "Polygon" => vec![&g["coordinates"]],
        _ => g["coordinates"].as_array().unwrap().iter().collect(),
    };
    polygons
        .iter()
        .flat_map(|p| p.as_array().unwrap().iter())
        .map(|ring| {
            ring.as_array()
                .unwrap()
                .iter()
                .map(|c| (c[0].as_f64().unwrap(), c[1].as_f64().unwrap()))
                .collect()
        })
        .collect()
}

/// Even-odd ray casting over every ring (holes flip the parity).
fn inside(rings: &[Vec<(f64, f64)>], x: f64, y: f64) -> bool {
    let mut odd = false;
    for ring in rings {
        for w in ring.windows(2) {
            let ((x1, y1), (x2, y2)) = (w[0], w[1]);
            if (y1 > y) != (y2 > y) && x < x1 + (y - y1) * (x2 - x1) / (y2 - y1) {
                odd = !odd;
            }
        }
    }
    odd
}

#[tokio::test]
async fn holywell_exists_with_residents_assets_and_profile() {
    let state = common::app_state().snapshot();
    let atlas = &state.atlas;
    // The lookup names 111 Oxfordshire wards; Holywell is the one more.
    assert_eq!(atlas.wards.len(), 112);
    let (_, ward) = atlas.ward_by_code("E05013106").expect("Holywell is a ward");
    assert_eq!(ward.name, "Holywell");
    assert!(ward.lsoas.is_empty());
    assert!(ward.geometry.is_some());
    let oxford = atlas
        .districts
        .iter()
        .position(|d| d.code == "E07000178")
        .unwrap();
    assert_eq!(ward.district, Some(u32::try_from(oxford).unwrap()));

    let rings = holywell_rings();
    // Residents by postcode units, brute force: each LSOA's residents shared
    // equally over its postcodes; Holywell takes the shares inside it.
    let mut per_lsoa: HashMap<u32, usize> = HashMap::new();
    for p in atlas.postcodes.iter() {
        *per_lsoa.entry(p.lsoa21).or_default() += 1;
    }
    let (mut expected, mut units) = (0.0, 0);
    for p in atlas.postcodes.iter() {
        if inside(&rings, p.location.lonlat.x(), p.location.lonlat.y()) {
            units += 1;
            let l = &atlas.lsoa21[p.lsoa21 as usize];
            expected += f64::from(l.residents.unwrap()) / per_lsoa[&p.lsoa21] as f64;
        }
    }
    assert!(units > 100, "{units} postcode units in Holywell");
    let expected_assets: BTreeSet<&str> = atlas
        .assets
        .iter()
        .filter(|a| inside(&rings, a.location.lonlat.x(), a.location.lonlat.y()))
        .map(|a| a.id.as_str())
        .collect();
    assert!(expected_assets.len() > 10);

    let (status, p) = get("/wards/E05013106/profile").await;
    assert_eq!(status, StatusCode::OK, "{p}");
    let w = &p["ward"];
    assert_eq!(w["name"], "Holywell");
    assert_eq!(w["apportioned"]["postcode_units"], units);
    assert_eq!(w["residents"].as_f64().unwrap(), expected.round());
    assert!(w["apportioned"]["method"]
        .as_str()
        .unwrap()
        .contains("postcode units"));
    let got: BTreeSet<&str> = p["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, expected_assets);
    let (gp, _) = atlas.category_by_id("gp_practice").unwrap();
    let gp_inside = atlas
        .assets
        .iter()
        .filter(|a| a.category == gp && expected_assets.contains(a.id.as_str()))
        .count();
    let access_gp = p["access"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["category"] == "gp_practice")
        .unwrap();
    assert_eq!(access_gp["assets_inside"], gp_inside);

    // The wards collection has it, with its polygon and apportioned residents.
    let (status, f) = get("/collections/wards/items/E05013106").await;
    assert_eq!(status, StatusCode::OK, "{f}");
    assert_eq!(f["geometry"]["type"], "MultiPolygon");
    assert_eq!(
        f["properties"]["residents"].as_f64().unwrap(),
        expected.round()
    );

    // Search finds it.
    let (status, s) = get("/search?q=Holywell").await;
    assert_eq!(status, StatusCode::OK);
    assert!(s["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["code"] == "E05013106"));
}
