//! Finding duplicates of an asset among the assets of earlier sources, with
//! an R-tree instead of comparing every asset with every earlier one.

use geo::{Distance, Euclidean, Point};
use rstar::primitives::GeomWithData;
use rstar::RTree;

use crate::atlas::asset::Asset;

/// A BNG point tagged with its asset's category.
type Entry = GeomWithData<[f64; 2], u16>;

/// The BNG points of the assets kept from earlier sources, by category.
pub(super) struct EarlierAssets {
    /// Every point with finite coordinates.
    tree: RTree<Entry>,
    /// Points with a non-finite coordinate, which an R-tree cannot order;
    /// tested one by one (in practice there are none).
    odd: Vec<(u16, Point<f64>)>,
    /// Every point, for queries from a non-finite point.
    all: Vec<(u16, Point<f64>)>,
}

/// Whether both coordinates are finite.
fn finite(p: Point<f64>) -> bool {
    p.x().is_finite() && p.y().is_finite()
}

/// The test the R-tree query must agree with: same category and within
/// `within` metres by `Euclidean` distance, `<=` inclusive.
fn is_duplicate(
    earlier: (u16, Point<f64>),
    category: usize,
    point: Point<f64>,
    within: f64,
) -> bool {
    usize::from(earlier.0) == category && Euclidean.distance(earlier.1, point) <= within
}

impl EarlierAssets {
    /// Indexes `(category, BNG point)` pairs.
    pub fn new(points: impl Iterator<Item = (u16, Point<f64>)>) -> Self {
        let all: Vec<(u16, Point<f64>)> = points.collect();
        let (entries, odd): (Vec<_>, Vec<_>) = all.iter().partition(|(_, p)| finite(*p));
        Self {
            tree: RTree::bulk_load(
                entries
                    .into_iter()
                    .map(|(c, p)| GeomWithData::new([p.x(), p.y()], c))
                    .collect(),
            ),
            odd,
            all,
        }
    }

    /// Indexes the BNG locations of `assets`.
    pub fn of(assets: &[Asset]) -> Self {
        Self::new(assets.iter().map(|a| (a.category, a.location.bng)))
    }

    /// Whether an earlier asset of `category` lies within `within` metres of
    /// `point` (both BNG): exactly the answer of testing every earlier asset
    /// with `Euclidean.distance(earlier, point) <= within`.
    pub fn has_within(&self, category: usize, point: Point<f64>, within: f64) -> bool {
        if !finite(point) {
            return self
                .all
                .iter()
                .any(|&e| is_duplicate(e, category, point, within));
        }
        // The tree compares squared distances, which can round differently
        // from the `hypot` of the test above; a slightly wider reach makes
        // its answer a superset, and the test then decides.
        let reach = within * (1.0 + 1e-9) + 1e-6;
        self.tree
            .locate_within_distance([point.x(), point.y()], reach * reach)
            .map(|e| (e.data, Point::new(e.geom()[0], e.geom()[1])))
            .chain(self.odd.iter().copied())
            .any(|e| is_duplicate(e, category, point, within))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The brute force the tree replaces.
    fn brute(points: &[(u16, Point<f64>)], category: usize, p: Point<f64>, within: f64) -> bool {
        points
            .iter()
            .any(|&(c, q)| usize::from(c) == category && Euclidean.distance(q, p) <= within)
    }

    /// A small deterministic generator (64-bit LCG), so the test needs no
    /// random-number crate and fails reproducibly.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            self.0 >> 11
        }
        fn unit(&mut self) -> f64 {
            (self.next() as f64) / ((1_u64 << 53) as f64)
        }
    }

    #[test]
    #[allow(clippy::float_cmp)] // counting exact-threshold cases is the point
    fn tree_agrees_with_brute_force_including_exact_threshold() {
        let within = 100.0;
        let mut rng = Lcg(42);
        let mut earlier: Vec<(u16, Point<f64>)> = Vec::new();
        // Scattered points over a 5 km square at BNG-like magnitudes, in
        // three categories: every other one on a 1/8 m grid, so that offsets
        // of 100 m and 60-80-100 triangles land exactly on the threshold;
        // the rest arbitrary, where differences round.
        for i in 0..2_000 {
            let c = u16::try_from(rng.next() % 3).unwrap_or(0);
            let mut x = 450_000.0 + rng.unit() * 5_000.0;
            let mut y = 200_000.0 + rng.unit() * 5_000.0;
            if i % 2 == 0 {
                (x, y) = ((x * 8.0).round() / 8.0, (y * 8.0).round() / 8.0);
            }
            earlier.push((c, Point::new(x, y)));
        }
        let mut queries: Vec<(usize, Point<f64>)> = Vec::new();
        for &(c, q) in earlier.iter().take(300) {
            let c = usize::from(c);
            // Exactly 100 m away along an axis, and on a 60-80-100 triangle.
            queries.push((c, Point::new(q.x() + 100.0, q.y())));
            queries.push((c, Point::new(q.x(), q.y() - 100.0)));
            queries.push((c, Point::new(q.x() - 60.0, q.y() + 80.0)));
            // One representable step beyond and within.
            queries.push((
                c,
                Point::new(f64::from_bits((q.x() + 100.0).to_bits() + 1), q.y()),
            ));
            queries.push((
                c,
                Point::new(f64::from_bits((q.x() + 100.0).to_bits() - 1), q.y()),
            ));
            // The same place in another category.
            queries.push(((c + 1) % 3, Point::new(q.x() + 100.0, q.y())));
        }
        for _ in 0..3_000 {
            let c = usize::try_from(rng.next() % 4).unwrap_or(0);
            let x = 449_800.0 + rng.unit() * 5_400.0;
            let y = 199_800.0 + rng.unit() * 5_400.0;
            queries.push((c, Point::new(x, y)));
        }
        let index = EarlierAssets::new(earlier.iter().copied());
        let mut hits = 0;
        let mut exact = 0;
        for &(c, p) in &queries {
            let expected = brute(&earlier, c, p, within);
            assert_eq!(
                index.has_within(c, p, within),
                expected,
                "category {c} at ({}, {})",
                p.x(),
                p.y()
            );
            hits += usize::from(expected);
            exact += usize::from(
                earlier
                    .iter()
                    .any(|&(k, q)| usize::from(k) == c && Euclidean.distance(q, p) == within),
            );
        }
        // The sample really exercises both answers and the boundary.
        assert!(hits > 1_000 && hits < queries.len() - 1_000, "{hits}");
        assert!(exact >= 300, "{exact}");
    }

    #[test]
    fn odd_points_and_radii_agree_with_brute_force() {
        let earlier = vec![
            (0, Point::new(0.0, 0.0)),
            (0, Point::new(f64::NAN, 5.0)),
            (1, Point::new(f64::INFINITY, 0.0)),
            (1, Point::new(10.0, 0.0)),
        ];
        let index = EarlierAssets::new(earlier.iter().copied());
        for within in [0.0, 10.0, -1.0, f64::NAN, f64::INFINITY, 1e300] {
            for (c, p) in [
                (0, Point::new(0.0, 0.0)),
                (1, Point::new(0.0, 0.0)),
                (1, Point::new(f64::INFINITY, 0.0)),
                (0, Point::new(f64::NAN, 0.0)),
                (1, Point::new(1e300, 0.0)),
            ] {
                assert_eq!(
                    index.has_within(c, p, within),
                    brute(&earlier, c, p, within),
                    "category {c} at {p:?} within {within}"
                );
            }
        }
    }
}
