//! Mapbox Vector Tile 2.1 encoding through geozero (its MVT geometry writer,
//! tag tables and protobuf messages), and the tile size budget.
//!
//! Size rule: a tile is at most [`MAX_TILE_BYTES`] uncompressed (the size
//! MapLibre and Mapbox recommend). When the features of a tile, each already
//! generalised for the zoom ([`super::geometry`]), encode to more, the
//! features whose largest part covers fewer than 4 square pixels are left
//! out, then fewer than 16, 64, … (fourfold each step) until the tile fits.
//! On England this happens only where thousands of small urban LSOAs share a
//! low-zoom tile (London at zoom 8 and 9).

use geo::{Geometry, MultiPolygon};
use geozero::mvt::{tile, Message, TagsBuilder, Tile, TileValue};
use geozero::ToMvt;
use serde_json::{Map, Value};

use super::geometry::{EXTENT, TILE_PIXELS};

/// The largest tile sent, in bytes before compression.
pub const MAX_TILE_BYTES: usize = 500_000;

/// A feature ready for a tile: its geometry on the tile's grid.
#[derive(Debug)]
pub struct TileFeature {
    /// Feature id (the area's position in its collection).
    pub id: u64,
    /// Polygons in whole grid units, oriented as MVT wants.
    pub geometry: MultiPolygon<f64>,
    /// The area of its largest part, in square pixels (before clipping).
    pub largest_px: f64,
    /// Properties; nulls are left out of the tile.
    pub properties: Map<String, Value>,
}

/// A JSON property value as a tile value; `None` for null, arrays and objects.
fn tile_value(v: &Value) -> Option<TileValue> {
    match v {
        Value::String(s) => Some(TileValue::Str(s.clone())),
        Value::Bool(b) => Some(TileValue::Bool(*b)),
        Value::Number(n) => n
            .as_i64()
            .map(TileValue::Sint)
            .or_else(|| n.as_u64().map(TileValue::Uint))
            .or_else(|| n.as_f64().map(TileValue::Double)),
        _ => None,
    }
}

/// Encodes one layer of the features whose largest part is at least
/// `min_px` square pixels; an empty body when there are none.
fn encode_layer(name: &str, features: &[TileFeature], min_px: f64) -> Vec<u8> {
    let mut tags = TagsBuilder::<String>::new();
    let mut encoded = Vec::with_capacity(features.len());
    for f in features.iter().filter(|f| f.largest_px >= min_px) {
        // The geometry is already on the grid: geozero writes it unscaled.
        let Ok(mut feature) = Geometry::MultiPolygon(f.geometry.clone()).to_mvt_unscaled() else {
            continue;
        };
        feature.id = Some(f.id);
        for (k, v) in &f.properties {
            if let Some(tv) = tile_value(v) {
                let (ki, vi) = tags.insert(k.clone(), tv);
                feature.tags.push(ki);
                feature.tags.push(vi);
            }
        }
        encoded.push(feature);
    }
    if encoded.is_empty() {
        return Vec::new();
    }
    let (keys, values) = tags.into_tags();
    let layer = tile::Layer {
        version: 2,
        name: name.to_owned(),
        features: encoded,
        keys,
        values: values.into_iter().map(Into::into).collect(),
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
pub fn encode_within_budget(name: &str, features: &[TileFeature]) -> (Vec<u8>, f64) {
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
    use serde_json::json;

    fn square(size: f64) -> MultiPolygon<f64> {
        MultiPolygon::new(vec![polygon![
            (x: 0.0, y: 0.0), (x: 0.0, y: size), (x: size, y: size), (x: size, y: 0.0), (x: 0.0, y: 0.0),
        ]])
    }

    #[test]
    fn a_layer_decodes_to_what_went_in() {
        let mut properties = Map::new();
        properties.insert("code".into(), json!("E01000001"));
        properties.insert("d_imd".into(), json!(3));
        properties.insert("gone".into(), Value::Null);
        let f = TileFeature {
            id: 7,
            geometry: square(100.0),
            largest_px: 100.0,
            properties,
        };
        let body = encode_layer("lsoa", &[f], 0.0);
        let tile = Tile::decode(&body[..]).unwrap();
        let layer = &tile.layers[0];
        assert_eq!(layer.name, "lsoa");
        assert_eq!(layer.extent, Some(4096));
        assert_eq!(layer.keys, vec!["code".to_owned(), "d_imd".to_owned()]);
        let feature = &layer.features[0];
        assert_eq!(feature.id, Some(7));
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
                let mut properties = Map::new();
                properties.insert("name".into(), json!(format!("{long}{i}")));
                TileFeature {
                    id: u64::from(i),
                    geometry: square(10.0),
                    largest_px: if i < 100 { 1000.0 } else { 2.0 },
                    properties,
                }
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
