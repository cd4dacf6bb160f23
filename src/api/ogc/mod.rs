//! OGC API – Features (Parts 1, 2 and 3).

use std::sync::Arc;

use axum::Router;

use super::AppState;

/// OGC API routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
}
