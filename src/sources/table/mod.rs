//! One error-reporting reader over the tables the atlas reads.
//!
//! Three backends sit behind one [`Table`] / [`Row`] interface:
//! - [`delimited`]: CSV files, read with the `csv` crate;
//! - [`geojson_file`]: GeoJSON feature collections, read with `serde_json`;
//! - [`gdal_layer`]: anything else GDAL opens (GeoPackage, shapefiles,
//!   `/vsizip/` paths, OSM PBF), and CSV files with GDAL open options the
//!   native reader does not implement.
//!
//! Why not GDAL for everything: GDAL's CSV and GeoJSON drivers build a
//! generic feature per row (and, for GeoJSON, a json-c tree of the whole
//! file). For the England-wide files that took 1.4–2.9 s each, most of the
//! cold start; the native readers take a tenth of that. Errors name the
//! file, row and column whichever backend reads the file.

mod delimited;
mod gdal_layer;
mod geojson_file;

pub(crate) use gdal_layer::read_failure;

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use gdal::Dataset;
use geo::Geometry;

use super::error::SourceError;
use super::reproject::{Reprojector, WGS84_EPSG};
use crate::config::TableRef;

/// A resolved column of an open table.
#[derive(Debug, Clone)]
pub struct Column {
    idx: usize,
    name: String,
}

/// An open table (file and layer).
pub struct Table {
    file: PathBuf,
    backend: Backend,
    columns: Vec<String>,
}

enum Backend {
    Gdal(gdal_layer::GdalLayer),
    Csv(delimited::Delimited),
    GeoJson(geojson_file::FeatureCollection),
}

/// Resolves a configured path against the data directory, keeping GDAL
/// virtual paths (`/vsizip/...`) intact.
#[must_use]
pub fn resolve(data_dir: &Path, path: &str) -> PathBuf {
    if let Some(rest) = path.strip_prefix("/vsizip/") {
        let inner = Path::new(rest);
        if inner.is_absolute() {
            return PathBuf::from(path);
        }
        return PathBuf::from(format!("/vsizip/{}", data_dir.join(inner).display()));
    }
    data_dir.join(path)
}

fn has_extension(path: &Path, extensions: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

impl Table {
    /// Opens a configured table under the data directory.
    ///
    /// # Errors
    /// When the file is missing, cannot be opened or parsed, or the layer is
    /// absent.
    pub fn open_ref(data_dir: &Path, table: &TableRef) -> Result<Self, SourceError> {
        let path = resolve(data_dir, &table.path);
        let options: Vec<&str> = table.open_options.iter().map(String::as_str).collect();
        Self::open(&path, table.layer.as_deref(), &options)
    }

    /// Opens a file (and optionally a named layer). CSV and GeoJSON files
    /// are read natively; other formats, and CSV files with open options
    /// other than `HEADERS=`, through GDAL.
    ///
    /// # Errors
    /// When the file is missing, cannot be opened or parsed, or the layer is
    /// absent.
    pub fn open(
        path: &Path,
        layer: Option<&str>,
        open_options: &[&str],
    ) -> Result<Self, SourceError> {
        let virtual_path = path.to_string_lossy().starts_with("/vsi");
        if !virtual_path && !path.exists() {
            return Err(SourceError::MissingFile {
                file: path.to_owned(),
            });
        }
        if !virtual_path && path.metadata().is_ok_and(|m| m.len() == 0) {
            return Err(SourceError::Empty {
                file: path.to_owned(),
            });
        }
        let native = !virtual_path && layer.is_none();
        if native && has_extension(path, &["csv"]) {
            if let Some(headers) = delimited::headers_option(open_options) {
                let (reader, columns) = delimited::Delimited::open(path, headers)?;
                return Ok(Self::with(path, Backend::Csv(reader), columns));
            }
        }
        if native && open_options.is_empty() && has_extension(path, &["geojson", "json"]) {
            if let Some(collection) = geojson_file::FeatureCollection::open(path)? {
                let columns = collection.columns();
                return Ok(Self::with(path, Backend::GeoJson(collection), columns));
            }
        }
        let (gdal, columns) = gdal_layer::GdalLayer::open(path, layer, open_options)?;
        Ok(Self::with(path, Backend::Gdal(gdal), columns))
    }

    fn with(path: &Path, backend: Backend, columns: Vec<String>) -> Self {
        Self {
            file: path.to_owned(),
            backend,
            columns,
        }
    }

    /// The file this table was read from.
    #[must_use]
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The underlying GDAL dataset, for source readers that need more than
    /// rows (the OSM reader reads several layers).
    ///
    /// # Errors
    /// `Open` when the file was read natively rather than through GDAL.
    pub fn dataset(&self) -> Result<&Dataset, SourceError> {
        match &self.backend {
            Backend::Gdal(g) => Ok(g.dataset()),
            Backend::Csv(_) | Backend::GeoJson(_) => Err(SourceError::Open {
                file: self.file.clone(),
                layer: None,
                message: "a GDAL dataset was expected (CSV and GeoJSON are read natively)"
                    .to_owned(),
            }),
        }
    }

    /// A reprojector from the table's CRS to CRS84 and BNG: the layer's CRS
    /// for GDAL, the `crs` member of a GeoJSON file, and CRS84 when a file
    /// declares none (as RFC 7946 prescribes for GeoJSON).
    ///
    /// # Errors
    /// When the declared CRS is unknown or cannot be transformed.
    pub fn reprojector(&self) -> Result<Reprojector, SourceError> {
        match &self.backend {
            Backend::Gdal(g) => match g.spatial_ref(&self.file)? {
                Some(srs) => Reprojector::from_srs(&srs),
                None => Reprojector::from_epsg(WGS84_EPSG),
            },
            Backend::GeoJson(c) => match c.crs_name() {
                Some(name) => Reprojector::from_definition(name),
                None => Reprojector::from_epsg(WGS84_EPSG),
            },
            Backend::Csv(_) => Reprojector::from_epsg(WGS84_EPSG),
        }
    }

    /// Resolves a column by name (exact, then case-insensitive).
    ///
    /// # Errors
    /// `MissingColumn`, listing the columns present.
    pub fn column(&self, name: &str) -> Result<Column, SourceError> {
        let idx = self.columns.iter().position(|c| c == name).or_else(|| {
            self.columns
                .iter()
                .position(|c| c.eq_ignore_ascii_case(name))
        });
        idx.map(|idx| Column {
            idx,
            name: name.to_owned(),
        })
        .ok_or_else(|| SourceError::MissingColumn {
            file: self.file.clone(),
            column: name.to_owned(),
            available: self.columns.join(", "),
        })
    }

    /// Resolves an optional column.
    ///
    /// # Errors
    /// `MissingColumn` when a name is given but absent.
    pub fn optional_column(&self, name: Option<&str>) -> Result<Option<Column>, SourceError> {
        name.map(|n| self.column(n)).transpose()
    }

    /// Calls `f` for every row, in file order. An empty table is an error.
    ///
    /// # Errors
    /// `Empty`, a read error naming the row, or whatever `f` returns.
    pub fn for_each_row(
        &self,
        mut f: impl FnMut(&Row<'_>) -> Result<(), SourceError>,
    ) -> Result<u64, SourceError> {
        let mut count = 0_u64;
        let mut visit = |cells: Cells<'_>| {
            count += 1;
            f(&Row {
                cells,
                number: count,
                file: &self.file,
                columns: &self.columns,
            })
        };
        match &self.backend {
            Backend::Gdal(g) => g.for_each(&self.file, &mut visit)?,
            Backend::Csv(c) => c.for_each(&self.file, &mut visit)?,
            Backend::GeoJson(c) => c.for_each(&mut visit)?,
        }
        if count == 0 {
            return Err(SourceError::Empty {
                file: self.file.clone(),
            });
        }
        Ok(count)
    }
}

/// The cells of one row, as each backend holds them.
enum Cells<'a> {
    Gdal(&'a gdal::vector::Feature<'a>),
    Csv(&'a csv::ByteRecord),
    GeoJson(geojson_file::FeatureRef<'a>),
}

/// One row of a table, with typed accessors that report the row and column.
pub struct Row<'a> {
    cells: Cells<'a>,
    number: u64,
    file: &'a Path,
    columns: &'a [String],
}

impl Row<'_> {
    /// 1-based data row.
    #[must_use]
    pub fn number(&self) -> u64 {
        self.number
    }

    /// The file the row came from.
    #[must_use]
    pub fn file(&self) -> &Path {
        self.file
    }

    /// The raw text of a cell, untrimmed and borrowed where the backend
    /// allows (CSV, GeoJSON strings); `None` when null or absent.
    fn raw_text(&self, col: &Column) -> Option<Cow<'_, str>> {
        match self.cells {
            Cells::Gdal(feature) => feature
                .field_as_string(col.idx)
                .ok()
                .flatten()
                .map(Cow::Owned),
            Cells::Csv(record) => record.get(col.idx).map(String::from_utf8_lossy),
            Cells::GeoJson(feature) => feature.property_text(self.columns.get(col.idx)?),
        }
    }

    /// The trimmed text of a cell, borrowed where possible; `None` when null
    /// or blank. The numeric accessors parse from this without allocating:
    /// the deprivation tables alone have 3.3 million cells.
    #[must_use]
    pub fn cell(&self, col: &Column) -> Option<Cow<'_, str>> {
        let s = self.raw_text(col)?;
        let trimmed = s.trim();
        if trimmed.is_empty() {
            None
        } else if trimmed.len() == s.len() {
            Some(s)
        } else {
            Some(Cow::Owned(trimmed.to_owned()))
        }
    }

    /// The trimmed text of a cell; `None` when null or blank.
    #[must_use]
    pub fn text(&self, col: &Column) -> Option<String> {
        self.cell(col).map(Cow::into_owned)
    }

    /// The row's geometry, in the table's CRS; `None` when the row has none
    /// (always `None` for CSV files).
    ///
    /// # Errors
    /// `InvalidGeometry` when the geometry cannot be read.
    pub fn geometry(&self) -> Result<Option<Geometry<f64>>, SourceError> {
        self.geometry_and_open_rings().map(|(g, _)| g)
    }

    /// The row's geometry, as [`Row::geometry`] gives it, and the polygon
    /// rings that the file left open (last position not the first), e.g.
    /// `"polygon 1, ring 2"`. Those rings are closed in the geometry, so the
    /// caller decides whether that repair is acceptable and reports it.
    ///
    /// # Errors
    /// `InvalidGeometry` when the geometry cannot be read.
    pub fn geometry_and_open_rings(
        &self,
    ) -> Result<(Option<Geometry<f64>>, Vec<String>), SourceError> {
        let mut open_rings = Vec::new();
        let geometry = match self.cells {
            Cells::Gdal(feature) => {
                open_rings = gdal_layer::open_rings(feature);
                gdal_layer::geometry(feature)
                    .map_err(|e| self.invalid_geometry(format!("unreadable geometry: {e}")))?
            }
            Cells::Csv(_) => None,
            Cells::GeoJson(feature) => feature
                .geometry(&mut open_rings)
                .map_err(|e| self.invalid_geometry(format!("unreadable geometry: {e}")))?,
        };
        Ok((geometry, open_rings))
    }

    /// The text of a cell that must not be empty.
    ///
    /// # Errors
    /// `EmptyValue`.
    pub fn required_text(&self, col: &Column) -> Result<String, SourceError> {
        self.text(col).ok_or_else(|| SourceError::EmptyValue {
            file: self.file.to_owned(),
            row: self.number,
            column: col.name.clone(),
        })
    }

    /// A number; `None` for a blank cell.
    ///
    /// # Errors
    /// `BadValue` when the text is not a finite number.
    pub fn number_value(&self, col: &Column) -> Result<Option<f64>, SourceError> {
        let Some(text) = self.cell(col) else {
            return Ok(None);
        };
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Some(v)),
            _ => Err(self.bad(col, text.into_owned(), "a number")),
        }
    }

    /// A whole number (published as `3.0` in places).
    ///
    /// # Errors
    /// `BadValue` when the text is not a non-negative whole number.
    pub fn whole_number(&self, col: &Column) -> Result<Option<u32>, SourceError> {
        let Some(text) = self.cell(col) else {
            return Ok(None);
        };
        // Most cells are plain integers; the float parse handles `3.0`.
        if let Ok(v) = text.parse::<u32>() {
            return Ok(Some(v));
        }
        match text.parse::<f64>() {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // range-checked
            Ok(v) if v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&v) => {
                Ok(Some(v as u32))
            }
            _ => Err(self.bad(col, text.into_owned(), "a whole number")),
        }
    }

    /// An error for a value that could not be parsed.
    #[must_use]
    pub fn bad(&self, col: &Column, value: String, expected: &'static str) -> SourceError {
        SourceError::BadValue {
            file: self.file.to_owned(),
            row: self.number,
            column: col.name.clone(),
            value,
            expected,
        }
    }

    /// An error for this row's geometry.
    #[must_use]
    pub fn invalid_geometry(&self, reason: impl Into<String>) -> SourceError {
        SourceError::InvalidGeometry {
            file: self.file.to_owned(),
            row: self.number,
            reason: reason.into(),
        }
    }
}
