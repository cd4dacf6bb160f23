//! Incremental snapshots on the real Oxfordshire atlas: an atlas derived
//! with other assets (`Atlas::with_assets`), its analysis updated for the
//! changed categories (`Results::update`) and its collections rebuilt
//! (`ogc::build::rebuild`) equal what a full computation gives, and what
//! does not depend on the assets is shared, not copied.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)] // tests may panic

mod common;

use gapmap::analysis::Interrupt;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use gapmap::analysis::access::Access;
use gapmap::analysis::Results;
use gapmap::api::ogc::build::{build, rebuild};
use gapmap::api::ogc::model::Collection;
use gapmap::api::{AppState, Snapshot};
use gapmap::atlas::{Asset, AssetSource, Atlas, Category, CategoryIdx, Coverage, DualPoint};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// Oxford 005A (Barton), where the extra GP practice goes.
const BARTON: &str = "E01028513";
const NEW_GP: &str = "test-gp-barton";

fn category(atlas: &Atlas, id: &str) -> CategoryIdx {
    atlas.category_by_id(id).unwrap().0
}

/// An asset at `location`, placed in its LSOA, ward and district as the
/// register layer will place it.
fn asset_at(
    atlas: &Atlas,
    id: &str,
    category: CategoryIdx,
    source: u16,
    location: DualPoint,
) -> Asset {
    let lsoa = atlas.lsoa21_at(location.lonlat).expect("inside the region");
    let l = &atlas.lsoa21[lsoa as usize];
    Asset {
        id: id.to_owned(),
        name: format!("Test asset {id}"),
        category,
        source,
        location,
        address: None,
        postcode: None,
        area_m2: None,
        location_precision: None,
        lsoa21: Some(lsoa),
        ward: l.ward,
        district: l.district,
        in_region: true,
    }
}

/// The first residential postcode of an LSOA (by code).
fn postcode_in(atlas: &Atlas, lsoa_code: &str) -> DualPoint {
    let (i, _) = atlas.lsoa21_by_code(lsoa_code).unwrap();
    atlas
        .postcodes
        .iter()
        .find(|p| p.lsoa21 == i)
        .expect("a postcode in the LSOA")
        .location
}

/// The base atlas with one GP practice added at a Barton postcode and the
/// first GP practice (by id) outside Barton's ward removed; also returns
/// the removed asset's id.
fn moved_gp(base: &Atlas) -> (Atlas, String) {
    let gp = category(base, "gp_practice");
    let source = base.categories[usize::from(gp)].sources[0];
    let added = asset_at(base, NEW_GP, gp, source, postcode_in(base, BARTON));
    let removed = base
        .assets
        .iter()
        .find(|a| a.category == gp && a.in_region && a.ward.is_some() && a.ward != added.ward)
        .unwrap()
        .id
        .clone();
    let mut assets: Vec<Asset> = base
        .assets
        .iter()
        .filter(|a| a.id != removed)
        .cloned()
        .collect();
    // Put it first: `with_assets` must sort.
    assets.insert(0, added);
    let atlas = base.with_assets(assets, base.categories.clone(), base.sources.clone());
    (atlas, removed)
}

/// `atlas` plus a new category (`warm_space`) from a new source covering
/// Oxford only, with two assets in Barton.
fn with_warm_spaces(atlas: &Atlas) -> Atlas {
    let (oxford, _) = atlas.district_by_code("E07000178").unwrap();
    let oxford_code = atlas.districts[oxford as usize].code.clone();
    let mut sources = atlas.sources.clone();
    sources.push(AssetSource {
        id: "test_register".into(),
        title: "Test register".into(),
        publisher: "GapMap tests".into(),
        vintage: "today".into(),
        licence: "OGL-UK-3.0".into(),
        attribution: "Test data".into(),
        coverage: Coverage::Districts {
            codes: vec![oxford_code],
            description: "Oxford".into(),
        },
    });
    let source = u16::try_from(sources.len() - 1).unwrap();
    let mut categories = atlas.categories.clone();
    categories.push(Category {
        id: "warm_space".into(),
        label: "Warm spaces".into(),
        sources: vec![source],
    });
    let warm = u16::try_from(categories.len() - 1).unwrap();
    let at = postcode_in(atlas, BARTON);
    let mut assets = atlas.assets.clone();
    for (n, dx) in [(1, 0.0), (2, 0.001)] {
        let location = DualPoint {
            lonlat: geo::Point::new(at.lonlat.x() + dx, at.lonlat.y()),
            // 0.001° of longitude at 51.77° N is about 69 m east.
            bng: geo::Point::new(at.bng.x() + dx * 69_000.0, at.bng.y()),
        };
        assets.push(asset_at(
            atlas,
            &format!("test-warm-{n}"),
            warm,
            source,
            location,
        ));
    }
    atlas.with_assets(assets, categories, sources)
}

/// `got` equals `want` in every computed value (timings aside).
fn assert_same_results(atlas: &Atlas, got: &Results, want: &Results) {
    let (g, w) = (&got.analysis, &want.analysis);
    assert_eq!(g.access.categories, w.access.categories);
    assert_eq!(g.access.params, w.access.params);
    assert_eq!(g.access.origin_kinds, w.access.origin_kinds);
    assert_eq!(g.access.origin_counts, w.access.origin_counts);
    assert_eq!(g.access.no_data_reasons, w.access.no_data_reasons);
    assert_eq!(g.access.lsoas(), atlas.lsoa21.len());
    assert_eq!(g.fca.params, w.fca.params);
    assert_eq!(g.fca.categories, w.fca.categories);
    for i in 0..atlas.lsoa21.len() {
        for c in 0..atlas.categories.len() {
            assert_eq!(g.access.get(i, c), w.access.get(i, c), "access {i} {c}");
            assert_eq!(
                g.fca.get(i, c).map(f64::to_bits),
                w.fca.get(i, c).map(f64::to_bits),
                "2SFCA {i} {c}"
            );
        }
    }
    assert_eq!(*g.imd2019, *w.imd2019);
    assert_eq!(format!("{:?}", g.origins), format!("{:?}", w.origins));
    assert_eq!(got.wards.len(), want.wards.len());
    for (i, (a, b)) in got.wards.iter().zip(&want.wards).enumerate() {
        assert_eq!(a, b, "ward {}", atlas.wards[i].code);
    }
    assert_eq!(got.districts, want.districts);
    assert_eq!(got.region, want.region);
}

/// Every field of two collections is the same (the id map compared as a map).
fn assert_same_collection(got: &Collection, want: &Collection) {
    let id = &want.id;
    assert_eq!(got.id, want.id);
    assert_eq!(got.title, want.title, "{id}");
    assert_eq!(got.description, want.description, "{id}");
    assert_eq!(
        format!("{:?}", got.provenance),
        format!("{:?}", want.provenance),
        "{id}"
    );
    assert_eq!(
        format!("{:?}", got.props),
        format!("{:?}", want.props),
        "{id}"
    );
    assert_eq!(got.features.len(), want.features.len(), "{id}");
    for (a, b) in got.features.iter().zip(&want.features) {
        assert_eq!(format!("{a:?}"), format!("{b:?}"), "{id}/{}", b.id);
    }
    assert_eq!(got.by_id, want.by_id, "{id}");
    assert_eq!(got.extent, want.extent, "{id}");
    assert_eq!(got.geometry_type, want.geometry_type, "{id}");
}

fn assert_same_ogc(got: &gapmap::api::ogc::OgcState, want: &gapmap::api::ogc::OgcState) {
    let ids = |s: &gapmap::api::ogc::OgcState| {
        s.collections
            .iter()
            .map(|c| c.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(got), ids(want));
    assert_eq!(got.by_id, want.by_id);
    for (a, b) in got.collections.iter().zip(&want.collections) {
        assert_same_collection(a, b);
    }
    assert_eq!(format!("{:?}", got.sources), format!("{:?}", want.sources));
    assert_eq!(got.region, want.region);
    assert_eq!(got.startup_tag, want.startup_tag);
}

fn shared(
    ogc: &gapmap::api::ogc::OgcState,
    previous: &gapmap::api::ogc::OgcState,
    id: &str,
) -> bool {
    let of = |s: &gapmap::api::ogc::OgcState| Arc::clone(&s.collections[s.by_id[id]]);
    Arc::ptr_eq(&of(ogc), &of(previous))
}

#[test]
fn a_derived_atlas_shares_the_areas_and_indexes_its_own_assets() {
    let base = common::atlas();
    let (atlas, removed) = moved_gp(base);
    assert!(Arc::ptr_eq(&atlas.lsoa21, &base.lsoa21));
    assert!(Arc::ptr_eq(&atlas.lsoa11, &base.lsoa11));
    assert!(Arc::ptr_eq(&atlas.wards, &base.wards));
    assert!(Arc::ptr_eq(&atlas.districts, &base.districts));
    assert!(Arc::ptr_eq(&atlas.imd2025, &base.imd2025));
    assert!(Arc::ptr_eq(&atlas.postcodes, &base.postcodes));
    assert!(Arc::ptr_eq(&atlas.report, &base.report));
    assert!(Arc::ptr_eq(&atlas.indexes.lsoa21, &base.indexes.lsoa21));
    // Area lookups answer as before.
    assert_eq!(
        atlas.lsoa21_by_code(BARTON).unwrap().0,
        base.lsoa21_by_code(BARTON).unwrap().0
    );
    // The assets: sorted by id, one in, one out, found by id.
    assert_eq!(atlas.assets.len(), base.assets.len());
    assert!(atlas.assets.windows(2).all(|w| w[0].id < w[1].id));
    assert!(atlas.asset_by_id(&removed).is_none());
    let added = atlas.asset_by_id(NEW_GP).unwrap();
    assert_eq!(
        atlas.lsoa21[added.lsoa21.unwrap() as usize].code,
        BARTON,
        "the postcode's LSOA"
    );
    let i = atlas.asset_index(NEW_GP).unwrap();
    assert_eq!(atlas.assets[i as usize].id, NEW_GP);
    // The GP tree holds the new practice and not the removed one.
    let gp = usize::from(category(&atlas, "gp_practice"));
    let tree = atlas.indexes.assets.category(gp).unwrap();
    let base_tree = base.indexes.assets.category(gp).unwrap();
    // One site per position, standing for every practice there.
    let assets_in = |a: &Atlas, t: &rstar::RTree<gapmap::atlas::index::PointEntry>| -> u32 {
        t.iter().map(|e| a.indexes.assets.copies(gp, e.data)).sum()
    };
    let practices = |a: &Atlas| {
        a.assets
            .iter()
            .filter(|x| usize::from(x.category) == gp)
            .count()
    };
    assert_eq!(assets_in(&atlas, tree) as usize, practices(&atlas));
    assert_eq!(assets_in(base, base_tree) as usize, practices(base));
    assert_eq!(practices(&atlas), practices(base));
    assert!(tree.iter().any(|e| e.data == i));
    assert_eq!(
        tree.iter()
            .filter(|e| atlas.assets[e.data as usize].id == removed)
            .count(),
        0
    );
    assert_eq!(
        atlas.category_by_id("gp_practice").unwrap().0,
        u16::try_from(gp).unwrap()
    );
}

#[test]
fn updated_results_equal_a_full_analysis() {
    let base = common::atlas();
    let planner = common::planner();
    let (atlas, _) = moved_gp(base);
    let gp = category(&atlas, "gp_practice");
    let updated = planner.update(&atlas, &[gp]);
    let full = Results::new(&atlas);
    assert_same_results(&atlas, &updated, &full);
    // Origins and IMD 2019 are shared, not recomputed.
    assert!(Arc::ptr_eq(
        &updated.analysis.origins,
        &planner.analysis.origins
    ));
    assert!(Arc::ptr_eq(
        &updated.analysis.imd2019,
        &planner.analysis.imd2019
    ));

    // The change shows where it should, computed independently: a Barton
    // postcode is at the new practice, so the LSOA's nearest is 0 m away.
    let (barton, _) = atlas.lsoa21_by_code(BARTON).unwrap();
    let c = usize::from(gp);
    let Some(Access::Measured(before)) = planner.analysis.access.get(barton as usize, c) else {
        panic!("Barton is measured for GP practices");
    };
    assert!(before.min_m > 0.0);
    let Some(Access::Measured(after)) = updated.analysis.access.get(barton as usize, c) else {
        panic!("Barton is measured for GP practices");
    };
    assert_eq!(after.min_m, 0.0);
    assert_eq!(atlas.assets[after.nearest_asset as usize].id, NEW_GP);
    // Barton's ward has one more practice inside; the district count of
    // every district is unchanged or moved by exactly one.
    let ward = atlas.lsoa21[barton as usize].ward.unwrap() as usize;
    assert_eq!(
        updated.wards[ward].categories[c].assets_inside,
        planner.wards[ward].categories[c].assets_inside + 1
    );
    let inside = |r: &Results| -> u32 {
        r.districts
            .iter()
            .map(|d| d.categories[c].assets_inside)
            .sum()
    };
    assert_eq!(inside(&updated), inside(planner));
    // Reused categories keep their nearest asset, at its new position.
    let library = usize::from(category(&atlas, "library"));
    for i in 0..atlas.lsoa21.len() {
        if let (Some(Access::Measured(a)), Some(Access::Measured(b))) = (
            planner.analysis.access.get(i, library),
            updated.analysis.access.get(i, library),
        ) {
            assert_eq!(
                base.assets[a.nearest_asset as usize].id,
                atlas.assets[b.nearest_asset as usize].id
            );
        }
    }
}

#[test]
fn updates_chain_and_take_new_categories() {
    let base = common::atlas();
    let planner = common::planner();
    let (moved, _) = moved_gp(base);
    let gp = category(&moved, "gp_practice");
    let first = planner.update(&moved, &[gp]);
    let atlas = with_warm_spaces(&moved);
    // A category appended needs no mention in `changed`.
    let second = first.update(&atlas, &[]);
    let full = Results::new(&atlas);
    assert_same_results(&atlas, &second, &full);

    // Independently: the new source covers exactly Oxford's LSOAs, and both
    // warm spaces are inside the region.
    let warm = usize::from(category(&atlas, "warm_space"));
    let (oxford, _) = atlas.district_by_code("E07000178").unwrap();
    let oxford_lsoas = atlas.districts[oxford as usize].lsoas.len();
    let covered = second.region.categories[warm].covered_lsoas as usize;
    assert_eq!(covered, oxford_lsoas);
    assert_eq!(second.region.categories[warm].assets_inside, 2);
    assert_eq!(second.region.categories[warm].category, "warm_space");
    let (barton, _) = atlas.lsoa21_by_code(BARTON).unwrap();
    let Some(Access::Measured(m)) = second.analysis.access.get(barton as usize, warm) else {
        panic!("Barton is measured for warm spaces");
    };
    assert_eq!(m.min_m, 0.0);
    // Both are within the widest band (5 km) of Barton's origin centre.
    assert_eq!(m.within.last(), Some(&2));
}

/// `atlas` plus the Oxford-only `warm_space` category with `stacked`
/// assets at one Barton postcode (a register file with one address
/// repeated) and two more, 69 m and 138 m east of it.
fn with_stacked_warm_spaces(atlas: &Atlas, stacked: usize) -> (Atlas, DualPoint) {
    let two = with_warm_spaces(atlas);
    let warm = category(&two, "warm_space");
    let source = two.categories[usize::from(warm)].sources[0];
    let at = postcode_in(atlas, BARTON);
    let mut assets = two.assets.clone();
    for n in 0..stacked {
        assets.push(asset_at(
            &two,
            &format!("test-stack-{n:05}"),
            warm,
            source,
            at,
        ));
    }
    let east = DualPoint {
        lonlat: geo::Point::new(at.lonlat.x() + 0.002, at.lonlat.y()),
        bng: geo::Point::new(at.bng.x() + 138.0, at.bng.y()),
    };
    assets.push(asset_at(&two, "test-warm-3", warm, source, east));
    let stacked_atlas = two.with_assets(assets, two.categories.clone(), two.sources.clone());
    (stacked_atlas, at)
}

#[test]
fn assets_at_one_position_count_as_many_and_are_measured_once() {
    use geo::{Distance, Geodesic};
    const STACKED: usize = 2_000;
    let base = common::atlas();
    let planner = common::planner();
    let (atlas, at) = with_stacked_warm_spaces(base, STACKED);
    let results = planner.update(&atlas, &[]);
    let warm = category(&atlas, "warm_space");
    let c = usize::from(warm);
    // The category's index holds one site per position: 3, not 2,003.
    assert_eq!(atlas.indexes.assets.category(c).unwrap().size(), 3);
    let warm_assets: Vec<(usize, &gapmap::atlas::Asset)> = atlas
        .assets
        .iter()
        .enumerate()
        .filter(|(_, a)| a.category == warm)
        .collect();
    assert_eq!(warm_assets.len(), STACKED + 3);
    assert_eq!(
        results.region.categories[c].assets_inside as usize,
        STACKED + 3
    );

    // Brute force over every asset (Karney, no grouping): Barton's nearest
    // is the lowest-indexed asset at its postcode, and band counts from
    // each covered LSOA's origin centre count every stacked asset.
    let (barton, _) = atlas.lsoa21_by_code(BARTON).unwrap();
    let Some(Access::Measured(m)) = results.analysis.access.get(barton as usize, c) else {
        panic!("Barton is measured for warm spaces");
    };
    let lowest_at = warm_assets
        .iter()
        .filter(|(_, a)| a.location.lonlat == at.lonlat)
        .map(|(i, _)| *i)
        .min()
        .unwrap();
    assert_eq!(m.nearest_asset as usize, lowest_at);
    assert_eq!(m.min_m, 0.0);
    let origins = &results.analysis.origins;
    let bands = &results.analysis.access.params.bands_m;
    let mut checked = 0;
    for i in (0..atlas.lsoa21.len()).step_by(5) {
        let Some(Access::Measured(m)) = results.analysis.access.get(i, c) else {
            continue;
        };
        let centre = origins.centres[i].unwrap().lonlat;
        for (k, band) in bands.iter().enumerate() {
            let n = warm_assets
                .iter()
                .filter(|(_, a)| Geodesic.distance(centre, a.location.lonlat) <= *band)
                .count();
            assert_eq!(m.within[k] as usize, n, "LSOA {i} band {band}");
        }
        checked += 1;
    }
    assert!(checked > 10, "{checked} covered LSOAs checked");

    // An area's asset list names every asset, not one per position: all
    // warm spaces inside Barton's polygon (point in polygon, by `geo`).
    {
        use gapmap::analysis::area_profile;
        use geo::Contains;
        let spec = area_profile::from_lsoas(
            &atlas,
            &results,
            vec![barton],
            &area_profile::Limits::default(),
        )
        .unwrap();
        let listed =
            area_profile::assets::category(&atlas, c, &spec, &[400.0], &Interrupt::never())
                .expect("never interrupted");
        let polygon = &atlas.lsoa21[barton as usize].geometry.lonlat;
        let inside: Vec<usize> = warm_assets
            .iter()
            .filter(|(_, a)| polygon.contains(&a.location.lonlat))
            .map(|(i, _)| *i)
            .collect();
        assert!(inside.len() > STACKED, "{} inside", inside.len());
        assert_eq!(listed.inside as usize, inside.len());
        let mut got: Vec<usize> = listed
            .assets
            .iter()
            .filter(|a| a.distance_m <= 0.0)
            .map(|a| a.asset as usize)
            .collect();
        got.sort_unstable();
        assert_eq!(got, inside);
        let by_source: u32 = listed.sources.iter().map(|s| s.inside).sum();
        assert_eq!(by_source as usize, inside.len());
    }

    // 2SFCA by its definition (Luo and Wang), asset by asset: every stacked
    // asset has the same demand, so supply is counted once per asset.
    let d0 = results.analysis.fca.params.as_ref().unwrap().catchment_m[c];
    // Every origin with the residents it stands for: its run's LSOA
    // residents over the run's length, the runs read directly.
    let every: Vec<(geo::Point<f64>, f64)> = (0..origins.groups())
        .flat_map(|g| {
            origins
                .of(g)
                .iter()
                .map(move |o| (o.lonlat, origins.share(g)))
        })
        .collect();
    assert_eq!(every.len(), origins.len());
    let demand_of = |p: geo::Point<f64>| -> f64 {
        every
            .iter()
            .filter(|(o, _)| Geodesic.distance(*o, p) <= d0)
            .map(|(_, r)| r)
            .sum()
    };
    let mut ratio: Vec<(geo::Point<f64>, f64)> = Vec::new();
    for (_, a) in &warm_assets {
        let p = a.location.lonlat;
        if !ratio.iter().any(|(q, _)| *q == p) {
            let d = demand_of(p);
            ratio.push((p, if d > 0.0 { 1.0 / d } else { 0.0 }));
        }
    }
    let r = |p: geo::Point<f64>| ratio.iter().find(|(q, _)| *q == p).unwrap().1;
    let pts: Vec<_> = origins.of(barton as usize).iter().collect();
    let residents = origins.share(barton as usize);
    let people: f64 = pts.iter().map(|_| residents).sum();
    let a: f64 = pts
        .iter()
        .map(|o| {
            residents
                * warm_assets
                    .iter()
                    .filter(|(_, a)| Geodesic.distance(o.lonlat, a.location.lonlat) <= d0)
                    .map(|(_, a)| r(a.location.lonlat))
                    .sum::<f64>()
        })
        .sum();
    let expect = a / people * 10_000.0;
    let got = results.analysis.fca.get(barton as usize, c).unwrap();
    assert!(
        (got - expect).abs() <= 1e-9 * expect,
        "Barton 2SFCA {got} vs {expect}"
    );
}

#[test]
fn rebuilt_collections_equal_a_full_build_and_share_the_rest() {
    let base = common::atlas();
    let planner = common::planner();
    let previous = build(base, planner, 1);

    let (moved, _) = moved_gp(base);
    let gp = category(&moved, "gp_practice");
    let results = planner.update(&moved, &[gp]);
    let first = rebuild(&moved, &results, 2, &previous, &[gp]);
    assert_same_ogc(&first, &build(&moved, &results, 2));
    for id in ["lsoa", "lsoa-2011", "assets-library", "assets-park"] {
        assert!(shared(&first, &previous, id), "{id} is shared");
    }
    for id in ["wards", "districts", "assets", "assets-gp_practice"] {
        assert!(!shared(&first, &previous, id), "{id} is rebuilt");
    }
    // Rebuilt wards share their boundaries with the previous ones.
    let geometries = |s: &gapmap::api::ogc::OgcState| {
        let wards = s.collection("wards").unwrap();
        wards
            .features
            .iter()
            .filter_map(|f| f.geometry.clone())
            .collect::<Vec<_>>()
    };
    let (now, then) = (geometries(&first), geometries(&previous));
    assert!(!now.is_empty());
    assert_eq!(now.len(), then.len());
    assert!(now.iter().zip(&then).all(|(a, b)| Arc::ptr_eq(a, b)));
    let gp_items = &first.collection("assets-gp_practice").unwrap();
    assert!(gp_items.by_id.contains_key(NEW_GP));

    // Nothing changed: everything but the all-assets collection is shared.
    let same = moved.with_assets(
        moved.assets.clone(),
        moved.categories.clone(),
        moved.sources.clone(),
    );
    let unchanged = rebuild(&same, &results.update(&same, &[]), 3, &first, &[]);
    assert_same_ogc(&unchanged, &build(&same, &results, 3));
    for id in ["wards", "districts", "assets-gp_practice"] {
        assert!(shared(&unchanged, &first, id), "{id} is shared");
    }

    // A new category: its collection is new, wards and districts roll it up.
    let atlas = with_warm_spaces(&moved);
    let results = results.update(&atlas, &[]);
    let second = rebuild(&atlas, &results, 4, &first, &[]);
    assert_same_ogc(&second, &build(&atlas, &results, 4));
    assert_eq!(
        second
            .collection("assets-warm_space")
            .unwrap()
            .features
            .len(),
        2
    );
    assert!(second
        .collection("wards")
        .unwrap()
        .prop("warm_space_assets_inside")
        .is_some());
    assert!(shared(&second, &first, "assets-gp_practice"));
    assert!(!shared(&second, &first, "wards"));
}

async fn get(state: &Arc<AppState>, uri: &str) -> (StatusCode, String) {
    let response = gapmap::api::app(Arc::clone(state))
        .oneshot(Request::builder().uri(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn a_derived_snapshot_serves_the_new_asset() {
    let base = common::atlas();
    let copy = base.with_assets(
        base.assets.clone(),
        base.categories.clone(),
        base.sources.clone(),
    );
    let state = Arc::new(AppState::new(copy));
    let item = format!("/collections/assets-gp_practice/items/{NEW_GP}");
    assert_eq!(get(&state, &item).await.0, StatusCode::NOT_FOUND);
    let ward_code = {
        let (barton, l) = base.lsoa21_by_code(BARTON).unwrap();
        assert_eq!(barton, base.lsoa21_by_code(&l.code).unwrap().0);
        base.wards[l.ward.unwrap() as usize].code.clone()
    };
    let profile = format!("/wards/{ward_code}/profile");
    let gp_inside = |body: &str| {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        v["access"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["category"] == "gp_practice")
            .unwrap()["assets_inside"]
            .as_u64()
            .unwrap()
    };
    let (status, body) = get(&state, &profile).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let before = gp_inside(&body);
    // Barton's row of the gap report: nearest practice and its distance.
    let gaps = "/gaps?category=gp_practice&max_decile=10&min_distance_m=0";
    let barton_row = |body: &str| {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        let row = v["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["properties"]["lsoa21_code"] == BARTON)
            .expect("Barton is in the report")["properties"]
            .clone();
        (
            row["nearest_asset_id"].as_str().unwrap().to_owned(),
            row["min_distance_m"].as_f64().unwrap(),
        )
    };
    let (status, body) = get(&state, gaps).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (nearest, distance) = barton_row(&body);
    assert_ne!(nearest, NEW_GP);
    assert!(distance > 0.0);

    let old = state.snapshot();
    let (moved, _) = moved_gp(&old.atlas);
    let gp = category(&moved, "gp_practice");
    let derived: Snapshot = old.derive(moved, &[gp]);
    assert_ne!(derived.tag, old.tag);
    state.replace(derived);

    let (status, body) = get(&state, &item).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(BARTON), "{body}");
    let (status, body) = get(&state, &profile).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(gp_inside(&body), before + 1);
    assert!(body.contains(NEW_GP));
    let (status, body) = get(&state, gaps).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(barton_row(&body), (NEW_GP.to_owned(), 0.0));
}
