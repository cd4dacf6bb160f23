//! The postcode gazetteer (OS Code-Point Open): one CSV per postcode area,
//! read straight from the published zip through GDAL's `/vsizip/`.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::error::SourceError;
use super::reproject::{Reprojector, BNG_EPSG};
use super::table::Table;
use crate::atlas::{normalise_postcode, DualPoint};
use crate::config::PostcodesConfig;

/// A postcode with its position.
#[derive(Debug, Clone)]
pub struct PostcodeRecord {
    /// Normalised postcode.
    pub code: String,
    /// Position.
    pub location: DualPoint,
}

/// What a scan of the gazetteer found.
#[derive(Debug, Default)]
pub struct PostcodeScan {
    /// Postcodes the region filter kept, in file order.
    pub region: Vec<PostcodeRecord>,
    /// Positions of the postcodes asked for by name (for geocoding), found anywhere.
    pub found: HashMap<String, DualPoint>,
    /// Rows read.
    pub rows: usize,
    /// Rows without a usable grid reference (positional quality 90 or 0,0).
    pub without_position: usize,
}

/// Scans every postcode file, keeping those `in_region(country, district)`
/// accepts plus those named in `wanted`. Files are shared between two threads.
///
/// # Errors
/// When the zip or a file in it cannot be read, or a coordinate is not a number.
pub fn read_postcodes(
    data_dir: &Path,
    config: &PostcodesConfig,
    in_region: &(dyn Fn(&str, &str) -> bool + Sync),
    wanted: &HashSet<String>,
    on_file: &(dyn Fn(usize, usize) + Sync),
) -> Result<PostcodeScan, SourceError> {
    let files = list_files(data_dir, config)?;
    let done = &AtomicUsize::new(0);
    let total = files.len();
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get).min(4);
    let chunks: Vec<Vec<PathBuf>> = (0..threads)
        .map(|t| files.iter().skip(t).step_by(threads).cloned().collect())
        .collect();
    let results: Vec<Result<PostcodeScan, SourceError>> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                s.spawn(move || {
                    let reprojector = Reprojector::from_epsg(BNG_EPSG)?;
                    let mut scan = PostcodeScan::default();
                    for file in chunk {
                        read_file(file, config, &reprojector, in_region, wanted, &mut scan)?;
                        on_file(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                    }
                    Ok(scan)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(SourceError::Gdal {
                        file: PathBuf::from(&config.path),
                        message: "postcode reader thread failed".to_owned(),
                    })
                })
            })
            .collect()
    });
    let mut all = PostcodeScan::default();
    for r in results {
        let part = r?;
        all.region.extend(part.region);
        all.found.extend(part.found);
        all.rows += part.rows;
        all.without_position += part.without_position;
    }
    all.region.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(all)
}

fn list_files(data_dir: &Path, config: &PostcodesConfig) -> Result<Vec<PathBuf>, SourceError> {
    let archive = data_dir.join(&config.path);
    if !archive.exists() {
        return Err(SourceError::MissingFile { file: archive });
    }
    let root = if archive.is_dir() {
        archive.join(&config.folder)
    } else {
        PathBuf::from(format!("/vsizip/{}/{}", archive.display(), config.folder))
    };
    let mut names = gdal::vsi::read_dir(&root, false).map_err(|e| SourceError::Open {
        file: root.clone(),
        layer: None,
        message: e.to_string(),
    })?;
    names.retain(|n| n.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")));
    names.sort();
    if names.is_empty() {
        return Err(SourceError::Empty { file: root });
    }
    Ok(names.into_iter().map(|n| root.join(n)).collect())
}

fn read_file(
    file: &Path,
    config: &PostcodesConfig,
    reprojector: &Reprojector,
    in_region: &(dyn Fn(&str, &str) -> bool + Sync),
    wanted: &HashSet<String>,
    scan: &mut PostcodeScan,
) -> Result<(), SourceError> {
    let options: Vec<&str> = config.open_options.iter().map(String::as_str).collect();
    let t = Table::open(file, None, &options)?;
    let (pc, ea, no, cy, dc) = (
        t.column(&config.postcode)?,
        t.column(&config.easting)?,
        t.column(&config.northing)?,
        t.column(&config.country)?,
        t.column(&config.district)?,
    );
    let mut keep: Vec<(String, bool)> = Vec::new();
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    let rows = t.for_each_row(|r| {
        let Some(code) = r.text(&pc).as_deref().and_then(normalise_postcode) else {
            return Ok(());
        };
        let region = in_region(&r.text(&cy).unwrap_or_default(), &r.text(&dc).unwrap_or_default());
        if !region && !wanted.contains(&code) {
            return Ok(());
        }
        let (Some(e), Some(n)) = (r.number_value(&ea)?, r.number_value(&no)?) else {
            scan.without_position += 1;
            return Ok(());
        };
        if e == 0.0 && n == 0.0 {
            scan.without_position += 1;
            return Ok(());
        }
        keep.push((code, region));
        xs.push(e);
        ys.push(n);
        Ok(())
    })?;
    scan.rows += usize::try_from(rows).unwrap_or(usize::MAX);
    let points = reprojector.points(&xs, &ys)?;
    for ((code, region), location) in keep.into_iter().zip(points) {
        if wanted.contains(&code) {
            scan.found.insert(code.clone(), location);
        }
        if region {
            scan.region.push(PostcodeRecord { code, location });
        }
    }
    Ok(())
}
