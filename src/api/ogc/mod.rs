//! OGC API – Features: Part 1 (Core, GeoJSON, HTML, OpenAPI 3.0), Part 2
//! (CRS: CRS84 and British National Grid) and Part 3 (queryables and CQL2
//! filters).
//!
//! Everything served is precomputed once from the atlas into an [`OgcState`]
//! (typed property rows plus GeoJSON text for properties and both CRSs'
//! geometries); handlers only select, page and concatenate.

pub mod areas_collection;
pub mod build;
pub mod collections;
pub mod conformance;
pub mod crs;
pub mod encode;
pub mod filter;
pub mod html;
pub mod items;
pub mod landing;
pub mod links;
pub mod model;
pub mod openapi;
pub mod params;
pub mod provider;
pub mod queryables;
pub mod register_collection;
pub mod respond;
pub mod row;

use axum::http::{header, HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;

pub use model::OgcState;
use params::{Format, Params};
use respond::{cached, media, RequestInfo};

use super::error::ApiError;
use super::query::ApiPath;
use super::register;
use super::routes::Routes;
use super::state::{Snap, Snapshot};

/// OGC API routes.
pub fn routes() -> Routes {
    Routes::new()
        .route("/", get(landing_page))
        .route("/conformance", get(conformance_page))
        .route("/api", get(api_page))
        .route("/collections", get(collections_page))
        .route("/collections/{collection_id}", get(collection_page))
        .route(
            "/collections/{collection_id}/queryables",
            get(queryables_page),
        )
        .route(
            "/collections/{collection_id}/items",
            get(items_page)
                .post(register::create_item)
                .options(register::items_options),
        )
        .route(
            "/collections/{collection_id}/items/{feature_id}",
            get(feature_page)
                .put(register::replace_item)
                .patch(register::patch_item)
                .delete(register::delete_item)
                .options(register::item_options),
        )
        .route(
            "/collections/{collection_id}/items/{feature_id}/history",
            get(register::history_page),
        )
        .route(
            "/collections/{collection_id}/import",
            post(register::import_page),
        )
        .route("/register/categories", post(register::categories_page))
        .route("/register/session", get(register::session_page))
}

/// Answers a metadata document (landing, conformance, collections...) as JSON
/// or HTML after checking the query string holds only `f`.
fn document(
    state: &Snapshot,
    headers: &HeaderMap,
    uri: Uri,
    json_type: &str,
    make: impl FnOnce(&OgcState, &str) -> Result<Value, ApiError>,
) -> Result<Response, ApiError> {
    let ogc = &state.ogc;
    let info = RequestInfo::new(headers, uri);
    let params = Params::from_uri(&info.uri)?;
    params.check(&["f"], |_| false)?;
    let format = params::format(&params, info.accept.as_deref())?;
    let etag = info.etag(state.tag, format, "");
    let content_type = if format == Format::Html {
        media::HTML
    } else {
        json_type
    };
    cached(&info, &etag, content_type, &[], || {
        let doc = make(ogc, &info.base)?;
        match format {
            Format::Json => respond::json_text(&doc),
            Format::Html => {
                let title = doc
                    .get("title")
                    .and_then(Value::as_str)
                    .unwrap_or("GapMap")
                    .to_owned();
                Ok(html::page(&title, &doc))
            }
        }
    })
}

/// Whether a request for `/` gets the planner's map: a browser (Accept
/// prefers HTML) without `f`. `f=html` still gives the OGC HTML landing
/// page, and API clients the JSON one. The map page holds no data, so it is
/// part of the pages' shell that needs no token.
#[must_use]
pub fn landing_wants_map(uri: &Uri, headers: &HeaderMap) -> bool {
    uri.path() == "/"
        && uri
            .query()
            .is_none_or(|q| !q.split('&').any(|p| p.starts_with("f=")))
        && params::format(
            &Params::default(),
            headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()),
        )
        .is_ok_and(|f| f == Format::Html)
}

async fn landing_page(Snap(state): Snap, headers: HeaderMap, uri: Uri) -> Response {
    if landing_wants_map(&uri, &headers) {
        // The same URL answers JSON to other clients: shared caches must
        // key on Accept.
        let mut page = super::web::index_html().await;
        page.headers_mut()
            .append(header::VARY, axum::http::HeaderValue::from_static("Accept"));
        return page;
    }
    document(&state, &headers, uri, media::JSON, |ogc, base| {
        Ok(landing::document(ogc, base))
    })
    .into_response()
}

async fn conformance_page(Snap(state): Snap, headers: HeaderMap, uri: Uri) -> Response {
    document(&state, &headers, uri, media::JSON, |_, base| {
        Ok(conformance::document(base))
    })
    .into_response()
}

async fn api_page(Snap(state): Snap, headers: HeaderMap, uri: Uri) -> Response {
    document(&state, &headers, uri, media::OPENAPI, |ogc, base| {
        Ok(crate::api::openapi::document(ogc, base))
    })
    .into_response()
}

async fn collections_page(Snap(state): Snap, headers: HeaderMap, uri: Uri) -> Response {
    document(&state, &headers, uri, media::JSON, |ogc, base| {
        Ok(collections::list(ogc, base))
    })
    .into_response()
}

fn unknown_collection(ogc: &OgcState, id: &str) -> ApiError {
    ApiError::not_found(format!(
        "no collection '{id}'; collections: {}",
        ogc.collections
            .iter()
            .map(|c| c.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

async fn collection_page(
    Snap(state): Snap,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    document(&state, &headers, uri, media::JSON, |ogc, base| {
        ogc.provider(&id)
            .map(|c| c.describe(base))
            .ok_or_else(|| unknown_collection(ogc, &id))
    })
    .into_response()
}

async fn queryables_page(
    Snap(state): Snap,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    document(&state, &headers, uri, media::SCHEMA, |ogc, base| {
        ogc.provider(&id)
            .map(|c| c.queryables(base))
            .ok_or_else(|| unknown_collection(ogc, &id))
    })
    .into_response()
}

fn items(state: &Snapshot, id: &str, headers: &HeaderMap, uri: Uri) -> Result<Response, ApiError> {
    let ogc = &state.ogc;
    let c = ogc
        .provider(id)
        .ok_or_else(|| unknown_collection(ogc, id))?;
    let info = RequestInfo::new(headers, uri);
    let params = Params::from_uri(&info.uri)?;
    let format = params::format(&params, info.accept.as_deref())?;
    let q = c.parse_items(&params)?;
    let etag = info.etag(state.tag, format, "");
    let content_type = if format == Format::Html {
        media::HTML
    } else {
        media::GEOJSON
    };
    cached(
        &info,
        &etag,
        content_type,
        &[("content-crs", crs::content_crs(q.crs))],
        || {
            let text = c.write_items(&q, &params, &info.base);
            match format {
                Format::Json => Ok(text),
                Format::Html => {
                    let doc: Value = serde_json::from_str(&text).map_err(ApiError::internal)?;
                    Ok(html::page(c.title(), &doc))
                }
            }
        },
    )
}

async fn items_page(
    Snap(state): Snap,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let collection = id.clone();
    let response = crate::api::blocking::off_workers(move || {
        items(&state, &collection, &headers, uri).into_response()
    })
    .await;
    revalidated(&id, response)
}

/// The register changes at any moment: caches must ask before reusing a
/// copy (its ETag makes that cheap), instead of keeping it for an hour.
fn revalidated(collection: &str, mut response: Response) -> Response {
    let live = collection == register::COLLECTION || collection == areas_collection::ID;
    if live && response.status().is_success() {
        response.headers_mut().insert(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-cache"),
        );
    }
    response
}

/// Middleware for [`crate::api::app`]: while a register is attached, every
/// snapshot can be replaced at any moment (a write re-derives the assets,
/// the access measures and every collection built on them), so responses
/// that would be cached for an hour (`public, max-age=...`) must be
/// revalidated instead (`no-cache`); their ETags carry the snapshot tag, so
/// revalidating costs a 304. Without a register the data cannot change while
/// the process runs, and the hour stands.
pub async fn revalidate_live_data(
    axum::extract::State(state): axum::extract::State<std::sync::Arc<crate::api::AppState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let mut response = next.run(request).await;
    if state.register().is_some() {
        let cache = axum::http::header::CACHE_CONTROL;
        let long_lived = response
            .headers()
            .get(&cache)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("max-age"));
        if long_lived {
            response
                .headers_mut()
                .insert(cache, axum::http::HeaderValue::from_static("no-cache"));
        }
    }
    response
}

fn feature(
    state: &Snapshot,
    id: &str,
    fid: &str,
    headers: &HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    let ogc = &state.ogc;
    let c = ogc
        .provider(id)
        .ok_or_else(|| unknown_collection(ogc, id))?;
    let missing = || ApiError::not_found(format!("no feature '{fid}' in collection '{id}'"));
    let info = RequestInfo::new(headers, uri);
    let params = Params::from_uri(&info.uri)?;
    let format = params::format(&params, info.accept.as_deref())?;
    let (out_crs, only) = c.parse_item(&params)?;
    // A missing feature is a 404 even when the client holds an ETag.
    if !c.contains(fid) {
        return Err(missing());
    }
    let mut etag = info.etag(state.tag, format, "");
    if id == register::COLLECTION {
        // Strong, carrying the entry's version, so that If-Match can guard a write.
        if let Some(p) = crate::model::register::parse_feature_id(fid).and_then(|n| {
            let i = state
                .register
                .binary_search_by_key(&n, |p| p.entry.id)
                .ok()?;
            state.register.get(i)
        }) {
            etag = register::etag::entry_etag(
                p,
                &info.base,
                format == Format::Html,
                info.uri.query().unwrap_or(""),
            );
        }
    }
    if id == areas_collection::ID {
        // Strong, carrying the area's version, as for the register.
        if let Some(tag) = crate::api::areas::feature_etag(
            state,
            fid,
            &info.base,
            format,
            info.uri.query().unwrap_or(""),
        ) {
            etag = tag;
        }
    }
    let content_type = if format == Format::Html {
        media::HTML
    } else {
        media::GEOJSON
    };
    cached(
        &info,
        &etag,
        content_type,
        &[("content-crs", crs::content_crs(out_crs))],
        || {
            let text = c
                .write_item(fid, out_crs, only.as_deref(), &info.base)
                .ok_or_else(missing)?;
            match format {
                Format::Json => Ok(text),
                Format::Html => {
                    let doc: Value = serde_json::from_str(&text).map_err(ApiError::internal)?;
                    Ok(html::page(&format!("{} {fid}", c.title()), &doc))
                }
            }
        },
    )
}

async fn feature_page(
    Snap(state): Snap,
    ApiPath((id, fid)): ApiPath<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    revalidated(
        &id,
        feature(&state, &id, &fid, &headers, uri).into_response(),
    )
}
