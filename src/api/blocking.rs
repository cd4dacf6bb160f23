//! CPU-bound handler work off the async workers.
//!
//! Handlers compute synchronously: a filtered page of England's LSOAs, the
//! whole LSOA layer, a gap report or a low-zoom tile holds the thread that
//! runs it for the whole computation, and the per-request time budget
//! ([`super::server`]) can only drop a request at an await point. On
//! tokio's blocking pool the work leaves the workers free for other
//! requests (`/conformance` stays answerable while two such requests run),
//! and the budget's 503 goes out on time. The work of a request that was
//! abandoned or timed out finishes on the pool, bounded by the limits on
//! filters, pages and tiles; work whose size those limits cannot bound (an
//! area profile, a gap report, the whole LSOA layer, the region profile)
//! runs with [`limited`], so that abandoned requests never run more of it
//! at once than there are slots, and stops at its next check.

use axum::response::{IntoResponse, Response};

use std::sync::Arc;

use tokio::sync::Semaphore;

use super::{ApiError, AppState, Snapshot};
use crate::analysis::interrupt::{Interrupt, RaiseOnDrop};

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

/// Runs `work` on the blocking pool in one of `slots` and returns its
/// value: waits for a slot first (a request dropped while waiting costs
/// nothing), and the slot is freed when the work ends, not when the
/// request goes. So work that cannot be stopped at once (a GEOS call
/// between two interrupt checks) never runs more than `slots` at a time;
/// the [`Interrupt`] it polls is raised when the request goes.
///
/// # Errors
/// A logged 500 if the slots were closed or the work panicked.
pub async fn limited<F, T>(slots: &Arc<Semaphore>, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&Interrupt) -> T + Send + 'static,
    T: Send + 'static,
{
    let slot = Arc::clone(slots)
        .acquire_owned()
        .await
        .map_err(ApiError::internal)?;
    let interrupt = Interrupt::new();
    let _raise = RaiseOnDrop(interrupt.clone());
    tokio::task::spawn_blocking(move || {
        let value = work(&interrupt);
        drop(slot);
        value
    })
    .await
    .map_err(ApiError::internal)
}

/// [`limited`] for a handler's response.
pub async fn off_workers_limited<F, R>(slots: &Arc<Semaphore>, work: F) -> Response
where
    F: FnOnce(&Interrupt) -> R + Send + 'static,
    R: IntoResponse + Send + 'static,
{
    match limited(slots, move |interrupt| work(interrupt).into_response()).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

/// Runs heavy work (a walk over every LSOA whose answer no page limit
/// bounds) on the current snapshot, in one of the app's heavy-work slots
/// ([`AppState::heavy_work`]): [`off_workers_limited`] for a handler that
/// needs nothing else from its request's state.
pub async fn heavy<F, R>(app: &AppState, work: F) -> Response
where
    F: FnOnce(&Snapshot, &Interrupt) -> R + Send + 'static,
    R: IntoResponse + Send + 'static,
{
    let snapshot = app.snapshot();
    off_workers_limited(&app.heavy_work, move |interrupt| work(&snapshot, interrupt)).await
}
