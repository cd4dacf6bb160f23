//! `GET /priority-areas?year=2019|2025&max_decile=2[&domain=imd]`: wards
//! containing LSOAs in the chosen most deprived deciles (see
//! [`crate::analysis::priority`]).

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::analysis::gap_report::{parse_max_decile, parse_year};
use crate::analysis::{priority, Year};
use crate::api::error::ApiError;
use crate::api::query::Params;
use crate::api::Snap;

/// Parameters `/priority-areas` accepts.
pub const PARAMETERS: &[&str] = &["year", "max_decile", "domain"];

/// `GET /priority-areas`.
///
/// # Errors
/// A 400 problem for an unknown or invalid parameter.
pub async fn handler(Snap(state): Snap, params: Params) -> Result<Response, ApiError> {
    params.only(PARAMETERS)?;
    let atlas = &state.atlas;
    let year = params.get("year").map_or(Ok(Year::Y2025), parse_year)?;
    let max_decile = params.get("max_decile").map_or(Ok(2), parse_max_decile)?;
    let domain = params.get("domain").map_or("imd", str::trim).to_owned();
    let release = match year {
        Year::Y2019 => &atlas.imd2019,
        Year::Y2025 => &atlas.imd2025,
    };
    let domains: Vec<&str> = crate::analysis::rollup::INDICATORS.to_vec();
    if !domains.contains(&domain.as_str()) || release.position(&domain).is_none() {
        return Err(ApiError::bad_parameter(
            "domain",
            format!("one of: {} (got '{domain}')", domains.join(", ")),
        ));
    }
    let wards = match year {
        Year::Y2025 => priority::wards_2025(atlas, &domain, max_decile),
        Year::Y2019 => priority::wards_2019(atlas, &domain, max_decile),
    };
    let lsoas: usize = wards.iter().map(|w| w.lsoas.len()).sum();
    let residents: u64 = wards.iter().map(|w| w.residents).sum();
    let body = json!({
        "year": year.number(),
        "max_decile": max_decile,
        "domain": domain,
        "wards": wards,
        "summary": {"wards": wards.len(), "lsoas": lsoas, "residents": residents},
        "method": match year {
            Year::Y2025 => "IMD 2025 deciles of 2021 LSOAs; wards are the ONS 2024 best-fit wards (codes and names); residents are Census 2021 usual residents",
            Year::Y2019 => "IMD 2019 deciles of 2011 LSOAs; wards are the ONS 2017 best-fit wards (IoD2019's ward geography), for which ONS publishes no names: a 2017 code still used in the 2024 lookup names the same ward and takes its 2024 name, other wards have ward_name null (ward_name_source says which); residents are the mid-2015 population denominators of IoD2019; districts from the 2022 LSOA lookup",
        },
        "attribution": [release.attribution.clone()],
    });
    let mut response = body.to_string().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}
