//! Tile geometry, pure functions of a polygon and a tile: Web Mercator
//! projection onto the tile's grid, simplification for the zoom, clipping to
//! the tile plus a buffer, and quantisation to whole grid units.
//!
//! The error budget is half a rendered pixel. MapLibre draws a tile's
//! 4,096-unit grid as 512 px, so a pixel is 8 units and half a pixel is 4:
//! Ramer–Douglas–Peucker simplification (geo's [`Simplify`]) within
//! [`TOLERANCE`] = 3 units, then rounding to the grid (at most √2/2 ≈ 0.71
//! units), keeps every point of an outline within 3.71 units of the source
//! outline and every source vertex within 3.71 units of the tile's outline.
//!
//! Generalisation rule (explicit, because it leaves features out): a polygon
//! part (an island, or a hole) whose simplified area is below
//! [`MIN_PART_PX`] pixels (one pixel, 64 square units) is dropped, and a
//! feature without parts left is not in the tile. The caller may raise the
//! threshold for a tile that would exceed its size budget
//! (see [`super::encode`]).

use std::f64::consts::PI;

use geo::{
    BooleanOps, BoundingRect, Coord, LineString, MapCoords, MultiPolygon, Orient, Polygon, Rect,
    Simplify,
};

/// Grid units per tile side (the MVT `extent`).
pub const EXTENT: u32 = 4096;
/// Pixels a renderer draws per tile side (MapLibre's vector tile size).
pub const TILE_PIXELS: u32 = 512;
/// Grid units per rendered pixel.
pub const UNITS_PER_PIXEL: f64 = EXTENT as f64 / TILE_PIXELS as f64;
/// Grid units kept beyond each tile edge (8 px), so that outlines and their
/// joins continue across tile edges.
pub const BUFFER: f64 = 64.0;
/// Simplification tolerance in grid units (see the module documentation).
pub const TOLERANCE: f64 = 3.0;
/// The smallest polygon part kept, in square pixels.
pub const MIN_PART_PX: f64 = 1.0;
/// Deepest zoom level served.
pub const MAX_ZOOM: u8 = 18;
/// Latitude limit of Web Mercator.
const MAX_LAT: f64 = 85.051_128_779_806_59;

/// A tile of the WebMercatorQuad tile matrix set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileId {
    /// Zoom (tile matrix), 0 to [`MAX_ZOOM`].
    pub z: u8,
    /// Column, 0 to 2^z − 1, west to east.
    pub x: u32,
    /// Row, 0 to 2^z − 1, north to south.
    pub y: u32,
}

impl TileId {
    /// The tile, if it exists in WebMercatorQuad at zoom 0 to [`MAX_ZOOM`].
    #[must_use]
    pub fn new(z: u8, x: u32, y: u32) -> Option<Self> {
        (z <= MAX_ZOOM && x < (1u32 << z) && y < (1u32 << z)).then_some(Self { z, x, y })
    }

    /// Longitude of a column edge (fractional columns allowed).
    fn lon(self, col: f64) -> f64 {
        col / f64::from(1u32 << self.z) * 360.0 - 180.0
    }

    /// Latitude of a row edge (fractional rows allowed; clamped to the
    /// projection's range).
    fn lat(self, row: f64) -> f64 {
        let n = f64::from(1u32 << self.z);
        let row = row.clamp(0.0, n);
        (PI * (1.0 - 2.0 * row / n)).sinh().atan().to_degrees()
    }

    /// The tile's bounds in CRS84, widened by `buffer` grid units on every
    /// side: the area whose features can reach the tile.
    #[must_use]
    pub fn bounds_lonlat(self, buffer: f64) -> Rect<f64> {
        let b = buffer / f64::from(EXTENT);
        let (x, y) = (f64::from(self.x), f64::from(self.y));
        Rect::new(
            (self.lon(x - b), self.lat(y + 1.0 + b)),
            (self.lon(x + 1.0 + b), self.lat(y - b)),
        )
    }

    /// A CRS84 position in this tile's grid units (x east, y south; the
    /// tile spans 0 to [`EXTENT`]), not rounded.
    #[must_use]
    pub fn project(self, c: Coord<f64>) -> Coord<f64> {
        let n = f64::from(1u32 << self.z);
        let e = f64::from(EXTENT);
        let lat = c.y.clamp(-MAX_LAT, MAX_LAT).to_radians();
        let wx = (c.x + 180.0) / 360.0 * n;
        let wy = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / PI) / 2.0 * n;
        Coord {
            x: (wx - f64::from(self.x)) * e,
            y: (wy - f64::from(self.y)) * e,
        }
    }
}

/// The part of a CRS84 polygon drawn in a tile: projected onto the tile's
/// grid, simplified within [`TOLERANCE`], parts under `min_part_px` square
/// pixels dropped, clipped to the tile plus [`BUFFER`], rounded to whole
/// units (every coordinate within −[`BUFFER`] to [`EXTENT`] + [`BUFFER`]),
/// rings with fewer than three distinct points or no area dropped, exterior
/// rings clockwise on screen (positive area with y down, as MVT 2.1 wants)
/// and holes counter-clockwise. Also returns the area of its largest part
/// before clipping, in square grid units. `None` when nothing is left.
#[must_use]
pub fn tile_polygons(
    lonlat: &MultiPolygon<f64>,
    tile: TileId,
    min_part_px: f64,
) -> Option<(MultiPolygon<f64>, f64)> {
    let min_area = min_part_px * UNITS_PER_PIXEL * UNITS_PER_PIXEL;
    let projected = lonlat.map_coords(|c| tile.project(c));
    let simplified = projected.simplify(TOLERANCE);
    let kept: Vec<Polygon<f64>> = simplified
        .into_iter()
        .filter(|p| p.exterior().unsigned_area_ring() >= min_area)
        .map(|p| {
            let (exterior, interiors) = p.into_inner();
            let holes = interiors
                .into_iter()
                .filter(|h| h.unsigned_area_ring() >= min_area)
                .collect();
            Polygon::new(exterior, holes)
        })
        .collect();
    if kept.is_empty() {
        return None;
    }
    let largest = kept
        .iter()
        .map(|p| p.exterior().unsigned_area_ring())
        .fold(0.0, f64::max);
    let kept = MultiPolygon::new(kept);
    let lo = -BUFFER;
    let hi = f64::from(EXTENT) + BUFFER;
    let inside = kept
        .bounding_rect()
        .is_some_and(|r| r.min().x >= lo && r.min().y >= lo && r.max().x <= hi && r.max().y <= hi);
    let clipped = if inside {
        kept
    } else {
        let clip = Rect::new((lo, lo), (hi, hi)).to_polygon();
        kept.intersection(&clip)
    };
    let polygons: Vec<Polygon<f64>> = clipped
        .into_iter()
        .filter_map(|p| {
            let (exterior, interiors) = p.into_inner();
            let exterior = quantise(&exterior, lo, hi)?;
            let holes = interiors
                .iter()
                .filter_map(|h| quantise(h, lo, hi))
                .collect();
            Some(Polygon::new(exterior, holes))
        })
        .collect();
    if polygons.is_empty() {
        return None;
    }
    // geo's default orientation (exterior counter-clockwise with y up) is,
    // with y pointing down the tile, clockwise on screen: MVT's exterior.
    Some((
        MultiPolygon::new(polygons).orient(geo::orient::Direction::Default),
        largest,
    ))
}

/// A ring rounded to whole grid units (clamped to the clip box against
/// floating-point spill), without repeated points; `None` when fewer than
/// three distinct points or no area remain.
fn quantise(ring: &LineString<f64>, lo: f64, hi: f64) -> Option<LineString<f64>> {
    let mut pts: Vec<Coord<f64>> = Vec::with_capacity(ring.0.len());
    for c in &ring.0 {
        let p = Coord {
            x: c.x.round().clamp(lo, hi),
            y: c.y.round().clamp(lo, hi),
        };
        if pts.last() != Some(&p) {
            pts.push(p);
        }
    }
    if pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    if pts.len() < 3 {
        return None;
    }
    let first = pts[0];
    pts.push(first);
    let ring = LineString::new(pts);
    (ring.unsigned_area_ring() > 0.0).then_some(ring)
}

/// The area of a closed ring, without sign.
trait RingArea {
    fn unsigned_area_ring(&self) -> f64;
}

impl RingArea for LineString<f64> {
    fn unsigned_area_ring(&self) -> f64 {
        // The shoelace formula over the ring's edges.
        self.lines()
            .map(|l| l.start.x * l.end.y - l.end.x * l.start.y)
            .sum::<f64>()
            .abs()
            / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, Distance, Winding};

    fn coords(mp: &MultiPolygon<f64>) -> Vec<Coord<f64>> {
        mp.iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .flat_map(|r| r.0.iter().copied())
            .collect()
    }

    #[test]
    fn the_world_tile_spans_the_projection() {
        let t = TileId::new(0, 0, 0).unwrap();
        let b = t.bounds_lonlat(0.0);
        assert!((b.min().x + 180.0).abs() < 1e-9 && (b.max().x - 180.0).abs() < 1e-9);
        assert!((b.max().y - MAX_LAT).abs() < 1e-9);
        // Greenwich on the equator is the centre of the world tile.
        let c = t.project(Coord { x: 0.0, y: 0.0 });
        assert!((c.x - 2048.0).abs() < 1e-9 && (c.y - 2048.0).abs() < 1e-9);
        assert!(TileId::new(1, 2, 0).is_none());
        assert!(TileId::new(19, 0, 0).is_none());
    }

    #[test]
    fn a_polygon_larger_than_the_tile_is_clipped_to_the_buffer() {
        // A square around tile 1/0/0 (the north-west quarter) and beyond.
        let t = TileId::new(1, 0, 0).unwrap();
        let mp = MultiPolygon::new(vec![polygon![
            (x: -170.0, y: -60.0), (x: 60.0, y: -60.0), (x: 60.0, y: 80.0), (x: -170.0, y: 80.0), (x: -170.0, y: -60.0),
        ]]);
        let (g, _) = tile_polygons(&mp, t, MIN_PART_PX).unwrap();
        for c in coords(&g) {
            assert!(c.x >= -BUFFER && c.x <= 4096.0 + BUFFER, "{c:?}");
            assert!(c.y >= -BUFFER && c.y <= 4096.0 + BUFFER, "{c:?}");
            assert!((c.x - c.x.round()).abs() < f64::EPSILON, "{c:?}");
        }
        // The square covers the tile's east and south edges (cut at the
        // buffer) and starts inside its west edge.
        let xs: Vec<f64> = coords(&g).iter().map(|c| c.x).collect();
        assert!(xs.contains(&(4096.0 + BUFFER)));
    }

    #[test]
    fn exteriors_are_clockwise_on_screen_and_holes_are_not() {
        let t = TileId::new(0, 0, 0).unwrap();
        // Counter-clockwise in lon/lat with a hole: either way in, the tile
        // gets MVT's orientation.
        let mp = MultiPolygon::new(vec![polygon!(
            exterior: [(x: -90.0, y: 0.0), (x: 0.0, y: 0.0), (x: 0.0, y: 60.0), (x: -90.0, y: 60.0), (x: -90.0, y: 0.0)],
            interiors: [[(x: -60.0, y: 10.0), (x: -60.0, y: 40.0), (x: -30.0, y: 40.0), (x: -30.0, y: 10.0), (x: -60.0, y: 10.0)]],
        )]);
        let (g, _) = tile_polygons(&mp, t, MIN_PART_PX).unwrap();
        let p = &g.0[0];
        // y down: screen-clockwise is counter-clockwise in the numbers.
        assert!(p.exterior().is_ccw());
        assert!(p.interiors()[0].is_cw());
        assert_eq!(p.interiors().len(), 1);
    }

    #[test]
    fn parts_under_a_pixel_are_dropped() {
        // At zoom 0 a pixel is 360/512 degrees wide: a 0.1° square is far below it.
        let t = TileId::new(0, 0, 0).unwrap();
        let tiny = MultiPolygon::new(vec![polygon![
            (x: 1.0, y: 1.0), (x: 1.1, y: 1.0), (x: 1.1, y: 1.1), (x: 1.0, y: 1.1), (x: 1.0, y: 1.0),
        ]]);
        assert!(tile_polygons(&tiny, t, MIN_PART_PX).is_none());
        assert!(tile_polygons(&tiny, TileId::new(12, 2059, 2036).unwrap(), MIN_PART_PX).is_some());
    }

    #[test]
    fn simplification_stays_within_half_a_pixel() {
        // A zig-zag edge at zoom 10: every source vertex stays within 4 grid
        // units (half a pixel) of the tile's outline.
        let t = TileId::new(10, 511, 340).unwrap();
        let b = t.bounds_lonlat(0.0);
        let (w, s) = (b.min().x, b.min().y);
        let dx = (b.max().x - w) / 200.0;
        let dy = (b.max().y - s) / 4096.0;
        let mut ring: Vec<Coord<f64>> = (0..=100)
            .map(|i| Coord {
                x: w + dx * f64::from(i) * 2.0,
                y: s + dy * 2048.0
                    + dy * if i % 2 == 0 {
                        0.0
                    } else {
                        2.5 + f64::from(i % 7)
                    },
            })
            .collect();
        ring.push(Coord {
            x: w + dx * 200.0,
            y: s + dy * 100.0,
        });
        ring.push(Coord {
            x: w,
            y: s + dy * 100.0,
        });
        ring.push(ring[0]);
        let mp = MultiPolygon::new(vec![Polygon::new(LineString::new(ring.clone()), vec![])]);
        let (g, _) = tile_polygons(&mp, t, MIN_PART_PX).unwrap();
        let outline = g.0[0].exterior();
        assert!(outline.0.len() < ring.len());
        for c in &ring {
            let p = t.project(*c);
            if !(0.0..=4096.0).contains(&p.x) || !(0.0..=4096.0).contains(&p.y) {
                continue;
            }
            let d = outline
                .lines()
                .map(|l| geo::Euclidean.distance(&geo::Point(p), &l))
                .fold(f64::INFINITY, f64::min);
            assert!(d <= 4.0, "{p:?} is {d} units from the outline");
        }
    }
}
