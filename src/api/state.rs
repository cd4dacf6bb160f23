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
use crate::atlas::register::PlacedEntry;
use crate::atlas::{Atlas, CategoryIdx};
use crate::live::areas::PlacedArea;
use crate::live::{Publisher, Register};

/// Everything a request reads, built by [`Snapshot::build`] and never changed
/// afterwards.
#[derive(Debug)]
pub struct Snapshot {
    /// The atlas.
    pub atlas: Arc<Atlas>,
    /// The analysis of the atlas (access, 2SFCA, roll-ups); shared by the
    /// snapshots that differ only in saved areas.
    pub results: Arc<Results>,
    /// The OGC API – Features collections built from both.
    pub ogc: OgcState,
    /// Distinguishes this snapshot from every other one of this process and
    /// of earlier processes: part of every ETag.
    pub tag: u64,
    /// The tag of the snapshot whose areas (2021 and 2011 LSOAs, wards,
    /// districts, with their deprivation) this one has: kept by every
    /// snapshot derived with other assets, register entries or saved areas,
    /// which leave the areas as they were. The vector tiles hold only areas,
    /// so their ETags and cached bodies carry this tag and outlive register
    /// writes.
    pub areas_tag: u64,
    /// The community asset register's entries (also in `ogc` as the
    /// `register` collection, and as assets in `atlas` while open).
    pub register: Arc<Vec<PlacedEntry>>,
    /// The saved areas, by id (also in `ogc` as the `areas` collection when
    /// a register is attached).
    pub areas: Arc<Vec<PlacedArea>>,
    /// The map's layers that take time in proportion to the region
    /// (`/web/api/coverage`), built with the snapshot.
    pub web: super::web::WebLayers,
}

impl Snapshot {
    /// Builds a snapshot: runs the analysis and builds the collections.
    #[must_use]
    pub fn build(atlas: Arc<Atlas>) -> Self {
        Self::build_with(atlas, Results::new)
    }

    /// Builds a snapshot whose results `results` gives for the atlas (run
    /// while the collections that read only the atlas are built): the
    /// analysis, or results derived from a prepared atlas's.
    #[must_use]
    pub fn build_with(atlas: Arc<Atlas>, results: impl FnOnce(&Atlas) -> Results) -> Self {
        let started = Instant::now();
        // The collections that read only the atlas are built while the
        // analysis runs: a shorter wait before the server is ready.
        let (results, collections, web) = std::thread::scope(|s| {
            let collections = s.spawn(|| ogc::build::atlas_collections(&atlas));
            let web = s.spawn(|| super::web::WebLayers::build(&atlas));
            let results = results(&atlas);
            let t = results.analysis.timings;
            tracing::info!(
                elapsed_ms = started.elapsed().as_millis(),
                origins_ms = t.origins.as_millis(),
                access_ms = t.access.as_millis(),
                fca_ms = t.fca.as_millis(),
                history_ms = t.history.as_millis(),
                "analysis ready"
            );
            let collections = collections
                .join()
                .unwrap_or_else(|_| ogc::build::atlas_collections(&atlas));
            let web = web
                .join()
                .unwrap_or_else(|_| super::web::WebLayers::build(&atlas));
            (results, collections, web)
        });
        let tag = fresh_tag();
        let ogc = ogc::build::build_with(&atlas, &results, collections, tag);
        tracing::info!(
            elapsed_ms = started.elapsed().as_millis(),
            collections = ogc.collections.len(),
            "OGC API collections ready"
        );
        Self {
            atlas,
            results: Arc::new(results),
            ogc,
            tag,
            areas_tag: tag,
            register: Arc::new(Vec::new()),
            areas: Arc::new(Vec::new()),
            web,
        }
    }

    /// Adds the register collection built from `entries`.
    #[must_use]
    pub fn with_register(mut self, entries: Arc<Vec<PlacedEntry>>) -> Self {
        let collection = ogc::register_collection::collection(&self.atlas, &entries);
        self.ogc.insert(collection);
        self.register = entries;
        self
    }

    /// Adds (or replaces) the `areas` collection built from `areas`.
    #[must_use]
    pub fn with_areas(mut self, areas: Arc<Vec<PlacedArea>>) -> Self {
        self.ogc
            .insert(ogc::areas_collection::collection(&self.atlas, &areas));
        self.areas = areas;
        self
    }

    /// This snapshot with other saved areas: the same atlas, analysis and
    /// collections (shared), a new `areas` collection and a fresh tag.
    #[must_use]
    pub fn with_other_areas(&self, areas: Arc<Vec<PlacedArea>>) -> Snapshot {
        let tag = fresh_tag();
        let ogc = OgcState {
            collections: self.ogc.collections.clone(),
            by_id: self.ogc.by_id.clone(),
            sources: self.ogc.sources.clone(),
            region: self.ogc.region.clone(),
            startup_tag: tag,
        };
        Snapshot {
            atlas: Arc::clone(&self.atlas),
            results: Arc::clone(&self.results),
            ogc,
            tag,
            areas_tag: self.areas_tag,
            register: Arc::clone(&self.register),
            areas: Arc::new(Vec::new()),
            // The same atlas: coverage and labels are shared.
            web: self.web.derive(&self.atlas),
        }
        .with_areas(areas)
    }

    /// The snapshot of an atlas derived from this one's with
    /// [`Atlas::with_assets`] (same areas and postcodes, other assets), in
    /// which the assets of the `changed` categories (and of any category
    /// appended) differ: only what depends on those is computed again
    /// ([`Results::update`], [`ogc::build::rebuild`]); the rest is shared.
    /// The new snapshot has a fresh tag, so no ETag of this one matches it.
    ///
    /// Equals [`Snapshot::build`] of the same atlas (tag and timings aside)
    /// provided `changed` lists every category whose assets, sources, label
    /// or coverage differ.
    #[must_use]
    pub fn derive(&self, atlas: Atlas, changed: &[CategoryIdx]) -> Snapshot {
        let started = Instant::now();
        let results = self.results.update(&atlas, changed);
        let analysis = started.elapsed();
        let timings = results.analysis.timings;
        let tag = fresh_tag();
        let started = Instant::now();
        let ogc = ogc::build::rebuild(&atlas, &results, tag, &self.ogc, changed);
        let web = self.web.derive(&atlas);
        tracing::info!(
            analysis_ms = analysis.as_millis(),
            access_ms = timings.access.as_millis(),
            fca_ms = timings.fca.as_millis(),
            rollups_ms = analysis
                .saturating_sub(timings.access + timings.fca)
                .as_millis(),
            collections_ms = started.elapsed().as_millis(),
            changed = ?changed,
            "snapshot derived"
        );
        let mut next = Snapshot {
            atlas: Arc::new(atlas),
            results: Arc::new(results),
            ogc,
            tag,
            // `atlas` has this snapshot's areas (see above).
            areas_tag: self.areas_tag,
            register: Arc::clone(&self.register),
            areas: Arc::clone(&self.areas),
            web,
        };
        // The areas do not depend on assets: their collection carries over.
        if let Some(areas) = self.ogc.by_id.get(ogc::areas_collection::ID) {
            if let Some(c) = self.ogc.collections.get(*areas) {
                next.ogc.insert_shared(Arc::clone(c));
            }
        }
        next
    }
}

/// A tag no other snapshot of this process or of an earlier one has: the
/// time in microseconds plus a sequence number.
fn fresh_tag() -> u64 {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    // Start time in microseconds plus a sequence number: ETags from an
    // earlier process or an earlier snapshot never match this one.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .wrapping_add(SEQUENCE.fetch_add(1, Ordering::Relaxed))
}

/// The state the router holds: the current snapshot, swapped whole, and
/// the community asset register when one is attached.
#[derive(Debug)]
pub struct AppState {
    current: Arc<ArcSwap<Snapshot>>,
    register: std::sync::OnceLock<Arc<Register>>,
    /// Failed authentications per client address.
    pub auth_failures: super::register::FailureLimiter,
    /// Whether reading needs a token too.
    pub read_access: ReadAccess,
    /// Compressed answers of the current snapshot ([`super::cache`]).
    pub responses: super::cache::ResponseCache,
    /// Encoded vector tiles of the current snapshot's areas
    /// ([`Snapshot::areas_tag`]): kept across register writes.
    pub tiles: super::cache::ResponseCache,
    /// Slots for heavy work (area profiles, saved-area checks, gap
    /// reports, the whole LSOA layer, the region profile): one per core.
    /// A slot is held until the work ends, also when its request has gone
    /// (a GEOS validity check cannot be stopped midway), so abandoned
    /// requests cannot pile work up (England's gap report of every LSOA
    /// takes some 400 MB while written); waiting requests hold nothing.
    pub heavy_work: Arc<tokio::sync::Semaphore>,
}

/// Who may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ReadAccess {
    /// Anyone (open data).
    #[default]
    Public,
    /// Holders of any valid token (viewer, editor or admin).
    Token,
}

/// Publishes snapshots into an [`AppState`]'s swap: the register's way to
/// serve a new atlas.
struct SnapshotSwap(Arc<ArcSwap<Snapshot>>);

impl Publisher for SnapshotSwap {
    fn atlas(&self) -> Arc<Atlas> {
        Arc::clone(&self.0.load().atlas)
    }

    fn publish(&self, atlas: Atlas, entries: Arc<Vec<PlacedEntry>>, changed: &[CategoryIdx]) {
        let current = self.0.load_full();
        let next = current.derive(atlas, changed).with_register(entries);
        self.0.store(Arc::new(next));
    }

    fn publish_areas(&self, areas: Arc<Vec<PlacedArea>>) {
        let next = self.0.load_full().with_other_areas(areas);
        self.0.store(Arc::new(next));
    }
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
            current: Arc::new(ArcSwap::from_pointee(snapshot)),
            register: std::sync::OnceLock::new(),
            auth_failures: super::register::FailureLimiter::default(),
            read_access: ReadAccess::Public,
            responses: super::cache::ResponseCache::default(),
            tiles: super::cache::ResponseCache::new(super::cache::TILE_BUDGET),
            heavy_work: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
            )),
        }
    }

    /// The publisher the register swaps snapshots through.
    #[must_use]
    pub fn publisher(&self) -> Arc<dyn Publisher> {
        Arc::new(SnapshotSwap(Arc::clone(&self.current)))
    }

    /// Attaches the register (once).
    pub fn attach_register(&self, register: Arc<Register>) {
        let _ = self.register.set(register);
    }

    /// The register, when one is attached.
    #[must_use]
    pub fn register(&self) -> Option<&Arc<Register>> {
        self.register.get()
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
