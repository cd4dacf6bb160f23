//! TEMPORARY: a full rebuild as `Snapshot::derive` until the
//! incremental-snapshot work lands.

use std::sync::Arc;

use super::Snapshot;
use crate::atlas::{Atlas, CategoryIdx};

impl Snapshot {
    /// A snapshot of `atlas` (only `changed` categories differ).
    #[must_use]
    pub fn derive(&self, atlas: Atlas, _changed: &[CategoryIdx]) -> Snapshot {
        Snapshot::build(Arc::new(atlas))
    }
}
