//! The shared register store: PostgreSQL with PostGIS.

use super::StoreError;

/// The register in a PostgreSQL database with PostGIS.
#[derive(Debug)]
pub struct PostgisStore;

impl PostgisStore {
    /// Connects to `url`.
    ///
    /// # Errors
    /// [`StoreError::Open`].
    pub fn open(url: &str) -> Result<Self, StoreError> {
        Err(StoreError::Open {
            location: url.to_owned(),
            message: "PostGIS store under construction".into(),
        })
    }
}
