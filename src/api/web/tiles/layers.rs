//! The polygon layers served as tiles: which areas reach a tile, their
//! boundaries and their properties.

use std::borrow::Cow;

use geo::{MultiPolygon, Rect};

use super::encode::{TileFeature, TileProp};
use super::geometry::{tile_polygons, TileId, BUFFER, MIN_PART_PX, UNITS_PER_PIXEL};
use crate::api::web::data::{became_2021, choropleth_values};
use crate::atlas::{Atlas, Crs};

/// The per-indicator property names of a layer (`d_`, `p_`, `c_<id>`),
/// made once per tile rather than once per feature.
#[derive(Debug, Default)]
pub struct LayerKeys {
    d: Vec<String>,
    p: Vec<String>,
    c: Vec<String>,
}

/// Text borrowed from the atlas.
fn text(s: &str) -> TileProp<'_> {
    TileProp::Text(Cow::Borrowed(s))
}

/// A whole number, or nothing (null) for `None`.
fn int(v: Option<impl Into<i64>>) -> Option<TileProp<'static>> {
    v.map(|x| TileProp::Int(x.into()))
}

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

    /// The per-indicator property names of this layer.
    #[must_use]
    pub fn keys(self, atlas: &Atlas) -> LayerKeys {
        let names = |prefix: &str, release: &crate::atlas::DeprivationRelease| {
            release
                .indicators
                .iter()
                .map(|ind| format!("{prefix}{}", ind.id))
                .collect::<Vec<_>>()
        };
        match self {
            Layer::Lsoa => LayerKeys {
                d: names("d_", &atlas.imd2025),
                p: names("p_", &atlas.imd2025),
                c: names("c_", &atlas.imd2025),
            },
            Layer::Lsoa2011 => LayerKeys {
                d: names("d_", &atlas.imd2019),
                ..LayerKeys::default()
            },
            Layer::Wards | Layer::Districts => LayerKeys::default(),
        }
    }

    /// The properties of the area at position `i` in a tile (a null value
    /// leaves its key out).
    ///
    /// - `lsoa`: code, name, ward and district (code and name), Census 2021
    ///   residents, and the choropleth values of the GeoJSON layer
    ///   ([`choropleth_values`]: `link`, `d_`/`p_`/`c_<indicator>`).
    /// - `lsoa-2011`: code, name, `population_2015` (the IoD2019
    ///   denominator), `ward17_code`, `district_code`, `lsoa21` (the 2021
    ///   LSOAs it became, comma-separated), and the published
    ///   IoD2019 decile per indicator (`d_<indicator>`), as
    ///   `/web/api/lsoa-layer?year=2019` gives them.
    /// - `wards`, `districts`: code and name.
    fn properties<'a>(
        self,
        atlas: &'a Atlas,
        keys: &'a LayerKeys,
        i: usize,
    ) -> Vec<(&'a str, TileProp<'a>)> {
        let mut p: Vec<(&'a str, Option<TileProp<'a>>)> = Vec::new();
        match self {
            Layer::Lsoa => {
                let Some(l) = atlas.lsoa21.get(i) else {
                    return Vec::new();
                };
                let ward = atlas.ward_of(l);
                let district = atlas.district_of(l);
                p.extend([
                    ("code", Some(text(&l.code))),
                    ("name", Some(text(&l.name))),
                    ("ward_code", ward.map(|w| text(&w.code))),
                    ("ward_name", ward.map(|w| text(&w.name))),
                    ("district_code", district.map(|d| text(&d.code))),
                    ("district_name", district.map(|d| text(&d.name))),
                    ("residents", int(l.residents)),
                ]);
                let c = choropleth_values(atlas, l);
                p.push(("link", Some(text(c.link))));
                for (k, (d, prev, change)) in c.values.into_iter().enumerate() {
                    let (Some(dk), Some(pk), Some(ck)) =
                        (keys.d.get(k), keys.p.get(k), keys.c.get(k))
                    else {
                        continue;
                    };
                    p.extend([
                        (dk.as_str(), int(d)),
                        (pk.as_str(), int(prev)),
                        (ck.as_str(), int(change)),
                    ]);
                }
            }
            Layer::Lsoa2011 => {
                let Some(l) = atlas.lsoa11.get(i) else {
                    return Vec::new();
                };
                p.extend([
                    ("code", Some(text(&l.code))),
                    ("name", Some(text(&l.name))),
                    ("population_2015", int(l.population_2015)),
                    ("ward17_code", l.ward17.as_deref().map(text)),
                    ("district_code", l.district_code.as_deref().map(text)),
                    (
                        "lsoa21",
                        Some(TileProp::Text(Cow::Owned(became_2021(atlas, l)))),
                    ),
                ]);
                for (k, dk) in keys.d.iter().enumerate() {
                    p.push((dk.as_str(), int(l.imd.get(k).and_then(|v| v.decile))));
                }
            }
            Layer::Wards => {
                if let Some(w) = atlas.wards.get(i) {
                    p.extend([("code", Some(text(&w.code))), ("name", Some(text(&w.name)))]);
                }
            }
            Layer::Districts => {
                if let Some(d) = atlas.districts.get(i) {
                    p.extend([("code", Some(text(&d.code))), ("name", Some(text(&d.name)))]);
                }
            }
        }
        p.into_iter().filter_map(|(k, v)| Some((k, v?))).collect()
    }

    /// The features of this layer in a tile, generalised for its zoom
    /// ([`tile_polygons`]); properties are built only for features that
    /// keep some geometry. `keys` are this layer's ([`Layer::keys`]).
    #[must_use]
    pub fn features<'a>(
        self,
        atlas: &'a Atlas,
        keys: &'a LayerKeys,
        tile: TileId,
    ) -> Vec<TileFeature<'a>> {
        let rect = tile.bounds_lonlat(BUFFER);
        let px2 = UNITS_PER_PIXEL * UNITS_PER_PIXEL;
        self.candidates(atlas, rect)
            .into_iter()
            .filter_map(|i| {
                let boundary = self.boundary(atlas, i as usize)?;
                let (geometry, largest) = tile_polygons(boundary, tile, MIN_PART_PX)?;
                Some(TileFeature::new(
                    u64::from(i),
                    geometry,
                    largest / px2,
                    self.properties(atlas, keys, i as usize),
                ))
            })
            .collect()
    }
}
