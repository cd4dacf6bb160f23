//! The serde schema of the atlas definition file.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

/// The whole atlas definition.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AtlasConfig {
    /// Region used when none is asked for.
    pub default_region: String,
    /// Named regions.
    pub regions: HashMap<String, RegionConfig>,
    /// Boundary layers.
    pub boundaries: Boundaries,
    /// Lookup tables.
    pub lookups: Lookups,
    /// Population table.
    pub population: PopulationConfig,
    /// IMD 2025 on 2021 LSOAs.
    pub imd2025: DeprivationConfig,
    /// IMD 2019 on 2011 LSOAs.
    pub imd2019: DeprivationConfig,
    /// Postcode gazetteer used to geocode assets and as access origins.
    pub postcodes: PostcodesConfig,
    /// Asset categories.
    pub categories: Vec<CategoryConfig>,
    /// Asset sources.
    pub asset_sources: Vec<AssetSourceConfig>,
}

/// A region: either a list of districts or an LSOA code prefix.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionConfig {
    /// Name for people.
    pub name: String,
    /// District codes in the region.
    #[serde(default)]
    pub districts: Vec<String>,
    /// LSOA code prefix (`E` for England) when `districts` is empty.
    #[serde(default)]
    pub lsoa_code_prefix: Option<String>,
    /// Assets up to this far outside the region are kept, flagged as outside.
    pub edge_buffer_m: f64,
}

/// Provenance of a dataset.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// Title.
    pub title: String,
    /// Publisher.
    pub publisher: String,
    /// Vintage.
    pub vintage: String,
    /// Licence.
    pub licence: String,
    /// Attribution line.
    pub attribution: String,
}

/// Where a table lives: a file relative to the data directory (anything GDAL
/// reads, including `/vsizip/` paths), an optional layer and GDAL open options.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableRef {
    /// Path relative to the data directory.
    pub path: String,
    /// Layer name; the first layer when absent.
    #[serde(default)]
    pub layer: Option<String>,
    /// GDAL open options, e.g. `["HEADERS=NO"]`.
    #[serde(default)]
    pub open_options: Vec<String>,
}

/// A polygon layer with code and name columns.
#[derive(Debug, Clone, Deserialize)]
pub struct BoundaryConfig {
    /// File.
    #[serde(flatten)]
    pub table: TableRef,
    /// Code column.
    pub code: String,
    /// Name column.
    pub name: String,
    /// Provenance.
    pub provenance: Provenance,
    /// Old code → new code, for areas recoded after the boundary set was published.
    #[serde(default)]
    pub recode: BTreeMap<String, String>,
}

/// The boundary layers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Boundaries {
    /// 2021 LSOAs.
    pub lsoa21: BoundaryConfig,
    /// 2011 LSOAs.
    pub lsoa11: BoundaryConfig,
    /// Wards.
    pub wards: BoundaryConfig,
    /// Districts.
    pub districts: BoundaryConfig,
}

/// LSOA 2021 → ward → district lookup.
#[derive(Debug, Clone, Deserialize)]
pub struct WardLookupConfig {
    /// File.
    #[serde(flatten)]
    pub table: TableRef,
    /// LSOA code column.
    pub lsoa: String,
    /// Ward code column.
    pub ward_code: String,
    /// Ward name column.
    pub ward_name: String,
    /// District code column.
    pub district_code: String,
    /// District name column.
    pub district_name: String,
}

/// LSOA 2011 → LSOA 2021 lookup.
#[derive(Debug, Clone, Deserialize)]
pub struct LsoaChangeConfig {
    /// File.
    #[serde(flatten)]
    pub table: TableRef,
    /// 2011 code column.
    pub lsoa11: String,
    /// 2021 code column.
    pub lsoa21: String,
    /// Change code column (U, S, M, X).
    pub change: String,
    /// District code column.
    pub district_code: String,
}

/// A two-column code → code lookup.
#[derive(Debug, Clone, Deserialize)]
pub struct PairLookupConfig {
    /// File.
    #[serde(flatten)]
    pub table: TableRef,
    /// Key column.
    pub key: String,
    /// Value column.
    pub value: String,
}

/// Rural/urban classification lookup.
#[derive(Debug, Clone, Deserialize)]
pub struct RuralUrbanConfig {
    /// File.
    #[serde(flatten)]
    pub table: TableRef,
    /// LSOA code column.
    pub lsoa: String,
    /// Class code column.
    pub code: String,
    /// Class description column.
    pub classification: String,
    /// Urban/Rural column.
    pub ruc: String,
}

/// The lookup tables.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lookups {
    /// LSOA 2021 → ward 2024 → district 2024.
    pub lsoa21_ward_district: WardLookupConfig,
    /// LSOA 2011 → LSOA 2021.
    pub lsoa11_lsoa21: LsoaChangeConfig,
    /// LSOA 2011 → ward 2017.
    pub lsoa11_ward17: PairLookupConfig,
    /// LSOA 2021 rural/urban class.
    pub rural_urban: RuralUrbanConfig,
    /// Provenance of the lookups.
    pub provenance: Provenance,
}

/// Population table.
#[derive(Debug, Clone, Deserialize)]
pub struct PopulationConfig {
    /// File.
    #[serde(flatten)]
    pub table: TableRef,
    /// LSOA code column.
    pub lsoa: String,
    /// Residents column.
    pub residents: String,
    /// Provenance.
    pub provenance: Provenance,
}

/// An indicator of a deprivation release.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorConfig {
    /// Identifier (`imd`, `income`...).
    pub id: String,
    /// Label.
    pub label: String,
    /// `index`, `domain`, `subdomain` or `supplementary`.
    pub kind: String,
}

/// One table of a deprivation release, keyed by area code.
#[derive(Debug, Clone, Deserialize)]
pub struct DeprivationTable {
    /// File.
    #[serde(flatten)]
    pub table: TableRef,
    /// Area code column.
    pub key: String,
    /// `"<indicator>.<decile|rank|score>"` → column.
    pub columns: BTreeMap<String, String>,
    /// Optional column holding the release's population denominator.
    #[serde(default)]
    pub population: Option<String>,
}

/// A deprivation release.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeprivationConfig {
    /// Year.
    pub year: u16,
    /// Number of areas ranked nationally.
    pub areas_ranked: u32,
    /// Indicators, in display order.
    pub indicators: Vec<IndicatorConfig>,
    /// Tables to read.
    pub tables: Vec<DeprivationTable>,
    /// Provenance.
    pub provenance: Provenance,
}

/// The postcode gazetteer: headerless CSVs in the Code-Point Open layout,
/// one per postcode area, in a zip or a folder.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostcodesConfig {
    /// Zip (or directory) relative to the data directory.
    pub path: String,
    /// Folder inside it that holds one CSV per postcode area.
    pub folder: String,
    /// 1-based position of the postcode column.
    pub postcode: usize,
    /// 1-based position of the easting column (EPSG:27700 metres).
    pub easting: usize,
    /// 1-based position of the northing column (EPSG:27700 metres).
    pub northing: usize,
    /// 1-based position of the country code column.
    pub country: usize,
    /// 1-based position of the district code column.
    pub district: usize,
    /// Provenance.
    pub provenance: Provenance,
}

/// An asset category.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryConfig {
    /// Identifier.
    pub id: String,
    /// Plural label.
    pub label: String,
}

/// Where a source has data.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum CoverageConfig {
    /// Areas whose code starts with this prefix.
    CodePrefix(String),
    /// Areas in these districts.
    Districts(Vec<String>),
    /// `[min_lon, min_lat, max_lon, max_lat]`.
    Bbox([f64; 4]),
}

/// A row filter on a source table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowFilter {
    /// Column.
    pub column: String,
    /// Keep rows whose value is one of these (case-insensitive, trimmed).
    #[serde(default)]
    pub any_of: Vec<String>,
    /// Drop rows whose value is one of these (case-insensitive, trimmed).
    #[serde(default)]
    pub none_of: Vec<String>,
    /// Keep rows whose value is empty.
    #[serde(default)]
    pub empty: bool,
}

/// A tag condition on OpenStreetMap features.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagMatch {
    /// Key.
    pub key: String,
    /// Values; any value when empty.
    #[serde(default)]
    pub values: Vec<String>,
}

/// An OpenStreetMap tag → category rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OsmRule {
    /// Category given to matching features.
    pub category: String,
    /// A feature matches when any of these matches...
    pub any: Vec<TagMatch>,
    /// ...and none of these does.
    #[serde(default)]
    pub exclude: Vec<TagMatch>,
}

/// How a source locates its rows.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AssetSourceKind {
    /// Located by postcode through the gazetteer.
    Postcode {
        /// Postcode column.
        postcode_column: String,
    },
    /// Latitude and longitude columns (WGS84).
    LatLon {
        /// Latitude column.
        lat_column: String,
        /// Longitude column.
        lon_column: String,
        /// Optional postcode column.
        #[serde(default)]
        postcode_column: Option<String>,
    },
    /// A text column holding the address, postcode and "(lat, lon)".
    LocationText {
        /// Column.
        location_column: String,
    },
    /// An OpenStreetMap extract read with GDAL's OSM driver.
    Osm {
        /// Tag rules, first match wins.
        rules: Vec<OsmRule>,
    },
}

/// An asset source.
#[derive(Debug, Clone, Deserialize)]
pub struct AssetSourceConfig {
    /// Identifier, prefix of asset ids.
    pub id: String,
    /// File.
    #[serde(flatten)]
    pub table: TableRef,
    /// How rows are located.
    #[serde(flatten)]
    pub kind: AssetSourceKind,
    /// Category of every row (not for OSM, whose rules give it).
    #[serde(default)]
    pub category: Option<String>,
    /// Column holding a stable key; a slug of name and postcode when absent.
    #[serde(default)]
    pub id_column: Option<String>,
    /// Name column (`name` for OSM).
    #[serde(default)]
    pub name_column: Option<String>,
    /// Columns joined into the address.
    #[serde(default)]
    pub address_columns: Vec<String>,
    /// Row filters, all of which must pass.
    #[serde(default)]
    pub filters: Vec<RowFilter>,
    /// Drop an asset within this many metres of a same-category asset from an earlier source.
    #[serde(default)]
    pub dedupe_within_m: Option<f64>,
    /// Where the source has data.
    pub coverage: CoverageConfig,
    /// Coverage description for people.
    pub coverage_note: String,
    /// Provenance.
    pub provenance: Provenance,
}
