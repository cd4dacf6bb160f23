//! Range checks on the numeric settings, run while the TOML is deserialised
//! so that the error carries the value's position (file, line and column).

use serde::de::{Deserializer, Error};
use serde::Deserialize;

/// The largest `edge_buffer_m` accepted, in metres. Assets this far outside
/// a region are kept because residents near the edge use them; the widest
/// access band is 5 km, and beyond 100 km the "region" would be most of a
/// neighbouring one.
pub const MAX_EDGE_BUFFER_M: f64 = 100_000.0;

/// The largest `dedupe_within_m` accepted, in metres. Two listings of one
/// place lie metres apart; a radius of kilometres would merge distinct
/// assets of a category across a whole town.
pub const MAX_DEDUPE_WITHIN_M: f64 = 5_000.0;

/// The years a deprivation release may carry.
pub const RELEASE_YEARS: std::ops::RangeInclusive<u16> = 2000..=2100;

/// The largest 1-based column position accepted in the postcode files.
pub const MAX_POSITION: usize = 1_000;

fn metres<'de, D: Deserializer<'de>>(
    deserializer: D,
    key: &str,
    max: f64,
) -> Result<f64, D::Error> {
    let v = f64::deserialize(deserializer)?;
    if v.is_finite() && (0.0..=max).contains(&v) {
        Ok(v)
    } else {
        Err(D::Error::custom(format!(
            "{key} = {v} is out of range: expected metres from 0 to {max}"
        )))
    }
}

/// `edge_buffer_m`: metres, `0..=MAX_EDGE_BUFFER_M`.
pub(super) fn edge_buffer_m<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    metres(d, "edge_buffer_m", MAX_EDGE_BUFFER_M)
}

/// `dedupe_within_m`: metres, `0..=MAX_DEDUPE_WITHIN_M` (absent = no de-duplication).
pub(super) fn dedupe_within_m<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    metres(d, "dedupe_within_m", MAX_DEDUPE_WITHIN_M).map(Some)
}

/// `year` of a deprivation release: `RELEASE_YEARS`.
pub(super) fn year<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    let v = i64::deserialize(d)?;
    u16::try_from(v)
        .ok()
        .filter(|y| RELEASE_YEARS.contains(y))
        .ok_or_else(|| {
            D::Error::custom(format!(
                "year = {v} is out of range: expected {} to {}",
                RELEASE_YEARS.start(),
                RELEASE_YEARS.end()
            ))
        })
}

/// `areas_ranked`: at least 1 (it is the denominator of every rank shown).
pub(super) fn areas_ranked<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = i64::deserialize(d)?;
    u32::try_from(v).ok().filter(|n| *n >= 1).ok_or_else(|| {
        D::Error::custom(format!(
            "areas_ranked = {v} is out of range: expected a whole number from 1 to {}",
            u32::MAX
        ))
    })
}

/// A 1-based column position in the postcode files: `1..=MAX_POSITION`.
pub(super) fn position<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    let v = i64::deserialize(d)?;
    usize::try_from(v)
        .ok()
        .filter(|p| (1..=MAX_POSITION).contains(p))
        .ok_or_else(|| {
            D::Error::custom(format!(
                "column position {v} is out of range: positions are 1-based, from 1 to {MAX_POSITION}"
            ))
        })
}

/// A coverage box `[min_lon, min_lat, max_lon, max_lat]` in degrees:
/// longitudes within ±180, latitudes within ±90, each minimum below its
/// maximum.
pub(super) fn bbox<'de, D: Deserializer<'de>>(d: D) -> Result<[f64; 4], D::Error> {
    let b = <[f64; 4]>::deserialize(d)?;
    let [x0, y0, x1, y1] = b;
    let lon = |x: f64| (-180.0..=180.0).contains(&x);
    let lat = |y: f64| (-90.0..=90.0).contains(&y);
    if lon(x0) && lon(x1) && lat(y0) && lat(y1) && x0 < x1 && y0 < y1 {
        Ok(b)
    } else {
        Err(D::Error::custom(format!(
            "bbox = [{x0}, {y0}, {x1}, {y1}] is invalid: expected [min_lon, min_lat, max_lon, max_lat] in degrees, longitudes within ±180, latitudes within ±90, each minimum below its maximum"
        )))
    }
}
