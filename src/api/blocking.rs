//! CPU-bound handler work off the async workers.
//!
//! Handlers compute synchronously: a filtered page of England's LSOAs, the
//! whole LSOA layer, a gap report or a low-zoom tile holds the thread that
//! runs it for the whole computation, and the per-request time budget
//! ([`super::server`]) can only drop a request at an await point. On
//! tokio's blocking pool the work leaves the workers free for other
//! requests (`/conformance` stays answerable while two such requests run),
//! and the budget's 503 goes out on time; the work of a request that was
//! abandoned or timed out finishes on the pool, bounded by the limits on
//! filters, pages and tiles.

use axum::response::{IntoResponse, Response};

use super::ApiError;

/// Runs `work` on the blocking pool and returns its response (a logged 500
/// if it panicked).
pub async fn off_workers<F, R>(work: F) -> Response
where
    F: FnOnce() -> R + Send + 'static,
    R: IntoResponse + Send + 'static,
{
    match tokio::task::spawn_blocking(move || work().into_response()).await {
        Ok(response) => response,
        Err(e) => ApiError::internal(e).into_response(),
    }
}
