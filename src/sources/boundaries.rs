//! Polygon layers (LSOAs, wards, districts).

use std::path::Path;

use geo::{Geometry, MultiPolygon};

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
        let polygon = row_polygon(row)?;
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
/// `InvalidGeometry` when missing, not polygonal, empty, non-finite, or with a
/// ring of fewer than four positions.
pub fn row_polygon(row: &Row<'_>) -> Result<MultiPolygon<f64>, SourceError> {
    let geo = row
        .geometry()?
        .ok_or_else(|| row.invalid_geometry("missing geometry"))?;
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
    validate_polygon(&mp).map_err(|reason| row.invalid_geometry(reason))?;
    Ok(mp)
}

fn validate_polygon(mp: &MultiPolygon<f64>) -> Result<(), String> {
    if mp.0.is_empty() {
        return Err("empty polygon".to_owned());
    }
    for polygon in &mp.0 {
        for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
            if ring.0.len() < 4 {
                return Err(format!(
                    "a ring has {} positions; at least 4 are needed",
                    ring.0.len()
                ));
            }
            if ring.0.iter().any(|c| !c.x.is_finite() || !c.y.is_finite()) {
                return Err("a coordinate is not a finite number".to_owned());
            }
        }
    }
    Ok(())
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
