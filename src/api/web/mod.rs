//! The planner's browser map: static files from `web/`, the map's own small
//! JSON endpoints under `/web/api/`, search, and the ward profile page.
//!
//! The browser app lives in `web/public/` (plain JavaScript modules, no
//! bundler); MapLibre GL JS is installed with `npm ci` in `web/` and served
//! from `web/node_modules/maplibre-gl/dist`. The directory is `GAPMAP_WEB_DIR`
//! when set, else `web/` next to the crate's manifest.

mod data;
mod geojson_out;
mod layers;
mod profile;
mod region;
mod search;
mod tiles;

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::path::PathBuf;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::services::ServeDir;

use super::error::ApiError;
use super::query::ApiPath;
use super::routes::Routes;
use super::Snap;

pub use layers::WebLayers;

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
    let maplibre = dir.join("node_modules/maplibre-gl/dist/maplibre-gl.mjs");
    if !maplibre.is_file() {
        // Without it the map page cannot start (the page says so too):
        // say it where the person who started the server looks.
        tracing::warn!(
            missing = %maplibre.display(),
            "MapLibre GL JS is not installed, so the map page cannot load: run `bash scripts/install` (npm ci in web/)"
        );
    }
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
        .route("/web/api/region", get(region::region))
        .route("/web/api/lsoa/{code}", get(profile::lsoa))
        .route("/web/api/ward/{code}", get(profile::ward))
        .merge(tiles::routes())
        .files(
            "/web/static",
            "/web/static/{path}",
            static_files(dir.join("public")),
        )
        .files(
            "/web/vendor/maplibre-gl",
            "/web/vendor/maplibre-gl/{path}",
            static_files(dir.join("node_modules").join("maplibre-gl").join("dist")),
        )
}

/// Files under `root`. A path that names no file (missing, a directory
/// without index.html, `..`, a name too long for the file system, invalid
/// percent-encoding or UTF-8, a NUL byte) is a 404 `application/problem+json`;
/// only a real I/O failure is a 500, logged with an id like every internal
/// error. (`ServeDir` alone answers an empty 500 to a name over 255 bytes.)
fn static_files(
    root: PathBuf,
) -> impl tower::Service<
    Request,
    Response = Response,
    Error = Infallible,
    Future = impl Future<Output = Result<Response, Infallible>> + Send,
> + Clone
       + Send
       + Sync
       + 'static {
    let files = ServeDir::new(root);
    tower::service_fn(move |request: Request| {
        let mut files = files.clone();
        async move {
            let response = match files.try_call(request).await {
                Ok(response) if response.status() == StatusCode::NOT_FOUND => no_file(),
                Ok(response) => response.map(Body::new),
                Err(e) if names_no_file(&e) => no_file(),
                Err(e) => ApiError::internal(format!("reading a static file: {e}")).into_response(),
            };
            Ok(response)
        }
    })
}

fn no_file() -> Response {
    ApiError::not_found("no file at this path").into_response()
}

/// Whether an error opening a requested file means that the path names no
/// file, rather than that the file system failed.
fn names_no_file(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound
            | io::ErrorKind::PermissionDenied
            | io::ErrorKind::NotADirectory
            | io::ErrorKind::IsADirectory
            | io::ErrorKind::InvalidFilename
            | io::ErrorKind::InvalidInput
    )
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
