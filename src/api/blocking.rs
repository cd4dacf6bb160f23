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
//! area profile) runs with [`off_workers_interruptible`] and stops.

use axum::response::{IntoResponse, Response};

use std::sync::Arc;

use tokio::sync::Semaphore;

use super::ApiError;
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

/// [`off_workers`] for work that polls an [`Interrupt`]: when the returned
/// future is dropped before the work ends (the request's time budget ran
/// out, or its client left), the flag is raised and the work stops at its
/// next check instead of running on for nobody.
pub async fn off_workers_interruptible<F, R>(work: F) -> Response
where
    F: FnOnce(&Interrupt) -> R + Send + 'static,
    R: IntoResponse + Send + 'static,
{
    let interrupt = Interrupt::new();
    let _raise = RaiseOnDrop(interrupt.clone());
    off_workers(move || work(&interrupt)).await
}

/// [`off_workers_interruptible`] holding one of `slots` for as long as the
/// work runs: waits for a slot first (a request dropped while waiting
/// costs nothing), and the slot is freed when the work ends, not when the
/// request goes. So work that cannot be stopped at once (a GEOS call
/// between two interrupt checks) never runs more than `slots` at a time.
pub async fn off_workers_limited<F, R>(slots: &Arc<Semaphore>, work: F) -> Response
where
    F: FnOnce(&Interrupt) -> R + Send + 'static,
    R: IntoResponse + Send + 'static,
{
    let Ok(slot) = Arc::clone(slots).acquire_owned().await else {
        return ApiError::internal("the area work slots were closed").into_response();
    };
    off_workers_interruptible(move |interrupt| {
        let response = work(interrupt);
        drop(slot);
        response
    })
    .await
}
