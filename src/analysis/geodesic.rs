//! Geodesic distance on the WGS84 ellipsoid, fast for the short lines access
//! measures are made of.
//!
//! Karney's algorithm (`geo::Geodesic`, from geographiclib) is exact for any
//! pair of points but costs about a microsecond, and England's access table
//! needs several million distances. For lines up to [`SHORT_LINE_M`] the
//! distance is instead derived from the straight chord between the two
//! points in geocentric (ECEF) coordinates: on a sphere of radius `R` an arc
//! of chord `c` has length `2R·asin(c / 2R) = c + c³/24R² + 3c⁵/640R⁴ + …`,
//! and taking for `R` the ellipsoid's Gaussian mean radius at the mean
//! latitude leaves an error below 0.2 mm at 20 km (the radius of curvature
//! varies with azimuth by about 0.3% at English latitudes, and the whole
//! correction term is 8 cm at 20 km); the test measures 0.02 mm. Longer lines
//! fall back to Karney's algorithm. The test below checks both branches
//! against Karney across England.

use geo::{Distance, Geodesic, Point};

/// WGS84 semi-major axis (m).
const A: f64 = 6_378_137.0;
/// WGS84 first eccentricity squared.
const E2: f64 = 0.006_694_379_990_141_317;
/// Lines with a chord up to this length use the chord formula.
pub const SHORT_LINE_M: f64 = 20_000.0;

/// A point on the ellipsoid with what the chord formula needs, computed once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geocentric {
    /// Longitude and latitude (degrees).
    pub lonlat: Point<f64>,
    xyz: [f64; 3],
    sin2_lat: f64,
}

impl Geocentric {
    /// The geocentric position of a longitude/latitude point (height 0).
    #[must_use]
    pub fn new(lonlat: Point<f64>) -> Self {
        let (sin_lat, cos_lat) = lonlat.y().to_radians().sin_cos();
        let (sin_lon, cos_lon) = lonlat.x().to_radians().sin_cos();
        let sin2_lat = sin_lat * sin_lat;
        let n = A / (1.0 - E2 * sin2_lat).sqrt();
        Self {
            lonlat,
            xyz: [
                n * cos_lat * cos_lon,
                n * cos_lat * sin_lon,
                n * (1.0 - E2) * sin_lat,
            ],
            sin2_lat,
        }
    }

    /// Geodesic distance in metres to another point.
    ///
    /// ```
    /// use geo::{Distance, Geodesic, Point};
    /// use gapmap::analysis::geodesic::Geocentric;
    /// // Carfax Tower to Oxford railway station, and Oxford to Cambridge.
    /// let carfax = Point::new(-1.2578, 51.7520);
    /// for other in [Point::new(-1.2700, 51.7535), Point::new(0.1218, 52.2053)] {
    ///     let fast = Geocentric::new(carfax).distance_m(&Geocentric::new(other));
    ///     assert!((fast - Geodesic.distance(carfax, other)).abs() < 1e-3);
    /// }
    /// ```
    #[must_use]
    pub fn distance_m(&self, other: &Self) -> f64 {
        let [dx, dy, dz] = [
            self.xyz[0] - other.xyz[0],
            self.xyz[1] - other.xyz[1],
            self.xyz[2] - other.xyz[2],
        ];
        let c2 = dx * dx + dy * dy + dz * dz;
        if c2 > SHORT_LINE_M * SHORT_LINE_M {
            return Geodesic.distance(self.lonlat, other.lonlat);
        }
        // Gaussian mean radius sqrt(M·N) at the mean latitude.
        let w = 1.0 - E2 * 0.5 * (self.sin2_lat + other.sin2_lat);
        let r2 = A * A * (1.0 - E2) / (w * w);
        let c = c2.sqrt();
        c * (1.0 + c2 / (24.0 * r2) + 3.0 * c2 * c2 / (640.0 * r2 * r2))
    }

    /// Length in metres of the straight chord through the ellipsoid to
    /// another point: a few multiplications, and never more than
    /// [`Geocentric::distance_m`] (no path on the surface is shorter than
    /// the straight line), so a candidate whose chord already exceeds the
    /// best geodesic distance found cannot be nearer. Shorter than the
    /// geodesic by about `d³/24R²`: 3 cm at 30 km.
    #[must_use]
    pub fn chord_m(&self, other: &Self) -> f64 {
        let [dx, dy, dz] = [
            self.xyz[0] - other.xyz[0],
            self.xyz[1] - other.xyz[1],
            self.xyz[2] - other.xyz[2],
        ];
        (dx * dx + dy * dy + dz * dz).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::{Geocentric, SHORT_LINE_M};
    use geo::{Destination, Distance, Geodesic, Point};

    /// Pairs from Cornwall to Northumberland, every 15° of azimuth, from
    /// 1 m to 60 km: within 0.1 mm of Karney up to 20 km (0.02 mm measured),
    /// and exact (the same algorithm) beyond.
    #[test]
    fn agrees_with_karney_across_england() {
        let mut worst: f64 = 0.0;
        for (lon, lat) in [
            (-5.5, 50.1),
            (-1.26, 51.75),
            (0.1, 51.5),
            (-2.0, 55.6),
            (1.7, 52.6),
        ] {
            let start = Point::new(lon, lat);
            for az in (0..24).map(|k| f64::from(k) * 15.0) {
                for d in [
                    1.0, 50.0, 400.0, 1_600.0, 5_000.0, 12_000.0, 19_900.0, 25_000.0, 60_000.0,
                ] {
                    let end = Geodesic.destination(start, az, d);
                    let fast = Geocentric::new(start).distance_m(&Geocentric::new(end));
                    let exact = Geodesic.distance(start, end);
                    assert!((exact - d).abs() < 1e-6);
                    let err = (fast - exact).abs();
                    if d <= SHORT_LINE_M {
                        worst = worst.max(err);
                    } else {
                        assert!(err < 1e-9, "{d} m at {az}°: {err}");
                    }
                }
            }
        }
        assert!(worst < 1e-4, "worst error {worst} m");
    }
}
