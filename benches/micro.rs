//! Criterion micro-benchmarks of GapMap's hot paths, on the real atlas.
//!
//! One binary, so the atlas is loaded once per run (outside every timed
//! section): Oxfordshire by default, or any region of the atlas definition
//! with `GAPMAP_BENCH_REGION` (e.g. `england`: 33,755 LSOAs, about 1.5 M
//! postcodes). The data directory is `GAPMAP_DATA_DIR`, or
//! `../shared/geodata` beside the project.
//!
//! ```sh
//! cargo bench --bench micro                       # every group, ~1–2 min on Oxfordshire
//! cargo bench --bench micro -- rtree_nearest      # one group (criterion's regex filter)
//! cargo bench --bench micro -- --quick            # stop as soon as the estimate is stable
//! GAPMAP_BENCH_REGION=england cargo bench --bench micro
//! ```
//!
//! Groups: [`rtree_nearest`], [`point_in_polygon`], [`geojson_encode_lsoa`],
//! [`cql2_filter`], [`access_per_lsoa`], [`snapshot_derive`]. Warm-up and
//! measurement times are short (1 s and 2 s, 50 samples) so a full run stays
//! short on a 2-core machine; `--warm-up-time`, `--measurement-time` and
//! `--sample-size` override them (except for `access_per_lsoa/compute_region`
//! and `snapshot_derive`, which fix 10 flat samples). Set-up prints what each group runs on (counts, matches,
//! response sizes) to stderr.
// Set-up may fail loudly: a missing data set should stop the benchmarks.
#![allow(clippy::expect_used)]

use gapmap::analysis::Interrupt;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use gapmap::analysis::access::{self, AccessParams};
use gapmap::analysis::nearest::{group_candidates, nearest_among, nearest_geodesic};
use gapmap::analysis::origins::{self, Origins};
use gapmap::analysis::Results;
use gapmap::api::ogc::build::rebuild;
use gapmap::api::ogc::build::write_properties;
use gapmap::api::ogc::encode;
use gapmap::api::ogc::filter::{self, Filter, FilterLang};
use gapmap::api::ogc::items::ItemsQuery;
use gapmap::api::ogc::model::Collection;
use gapmap::api::ogc::params::Params;
use gapmap::api::{AppState, Snapshot};
use gapmap::atlas::build::{load, LoadRequest, Quiet};
use gapmap::atlas::{Asset, Atlas, CategoryIdx, Crs, Postcode};
use gapmap::config::AtlasConfig;
use http_body_util::BodyExt;
use tower::ServiceExt;

/// Postcodes per batch in the nearest and point-in-polygon groups.
const BATCH: usize = 1_000;

/// LSOAs timed one by one in `access_per_lsoa`: urban Oxford (Oxford 005A,
/// Barton; outside the central OSM extract, so 5 categories are measured),
/// central Oxford (Oxford 009C, Carfax & Jericho; wholly inside the extract,
/// so the OSM categories are measured too, with the bbox-coverage edge test)
/// and rural West Oxfordshire (003A, Ascott and Shipton; 4 categories). All
/// three are in the England atlas too.
const ACCESS_LSOAS: [&str; 3] = ["E01028513", "E01028550", "E01028763"];

/// CQL2 text filters evaluated over the `lsoa` collection: an attribute
/// filter (Oxford city LSOAs in the nationally most deprived fifth; property
/// names as in the collection's queryables) and a spatial one (a box around
/// Blackbird Leys, as a polygon literal).
const FILTERS: [(&str, &str); 2] = [
    ("attribute", "imd_decile <= 2 AND district = 'E07000178'"),
    (
        "spatial",
        "S_INTERSECTS(geometry,POLYGON((-1.215 51.705,-1.185 51.705,-1.185 51.725,-1.215 51.725,-1.215 51.705)))",
    ),
];

/// The base URL written into the links of encoded pages.
const BASE: &str = "http://bench.local";

/// Everything the benchmarks read, built once before any timing.
struct Fixture {
    /// The application state: the atlas plus the planner's start-up analysis.
    state: Arc<AppState>,
    /// The served snapshot: atlas, analysis and OGC collections.
    snapshot: Arc<Snapshot>,
    /// Access origins (residential postcodes per LSOA).
    origins: Origins,
    /// Real postcodes spread evenly over the region (every n-th by code).
    batch: Vec<Postcode>,
}

impl Fixture {
    fn atlas(&self) -> &Atlas {
        &self.snapshot.atlas
    }

    fn lsoa_collection(&self) -> &Collection {
        self.snapshot
            .ogc
            .collection("lsoa")
            .expect("an lsoa collection")
    }

    fn load() -> Self {
        let region = std::env::var("GAPMAP_BENCH_REGION").unwrap_or_else(|_| "oxfordshire".into());
        let data_dir = std::env::var_os("GAPMAP_DATA_DIR").map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/geodata"),
            PathBuf::from,
        );
        let config = AtlasConfig::default_definition().expect("the built-in atlas definition");
        let started = Instant::now();
        let atlas = load(
            &LoadRequest {
                config: &config,
                data_dir: &data_dir,
                region: &region,
            },
            &Quiet,
        )
        .unwrap_or_else(|e| panic!("loading region {region} from {}: {e}", data_dir.display()));
        let loaded = started.elapsed();
        // Snapshot::build runs the analysis and builds the collections;
        // both are timed together now.
        let started = Instant::now();
        let state = Arc::new(AppState::new(atlas));
        let analysed = started.elapsed();
        let collections = std::time::Duration::ZERO;
        let snapshot = state.snapshot();
        let atlas = &snapshot.atlas;
        let origins = origins::build(atlas);
        let step = (atlas.postcodes.len() / BATCH).max(1);
        let batch: Vec<Postcode> = atlas
            .postcodes
            .iter()
            .step_by(step)
            .take(BATCH)
            .cloned()
            .collect();
        eprintln!(
            "micro: region {region}: {} LSOAs, {} postcodes, {} assets in {} categories; \
             load {:.2?}, planner analysis {:.2?}, OGC collections {:.2?}; batch of {} postcodes",
            atlas.lsoa21.len(),
            atlas.postcodes.len(),
            atlas.assets.len(),
            atlas.categories.len(),
            loaded,
            analysed,
            collections,
            batch.len()
        );
        Self {
            state,
            snapshot: Arc::clone(&snapshot),
            origins,
            batch,
        }
    }
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// `rtree_nearest`: the geodesic nearest asset of a category for each of a
/// batch of real postcode origins ([`nearest_geodesic`] over the atlas's
/// per-category BNG R-tree), against a bare planar `rstar` nearest-neighbour
/// query on the same tree. This is the inner loop of the access measure
/// (every postcode × every category at start-up), so its cost times 1.5 M
/// postcodes is most of the England start-up analysis; the planar figure
/// shows what the geodesic correctness (exact distances, tolerance walk)
/// costs on top of the tree search. `grouped_by_lsoa` is what the access
/// measure actually runs: one range query per LSOA
/// ([`group_candidates`]) and a scan of those few candidates per postcode
/// ([`nearest_among`]), over every origin of the region (throughput per
/// origin, comparable with the per-query figures).
fn rtree_nearest(c: &mut Criterion, fx: &Fixture) {
    let atlas = fx.atlas();
    let mut g = c.benchmark_group("rtree_nearest");
    g.throughput(Throughput::Elements(count(fx.batch.len())));
    let lonlat = |i: u32| atlas.assets.get(i as usize).map(|a| a.location.lonlat);
    for category in ["gp_practice", "library"] {
        let (ci, _) = atlas
            .category_by_id(category)
            .expect("category in the definition");
        let tree = atlas
            .indexes
            .assets
            .category(usize::from(ci))
            .expect("a tree per category");
        eprintln!("micro: {category}: {} assets in the tree", tree.size());
        g.bench_with_input(
            BenchmarkId::new("geodesic", category),
            &fx.batch,
            |b, batch| {
                b.iter(|| {
                    let mut sum = 0.0;
                    for p in batch {
                        if let Some(n) = nearest_geodesic(tree, black_box(&p.location), lonlat) {
                            sum += n.distance_m;
                        }
                    }
                    sum
                });
            },
        );
        g.throughput(Throughput::Elements(count(fx.origins.len())));
        g.bench_function(BenchmarkId::new("grouped_by_lsoa", category), |b| {
            b.iter(|| {
                let mut sum = 0.0;
                for i in 0..atlas.lsoa21.len() {
                    let points = fx.origins.of(i);
                    let Some(group) = fx.origins.bounds[i] else {
                        continue;
                    };
                    let candidates = group_candidates(tree, group, lonlat);
                    for o in points.iter() {
                        if let Some(n) = nearest_among(&candidates, black_box(o)) {
                            sum += n.distance_m;
                        }
                    }
                }
                sum
            });
        });
        g.throughput(Throughput::Elements(count(fx.batch.len())));
        g.bench_with_input(
            BenchmarkId::new("rstar_planar", category),
            &fx.batch,
            |b, batch| {
                b.iter(|| {
                    let mut items = 0_u64;
                    for p in batch {
                        let q = black_box([p.location.bng.x(), p.location.bng.y()]);
                        if let Some(e) = tree.nearest_neighbor(&q) {
                            items += u64::from(e.data);
                        }
                    }
                    items
                });
            },
        );
    }
    g.finish();
}

/// `point_in_polygon`: assigning a batch of real postcodes to the 2021 LSOA
/// containing them, through the envelope R-tree and an exact
/// point-in-polygon test ([`Atlas::lsoa21_at`] in CRS84, and
/// `AreaIndex::containing` in British National Grid). The load does this
/// for every postcode and asset, and `/search` and the map for clicked
/// points.
fn point_in_polygon(c: &mut Criterion, fx: &Fixture) {
    let atlas = fx.atlas();
    let agree = fx
        .batch
        .iter()
        .filter(|p| atlas.lsoa21_at(p.location.lonlat) == Some(p.lsoa21))
        .count();
    eprintln!(
        "micro: point_in_polygon: {agree}/{} postcodes land in their load-time LSOA",
        fx.batch.len()
    );
    let mut g = c.benchmark_group("point_in_polygon");
    g.throughput(Throughput::Elements(count(fx.batch.len())));
    g.bench_with_input("lsoa21_at_crs84", &fx.batch, |b, batch| {
        b.iter(|| {
            batch
                .iter()
                .filter_map(|p| atlas.lsoa21_at(black_box(p.location.lonlat)))
                .map(u64::from)
                .sum::<u64>()
        });
    });
    let geometry = |i: u32| atlas.lsoa21.get(i as usize).map(|l| &l.geometry);
    g.bench_with_input("containing_bng", &fx.batch, |b, batch| {
        b.iter(|| {
            batch
                .iter()
                .filter_map(|p| {
                    atlas
                        .indexes
                        .lsoa21
                        .containing(black_box(p.location.bng), Crs::Bng, geometry)
                })
                .map(u64::from)
                .sum::<u64>()
        });
    });
    g.finish();
}

/// `geojson_encode_lsoa`: the `lsoa` collection as a GeoJSON
/// FeatureCollection, the biggest and most requested response of the OGC
/// API; throughput is in bytes of GeoJSON.
///
/// - `write_page_crs84`, `write_page_epsg27700`: one page (`limit=1000`: the
///   whole collection in Oxfordshire, 1,000 of 33,755 in England) written
///   by `gapmap::api::ogc::items::write_page`, exactly as
///   `/collections/lsoa/items` does after selection. A feature's geometry
///   JSON is written on its first request and kept; the properties are
///   written from the typed values on every request (held once), so after
///   the first pass this is what each request pays.
/// - `encode_from_geometry_crs84`: the same features encoded from the atlas
///   (`encode::multipolygon` on every polygon, `build::write_properties` on
///   every property row): what a feature's first request pays.
/// - `http_get_items_limit_1000`: the request in process through the full
///   router (`tower::ServiceExt::oneshot`, body collected), to show what
///   routing, parameter checks and headers add to `write_page`.
fn geojson_encode_lsoa(c: &mut Criterion, fx: &Fixture) {
    let lsoa = fx.lsoa_collection();
    let atlas = fx.atlas();
    let mut g = c.benchmark_group("geojson_encode_lsoa");
    for (name, crs) in [
        ("write_page_crs84", None),
        (
            "write_page_epsg27700",
            Some("http://www.opengis.net/def/crs/EPSG/0/27700"),
        ),
    ] {
        let mut params = Params::default();
        params.pairs.push(("limit".into(), "1000".into()));
        if let Some(crs) = crs {
            params.pairs.push(("crs".into(), crs.into()));
        }
        let q = ItemsQuery::parse(lsoa, &params).expect("valid items query");
        let selected = q.select(lsoa);
        let bytes = gapmap::api::ogc::items::write_page(lsoa, &q, &params, BASE, &selected).len();
        eprintln!(
            "micro: {name}: {} of {} features, {bytes} bytes",
            selected.len().min(q.limit),
            lsoa.features.len()
        );
        g.throughput(Throughput::Bytes(count(bytes)));
        g.bench_function(name, |b| {
            b.iter(|| {
                gapmap::api::ogc::items::write_page(lsoa, &q, black_box(&params), BASE, &selected)
            });
        });
    }

    // The collection holds the atlas's 2021 LSOAs in atlas order.
    assert!(
        lsoa.features.len() == atlas.lsoa21.len()
            && lsoa
                .features
                .iter()
                .zip(atlas.lsoa21.iter())
                .all(|(f, l)| f.id == l.code),
        "lsoa features follow atlas.lsoa21"
    );
    let limit = lsoa.features.len().min(1000);
    let from_geometry = || {
        let mut out = String::from("{\"type\":\"FeatureCollection\",\"features\":[");
        for (n, (f, l)) in lsoa
            .features
            .iter()
            .zip(atlas.lsoa21.iter())
            .take(limit)
            .enumerate()
        {
            if n > 0 {
                out.push(',');
            }
            out.push_str("{\"type\":\"Feature\",\"id\":");
            encode::push_str(&mut out, &f.id);
            out.push_str(",\"geometry\":");
            out.push_str(&encode::multipolygon(black_box(&l.geometry.lonlat)));
            out.push_str(",\"properties\":");
            out.push_str(&write_properties(&lsoa.props, black_box(&f.values), None));
            out.push('}');
        }
        out.push_str("]}");
        out
    };
    let encoded = from_geometry();
    assert_eq!(
        lsoa.features
            .first()
            .and_then(|f| f.geometry.as_ref())
            .and_then(|g| g.json(0)),
        atlas
            .lsoa21
            .first()
            .map(|l| encode::multipolygon(&l.geometry.lonlat))
            .as_deref(),
        "the server's geometry text is encode::multipolygon's"
    );
    eprintln!(
        "micro: encode_from_geometry_crs84: {limit} features, {} bytes",
        encoded.len()
    );
    g.throughput(Throughput::Bytes(count(encoded.len())));
    g.bench_function("encode_from_geometry_crs84", |b| b.iter(from_geometry));

    let app = gapmap::api::app(Arc::clone(&fx.state));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let get = || {
        let req = Request::builder()
            .uri("/collections/lsoa/items?limit=1000")
            .header("host", "bench.local")
            .body(Body::empty())
            .expect("a valid request");
        let app = app.clone();
        rt.block_on(async move {
            let response = app.oneshot(req).await.expect("infallible router");
            assert!(response.status().is_success(), "{}", response.status());
            response
                .into_body()
                .collect()
                .await
                .expect("a complete body")
                .to_bytes()
        })
    };
    g.throughput(Throughput::Bytes(count(get().len())));
    g.bench_function("http_get_items_limit_1000", |b| b.iter(get));
    g.finish();
}

/// `cql2_filter`: a CQL2 text filter over every `lsoa` feature, split as the
/// items handler splits it: parsing the text (`gapmap::cql2`, our bounded parser), compiling it
/// against the collection's schema (names to columns, literals typed, once
/// per request), and evaluating the compiled tree per feature
/// ([`Filter::matches`]), for an attribute filter and a spatial one. Every
/// `filter=` request pays parse + compile once and evaluation once per
/// feature; evaluation throughput is in features.
fn cql2_filter(c: &mut Criterion, fx: &Fixture) {
    let lsoa = fx.lsoa_collection();
    let mut g = c.benchmark_group("cql2_filter");
    for (name, text) in FILTERS {
        let expr = filter::parse(text, FilterLang::Text).expect("filter parses");
        let compiled = Filter::compile(&expr, lsoa, Crs::Crs84).expect("filter compiles");
        let matched = lsoa.features.iter().filter(|f| compiled.matches(f)).count();
        eprintln!(
            "micro: cql2 {name}: {matched} of {} features match `{text}`",
            lsoa.features.len()
        );
        assert!(matched > 0, "the {name} filter should select something");
        g.throughput(Throughput::Elements(1));
        g.bench_with_input(BenchmarkId::new("parse", name), text, |b, text| {
            b.iter(|| filter::parse(black_box(text), FilterLang::Text));
        });
        g.bench_with_input(BenchmarkId::new("compile", name), &expr, |b, expr| {
            b.iter(|| Filter::compile(black_box(expr), lsoa, Crs::Crs84));
        });
        g.throughput(Throughput::Elements(count(lsoa.features.len())));
        g.bench_with_input(
            BenchmarkId::new("evaluate", name),
            &compiled,
            |b, compiled| {
                b.iter(|| {
                    lsoa.features
                        .iter()
                        .filter(|f| compiled.matches(black_box(f)))
                        .count()
                });
            },
        );
    }
    g.finish();
}

/// `access_per_lsoa`: the straight-line access measure
/// ([`access::lsoa_access`]: nearest asset from every postcode, mean/min/max,
/// band counts from the origin centre, coverage and edge checks) for one
/// LSOA × every category, for three real LSOAs; and [`access::compute`] for
/// the whole region (every LSOA × category, on all cores), which is what
/// `serve` runs at start-up before answering `/gaps`.
fn access_per_lsoa(c: &mut Criterion, fx: &Fixture) {
    let atlas = fx.atlas();
    let params = AccessParams::default();
    let categories = atlas.categories.len();
    let mut g = c.benchmark_group("access_per_lsoa");
    g.throughput(Throughput::Elements(count(categories)));
    for code in ACCESS_LSOAS {
        let Some((i, _)) = atlas.lsoa21_by_code(code) else {
            eprintln!("micro: {code} is not in this region; skipped");
            continue;
        };
        let i = i as usize;
        let measured = (0..categories)
            .filter(|&cat| {
                access::lsoa_access(atlas, &fx.origins, &params, i, cat)
                    .measured()
                    .is_some()
            })
            .count();
        eprintln!(
            "micro: access {code}: {} origins, {measured} of {categories} categories measured",
            fx.origins.of(i).len()
        );
        g.bench_with_input(BenchmarkId::new("all_categories", code), &i, |b, &i| {
            b.iter(|| {
                (0..categories)
                    .map(|cat| access::lsoa_access(atlas, &fx.origins, &params, black_box(i), cat))
                    .collect::<Vec<_>>()
            });
        });
    }
    g.throughput(Throughput::Elements(count(atlas.lsoa21.len() * categories)));
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    g.bench_function("compute_region", |b| {
        b.iter(|| access::compute(atlas, black_box(&fx.origins), &params));
    });
    g.finish();
}

/// The snapshot's atlas plus one GP practice at a real postcode (the middle
/// one of the batch), placed as a register write would place it.
fn with_one_more_gp(atlas: &Atlas, at: &Postcode) -> (Atlas, CategoryIdx) {
    let (gp, cat) = atlas
        .category_by_id("gp_practice")
        .expect("a gp_practice category");
    let lsoa = atlas
        .lsoa21
        .get(at.lsoa21 as usize)
        .expect("the postcode's LSOA");
    let mut assets = atlas.assets.clone();
    assets.push(Asset {
        id: "bench-register-gp".into(),
        name: "Bench register GP practice".into(),
        category: gp,
        source: cat.sources.first().copied().unwrap_or(0),
        location: at.location,
        address: None,
        postcode: Some(at.code.as_str().to_owned()),
        area_m2: None,
        location_precision: None,
        lsoa21: Some(at.lsoa21),
        ward: lsoa.ward,
        district: lsoa.district,
        in_region: true,
    });
    let derived = atlas.with_assets(assets, atlas.categories.clone(), atlas.sources.clone());
    (derived, gp)
}

/// `snapshot_derive`: what a register write costs before `/gaps`, the ward
/// profiles and the OGC collections see it. One GP practice is added to the
/// served atlas ([`Atlas::with_assets`]), then the snapshot is derived
/// ([`Snapshot::derive`]: [`Results::update`] for the one changed category
/// and [`rebuild`] of the collections that depend on it), against
/// [`Snapshot::build`] of the same atlas (everything recomputed, as before
/// incremental snapshots). `results_update` and `ogc_rebuild` time the two
/// halves of `derive`; `derive` includes `with_assets`.
fn snapshot_derive(c: &mut Criterion, fx: &Fixture) {
    let snapshot = &fx.snapshot;
    let at = &fx.batch[fx.batch.len() / 2];
    let (derived, gp) = with_one_more_gp(&snapshot.atlas, at);
    let results = snapshot.results.update(&derived, &[gp]);
    eprintln!(
        "micro: snapshot_derive: one GP practice added at {} ({} assets)",
        at.code,
        derived.assets.len()
    );
    let mut g = c.benchmark_group("snapshot_derive");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    g.bench_function("with_assets", |b| {
        b.iter(|| with_one_more_gp(black_box(&snapshot.atlas), at));
    });
    g.bench_function("results_update", |b| {
        b.iter(|| snapshot.results.update(black_box(&derived), &[gp]));
    });
    g.bench_function("ogc_rebuild", |b| {
        b.iter(|| rebuild(black_box(&derived), &results, 1, &snapshot.ogc, &[gp]));
    });
    g.bench_function("derive", |b| {
        b.iter(|| {
            let (atlas, gp) = with_one_more_gp(black_box(&snapshot.atlas), at);
            snapshot.derive(atlas, &[gp])
        });
    });
    let shared = Arc::new(derived);
    g.bench_function("full_build", |b| {
        b.iter(|| Snapshot::build(Arc::clone(black_box(&shared))));
    });
    g.bench_function("full_results", |b| {
        b.iter(|| Results::new(black_box(&shared)));
    });
    g.finish();
}

/// Area profiles (issue 15): a district-sized polygon (the first
/// district's boundary) and a 10,000-vertex polygon (a circle of 3 km
/// around the region's first LSOA), each from polygon to profile.
fn area_profile(c: &mut Criterion, fx: &Fixture) {
    use gapmap::analysis::area_profile::{self, Limits, ProfileParams};
    let s = &fx.snapshot;
    let atlas = fx.atlas();
    let limits = Limits::default();
    let params = ProfileParams::default();
    let mut g = c.benchmark_group("area_profile");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    if let Some(d) = atlas.districts.first() {
        let boundary = d.geometry.clone();
        eprintln!(
            "micro: area_profile district {}: {} vertices",
            d.code,
            area_profile::vertices(&boundary)
        );
        g.bench_function("district_polygon", |b| {
            b.iter(|| {
                let spec = area_profile::from_polygon(
                    atlas,
                    &s.results,
                    black_box(boundary.clone()),
                    &limits,
                    &Interrupt::never(),
                )
                .expect("the district is in the region");
                area_profile::compute(atlas, &s.results, &spec, &params, &Interrupt::never())
            });
        });
    }
    if let Some(l) = atlas.lsoa21.first() {
        let c0 = l.geometry.bng_bbox.center();
        let ring: Vec<(f64, f64)> = (0..=10_000)
            .map(|k| {
                let t = f64::from(k % 10_000) / 10_000.0 * std::f64::consts::TAU;
                (c0.x + 3000.0 * t.cos(), c0.y + 3000.0 * t.sin())
            })
            .collect();
        let bng = geo::MultiPolygon::new(vec![geo::Polygon::new(ring.into(), vec![])]);
        let boundary = gapmap::sources::Reprojector::from_epsg(27700)
            .and_then(|r| r.polygon(&bng))
            .expect("the circle projects");
        g.bench_function("circle_10000_vertices", |b| {
            b.iter(|| {
                let spec = area_profile::from_polygon(
                    atlas,
                    &s.results,
                    black_box(boundary.clone()),
                    &limits,
                    &Interrupt::never(),
                )
                .expect("the circle is in the region");
                area_profile::compute(atlas, &s.results, &spec, &params, &Interrupt::never())
            });
        });
    }
    g.finish();
}

/// Median and 99th percentile of `runs` timed calls of `f`, printed (the
/// issue's figures for a district-sized polygon: Criterion reports means and
/// medians, not tails).
fn percentiles(label: &str, runs: usize, mut f: impl FnMut()) {
    let mut ms: Vec<f64> = (0..runs)
        .map(|_| {
            let t = std::time::Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let i = ((ms.len() as f64 - 1.0) * q).round() as usize;
        ms.get(i).copied().unwrap_or(f64::NAN)
    };
    eprintln!(
        "micro: area_profile {label}: {runs} runs, median {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        at(0.5),
        at(0.99),
        at(1.0)
    );
}

/// The area-profile figures the issue asks for, as percentiles: the
/// district of median size (by LSOAs) as a polygon, a saved area of that
/// boundary (placed from its stored CRS84 geometry first, as the server
/// does when it loads or follows one), and a 10,000-vertex circle.
fn area_profile_percentiles(fx: &Fixture) {
    use gapmap::analysis::area_profile::{self, Limits, ProfileParams};
    let s = &fx.snapshot;
    let atlas = fx.atlas();
    let limits = Limits::default();
    let params = ProfileParams::default();
    let runs: usize = std::env::var("GAPMAP_BENCH_PROFILE_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let mut by_size: Vec<_> = atlas.districts.iter().collect();
    by_size.sort_by_key(|d| d.lsoas.len());
    let Some(d) = by_size.get(by_size.len() / 2) else {
        return;
    };
    let boundary = d.geometry.clone();
    eprintln!(
        "micro: area_profile median district {} ({} LSOAs, {} vertices) of {} in {}",
        d.code,
        d.lsoas.len(),
        area_profile::vertices(&boundary),
        atlas.districts.len(),
        atlas.region.name
    );
    // One profile of a boundary in the region, as the process runs it.
    let profile = |boundary: gapmap::atlas::DualPolygon| {
        let spec =
            area_profile::from_polygon(atlas, &s.results, boundary, &limits, &Interrupt::never())
                .expect("the area is in the region");
        black_box(
            area_profile::compute(atlas, &s.results, &spec, &params, &Interrupt::never())
                .expect("never interrupted"),
        );
    };
    percentiles("median district polygon", runs, || {
        profile(black_box(boundary.clone()));
    });
    let saved = gapmap::model::area::SavedArea {
        id: 1,
        fields: gapmap::model::area::AreaFields {
            name: d.name.clone(),
            description: None,
            geometry: boundary.lonlat.clone(),
        },
        version: 1,
        created_by: String::new(),
        created_at: String::new(),
        updated_by: String::new(),
        updated_at: String::new(),
    };
    percentiles(
        "median district as a saved area (place + profile)",
        runs.min(20),
        || {
            let placed = gapmap::live::areas::place(black_box(saved.clone())).expect("placed");
            profile(placed.polygon);
        },
    );
    let c0 = d.geometry.bng_bbox.center();
    let ring: Vec<(f64, f64)> = (0..=10_000)
        .map(|k| {
            let t = f64::from(k % 10_000) / 10_000.0 * std::f64::consts::TAU;
            (c0.x + 3000.0 * t.cos(), c0.y + 3000.0 * t.sin())
        })
        .collect();
    let bng = geo::MultiPolygon::new(vec![geo::Polygon::new(ring.into(), vec![])]);
    let circle = gapmap::sources::Reprojector::from_epsg(27700)
        .and_then(|r| r.polygon(&bng))
        .expect("the circle projects");
    percentiles("10,000-vertex circle (3 km radius)", runs, || {
        profile(black_box(circle.clone()));
    });
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let fx = Fixture::load();
    rtree_nearest(&mut c, &fx);
    point_in_polygon(&mut c, &fx);
    geojson_encode_lsoa(&mut c, &fx);
    cql2_filter(&mut c, &fx);
    access_per_lsoa(&mut c, &fx);
    snapshot_derive(&mut c, &fx);
    area_profile(&mut c, &fx);
    // Only when no filter, or a filter naming area_profile, was given.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if filters.iter().all(|f| f.contains("area_profile")) {
        area_profile_percentiles(&fx);
    }
    c.final_summary();
}
