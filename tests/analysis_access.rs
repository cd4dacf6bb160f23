//! Access analysis on the real Oxfordshire atlas, checked against an
//! independent brute force (Vincenty distances over every asset).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)] // tests may panic

mod common;

use gapmap::analysis::access::{self, Access, AccessParams};
use gapmap::analysis::fca::{self, FcaParams};
use gapmap::analysis::origins::{self, OriginKind};
use gapmap::atlas::{Atlas, Coverage};

use common::vincenty_m;

fn category(atlas: &Atlas, id: &str) -> usize {
    usize::from(atlas.category_by_id(id).expect("category").0)
}

/// Per-postcode nearest (distance, asset index) by brute force.
fn brute_nearest(atlas: &Atlas, c: usize, lon: f64, lat: f64) -> (f64, usize) {
    atlas
        .assets
        .iter()
        .enumerate()
        .filter(|(_, a)| usize::from(a.category) == c)
        .map(|(i, a)| {
            (
                vincenty_m(lon, lat, a.location.lonlat.x(), a.location.lonlat.y()),
                i,
            )
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .expect("category has assets")
}

fn postcodes_of(atlas: &Atlas, lsoa: usize) -> Vec<(f64, f64)> {
    atlas
        .postcodes
        .iter()
        .filter(|p| p.lsoa21 as usize == lsoa)
        .map(|p| (p.location.lonlat.x(), p.location.lonlat.y()))
        .collect()
}

#[test]
fn distances_match_brute_force_vincenty_for_every_lsoa() {
    let atlas = common::atlas();
    let planner = common::planner();
    for id in ["gp_practice", "pharmacy", "library"] {
        let c = category(atlas, id);
        let mut checked = 0;
        for (i, _) in atlas.lsoa21.iter().enumerate() {
            let pcs = postcodes_of(atlas, i);
            if pcs.is_empty() {
                continue;
            }
            let Some(Access::Measured(m)) = planner.analysis.access.get(i, c) else {
                panic!("{id}: LSOA {i} not measured though England-wide coverage");
            };
            let d: Vec<(f64, usize)> = pcs
                .iter()
                .map(|&(x, y)| brute_nearest(atlas, c, x, y))
                .collect();
            let mean = d.iter().map(|x| x.0).sum::<f64>() / d.len() as f64;
            let max = d.iter().map(|x| x.0).fold(0.0, f64::max);
            let (min, arg) = d
                .iter()
                .copied()
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .unwrap();
            assert!(
                (m.mean_m - mean).abs() < 1.0,
                "{id} LSOA {i}: mean {} vs {mean}",
                m.mean_m
            );
            assert!(
                (m.max_m - max).abs() < 1.0,
                "{id} LSOA {i}: max {} vs {max}",
                m.max_m
            );
            assert!(
                (m.min_m - min).abs() < 1.0,
                "{id} LSOA {i}: min {} vs {min}",
                m.min_m
            );
            // The reported nearest asset is at the minimum distance from some
            // postcode (two assets can be equally near; then either will do).
            let a = &atlas.assets[m.nearest_asset as usize];
            assert_eq!(usize::from(a.category), c);
            let to_reported = pcs
                .iter()
                .map(|&(x, y)| vincenty_m(x, y, a.location.lonlat.x(), a.location.lonlat.y()))
                .fold(f64::INFINITY, f64::min);
            assert!(
                (to_reported - min).abs() < 1.0,
                "{id} LSOA {i}: nearest {} at {to_reported} vs {} at {min}",
                a.id,
                atlas.assets[arg].id
            );
            checked += 1;
        }
        assert!(checked > 400, "{id}: only {checked} LSOAs checked");
    }
}

#[test]
fn named_lsoa_nearest_gp_is_the_leys_health_centre() {
    // Oxford 016A (Blackbird Leys / Littlemore): brute force over every GP
    // asset from every postcode of the LSOA finds The Leys Health Centre.
    let atlas = common::atlas();
    let planner = common::planner();
    let (i, l) = atlas.lsoa21_by_code("E01028552").expect("Oxford 016A");
    assert_eq!(l.name, "Oxford 016A");
    let c = category(atlas, "gp_practice");
    let pcs = postcodes_of(atlas, i as usize);
    let (d, arg) = pcs
        .iter()
        .map(|&(x, y)| brute_nearest(atlas, c, x, y))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .unwrap();
    assert_eq!(atlas.assets[arg].name, "THE LEYS HEALTH CENTRE");
    let m = planner
        .analysis
        .access
        .get(i as usize, c)
        .and_then(Access::measured)
        .unwrap();
    assert_eq!(
        atlas.assets[m.nearest_asset as usize].name,
        "THE LEYS HEALTH CENTRE"
    );
    assert!((m.min_m - d).abs() < 1.0);
}

#[test]
fn band_counts_match_brute_force_from_the_origin_centre() {
    let atlas = common::atlas();
    let planner = common::planner();
    let o = origins::build(atlas);
    let bands = AccessParams::default().bands_m;
    for id in ["gp_practice", "pharmacy"] {
        let c = category(atlas, id);
        for i in (0..atlas.lsoa21.len()).step_by(7) {
            let centre = o.centres[i].expect("centre");
            let m = planner
                .analysis
                .access
                .get(i, c)
                .and_then(Access::measured)
                .unwrap();
            for (k, band) in bands.iter().enumerate() {
                let n = atlas
                    .assets
                    .iter()
                    .filter(|a| usize::from(a.category) == c)
                    .filter(|a| {
                        vincenty_m(
                            centre.lonlat.x(),
                            centre.lonlat.y(),
                            a.location.lonlat.x(),
                            a.location.lonlat.y(),
                        ) <= *band
                    })
                    .count();
                assert_eq!(m.within[k] as usize, n, "{id} LSOA {i} band {band}");
            }
        }
    }
}

#[test]
fn lsoas_outside_osm_coverage_get_no_data_for_parks_never_a_distance() {
    let atlas = common::atlas();
    let planner = common::planner();
    let park = category(atlas, "park");
    let (i, l) = atlas.lsoa21_by_code("E01028500").expect("Cherwell 016D");
    assert!(!atlas.category_covers(u16::try_from(park).unwrap(), l));
    assert_eq!(
        planner.analysis.access.get(i as usize, park),
        Some(&Access::NoData)
    );
    assert!(planner.analysis.access.no_data_reasons[park].starts_with("no data: "));
    assert!(planner.analysis.access.no_data_reasons[park].contains("Central Oxford extract"));
    // Every LSOA: measured exactly when covered.
    let mut covered = 0;
    for (i, l) in atlas.lsoa21.iter().enumerate() {
        let is_covered = atlas.category_covers(u16::try_from(park).unwrap(), l);
        let a = planner.analysis.access.get(i, park).unwrap();
        assert_eq!(is_covered, !matches!(a, Access::NoData), "LSOA {}", l.code);
        covered += usize::from(is_covered);
    }
    assert!(
        covered > 10 && covered < 200,
        "{covered} LSOAs covered by the OSM extract"
    );
    // GP practices (England-wide) are measured everywhere.
    let gp = category(atlas, "gp_practice");
    assert!(planner
        .analysis
        .access
        .get(i as usize, gp)
        .and_then(Access::measured)
        .is_some());
}

#[test]
fn coverage_edge_rule_matches_an_independent_check() {
    let atlas = common::atlas();
    let planner = common::planner();
    let park = category(atlas, "park");
    let osm = atlas.sources.iter().find(|s| s.id == "osm").unwrap();
    let Coverage::Bbox { bbox, .. } = osm.coverage.clone() else {
        panic!("osm is a bbox")
    };
    let mut flagged = 0;
    for (i, _) in atlas.lsoa21.iter().enumerate() {
        let Some(Access::Measured(m)) = planner.analysis.access.get(i, park) else {
            continue;
        };
        let expect = postcodes_of(atlas, i).iter().any(|&(x, y)| {
            let (d, _) = brute_nearest(atlas, park, x, y);
            let edge = [
                vincenty_m(x, y, bbox[0], y),
                vincenty_m(x, y, bbox[2], y),
                vincenty_m(x, y, x, bbox[1]),
                vincenty_m(x, y, x, bbox[3]),
            ]
            .into_iter()
            .fold(f64::INFINITY, f64::min);
            d > edge + 0.5
        });
        let near_tie = postcodes_of(atlas, i).iter().any(|&(x, y)| {
            let (d, _) = brute_nearest(atlas, park, x, y);
            let edge = [
                vincenty_m(x, y, bbox[0], y),
                vincenty_m(x, y, bbox[2], y),
                vincenty_m(x, y, x, bbox[1]),
                vincenty_m(x, y, x, bbox[3]),
            ]
            .into_iter()
            .fold(f64::INFINITY, f64::min);
            (d - edge).abs() <= 0.5
        });
        if !near_tie {
            assert_eq!(m.edge.is_some(), expect, "LSOA {}", atlas.lsoa21[i].code);
        }
        flagged += usize::from(m.edge.is_some());
    }
    // Not every covered LSOA is uncertain, or the rule would be useless.
    let covered = (0..atlas.lsoa21.len())
        .filter(|&i| {
            matches!(
                planner.analysis.access.get(i, park),
                Some(Access::Measured(_))
            )
        })
        .count();
    assert!(flagged < covered, "{flagged} of {covered} flagged");
}

#[test]
fn lsoa_without_postcodes_falls_back_to_a_point_on_its_surface() {
    use geo::Intersects;
    let atlas = common::atlas();
    let o = origins::build(atlas);
    for (i, l) in atlas.lsoa21.iter().enumerate() {
        let has = atlas.postcodes.iter().any(|p| p.lsoa21 as usize == i);
        match o.kinds[i] {
            OriginKind::Postcodes => assert!(has),
            OriginKind::InteriorPoint => {
                assert!(!has);
                let p = *o.of(i).iter().next().unwrap();
                assert!(l.geometry.lonlat.intersects(&p.lonlat), "{}", l.code);
                // The fitted BNG position lies in the BNG polygon too.
                assert!(l.geometry.bng.intersects(&p.bng), "{}", l.code);
                assert_eq!(o.share(i), f64::from(l.residents.unwrap_or(0)));
            }
            OriginKind::None => panic!("LSOA {} has no origin", l.code),
        }
    }
    // Residents are shared over postcodes: totals are preserved. (The ring
    // of neighbouring LSOAs, 2SFCA demand only, follows the region's groups.)
    let total: f64 = (0..o.region_len())
        .map(|k| residents_of(atlas, &o, k))
        .sum();
    let census: f64 = atlas
        .lsoa21
        .iter()
        .map(|l| f64::from(l.residents.unwrap_or(0)))
        .sum();
    assert!((total - census).abs() < 1e-3, "{total} vs {census}");
}

/// The residents origin `k` stands for, found without `Origins::group_of`
/// or `Origins::share`: its LSOA's (or ring LSOA's) residents over the
/// origins of the run that holds it, the runs scanned one by one.
fn residents_of(atlas: &gapmap::atlas::Atlas, o: &origins::Origins, k: usize) -> f64 {
    let g = (0..o.groups())
        .find(|&g| o.of(g).positions().contains(&k))
        .unwrap();
    let n = atlas.lsoa21.len();
    let residents = if g < n {
        atlas.lsoa21[g].residents
    } else {
        atlas.ring.lsoas[g - n].residents
    };
    f64::from(residents.unwrap_or(0)) / o.of(g).len() as f64
}

#[test]
fn two_step_fca_matches_brute_force_and_conserves_supply() {
    let atlas = common::atlas();
    let planner = common::planner();
    let c = category(atlas, "gp_practice");
    let d0 = 1600.0;
    let o = origins::build(atlas);
    let res: Vec<f64> = (0..o.len()).map(|k| residents_of(atlas, &o, k)).collect();
    let gps: Vec<(f64, f64)> = atlas
        .assets
        .iter()
        .filter(|a| usize::from(a.category) == c)
        .map(|a| (a.location.lonlat.x(), a.location.lonlat.y()))
        .collect();
    // All origin × asset distances once.
    let dist: Vec<Vec<f64>> = (0..o.len())
        .map(|k| o.get(k).unwrap())
        .map(|p| {
            gps.iter()
                .map(|g| vincenty_m(p.lonlat.x(), p.lonlat.y(), g.0, g.1))
                .collect()
        })
        .collect();
    let demand: Vec<f64> = (0..gps.len())
        .map(|j| {
            dist.iter()
                .enumerate()
                .filter(|(_, d)| d[j] <= d0)
                .map(|(k, _)| res[k])
                .sum()
        })
        .collect();
    let ratio: Vec<f64> = demand
        .iter()
        .map(|&d| if d > 0.0 { 1.0 / d } else { 0.0 })
        .collect();
    for i in 0..atlas.lsoa21.len() {
        let pts: Vec<usize> = o.of(i).positions().collect();
        let people: f64 = pts.iter().map(|&k| res[k]).sum();
        let a: f64 = pts
            .iter()
            .map(|&k| {
                res[k]
                    * (0..gps.len())
                        .filter(|&j| dist[k][j] <= d0)
                        .map(|j| ratio[j])
                        .sum::<f64>()
            })
            .sum();
        let expect = a / people * 10_000.0;
        let got = planner.analysis.fca.get(i, c).unwrap();
        assert!(
            (got - expect).abs() <= 1e-9 * expect.max(1.0),
            "LSOA {i}: {got} vs {expect}"
        );
    }
    // Supply is conserved: residents × accessibility sums to the number of
    // GP practices that have any resident in their catchment, over the
    // region and the ring of neighbouring LSOAs whose residents compete
    // for them (demand does not stop at the border; issue 13).
    let served = demand.iter().filter(|&&d| d > 0.0).count() as f64;
    let ring: f64 = (o.region_len()..o.len())
        .map(|k| {
            res[k]
                * (0..gps.len())
                    .filter(|&j| dist[k][j] <= d0)
                    .map(|j| ratio[j])
                    .sum::<f64>()
        })
        .sum();
    let total: f64 = ring
        + (0..atlas.lsoa21.len())
            .map(|i| {
                planner.analysis.fca.get(i, c).unwrap() / 10_000.0
                    * f64::from(atlas.lsoa21[i].residents.unwrap())
            })
            .sum::<f64>();
    assert!((total - served).abs() < 1e-6, "{total} vs {served}");
}

#[test]
fn gaussian_decay_gives_less_access_than_binary_catchment() {
    let atlas = common::atlas();
    let o = origins::build(atlas);
    let binary = fca::compute(atlas, &o, &FcaParams::defaults(atlas));
    let mut p = FcaParams::defaults(atlas);
    p.decay = fca::Decay::Gaussian;
    let gaussian = fca::compute(atlas, &o, &p);
    let c = category(atlas, "pharmacy");
    // Supply is conserved under both, so the totals agree while values differ.
    let total = |t: &fca::FcaTable| -> f64 {
        (0..atlas.lsoa21.len())
            .map(|i| t.get(i, c).unwrap_or(0.0) * f64::from(atlas.lsoa21[i].residents.unwrap_or(0)))
            .sum()
    };
    assert!((0..atlas.lsoa21.len())
        .any(|i| (binary.get(i, c).unwrap() - gaussian.get(i, c).unwrap()).abs() > 1e-6));
    assert!(total(&binary) > 0.0 && total(&gaussian) > 0.0);
}

#[test]
fn access_is_deterministic_and_bands_configurable() {
    let atlas = common::atlas();
    let o = origins::build(atlas);
    let params = AccessParams {
        bands_m: vec![250.0, 10_000.0],
    };
    let a = access::compute(atlas, &o, &params);
    let b = access::compute(atlas, &o, &params);
    let c = category(atlas, "library");
    for i in 0..atlas.lsoa21.len() {
        assert_eq!(a.get(i, c), b.get(i, c));
        let m = a.get(i, c).and_then(Access::measured).unwrap();
        assert_eq!(m.within.len(), 2);
        assert!(m.within[0] <= m.within[1]);
    }
}

#[test]
fn group_candidates_give_the_same_nearest_as_a_search_per_postcode() {
    use gapmap::analysis::nearest::{group_candidates, nearest_among, nearest_geodesic};
    let atlas = common::atlas();
    let origins = origins::build(atlas);
    let lonlat = |i: u32| atlas.assets.get(i as usize).map(|a| a.location.lonlat);
    let mut compared = 0;
    for c in 0..atlas.categories.len() {
        let Some(tree) = atlas.indexes.assets.category(c).filter(|t| t.size() > 0) else {
            continue;
        };
        for i in 0..atlas.lsoa21.len() {
            let points = origins.of(i);
            let group = origins.bounds[i].unwrap();
            let candidates = group_candidates(tree, group, lonlat);
            for o in points.iter() {
                let grouped = nearest_among(&candidates, o).unwrap();
                let searched = nearest_geodesic(tree, o, lonlat).unwrap();
                assert_eq!(grouped.item, searched.item, "category {c}, LSOA {i}");
                assert!((grouped.distance_m - searched.distance_m).abs() < 1e-9);
                compared += 1;
            }
        }
    }
    // 13 categories × 22,000-odd origins.
    assert!(compared > 250_000, "{compared}");
}
