//! Polygon layers (LSOAs, wards, districts).
//!
//! Every kept polygon is checked: at least four positions per ring, finite
//! coordinates, and no ring that crosses or touches itself (a "bow-tie"
//! makes containment and area meaningless). A ring the file leaves open is
//! closed by repeating its first position, which is the only well-defined
//! repair; it is reported (file, feature code, row, ring) and, if the closed
//! ring then crosses itself, the feature is an error instead. Holes lying
//! outside their shell and overlapping parts of a multipolygon are not
//! checked (that needs a full topology check, too slow for England at
//! every start).

use std::path::Path;

use geo::line_intersection::{line_intersection, LineIntersection};
use geo::{Coord, Geometry, Intersects, Line, LineString, MultiPolygon};

use super::error::SourceError;
use super::table::{Row, Table};
use crate::config::BoundaryConfig;
use crate::model::DualPolygon;

/// A boundary as read: code (after any recoding), name and geometry.
#[derive(Debug, Clone)]
pub struct RawArea {
    /// Code.
    pub code: String,
    /// The code in the file, when it was recoded.
    pub original_code: Option<String>,
    /// Name.
    pub name: String,
    /// Geometry in both CRSs.
    pub geometry: DualPolygon,
}

/// Reads the areas of a boundary layer whose (recoded) code passes `keep`.
/// Geometries of other areas are never converted, which keeps England-wide
/// files cheap to filter.
///
/// # Errors
/// Missing file, column or value, or an invalid geometry among kept areas.
pub fn read_boundaries(
    data_dir: &Path,
    config: &BoundaryConfig,
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<RawArea>, SourceError> {
    let table = Table::open_ref(data_dir, &config.table)?;
    let code_col = table.column(&config.code)?;
    let name_col = table.column(&config.name)?;
    let reprojector = table.reprojector()?;
    let mut areas = Vec::new();
    table.for_each_row(|row| {
        let file_code = row.required_text(&code_col)?;
        let recoded = config.recode.get(&file_code).cloned();
        let code = recoded.clone().unwrap_or_else(|| file_code.clone());
        if !keep(&code) {
            return Ok(());
        }
        let polygon = row_polygon_named(row, &code)?;
        let geometry = reprojector
            .polygon(&polygon)
            .map_err(|e| row.invalid_geometry(e.to_string()))?;
        areas.push(RawArea {
            code,
            original_code: recoded.map(|_| file_code),
            name: row.text(&name_col).unwrap_or_default(),
            geometry,
        });
        Ok(())
    })?;
    Ok(areas)
}

/// The row's geometry as a validated multipolygon.
///
/// # Errors
/// `InvalidGeometry` when missing, not polygonal, empty, non-finite, with a
/// ring of fewer than four positions, or with a ring that crosses or touches
/// itself.
pub fn row_polygon(row: &Row<'_>) -> Result<MultiPolygon<f64>, SourceError> {
    row_polygon_named(row, &format!("row {}", row.number()))
}

/// [`row_polygon`] for a feature known by `name` (its code), which messages
/// and repair reports use.
fn row_polygon_named(row: &Row<'_>, name: &str) -> Result<MultiPolygon<f64>, SourceError> {
    let (geo, open_rings) = row.geometry_and_open_rings()?;
    let geo =
        geo.ok_or_else(|| row.invalid_geometry(format!("missing geometry (feature {name})")))?;
    let mp = match geo {
        Geometry::Polygon(p) => MultiPolygon(vec![p]),
        Geometry::MultiPolygon(mp) => mp,
        other => {
            return Err(row.invalid_geometry(format!(
                "expected a polygon, found a {}",
                geometry_kind(&other)
            )))
        }
    };
    let closed_note = |reason: String| {
        if open_rings.is_empty() {
            reason
        } else {
            format!(
                "{reason} (the file left {} open; closing it is the only repair, and it does not give a valid polygon)",
                open_rings.join("; ")
            )
        }
    };
    validate_polygon(&mp)
        .map_err(|reason| row.invalid_geometry(closed_note(format!("feature {name}: {reason}"))))?;
    if !open_rings.is_empty() {
        tracing::warn!(
            "{}: feature {name} (row {}): repaired geometry: {} not closed; closed by repeating its first position",
            row.file().display(),
            row.number(),
            open_rings.join("; ")
        );
    }
    Ok(mp)
}

fn validate_polygon(mp: &MultiPolygon<f64>) -> Result<(), String> {
    if mp.0.is_empty() {
        return Err("empty polygon".to_owned());
    }
    for (p, polygon) in mp.0.iter().enumerate() {
        for (r, ring) in std::iter::once(polygon.exterior())
            .chain(polygon.interiors())
            .enumerate()
        {
            let which = || format!("polygon {}, ring {}", p + 1, r + 1);
            if ring.0.len() < 4 {
                return Err(format!(
                    "{}: {} positions; at least 4 are needed",
                    which(),
                    ring.0.len()
                ));
            }
            if ring.0.iter().any(|c| !c.x.is_finite() || !c.y.is_finite()) {
                return Err(format!("{}: a coordinate is not a finite number", which()));
            }
            if let Some(at) = self_intersection(ring) {
                return Err(format!(
                    "{}: the ring crosses or touches itself near ({}, {})",
                    which(),
                    at.x,
                    at.y
                ));
            }
        }
    }
    Ok(())
}

/// Where a closed ring crosses or touches itself, if it does: two segments
/// that are not neighbours meet, or two neighbours fold back over each other
/// (a spike). Repeated consecutive positions are allowed.
///
/// Segments are swept in order of their smallest x, so each is compared only
/// with those whose x-ranges overlap its own: O(n log n) for the shapes of
/// boundary files, where geo's `Validation` compares every pair (O(n²),
/// seconds for a county outline).
fn self_intersection(ring: &LineString<f64>) -> Option<Coord<f64>> {
    let mut points: Vec<Coord<f64>> = ring.0.clone();
    points.dedup();
    if points.len() < 4 {
        // Fewer than three distinct positions: a line folded on itself.
        return points.first().copied().filter(|_| points.len() > 1);
    }
    let lines: Vec<Line<f64>> = points.windows(2).map(|w| Line::new(w[0], w[1])).collect();
    let n = lines.len();
    let adjacent = |i: usize, j: usize| {
        j == i + 1 || i == j + 1 || (i == 0 && j == n - 1) || (j == 0 && i == n - 1)
    };
    let mut order: Vec<usize> = (0..n).collect();
    let min_x = |l: &Line<f64>| l.start.x.min(l.end.x);
    order.sort_by(|&a, &b| min_x(&lines[a]).total_cmp(&min_x(&lines[b])));
    for (k, &i) in order.iter().enumerate() {
        let a = lines[i];
        let a_max_x = a.start.x.max(a.end.x);
        let (a_min_y, a_max_y) = (a.start.y.min(a.end.y), a.start.y.max(a.end.y));
        for &j in &order[k + 1..] {
            let b = lines[j];
            if min_x(&b) > a_max_x {
                break;
            }
            if b.start.y.max(b.end.y) < a_min_y || b.start.y.min(b.end.y) > a_max_y {
                continue;
            }
            if adjacent(i, j) {
                // Neighbours share one end; more than that is a spike.
                if let Some(LineIntersection::Collinear { intersection }) = line_intersection(a, b)
                {
                    if intersection.start != intersection.end {
                        return Some(intersection.start);
                    }
                }
            } else if a.intersects(&b) {
                return Some(match line_intersection(a, b) {
                    Some(LineIntersection::SinglePoint { intersection, .. }) => intersection,
                    Some(LineIntersection::Collinear { intersection }) => intersection.start,
                    None => a.start,
                });
            }
        }
    }
    None
}

fn geometry_kind(g: &Geometry<f64>) -> &'static str {
    match g {
        Geometry::Point(_) => "point",
        Geometry::Line(_) | Geometry::LineString(_) => "line",
        Geometry::MultiPoint(_) => "multipoint",
        Geometry::MultiLineString(_) => "multilinestring",
        Geometry::GeometryCollection(_) => "geometry collection",
        Geometry::Rect(_)
        | Geometry::Triangle(_)
        | Geometry::Polygon(_)
        | Geometry::MultiPolygon(_) => "polygon",
    }
}

#[cfg(test)]
mod tests {
    use super::self_intersection;
    use geo::LineString;

    fn ring(points: &[(f64, f64)]) -> LineString<f64> {
        LineString::from(points.to_vec())
    }

    #[test]
    fn simple_rings_pass() {
        let square = ring(&[(0., 0.), (2., 0.), (2., 2.), (0., 2.), (0., 0.)]);
        assert_eq!(self_intersection(&square), None);
        // A repeated position is not a self-intersection.
        let repeated = ring(&[(0., 0.), (2., 0.), (2., 0.), (2., 2.), (0., 2.), (0., 0.)]);
        assert_eq!(self_intersection(&repeated), None);
        // A concave ring whose segments come close but do not meet.
        let c = ring(&[
            (0., 0.),
            (3., 0.),
            (3., 1.),
            (1., 1.),
            (1., 2.),
            (3., 2.),
            (3., 3.),
            (0., 3.),
            (0., 0.),
        ]);
        assert_eq!(self_intersection(&c), None);
    }

    #[test]
    fn bow_tie_spike_and_touch_are_found() {
        let bow_tie = ring(&[(0., 0.), (2., 2.), (2., 0.), (0., 2.), (0., 0.)]);
        let at = self_intersection(&bow_tie).expect("crossing");
        assert!(
            (at.x - 1.0).abs() < 1e-12 && (at.y - 1.0).abs() < 1e-12,
            "{at:?}"
        );
        let spike = ring(&[(0., 0.), (2., 0.), (3., 0.), (2.5, 0.), (2., 2.), (0., 0.)]);
        assert!(self_intersection(&spike).is_some());
        // Touching itself at a vertex (an "inverted hole").
        let touch = ring(&[
            (0., 0.),
            (4., 0.),
            (2., 2.),
            (3., 3.),
            (1., 3.),
            (2., 2.),
            (0., 4.),
            (0., 0.),
        ]);
        assert!(self_intersection(&touch).is_some());
    }
}
