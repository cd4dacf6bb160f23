//! Coordinate transformation with GDAL's spatial reference API: every source
//! geometry is turned into CRS84 (longitude, latitude) and British National
//! Grid once, at load.

use std::cell::RefCell;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use geo::{Coord, LineString, MultiPolygon, Point, Polygon};
use rustc_hash::FxHasher;

use super::error::SourceError;
use crate::model::{DualPoint, DualPolygon};

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

/// Transforms from one source CRS to both CRS84 and BNG. A transformation
/// whose source already is the target is left out (`None`), so CRS84 files
/// (every ONS GeoJSON boundary) pay for one transformation, not two.
///
/// Polygon vertices are transformed once each: neighbouring areas share
/// their boundary vertices (61% of the vertices in the 2021 LSOA file are
/// repeats), so the reprojector remembers every vertex it has transformed.
pub struct Reprojector {
    to_lonlat: Option<CoordTransform>,
    to_bng: Option<CoordTransform>,
    vertices: RefCell<VertexCache>,
}

/// Source vertex (as bit patterns) → its CRS84 and BNG positions.
type VertexCache = HashMap<[u64; 2], [Coord<f64>; 2], BuildHasherDefault<FxHasher>>;

fn vertex_key(c: Coord<f64>) -> [u64; 2] {
    [c.x.to_bits(), c.y.to_bits()]
}

impl Reprojector {
    /// From a source spatial reference (e.g. a layer's).
    ///
    /// # Errors
    /// When GDAL cannot build either transformation.
    pub fn from_srs(source: &SpatialRef) -> Result<Self, SourceError> {
        let mut source = source.clone();
        source.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
        let (lonlat, bng) = (srs(WGS84_EPSG)?, srs(BNG_EPSG)?);
        Ok(Self {
            to_lonlat: if source == lonlat {
                None
            } else {
                Some(transform(&source, &lonlat, "source to CRS84")?)
            },
            to_bng: if source == bng {
                None
            } else {
                Some(transform(&source, &bng, "source to EPSG:27700")?)
            },
            vertices: RefCell::default(),
        })
    }

    /// From a CRS definition GDAL understands: an OGC URN such as
    /// `urn:ogc:def:crs:EPSG::27700` or `urn:ogc:def:crs:OGC:1.3:CRS84`,
    /// `EPSG:27700`, WKT or PROJ text.
    ///
    /// # Errors
    /// When GDAL does not understand the definition.
    pub fn from_definition(definition: &str) -> Result<Self, SourceError> {
        let source =
            SpatialRef::from_definition(definition).map_err(|e| SourceError::Transform {
                what: definition.to_owned(),
                message: e.to_string(),
            })?;
        Self::from_srs(&source)
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
        run(self.to_lonlat.as_ref(), &mut lx, &mut ly, "to CRS84")?;
        run(self.to_bng.as_ref(), &mut bx, &mut by, "to EPSG:27700")?;
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
        let mut cache = self.vertices.borrow_mut();
        // Vertices not seen before (a placeholder marks each as taken, so a
        // ring's closing vertex is not queued twice), transformed in one batch.
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for c in rings(source).flat_map(|r| r.0.iter()) {
            if let Entry::Vacant(slot) = cache.entry(vertex_key(*c)) {
                slot.insert([*c; 2]);
                xs.push(c.x);
                ys.push(c.y);
            }
        }
        if !xs.is_empty() {
            for ((x, y), p) in xs.iter().zip(&ys).zip(self.points(&xs, &ys)?) {
                cache.insert(vertex_key(Coord { x: *x, y: *y }), [p.lonlat.0, p.bng.0]);
            }
        }
        let lonlat = rebuild(source, |c| cache.get(&vertex_key(c)).map(|[l, _]| *l));
        let bng = rebuild(source, |c| cache.get(&vertex_key(c)).map(|[_, b]| *b));
        DualPolygon::new(lonlat, bng).ok_or_else(|| SourceError::Transform {
            what: "polygon".to_owned(),
            message: "empty geometry".to_owned(),
        })
    }
}

fn rings(source: &MultiPolygon<f64>) -> impl Iterator<Item = &LineString<f64>> {
    source
        .0
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
}

/// The multipolygon with every vertex replaced through `map` (every vertex
/// is in the cache by then; a miss keeps the source vertex, which cannot
/// happen).
fn rebuild(
    source: &MultiPolygon<f64>,
    map: impl Fn(Coord<f64>) -> Option<Coord<f64>>,
) -> MultiPolygon<f64> {
    let ring =
        |r: &LineString<f64>| LineString::new(r.0.iter().map(|c| map(*c).unwrap_or(*c)).collect());
    MultiPolygon(
        source
            .0
            .iter()
            .map(|p| Polygon::new(ring(p.exterior()), p.interiors().iter().map(ring).collect()))
            .collect(),
    )
}

fn run(
    ct: Option<&CoordTransform>,
    x: &mut [f64],
    y: &mut [f64],
    what: &str,
) -> Result<(), SourceError> {
    if let Some(ct) = ct {
        ct.transform_coords(x, y, &mut [])
            .map_err(|e| SourceError::Transform {
                what: what.to_owned(),
                message: e.to_string(),
            })?;
    }
    if x.iter().chain(y.iter()).any(|v| !v.is_finite()) {
        return Err(SourceError::Transform {
            what: what.to_owned(),
            message: "a coordinate fell outside the target CRS".to_owned(),
        });
    }
    Ok(())
}
