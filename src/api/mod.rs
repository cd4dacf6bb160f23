//! The HTTP API. [`app`] builds the whole router from the shared state:
//! OGC API – Features under [`ogc`], the planner endpoints (gaps, profiles,
//! priority areas) under [`planner`], and the browser map under [`web`].
//! Handlers read the atlas and analysis results only; they never see files.

pub mod ogc;
pub mod planner;
pub mod state;
pub mod web;

use std::sync::Arc;

use axum::Router;

pub use state::AppState;

/// The complete router.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .merge(ogc::routes())
        .merge(planner::routes())
        .merge(web::routes())
        .with_state(state)
}
