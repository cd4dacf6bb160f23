//! The serde schema of the atlas definition file.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use super::ranges;

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
    /// The community asset register: its provenance and the categories only
    /// it holds.
    #[serde(default)]
    pub register: RegisterConfig,
    /// Official district summaries (MHCLG's IoD File 10), served as the
    /// headline district figures.
    #[serde(default)]
    pub district_summaries: Vec<DistrictSummaryConfig>,
}

/// One release of official district summaries (`[[district_summaries]]`).
///
/// Either wide (one row per district, one column per measure: IoD2025) or
/// long (one row per district and domain, `domain` naming the domain and
/// the measure columns repeated: IoD2019). Every numeric column other than
/// the code, name and domain columns is a measure, served as
/// `official_<year>_<domain>_<measure>` (wide: `official_<year>_<column>`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistrictSummaryConfig {
    /// Release year (`2025`, `2019`; checked as a deprivation release's).
    #[serde(deserialize_with = "ranges::year")]
    pub year: u16,
    /// CSV path relative to the data directory.
    pub path: String,
    /// District code column.
    pub code: String,
    /// District name column.
    pub name: String,
    /// Domain column of a long table.
    #[serde(default)]
    pub domain: Option<String>,
    /// Columns that are not measures (e.g. `year`).
    #[serde(default)]
    pub skip: Vec<String>,
    /// Provenance.
    pub provenance: Provenance,
}

/// The community asset register's description (`[register]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterConfig {
    /// Title, e.g. "Community asset register".
    pub title: String,
    /// Who records it.
    pub publisher: String,
    /// Licence of the entries, e.g. `OGL-UK-3.0`.
    pub licence: String,
    /// Attribution line shown with register entries.
    pub attribution: String,
    /// Categories only the register holds (`community_larder`,
    /// `warm_space`...), besides the atlas categories it may also hold.
    #[serde(default)]
    pub categories: Vec<CategoryConfig>,
}

impl Default for RegisterConfig {
    fn default() -> Self {
        Self {
            title: "GapMap community asset register".to_owned(),
            publisher: "Teams using this GapMap".to_owned(),
            licence: "OGL-UK-3.0".to_owned(),
            attribution: "Community asset register, recorded by local teams".to_owned(),
            categories: Vec::new(),
        }
    }
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
    /// Assets up to this far outside the region are kept, flagged as outside
    /// (metres, `0..=`[`MAX_EDGE_BUFFER_M`]).
    #[serde(deserialize_with = "ranges::edge_buffer_m")]
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
#[serde(from = "raw::BoundaryConfig")]
pub struct BoundaryConfig {
    /// File.
    pub table: TableRef,
    /// Code column.
    pub code: String,
    /// Name column.
    pub name: String,
    /// Provenance.
    pub provenance: Provenance,
    /// Old code → new code, for areas recoded after the boundary set was published.
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
#[serde(from = "raw::WardLookupConfig")]
pub struct WardLookupConfig {
    /// File.
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
#[serde(from = "raw::LsoaChangeConfig")]
pub struct LsoaChangeConfig {
    /// File.
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
#[serde(from = "raw::PairLookupConfig")]
pub struct PairLookupConfig {
    /// File.
    pub table: TableRef,
    /// Key column.
    pub key: String,
    /// Value column.
    pub value: String,
}

/// Rural/urban classification lookup.
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "raw::RuralUrbanConfig")]
pub struct RuralUrbanConfig {
    /// File.
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
#[serde(from = "raw::PopulationConfig")]
pub struct PopulationConfig {
    /// File.
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
#[serde(from = "raw::DeprivationTable")]
pub struct DeprivationTable {
    /// File.
    pub table: TableRef,
    /// Area code column.
    pub key: String,
    /// `"<indicator>.<decile|rank|score>"` → column.
    pub columns: BTreeMap<String, String>,
    /// Optional column holding the release's population denominator.
    pub population: Option<String>,
}

/// A deprivation release.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeprivationConfig {
    /// Year of the release (`2000..=2100`).
    #[serde(deserialize_with = "ranges::year")]
    pub year: u16,
    /// Number of areas ranked nationally (at least 1).
    #[serde(deserialize_with = "ranges::areas_ranked")]
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
    #[serde(deserialize_with = "ranges::position")]
    pub postcode: usize,
    /// 1-based position of the easting column (EPSG:27700 metres).
    #[serde(deserialize_with = "ranges::position")]
    pub easting: usize,
    /// 1-based position of the northing column (EPSG:27700 metres).
    #[serde(deserialize_with = "ranges::position")]
    pub northing: usize,
    /// 1-based position of the country code column.
    #[serde(deserialize_with = "ranges::position")]
    pub country: usize,
    /// 1-based position of the district code column.
    #[serde(deserialize_with = "ranges::position")]
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
    /// `[min_lon, min_lat, max_lon, max_lat]` in degrees (CRS84), minimum
    /// below maximum.
    Bbox(#[serde(deserialize_with = "ranges::bbox")] [f64; 4]),
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
#[serde(try_from = "raw::AssetSourceConfig")]
pub struct AssetSourceConfig {
    /// Identifier, prefix of asset ids.
    pub id: String,
    /// File.
    pub table: TableRef,
    /// How rows are located.
    pub kind: AssetSourceKind,
    /// Category of every row (not for OSM, whose rules give it).
    pub category: Option<String>,
    /// Column holding a stable key; a slug of name and postcode when absent.
    pub id_column: Option<String>,
    /// Name column (`name` for OSM).
    pub name_column: Option<String>,
    /// Columns joined into the address.
    pub address_columns: Vec<String>,
    /// Row filters, all of which must pass.
    pub filters: Vec<RowFilter>,
    /// Drop an asset within this many metres of a same-category asset from
    /// an earlier source (`0..=`[`MAX_DEDUPE_WITHIN_M`]).
    pub dedupe_within_m: Option<f64>,
    /// Where the source has data.
    pub coverage: CoverageConfig,
    /// Coverage description for people.
    pub coverage_note: String,
    /// Provenance.
    pub provenance: Provenance,
    /// Data rows the file holds (header excluded), when declared: a tabular
    /// file cut off at a line break reads as fewer whole rows, which nothing
    /// else can tell from a shorter edition, so a count that differs is an
    /// error ([`crate::sources::SourceError::RowCount`]).
    pub rows: Option<u64>,
}

/// The file layout of the tables that embed a [`TableRef`] (`path`, `layer`,
/// `open_options` beside their own keys) and of asset sources (whose `kind`
/// decides which further keys apply). They are read through these flat
/// structs rather than `#[serde(flatten)]`, which cannot reject unknown keys:
/// with it a misspelt `dedupe_within_m` was silently ignored.
mod raw {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::{ranges, CoverageConfig, OsmRule, Provenance, RowFilter, TableRef};

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct BoundaryConfig {
        path: String,
        #[serde(default)]
        layer: Option<String>,
        #[serde(default)]
        open_options: Vec<String>,
        code: String,
        name: String,
        provenance: Provenance,
        #[serde(default)]
        recode: BTreeMap<String, String>,
    }

    impl From<BoundaryConfig> for super::BoundaryConfig {
        fn from(r: BoundaryConfig) -> Self {
            Self {
                table: TableRef {
                    path: r.path,
                    layer: r.layer,
                    open_options: r.open_options,
                },
                code: r.code,
                name: r.name,
                provenance: r.provenance,
                recode: r.recode,
            }
        }
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct WardLookupConfig {
        path: String,
        #[serde(default)]
        layer: Option<String>,
        #[serde(default)]
        open_options: Vec<String>,
        lsoa: String,
        ward_code: String,
        ward_name: String,
        district_code: String,
        district_name: String,
    }

    impl From<WardLookupConfig> for super::WardLookupConfig {
        fn from(r: WardLookupConfig) -> Self {
            Self {
                table: TableRef {
                    path: r.path,
                    layer: r.layer,
                    open_options: r.open_options,
                },
                lsoa: r.lsoa,
                ward_code: r.ward_code,
                ward_name: r.ward_name,
                district_code: r.district_code,
                district_name: r.district_name,
            }
        }
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct LsoaChangeConfig {
        path: String,
        #[serde(default)]
        layer: Option<String>,
        #[serde(default)]
        open_options: Vec<String>,
        lsoa11: String,
        lsoa21: String,
        change: String,
        district_code: String,
    }

    impl From<LsoaChangeConfig> for super::LsoaChangeConfig {
        fn from(r: LsoaChangeConfig) -> Self {
            Self {
                table: TableRef {
                    path: r.path,
                    layer: r.layer,
                    open_options: r.open_options,
                },
                lsoa11: r.lsoa11,
                lsoa21: r.lsoa21,
                change: r.change,
                district_code: r.district_code,
            }
        }
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct PairLookupConfig {
        path: String,
        #[serde(default)]
        layer: Option<String>,
        #[serde(default)]
        open_options: Vec<String>,
        key: String,
        value: String,
    }

    impl From<PairLookupConfig> for super::PairLookupConfig {
        fn from(r: PairLookupConfig) -> Self {
            Self {
                table: TableRef {
                    path: r.path,
                    layer: r.layer,
                    open_options: r.open_options,
                },
                key: r.key,
                value: r.value,
            }
        }
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct RuralUrbanConfig {
        path: String,
        #[serde(default)]
        layer: Option<String>,
        #[serde(default)]
        open_options: Vec<String>,
        lsoa: String,
        code: String,
        classification: String,
        ruc: String,
    }

    impl From<RuralUrbanConfig> for super::RuralUrbanConfig {
        fn from(r: RuralUrbanConfig) -> Self {
            Self {
                table: TableRef {
                    path: r.path,
                    layer: r.layer,
                    open_options: r.open_options,
                },
                lsoa: r.lsoa,
                code: r.code,
                classification: r.classification,
                ruc: r.ruc,
            }
        }
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct PopulationConfig {
        path: String,
        #[serde(default)]
        layer: Option<String>,
        #[serde(default)]
        open_options: Vec<String>,
        lsoa: String,
        residents: String,
        provenance: Provenance,
    }

    impl From<PopulationConfig> for super::PopulationConfig {
        fn from(r: PopulationConfig) -> Self {
            Self {
                table: TableRef {
                    path: r.path,
                    layer: r.layer,
                    open_options: r.open_options,
                },
                lsoa: r.lsoa,
                residents: r.residents,
                provenance: r.provenance,
            }
        }
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct DeprivationTable {
        path: String,
        #[serde(default)]
        layer: Option<String>,
        #[serde(default)]
        open_options: Vec<String>,
        key: String,
        columns: BTreeMap<String, String>,
        #[serde(default)]
        population: Option<String>,
    }

    impl From<DeprivationTable> for super::DeprivationTable {
        fn from(r: DeprivationTable) -> Self {
            Self {
                table: TableRef {
                    path: r.path,
                    layer: r.layer,
                    open_options: r.open_options,
                },
                key: r.key,
                columns: r.columns,
                population: r.population,
            }
        }
    }

    /// The `kind` of an asset source.
    #[derive(Deserialize, Clone, Copy)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Postcode,
        LatLon,
        LocationText,
        Osm,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct AssetSourceConfig {
        id: String,
        path: String,
        #[serde(default)]
        layer: Option<String>,
        #[serde(default)]
        open_options: Vec<String>,
        kind: Kind,
        #[serde(default)]
        postcode_column: Option<String>,
        #[serde(default)]
        lat_column: Option<String>,
        #[serde(default)]
        lon_column: Option<String>,
        #[serde(default)]
        location_column: Option<String>,
        #[serde(default)]
        rules: Option<Vec<OsmRule>>,
        #[serde(default)]
        category: Option<String>,
        #[serde(default)]
        id_column: Option<String>,
        #[serde(default)]
        name_column: Option<String>,
        #[serde(default)]
        address_columns: Vec<String>,
        #[serde(default)]
        filters: Vec<RowFilter>,
        #[serde(default, deserialize_with = "ranges::dedupe_within_m")]
        dedupe_within_m: Option<f64>,
        coverage: CoverageConfig,
        coverage_note: String,
        provenance: Provenance,
        #[serde(default)]
        rows: Option<u64>,
    }

    impl TryFrom<AssetSourceConfig> for super::AssetSourceConfig {
        type Error = String;

        fn try_from(r: AssetSourceConfig) -> Result<Self, String> {
            let (kind_name, required, kind) = match r.kind {
                Kind::Postcode => (
                    "postcode",
                    &["postcode_column"][..],
                    r.postcode_column.clone().map(|postcode_column| {
                        super::AssetSourceKind::Postcode { postcode_column }
                    }),
                ),
                Kind::LatLon => (
                    "lat_lon",
                    &["lat_column", "lon_column"][..],
                    r.lat_column.clone().zip(r.lon_column.clone()).map(
                        |(lat_column, lon_column)| super::AssetSourceKind::LatLon {
                            lat_column,
                            lon_column,
                            postcode_column: r.postcode_column.clone(),
                        },
                    ),
                ),
                Kind::LocationText => (
                    "location_text",
                    &["location_column"][..],
                    r.location_column.clone().map(|location_column| {
                        super::AssetSourceKind::LocationText { location_column }
                    }),
                ),
                Kind::Osm => (
                    "osm",
                    &["rules"][..],
                    r.rules
                        .clone()
                        .map(|rules| super::AssetSourceKind::Osm { rules }),
                ),
            };
            let id = &r.id;
            let Some(kind) = kind else {
                return Err(format!(
                    "asset source '{id}': kind = \"{kind_name}\" needs {}",
                    required.join(" and ")
                ));
            };
            if r.rows.is_some() && matches!(r.kind, Kind::Osm) {
                return Err(format!(
                    "asset source '{id}': key 'rows' applies to tables, not to kind = \"osm\""
                ));
            }
            // Keys that belong to another kind would be ignored: refuse them.
            let present = [
                ("postcode_column", r.postcode_column.is_some()),
                ("lat_column", r.lat_column.is_some()),
                ("lon_column", r.lon_column.is_some()),
                ("location_column", r.location_column.is_some()),
                ("rules", r.rules.is_some()),
            ];
            let allowed: &[&str] = match r.kind {
                Kind::Postcode => &["postcode_column"],
                Kind::LatLon => &["lat_column", "lon_column", "postcode_column"],
                Kind::LocationText => &["location_column"],
                Kind::Osm => &["rules"],
            };
            if let Some((key, _)) = present
                .iter()
                .find(|(key, set)| *set && !allowed.contains(key))
            {
                return Err(format!(
                    "asset source '{id}': key '{key}' does not apply to kind = \"{kind_name}\" (keys for this kind: {})",
                    allowed.join(", ")
                ));
            }
            Ok(Self {
                id: r.id,
                table: TableRef {
                    path: r.path,
                    layer: r.layer,
                    open_options: r.open_options,
                },
                kind,
                category: r.category,
                id_column: r.id_column,
                name_column: r.name_column,
                address_columns: r.address_columns,
                filters: r.filters,
                dedupe_within_m: r.dedupe_within_m,
                coverage: r.coverage,
                coverage_note: r.coverage_note,
                provenance: r.provenance,
                rows: r.rows,
            })
        }
    }
}
