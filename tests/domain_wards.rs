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

/// Postcode units of Code-Point Open's `ox.csv` (with a position) whose
/// code, written with one space, starts with `prefix`.
fn codepoint_units(prefix: &str) -> usize {
    let file = std::fs::File::open(common::data_dir().join("postcodes/codepo_gb.zip")).unwrap();
    let mut zip = zip::ZipArchive::new(file).unwrap();
    let entry = zip.by_name("Data/CSV/ox.csv").unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(entry);
    reader
        .records()
        .map(Result::unwrap)
        .filter(|r| {
            let compact: String = r[0].split_whitespace().collect();
            let (outward, inward) = compact.split_at(compact.len() - 3);
            format!("{outward} {inward}").starts_with(prefix) && (&r[2] != "0" || &r[3] != "0")
        })
        .count()
}

async fn search(q: &str) -> Vec<serde_json::Value> {
    let (status, body) = get(&format!(
        "/search?q={}",
        q.replace(' ', "%20").replace('&', "%26")
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["results"].as_array().unwrap().clone()
}

#[tokio::test]
async fn search_folds_names_and_finds_2011_codes_and_postcode_areas() {
    let lookup = common::csv_rows("lookups/lsoa21_ward24_lad24.csv");
    let ward_code = |name: &str| {
        lookup
            .iter()
            .find(|r| r["ward24_name"] == name && r["ltla24_code"] == "E07000178")
            .map(|r| r["ward24_code"].clone())
            .unwrap()
    };
    let st_clements = ward_code("St Clement's");
    for q in [
        "St Clements",
        "St. Clements",
        "Saint Clement's",
        "st clement's",
    ] {
        let r = search(q).await;
        assert_eq!(r[0]["code"], st_clements.as_str(), "{q}: {r:?}");
    }
    let rose_hill = ward_code("Rose Hill & Iffley");
    for q in ["Rose Hill and Iffley", "Rose Hill & Iffley", "rose hill"] {
        let r = search(q).await;
        assert_eq!(r[0]["code"], rose_hill.as_str(), "{q}: {r:?}");
    }

    // A 2011 code gives the 2021 LSOAs it became.
    let want: BTreeSet<String> = common::csv_rows("lookups/lsoa11_lsoa21_lad22.csv")
        .into_iter()
        .filter(|r| r["lsoa11_code"] == "E01028424")
        .map(|r| r["lsoa21_code"].clone())
        .collect();
    assert_eq!(want.len(), 3);
    let got: BTreeSet<String> = search("E01028424")
        .await
        .iter()
        .filter(|r| r["lsoa11"] == "E01028424")
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, want);

    // Postcode districts and sectors, with their unit counts.
    for (q, prefix, kind) in [
        ("OX4", "OX4 ", "postcode_district"),
        ("ox4 6", "OX4 6", "postcode_sector"),
    ] {
        let r = search(q).await;
        assert_eq!(r[0]["kind"], kind, "{q}: {r:?}");
        assert_eq!(r[0]["units"], codepoint_units(prefix), "{q}");
    }

    // Districts.
    let r = search("Vale of White Horse").await;
    assert!(r
        .iter()
        .any(|x| x["kind"] == "district" && x["code"] == "E07000180"));
}
