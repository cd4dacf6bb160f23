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
    Geocentric::new(a).distance_m(&Geocentric::new(b))
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
        let at = Geocentric::new(p);
        if best.is_some_and(|b| beyond(from.chord_m(&at), b.distance_m)) {
            continue;
        }
        let d = from.distance_m(&at);
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

/// Whether a candidate whose chord is `chord_m` cannot be at or within
/// `distance_m` geodesically (the geodesic is never shorter than the chord).
/// The margin (a nanometre per kilometre) keeps rounding from excluding an
/// exact tie.
fn beyond(chord_m: f64, distance_m: f64) -> bool {
    chord_m > distance_m * (1.0 + 1e-12) + 1e-9
}

/// A possible destination for a group of nearby origins: an indexed item
/// with its BNG position and its geocentric position, computed once.
#[derive(Debug, Clone, Copy)]
pub struct Candidate {
    /// The indexed item (the tree entry's data).
    pub item: u32,
    bng: [f64; 2],
    at: Geocentric,
}

/// Every item of a BNG point tree that can be the geodesic nearest of *some*
/// point in `group` (a BNG rectangle, e.g. around an LSOA's postcodes).
///
/// Why: the postcodes of an LSOA are a few hundred metres apart and share
/// their nearest candidates, so one range query per LSOA replaces a nearest
/// search per postcode. With `c` the rectangle's centre, `h` its
/// half-diagonal and `d*` the planar distance from `c` to its nearest item,
/// every point of the rectangle has an item within planar distance `d* + h`,
/// so its geodesic nearest lies within planar distance
/// `h + (d* + h) / (1 - BNG_TOLERANCE)²` of `c`: nothing is missed.
///
/// ```
/// use geo::{Point, Rect};
/// use rstar::RTree;
/// use rstar::primitives::GeomWithData;
/// use gapmap::analysis::nearest::{group_candidates, nearest_among};
/// use gapmap::atlas::DualPoint;
/// // Assets 1 km, 1.2 km and 30 km east of a 200 m square of origins: the
/// // last cannot be the nearest of any point in the square.
/// let lonlat = [Point::new(-1.2433, 51.752), Point::new(-1.2404, 51.752), Point::new(-0.82, 51.752)];
/// let tree = RTree::bulk_load(vec![
///     GeomWithData::new([452_000.0, 206_000.0], 0),
///     GeomWithData::new([452_200.0, 206_000.0], 1),
///     GeomWithData::new([481_000.0, 206_000.0], 2),
/// ]);
/// let group = Rect::new((450_900.0, 205_900.0), (451_100.0, 206_100.0));
/// let candidates = group_candidates(&tree, group, |i| lonlat.get(i as usize).copied());
/// assert_eq!(candidates.iter().map(|c| c.item).collect::<Vec<_>>(), vec![0, 1]);
/// let origin = DualPoint { lonlat: Point::new(-1.2578, 51.752), bng: Point::new(451_000.0, 206_000.0) };
/// assert_eq!(nearest_among(&candidates, &origin).unwrap().item, 0);
/// ```
pub fn group_candidates(
    tree: &RTree<PointEntry>,
    group: geo::Rect<f64>,
    lonlat: impl Fn(u32) -> Option<Point<f64>>,
) -> Vec<Candidate> {
    let c = group.center();
    let centre = [c.x, c.y];
    let h = 0.5 * group.width().hypot(group.height());
    let Some(first) = tree.nearest_neighbor(&centre) else {
        return Vec::new();
    };
    let d_star = (first.geom()[0] - centre[0]).hypot(first.geom()[1] - centre[1]);
    let reach = h + (d_star + h) / ((1.0 - BNG_TOLERANCE) * (1.0 - BNG_TOLERANCE));
    candidates_within(tree, centre, reach, lonlat)
}

/// The items within planar `reach` of `centre` (plus a millimetre of slack
/// against rounding at the rim), as candidates in item order.
fn candidates_within(
    tree: &RTree<PointEntry>,
    centre: [f64; 2],
    reach: f64,
    lonlat: impl Fn(u32) -> Option<Point<f64>>,
) -> Vec<Candidate> {
    let reach = reach + 1e-3;
    let mut out: Vec<Candidate> = tree
        .locate_within_distance(centre, reach * reach)
        .filter_map(|e| {
            Some(Candidate {
                item: e.data,
                bng: *e.geom(),
                at: Geocentric::new(lonlat(e.data)?),
            })
        })
        .collect();
    out.sort_unstable_by_key(|c| c.item);
    out
}

/// The geodesic nearest of `candidates` to `origin`, ties to the lower item:
/// the same answer as [`nearest_geodesic`] when `candidates` came from
/// [`group_candidates`] for a rectangle containing `origin`. The geodesic
/// distance is computed for the planar nearest and only for the others
/// whose planar distance could, within [`BNG_TOLERANCE`], beat it.
#[must_use]
pub fn nearest_among(candidates: &[Candidate], origin: &DualPoint) -> Option<Nearest> {
    let (ox, oy) = (origin.bng.x(), origin.bng.y());
    let planar2 = |c: &Candidate| {
        let (dx, dy) = (c.bng[0] - ox, c.bng[1] - oy);
        dx * dx + dy * dy
    };
    let closest = candidates
        .iter()
        .min_by(|a, b| planar2(a).total_cmp(&planar2(b)))?;
    let from = Geocentric::new(origin.lonlat);
    let mut best = Nearest {
        item: closest.item,
        distance_m: from.distance_m(&closest.at),
    };
    for c in candidates {
        if c.item == closest.item
            || planar2(c).sqrt() * (1.0 - BNG_TOLERANCE) > best.distance_m
            || beyond(from.chord_m(&c.at), best.distance_m)
        {
            continue;
        }
        let d = from.distance_m(&c.at);
        if d.total_cmp(&best.distance_m)
            .then(c.item.cmp(&best.item))
            .is_lt()
        {
            best = Nearest {
                item: c.item,
                distance_m: d,
            };
        }
    }
    Some(best)
}

/// Every item of a BNG point tree within `radius_m` (geodesic) of *some*
/// point in `group`: those within planar distance
/// `h + radius_m / (1 - BNG_TOLERANCE)` of the rectangle's centre, `h` its
/// half-diagonal. Pair with [`within_among`].
pub fn group_within(
    tree: &RTree<PointEntry>,
    group: geo::Rect<f64>,
    radius_m: f64,
    lonlat: impl Fn(u32) -> Option<Point<f64>>,
) -> Vec<Candidate> {
    let c = group.center();
    let h = 0.5 * group.width().hypot(group.height());
    candidates_within(
        tree,
        [c.x, c.y],
        h + radius_m / (1.0 - BNG_TOLERANCE),
        lonlat,
    )
}

/// Calls `f(item, distance)` for each of `candidates` within `radius_m`
/// (geodesic) of `origin`, in item order: the same items as
/// [`within_geodesic`] when the candidates came from [`group_within`] for a
/// rectangle containing `origin`. `distance` is `None` where the planar
/// distance alone settles membership and `need_distance` is false.
pub fn within_among(
    candidates: &[Candidate],
    origin: &DualPoint,
    radius_m: f64,
    need_distance: bool,
    mut f: impl FnMut(u32, Option<f64>),
) {
    let (ox, oy) = (origin.bng.x(), origin.bng.y());
    let outer = radius_m / (1.0 - BNG_TOLERANCE);
    let inner = radius_m * (1.0 - BNG_TOLERANCE);
    let mut from: Option<Geocentric> = None;
    for c in candidates {
        let (dx, dy) = (c.bng[0] - ox, c.bng[1] - oy);
        let p2 = dx * dx + dy * dy;
        if p2 > outer * outer {
            continue;
        }
        if !need_distance && p2 <= inner * inner {
            f(c.item, None);
            continue;
        }
        let from = *from.get_or_insert_with(|| Geocentric::new(origin.lonlat));
        if beyond(from.chord_m(&c.at), radius_m) {
            continue;
        }
        let d = from.distance_m(&c.at);
        if d <= radius_m {
            f(c.item, Some(d));
        }
    }
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
            let at = Geocentric::new(lonlat(e.data)?);
            if beyond(from.chord_m(&at), radius_m) {
                return None;
            }
            let d = from.distance_m(&at);
            (d <= radius_m).then_some(Nearest {
                item: e.data,
                distance_m: d,
            })
        })
        .collect();
    out.sort_by_key(|n| n.item);
    out
}
