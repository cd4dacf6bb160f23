//! Ended postcodes: an organisation carries on at a postcode that Royal Mail
//! has terminated, so the gazetteer no longer lists it. Its postcode sector
//! (the postcode without its last two letters, e.g. `OX11 7`) still has
//! current units, and their centroid is the best position the data allows;
//! when a whole sector has been recoded (`OX4 5` has no unit in May 2025),
//! the postcode district's centroid is the fallback.

use geo::{Distance, Euclidean, Point};

use super::PostcodeScan;
use crate::sources::error::SourceError;
use crate::sources::reproject::{Reprojector, BNG_EPSG};

/// The centroid of a postcode sector's current units, standing in for an
/// ended postcode of that sector.
#[derive(Debug, Clone)]
pub struct SectorCentroid {
    /// The sector (e.g. `OX11 7`) or, when the sector has no current unit,
    /// the postcode district (e.g. `OX4`) whose units were used.
    pub sector: String,
    /// `"sector"` or `"district"`.
    pub level: &'static str,
    /// How many current units the sector has (all with a position).
    pub units: usize,
    /// Mean of the units' British National Grid coordinates, in both CRSs.
    pub location: crate::model::DualPoint,
    /// Largest distance in metres (BNG) from the centroid to one of the
    /// units: the true position is within the sector, so within about this
    /// distance.
    pub spread_m: f64,
}

/// The sector of a normalised postcode (`OX11 7JH` → `OX11 7`): everything
/// but the last two characters. `None` for text too short to be a postcode.
#[must_use]
pub fn sector_of(postcode: &str) -> Option<&str> {
    let end = postcode.len().checked_sub(2)?;
    postcode.get(..end).filter(|s| s.contains(' '))
}

/// The postcode district (outward code) of a normalised postcode
/// (`OX4 5JY` → `OX4`).
#[must_use]
pub fn district_of(postcode: &str) -> Option<&str> {
    postcode.split_once(' ').map(|(outward, _)| outward)
}

impl PostcodeScan {
    /// The centroid of the current units of `postcode`'s sector (normalised
    /// form, as [`crate::model::normalise_postcode`] writes it), or, when
    /// the whole sector has gone (recoded), of its postcode district; `None`
    /// when neither has a unit with a position.
    ///
    /// # Errors
    /// When PROJ cannot transform the centroid.
    pub fn sector_centroid(&self, postcode: &str) -> Result<Option<SectorCentroid>, SourceError> {
        let levels = [
            (sector_of(postcode), 2, "sector"),
            // The district's prefix includes the space: `OX4 ` must not match `OX44`.
            (
                postcode.find(' ').and_then(|i| postcode.get(..=i)),
                3,
                "district",
            ),
        ];
        for (prefix, rest, level) in levels {
            let Some(prefix) = prefix else { continue };
            let points = self.units_with_prefix(prefix, prefix.len() + rest);
            if points.is_empty() {
                continue;
            }
            #[allow(clippy::cast_precision_loss)] // a district has some thousands of units
            let n = points.len() as f64;
            let e = points.iter().map(|p| p.x()).sum::<f64>() / n;
            let north = points.iter().map(|p| p.y()).sum::<f64>() / n;
            let centre = Point::new(e, north);
            let spread_m = points
                .iter()
                .map(|p| Euclidean.distance(&centre, p))
                .fold(0.0, f64::max);
            let reprojector = Reprojector::from_epsg(BNG_EPSG)?;
            let Some(location) = reprojector.points(&[e], &[north])?.into_iter().next() else {
                return Ok(None);
            };
            return Ok(Some(SectorCentroid {
                sector: prefix.trim_end().to_owned(),
                level,
                units: points.len(),
                location,
                spread_m,
            }));
        }
        Ok(None)
    }

    /// BNG positions of the units whose code starts with `prefix` and is
    /// `unit_len` bytes long.
    fn units_with_prefix(&self, prefix: &str, unit_len: usize) -> Vec<Point<f64>> {
        let mut points: Vec<Point<f64>> = Vec::new();
        let start = self.region.partition_point(|r| r.code.as_str() < prefix);
        for r in self.region.iter().skip(start) {
            if !r.code.starts_with(prefix) {
                break;
            }
            if r.code.len() == unit_len {
                points.push(r.location.bng);
            }
        }
        let bytes = prefix.as_bytes();
        let start = self
            .elsewhere
            .partition_point(|g| g.code.as_slice() < bytes);
        for g in self.elsewhere.iter().skip(start) {
            if !g.code.starts_with(bytes) {
                break;
            }
            let len = g.code.iter().position(|&b| b == 0).unwrap_or(g.code.len());
            if len == unit_len {
                points.push(Point::new(g.easting, g.northing));
            }
        }
        points
    }
}

#[cfg(test)]
mod tests {
    use super::sector_of;

    #[test]
    fn sectors() {
        assert_eq!(sector_of("OX11 7JH"), Some("OX11 7"));
        assert_eq!(sector_of("OX4 5JY"), Some("OX4 5"));
        assert_eq!(sector_of("SW1A 1AA"), Some("SW1A 1"));
        assert_eq!(sector_of("A"), None);
        assert_eq!(sector_of("OX45JY"), None);
        assert_eq!(super::district_of("OX4 5JY"), Some("OX4"));
    }
}
