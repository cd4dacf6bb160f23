//! The ring: what lies just outside the region but shapes the region's own
//! figures. A region is a window on England, not a cut: for every region
//! LSOA each figure must equal the England-wide one, so the build loads
//!
//! - the 2021 LSOAs (with residents and postcodes) within [`REACH_M`] of the
//!   region, whose residents compete for the assets region residents use
//!   (2SFCA demand: an asset within catchment `d0` of a region origin
//!   draws on residents up to `2·d0` from the region);
//! - every postcode unit that falls in a region or ring LSOA, whatever
//!   district Code-Point files it under (E01027305, in West
//!   Northamptonshire by Code-Point, best-fits a Cherwell ward);
//! - assets far enough out that no nearer asset can lie beyond them
//!   ([`super::assets`] widens the edge buffer per category until it does).

use std::collections::HashSet;

use geo::Rect;

use super::region::Members;
use crate::atlas::area::RingLsoa;
use crate::atlas::index::AreaIndex;
use crate::model::Crs;
use crate::sources::tables::WardLookupRow;
use crate::sources::RawArea;

/// How far (BNG metres) the ring reaches beyond the region's LSOAs: twice
/// the widest default 2SFCA catchment (5 km, nature reserves) plus a
/// margin for the difference between planar and geodesic distance.
pub(super) const REACH_M: f64 = 10_500.0;

/// A rectangle grown by `by` metres on every side.
pub(super) fn grow(r: Rect<f64>, by: f64) -> Rect<f64> {
    Rect::new(
        (r.min().x - by, r.min().y - by),
        (r.max().x + by, r.max().y + by),
    )
}

/// Whether two rectangles overlap (edges included).
fn overlaps(a: Rect<f64>, b: Rect<f64>) -> bool {
    a.min().x <= b.max().x
        && b.min().x <= a.max().x
        && a.min().y <= b.max().y
        && b.min().y <= a.max().y
}

/// The first letter of the region's LSOA codes (`E` for England), which is
/// also the first letter of Code-Point's country codes: the ring and its
/// postcodes stay in the region's country, as an England-wide run does.
pub(super) fn country(members: &Members<'_>) -> u8 {
    members
        .lsoa21
        .iter()
        .next()
        .and_then(|c| c.bytes().next())
        .unwrap_or(b'E')
}

/// Codes of the 2021 LSOAs that may lie in the ring: those outside the
/// region, in the region's country, in a district whose envelope comes
/// within `reach` of a region district's envelope (`districts` holds every
/// district boundary). Envelopes only: [`select`] narrows the candidates.
pub(super) fn candidates<'a>(
    ward_rows: &'a [WardLookupRow],
    districts: &[RawArea],
    members: &Members<'_>,
    reach: f64,
) -> HashSet<&'a str> {
    let region: Vec<Rect<f64>> = districts
        .iter()
        .filter(|d| members.districts.contains(d.code.as_str()))
        .map(|d| grow(d.geometry.bng_bbox, reach))
        .collect();
    let near: HashSet<&str> = districts
        .iter()
        .filter(|d| region.iter().any(|r| overlaps(*r, d.geometry.bng_bbox)))
        .map(|d| d.code.as_str())
        .collect();
    let letter = country(members);
    ward_rows
        .iter()
        .filter(|r| {
            near.contains(r.district_code.as_str())
                && !members.lsoa21.contains(r.lsoa.as_str())
                && r.lsoa.bytes().next() == Some(letter)
        })
        .map(|r| r.lsoa.as_str())
        .collect()
}

/// The candidate LSOAs whose envelope, grown by `reach`, meets a region
/// LSOA's envelope, with their residents (postcodes are placed later),
/// sorted by code.
pub(super) fn select(
    candidates: Vec<(RawArea, Option<u32>)>,
    region_index: &AreaIndex,
    reach: f64,
) -> Vec<RingLsoa> {
    let mut ring: Vec<RingLsoa> = candidates
        .into_iter()
        .filter(|(a, _)| {
            region_index
                .envelope_candidates(grow(a.geometry.bng_bbox, reach), Crs::Bng)
                .next()
                .is_some()
        })
        .map(|(a, residents)| RingLsoa {
            code: a.code,
            geometry: a.geometry,
            residents,
            postcodes: Vec::new(),
        })
        .collect();
    ring.sort_by(|a, b| a.code.cmp(&b.code));
    ring
}

/// The BNG envelope of some rectangles; `None` for none.
pub(super) fn envelope(rects: impl Iterator<Item = Rect<f64>>) -> Option<Rect<f64>> {
    rects.reduce(|a, b| {
        Rect::new(
            (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
            (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
        )
    })
}
