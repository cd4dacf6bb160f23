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

/// One origin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Origin {
    /// Position in both CRSs.
    pub location: DualPoint,
    /// 2021 LSOA index.
    pub lsoa: u32,
    /// Residents this origin stands for (LSOA residents / origins in the LSOA).
    pub residents: f64,
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
}

impl Origins {
    /// Number of LSOA groups, region and ring.
    #[must_use]
    pub fn groups(&self) -> usize {
        self.starts.len().saturating_sub(1)
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
    };
    for (i, (lsoa, mut pts)) in atlas.lsoa21.iter().zip(per).enumerate() {
        let idx = u32::try_from(i).unwrap_or(u32::MAX);
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
        out.points.extend(pts.into_iter().map(|location| Origin {
            location,
            lsoa: idx,
            residents: share,
        }));
        out.kinds.push(kind);
    }
    // The ring, built by the same rule as an England-wide run would.
    for (k, lsoa) in atlas.ring.lsoas.iter().enumerate() {
        let idx = u32::try_from(n + k).unwrap_or(u32::MAX);
        out.starts.push(out.points.len());
        let mut pts = lsoa.postcodes.clone();
        if pts.is_empty() {
            pts.extend(surface_point(&lsoa.geometry.lonlat, &lsoa.geometry.bng));
        }
        let share = f64::from(lsoa.residents.unwrap_or(0)) / pts.len().max(1) as f64;
        out.bounds.push(bng_bounds(&pts));
        out.points.extend(pts.into_iter().map(|location| Origin {
            location,
            lsoa: idx,
            residents: share,
        }));
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
