//! What every request reads: one immutable [`Snapshot`] (atlas, analysis
//! results, OGC collections), held by [`AppState`] behind an atomic swap.
//!
//! A request takes the current snapshot once, with the [`Snap`] extractor, and
//! reads only it, so a snapshot swapped in meanwhile (after a data reload or a
//! write) never mixes with the one the request started on. There are no
//! global caches: two `AppState`s side by side (as tests build them) share
//! nothing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::ogc::{self, OgcState};
use crate::analysis::Results;
use crate::atlas::Atlas;

/// Everything a request reads, built by [`Snapshot::build`] and never changed
/// afterwards.
#[derive(Debug)]
pub struct Snapshot {
    /// The atlas.
    pub atlas: Arc<Atlas>,
    /// The analysis of the atlas (access, 2SFCA, roll-ups).
    pub results: Results,
    /// The OGC API – Features collections built from both.
    pub ogc: OgcState,
    /// Distinguishes this snapshot from every other one of this process and
    /// of earlier processes: part of every ETag.
    pub tag: u64,
}

impl Snapshot {
    /// Builds a snapshot: runs the analysis and builds the collections.
    #[must_use]
    pub fn build(atlas: Arc<Atlas>) -> Self {
        static SEQUENCE: AtomicU64 = AtomicU64::new(0);
        let started = Instant::now();
        let results = Results::new(&atlas);
        tracing::info!(elapsed_ms = started.elapsed().as_millis(), "analysis ready");
        // Start time in microseconds plus a sequence number: ETags from an
        // earlier process or an earlier snapshot never match this one.
        let tag = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
            .wrapping_add(SEQUENCE.fetch_add(1, Ordering::Relaxed));
        let started = Instant::now();
        let ogc = ogc::build::build(&atlas, &results, tag);
        tracing::info!(
            elapsed_ms = started.elapsed().as_millis(),
            collections = ogc.collections.len(),
            "OGC API collections ready"
        );
        Self {
            atlas,
            results,
            ogc,
            tag,
        }
    }
}

/// The state the router holds: the current snapshot, swapped whole.
#[derive(Debug)]
pub struct AppState {
    current: ArcSwap<Snapshot>,
}

impl AppState {
    /// Builds the first snapshot from an atlas.
    #[must_use]
    pub fn new(atlas: Atlas) -> Self {
        Self::from_snapshot(Snapshot::build(Arc::new(atlas)))
    }

    /// Serves an already built snapshot.
    #[must_use]
    pub fn from_snapshot(snapshot: Snapshot) -> Self {
        Self {
            current: ArcSwap::from_pointee(snapshot),
        }
    }

    /// The current snapshot. Hold it for the whole request.
    #[must_use]
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Replaces the snapshot at once; requests in flight finish on the one
    /// they took.
    pub fn replace(&self, snapshot: Snapshot) {
        self.current.store(Arc::new(snapshot));
    }
}

/// Extracts the current snapshot for a handler.
#[derive(Debug, Clone)]
pub struct Snap(pub Arc<Snapshot>);

impl FromRequestParts<Arc<AppState>> for Snap {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        _parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(state.snapshot()))
    }
}
