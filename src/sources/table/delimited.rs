//! The CSV backend, with the `csv` crate.
//!
//! It follows GDAL's CSV driver where the configuration relies on it: the
//! first record names the columns unless `HEADERS=NO` is given, in which case
//! they are `field_1`, `field_2`, ...; a UTF-8 byte-order mark is dropped;
//! short rows read as null in the missing cells; text is not trimmed here
//! (the row accessors trim). Cells that are not UTF-8 are read lossily
//! rather than failing the whole load.
//!
//! A file that ends in the middle of a row is an error, not a short table:
//! the last row is checked for a quoted value left open, and, when the file
//! does not end with a line break, for fewer cells than the header (a short
//! row that ends with a line break is a complete row, as GDAL reads it).

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
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
    /// Column names, to name the column a truncated row stops in.
    columns: Vec<String>,
}

/// The last record of a pass: where it starts, its cells and its data row.
struct LastRecord {
    start: u64,
    cells: usize,
    row: u64,
}

/// How much of the last record is read back to check its quoting; a longer
/// record is only checked for its cell count.
const MAX_TAIL: u64 = 1 << 20;

/// Whether `tail` (one CSV record and what follows it) ends inside a quoted
/// value, parsing as the `csv` crate does: a quote opens a quoted value only
/// at the start of a cell, and `""` inside one is a literal quote.
fn ends_inside_quotes(tail: &[u8]) -> bool {
    #[derive(Clone, Copy)]
    enum State {
        CellStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let mut state = State::CellStart;
    for &b in tail {
        let separator = matches!(b, b',' | b'\n' | b'\r');
        state = match state {
            State::CellStart if b == b'"' => State::Quoted,
            State::CellStart | State::Unquoted | State::QuoteInQuoted if separator => {
                State::CellStart
            }
            State::QuoteInQuoted if b == b'"' => State::Quoted,
            State::CellStart | State::Unquoted | State::QuoteInQuoted => State::Unquoted,
            State::Quoted if b == b'"' => State::QuoteInQuoted,
            State::Quoted => State::Quoted,
        };
    }
    matches!(state, State::Quoted)
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
        let columns: Vec<String> = match headers {
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
            columns: columns.clone(),
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
        let mut last = None;
        let mut row = 0_u64;
        while rdr
            .read_byte_record(&mut record)
            .map_err(|e| read_error(file, &e))?
        {
            if std::mem::take(&mut first) && self.headers == Headers::Yes {
                continue;
            }
            row += 1;
            last = Some(LastRecord {
                start: record.position().map_or(0, csv::Position::byte),
                cells: record.len(),
                row,
            });
            visit(Cells::Csv(&record))?;
        }
        match last {
            Some(last) => self.check_end(file, &last),
            None => Ok(()),
        }
    }

    /// Fails when the file ends in the middle of its last record.
    fn check_end(&self, file: &Path, last: &LastRecord) -> Result<(), SourceError> {
        let io = |e: std::io::Error| SourceError::Open {
            file: file.to_owned(),
            layer: None,
            message: e.to_string(),
        };
        let mut f = File::open(&self.path).map_err(io)?;
        let len = f.metadata().map_err(io)?.len();
        let tail_len = len.saturating_sub(last.start);
        let mut tail = Vec::new();
        if tail_len <= MAX_TAIL {
            f.seek(SeekFrom::Start(last.start)).map_err(io)?;
            f.take(MAX_TAIL).read_to_end(&mut tail).map_err(io)?;
        } else {
            f.seek(SeekFrom::End(-1)).map_err(io)?;
            f.read_to_end(&mut tail).map_err(io)?;
        }
        if last.start == 0 && tail.starts_with(BOM) {
            tail.drain(..BOM.len());
        }
        let ends_with_newline = tail.last().is_some_and(|b| matches!(b, b'\n' | b'\r'));
        let column = || {
            self.columns
                .get(last.cells.saturating_sub(1))
                .cloned()
                .unwrap_or_else(|| format!("field_{}", last.cells))
        };
        let truncated = |reason: String| SourceError::Truncated {
            file: file.to_owned(),
            row: last.row,
            column: column(),
            reason,
        };
        if tail_len <= MAX_TAIL && ends_inside_quotes(&tail) {
            return Err(truncated(
                "a quoted value is still open at the end of the file".to_owned(),
            ));
        }
        if !ends_with_newline && last.cells < self.columns.len() {
            return Err(truncated(format!(
                "the file ends after {} of the header's {} cells, without a line break",
                last.cells,
                self.columns.len()
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{ends_inside_quotes, headers_option, Headers};

    #[test]
    fn open_quote_at_end_is_found() {
        assert!(!ends_inside_quotes(b"a,\"b, \"\"c\"\"\",d\n"));
        assert!(ends_inside_quotes(b"a,\"b\nstill b"));
        assert!(ends_inside_quotes(b"a,\"b\"\""));
        // A quote inside an unquoted cell is literal.
        assert!(!ends_inside_quotes(b"a,5\" pipe,c"));
        assert!(!ends_inside_quotes(b"a,\"\""));
    }

    #[test]
    fn headers_option_reads_gdal_setting() {
        assert_eq!(headers_option(&[]), Some(Headers::Yes));
        assert_eq!(headers_option(&["HEADERS=NO"]), Some(Headers::No));
        assert_eq!(headers_option(&["headers=auto"]), Some(Headers::Yes));
        assert_eq!(headers_option(&["SEPARATOR=SEMICOLON"]), None);
    }
}
