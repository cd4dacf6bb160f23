//! `/api`: the OpenAPI 3.0 definition of the OGC endpoints, built from the
//! live collections so that the collection ids and each collection's
//! equality-filter parameters are always the ones served.

use serde_json::{json, Map, Value};

use super::crs;
use super::items::{DEFAULT_LIMIT, MAX_LIMIT};
use super::model::{OgcState, PropType};
use super::respond::media;

fn problem() -> Value {
    json!({ "description": "A problem (RFC 7807) naming the parameter at fault.",
            "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/problem" } } } })
}

fn json_response(description: &str, schema: &Value) -> Value {
    json!({ "description": description,
            "headers": { "ETag": { "$ref": "#/components/headers/ETag" } },
            "content": { media::JSON: { "schema": schema }, "text/html": { "schema": { "type": "string" } } } })
}

fn p(name: &str) -> Value {
    json!({ "$ref": format!("#/components/parameters/{name}") })
}

fn parameters() -> Value {
    let crs_enum = crs::supported_uris();
    json!({
        "f": { "name": "f", "in": "query", "required": false, "description": "Output format; overrides the Accept header.",
               "schema": { "type": "string", "enum": ["json", "html"] } },
        "collectionId": { "name": "collectionId", "in": "path", "required": true, "description": "Collection id.",
                          "schema": { "type": "string" } },
        "featureId": { "name": "featureId", "in": "path", "required": true, "description": "Feature id: LSOA, ward or district code, or asset id.",
                       "schema": { "type": "string" } },
        "limit": { "name": "limit", "in": "query", "required": false, "style": "form", "explode": false,
                   "description": format!("Page size. Values above {MAX_LIMIT} are clamped."),
                   "schema": { "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT } },
        "offset": { "name": "offset", "in": "query", "required": false, "description": "Matching features to skip (paging).",
                    "schema": { "type": "integer", "minimum": 0, "default": 0 } },
        "bbox": { "name": "bbox", "in": "query", "required": false, "style": "form", "explode": false,
                  "description": "Only features whose geometry intersects this box: minx,miny,maxx,maxy in bbox-crs (CRS84 by default).",
                  "schema": { "type": "array", "minItems": 4, "maxItems": 6, "items": { "type": "number" } } },
        "bbox-crs": { "name": "bbox-crs", "in": "query", "required": false, "description": "CRS of bbox.",
                      "schema": { "type": "string", "format": "uri", "enum": crs_enum } },
        "crs": { "name": "crs", "in": "query", "required": false, "description": "CRS of the returned geometries (Content-Crs header says which).",
                 "schema": { "type": "string", "format": "uri", "enum": crs_enum } },
        "datetime": { "name": "datetime", "in": "query", "required": false,
                      "description": "An RFC 3339 date-time or date, or an interval start/end with '..' for an open end (not both). Checked, then without effect: these collections have no temporal property, so a valid value selects nothing out.",
                      "schema": { "type": "string" } },
        "sortby": { "name": "sortby", "in": "query", "required": false, "style": "form", "explode": false,
                    "description": "Sort keys: queryable property names, each optionally prefixed by + (ascending, the default) or - (descending), e.g. +name,-imd_score. Ties are broken by feature id, so pages are stable; nulls sort after every value.",
                    "schema": { "type": "array", "minItems": 1, "items": { "type": "string", "pattern": "[+|-]?[A-Za-z_].*" } } },
        "properties": { "name": "properties", "in": "query", "required": false, "style": "form", "explode": false,
                        "description": "Comma-separated properties to return (all by default).",
                        "schema": { "type": "array", "items": { "type": "string" } } },
        "filter": { "name": "filter", "in": "query", "required": false,
                    "description": "CQL2 filter: comparisons, AND/OR/NOT, IN, BETWEEN, LIKE, IS NULL, CASEI, arithmetic, S_INTERSECTS and the other spatial predicates against `geometry`.",
                    "schema": { "type": "string" } },
        "filter-lang": { "name": "filter-lang", "in": "query", "required": false,
                         "schema": { "type": "string", "enum": ["cql2-text", "cql2-json"], "default": "cql2-text" } },
        "filter-crs": { "name": "filter-crs", "in": "query", "required": false, "description": "CRS of geometry literals in filter.",
                        "schema": { "type": "string", "format": "uri", "enum": crs_enum } },
    })
}

/// The OpenAPI document.
pub fn document(ogc: &OgcState, base: &str) -> Value {
    let mut paths = Map::new();
    paths.insert("/".into(), json!({ "get": { "summary": "Landing page", "operationId": "getLandingPage", "tags": ["Capabilities"],
        "parameters": [p("f")], "responses": { "200": json_response("Links to the API definition, conformance and collections", &json!({"type": "object"})), "400": problem() } } }));
    paths.insert("/conformance".into(), json!({ "get": { "summary": "Conformance classes", "operationId": "getConformance", "tags": ["Capabilities"],
        "parameters": [p("f")], "responses": { "200": json_response("Conformance declaration", &json!({"$ref": "#/components/schemas/confClasses"})), "400": problem() } } }));
    paths.insert("/api".into(), json!({ "get": { "summary": "This API definition", "operationId": "getApi", "tags": ["Capabilities"],
        "parameters": [p("f")], "responses": { "200": { "description": "OpenAPI 3.0 document", "content": { media::OPENAPI: { "schema": { "type": "object" } } } }, "400": problem() } } }));
    paths.insert("/collections".into(), json!({ "get": { "summary": "Feature collections", "operationId": "getCollections", "tags": ["Capabilities"],
        "parameters": [p("f")], "responses": { "200": json_response("Collections", &json!({"type": "object"})), "400": problem() } } }));
    paths.insert("/collections/{collectionId}".into(), json!({ "get": { "summary": "One collection", "operationId": "describeCollection", "tags": ["Capabilities"],
        "parameters": [p("collectionId"), p("f")], "responses": { "200": json_response("Collection", &json!({"type": "object"})), "400": problem(), "404": problem() } } }));
    paths.insert("/collections/{collectionId}/queryables".into(), json!({ "get": { "summary": "Queryable properties", "operationId": "getQueryables", "tags": ["Capabilities"],
        "parameters": [p("collectionId"), p("f")], "responses": { "200": { "description": "JSON Schema of the queryables", "content": { media::SCHEMA: { "schema": { "type": "object" } } } }, "400": problem(), "404": problem() } } }));
    let items_params = [
        "collectionId",
        "f",
        "limit",
        "offset",
        "bbox",
        "bbox-crs",
        "crs",
        "datetime",
        "sortby",
        "properties",
        "filter",
        "filter-lang",
        "filter-crs",
    ];
    let geojson_response = |d: &str| {
        json!({ "description": d,
        "headers": { "Content-Crs": { "description": "CRS of the geometries", "schema": { "type": "string" } }, "ETag": { "$ref": "#/components/headers/ETag" } },
        "content": { media::GEOJSON: { "schema": { "type": "object" } }, "text/html": { "schema": { "type": "string" } } } })
    };
    paths.insert("/collections/{collectionId}/items".into(), json!({ "get": { "summary": "Features of a collection", "operationId": "getFeatures", "tags": ["Data"],
        "description": "Also accepts `<property>=<value>` equality filters on each collection's queryable properties (see the per-collection paths).",
        "parameters": items_params.iter().map(|n| p(n)).collect::<Vec<_>>(),
        "responses": { "200": geojson_response("A page of features"), "304": { "description": "Not modified (If-None-Match)" }, "400": problem(), "404": problem() } } }));
    paths.insert("/collections/{collectionId}/items/{featureId}".into(), json!({ "get": { "summary": "One feature", "operationId": "getFeature", "tags": ["Data"],
        "parameters": [p("collectionId"), p("featureId"), p("f"), p("crs"), p("properties")],
        "responses": { "200": geojson_response("The feature"), "304": { "description": "Not modified (If-None-Match)" }, "400": problem(), "404": problem() } } }));
    // Per-collection item paths list the equality parameters, which differ by collection.
    for c in &ogc.collections {
        let mut params: Vec<Value> = items_params.iter().skip(1).map(|n| p(n)).collect();
        for prop in c.props.iter().filter(|x| x.kind != PropType::Json) {
            params.push(json!({ "name": prop.name, "in": "query", "required": false, "description": format!("Equality filter: {}", prop.title),
                                "schema": { "type": prop.kind.json_schema() } }));
        }
        paths.insert(format!("/collections/{}/items", c.id), json!({ "get": { "summary": c.title, "operationId": format!("getFeatures-{}", c.id), "tags": ["Data"],
            "parameters": params, "responses": { "200": geojson_response("A page of features"), "304": { "description": "Not modified" }, "400": problem() } } }));
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": format!("GapMap: {}", ogc.region),
            "version": env!("CARGO_PKG_VERSION"),
            "description": "OGC API – Features (Part 1 Core, Part 2 CRS, Part 3 Filtering with CQL2) over deprivation, areas and community assets.",
            "license": { "name": "Code: MIT OR Apache-2.0; data: see the landing page (OGL-UK-3.0, ODbL-1.0)" },
        },
        "servers": [{ "url": base }],
        "tags": [{ "name": "Capabilities" }, { "name": "Data" }],
        "paths": paths,
        "components": {
            "parameters": parameters(),
            "headers": { "ETag": { "description": "Weak validator; send it back in If-None-Match", "schema": { "type": "string" } } },
            "schemas": {
                "confClasses": { "type": "object", "required": ["conformsTo"],
                                 "properties": { "conformsTo": { "type": "array", "items": { "type": "string" } } } },
                "problem": { "type": "object", "properties": {
                    "type": { "type": "string" }, "title": { "type": "string" }, "status": { "type": "integer" },
                    "detail": { "type": "string" }, "parameter": { "type": "string" } } },
            },
        },
    })
}
