//! TEMPORARY: a copying `with_assets` until the incremental-snapshot work
//! (which shares the area layers) lands.

use super::{
    AreaIndex, Asset, AssetIndex, AssetSource, Atlas, Category, CodeLookup, DeprivationRelease,
    Indexes,
};

fn cloned_release(r: &DeprivationRelease) -> DeprivationRelease {
    r.clone()
}

impl Atlas {
    /// A new atlas with other assets, categories and sources.
    #[must_use]
    pub fn with_assets(
        &self,
        assets: Vec<Asset>,
        categories: Vec<Category>,
        sources: Vec<AssetSource>,
    ) -> Atlas {
        let asset_index = AssetIndex::build(
            categories.len(),
            assets.iter().enumerate().filter_map(|(i, a)| {
                Some((u32::try_from(i).ok()?, usize::from(a.category), a.location))
            }),
        );
        let lookup = CodeLookup {
            lsoa21: self.lookup.lsoa21.clone(),
            lsoa11: self.lookup.lsoa11.clone(),
            wards: self.lookup.wards.clone(),
            districts: self.lookup.districts.clone(),
            assets: CodeLookup::of(&assets, |a| &a.id),
            categories: categories
                .iter()
                .enumerate()
                .filter_map(|(i, c)| Some((c.id.clone(), u16::try_from(i).ok()?)))
                .collect(),
        };
        let idx =
            |v: &mut dyn Iterator<Item = (u32, &crate::model::DualPolygon)>| AreaIndex::build(v);
        Atlas {
            region: self.region.clone(),
            lsoa21: self.lsoa21.clone(),
            lsoa11: self.lsoa11.clone(),
            wards: self.wards.clone(),
            districts: self.districts.clone(),
            imd2025: cloned_release(&self.imd2025),
            imd2019: cloned_release(&self.imd2019),
            categories,
            sources,
            assets,
            postcodes: self.postcodes.clone(),
            area_sources: self.area_sources.clone(),
            indexes: Indexes {
                lsoa21: idx(&mut self
                    .lsoa21
                    .iter()
                    .enumerate()
                    .filter_map(|(i, l)| Some((u32::try_from(i).ok()?, &l.geometry)))),
                lsoa11: idx(&mut self
                    .lsoa11
                    .iter()
                    .enumerate()
                    .filter_map(|(i, l)| Some((u32::try_from(i).ok()?, &l.geometry)))),
                wards: idx(&mut self
                    .wards
                    .iter()
                    .enumerate()
                    .filter_map(|(i, w)| Some((u32::try_from(i).ok()?, w.geometry.as_ref()?)))),
                districts: idx(&mut self
                    .districts
                    .iter()
                    .enumerate()
                    .filter_map(|(i, d)| Some((u32::try_from(i).ok()?, &d.geometry)))),
                assets: asset_index,
            },
            report: self.report.clone(),
            lookup,
        }
    }
}
