//! Reading a file of register entries for bulk import: CSV (columns named
//! as the entry properties, the point in `lon`/`lat` or `x`/`y`), a GeoJSON
//! FeatureCollection, or a GeoPackage's first layer (read with GDAL). Rows
//! come out as GeoJSON-like properties and geometry; the live layer
//! validates them all before anything is written.

use gdal::vector::LayerAccess;
use serde_json::{Map, Value};

/// Rows at most in one import. Every import is one transaction and one new
/// snapshot, validated and placed row by row; a file larger than any
/// register a team keeps is more likely a mistake (a whole national list,
/// a row repeated) than a register. The reader stops at the first row past
/// the limit, so an oversized file costs no more than this many rows.
pub const MAX_ROWS: usize = 10_000;

/// The format of an import file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// A GeoJSON FeatureCollection.
    GeoJson,
    /// A GeoPackage (its first vector layer).
    GeoPackage,
}

impl ImportFormat {
    /// From a media type (`text/csv`, `application/geo+json`,
    /// `application/json`, `application/geopackage+sqlite3`).
    #[must_use]
    pub fn from_media_type(t: &str) -> Option<Self> {
        Some(match t {
            "text/csv" => Self::Csv,
            "application/geo+json" | "application/json" => Self::GeoJson,
            "application/geopackage+sqlite3" => Self::GeoPackage,
            _ => return None,
        })
    }

    /// From a file name's extension.
    #[must_use]
    pub fn from_path(path: &std::path::Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "csv" => Self::Csv,
            "geojson" | "json" => Self::GeoJson,
            "gpkg" => Self::GeoPackage,
            _ => return None,
        })
    }
}

/// One row of an import file.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    /// 1-based data row (CSV line after the header, feature position, or
    /// GeoPackage feature id).
    pub row: usize,
    /// Properties by name.
    pub properties: Map<String, Value>,
    /// GeoJSON geometry, when the row has one.
    pub geometry: Option<Value>,
}

/// The rows of a file and the EPSG code of its coordinates, when the file
/// says (GeoPackage).
#[derive(Debug, Clone, Default)]
pub struct ImportRows {
    /// Rows in file order.
    pub rows: Vec<ImportRow>,
    /// EPSG code of the layer's CRS (GeoPackage only).
    pub epsg: Option<u32>,
}

/// Why a file cannot be read at all (bad rows are the validator's).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// CSV structure.
    #[error("CSV row {row}: {message}")]
    Csv {
        /// 1-based data row (0: the header).
        row: usize,
        /// What is wrong.
        message: String,
    },
    /// GeoJSON structure.
    #[error("GeoJSON: {0}")]
    GeoJson(String),
    /// GeoPackage structure.
    #[error("GeoPackage: {0}")]
    GeoPackage(String),
    /// Too many rows.
    #[error("more than {MAX_ROWS} rows; split the file")]
    TooMany,
    /// No rows.
    #[error("the file has no rows")]
    Empty,
}

/// Reads the rows of an import file.
///
/// # Errors
/// [`ImportError`] when the file's structure cannot be read.
pub fn read(bytes: &[u8], format: ImportFormat) -> Result<ImportRows, ImportError> {
    let rows = match format {
        ImportFormat::Csv => ImportRows {
            rows: csv_rows(bytes)?,
            epsg: None,
        },
        ImportFormat::GeoJson => ImportRows {
            rows: geojson_rows(bytes)?,
            epsg: None,
        },
        ImportFormat::GeoPackage => gpkg_rows(bytes)?,
    };
    if rows.rows.is_empty() {
        return Err(ImportError::Empty);
    }
    Ok(rows)
}

fn csv_rows(bytes: &[u8]) -> Result<Vec<ImportRow>, ImportError> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| ImportError::Csv {
            row: 0,
            message: e.to_string(),
        })?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
        .collect();
    let (xcol, ycol) = ["lon", "x"]
        .iter()
        .find_map(|x| headers.iter().position(|h| h == x))
        .zip(
            ["lat", "y"]
                .iter()
                .find_map(|y| headers.iter().position(|h| h == y)),
        )
        .map_or((None, None), |(x, y)| (Some(x), Some(y)));
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 1;
        if row > MAX_ROWS {
            return Err(ImportError::TooMany);
        }
        let record = record.map_err(|e| ImportError::Csv {
            row,
            message: e.to_string(),
        })?;
        let mut properties = Map::new();
        for (j, (h, cell)) in headers.iter().zip(record.iter()).enumerate() {
            if Some(j) == xcol || Some(j) == ycol || cell.trim().is_empty() {
                continue;
            }
            let v = if h == "capacity" {
                cell.trim()
                    .parse::<u64>()
                    .map_or_else(|_| Value::String(cell.to_owned()), Value::from)
            } else {
                Value::String(cell.to_owned())
            };
            properties.insert(h.clone(), v);
        }
        let coord = |c: Option<usize>| -> Option<&str> {
            c.and_then(|c| record.get(c))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let geometry = match (coord(xcol), coord(ycol)) {
            (Some(x), Some(y)) => {
                let num = |s: &str| s.parse::<f64>().ok().filter(|v| v.is_finite());
                match (num(x), num(y)) {
                    (Some(x), Some(y)) => {
                        Some(serde_json::json!({"type": "Point", "coordinates": [x, y]}))
                    }
                    // Not numbers: a geometry the validator will refuse, naming it.
                    _ => Some(Value::String(format!("{x}, {y}"))),
                }
            }
            _ => None,
        };
        out.push(ImportRow {
            row,
            properties,
            geometry,
        });
    }
    Ok(out)
}

fn geojson_rows(bytes: &[u8]) -> Result<Vec<ImportRow>, ImportError> {
    let doc: Value =
        serde_json::from_slice(bytes).map_err(|e| ImportError::GeoJson(e.to_string()))?;
    if doc.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(ImportError::GeoJson("expected a FeatureCollection".into()));
    }
    let features = doc
        .get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| ImportError::GeoJson("no features array".into()))?;
    if features.len() > MAX_ROWS {
        return Err(ImportError::TooMany);
    }
    Ok(features
        .iter()
        .enumerate()
        .map(|(i, f)| ImportRow {
            row: i + 1,
            properties: f
                .get("properties")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
            geometry: f.get("geometry").filter(|g| !g.is_null()).cloned(),
        })
        .collect())
}

fn gpkg_rows(bytes: &[u8]) -> Result<ImportRows, ImportError> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = format!("/vsimem/gapmap-import-{}-{n}.gpkg", std::process::id());
    let err = |e: gdal::errors::GdalError| ImportError::GeoPackage(e.to_string());
    // GDAL reads the bytes in place and never owns them: `create_mem_file`
    // would hand it a buffer from Rust's allocator (mimalloc in the binary)
    // for GDAL to release with libc's free() on unlink, which aborts the
    // process ("free(): invalid pointer"). The reference unlinks the file
    // when dropped, after the dataset (closed inside the closure).
    let mut buffer = bytes.to_vec();
    let file = gdal::vsi::create_mem_file_from_ref(&path, &mut buffer).map_err(err)?;
    let result = (|| {
        let ds = gdal::Dataset::open(&path).map_err(err)?;
        let mut layer = ds
            .layers()
            .next()
            .ok_or_else(|| ImportError::GeoPackage("no vector layer".into()))?;
        let epsg = layer
            .spatial_ref()
            .and_then(|s| s.auth_code().ok())
            .and_then(|c| u32::try_from(c).ok());
        let mut rows = Vec::new();
        for (i, f) in layer.features().enumerate() {
            if i >= MAX_ROWS {
                return Err(ImportError::TooMany);
            }
            let row = f
                .fid()
                .and_then(|x| usize::try_from(x).ok())
                .unwrap_or(i + 1);
            let mut properties = Map::new();
            for (name, value) in f.fields() {
                use gdal::vector::FieldValue as F;
                let v = match value {
                    None => continue,
                    Some(F::IntegerValue(x)) => Value::from(x),
                    Some(F::Integer64Value(x)) => Value::from(x),
                    Some(F::RealValue(x)) => Value::from(x),
                    Some(F::StringValue(s)) => Value::String(s),
                    Some(F::DateValue(d)) => Value::String(d.format("%Y-%m-%d").to_string()),
                    Some(other) => Value::String(format!("{other:?}")),
                };
                properties.insert(name, v);
            }
            let geometry = f
                .geometry()
                .and_then(|g| g.json().ok())
                .and_then(|j| serde_json::from_str(&j).ok());
            rows.push(ImportRow {
                row,
                properties,
                geometry,
            });
        }
        Ok(ImportRows { rows, epsg })
    })();
    drop(file);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_carry_points_and_typed_capacity() {
        let csv =
            "name,category,lon,lat,capacity\nA,warm_space,-1.2,51.7,30\nB,warm_space,,,lots\n";
        let r = read(csv.as_bytes(), ImportFormat::Csv).expect("read");
        assert_eq!(r.rows.len(), 2);
        assert_eq!(r.rows[0].properties["capacity"], Value::from(30));
        assert_eq!(
            r.rows[0].geometry,
            Some(serde_json::json!({"type":"Point","coordinates":[-1.2,51.7]}))
        );
        assert_eq!(r.rows[1].geometry, None);
        assert_eq!(r.rows[1].properties["capacity"], Value::from("lots"));
        assert!(matches!(
            read(b"name,category\nA\n", ImportFormat::Csv),
            Err(ImportError::Csv { row: 1, .. })
        ));
    }

    #[test]
    fn a_file_past_the_row_limit_is_refused_whole() {
        let rows = |n: usize| {
            let mut csv = String::from("name,category,lon,lat\n");
            for i in 0..n {
                csv += "Larder ";
                csv += &i.to_string();
                csv += ",community_larder,-1.2,51.7\n";
            }
            csv
        };
        let at_limit = read(rows(MAX_ROWS).as_bytes(), ImportFormat::Csv).expect("read");
        assert_eq!(at_limit.rows.len(), 10_000);
        assert!(matches!(
            read(rows(MAX_ROWS + 1).as_bytes(), ImportFormat::Csv),
            Err(ImportError::TooMany)
        ));
        let features: Vec<Value> = (0..=MAX_ROWS)
            .map(|i| serde_json::json!({"type": "Feature", "geometry": null, "properties": {"name": i}}))
            .collect();
        let fc = serde_json::json!({"type": "FeatureCollection", "features": features}).to_string();
        assert!(matches!(
            read(fc.as_bytes(), ImportFormat::GeoJson),
            Err(ImportError::TooMany)
        ));
    }
}
