//! Community asset sources: tabular lists located by postcode, by latitude and
//! longitude columns or by coordinates in a text column, and OpenStreetMap.

mod osm;
mod tabular;

use std::path::Path;

use crate::config::{AssetSourceConfig, AssetSourceKind};
use crate::model::DualPoint;

use super::error::SourceError;

/// How a raw asset is located.
#[derive(Debug, Clone)]
pub enum Location {
    /// A position given by the source.
    Point(DualPoint),
    /// A normalised postcode still to be geocoded.
    Postcode(String),
    /// No usable location; the reason says why.
    Unplaced(String),
}

/// An asset as read from its source, before geocoding and area assignment.
#[derive(Debug, Clone)]
pub struct RawAsset {
    /// Key within the source (ODS code, OSM type and id, slug...).
    pub key: String,
    /// Name.
    pub name: String,
    /// Category id.
    pub category: String,
    /// Location.
    pub location: Location,
    /// Address.
    pub address: Option<String>,
    /// Normalised postcode, where given.
    pub postcode: Option<String>,
    /// Area of a polygon asset in m².
    pub area_m2: Option<f64>,
    /// 1-based row in the source.
    pub row: u64,
}

/// What a source yielded.
#[derive(Debug, Default)]
pub struct SourceAssets {
    /// Assets kept.
    pub assets: Vec<RawAsset>,
    /// Rows dropped by the configured filters.
    pub filtered_out: usize,
}

/// Reads one asset source.
///
/// # Errors
/// Missing file, column or unparseable value.
pub fn read_asset_source(
    data_dir: &Path,
    config: &AssetSourceConfig,
) -> Result<SourceAssets, SourceError> {
    match &config.kind {
        AssetSourceKind::Osm { rules } => osm::read(data_dir, config, rules),
        _ => tabular::read(data_dir, config),
    }
}

/// A lower-case, hyphenated key made from text, for sources without ids.
///
/// ```
/// assert_eq!(gapmap::sources::slug("Blackbird Leys  (OX4 6HW)"), "blackbird-leys-ox4-6hw");
/// ```
#[must_use]
pub fn slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}
