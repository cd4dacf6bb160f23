//! An atlas as its stored parts ([`AtlasParts`]) and back: everything the
//! sources gave, joined, without the R-trees and code lookups, which
//! [`Atlas::from_parts`] builds. The load assembles every atlas this way,
//! and the prepared atlas (`sources::prepared`) stores the parts, so an
//! atlas read back from it is assembled exactly as a loaded one.

use std::sync::Arc;

use borsh::{BorshDeserialize, BorshSerialize};

use super::area::{AreaIdx, District, Lsoa11, Lsoa21, OfficialSummaries, Ring, Ward};
use super::asset::{Asset, AssetSource, Category};
use super::deprivation::DeprivationRelease;
use super::index::{AreaIndex, AssetIndex};
use super::postcode::Postcode;
use super::report::LoadReport;
use super::{AreaCodes, Atlas, CodeLookup, Indexes, RegionInfo};

/// The parts of an [`Atlas`] that are data (see the module docs); the
/// fields mean what the atlas's fields of the same names mean.
#[derive(Debug, BorshSerialize, BorshDeserialize)]
#[allow(missing_docs)]
pub struct AtlasParts {
    pub region: RegionInfo,
    #[borsh(deserialize_with = "crate::model::borsh_vec::read_arc_vec")]
    pub lsoa21: Arc<Vec<Lsoa21>>,
    #[borsh(deserialize_with = "crate::model::borsh_vec::read_arc_vec")]
    pub lsoa11: Arc<Vec<Lsoa11>>,
    #[borsh(deserialize_with = "crate::model::borsh_vec::read_arc_vec")]
    pub wards: Arc<Vec<Ward>>,
    #[borsh(deserialize_with = "crate::model::borsh_vec::read_arc_vec")]
    pub districts: Arc<Vec<District>>,
    pub district_summaries: Arc<OfficialSummaries>,
    pub imd2025: Arc<DeprivationRelease>,
    pub imd2019: Arc<DeprivationRelease>,
    pub categories: Vec<Category>,
    pub sources: Vec<AssetSource>,
    #[borsh(deserialize_with = "crate::model::borsh_vec::read_vec")]
    pub assets: Vec<Asset>,
    #[borsh(deserialize_with = "crate::model::borsh_vec::read_arc_vec")]
    pub postcodes: Arc<Vec<Postcode>>,
    pub ring: Arc<Ring>,
    pub area_sources: Arc<Vec<AssetSource>>,
    pub report: Arc<LoadReport>,
}

/// A position as an [`AreaIdx`] (saturating: the atlas never holds that many).
fn idx(i: usize) -> AreaIdx {
    AreaIdx::try_from(i).unwrap_or(AreaIdx::MAX)
}

impl Atlas {
    /// The atlas's data parts. The shared layers are shared (`Arc`), the
    /// categories, sources and assets copied.
    #[must_use]
    pub fn parts(&self) -> AtlasParts {
        AtlasParts {
            region: self.region.clone(),
            lsoa21: Arc::clone(&self.lsoa21),
            lsoa11: Arc::clone(&self.lsoa11),
            wards: Arc::clone(&self.wards),
            districts: Arc::clone(&self.districts),
            district_summaries: Arc::clone(&self.district_summaries),
            imd2025: Arc::clone(&self.imd2025),
            imd2019: Arc::clone(&self.imd2019),
            categories: self.categories.clone(),
            sources: self.sources.clone(),
            assets: self.assets.clone(),
            postcodes: Arc::clone(&self.postcodes),
            ring: Arc::clone(&self.ring),
            area_sources: Arc::clone(&self.area_sources),
            report: Arc::clone(&self.report),
        }
    }

    /// Assembles an atlas from its parts: builds the envelope trees of the
    /// four area layers (wards with a boundary only), the asset trees and
    /// the code lookups. Each layer must be sorted by code, as the load
    /// leaves it.
    #[must_use]
    pub fn from_parts(p: AtlasParts) -> Atlas {
        let enumerate = |i: usize, g| (idx(i), g);
        let indexes = Indexes {
            lsoa21: Arc::new(AreaIndex::build(
                p.lsoa21
                    .iter()
                    .enumerate()
                    .map(|(i, l)| enumerate(i, &l.geometry)),
            )),
            lsoa11: Arc::new(AreaIndex::build(
                p.lsoa11
                    .iter()
                    .enumerate()
                    .map(|(i, l)| enumerate(i, &l.geometry)),
            )),
            wards: Arc::new(AreaIndex::build(
                p.wards
                    .iter()
                    .enumerate()
                    .filter_map(|(i, w)| Some(enumerate(i, w.geometry.as_ref()?))),
            )),
            districts: Arc::new(AreaIndex::build(
                p.districts
                    .iter()
                    .enumerate()
                    .map(|(i, d)| enumerate(i, &d.geometry)),
            )),
            assets: AssetIndex::of_assets(p.categories.len(), &p.assets),
        };
        let lookup = CodeLookup {
            areas: Arc::new(AreaCodes {
                lsoa21: CodeLookup::of(&p.lsoa21, |l| &l.code),
                lsoa11: CodeLookup::of(&p.lsoa11, |l| &l.code),
                wards: CodeLookup::of(&p.wards, |w| &w.code),
                districts: CodeLookup::of(&p.districts, |d| &d.code),
            }),
            assets: CodeLookup::of(&p.assets, |a| &a.id),
            categories: CodeLookup::categories(&p.categories),
        };
        Atlas {
            region: p.region,
            lsoa21: p.lsoa21,
            lsoa11: p.lsoa11,
            wards: p.wards,
            districts: p.districts,
            district_summaries: p.district_summaries,
            imd2025: p.imd2025,
            imd2019: p.imd2019,
            categories: p.categories,
            sources: p.sources,
            assets: p.assets,
            postcodes: p.postcodes,
            ring: p.ring,
            area_sources: p.area_sources,
            indexes,
            report: p.report,
            lookup,
        }
    }

    /// The categories (of `self`'s) whose id, label, sources or assets
    /// differ in `other`, an atlas derived from this one with
    /// [`Atlas::with_assets`]; categories `other` appends are not listed
    /// (every analysis computes those anew). Sorted.
    ///
    /// This is what [`crate::analysis::Results::update`] needs to derive
    /// `other`'s results from `self`'s.
    #[must_use]
    pub fn categories_differing(&self, other: &Atlas) -> Vec<super::CategoryIdx> {
        (0..self.categories.len())
            .filter(|&c| {
                let (Some(a), Some(b)) = (self.categories.get(c), other.categories.get(c)) else {
                    return true;
                };
                a.id != b.id
                    || a.label != b.label
                    || sources_of(self, a) != sources_of(other, b)
                    || !same_assets(&assets_of(self, c), &assets_of(other, c), self, other)
            })
            .filter_map(|c| super::CategoryIdx::try_from(c).ok())
            .collect()
    }
}

/// The assets of category `c`, in atlas (id) order.
fn assets_of(atlas: &Atlas, c: usize) -> Vec<&Asset> {
    atlas
        .assets
        .iter()
        .filter(|a| usize::from(a.category) == c)
        .collect()
}

/// The sources a category names.
fn sources_of<'a>(atlas: &'a Atlas, category: &Category) -> Vec<Option<&'a AssetSource>> {
    category
        .sources
        .iter()
        .map(|&s| atlas.sources.get(usize::from(s)))
        .collect()
}

fn source_id(atlas: &Atlas, s: super::SourceIdx) -> Option<&str> {
    atlas.sources.get(usize::from(s)).map(|s| s.id.as_str())
}

/// Whether two atlases' assets of one category are the same, source
/// included (compared by id, since source indices may differ).
fn same_assets(a: &[&Asset], b: &[&Asset], atlas_a: &Atlas, atlas_b: &Atlas) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.id == y.id
                && x.name == y.name
                && x.location == y.location
                && x.lsoa21 == y.lsoa21
                && x.in_region == y.in_region
                && source_id(atlas_a, x.source) == source_id(atlas_b, y.source)
        })
}
