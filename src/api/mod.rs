//! The HTTP API. [`app`] builds the whole router from the shared state:
//! OGC API – Features under [`ogc`], the planner endpoints (gaps, profiles,
//! priority areas) under [`planner`], OGC API – Processes (area profiles)
//! under [`processes`], and the browser map under [`web`].
//! Handlers read the atlas and analysis results only; they never see files.

pub mod areas;
pub mod blocking;
pub mod cache;
pub mod error;
pub mod ogc;
pub mod openapi;
pub mod planner;
pub mod processes;
pub mod query;
pub mod register;
pub mod routes;
pub mod server;
pub mod state;
pub mod web;

use std::sync::Arc;

use axum::http::{header, Method};
use axum::Router;
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::cors::{Any, CorsLayer};

pub use error::ApiError;
pub use routes::Routes;
pub use state::{AppState, Snap, Snapshot};

/// Every route: OGC API – Features, planner endpoints and the web map.
#[must_use]
pub fn routes() -> Routes {
    ogc::routes()
        .merge(planner::routes())
        .merge(processes::routes())
        .merge(web::routes())
}

/// The path templates of every route (axum syntax), for checking `/api`.
#[must_use]
pub fn route_paths() -> Vec<&'static str> {
    routes().into_parts().1
}

/// The complete router, with compression, CORS, and every error as
/// `application/problem+json`. Request logging, time budgets and connection
/// limits are added by [`server::serve`].
pub fn app(state: Arc<AppState>) -> Router {
    let (router, _) = routes().into_parts();
    // Open data: any origin may read it from a browser, and write to the
    // register with a bearer token (no cookies, so no credentials mode).
    // `Authorization` must be listed: a wildcard does not cover it.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::OPTIONS,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::HeaderName::from_static("content-crs"),
        ])
        .expose_headers([
            header::ETAG,
            header::LINK,
            header::LOCATION,
            header::ALLOW,
            header::HeaderName::from_static("content-crs"),
        ]);
    let plain = router
        // The server bounds every body ([`server::ServerLimits::body_limit`]:
        // 1 MiB, uploads 12 MiB); axum's own 2 MB default for extractors
        // would cut uploads short of theirs.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .fallback(error::fallback)
        .method_not_allowed_fallback(error::method_not_allowed)
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            register::auth::read_gate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            ogc::revalidate_live_data,
        ))
        .with_state(Arc::clone(&state))
        // Innermost, so that the problem documents it writes are compressed too.
        .layer(axum::middleware::from_fn(server::problem_json_errors))
        // Levels chosen by measurement (see `cache`): brotli 4, gzip 6.
        // `cache::compressed` has left one encoding in `Accept-Encoding`.
        .layer(
            CompressionLayer::new()
                .no_gzip()
                .quality(CompressionLevel::Precise(4)),
        )
        .layer(CompressionLayer::new().no_br())
        .layer(axum::middleware::from_fn_with_state(
            state,
            cache::compressed,
        ));
    // The CORS layer takes every OPTIONS for a preflight; an OPTIONS that
    // is not one (QGIS asking which methods an items path allows) goes to
    // the routes, which answer with `Allow`.
    let with_cors = plain.clone().layer(cors);
    Router::new().fallback_service(tower::service_fn(move |request: axum::extract::Request| {
        let preflight = request.method() == Method::OPTIONS
            && request
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
        let service = if request.method() == Method::OPTIONS && !preflight {
            plain.clone()
        } else {
            with_cors.clone()
        };
        tower::ServiceExt::oneshot(service, request)
    }))
}
