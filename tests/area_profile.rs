//! Issue 15: custom areas. The profile of an area equal to a ward's LSOAs
//! is the ward's roll-up, of one LSOA the LSOA, of a polygon around the
//! whole county the region's; a hand-built polygon around Blackbird Leys
//! and Greater Leys agrees with an independent shapely/pyproj computation
//! straight from the published files; the process API answers JSON and
//! CSV, takes uploads in every format GDAL reads, and refuses bad input
//! with a problem naming it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::float_cmp,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::unreadable_literal
)] // tests may panic; counts are small whole numbers; grid references read as written

mod common;

use gapmap::analysis::area_profile::{self, AreaProfile, Limits, ProfileParams};
use gapmap::analysis::rollup::AreaRollup;
use gapmap::analysis::Interrupt;
use gapmap::api::Snapshot;
use gapmap::atlas::DualPolygon;
use geo::{BooleanOps, MultiPolygon};

/// Northfield Brook, Oxford (2024 ward code): four LSOAs.
const NORTHFIELD_BROOK: &str = "E05013110";

fn snapshot() -> std::sync::Arc<Snapshot> {
    common::app_state().snapshot()
}

fn profile_of(s: &Snapshot, boundary: DualPolygon) -> AreaProfile {
    let spec = area_profile::from_polygon(
        &s.atlas,
        &s.results,
        boundary,
        &Limits::default(),
        &Interrupt::never(),
    )
    .expect("area accepted");
    area_profile::compute(
        &s.atlas,
        &s.results,
        &spec,
        &ProfileParams::default(),
        &Interrupt::never(),
    )
    .expect("never interrupted")
}

/// The union of LSOA polygons, as one polygon in both CRSs.
fn union_of(s: &Snapshot, lsoas: &[u32]) -> DualPolygon {
    let union = |pick: &dyn Fn(&DualPolygon) -> &MultiPolygon<f64>| {
        lsoas.iter().fold(MultiPolygon::new(vec![]), |acc, &i| {
            acc.union(pick(&s.atlas.lsoa21[i as usize].geometry))
        })
    };
    DualPolygon::new(union(&|g| &g.lonlat), union(&|g| &g.bng)).unwrap()
}

/// Equal up to the last bit or two (a weighted mean of one value is
/// `x·w / w`).
fn close(a: Option<f64>, b: Option<f64>) {
    match (a, b) {
        (Some(a), Some(b)) => assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} vs {b}"),
        (a, b) => assert_eq!(a, b),
    }
}

/// Residents, decile counts and scores of the profile equal the roll-up's.
fn assert_same(p: &AreaProfile, r: &AreaRollup) {
    assert_eq!(p.residents, r.residents as f64);
    assert_eq!(p.shares.len() as u32, r.lsoas);
    for (mine, theirs) in [(&p.y2025, &r.y2025), (&p.y2019, &r.y2019)] {
        let a = mine.score("imd").unwrap();
        let b = theirs.imd_score.unwrap();
        assert!((a - b).abs() <= 1e-9 * b.abs(), "{a} vs {b}");
        for (id, d) in &theirs.indicators {
            let m = mine.deciles_of(id).unwrap();
            assert_eq!(m.lsoas_by_decile, d.lsoas_by_decile, "{id}");
            let residents: Vec<u64> = m.residents_by_decile.iter().map(|r| *r as u64).collect();
            assert_eq!(residents, d.residents_by_decile.to_vec(), "{id}");
            assert_eq!(m.resident_share_top(2), d.resident_share_top20, "{id}");
        }
    }
}

#[test]
fn a_ward_drawn_as_its_lsoas_is_the_ward() {
    let s = snapshot();
    let (w, ward) = s.atlas.ward_by_code(NORTHFIELD_BROOK).unwrap();
    assert!(ward.lsoas.len() >= 3);
    let p = profile_of(&s, union_of(&s, &ward.lsoas));
    assert!(
        p.shares.iter().all(|x| x.inside == x.origins),
        "{:?}",
        p.shares
    );
    assert_same(&p, &s.results.wards[w as usize]);
}

#[test]
fn one_lsoa_is_the_lsoa() {
    let s = snapshot();
    let (i, lsoa) = s.atlas.lsoa21_by_code("E01028527").unwrap();
    let p = profile_of(&s, lsoa.geometry.clone());
    assert_eq!(p.shares.len(), 1);
    assert_eq!(p.residents, f64::from(lsoa.residents.unwrap()));
    let k = s.atlas.imd2025.position("imd").unwrap();
    close(p.y2025.score("imd"), lsoa.imd[k].score);
    let decile = lsoa.imd[k].decile.unwrap();
    let d = p.y2025.deciles_of("imd").unwrap();
    assert_eq!(d.lsoas_by_decile[usize::from(decile) - 1], 1);
    // Every indicator's score is the LSOA's own.
    for (def, v) in s.atlas.imd2025.indicators.iter().zip(&lsoa.imd) {
        close(p.y2025.score(&def.id), v.score);
    }
    let carried = &s.results.analysis.imd2019[i as usize];
    for (def, v) in s.atlas.imd2019.indicators.iter().zip(carried) {
        close(p.y2019.score(&def.id), v.score);
    }
    // A category with no resident measured (no source here, or no asset at
    // all) gives no gap figure, and says why: a 0 would read as "no gap".
    let json = area_profile::output::to_json(&s.atlas, &p);
    let mut unanswered = 0;
    for c in json["categories"].as_array().unwrap() {
        let a = &c["access"];
        if a["measured_residents"].as_f64().unwrap() > 0.0 {
            assert!(a["gap_residents"].is_number(), "{c}");
            assert!(a["cannot_answer"].is_null(), "{c}");
        } else {
            unanswered += 1;
            assert!(a["gap_residents"].is_null(), "{c}");
            assert!(a["deprived_far_residents"].is_null(), "{c}");
            let why = a["cannot_answer"].as_str().unwrap();
            assert!(
                why.starts_with("no data") || why.starts_with("cannot answer"),
                "{c}"
            );
        }
    }
    assert!(unanswered > 0, "some category has no data in this LSOA");
}

#[test]
fn the_whole_county_is_the_region() {
    let s = snapshot();
    let b = s
        .atlas
        .districts
        .iter()
        .map(|d| d.geometry.bng_bbox)
        .reduce(|a, b| {
            geo::Rect::new(
                (
                    a.min().x.min(b.min().x) - 5000.0,
                    a.min().y.min(b.min().y) - 5000.0,
                ),
                (
                    a.max().x.max(b.max().x) + 5000.0,
                    a.max().y.max(b.max().y) + 5000.0,
                ),
            )
        })
        .unwrap();
    let bng = MultiPolygon::new(vec![b.to_polygon()]);
    let dual = from_bng(&bng);
    let p = profile_of(&s, dual);
    assert_eq!(p.shares.len(), s.atlas.lsoa21.len());
    assert_same(&p, &s.results.region);
}

/// A polygon given in EPSG:27700, in both CRSs.
fn from_bng(bng: &MultiPolygon<f64>) -> DualPolygon {
    gapmap::sources::Reprojector::from_epsg(27700)
        .unwrap()
        .polygon(bng)
        .unwrap()
}

/// A zigzag of 4,001 vertices over Oxford (EPSG:27700): 1,000 teeth.
fn zigzag_bng(s: &Snapshot) -> MultiPolygon<f64> {
    let c = s.atlas.districts[0].geometry.bng_bbox.center();
    let mut ring = vec![(c.x - 5000.0, c.y - 5000.0), (c.x + 5000.0, c.y - 5000.0)];
    for t in (0..1000).rev() {
        let x = c.x - 5000.0 + f64::from(t) * 10.0;
        ring.extend([
            (x + 10.0, c.y + 5000.0),
            (x + 5.0, c.y + 5000.0),
            (x + 5.0, c.y - 4000.0),
            (x, c.y - 4000.0),
        ]);
    }
    ring.push((c.x - 5000.0, c.y - 5000.0));
    MultiPolygon::new(vec![geo::Polygon::new(ring.into(), vec![])])
}

#[test]
fn a_many_vertex_area_covers_the_origins_geo_finds_inside() {
    use geo::Intersects;
    let s = snapshot();
    let bng = zigzag_bng(&s);
    let dual = from_bng(&bng);
    let spec = area_profile::from_polygon(
        &s.atlas,
        &s.results,
        dual,
        &Limits::default(),
        &Interrupt::never(),
    )
    .expect("area accepted");
    // Brute force: every origin of the region's LSOAs (origins also stand
    // in the ring of LSOAs around it) against geo's own test.
    let origins = &s.results.analysis.origins;
    // The region's origins come first, up to the start of the ring's runs.
    let expected: Vec<usize> = (0..origins.region_len())
        .filter(|&k| bng.intersects(&origins.get(k).unwrap().bng))
        .collect();
    let mut got = spec.origins.clone();
    got.sort_unstable();
    assert!(expected.len() > 100, "{} origins", expected.len());
    assert_eq!(got, expected);
}

#[test]
fn a_raised_interrupt_stops_the_work() {
    let s = snapshot();
    let bng = zigzag_bng(&s);
    let dual = from_bng(&bng);
    let raised = Interrupt::new();
    raised.raise();
    let limits = Limits::default();
    assert_eq!(
        area_profile::from_polygon(&s.atlas, &s.results, dual.clone(), &limits, &raised).err(),
        Some(gapmap::analysis::AnalysisError::Interrupted)
    );
    let spec = area_profile::from_polygon(&s.atlas, &s.results, dual, &limits, &Interrupt::never())
        .expect("area accepted");
    let params = ProfileParams::default();
    assert!(matches!(
        area_profile::compute(&s.atlas, &s.results, &spec, &params, &raised),
        Err(gapmap::analysis::AnalysisError::Interrupted)
    ));
}

// ---------------------------------------------------------------------
// The process API.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const EXECUTE: &str = "/processes/area-profile/execution";

/// The hand-built area around Blackbird Leys and Greater Leys (EPSG:27700),
/// with a hole.
fn leys_bng() -> Value {
    json!({"type": "Polygon", "coordinates": [
        [[454900, 202300], [457300, 202200], [457600, 203400], [456900, 204600], [455200, 204500], [454700, 203300], [454900, 202300]],
        [[456000, 203300], [456000, 203500], [456200, 203500], [456200, 203300], [456000, 203300]],
    ]})
}

async fn send(method: &str, uri: &str, body: Option<Value>) -> (StatusCode, String, String) {
    let app = gapmap::api::app(common::app_state());
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "test.local")
        .header("content-type", "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    let response = app.oneshot(req).await.unwrap();
    let status = response.status();
    let ctype = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, ctype, String::from_utf8_lossy(&body).into_owned())
}

async fn execute(inputs: Value) -> Value {
    let (status, ctype, body) = send("POST", EXECUTE, Some(json!({ "inputs": inputs }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ctype, "application/json");
    serde_json::from_str(&body).unwrap()
}

/// A 400 problem naming `parameter`.
async fn refused(inputs: Value, parameter: &str) -> String {
    let (status, ctype, body) = send("POST", EXECUTE, Some(json!({ "inputs": inputs }))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(ctype, "application/problem+json");
    let problem: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(problem["parameter"], parameter, "{problem}");
    problem["detail"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn processes_are_described_and_declared() {
    let (status, _, body) = send("GET", "/processes", None).await;
    assert_eq!(status, StatusCode::OK);
    let list: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(list["processes"][0]["id"], "area-profile");
    let (_, _, body) = send("GET", "/processes/area-profile", None).await;
    let d: Value = serde_json::from_str(&body).unwrap();
    for input in ["geometry", "crs", "file", "lsoas", "wards", "districts"] {
        assert!(d["inputs"][input].is_object(), "{input}");
    }
    assert_eq!(d["jobControlOptions"], json!(["sync-execute"]));
    let (status, ctype, _) = send("GET", "/processes/nothing", None).await;
    assert_eq!(
        (status, ctype.as_str()),
        (StatusCode::NOT_FOUND, "application/problem+json")
    );
    let (_, _, body) = send("GET", "/conformance", None).await;
    for c in ["core", "json", "ogc-process-description"] {
        assert!(
            body.contains(&format!("ogcapi-processes-1/1.0/conf/{c}\"")),
            "{c}"
        );
    }
    let (_, _, body) = send("GET", "/?f=json", None).await;
    assert!(body.contains("/processes\""), "{body}");
    let (_, _, body) = send("GET", "/api", None).await;
    assert!(body.contains("/processes/{process_id}/execution"));
}

#[tokio::test]
async fn leys_polygon_agrees_with_shapely() {
    let dir = tempfile::tempdir().unwrap();
    let area = dir.path().join("leys.geojson");
    std::fs::write(&area, leys_bng().to_string()).unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/area/independent_profile.py"
    );
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(common::data_dir())
        .arg(&area)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mine = execute(
        json!({"geometry": leys_bng(), "crs": "http://www.opengis.net/def/crs/EPSG/0/27700"}),
    )
    .await;
    let a = &mine["area"];
    assert!(
        (a["residents_unrounded"].as_f64().unwrap() - theirs["residents"].as_f64().unwrap()).abs()
            < 1e-3,
        "{a} vs {theirs}"
    );
    let shares: Vec<(String, f64)> = a["lsoas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["code"].as_str().unwrap().to_owned(),
                l["share"].as_f64().unwrap(),
            )
        })
        .collect();
    let expected = theirs["shares"].as_object().unwrap();
    assert_eq!(shares.len(), expected.len(), "{shares:?} vs {expected:?}");
    for (code, share) in &shares {
        assert!(
            (share - expected[code].as_f64().unwrap()).abs() < 1e-4,
            "{code}"
        );
    }
    let d = &mine["deprivation"]["2025"];
    assert_eq!(
        d["deciles"]["imd"]["lsoas_by_decile"],
        theirs["lsoas_by_decile"]
    );
    for (m, t) in d["deciles"]["imd"]["residents_by_decile"]
        .as_array()
        .unwrap()
        .iter()
        .zip(theirs["residents_by_decile"].as_array().unwrap())
    {
        assert!(
            (m.as_f64().unwrap() - t.as_f64().unwrap()).abs() <= 0.05,
            "{m} vs {t}"
        );
    }
    assert!(
        (d["imd_score"].as_f64().unwrap() - theirs["imd_score"].as_f64().unwrap()).abs() <= 5e-4
    );
    // Blackbird Leys is among the most deprived 20%; benchmarks name Oxford.
    assert!(
        mine["summary"]["2025"]["resident_share_top20"]
            .as_f64()
            .unwrap()
            > 0.3
    );
    assert!(mine["benchmarks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b["name"] == "Oxford"));
    // The same area in CRS84 (GDAL-projected here) gives the same residents.
    let ll = reproject(&leys_bng(), "EPSG:27700", "OGC:CRS84");
    let again = execute(json!({"geometry": ll})).await;
    assert_eq!(again["area"]["residents"], a["residents"]);
}

/// A GeoJSON geometry from one CRS to another, with ogr2ogr.
fn reproject(geometry: &Value, from: &str, to: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("in.geojson");
    std::fs::write(&src, json!({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": geometry}]}).to_string()).unwrap();
    let dst = dir.path().join("out.geojson");
    ogr2ogr(&["-s_srs", from, "-t_srs", to, "-f", "GeoJSON"], &dst, &src);
    let fc: Value = serde_json::from_str(&std::fs::read_to_string(&dst).unwrap()).unwrap();
    fc["features"][0]["geometry"].clone()
}

fn ogr2ogr(args: &[&str], dst: &std::path::Path, src: &std::path::Path) {
    let out = std::process::Command::new("ogr2ogr")
        .args(args)
        .arg(dst)
        .arg(src)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn wards_and_lsoas_by_code_and_csv() {
    let s = snapshot();
    let (w, _) = s.atlas.ward_by_code(NORTHFIELD_BROOK).unwrap();
    let p = execute(json!({"wards": [NORTHFIELD_BROOK]})).await;
    assert_eq!(
        p["area"]["residents"].as_f64().unwrap(),
        s.results.wards[w as usize].residents as f64
    );
    assert_eq!(p["area"]["defined_by"], "lsoas");
    let (status, ctype, csv) = send(
        "POST",
        &format!("{EXECUTE}?f=csv"),
        Some(json!({"inputs": {"lsoas": ["E01028527"]}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(ctype.starts_with("text/csv"));
    let residents = s
        .atlas
        .lsoa21_by_code("E01028527")
        .unwrap()
        .1
        .residents
        .unwrap();
    assert!(csv.starts_with("measure,area\r\n"), "{csv}");
    assert!(
        csv.contains(&format!("\r\nresidents,{residents}\r\n")),
        "{csv}"
    );
    let (_, _, csv2) = send("POST", EXECUTE, Some(json!({"inputs": {"lsoas": ["E01028527"]}, "outputs": {"profile": {"format": {"mediaType": "text/csv"}}}}))).await;
    assert_eq!(csv, csv2);
}

/// A boundary file in `format` made with ogr2ogr from the Leys area in
/// `crs`, as a `file` input.
fn upload(format: &str, ext: &str, crs: &str, zip: bool) -> Value {
    upload_of(&leys_bng(), format, ext, crs, zip)
}

/// A boundary file holding `geometry` (EPSG:27700), written by ogr2ogr.
fn upload_of(geometry: &Value, format: &str, ext: &str, crs: &str, zip: bool) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("source.json");
    let fc = json!({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "Leys"}, "geometry": geometry}]});
    std::fs::write(&src, fc.to_string()).unwrap();
    let dst = dir.path().join(format!("leys.{ext}"));
    ogr2ogr(
        &["-s_srs", "EPSG:27700", "-t_srs", crs, "-f", format],
        &dst,
        &src,
    );
    let (bytes, name) = if zip {
        let zipped = dir.path().join("leys.zip");
        let parts: Vec<String> = ["shp", "shx", "dbf", "prj"]
            .iter()
            .map(|e| format!("leys.{e}"))
            .collect();
        let out = std::process::Command::new("python3")
            .args(["-c", "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], 'w')\nfor p in sys.argv[3:]: z.write(sys.argv[2] + '/' + p, p)\n"])
            .arg(&zipped)
            .arg(dir.path())
            .args(&parts)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (std::fs::read(&zipped).unwrap(), "leys.zip".to_owned())
    } else {
        (std::fs::read(&dst).unwrap(), format!("leys.{ext}"))
    };
    json!({"value": base64(&bytes), "encoding": "base64", "filename": name})
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[tokio::test]
async fn uploads_in_every_format_and_crs() {
    let reference = execute(json!({"geometry": leys_bng(), "crs": "EPSG:27700"})).await;
    let residents = reference["area"]["residents"].as_f64().unwrap();
    for (format, ext, zip) in [
        ("GeoJSON", "geojson", false),
        ("GPKG", "gpkg", false),
        ("ESRI Shapefile", "shp", true),
        ("KML", "kml", false),
    ] {
        for crs in ["EPSG:27700", "OGC:CRS84"] {
            if format == "KML" && crs == "EPSG:27700" {
                continue; // KML is always WGS84: ogr2ogr reprojects it anyway
            }
            let p = execute(json!({"file": upload(format, ext, crs, zip)})).await;
            let got = p["area"]["residents"].as_f64().unwrap();
            // Projected there and back: a unit within millimetres of the
            // boundary could change sides, nothing more.
            assert!(
                (got - residents).abs() <= 0.01 * residents,
                "{format} {crs}: {got} vs {residents}"
            );
            assert_eq!(
                p["area"]["lsoas_counted"], reference["area"]["lsoas_counted"],
                "{format} {crs}"
            );
        }
    }
}

#[tokio::test]
async fn bad_input_is_refused_naming_it() {
    let line = json!({"type": "LineString", "coordinates": [[-1.2, 51.7], [-1.1, 51.7]]});
    assert!(refused(json!({"geometry": line}), "geometry")
        .await
        .contains("LineString"));
    // A ring folded onto itself encloses nothing: MakeValid leaves no area.
    let flat = json!({"type": "Polygon", "coordinates": [[[-1.2, 51.7], [-1.1, 51.7], [-1.15, 51.7], [-1.2, 51.7]]]});
    assert!(refused(json!({"geometry": flat}), "geometry")
        .await
        .contains("cannot be repaired"));
    // Latitude first: said, not only "outside".
    let swapped = json!({"type": "Polygon", "coordinates": [[[51.70, -1.25], [51.70, -1.20], [51.75, -1.20], [51.75, -1.25], [51.70, -1.25]]]});
    assert!(refused(json!({"geometry": swapped}), "geometry")
        .await
        .contains("look like latitude, longitude"));
    // Central London is outside Oxfordshire.
    let london = json!({"type": "Polygon", "coordinates": [[[-0.13, 51.50], [-0.12, 51.50], [-0.12, 51.51], [-0.13, 51.51], [-0.13, 51.50]]]});
    assert!(refused(json!({"geometry": london}), "geometry")
        .await
        .contains("outside"));
    // Too many vertices: a 20,001-gon.
    let ring: Vec<Value> = (0..=20_001)
        .map(|k| {
            let t = f64::from(k % 20_001) / 20_001.0 * std::f64::consts::TAU;
            json!([-1.2 + 0.01 * t.cos(), 51.7 + 0.01 * t.sin()])
        })
        .collect();
    assert!(refused(
        json!({"geometry": {"type": "Polygon", "coordinates": [ring]}}),
        "geometry"
    )
    .await
    .contains("vertices"));
    // Too many features.
    let square = |k: usize| json!({"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[[-1.2 + k as f64 * 1e-4, 51.7], [-1.2 + k as f64 * 1e-4 + 5e-5, 51.7], [-1.2 + k as f64 * 1e-4 + 5e-5, 51.70005], [-1.2 + k as f64 * 1e-4, 51.7], ]]}});
    let many =
        json!({"type": "FeatureCollection", "features": (0..501).map(square).collect::<Vec<_>>()});
    assert!(refused(json!({"geometry": many}), "geometry")
        .await
        .contains("polygons"));
    // An unreadable file, and one holding a line.
    let said = refused(
        json!({"file": {"value": base64(b"not a boundary file"), "filename": "x.gpkg"}}),
        "file",
    )
    .await;
    // A statement of what is wrong, not put after "expected".
    assert!(
        said.starts_with("parameter 'file': GDAL cannot read it"),
        "{said}"
    );
    let lines = json!({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": line}]});
    refused(
        json!({"file": {"value": base64(lines.to_string().as_bytes()), "filename": "x.geojson"}}),
        "file",
    )
    .await;
    // Two ways at once, none, unknown codes, bad thresholds.
    refused(
        json!({"geometry": leys_bng(), "lsoas": ["E01028527"]}),
        "inputs",
    )
    .await;
    refused(json!({}), "inputs").await;
    refused(json!({"wards": ["E05999999"]}), "wards").await;
    refused(
        json!({"lsoas": ["E01028527"], "max_decile": 11}),
        "max_decile",
    )
    .await;
    refused(json!({"geometry": leys_bng(), "crs": "EPSG:999999"}), "crs").await;
    // Metres sent as CRS84 (the default): refused before any projection,
    // saying which coordinate and what to do.
    let said = refused(
        json!({"geometry": leys_bng(), "crs": "OGC:CRS84"}),
        "geometry",
    )
    .await;
    assert!(
        said.contains("EPSG:27700") && said.contains("degrees"),
        "{said}"
    );
    // WKT whose PROJ4 extension names a grid file: no part of it is used.
    let wkt = r#"PROJCS["x",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",49],PARAMETER["central_meridian",-2],PARAMETER["scale_factor",0.9996012717],PARAMETER["false_easting",400000],PARAMETER["false_northing",-100000],UNIT["metre",1],EXTENSION["PROJ4","+proj=tmerc +lat_0=49 +lon_0=-2 +k=0.9996012717 +x_0=400000 +y_0=-100000 +ellps=airy +nadgrids=/etc/passwd +units=m +no_defs"]]"#;
    refused(json!({"geometry": leys_bng(), "crs": wkt}), "crs").await;
    // Nor a WKT2 grid file (PARAMETERFILE), nor a BOUNDCRS carrying one.
    let base = r#"BASEGEOGCRS["WGS 84",DATUM["World Geodetic System 1984",ELLIPSOID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],ANGLEUNIT["degree",0.0174532925199433]]"#;
    let with_file = format!(
        r#"PROJCRS["x",{base},CONVERSION["c",METHOD["Transverse Mercator"],PARAMETERFILE["Latitude and longitude difference file","/nonexistent/zz.gsb"]],CS[Cartesian,2],AXIS["easting",east],AXIS["northing",north],LENGTHUNIT["metre",1]]"#
    );
    assert!(
        refused(json!({"geometry": leys_bng(), "crs": with_file}), "crs")
            .await
            .contains("PARAMETERFILE")
    );
    let bound = r#"BOUNDCRS[SOURCECRS[GEOGCRS["a",DATUM["b",ELLIPSOID["c",6378137,298.257223563]],CS[ellipsoidal,2],AXIS["lat",north],AXIS["lon",east],ANGLEUNIT["degree",0.0174532925199433]]],TARGETCRS[GEOGCRS["WGS 84",DATUM["World Geodetic System 1984",ELLIPSOID["WGS 84",6378137,298.257223563]],CS[ellipsoidal,2],AXIS["lat",north],AXIS["lon",east],ANGLEUNIT["degree",0.0174532925199433]]],ABRIDGEDTRANSFORMATION["t",METHOD["NTv2"],PARAMETERFILE["Latitude and longitude difference file","/nonexistent/zz.gsb"]]]"#;
    refused(json!({"geometry": leys_bng(), "crs": bound}), "crs").await;
    // A zipped Shapefile of one 100,000-vertex ring is refused on GDAL's
    // own count, before the geometry is copied or written out as text.
    let ring: Vec<[f64; 2]> = (0..=100_000)
        .map(|k| {
            let t = f64::from(k % 100_000) / 100_000.0 * std::f64::consts::TAU;
            [451_000.0 + 300.0 * t.cos(), 206_000.0 + 300.0 * t.sin()]
        })
        .collect();
    let big = upload_of(
        &json!({"type": "Polygon", "coordinates": [ring]}),
        "ESRI Shapefile",
        "shp",
        "EPSG:27700",
        true,
    );
    let said = refused(json!({"file": big}), "file").await;
    assert!(said.contains("more than 20000 vertices"), "{said}");
    // Without the extension the same WKT is taken.
    let plain = wkt.split(",EXTENSION").next().unwrap().to_owned() + "]";
    execute(json!({"geometry": leys_bng(), "crs": plain})).await;
    // Not JSON at all.
    let app = gapmap::api::app(common::app_state());
    let req = Request::builder()
        .method("POST")
        .uri(EXECUTE)
        .header("host", "t")
        .body(Body::from("{"))
        .unwrap();
    let r = app.oneshot(req).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_bow_tie_is_repaired() {
    let s = snapshot();
    let (_, lsoa) = s.atlas.lsoa21_by_code("E01028527").unwrap();
    let c = lsoa.geometry.lonlat_bbox.center();
    let d = 0.01;
    let bow = json!({"type": "Polygon", "coordinates": [[[c.x - d, c.y - d], [c.x + d, c.y + d], [c.x + d, c.y - d], [c.x - d, c.y + d], [c.x - d, c.y - d]]]});
    let p = execute(json!({"geometry": bow})).await;
    assert_eq!(p["area"]["repaired"], true);
    assert!(p["area"]["residents"].as_f64().unwrap() > 0.0);
}

#[tokio::test]
async fn a_hole_touching_its_shell_is_cut_out_not_dropped() {
    // A 2 km square (EPSG:27700) around an Oxford LSOA, with a hole that
    // shares part of the shell's west edge: invalid, repaired by cutting
    // the hole out. The notched polygon is built independently, by geo's
    // boolean difference, and must profile the same.
    let s = snapshot();
    let (_, lsoa) = s.atlas.lsoa21_by_code("E01028527").unwrap();
    let c = lsoa.geometry.bng_bbox.center();
    let (x0, y0) = ((c.x - 1000.0).round(), (c.y - 1000.0).round());
    let square = |x: f64, y: f64, w: f64, h: f64| {
        vec![[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]
    };
    let shell = square(x0, y0, 2000.0, 2000.0);
    let hole = square(x0, y0 + 500.0, 800.0, 1000.0);
    let invalid = json!({"type": "Polygon", "coordinates": [shell.clone(), hole.clone()]});
    let ring = |r: &Vec<[f64; 2]>| {
        geo::LineString::from(r.iter().map(|p| (p[0], p[1])).collect::<Vec<_>>())
    };
    let notched =
        geo::Polygon::new(ring(&shell), vec![]).difference(&geo::Polygon::new(ring(&hole), vec![]));
    let coords = |r: &geo::LineString<f64>| r.0.iter().map(|p| [p.x, p.y]).collect::<Vec<_>>();
    let notched = json!({
        "type": "MultiPolygon",
        "coordinates": notched.0.iter().map(|p| {
            std::iter::once(coords(p.exterior())).chain(p.interiors().iter().map(coords)).collect::<Vec<_>>()
        }).collect::<Vec<_>>(),
    });
    let repaired = execute(json!({"geometry": invalid, "crs": "EPSG:27700"})).await;
    let reference = execute(json!({"geometry": notched, "crs": "EPSG:27700"})).await;
    assert_eq!(repaired["area"]["repaired"], true);
    assert_eq!(reference["area"]["repaired"], false);
    for key in ["residents", "area_km2"] {
        let (a, b) = (
            repaired["area"][key].as_f64().unwrap(),
            reference["area"][key].as_f64().unwrap(),
        );
        assert!((a - b).abs() <= 1e-6 * b.max(1.0), "{key}: {a} vs {b}");
    }
    // The whole square has more: the hole took something out.
    let whole = execute(
        json!({"geometry": {"type": "Polygon", "coordinates": [shell]}, "crs": "EPSG:27700"}),
    )
    .await;
    assert!(
        whole["area"]["area_km2"].as_f64().unwrap()
            > repaired["area"]["area_km2"].as_f64().unwrap() + 0.7
    );
}
