//! The register's part of `/api`: the OGC API – Features Part 4 write
//! operations on items paths, history, import and categories, with the
//! bearer-token security scheme.

use serde_json::{json, Map, Value};

fn problem(description: &str) -> Value {
    json!({ "description": description,
            "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/problem" } } } })
}

fn feature_body(media: &[&str]) -> Value {
    let content: Map<String, Value> = media
        .iter()
        .map(|m| {
            (
                (*m).to_owned(),
                json!({ "schema": { "$ref": "#/components/schemas/registerFeature" } }),
            )
        })
        .collect();
    json!({ "required": true, "content": content })
}

fn written(description: &str) -> Value {
    json!({ "description": description,
            "headers": { "ETag": { "description": "Strong validator \"v<version>-…\": send it in If-Match", "schema": { "type": "string" } },
                         "Location": { "description": "The entry's URL", "schema": { "type": "string" } } },
            "content": { "application/geo+json": { "schema": { "type": "object" } } } })
}

fn write_errors(responses: &mut Map<String, Value>, with_item: bool) {
    responses.insert("400".into(), problem("Invalid entry or header: `parameter` names the field (properties.name, geometry, Content-Crs...)"));
    responses.insert(
        "401".into(),
        problem("No valid bearer token (WWW-Authenticate: Bearer)"),
    );
    responses.insert(
        "403".into(),
        problem("Token revoked, or its role does not allow this"),
    );
    responses.insert(
        "405".into(),
        problem("The collection is read-only (only `register` takes writes)"),
    );
    responses.insert("415".into(), problem("Unsupported Content-Type"));
    responses.insert(
        "429".into(),
        problem("Too many failed authentications from this address (Retry-After)"),
    );
    if with_item {
        responses.insert("404".into(), problem("No such entry"));
        responses.insert(
            "412".into(),
            problem("If-Match names another version: nothing changed"),
        );
    }
}

fn header(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "header", "required": false, "description": description, "schema": { "type": "string" } })
}

fn collection_id() -> Value {
    json!({ "$ref": "#/components/parameters/collectionId" })
}

fn feature_id() -> Value {
    json!({ "$ref": "#/components/parameters/featureId" })
}

fn operation(
    summary: &str,
    id: &str,
    params: &[Value],
    body: Option<Value>,
    ok: (&str, Value),
    item: bool,
) -> Value {
    let mut responses = Map::new();
    responses.insert(ok.0.to_owned(), ok.1);
    write_errors(&mut responses, item);
    // An unknown {collectionId} is a 404 too (item paths already say so).
    if !item && params.contains(&collection_id()) {
        responses.insert("404".into(), problem("No such collection"));
    }
    let mut op = json!({ "summary": summary, "operationId": id, "tags": ["Register"],
                         "security": [{ "bearer": [] }], "parameters": params, "responses": responses });
    if let (Some(b), Some(o)) = (body, op.as_object_mut()) {
        o.insert("requestBody".into(), b);
    }
    op
}

/// OPTIONS on `path`: every path parameter of the template must be
/// declared, or the document is not valid OpenAPI 3.0.
fn options(id: &str, allow: &str, path: &str) -> Value {
    let mut params = vec![collection_id()];
    if path.contains("{featureId}") {
        params.push(feature_id());
    }
    json!({ "summary": "Methods allowed here (Allow header)", "operationId": id, "tags": ["Register"],
            "parameters": params,
            "responses": { "204": { "description": format!("Allow: {allow} on the register; GET, HEAD, OPTIONS elsewhere"),
                                    "headers": { "Allow": { "schema": { "type": "string" } } } },
                           "404": problem("No such collection") } })
}

/// Adds the register's operations and paths to the OpenAPI document.
pub fn extend(doc: &mut Value) {
    let crs = header("Content-Crs", "CRS of the body's coordinates: <http://www.opengis.net/def/crs/OGC/1.3/CRS84> (default), <http://www.opengis.net/def/crs/EPSG/0/4326> or <http://www.opengis.net/def/crs/EPSG/0/27700>");
    let if_match = header(
        "If-Match",
        "ETag(s) of the version this change is based on, or *",
    );
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let mut set = |path: &str, method: &str, op: Value| {
        if let Some(item) = paths
            .entry(path.to_owned())
            .or_insert_with(|| json!({}))
            .as_object_mut()
        {
            item.insert(method.to_owned(), op);
        }
    };
    for items in [
        "/collections/{collectionId}/items",
        "/collections/register/items",
    ] {
        let params = if items.contains('{') {
            vec![collection_id(), crs.clone()]
        } else {
            vec![crs.clone()]
        };
        set(
            items,
            "post",
            operation(
                "Create a register entry (OGC API – Features Part 4); editors",
                if items.contains('{') {
                    "createFeature"
                } else {
                    "createFeature-register"
                },
                &params,
                Some(feature_body(&["application/geo+json", "application/json"])),
                (
                    "201",
                    written("Created; the body is the entry as now served"),
                ),
                false,
            ),
        );
    }
    set(
        "/collections/{collectionId}/items",
        "options",
        options(
            "optionsFeatures",
            super::ITEMS_ALLOW,
            "/collections/{collectionId}/items",
        ),
    );
    let item = "/collections/{collectionId}/items/{featureId}";
    set(
        item,
        "put",
        operation(
            "Replace a register entry; editors",
            "replaceFeature",
            &[collection_id(), feature_id(), crs.clone(), if_match.clone()],
            Some(feature_body(&["application/geo+json", "application/json"])),
            ("200", written("Replaced")),
            true,
        ),
    );
    set(
        item,
        "patch",
        operation(
            "Update a register entry with a JSON merge patch (RFC 7396); editors",
            "updateFeature",
            &[collection_id(), feature_id(), crs, if_match.clone()],
            Some(feature_body(&[
                "application/merge-patch+json",
                "application/geo+json",
                "application/json",
            ])),
            ("200", written("Updated")),
            true,
        ),
    );
    set(
        item,
        "delete",
        operation(
            "Delete a register entry (its history stays); editors",
            "deleteFeature",
            &[collection_id(), feature_id(), if_match],
            None,
            ("204", json!({ "description": "Deleted" })),
            true,
        ),
    );
    set(
        item,
        "options",
        options("optionsFeature", super::ITEM_ALLOW, item),
    );
    set(
        "/collections/{collectionId}/items/{featureId}/history",
        "get",
        json!({
        "summary": "Every change to a register entry: who, when, before and after", "operationId": "getFeatureHistory",
        "tags": ["Register"], "parameters": [collection_id(), feature_id()],
        "responses": { "200": { "description": "The changes, oldest first", "content": { "application/json": { "schema": { "type": "object" } } } },
                       "400": problem("Unknown query parameter"), "404": problem("No such entry, ever") } }),
    );
    let mut import = operation(
        "Import a file of entries, all or nothing; admins",
        "importFeatures",
        &[
            collection_id(),
            header(
                "Content-Crs",
                "CRS of the coordinates (a GeoPackage's own CRS wins)",
            ),
        ],
        Some(json!({ "required": true, "content": {
            "text/csv": { "schema": { "type": "string" } },
            "application/geo+json": { "schema": { "type": "object" } },
            "application/geopackage+sqlite3": { "schema": { "type": "string", "format": "binary" } } } })),
        (
            "201",
            json!({ "description": "Imported", "content": { "application/json": { "schema": { "type": "object" } } } }),
        ),
        false,
    );
    if let Some(r) = import.get_mut("responses").and_then(Value::as_object_mut) {
        r.insert(
            "400".into(),
            problem("Invalid rows, each named by row and column: nothing was imported"),
        );
    }
    set("/collections/{collectionId}/import", "post", import);
    let mut categories = operation(
        "Add a category the register may hold; admins",
        "addRegisterCategory",
        &[],
        Some(
            json!({ "required": true, "content": { "application/json": { "schema": {
            "type": "object", "required": ["id", "label"],
            "properties": { "id": { "type": "string", "pattern": "^[a-z][a-z0-9_]{0,39}$" }, "label": { "type": "string" } } } } } }),
        ),
        ("201", json!({ "description": "Added" })),
        false,
    );
    if let Some(r) = categories
        .get_mut("responses")
        .and_then(Value::as_object_mut)
    {
        r.insert("409".into(), problem("A category with that id exists"));
    }
    set("/register/categories", "post", categories);
    set(
        "/register/session",
        "get",
        json!({
        "summary": "Who a bearer token is (name and role), for sign-in", "operationId": "getRegisterSession",
        "tags": ["Register"], "security": [{ "bearer": [] }], "parameters": [],
        "responses": { "200": { "description": "The token's name and role", "content": { "application/json": { "schema": {
                           "type": "object", "properties": { "name": { "type": "string" }, "role": { "type": "string", "enum": ["viewer", "editor", "admin"] } } } } } },
                       "400": problem("Unknown query parameter"),
                       "401": problem("No valid bearer token"), "403": problem("Token revoked"),
                       "404": problem("No register attached"), "429": problem("Too many failed authentications") } }),
    );
    if let Some(components) = doc.get_mut("components").and_then(Value::as_object_mut) {
        components.insert(
            "securitySchemes".into(),
            json!({ "bearer": { "type": "http", "scheme": "bearer",
            "description": "A token from `gapmap token add` (gm_<id>_<secret>)" } }),
        );
        if let Some(schemas) = components.get_mut("schemas").and_then(Value::as_object_mut) {
            schemas.insert("registerFeature".into(), json!({
                "type": "object", "required": ["type", "properties"],
                "properties": {
                    "type": { "type": "string", "enum": ["Feature"] },
                    "geometry": { "nullable": true, "type": "object", "description": "A Point, or null to place the entry at properties.postcode" },
                    "properties": { "type": "object", "required": ["name", "category"], "properties": {
                        "name": { "type": "string", "maxLength": 200 },
                        "category": { "type": "string" },
                        "address": { "type": "string" }, "postcode": { "type": "string" },
                        "organisation": { "type": "string" }, "contact": { "type": "string" },
                        "description": { "type": "string" },
                        "opening_hours": { "type": "string", "description": "OpenStreetMap opening_hours syntax" },
                        "capacity": { "type": "integer", "minimum": 0, "maximum": 1_000_000 },
                        "valid_from": { "type": "string", "format": "date" },
                        "valid_to": { "type": "string", "format": "date" } } } } }));
        }
    }
    if let Some(tags) = doc.get_mut("tags").and_then(Value::as_array_mut) {
        tags.push(json!({ "name": "Register" }));
    }
}
