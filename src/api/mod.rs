//! The HTTP API. [`app`] builds the whole router from the shared state:
//! OGC API – Features under [`ogc`], the planner endpoints (gaps, profiles,
//! priority areas) under [`planner`], and the browser map under [`web`].
//! Handlers read the atlas and analysis results only; they never see files.

pub mod error;
pub mod ogc;
pub mod planner;
pub mod server;
pub mod state;
pub mod web;

use std::sync::Arc;

use axum::http::{header, Method};
use axum::Router;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};

pub use error::ApiError;
pub use state::AppState;

/// The complete router, with compression, CORS, and every error as
/// `application/problem+json`. Request logging, time budgets and connection
/// limits are added by [`server::serve`].
pub fn app(state: Arc<AppState>) -> Router {
    // Build the OGC collections now so that the first request does not pay for it.
    let _ = ogc::ogc_state(&state);
    // Open data, read-only: any origin may GET it from a browser.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::HEAD, Method::OPTIONS])
        .allow_headers(Any)
        .expose_headers([
            header::ETAG,
            header::LINK,
            header::HeaderName::from_static("content-crs"),
        ]);
    Router::new()
        .merge(ogc::routes())
        .merge(planner::routes())
        .merge(web::routes())
        .fallback(error::fallback)
        .with_state(state)
        // Innermost, so that the problem documents it writes are compressed too.
        .layer(axum::middleware::from_fn(server::problem_json_errors))
        .layer(CompressionLayer::new().gzip(true).br(true))
        .layer(cors)
}
