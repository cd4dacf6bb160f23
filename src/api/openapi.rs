//! `/api`: the OpenAPI 3.0 document of every route a client may call. The OGC
//! API – Features part comes from [`super::ogc::openapi`] (built from the live
//! collections); this module adds the planner endpoints, the map's data
//! endpoints, vector tiles, pages and static files. `tests/api_routes.rs`
//! checks that its paths and the router's are the same set.

use serde_json::{json, Map, Value};

use super::ogc::model::OgcState;
use super::ogc::openapi as ogc_openapi;

/// Tile collections (vector tiles are served for these).
pub const TILE_COLLECTIONS: [&str; 4] = ["lsoa", "lsoa-2011", "wards", "districts"];

fn problem() -> Value {
    json!({ "description": "A problem (RFC 7807) naming the parameter at fault.",
            "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/problem" } } } })
}

fn query(name: &str, description: &str, schema: &Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

/// `param` marked as required.
fn required(mut param: Value) -> Value {
    param["required"] = Value::Bool(true);
    param
}

fn path_param(name: &str, description: &str, schema: &Value) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": description, "schema": schema })
}

fn get(summary: &str, op: &str, tag: &str, params: &[Value], ok: &Value, errors: &[&str]) -> Value {
    let mut responses = Map::new();
    responses.insert("200".into(), ok.clone());
    for e in errors {
        responses.insert((*e).to_owned(), problem());
    }
    json!({ "get": { "summary": summary, "operationId": op, "tags": [tag], "parameters": params, "responses": responses } })
}

fn ok(description: &str, media: &str) -> Value {
    json!({ "description": description, "content": { media: { "schema": { "type": if media.starts_with("text/") || media.contains("tile") { "string" } else { "object" } } } } })
}

fn year(years: &[&str], default: &str) -> Value {
    query(
        "year",
        "Deprivation release: 2025 (IMD 2025, 2021 LSOAs) or 2019 (IMD 2019, 2011 LSOAs).",
        &json!({ "type": "string", "enum": years, "default": default }),
    )
}

fn max_decile() -> Value {
    query(
        "max_decile",
        "Largest national decile counted as deprived (1 = most deprived 10% of LSOAs in England).",
        &json!({ "type": "integer", "minimum": 1, "maximum": 10, "default": 2 }),
    )
}

fn code(what: &str) -> Value {
    path_param("code", what, &json!({ "type": "string" }))
}

/// The planner's and the map's paths, keyed by OpenAPI path template.
fn other_paths() -> Vec<(String, Value)> {
    let string = json!({ "type": "string" });
    let mut v: Vec<(String, Value)> = vec![
        (
            "/gaps".into(),
            get(
                "LSOAs both deprived and far from a category of asset",
                "getGaps",
                "Planner",
                &[
                    // Required: without it the answer is a 400.
                    required(query(
                        "category",
                        "Asset category id (see /web/api/meta).",
                        &json!({ "type": "string" }),
                    )),
                    max_decile(),
                    query(
                        "min_distance_m",
                        "Smallest straight-line (geodesic) distance in metres counted as far.",
                        &json!({ "type": "number", "minimum": 0, "default": 1600 }),
                    ),
                    query(
                        "domain",
                        "Indicator with deciles: imd or a domain id.",
                        &json!({ "type": "string", "default": "imd" }),
                    ),
                    year(&["2019", "2025"], "2025"),
                    query(
                        "measure",
                        "Distance over the LSOA's postcode units: mean or max.",
                        &json!({ "type": "string", "enum": ["mean", "max"], "default": "mean" }),
                    ),
                    query(
                        "f",
                        "Output format.",
                        &json!({ "type": "string", "enum": ["geojson", "json", "csv"], "default": "geojson" }),
                    ),
                ],
                &json!({ "description": "Gaps with summary, parameters and method", "content": {
            "application/geo+json": { "schema": { "type": "object" } }, "text/csv": { "schema": { "type": "string" } } } }),
                &["400"],
            ),
        ),
        (
            "/priority-areas".into(),
            get(
                "Wards containing the most deprived LSOAs",
                "getPriorityAreas",
                "Planner",
                &[
                    year(&["2019", "2025"], "2025"),
                    max_decile(),
                    query(
                        "domain",
                        "Indicator: imd or a domain id.",
                        &json!({ "type": "string", "default": "imd" }),
                    ),
                ],
                &ok(
                    "Wards, each with its deprived LSOAs and residents",
                    "application/json",
                ),
                &["400"],
            ),
        ),
        (
            "/wards/{code}/profile".into(),
            get(
                "A ward's community insight profile",
                "getWardProfile",
                "Planner",
                &[
                    code("2024 ward code, e.g. E05010924."),
                    max_decile(),
                    query(
                        "min_distance_m",
                        "Smallest mean straight-line (geodesic) distance in metres counted as far, for the profile's gaps.",
                        &json!({ "type": "number", "minimum": 0, "default": 1600 }),
                    ),
                ],
                &ok(
                    "Profile. `summary` holds the ward and district IMD summary: LSOAs and residents by national decile (deciles are not averaged), shares of residents in the most deprived 10% and 20%, and the IMD score weighted by Census 2021 residents; `gap_thresholds` the thresholds used and GapMap's defaults",
                    "application/json",
                ),
                &["400", "404"],
            ),
        ),
        (
            "/wards/{code}".into(),
            get(
                "Printable ward profile page (HTML)",
                "getWardPage",
                "Pages",
                &[code("2024 ward code.")],
                &ok("HTML page", "text/html"),
                &["404"],
            ),
        ),
        (
            "/map".into(),
            get(
                "The planner's map (HTML)",
                "getMap",
                "Pages",
                &[],
                &ok("HTML page", "text/html"),
                &[],
            ),
        ),
        (
            "/search".into(),
            get(
                "Search wards, districts, LSOAs and postcodes",
                "search",
                "Map",
                &[
                    query("q", "Text to look for (at least 2 characters).", &string),
                    query(
                        "limit",
                        "Most results (1 to 100; larger values are clamped).",
                        &json!({ "type": "integer", "minimum": 1, "default": 20 }),
                    ),
                ],
                &ok("Results, best first", "application/json"),
                &["400"],
            ),
        ),
        (
            "/web/api/meta".into(),
            get(
                "Region, releases, categories and sources",
                "getMeta",
                "Map",
                &[],
                &ok("Metadata", "application/json"),
                &["400"],
            ),
        ),
        (
            "/web/api/lsoa-layer".into(),
            get(
                "The region's LSOAs with deciles for the map",
                "getLsoaLayer",
                "Map",
                &[year(&["2019", "2025"], "2025")],
                &ok("GeoJSON FeatureCollection", "application/json"),
                &["400"],
            ),
        ),
        (
            "/web/api/boundaries/{layer}".into(),
            get(
                "Ward or district outlines",
                "getBoundaries",
                "Map",
                &[path_param(
                    "layer",
                    "wards or districts",
                    &json!({ "type": "string", "enum": ["wards", "districts"] }),
                )],
                &ok("GeoJSON FeatureCollection", "application/json"),
                &["400", "404"],
            ),
        ),
        (
            "/web/api/labels/{layer}".into(),
            get(
                "Label points of wards or districts",
                "getLabels",
                "Map",
                &[path_param(
                    "layer",
                    "wards or districts",
                    &json!({ "type": "string", "enum": ["wards", "districts"] }),
                )],
                &ok("GeoJSON FeatureCollection", "application/json"),
                &["400", "404"],
            ),
        ),
        (
            "/web/api/assets".into(),
            get(
                "Every asset as a point",
                "getMapAssets",
                "Map",
                &[],
                &ok("GeoJSON FeatureCollection", "application/json"),
                &["400"],
            ),
        ),
        (
            "/web/api/coverage".into(),
            get(
                "Coverage areas of partial-coverage sources",
                "getCoverage",
                "Map",
                &[],
                &ok("GeoJSON FeatureCollection", "application/json"),
                &["400"],
            ),
        ),
        (
            "/web/api/region".into(),
            get(
                "The loaded region's profile: GapMap's roll-up of the official LSOA data, the districts' official IoD summaries, and gap answers per category",
                "getRegionProfile",
                "Map",
                &[
                    max_decile(),
                    query(
                        "min_distance_m",
                        "Smallest mean straight-line (geodesic) distance in metres counted as far, for the gaps.",
                        &json!({ "type": "number", "minimum": 0, "default": 1600 }),
                    ),
                ],
                &ok("Region profile", "application/json"),
                &["400"],
            ),
        ),
        (
            "/web/api/lsoa/{code}".into(),
            get(
                "An LSOA's panel data",
                "getLsoaPanel",
                "Map",
                &[code("2021 LSOA code.")],
                &ok("LSOA profile", "application/json"),
                &["400", "404"],
            ),
        ),
        (
            "/web/api/ward/{code}".into(),
            get(
                "A ward's panel data",
                "getWardPanel",
                "Map",
                &[code("2024 ward code.")],
                &ok("Ward summary", "application/json"),
                &["400", "404"],
            ),
        ),
        (
            "/web/static/{path}".into(),
            get(
                "The map's static files",
                "getStatic",
                "Pages",
                &[path_param("path", "File below web/public.", &string)],
                &ok("The file", "application/octet-stream"),
                &["404"],
            ),
        ),
        (
            "/web/vendor/maplibre-gl/{path}".into(),
            get(
                "MapLibre GL JS",
                "getMaplibre",
                "Pages",
                &[path_param(
                    "path",
                    "File of the maplibre-gl distribution.",
                    &string,
                )],
                &ok("The file", "application/octet-stream"),
                &["404"],
            ),
        ),
    ];
    for c in TILE_COLLECTIONS {
        v.push((
            format!("/collections/{c}/tiles"),
            get(
                &format!("Vector tilesets of {c}"),
                &format!("getTilesets-{c}"),
                "Tiles",
                &[],
                &ok("Tileset list (OGC API – Tiles)", "application/json"),
                &["400"],
            ),
        ));
        v.push((
            format!("/collections/{c}/tiles/WebMercatorQuad"),
            get(
                &format!("The WebMercatorQuad vector tileset of {c}"),
                &format!("getTileset-{c}"),
                "Tiles",
                &[],
                &ok(
                    "Tileset metadata (OGC API – Tiles): tile template, tiling scheme, layer",
                    "application/json",
                ),
                &["400"],
            ),
        ));
        v.push((
            format!("/collections/{c}/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}"),
            get(
                &format!("One vector tile of {c}"),
                &format!("getTile-{c}"),
                "Tiles",
                &[
                    path_param(
                        "z",
                        "Zoom (tile matrix), 0 to 18.",
                        &json!({ "type": "integer", "minimum": 0, "maximum": 18 }),
                    ),
                    path_param(
                        "x",
                        "Tile column.",
                        &json!({ "type": "integer", "minimum": 0 }),
                    ),
                    path_param("y", "Tile row, optionally with .mvt or .pbf.", &string),
                ],
                &ok("Mapbox Vector Tile", "application/vnd.mapbox-vector-tile"),
                &["400", "404"],
            ),
        ));
    }
    v
}

/// The OpenAPI document of every route.
#[must_use]
pub fn document(ogc: &OgcState, base: &str) -> Value {
    let mut doc = ogc_openapi::document(ogc, base);
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in other_paths() {
            paths.insert(path, item);
        }
    }
    if let Some(tags) = doc.get_mut("tags").and_then(Value::as_array_mut) {
        for t in ["Planner", "Map", "Tiles", "Pages"] {
            tags.push(json!({ "name": t }));
        }
    }
    super::register::openapi::extend(&mut doc);
    super::areas::openapi::extend(&mut doc);
    super::processes::openapi::extend(&mut doc);
    if let Some(info) = doc.get_mut("info").and_then(Value::as_object_mut) {
        info.insert("description".into(), json!("OGC API – Features (Part 1 Core, Part 2 CRS, Part 3 Filtering with CQL2) over deprivation, areas and community assets; asset-gap and profile endpoints for planners; the map's data endpoints and vector tiles."));
    }
    doc
}
