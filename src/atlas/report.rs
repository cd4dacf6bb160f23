//! What happened while the atlas was loaded: timings, counts and every row that
//! could not be used, so that nothing is dropped silently.

use std::time::Duration;

use serde::Serialize;

/// A row that could not be placed on the map.
#[derive(Debug, Clone, Serialize, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct Unplaced {
    /// Source id.
    pub source: String,
    /// 1-based data row in the source file.
    pub row: u64,
    /// Asset name, where given.
    pub name: String,
    /// Why: e.g. "postcode OX1 9ZZ not in Code-Point Open".
    pub reason: String,
}

/// An asset kept at an approximate position: its postcode is not in the
/// gazetteer (ended), so it stands at its postcode sector's centroid.
#[derive(Debug, Clone, Serialize, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct Approximated {
    /// Source id.
    pub source: String,
    /// 1-based data row in the source file.
    pub row: u64,
    /// The asset's id in the atlas.
    pub asset_id: String,
    /// Asset name.
    pub name: String,
    /// The postcode the source gives.
    pub postcode: String,
    /// The sector whose centroid was used, e.g. `OX11 7`.
    pub sector: String,
    /// Current units in that sector.
    pub sector_units: usize,
    /// Largest distance (m, British National Grid) from the centroid to one of the sector's units.
    pub spread_m: f64,
    /// The precision, in words (also on the asset).
    pub precision: String,
}

/// Time spent on one step of the load.
#[derive(Debug, Clone, Serialize, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct StepTiming {
    /// Step, e.g. "boundaries/lsoa21".
    pub step: String,
    /// Records read.
    pub records: usize,
    /// Wall-clock time.
    #[serde(with = "duration_ms")]
    #[borsh(
        serialize_with = "duration_borsh::serialize",
        deserialize_with = "duration_borsh::deserialize"
    )]
    pub elapsed: Duration,
}

/// Everything `gapmap check` reports about a load.
#[derive(Debug, Clone, Default, Serialize, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct LoadReport {
    /// Per-step timings, in order.
    pub steps: Vec<StepTiming>,
    /// Total wall-clock load time.
    #[serde(with = "duration_ms")]
    #[borsh(
        serialize_with = "duration_borsh::serialize",
        deserialize_with = "duration_borsh::deserialize"
    )]
    pub total: Duration,
    /// Asset rows that could not be geocoded or located.
    pub unplaced: Vec<Unplaced>,
    /// Assets kept (in or near the region) at an approximate position.
    pub approximated: Vec<Approximated>,
    /// Asset rows skipped by a source's filters (closed, not a GP practice...), per source.
    pub filtered_out: Vec<(String, usize)>,
    /// Assets dropped as duplicates of an asset from an earlier source, per source.
    pub duplicates: Vec<(String, usize)>,
    /// Assets read but lying beyond the region's edge buffer, per source.
    pub beyond_region: Vec<(String, usize)>,
    /// Region postcodes that fell in no region LSOA (e.g. on a generalised coastline).
    pub postcodes_outside_lsoas: usize,
}

mod duration_ms {
    use serde::Serializer;
    use std::time::Duration;

    #[allow(clippy::trivially_copy_pass_by_ref)] // serde's `with` passes a reference
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64() * 1000.0)
    }
}

/// A duration in the prepared atlas: seconds, then nanoseconds.
mod duration_borsh {
    use borsh::io::{Read, Result, Write};
    use borsh::{BorshDeserialize, BorshSerialize};
    use std::time::Duration;

    pub fn serialize<W: Write>(d: &Duration, w: &mut W) -> Result<()> {
        d.as_secs().serialize(w)?;
        d.subsec_nanos().serialize(w)
    }

    pub fn deserialize<R: Read>(r: &mut R) -> Result<Duration> {
        let secs = u64::deserialize_reader(r)?;
        let nanos = u32::deserialize_reader(r)?;
        Ok(Duration::new(secs, nanos.min(999_999_999)))
    }
}
