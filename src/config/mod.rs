//! The atlas definition: which files to read, which columns mean what, how
//! OpenStreetMap tags map to categories, and which regions exist. Read from a
//! TOML file (the default is `geodata/atlas.toml`) so that users can point
//! GapMap at their own data without a code change.

mod keys;
mod ranges;
mod schema;

use std::path::{Path, PathBuf};

pub use ranges::{MAX_DEDUPE_WITHIN_M, MAX_EDGE_BUFFER_M, MAX_POSITION, RELEASE_YEARS};
pub use schema::*;

/// Errors reading the atlas definition.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read atlas definition {path}: {source}")]
    Read {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The TOML is malformed, misses a key or has a value out of range.
    #[error("invalid atlas definition {path}: {message}")]
    Parse {
        /// File.
        path: PathBuf,
        /// What is wrong, with line and column.
        message: String,
    },
    /// A key the schema does not have (a misspelling would otherwise be
    /// ignored, silently turning its setting off).
    #[error(transparent)]
    UnknownKey(Box<UnknownKey>),
    /// A reference inside the file does not resolve.
    #[error("invalid atlas definition {path}: {message}")]
    Invalid {
        /// File.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// An unknown key in an atlas definition, where it is and what was meant.
#[derive(Debug, thiserror::Error)]
#[error("invalid atlas definition {path}: line {line}, column {column}: unknown key '{key}'{}; the nearest valid key is '{nearest}' (valid keys here: {valid})", section.as_ref().map(|s| format!(" in {s}")).unwrap_or_default())]
pub struct UnknownKey {
    /// File.
    pub path: PathBuf,
    /// 1-based line of the key.
    pub line: usize,
    /// 1-based column of the key.
    pub column: usize,
    /// The key found.
    pub key: String,
    /// The table header the key is under, e.g. `[[asset_sources]]`.
    pub section: Option<String>,
    /// The valid key closest to it by edit distance.
    pub nearest: String,
    /// Every valid key at that place, comma-separated.
    pub valid: String,
}

/// The default atlas definition, compiled in so the binary works from any
/// directory; `--config` replaces it.
pub const DEFAULT_ATLAS_TOML: &str = include_str!("../../geodata/atlas.toml");

impl AtlasConfig {
    /// Reads and validates a definition file.
    ///
    /// # Errors
    /// When the file cannot be read, is not valid TOML, or refers to unknown
    /// categories or regions.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text, path)
    }

    /// The built-in default definition.
    ///
    /// # Errors
    /// Only if the compiled-in file is invalid (a test guards this).
    pub fn default_definition() -> Result<Self, ConfigError> {
        Self::from_toml(DEFAULT_ATLAS_TOML, Path::new("geodata/atlas.toml"))
    }

    /// Parses and validates TOML text; `path` is used in messages only.
    ///
    /// # Errors
    /// When the text is not a valid definition.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let config: AtlasConfig =
            toml::from_str(text).map_err(|e| keys::parse_error(text, path, &e))?;
        config.validate().map_err(|(message, at)| {
            // The checks across keys have no span; the offending text's
            // first (or n-th) line gives the line.
            let line = at.and_then(|(needle, nth)| {
                text.lines()
                    .enumerate()
                    .filter(|(_, l)| l.contains(needle.as_str()))
                    .nth(nth)
                    .map(|(i, _)| i + 1)
            });
            ConfigError::Invalid {
                path: path.to_owned(),
                message: match line {
                    Some(n) => format!("line {n}: {message}"),
                    None => message,
                },
            }
        })?;
        Ok(config)
    }

    /// Checks across keys; an error carries its message and, to find its
    /// line, a text to look for and which occurrence of it.
    fn validate(&self) -> Result<(), Invalid> {
        for source in &self.asset_sources {
            let categories: Vec<&str> = match &source.kind {
                AssetSourceKind::Osm { rules, .. } => {
                    rules.iter().map(|r| r.category.as_str()).collect()
                }
                _ => vec![source.category.as_deref().unwrap_or_default()],
            };
            for c in categories {
                if !self.categories.iter().any(|k| k.id == c) {
                    return Err((
                        format!(
                            "asset source '{}' uses category '{c}', which is not defined under [[categories]]",
                            source.id
                        ),
                        Some((format!("\"{c}\""), 0)),
                    ));
                }
            }
        }
        let mut region_names: Vec<&String> = self.regions.keys().collect();
        region_names.sort_unstable();
        for name in region_names {
            let r = &self.regions[name];
            if r.districts.is_empty() && r.lsoa_code_prefix.as_deref().is_none_or(str::is_empty) {
                return Err((
                    format!("region '{name}' has neither districts nor lsoa_code_prefix, so it would contain no area"),
                    Some((format!("[regions.{name}]"), 0)),
                ));
            }
        }
        let p = &self.postcodes;
        let positions = [
            ("postcode", p.postcode),
            ("easting", p.easting),
            ("northing", p.northing),
            ("country", p.country),
            ("district", p.district),
        ];
        for (i, (a, pa)) in positions.iter().enumerate() {
            if let Some((b, _)) = positions[i + 1..].iter().find(|(_, pb)| pb == pa) {
                return Err((
                    format!("[postcodes] {a} and {b} both name column {pa}"),
                    Some(("[postcodes]".to_owned(), 0)),
                ));
            }
        }
        if let Some(id) = repeated(self.categories.iter().map(|c| c.id.as_str())) {
            return Err((
                format!("category id '{id}' is defined twice"),
                Some((format!("id = \"{id}\""), 1)),
            ));
        }
        if let Some(id) = repeated(self.asset_sources.iter().map(|s| s.id.as_str())) {
            return Err((
                format!("asset source id '{id}' is defined twice"),
                Some((format!("id = \"{id}\""), 1)),
            ));
        }
        for (name, release) in [("imd2025", &self.imd2025), ("imd2019", &self.imd2019)] {
            check_release(name, release)?;
        }
        if !self.regions.contains_key(&self.default_region) {
            return Err((
                format!(
                    "default_region '{}' is not defined under [regions]",
                    self.default_region
                ),
                Some(("default_region".to_owned(), 0)),
            ));
        }
        Ok(())
    }

    /// The named region.
    ///
    /// # Errors
    /// When no region has that name; the message lists the ones that do.
    pub fn region(&self, name: &str) -> Result<&RegionConfig, ConfigError> {
        self.regions.get(name).ok_or_else(|| {
            let mut known: Vec<&str> = self.regions.keys().map(String::as_str).collect();
            known.sort_unstable();
            ConfigError::Invalid {
                path: PathBuf::from("--region"),
                message: format!(
                    "unknown region '{name}'; expected one of {}",
                    known.join(", ")
                ),
            }
        })
    }
}

/// A failed check across keys: the message, and a text to look for (and
/// which occurrence of it, 0-based) to give its line.
type Invalid = (String, Option<(String, usize)>);

/// The first value that occurs twice, if any.
fn repeated<'a>(values: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let mut seen = std::collections::HashSet::new();
    values.into_iter().find(|v| !seen.insert(*v))
}

/// The indicator kinds a release may declare.
const INDICATOR_KINDS: [&str; 4] = ["index", "domain", "subdomain", "supplementary"];
/// The parts of an indicator a table column may hold.
const INDICATOR_PARTS: [&str; 3] = ["decile", "rank", "score"];

/// Checks a deprivation release: indicator ids unique, kinds known, every
/// table column key `<indicator>.<decile|rank|score>` with a defined
/// indicator (the nearest valid one is suggested).
fn check_release(name: &str, release: &DeprivationConfig) -> Result<(), Invalid> {
    if let Some(id) = repeated(release.indicators.iter().map(|i| i.id.as_str())) {
        return Err((
            format!("[{name}] indicator id '{id}' is defined twice"),
            None,
        ));
    }
    for i in &release.indicators {
        if !INDICATOR_KINDS.contains(&i.kind.as_str()) {
            return Err((
                format!(
                    "[{name}] indicator '{}' has kind '{}'; expected one of {} (nearest: '{}')",
                    i.id,
                    i.kind,
                    INDICATOR_KINDS.join(", "),
                    keys::nearest(&i.kind, &INDICATOR_KINDS).unwrap_or_default()
                ),
                Some((format!("kind = \"{}\"", i.kind), 0)),
            ));
        }
    }
    let ids: Vec<&str> = release.indicators.iter().map(|i| i.id.as_str()).collect();
    for table in &release.tables {
        for key in table.columns.keys() {
            let (indicator, part) = key.split_once('.').unwrap_or((key.as_str(), ""));
            let at = Some((format!("\"{key}\""), 0));
            if !ids.contains(&indicator) {
                return Err((
                    format!(
                        "[[{name}.tables]] {}: column key '{key}' names no indicator; the nearest defined one is '{}'",
                        table.table.path,
                        keys::nearest(indicator, &ids).unwrap_or_default()
                    ),
                    at,
                ));
            }
            if !INDICATOR_PARTS.contains(&part) {
                return Err((
                    format!(
                        "[[{name}.tables]] {}: column key '{key}' must end in .decile, .rank or .score (nearest: '{indicator}.{}')",
                        table.table.path,
                        keys::nearest(part, &INDICATOR_PARTS).unwrap_or_default()
                    ),
                    at,
                ));
            }
        }
    }
    Ok(())
}
