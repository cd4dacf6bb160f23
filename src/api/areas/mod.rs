//! Saved areas: named boundaries kept in the register's store and listed
//! as the OGC API – Features collection `areas`.

use crate::api::error::ApiError;
use crate::api::state::AppState;
use crate::sources::area_boundary::Boundary;

/// The boundary of saved area `id`.
///
/// # Errors
/// A 404 problem naming `area` when there is no such saved area.
pub fn boundary_of(_state: &AppState, id: &str) -> Result<Boundary, ApiError> {
    let shown: String = id.chars().take(80).collect();
    Err(ApiError {
        parameter: Some("area".into()),
        ..ApiError::not_found(format!("no saved area '{shown}'"))
    })
}
