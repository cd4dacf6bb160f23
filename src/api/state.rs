//! State shared by every handler: the atlas and what was precomputed from it.

use crate::api::planner::PlannerState;
use crate::atlas::Atlas;

/// Read-only state built once at start-up.
pub struct AppState {
    /// The atlas.
    pub atlas: Atlas,
    /// Precomputed analysis (access per LSOA, roll-ups) for planner endpoints.
    pub planner: PlannerState,
}

impl AppState {
    /// Builds the state, running the start-up analysis.
    #[must_use]
    pub fn new(atlas: Atlas) -> Self {
        let planner = PlannerState::new(&atlas);
        Self { atlas, planner }
    }
}
