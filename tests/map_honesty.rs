//! Issue 14, the planner's map answers honestly: `/gaps` says when coverage
//! prevents an answer and exports those LSOAs with the reason; ward profiles
//! say "no data" per category; the 2019 link of a border LSOA; search finds
//! a locality named only in addresses. Expected values come from the atlas's
//! raw tables and the ONS lookup file, not from the code under test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)] // tests may panic

mod common;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn get(uri: &str) -> (StatusCode, String) {
    let app = gapmap::api::app(common::app_state());
    let response = app
        .oneshot(Request::builder().uri(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

async fn get_json(uri: &str) -> serde_json::Value {
    let (status, body) = get(uri).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Deprived (IMD 2025 decile <= `max`) LSOAs outside every source of `category`.
fn deprived_outside(category: &str, max: u8) -> (usize, BTreeSet<String>) {
    let atlas = common::atlas();
    let (c, _) = atlas.category_by_id(category).unwrap();
    let k = atlas.imd2025.position("imd").unwrap();
    let deprived: Vec<_> = atlas
        .lsoa21
        .iter()
        .filter(|l| l.imd[k].decile.is_some_and(|d| d <= max))
        .collect();
    let outside = deprived
        .iter()
        .filter(|l| !atlas.category_covers(c, l))
        .map(|l| l.code.clone())
        .collect();
    (deprived.len(), outside)
}

#[tokio::test]
async fn parks_near_deprived_lsoas_cannot_be_answered_and_say_so() {
    let (deprived, outside) = deprived_outside("park", 2);
    // Issue 14: "cannot answer for 11 of 11 deprived LSOAs: no park data there".
    assert_eq!((deprived, outside.len()), (11, 11));
    let fc = get_json("/gaps?category=park&max_decile=2&min_distance_m=400").await;
    let s = &fc["summary"];
    assert_eq!(s["lsoas"], 0);
    assert_eq!(s["deprived_lsoas"], 11);
    assert_eq!(s["cannot_answer"]["lsoas"], 11);
    assert_eq!(s["cannot_answer"]["no_data"], 11);
    assert_eq!(
        s["headline"],
        "Cannot answer for 11 of 11 deprived LSOAs: no park data there."
    );
    let codes: BTreeSet<String> = fc["cannot_answer"]["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(f["properties"]["status"], "no_data");
            assert!(f["properties"]["reason"]
                .as_str()
                .unwrap()
                .contains("Central Oxford"));
            assert_eq!(f["geometry"]["type"], "MultiPolygon");
            f["properties"]["lsoa21_code"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(codes, outside);
    let residents: u64 = outside
        .iter()
        .map(|c| {
            u64::from(
                common::atlas()
                    .lsoa21_by_code(c)
                    .unwrap()
                    .1
                    .residents
                    .unwrap(),
            )
        })
        .sum();
    assert_eq!(s["cannot_answer"]["residents"], residents);

    // The CSV lists them too, with the reason, after a header.
    let (status, csv) = get("/gaps?category=park&max_decile=2&min_distance_m=400&f=csv").await;
    assert_eq!(status, StatusCode::OK);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 11);
    let csv_codes: BTreeSet<String> = rows
        .iter()
        .map(|r| {
            assert_eq!(&r[col("status")], "no_data");
            assert!(r[col("reason")].starts_with("no data"));
            assert_eq!(&r[col("rank")], "");
            assert_eq!(&r[col("distance_m")], "");
            r[col("lsoa21_code")].to_owned()
        })
        .collect();
    assert_eq!(csv_codes, outside);
}

#[tokio::test]
async fn a_full_coverage_answer_has_no_unanswered_lsoas() {
    let fc = get_json("/gaps?category=gp_practice&max_decile=2&min_distance_m=1000").await;
    let s = &fc["summary"];
    let (deprived, outside) = deprived_outside("gp_practice", 2);
    assert!(outside.is_empty());
    assert_eq!(s["deprived_lsoas"], deprived);
    assert_eq!(s["cannot_answer"]["lsoas"], 0);
    let n = fc["features"].as_array().unwrap().len();
    assert_eq!(
        s["headline"],
        format!("{n} gaps among {deprived} deprived LSOAs.")
    );
    // Gap features carry status "gap" and the ward names beside the codes.
    assert!(fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["properties"]["status"] == "gap"));
    assert_eq!(
        s["ward_names"].as_array().unwrap().len(),
        s["ward_codes"].as_array().unwrap().len()
    );
}

#[tokio::test]
async fn ward_profile_uses_the_map_thresholds_and_says_no_data_per_category() {
    // Banbury Ruscote with the map's GP gap (decile <= 2, 1,000 m).
    let fc = get_json("/gaps?category=gp_practice&max_decile=2&min_distance_m=1000").await;
    let expected: BTreeSet<String> = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["ward_code"] == "E05010924")
        .map(|f| f["properties"]["lsoa21_code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(expected.len(), 2);
    let p = get_json("/wards/E05010924/profile?max_decile=2&min_distance_m=1000").await;
    let by = |c: &str| {
        p["access"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["category"] == c)
            .unwrap()
            .clone()
    };
    let gp = by("gp_practice");
    assert_eq!(gp["status"], "gaps");
    let got: BTreeSet<String> = gp["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["lsoa21_code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, expected);
    // Parks: no source covers Banbury, so "no data", not "no gaps".
    assert_eq!(by("park")["status"], "no_data");
    assert_eq!(by("pharmacy")["status"], "no_gaps");
    // The ward's deprived LSOAs, counted from the raw deciles.
    let atlas = common::atlas();
    let (_, ward) = atlas.ward_by_code("E05010924").unwrap();
    let k = atlas.imd2025.position("imd").unwrap();
    let deprived = ward
        .lsoas
        .iter()
        .filter(|&&i| atlas.lsoa21[i as usize].imd[k].decile.unwrap() <= 2)
        .count();
    assert_eq!(gp["deprived_lsoas"], deprived);
}

#[tokio::test]
async fn border_lsoa_links_its_2011_parent_outside_the_region() {
    // The ONS lookup, read here: E01027305's 2011 parent(s).
    let parents: BTreeSet<String> = common::csv_rows("lookups/lsoa11_lsoa21_lad22.csv")
        .into_iter()
        .filter(|r| r["lsoa21_code"] == "E01027305")
        .map(|r| r["lsoa11_code"].clone())
        .collect();
    assert!(!parents.is_empty());
    let p = get_json("/web/api/lsoa/E01027305").await;
    let linked: BTreeSet<String> = p["link_2019"]["lsoa11"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(linked, parents);
    assert_ne!(p["link_2019"]["method"], "none");
}

#[tokio::test]
async fn the_2019_layer_names_the_2021_lsoas_each_2011_lsoa_became() {
    let lookup = common::csv_rows("lookups/lsoa11_lsoa21_lad22.csv");
    let expected: BTreeSet<String> = lookup
        .iter()
        .filter(|r| r["lsoa11_code"] == "E01028424")
        .map(|r| r["lsoa21_code"].clone())
        .collect();
    assert_eq!(expected.len(), 3);
    let fc = get_json("/web/api/lsoa-layer?year=2019").await;
    let f = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["properties"]["code"] == "E01028424")
        .unwrap();
    let got: BTreeSet<String> = f["properties"]["lsoa21"]
        .as_str()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn search_finds_a_locality_named_in_addresses() {
    let r = get_json("/search?q=Greater%20Leys").await;
    let place = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["kind"] == "place")
        .unwrap_or_else(|| panic!("no place result: {r}"));
    assert_eq!(place["name"], "Greater Leys");
    // The Leys Pharmacy's address says Greater Leys (OX4 7EX): the place
    // lies within 2 km of that postcode's Code-Point Open position.
    let atlas = common::atlas();
    let pc = atlas.postcode("OX4 7EX").unwrap();
    let d = common::vincenty_m(
        pc.location.lonlat.x(),
        pc.location.lonlat.y(),
        place["lon"].as_f64().unwrap(),
        place["lat"].as_f64().unwrap(),
    );
    assert!(d < 2000.0, "{d} m from OX4 7EX");
    let lsoa = place["lsoa"].as_str().unwrap();
    assert!(atlas.lsoa21_by_code(lsoa).is_some());
    // The ward and district queries of issue 14 still find their areas.
    for (q, kind, name) in [
        ("St%20Clements", "ward", "St Clement's"),
        ("Rose%20Hill%20and%20Iffley", "ward", "Rose Hill & Iffley"),
        ("OX4", "postcode_district", "OX4"),
        ("Cherwell", "district", "Cherwell"),
    ] {
        let r = get_json(&format!("/search?q={q}")).await;
        assert_eq!(r["results"][0]["kind"], kind, "{q}");
        assert_eq!(r["results"][0]["name"], name, "{q}");
    }
}

/// `gapmap gaps` as a table says what `/gaps` says first: the query cannot
/// answer for the 11 deprived LSOAs outside the park extract, and lists them.
#[test]
fn gaps_cli_table_leads_with_what_it_cannot_answer() {
    let (deprived, outside) = deprived_outside("park", 2);
    assert_eq!((deprived, outside.len()), (11, 11));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gapmap"))
        .args([
            "gaps",
            "--category",
            "park",
            "--max-decile",
            "2",
            "--min-distance-m",
            "400",
            "--quiet",
            "--data-dir",
        ])
        .arg(common::data_dir())
        // No register: data sources only, whatever ./state holds.
        .arg("--state-dir")
        .arg(tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    // The title, then the headline, before any table.
    assert_eq!(
        lines.get(1).copied(),
        Some("Cannot answer for 11 of 11 deprived LSOAs: no park data there."),
        "{text}"
    );
    let listed: BTreeSet<String> = lines
        .iter()
        .filter(|l| l.contains(" no_data"))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    assert_eq!(listed, outside, "{text}");
    assert!(text.contains("no_data: no data"), "{text}");
}

/// The region (county) profile: GapMap's roll-up of the LSOAs, labelled as
/// such; each district's official IMD summary exactly as MHCLG's files give
/// it; and the park question answered "cannot answer", not "no gap".
#[tokio::test]
async fn region_profile_rolls_up_lsoas_and_gives_the_official_district_figures() {
    let p = get_json("/web/api/region").await;
    let atlas = common::atlas();
    assert_eq!(p["region"]["name"], "Oxfordshire");
    let k = atlas.imd2025.position("imd").unwrap();
    let residents: u64 = atlas
        .lsoa21
        .iter()
        .filter_map(|l| l.residents)
        .map(u64::from)
        .sum();
    let mut by_decile = [0_u64; 10];
    for l in atlas.lsoa21.iter() {
        by_decile[usize::from(l.imd[k].decile.unwrap()) - 1] += 1;
    }
    let s = &p["summary"];
    assert_eq!(s["residents"], residents);
    assert_eq!(s["lsoas"], atlas.lsoa21.len());
    assert_eq!(s["2025"]["lsoas_by_decile"], serde_json::json!(by_decile));
    assert!(p["method"]["region"]
        .as_str()
        .unwrap()
        .starts_with("GapMap's roll-up of the official LSOA data, not a published figure"));

    // The five districts with MHCLG's figures, read here from the files.
    let codes: Vec<&str> = p["districts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "E07000177",
            "E07000178",
            "E07000179",
            "E07000180",
            "E07000181"
        ]
    );
    let y2025 = common::csv_rows("deprivation/iod2025_lad24_summaries.csv");
    let y2019 = common::csv_rows("deprivation/iod2019_lad19_summaries.csv");
    for d in p["districts"].as_array().unwrap() {
        let code = d["code"].as_str().unwrap();
        let row = y2025.iter().find(|r| r["ltla24_code"] == code).unwrap();
        let o = &d["official_imd"]["2025"];
        for (key, column) in [
            ("average_score", "imd_average_score"),
            ("rank_of_average_score", "imd_rank_of_average_score"),
            ("extent", "imd25_extent"),
        ] {
            let want: f64 = row[column].parse().unwrap();
            assert_eq!(o[key].as_f64(), Some(want), "{code} 2025 {key}");
        }
        let row = y2019
            .iter()
            .find(|r| r["lad19cd"] == code && r["index_domain"] == "Index of Multiple Deprivation")
            .unwrap();
        let want: f64 = row["average_score"].parse().unwrap();
        assert_eq!(
            d["official_imd"]["2019"]["average_score"].as_f64(),
            Some(want)
        );
    }

    let (deprived, outside) = deprived_outside("park", 2);
    let park = p["access"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["category"] == "park")
        .unwrap();
    assert_eq!(park["status"], "cannot_answer");
    assert_eq!(park["deprived_lsoas"], deprived);
    assert_eq!(park["cannot_answer_lsoas"], outside.len());
    assert_eq!(park["gap_lsoas"], 0);
    assert!(park["sources"][0]["vintage"].as_str().is_some());

    let (status, body) = get("/web/api/region?max_decile=11").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("max_decile"), "{body}");
}

/// `/web/api/coverage` belongs to the snapshot: a register write's snapshot
/// with the same sources shares the one built at start, and one whose
/// source coverage changed has the new area.
#[test]
fn coverage_layer_is_built_once_per_snapshot_and_follows_the_sources() {
    use gapmap::atlas::Coverage;
    let old = common::app_state().snapshot();
    let atlas = &old.atlas;
    let body = old.web.coverage_json().unwrap();
    let fc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let listed: BTreeSet<&str> = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["source"].as_str().unwrap())
        .collect();
    let partial: BTreeSet<&str> = atlas
        .sources
        .iter()
        .filter(|s| !matches!(s.coverage, Coverage::CodePrefix { .. }))
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(listed, partial);

    let same = old.derive(
        atlas.with_assets(
            atlas.assets.clone(),
            atlas.categories.clone(),
            atlas.sources.clone(),
        ),
        &[],
    );
    assert_eq!(same.web.coverage_json().unwrap().as_ptr(), body.as_ptr());

    let (si, source) = atlas
        .sources
        .iter()
        .enumerate()
        .find(|(_, s)| matches!(s.coverage, Coverage::Bbox { .. }))
        .unwrap();
    let mut sources = atlas.sources.clone();
    sources[si].coverage = Coverage::Bbox {
        bbox: [-1.3, 51.7, -1.2, 51.8],
        description: "a test box".into(),
    };
    let fed: Vec<u16> = atlas
        .categories
        .iter()
        .enumerate()
        .filter(|(_, c)| c.sources.iter().any(|&x| usize::from(x) == si))
        .map(|(i, _)| u16::try_from(i).unwrap())
        .collect();
    let moved = old.derive(
        atlas.with_assets(atlas.assets.clone(), atlas.categories.clone(), sources),
        &fed,
    );
    let fc: serde_json::Value =
        serde_json::from_slice(&moved.web.coverage_json().unwrap()).unwrap();
    let f = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["properties"]["source"] == source.id.as_str())
        .unwrap();
    assert_eq!(f["properties"]["description"], "a test box");
    let ring = &f["geometry"]["coordinates"][0][0];
    let xs: Vec<f64> = ring
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c[0].as_f64().unwrap())
        .collect();
    assert_eq!(xs.iter().copied().fold(f64::INFINITY, f64::min), -1.3);
    assert_eq!(xs.iter().copied().fold(f64::NEG_INFINITY, f64::max), -1.2);
}
