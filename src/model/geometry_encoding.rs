//! The binary encoding of [`DualPoint`] and [`DualPolygon`] in the prepared
//! atlas (see `sources::prepared`): geo's types have no borsh encoding of
//! their own, so coordinates are written as plain `f64` pairs.
//!
//! A polygon is stored as wound by [`DualPolygon::new`], with its bounding
//! boxes, so reading it back repeats neither the winding nor the boxes.

use borsh::io::{Error, ErrorKind, Read, Result, Write};
use borsh::{BorshDeserialize, BorshSerialize};
use geo::{Coord, LineString, MultiPolygon, Point, Polygon, Rect};

use super::borsh_vec::reserved;
use super::geometry::{DualPoint, DualPolygon};

fn write_coord<W: Write>(c: Coord<f64>, w: &mut W) -> Result<()> {
    c.x.serialize(w)?;
    c.y.serialize(w)
}

fn read_coord<R: Read>(r: &mut R) -> Result<Coord<f64>> {
    let x = f64::deserialize_reader(r)?;
    let y = f64::deserialize_reader(r)?;
    Ok(Coord { x, y })
}

fn write_len<W: Write>(n: usize, w: &mut W) -> Result<()> {
    u32::try_from(n)
        .map_err(|_| Error::new(ErrorKind::InvalidData, "more than u32::MAX parts"))?
        .serialize(w)
}

/// A count read back (vectors are reserved from it by
/// [`super::borsh_vec::reserved`], which bounds what one count reserves).
fn read_len<R: Read>(r: &mut R) -> Result<usize> {
    Ok(u32::deserialize_reader(r)? as usize)
}

fn write_ring<W: Write>(ring: &LineString<f64>, w: &mut W) -> Result<()> {
    write_len(ring.0.len(), w)?;
    ring.0.iter().try_for_each(|c| write_coord(*c, w))
}

fn read_ring<R: Read>(r: &mut R) -> Result<LineString<f64>> {
    let n = read_len(r)?;
    let mut coords = reserved(n);
    for _ in 0..n {
        coords.push(read_coord(r)?);
    }
    Ok(LineString(coords))
}

fn write_multi<W: Write>(mp: &MultiPolygon<f64>, w: &mut W) -> Result<()> {
    write_len(mp.0.len(), w)?;
    for p in &mp.0 {
        write_ring(p.exterior(), w)?;
        write_len(p.interiors().len(), w)?;
        p.interiors().iter().try_for_each(|h| write_ring(h, w))?;
    }
    Ok(())
}

fn read_multi<R: Read>(r: &mut R) -> Result<MultiPolygon<f64>> {
    let n = read_len(r)?;
    let mut parts = reserved(n);
    for _ in 0..n {
        let exterior = read_ring(r)?;
        let holes = read_len(r)?;
        let mut interiors = reserved(holes);
        for _ in 0..holes {
            interiors.push(read_ring(r)?);
        }
        // `Polygon::new` closes open rings; stored rings are closed already.
        parts.push(Polygon::new(exterior, interiors));
    }
    Ok(MultiPolygon(parts))
}

fn write_rect<W: Write>(rect: Rect<f64>, w: &mut W) -> Result<()> {
    write_coord(rect.min(), w)?;
    write_coord(rect.max(), w)
}

fn read_rect<R: Read>(r: &mut R) -> Result<Rect<f64>> {
    let min = read_coord(r)?;
    let max = read_coord(r)?;
    Ok(Rect::new(min, max))
}

impl BorshSerialize for DualPoint {
    fn serialize<W: Write>(&self, w: &mut W) -> Result<()> {
        write_coord(self.lonlat.0, w)?;
        write_coord(self.bng.0, w)
    }
}

impl BorshDeserialize for DualPoint {
    fn deserialize_reader<R: Read>(r: &mut R) -> Result<Self> {
        let lonlat = Point(read_coord(r)?);
        let bng = Point(read_coord(r)?);
        Ok(Self { lonlat, bng })
    }
}

impl BorshSerialize for DualPolygon {
    fn serialize<W: Write>(&self, w: &mut W) -> Result<()> {
        write_multi(&self.lonlat, w)?;
        write_multi(&self.bng, w)?;
        write_rect(self.lonlat_bbox, w)?;
        write_rect(self.bng_bbox, w)
    }
}

impl BorshDeserialize for DualPolygon {
    fn deserialize_reader<R: Read>(r: &mut R) -> Result<Self> {
        Ok(Self {
            lonlat: read_multi(r)?,
            bng: read_multi(r)?,
            lonlat_bbox: read_rect(r)?,
            bng_bbox: read_rect(r)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn a_dual_polygon_with_a_hole_reads_back_equal() {
        let lonlat = MultiPolygon(vec![
            polygon![
                exterior: [(x: -1.3, y: 51.7), (x: -1.2, y: 51.7), (x: -1.2, y: 51.8), (x: -1.3, y: 51.8)],
                interiors: [[(x: -1.26, y: 51.74), (x: -1.25, y: 51.76), (x: -1.24, y: 51.74)]],
            ],
            polygon![(x: -1.1, y: 51.7), (x: -1.0, y: 51.7), (x: -1.0, y: 51.75)],
        ]);
        let bng = MultiPolygon(vec![polygon![
            (x: 450_000.0, y: 200_000.0),
            (x: 451_000.0, y: 200_000.0),
            (x: 451_000.0, y: 201_000.0)
        ]]);
        let p = DualPolygon::new(lonlat, bng).expect("not empty");
        let bytes = borsh::to_vec(&p).expect("encodes");
        let back: DualPolygon = borsh::from_slice(&bytes).expect("decodes");
        assert_eq!(back, p);
        let q = DualPoint {
            lonlat: Point::new(-1.25, 51.75),
            bng: Point::new(451_234.5, 206_789.25),
        };
        let back: DualPoint =
            borsh::from_slice(&borsh::to_vec(&q).expect("encodes")).expect("decodes");
        assert_eq!(back, q);
    }

    #[test]
    fn a_truncated_polygon_is_an_error_not_a_shorter_polygon() {
        let p = DualPolygon::new(
            MultiPolygon(vec![
                polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0)],
            ]),
            MultiPolygon(vec![
                polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0)],
            ]),
        )
        .expect("not empty");
        let bytes = borsh::to_vec(&p).expect("encodes");
        for cut in [1, 9, bytes.len() / 2, bytes.len() - 1] {
            assert!(
                borsh::from_slice::<DualPolygon>(&bytes[..cut]).is_err(),
                "cut at {cut}"
            );
        }
    }
}
