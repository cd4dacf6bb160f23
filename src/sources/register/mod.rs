//! Register stores: where the community asset register lives. One trait,
//! [`RegisterStore`], with two implementations: a GeoPackage file (the
//! embedded default, [`gpkg::GpkgStore`]) and PostgreSQL with PostGIS for
//! shared deployments ([`postgis::PostgisStore`]).
//!
//! Every write is one transaction that changes the entry, bumps its
//! version and appends to the change log (`register_changes`), so the log
//! is the history and the feed other replicas follow. A write that names a
//! version (`If-Match`) changes nothing unless the stored version is still
//! that one. Nothing here validates fields: the live atlas does that first.

pub mod gpkg;
mod gpkg_blob;
pub mod import;
pub mod postgis;
pub mod saved_areas;

use crate::model::register::{Action, Change, Entry, EntryFields, RegisterCategory, TokenRecord};

/// A register store failure, naming what was being done.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store could not be opened or created.
    #[error("register store {location}: cannot open: {message}")]
    Open {
        /// File or (password-free) connection string.
        location: String,
        /// The driver's message.
        message: String,
    },
    /// A statement failed.
    #[error("register store: {operation}: {message}")]
    Query {
        /// What was being done, e.g. `update entry 17`.
        operation: String,
        /// The driver's message.
        message: String,
    },
    /// A stored row cannot be read back.
    #[error("register store: table {table}, row {row}, column {column}: {message}")]
    Corrupt {
        /// Table.
        table: &'static str,
        /// Row id.
        row: i64,
        /// Column.
        column: &'static str,
        /// What is wrong.
        message: String,
    },
    /// No entry with that id (or it was deleted).
    #[error("no register entry {id}")]
    NotFound {
        /// Entry id.
        id: i64,
    },
    /// The entry's version is not the one the write was based on.
    #[error("register entry {id} is at version {current}, not {expected}")]
    VersionMismatch {
        /// Entry id.
        id: i64,
        /// Version the write expected.
        expected: i64,
        /// Version stored.
        current: i64,
    },
    /// A token or category name is taken.
    #[error("{what} '{name}' already exists")]
    Duplicate {
        /// `token` or `category`.
        what: &'static str,
        /// The name.
        name: String,
    },
}

/// The entries and the change-log position they reflect.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// Every current (not deleted) entry, by id.
    pub entries: Vec<Entry>,
    /// Categories admins added.
    pub categories: Vec<RegisterCategory>,
    /// Last change-log position included.
    pub seq: i64,
}

/// A write's bookkeeping: who and when.
#[derive(Debug, Clone, Copy)]
pub struct Stamp<'a> {
    /// Token name.
    pub actor: &'a str,
    /// RFC 3339 UTC.
    pub at: &'a str,
}

/// Where the register lives (and the saved areas: [`saved_areas::AreaStore`]).
/// Implementations are safe to share between threads; every method blocks
/// (call it off the async runtime).
pub trait RegisterStore: saved_areas::AreaStore + Send + Sync {
    /// File path or password-free connection string, for messages.
    fn location(&self) -> String;

    /// Every current entry and added category, with the change-log position.
    ///
    /// # Errors
    /// [`StoreError::Query`] or [`StoreError::Corrupt`].
    fn load(&self) -> Result<Loaded, StoreError>;

    /// Changes after `seq`, oldest first, at most `limit`.
    ///
    /// # Errors
    /// [`StoreError::Query`] or [`StoreError::Corrupt`].
    fn changes_since(&self, seq: i64, limit: usize) -> Result<Vec<Change>, StoreError>;

    /// The last change-log position (0 when empty): cheap, polled.
    ///
    /// # Errors
    /// [`StoreError::Query`].
    fn last_seq(&self) -> Result<i64, StoreError>;

    /// The categories admins have added, in the order added: a small table,
    /// read when polling. Categories are not in the change log, so this is
    /// how a server learns of one added by another replica, or by a request
    /// whose client went away before it was served.
    ///
    /// # Errors
    /// [`StoreError::Query`].
    fn categories(&self) -> Result<Vec<RegisterCategory>, StoreError>;

    /// Creates entries in one transaction: all or none. `action` is
    /// [`Action::Create`] or [`Action::Import`].
    ///
    /// # Errors
    /// [`StoreError::Query`]; nothing is written.
    fn create(
        &self,
        entries: &[EntryFields],
        action: Action,
        stamp: Stamp<'_>,
    ) -> Result<Vec<Change>, StoreError>;

    /// Replaces the fields of entry `id` (`PUT` and `PATCH`), if its version
    /// is `expected` (when given).
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::VersionMismatch`] (nothing
    /// written) or [`StoreError::Query`].
    fn replace(
        &self,
        id: i64,
        expected: Option<i64>,
        fields: &EntryFields,
        action: Action,
        stamp: Stamp<'_>,
    ) -> Result<Change, StoreError>;

    /// Deletes entry `id`, if its version is `expected` (when given); its
    /// history stays.
    ///
    /// # Errors
    /// As [`RegisterStore::replace`].
    fn delete(
        &self,
        id: i64,
        expected: Option<i64>,
        stamp: Stamp<'_>,
    ) -> Result<Change, StoreError>;

    /// One entry, if it exists.
    ///
    /// # Errors
    /// [`StoreError::Query`] or [`StoreError::Corrupt`].
    fn get(&self, id: i64) -> Result<Option<Entry>, StoreError>;

    /// Every change to entry `id`, oldest first (also after its deletion).
    ///
    /// # Errors
    /// [`StoreError::Query`] or [`StoreError::Corrupt`].
    fn history(&self, id: i64) -> Result<Vec<Change>, StoreError>;

    /// Adds a category.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] or [`StoreError::Query`].
    fn add_category(&self, category: &RegisterCategory) -> Result<(), StoreError>;

    /// Stores a new token.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] when the name is taken, or [`StoreError::Query`].
    fn add_token(&self, token: &TokenRecord) -> Result<(), StoreError>;

    /// Every token, revoked ones too, by name.
    ///
    /// # Errors
    /// [`StoreError::Query`] or [`StoreError::Corrupt`].
    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;

    /// The token with public id `id`.
    ///
    /// # Errors
    /// [`StoreError::Query`] or [`StoreError::Corrupt`].
    fn token(&self, id: &str) -> Result<Option<TokenRecord>, StoreError>;

    /// Revokes the token named `name`; false when there is none (or it was
    /// revoked already).
    ///
    /// # Errors
    /// [`StoreError::Query`].
    fn revoke_token(&self, name: &str, at: &str) -> Result<bool, StoreError>;
}

/// Opens the store a `--register` value names: a `postgresql://` or
/// `postgres://` URL, or else the GeoPackage `register.gpkg` under
/// `state_dir` (created on first use).
///
/// # Errors
/// [`StoreError::Open`].
pub fn open(
    register: Option<&str>,
    state_dir: &std::path::Path,
) -> Result<Box<dyn RegisterStore>, StoreError> {
    match register {
        Some(url) if url.starts_with("postgresql://") || url.starts_with("postgres://") => {
            Ok(Box::new(postgis::PostgisStore::open(url)?))
        }
        Some(path) => Ok(Box::new(gpkg::GpkgStore::open(std::path::Path::new(path))?)),
        None => Ok(Box::new(gpkg::GpkgStore::open(
            &state_dir.join("register.gpkg"),
        )?)),
    }
}
