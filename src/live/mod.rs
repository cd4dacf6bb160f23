//! The living atlas: the community asset register joined to the atlas, and
//! kept joined as teams write.
//!
//! [`Register`] sits between the store ([`crate::sources::register`]) and the
//! served snapshot. A write is validated ([`validate`]), committed to the
//! store in one transaction, and then not acknowledged until a snapshot that
//! contains it is being served: the register reads the change log from the
//! position it last applied, places the changed entries, composes the asset
//! list ([`compose`]) and hands the new atlas to a [`Publisher`] (the API's
//! snapshot swap), which recomputes only the changed categories. Writes that
//! arrive while a snapshot is being made wait for the next one and share it,
//! so a burst of writes costs a few snapshots, not one each.
//!
//! Replicas sharing one PostGIS register follow each other the same way:
//! [`Register::follow`] polls the change log's last position and catches up.

pub mod areas;
pub mod compose;
pub mod tokens;
pub mod validate;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::atlas::register::PlacedEntry;
use crate::atlas::{Atlas, CategoryIdx};
use crate::config::RegisterConfig;
use crate::model::register::{Action, Change, Entry, EntryFields, RegisterCategory, Role};
use crate::sources::register::{RegisterStore, Stamp, StoreError};
use crate::sources::SourceError;

/// Why a register operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// A field of what the client sent is not valid.
    #[error("{field}: {message}")]
    Invalid {
        /// The member or property at fault.
        field: String,
        /// What is wrong and what is expected.
        message: String,
    },
    /// Rows of an import that are not valid: nothing was written.
    #[error("{} invalid rows; nothing was imported", .0.len())]
    InvalidRows(Vec<RowError>),
    /// The store failed (or the entry is missing, or stale).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A coordinate transformation could not be set up.
    #[error(transparent)]
    Source(SourceError),
    /// A token could not be made.
    #[error("cannot make a token: {0}")]
    Token(String),
    /// A blocking task failed to complete.
    #[error("background task failed: {0}")]
    Task(String),
}

/// One bad row of an import.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    /// 1-based data row (a feature's position in a GeoJSON file).
    pub row: usize,
    /// Column or property at fault.
    pub column: String,
    /// What is wrong.
    pub message: String,
}

/// Serves a new atlas: the API's snapshot swap.
pub trait Publisher: Send + Sync {
    /// The atlas being served.
    fn atlas(&self) -> Arc<Atlas>;
    /// Serves `atlas` with the register's `entries`; only the `changed`
    /// categories (and any appended ones) differ from the served atlas.
    fn publish(&self, atlas: Atlas, entries: Arc<Vec<PlacedEntry>>, changed: &[CategoryIdx]);
    /// Serves the same atlas with these saved areas (by id).
    fn publish_areas(&self, areas: Arc<Vec<areas::PlacedArea>>);
}

/// The register's state as last published.
#[derive(Debug, Default, Clone)]
struct Applied {
    /// Change-log position included.
    seq: i64,
    /// Every entry, by id.
    entries: BTreeMap<i64, PlacedEntry>,
    /// Categories admins added.
    categories: Vec<RegisterCategory>,
    /// The date the open/closed state of entries was judged on.
    today: String,
    /// Area change-log position included.
    areas_seq: i64,
    /// Every saved area, by id.
    areas: Arc<Vec<areas::PlacedArea>>,
}

/// What a register starts from, made by [`Register::prepare`].
pub struct Prepared {
    /// The atlas with the register's entries and categories joined.
    pub atlas: Atlas,
    /// The placed entries, for the register collection.
    pub entries: Arc<Vec<PlacedEntry>>,
    /// The saved areas, by id, for the `areas` collection.
    pub areas: Arc<Vec<areas::PlacedArea>>,
    /// The register's state, for [`Register::new`].
    pub state: RegisterState,
}

/// The register's state as loaded (opaque).
#[derive(Debug)]
pub struct RegisterState(Applied);

/// A principal: the token a request was made with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's name (recorded as the actor of writes).
    pub name: String,
    /// What it may do.
    pub role: Role,
}

/// Why a presented token does not grant access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejection {
    /// Not a token, or no such token, or the wrong secret.
    Invalid,
    /// A token that was revoked.
    Revoked,
    /// The secret was not checked: the caller's `may_hash` said the client
    /// may not have another one checked now.
    Throttled,
}

/// Argon2id verifications run at once, across all clients. Each takes about
/// 19 MiB and tens of milliseconds; unbounded, a few hundred concurrent
/// requests with a known token id and wrong secrets took the server from
/// 0.4 to 2 GB (and past the failed-authentication limit, which counts
/// failures only once they are known).
pub const HASH_TURNS: usize = 2;

/// The community asset register of a running server.
pub struct Register {
    store: Arc<dyn RegisterStore>,
    publisher: Arc<dyn Publisher>,
    config: RegisterConfig,
    applied: tokio::sync::Mutex<Applied>,
    applied_seq: AtomicI64,
    verifier: tokens::Verifier,
    /// Turns at verifying a secret with Argon2id ([`HASH_TURNS`]).
    hash_turns: tokio::sync::Semaphore,
    /// Taken by read-modify-writes without a version (`PATCH` without
    /// `If-Match`), so that those of this process take turns instead of
    /// invalidating each other's reads.
    rmw_turn: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Register {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Register")
            .field("store", &self.store.location())
            .field("applied_seq", &self.applied_seq)
            .finish_non_exhaustive()
    }
}

/// Runs blocking store or CPU work off the async runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, LiveError> + Send + 'static,
) -> Result<T, LiveError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| LiveError::Task(e.to_string()))?
}

/// Ids of the categories named in changes, as indices of `atlas`.
fn changed_categories(atlas: &Atlas, changes: &[Change]) -> Vec<CategoryIdx> {
    let mut out: Vec<CategoryIdx> = changes
        .iter()
        .flat_map(|c| c.before.iter().chain(c.after.iter()))
        .filter_map(|e| atlas.category_by_id(&e.fields.category).map(|(i, _)| i))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

impl Register {
    /// Loads the register from `store` and joins it to `atlas` (loaded from
    /// files). Blocking: call before serving.
    ///
    /// # Errors
    /// [`LiveError::Store`] if the store cannot be read.
    pub fn prepare(
        store: &dyn RegisterStore,
        atlas: &Atlas,
        config: &RegisterConfig,
    ) -> Result<Prepared, LiveError> {
        let loaded = store.load()?;
        let today = compose::today();
        let placed = compose::place(atlas, loaded.entries)?;
        let (assets, categories, sources) =
            compose::compose(atlas, config, &loaded.categories, &placed, &today);
        let joined = atlas.with_assets(assets, categories, sources);
        let entries = Arc::new(placed.clone());
        let loaded_areas = store.load_areas()?;
        let areas = Arc::new(areas::place_all(loaded_areas.areas));
        Ok(Prepared {
            atlas: joined,
            entries,
            areas: Arc::clone(&areas),
            state: RegisterState(Applied {
                seq: loaded.seq,
                entries: placed.into_iter().map(|p| (p.entry.id, p)).collect(),
                categories: loaded.categories,
                today,
                areas_seq: loaded_areas.seq,
                areas,
            }),
        })
    }

    /// The register of a server that serves a prepared atlas through
    /// `publisher`, starting from the prepared `state`.
    pub fn new(
        store: Arc<dyn RegisterStore>,
        publisher: Arc<dyn Publisher>,
        config: RegisterConfig,
        state: RegisterState,
    ) -> Self {
        let seq = state.0.seq;
        Self {
            store,
            publisher,
            config,
            applied: tokio::sync::Mutex::new(state.0),
            applied_seq: AtomicI64::new(seq),
            verifier: tokens::Verifier::default(),
            rmw_turn: tokio::sync::Mutex::new(()),
            hash_turns: tokio::sync::Semaphore::new(HASH_TURNS),
        }
    }

    /// Where the register is stored (no password).
    pub fn location(&self) -> String {
        self.store.location()
    }

    /// The change-log position the served snapshot includes.
    pub fn applied_seq(&self) -> i64 {
        self.applied_seq.load(Ordering::Acquire)
    }

    /// Creates one entry; returns it once a snapshot containing it is served.
    ///
    /// # Errors
    /// [`LiveError::Store`].
    pub async fn create(&self, fields: EntryFields, actor: &str) -> Result<Entry, LiveError> {
        let mut changes = self.write_many(vec![fields], Action::Create, actor).await?;
        changes
            .pop()
            .and_then(|c| c.after)
            .ok_or_else(|| LiveError::Task("creation returned no entry".into()))
    }

    /// Imports entries, all or none; returns them once served.
    ///
    /// # Errors
    /// [`LiveError::Store`].
    pub async fn import(
        &self,
        rows: Vec<EntryFields>,
        actor: &str,
    ) -> Result<Vec<Entry>, LiveError> {
        let changes = self.write_many(rows, Action::Import, actor).await?;
        Ok(changes.into_iter().filter_map(|c| c.after).collect())
    }

    async fn write_many(
        &self,
        rows: Vec<EntryFields>,
        action: Action,
        actor: &str,
    ) -> Result<Vec<Change>, LiveError> {
        let store = Arc::clone(&self.store);
        let actor = actor.to_owned();
        let changes = blocking(move || {
            let at = compose::now();
            Ok(store.create(
                &rows,
                action,
                Stamp {
                    actor: &actor,
                    at: &at,
                },
            )?)
        })
        .await?;
        if let Some(last) = changes.last() {
            self.catch_up(last.seq).await?;
        }
        Ok(changes)
    }

    /// Replaces entry `id`'s fields (`PUT`, or `PATCH` after merging), if it
    /// is at version `expected` when given.
    ///
    /// # Errors
    /// [`LiveError::Store`] with [`StoreError::NotFound`] or
    /// [`StoreError::VersionMismatch`] (nothing written).
    pub async fn replace(
        &self,
        id: i64,
        expected: Option<i64>,
        fields: EntryFields,
        action: Action,
        actor: &str,
    ) -> Result<Entry, LiveError> {
        let change = self
            .replace_unpublished(id, expected, fields, action, actor)
            .await?;
        self.catch_up(change.seq).await?;
        change
            .after
            .ok_or_else(|| LiveError::Task("update returned no entry".into()))
    }

    /// Waits for this process's turn at a read-modify-write of an entry
    /// that names no version (`PATCH` without `If-Match`): hold the guard
    /// from reading the entry to [`Register::replace_unpublished`], then
    /// [`Register::catch_up`] without it. Turns keep such writes of this
    /// process from failing each other's version check over and over;
    /// writes from elsewhere (an unconditional `PUT`, another replica) can
    /// still intervene, so the caller retries a few times.
    pub async fn rmw_turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.rmw_turn.lock().await
    }

    /// [`Register::replace`] without waiting for the snapshot: the change
    /// as stored. Call [`Register::catch_up`] with its `seq` before
    /// acknowledging it.
    ///
    /// # Errors
    /// As [`Register::replace`].
    pub async fn replace_unpublished(
        &self,
        id: i64,
        expected: Option<i64>,
        fields: EntryFields,
        action: Action,
        actor: &str,
    ) -> Result<Change, LiveError> {
        let store = Arc::clone(&self.store);
        let actor = actor.to_owned();
        blocking(move || {
            let at = compose::now();
            Ok(store.replace(
                id,
                expected,
                &fields,
                action,
                Stamp {
                    actor: &actor,
                    at: &at,
                },
            )?)
        })
        .await
    }

    /// Deletes entry `id` (its history stays), if at version `expected`.
    ///
    /// # Errors
    /// As [`Register::replace`].
    pub async fn delete(
        &self,
        id: i64,
        expected: Option<i64>,
        actor: &str,
    ) -> Result<(), LiveError> {
        let store = Arc::clone(&self.store);
        let actor = actor.to_owned();
        let change = blocking(move || {
            let at = compose::now();
            Ok(store.delete(
                id,
                expected,
                Stamp {
                    actor: &actor,
                    at: &at,
                },
            )?)
        })
        .await?;
        self.catch_up(change.seq).await
    }

    /// The stored entry `id`, read from the store (not the snapshot), for a
    /// read-modify-write.
    ///
    /// # Errors
    /// [`LiveError::Store`].
    pub async fn get(&self, id: i64) -> Result<Option<Entry>, LiveError> {
        let store = Arc::clone(&self.store);
        blocking(move || Ok(store.get(id)?)).await
    }

    /// Every change to entry `id`, oldest first.
    ///
    /// # Errors
    /// [`LiveError::Store`].
    pub async fn history(&self, id: i64) -> Result<Vec<Change>, LiveError> {
        let store = Arc::clone(&self.store);
        blocking(move || Ok(store.history(id)?)).await
    }

    /// Adds a category (admins): stored, then served.
    ///
    /// # Errors
    /// [`LiveError::Invalid`] for a bad id or label, [`LiveError::Store`]
    /// with [`StoreError::Duplicate`] for a taken id.
    pub async fn add_category(&self, category: RegisterCategory) -> Result<(), LiveError> {
        let id_ok = category
            .id
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase())
            && category.id.len() <= 40
            && category
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !id_ok {
            return Err(LiveError::Invalid {
                field: "id".into(),
                message: "1 to 40 of a-z, 0-9 and _, starting with a letter".into(),
            });
        }
        let label = category.label.trim().to_owned();
        if label.is_empty() || label.chars().count() > 100 {
            return Err(LiveError::Invalid {
                field: "label".into(),
                message: "1 to 100 characters".into(),
            });
        }
        if self
            .publisher
            .atlas()
            .category_by_id(&category.id)
            .is_some()
        {
            return Err(StoreError::Duplicate {
                what: "category",
                name: category.id,
            }
            .into());
        }
        let store = Arc::clone(&self.store);
        let stored = RegisterCategory {
            id: category.id,
            label,
        };
        let c = stored.clone();
        blocking(move || Ok(store.add_category(&c)?)).await?;
        let mut applied = self.applied.lock().await;
        applied.categories.push(stored);
        self.publish(&mut applied, &[]).await
    }

    /// Checks a bearer token against the store: who it is, or why not.
    /// Reads the store every time, so a revocation from `gapmap token
    /// revoke` (another process) takes effect at once.
    ///
    /// A secret not verified before needs Argon2id: that waits for one of
    /// [`HASH_TURNS`] turns and then asks `may_hash` (the client's
    /// failed-authentication limit, judged now rather than when the request
    /// came, so that concurrent guesses cannot all pass it before the
    /// first failure is counted); `false` gives
    /// [`TokenRejection::Throttled`] without hashing.
    ///
    /// # Errors
    /// [`LiveError::Store`] if the store cannot be read.
    pub async fn authenticate(
        self: &Arc<Self>,
        token: &str,
        may_hash: impl FnOnce() -> bool,
    ) -> Result<Result<Principal, TokenRejection>, LiveError> {
        let Some((id, secret)) = tokens::split(token) else {
            return Ok(Err(TokenRejection::Invalid));
        };
        let (id, secret) = (id.to_owned(), secret.to_owned());
        let me = Arc::clone(self);
        let lookup_secret = secret.clone();
        let found = blocking(move || {
            Ok(me.store.token(&id)?.map(|record| {
                let remembered = me.verifier.remembered(&record, &lookup_secret);
                (record, remembered)
            }))
        })
        .await?;
        let Some((record, remembered)) = found else {
            return Ok(Err(TokenRejection::Invalid));
        };
        let verified = if remembered {
            true
        } else {
            let _turn = self
                .hash_turns
                .acquire()
                .await
                .map_err(|e| LiveError::Task(e.to_string()))?;
            if !may_hash() {
                return Ok(Err(TokenRejection::Throttled));
            }
            let me = Arc::clone(self);
            let rec = record.clone();
            blocking(move || Ok(me.verifier.verify(&rec, &secret))).await?
        };
        if !verified {
            return Ok(Err(TokenRejection::Invalid));
        }
        if record.revoked_at.is_some() {
            return Ok(Err(TokenRejection::Revoked));
        }
        Ok(Ok(Principal {
            name: record.name,
            role: record.role,
        }))
    }

    /// Returns once the served snapshot includes change-log position
    /// `target`, publishing one if needed.
    ///
    /// # Errors
    /// [`LiveError::Store`] if the change log cannot be read.
    pub async fn catch_up(&self, target: i64) -> Result<(), LiveError> {
        if self.applied_seq() >= target {
            return Ok(());
        }
        let mut applied = self.applied.lock().await;
        // Another writer's snapshot may have included this change while
        // this one waited for the lock.
        if applied.seq >= target {
            return Ok(());
        }
        self.refresh(&mut applied).await
    }

    /// Applies every change after the applied position and publishes.
    ///
    /// Works on a copy: `applied` changes only once the new snapshot is
    /// published, so a failed read or publish leaves the position where it
    /// was and the next write or poll tries the same changes again (instead
    /// of skipping them until a restart).
    async fn refresh(&self, applied: &mut Applied) -> Result<(), LiveError> {
        let mut next = applied.clone();
        self.refresh_into(&mut next).await?;
        *applied = next;
        Ok(())
    }

    /// [`Self::refresh`] on the copy `applied`.
    async fn refresh_into(&self, applied: &mut Applied) -> Result<(), LiveError> {
        const BATCH: usize = 10_000;
        let mut all = Vec::new();
        loop {
            let store = Arc::clone(&self.store);
            let from = applied.seq;
            let changes = blocking(move || Ok(store.changes_since(from, BATCH)?)).await?;
            let n = changes.len();
            if let Some(last) = changes.last() {
                applied.seq = last.seq;
            }
            all.extend(changes);
            if n < BATCH {
                break;
            }
        }
        let today = compose::today();
        let day_changed = today != applied.today;
        // Categories are not in the change log: one added on another server
        // (replicas of one register), or by a request whose client went
        // away before it was served, is read from the store's small table;
        // compose appends it.
        let store = Arc::clone(&self.store);
        let categories = blocking(move || Ok(store.categories()?)).await?;
        let categories_changed = categories != applied.categories;
        applied.categories = categories;
        if all.is_empty() && !day_changed && !categories_changed {
            return Ok(());
        }
        let atlas = self.publisher.atlas();
        let mut changed = changed_categories(&atlas, &all);
        if day_changed {
            // Entries may open or close at midnight: every category with a
            // dated entry is judged again.
            changed.extend(
                applied
                    .entries
                    .values()
                    .filter(|p| {
                        p.entry.fields.valid_from.is_some() || p.entry.fields.valid_to.is_some()
                    })
                    .filter_map(|p| {
                        atlas
                            .category_by_id(&p.entry.fields.category)
                            .map(|(i, _)| i)
                    }),
            );
            changed.sort_unstable();
            changed.dedup();
            applied.today = today;
        }
        // The last state of each entry changed.
        let mut latest: BTreeMap<i64, Option<Entry>> = BTreeMap::new();
        for c in all {
            latest.insert(c.entry_id, c.after);
        }
        let (gone, kept): (Vec<_>, Vec<_>) = latest.into_iter().partition(|(_, e)| e.is_none());
        for (id, _) in gone {
            applied.entries.remove(&id);
        }
        let to_place: Vec<Entry> = kept.into_iter().filter_map(|(_, e)| e).collect();
        let base = Arc::clone(&atlas);
        let placed = blocking(move || compose::place(&base, to_place)).await?;
        for p in placed {
            applied.entries.insert(p.entry.id, p);
        }
        self.publish(applied, &changed).await
    }

    /// Composes and publishes the applied state.
    async fn publish(
        &self,
        applied: &mut Applied,
        changed: &[CategoryIdx],
    ) -> Result<(), LiveError> {
        let atlas = self.publisher.atlas();
        let entries: Arc<Vec<PlacedEntry>> = Arc::new(applied.entries.values().cloned().collect());
        let categories = applied.categories.clone();
        let config = self.config.clone();
        let publisher = Arc::clone(&self.publisher);
        let today = applied.today.clone();
        let changed = changed.to_vec();
        let seq = applied.seq;
        blocking(move || {
            let (assets, cats, sources) =
                compose::compose(&atlas, &config, &categories, &entries, &today);
            let next = atlas.with_assets(assets, cats, sources);
            publisher.publish(next, entries, &changed);
            Ok(())
        })
        .await?;
        self.applied_seq.store(seq, Ordering::Release);
        Ok(())
    }

    /// Follows changes other processes make (replicas on one PostGIS
    /// register, `gapmap register import`): polls the change log's position
    /// and the added categories every `interval` and catches up; also
    /// re-judges dated entries when the day changes. Also serves what a
    /// request stored but did not wait to see served (its client went away,
    /// or its time budget ran out). Runs until the process ends.
    pub async fn follow(self: Arc<Self>, interval: Duration) {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let store = Arc::clone(&self.store);
            let (last, categories) =
                match blocking(move || Ok((store.last_seq()?, store.categories()?))).await {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "register: cannot read the change log");
                        continue;
                    }
                };
            let (stale_day, new_category) = {
                let applied = self.applied.lock().await;
                (
                    applied.today != compose::today(),
                    applied.categories != categories,
                )
            };
            if last > self.applied_seq() || stale_day || new_category {
                let mut applied = self.applied.lock().await;
                if let Err(e) = self.refresh(&mut applied).await {
                    tracing::warn!(error = %e, "register: cannot follow the change log");
                }
            }
            // Saved areas have a change log of their own.
            let store = Arc::clone(&self.store);
            match blocking(move || Ok(store.last_area_seq()?)).await {
                Ok(last) => {
                    let mut applied = self.applied.lock().await;
                    if last > applied.areas_seq {
                        if let Err(e) = self.refresh_areas(&mut applied).await {
                            tracing::warn!(error = %e, "areas: cannot follow the change log");
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "areas: cannot read the change log"),
            }
        }
    }
}
