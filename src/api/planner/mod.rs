//! Planner endpoints: asset gaps, ward profiles, priority areas. Handlers
//! translate parameters into calls to [`crate::analysis`] and its results into
//! responses; everything heavy is computed once per snapshot
//! ([`crate::analysis::Results`]).
//!
//! - `GET /gaps` — LSOAs both deprived and far from a category ([`gaps`]);
//! - `GET /wards/{code}/profile` — a ward's community insight profile ([`profile`]);
//! - `GET /priority-areas` — wards containing the most deprived LSOAs ([`priority`]).

pub mod gaps;
pub mod priority;
pub mod profile;

use axum::routing::get;

use super::routes::Routes;

/// Planner routes.
pub fn routes() -> Routes {
    Routes::new()
        .route("/gaps", get(gaps::handler))
        .route("/wards/{code}/profile", get(profile::handler))
        .route("/priority-areas", get(priority::handler))
}
