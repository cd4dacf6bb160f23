//! The planner's browser map: static files from `web/`, the map's own small
//! JSON endpoints under `/web/api/`, search, and the ward profile page.
//!
//! The browser app lives in `web/public/` (plain JavaScript modules, no
//! bundler); MapLibre GL JS is installed with `npm ci` in `web/` and served
//! from `web/node_modules/maplibre-gl/dist`. The directory is `GAPMAP_WEB_DIR`
//! when set, else `web/` next to the crate's manifest.

mod data;
mod geojson_out;
mod profile;
mod search;
mod tiles;

use std::path::PathBuf;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::convert::Infallible;

use axum::extract::Request;
use tower::{Service, ServiceExt};
use tower_http::services::ServeDir;

use super::error::ApiError;
use super::query::ApiPath;
use super::routes::Routes;
use super::Snap;

/// The directory holding the browser app (`public/`) and its npm packages.
#[must_use]
pub fn web_dir() -> PathBuf {
    std::env::var_os("GAPMAP_WEB_DIR").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/web")),
        PathBuf::from,
    )
}

/// Web routes: `/map`, `/wards/{code}` (HTML), `/search`, `/web/api/*`,
/// static files under `/web/static/` and MapLibre under `/web/vendor/maplibre-gl/`,
/// and vector tiles under `/collections/{lsoa,wards,districts}/tiles/`.
pub fn routes() -> Routes {
    let dir = web_dir();
    Routes::new()
        .route("/map", get(index_html))
        .route("/wards/{code}", get(ward_html))
        .route("/search", get(search::search))
        .route("/web/api/meta", get(data::meta))
        .route("/web/api/lsoa-layer", get(data::lsoa_layer))
        .route("/web/api/boundaries/{layer}", get(data::boundaries))
        .route("/web/api/labels/{layer}", get(data::labels))
        .route("/web/api/assets", get(data::assets))
        .route("/web/api/coverage", get(data::coverage))
        .route("/web/api/lsoa/{code}", get(profile::lsoa))
        .route("/web/api/ward/{code}", get(profile::ward))
        .merge(tiles::routes())
        .files(
            "/web/static",
            "/web/static/{path}",
            files(dir.join("public")),
        )
        .files(
            "/web/vendor/maplibre-gl",
            "/web/vendor/maplibre-gl/{path}",
            files(dir.join("node_modules").join("maplibre-gl").join("dist")),
        )
}

/// Serves the files below `dir`. Anything that is not a file there (a name
/// too long for the file system, bytes that are not UTF-8, `..`) is a 404
/// problem document, as for every other missing resource.
fn files(
    dir: PathBuf,
) -> impl Service<Request, Response = Response, Error = Infallible, Future: Send> + Clone + Send + Sync
{
    let serve = ServeDir::new(dir);
    ServiceExt::<Request>::map_response(serve, |r: axum::http::Response<_>| {
        let status = r.status();
        if status.is_success() || status.is_redirection() {
            return r.map(axum::body::Body::new);
        }
        if status == axum::http::StatusCode::METHOD_NOT_ALLOWED {
            return ApiError {
                status,
                title: "Method not allowed",
                detail: "files are read with GET or HEAD".into(),
                parameter: None,
            }
            .into_response();
        }
        if status.is_server_error() {
            tracing::warn!(%status, "static file read failed; answered 404");
        }
        ApiError::not_found("no file at this path").into_response()
    })
}

/// Serves an HTML file from `web/public/`. A missing file is a deployment
/// fault: logged with its path, answered as a 500 problem document that
/// leaks no path.
fn html_file(name: &str) -> Response {
    let path = web_dir().join("public").join(name);
    match std::fs::read_to_string(&path) {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            body,
        )
            .into_response(),
        Err(e) => ApiError::internal(format!(
            "the map's files are missing: cannot read {} ({e}); set GAPMAP_WEB_DIR to the web/ directory",
            path.display()
        ))
        .into_response(),
    }
}

/// The map page. Also what `/` returns to a browser (Accept: text/html).
pub async fn index_html() -> Response {
    html_file("index.html")
}

/// The printable ward profile page; the page itself reads `/wards/{code}/profile`.
/// An unknown ward is a 404 here, not an empty page.
async fn ward_html(
    Snap(state): Snap,
    ApiPath(code): ApiPath<String>,
) -> Result<Response, ApiError> {
    let atlas = &state.atlas;
    if atlas.ward_by_code(code.trim()).is_none() {
        return Err(ApiError::not_found(format!(
            "no 2024 ward with code '{code}' in {}",
            atlas.region.name
        )));
    }
    Ok(html_file("ward.html"))
}
