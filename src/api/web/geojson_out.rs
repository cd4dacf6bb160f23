//! Small GeoJSON writers for the map's layers (coordinates rounded to ~1 m).

use geo::{LineString, MultiPolygon, Point, Rect};
use serde_json::{json, Map, Value};

/// Rounds a coordinate to 5 decimal places (about 1 m).
pub fn round5(v: f64) -> f64 {
    (v * 1e5).round() / 1e5
}

fn ring(ls: &LineString<f64>) -> Value {
    Value::Array(
        ls.coords()
            .map(|c| json!([round5(c.x), round5(c.y)]))
            .collect(),
    )
}

/// A GeoJSON MultiPolygon geometry.
pub fn multipolygon(mp: &MultiPolygon<f64>) -> Value {
    let polys: Vec<Value> = mp
        .iter()
        .map(|p| {
            let mut rings = vec![ring(p.exterior())];
            rings.extend(p.interiors().iter().map(ring));
            Value::Array(rings)
        })
        .collect();
    json!({ "type": "MultiPolygon", "coordinates": polys })
}

/// A GeoJSON Point geometry.
pub fn point(p: Point<f64>) -> Value {
    json!({ "type": "Point", "coordinates": [round5(p.x()), round5(p.y())] })
}

/// A bbox as `[min_lon, min_lat, max_lon, max_lat]`.
pub fn bbox(r: Rect<f64>) -> Value {
    json!([
        round5(r.min().x),
        round5(r.min().y),
        round5(r.max().x),
        round5(r.max().y)
    ])
}

/// A feature.
pub fn feature(geometry: Value, properties: Map<String, Value>) -> Value {
    let mut f = Map::new();
    f.insert("type".into(), Value::from("Feature"));
    f.insert("geometry".into(), geometry);
    f.insert("properties".into(), Value::Object(properties));
    Value::Object(f)
}

/// A feature collection.
pub fn collection(features: Vec<Value>) -> Value {
    let mut c = Map::new();
    c.insert("type".into(), Value::from("FeatureCollection"));
    c.insert("features".into(), Value::Array(features));
    Value::Object(c)
}
