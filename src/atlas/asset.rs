//! Community assets, their categories and the sources they come from.

use serde::Serialize;

use super::area::AreaIdx;
use crate::model::DualPoint;

/// Index of an asset category within [`crate::atlas::Atlas::categories`].
pub type CategoryIdx = u16;
/// Index of a source within [`crate::atlas::Atlas::sources`].
pub type SourceIdx = u16;

/// A kind of community asset (parks, GP practices...).
#[derive(Debug, Clone, PartialEq, Serialize, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct Category {
    /// Stable identifier, e.g. `gp_practice`.
    pub id: String,
    /// Plural label for people, e.g. "GP practices".
    pub label: String,
    /// Sources that supply assets of this category.
    #[serde(skip)]
    pub sources: Vec<SourceIdx>,
}

/// Where a source has data. Outside it, an absent asset means "no data".
#[derive(Debug, Clone, PartialEq, Serialize, borsh::BorshSerialize, borsh::BorshDeserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Coverage {
    /// Every area whose code starts with the prefix (`E` = England).
    CodePrefix {
        /// Area code prefix.
        prefix: String,
        /// Description for people.
        description: String,
    },
    /// Areas in the listed districts.
    Districts {
        /// District codes.
        codes: Vec<String>,
        /// Description for people.
        description: String,
    },
    /// A longitude/latitude box (an extract's bounds).
    Bbox {
        /// `[min_lon, min_lat, max_lon, max_lat]`.
        bbox: [f64; 4],
        /// Description for people.
        description: String,
    },
}

impl Coverage {
    /// Description for people.
    #[must_use]
    pub fn description(&self) -> &str {
        match self {
            Coverage::CodePrefix { description, .. }
            | Coverage::Districts { description, .. }
            | Coverage::Bbox { description, .. } => description,
        }
    }
}

/// A dataset that assets come from, with its provenance.
#[derive(Debug, Clone, PartialEq, Serialize, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct AssetSource {
    /// Stable identifier, e.g. `nhs_gp_practices`.
    pub id: String,
    /// Title, e.g. "NHS ODS GP practices (epraccur)".
    pub title: String,
    /// Publisher.
    pub publisher: String,
    /// Data vintage, e.g. "January 2024".
    pub vintage: String,
    /// Licence, e.g. "OGL-UK-3.0" or "ODbL-1.0".
    pub licence: String,
    /// Attribution line to show wherever the data is shown.
    pub attribution: String,
    /// Where the source has data.
    pub coverage: Coverage,
}

/// A community asset.
#[derive(Debug, Clone, Serialize, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct Asset {
    /// Stable id: `<source>-<key>` (ODS code, OSM type and id, slug...).
    pub id: String,
    /// Name as published.
    pub name: String,
    /// Category.
    pub category: CategoryIdx,
    /// Source.
    pub source: SourceIdx,
    /// Location: a point on the surface for areas.
    #[serde(skip)]
    pub location: DualPoint,
    /// Address, where known.
    pub address: Option<String>,
    /// Postcode, where known.
    pub postcode: Option<String>,
    /// Area in square metres, for assets mapped as polygons (parks).
    pub area_m2: Option<f64>,
    /// `None` when the source gives the position (a point, or a current
    /// postcode); otherwise how approximate it is, in words (an ended
    /// postcode placed at its sector's centroid).
    pub location_precision: Option<String>,
    /// The 2021 LSOA containing the asset.
    pub lsoa21: Option<AreaIdx>,
    /// The 2024 ward of that LSOA.
    pub ward: Option<AreaIdx>,
    /// The district of that LSOA.
    pub district: Option<AreaIdx>,
    /// False for assets kept because they lie within the edge buffer outside the region.
    pub in_region: bool,
}
