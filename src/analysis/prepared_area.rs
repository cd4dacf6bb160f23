//! A polygon prepared for many point tests: "is this point inside or on the
//! boundary?" and "how far is it from the boundary?" in time that grows with
//! the edges near the point, not with all of the polygon's edges.
//!
//! A drawn or uploaded area may have 20,000 vertices, and a profile tests
//! every postcode unit under its bounding box (1.7 million across England)
//! and every asset near it. `geo`'s `intersects` and `Euclidean` distance
//! walk every edge for each point; here the edges sit in an R-tree once.
//!
//! - **Inside** is the crossing rule (even–odd over all rings, so holes and
//!   several parts count as in a valid multipolygon) along a ray to +x: only
//!   edges whose envelope meets the ray are visited. A point on an edge is
//!   inside, as with `geo::Intersects`. Orientation uses `geo`'s robust
//!   kernel, so a point exactly on an edge is found exactly.
//! - **Distance** is the planar distance (units of the polygon's CRS) to
//!   the nearest edge, 0 inside, as `geo::Euclidean` measures a point to a
//!   polygon.
//!
//! This is the method of GEOS's `IndexedPointInAreaLocator` (an index of
//! edges, ray crossing). A ray can still cross many edges of an adversarial
//! boundary (a zigzag across the region): callers bound such work with an
//! [`super::Interrupt`].

use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::{Coord, Distance, Euclidean, MultiPolygon};
use rstar::primitives::Line as RLine;
use rstar::{RTree, AABB};

/// Largest number of grid cells along one side.
const MAX_CELLS_PER_SIDE: usize = 1024;

/// A multipolygon's edges, indexed: an R-tree (nearest edge, and the ray
/// cast of last resort) and a grid of cells, each listing the edges that
/// meet it and whether its centre is inside.
#[derive(Debug, Clone)]
pub struct PreparedArea {
    edges: RTree<RLine<[f64; 2]>>,
    grid: Option<Grid>,
    max_x: f64,
}

/// A point's inside state from its cell: the cell centre's state, flipped
/// once per edge the straight segment from the point to the centre
/// crosses. Only the cell's edges can cross that segment, so a test costs
/// the edges of one cell, however many edges a ray across the whole area
/// would meet (a zigzag's teeth).
#[derive(Debug, Clone)]
struct Grid {
    min: Coord<f64>,
    cell: Coord<f64>,
    nx: usize,
    ny: usize,
    /// Per cell, `starts[k]..starts[k + 1]` indexes `members`.
    starts: Vec<u32>,
    /// Edge indexes, cell after cell.
    members: Vec<u32>,
    /// Per cell, whether the centre is inside (`None`: on the boundary).
    centre_inside: Vec<Option<bool>>,
    /// Edges as `[a, b]`.
    lines: Vec<[Coord<f64>; 2]>,
}

fn orient(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> Orientation {
    RobustKernel::orient2d(a, b, c)
}

/// Whether `p`, collinear with `a`–`b`, lies on that segment.
fn within(a: Coord<f64>, b: Coord<f64>, p: Coord<f64>) -> bool {
    p.x >= a.x.min(b.x) && p.x <= a.x.max(b.x) && p.y >= a.y.min(b.y) && p.y <= a.y.max(b.y)
}

/// Whether edge `a`–`b` crosses the ray from `p` to +x (half-open in y, so
/// a ray through a vertex counts it once), for `p` not on the edge.
fn crosses_ray(a: Coord<f64>, b: Coord<f64>, p: Coord<f64>, turn: Orientation) -> bool {
    (a.y <= p.y && p.y < b.y && turn == Orientation::CounterClockwise)
        || (b.y <= p.y && p.y < a.y && turn == Orientation::Clockwise)
}

fn opposite(o1: Orientation, o2: Orientation) -> bool {
    matches!(
        (o1, o2),
        (Orientation::CounterClockwise, Orientation::Clockwise)
            | (Orientation::Clockwise, Orientation::CounterClockwise)
    )
}

impl Grid {
    fn new(lines: Vec<[Coord<f64>; 2]>) -> Option<Self> {
        let (mut min, mut max) = (
            Coord::from((f64::INFINITY, f64::INFINITY)),
            Coord::from((f64::NEG_INFINITY, f64::NEG_INFINITY)),
        );
        for &[a, b] in &lines {
            min.x = min.x.min(a.x).min(b.x);
            min.y = min.y.min(a.y).min(b.y);
            max.x = max.x.max(a.x).max(b.x);
            max.y = max.y.max(a.y).max(b.y);
        }
        let (w, h) = (max.x - min.x, max.y - min.y);
        let usable = w > 0.0 && h > 0.0 && w.is_finite() && h.is_finite();
        if lines.is_empty() || !usable {
            return None;
        }
        // About four cells per edge, shaped like the area: a point test
        // visits one cell's edges, and the grid costs a few bytes a cell.
        #[allow(clippy::cast_precision_loss)]
        let n = lines.len() as f64;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let side = |a: f64, b: f64| {
            ((4.0 * n * a / b).sqrt().ceil() as usize).clamp(1, MAX_CELLS_PER_SIDE)
        };
        let (nx, ny) = (side(w, h), side(h, w));
        #[allow(clippy::cast_precision_loss)]
        let cell = Coord::from((w / nx as f64, h / ny as f64));
        let mut grid = Self {
            min,
            cell,
            nx,
            ny,
            starts: Vec::new(),
            members: Vec::new(),
            centre_inside: Vec::new(),
            lines,
        };
        grid.fill_cells();
        grid.fill_centres();
        Some(grid)
    }

    /// Column (or row) of a coordinate, clamped to the grid.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    fn index(v: f64, min: f64, size: f64, n: usize) -> usize {
        let k = ((v - min) / size).floor();
        if k <= 0.0 {
            0
        } else {
            (k as usize).min(n - 1)
        }
    }

    /// Lists each edge in every cell it may meet: per row band it spans,
    /// the columns of its x extent within the band, widened by a margin
    /// larger than any rounding, so that no cell an edge meets misses it.
    fn fill_cells(&mut self) {
        let pad = Coord::from((self.cell.x * 1e-6, self.cell.y * 1e-6));
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        for (e, &[a, b]) in self.lines.iter().enumerate() {
            let e = u32::try_from(e).unwrap_or(u32::MAX);
            let (lo, hi) = if a.y <= b.y { (a, b) } else { (b, a) };
            let r0 = Self::index(lo.y - pad.y, self.min.y, self.cell.y, self.ny);
            let r1 = Self::index(hi.y + pad.y, self.min.y, self.cell.y, self.ny);
            for r in r0..=r1 {
                #[allow(clippy::cast_precision_loss)]
                let (y0, y1) = (
                    self.min.y + r as f64 * self.cell.y - pad.y,
                    self.min.y + (r + 1) as f64 * self.cell.y + pad.y,
                );
                // The edge's x extent within the band (all of it when
                // the edge is horizontal).
                let (x0, x1) = if hi.y <= lo.y {
                    (lo.x.min(hi.x), lo.x.max(hi.x))
                } else {
                    let x_at = |y: f64| {
                        let t = ((y - lo.y) / (hi.y - lo.y)).clamp(0.0, 1.0);
                        lo.x + t * (hi.x - lo.x)
                    };
                    let (xa, xb) = (x_at(y0), x_at(y1));
                    (xa.min(xb), xa.max(xb))
                };
                let (x0, x1) = (x0 - pad.x, x1 + pad.x);
                let c0 = Self::index(x0, self.min.x, self.cell.x, self.nx);
                let c1 = Self::index(x1, self.min.x, self.cell.x, self.nx);
                for c in c0..=c1 {
                    pairs.push((u32::try_from(r * self.nx + c).unwrap_or(u32::MAX), e));
                }
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        let cells = self.nx * self.ny;
        self.starts = vec![0; cells + 1];
        for &(k, _) in &pairs {
            self.starts[k as usize + 1] += 1;
        }
        for k in 0..cells {
            self.starts[k + 1] += self.starts[k];
        }
        self.members = pairs.into_iter().map(|(_, e)| e).collect();
    }

    fn centre(&self, col: usize, row: usize) -> Coord<f64> {
        #[allow(clippy::cast_precision_loss)]
        Coord::from((
            self.min.x + (col as f64 + 0.5) * self.cell.x,
            self.min.y + (row as f64 + 0.5) * self.cell.y,
        ))
    }

    fn cell_edges(&self, k: usize) -> impl Iterator<Item = [Coord<f64>; 2]> + '_ {
        let (s, e) = (self.starts[k] as usize, self.starts[k + 1] as usize);
        self.members[s..e].iter().map(|&i| self.lines[i as usize])
    }

    /// Each centre's state, row by row: the edges crossing the row's
    /// centre line, sorted by where they cross, counted to the right of
    /// each centre (exactly, by orientation, where a crossing is close).
    fn fill_centres(&mut self) {
        let mut inside = vec![None; self.nx * self.ny];
        let mut seen = vec![usize::MAX; self.lines.len()];
        let mut crossings: Vec<(f64, u32)> = Vec::new();
        for row in 0..self.ny {
            let y = self.centre(0, row).y;
            crossings.clear();
            for col in 0..self.nx {
                let k = row * self.nx + col;
                for &e in &self.members[self.starts[k] as usize..self.starts[k + 1] as usize] {
                    if seen[e as usize] == row {
                        continue;
                    }
                    seen[e as usize] = row;
                    let [a, b] = self.lines[e as usize];
                    if (a.y <= y && y < b.y) || (b.y <= y && y < a.y) {
                        crossings.push((a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y), e));
                    }
                }
            }
            crossings.sort_unstable_by(|p, q| p.0.total_cmp(&q.0));
            let close = self.cell.x * 1e-6;
            for col in 0..self.nx {
                let c = self.centre(col, row);
                let k = row * self.nx + col;
                if self
                    .cell_edges(k)
                    .any(|[a, b]| orient(a, b, c) == Orientation::Collinear && within(a, b, c))
                {
                    continue; // on the boundary: its points are cast in full
                }
                // Crossings clearly right of the centre, then the close ones exactly.
                let right = crossings.partition_point(|&(x, _)| x <= c.x + close);
                let mut odd = (crossings.len() - right) % 2 == 1;
                let left = crossings.partition_point(|&(x, _)| x < c.x - close);
                for &(_, e) in &crossings[left..right] {
                    let [a, b] = self.lines[e as usize];
                    if crosses_ray(a, b, c, orient(a, b, c)) {
                        odd = !odd;
                    }
                }
                inside[k] = Some(odd);
            }
        }
        self.centre_inside = inside;
    }

    /// `Some(inside)` from the cell of `p` (inside the grid's box), or
    /// `None` when the segment to the centre passes through a vertex or
    /// along an edge, or the centre is on the boundary.
    fn contains(&self, p: Coord<f64>) -> Option<bool> {
        let col = Self::index(p.x, self.min.x, self.cell.x, self.nx);
        let row = Self::index(p.y, self.min.y, self.cell.y, self.ny);
        let k = row * self.nx + col;
        let mut inside = self.centre_inside[k]?;
        let c = self.centre(col, row);
        for [a, b] in self.cell_edges(k) {
            let o1 = orient(a, b, p);
            if o1 == Orientation::Collinear && within(a, b, p) {
                return Some(true);
            }
            let (o3, o4) = (orient(p, c, a), orient(p, c, b));
            if (o3 == Orientation::Collinear && within(p, c, a))
                || (o4 == Orientation::Collinear && within(p, c, b))
            {
                return None;
            }
            if opposite(o3, o4) && opposite(o1, orient(a, b, c)) {
                inside = !inside;
            }
        }
        Some(inside)
    }
}

impl PreparedArea {
    /// Indexes every edge of every ring of `area` (planar coordinates,
    /// e.g. EPSG:27700 metres).
    #[must_use]
    pub fn new(area: &MultiPolygon<f64>) -> Self {
        let mut lines = Vec::new();
        for polygon in &area.0 {
            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                lines.extend(ring.lines().map(|l| [l.start, l.end]));
            }
        }
        let max_x = lines
            .iter()
            .flat_map(|[a, b]| [a.x, b.x])
            .fold(f64::NEG_INFINITY, f64::max);
        let edges = RTree::bulk_load(
            lines
                .iter()
                .map(|[a, b]| RLine::new([a.x, a.y], [b.x, b.y]))
                .collect(),
        );
        Self {
            edges,
            grid: Grid::new(lines),
            max_x,
        }
    }

    /// Whether `p` is inside the area or on its boundary.
    #[must_use]
    pub fn contains(&self, p: Coord<f64>) -> bool {
        if p.x.is_nan() || p.y.is_nan() || p.x > self.max_x {
            // Right of every edge (or NaN): no ray crossing, no edge through p.
            return false;
        }
        if let Some(grid) = &self.grid {
            let (min, cell) = (grid.min, grid.cell);
            #[allow(clippy::cast_precision_loss)]
            let max = Coord::from((
                min.x + cell.x * grid.nx as f64,
                min.y + cell.y * grid.ny as f64,
            ));
            if p.x < min.x || p.y < min.y || p.y > max.y {
                return false;
            }
            if p.x <= max.x {
                if let Some(inside) = grid.contains(p) {
                    return inside;
                }
            }
        }
        self.ray_contains(p)
    }

    /// [`Self::contains`] by the crossing rule along a ray to +x over the
    /// R-tree: every edge the ray meets is visited.
    fn ray_contains(&self, p: Coord<f64>) -> bool {
        let ray = AABB::from_corners([p.x, p.y], [self.max_x, p.y]);
        let mut inside = false;
        for e in self.edges.locate_in_envelope_intersecting(&ray) {
            let a = Coord::from((e.from[0], e.from[1]));
            let b = Coord::from((e.to[0], e.to[1]));
            let turn = orient(a, b, p);
            if turn == Orientation::Collinear && within(a, b, p) {
                return true;
            }
            if crosses_ray(a, b, p, turn) {
                inside = !inside;
            }
        }
        inside
    }

    /// Planar distance from `p` to the area: 0 inside or on the boundary,
    /// otherwise to the nearest edge. Infinite for an area without edges.
    #[must_use]
    pub fn distance(&self, p: Coord<f64>) -> f64 {
        if self.contains(p) {
            return 0.0;
        }
        self.edges
            .nearest_neighbor(&[p.x, p.y])
            .map_or(f64::INFINITY, |e| {
                let line = geo::Line::new(
                    Coord::from((e.from[0], e.from[1])),
                    Coord::from((e.to[0], e.to[1])),
                );
                Euclidean.distance(&line, &geo::Point(p))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Intersects, LineString, Polygon};

    /// A comb: 40 teeth, with a square hole in the spine, plus a separate
    /// square part — concave, with a hole and two parts.
    fn comb() -> MultiPolygon<f64> {
        let mut shell = vec![(0.0, 0.0), (400.0, 0.0)];
        for t in (0..40).rev() {
            let x = f64::from(t) * 10.0;
            shell.push((x + 10.0, 100.0));
            shell.push((x + 5.0, 100.0));
            shell.push((x + 5.0, 20.0));
            shell.push((x, 20.0));
        }
        shell.push((0.0, 0.0));
        let hole = LineString::from(vec![
            (100.0, 5.0),
            (100.0, 15.0),
            (110.0, 15.0),
            (110.0, 5.0),
            (100.0, 5.0),
        ]);
        let part = Polygon::new(
            LineString::from(vec![
                (500.0, 0.0),
                (600.0, 0.0),
                (600.0, 100.0),
                (500.0, 100.0),
                (500.0, 0.0),
            ]),
            vec![],
        );
        MultiPolygon(vec![
            Polygon::new(LineString::from(shell), vec![hole]),
            part,
        ])
    }

    #[test]
    fn agrees_with_geo_on_a_grid_including_vertices_and_edges() {
        let area = comb();
        let prepared = PreparedArea::new(&area);
        let mut disagreements = Vec::new();
        // Steps of 2.5 land on every vertex and edge of the comb as well as
        // between them.
        for i in -8..=260 {
            for j in -8..=48 {
                let p = Coord::from((f64::from(i) * 2.5, f64::from(j) * 2.5));
                let expected = area.intersects(&geo::Point(p));
                if prepared.contains(p) != expected {
                    disagreements.push((p, expected));
                }
                let d = prepared.distance(p);
                let d_geo = Euclidean.distance(&geo::Point(p), &area);
                if (d - d_geo).abs() > 1e-9 {
                    disagreements.push((p, expected));
                }
            }
        }
        assert!(disagreements.is_empty(), "{disagreements:?}");
    }

    /// A star of `n` spikes with pseudo-random radii (a fixed LCG), and a
    /// pseudo-random point cloud over it, some points on its vertices.
    #[test]
    fn agrees_with_geo_on_random_stars() {
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            #[allow(clippy::cast_precision_loss)]
            let u = (seed >> 11) as f64 / (1u64 << 53) as f64;
            u
        };
        for n in [3_u32, 17, 400, 3000] {
            let ring: Vec<(f64, f64)> = (0..=n)
                .map(|k| {
                    let t = f64::from(k % n) / f64::from(n) * std::f64::consts::TAU;
                    let r = if k % n == 0 {
                        1000.0
                    } else {
                        200.0 + 800.0 * next()
                    };
                    (450_000.0 + r * t.cos(), 200_000.0 + r * t.sin())
                })
                .collect();
            let area = MultiPolygon(vec![Polygon::new(LineString::from(ring.clone()), vec![])]);
            let prepared = PreparedArea::new(&area);
            let mut points: Vec<Coord<f64>> = (0..4000)
                .map(|_| Coord::from((449_000.0 + 2000.0 * next(), 199_000.0 + 2000.0 * next())))
                .collect();
            points.extend(ring.iter().map(|&(x, y)| Coord::from((x, y))));
            points.push(Coord::from((450_000.0, 200_000.0)));
            for p in points {
                assert_eq!(
                    prepared.contains(p),
                    area.intersects(&geo::Point(p)),
                    "{n} spikes, {p:?}"
                );
            }
        }
    }

    #[test]
    fn edges_and_holes() {
        let prepared = PreparedArea::new(&comb());
        assert!(prepared.contains(Coord::from((7.0, 50.0)))); // in a tooth
        assert!(!prepared.contains(Coord::from((2.0, 50.0)))); // between teeth
        assert!(prepared.contains(Coord::from((5.0, 50.0)))); // on a tooth's edge
        assert!(!prepared.contains(Coord::from((105.0, 10.0)))); // in the hole
        assert!(prepared.contains(Coord::from((100.0, 10.0)))); // on the hole's edge
        assert!(prepared.contains(Coord::from((550.0, 50.0)))); // second part
        assert!(!prepared.contains(Coord::from((450.0, 50.0))));
        assert!(!prepared.contains(Coord::from((f64::NAN, 50.0))));
        assert!((prepared.distance(Coord::from((450.0, 50.0))) - 50.0).abs() < 1e-12);
        assert!((prepared.distance(Coord::from((105.0, 10.0))) - 5.0).abs() < 1e-12);
        let empty = PreparedArea::new(&MultiPolygon(vec![]));
        assert!(!empty.contains(Coord::from((0.0, 0.0))));
        assert!(empty.distance(Coord::from((0.0, 0.0))).is_infinite());
    }
}
