//! The GeoJSON backend, with `serde_json`.
//!
//! The whole feature collection is parsed once, but each geometry is kept as
//! the span of its raw JSON text in the file and only turned into
//! coordinates when a reader asks for it: a region's load keeps a few hundred
//! of England's 33,755 LSOAs and never parses the others' coordinates, and
//! no geometry text is copied.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::path::Path;

use geo::{Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};
use serde::de::{self, Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::Cells;
use crate::sources::error::SourceError;

/// A parsed GeoJSON feature collection.
pub(super) struct FeatureCollection {
    text: Vec<u8>,
    crs: Option<String>,
    features: Vec<Feature>,
}

/// One feature: its properties, and where its geometry's JSON is in the file.
pub(super) struct Feature {
    properties: Map<String, Value>,
    geometry: Option<Range<usize>>,
}

/// A feature with the file text its geometry span points into.
#[derive(Clone, Copy)]
pub(super) struct FeatureRef<'a> {
    feature: &'a Feature,
    text: &'a [u8],
}

#[derive(Deserialize)]
struct Document<'a> {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    crs: Option<CrsMember>,
    #[serde(default, borrow)]
    features: Vec<FeatureDocument<'a>>,
}

#[derive(Deserialize)]
struct CrsMember {
    #[serde(default)]
    properties: Option<CrsProperties>,
}

#[derive(Deserialize)]
struct CrsProperties {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct FeatureDocument<'a> {
    #[serde(default)]
    properties: Option<Map<String, Value>>,
    #[serde(default, borrow)]
    geometry: Option<&'a RawValue>,
}

/// Where `inner` (a slice of `outer`) starts and ends in `outer`.
fn span_in(outer: &[u8], inner: &str) -> Option<Range<usize>> {
    let start = (inner.as_ptr() as usize).checked_sub(outer.as_ptr() as usize)?;
    let range = start..start + inner.len();
    (range.end <= outer.len()).then_some(range)
}

impl FeatureCollection {
    /// Parses a GeoJSON file; `Ok(None)` when it is valid JSON but not a
    /// `FeatureCollection` (GDAL then reads it, as it reads other shapes of
    /// GeoJSON).
    pub(super) fn open(path: &Path) -> Result<Option<Self>, SourceError> {
        let text = std::fs::read(path).map_err(|e| SourceError::Open {
            file: path.to_owned(),
            layer: None,
            message: e.to_string(),
        })?;
        let doc: Document<'_> = serde_json::from_slice(&text).map_err(|e| SourceError::Open {
            file: path.to_owned(),
            layer: None,
            // serde_json's message gives the line and column.
            message: if e.is_eof() {
                format!("invalid GeoJSON: {e}: the file ends before the document does; it looks truncated")
            } else {
                format!("invalid GeoJSON: {e}")
            },
        })?;
        if doc.kind != "FeatureCollection" {
            return Ok(None);
        }
        let crs = doc.crs.and_then(|c| c.properties).and_then(|p| p.name);
        let features = doc
            .features
            .into_iter()
            .map(|f| Feature {
                properties: f.properties.unwrap_or_default(),
                geometry: f.geometry.and_then(|g| span_in(&text, g.get())),
            })
            .collect();
        Ok(Some(Self {
            text,
            crs,
            features,
        }))
    }

    /// The name in the (pre-RFC 7946) `crs` member, e.g.
    /// `urn:ogc:def:crs:EPSG::27700`.
    pub(super) fn crs_name(&self) -> Option<&str> {
        self.crs.as_deref()
    }

    /// Property names, in order of first appearance across features.
    pub(super) fn columns(&self) -> Vec<String> {
        let mut columns: Vec<String> = Vec::new();
        for f in &self.features {
            for key in f.properties.keys() {
                if !columns.iter().any(|c| c == key) {
                    columns.push(key.clone());
                }
            }
        }
        columns
    }

    pub(super) fn for_each(
        &self,
        visit: &mut dyn FnMut(Cells<'_>) -> Result<(), SourceError>,
    ) -> Result<(), SourceError> {
        for feature in &self.features {
            visit(Cells::GeoJson(FeatureRef {
                feature,
                text: &self.text,
            }))?;
        }
        Ok(())
    }
}

impl<'a> FeatureRef<'a> {
    /// A property as text: strings as they are, numbers and booleans
    /// written out, nested values as JSON; `None` for null or absent.
    pub(super) fn property_text(&self, name: &str) -> Option<Cow<'a, str>> {
        match self.feature.properties.get(name)? {
            Value::Null => None,
            Value::String(s) => Some(Cow::Borrowed(s.as_str())),
            Value::Number(n) => Some(Cow::Owned(n.to_string())),
            Value::Bool(b) => Some(Cow::Owned(b.to_string())),
            other => Some(Cow::Owned(other.to_string())),
        }
    }

    /// The parsed geometry; `None` when null. Rings that were not closed
    /// are closed, and each is named in `open_rings` (e.g. "polygon 1,
    /// ring 2").
    pub(super) fn geometry(
        &self,
        open_rings: &mut Vec<String>,
    ) -> Result<Option<Geometry<f64>>, String> {
        let Some(span) = self.feature.geometry.clone() else {
            return Ok(None);
        };
        let raw: &RawValue = self
            .text
            .get(span)
            .map(serde_json::from_slice)
            .ok_or("geometry outside the file")?
            .map_err(|e| e.to_string())?;
        parse_geometry(raw, open_rings).map_err(|e| e.to_string())
    }
}

#[derive(Deserialize)]
struct GeometryDocument<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    coordinates: Option<&'a RawValue>,
    #[serde(default, borrow)]
    geometries: Option<Vec<&'a RawValue>>,
}

/// Parses a GeoJSON geometry object; `None` for an empty one. Polygon rings
/// whose last position is not their first are closed (as `geo` does) and
/// noted in `open_rings`, so that the repair can be reported.
fn parse_geometry(
    raw: &RawValue,
    open_rings: &mut Vec<String>,
) -> Result<Option<Geometry<f64>>, serde_json::Error> {
    let doc: GeometryDocument<'_> = serde_json::from_str(raw.get())?;
    if doc.kind == "GeometryCollection" {
        let mut parts = Vec::new();
        for g in doc.geometries.unwrap_or_default() {
            parts.extend(parse_geometry(g, open_rings)?);
        }
        return Ok((!parts.is_empty()).then(|| Geometry::GeometryCollection(parts.into())));
    }
    let Some(coords) = doc.coordinates else {
        return Err(de::Error::missing_field("coordinates"));
    };
    let text = coords.get();
    let geometry = match doc.kind.as_ref() {
        "Point" => {
            // An empty point is `[]`; anything else needs two numbers.
            let xy: Vec<f64> = serde_json::from_str(text)?;
            match xy.as_slice() {
                [] => None,
                [x, y, ..] => Some(Geometry::Point(Point::new(*x, *y))),
                [_] => return Err(de::Error::invalid_length(1, &"a position of two numbers")),
            }
        }
        "MultiPoint" => {
            let ps: Vec<Position> = serde_json::from_str(text)?;
            (!ps.is_empty()).then(|| {
                Geometry::MultiPoint(MultiPoint(ps.into_iter().map(|p| Point(p.0)).collect()))
            })
        }
        "LineString" => {
            let ps: Vec<Position> = serde_json::from_str(text)?;
            (!ps.is_empty()).then(|| Geometry::LineString(line(ps)))
        }
        "MultiLineString" => {
            let ls: Vec<Vec<Position>> = serde_json::from_str(text)?;
            (!ls.is_empty()).then(|| {
                Geometry::MultiLineString(MultiLineString(ls.into_iter().map(line).collect()))
            })
        }
        "Polygon" => {
            let rings: Vec<Vec<Position>> = serde_json::from_str(text)?;
            note_open_rings(0, &rings, open_rings);
            polygon(rings).map(Geometry::Polygon)
        }
        "MultiPolygon" => {
            let polygons: Vec<Vec<Vec<Position>>> = serde_json::from_str(text)?;
            for (i, rings) in polygons.iter().enumerate() {
                note_open_rings(i, rings, open_rings);
            }
            let parts: Vec<Polygon<f64>> = polygons.into_iter().filter_map(polygon).collect();
            (!parts.is_empty()).then_some(Geometry::MultiPolygon(MultiPolygon(parts)))
        }
        other => {
            return Err(de::Error::unknown_variant(
                other,
                &[
                    "Point",
                    "MultiPoint",
                    "LineString",
                    "MultiLineString",
                    "Polygon",
                    "MultiPolygon",
                    "GeometryCollection",
                ],
            ))
        }
    };
    Ok(geometry)
}

fn line(positions: Vec<Position>) -> LineString<f64> {
    LineString(positions.into_iter().map(|p| p.0).collect())
}

/// Names the rings of polygon `index` (0-based) that are not closed.
fn note_open_rings(index: usize, rings: &[Vec<Position>], open_rings: &mut Vec<String>) {
    for (r, ring) in rings.iter().enumerate() {
        if let (Some(first), Some(last)) = (ring.first(), ring.last()) {
            if first.0 != last.0 {
                open_rings.push(format!("polygon {}, ring {}", index + 1, r + 1));
            }
        }
    }
}

fn polygon(rings: Vec<Vec<Position>>) -> Option<Polygon<f64>> {
    let mut rings = rings.into_iter().map(line);
    let exterior = rings.next().filter(|r| !r.0.is_empty())?;
    Some(Polygon::new(exterior, rings.collect()))
}

/// A GeoJSON position: longitude/easting and latitude/northing; any third
/// (height) or further value is read and ignored.
struct Position(Coord<f64>);

impl<'de> Deserialize<'de> for Position {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PositionVisitor;
        impl<'de> Visitor<'de> for PositionVisitor {
            type Value = Position;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a position: an array of at least two numbers")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Position, A::Error> {
                let x: f64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let y: f64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Position(Coord { x, y }))
            }
        }
        deserializer.deserialize_seq(PositionVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_geometry;
    use geo::Geometry;
    use serde_json::value::RawValue;

    fn parse(text: &str) -> Result<Option<Geometry<f64>>, serde_json::Error> {
        let raw: Box<RawValue> = serde_json::from_str(text)?;
        parse_geometry(&raw, &mut Vec::new())
    }

    #[test]
    fn open_rings_are_closed_and_named() {
        let raw: Box<RawValue> = serde_json::from_str(
            r#"{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[5,5],[6,5],[6,6]]]]}"#,
        )
        .expect("json");
        let mut open = Vec::new();
        let g = parse_geometry(&raw, &mut open).expect("valid");
        assert_eq!(open, ["polygon 2, ring 1"]);
        let Some(Geometry::MultiPolygon(mp)) = g else {
            panic!("expected a multipolygon, got {g:?}");
        };
        assert_eq!(mp.0[1].exterior().0.len(), 4);
        assert_eq!(mp.0[1].exterior().0[3], mp.0[1].exterior().0[0]);
    }

    #[test]
    fn reads_polygon_with_heights_and_holes() {
        let g = parse(
            r#"{"type":"Polygon","coordinates":[[[0,0,5],[4,0,5],[4,4,5],[0,0,5]],[[1,1],[2,1],[2,2],[1,1]]]}"#,
        )
        .expect("valid polygon");
        let Some(Geometry::Polygon(p)) = g else {
            panic!("expected a polygon, got {g:?}");
        };
        assert_eq!(p.exterior().0.len(), 4);
        assert_eq!(p.interiors().len(), 1);
        assert!((p.exterior().0[1].x - 4.0).abs() < f64::EPSILON);
    }

    #[test]
    fn reads_point_and_rejects_short_position() {
        assert!(matches!(
            parse(r#"{"coordinates":[-1.25,51.75],"type":"Point"}"#),
            Ok(Some(Geometry::Point(_)))
        ));
        assert!(parse(r#"{"type":"Point","coordinates":[1]}"#).is_err());
        assert!(parse(r#"{"type":"Circle","coordinates":[1,2]}"#).is_err());
    }

    #[test]
    fn empty_multipolygon_is_none() {
        assert!(matches!(
            parse(r#"{"type":"MultiPolygon","coordinates":[]}"#),
            Ok(None)
        ));
    }
}
