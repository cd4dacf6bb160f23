//! The postcode gazetteer (OS Code-Point Open): one headerless CSV per
//! postcode area, read straight from the published zip (or a folder of the
//! same files). There are 1.7 million rows, so they are parsed with the `csv`
//! crate rather than GDAL's generic CSV driver (about ten times faster here);
//! coordinates still go through GDAL's spatial reference API.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::error::SourceError;
use super::reproject::{Reprojector, BNG_EPSG};
use crate::config::PostcodesConfig;
use crate::model::{normalise_postcode, DualPoint};

// A child module: it reads the scan's compact grid references.
#[path = "postcode_sectors.rs"]
mod sectors;
pub use sectors::{district_of, sector_of, SectorCentroid};

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
    /// Postcodes the region filter kept, sorted by code.
    pub region: Vec<PostcodeRecord>,
    /// Every other postcode with a position, sorted by code, still in BNG:
    /// only the few that assets ask for are ever transformed
    /// ([`PostcodeScan::locate`]), so the scan need not wait for the asset
    /// lists to know which those are.
    elsewhere: Vec<GridRef>,
    /// Rows read.
    pub rows: usize,
    /// Rows without a usable grid reference (blank, or 0,0).
    pub without_position: usize,
}

/// A postcode outside the region, compactly: the normalised code (at most
/// eight bytes, zero-padded) and its grid reference.
#[derive(Debug, Clone, Copy)]
struct GridRef {
    code: [u8; 8],
    /// First letter of the Code-Point country code (`E`, `W`, `S`).
    country: u8,
    easting: f64,
    northing: f64,
}

/// The postcode as a fixed eight-byte key; `None` if longer (never for a
/// normalised postcode).
fn key(code: &str) -> Option<[u8; 8]> {
    let bytes = code.as_bytes();
    let mut out = [0_u8; 8];
    out.get_mut(..bytes.len())?.copy_from_slice(bytes);
    Some(out)
}

impl PostcodeScan {
    /// Positions of the named postcodes (normalised, as
    /// [`normalise_postcode`] writes them), wherever they are in the
    /// gazetteer. Names not in it are left out.
    ///
    /// # Errors
    /// When PROJ cannot transform a grid reference.
    pub fn locate<'a>(
        &self,
        wanted: impl IntoIterator<Item = &'a str>,
    ) -> Result<HashMap<String, DualPoint>, SourceError> {
        let mut found = HashMap::new();
        let mut pending: Vec<(&str, &GridRef)> = Vec::new();
        for code in wanted {
            if let Ok(i) = self.region.binary_search_by(|r| r.code.as_str().cmp(code)) {
                found.insert(code.to_owned(), self.region[i].location);
            } else if let Some(k) = key(code) {
                if let Ok(i) = self.elsewhere.binary_search_by(|g| g.code.cmp(&k)) {
                    pending.push((code, &self.elsewhere[i]));
                }
            }
        }
        if !pending.is_empty() {
            let reprojector = Reprojector::from_epsg(BNG_EPSG)?;
            let xs: Vec<f64> = pending.iter().map(|(_, g)| g.easting).collect();
            let ys: Vec<f64> = pending.iter().map(|(_, g)| g.northing).collect();
            let points = reprojector.points(&xs, &ys)?;
            for ((code, _), location) in pending.into_iter().zip(points) {
                found.insert(code.to_owned(), location);
            }
        }
        Ok(found)
    }

    /// The postcodes outside [`PostcodeScan::region`] whose grid reference
    /// lies in `bng` (British National Grid metres, edges included) and whose
    /// Code-Point country code starts with `country` (`b'E'` for England),
    /// transformed to both CRSs, sorted by code. A region reads these to
    /// place the postcodes of its ring of neighbouring LSOAs, and those of
    /// its own LSOAs that Code-Point files under another district.
    ///
    /// # Errors
    /// When PROJ cannot transform a grid reference.
    pub fn within(
        &self,
        bng: geo::Rect<f64>,
        country: u8,
    ) -> Result<Vec<PostcodeRecord>, SourceError> {
        let (min, max) = (bng.min(), bng.max());
        let hits: Vec<&GridRef> = self
            .elsewhere
            .iter()
            .filter(|g| {
                g.country == country
                    && (min.x..=max.x).contains(&g.easting)
                    && (min.y..=max.y).contains(&g.northing)
            })
            .collect();
        if hits.is_empty() {
            return Ok(Vec::new());
        }
        let reprojector = Reprojector::from_epsg(BNG_EPSG)?;
        let xs: Vec<f64> = hits.iter().map(|g| g.easting).collect();
        let ys: Vec<f64> = hits.iter().map(|g| g.northing).collect();
        let points = reprojector.points(&xs, &ys)?;
        Ok(hits
            .into_iter()
            .zip(points)
            .map(|(g, location)| PostcodeRecord {
                code: String::from_utf8_lossy(&g.code)
                    .trim_end_matches('\0')
                    .to_owned(),
                location,
            })
            .collect())
    }
}

/// Where the CSV files are.
enum Container {
    Zip(PathBuf),
    Folder(PathBuf),
}

/// Scans every postcode file: those `in_region(country, district)` accepts
/// are transformed to CRS84 and kept as [`PostcodeScan::region`]; the rest are
/// kept compactly for [`PostcodeScan::locate`]. Files are shared between
/// threads.
///
/// # Errors
/// When the archive or a file in it cannot be read, a configured column is
/// absent, or a coordinate is not a number.
pub fn read_postcodes(
    data_dir: &Path,
    config: &PostcodesConfig,
    in_region: &(dyn Fn(&str, &str) -> bool + Sync),
    on_file: &(dyn Fn(usize, usize) + Sync),
) -> Result<PostcodeScan, SourceError> {
    let (container, files) = list_files(data_dir, config)?;
    let done = &AtomicUsize::new(0);
    // Threads take the next file from a shared counter: files range from a
    // few hundred rows to 60,000, so a fixed split leaves one core idle at
    // the end.
    let next = &AtomicUsize::new(0);
    let files = &files;
    let total = files.len();
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(4);
    let container = &container;
    let results: Vec<Result<PostcodeScan, SourceError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(move || {
                    let reprojector = Reprojector::from_epsg(BNG_EPSG)?;
                    let mut archive = open_archive(container)?;
                    let mut scan = PostcodeScan::default();
                    let mut buffer = Vec::new();
                    while let Some(name) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let file = read_entry(container, archive.as_mut(), name, &mut buffer)?;
                        parse_file(&file, &buffer, config, &reprojector, in_region, &mut scan)?;
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
        all.elsewhere.extend(part.elsewhere);
        all.rows += part.rows;
        all.without_position += part.without_position;
    }
    all.region.sort_unstable_by(|a, b| a.code.cmp(&b.code));
    all.elsewhere.sort_unstable_by_key(|g| g.code);
    Ok(all)
}

fn open_error(file: &Path, message: &impl ToString) -> SourceError {
    SourceError::Open {
        file: file.to_owned(),
        layer: None,
        message: message.to_string(),
    }
}

fn list_files(
    data_dir: &Path,
    config: &PostcodesConfig,
) -> Result<(Container, Vec<String>), SourceError> {
    let root = data_dir.join(&config.path);
    if !root.exists() {
        return Err(SourceError::MissingFile { file: root });
    }
    let is_csv = |n: &str| {
        Path::new(n)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
    };
    let folder = config.folder.trim_matches('/');
    let (container, mut names) = if root.is_dir() {
        let dir = root.join(folder);
        let names: Vec<String> = std::fs::read_dir(&dir)
            .map_err(|e| open_error(&dir, &e))?
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| is_csv(n))
            .collect();
        (Container::Folder(dir), names)
    } else {
        let file = File::open(&root).map_err(|e| open_error(&root, &e))?;
        let archive = zip::ZipArchive::new(file).map_err(|e| open_error(&root, &e))?;
        let prefix = format!("{folder}/");
        // Names that are not valid UTF-8 (or CP437) cannot be Code-Point
        // CSVs; they are skipped like any other non-CSV entry.
        let names = archive
            .file_names()
            .filter_map(Result::ok)
            .filter(|n| n.starts_with(&prefix) && is_csv(n))
            .map(std::borrow::Cow::into_owned)
            .collect();
        (Container::Zip(root), names)
    };
    names.sort();
    if names.is_empty() {
        let place = match &container {
            Container::Zip(p) => p.join(folder),
            Container::Folder(p) => p.clone(),
        };
        return Err(SourceError::Empty { file: place });
    }
    Ok((container, names))
}

fn open_archive(container: &Container) -> Result<Option<zip::ZipArchive<File>>, SourceError> {
    match container {
        Container::Zip(path) => {
            let file = File::open(path).map_err(|e| open_error(path, &e))?;
            Ok(Some(
                zip::ZipArchive::new(file).map_err(|e| open_error(path, &e))?,
            ))
        }
        Container::Folder(_) => Ok(None),
    }
}

/// Reads one file into `buffer`; returns the path to name in messages.
fn read_entry(
    container: &Container,
    archive: Option<&mut zip::ZipArchive<File>>,
    name: &str,
    buffer: &mut Vec<u8>,
) -> Result<PathBuf, SourceError> {
    buffer.clear();
    match (container, archive) {
        (Container::Zip(path), Some(archive)) => {
            let shown = path.join(name);
            let mut entry = archive.by_name(name).map_err(|e| open_error(&shown, &e))?;
            entry
                .read_to_end(buffer)
                .map_err(|e| open_error(&shown, &e))?;
            Ok(shown)
        }
        (Container::Folder(dir), _) => {
            let path = dir.join(name);
            File::open(&path)
                .and_then(|mut f| f.read_to_end(buffer))
                .map_err(|e| open_error(&path, &e))?;
            Ok(path)
        }
        (Container::Zip(path), None) => Err(open_error(path, &"archive not open")),
    }
}

fn parse_file(
    file: &Path,
    bytes: &[u8],
    config: &PostcodesConfig,
    reprojector: &Reprojector,
    in_region: &(dyn Fn(&str, &str) -> bool + Sync),
    scan: &mut PostcodeScan,
) -> Result<(), SourceError> {
    let positions = [
        ("postcode", config.postcode),
        ("easting", config.easting),
        ("northing", config.northing),
        ("country", config.country),
        ("district", config.district),
    ];
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    // Byte records: only five of the nineteen cells are read, so only those
    // are checked for UTF-8.
    let mut record = csv::ByteRecord::new();
    let mut keep: Vec<String> = Vec::with_capacity(bytes.len() / 64);
    let (mut xs, mut ys) = (
        Vec::with_capacity(keep.capacity()),
        Vec::with_capacity(keep.capacity()),
    );
    let mut row = 0_u64;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                return Err(SourceError::Gdal {
                    file: file.to_owned(),
                    message: format!("row {}: {e}", row + 1),
                })
            }
        }
        row += 1;
        let mut cells = [""; 5];
        for (cell, (what, pos)) in cells.iter_mut().zip(positions) {
            let raw = pos
                .checked_sub(1)
                .and_then(|i| record.get(i))
                .ok_or_else(|| SourceError::MissingColumn {
                    file: file.to_owned(),
                    column: format!("{what} (column {pos}) in row {row}"),
                    available: format!("{} columns", record.len()),
                })?;
            *cell = std::str::from_utf8(raw)
                .map_err(|_| SourceError::BadValue {
                    file: file.to_owned(),
                    row,
                    column: what.to_owned(),
                    value: String::from_utf8_lossy(raw).into_owned(),
                    expected: "UTF-8 text",
                })?
                .trim();
        }
        let [postcode, easting, northing, country, district] = cells;
        let Some(code) = normalise_postcode(postcode) else {
            continue;
        };
        let region = in_region(country, district);
        let number = |text: &str, what: &str| -> Result<Option<f64>, SourceError> {
            if text.is_empty() {
                return Ok(None);
            }
            text.parse::<f64>()
                .map(Some)
                .map_err(|_| SourceError::BadValue {
                    file: file.to_owned(),
                    row,
                    column: what.to_owned(),
                    value: text.to_owned(),
                    expected: "a number of metres",
                })
        };
        match (number(easting, "easting")?, number(northing, "northing")?) {
            (Some(e), Some(n)) if e != 0.0 || n != 0.0 => {
                if region {
                    keep.push(code);
                    xs.push(e);
                    ys.push(n);
                } else if let Some(code) = key(&code) {
                    scan.elsewhere.push(GridRef {
                        code,
                        country: country.bytes().next().unwrap_or(0),
                        easting: e,
                        northing: n,
                    });
                }
            }
            _ => scan.without_position += 1,
        }
    }
    scan.rows += usize::try_from(row).unwrap_or(usize::MAX);
    let points = reprojector.points(&xs, &ys)?;
    for (code, location) in keep.into_iter().zip(points) {
        scan.region.push(PostcodeRecord { code, location });
    }
    Ok(())
}
