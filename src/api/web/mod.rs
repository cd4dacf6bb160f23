//! The planner's browser map: static files from `web/`, search, vector tiles.

use std::sync::Arc;

use axum::Router;

use super::AppState;

/// Web routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
}
