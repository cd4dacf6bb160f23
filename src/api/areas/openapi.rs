//! The saved areas' part of `/api`: OGC API – Features Part 4 writes on
//! the `areas` collection (its reads are the collection's ordinary paths),
//! with the `areaFeature` body schema.

use serde_json::{json, Map, Value};

fn problem(description: &str) -> Value {
    json!({ "description": description,
            "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/problem" } } } })
}

fn responses(ok: (&str, Value), item: bool) -> Value {
    let mut r = Map::new();
    r.insert(ok.0.to_owned(), ok.1);
    r.insert("400".into(), problem("Invalid area or header: `parameter` names it (geometry, properties.name, properties.description, Content-Crs, body)"));
    r.insert(
        "401".into(),
        problem("No valid bearer token (WWW-Authenticate: Bearer)"),
    );
    r.insert("403".into(), problem("Token revoked, or not an editor's"));
    r.insert("415".into(), problem("Unsupported Content-Type"));
    r.insert(
        "429".into(),
        problem("Too many failed authentications from this address (Retry-After)"),
    );
    if item {
        r.insert(
            "404".into(),
            problem("No such area (`parameter`: featureId)"),
        );
        r.insert(
            "412".into(),
            problem("If-Match names another version: nothing changed"),
        );
    }
    Value::Object(r)
}

fn written(description: &str) -> Value {
    json!({ "description": description,
            "headers": { "ETag": { "description": "Strong validator \"v<version>-…\": send it in If-Match", "schema": { "type": "string" } },
                         "Location": { "description": "The area's URL", "schema": { "type": "string" } } },
            "content": { "application/geo+json": { "schema": { "type": "object" } } } })
}

fn body(media: &[&str]) -> Value {
    let content: Map<String, Value> = media
        .iter()
        .map(|m| {
            (
                (*m).to_owned(),
                json!({ "schema": { "$ref": "#/components/schemas/areaFeature" } }),
            )
        })
        .collect();
    json!({ "required": true, "content": content })
}

/// Adds the saved areas' write operations and body schema.
pub fn extend(doc: &mut Value) {
    let crs = json!({ "name": "Content-Crs", "in": "header", "required": false, "schema": { "type": "string" },
        "description": "CRS of the geometry: <http://www.opengis.net/def/crs/OGC/1.3/CRS84> (default) or <http://www.opengis.net/def/crs/EPSG/0/27700>" });
    let if_match = json!({ "name": "If-Match", "in": "header", "required": false, "schema": { "type": "string" },
        "description": "ETag(s) of the version this change is based on, or *" });
    let fid = json!({ "$ref": "#/components/parameters/featureId" });
    let op = |summary: &str,
              id: &str,
              params: Vec<Value>,
              b: Option<Value>,
              ok: (&str, Value),
              item: bool| {
        let mut o = json!({ "summary": summary, "operationId": id, "tags": ["Areas"],
            "security": [{ "bearer": [] }], "parameters": params, "responses": responses(ok, item) });
        if let (Some(b), Some(m)) = (b, o.as_object_mut()) {
            m.insert("requestBody".into(), b);
        }
        o
    };
    let feature_types = ["application/geo+json", "application/json"];
    let items = op(
        "Save an area (a named Polygon or MultiPolygon inside the region); editors",
        "createFeature-areas",
        vec![crs.clone()],
        Some(body(&feature_types)),
        ("201", written("Saved; the body is the area as now served")),
        false,
    );
    let put = op(
        "Replace a saved area; editors",
        "replaceFeature-areas",
        vec![fid.clone(), crs.clone(), if_match.clone()],
        Some(body(&feature_types)),
        ("200", written("Replaced")),
        true,
    );
    let patch = op(
        "Update a saved area's name, description or geometry with a JSON merge patch (RFC 7396); editors",
        "updateFeature-areas",
        vec![fid.clone(), crs, if_match.clone()],
        Some(body(&["application/merge-patch+json", "application/geo+json", "application/json"])),
        ("200", written("Updated")),
        true,
    );
    let delete = op(
        "Delete a saved area; editors",
        "deleteFeature-areas",
        vec![fid, if_match],
        None,
        ("204", json!({ "description": "Deleted" })),
        true,
    );
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        let mut set = |path: &str, method: &str, op: Value| {
            if let Some(item) = paths
                .entry(path.to_owned())
                .or_insert_with(|| json!({}))
                .as_object_mut()
            {
                item.insert(method.to_owned(), op);
            }
        };
        set("/collections/areas/items", "post", items);
        let item = "/collections/areas/items/{featureId}";
        set(item, "put", put);
        set(item, "patch", patch);
        set(item, "delete", delete);
    }
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.insert("areaFeature".into(), json!({
            "type": "object", "required": ["type", "geometry", "properties"],
            "properties": {
                "type": { "type": "string", "enum": ["Feature"] },
                "geometry": { "type": "object", "description": "A Polygon or MultiPolygon (holes and parts allowed; repaired with MakeValid where that leaves an area; at most 20,000 vertices and 500 parts; inside the served region)" },
                "properties": { "type": "object", "required": ["name"], "properties": {
                    "name": { "type": "string", "minLength": 1, "maxLength": 200 },
                    "description": { "type": "string", "maxLength": 2000 } } } } }));
    }
    if let Some(tags) = doc.get_mut("tags").and_then(Value::as_array_mut) {
        tags.push(json!({ "name": "Areas" }));
    }
}
