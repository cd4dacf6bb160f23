//! Planner endpoints in process: `/gaps`, `/priority-areas`,
//! `/wards/{code}/profile`, checked against brute-force selections from the
//! atlas.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)] // tests may panic

mod common;

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use gapmap::analysis::access::Access;
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn get(uri: &str) -> (StatusCode, String, String) {
    let app = gapmap::api::app(common::app_state());
    let response = app
        .oneshot(Request::builder().uri(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let ctype = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, ctype, String::from_utf8(body.to_vec()).unwrap())
}

async fn get_json(uri: &str) -> serde_json::Value {
    let (status, _, body) = get(uri).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Brute force: LSOA codes with IMD 2025 decile <= max and mean distance >= min
/// (mean recomputed with Vincenty over all assets), most in need first.
fn brute_gaps(category: &str, max_decile: u8, min_m: f64) -> Vec<String> {
    let state = common::app_state().snapshot();
    let atlas = &state.atlas;
    let (c, _) = atlas.category_by_id(category).unwrap();
    let k = atlas.imd2025.position("imd").unwrap();
    let mut rows: Vec<(u8, f64, String)> = Vec::new();
    for (i, l) in atlas.lsoa21.iter().enumerate() {
        let decile = l.imd[k].decile.unwrap();
        if decile > max_decile || !atlas.category_covers(c, l) {
            continue;
        }
        let pcs: Vec<_> = atlas
            .postcodes
            .iter()
            .filter(|p| p.lsoa21 as usize == i)
            .collect();
        assert!(!pcs.is_empty());
        let mean = pcs
            .iter()
            .map(|p| {
                atlas
                    .assets
                    .iter()
                    .filter(|a| a.category == c)
                    .map(|a| {
                        common::vincenty_m(
                            p.location.lonlat.x(),
                            p.location.lonlat.y(),
                            a.location.lonlat.x(),
                            a.location.lonlat.y(),
                        )
                    })
                    .fold(f64::INFINITY, f64::min)
            })
            .sum::<f64>()
            / pcs.len() as f64;
        if mean >= min_m {
            rows.push((decile, mean, l.code.clone()));
        }
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
    rows.into_iter().map(|r| r.2).collect()
}

fn codes(fc: &serde_json::Value) -> Vec<String> {
    fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["lsoa21_code"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn gap_query_equals_brute_force_selection() {
    let fc = get_json("/gaps?category=gp_practice&max_decile=3&min_distance_m=800").await;
    assert_eq!(fc["type"], "FeatureCollection");
    let got = codes(&fc);
    let expect = brute_gaps("gp_practice", 3, 800.0);
    assert!(!expect.is_empty());
    assert_eq!(got, expect);
    assert_eq!(fc["summary"]["lsoas"], expect.len());
    let state = common::app_state().snapshot();
    let residents: u64 = expect
        .iter()
        .map(|c| u64::from(state.atlas.lsoa21_by_code(c).unwrap().1.residents.unwrap()))
        .sum();
    assert_eq!(fc["summary"]["residents"], residents);
    assert_eq!(fc["parameters"]["category"], "gp_practice");
    assert_eq!(fc["parameters"]["max_decile"], 3);
    assert!(fc["method"]["distance"]
        .as_str()
        .unwrap()
        .contains("straight-line"));
    assert!(fc["method"]["capacity"]["method"]
        .as_str()
        .unwrap()
        .contains("2SFCA"));
    let f = &fc["features"][0];
    assert_eq!(f["geometry"]["type"], "MultiPolygon");
    assert_eq!(f["properties"]["distance_kind"], "straight-line");
    assert!(f["properties"]["ward_name"].is_string());
    assert!(f["properties"]["district_name"].is_string());
    assert!(f["properties"]["assets_per_10k_residents"].is_number());
    // Sorted by need: decile ascending, distance descending within a decile.
    let props: Vec<(u64, f64)> = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["properties"]["decile"].as_u64().unwrap(),
                f["properties"]["distance_m"].as_f64().unwrap(),
            )
        })
        .collect();
    for w in props.windows(2) {
        assert!(
            w[0].0 < w[1].0 || (w[0].0 == w[1].0 && w[0].1 >= w[1].1),
            "{w:?}"
        );
    }
}

#[tokio::test]
async fn max_measure_selects_a_superset_of_mean() {
    let mean = codes(
        &get_json("/gaps?category=pharmacy&max_decile=4&min_distance_m=1000&measure=mean").await,
    );
    let max = codes(
        &get_json("/gaps?category=pharmacy&max_decile=4&min_distance_m=1000&measure=max").await,
    );
    let max_set: BTreeSet<_> = max.iter().collect();
    assert!(mean.iter().all(|c| max_set.contains(c)));
    assert!(max.len() >= mean.len());
}

#[tokio::test]
async fn parks_outside_osm_coverage_are_never_gaps() {
    let state = common::app_state().snapshot();
    let atlas = &state.atlas;
    let (park, _) = atlas.category_by_id("park").unwrap();
    let fc = get_json("/gaps?category=park&max_decile=10&min_distance_m=0").await;
    let got = codes(&fc);
    assert!(!got.is_empty());
    for code in &got {
        let (_, l) = atlas.lsoa21_by_code(code).unwrap();
        assert!(
            atlas.category_covers(park, l),
            "{code} outside OSM coverage returned as a park gap"
        );
    }
    // Cherwell 016D lies outside the central Oxford extract.
    assert!(!got.contains(&"E01028500".to_owned()));
    let left = &fc["summary"]["left_out"];
    assert!(
        left["deprived_but_no_data"].as_u64().unwrap() > 300,
        "{left}"
    );
    // Exactly the covered, measured and not-uncertain LSOAs are returned.
    let expect = atlas
        .lsoa21
        .iter()
        .enumerate()
        .filter(|(i, _)| matches!(state.results.analysis.access.get(*i, usize::from(park)), Some(Access::Measured(m)) if m.edge.is_none()))
        .count();
    assert_eq!(got.len(), expect);
    let count = |key: &str| usize::try_from(left[key].as_u64().unwrap()).unwrap();
    assert_eq!(
        count("deprived_and_far_but_uncertain_coverage_edge")
            + got.len()
            + count("deprived_but_no_data"),
        atlas.lsoa21.len()
    );
}

#[tokio::test]
async fn year_2019_uses_carried_over_deciles() {
    let state = common::app_state().snapshot();
    let atlas = &state.atlas;
    let fc = get_json(
        "/gaps?category=gp_practice&max_decile=2&min_distance_m=0&year=2019&domain=health",
    )
    .await;
    let k = atlas.imd2019.position("health").unwrap();
    // Brute force: unchanged/split 2021 LSOAs take their single parent's decile.
    for f in fc["features"].as_array().unwrap() {
        let code = f["properties"]["lsoa21_code"].as_str().unwrap();
        let (_, l) = atlas.lsoa21_by_code(code).unwrap();
        let decile = f["properties"]["decile"].as_u64().unwrap();
        assert!(decile <= 2);
        if l.lsoa11.len() == 1 {
            let parent = &atlas.lsoa11[l.lsoa11[0].0 as usize];
            assert_eq!(u64::from(parent.imd[k].decile.unwrap()), decile, "{code}");
        }
    }
    let expected: usize = atlas
        .lsoa21
        .iter()
        .filter(|l| {
            l.lsoa11.len() == 1 && atlas.lsoa11[l.lsoa11[0].0 as usize].imd[k].decile.unwrap() <= 2
        })
        .count();
    let single_parent = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            atlas
                .lsoa21_by_code(f["properties"]["lsoa21_code"].as_str().unwrap())
                .unwrap()
                .1
                .lsoa11
                .len()
                == 1
        })
        .count();
    assert_eq!(single_parent, expected);
}

#[tokio::test]
async fn csv_output_has_header_and_one_row_per_gap() {
    let (status, ctype, body) =
        get("/gaps?category=gp_practice&max_decile=3&min_distance_m=800&f=csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ctype.starts_with("text/csv"), "{ctype}");
    let lines: Vec<&str> = body.lines().collect();
    assert!(lines[0].starts_with("rank,lsoa21_code,lsoa21_name,"));
    assert_eq!(lines.len() - 1, brute_gaps("gp_practice", 3, 800.0).len());
    assert!(lines[1].starts_with("1,E010"));
}

#[tokio::test]
async fn bad_parameters_are_400_problems_naming_the_parameter() {
    for (uri, param) in [
        ("/gaps?category=unicorn", "category"),
        ("/gaps", "category"),
        ("/gaps?category=park&max_decile=0", "max_decile"),
        ("/gaps?category=park&max_decile=abc", "max_decile"),
        ("/gaps?category=park&min_distance_m=-5", "min_distance_m"),
        ("/gaps?category=park&year=2020", "year"),
        ("/gaps?category=park&measure=median", "measure"),
        ("/gaps?category=park&domain=idaci&year=2025", "domain"),
        ("/gaps?category=park&f=xml", "f"),
        ("/gaps?category=park&colour=red", "colour"),
        ("/priority-areas?year=2018", "year"),
        ("/priority-areas?max_decile=11", "max_decile"),
    ] {
        let (status, ctype, body) = get(uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(ctype, "application/problem+json", "{uri}");
        let p: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(p["status"], 400);
        assert_eq!(p["parameter"], param, "{uri}: {body}");
        assert!(p["detail"].as_str().unwrap().contains("expected"), "{body}");
    }
}

#[tokio::test]
async fn priority_areas_2025_match_a_hand_selection() {
    let state = common::app_state().snapshot();
    let atlas = &state.atlas;
    let body = get_json("/priority-areas?year=2025&max_decile=2").await;
    let k = atlas.imd2025.position("imd").unwrap();
    let mut expect: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for l in atlas.lsoa21.iter() {
        if l.imd[k].decile.unwrap() <= 2 {
            expect
                .entry(atlas.ward_of(l).unwrap().code.clone())
                .or_default()
                .push(l.code.clone());
        }
    }
    let got: BTreeMap<String, Vec<String>> = body["wards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["ward_code"].as_str().unwrap().to_owned(),
                w["lsoas"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(got, expect);
    assert!(!expect.is_empty());
    // Oxford's Blackbird Leys is among them, with its name and district.
    let bl = body["wards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["ward_name"] == "Blackbird Leys")
        .expect("Blackbird Leys");
    assert_eq!(bl["district_name"], "Oxford");
}

#[tokio::test]
async fn priority_areas_2019_use_2017_ward_codes_named_where_unchanged() {
    let state = common::app_state().snapshot();
    let atlas = &state.atlas;
    let body = get_json("/priority-areas?year=2019&max_decile=2").await;
    let k = atlas.imd2019.position("imd").unwrap();
    let expect: usize = atlas
        .lsoa11
        .iter()
        .filter(|l| l.imd[k].decile.unwrap() <= 2)
        .count();
    assert_eq!(body["summary"]["lsoas"], expect);
    // Issue 13: a 2017 code still used in the 2024 lookup takes its 2024
    // name (read here from the lookup file); others stay without a name.
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut reader =
        csv::Reader::from_path(common::data_dir().join("lookups/lsoa21_ward24_lad24.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == name)
            .unwrap()
    };
    let (ci, ni) = (col("ward24_code"), col("ward24_name"));
    for row in reader.records() {
        let row = row.unwrap();
        names.insert(row[ci].to_owned(), row[ni].to_owned());
    }
    let mut named = 0;
    for w in body["wards"].as_array().unwrap() {
        let code = w["ward_code"].as_str().unwrap();
        assert!(code.starts_with("E05"));
        match names.get(code) {
            Some(name) => {
                assert_eq!(w["ward_name"], name.as_str(), "{code}");
                assert!(w["ward_name_source"]
                    .as_str()
                    .unwrap()
                    .contains("same ward code"));
                named += 1;
            }
            None => assert!(w["ward_name"].is_null(), "{code}"),
        }
    }
    assert!(named > 0, "some 2017 codes are unchanged");
    assert!(body["method"].as_str().unwrap().contains("no names"));
}

#[tokio::test]
async fn ward_profile_has_lsoas_deprivation_assets_and_change() {
    let state = common::app_state().snapshot();
    let atlas = &state.atlas;
    let ward = atlas
        .wards
        .iter()
        .find(|w| w.name == "Blackbird Leys")
        .unwrap();
    let p = get_json(&format!("/wards/{}/profile", ward.code)).await;
    assert_eq!(p["ward"]["name"], "Blackbird Leys");
    assert_eq!(p["ward"]["district_name"], "Oxford");
    assert_eq!(p["lsoas"].as_array().unwrap().len(), ward.lsoas.len());
    let imd = p["deprivation"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "imd")
        .unwrap();
    assert_eq!(imd["england"]["lsoa_share_top10"], 0.1);
    // Independent: LSOAs of the ward in IMD 2025 decile 1 and <= 2.
    let k = atlas.imd2025.position("imd").unwrap();
    let top20 = ward
        .lsoas
        .iter()
        .filter(|&&i| atlas.lsoa21[i as usize].imd[k].decile.unwrap() <= 2)
        .count();
    assert_eq!(imd["ward"]["2025"]["lsoas_top20"], top20);
    assert!(p["access"].as_array().unwrap().len() == atlas.categories.len());
    assert!(p["method"]["england"]
        .as_str()
        .unwrap()
        .contains("by definition"));
    let (status, ctype, _) = get("/wards/E05999999/profile").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(ctype, "application/problem+json");
}

#[tokio::test]
async fn ward_and_district_properties_roll_up_independently_computed_values() {
    let state = common::app_state().snapshot();
    let atlas = &state.atlas;
    let k = atlas.imd2025.position("imd").unwrap();
    for (wi, w) in atlas.wards.iter().enumerate() {
        let props = state.results.ward_properties(u32::try_from(wi).unwrap());
        let (mut num, mut den) = (0.0, 0.0);
        let mut top10 = 0;
        for &i in &w.lsoas {
            let l = &atlas.lsoa21[i as usize];
            let r = f64::from(l.residents.unwrap());
            num += l.imd[k].score.unwrap() * r;
            den += r;
            top10 += usize::from(l.imd[k].decile.unwrap() == 1);
        }
        if den > 0.0 {
            let got = props["imd_score_2025"].as_f64().unwrap();
            assert!(
                (got - num / den).abs() < 0.001,
                "{}: {got} vs {}",
                w.code,
                num / den
            );
        }
        assert_eq!(props["imd_2025_lsoas_top10"], top10, "{}", w.code);
        assert!(props.contains_key("imd_score_2019"));
        assert!(props.contains_key("gp_practice_mean_distance_m"));
        // Assets inside the ward, counted directly.
        let (gp, _) = atlas.category_by_id("gp_practice").unwrap();
        let inside = atlas
            .assets
            .iter()
            .filter(|a| a.category == gp && a.ward == Some(u32::try_from(wi).unwrap()))
            .count();
        assert_eq!(props["gp_practice_assets_inside"], inside);
    }
    // District residents are the sum of their LSOAs' residents.
    for (di, d) in atlas.districts.iter().enumerate() {
        let props = state
            .results
            .district_properties(u32::try_from(di).unwrap());
        let residents: u64 = d
            .lsoas
            .iter()
            .map(|&i| u64::from(atlas.lsoa21[i as usize].residents.unwrap()))
            .sum();
        assert_eq!(props["residents"], residents);
    }
}

/// The gap report as a JSON tree, built here from the report's public
/// parts with its own geometry conversion: what /gaps wrote before it
/// wrote text directly.
fn gap_tree(
    r: &gapmap::analysis::gap_report::GapReport,
    atlas: &gapmap::atlas::Atlas,
    analysis: &gapmap::analysis::Analysis,
) -> serde_json::Value {
    use serde_json::{json, Map, Value};
    let geometry = |lsoa: usize| {
        atlas.lsoa21.get(lsoa).map_or(Value::Null, |l| {
            let ring = |r: &geo::LineString<f64>| -> Vec<[f64; 2]> {
                r.coords()
                    .map(|c| [(c.x * 1e6).round() / 1e6, (c.y * 1e6).round() / 1e6])
                    .collect()
            };
            let polys: Vec<Vec<Vec<[f64; 2]>>> = l
                .geometry
                .lonlat
                .0
                .iter()
                .map(|p| {
                    std::iter::once(ring(p.exterior()))
                        .chain(p.interiors().iter().map(ring))
                        .collect()
                })
                .collect();
            json!({ "type": "MultiPolygon", "coordinates": polys })
        })
    };
    let feature = |lsoa: usize, props: Vec<(String, Value)>| {
        json!({
            "type": "Feature",
            "id": atlas.lsoa21.get(lsoa).map(|l| &l.code),
            "geometry": geometry(lsoa),
            "properties": props.into_iter().collect::<Map<String, Value>>(),
        })
    };
    let features: Vec<Value> = r
        .rows
        .iter()
        .map(|row| feature(row.lsoa, r.row_properties(atlas, analysis, row)))
        .collect();
    let cannot: Vec<Value> = r
        .unanswered
        .iter()
        .map(|u| feature(u.lsoa, r.unanswered_properties(atlas, analysis, u)))
        .collect();
    json!({
        "type": "FeatureCollection",
        "features": features,
        "numberReturned": r.rows.len(),
        "cannot_answer": {"type": "FeatureCollection", "features": cannot},
        "summary": r.summary(atlas),
        "parameters": r.parameters(atlas),
        "method": r.method(atlas, analysis),
    })
}

#[test]
fn the_gap_report_text_is_its_json_tree_written_out() {
    // /gaps writes its GeoJSON straight to text (England's report of every
    // LSOA took some 400 MB as a JSON tree); it must be the tree's bytes,
    // gaps and unanswerable LSOAs (no data, coverage edge) alike.
    use gapmap::analysis::gap_report::{report, validate, RawGapParams};
    let state = common::app_state();
    let snapshot = state.snapshot();
    let (atlas, analysis) = (&snapshot.atlas, &snapshot.results.analysis);
    let mut compared = 0;
    for (category, max_decile, min_m, year, measure) in [
        ("gp_practice", "10", "0", "2025", "mean"),
        ("park", "2", "400", "2025", "mean"),
        ("pharmacy", "4", "1000", "2019", "max"),
        ("food_bank", "3", "800", "2025", "mean"),
        ("library", "10", "100000", "2025", "mean"),
    ] {
        let raw = RawGapParams {
            category: Some(category),
            max_decile: Some(max_decile),
            min_distance_m: Some(min_m),
            domain: Some("imd"),
            year: Some(year),
            measure: Some(measure),
        };
        let request = validate(atlas, &raw).unwrap();
        let r = report(atlas, analysis, &request);
        let text = r.to_geojson_text(atlas, analysis);
        assert_eq!(
            text,
            gap_tree(&r, atlas, analysis).to_string(),
            "{category}"
        );
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        compared += parsed["features"].as_array().unwrap().len()
            + parsed["cannot_answer"]["features"]
                .as_array()
                .unwrap()
                .len();
    }
    assert!(compared > 400, "{compared} features compared");
}
