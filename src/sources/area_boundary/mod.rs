//! Area boundaries a user sends: a GeoJSON geometry in a request
//! ([`geojson`]) or an uploaded boundary file GDAL reads ([`file`]:
//! GeoJSON, GeoPackage, zipped Shapefile, KML, ... in the CRS they
//! declare; a CRS given as text is an EPSG code, CRS84 or WKT).
//! Both end in [`finish`]: limits checked, polygonal parts kept (multi-part
//! and holes allowed), an invalid polygon repaired with GEOS's MakeValid,
//! structure method (a bow-tie becomes two triangles; holes are cut from
//! shells even where they cross or touch them) or refused when nothing
//! with an area is left, and the result projected once to CRS84 and British National
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
    if srs.is_geographic() {
        check_degrees(&mp, input)?;
    }
    let gdal_geom = mp
        .to_gdal()
        .map_err(|e| BoundaryError::new(input, format!("cannot be read as a polygon: {e}")))?;
    let (mp, repaired) = if gdal_geom.is_valid() {
        (mp, false)
    } else {
        // GEOS's "structure" method: shells unioned, holes unioned and cut
        // from them. The default ("linework") keeps every ring's line, so a
        // hole crossing or touching its shell became area, or was dropped.
        let mut options = CslStringList::new();
        let fixed = options
            .set_name_value("METHOD", "STRUCTURE")
            .ok()
            .and_then(|()| gdal_geom.make_valid(&options).ok())
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
    // PROJ reports each coordinate it cannot transform through GDAL's error
    // handler: captured, since the client gets the answer in the 400.
    let (projected, _proj_messages) =
        super::gdal_errors::capture(|| Reprojector::from_srs(srs).and_then(|r| r.polygon(&mp)));
    // GDAL's message can quote the CRS's PROJ string: logged, not echoed.
    let polygon = projected.map_err(|e| {
        tracing::debug!(error = %e, "an area boundary cannot be projected");
        BoundaryError::new(
            input,
            "cannot be projected from its CRS to CRS84 and EPSG:27700 (coordinates outside the CRS's area of use?)",
        )
    })?;
    Ok(Boundary {
        polygon,
        repaired,
        features,
    })
}

/// Coordinates in a geographic CRS are degrees: longitude within ±180,
/// latitude within ±90. Anything else is almost always projected
/// coordinates (metres) declared, or defaulted, as CRS84.
fn check_degrees(mp: &MultiPolygon<f64>, input: &'static str) -> Result<(), BoundaryError> {
    match mp
        .coords_iter()
        .find(|c| !(c.x.abs() <= 180.0 && c.y.abs() <= 90.0))
    {
        Some(c) => Err(BoundaryError::new(
            input,
            format!(
                "coordinates in degrees (longitude within ±180, latitude within ±90) for its \
                 geographic CRS; ({}, {}) is not: coordinates in metres need their CRS named, \
                 e.g. EPSG:27700",
                c.x, c.y
            ),
        )),
        None => Ok(()),
    }
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

/// What a CRS definition may be, for messages.
const CRS_FORMS: &str =
    "EPSG:n, urn:ogc:def:crs:EPSG::n, http://www.opengis.net/def/crs/EPSG/0/n, \
                         CRS84 (OGC:CRS84 or its OGC URI or URN) or WKT";

/// An EPSG code, or 4326 for CRS84, from the identifier forms GapMap
/// accepts; `None` for anything else.
fn epsg_code(definition: &str) -> Option<u32> {
    let d = definition.trim();
    let lower = d.to_ascii_lowercase();
    let crs84 = [
        "crs84",
        "ogc:crs84",
        "urn:ogc:def:crs:ogc:1.3:crs84",
        "urn:ogc:def:crs:ogc::crs84",
        "http://www.opengis.net/def/crs/ogc/1.3/crs84",
        "https://www.opengis.net/def/crs/ogc/1.3/crs84",
    ];
    if crs84.contains(&lower.as_str()) {
        return Some(4326);
    }
    let code = lower
        .strip_prefix("epsg:")
        .or_else(|| lower.strip_prefix("urn:ogc:def:crs:epsg::"))
        .or_else(|| lower.strip_prefix("http://www.opengis.net/def/crs/epsg/0/"))
        .or_else(|| lower.strip_prefix("https://www.opengis.net/def/crs/epsg/0/"))?;
    (!code.is_empty() && code.len() <= 6 && code.bytes().all(|b| b.is_ascii_digit()))
        .then(|| code.parse().ok())
        .flatten()
}

/// Whether a definition looks like WKT (1 or 2): a keyword, then `[` or `(`.
fn looks_like_wkt(definition: &str) -> bool {
    let d = definition.trim_start();
    let keyword: String = d
        .chars()
        .take_while(|c| c.is_ascii_alphabetic() || *c == '_')
        .collect();
    [
        "GEOGCS",
        "PROJCS",
        "GEOCCS",
        "GEOGCRS",
        "PROJCRS",
        "GEODCRS",
        "GEOGRAPHICCRS",
        "PROJECTEDCRS",
        "GEODETICCRS",
    ]
    .contains(&keyword.to_ascii_uppercase().as_str())
        && d[keyword.len()..].trim_start().starts_with(['[', '('])
}

/// WKT nodes a CRS definition may use: WKT1 (OGC 01-009, GDAL's) and
/// WKT2 (ISO 19162) nodes of geographic, geodetic and projected CRSs.
/// Nodes that point PROJ at other resources are not among them:
/// `EXTENSION` (a WKT1 PROJ4 string, which may name grid files with
/// `+nadgrids=`), `PARAMETERFILE` (a grid file path), `BOUNDCRS` and
/// `ABRIDGEDTRANSFORMATION` (which carry them), `GEOIDMODEL`, ESRI's
/// `GEOGTRAN`, and vertical or compound CRSs (geoid grids).
const WKT_NODES: &[&str] = &[
    // WKT1
    "GEOGCS",
    "PROJCS",
    "GEOCCS",
    "DATUM",
    "SPHEROID",
    "PRIMEM",
    "UNIT",
    "AXIS",
    "AUTHORITY",
    "PROJECTION",
    "PARAMETER",
    "TOWGS84",
    // WKT2
    "GEOGCRS",
    "GEODCRS",
    "PROJCRS",
    "GEOGRAPHICCRS",
    "GEODETICCRS",
    "PROJECTEDCRS",
    "BASEGEOGCRS",
    "BASEGEODCRS",
    "BASEPROJCRS",
    "CONVERSION",
    "METHOD",
    "ELLIPSOID",
    "ANGLEUNIT",
    "LENGTHUNIT",
    "SCALEUNIT",
    "CS",
    "ORDER",
    "BEARING",
    "MERIDIAN",
    "ID",
    "URI",
    "CITATION",
    "USAGE",
    "SCOPE",
    "AREA",
    "BBOX",
    "VERTICALEXTENT",
    "TIMEEXTENT",
    "REMARK",
    "ENSEMBLE",
    "MEMBER",
    "ENSEMBLEACCURACY",
    "ANCHOR",
    "ANCHOREPOCH",
    "TRF",
    "DYNAMIC",
    "FRAMEEPOCH",
    "EDATUM",
    "TDATUM",
    "GEODETICDATUM",
];

/// The first node of `wkt` that is not in [`WKT_NODES`] (`None` when all
/// are): every keyword followed by `[` or `(`, outside quoted text (where
/// `""` is a quote).
fn foreign_wkt_node(wkt: &str) -> Option<String> {
    let bytes = wkt.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'"' {
            // Skip quoted text; "" inside it is an escaped quote.
            i += 1;
            while i < bytes.len() {
                if bytes[i] == b'"' {
                    if bytes.get(i + 1) == Some(&b'"') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i += 1;
        } else if b.is_ascii_alphabetic() {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let word = wkt[start..i].to_ascii_uppercase();
            let next = wkt[i..].trim_start().as_bytes().first().copied();
            if matches!(next, Some(b'[' | b'(')) && !WKT_NODES.contains(&word.as_str()) {
                return Some(word);
            }
        } else {
            i += 1;
        }
    }
    None
}

/// The spatial reference of a CRS definition (an EPSG code as `EPSG:n`,
/// OGC URN or URI; CRS84; or WKT), with longitude/easting first. CRS84 and
/// EPSG:4326 are both read longitude first, as GeoJSON is.
///
/// Why not GDAL's "user input": it also takes a URL, which it fetches, and
/// a file name, which it reads, and a client's text must never make the
/// server do either. For the same reason WKT may only use the nodes of
/// geographic, geodetic and projected CRSs ([`WKT_NODES`]): a node that
/// names a grid file (`PARAMETERFILE`, a PROJ4 `EXTENSION`) is refused.
///
/// # Errors
/// [`BoundaryError`] naming `input` when the definition is none of those
/// forms, is WKT with a node outside [`WKT_NODES`], or GDAL does not know
/// the CRS.
pub fn spatial_ref(definition: &str, input: &'static str) -> Result<SpatialRef, BoundaryError> {
    let unknown = || {
        BoundaryError::new(
            input,
            format!(
                "'{}' is not a CRS GapMap takes: {CRS_FORMS}",
                bounded(definition)
            ),
        )
    };
    if let Some(node) = looks_like_wkt(definition)
        .then(|| foreign_wkt_node(definition))
        .flatten()
    {
        return Err(BoundaryError::new(
            input,
            format!(
                "the WKT node {} is not taken: a CRS is given by the nodes of a geographic or \
                 projected CRS, never with grid files or PROJ strings",
                bounded(&node)
            ),
        ));
    }
    // PROJ reports a bad definition through GDAL's error handler too, about
    // twenty lines for one WKT: captured here, since the client gets the
    // answer in the 400 and the server's log is no place for its input.
    let (parsed, _proj_messages) = super::gdal_errors::capture(|| {
        if let Some(code) = epsg_code(definition) {
            Some(SpatialRef::from_epsg(code))
        } else if looks_like_wkt(definition) {
            Some(SpatialRef::from_wkt(definition.trim()))
        } else {
            None
        }
    });
    let mut s = parsed.ok_or_else(unknown)?.map_err(|_| unknown())?;
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
