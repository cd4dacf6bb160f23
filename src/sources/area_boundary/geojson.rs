//! A boundary sent as GeoJSON: a Polygon or MultiPolygon geometry, a
//! Feature holding one, or a FeatureCollection of them (their polygons
//! become the parts of one area). Parsed by hand from `serde_json`, bounded
//! while it is read: positions beyond the vertex limit stop the parse.

use geo::{Coord, LineString, MultiPolygon, Polygon};
use serde_json::Value;

use super::{finish, spatial_ref, Boundary, BoundaryError, BoundaryLimits};

/// Reads a GeoJSON geometry, Feature or FeatureCollection in the CRS
/// `crs` (a definition [`spatial_ref`] accepts; GeoJSON's own is CRS84).
///
/// # Errors
/// [`BoundaryError`] naming `geometry`: not a polygon, malformed positions
/// or rings, beyond the limits, unrepairable; naming `crs`: unknown CRS.
pub fn read(value: &Value, crs: &str, limits: &BoundaryLimits) -> Result<Boundary, BoundaryError> {
    let srs = spatial_ref(crs, "crs")?;
    let mut budget = limits.max_vertices;
    let (mp, features) = parse(value, &mut budget, 0)?;
    finish(mp, &srs, features, limits, "geometry")
}

/// The polygons of a Polygon or MultiPolygon, counting its vertices
/// against `budget` (for [`super::file`]).
///
/// # Errors
/// [`BoundaryError`] naming `geometry` for malformed input or too many vertices.
pub(crate) fn parse_counted(
    v: &Value,
    budget: &mut usize,
) -> Result<(MultiPolygon<f64>, usize), BoundaryError> {
    parse(v, budget, 2)
}

fn bad(problem: impl Into<String>) -> BoundaryError {
    BoundaryError::new("geometry", problem)
}

/// Polygons of a GeoJSON object and the number of features (or geometries)
/// read. `budget` is the vertices still allowed.
fn parse(
    v: &Value,
    budget: &mut usize,
    depth: usize,
) -> Result<(MultiPolygon<f64>, usize), BoundaryError> {
    let kind = v.get("type").and_then(Value::as_str).ok_or_else(|| {
        bad("it has no 'type' member: a GeoJSON Polygon or MultiPolygon (or a Feature or FeatureCollection of them) is expected")
    })?;
    match kind {
        "Polygon" => Ok((MultiPolygon(vec![polygon(coordinates(v)?, budget)?]), 1)),
        "MultiPolygon" => {
            let parts = coordinates(v)?
                .as_array()
                .ok_or_else(|| bad("MultiPolygon coordinates must be an array of polygons"))?;
            let polygons = parts
                .iter()
                .map(|p| polygon(p, budget))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((MultiPolygon(polygons), 1))
        }
        "Feature" if depth == 0 || depth == 1 => {
            let g = v
                .get("geometry")
                .filter(|g| !g.is_null())
                .ok_or_else(|| bad("the Feature has no geometry"))?;
            if g.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t == "Feature" || t == "FeatureCollection")
            {
                return Err(bad("a Feature's geometry must be a geometry"));
            }
            parse(g, budget, depth + 1)
        }
        "FeatureCollection" if depth == 0 => {
            let features = v
                .get("features")
                .and_then(Value::as_array)
                .ok_or_else(|| bad("the FeatureCollection has no 'features' array"))?;
            if features.is_empty() {
                return Err(bad("the FeatureCollection has no features"));
            }
            let mut all = Vec::new();
            for f in features {
                all.extend(parse(f, budget, 1)?.0 .0);
            }
            Ok((MultiPolygon(all), features.len()))
        }
        other => Err(bad(format!(
            "a Polygon or MultiPolygon is expected, not {}",
            if other.len() > 40 {
                "an unknown type"
            } else {
                other
            }
        ))),
    }
}

fn coordinates(v: &Value) -> Result<&Value, BoundaryError> {
    v.get("coordinates")
        .ok_or_else(|| bad("the geometry has no 'coordinates'"))
}

fn polygon(v: &Value, budget: &mut usize) -> Result<Polygon<f64>, BoundaryError> {
    let rings = v
        .as_array()
        .filter(|r| !r.is_empty())
        .ok_or_else(|| bad("a polygon must be a non-empty array of rings"))?;
    let mut rings = rings.iter().map(|r| ring(r, budget));
    let exterior = rings
        .next()
        .ok_or_else(|| bad("a polygon needs an exterior ring"))??;
    let holes = rings.collect::<Result<Vec<_>, _>>()?;
    Ok(Polygon::new(exterior, holes))
}

fn ring(v: &Value, budget: &mut usize) -> Result<LineString<f64>, BoundaryError> {
    let positions = v
        .as_array()
        .ok_or_else(|| bad("a ring must be an array of positions"))?;
    if positions.len() > *budget {
        return Err(bad("more vertices than are accepted"));
    }
    *budget -= positions.len();
    let coords = positions
        .iter()
        .map(|p| {
            let xy = p.as_array().filter(|a| a.len() >= 2);
            let x = xy.and_then(|a| a.first()?.as_f64());
            let y = xy.and_then(|a| a.get(1)?.as_f64());
            match (x, y) {
                (Some(x), Some(y)) if x.is_finite() && y.is_finite() => Ok(Coord { x, y }),
                _ => Err(bad("every position must be [x, y] with finite numbers")),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    if coords.len() < 4 {
        return Err(bad(
            "every ring needs at least four positions (a closed triangle)",
        ));
    }
    if coords.first() != coords.last() {
        return Err(bad(
            "every ring must be closed (its last position equal to its first)",
        ));
    }
    Ok(LineString(coords))
}

/// The polygons of a GeoJSON geometry (Polygon, MultiPolygon, or a
/// GeometryCollection holding them); every other part (lines and points
/// MakeValid may leave) is dropped. Malformed input gives nothing.
#[must_use]
pub fn polygonal_parts(v: &Value) -> MultiPolygon<f64> {
    let mut budget = usize::MAX;
    match v.get("type").and_then(Value::as_str) {
        Some("Polygon" | "MultiPolygon") => {
            parse(v, &mut budget, 2).map_or_else(|_| MultiPolygon(vec![]), |(mp, _)| mp)
        }
        Some("GeometryCollection") => MultiPolygon(
            v.get("geometries")
                .and_then(Value::as_array)
                .map(|gs| gs.iter().flat_map(|g| polygonal_parts(g).0).collect())
                .unwrap_or_default(),
        ),
        _ => MultiPolygon(vec![]),
    }
}
