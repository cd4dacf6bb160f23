//! The precomputed feature model served by OGC API – Features: for each
//! collection, a property schema and, per feature, typed property values (for
//! filtering and for writing the properties), the geometries already written
//! as GeoJSON text (for fast output), and a reference to the geometries
//! themselves (for spatial filters; areas' polygons stay in the atlas).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use geo::{Intersects, MultiPolygon, Point, Rect};

use super::encode;
pub use super::row::{Row, ValueRef};
use crate::atlas::{Crs, District, DualPolygon, Lsoa11, Lsoa21, Ward};

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

/// A property value of one feature: 16 bytes. England's collections hold
/// about 6 M of them, most of them numbers, so text sits behind one thin
/// pointer ([`Text`]) instead of a 16-byte one, which made every value 24
/// bytes (about 30 MB more, against the extra 16 bytes per text value).
#[derive(Debug, Clone, PartialEq)]
pub enum PropValue {
    /// Not published / not applicable.
    Null,
    /// Whole number.
    Int(i64),
    /// Other number.
    Float(f64),
    /// Text.
    Str(Text),
    /// True or false.
    Bool(bool),
    /// Nested JSON, kept as its serialised text.
    Json(Text),
}

/// Immutable text behind a thin (8-byte) pointer; reads as a `str`.
#[derive(Clone, PartialEq, Eq)]
pub struct Text(Box<Box<str>>);

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Self(Box::new(s.into()))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Self(Box::new(s.into_boxed_str()))
    }
}

impl PropValue {
    /// Writes the value as JSON.
    pub fn write_json(&self, out: &mut String) {
        self.as_ref().write_json(out);
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
            serde_json::Value::String(s) => (PropValue::Str(s.as_str().into()), PropType::String),
            other => (PropValue::Json(other.to_string().into()), PropType::Json),
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
        v.map_or(PropValue::Null, |s| PropValue::Str(s.into()))
    }
}

impl From<&str> for PropValue {
    fn from(s: &str) -> Self {
        PropValue::Str(s.into())
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

/// The areas whose polygons a collection's features read: the atlas's own
/// lists (shared, never copied), so that a boundary is held once.
#[derive(Debug, Clone)]
pub enum AreaList {
    /// 2021 LSOAs.
    Lsoa21(Arc<Vec<Lsoa21>>),
    /// 2011 LSOAs.
    Lsoa11(Arc<Vec<Lsoa11>>),
    /// Wards (some without a boundary).
    Wards(Arc<Vec<Ward>>),
    /// Districts.
    Districts(Arc<Vec<District>>),
    /// Saved areas (the snapshot's own list).
    Saved(Arc<Vec<crate::live::areas::PlacedArea>>),
}

impl AreaList {
    /// The polygons of area `i`, when it has them.
    pub fn polygon(&self, i: usize) -> Option<&DualPolygon> {
        match self {
            AreaList::Lsoa21(v) => v.get(i).map(|a| &a.geometry),
            AreaList::Lsoa11(v) => v.get(i).map(|a| &a.geometry),
            AreaList::Wards(v) => v.get(i).and_then(|a| a.geometry.as_ref()),
            AreaList::Districts(v) => v.get(i).map(|a| &a.geometry),
            AreaList::Saved(v) => v.get(i).map(|a| &a.polygon),
        }
    }
}

/// Where a feature's shapes (for spatial filters) are held.
#[derive(Debug, Clone)]
pub enum Shapes {
    /// A point, CRS84 then EPSG:27700 (as small as a reference).
    Point([Point<f64>; 2]),
    /// Area `index` of an atlas list: its polygons in both CRSs.
    Area {
        /// The list (an `Arc` of the atlas's).
        list: AreaList,
        /// Position in it.
        index: u32,
    },
}

/// A feature's shape in one CRS, borrowed from wherever it is held.
#[derive(Debug, Clone, Copy)]
pub enum ShapeRef<'a> {
    /// A point.
    Point(Point<f64>),
    /// An area's polygons.
    MultiPolygon(&'a MultiPolygon<f64>),
}

impl ShapeRef<'_> {
    /// Whether the shape meets a rectangle (interior or boundary).
    pub fn intersects(self, rect: &Rect<f64>) -> bool {
        match self {
            ShapeRef::Point(p) => p.intersects(rect),
            ShapeRef::MultiPolygon(mp) => mp.intersects(rect),
        }
    }
}

/// A feature's geometry in both reference systems: its shapes, bounding
/// boxes, and GeoJSON text written on first use (most features are never
/// asked for one CRS or the other: holding the text of all of them took
/// memory and most of the start-up time), then kept.
#[derive(Debug, Clone)]
pub struct FeatureGeometry {
    /// The shapes, CRS84 then EPSG:27700.
    pub shapes: Shapes,
    /// Bounding boxes, CRS84 then EPSG:27700.
    pub bboxes: [Rect<f64>; 2],
    /// GeoJSON geometry objects, CRS84 then EPSG:27700, once written.
    json: [OnceLock<String>; 2],
}

impl FeatureGeometry {
    /// A geometry of `shapes` with their bounding boxes (CRS84 then
    /// EPSG:27700).
    pub fn new(shapes: Shapes, bboxes: [Rect<f64>; 2]) -> Self {
        Self {
            shapes,
            bboxes,
            json: [OnceLock::new(), OnceLock::new()],
        }
    }

    /// Position of a CRS in the pairs above.
    pub fn slot(crs: Crs) -> usize {
        match crs {
            Crs::Crs84 => 0,
            Crs::Bng => 1,
        }
    }

    /// The shape in the CRS at `slot` ([`FeatureGeometry::slot`]); `None`
    /// for a slot out of range or an area index out of its list.
    pub fn shape(&self, slot: usize) -> Option<ShapeRef<'_>> {
        match &self.shapes {
            Shapes::Point(points) => points.get(slot).copied().map(ShapeRef::Point),
            Shapes::Area { list, index } => {
                let p = list.polygon(*index as usize)?;
                match slot {
                    0 => Some(ShapeRef::MultiPolygon(&p.lonlat)),
                    1 => Some(ShapeRef::MultiPolygon(&p.bng)),
                    _ => None,
                }
            }
        }
    }

    /// The GeoJSON geometry object in the CRS at `slot`, written on the
    /// first call and kept (two threads may both write it; one copy stays).
    pub fn json(&self, slot: usize) -> Option<&str> {
        let cell = self.json.get(slot)?;
        if let Some(text) = cell.get() {
            return Some(text);
        }
        let text = match self.shape(slot)? {
            ShapeRef::Point(p) => encode::point(p),
            ShapeRef::MultiPolygon(mp) => encode::multipolygon(mp),
        };
        Some(cell.get_or_init(|| text))
    }

    /// The length of [`FeatureGeometry::json`] if already written, else a
    /// guess: room to write a page without reallocating.
    pub fn json_len_hint(&self, slot: usize) -> usize {
        self.json
            .get(slot)
            .and_then(OnceLock::get)
            .map_or(512, String::len)
    }
}

/// One feature, ready to write or to test against a filter.
#[derive(Debug, Clone)]
pub struct Feature {
    /// Feature id (area code or asset id).
    pub id: String,
    /// Values, in the order of the collection's [`PropDef`]s, packed
    /// ([`Row`]). The properties object is written from them on demand
    /// (held once).
    pub values: Row,
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

    /// Adds a collection, or replaces the one with the same id.
    pub fn insert(&mut self, collection: Collection) {
        self.insert_shared(Arc::new(collection));
    }

    /// Adds a shared collection, or replaces the one with the same id. The
    /// listing keeps one order however snapshots were derived (a register
    /// write rebuilds the atlas's collections and adds the register after
    /// the carried-over areas): the atlas's collections, then the
    /// register, then the saved areas.
    pub fn insert_shared(&mut self, collection: Arc<Collection>) {
        if let Some(slot) = self
            .by_id
            .get(&collection.id)
            .and_then(|&i| self.collections.get_mut(i))
        {
            *slot = collection;
            return;
        }
        self.collections.push(collection);
        self.collections.sort_by_key(|c| listing_rank(&c.id));
        self.by_id = self
            .collections
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.clone(), i))
            .collect();
    }

    /// The provider serving collection `id`: what the handlers read through.
    pub fn provider(&self, id: &str) -> Option<&dyn super::provider::CollectionProvider> {
        self.collection(id)
            .map(|c| c as &dyn super::provider::CollectionProvider)
    }
}

/// Where a collection is listed: the atlas's first (in the order built),
/// then the live store's.
fn listing_rank(id: &str) -> u8 {
    match id {
        super::register_collection::ID => 1,
        super::areas_collection::ID => 2,
        _ => 0,
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;

    #[test]
    fn a_value_is_16_bytes_and_text_reads_back() {
        assert_eq!(std::mem::size_of::<PropValue>(), 16);
        let t: Text = "Oxford 001A".into();
        assert_eq!(&*t, "Oxford 001A");
        assert_eq!(format!("{t:?}"), "\"Oxford 001A\"");
        assert_eq!(Text::from(String::from("é")), Text::from("é"));
    }
}
