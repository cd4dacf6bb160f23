//! `/collections/{id}/queryables` (Part 3): the properties filters may use, as
//! a JSON Schema.

use serde_json::{json, Map, Value};

use super::filter::GEOMETRY_PROPERTY;
use super::model::{Collection, PropType};

/// The Part 3 / Part 5 `format` of a geometry property for the collection's
/// one GeoJSON geometry type (`geometry-multipolygon`, `geometry-point`...).
pub fn geometry_format(geometry_type: &str) -> String {
    format!("geometry-{}", geometry_type.to_ascii_lowercase())
}

/// The queryables schema.
pub fn document(c: &Collection, base: &str) -> Value {
    let mut props = Map::new();
    props.insert(
        GEOMETRY_PROPERTY.to_owned(),
        json!({ "title": "Geometry",
                "format": geometry_format(c.geometry_type),
                "x-ogc-role": "primary-geometry" }),
    );
    for p in c.props.iter().filter(|p| p.kind != PropType::Json) {
        props.insert(
            p.name.clone(),
            json!({ "title": p.title, "type": p.kind.json_schema() }),
        );
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("{base}/collections/{}/queryables", c.id),
        "type": "object",
        "title": c.title,
        "properties": props,
        "additionalProperties": false,
    })
}
