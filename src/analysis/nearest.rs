//! Geodesic nearest-neighbour and within-distance search over points indexed
//! in British National Grid.
//!
//! The R-trees are in BNG metres because planar search is fast; the distances
//! reported are geodesic on the WGS84 ellipsoid ([`super::geodesic`]), because BNG distances are scaled by the projection
//! (scale factor 0.9996 on the central meridian, up to about 1.0007 at the
//! edges of Great Britain). The two orders can therefore differ slightly, so
//! the search keeps taking BNG candidates until the next candidate's planar
//! distance, shrunk by [`BNG_TOLERANCE`], already exceeds the best geodesic
//! distance found: the result is the true geodesic nearest, not an
//! approximation.

use geo::Point;
use rstar::RTree;

use super::geodesic::Geocentric;
use crate::atlas::index::PointEntry;
use crate::atlas::DualPoint;

/// Largest relative difference allowed between a planar BNG distance and the
/// geodesic distance between the same points. The real difference is below
/// 0.1% anywhere in Great Britain; 0.5% leaves a wide margin.
pub const BNG_TOLERANCE: f64 = 0.005;

/// Straight-line geodesic distance in metres on the WGS84 ellipsoid between
/// two longitude/latitude points.
///
/// ```
/// use geo::Point;
/// use gapmap::analysis::nearest::geodesic_m;
/// // Carfax Tower to Oxford railway station: about 860 m.
/// let d = geodesic_m(Point::new(-1.2578, 51.7520), Point::new(-1.2700, 51.7535));
/// assert!((d - 858.0).abs() < 15.0, "{d}");
/// ```
#[must_use]
pub fn geodesic_m(a: Point<f64>, b: Point<f64>) -> f64 {
    super::geodesic::distance_m(a, b)
}

/// The nearest point found and its geodesic distance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nearest {
    /// The indexed item (the tree entry's data).
    pub item: u32,
    /// Geodesic distance in metres.
    pub distance_m: f64,
}

/// The geodesic nearest item of a BNG point tree to `origin`; `lonlat` gives
/// each item's longitude/latitude. Ties go to the lower item index, so the
/// result does not depend on tree layout. `None` for an empty tree.
///
/// ```
/// use geo::Point;
/// use rstar::RTree;
/// use rstar::primitives::GeomWithData;
/// use gapmap::analysis::nearest::nearest_geodesic;
/// use gapmap::atlas::DualPoint;
/// // Two assets 1 km and 2 km east of the origin (BNG metres; lon/lat approx.).
/// let lonlat = [Point::new(-1.2433, 51.752), Point::new(-1.2288, 51.752)];
/// let tree = RTree::bulk_load(vec![
///     GeomWithData::new([452_000.0, 206_000.0], 0),
///     GeomWithData::new([453_000.0, 206_000.0], 1),
/// ]);
/// let origin = DualPoint { lonlat: Point::new(-1.2578, 51.752), bng: Point::new(451_000.0, 206_000.0) };
/// let n = nearest_geodesic(&tree, &origin, |i| lonlat.get(i as usize).copied()).unwrap();
/// assert_eq!(n.item, 0);
/// assert!((n.distance_m - 1000.0).abs() < 10.0);
/// ```
pub fn nearest_geodesic(
    tree: &RTree<PointEntry>,
    origin: &DualPoint,
    lonlat: impl Fn(u32) -> Option<Point<f64>>,
) -> Option<Nearest> {
    let from = Geocentric::new(origin.lonlat);
    let mut best: Option<Nearest> = None;
    for (entry, d2) in tree.nearest_neighbor_iter_with_distance_2(&[origin.bng.x(), origin.bng.y()])
    {
        if let Some(b) = best {
            if d2.sqrt() * (1.0 - BNG_TOLERANCE) > b.distance_m {
                break;
            }
        }
        let Some(p) = lonlat(entry.data) else {
            continue;
        };
        let d = from.distance_m(&Geocentric::new(p));
        // Ties go to the lower index, whatever order the tree yields them in.
        let better = best.is_none_or(|b| {
            d.total_cmp(&b.distance_m)
                .then(entry.data.cmp(&b.item))
                .is_lt()
        });
        if better {
            best = Some(Nearest {
                item: entry.data,
                distance_m: d,
            });
        }
    }
    best
}

/// Every item within `radius_m` (geodesic) of `origin`, with its distance,
/// in item order.
///
/// ```
/// use geo::Point;
/// use rstar::RTree;
/// use rstar::primitives::GeomWithData;
/// use gapmap::analysis::nearest::within_geodesic;
/// use gapmap::atlas::DualPoint;
/// let lonlat = [Point::new(-1.2433, 51.752), Point::new(-1.2288, 51.752)];
/// let tree = RTree::bulk_load(vec![
///     GeomWithData::new([452_000.0, 206_000.0], 0),
///     GeomWithData::new([453_000.0, 206_000.0], 1),
/// ]);
/// let origin = DualPoint { lonlat: Point::new(-1.2578, 51.752), bng: Point::new(451_000.0, 206_000.0) };
/// let near = within_geodesic(&tree, &origin, 1500.0, |i| lonlat.get(i as usize).copied());
/// assert_eq!(near.len(), 1);
/// ```
pub fn within_geodesic(
    tree: &RTree<PointEntry>,
    origin: &DualPoint,
    radius_m: f64,
    lonlat: impl Fn(u32) -> Option<Point<f64>>,
) -> Vec<Nearest> {
    // Search a slightly larger planar circle, then keep what is inside
    // geodesically: nothing within the radius can be missed.
    let planar = radius_m / (1.0 - BNG_TOLERANCE);
    let from = Geocentric::new(origin.lonlat);
    let mut out: Vec<Nearest> = tree
        .locate_within_distance([origin.bng.x(), origin.bng.y()], planar * planar)
        .filter_map(|e| {
            let d = from.distance_m(&Geocentric::new(lonlat(e.data)?));
            (d <= radius_m).then_some(Nearest {
                item: e.data,
                distance_m: d,
            })
        })
        .collect();
    out.sort_by_key(|n| n.item);
    out
}

/// The items within `radius_m` (geodesic) of `origin`, without their
/// distances, in item order. Cheaper than [`within_geodesic`]: the geodesic
/// distance is computed only for items whose planar distance is within
/// [`BNG_TOLERANCE`] of the radius, where the planar test cannot decide.
///
/// ```
/// use geo::Point;
/// use rstar::RTree;
/// use rstar::primitives::GeomWithData;
/// use gapmap::analysis::nearest::members_within_geodesic;
/// use gapmap::atlas::DualPoint;
/// let lonlat = [Point::new(-1.2433, 51.752), Point::new(-1.2288, 51.752)];
/// let tree = RTree::bulk_load(vec![
///     GeomWithData::new([452_000.0, 206_000.0], 0),
///     GeomWithData::new([453_000.0, 206_000.0], 1),
/// ]);
/// let origin = DualPoint { lonlat: Point::new(-1.2578, 51.752), bng: Point::new(451_000.0, 206_000.0) };
/// assert_eq!(members_within_geodesic(&tree, &origin, 2500.0, |i| lonlat.get(i as usize).copied()), vec![0, 1]);
/// ```
pub fn members_within_geodesic(
    tree: &RTree<PointEntry>,
    origin: &DualPoint,
    radius_m: f64,
    lonlat: impl Fn(u32) -> Option<Point<f64>>,
) -> Vec<u32> {
    let outer = radius_m / (1.0 - BNG_TOLERANCE);
    let inner = radius_m * (1.0 - BNG_TOLERANCE);
    let centre = [origin.bng.x(), origin.bng.y()];
    let from = Geocentric::new(origin.lonlat);
    let mut out: Vec<u32> = tree
        .locate_within_distance(centre, outer * outer)
        .filter(|e| {
            let (dx, dy) = (e.geom()[0] - centre[0], e.geom()[1] - centre[1]);
            dx * dx + dy * dy <= inner * inner
                || lonlat(e.data).is_some_and(|p| from.distance_m(&Geocentric::new(p)) <= radius_m)
        })
        .map(|e| e.data)
        .collect();
    out.sort_unstable();
    out
}
