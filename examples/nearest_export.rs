//! Benchmark helper for `benches/compare.sh`: the nearest asset of every
//! category to every 2021 LSOA's centroid, computed with GapMap's own
//! geodesic nearest-neighbour search (`gapmap::analysis::nearest`), printed as
//! CSV for comparison with geopandas' `sjoin_nearest` in EPSG:27700.
//!
//! The origin is the area-weighted centroid of the LSOA's British National
//! Grid polygon (a point both tools compute the same way from the same
//! geometry), not the postcode origins GapMap's access measures use. The
//! asset is GapMap's geodesic nearest; `bng_m` is the planar BNG distance to
//! it (comparable with geopandas), `geodesic_m` the WGS84 distance GapMap
//! reports; the origin is printed in both reference systems (the lon/lat one
//! is the centroid of the CRS84 polygon, the one GapMap's geodesic search
//! uses). Coverage is ignored: every asset in the category tree counts.
//!
//! ```sh
//! cargo run --release --example nearest_export -- [--region oxfordshire] [--data-dir DIR] > nearest.csv
//! ```
//!
//! Timings go to stderr as `load_s <s>` and `nearest_s <s>`.

use std::error::Error;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use gapmap::analysis::nearest::nearest_geodesic;
use gapmap::atlas::build::{load, LoadRequest, Quiet};
use gapmap::atlas::DualPoint;
use gapmap::config::AtlasConfig;
use geo::{Centroid, Distance, Euclidean};

/// One answer: LSOA index, category index, asset index and the two distances.
struct Row {
    lsoa: usize,
    category: usize,
    asset: u32,
    bng_m: f64,
    geodesic_m: f64,
    origin: DualPoint,
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut region = String::from("oxfordshire");
    let mut data_dir = std::env::var_os("GAPMAP_DATA_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/geodata"),
        PathBuf::from,
    );
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--region" => region = args.next().ok_or("--region needs a value")?,
            "--data-dir" => {
                data_dir = PathBuf::from(args.next().ok_or("--data-dir needs a value")?);
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }

    let started = Instant::now();
    let config = AtlasConfig::default_definition()?;
    let atlas = load(
        &LoadRequest {
            config: &config,
            data_dir: &data_dir,
            region: &region,
        },
        &Quiet,
    )?;
    eprintln!("load_s {:.3}", started.elapsed().as_secs_f64());

    let started = Instant::now();
    let mut rows = Vec::with_capacity(atlas.lsoa21.len() * atlas.categories.len());
    for (li, lsoa) in atlas.lsoa21.iter().enumerate() {
        let (Some(bng), Some(lonlat)) = (
            lsoa.geometry.bng.centroid(),
            lsoa.geometry.lonlat.centroid(),
        ) else {
            continue;
        };
        let origin = DualPoint { lonlat, bng };
        for ci in 0..atlas.categories.len() {
            let Some(tree) = atlas.indexes.assets.category(ci) else {
                continue;
            };
            let found = nearest_geodesic(tree, &origin, |i| {
                atlas
                    .assets
                    .get(usize::try_from(i).ok()?)
                    .map(|a| a.location.lonlat)
            });
            let Some(n) = found else { continue };
            let Some(asset) = usize::try_from(n.item)
                .ok()
                .and_then(|i| atlas.assets.get(i))
            else {
                continue;
            };
            rows.push(Row {
                lsoa: li,
                category: ci,
                asset: n.item,
                bng_m: Euclidean.distance(bng, asset.location.bng),
                geodesic_m: n.distance_m,
                origin,
            });
        }
    }
    eprintln!("nearest_s {:.6}", started.elapsed().as_secs_f64());

    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    writeln!(
        out,
        "lsoa_code,category,asset_id,bng_m,geodesic_m,origin_x,origin_y,origin_lon,origin_lat"
    )?;
    for r in &rows {
        let (Some(lsoa), Some(cat), Some(asset)) = (
            atlas.lsoa21.get(r.lsoa),
            atlas.categories.get(r.category),
            usize::try_from(r.asset)
                .ok()
                .and_then(|i| atlas.assets.get(i)),
        ) else {
            continue;
        };
        writeln!(
            out,
            "{},{},{},{:.4},{:.4},{:.4},{:.4},{:.9},{:.9}",
            lsoa.code,
            cat.id,
            asset.id,
            r.bng_m,
            r.geodesic_m,
            r.origin.bng.x(),
            r.origin.bng.y(),
            r.origin.lonlat.x(),
            r.origin.lonlat.y()
        )?;
    }
    out.flush()?;
    Ok(())
}
