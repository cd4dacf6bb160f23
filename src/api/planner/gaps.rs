//! `GET /gaps`: LSOAs both deprived and far from a category of asset, as
//! GeoJSON (default) or CSV (`f=csv`). The report itself is
//! [`crate::analysis::gap_report`], which `gapmap gaps` also uses.
//!
//! Parameters: `category` (required, a category id), `max_decile` (1–10,
//! default 2), `min_distance_m` (≥ 0, default 1600), `domain` (an indicator
//! id with deciles, default `imd`), `year` (2019 or 2025, default 2025),
//! `measure` (`mean` or `max`, default `mean`), `f` (`geojson`, `json` or
//! `csv`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::analysis::gap_report::{report, validate, RawGapParams};
use crate::analysis::interrupt::Interrupt;
use crate::api::error::ApiError;
use crate::api::query::Params;
use crate::api::{AppState, Snapshot};

/// Parameters `/gaps` accepts.
pub const PARAMETERS: &[&str] = &[
    "category",
    "max_decile",
    "min_distance_m",
    "domain",
    "year",
    "measure",
    "f",
];

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// GeoJSON FeatureCollection.
    GeoJson,
    /// CSV, one row per gap.
    Csv,
}

/// `GET /gaps`.
///
/// # Errors
/// A 400 problem for an unknown, repeated or invalid parameter.
pub async fn handler(State(app): State<Arc<AppState>>, params: Params) -> Response {
    // A gap report walks every LSOA and writes CSV or GeoJSON of each it
    // lists (all 33,755 of England's: 35 MB): a heavy-work slot, so that
    // abandoned reports cannot pile up; it stops between steps once its
    // request is gone.
    crate::api::blocking::heavy(&app, move |state, interrupt| {
        gaps(state, &params, interrupt)
    })
    .await
}

fn gaps(state: &Snapshot, params: &Params, interrupt: &Interrupt) -> Result<Response, ApiError> {
    params.only(PARAMETERS)?;
    let raw = RawGapParams {
        category: params.get("category"),
        max_decile: params.get("max_decile"),
        min_distance_m: params.get("min_distance_m"),
        domain: params.get("domain"),
        year: params.get("year"),
        measure: params.get("measure"),
    };
    let format = match params.get("f") {
        None | Some("geojson" | "json") => Format::GeoJson,
        Some("csv") => Format::Csv,
        Some(v) => {
            return Err(ApiError::bad_parameter(
                "f",
                format!("geojson, json or csv (got '{v}')"),
            ))
        }
    };
    let atlas = &state.atlas;
    let analysis = &state.results.analysis;
    let request = validate(atlas, &raw)?;
    interrupt.check()?;
    let report = report(atlas, analysis, &request);
    interrupt.check()?;
    Ok(match format {
        Format::Csv => {
            let mut r = report.to_csv(atlas, analysis).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            r
        }
        Format::GeoJson => {
            let mut r = report.to_geojson_text(atlas, analysis).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/geo+json"),
            );
            r
        }
    })
}
