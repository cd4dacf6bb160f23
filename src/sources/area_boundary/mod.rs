//! Area boundaries a user sends: a GeoJSON geometry in a request
//! ([`geojson`]) or an uploaded boundary file GDAL reads ([`file`]:
//! GeoJSON, GeoPackage, zipped Shapefile, KML, ... in any CRS GDAL knows).
//! Both end in [`finish`]: limits checked, polygonal parts kept (multi-part
//! and holes allowed), an invalid polygon repaired with GEOS's MakeValid
//! (a bow-tie becomes two triangles) or refused when nothing with an area
//! is left, and the result projected once to CRS84 and British National
//! Grid. Every refusal is a [`BoundaryError`] naming the input at fault.

pub mod file;
pub mod geojson;

use gdal::cpl::CslStringList;
use gdal::spatial_ref::SpatialRef;
use gdal::vector::ToGdal;
use geo::{CoordsIter, MultiPolygon};

use super::reproject::Reprojector;
use crate::model::DualPolygon;

/// Bounds on what a boundary may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoundaryLimits {
    /// Largest file or geometry text, in bytes.
    pub max_bytes: usize,
    /// Largest number of vertices (all rings of all parts).
    pub max_vertices: usize,
    /// Largest number of polygons, or of features in a file.
    pub max_parts: usize,
}

impl Default for BoundaryLimits {
    fn default() -> Self {
        Self {
            max_bytes: 8 * 1024 * 1024,
            max_vertices: 20_000,
            max_parts: 500,
        }
    }
}

/// Why a boundary was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input}: {problem}")]
pub struct BoundaryError {
    /// The input at fault (`geometry`, `file`, `crs`).
    pub input: &'static str,
    /// What is wrong, for people.
    pub problem: String,
}

impl BoundaryError {
    pub(crate) fn new(input: &'static str, problem: impl Into<String>) -> Self {
        Self {
            input,
            problem: problem.into(),
        }
    }
}

/// A boundary ready for analysis.
#[derive(Debug, Clone)]
pub struct Boundary {
    /// The polygon in both CRSs.
    pub polygon: DualPolygon,
    /// Whether it was invalid and repaired (MakeValid).
    pub repaired: bool,
    /// Features (or geometries) it was made from.
    pub features: usize,
}

/// Checks the limits, repairs an invalid polygon and projects it from
/// `srs` (the source CRS) to CRS84 and BNG. `input` names the input in errors.
///
/// # Errors
/// Too many vertices or parts; an invalid polygon MakeValid cannot turn
/// into one with an area; a CRS or coordinate GDAL cannot transform.
pub fn finish(
    mp: MultiPolygon<f64>,
    srs: &SpatialRef,
    features: usize,
    limits: &BoundaryLimits,
    input: &'static str,
) -> Result<Boundary, BoundaryError> {
    check_limits(&mp, limits, input)?;
    if mp.0.is_empty() {
        return Err(BoundaryError::new(input, "the geometry is empty"));
    }
    let gdal_geom = mp
        .to_gdal()
        .map_err(|e| BoundaryError::new(input, format!("cannot be read as a polygon: {e}")))?;
    let (mp, repaired) = if gdal_geom.is_valid() {
        (mp, false)
    } else {
        let fixed = gdal_geom
            .make_valid(&CslStringList::new())
            .ok()
            .and_then(|g| g.json().ok())
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .map_or_else(|| MultiPolygon(vec![]), |v| geojson::polygonal_parts(&v));
        let area = fixed.0.iter().map(geo::Area::unsigned_area).sum::<f64>();
        if fixed.0.is_empty() || area <= 0.0 {
            return Err(BoundaryError::new(
                input,
                "the polygon crosses or touches itself and cannot be repaired into an area (nothing with an area is left)",
            ));
        }
        check_limits(&fixed, limits, input)?;
        (fixed, true)
    };
    let polygon = Reprojector::from_srs(srs)
        .and_then(|r| r.polygon(&mp))
        .map_err(|e| BoundaryError::new(input, format!("cannot be projected: {e}")))?;
    Ok(Boundary {
        polygon,
        repaired,
        features,
    })
}

fn check_limits(
    mp: &MultiPolygon<f64>,
    limits: &BoundaryLimits,
    input: &'static str,
) -> Result<(), BoundaryError> {
    let n = mp.coords_count();
    if n > limits.max_vertices {
        return Err(BoundaryError::new(
            input,
            format!("{n} vertices; at most {} are accepted", limits.max_vertices),
        ));
    }
    if mp.0.len() > limits.max_parts {
        return Err(BoundaryError::new(
            input,
            format!(
                "{} polygons; at most {} are accepted",
                mp.0.len(),
                limits.max_parts
            ),
        ));
    }
    Ok(())
}

/// The spatial reference of a CRS definition (OGC URI or URN, `EPSG:n`,
/// WKT, PROJ), with longitude/easting first. CRS84 and EPSG:4326 are
/// both read longitude first, as GeoJSON is.
///
/// # Errors
/// [`BoundaryError`] naming `input` when GDAL does not know the CRS.
pub fn spatial_ref(definition: &str, input: &'static str) -> Result<SpatialRef, BoundaryError> {
    let mut s = SpatialRef::from_definition(definition.trim()).map_err(|_| {
        BoundaryError::new(
            input,
            format!("a CRS GDAL knows (got '{}')", bounded(definition)),
        )
    })?;
    s.set_axis_mapping_strategy(gdal::spatial_ref::AxisMappingStrategy::TraditionalGisOrder);
    Ok(s)
}

/// At most 80 characters of a client's text, for echoing back.
fn bounded(text: &str) -> String {
    let mut out: String = text.chars().take(80).collect();
    if text.chars().nth(80).is_some() {
        out.push('…');
    }
    out
}
