//! Issue 13, sections 2 and 4: one ward-summary rule and one gap
//! definition. The map panel (`/web/api/ward/{code}`) and the JSON profile
//! (`/wards/{code}/profile`) serve the same summary (LSOAs and residents by
//! national decile, shares of residents in the most deprived 10% and 20%,
//! the IMD score weighted by Census 2021 residents), recomputed here
//! straight from the published CSVs; both pages carry the shared gap
//! defaults, and the profile takes the map's thresholds.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::float_cmp,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)] // tests may panic; counts read from the CSVs as floats are small whole numbers

mod common;

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// Northfield Brook, Oxford (2024 ward code).
const NORTHFIELD_BROOK: &str = "E05013110";

async fn get(uri: &str) -> (StatusCode, Value) {
    let app = gapmap::api::app(common::app_state());
    let req = Request::builder()
        .uri(uri)
        .header("host", "test.local")
        .body(Body::empty())
        .unwrap();
    let response = app.oneshot(req).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap())
}

/// `(lsoas by decile, residents by decile, top-10% share, top-20% share,
/// weighted score)` of IMD 2025 over the ward's LSOAs, from the CSVs.
fn recompute_2025(ward: &str) -> ([u32; 10], [u64; 10], f64, f64, f64) {
    let members: Vec<String> = common::csv_rows("lookups/lsoa21_ward24_lad24.csv")
        .into_iter()
        .filter(|r| r["ward24_code"] == ward)
        .map(|r| r["lsoa21_code"].clone())
        .collect();
    assert!(!members.is_empty());
    let people: HashMap<String, f64> =
        common::csv_rows("population/census21_usual_residents_lsoa21.csv")
            .into_iter()
            .map(|r| {
                (
                    r["lsoa21_code"].clone(),
                    r["total_residents"].parse().unwrap(),
                )
            })
            .collect();
    let imd: HashMap<String, (usize, f64)> = common::csv_rows("deprivation/imd2025_lsoa21.csv")
        .into_iter()
        .map(|r| {
            let d: f64 = r["IMD_decile"].parse().unwrap();
            (
                r["lsoa21_code"].clone(),
                (d as usize, r["IMD_score"].parse().unwrap()),
            )
        })
        .collect();
    let (mut lsoas, mut residents) = ([0_u32; 10], [0_u64; 10]);
    let (mut weighted, mut weight) = (0.0, 0.0);
    for code in &members {
        let (d, score) = imd[code];
        let p = people[code];
        lsoas[d - 1] += 1;
        residents[d - 1] += p as u64;
        weighted += score * p;
        weight += p;
    }
    let total: u64 = residents.iter().sum();
    let top10 = residents[0] as f64 / total as f64;
    let top20 = (residents[0] + residents[1]) as f64 / total as f64;
    (lsoas, residents, top10, top20, weighted / weight)
}

fn u64s(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn northfield_brook_has_one_summary_everywhere_equal_to_the_csvs() {
    let (s, panel) = get(&format!("/web/api/ward/{NORTHFIELD_BROOK}")).await;
    assert_eq!(s, StatusCode::OK);
    let (s, profile) = get(&format!("/wards/{NORTHFIELD_BROOK}/profile")).await;
    assert_eq!(s, StatusCode::OK);
    // One rule, one roll-up: the map panel and the JSON profile agree exactly.
    assert_eq!(panel["summary"], profile["summary"]);
    let ward = &profile["summary"]["ward"];

    let (lsoas, residents, top10, top20, score) = recompute_2025(NORTHFIELD_BROOK);
    let y = &ward["2025"];
    assert_eq!(
        u64s(&y["lsoas_by_decile"]),
        lsoas.iter().map(|&n| u64::from(n)).collect::<Vec<_>>()
    );
    assert_eq!(u64s(&y["residents_by_decile"]), residents.to_vec());
    assert!((y["resident_share_top10"].as_f64().unwrap() - top10).abs() < 1e-4);
    assert!((y["resident_share_top20"].as_f64().unwrap() - top20).abs() < 1e-4);
    assert!(
        (y["imd_score"].as_f64().unwrap() - score).abs() < 1e-3,
        "{y}"
    );
    assert_eq!(
        ward["residents"].as_u64().unwrap(),
        residents.iter().sum::<u64>()
    );
    assert_eq!(
        ward["lsoas"].as_u64().unwrap(),
        u64::from(lsoas.iter().sum::<u32>())
    );
    assert_eq!(ward["lsoas_unknown_residents"], 0);
    assert!(ward["rule"].as_str().unwrap().contains("not averaged"));

    // No averaged deciles anywhere in either document.
    for doc in [&panel, &profile] {
        let text = doc.to_string();
        assert!(!text.contains("mean_decile"), "averaged decile field left");
    }
    // The panel's IMD row is the same decile summary.
    let imd = panel["domains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "imd")
        .unwrap();
    assert_eq!(
        u64s(&imd["ward"]["residents_by_decile"]),
        residents.to_vec()
    );
    // England's mean decile is labelled with its weights: 5.5 plain,
    // 5.46 weighted by residents (recomputed over England's 33,755 LSOAs).
    let people: HashMap<String, f64> =
        common::csv_rows("population/census21_usual_residents_lsoa21.csv")
            .into_iter()
            .map(|r| {
                (
                    r["lsoa21_code"].clone(),
                    r["total_residents"].parse().unwrap(),
                )
            })
            .collect();
    let (mut plain, mut n, mut num, mut den) = (0.0, 0.0, 0.0, 0.0);
    for r in common::csv_rows("deprivation/imd2025_lsoa21.csv") {
        if !r["lsoa21_code"].starts_with('E') {
            continue;
        }
        let d: f64 = r["IMD_decile"].parse().unwrap();
        plain += d;
        n += 1.0;
        if let Some(p) = people.get(&r["lsoa21_code"]) {
            num += d * p;
            den += p;
        }
    }
    let england = panel["england"].as_str().unwrap();
    assert!(
        england.contains(&format!("{:.1} as a plain mean", plain / n)),
        "{england}"
    );
    assert!(
        england.contains(&format!(
            "{:.2} weighted by Census 2021 residents",
            num / den
        )),
        "{england}"
    );
}

#[tokio::test]
async fn one_gap_definition_with_thresholds_carried_to_the_profile() {
    let (_, meta) = get("/web/api/meta").await;
    let defaults = &meta["gap_defaults"];
    assert_eq!(defaults["max_decile"], 2);
    assert_eq!(defaults["min_distance_m"], 1600.0);
    let (_, panel) = get(&format!("/web/api/ward/{NORTHFIELD_BROOK}")).await;
    assert_eq!(&panel["gap_defaults"], defaults);

    let (_, profile) = get(&format!("/wards/{NORTHFIELD_BROOK}/profile")).await;
    assert_eq!(profile["gap_thresholds"]["max_decile"], 2);
    assert_eq!(profile["gap_thresholds"]["min_distance_m"], 1600.0);
    assert_eq!(&profile["gap_thresholds"]["defaults"], defaults);

    // The map's thresholds carry over, and the gaps follow them: with
    // decile ≤ 10 and 0 m every measured LSOA of the ward is a gap.
    let (s, wide) = get(&format!(
        "/wards/{NORTHFIELD_BROOK}/profile?max_decile=10&min_distance_m=0"
    ))
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(wide["gap_thresholds"]["max_decile"], 10);
    assert_eq!(wide["gap_thresholds"]["min_distance_m"], 0.0);
    assert!(wide["method"]["gaps"]
        .as_str()
        .unwrap()
        .contains("decile <= 10"));
    let gaps = |doc: &Value, cat: &str| {
        doc["access"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["category"] == cat)
            .unwrap()["gaps"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(gaps(&wide, "gp_practice"), 4);
    assert!(gaps(&profile, "gp_practice") <= gaps(&wide, "gp_practice"));

    for (query, name) in [
        ("max_decile=11", "max_decile"),
        ("max_decile=two", "max_decile"),
        ("min_distance_m=-5", "min_distance_m"),
        ("min_distance_m=NaN", "min_distance_m"),
    ] {
        let (s, problem) = get(&format!("/wards/{NORTHFIELD_BROOK}/profile?{query}")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{query}");
        assert!(problem.to_string().contains(name), "{query}: {problem}");
    }
    let (s, _) = get(&format!("/wards/{NORTHFIELD_BROOK}/profile?decile=3")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}
