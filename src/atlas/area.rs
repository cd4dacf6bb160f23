//! Small areas and the administrative geographies above them.

use crate::model::DualPolygon;
use crate::model::{ChangeCode, IndicatorValue, RuralUrban};

/// Index of an area within its vector in the [`crate::atlas::Atlas`].
pub type AreaIdx = u32;

/// A 2021 Lower Layer Super Output Area with IMD 2025 and Census 2021 data.
#[derive(Debug, Clone, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct Lsoa21 {
    /// ONS code, e.g. `E01028513`.
    pub code: String,
    /// ONS name, e.g. `Oxford 005A`.
    pub name: String,
    /// Boundary (generalised, clipped to the coastline).
    pub geometry: DualPolygon,
    /// IMD 2025 values, in the order of the release's indicators; empty when the
    /// release does not cover the area.
    pub imd: Vec<IndicatorValue>,
    /// Census 2021 usual residents.
    pub residents: Option<u32>,
    /// Rural/urban classification 2021.
    pub rural_urban: Option<RuralUrban>,
    /// Best-fit 2024 ward.
    pub ward: Option<AreaIdx>,
    /// Local authority district (2024).
    pub district: Option<AreaIdx>,
    /// The 2011 LSOAs this area derives from, with the change code.
    pub lsoa11: Vec<(AreaIdx, ChangeCode)>,
    /// The 2011 LSOAs outside the region (by their own 2022 district) this
    /// area derives from, indexing [`Ring::lsoa11`]: E01027305 best-fits a
    /// Cherwell ward, but its 2011 parent is in West Northamptonshire. They
    /// carry IMD 2019 onto the area as an England-wide run does.
    pub lsoa11_outside: Vec<(AreaIdx, ChangeCode)>,
}

/// A 2011 LSOA with IMD 2019 data.
#[derive(Debug, Clone, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct Lsoa11 {
    /// ONS code.
    pub code: String,
    /// ONS name.
    pub name: String,
    /// Boundary.
    pub geometry: DualPolygon,
    /// IMD 2019 values, in the order of the release's indicators.
    pub imd: Vec<IndicatorValue>,
    /// Mid-2015 population used as the IoD2019 denominator.
    pub population_2015: Option<u32>,
    /// Best-fit 2017 ward code (IoD2019's ward geography; no names published).
    pub ward17: Option<String>,
    /// District code in the 2022 lookup.
    pub district_code: Option<String>,
    /// The 2021 LSOAs this area maps to, with the change code.
    pub lsoa21: Vec<(AreaIdx, ChangeCode)>,
}

/// A 2021 LSOA just outside the region, loaded only as context for the
/// region's figures: its residents compete for the same assets (2SFCA
/// demand). Never served.
#[derive(Debug, Clone, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct RingLsoa {
    /// ONS code.
    pub code: String,
    /// Boundary.
    pub geometry: DualPolygon,
    /// Census 2021 usual residents.
    pub residents: Option<u32>,
    /// Positions of the Code-Point Open postcode units placed in it, in
    /// postcode order.
    pub postcodes: Vec<crate::model::DualPoint>,
}

/// The ring of LSOAs around the region (see [`RingLsoa`]).
#[derive(Debug, Clone, Default, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct Ring {
    /// How far (BNG metres) the ring reaches beyond the region's LSOAs: every
    /// LSOA whose envelope comes this close to a region LSOA's envelope is in
    /// it. 2SFCA demand is complete for catchments up to half of this.
    pub reach_m: f64,
    /// The LSOAs, sorted by code.
    pub lsoas: Vec<RingLsoa>,
    /// 2011 LSOAs outside the region that a region 2021 LSOA derives from
    /// ([`Lsoa21::lsoa11_outside`]), sorted by code. Never served.
    pub lsoa11: Vec<Lsoa11>,
}

/// An electoral ward (2024 codes and names).
#[derive(Debug, Clone, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct Ward {
    /// 2024 ward code.
    pub code: String,
    /// 2024 ward name.
    pub name: String,
    /// District the ward lies in.
    pub district: Option<AreaIdx>,
    /// Boundary from the nearest published ward set, if any.
    pub geometry: Option<DualPolygon>,
    /// Where the boundary came from (e.g. "December 2022 ward E05012853, recoded in 2024").
    pub geometry_note: String,
    /// 2021 LSOAs assigned to the ward by the best-fit lookup.
    pub lsoas: Vec<AreaIdx>,
}

/// A local authority district (2024).
#[derive(Debug, Clone, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct District {
    /// e.g. `E07000178`.
    pub code: String,
    /// e.g. `Oxford`.
    pub name: String,
    /// Boundary.
    pub geometry: DualPolygon,
    /// Wards in the district.
    pub wards: Vec<AreaIdx>,
    /// 2021 LSOAs in the district.
    pub lsoas: Vec<AreaIdx>,
}

/// Official district summaries (MHCLG IoD File 10) of the region's
/// districts: the headline district figures, as published.
#[derive(Debug, Clone, Default, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct OfficialSummaries {
    /// District code → `(property, value)` pairs, every configured release
    /// in turn (`official_2025_imd_average_score`, ...).
    pub figures: std::collections::HashMap<String, Vec<(String, f64)>>,
    /// Ids of the area sources (provenance) they come from.
    pub sources: Vec<String>,
}
