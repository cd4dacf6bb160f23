//! The atlas: the joined, indexed, in-memory model of areas, deprivation,
//! population and community assets, built once at start-up from the sources
//! and read-only afterwards.
//!
//! Nothing here touches files or GDAL; see [`crate::sources`] for that and
//! [`build`] for how the pieces are joined.

pub mod area;
pub mod asset;
pub mod build;
pub mod deprivation;
pub mod index;
pub mod postcode;
pub mod register;
pub mod report;
mod validate;
mod with_assets_tmp;

use std::collections::HashMap;

use geo::Point;

pub use area::{AreaIdx, District, Lsoa11, Lsoa21, Ward};
pub use asset::{Asset, AssetSource, Category, CategoryIdx, Coverage, SourceIdx};
pub use deprivation::{DeprivationRelease, IndicatorDef};
pub use index::{AreaIndex, AssetIndex};
pub use postcode::Postcode;
// The shared plain types the atlas is made of, re-exported for its readers.
pub use crate::model::{
    normalise_postcode, ChangeCode, Crs, DualPoint, DualPolygon, IndicatorValue, RuralUrban,
};
pub use report::LoadReport;

/// The region an atlas covers.
#[derive(Debug, Clone)]
pub struct RegionInfo {
    /// Identifier, e.g. `oxfordshire`.
    pub id: String,
    /// Name, e.g. `Oxfordshire`.
    pub name: String,
    /// Distance beyond the region within which assets are kept (flagged outside).
    pub edge_buffer_m: f64,
}

/// Indexes of the atlas layers.
#[derive(Debug, Default)]
pub struct Indexes {
    /// 2021 LSOA envelopes.
    pub lsoa21: AreaIndex,
    /// 2011 LSOA envelopes.
    pub lsoa11: AreaIndex,
    /// Ward envelopes (wards with a boundary).
    pub wards: AreaIndex,
    /// District envelopes.
    pub districts: AreaIndex,
    /// Asset points.
    pub assets: AssetIndex,
}

/// The joined, indexed, read-only model every feature reads from.
#[derive(Debug)]
pub struct Atlas {
    /// The region loaded.
    pub region: RegionInfo,
    /// 2021 LSOAs in the region, sorted by code.
    pub lsoa21: Vec<Lsoa21>,
    /// 2011 LSOAs in the region, sorted by code.
    pub lsoa11: Vec<Lsoa11>,
    /// 2024 wards in the region, sorted by code.
    pub wards: Vec<Ward>,
    /// Districts in the region, sorted by code.
    pub districts: Vec<District>,
    /// IMD 2025 (on 2021 LSOAs).
    pub imd2025: DeprivationRelease,
    /// IMD 2019 (on 2011 LSOAs).
    pub imd2019: DeprivationRelease,
    /// Asset categories.
    pub categories: Vec<Category>,
    /// Asset sources.
    pub sources: Vec<AssetSource>,
    /// Assets, sorted by id.
    pub assets: Vec<Asset>,
    /// Residential postcodes inside the region's LSOAs, sorted by code.
    pub postcodes: Vec<Postcode>,
    /// Provenance of the areas layers (boundaries, lookups, population).
    pub area_sources: Vec<AssetSource>,
    /// R-trees.
    pub indexes: Indexes,
    /// What happened during the load.
    pub report: LoadReport,
    lookup: CodeLookup,
}

/// Code → position maps.
#[derive(Debug, Default)]
struct CodeLookup {
    lsoa21: HashMap<String, AreaIdx>,
    lsoa11: HashMap<String, AreaIdx>,
    wards: HashMap<String, AreaIdx>,
    districts: HashMap<String, AreaIdx>,
    assets: HashMap<String, u32>,
    categories: HashMap<String, CategoryIdx>,
}

impl CodeLookup {
    fn of<T>(items: &[T], key: impl Fn(&T) -> &str) -> HashMap<String, u32> {
        items
            .iter()
            .enumerate()
            .filter_map(|(i, t)| Some((key(t).to_owned(), u32::try_from(i).ok()?)))
            .collect()
    }
}

impl Atlas {
    /// 2021 LSOA by ONS code.
    #[must_use]
    pub fn lsoa21_by_code(&self, code: &str) -> Option<(AreaIdx, &Lsoa21)> {
        let i = *self.lookup.lsoa21.get(code)?;
        Some((i, self.lsoa21.get(i as usize)?))
    }

    /// 2011 LSOA by ONS code.
    #[must_use]
    pub fn lsoa11_by_code(&self, code: &str) -> Option<(AreaIdx, &Lsoa11)> {
        let i = *self.lookup.lsoa11.get(code)?;
        Some((i, self.lsoa11.get(i as usize)?))
    }

    /// Ward by 2024 code.
    #[must_use]
    pub fn ward_by_code(&self, code: &str) -> Option<(AreaIdx, &Ward)> {
        let i = *self.lookup.wards.get(code)?;
        Some((i, self.wards.get(i as usize)?))
    }

    /// District by code.
    #[must_use]
    pub fn district_by_code(&self, code: &str) -> Option<(AreaIdx, &District)> {
        let i = *self.lookup.districts.get(code)?;
        Some((i, self.districts.get(i as usize)?))
    }

    /// Asset by id.
    #[must_use]
    pub fn asset_by_id(&self, id: &str) -> Option<&Asset> {
        self.assets.get(*self.lookup.assets.get(id)? as usize)
    }

    /// Category by id.
    #[must_use]
    pub fn category_by_id(&self, id: &str) -> Option<(CategoryIdx, &Category)> {
        let i = *self.lookup.categories.get(id)?;
        Some((i, self.categories.get(usize::from(i))?))
    }

    /// Postcode by (any spelling of) its code.
    #[must_use]
    pub fn postcode(&self, raw: &str) -> Option<&Postcode> {
        let code = normalise_postcode(raw)?;
        let i = self
            .postcodes
            .binary_search_by(|p| p.code.as_str().cmp(code.as_str()))
            .ok()?;
        self.postcodes.get(i)
    }

    /// The 2021 LSOA containing a longitude/latitude point.
    #[must_use]
    pub fn lsoa21_at(&self, lonlat: Point<f64>) -> Option<AreaIdx> {
        self.indexes.lsoa21.containing(lonlat, Crs::Crs84, |i| {
            self.lsoa21.get(i as usize).map(|l| &l.geometry)
        })
    }

    /// Census 2021 usual residents of a 2021 LSOA by index; 0 when unknown,
    /// so that it weighs nothing in resident-weighted roll-ups.
    #[must_use]
    pub fn residents(&self, lsoa: AreaIdx) -> u32 {
        self.lsoa21
            .get(lsoa as usize)
            .and_then(|l| l.residents)
            .unwrap_or(0)
    }

    /// Ward of a 2021 LSOA.
    #[must_use]
    pub fn ward_of(&self, lsoa: &Lsoa21) -> Option<&Ward> {
        self.wards.get(lsoa.ward? as usize)
    }

    /// District of a 2021 LSOA.
    #[must_use]
    pub fn district_of(&self, lsoa: &Lsoa21) -> Option<&District> {
        self.districts.get(lsoa.district? as usize)
    }

    /// Whether an LSOA lies inside the coverage of a source.
    #[must_use]
    pub fn source_covers(&self, source: &AssetSource, lsoa: &Lsoa21) -> bool {
        match &source.coverage {
            Coverage::CodePrefix { prefix, .. } => lsoa.code.starts_with(prefix.as_str()),
            Coverage::Districts { codes, .. } => self
                .district_of(lsoa)
                .is_some_and(|d| codes.contains(&d.code)),
            Coverage::Bbox { bbox, .. } => {
                let b = lsoa.geometry.lonlat_bbox;
                b.min().x >= bbox[0]
                    && b.min().y >= bbox[1]
                    && b.max().x <= bbox[2]
                    && b.max().y <= bbox[3]
            }
        }
    }

    /// The sources that supply a category (none for an unknown category).
    pub fn category_sources(&self, category: usize) -> impl Iterator<Item = &AssetSource> + '_ {
        self.categories
            .get(category)
            .into_iter()
            .flat_map(|c| c.sources.iter())
            .filter_map(|&s| self.sources.get(usize::from(s)))
    }

    /// Whether an LSOA is covered by at least one source of a category: only
    /// then can "no asset nearby" be told apart from "no data".
    #[must_use]
    pub fn category_covers(&self, category: CategoryIdx, lsoa: &Lsoa21) -> bool {
        self.category_sources(usize::from(category))
            .any(|s| self.source_covers(s, lsoa))
    }
}
