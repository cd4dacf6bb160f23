//! Vector tiles for the polygon layers, so the map scales to England: OGC
//! API – Tiles paths
//! `/collections/{lsoa,lsoa-2011,wards,districts}/tiles/WebMercatorQuad/{z}/{x}/{y}`
//! answering Mapbox Vector Tiles 2.1, one layer named after the collection.
//!
//! - [`geometry`]: projection, simplification within half a pixel, clipping
//!   to the tile plus a 64-unit buffer, quantisation (pure functions);
//! - [`layers`]: which areas reach a tile, and their properties;
//! - [`encode`]: MVT encoding (geozero) and the 500 KB size rule.
//!
//! Each tile is encoded once per set of areas, and once for concurrent first
//! requests: the encoded body is kept in the state's tile cache
//! ([`crate::api::AppState::tiles`],
//! [`crate::api::cache::ResponseCache::stored_or_make`], bounded by bytes,
//! emptied when the areas change) under the key
//! `tile/<collection>/<z>/<x>/<y>`, and its strong `ETag` carries the
//! snapshot's areas tag ([`crate::api::Snapshot::areas_tag`]), so
//! `If-None-Match` gets a `304` without any work, also after register writes.
//! Compressed variants are the compression middleware's (and its cache's).

mod encode;
mod geometry;
mod layers;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use serde_json::{json, Value};

use self::geometry::{TileId, MAX_ZOOM};
use self::layers::Layer;
use crate::api::blocking::off_workers;
use crate::api::error::ApiError;
use crate::api::query::{ApiPath, Params};
use crate::api::routes::Routes;
use crate::api::AppState;

/// How long a client may reuse a tile without asking again.
const CACHE_CONTROL: &str = "public, max-age=3600";

/// A tile address in the path, named so that a bad value is reported by name.
/// Each is read by [`tile_index`]: one spelling per tile, so that a tile is
/// never cached (or counted) under several addresses.
#[derive(Debug, serde::Deserialize)]
pub struct TileXyz {
    /// Zoom (tile matrix).
    z: String,
    /// Column.
    x: String,
    /// Row.
    y: String,
}

/// A tile index as a path segment: decimal digits without sign, leading
/// zeros or extension (`0`, `508`; not `+508`, `0508` or `508.pbf`).
fn tile_index(name: &str, value: &str) -> Result<u32, ApiError> {
    let canonical = !value.is_empty()
        && value.len() <= 10
        && value.bytes().all(|b| b.is_ascii_digit())
        && (value == "0" || !value.starts_with('0'));
    canonical.then(|| value.parse().ok()).flatten().ok_or_else(|| {
        ApiError::bad_parameter(
            name,
            "a whole number written with digits only, without sign, leading zeros or file extension \
             (the path is /tiles/WebMercatorQuad/{z}/{x}/{y})",
        )
    })
}

/// Tile routes. Tiles are cut and encoded on the blocking pool
/// ([`off_workers`]): a low-zoom tile of England takes a while the first
/// time.
pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/collections/lsoa/tiles",
            get(|q: Params| async move { tilesets(Layer::Lsoa, &q) }),
        )
        .route(
            "/collections/lsoa/tiles/WebMercatorQuad",
            get(|q: Params| async move { tileset_page(Layer::Lsoa, &q) }),
        )
        .route(
            "/collections/lsoa-2011/tiles",
            get(|q: Params| async move { tilesets(Layer::Lsoa2011, &q) }),
        )
        .route(
            "/collections/lsoa-2011/tiles/WebMercatorQuad",
            get(|q: Params| async move { tileset_page(Layer::Lsoa2011, &q) }),
        )
        .route(
            "/collections/wards/tiles",
            get(|q: Params| async move { tilesets(Layer::Wards, &q) }),
        )
        .route(
            "/collections/wards/tiles/WebMercatorQuad",
            get(|q: Params| async move { tileset_page(Layer::Wards, &q) }),
        )
        .route(
            "/collections/districts/tiles",
            get(|q: Params| async move { tilesets(Layer::Districts, &q) }),
        )
        .route(
            "/collections/districts/tiles/WebMercatorQuad",
            get(|q: Params| async move { tileset_page(Layer::Districts, &q) }),
        )
        .route(
            "/collections/lsoa/tiles/WebMercatorQuad/{z}/{x}/{y}",
            get(
                |s: State<Arc<AppState>>, p: ApiPath<TileXyz>, q: Params, h: HeaderMap| {
                    off_workers(move || tile(&s, p, &q, &h, Layer::Lsoa))
                },
            ),
        )
        .route(
            "/collections/lsoa-2011/tiles/WebMercatorQuad/{z}/{x}/{y}",
            get(
                |s: State<Arc<AppState>>, p: ApiPath<TileXyz>, q: Params, h: HeaderMap| {
                    off_workers(move || tile(&s, p, &q, &h, Layer::Lsoa2011))
                },
            ),
        )
        .route(
            "/collections/wards/tiles/WebMercatorQuad/{z}/{x}/{y}",
            get(
                |s: State<Arc<AppState>>, p: ApiPath<TileXyz>, q: Params, h: HeaderMap| {
                    off_workers(move || tile(&s, p, &q, &h, Layer::Wards))
                },
            ),
        )
        .route(
            "/collections/districts/tiles/WebMercatorQuad/{z}/{x}/{y}",
            get(
                |s: State<Arc<AppState>>, p: ApiPath<TileXyz>, q: Params, h: HeaderMap| {
                    off_workers(move || tile(&s, p, &q, &h, Layer::Districts))
                },
            ),
        )
}

/// How tiles are cut, said on the tileset list and each tileset.
const TILING_NOTE: &str = "Path order is {z}/{x}/{y} (tileMatrix/tileCol/tileRow), as MapLibre and OGC API - Tiles use. \
     Outlines are simplified per zoom to within half a pixel (512 px per tile) and clipped to the tile \
     plus 64 of 4096 units; polygon parts under one square pixel are left out, and a tile that would \
     exceed 500 KB leaves out its smallest features (under 4, 16, 64, ... square pixels) until it fits.";

/// The WebMercatorQuad vector tileset of a layer (OGC API – Tiles
/// "tileset" metadata): its tile template, tiling scheme and layer.
fn tileset(layer: Layer) -> Value {
    let collection = layer.name();
    let page = format!("/collections/{collection}/tiles/WebMercatorQuad");
    let template = format!("{page}/{{tileMatrix}}/{{tileCol}}/{{tileRow}}");
    json!({
        "title": format!("{collection} (Mapbox Vector Tiles)"),
        "dataType": "vector",
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "tileMatrixSetURI": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
        "links": [
            { "rel": "self", "type": "application/json", "href": page },
            { "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", "type": "application/json",
              "href": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad" },
            { "rel": "item", "type": "application/vnd.mapbox-vector-tile", "templated": true,
              "href": template },
        ],
        "layers": [{ "id": collection, "geometryType": "polygons", "minTileMatrix": "0", "maxTileMatrix": MAX_ZOOM.to_string() }],
    })
}

/// `GET /collections/{id}/tiles`: the tileset list (OGC API – Tiles), one
/// WebMercatorQuad vector tileset.
fn tilesets(layer: Layer, params: &Params) -> Result<Json<Value>, ApiError> {
    params.only(&[])?;
    Ok(Json(
        json!({ "tilesets": [tileset(layer)], "note": TILING_NOTE }),
    ))
}

/// `GET /collections/{id}/tiles/WebMercatorQuad`: the tileset itself.
fn tileset_page(layer: Layer, params: &Params) -> Result<Json<Value>, ApiError> {
    params.only(&[])?;
    let mut t = tileset(layer);
    if let Some(o) = t.as_object_mut() {
        o.insert("note".into(), json!(TILING_NOTE));
    }
    Ok(Json(t))
}

/// `GET /collections/{collection}/tiles/WebMercatorQuad/{z}/{x}/{y}`: one
/// vector tile (an empty body where the layer has no feature).
fn tile(
    state: &AppState,
    ApiPath(TileXyz { z, x, y }): ApiPath<TileXyz>,
    params: &Params,
    headers: &HeaderMap,
    layer: Layer,
) -> Result<Response, ApiError> {
    params.only(&[])?;
    let (z, x, y) = (
        tile_index("z", &z)?,
        tile_index("x", &x)?,
        tile_index("y", &y)?,
    );
    let Some(id) = u8::try_from(z).ok().and_then(|z| TileId::new(z, x, y)) else {
        return Err(ApiError::not_found(format!(
            "no tile {z}/{x}/{y} in WebMercatorQuad (zoom 0 to {MAX_ZOOM})"
        )));
    };
    let snapshot = state.snapshot();
    let name = layer.name();
    // Strong: the same areas encode the same bytes. A tile holds only areas,
    // so a register write (a snapshot with the same areas) keeps its tag.
    let tag = snapshot.areas_tag;
    let etag = format!("\"t{tag:x}-{name}-{z}-{x}-{y}\"");
    let etag = HeaderValue::from_str(&etag).map_err(ApiError::internal)?;
    let cache_control = HeaderValue::from_static(CACHE_CONTROL);
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|inm| crate::api::cache::matches(inm, &etag))
    {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::CACHE_CONTROL, cache_control)],
        )
            .into_response());
    }
    let cache = &state.tiles;
    cache.follow(tag);
    let key = format!("tile/{name}/{z}/{x}/{y}");
    // Concurrent first requests for a tile cut it once (single flight).
    let body = cache.stored_or_make(tag, &key, || {
        let keys = layer.keys(&snapshot.atlas);
        let features = layer.features(&snapshot.atlas, &keys, id);
        Bytes::from(encode::encode_within_budget(name, &features).0)
    });
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/vnd.mapbox-vector-tile"),
            ),
            (header::CACHE_CONTROL, cache_control),
            (header::ETAG, etag),
        ],
        body,
    )
        .into_response())
}
