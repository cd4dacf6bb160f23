//! Vector tiles for the polygon layers, so the map scales to England:
//! OGC API – Tiles paths `/collections/{lsoa,wards,districts}/tiles/WebMercatorQuad/{z}/{x}/{y}`
//! answering Mapbox Vector Tiles 2.1 (a small hand-written protobuf encoder;
//! geometry is quantised to the tile grid, not clipped: renderers accept
//! coordinates beyond the extent).

use std::collections::HashMap;
use std::f64::consts::PI;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use geo::{MultiPolygon, Rect};
use serde_json::{json, Value};

use super::data::insert_choropleth_values;
use crate::api::blocking::off_workers;
use crate::api::error::ApiError;
use crate::api::query::{ApiPath, Params};
use crate::api::routes::Routes;
use crate::api::Snap;
use crate::atlas::{Atlas, Crs};

/// Tile extent (grid cells per tile side).
const EXTENT: u32 = 4096;
/// Deepest zoom level served.
const MAX_ZOOM: u8 = 18;

/// A tile address in the path, named so that a bad value is reported by name.
#[derive(Debug, serde::Deserialize)]
pub struct TileXyz {
    /// Zoom (tile matrix).
    z: u8,
    /// Column.
    x: u32,
    /// Row, optionally with `.mvt` or `.pbf`.
    y: String,
}

/// Tile routes. Tiles are cut and encoded on the blocking pool
/// ([`off_workers`]): a low-zoom tile of England takes a while.
pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/collections/lsoa/tiles",
            get(|q: Params| async move { tilesets("lsoa", &q) }),
        )
        .route(
            "/collections/wards/tiles",
            get(|q: Params| async move { tilesets("wards", &q) }),
        )
        .route(
            "/collections/districts/tiles",
            get(|q: Params| async move { tilesets("districts", &q) }),
        )
        .route(
            "/collections/lsoa/tiles/WebMercatorQuad/{z}/{x}/{y}",
            get(|s: Snap, p: ApiPath<TileXyz>, q: Params| {
                off_workers(move || tile(s, p, &q, "lsoa"))
            }),
        )
        .route(
            "/collections/wards/tiles/WebMercatorQuad/{z}/{x}/{y}",
            get(|s: Snap, p: ApiPath<TileXyz>, q: Params| {
                off_workers(move || tile(s, p, &q, "wards"))
            }),
        )
        .route(
            "/collections/districts/tiles/WebMercatorQuad/{z}/{x}/{y}",
            get(|s: Snap, p: ApiPath<TileXyz>, q: Params| {
                off_workers(move || tile(s, p, &q, "districts"))
            }),
        )
}

/// `GET /collections/{id}/tiles`: the tileset list (OGC API – Tiles), one
/// WebMercatorQuad vector tileset.
fn tilesets(collection: &'static str, params: &Params) -> Result<Json<Value>, ApiError> {
    params.only(&[])?;
    let template = format!(
        "/collections/{collection}/tiles/WebMercatorQuad/{{tileMatrix}}/{{tileCol}}/{{tileRow}}"
    );
    Ok(Json(json!({
        "tilesets": [{
            "title": format!("{collection} (Mapbox Vector Tiles)"),
            "dataType": "vector",
            "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
            "tileMatrixSetURI": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
            "links": [
                { "rel": "item", "type": "application/vnd.mapbox-vector-tile", "templated": true,
                  "href": template },
            ],
            "layers": [{ "id": collection, "geometryType": "polygons", "minTileMatrix": "0", "maxTileMatrix": MAX_ZOOM.to_string() }],
        }],
        "note": "Path order is {z}/{x}/{y} (tileMatrix/tileCol/tileRow), as MapLibre and OGC API - Tiles use.",
    })))
}

/// Longitude/latitude bounds of a tile.
fn tile_bounds(z: u8, x: u32, y: u32) -> Rect<f64> {
    let n = f64::from(1u32 << z);
    let lon = |x: f64| x / n * 360.0 - 180.0;
    let lat = |y: f64| (PI * (1.0 - 2.0 * y / n)).sinh().atan().to_degrees();
    Rect::new(
        (lon(f64::from(x)), lat(f64::from(y) + 1.0)),
        (lon(f64::from(x) + 1.0), lat(f64::from(y))),
    )
}

/// Projects lon/lat to tile grid coordinates.
#[allow(clippy::cast_possible_truncation)] // values are bounded by the ring's extent around the tile
fn to_tile(lon: f64, lat: f64, z: u8, x: u32, y: u32) -> (i32, i32) {
    let n = f64::from(1u32 << z);
    let lat = lat.clamp(-85.051_128, 85.051_128).to_radians();
    let wx = (lon + 180.0) / 360.0 * n;
    let wy = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / PI) / 2.0 * n;
    let e = f64::from(EXTENT);
    (
        ((wx - f64::from(x)) * e).round() as i32,
        ((wy - f64::from(y)) * e).round() as i32,
    )
}

// ------------------------------------------------------------- protobuf

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(u8::try_from(v & 0x7f).unwrap_or(0) | 0x80);
        v >>= 7;
    }
    out.push(u8::try_from(v).unwrap_or(0));
}

fn key(out: &mut Vec<u8>, field: u32, wire: u32) {
    varint(out, u64::from((field << 3) | wire));
}

fn bytes_field(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    key(out, field, 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn packed_u32(out: &mut Vec<u8>, field: u32, values: &[u32]) {
    let mut buf = Vec::with_capacity(values.len() * 2);
    for &v in values {
        varint(&mut buf, u64::from(v));
    }
    bytes_field(out, field, &buf);
}

fn zigzag(v: i32) -> u32 {
    // The classic (n << 1) ^ (n >> 31), written without sign-changing casts.
    let n = i64::from(v);
    u32::try_from((n << 1) ^ (n >> 63)).unwrap_or(0)
}

/// A property value in a tile.
#[derive(Debug, Clone, PartialEq)]
enum TileValue {
    Text(String),
    Number(f64),
    Int(i64),
}

impl TileValue {
    fn key(&self) -> String {
        match self {
            TileValue::Text(s) => format!("s:{s}"),
            TileValue::Number(f) => format!("f:{f}"),
            TileValue::Int(i) => format!("i:{i}"),
        }
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            TileValue::Text(s) => bytes_field(&mut out, 1, s.as_bytes()),
            TileValue::Number(f) => {
                key(&mut out, 3, 1);
                out.extend_from_slice(&f.to_le_bytes());
            }
            TileValue::Int(i) => {
                key(&mut out, 6, 0);
                let n = *i;
                varint(&mut out, u64::try_from((n << 1) ^ (n >> 63)).unwrap_or(0));
            }
        }
        out
    }

    fn from_json(v: &Value) -> Option<Self> {
        match v {
            Value::String(s) => Some(TileValue::Text(s.clone())),
            Value::Number(n) => n
                .as_i64()
                .map(TileValue::Int)
                .or_else(|| n.as_f64().map(TileValue::Number)),
            Value::Bool(b) => Some(TileValue::Int(i64::from(*b))),
            _ => None,
        }
    }
}

/// Builds one MVT layer.
struct LayerBuilder {
    name: String,
    keys: Vec<String>,
    key_index: HashMap<String, u32>,
    values: Vec<TileValue>,
    value_index: HashMap<String, u32>,
    features: Vec<Vec<u8>>,
}

impl LayerBuilder {
    fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            keys: Vec::new(),
            key_index: HashMap::new(),
            values: Vec::new(),
            value_index: HashMap::new(),
            features: Vec::new(),
        }
    }

    fn tag(&mut self, k: &str, v: TileValue) -> (u32, u32) {
        let next_key = u32::try_from(self.keys.len()).unwrap_or(u32::MAX);
        let ki = *self.key_index.entry(k.to_owned()).or_insert_with(|| {
            self.keys.push(k.to_owned());
            next_key
        });
        let vk = v.key();
        let next_value = u32::try_from(self.values.len()).unwrap_or(u32::MAX);
        let vi = *self.value_index.entry(vk).or_insert_with(|| {
            self.values.push(v);
            next_value
        });
        (ki, vi)
    }

    fn add_polygon(
        &mut self,
        id: u64,
        geometry: &[u32],
        properties: &serde_json::Map<String, Value>,
    ) {
        if geometry.is_empty() {
            return;
        }
        let mut tags = Vec::new();
        for (k, v) in properties {
            if let Some(tv) = TileValue::from_json(v) {
                let (ki, vi) = self.tag(k, tv);
                tags.push(ki);
                tags.push(vi);
            }
        }
        let mut f = Vec::new();
        key(&mut f, 1, 0);
        varint(&mut f, id);
        packed_u32(&mut f, 2, &tags);
        key(&mut f, 3, 0);
        varint(&mut f, 3); // POLYGON
        packed_u32(&mut f, 4, geometry);
        self.features.push(f);
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        key(&mut out, 15, 0);
        varint(&mut out, 2);
        bytes_field(&mut out, 1, self.name.as_bytes());
        for f in &self.features {
            bytes_field(&mut out, 2, f);
        }
        for k in &self.keys {
            bytes_field(&mut out, 3, k.as_bytes());
        }
        for v in &self.values {
            bytes_field(&mut out, 4, &v.encode());
        }
        key(&mut out, 5, 0);
        varint(&mut out, u64::from(EXTENT));
        out
    }
}

/// Twice the signed area of a ring (positive = clockwise with y down, an exterior ring in MVT).
fn ring_area2(ring: &[(i32, i32)]) -> i64 {
    let mut a = 0i64;
    for w in ring.windows(2) {
        a += i64::from(w[0].0) * i64::from(w[1].1) - i64::from(w[1].0) * i64::from(w[0].1);
    }
    a
}

/// Encodes a multipolygon as MVT geometry commands in tile coordinates.
fn encode_polygon(mp: &MultiPolygon<f64>, z: u8, x: u32, y: u32) -> Vec<u32> {
    let mut cmds = Vec::new();
    let mut cursor = (0i32, 0i32);
    for poly in mp {
        let rings = std::iter::once(poly.exterior()).chain(poly.interiors());
        for (ri, ring) in rings.enumerate() {
            let mut pts: Vec<(i32, i32)> = Vec::with_capacity(ring.0.len());
            for c in ring.coords() {
                let p = to_tile(c.x, c.y, z, x, y);
                if pts.last() != Some(&p) {
                    pts.push(p);
                }
            }
            if pts.len() > 1 && pts.first() == pts.last() {
                pts.pop();
            }
            if pts.len() < 3 {
                if ri == 0 {
                    break; // the exterior collapsed: skip the polygon
                }
                continue;
            }
            let mut closed = pts.clone();
            closed.push(pts[0]);
            let area = ring_area2(&closed);
            if area == 0 {
                if ri == 0 {
                    break;
                }
                continue;
            }
            if (ri == 0) != (area > 0) {
                pts.reverse();
            }
            cmds.push(1 | (1 << 3)); // MoveTo, 1
            cmds.push(zigzag(pts[0].0 - cursor.0));
            cmds.push(zigzag(pts[0].1 - cursor.1));
            cursor = pts[0];
            let n = u32::try_from(pts.len() - 1).unwrap_or(0);
            cmds.push(2 | (n << 3)); // LineTo, n
            for p in &pts[1..] {
                cmds.push(zigzag(p.0 - cursor.0));
                cmds.push(zigzag(p.1 - cursor.1));
                cursor = *p;
            }
            cmds.push(7 | (1 << 3)); // ClosePath
        }
    }
    cmds
}

/// Properties of an LSOA in tiles: the same as the GeoJSON layer's.
fn lsoa_properties(atlas: &Atlas, i: usize) -> serde_json::Map<String, Value> {
    let mut p = serde_json::Map::new();
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
    p
}

/// `GET /collections/{collection}/tiles/WebMercatorQuad/{z}/{x}/{y}`: one vector tile.
fn tile(
    Snap(state): Snap,
    ApiPath(TileXyz { z, x, y }): ApiPath<TileXyz>,
    params: &Params,
    collection: &'static str,
) -> Result<Response, ApiError> {
    params.only(&[])?;
    let y: u32 = y
        .trim_end_matches(".mvt")
        .trim_end_matches(".pbf")
        .parse()
        .map_err(|_| ApiError::bad_parameter("y", "a tile row, a whole number 0 or more"))?;
    if z > MAX_ZOOM || x >= (1u32 << z) || y >= (1u32 << z) {
        return Err(ApiError::not_found(format!(
            "no tile {z}/{x}/{y} in WebMercatorQuad (zoom 0 to {MAX_ZOOM})"
        )));
    }
    let atlas = &state.atlas;
    let bounds = tile_bounds(z, x, y);
    // A small buffer so outlines continue across tile edges.
    let pad = (bounds.max().x - bounds.min().x) * 16.0 / f64::from(EXTENT);
    let query = Rect::new(
        (bounds.min().x - pad, bounds.min().y - pad),
        (bounds.max().x + pad, bounds.max().y + pad),
    );
    let mut layer = LayerBuilder::new(collection);
    match collection {
        "lsoa" => {
            let hits = atlas.indexes.lsoa21.intersecting(query, Crs::Crs84, |i| {
                atlas.lsoa21.get(i as usize).map(|l| &l.geometry)
            });
            for i in hits {
                if let Some(l) = atlas.lsoa21.get(i as usize) {
                    let g = encode_polygon(&l.geometry.lonlat, z, x, y);
                    layer.add_polygon(u64::from(i), &g, &lsoa_properties(atlas, i as usize));
                }
            }
        }
        "wards" => {
            let hits = atlas.indexes.wards.intersecting(query, Crs::Crs84, |i| {
                atlas
                    .wards
                    .get(i as usize)
                    .and_then(|w| w.geometry.as_ref())
            });
            for i in hits {
                if let Some((w, g)) = atlas
                    .wards
                    .get(i as usize)
                    .and_then(|w| Some((w, w.geometry.as_ref()?)))
                {
                    let mut p = serde_json::Map::new();
                    p.insert("code".into(), json!(w.code));
                    p.insert("name".into(), json!(w.name));
                    layer.add_polygon(u64::from(i), &encode_polygon(&g.lonlat, z, x, y), &p);
                }
            }
        }
        _ => {
            let hits = atlas
                .indexes
                .districts
                .intersecting(query, Crs::Crs84, |i| {
                    atlas.districts.get(i as usize).map(|d| &d.geometry)
                });
            for i in hits {
                if let Some(d) = atlas.districts.get(i as usize) {
                    let mut p = serde_json::Map::new();
                    p.insert("code".into(), json!(d.code));
                    p.insert("name".into(), json!(d.name));
                    layer.add_polygon(
                        u64::from(i),
                        &encode_polygon(&d.geometry.lonlat, z, x, y),
                        &p,
                    );
                }
            }
        }
    }
    let mut body = Vec::new();
    if !layer.features.is_empty() {
        bytes_field(&mut body, 3, &layer.encode());
    }
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.mapbox-vector-tile"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, MultiPolygon};

    #[test]
    fn varint_and_zigzag_match_the_protobuf_spec() {
        let mut v = Vec::new();
        varint(&mut v, 300);
        assert_eq!(v, vec![0xac, 0x02]);
        assert_eq!(zigzag(0), 0);
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
        assert_eq!(zigzag(-2), 3);
    }

    #[test]
    fn polygon_commands_are_clockwise_and_closed() {
        // A square covering the tile 0/0/0's north-west quarter-ish.
        let mp = MultiPolygon::new(vec![polygon![
            (x: -90.0, y: 0.0), (x: 0.0, y: 0.0), (x: 0.0, y: 60.0), (x: -90.0, y: 60.0), (x: -90.0, y: 0.0),
        ]]);
        let g = encode_polygon(&mp, 0, 0, 0);
        assert_eq!(g[0], 9); // MoveTo 1
        assert_eq!(g[3], 2 | (3 << 3)); // LineTo 3
        assert_eq!(*g.last().unwrap_or(&0), 15); // ClosePath
    }

    #[test]
    fn tile_bounds_of_the_world() {
        let b = tile_bounds(0, 0, 0);
        assert!((b.min().x + 180.0).abs() < 1e-9 && (b.max().x - 180.0).abs() < 1e-9);
        assert!((b.max().y - 85.051_128).abs() < 1e-3);
    }
}
