//! Postcodes: the region's are placed in 2021 LSOAs (they are the access
//! origins); those the asset lists name are looked up wherever they are.

use std::collections::{HashMap, HashSet};

use super::{BuildError, Timer};
use crate::atlas::area::Lsoa21;
use crate::atlas::index::AreaIndex;
use crate::atlas::postcode::Postcode;
use crate::model::{Crs, DualPoint};
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

/// Places the region's postcodes in 2021 LSOAs (timed as `postcodes/placed`):
/// the placed postcodes, in input order, and how many fell in no LSOA.
///
/// # Errors
/// None in practice; the signature follows [`Timer::time`].
pub(super) fn place(
    records: Vec<PostcodeRecord>,
    index: &AreaIndex,
    lsoa21: &[Lsoa21],
    timer: &Timer<'_>,
) -> Result<(Vec<Postcode>, usize), BuildError> {
    timer.time(
        "postcodes/placed",
        |p: &(Vec<Postcode>, usize)| p.0.len(),
        || Ok(place_in_lsoas(records, index, lsoa21)),
    )
}

/// Places postcodes in LSOAs, using both cores.
fn place_in_lsoas(
    records: Vec<PostcodeRecord>,
    index: &AreaIndex,
    lsoa21: &[Lsoa21],
) -> (Vec<Postcode>, usize) {
    let geometry = |i: u32| lsoa21.get(i as usize).map(|l| &l.geometry);
    let placed = par_map(&records, |r| {
        index.containing(r.location.lonlat, Crs::Crs84, geometry)
    });
    let mut out = Vec::with_capacity(records.len());
    let mut outside = 0;
    for (r, lsoa) in records.into_iter().zip(placed) {
        match lsoa {
            Some(l) => out.push(Postcode {
                code: r.code,
                location: r.location,
                lsoa21: l,
            }),
            None => outside += 1,
        }
    }
    (out, outside)
}
