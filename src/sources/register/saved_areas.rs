//! Saved areas in the register's store: the [`AreaStore`] half of every
//! [`super::RegisterStore`], with the same rules as the entries — one
//! transaction per write that changes the area, bumps its version and
//! appends to its own change log (`saved_area_changes`, which replicas
//! poll), and a version check when the write names one.
//!
//! Geometries are stored as WKB (a GeoPackage blob or a PostGIS
//! `geometry(MultiPolygon, 4326)`) in CRS84 longitude/latitude order, so
//! every coordinate reads back bit for bit as written. The WKB codec here is
//! bounded: counts are checked against the bytes present before anything
//! is allocated.

use geo::{Coord, LineString, MultiPolygon, Polygon};

use super::{Stamp, StoreError};
use crate::model::area::{AreaChange, AreaFields, SavedArea};

/// Every saved area and the change-log position they reflect.
#[derive(Debug, Clone, Default)]
pub struct LoadedAreas {
    /// Every current area, by id.
    pub areas: Vec<SavedArea>,
    /// Last change-log position included.
    pub seq: i64,
}

/// Where saved areas live: implemented by both register stores. Every
/// method blocks (call it off the async runtime).
pub trait AreaStore {
    /// Every current area, with the change-log position.
    ///
    /// # Errors
    /// [`StoreError::Query`] or [`StoreError::Corrupt`].
    fn load_areas(&self) -> Result<LoadedAreas, StoreError>;

    /// Changes after `seq`, oldest first, at most `limit`.
    ///
    /// # Errors
    /// [`StoreError::Query`] or [`StoreError::Corrupt`].
    fn area_changes_since(&self, seq: i64, limit: usize) -> Result<Vec<AreaChange>, StoreError>;

    /// The last change-log position (0 when empty): cheap, polled.
    ///
    /// # Errors
    /// [`StoreError::Query`].
    fn last_area_seq(&self) -> Result<i64, StoreError>;

    /// One area, if it exists.
    ///
    /// # Errors
    /// [`StoreError::Query`] or [`StoreError::Corrupt`].
    fn get_area(&self, id: i64) -> Result<Option<SavedArea>, StoreError>;

    /// Creates an area in one transaction; returns it and its change.
    ///
    /// # Errors
    /// [`StoreError::Query`]; nothing is written.
    fn create_area(
        &self,
        fields: &AreaFields,
        stamp: Stamp<'_>,
    ) -> Result<(SavedArea, AreaChange), StoreError>;

    /// Replaces area `id`'s fields if its version is `expected` (when given).
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::VersionMismatch`] (nothing
    /// written) or [`StoreError::Query`].
    fn replace_area(
        &self,
        id: i64,
        expected: Option<i64>,
        fields: &AreaFields,
        action: &str,
        stamp: Stamp<'_>,
    ) -> Result<(SavedArea, AreaChange), StoreError>;

    /// Deletes area `id` if its version is `expected` (when given).
    ///
    /// # Errors
    /// As [`AreaStore::replace_area`].
    fn delete_area(
        &self,
        id: i64,
        expected: Option<i64>,
        stamp: Stamp<'_>,
    ) -> Result<AreaChange, StoreError>;
}

/// The version check of a write.
pub(super) fn check_version(
    id: i64,
    expected: Option<i64>,
    current: i64,
) -> Result<(), StoreError> {
    match expected {
        Some(e) if e != current => Err(StoreError::VersionMismatch {
            id,
            expected: e,
            current,
        }),
        _ => Ok(()),
    }
}

/// The area after a write of `fields` by `stamp` over `before` (`None`:
/// a creation with id `id`).
pub(super) fn written(
    id: i64,
    fields: &AreaFields,
    before: Option<&SavedArea>,
    stamp: Stamp<'_>,
) -> SavedArea {
    SavedArea {
        id,
        fields: fields.clone(),
        version: before.map_or(1, |b| b.version + 1),
        created_by: before.map_or_else(|| stamp.actor.to_owned(), |b| b.created_by.clone()),
        created_at: before.map_or_else(|| stamp.at.to_owned(), |b| b.created_at.clone()),
        updated_by: stamp.actor.to_owned(),
        updated_at: stamp.at.to_owned(),
    }
}

/// ISO WKB (little-endian) of a MultiPolygon.
#[must_use]
pub fn encode_wkb(mp: &MultiPolygon<f64>) -> Vec<u8> {
    let points: usize =
        mp.0.iter()
            .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
            .sum();
    let mut b = Vec::with_capacity(9 + mp.0.len() * 13 + points * 16);
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes();
    b.push(1);
    b.extend_from_slice(&6u32.to_le_bytes());
    b.extend_from_slice(&count(mp.0.len()));
    for p in &mp.0 {
        b.push(1);
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&count(1 + p.interiors().len()));
        for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
            b.extend_from_slice(&count(ring.0.len()));
            for c in &ring.0 {
                b.extend_from_slice(&c.x.to_le_bytes());
                b.extend_from_slice(&c.y.to_le_bytes());
            }
        }
    }
    b
}

/// A reader over WKB bytes that never reads past the end.
struct Wkb<'a> {
    b: &'a [u8],
    at: usize,
}

impl Wkb<'_> {
    fn byte(&mut self) -> Result<u8, String> {
        let v = *self.b.get(self.at).ok_or("WKB cut short")?;
        self.at += 1;
        Ok(v)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let s = self.b.get(self.at..self.at + N).ok_or("WKB cut short")?;
        self.at += N;
        s.try_into().map_err(|_| "WKB cut short".to_owned())
    }

    fn u32(&mut self, le: bool) -> Result<u32, String> {
        let a = self.array::<4>()?;
        Ok(if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    }

    fn f64(&mut self, le: bool) -> Result<f64, String> {
        let a = self.array::<8>()?;
        Ok(if le {
            f64::from_le_bytes(a)
        } else {
            f64::from_be_bytes(a)
        })
    }

    /// A count of items of at least `size` bytes each, checked against the
    /// bytes left so that a corrupt count cannot make a huge allocation.
    fn count(&mut self, le: bool, size: usize) -> Result<usize, String> {
        let n = usize::try_from(self.u32(le)?).map_err(|e| e.to_string())?;
        if n.saturating_mul(size) > self.b.len().saturating_sub(self.at) {
            return Err(format!("WKB count {n} exceeds the bytes present"));
        }
        Ok(n)
    }

    fn header(&mut self) -> Result<(bool, u32), String> {
        let le = match self.byte()? {
            1 => true,
            0 => false,
            _ => return Err("bad WKB byte order".into()),
        };
        Ok((le, self.u32(le)?))
    }

    fn polygon(&mut self, le: bool) -> Result<Polygon<f64>, String> {
        let rings = self.count(le, 4)?;
        let mut out = Vec::with_capacity(rings);
        for _ in 0..rings {
            let n = self.count(le, 16)?;
            let mut coords = Vec::with_capacity(n);
            for _ in 0..n {
                let (x, y) = (self.f64(le)?, self.f64(le)?);
                if !x.is_finite() || !y.is_finite() {
                    return Err("coordinates are not finite".into());
                }
                coords.push(Coord { x, y });
            }
            out.push(LineString(coords));
        }
        let mut rings = out.into_iter();
        let exterior = rings.next().ok_or("a polygon without rings")?;
        Ok(Polygon::new(exterior, rings.collect()))
    }
}

/// Reads WKB of a Polygon or MultiPolygon (2D; either byte order).
///
/// # Errors
/// What is wrong, for a [`StoreError::Corrupt`].
pub fn decode_wkb(b: &[u8]) -> Result<MultiPolygon<f64>, String> {
    let mut r = Wkb { b, at: 0 };
    let (le, kind) = r.header()?;
    match kind {
        3 => Ok(MultiPolygon(vec![r.polygon(le)?])),
        6 => {
            let n = r.count(le, 9)?;
            let mut parts = Vec::with_capacity(n);
            for _ in 0..n {
                let (le, kind) = r.header()?;
                if kind != 3 {
                    return Err(format!("WKB geometry type {kind} inside a MultiPolygon"));
                }
                parts.push(r.polygon(le)?);
            }
            Ok(MultiPolygon(parts))
        }
        other => Err(format!("WKB geometry type {other}, not a (multi)polygon")),
    }
}

/// A GeoPackage geometry blob (GeoPackage 1.2 §2.1.3) of a MultiPolygon in
/// WGS 84: header with its XY envelope (readers use it to skip features),
/// then WKB.
#[must_use]
pub fn encode_gpkg(mp: &MultiPolygon<f64>) -> Vec<u8> {
    use geo::BoundingRect;
    let mut b = Vec::new();
    b.extend_from_slice(b"GP");
    b.push(0);
    // Little-endian header, envelope [minx, maxx, miny, maxy].
    b.push(0b0000_0011);
    b.extend_from_slice(&4326_i32.to_le_bytes());
    if let Some(r) = mp.bounding_rect() {
        for v in [r.min().x, r.max().x, r.min().y, r.max().y] {
            b.extend_from_slice(&v.to_le_bytes());
        }
    } else {
        b[3] = 0b0000_0001;
    }
    b.extend_from_slice(&encode_wkb(mp));
    b
}

/// Reads a GeoPackage geometry blob of a (Multi)Polygon, as written by
/// GapMap, GDAL or QGIS.
///
/// # Errors
/// What is wrong, for a [`StoreError::Corrupt`].
pub fn decode_gpkg(b: &[u8]) -> Result<MultiPolygon<f64>, String> {
    if b.len() < 8 || &b[..2] != b"GP" {
        return Err("not a GeoPackage geometry blob".into());
    }
    let flags = b[3];
    if flags & 0b0001_0000 != 0 {
        return Err("empty geometry".into());
    }
    let envelope = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        other => return Err(format!("bad envelope indicator {other}")),
    };
    decode_wkb(
        b.get(8 + envelope..)
            .ok_or("blob shorter than its header")?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square_with_hole() -> MultiPolygon<f64> {
        let ring =
            |pts: &[(f64, f64)]| LineString(pts.iter().map(|&(x, y)| Coord { x, y }).collect());
        MultiPolygon(vec![
            Polygon::new(
                ring(&[
                    (-1.2, 51.7),
                    (-1.1, 51.7),
                    (-1.1, 51.8),
                    (-1.2, 51.8),
                    (-1.2, 51.7),
                ]),
                vec![ring(&[
                    (-1.17, 51.73),
                    (-1.13, 51.73),
                    (-1.13, 51.77),
                    (-1.17, 51.73),
                ])],
            ),
            Polygon::new(
                ring(&[(0.1, 0.1), (0.2, 0.1), (0.2, 0.2), (0.1, 0.1)]),
                vec![],
            ),
        ])
    }

    #[test]
    fn wkb_and_blobs_round_trip_bit_for_bit() {
        let mp = square_with_hole();
        assert_eq!(decode_wkb(&encode_wkb(&mp)), Ok(mp.clone()));
        assert_eq!(decode_gpkg(&encode_gpkg(&mp)), Ok(mp));
    }

    #[test]
    fn corrupt_wkb_is_an_error_not_a_huge_allocation() {
        let mut b = encode_wkb(&square_with_hole());
        b[5..9].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_wkb(&b).is_err());
        assert!(decode_wkb(&b[..20]).is_err());
        assert!(decode_wkb(&[1, 1, 0, 0, 0]).is_err());
        assert!(decode_gpkg(b"GP").is_err());
    }
}
