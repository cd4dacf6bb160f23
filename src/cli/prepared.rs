//! `serve`'s prepared atlas: the atlas and its access and 2SFCA tables read
//! back from the cache directory when nothing they were made from changed,
//! or loaded from the data files and written there for the next start-up
//! (see [`crate::sources::prepared`] for the file and when it is used).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use borsh::{BorshDeserialize, BorshSerialize};

use super::args::AtlasArgs;
use super::load::load_atlas_with;
use crate::analysis::access::AccessTable;
use crate::analysis::fca::FcaTable;
use crate::analysis::Analysis;
use crate::atlas::{Atlas, AtlasParts};
use crate::config::{AtlasConfig, DEFAULT_ATLAS_TOML};
use crate::sources::prepared::{self, Fingerprint, PreparedError};

/// What the file holds: the atlas's parts and the analysis tables computed
/// on that atlas (before the register joins it).
#[derive(BorshSerialize, BorshDeserialize)]
struct Stored {
    atlas: AtlasParts,
    access: AccessTable,
    fca: FcaTable,
}

/// Where the prepared atlas of a start-up is, and what it must match.
pub struct Target {
    file: PathBuf,
    fingerprint: Fingerprint,
}

/// The atlas a start-up serves, before the register joins it.
pub struct Loaded {
    /// The atlas.
    pub atlas: Atlas,
    /// Its access and 2SFCA tables, when read back from a prepared atlas.
    pub tables: Option<(AccessTable, FcaTable)>,
    /// Where to write the prepared atlas once the tables are computed
    /// (when it was loaded from the data files and a cache is in use).
    pub write_to: Option<Target>,
}

/// The default cache directory: `$XDG_CACHE_HOME/gapmap`, else
/// `$HOME/.cache/gapmap`; `None` without either.
fn default_cache_dir() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty());
    if let Some(dir) = xdg.map(PathBuf::from).filter(|d| d.is_absolute()) {
        return Some(dir.join("gapmap"));
    }
    let home = std::env::var_os("HOME").filter(|v| !v.is_empty())?;
    Some(PathBuf::from(home).join(".cache").join("gapmap"))
}

/// The region's file name: `atlas-<region>.bin`, with anything but ASCII
/// letters, digits, `-` and `_` replaced, so any region name is one plain
/// file. One file per region: a start-up on other data overwrites it
/// instead of leaving files behind.
fn file_name(region: &str) -> String {
    let safe: String = region
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("atlas-{safe}.bin")
}

/// Why no prepared atlas can be used with this definition text, if so: it
/// names a file outside the data directory (an absolute path, a `/vsi…`
/// path other than `/vsizip/` inside it, or one with `..`), whose changes
/// the fingerprint would not see. A definition names files in `path` and
/// `folder` keys (in whatever section) and may in GDAL open options
/// (`KEY=VALUE`), which GDAL resolves from the working directory: an
/// option whose key mentions a file or whose value looks like a file name
/// (a `/` or a `.`) counts as outside. The text was parsed once already, so
/// a parse failure here only means no prepared atlas.
fn outside_data_dir(definition: &str) -> Option<String> {
    /// `path` and `folder` values, and the open options that name files.
    fn walk<'a>(value: &'a toml::Value, paths: &mut Vec<&'a str>, options: &mut Vec<&'a str>) {
        match value {
            toml::Value::Table(t) => {
                for (key, v) in t {
                    match (key.as_str(), v) {
                        ("path" | "folder", toml::Value::String(s)) => paths.push(s),
                        ("open_options", toml::Value::Array(items)) => options.extend(
                            items.iter().filter_map(toml::Value::as_str).filter(|o| {
                                let (key, value) = o.split_once('=').unwrap_or((o, ""));
                                key.to_ascii_uppercase().contains("FILE")
                                    || value.contains(['/', '\\', '.'])
                            }),
                        ),
                        _ => walk(v, paths, options),
                    }
                }
            }
            toml::Value::Array(items) => items.iter().for_each(|v| walk(v, paths, options)),
            _ => {}
        }
    }
    let value: toml::Value = match toml::from_str(definition) {
        Ok(v) => v,
        Err(e) => return Some(format!("the definition does not parse again: {e}")),
    };
    let (mut found, mut options) = (Vec::new(), Vec::new());
    walk(&value, &mut found, &mut options);
    if let Some(option) = options.first() {
        return Some(format!(
            "the definition's GDAL open option {option} names a file, which GDAL reads from the working directory"
        ));
    }
    found.into_iter().find_map(|path| {
        let inner = path.strip_prefix("/vsizip/").unwrap_or(path);
        let p = Path::new(inner);
        let escapes = p.is_absolute()
            || inner.starts_with("/vsi")
            || p.components()
                .any(|c| matches!(c, std::path::Component::ParentDir));
        escapes.then(|| format!("the definition names {path}, outside the data directory"))
    })
}

/// Where this start-up's prepared atlas is and what it must match; `None`
/// (with the reason logged) when none can be used.
fn target(args: &AtlasArgs, config: &AtlasConfig, cache_dir: Option<&Path>) -> Option<Target> {
    let Some(dir) = cache_dir.map(Path::to_path_buf).or_else(default_cache_dir) else {
        tracing::info!(
            "no prepared atlas: no cache directory (--cache-dir, GAPMAP_CACHE_DIR, XDG_CACHE_HOME or HOME)"
        );
        return None;
    };
    let region = args
        .region
        .clone()
        .unwrap_or_else(|| config.default_region.clone());
    let (text, source) = match &args.config {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => (text, format!("file {}", path.display())),
            Err(e) => {
                tracing::info!(file = %path.display(), error = %e, "no prepared atlas");
                return None;
            }
        },
        // The built-in definition is part of the executable, whose size
        // and time the fingerprint holds; its text is still checked for
        // paths outside the data directory.
        None => (DEFAULT_ATLAS_TOML.to_owned(), "built in".to_owned()),
    };
    if let Some(reason) = outside_data_dir(&text) {
        tracing::info!(%reason, "no prepared atlas");
        return None;
    }
    let definition = format!("region {region}\n{source}\n{text}");
    match Fingerprint::new(&args.data_dir, &definition) {
        Ok(fingerprint) => Some(Target {
            file: dir.join(file_name(&region)),
            fingerprint,
        }),
        Err(e) => {
            tracing::info!(error = %e, "no prepared atlas");
            None
        }
    }
}

/// The atlas to serve: read back from the prepared atlas when it matches
/// (`cache_dir`, or the default; `None` with `use_cache` false reads and
/// writes nothing), else loaded from the data files.
///
/// # Errors
/// A message naming the file, row and column at fault (from the load).
pub fn load(
    args: &AtlasArgs,
    config: &AtlasConfig,
    cache_dir: Option<&Path>,
    use_cache: bool,
) -> Result<Loaded, String> {
    let target = if use_cache {
        target(args, config, cache_dir)
    } else {
        None
    };
    if let Some(t) = &target {
        let started = std::time::Instant::now();
        match prepared::read::<Stored>(&t.file, &t.fingerprint) {
            Ok(stored) => {
                let atlas = Atlas::from_parts(stored.atlas);
                tracing::info!(
                    file = %t.file.display(),
                    elapsed_ms = started.elapsed().as_millis(),
                    "atlas read from its prepared file (nothing it was made from has changed)"
                );
                return Ok(Loaded {
                    atlas,
                    tables: Some((stored.access, stored.fca)),
                    write_to: None,
                });
            }
            Err(e @ PreparedError::Missing { .. }) => {
                tracing::info!(reason = %e, "loading from the data files");
            }
            Err(e) => tracing::warn!(reason = %e, "loading from the data files"),
        }
    }
    let atlas = load_atlas_with(args, config)?;
    Ok(Loaded {
        atlas,
        tables: None,
        write_to: target,
    })
}

impl Target {
    /// Writes the prepared atlas of `atlas` and its `analysis` on another
    /// thread (the server does not wait for it); failures are logged.
    pub fn write_later(self, atlas: &Atlas, analysis: &Analysis) {
        let stored = Stored {
            atlas: atlas.parts(),
            access: analysis.access.clone(),
            fca: analysis.fca.clone(),
        };
        let spawned = std::thread::Builder::new()
            .name("prepared-atlas".to_owned())
            .spawn(move || {
                let started = std::time::Instant::now();
                match prepared::write(&self.file, &self.fingerprint, &stored) {
                    Ok(bytes) => tracing::info!(
                        file = %self.file.display(),
                        bytes,
                        elapsed_ms = started.elapsed().as_millis(),
                        "prepared atlas written for the next start-up"
                    ),
                    Err(e) => tracing::warn!(error = %e, "prepared atlas not written"),
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "prepared atlas not written");
        }
    }
}

/// The analysis of the loaded atlas: from the prepared tables when read
/// back, else computed (and the prepared atlas written).
#[must_use]
pub fn analysis(
    loaded_atlas: &Arc<Atlas>,
    tables: Option<(AccessTable, FcaTable)>,
    write_to: Option<Target>,
) -> Analysis {
    let analysis = match tables {
        Some((access, fca)) => Analysis::from_tables(loaded_atlas, access, fca),
        None => Analysis::new(loaded_atlas),
    };
    if let Some(t) = write_to {
        t.write_later(loaded_atlas, &analysis);
    }
    analysis
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_region_name_is_one_plain_file_name() {
        assert_eq!(file_name("england"), "atlas-england.bin");
        assert_eq!(file_name("../../etc/x y"), "atlas-______etc_x_y.bin");
        assert_eq!(file_name(&"a".repeat(500)).len(), "atlas-.bin".len() + 64);
    }

    #[test]
    fn a_file_outside_the_data_directory_means_no_prepared_atlas() {
        assert_eq!(outside_data_dir(DEFAULT_ATLAS_TOML), None);
        let inside = "[a]\npath = \"x/y.csv\"\n[[b]]\npath = \"/vsizip/z.zip/q.shp\"\n";
        assert_eq!(outside_data_dir(inside), None);
        for outside in [
            "/etc/x.csv",
            "../x.csv",
            "a/../../x.csv",
            "/vsicurl/http://h/x",
            "/vsizip//tmp/z.zip/q",
        ] {
            for text in [
                format!("[[s]]\n[s.t]\npath = \"{outside}\"\n"),
                format!("[postcodes]\npath = \"pc\"\nfolder = \"{outside}\"\n"),
                format!("[[a]]\nopen_options = [\"A=B\", \"CONFIG_FILE={outside}\"]\n"),
            ] {
                let reason = outside_data_dir(&text).unwrap_or_default();
                assert!(reason.contains(outside), "{text}: {reason}");
            }
        }
        let plain = "[[a]]\nopen_options = [\"HEADERS=NO\", \"INTERLEAVED_READING=YES\"]\n";
        assert_eq!(outside_data_dir(plain), None);
        for option in ["CONFIG_FILE=osmconf.ini", "X=conf/a", "OSM_CONFIG_FILE=a"] {
            let text = format!("[[a]]\nopen_options = [\"{option}\"]\n");
            let reason = outside_data_dir(&text).unwrap_or_default();
            assert!(reason.contains(option), "{option}: {reason}");
        }
    }
}
