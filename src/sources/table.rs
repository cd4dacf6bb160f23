//! A thin, error-reporting reader over any vector table GDAL can open.

use std::path::{Path, PathBuf};

use gdal::vector::{Feature, LayerAccess};
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};

use super::error::SourceError;
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
    dataset: Dataset,
    layer: Option<String>,
    columns: Vec<String>,
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

impl Table {
    /// Opens a configured table under the data directory.
    ///
    /// # Errors
    /// When the file is missing, GDAL cannot open it, or the layer is absent.
    pub fn open_ref(data_dir: &Path, table: &TableRef) -> Result<Self, SourceError> {
        let path = resolve(data_dir, &table.path);
        let options: Vec<&str> = table.open_options.iter().map(String::as_str).collect();
        Self::open(&path, table.layer.as_deref(), &options)
    }

    /// Opens a file (and optionally a named layer) with GDAL open options.
    ///
    /// # Errors
    /// When the file is missing, GDAL cannot open it, or the layer is absent.
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
        let options = DatasetOptions {
            open_flags: GdalOpenFlags::GDAL_OF_VECTOR | GdalOpenFlags::GDAL_OF_READONLY,
            open_options: if open_options.is_empty() {
                None
            } else {
                Some(open_options)
            },
            ..DatasetOptions::default()
        };
        let dataset = Dataset::open_ex(path, options).map_err(|e| SourceError::Open {
            file: path.to_owned(),
            layer: layer.map(str::to_owned),
            message: e.to_string(),
        })?;
        let mut table = Self {
            file: path.to_owned(),
            dataset,
            layer: layer.map(str::to_owned),
            columns: Vec::new(),
        };
        let columns = {
            let l = table.layer()?;
            l.defn().fields().map(|f| f.name()).collect()
        };
        table.columns = columns;
        Ok(table)
    }

    fn layer(&self) -> Result<gdal::vector::Layer<'_>, SourceError> {
        let result = match &self.layer {
            Some(name) => self.dataset.layer_by_name(name),
            None => self.dataset.layer(0),
        };
        result.map_err(|e| SourceError::Open {
            file: self.file.clone(),
            layer: self.layer.clone(),
            message: e.to_string(),
        })
    }

    /// The file this table was read from.
    #[must_use]
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The underlying dataset, for source readers that need more than rows
    /// (the OSM reader reads several layers).
    #[must_use]
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
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
    /// `Empty`, or whatever `f` returns.
    pub fn for_each_row(
        &self,
        mut f: impl FnMut(&Row<'_>) -> Result<(), SourceError>,
    ) -> Result<u64, SourceError> {
        let mut layer = self.layer()?;
        let mut count = 0_u64;
        for feature in layer.features() {
            count += 1;
            let row = Row {
                feature: &feature,
                number: count,
                file: &self.file,
            };
            f(&row)?;
        }
        if count == 0 {
            return Err(SourceError::Empty {
                file: self.file.clone(),
            });
        }
        Ok(count)
    }
}

/// One row of a table, with typed accessors that report the row and column.
pub struct Row<'a> {
    feature: &'a Feature<'a>,
    number: u64,
    file: &'a Path,
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

    /// The underlying GDAL feature (for geometry).
    #[must_use]
    pub fn feature(&self) -> &Feature<'_> {
        self.feature
    }

    /// The trimmed text of a cell; `None` when null or blank.
    #[must_use]
    pub fn text(&self, col: &Column) -> Option<String> {
        let s = self.feature.field_as_string(col.idx).ok().flatten()?;
        let t = s.trim();
        if t.is_empty() {
            None
        } else if t.len() == s.len() {
            Some(s)
        } else {
            Some(t.to_owned())
        }
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
        let Some(text) = self.text(col) else {
            return Ok(None);
        };
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Some(v)),
            _ => Err(self.bad(col, text, "a number")),
        }
    }

    /// A whole number (published as `3.0` in places).
    ///
    /// # Errors
    /// `BadValue` when the text is not a non-negative whole number.
    pub fn whole_number(&self, col: &Column) -> Result<Option<u32>, SourceError> {
        let Some(text) = self.text(col) else {
            return Ok(None);
        };
        match text.parse::<f64>() {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // range-checked
            Ok(v) if v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&v) => {
                Ok(Some(v as u32))
            }
            _ => Err(self.bad(col, text, "a whole number")),
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
