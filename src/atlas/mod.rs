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
pub mod parts;
pub mod postcode;
pub mod register;
pub mod report;
mod validate;

use std::collections::HashMap;
use std::sync::Arc;

use geo::Point;

pub use area::{AreaIdx, District, Lsoa11, Lsoa21, OfficialSummaries, Ring, RingLsoa, Ward};
pub use asset::{Asset, AssetSource, Category, CategoryIdx, Coverage, SourceIdx};
pub use deprivation::{DeprivationRelease, IndicatorDef};
pub use index::{AreaIndex, AssetIndex};
pub use parts::AtlasParts;
pub use postcode::Postcode;
// The shared plain types the atlas is made of, re-exported for its readers.
pub use crate::model::{
    normalise_postcode, ChangeCode, Crs, DualPoint, DualPolygon, IndicatorValue, RuralUrban,
};
pub use report::LoadReport;

/// The region an atlas covers.
#[derive(Debug, Clone, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct RegionInfo {
    /// Identifier, e.g. `oxfordshire`.
    pub id: String,
    /// Name, e.g. `Oxfordshire`.
    pub name: String,
    /// Distance beyond the region within which assets are kept (flagged outside).
    pub edge_buffer_m: f64,
}

/// Indexes of the atlas layers. The area trees are shared (behind `Arc`)
/// by every atlas [`Atlas::with_assets`] derives; the asset trees are each
/// atlas's own.
#[derive(Debug, Default)]
pub struct Indexes {
    /// 2021 LSOA envelopes.
    pub lsoa21: Arc<AreaIndex>,
    /// 2011 LSOA envelopes.
    pub lsoa11: Arc<AreaIndex>,
    /// Ward envelopes (wards with a boundary).
    pub wards: Arc<AreaIndex>,
    /// District envelopes.
    pub districts: Arc<AreaIndex>,
    /// Asset points.
    pub assets: AssetIndex,
}

/// The joined, indexed, read-only model every feature reads from.
///
/// Everything that does not depend on the assets (areas, deprivation,
/// postcodes, area indexes and lookups, the load report) sits behind `Arc`,
/// so that [`Atlas::with_assets`] can derive an atlas with other assets
/// without copying it.
#[derive(Debug)]
pub struct Atlas {
    /// The region loaded.
    pub region: RegionInfo,
    /// 2021 LSOAs in the region, sorted by code.
    pub lsoa21: Arc<Vec<Lsoa21>>,
    /// 2011 LSOAs in the region, sorted by code.
    pub lsoa11: Arc<Vec<Lsoa11>>,
    /// 2024 wards in the region, sorted by code.
    pub wards: Arc<Vec<Ward>>,
    /// Districts in the region, sorted by code.
    pub districts: Arc<Vec<District>>,
    /// MHCLG's official summaries of those districts.
    pub district_summaries: Arc<OfficialSummaries>,
    /// IMD 2025 (on 2021 LSOAs).
    pub imd2025: Arc<DeprivationRelease>,
    /// IMD 2019 (on 2011 LSOAs).
    pub imd2019: Arc<DeprivationRelease>,
    /// Asset categories.
    pub categories: Vec<Category>,
    /// Asset sources.
    pub sources: Vec<AssetSource>,
    /// Assets, sorted by id.
    pub assets: Vec<Asset>,
    /// Postcode units (every current Code-Point Open unit, residential or not) inside the region's LSOAs, sorted by code.
    pub postcodes: Arc<Vec<Postcode>>,
    /// LSOAs around the region whose residents the region's figures need
    /// (2SFCA demand), never served. Empty for England.
    pub ring: Arc<Ring>,
    /// Provenance of the areas layers (boundaries, lookups, population).
    pub area_sources: Arc<Vec<AssetSource>>,
    /// R-trees.
    pub indexes: Indexes,
    /// What happened during the load (of the atlas this one derives from,
    /// for a derived atlas).
    pub report: Arc<LoadReport>,
    lookup: CodeLookup,
}

/// Code → position maps.
#[derive(Debug, Default)]
struct CodeLookup {
    /// Area codes, shared by derived atlases.
    areas: Arc<AreaCodes>,
    assets: HashMap<String, u32>,
    categories: HashMap<String, CategoryIdx>,
}

/// Area code → position maps.
#[derive(Debug, Default)]
struct AreaCodes {
    lsoa21: HashMap<String, AreaIdx>,
    lsoa11: HashMap<String, AreaIdx>,
    wards: HashMap<String, AreaIdx>,
    districts: HashMap<String, AreaIdx>,
}

impl CodeLookup {
    fn of<T>(items: &[T], key: impl Fn(&T) -> &str) -> HashMap<String, u32> {
        items
            .iter()
            .enumerate()
            .filter_map(|(i, t)| Some((key(t).to_owned(), u32::try_from(i).ok()?)))
            .collect()
    }

    fn categories(categories: &[Category]) -> HashMap<String, CategoryIdx> {
        categories
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((c.id.clone(), CategoryIdx::try_from(i).ok()?)))
            .collect()
    }
}

impl Atlas {
    /// 2021 LSOA by ONS code.
    #[must_use]
    pub fn lsoa21_by_code(&self, code: &str) -> Option<(AreaIdx, &Lsoa21)> {
        let i = *self.lookup.areas.lsoa21.get(code)?;
        Some((i, self.lsoa21.get(i as usize)?))
    }

    /// 2011 LSOA by ONS code.
    #[must_use]
    pub fn lsoa11_by_code(&self, code: &str) -> Option<(AreaIdx, &Lsoa11)> {
        let i = *self.lookup.areas.lsoa11.get(code)?;
        Some((i, self.lsoa11.get(i as usize)?))
    }

    /// Ward by 2024 code.
    #[must_use]
    pub fn ward_by_code(&self, code: &str) -> Option<(AreaIdx, &Ward)> {
        let i = *self.lookup.areas.wards.get(code)?;
        Some((i, self.wards.get(i as usize)?))
    }

    /// District by code.
    #[must_use]
    pub fn district_by_code(&self, code: &str) -> Option<(AreaIdx, &District)> {
        let i = *self.lookup.areas.districts.get(code)?;
        Some((i, self.districts.get(i as usize)?))
    }

    /// Asset by id.
    #[must_use]
    pub fn asset_by_id(&self, id: &str) -> Option<&Asset> {
        self.assets.get(*self.lookup.assets.get(id)? as usize)
    }

    /// Position of an asset in [`Atlas::assets`], by id.
    #[must_use]
    pub fn asset_index(&self, id: &str) -> Option<u32> {
        self.lookup.assets.get(id).copied()
    }

    /// A new atlas with other assets, categories and sources, sharing every
    /// area layer, deprivation release, postcode list, area index, area code
    /// lookup and the load report with `self` (nothing of those is copied).
    /// Only the asset vector (sorted here by id), the asset R-trees and the
    /// asset and category lookups are built anew.
    ///
    /// `categories` may extend `self.categories` (new ones at the end;
    /// existing indices keep their meaning); each category's `sources`
    /// indexes `sources`, and each asset's `category` and `source` index
    /// them. Assets must come with `lsoa21`, `ward`, `district` and
    /// `in_region` set (see [`Atlas::lsoa21_at`]) and unique ids; of
    /// duplicates, the id lookup finds the last after sorting.
    #[must_use]
    pub fn with_assets(
        &self,
        mut assets: Vec<Asset>,
        categories: Vec<Category>,
        sources: Vec<AssetSource>,
    ) -> Atlas {
        // Stable, so that duplicates keep the caller's order.
        assets.sort_by(|a, b| a.id.cmp(&b.id));
        let asset_index = AssetIndex::of_assets(categories.len(), &assets);
        let lookup = CodeLookup {
            areas: Arc::clone(&self.lookup.areas),
            assets: CodeLookup::of(&assets, |a| &a.id),
            categories: CodeLookup::categories(&categories),
        };
        Atlas {
            region: self.region.clone(),
            lsoa21: Arc::clone(&self.lsoa21),
            lsoa11: Arc::clone(&self.lsoa11),
            wards: Arc::clone(&self.wards),
            districts: Arc::clone(&self.districts),
            district_summaries: Arc::clone(&self.district_summaries),
            imd2025: Arc::clone(&self.imd2025),
            imd2019: Arc::clone(&self.imd2019),
            categories,
            sources,
            assets,
            postcodes: Arc::clone(&self.postcodes),
            ring: Arc::clone(&self.ring),
            area_sources: Arc::clone(&self.area_sources),
            indexes: Indexes {
                lsoa21: Arc::clone(&self.indexes.lsoa21),
                lsoa11: Arc::clone(&self.indexes.lsoa11),
                wards: Arc::clone(&self.indexes.wards),
                districts: Arc::clone(&self.indexes.districts),
                assets: asset_index,
            },
            report: Arc::clone(&self.report),
            lookup,
        }
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
