//! The OpenAPI paths of OGC API – Processes (`/processes...`), added to
//! `/api` by [`crate::api::openapi::document`].

use serde_json::{json, Value};

fn problem() -> Value {
    json!({ "description": "A problem (RFC 7807) naming the parameter or input at fault.",
            "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/problem" } } } })
}

fn f_param(values: &[&str]) -> Value {
    json!({ "name": "f", "in": "query", "required": false, "description": "Output format.",
            "schema": { "type": "string", "enum": values } })
}

fn process_id() -> Value {
    json!({ "name": "process_id", "in": "path", "required": true, "description": "Process id (`area-profile`).",
            "schema": { "type": "string" } })
}

/// Adds the `/processes` paths and the `Processes` tag.
pub fn extend(doc: &mut Value) {
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        paths.insert("/processes".into(), json!({ "get": {
            "summary": "The processes (OGC API – Processes)", "operationId": "getProcesses", "tags": ["Processes"],
            "parameters": [f_param(&["json"])],
            "responses": { "200": { "description": "The process list", "content": { "application/json": { "schema": { "type": "object" } } } }, "400": problem() },
        }}));
        paths.insert("/processes/{process_id}".into(), json!({ "get": {
            "summary": "A process description (OGC process description)", "operationId": "getProcessDescription", "tags": ["Processes"],
            "parameters": [process_id(), f_param(&["json"])],
            "responses": { "200": { "description": "The process description", "content": { "application/json": { "schema": { "type": "object" } } } }, "400": problem(), "404": problem() },
        }}));
        paths.insert("/processes/{process_id}/execution".into(), json!({ "post": {
            "summary": "Execute area-profile synchronously: the profile of an area given as a GeoJSON geometry, a boundary file, LSOA, ward or district codes, or a saved area",
            "operationId": "executeProcess", "tags": ["Processes"],
            "parameters": [process_id(), f_param(&["json", "csv"])],
            "requestBody": { "required": true, "content": { "application/json": { "schema": {
                "type": "object", "required": ["inputs"],
                "properties": { "inputs": { "type": "object" }, "outputs": { "type": "object" }, "response": { "type": "string", "enum": ["raw"] } },
            }}}},
            "responses": {
                "200": { "description": "The area profile", "content": {
                    "application/json": { "schema": { "type": "object" } },
                    "text/csv": { "schema": { "type": "string" } },
                }},
                "400": problem(), "401": problem(), "404": problem(), "413": problem(), "415": problem(),
            },
        }}));
    }
    if let Some(tags) = doc.get_mut("tags").and_then(Value::as_array_mut) {
        tags.push(json!({ "name": "Processes" }));
    }
}
