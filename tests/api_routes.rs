//! Every route of the router, walked with bad input: each answers a 4xx
//! `application/problem+json` naming the parameter at fault (or the missing
//! resource), never a 5xx, plain text or an empty body. And `/api` documents
//! exactly the router's routes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

struct Reply {
    status: StatusCode,
    ctype: String,
    body: String,
}

impl Reply {
    fn problem(&self, what: &str) -> Value {
        assert!(
            self.status.is_client_error(),
            "{what}: expected a 4xx, got {} {}",
            self.status,
            self.body
        );
        assert_eq!(
            self.ctype, "application/problem+json",
            "{what}: {} {}",
            self.status, self.body
        );
        let doc: Value = serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("{what}: problem is not JSON ({e}): {}", self.body));
        assert_eq!(doc["status"], self.status.as_u16(), "{what}: {doc}");
        assert!(
            doc["title"].is_string() && doc["detail"].is_string(),
            "{what}: {doc}"
        );
        doc
    }
}

async fn send(method: Method, uri: &str) -> Reply {
    let app = gapmap::api::app(common::app_state());
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "test.local")
        .body(Body::empty())
        .unwrap();
    let response = app.oneshot(req).await.unwrap();
    let status = response.status();
    let ctype = response
        .headers()
        .get("content-type")
        .map_or("", |v| v.to_str().unwrap())
        .to_owned();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        ctype,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// A path template with every parameter replaced: `good` gives values that
/// name something that exists, otherwise values that cannot.
fn fill(template: &str, good: bool) -> String {
    let state = common::app_state().snapshot();
    let ward = state.atlas.wards[0].code.clone();
    let lsoa = state.atlas.lsoa21[0].code.clone();
    template
        .split('/')
        .map(|seg| match seg {
            "{collection_id}" => {
                if good {
                    "lsoa".into()
                } else {
                    "no-such-collection".into()
                }
            }
            "{feature_id}" => {
                if good {
                    lsoa.clone()
                } else {
                    "E01999999".into()
                }
            }
            "{code}" => {
                if good {
                    ward.clone()
                } else {
                    "E05999999".into()
                }
            }
            "{layer}" => {
                if good {
                    "wards".into()
                } else {
                    "rivers".into()
                }
            }
            "{z}" => {
                if good {
                    "0".into()
                } else {
                    "zoom".into()
                }
            }
            "{x}" => {
                if good {
                    "0".into()
                } else {
                    "-1".into()
                }
            }
            "{y}" => {
                if good {
                    "0".into()
                } else {
                    "row".into()
                }
            }
            "{path}" => {
                if good {
                    "index.html".into()
                } else {
                    "a".repeat(256)
                }
            }
            other => other.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Routes that take only writes (no `GET`): import and categories.
fn write_only(template: &str) -> bool {
    template == "/register/categories" || template.ends_with("/import")
}

/// Pages and files read their URL in the browser (shareable links carry
/// state), so they ignore query strings rather than refuse them.
fn ignores_query(template: &str) -> bool {
    template == "/map" || template == "/wards/{code}" || template.ends_with("{path}")
}

#[tokio::test]
async fn every_route_answers_bad_path_values_with_a_problem() {
    for template in gapmap::api::route_paths() {
        if !template.contains('{') {
            continue;
        }
        let uri = fill(template, false);
        let reply = send(Method::GET, &uri).await;
        let doc = reply.problem(&format!("GET {uri}"));
        if reply.status == StatusCode::BAD_REQUEST {
            let p = doc["parameter"].as_str().unwrap_or_default().to_owned();
            assert!(
                ["z", "x", "y"].contains(&p.as_str()),
                "GET {uri}: names {p}: {doc}"
            );
        }
    }
}

#[tokio::test]
async fn every_route_refuses_unknown_and_repeated_parameters_naming_them() {
    let api: Value = serde_json::from_str(&send(Method::GET, "/api?f=json").await.body).unwrap();
    for template in gapmap::api::route_paths() {
        if ignores_query(template) || write_only(template) {
            continue;
        }
        let path = fill(template, true);
        let uri = format!("{path}?zz_unknown=1");
        let doc = send(Method::GET, &uri).await.problem(&format!("GET {uri}"));
        assert_eq!(doc["status"], 400, "GET {uri}: {doc}");
        assert_eq!(doc["parameter"], "zz_unknown", "GET {uri}: {doc}");
        let detail = doc["detail"].as_str().unwrap();
        assert!(
            detail.contains("expected one of: ") && !detail.ends_with("expected one of: ")
                || detail.ends_with("this resource takes no query parameters"),
            "GET {uri}: the accepted parameters are listed, or their absence said: {doc}"
        );
        // The first documented query parameter, given twice.
        let doc_path = template
            .replace("{collection_id}", "{collectionId}")
            .replace("{feature_id}", "{featureId}");
        let params = api["paths"][&doc_path]["get"]["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let resolve = |p: &Value| -> Value {
            p["$ref"].as_str().map_or_else(
                || p.clone(),
                |r| api["components"]["parameters"][r.rsplit('/').next().unwrap()].clone(),
            )
        };
        if let Some(q) = params.iter().map(resolve).find(|p| p["in"] == "query") {
            let name = q["name"].as_str().unwrap();
            let uri = format!("{path}?{name}=1&{name}=1");
            let doc = send(Method::GET, &uri).await.problem(&format!("GET {uri}"));
            assert_eq!(doc["parameter"], name, "GET {uri}: {doc}");
        }
    }
}

#[tokio::test]
async fn every_route_refuses_other_methods_with_a_problem() {
    for template in gapmap::api::route_paths() {
        if template.ends_with("{path}") {
            continue; // static files: ServeDir answers 405 itself, covered below
        }
        let uri = fill(template, true);
        let reply = send(Method::DELETE, &uri).await;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "DELETE {uri}");
        reply.problem(&format!("DELETE {uri}"));
    }
}

#[tokio::test]
async fn unknown_paths_and_long_file_names_are_404_problems() {
    for uri in [
        "/nothing/here".to_owned(),
        format!("/web/static/{}", "a".repeat(256)),
        format!("/web/static/{}", "a".repeat(5000)),
        "/web/static/%FF%FE".to_owned(),
        "/web/static/../Cargo.toml".to_owned(),
        "/collections/%FF/items".to_owned(),
    ] {
        let reply = send(Method::GET, &uri).await;
        assert!(
            reply.status == StatusCode::NOT_FOUND || reply.status == StatusCode::BAD_REQUEST,
            "GET {uri}: {}",
            reply.status
        );
        reply.problem(&format!("GET {uri}"));
    }
}

/// `{name}` → `{}`, so that axum's and OpenAPI's parameter names compare.
fn shape(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "{}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether a documented path is the route template or an instance of it
/// (`/collections/lsoa/items` of `/collections/{}/items`).
fn instance_of(doc: &str, route: &str) -> bool {
    let (d, r): (Vec<&str>, Vec<&str>) = (doc.split('/').collect(), route.split('/').collect());
    d.len() == r.len() && d.iter().zip(&r).all(|(a, b)| a == b || *b == "{}")
}

#[tokio::test]
async fn the_api_document_describes_exactly_the_routes() {
    let api: Value = serde_json::from_str(&send(Method::GET, "/api?f=json").await.body).unwrap();
    let documented: BTreeSet<String> = api["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| shape(k))
        .collect();
    let routes: BTreeSet<String> = gapmap::api::route_paths()
        .iter()
        .map(|r| shape(r))
        .collect();
    let undocumented: Vec<&String> = routes.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from /api: {undocumented:?}"
    );
    let unknown: Vec<&String> = documented
        .iter()
        .filter(|d| !routes.iter().any(|r| instance_of(d, r)))
        .collect();
    assert!(
        unknown.is_empty(),
        "/api paths no route serves: {unknown:?}"
    );
    // Every documented operation declares its success response.
    for (path, item) in api["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|k| k.starts_with('2')),
                "{method} {path}"
            );
        }
    }
}

/// Every number under `key`, anywhere in a document.
fn numbers_under(v: &Value, key: &str, out: &mut Vec<serde_json::Number>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if let (true, Value::Number(n)) = (k == key, child) {
                    out.push(n.clone());
                }
                numbers_under(child, key, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|c| numbers_under(c, key, out)),
        _ => {}
    }
}

/// Carried 2019 deciles are whole deciles (the carry-over never averages
/// them), and the map's panel serves them, and the change, as integers.
#[tokio::test]
async fn carried_2019_deciles_are_served_as_integers() {
    let state = common::app_state().snapshot();
    let mut seen = 0;
    for l in state.atlas.lsoa21.iter().step_by(40) {
        let body = send(Method::GET, &format!("/web/api/lsoa/{}", l.code))
            .await
            .body;
        let doc: Value = serde_json::from_str(&body).unwrap();
        for key in ["decile_2019", "change"] {
            let mut found = Vec::new();
            numbers_under(&doc, key, &mut found);
            for n in found {
                assert!(n.is_i64(), "{}: {key} {n} is not a whole number", l.code);
                seen += 1;
            }
        }
    }
    assert!(seen > 0, "no carried 2019 decile was checked");
}

/// Every operation that takes a query parameter documents the 400 it
/// answers to a bad or repeated one (Schemathesis found queryables' missing).
#[tokio::test]
async fn every_operation_with_parameters_documents_its_400() {
    let api: Value = serde_json::from_str(&send(Method::GET, "/api?f=json").await.body).unwrap();
    for (path, item) in api["paths"].as_object().unwrap() {
        let op = &item["get"];
        if op.is_null() {
            continue; // write operations: their 400s are documented with them
        }
        let has_params = op["parameters"].as_array().is_some_and(|p| !p.is_empty());
        if has_params && !path.ends_with("{path}") && path != "/map" && path != "/wards/{code}" {
            assert!(
                op["responses"].get("400").is_some(),
                "{path} takes parameters but documents no 400"
            );
        }
    }
}

#[tokio::test]
async fn each_tileset_has_a_page_reached_from_the_list() {
    for c in ["lsoa", "lsoa-2011", "wards", "districts"] {
        let list: Value = serde_json::from_str(
            &send(Method::GET, &format!("/collections/{c}/tiles"))
                .await
                .body,
        )
        .unwrap();
        let entry = &list["tilesets"][0];
        let link = |t: &Value, rel: &str| -> String {
            t["links"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["rel"] == rel)
                .unwrap_or_else(|| panic!("{c}: no {rel} link in {t}"))["href"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let page_path = link(entry, "self");
        assert_eq!(page_path, format!("/collections/{c}/tiles/WebMercatorQuad"));
        let page = send(Method::GET, &page_path).await;
        assert_eq!(page.status, StatusCode::OK, "{page_path}");
        let page: Value = serde_json::from_str(&page.body).unwrap();
        assert_eq!(
            page["tileMatrixSetURI"],
            "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
        );
        assert_eq!(page["layers"][0]["id"], c);
        let tile = link(&page, "item")
            .replace("{tileMatrix}", "0")
            .replace("{tileCol}", "0")
            .replace("{tileRow}", "0");
        assert_eq!(
            send(Method::GET, &tile).await.status,
            StatusCode::OK,
            "{tile}"
        );
    }
}

#[tokio::test]
async fn a_tile_has_one_address() {
    // One spelling per tile: other spellings of the same numbers would be
    // cached, and counted, as other tiles.
    let base = "/collections/wards/tiles/WebMercatorQuad";
    assert_eq!(
        send(Method::GET, &format!("{base}/0/0/0")).await.status,
        StatusCode::OK
    );
    for (path, parameter) in [
        ("0/0/0.pbf", "y"),
        ("0/0/0.mvt", "y"),
        ("0/0/+0", "y"),
        ("0/0/00", "y"),
        ("0/+0/0", "x"),
        ("00/0/0", "z"),
        ("0/0/%200", "y"),
        ("0/0/99999999999", "y"),
    ] {
        let uri = format!("{base}/{path}");
        let doc = send(Method::GET, &uri).await.problem(&uri);
        assert_eq!(doc["status"], 400, "{uri}: {doc}");
        assert_eq!(doc["parameter"], parameter, "{uri}: {doc}");
    }
}

#[tokio::test]
async fn text_that_is_not_utf8_is_refused_naming_the_parameter() {
    for (uri, parameter) in [
        ("/search?q=%FF", "q"),
        ("/search?q=ab%C3", "q"),
        ("/collections/lsoa/items?filter=%FF%FE", "filter"),
        ("/gaps?category=gp%80", "category"),
    ] {
        let doc = send(Method::GET, uri).await.problem(uri);
        assert_eq!(doc["status"], 400, "{uri}: {doc}");
        assert_eq!(doc["parameter"], parameter, "{uri}: {doc}");
    }
}

#[tokio::test]
async fn a_search_for_punctuation_finds_nothing() {
    // "—" folds to nothing, and "" starts every name.
    for q in ["%E2%80%94", "--", "%27%27", "..", "%E2%80%93%20%E2%80%94"] {
        let uri = format!("/search?q={q}");
        let reply = send(Method::GET, &uri).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}");
        let doc: Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(doc["total"], 0, "{uri}: {doc}");
    }
    let doc: Value =
        serde_json::from_str(&send(Method::GET, "/search?q=Rose%20Hill").await.body).unwrap();
    assert!(doc["total"].as_u64().unwrap() >= 1, "{doc}");
}
