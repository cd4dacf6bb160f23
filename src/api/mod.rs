//! The HTTP API. [`app`] builds the whole router from the shared state:
//! OGC API – Features under [`ogc`], the planner endpoints (gaps, profiles,
//! priority areas) under [`planner`], and the browser map under [`web`].
//! Handlers read the atlas and analysis results only; they never see files.

pub mod error;
pub mod ogc;
pub mod planner;
pub mod state;
pub mod web;

use std::sync::Arc;

use axum::http::{header, Method};
use axum::Router;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use error::ApiError;
pub use state::AppState;

/// The complete router, with request logging, compression and CORS.
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
        .layer(CompressionLayer::new().gzip(true).br(true))
        .layer(cors)
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
}
