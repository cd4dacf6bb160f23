//! Access origins: where the residents of each LSOA are taken to start from.
//!
//! As in CDRC's Access to Healthy Assets and Hazards (AHAH), the origins of an
//! LSOA are its postcode units (every current OS Code-Point Open unit placed in the
//! LSOA). Census 2021 residents are shared equally between the postcodes,
//! because no published population exists below the LSOA. An LSOA without any
//! postcode falls back to one origin at a point on its surface
//! (`geo::InteriorPoint`), flagged so that responses can say so.

use geo::{InteriorPoint, MultiPolygon, Point};

use crate::atlas::{Atlas, DualPoint};

/// One origin. Its LSOA is the group it lies in ([`Origins::group_of`]),
/// and the residents it stands for are its group's
/// ([`Origins::share`]): held per group, not per origin, which for
/// England's 1.49 M origins was 24 MB.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Origin {
    /// Position in both CRSs.
    pub location: DualPoint,
}

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

/// All origins, grouped by LSOA: the region's LSOAs (`0..n`, in atlas
/// order), then the ring's ([`Atlas::ring`], `n..n + ring`), whose origins
/// count only as 2SFCA demand.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    /// Origins, ordered by LSOA (a ring LSOA's `lsoa` is `n + its position`).
    pub points: Vec<Origin>,
    /// Start of each LSOA's run in `points` (length = region LSOAs + ring
    /// LSOAs + 1).
    pub starts: Vec<usize>,
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

impl Origins {
    /// Number of LSOA groups, region and ring.
    #[must_use]
    pub fn groups(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// Residents each origin of group `group` stands for (0 for a group
    /// out of range).
    #[must_use]
    pub fn share(&self, group: usize) -> f64 {
        self.shares.get(group).copied().unwrap_or(0.0)
    }

    /// The group (LSOA, region then ring) of the origin at position `k` of
    /// [`Origins::points`]; `None` past the end.
    #[must_use]
    pub fn group_of(&self, k: usize) -> Option<usize> {
        if k >= self.points.len() {
            return None;
        }
        // The last start at or before `k`; empty groups share their start
        // with the next one, which `partition_point` skips past.
        self.starts.partition_point(|&s| s <= k).checked_sub(1)
    }

    /// The origins of one LSOA.
    #[must_use]
    pub fn of(&self, lsoa: usize) -> &[Origin] {
        match (self.starts.get(lsoa), self.starts.get(lsoa + 1)) {
            (Some(&a), Some(&b)) => self.points.get(a..b).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// Builds the origins of every LSOA of the atlas.
pub fn build(atlas: &Atlas) -> Origins {
    let n = atlas.lsoa21.len();
    let mut per: Vec<Vec<DualPoint>> = vec![Vec::new(); n];
    for p in atlas.postcodes.iter() {
        if let Some(v) = per.get_mut(p.lsoa21 as usize) {
            v.push(p.location);
        }
    }
    let mut out = Origins {
        points: Vec::with_capacity(atlas.postcodes.len() + 16),
        starts: Vec::with_capacity(n + 1),
        kinds: Vec::with_capacity(n),
        centres: Vec::with_capacity(n),
        bounds: Vec::with_capacity(n),
        shares: Vec::with_capacity(n + atlas.ring.lsoas.len()),
    };
    for (lsoa, mut pts) in atlas.lsoa21.iter().zip(per) {
        out.starts.push(out.points.len());
        let kind = if pts.is_empty() {
            match surface_point(&lsoa.geometry.lonlat, &lsoa.geometry.bng) {
                Some(p) => {
                    pts.push(p);
                    OriginKind::InteriorPoint
                }
                None => OriginKind::None,
            }
        } else {
            OriginKind::Postcodes
        };
        let share = f64::from(lsoa.residents.unwrap_or(0)) / pts.len().max(1) as f64;
        out.centres.push(mean_point(&pts));
        out.bounds.push(bng_bounds(&pts));
        out.shares.push(share);
        out.points
            .extend(pts.into_iter().map(|location| Origin { location }));
        out.kinds.push(kind);
    }
    // The ring, built by the same rule as an England-wide run would.
    for lsoa in &atlas.ring.lsoas {
        out.starts.push(out.points.len());
        let mut pts = lsoa.postcodes.clone();
        if pts.is_empty() {
            pts.extend(surface_point(&lsoa.geometry.lonlat, &lsoa.geometry.bng));
        }
        let share = f64::from(lsoa.residents.unwrap_or(0)) / pts.len().max(1) as f64;
        out.bounds.push(bng_bounds(&pts));
        out.shares.push(share);
        out.points
            .extend(pts.into_iter().map(|location| Origin { location }));
    }
    out.starts.push(out.points.len());
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

    #[test]
    fn an_origin_belongs_to_the_group_whose_run_holds_it_past_empty_groups() {
        let at = |x: f64| Origin {
            location: DualPoint {
                lonlat: Point::new(x, 0.0),
                bng: Point::new(x, 0.0),
            },
        };
        // Groups: 0 = [0, 3), 1 empty, 2 = [3, 5), 3 empty at the end.
        let origins = Origins {
            points: (0..5).map(|x| at(f64::from(x))).collect(),
            starts: vec![0, 3, 3, 5, 5],
            shares: vec![10.0, 0.0, 2.5, 0.0],
            ..Origins::default()
        };
        let groups: Vec<Option<usize>> = (0..6).map(|k| origins.group_of(k)).collect();
        assert_eq!(groups, [Some(0), Some(0), Some(0), Some(2), Some(2), None]);
        // Brute force: the group whose run contains k.
        for k in 0..5 {
            let g = (0..4)
                .find(|&g| origins.of(g).contains(&origins.points[k]))
                .unwrap_or(usize::MAX);
            assert_eq!(origins.group_of(k), Some(g));
        }
        assert_eq!(origins.share(2).to_bits(), 2.5_f64.to_bits());
        assert_eq!(origins.share(9).to_bits(), 0.0_f64.to_bits());
    }
}
