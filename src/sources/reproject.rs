//! Coordinate transformation with GDAL's spatial reference API: every source
//! geometry is turned into CRS84 (longitude, latitude) and British National
//! Grid once, at load.

use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use geo::{Coord, LineString, MultiPolygon, Point, Polygon};

use super::error::SourceError;
use crate::atlas::{DualPoint, DualPolygon};

/// EPSG code of British National Grid.
pub const BNG_EPSG: u32 = 27700;
/// EPSG code of WGS84 geographic coordinates (used in traditional lon/lat order = CRS84).
pub const WGS84_EPSG: u32 = 4326;

fn srs(epsg: u32) -> Result<SpatialRef, SourceError> {
    let mut s = SpatialRef::from_epsg(epsg).map_err(|e| SourceError::Transform {
        what: format!("EPSG:{epsg}"),
        message: e.to_string(),
    })?;
    s.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    Ok(s)
}

fn transform(
    from: &SpatialRef,
    to: &SpatialRef,
    what: &str,
) -> Result<CoordTransform, SourceError> {
    CoordTransform::new(from, to).map_err(|e| SourceError::Transform {
        what: what.to_owned(),
        message: e.to_string(),
    })
}

/// Transforms from one source CRS to both CRS84 and BNG.
pub struct Reprojector {
    to_lonlat: CoordTransform,
    to_bng: CoordTransform,
}

impl Reprojector {
    /// From a source spatial reference (e.g. a layer's).
    ///
    /// # Errors
    /// When GDAL cannot build either transformation.
    pub fn from_srs(source: &SpatialRef) -> Result<Self, SourceError> {
        let mut source = source.clone();
        source.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
        Ok(Self {
            to_lonlat: transform(&source, &srs(WGS84_EPSG)?, "source to CRS84")?,
            to_bng: transform(&source, &srs(BNG_EPSG)?, "source to EPSG:27700")?,
        })
    }

    /// From an EPSG code.
    ///
    /// # Errors
    /// When GDAL does not know the code or cannot build a transformation.
    pub fn from_epsg(epsg: u32) -> Result<Self, SourceError> {
        Self::from_srs(&srs(epsg)?)
    }

    /// Transforms many points at once (GDAL batches them through PROJ).
    ///
    /// # Errors
    /// When PROJ cannot transform a coordinate.
    pub fn points(&self, xs: &[f64], ys: &[f64]) -> Result<Vec<DualPoint>, SourceError> {
        let (mut lx, mut ly) = (xs.to_vec(), ys.to_vec());
        let (mut bx, mut by) = (xs.to_vec(), ys.to_vec());
        run(&self.to_lonlat, &mut lx, &mut ly, "to CRS84")?;
        run(&self.to_bng, &mut bx, &mut by, "to EPSG:27700")?;
        Ok((0..xs.len())
            .map(|i| DualPoint {
                lonlat: Point::new(lx[i], ly[i]),
                bng: Point::new(bx[i], by[i]),
            })
            .collect())
    }

    /// Transforms a multipolygon into both CRSs.
    ///
    /// # Errors
    /// When PROJ cannot transform a coordinate, or the polygon is empty.
    pub fn polygon(&self, source: &MultiPolygon<f64>) -> Result<DualPolygon, SourceError> {
        let lonlat = map_all(source, &self.to_lonlat, "to CRS84")?;
        let bng = map_all(source, &self.to_bng, "to EPSG:27700")?;
        DualPolygon::new(lonlat, bng).ok_or_else(|| SourceError::Transform {
            what: "polygon".to_owned(),
            message: "empty geometry".to_owned(),
        })
    }
}

fn run(ct: &CoordTransform, x: &mut [f64], y: &mut [f64], what: &str) -> Result<(), SourceError> {
    ct.transform_coords(x, y, &mut [])
        .map_err(|e| SourceError::Transform {
            what: what.to_owned(),
            message: e.to_string(),
        })?;
    if x.iter().chain(y.iter()).any(|v| !v.is_finite()) {
        return Err(SourceError::Transform {
            what: what.to_owned(),
            message: "a coordinate fell outside the target CRS".to_owned(),
        });
    }
    Ok(())
}

/// Transforms every coordinate of a multipolygon in one batch, rebuilding
/// the rings in the order they were flattened.
fn map_all(
    source: &MultiPolygon<f64>,
    ct: &CoordTransform,
    what: &str,
) -> Result<MultiPolygon<f64>, SourceError> {
    let rings = || {
        source
            .0
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
    };
    let (mut xs, mut ys): (Vec<f64>, Vec<f64>) =
        rings().flat_map(|r| r.0.iter().map(|c| (c.x, c.y))).unzip();
    run(ct, &mut xs, &mut ys, what)?;
    let mut next = xs.into_iter().zip(ys).map(|(x, y)| Coord { x, y });
    let mut ring =
        |r: &LineString<f64>| LineString::new(r.0.iter().filter_map(|_| next.next()).collect());
    Ok(MultiPolygon(
        source
            .0
            .iter()
            .map(|p| {
                let exterior = ring(p.exterior());
                let interiors = p.interiors().iter().map(&mut ring).collect();
                Polygon::new(exterior, interiors)
            })
            .collect(),
    ))
}
