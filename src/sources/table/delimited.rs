//! The CSV backend, with the `csv` crate.
//!
//! It follows GDAL's CSV driver where the configuration relies on it: the
//! first record names the columns unless `HEADERS=NO` is given, in which case
//! they are `field_1`, `field_2`, ...; a UTF-8 byte-order mark is dropped;
//! short rows read as null in the missing cells; text is not trimmed here
//! (the row accessors trim). Cells that are not UTF-8 are read lossily
//! rather than failing the whole load.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use super::Cells;
use crate::sources::error::SourceError;

/// Whether the first record holds column names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Headers {
    /// First record names the columns.
    Yes,
    /// No header; columns are `field_1`, `field_2`, ...
    No,
}

/// The `HEADERS=` setting among GDAL open options, or `None` when other
/// options are present that only GDAL's driver implements.
pub(super) fn headers_option(open_options: &[&str]) -> Option<Headers> {
    let mut headers = Headers::Yes;
    for option in open_options {
        let (key, value) = option.split_once('=')?;
        if !key.trim().eq_ignore_ascii_case("HEADERS") {
            return None;
        }
        headers = match value.trim().to_ascii_uppercase().as_str() {
            "NO" => Headers::No,
            "YES" | "AUTO" => Headers::Yes,
            _ => return None,
        };
    }
    Some(headers)
}

/// A CSV file: rows are streamed from disk on each pass.
pub(super) struct Delimited {
    path: PathBuf,
    headers: Headers,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

fn reader(path: &Path) -> Result<csv::Reader<BufReader<File>>, SourceError> {
    let file = File::open(path).map_err(|e| SourceError::Open {
        file: path.to_owned(),
        layer: None,
        message: e.to_string(),
    })?;
    Ok(csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(BufReader::with_capacity(1 << 16, file)))
}

fn read_error(path: &Path, e: &csv::Error) -> SourceError {
    SourceError::Open {
        file: path.to_owned(),
        layer: None,
        message: format!("unreadable CSV: {e}"),
    }
}

impl Delimited {
    /// Opens a CSV file and reads its column names.
    pub(super) fn open(path: &Path, headers: Headers) -> Result<(Self, Vec<String>), SourceError> {
        let mut rdr = reader(path)?;
        let mut first = csv::ByteRecord::new();
        if !rdr
            .read_byte_record(&mut first)
            .map_err(|e| read_error(path, &e))?
        {
            return Err(SourceError::Empty {
                file: path.to_owned(),
            });
        }
        let columns = match headers {
            Headers::Yes => first
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let name = if i == 0 {
                        name.strip_prefix(BOM).unwrap_or(name)
                    } else {
                        name
                    };
                    String::from_utf8_lossy(name).trim().to_owned()
                })
                .collect(),
            Headers::No => (1..=first.len()).map(|i| format!("field_{i}")).collect(),
        };
        let table = Self {
            path: path.to_owned(),
            headers,
        };
        Ok((table, columns))
    }

    pub(super) fn for_each(
        &self,
        file: &Path,
        visit: &mut dyn FnMut(Cells<'_>) -> Result<(), SourceError>,
    ) -> Result<(), SourceError> {
        let mut rdr = reader(&self.path)?;
        let mut record = csv::ByteRecord::new();
        let mut first = true;
        while rdr
            .read_byte_record(&mut record)
            .map_err(|e| read_error(file, &e))?
        {
            if std::mem::take(&mut first) && self.headers == Headers::Yes {
                continue;
            }
            visit(Cells::Csv(&record))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{headers_option, Headers};

    #[test]
    fn headers_option_reads_gdal_setting() {
        assert_eq!(headers_option(&[]), Some(Headers::Yes));
        assert_eq!(headers_option(&["HEADERS=NO"]), Some(Headers::No));
        assert_eq!(headers_option(&["headers=auto"]), Some(Headers::Yes));
        assert_eq!(headers_option(&["SEPARATOR=SEMICOLON"]), None);
    }
}
