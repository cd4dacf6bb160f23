//! OGC API – Processes (Part 1: Core, JSON, OGC process description): the
//! `area-profile` process, executed synchronously.
//!
//! - `GET /processes` — the process list ([`description`]);
//! - `GET /processes/area-profile` — its description (inputs, outputs);
//! - `POST /processes/area-profile/execution` — its profile of an area
//!   given as a GeoJSON geometry, an uploaded boundary file, LSOA, ward or
//!   district codes ([`inputs`]), answered as JSON or CSV ([`execute`]).

pub mod description;
pub mod execute;
pub mod inputs;
pub mod openapi;

use axum::routing::{get, post};

use super::routes::Routes;

/// The conformance classes of OGC API – Processes this server implements.
pub const CONFORMANCE: [&str; 3] = [
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/ogc-process-description",
];

/// Link relation of the process list (landing page).
pub const REL_PROCESSES: &str = "http://www.opengis.net/def/rel/ogc/1.0/processes";

/// Processes routes.
pub fn routes() -> Routes {
    Routes::new()
        .route("/processes", get(description::list_page))
        .route("/processes/{process_id}", get(description::process_page))
        .route(
            "/processes/{process_id}/execution",
            post(execute::handler).get(execute::not_get),
        )
}
