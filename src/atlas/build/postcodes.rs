//! Postcodes: the region's are placed in 2021 LSOAs (they are the access
//! origins); those the asset lists name are looked up wherever they are.

use std::collections::{HashMap, HashSet};

use super::{BuildError, Timer};
use crate::atlas::area::{Lsoa21, RingLsoa};
use crate::atlas::index::AreaIndex;
use crate::atlas::postcode::Postcode;
use crate::model::{Crs, DualPoint, PostcodeCode};
use crate::parallel::par_map;
use crate::sources::{Location, PostcodeRecord, PostcodeScan, SectorCentroid, SourceAssets};

/// Where the postcodes that asset rows give instead of a point are.
pub(super) struct AssetPostcodes {
    /// Postcodes found in the gazetteer, wherever they are.
    pub exact: HashMap<String, DualPoint>,
    /// Postcodes not in it (ended, or mistyped), by the centroid of their
    /// sector's current units; sectors without units are left out.
    pub sectors: HashMap<String, SectorCentroid>,
}

/// Positions of the postcodes that asset rows give instead of a point,
/// wherever they are in the gazetteer; those not in it fall back to their
/// sector's centroid (see [`crate::sources::SectorCentroid`]).
///
/// # Errors
/// When PROJ cannot transform a grid reference.
pub(super) fn locate_asset_postcodes(
    scan: &PostcodeScan,
    asset_reads: &[SourceAssets],
) -> Result<AssetPostcodes, BuildError> {
    let wanted: HashSet<String> = asset_reads
        .iter()
        .flat_map(|s| s.assets.iter())
        .filter_map(|a| match &a.location {
            Location::Postcode(p) => Some(p.clone()),
            _ => None,
        })
        .collect();
    let exact = scan.locate(wanted.iter().map(String::as_str))?;
    let mut sectors = HashMap::new();
    for code in wanted.iter().filter(|c| !exact.contains_key(*c)) {
        if let Some(centroid) = scan.sector_centroid(code)? {
            sectors.insert(code.clone(), centroid);
        }
    }
    Ok(AssetPostcodes { exact, sectors })
}

/// Where postcodes are placed: the region's 2021 LSOAs, then its ring's.
pub(super) struct Targets<'a> {
    /// The region's LSOAs.
    pub lsoa21: &'a [Lsoa21],
    /// Their envelope index.
    pub index: &'a AreaIndex,
    /// The ring's LSOAs (their postcode lists are filled here).
    pub ring: &'a mut [RingLsoa],
    /// Their envelope index.
    pub ring_index: &'a AreaIndex,
}

/// Places postcodes in 2021 LSOAs (timed as `postcodes/placed`): each in the
/// region LSOA that contains it, else the ring LSOA that does (its position
/// goes to that LSOA's list), else nowhere. `records` are the region's
/// postcodes by Code-Point district; `nearby` are the others near the
/// region ([`crate::sources::PostcodeScan::within`]). Returns the region's
/// placed postcodes sorted by code, and how many of `records` fell in no
/// region or ring LSOA.
///
/// # Errors
/// None in practice; the signature follows [`Timer::time`].
pub(super) fn place(
    records: Vec<PostcodeRecord>,
    nearby: Vec<PostcodeRecord>,
    targets: &mut Targets<'_>,
    timer: &Timer<'_>,
) -> Result<(Vec<Postcode>, usize), BuildError> {
    timer.time(
        "postcodes/placed",
        |p: &(Vec<Postcode>, usize)| p.0.len(),
        || Ok(place_in_lsoas(records, nearby, targets)),
    )
}

/// Places postcodes in LSOAs, using both cores.
fn place_in_lsoas(
    records: Vec<PostcodeRecord>,
    nearby: Vec<PostcodeRecord>,
    t: &mut Targets<'_>,
) -> (Vec<Postcode>, usize) {
    let from_region = records.len();
    // In code order, as an England-wide run places them, so that each
    // ring LSOA lists its postcodes in the same order.
    let mut all: Vec<(bool, PostcodeRecord)> = records
        .into_iter()
        .map(|r| (true, r))
        .chain(nearby.into_iter().map(|r| (false, r)))
        .collect();
    all.sort_by(|a, b| a.1.code.cmp(&b.1.code));
    let (lsoa21, index, ring_index) = (t.lsoa21, t.index, t.ring_index);
    let ring_geometry: Vec<&crate::model::DualPolygon> =
        t.ring.iter().map(|l| &l.geometry).collect();
    let placed = par_map(&all, |(_, r)| {
        let p = r.location.lonlat;
        if let Some(i) = index.containing(p, Crs::Crs84, |i| {
            lsoa21.get(i as usize).map(|l| &l.geometry)
        }) {
            return Some((true, i));
        }
        ring_index
            .containing(p, Crs::Crs84, |i| ring_geometry.get(i as usize).copied())
            .map(|i| (false, i))
    });
    let mut out = Vec::with_capacity(from_region);
    let mut outside = 0;
    for ((own, r), at) in all.into_iter().zip(placed) {
        match at {
            Some((true, l)) => out.push(Postcode {
                code: PostcodeCode::from_normalised(&r.code),
                location: r.location,
                lsoa21: l,
            }),
            Some((false, l)) => {
                if let Some(ring) = t.ring.get_mut(l as usize) {
                    ring.postcodes.push(r.location);
                }
            }
            None if own => outside += 1,
            None => {}
        }
    }
    (out, outside)
}
