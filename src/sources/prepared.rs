//! The prepared atlas: what one start-up built from the data files (the
//! joined atlas and its analysis tables), written to a file in a cache
//! directory so that the next start-up reads it back instead of reading,
//! reprojecting and analysing every source again (England: about 10 s of
//! a 2-core machine, against under 2 s to read it back).
//!
//! The file is only a cache. It is used only when its [`Fingerprint`]
//! matches the current one: the same binary (size and modification time of
//! the executable), the same region and atlas definition, and every file
//! under the data directory with the same path, size and modification time.
//! Anything else (a changed file, another build, a damaged or truncated
//! file) makes [`read`] say why it is not used, and the caller loads from
//! the sources as if there were no file.
//!
//! Layout: a magic line, a format version (`u32`, little-endian), the
//! fingerprint (a borsh string), the payload (borsh), and a CRC-32 of the
//! payload's bytes (`u32`, little-endian). Files are written to a temporary
//! name in the same directory and renamed into place, so a reader never
//! sees a half-written file and concurrent writers cannot interleave.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use borsh::{BorshDeserialize, BorshSerialize};

/// First bytes of every prepared atlas.
const MAGIC: &[u8; 22] = b"GAPMAP-PREPARED-ATLAS\n";
/// Raised whenever the layout above changes.
const FORMAT: u32 = 1;
/// Most files and directories [`Fingerprint::new`] lists under a data
/// directory (the shared data has about 60): beyond it no prepared atlas
/// is used, rather than walking an unbounded tree at every start-up.
const MAX_ENTRIES: usize = 20_000;
/// Environment variables read by GDAL, OGR and PROJ (and CPL, their
/// common layer), which change what a load reads: part of the fingerprint.
const SETTING_PREFIXES: [&str; 5] = ["GDAL_", "OGR_", "CPL_", "PROJ_", "OSM_"];
/// Largest prepared atlas read (England's is about 140 MB): the checksum
/// is taken over the whole file before it is used, so a larger file would
/// cost its size in reading before being refused.
const MAX_FILE_BYTES: u64 = 2 << 30;
/// Deepest directory level listed.
const MAX_DEPTH: usize = 8;
/// Buffer of the reader and writer.
const BUFFER: usize = 1 << 20;
/// Temporary files older than this, left by a writer that was stopped,
/// are removed by the next writer.
const STALE_TEMP: Duration = Duration::from_hours(1);

/// Why a prepared atlas was not read or written.
#[derive(Debug, thiserror::Error)]
pub enum PreparedError {
    /// No prepared atlas there yet.
    #[error("{}: no prepared atlas yet", file.display())]
    Missing {
        /// File.
        file: PathBuf,
    },
    /// It was prepared from other data, another definition or another build.
    #[error("{}: prepared from other data files, another atlas definition or another build of gapmap ({difference})", file.display())]
    Stale {
        /// File.
        file: PathBuf,
        /// The first difference, in words.
        difference: String,
    },
    /// It is not a prepared atlas of this format, or is damaged.
    #[error("{}: not a usable prepared atlas: {reason}", file.display())]
    Damaged {
        /// File.
        file: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Reading or writing failed.
    #[error("{}: {source}", file.display())]
    Io {
        /// File or directory.
        file: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The fingerprint of the inputs could not be taken.
    #[error("{}: {reason}", dir.display())]
    Inputs {
        /// The data directory.
        dir: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

/// What a prepared atlas was made from, as text (compared exactly; the
/// first differing line is reported).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The fingerprint of the running executable, `definition` (the atlas
    /// definition and region, as text) and every file under `data_dir`.
    ///
    /// # Errors
    /// [`PreparedError::Inputs`] when the executable or a directory cannot
    /// be read, or the data directory holds more than 20,000 entries or is
    /// nested deeper than 8 levels.
    pub fn new(data_dir: &Path, definition: &str) -> Result<Self, PreparedError> {
        let inputs = |reason: String| PreparedError::Inputs {
            dir: data_dir.to_path_buf(),
            reason,
        };
        let exe = std::env::current_exe()
            .and_then(fs::metadata)
            .map_err(|e| inputs(format!("cannot read the running executable: {e}")))?;
        let mut text = format!(
            "gapmap {} format {FORMAT}\nexecutable {} bytes, modified {}\nGDAL {}\n",
            env!("CARGO_PKG_VERSION"),
            exe.len(),
            modified_ns(&exe),
            gdal::version::version_info("RELEASE_NAME")
        );
        // Settings that change what GDAL and PROJ read (the shared
        // libraries themselves are covered by GDAL's release above).
        let mut settings: Vec<(String, String)> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.to_string_lossy().into_owned())))
            .filter(|(k, _)| SETTING_PREFIXES.iter().any(|p| k.starts_with(p)))
            .collect();
        settings.sort();
        for (k, v) in settings {
            let _ = writeln!(text, "setting {k}={v}");
        }
        let mut files = Vec::new();
        list(data_dir, Path::new(""), 0, &mut files).map_err(inputs)?;
        files.sort();
        for (path, len, modified) in files {
            let _ = writeln!(text, "file {path} {len} bytes, modified {modified}");
        }
        let _ = write!(text, "definition {definition}");
        Ok(Self(text))
    }

    /// The first line in which `self` and `other` differ, for messages.
    fn difference(&self, other: &Fingerprint) -> String {
        let mut ours = self.0.lines();
        let mut theirs = other.0.lines();
        loop {
            match (ours.next(), theirs.next()) {
                (Some(a), Some(b)) if a == b => {}
                (Some(a), Some(b)) => return format!("now {}; then {}", clip(a), clip(b)),
                (Some(a), None) => return format!("now also {}", clip(a)),
                (None, Some(b)) => return format!("then also {}", clip(b)),
                (None, None) => return "none found".to_owned(),
            }
        }
    }
}

/// A line cut to 200 characters (a definition's line can be long).
fn clip(line: &str) -> String {
    match line.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_owned(),
    }
}

/// Modification time in nanoseconds since 1970 (0 when unknown).
fn modified_ns(meta: &fs::Metadata) -> u128 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos())
}

/// Lists the files under `dir` (following links) as (path relative to the
/// data directory, size, modification time), at most [`MAX_ENTRIES`]
/// entries and [`MAX_DEPTH`] levels.
fn list(
    root: &Path,
    rel: &Path,
    depth: usize,
    out: &mut Vec<(String, u64, u128)>,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("nested deeper than {MAX_DEPTH} levels"));
    }
    let dir = root.join(rel);
    let entries = fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        if out.len() >= MAX_ENTRIES {
            return Err(format!("more than {MAX_ENTRIES} files"));
        }
        let path = rel.join(entry.file_name());
        let meta = match fs::metadata(root.join(&path)) {
            Ok(meta) => meta,
            // A link to nothing (an editor's lock file, say) is no input:
            // recorded by name, so that its target appearing is a change.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                out.push((format!("{} (a link to nothing)", path.display()), 0, 0));
                continue;
            }
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        if meta.is_dir() {
            list(root, &path, depth + 1, out)?;
        } else {
            out.push((
                path.to_string_lossy().into_owned(),
                meta.len(),
                modified_ns(&meta),
            ));
        }
    }
    Ok(())
}

/// Counts the bytes passing through and their CRC-32.
struct Crc<T> {
    inner: T,
    hasher: crc32fast::Hasher,
}

impl<R: Read> Read for Crc<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(buf.get(..n).unwrap_or_default());
        Ok(n)
    }
}

impl<W: Write> Write for Crc<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(buf.get(..n).unwrap_or_default());
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Reads the prepared atlas at `file` if it was prepared from exactly
/// `fingerprint`'s inputs.
///
/// # Errors
/// [`PreparedError::Missing`], [`PreparedError::Stale`] (other inputs),
/// [`PreparedError::Damaged`] (another format, a checksum that does not
/// match, a truncated file, bytes after the end) or [`PreparedError::Io`].
pub fn read<T: BorshDeserialize>(
    file: &Path,
    fingerprint: &Fingerprint,
) -> Result<T, PreparedError> {
    let io = |source: std::io::Error| PreparedError::Io {
        file: file.to_path_buf(),
        source,
    };
    let damaged = |reason: String| PreparedError::Damaged {
        file: file.to_path_buf(),
        reason,
    };
    // Opened without blocking, so that a FIFO put in its place cannot hold
    // the start-up; anything but a regular file is refused.
    let opened = {
        use std::os::unix::fs::OpenOptionsExt;
        File::options()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(file)
    };
    let f = match opened {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(PreparedError::Missing {
                file: file.to_path_buf(),
            })
        }
        Err(e) => return Err(io(e)),
    };
    let meta = f.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(damaged("not a regular file".to_owned()));
    }
    // The checksum guards against damage, not against a forger: a file
    // someone else owns (in a shared cache directory, say) is not trusted.
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(damaged(format!(
                "owned by user {}, not by this process's user {me}",
                meta.uid()
            )));
        }
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(damaged(format!(
            "{} bytes, more than any prepared atlas ({MAX_FILE_BYTES})",
            meta.len()
        )));
    }
    let mut r = BufReader::with_capacity(BUFFER, f);
    let mut magic = [0_u8; 22];
    r.read_exact(&mut magic)
        .map_err(|_| damaged("too short for a prepared atlas".to_owned()))?;
    if &magic != MAGIC {
        return Err(damaged("it does not start as a prepared atlas".to_owned()));
    }
    let format = u32::deserialize_reader(&mut r).map_err(|e| damaged(e.to_string()))?;
    if format != FORMAT {
        return Err(damaged(format!(
            "format {format}, this build reads {FORMAT}"
        )));
    }
    // A fingerprint is a few kilobytes; a longer one is not ours.
    let mut len = [0_u8; 4];
    r.read_exact(&mut len).map_err(|e| damaged(e.to_string()))?;
    let len = u32::from_le_bytes(len) as usize;
    if len > 1 << 24 {
        return Err(damaged(format!("a fingerprint of {len} bytes")));
    }
    let mut stored = vec![0_u8; len];
    r.read_exact(&mut stored)
        .map_err(|e| damaged(e.to_string()))?;
    let stored = Fingerprint(
        String::from_utf8(stored).map_err(|_| damaged("a fingerprint not in UTF-8".to_owned()))?,
    );
    if &stored != fingerprint {
        return Err(PreparedError::Stale {
            file: file.to_path_buf(),
            difference: fingerprint.difference(&stored),
        });
    }
    // The checksum is verified before anything is decoded, so that the
    // counts the decoder reserves memory from are the writer's
    // (`model::borsh_vec`), and a damaged file costs one read, not a
    // half-built atlas.
    let start = r.stream_position().map_err(io)?;
    let total = meta.len();
    let payload_len = total
        .checked_sub(start + 4)
        .ok_or_else(|| damaged("truncated before its checksum".to_owned()))?;
    let mut hashing = Crc {
        inner: (&mut r).take(payload_len),
        hasher: crc32fast::Hasher::new(),
    };
    let hashed = std::io::copy(&mut hashing, &mut std::io::sink()).map_err(io)?;
    let hasher = hashing.hasher;
    let mut crc = [0_u8; 4];
    if hashed != payload_len || r.read_exact(&mut crc).is_err() {
        return Err(damaged("truncated before its checksum".to_owned()));
    }
    if u32::from_le_bytes(crc) != hasher.finalize() {
        return Err(damaged(
            "its checksum does not match its contents".to_owned(),
        ));
    }
    r.seek(SeekFrom::Start(start)).map_err(io)?;
    let mut payload = (&mut r).take(payload_len);
    let value = T::deserialize_reader(&mut payload).map_err(|e| damaged(e.to_string()))?;
    if payload.limit() != 0 {
        return Err(damaged(format!(
            "{} bytes after its contents",
            payload.limit()
        )));
    }
    Ok(value)
}

/// Writes `value` as the prepared atlas at `file` for `fingerprint`'s
/// inputs: to a temporary file in the same directory (created if needed),
/// synced, then renamed over `file`. Returns the bytes written.
///
/// # Errors
/// [`PreparedError::Io`] when the directory or file cannot be written, or
/// `value` cannot be encoded (a NaN, which borsh refuses); the temporary
/// file is removed.
pub fn write<T: BorshSerialize>(
    file: &Path,
    fingerprint: &Fingerprint,
    value: &T,
) -> Result<u64, PreparedError> {
    let dir = file.parent().unwrap_or(Path::new("."));
    let io = |path: &Path, source: std::io::Error| PreparedError::Io {
        file: path.to_path_buf(),
        source,
    };
    fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    remove_stale_temporaries(file);
    let temp = temp_name(file);
    let written = write_to(&temp, fingerprint, value).and_then(|n| {
        fs::rename(&temp, file)?;
        Ok(n)
    });
    written.map_err(|e| {
        let _ = fs::remove_file(&temp);
        io(file, e)
    })
}

fn write_to<T: BorshSerialize>(
    temp: &Path,
    fingerprint: &Fingerprint,
    value: &T,
) -> std::io::Result<u64> {
    let f = File::create(temp)?;
    let mut w = BufWriter::with_capacity(BUFFER, f);
    w.write_all(MAGIC)?;
    FORMAT.serialize(&mut w)?;
    fingerprint.0.serialize(&mut w)?;
    let mut payload = Crc {
        inner: w,
        hasher: crc32fast::Hasher::new(),
    };
    value.serialize(&mut payload)?;
    let Crc {
        inner: mut w,
        hasher,
    } = payload;
    w.write_all(&hasher.finalize().to_le_bytes())?;
    let f = w
        .into_inner()
        .map_err(std::io::IntoInnerError::into_error)?;
    f.sync_all()?;
    Ok(f.metadata()?.len())
}

/// `<file>.tmp.<pid>.<nanoseconds>`: unique to this writer.
fn temp_name(file: &Path) -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut name = file.as_os_str().to_owned();
    name.push(format!(".tmp.{}.{nanos}", std::process::id()));
    PathBuf::from(name)
}

/// Removes temporary files of `file` older than [`STALE_TEMP`] (their
/// writers were stopped midway); younger ones may be being written.
fn remove_stale_temporaries(file: &Path) {
    let (Some(dir), Some(name)) = (file.parent(), file.file_name()) else {
        return;
    };
    let prefix = format!("{}.tmp.", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let stale = entry.file_name().to_string_lossy().starts_with(&prefix)
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > STALE_TEMP);
        if stale {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fingerprint(dir: &Path) -> Fingerprint {
        Fingerprint::new(dir, "region test").expect("fingerprint")
    }

    #[test]
    fn a_value_reads_back_only_with_the_same_inputs_and_intact_bytes() {
        let data = tempfile::tempdir().expect("temp dir");
        fs::create_dir(data.path().join("sub")).expect("mkdir");
        fs::write(data.path().join("sub/a.csv"), "code,value\nE01,1\n").expect("write");
        let cache = tempfile::tempdir().expect("temp dir");
        let file = cache.path().join("deeper/atlas-test.bin");
        let value: (Vec<u32>, String) = (vec![1, 2, 3], "Oxford 005A".to_owned());
        let before = fingerprint(data.path());

        assert!(matches!(
            read::<(Vec<u32>, String)>(&file, &before),
            Err(PreparedError::Missing { .. })
        ));
        let n = write(&file, &before, &value).expect("written");
        assert_eq!(n, fs::metadata(&file).expect("file").len());
        assert_eq!(
            read::<(Vec<u32>, String)>(&file, &before).expect("read"),
            value
        );
        // No temporary file is left behind.
        assert_eq!(
            fs::read_dir(file.parent().expect("dir"))
                .expect("list")
                .count(),
            1
        );

        // Another definition, or a data file of another size, is stale.
        let other = Fingerprint::new(data.path(), "region other").expect("fingerprint");
        let err = read::<(Vec<u32>, String)>(&file, &other).expect_err("stale");
        assert!(err.to_string().contains("region other"), "{err}");
        fs::write(data.path().join("sub/a.csv"), "code,value\nE01,12\n").expect("write");
        let changed = fingerprint(data.path());
        let err = read::<(Vec<u32>, String)>(&file, &changed).expect_err("stale");
        assert!(err.to_string().contains("sub/a.csv"), "{err}");

        // Any flipped payload byte, a cut or an extra byte is refused.
        let good = fs::read(&file).expect("bytes");
        let payload_start = good.len() - 4 - borsh::to_vec(&value).expect("encodes").len();
        for i in payload_start..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x40;
            fs::write(&file, &bad).expect("write");
            assert!(
                read::<(Vec<u32>, String)>(&file, &before).is_err(),
                "flip at {i}"
            );
        }
        for cut in [0, 10, 22, payload_start, good.len() - 1] {
            fs::write(&file, &good[..cut]).expect("write");
            let err = read::<(Vec<u32>, String)>(&file, &before).expect_err("cut");
            assert!(
                matches!(err, PreparedError::Damaged { .. }),
                "cut at {cut}: {err}"
            );
        }
        let mut longer = good.clone();
        longer.push(0);
        fs::write(&file, &longer).expect("write");
        assert!(read::<(Vec<u32>, String)>(&file, &before).is_err());
    }

    #[test]
    fn a_fifo_or_directory_in_its_place_is_refused_without_waiting() {
        let data = tempfile::tempdir().expect("temp dir");
        let cache = tempfile::tempdir().expect("temp dir");
        let fifo = cache.path().join("fifo.bin");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        let dir = cache.path().join("dir.bin");
        fs::create_dir(&dir).expect("mkdir");
        for file in [fifo, dir] {
            // A blocking open of a FIFO with no writer would never return.
            let err = read::<u32>(&file, &fingerprint(data.path())).expect_err("refused");
            assert!(err.to_string().contains("not a regular file"), "{err}");
        }
    }

    #[test]
    fn a_file_another_user_owns_is_not_trusted() {
        let data = tempfile::tempdir().expect("temp dir");
        let cache = tempfile::tempdir().expect("temp dir");
        let file = cache.path().join("atlas.bin");
        let print = fingerprint(data.path());
        write(&file, &print, &7_u32).expect("written");
        assert_eq!(read::<u32>(&file, &print).expect("own file"), 7);
        // Only root can give a file away; elsewhere the test has nothing to try.
        if std::os::unix::fs::chown(&file, Some(65_534), None).is_ok() {
            let err = read::<u32>(&file, &print).expect_err("refused");
            assert!(err.to_string().contains("owned by user 65534"), "{err}");
        }
    }

    #[test]
    fn a_link_to_nothing_in_the_data_is_recorded_not_fatal() {
        let data = tempfile::tempdir().expect("temp dir");
        std::os::unix::fs::symlink("/nonexistent/x", data.path().join(".#lock")).expect("link");
        let print = fingerprint(data.path());
        assert!(
            print.0.contains(".#lock (a link to nothing)"),
            "{}",
            print.0
        );
    }

    #[test]
    fn a_nan_is_not_written_and_leaves_no_file() {
        let data = tempfile::tempdir().expect("temp dir");
        let cache = tempfile::tempdir().expect("temp dir");
        let file = cache.path().join("atlas.bin");
        let err =
            write(&file, &fingerprint(data.path()), &vec![1.0_f64, f64::NAN]).expect_err("NaN");
        assert!(matches!(err, PreparedError::Io { .. }), "{err}");
        assert_eq!(fs::read_dir(cache.path()).expect("list").count(), 0);
    }
}
