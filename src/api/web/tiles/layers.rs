//! The polygon layers served as tiles: which areas reach a tile, their
//! boundaries and their properties.

use geo::{MultiPolygon, Rect};
use serde_json::{json, Map, Value};

use super::encode::TileFeature;
use super::geometry::{tile_polygons, TileId, BUFFER, MIN_PART_PX, UNITS_PER_PIXEL};
use crate::api::web::data::{became_2021, insert_choropleth_values};
use crate::atlas::{Atlas, Crs};

/// A tiled collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layer {
    /// 2021 LSOAs with IMD 2025 (and 2019 carried over).
    Lsoa,
    /// 2011 LSOAs with IMD 2019, as published.
    Lsoa2011,
    /// 2024 wards (December 2022 shapes).
    Wards,
    /// Districts.
    Districts,
}

impl Layer {
    /// The collection id, also the tile's layer name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Layer::Lsoa => "lsoa",
            Layer::Lsoa2011 => "lsoa-2011",
            Layer::Wards => "wards",
            Layer::Districts => "districts",
        }
    }

    /// Positions of the areas whose boundary intersects `rect` (CRS84).
    fn candidates(self, atlas: &Atlas, rect: Rect<f64>) -> Vec<u32> {
        let ix = &atlas.indexes;
        match self {
            Layer::Lsoa => ix.lsoa21.intersecting(rect, Crs::Crs84, |i| {
                atlas.lsoa21.get(i as usize).map(|l| &l.geometry)
            }),
            Layer::Lsoa2011 => ix.lsoa11.intersecting(rect, Crs::Crs84, |i| {
                atlas.lsoa11.get(i as usize).map(|l| &l.geometry)
            }),
            Layer::Wards => ix.wards.intersecting(rect, Crs::Crs84, |i| {
                atlas
                    .wards
                    .get(i as usize)
                    .and_then(|w| w.geometry.as_ref())
            }),
            Layer::Districts => ix.districts.intersecting(rect, Crs::Crs84, |i| {
                atlas.districts.get(i as usize).map(|d| &d.geometry)
            }),
        }
    }

    /// The CRS84 boundary of the area at position `i`.
    fn boundary(self, atlas: &Atlas, i: usize) -> Option<&MultiPolygon<f64>> {
        match self {
            Layer::Lsoa => atlas.lsoa21.get(i).map(|l| &l.geometry.lonlat),
            Layer::Lsoa2011 => atlas.lsoa11.get(i).map(|l| &l.geometry.lonlat),
            Layer::Wards => atlas
                .wards
                .get(i)
                .and_then(|w| w.geometry.as_ref())
                .map(|g| &g.lonlat),
            Layer::Districts => atlas.districts.get(i).map(|d| &d.geometry.lonlat),
        }
    }

    /// The properties of the area at position `i` in a tile.
    ///
    /// - `lsoa`: code, name, ward and district (code and name), Census 2021
    ///   residents, and the choropleth values of the GeoJSON layer
    ///   ([`insert_choropleth_values`]: `link`, `d_`/`p_`/`c_<indicator>`).
    /// - `lsoa-2011`: code, name, `population_2015` (the IoD2019
    ///   denominator), `ward17_code`, `district_code`, `lsoa21` (the 2021
    ///   LSOAs it became, comma-separated), and the published
    ///   IoD2019 decile per indicator (`d_<indicator>`), as
    ///   `/web/api/lsoa-layer?year=2019` gives them.
    /// - `wards`, `districts`: code and name.
    fn properties(self, atlas: &Atlas, i: usize) -> Map<String, Value> {
        let mut p = Map::new();
        match self {
            Layer::Lsoa => {
                let Some(l) = atlas.lsoa21.get(i) else {
                    return p;
                };
                p.insert("code".into(), json!(l.code));
                p.insert("name".into(), json!(l.name));
                if let Some(w) = atlas.ward_of(l) {
                    p.insert("ward_code".into(), json!(w.code));
                    p.insert("ward_name".into(), json!(w.name));
                }
                if let Some(d) = atlas.district_of(l) {
                    p.insert("district_code".into(), json!(d.code));
                    p.insert("district_name".into(), json!(d.name));
                }
                p.insert("residents".into(), json!(l.residents));
                insert_choropleth_values(atlas, l, &mut p);
            }
            Layer::Lsoa2011 => {
                let Some(l) = atlas.lsoa11.get(i) else {
                    return p;
                };
                p.insert("code".into(), json!(l.code));
                p.insert("name".into(), json!(l.name));
                p.insert("population_2015".into(), json!(l.population_2015));
                p.insert("ward17_code".into(), json!(l.ward17));
                p.insert("district_code".into(), json!(l.district_code));
                p.insert("lsoa21".into(), json!(became_2021(atlas, l)));
                for (k, ind) in atlas.imd2019.indicators.iter().enumerate() {
                    p.insert(
                        format!("d_{}", ind.id),
                        json!(l.imd.get(k).and_then(|v| v.decile)),
                    );
                }
            }
            Layer::Wards => {
                if let Some(w) = atlas.wards.get(i) {
                    p.insert("code".into(), json!(w.code));
                    p.insert("name".into(), json!(w.name));
                }
            }
            Layer::Districts => {
                if let Some(d) = atlas.districts.get(i) {
                    p.insert("code".into(), json!(d.code));
                    p.insert("name".into(), json!(d.name));
                }
            }
        }
        p
    }

    /// The features of this layer in a tile, generalised for its zoom
    /// ([`tile_polygons`]); properties are built only for features that
    /// keep some geometry.
    #[must_use]
    pub fn features(self, atlas: &Atlas, tile: TileId) -> Vec<TileFeature> {
        let rect = tile.bounds_lonlat(BUFFER);
        let px2 = UNITS_PER_PIXEL * UNITS_PER_PIXEL;
        self.candidates(atlas, rect)
            .into_iter()
            .filter_map(|i| {
                let boundary = self.boundary(atlas, i as usize)?;
                let (geometry, largest) = tile_polygons(boundary, tile, MIN_PART_PX)?;
                Some(TileFeature {
                    id: u64::from(i),
                    geometry,
                    largest_px: largest / px2,
                    properties: self.properties(atlas, i as usize),
                })
            })
            .collect()
    }
}
