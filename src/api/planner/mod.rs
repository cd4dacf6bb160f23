//! Planner endpoints: asset gaps, ward profiles, priority areas.

use std::sync::Arc;

use axum::Router;

use super::AppState;
use crate::atlas::Atlas;

/// Analysis results computed once at start-up.
pub struct PlannerState {}

impl PlannerState {
    /// Runs the start-up analysis over the atlas.
    #[must_use]
    pub fn new(_atlas: &Atlas) -> Self {
        Self {}
    }

    /// Extra properties (roll-ups) for a ward feature in the `wards` collection.
    #[must_use]
    pub fn ward_properties(&self, _ward: u32) -> serde_json::Map<String, serde_json::Value> {
        serde_json::Map::new()
    }

    /// Extra properties (roll-ups) for a district feature in the `districts` collection.
    #[must_use]
    pub fn district_properties(&self, _district: u32) -> serde_json::Map<String, serde_json::Value> {
        serde_json::Map::new()
    }
}

/// Planner routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
}
