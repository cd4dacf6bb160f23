//! Errors from reading source files, each naming the file and, where it
//! applies, the row and column.

use std::path::PathBuf;

/// Something in a source file that stops the atlas from loading.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The file does not exist.
    #[error("{file}: file not found")]
    MissingFile {
        /// File.
        file: PathBuf,
    },
    /// GDAL could not open the file or layer.
    #[error("{file}: cannot open{}: {message}", layer.as_ref().map(|l| format!(" layer '{l}'")).unwrap_or_default())]
    Open {
        /// File.
        file: PathBuf,
        /// Layer, when one was named.
        layer: Option<String>,
        /// GDAL's message.
        message: String,
    },
    /// The file has no data rows.
    #[error("{file}: empty file (no data rows)")]
    Empty {
        /// File.
        file: PathBuf,
    },
    /// A configured column is not in the file.
    #[error("{file}: missing column '{column}' (columns present: {available})")]
    MissingColumn {
        /// File.
        file: PathBuf,
        /// Column asked for.
        column: String,
        /// Columns the file has.
        available: String,
    },
    /// A value could not be parsed.
    #[error("{file}: row {row}, column '{column}': cannot parse '{value}' as {expected}")]
    BadValue {
        /// File.
        file: PathBuf,
        /// 1-based data row.
        row: u64,
        /// Column.
        column: String,
        /// The text found.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// A geometry is missing, of the wrong type, or malformed.
    #[error("{file}: row {row}: invalid geometry: {reason}")]
    InvalidGeometry {
        /// File.
        file: PathBuf,
        /// 1-based data row.
        row: u64,
        /// What is wrong.
        reason: String,
    },
    /// A required value is empty.
    #[error("{file}: row {row}, column '{column}': empty value where one is required")]
    EmptyValue {
        /// File.
        file: PathBuf,
        /// 1-based data row.
        row: u64,
        /// Column.
        column: String,
    },
    /// A coordinate transformation could not be set up or failed.
    #[error("coordinate transformation {what}: {message}")]
    Transform {
        /// Which transformation.
        what: String,
        /// GDAL's message.
        message: String,
    },
    /// GDAL failed while reading.
    #[error("{file}: {message}")]
    Gdal {
        /// File.
        file: PathBuf,
        /// GDAL's message.
        message: String,
    },
    /// The file ends in the middle of a row: it was cut off.
    #[error("{file}: row {row}, column '{column}': {reason}; the file looks truncated")]
    Truncated {
        /// File.
        file: PathBuf,
        /// 1-based data row that is cut off.
        row: u64,
        /// Column the row stops in.
        column: String,
        /// What is wrong.
        reason: String,
    },
    /// A table holds another number of data rows than its configuration
    /// declares (`rows`): cut off at a line break, or another edition.
    #[error("{file}: {found} data rows, but the configuration declares {expected} (`rows`); the file looks truncated, or is another edition (then update `rows`)")]
    RowCount {
        /// File.
        file: PathBuf,
        /// Rows declared.
        expected: u64,
        /// Rows read.
        found: u64,
    },
    /// A required table lacks areas that its declared coverage includes
    /// (e.g. a table cut off at a line break, so that every row read is
    /// whole but the rest are gone).
    #[error("{file}: {missing} of the {expected} {what} are missing{}; the file looks truncated or incomplete", examples_text(examples))]
    Incomplete {
        /// File.
        file: PathBuf,
        /// What is counted, e.g. "LSOAs (2021) in England".
        what: String,
        /// How many are missing.
        missing: usize,
        /// How many the declared coverage has.
        expected: usize,
        /// A few missing codes, sorted.
        examples: Vec<String>,
    },
}

/// " (e.g. A, B)", or nothing when there are no examples.
fn examples_text(examples: &[String]) -> String {
    if examples.is_empty() {
        String::new()
    } else {
        format!(" (e.g. {})", examples.join(", "))
    }
}
