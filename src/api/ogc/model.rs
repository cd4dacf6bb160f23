//! The precomputed feature model served by OGC API – Features: for each
//! collection, a property schema and, per feature, typed property values (for
//! filtering), the properties and geometries already written as GeoJSON text
//! (for fast output), and the geometries themselves (for spatial filters).

use std::collections::HashMap;
use std::sync::Arc;

use geo::{Geometry, Rect};

use super::encode;
use crate::atlas::Crs;

/// The type of a property, as queryables and filters see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropType {
    /// Whole number.
    Integer,
    /// Any number.
    Number,
    /// Text.
    String,
    /// True or false.
    Boolean,
    /// A nested JSON value (object or array): shown, not queryable.
    Json,
}

impl PropType {
    /// The JSON Schema type name.
    pub fn json_schema(self) -> &'static str {
        match self {
            PropType::Integer => "integer",
            PropType::Number => "number",
            PropType::String => "string",
            PropType::Boolean => "boolean",
            PropType::Json => "object",
        }
    }
}

/// A property value of one feature.
#[derive(Debug, Clone, PartialEq)]
pub enum PropValue {
    /// Not published / not applicable.
    Null,
    /// Whole number.
    Int(i64),
    /// Other number.
    Float(f64),
    /// Text.
    Str(String),
    /// True or false.
    Bool(bool),
    /// Nested JSON, kept as its serialised text.
    Json(String),
}

impl PropValue {
    /// Writes the value as JSON.
    pub fn write_json(&self, out: &mut String) {
        match self {
            PropValue::Null => out.push_str("null"),
            PropValue::Int(i) => encode::push_int(out, *i),
            PropValue::Float(f) => encode::push_f64(out, *f),
            PropValue::Str(s) => encode::push_str(out, s),
            PropValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            PropValue::Json(j) => out.push_str(j),
        }
    }

    /// Converts a JSON value (from the planner's roll-ups) to a property value.
    pub fn from_json(v: &serde_json::Value) -> (PropValue, PropType) {
        match v {
            serde_json::Value::Null => (PropValue::Null, PropType::Number),
            serde_json::Value::Bool(b) => (PropValue::Bool(*b), PropType::Boolean),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => (PropValue::Int(i), PropType::Integer),
                None => (
                    PropValue::Float(n.as_f64().unwrap_or(f64::NAN)),
                    PropType::Number,
                ),
            },
            serde_json::Value::String(s) => (PropValue::Str(s.clone()), PropType::String),
            other => (PropValue::Json(other.to_string()), PropType::Json),
        }
    }
}

impl From<Option<u32>> for PropValue {
    fn from(v: Option<u32>) -> Self {
        v.map_or(PropValue::Null, |x| PropValue::Int(i64::from(x)))
    }
}

impl From<Option<u8>> for PropValue {
    fn from(v: Option<u8>) -> Self {
        v.map_or(PropValue::Null, |x| PropValue::Int(i64::from(x)))
    }
}

impl From<Option<f64>> for PropValue {
    fn from(v: Option<f64>) -> Self {
        match v {
            Some(x) if x.is_finite() => PropValue::Float(x),
            _ => PropValue::Null,
        }
    }
}

impl From<Option<&str>> for PropValue {
    fn from(v: Option<&str>) -> Self {
        v.map_or(PropValue::Null, |s| PropValue::Str(s.to_owned()))
    }
}

impl From<&str> for PropValue {
    fn from(s: &str) -> Self {
        PropValue::Str(s.to_owned())
    }
}

/// One property of a collection.
#[derive(Debug, Clone)]
pub struct PropDef {
    /// Name, as in GeoJSON `properties` and in filters.
    pub name: String,
    /// Type.
    pub kind: PropType,
    /// Title for people.
    pub title: String,
}

/// A feature's geometry in both reference systems, with its GeoJSON text.
#[derive(Debug, Clone)]
pub struct FeatureGeometry {
    /// CRS84 then EPSG:27700.
    pub shapes: [Geometry<f64>; 2],
    /// Bounding boxes, CRS84 then EPSG:27700.
    pub bboxes: [Rect<f64>; 2],
    /// GeoJSON geometry objects, CRS84 then EPSG:27700.
    pub json: [String; 2],
}

impl FeatureGeometry {
    /// Position of a CRS in the pairs above.
    pub fn slot(crs: Crs) -> usize {
        match crs {
            Crs::Crs84 => 0,
            Crs::Bng => 1,
        }
    }
}

/// One feature, ready to write or to test against a filter.
#[derive(Debug, Clone)]
pub struct Feature {
    /// Feature id (area code or asset id).
    pub id: String,
    /// Values, in the order of the collection's [`PropDef`]s.
    pub values: Vec<PropValue>,
    /// All properties written as one JSON object.
    pub properties_json: String,
    /// Geometry; `None` for the few wards without a published boundary.
    /// Shared (`Arc`) between the collections of successive snapshots when
    /// the feature's geometry did not change (see `build::rebuild`).
    pub geometry: Option<Arc<FeatureGeometry>>,
}

/// Provenance of a dataset a collection is built from: the same record the
/// atlas definition declares for each source.
pub use crate::config::Provenance;

/// A served collection.
#[derive(Debug, Clone)]
pub struct Collection {
    /// Identifier in URLs.
    pub id: String,
    /// Title.
    pub title: String,
    /// Description (including vintage and attribution).
    pub description: String,
    /// The datasets the collection is built from.
    pub provenance: Vec<Provenance>,
    /// Property schema.
    pub props: Vec<PropDef>,
    /// Features, in id order.
    pub features: Vec<Feature>,
    /// Feature id → position.
    pub by_id: HashMap<String, usize>,
    /// Extent in CRS84, `None` when the collection is empty.
    pub extent: Option<Rect<f64>>,
    /// Geometry type of the features.
    pub geometry_type: &'static str,
    /// Properties holding each feature's first and last day (`YYYY-MM-DD`),
    /// which `datetime` selects on; `None` when features are not dated.
    pub temporal: Option<(usize, usize)>,
}

impl Collection {
    /// Position of a property.
    pub fn prop(&self, name: &str) -> Option<usize> {
        self.props.iter().position(|p| p.name == name)
    }

    /// The combined attribution line.
    pub fn attribution(&self) -> String {
        let mut lines: Vec<&str> = Vec::new();
        for p in &self.provenance {
            if !lines.contains(&p.attribution.as_str()) {
                lines.push(&p.attribution);
            }
        }
        lines.join(" ")
    }
}

/// Everything OGC API – Features serves, built once from the atlas.
#[derive(Debug)]
pub struct OgcState {
    /// Collections, in the order listed. Shared (`Arc`) with the snapshots
    /// that `build::rebuild` derives, for those that did not change.
    pub collections: Vec<Arc<Collection>>,
    /// Collection id → position.
    pub by_id: HashMap<String, usize>,
    /// Every data source, for the landing page.
    pub sources: Vec<Provenance>,
    /// Region name.
    pub region: String,
    /// The snapshot's tag: cached ETags from an earlier snapshot never match.
    pub startup_tag: u64,
}

impl OgcState {
    /// Collection by id.
    pub fn collection(&self, id: &str) -> Option<&Collection> {
        self.collections.get(*self.by_id.get(id)?).map(Arc::as_ref)
    }

    /// The provider serving collection `id`: what the handlers read through.
    pub fn provider(&self, id: &str) -> Option<&dyn super::provider::CollectionProvider> {
        self.collection(id)
            .map(|c| c as &dyn super::provider::CollectionProvider)
    }
}
