//! The atlas definition: which files to read, which columns mean what, how
//! OpenStreetMap tags map to categories, and which regions exist. Read from a
//! TOML file (the default is `geodata/atlas.toml`) so that users can point
//! GapMap at their own data without a code change.

mod schema;

use std::path::{Path, PathBuf};

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
    /// The TOML is malformed or misses a key.
    #[error("invalid atlas definition {path}: {message}")]
    Parse {
        /// File.
        path: PathBuf,
        /// What is wrong, with line and column.
        message: String,
    },
    /// A reference inside the file does not resolve.
    #[error("invalid atlas definition {path}: {message}")]
    Invalid {
        /// File.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
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
        let config: AtlasConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        config.validate(path)?;
        Ok(config)
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        for source in &self.asset_sources {
            let categories: Vec<&str> = match &source.kind {
                AssetSourceKind::Osm { rules, .. } => {
                    rules.iter().map(|r| r.category.as_str()).collect()
                }
                _ => vec![source.category.as_deref().unwrap_or_default()],
            };
            for c in categories {
                if !self.categories.iter().any(|k| k.id == c) {
                    return Err(invalid(format!(
                        "asset source '{}' uses category '{c}', which is not defined under [[categories]]",
                        source.id
                    )));
                }
            }
        }
        if !self.regions.contains_key(&self.default_region) {
            return Err(invalid(format!(
                "default_region '{}' is not defined under [regions]",
                self.default_region
            )));
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
