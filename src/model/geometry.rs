//! Geometries held twice: in CRS84 (longitude, latitude) for GeoJSON output and
//! geodesic measures, and in British National Grid (EPSG:27700, metres) for
//! nearest-neighbour search and BNG output. Both are computed once at load by
//! the sources layer, so no request ever reprojects.

use geo::Winding;
use geo::{BoundingRect, MultiPolygon, Point, Rect};

/// A point in both reference systems.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DualPoint {
    /// Longitude, latitude (OGC CRS84).
    pub lonlat: Point<f64>,
    /// Easting, northing in metres (EPSG:27700).
    pub bng: Point<f64>,
}

/// A (multi)polygon in both reference systems, with its bounding boxes.
#[derive(Debug, Clone, PartialEq)]
pub struct DualPolygon {
    /// Longitude, latitude (OGC CRS84).
    pub lonlat: MultiPolygon<f64>,
    /// Easting, northing in metres (EPSG:27700).
    pub bng: MultiPolygon<f64>,
    /// Bounding box of `lonlat`.
    pub lonlat_bbox: Rect<f64>,
    /// Bounding box of `bng`.
    pub bng_bbox: Rect<f64>,
}

impl DualPolygon {
    /// Builds a dual polygon, computing both bounding boxes. Returns `None`
    /// for an empty geometry, which has no bounding box.
    ///
    /// Rings are wound here, once for every output: exterior rings
    /// counter-clockwise and holes clockwise in each CRS's own plane
    /// (RFC 7946 §3.1.6 for CRS84, and the same rule applied to eastings and
    /// northings), whatever the source file used. Geodesic areas and every
    /// GeoJSON writer rely on this.
    #[must_use]
    pub fn new(lonlat: MultiPolygon<f64>, bng: MultiPolygon<f64>) -> Option<Self> {
        let lonlat = wound(lonlat);
        let bng = wound(bng);
        let lonlat_bbox = lonlat.bounding_rect()?;
        let bng_bbox = bng.bounding_rect()?;
        Some(Self {
            lonlat,
            bng,
            lonlat_bbox,
            bng_bbox,
        })
    }
}

/// The multipolygon with exterior rings counter-clockwise and holes
/// clockwise in its own coordinate plane (the Simple Features and RFC 7946
/// convention). Rings are reversed in place where needed.
#[must_use]
pub fn wound(mut mp: MultiPolygon<f64>) -> MultiPolygon<f64> {
    for p in &mut mp.0 {
        p.exterior_mut(Winding::make_ccw_winding);
        p.interiors_mut(|holes| holes.iter_mut().for_each(Winding::make_cw_winding));
    }
    mp
}

/// Which coordinate reference system a request or response uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Crs {
    /// OGC CRS84: longitude, latitude on WGS84.
    Crs84,
    /// EPSG:27700, British National Grid (easting, northing in metres).
    Bng,
}

impl Crs {
    /// The OGC URI of this CRS.
    #[must_use]
    pub fn uri(self) -> &'static str {
        match self {
            Crs::Crs84 => "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
            Crs::Bng => "http://www.opengis.net/def/crs/EPSG/0/27700",
        }
    }

    /// Parses an OGC CRS URI (or a few common short forms).
    #[must_use]
    pub fn from_uri(uri: &str) -> Option<Self> {
        let u = uri.trim().trim_start_matches('[').trim_end_matches(']');
        match u {
            "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
            | "https://www.opengis.net/def/crs/OGC/1.3/CRS84"
            | "urn:ogc:def:crs:OGC:1.3:CRS84"
            | "urn:ogc:def:crs:OGC::CRS84"
            | "OGC:CRS84"
            | "CRS84" => Some(Crs::Crs84),
            "http://www.opengis.net/def/crs/EPSG/0/27700"
            | "https://www.opengis.net/def/crs/EPSG/0/27700"
            | "urn:ogc:def:crs:EPSG::27700"
            | "EPSG:27700" => Some(Crs::Bng),
            _ => None,
        }
    }
}

impl DualPoint {
    /// The point in the given CRS.
    #[must_use]
    pub fn in_crs(&self, crs: Crs) -> Point<f64> {
        match crs {
            Crs::Crs84 => self.lonlat,
            Crs::Bng => self.bng,
        }
    }
}

impl DualPolygon {
    /// The polygon in the given CRS.
    #[must_use]
    pub fn in_crs(&self, crs: Crs) -> &MultiPolygon<f64> {
        match crs {
            Crs::Crs84 => &self.lonlat,
            Crs::Bng => &self.bng,
        }
    }

    /// The bounding box in the given CRS.
    #[must_use]
    pub fn bbox_in(&self, crs: Crs) -> Rect<f64> {
        match crs {
            Crs::Crs84 => self.lonlat_bbox,
            Crs::Bng => self.bng_bbox,
        }
    }
}
