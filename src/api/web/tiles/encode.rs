//! Mapbox Vector Tile 2.1 encoding through geozero (its MVT geometry writer
//! and protobuf messages), and the tile size budget.
//!
//! Size rule: a tile is at most [`MAX_TILE_BYTES`] uncompressed (the size
//! MapLibre and Mapbox recommend). When the features of a tile, each already
//! generalised for the zoom ([`super::geometry`]), encode to more, the
//! features whose largest part covers fewer than 4 square pixels are left
//! out, then fewer than 16, 64, … (fourfold each step) until the tile fits.
//! On England this happens only where thousands of small urban LSOAs share a
//! low-zoom tile (London at zoom 8 and 9).
//!
//! Properties come typed and borrowed ([`TileProp`]), and the layer's key and
//! value tables are built with Fx hashing: building a JSON map per feature
//! and hashing owned strings took most of the time a tile was cut in.

use std::borrow::Cow;

use geo::{Geometry, MultiPolygon};
use geozero::mvt::{tile, Message, Tile};
use geozero::ToMvt;
use rustc_hash::FxHashMap;

use super::geometry::{EXTENT, TILE_PIXELS};

/// The largest tile sent, in bytes before compression.
pub const MAX_TILE_BYTES: usize = 500_000;

/// A property value in a tile. Nulls are not properties: a feature leaves
/// the key out.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TileProp<'a> {
    /// Text (an MVT `string_value`).
    Text(Cow<'a, str>),
    /// A whole number (an MVT `sint_value`).
    Int(i64),
}

impl TileProp<'_> {
    fn value(&self) -> tile::Value {
        match self {
            TileProp::Text(s) => tile::Value {
                string_value: Some(s.to_string()),
                ..tile::Value::default()
            },
            TileProp::Int(i) => tile::Value {
                sint_value: Some(*i),
                ..tile::Value::default()
            },
        }
    }
}

/// A feature ready for a tile: its geometry on the tile's grid.
#[derive(Debug)]
pub struct TileFeature<'a> {
    /// Feature id (the area's position in its collection).
    pub id: u64,
    /// Polygons in whole grid units, oriented as MVT wants.
    pub geometry: Geometry<f64>,
    /// The area of its largest part, in square pixels (before clipping).
    pub largest_px: f64,
    /// Properties, each key once; a null value is left out.
    pub properties: Vec<(&'a str, TileProp<'a>)>,
}

impl<'a> TileFeature<'a> {
    /// A feature of `polygons` (on the tile grid).
    #[must_use]
    pub fn new(
        id: u64,
        polygons: MultiPolygon<f64>,
        largest_px: f64,
        properties: Vec<(&'a str, TileProp<'a>)>,
    ) -> Self {
        Self {
            id,
            geometry: Geometry::MultiPolygon(polygons),
            largest_px,
            properties,
        }
    }
}

/// Index of the next entry of a tag table (a layer holds far fewer than
/// `u32::MAX` keys or values).
fn next_index(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

/// Encodes one layer of the features whose largest part is at least
/// `min_px` square pixels; an empty body when there are none.
fn encode_layer(name: &str, features: &[TileFeature<'_>], min_px: f64) -> Vec<u8> {
    let mut keys: Vec<String> = Vec::new();
    let mut key_index: FxHashMap<&str, u32> = FxHashMap::default();
    let mut values: Vec<tile::Value> = Vec::new();
    let mut value_index: FxHashMap<&TileProp<'_>, u32> = FxHashMap::default();
    let mut encoded = Vec::with_capacity(features.len());
    for f in features.iter().filter(|f| f.largest_px >= min_px) {
        // The geometry is already on the grid: geozero writes it unscaled.
        let Ok(mut feature) = f.geometry.to_mvt_unscaled() else {
            continue;
        };
        feature.id = Some(f.id);
        feature.tags.reserve(2 * f.properties.len());
        for (k, v) in &f.properties {
            let ki = *key_index.entry(k).or_insert_with(|| {
                keys.push((*k).to_owned());
                next_index(keys.len() - 1)
            });
            let vi = *value_index.entry(v).or_insert_with(|| {
                values.push(v.value());
                next_index(values.len() - 1)
            });
            feature.tags.push(ki);
            feature.tags.push(vi);
        }
        encoded.push(feature);
    }
    if encoded.is_empty() {
        return Vec::new();
    }
    let layer = tile::Layer {
        version: 2,
        name: name.to_owned(),
        features: encoded,
        keys,
        values,
        extent: Some(EXTENT),
    };
    Tile {
        layers: vec![layer],
    }
    .encode_to_vec()
}

/// The tile of one layer within [`MAX_TILE_BYTES`] (see the module
/// documentation), and the smallest feature size kept in square pixels.
#[must_use]
pub fn encode_within_budget(name: &str, features: &[TileFeature<'_>]) -> (Vec<u8>, f64) {
    let whole_tile = f64::from(TILE_PIXELS) * f64::from(TILE_PIXELS);
    let mut min_px = 0.0;
    loop {
        let body = encode_layer(name, features, min_px);
        if body.len() <= MAX_TILE_BYTES || min_px > whole_tile {
            return (body, min_px);
        }
        min_px = if min_px == 0.0 { 4.0 } else { min_px * 4.0 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    fn square(size: f64) -> MultiPolygon<f64> {
        MultiPolygon::new(vec![polygon![
            (x: 0.0, y: 0.0), (x: 0.0, y: size), (x: size, y: size), (x: size, y: 0.0), (x: 0.0, y: 0.0),
        ]])
    }

    #[test]
    fn a_layer_decodes_to_what_went_in() {
        let properties = vec![
            ("code", TileProp::Text("E01000001".into())),
            ("d_imd", TileProp::Int(3)),
        ];
        let f = TileFeature::new(7, square(100.0), 100.0, properties);
        let g = TileFeature::new(
            8,
            square(50.0),
            100.0,
            vec![
                ("code", TileProp::Text("E01000002".into())),
                ("d_imd", TileProp::Int(3)),
            ],
        );
        let body = encode_layer("lsoa", &[f, g], 0.0);
        let tile = Tile::decode(&body[..]).unwrap();
        let layer = &tile.layers[0];
        assert_eq!(layer.name, "lsoa");
        assert_eq!(layer.extent, Some(4096));
        assert_eq!(layer.keys, vec!["code".to_owned(), "d_imd".to_owned()]);
        // The shared value 3 is stored once.
        assert_eq!(layer.values.len(), 3);
        assert_eq!(layer.values[1].sint_value, Some(3));
        assert_eq!(layer.features[1].tags, vec![0, 2, 1, 1]);
        let feature = &layer.features[0];
        assert_eq!(feature.id, Some(7));
        assert_eq!(feature.tags, vec![0, 0, 1, 1]);
        assert_eq!(feature.r#type, Some(tile::GeomType::Polygon as i32));
        // MoveTo(1) 0,0; LineTo(3) 0,+100 +100,0 0,-100; ClosePath.
        assert_eq!(
            feature.geometry,
            vec![9, 0, 0, 26, 0, 200, 200, 0, 0, 199, 15]
        );
        assert!(encode_layer("lsoa", &[], 0.0).is_empty());
    }

    #[test]
    fn a_tile_over_budget_drops_its_smallest_features_first() {
        let long = "x".repeat(200);
        let features: Vec<TileFeature> = (0..4000u32)
            .map(|i| {
                TileFeature::new(
                    u64::from(i),
                    square(10.0),
                    if i < 100 { 1000.0 } else { 2.0 },
                    vec![("name", TileProp::Text(format!("{long}{i}").into()))],
                )
            })
            .collect();
        let (body, min_px) = encode_within_budget("lsoa", &features);
        assert!(body.len() <= MAX_TILE_BYTES);
        assert!((min_px - 4.0).abs() < f64::EPSILON);
        assert_eq!(
            Tile::decode(&body[..]).unwrap().layers[0].features.len(),
            100
        );
    }
}
