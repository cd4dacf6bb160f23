//! Access origins: where the residents of each LSOA are taken to start from.
//!
//! As in CDRC's Access to Healthy Assets and Hazards (AHAH), the origins of an
//! LSOA are its postcode units (every current OS Code-Point Open unit placed in the
//! LSOA). Census 2021 residents are shared equally between the postcodes,
//! because no published population exists below the LSOA. An LSOA without any
//! postcode falls back to one origin at a point on its surface
//! (`geo::InteriorPoint`), flagged so that responses can say so.

use std::ops::Range;
use std::sync::Arc;

use geo::{InteriorPoint, MultiPolygon, Point};

use crate::atlas::{Atlas, DualPoint, Postcode};

/// How an LSOA's origins were chosen.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum OriginKind {
    /// Its postcode units.
    Postcodes,
    /// No postcode lies in the LSOA: one point on its surface.
    InteriorPoint,
    /// No postcode and no usable geometry: no origin at all.
    None,
}

/// All origins, grouped by LSOA: the region's LSOAs (groups `0..n`, in
/// atlas order), then the ring's ([`Atlas::ring`], `n..n + ring`), whose
/// origins count only as 2SFCA demand.
///
/// Each origin has a position `k` (what [`Origins::get`] and
/// [`Origins::group_of`] take, and what area specs list): first the
/// region's postcode units, LSOA by LSOA, then the surface points of the
/// region's LSOAs without one, then the ring's origins; so the region's
/// come first ([`Origins::region_len`]) and each group's are one run. The
/// postcode units are not copied: their positions are read from the atlas's
/// list (England's 1.49 M copies took 48 MB), through their order by LSOA.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    /// The atlas's postcode units.
    postcodes: Arc<Vec<Postcode>>,
    /// Positions in `postcodes` of the region's postcode origins, by LSOA
    /// (then code): origins `0..order.len()`.
    order: Vec<u32>,
    /// The other origins: surface points of region LSOAs, then the ring's;
    /// origin `order.len() + j` is `extra[j]`.
    extra: Vec<DualPoint>,
    /// The group of each of `extra`.
    extra_groups: Vec<u32>,
    /// Each group's run of origin positions (region, then ring).
    runs: Vec<Range<u32>>,
    /// Number of region origins (postcodes and surface points).
    region_len: usize,
    /// How each region LSOA's origins were chosen.
    pub kinds: Vec<OriginKind>,
    /// Mean position of each LSOA's origins (where band counts are measured from).
    pub centres: Vec<Option<DualPoint>>,
    /// BNG rectangle around each LSOA's origins (region, then ring), for the
    /// grouped searches of [`super::nearest`] (every category and both 2SFCA
    /// steps use it).
    pub bounds: Vec<Option<geo::Rect<f64>>>,
    /// Residents each origin of a group stands for (the LSOA's residents
    /// over its origins), region then ring.
    pub shares: Vec<f64>,
}

/// The origins of one group: a view, in order, of a run of [`Origins`].
#[derive(Debug, Clone)]
pub struct Run<'a> {
    origins: &'a Origins,
    range: Range<usize>,
}

impl<'a> Run<'a> {
    /// Number of origins.
    #[must_use]
    pub fn len(&self) -> usize {
        self.range.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.range.is_empty()
    }

    /// Their positions `k` in [`Origins`].
    #[must_use]
    pub fn positions(&self) -> Range<usize> {
        self.range.clone()
    }

    /// Their locations, in both CRSs.
    pub fn iter(&self) -> impl Iterator<Item = &'a DualPoint> + 'a {
        let origins = self.origins;
        self.range.clone().filter_map(move |k| origins.get(k))
    }
}

impl Origins {
    /// Number of LSOA groups, region and ring.
    #[must_use]
    pub fn groups(&self) -> usize {
        self.runs.len()
    }

    /// Number of origins, region and ring.
    #[must_use]
    pub fn len(&self) -> usize {
        self.order.len() + self.extra.len()
    }

    /// Whether there is no origin at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of the region's origins: positions `0..region_len()`.
    #[must_use]
    pub fn region_len(&self) -> usize {
        self.region_len
    }

    /// The location of the origin at position `k`; `None` past the end.
    #[must_use]
    pub fn get(&self, k: usize) -> Option<&DualPoint> {
        match self.order.get(k) {
            Some(&i) => self.postcodes.get(i as usize).map(|p| &p.location),
            None => self.extra.get(k.checked_sub(self.order.len())?),
        }
    }

    /// Residents each origin of group `group` stands for (0 for a group
    /// out of range).
    #[must_use]
    pub fn share(&self, group: usize) -> f64 {
        self.shares.get(group).copied().unwrap_or(0.0)
    }

    /// The group (LSOA, region then ring) of the origin at position `k`;
    /// `None` past the end.
    #[must_use]
    pub fn group_of(&self, k: usize) -> Option<usize> {
        match self.order.get(k) {
            Some(&i) => Some(self.postcodes.get(i as usize)?.lsoa21 as usize),
            None => self
                .extra_groups
                .get(k.checked_sub(self.order.len())?)
                .map(|&g| g as usize),
        }
    }

    /// The origins of one LSOA group (empty for a group out of range).
    #[must_use]
    pub fn of(&self, group: usize) -> Run<'_> {
        let range = self
            .runs
            .get(group)
            .map_or(0..0, |r| r.start as usize..r.end as usize);
        Run {
            origins: self,
            range,
        }
    }
}

/// Position as stored (origins and postcodes are far fewer than 2^32).
fn at(k: usize) -> u32 {
    u32::try_from(k).unwrap_or(u32::MAX)
}

/// Builds the origins of every LSOA of the atlas.
pub fn build(atlas: &Atlas) -> Origins {
    let n = atlas.lsoa21.len();
    // The region's postcode units by LSOA, each LSOA's in code order (the
    // atlas's): a counting sort.
    let mut counts = vec![0_usize; n + 1];
    let in_region = |p: &Postcode| (p.lsoa21 as usize) < n;
    for p in atlas.postcodes.iter().filter(|p| in_region(p)) {
        if let Some(c) = counts.get_mut(p.lsoa21 as usize + 1) {
            *c += 1;
        }
    }
    for i in 1..counts.len() {
        counts[i] += counts[i - 1];
    }
    let mut next = counts.clone();
    let mut order = vec![0_u32; counts[n]];
    for (i, p) in atlas
        .postcodes
        .iter()
        .enumerate()
        .filter(|(_, p)| in_region(p))
    {
        if let Some(slot) = next.get_mut(p.lsoa21 as usize) {
            if let Some(o) = order.get_mut(*slot) {
                *o = at(i);
            }
            *slot += 1;
        }
    }
    let mut out = Origins {
        postcodes: Arc::clone(&atlas.postcodes),
        runs: Vec::with_capacity(n + atlas.ring.lsoas.len()),
        kinds: Vec::with_capacity(n),
        centres: Vec::with_capacity(n),
        bounds: Vec::with_capacity(n + atlas.ring.lsoas.len()),
        shares: Vec::with_capacity(n + atlas.ring.lsoas.len()),
        ..Origins::default()
    };
    let p_len = order.len();
    let mut pts: Vec<DualPoint> = Vec::new();
    for (i, lsoa) in atlas.lsoa21.iter().enumerate() {
        let own = counts[i]..counts[i + 1];
        pts.clear();
        pts.extend(
            order[own.clone()]
                .iter()
                .filter_map(|&j| atlas.postcodes.get(j as usize))
                .map(|p| p.location),
        );
        let (kind, run) = if !pts.is_empty() {
            (OriginKind::Postcodes, at(own.start)..at(own.end))
        } else if let Some(p) = surface_point(&lsoa.geometry.lonlat, &lsoa.geometry.bng) {
            pts.push(p);
            let k = p_len + out.extra.len();
            out.extra.push(p);
            out.extra_groups.push(at(i));
            (OriginKind::InteriorPoint, at(k)..at(k + 1))
        } else {
            (OriginKind::None, at(p_len)..at(p_len))
        };
        let share = f64::from(lsoa.residents.unwrap_or(0)) / pts.len().max(1) as f64;
        out.centres.push(mean_point(&pts));
        out.bounds.push(bng_bounds(&pts));
        out.shares.push(share);
        out.runs.push(run);
        out.kinds.push(kind);
    }
    out.region_len = p_len + out.extra.len();
    // The ring, built by the same rule as an England-wide run would.
    for (r, lsoa) in atlas.ring.lsoas.iter().enumerate() {
        let mut pts = lsoa.postcodes.clone();
        if pts.is_empty() {
            pts.extend(surface_point(&lsoa.geometry.lonlat, &lsoa.geometry.bng));
        }
        let share = f64::from(lsoa.residents.unwrap_or(0)) / pts.len().max(1) as f64;
        out.bounds.push(bng_bounds(&pts));
        out.shares.push(share);
        let k = p_len + out.extra.len();
        out.runs.push(at(k)..at(k + pts.len()));
        out.extra_groups
            .extend(std::iter::repeat_n(at(n + r), pts.len()));
        out.extra.extend(pts);
    }
    out.order = order;
    out
}

/// The BNG rectangle around some points; `None` for none.
fn bng_bounds(points: &[DualPoint]) -> Option<geo::Rect<f64>> {
    use geo::BoundingRect;
    points
        .iter()
        .map(|p| p.bng)
        .collect::<geo::MultiPoint<f64>>()
        .bounding_rect()
}

/// Mean of points in both CRSs. Over an LSOA (a few km at most) the
/// difference between averaging in lon/lat and in BNG is far below a metre.
///
/// ```
/// use geo::Point;
/// use gapmap::analysis::origins::mean_point;
/// use gapmap::atlas::DualPoint;
/// let p = |x: f64| DualPoint { lonlat: Point::new(x, 51.0), bng: Point::new(x * 1000.0, 0.0) };
/// let m = mean_point(&[p(1.0), p(3.0)]).unwrap();
/// assert_eq!(m.lonlat.x(), 2.0);
/// assert_eq!(m.bng.x(), 2000.0);
/// ```
#[must_use]
pub fn mean_point(points: &[DualPoint]) -> Option<DualPoint> {
    if points.is_empty() {
        return None;
    }
    let n = points.len() as f64;
    let sum = |f: &dyn Fn(&DualPoint) -> f64| points.iter().map(f).sum::<f64>() / n;
    Some(DualPoint {
        lonlat: Point::new(sum(&|p| p.lonlat.x()), sum(&|p| p.lonlat.y())),
        bng: Point::new(sum(&|p| p.bng.x()), sum(&|p| p.bng.y())),
    })
}

/// A point on the surface of an LSOA in both CRSs. The point is found in
/// lon/lat; its BNG position comes from a least-squares affine fit of the
/// polygon's vertices, which correspond one to one in the two CRSs because
/// each was reprojected vertex by vertex (no request-time reprojection).
fn surface_point(lonlat: &MultiPolygon<f64>, bng: &MultiPolygon<f64>) -> Option<DualPoint> {
    use geo::CoordsIter;
    let p = lonlat.interior_point()?;
    let pairs: Vec<(geo::Coord<f64>, geo::Coord<f64>)> =
        lonlat.coords_iter().zip(bng.coords_iter()).collect();
    let (x, y) = affine_fit(&pairs, p)?;
    Some(DualPoint {
        lonlat: p,
        bng: Point::new(x, y),
    })
}

/// Fits `bng = a + b·lon + c·lat` (per axis) to the pairs, centred on their
/// mean for numerical stability, and applies it to `p`.
fn affine_fit(pairs: &[(geo::Coord<f64>, geo::Coord<f64>)], p: Point<f64>) -> Option<(f64, f64)> {
    if pairs.len() < 3 {
        return None;
    }
    let n = pairs.len() as f64;
    let (mx, my) = pairs
        .iter()
        .fold((0.0, 0.0), |(a, b), (s, _)| (a + s.x / n, b + s.y / n));
    let (ex, ey) = pairs
        .iter()
        .fold((0.0, 0.0), |(a, b), (_, t)| (a + t.x / n, b + t.y / n));
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    let (mut sxe, mut sye, mut sxn, mut syn) = (0.0, 0.0, 0.0, 0.0);
    for (s, t) in pairs {
        let (dx, dy, de, dn) = (s.x - mx, s.y - my, t.x - ex, t.y - ey);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
        sxe += dx * de;
        sye += dy * de;
        sxn += dx * dn;
        syn += dy * dn;
    }
    let det = sxx * syy - sxy * sxy;
    if det.abs() < f64::EPSILON {
        return None;
    }
    let solve = |r1: f64, r2: f64| ((syy * r1 - sxy * r2) / det, (sxx * r2 - sxy * r1) / det);
    let (be, ce) = solve(sxe, sye);
    let (bn, cn) = solve(sxn, syn);
    let (dx, dy) = (p.x() - mx, p.y() - my);
    Some((ex + be * dx + ce * dy, ey + bn * dx + cn * dy))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dual(x: f64) -> DualPoint {
        DualPoint {
            lonlat: Point::new(x, 0.0),
            bng: Point::new(x, 0.0),
        }
    }

    #[test]
    fn positions_read_postcodes_by_lsoa_then_the_other_origins() {
        // Postcodes in code order, LSOAs 1, 0, 1, 0; group 2 has none and
        // a surface point; group 3 (the ring) two points.
        let postcode = |x: f64, lsoa21: u32| Postcode {
            code: crate::model::PostcodeCode::new("OX1 1AA").unwrap(),
            location: dual(x),
            lsoa21,
        };
        let origins = Origins {
            postcodes: Arc::new(vec![
                postcode(10.0, 1),
                postcode(20.0, 0),
                postcode(30.0, 1),
                postcode(40.0, 0),
            ]),
            order: vec![1, 3, 0, 2],
            extra: vec![dual(50.0), dual(60.0), dual(70.0)],
            extra_groups: vec![2, 3, 3],
            runs: vec![0..2, 2..4, 4..5, 5..7],
            region_len: 5,
            shares: vec![10.0, 0.0, 2.5, 1.0],
            ..Origins::default()
        };
        let xs = |g: usize| -> Vec<f64> { origins.of(g).iter().map(|p| p.bng.x()).collect() };
        assert_eq!(xs(0), [20.0, 40.0]);
        assert_eq!(xs(1), [10.0, 30.0]);
        assert_eq!(xs(2), [50.0]);
        assert_eq!(xs(3), [60.0, 70.0]);
        assert!(origins.of(4).is_empty());
        assert_eq!(origins.len(), 7);
        // Brute force: the group whose run holds k, and its location.
        for k in 0..7 {
            let g = (0..4).find(|&g| origins.of(g).positions().contains(&k));
            assert_eq!(origins.group_of(k), g, "{k}");
            let x = origins.get(k).unwrap().bng.x();
            assert!(xs(g.unwrap()).contains(&x));
        }
        assert_eq!(origins.group_of(7), None);
        assert_eq!(origins.get(7), None);
        assert_eq!(origins.share(2).to_bits(), 2.5_f64.to_bits());
        assert_eq!(origins.share(9).to_bits(), 0.0_f64.to_bits());
    }
}
