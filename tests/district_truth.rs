//! District figures (issue 13, section 2): district membership from the ONS
//! 2011 → 2021 LSOA lookup (not the ward best-fit), MHCLG's official
//! district summaries served as the headline figures, and GapMap's own
//! roll-ups labelled as such. Expected values are read from the published
//! files here, independently of GapMap's readers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)]

mod common;

use std::collections::{BTreeSet, HashMap};

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

const OXFORDSHIRE: [&str; 5] = [
    "E07000177",
    "E07000178",
    "E07000179",
    "E07000180",
    "E07000181",
];

async fn get_json(uri: &str) -> Value {
    let app = gapmap::api::app(common::app_state());
    let req = Request::builder()
        .uri(uri)
        .header("host", "test.local")
        .body(Body::empty())
        .unwrap();
    let response = app.oneshot(req).await.unwrap();
    assert!(response.status().is_success(), "{uri}");
    let body = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&body).unwrap()
}

/// 2021 LSOAs per 2022 district, from the ONS lookup.
fn members() -> HashMap<String, BTreeSet<String>> {
    let mut out: HashMap<String, BTreeSet<String>> = HashMap::new();
    for r in common::csv_rows("lookups/lsoa11_lsoa21_lad22.csv") {
        out.entry(r["ltla22_code"].clone())
            .or_default()
            .insert(r["lsoa21_code"].clone());
    }
    out
}

fn number(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn districts_count_their_member_lsoas_and_wards_keep_the_best_fit() {
    let atlas = common::atlas();
    let members = members();
    let expected: usize = OXFORDSHIRE.iter().map(|d| members[*d].len()).sum();
    assert_eq!(expected, 428);
    let served: usize = atlas.districts.iter().map(|d| d.lsoas.len()).sum();
    assert_eq!(served, 428);
    for d in atlas.districts.iter() {
        let codes: BTreeSet<String> = d
            .lsoas
            .iter()
            .map(|&i| atlas.lsoa21[i as usize].code.clone())
            .collect();
        assert_eq!(codes, members[&d.code], "{}", d.code);
    }
    // E01027305 is in West Northamptonshire by membership ...
    assert!(members["E06000062"].contains("E01027305"));
    let (i, l) = atlas.lsoa21_by_code("E01027305").unwrap();
    assert!(atlas.district_of(l).is_none());
    // ... but stays in the Cropredy, Sibfords and Wroxton ward roll-up.
    let (_, ward) = atlas.ward_by_code("E05010929").unwrap();
    assert!(ward.lsoas.contains(&i));
}

#[tokio::test]
async fn districts_serve_the_official_summaries_as_published() {
    let fc = get_json("/collections/districts/items").await;
    let feature = |code: &str| -> Value {
        fc["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == code)
            .unwrap()["properties"]
            .clone()
    };
    let y2025 = common::csv_rows("deprivation/iod2025_lad24_summaries.csv");
    let y2019 = common::csv_rows("deprivation/iod2019_lad19_summaries.csv");
    for code in OXFORDSHIRE {
        let p = feature(code);
        let row = y2025.iter().find(|r| r["ltla24_code"] == code).unwrap();
        for column in [
            "imd_average_score",
            "imd_rank_of_average_score",
            "imd_average_rank",
            "imd_proportion_of_lsoas_in_most_deprived_10_percent_nationally",
            "imd25_extent",
            "imd25_local_concentration",
            "income_average_score",
            "health_deprivation_and_disability_average_score",
        ] {
            let want: f64 = row[column].parse().unwrap();
            assert_eq!(
                number(&p[format!("official_2025_{column}")]),
                want,
                "{code} {column}"
            );
        }
        let imd19 = y2019
            .iter()
            .find(|r| r["lad19cd"] == code && r["index_domain"] == "Index of Multiple Deprivation")
            .unwrap();
        for column in [
            "average_score",
            "rank_average_score",
            "proportion_bottom_decile",
        ] {
            let want: f64 = imd19[column].parse().unwrap();
            assert_eq!(
                number(&p[format!("official_2019_imd_{column}")]),
                want,
                "{code} {column}"
            );
        }
        assert!(p["official_source"].as_str().unwrap().contains("MHCLG"));
        assert!(p["rollup_method"]
            .as_str()
            .unwrap()
            .contains("not a published figure"));
        assert_eq!(
            p["lsoa_count"].as_u64().unwrap(),
            u64::try_from(members()[code].len()).unwrap(),
            "{code}"
        );
    }
    // The figures.
    let cherwell = feature("E07000177");
    assert_eq!(number(&cherwell["official_2025_imd_average_score"]), 12.624);
    let oxford = feature("E07000178");
    assert_eq!(number(&oxford["official_2019_imd_average_score"]), 16.707);
    // GapMap's own 2019 roll-up is another number, and labelled.
    assert_eq!(
        format!("{:.3}", number(&oxford["imd_score_2019"])),
        "17.053"
    );
    let described = get_json("/collections/districts/queryables").await;
    let title = described["properties"]["imd_score_2019"]["title"]
        .as_str()
        .or_else(|| described["properties"]["imd_score_2019"]["description"].as_str())
        .unwrap_or_default()
        .to_owned();
    assert!(title.contains("GapMap roll-up"), "{described}");
}
