//! The map's layers that cost time in proportion to the region and depend
//! only on the snapshot: built once with it ([`WebLayers::build`], in
//! [`crate::api::Snapshot::build`]) and carried over to the snapshot a
//! register write derives from it when nothing they depend on changed
//! ([`WebLayers::derive`]). Requests only copy the encoded bytes.
//!
//! Measured on England (dev build, loaded machine), per request before:
//! - `/web/api/coverage`: the area each partial-coverage source covers. A
//!   source covering a list of districts covers their union: 1.5–2.2 s.
//!   Built with the snapshot; a derived snapshot shares it unless a
//!   source's coverage or the categories it feeds changed.
//! - `/web/api/labels/{wards,districts}`: an interior point of every
//!   ward's largest part: 0.6 s. Built with the snapshot; derived snapshots
//!   have the same areas, so they share it.
//! - `/web/api/assets`: 30,000 points, 12 MB of JSON: 1.3 s. Built with
//!   the snapshot; a derived snapshot (a register write) builds it on its
//!   first request instead, so that a write is not held up by it.

use std::sync::{Arc, OnceLock};

use axum::body::Bytes;
use geo::{BooleanOps, MultiPolygon, Rect};
use serde_json::{json, Map, Value};

use super::geojson_out::{self, feature};
use crate::atlas::{Atlas, Coverage};

/// The snapshot's prebuilt map layers (encoded GeoJSON FeatureCollections).
#[derive(Debug)]
pub struct WebLayers {
    coverage: Arc<CoverageLayer>,
    /// `/web/api/labels/wards` and `/web/api/labels/districts`.
    labels: Arc<[Option<Bytes>; 2]>,
    /// `/web/api/assets`, built at most once.
    assets: OnceLock<Option<Bytes>>,
}

/// Encodes a layer, logging (and giving `None`) if that fails.
fn encode(what: &str, value: &Value) -> Option<Bytes> {
    match serde_json::to_vec(value) {
        Ok(v) => Some(Bytes::from(v)),
        Err(e) => {
            tracing::error!(error = %e, layer = what, "encoding a map layer");
            None
        }
    }
}

/// `/web/api/coverage`, encoded, with what it was built from.
#[derive(Debug)]
struct CoverageLayer {
    /// Per partial-coverage source, in source order: its coverage and the
    /// feature's properties (what decides whether the body is still right).
    key: Vec<(Coverage, Map<String, Value>)>,
    /// The outline of each coverage in `key` (same order), CRS84.
    outlines: Vec<MultiPolygon<f64>>,
    /// The GeoJSON FeatureCollection, encoded; `None` if encoding failed.
    body: Option<Bytes>,
}

impl WebLayers {
    /// Builds every layer for `atlas`.
    #[must_use]
    pub fn build(atlas: &Atlas) -> Self {
        let label =
            |layer: &str| super::data::labels_of(atlas, layer).and_then(|v| encode("labels", &v));
        let assets = OnceLock::new();
        let _ = assets.set(encode("assets", &super::data::assets_of(atlas)));
        Self {
            coverage: Arc::new(CoverageLayer::build(atlas, None)),
            labels: Arc::new([label("wards"), label("districts")]),
            assets,
        }
    }

    /// The layers for `atlas`, an atlas derived from this one's with other
    /// assets (same areas): a layer whose inputs are unchanged is shared,
    /// and a coverage outline already built is reused.
    #[must_use]
    pub fn derive(&self, atlas: &Atlas) -> Self {
        let key = coverage_key(atlas);
        let coverage = if key == self.coverage.key {
            Arc::clone(&self.coverage)
        } else {
            Arc::new(CoverageLayer::build(atlas, Some(&self.coverage)))
        };
        Self {
            coverage,
            labels: Arc::clone(&self.labels),
            assets: OnceLock::new(),
        }
    }

    /// The body of `GET /web/api/coverage` (a GeoJSON FeatureCollection),
    /// `None` if it could not be encoded.
    #[must_use]
    pub fn coverage_json(&self) -> Option<Bytes> {
        self.coverage.body.clone()
    }

    /// The body of `GET /web/api/labels/wards`.
    #[must_use]
    pub fn ward_labels_json(&self) -> Option<Bytes> {
        self.labels[0].clone()
    }

    /// The body of `GET /web/api/labels/districts`.
    #[must_use]
    pub fn district_labels_json(&self) -> Option<Bytes> {
        self.labels[1].clone()
    }

    /// The body of `GET /web/api/assets` for `atlas` (the snapshot's own
    /// atlas), built on first use: concurrent first requests wait for one
    /// build.
    #[must_use]
    pub fn assets_json(&self, atlas: &Atlas) -> Option<Bytes> {
        self.assets
            .get_or_init(|| encode("assets", &super::data::assets_of(atlas)))
            .clone()
    }
}

/// Each source whose coverage is not a whole country (by code prefix), with
/// the properties of its feature: id, title, coverage description, vintage
/// and the categories it feeds.
fn coverage_key(atlas: &Atlas) -> Vec<(Coverage, Map<String, Value>)> {
    atlas
        .sources
        .iter()
        .enumerate()
        .filter(|(_, s)| !matches!(s.coverage, Coverage::CodePrefix { .. }))
        .map(|(si, s)| {
            let categories: Vec<&str> = atlas
                .categories
                .iter()
                .filter(|c| c.sources.iter().any(|&x| usize::from(x) == si))
                .map(|c| c.id.as_str())
                .collect();
            let mut p = Map::new();
            p.insert("source".into(), json!(s.id));
            p.insert("title".into(), json!(s.title));
            p.insert("description".into(), json!(s.coverage.description()));
            p.insert("vintage".into(), json!(s.vintage));
            p.insert("categories".into(), json!(categories));
            (s.coverage.clone(), p)
        })
        .collect()
}

/// The area a coverage covers, CRS84: a box, or the union of the listed
/// districts that are in the atlas.
fn outline(atlas: &Atlas, coverage: &Coverage) -> MultiPolygon<f64> {
    match coverage {
        Coverage::CodePrefix { .. } => MultiPolygon::new(vec![]),
        Coverage::Bbox { bbox, .. } => {
            MultiPolygon::new(vec![
                Rect::new((bbox[0], bbox[1]), (bbox[2], bbox[3])).to_polygon()
            ])
        }
        Coverage::Districts { codes, .. } => codes
            .iter()
            .filter_map(|c| atlas.district_by_code(c))
            .fold(MultiPolygon::new(vec![]), |acc, (_, d)| {
                acc.union(&d.geometry.lonlat)
            }),
    }
}

impl CoverageLayer {
    fn build(atlas: &Atlas, previous: Option<&CoverageLayer>) -> Self {
        let key = coverage_key(atlas);
        let outlines: Vec<MultiPolygon<f64>> = key
            .iter()
            .map(|(coverage, _)| {
                // The areas are the same in a derived atlas: an outline of
                // the same coverage is the same outline.
                previous
                    .and_then(|p| {
                        p.key
                            .iter()
                            .position(|(c, _)| c == coverage)
                            .and_then(|i| p.outlines.get(i))
                    })
                    .cloned()
                    .unwrap_or_else(|| outline(atlas, coverage))
            })
            .collect();
        let features: Vec<Value> = key
            .iter()
            .zip(&outlines)
            .map(|((_, p), g)| feature(geojson_out::multipolygon(g), p.clone()))
            .collect();
        let body = encode("coverage", &geojson_out::collection(features));
        Self {
            key,
            outlines,
            body,
        }
    }
}
