//! The inputs of an `area-profile` execution: exactly one way of giving the
//! area (`geometry` [+ `crs`], `file`, `lsoas`, `wards`, `districts` or a
//! saved `area`),
//! the gap thresholds, and the output format. Every refusal is a
//! 400 naming the input.

use serde_json::Value;

use crate::analysis::area_profile::{self, AreaSpec, Limits, ProfileParams};
use crate::analysis::{AnalysisError, Interrupt};
use crate::api::error::ApiError;
use crate::api::state::Snapshot;
use crate::sources::area_boundary::{self, Boundary, BoundaryError, BoundaryLimits};

/// The ways of giving an area, as named in the process description.
pub const AREA_INPUTS: [&str; 6] = ["geometry", "file", "lsoas", "wards", "districts", "area"];
/// Every input the process accepts.
pub const ALL_INPUTS: [&str; 9] = [
    "geometry",
    "crs",
    "file",
    "lsoas",
    "wards",
    "districts",
    "area",
    "max_decile",
    "min_distance_m",
];

/// How an area is given.
#[derive(Debug, Clone, PartialEq)]
pub enum AreaInput {
    /// A GeoJSON geometry (or Feature, FeatureCollection) in `crs`.
    Geometry {
        /// The GeoJSON object.
        value: Value,
        /// Its CRS definition.
        crs: String,
    },
    /// An uploaded boundary file.
    File {
        /// Its bytes.
        bytes: Vec<u8>,
        /// Its file name (for the extension).
        name: String,
    },
    /// 2021 LSOA codes.
    Lsoas(Vec<String>),
    /// 2024 ward codes.
    Wards(Vec<String>),
    /// District codes.
    Districts(Vec<String>),
    /// A saved area's feature id (`areas-<n>`, collection `areas`).
    Saved(String),
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// `application/json`.
    Json,
    /// `text/csv`.
    Csv,
}

/// A parsed execution request.
#[derive(Debug, Clone)]
pub struct Execution {
    /// The area.
    pub area: AreaInput,
    /// Profile parameters.
    pub params: ProfileParams,
    /// Output format.
    pub format: OutputFormat,
}

/// A 400 naming an input.
pub fn bad_input(input: &str, expected: impl std::fmt::Display) -> ApiError {
    ApiError::bad_parameter(input, expected)
}

impl From<BoundaryError> for ApiError {
    /// A boundary's problem is a statement ("the file is empty"), not what
    /// was expected, so it is not put after "expected".
    fn from(e: BoundaryError) -> Self {
        ApiError {
            detail: format!("parameter '{}': {}", e.input, e.problem),
            ..ApiError::bad_parameter(e.input, "")
        }
    }
}

fn strings(v: &Value, input: &'static str, limits: &Limits) -> Result<Vec<String>, ApiError> {
    let list = v
        .as_array()
        .filter(|a| !a.is_empty() && a.len() <= limits.max_codes)
        .ok_or_else(|| {
            bad_input(
                input,
                format!("an array of 1 to {} codes", limits.max_codes),
            )
        })?;
    list.iter()
        .map(|c| {
            c.as_str()
                .map(|s| s.trim().to_owned())
                .ok_or_else(|| bad_input(input, "codes as strings"))
        })
        .collect()
}

/// Parses the body of an execution request. `f` is the `f` query
/// parameter, which overrides `outputs.profile.format.mediaType`.
///
/// # Errors
/// A 400 naming the input at fault.
pub fn parse(body: &Value, f: Option<&str>, limits: &Limits) -> Result<Execution, ApiError> {
    let inputs = body
        .get("inputs")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            bad_input(
                "inputs",
                "an object of process inputs (see /processes/area-profile)",
            )
        })?;
    if let Some(k) = inputs.keys().find(|k| !ALL_INPUTS.contains(&k.as_str())) {
        let shown: String = k.chars().take(40).collect();
        return Err(ApiError::unknown_parameter(&shown, &ALL_INPUTS));
    }
    let given: Vec<&str> = AREA_INPUTS
        .iter()
        .copied()
        .filter(|k| inputs.contains_key(*k))
        .collect();
    let [one] = given.as_slice() else {
        return Err(bad_input(
            "inputs",
            format!(
                "exactly one of {} (got {})",
                AREA_INPUTS.join(", "),
                if given.is_empty() {
                    "none".to_owned()
                } else {
                    given.join(", ")
                }
            ),
        ));
    };
    let v = &inputs[*one];
    // A qualified input value ({"value": ...}) is accepted for every input.
    let unwrap = |v: &'_ Value| -> Value {
        match v.get("value") {
            Some(inner) if v.get("type").is_none() => inner.clone(),
            _ => v.clone(),
        }
    };
    let area = match *one {
        "geometry" => {
            let crs = match inputs.get("crs").map(unwrap) {
                None => "OGC:CRS84".to_owned(),
                Some(Value::String(s)) => {
                    crate::model::Crs::from_uri(&s).map_or(s, |c| c.uri().to_owned())
                }
                Some(_) => return Err(bad_input("crs", "a CRS as a string")),
            };
            let crs = if crs == crate::model::Crs::Crs84.uri() {
                "OGC:CRS84".to_owned()
            } else {
                crs
            };
            AreaInput::Geometry {
                value: unwrap(v),
                crs,
            }
        }
        "file" => {
            let text = v.get("value").and_then(Value::as_str).ok_or_else(|| {
                bad_input("file", "{\"value\": <base64 text>, \"filename\": ...}")
            })?;
            if v.get("encoding")
                .and_then(Value::as_str)
                .is_some_and(|e| e != "base64")
            {
                return Err(bad_input("file", "base64 encoding"));
            }
            let bytes = base64_decode(text).ok_or_else(|| bad_input("file", "base64 text"))?;
            let name = v
                .get("filename")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| v.get("mediaType").and_then(Value::as_str).map(extension_of))
                .unwrap_or_default();
            AreaInput::File { bytes, name }
        }
        "lsoas" => AreaInput::Lsoas(strings(&unwrap(v), "lsoas", limits)?),
        "wards" => AreaInput::Wards(strings(&unwrap(v), "wards", limits)?),
        "districts" => AreaInput::Districts(strings(&unwrap(v), "districts", limits)?),
        _ => AreaInput::Saved(
            unwrap(v)
                .as_str()
                .map(|s| s.trim().chars().take(80).collect())
                .ok_or_else(|| bad_input("area", "a saved area's id, areas-<n>"))?,
        ),
    };
    let mut params = ProfileParams::default();
    if let Some(d) = inputs.get("max_decile").map(unwrap) {
        params.max_decile = d
            .as_u64()
            .and_then(|d| u8::try_from(d).ok())
            .filter(|d| (1..=10).contains(d))
            .ok_or_else(|| bad_input("max_decile", "an integer from 1 to 10"))?;
    }
    if let Some(d) = inputs.get("min_distance_m").map(unwrap) {
        params.min_distance_m = d
            .as_f64()
            .filter(|d| d.is_finite() && *d >= 0.0)
            .ok_or_else(|| bad_input("min_distance_m", "a distance in metres, 0 or more"))?;
    }
    let wanted = body
        .pointer("/outputs/profile/format/mediaType")
        .and_then(Value::as_str);
    let format = match (f, wanted) {
        (Some("json"), _) | (None, None | Some("application/json")) => OutputFormat::Json,
        (Some("csv"), _) | (None, Some("text/csv")) => OutputFormat::Csv,
        (Some(_), _) => return Err(bad_input("f", "json or csv")),
        (None, Some(_)) => {
            return Err(bad_input(
                "outputs",
                "profile format application/json or text/csv",
            ))
        }
    };
    Ok(Execution {
        area,
        params,
        format,
    })
}

fn extension_of(media_type: &str) -> String {
    match media_type {
        "application/geopackage+sqlite3" => "upload.gpkg",
        "application/vnd.google-earth.kml+xml" => "upload.kml",
        "application/zip" | "application/x-zip-compressed" => "upload.zip",
        "application/flatgeobuf" => "upload.fgb",
        _ => "upload.geojson",
    }
    .to_owned()
}

/// Decodes standard or URL-safe base64 (padding optional, whitespace
/// ignored); `None` for anything else.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0_u32, 0_u32);
    for b in text.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' | b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

/// The boundary limits matching the profile limits.
#[must_use]
pub fn boundary_limits(limits: &Limits) -> BoundaryLimits {
    BoundaryLimits {
        max_vertices: limits.max_vertices,
        max_parts: limits.max_parts,
        ..BoundaryLimits::default()
    }
}

/// The area an input gives, ready to profile, with whether its polygon
/// was repaired.
///
/// # Errors
/// A 400 naming the input: unreadable, not polygons, beyond the limits,
/// outside the region, unknown codes; a 404 naming `area` for an unknown
/// saved area.
pub fn resolve(
    s: &Snapshot,
    area: AreaInput,
    limits: &Limits,
    interrupt: &Interrupt,
) -> Result<(AreaSpec, bool), ApiError> {
    let atlas = &s.atlas;
    let lookup =
        |codes: &[String], input: &'static str, find: &dyn Fn(&str) -> Option<Vec<u32>>| {
            let mut all = Vec::new();
            for c in codes {
                let found = find(c).ok_or_else(|| {
                    let shown: String = c.chars().take(20).collect();
                    bad_input(
                        input,
                        format!("codes of {} (no '{shown}')", atlas.region.name),
                    )
                })?;
                all.extend(found);
            }
            if all.is_empty() {
                return Err(bad_input(input, "areas with at least one 2021 LSOA"));
            }
            Ok(all)
        };
    let from_polygon = |b: Boundary| -> Result<(AreaSpec, bool), ApiError> {
        let repaired = b.repaired;
        Ok((
            area_profile::from_polygon(atlas, &s.results, b.polygon, limits, interrupt)?,
            repaired,
        ))
    };
    let (lsoas, input) = match area {
        AreaInput::Geometry { value, crs } => {
            return from_polygon(area_boundary::geojson::read(
                &value,
                &crs,
                &boundary_limits(limits),
            )?)
        }
        AreaInput::File { bytes, name } => {
            return from_polygon(area_boundary::file::read(
                bytes,
                &name,
                &boundary_limits(limits),
            )?)
        }
        AreaInput::Saved(id) => {
            let placed = crate::model::area::parse_feature_id(&id)
                .and_then(|n| crate::api::areas::placed(s, n))
                .ok_or_else(|| ApiError {
                    parameter: Some("area".into()),
                    ..ApiError::not_found(format!(
                        "no saved area '{id}' (collection 'areas' lists them)"
                    ))
                })?;
            // Profiled exactly as its served geometry would be.
            let spec = area_profile::from_polygon(
                atlas,
                &s.results,
                placed.polygon.clone(),
                limits,
                interrupt,
            )
            .map_err(|e| match e {
                AnalysisError::InvalidParameter { expected, .. } => bad_input("area", expected),
                e @ AnalysisError::Interrupted => ApiError::from(e),
            })?;
            return Ok((spec, false));
        }
        AreaInput::Lsoas(codes) => (
            lookup(&codes, "lsoas", &|c| {
                atlas.lsoa21_by_code(c).map(|(i, _)| vec![i])
            })?,
            "lsoas",
        ),
        AreaInput::Wards(codes) => (
            lookup(&codes, "wards", &|c| {
                atlas.ward_by_code(c).map(|(_, w)| w.lsoas.clone())
            })?,
            "wards",
        ),
        AreaInput::Districts(codes) => (
            lookup(&codes, "districts", &|c| {
                atlas.district_by_code(c).map(|(_, d)| d.lsoas.clone())
            })?,
            "districts",
        ),
    };
    let spec = area_profile::from_lsoas(atlas, &s.results, lsoas, limits).map_err(|e| match e {
        AnalysisError::InvalidParameter { expected, .. } => bad_input(input, expected),
        e @ AnalysisError::Interrupted => ApiError::from(e),
    })?;
    Ok((spec, false))
}
