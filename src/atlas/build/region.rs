//! Which 2021 LSOAs, wards, districts and 2011 LSOAs belong to the region,
//! decided from the lookups before any boundary is read.

use std::collections::HashSet;

use super::{BuildError, LoadRequest, Timer};
use crate::config::RegionConfig;
use crate::sources::tables::{self, LsoaChangeRow, WardLookupRow};

/// The region's membership test on lookup rows.
#[derive(Clone, Copy)]
pub(super) struct InRegion<'a>(pub &'a RegionConfig);

impl InRegion<'_> {
    /// Whether a lookup row with this district and LSOA code is in the
    /// region: by district when the region lists districts, otherwise by the
    /// LSOA code prefix (a region with neither matches nothing).
    pub fn contains(self, district: &str, lsoa: &str) -> bool {
        let region = self.0;
        if region.districts.is_empty() {
            region
                .lsoa_code_prefix
                .as_deref()
                .is_some_and(|p| lsoa.starts_with(p))
        } else {
            region.districts.iter().any(|d| d == district)
        }
    }
}

/// Reads the 2021 LSOA → 2024 ward → district lookup (every row, England-wide).
///
/// # Errors
/// When the lookup cannot be read.
pub(super) fn read_ward_lookup(
    req: &LoadRequest<'_>,
    timer: &Timer<'_>,
) -> Result<Vec<WardLookupRow>, BuildError> {
    let cfg = req.config;
    timer.time("lookups/lsoa21_ward_district", Vec::len, || {
        Ok(tables::read_ward_lookup(
            req.data_dir,
            &cfg.lookups.lsoa21_ward_district,
        )?)
    })
}

/// Reads the 2011 → 2021 LSOA change lookup (every row, England-wide).
///
/// # Errors
/// When the lookup cannot be read.
pub(super) fn read_lsoa_changes(
    req: &LoadRequest<'_>,
    timer: &Timer<'_>,
) -> Result<Vec<LsoaChangeRow>, BuildError> {
    let cfg = req.config;
    timer.time("lookups/lsoa11_lsoa21", Vec::len, || {
        Ok(tables::read_lsoa_changes(
            req.data_dir,
            &cfg.lookups.lsoa11_lsoa21,
        )?)
    })
}

/// The region's rows of the ward lookup and the codes they name.
pub(super) struct Members<'a> {
    /// Ward lookup rows in the region, in file order.
    pub rows: Vec<&'a WardLookupRow>,
    /// 2021 LSOA codes.
    pub lsoa21: HashSet<&'a str>,
    /// 2024 ward codes.
    pub wards: HashSet<&'a str>,
    /// Every ward code the lookup names, England-wide: a boundary-file ward
    /// outside this set has no best-fit LSOA anywhere.
    pub lookup_wards: HashSet<&'a str>,
    /// District codes.
    pub districts: HashSet<&'a str>,
    /// Every district code of the ward lookup, England-wide (the 2024 set).
    pub all_districts: HashSet<&'a str>,
}

impl<'a> Members<'a> {
    /// The rows of `ward_rows` that are in the region, and their codes.
    ///
    /// # Errors
    /// [`BuildError::Join`] when no row is in the region.
    pub fn of(
        ward_rows: &'a [WardLookupRow],
        in_region: InRegion<'_>,
        req: &LoadRequest<'_>,
    ) -> Result<Self, BuildError> {
        let rows: Vec<&WardLookupRow> = ward_rows
            .iter()
            .filter(|r| in_region.contains(&r.district_code, &r.lsoa))
            .collect();
        if rows.is_empty() {
            return Err(BuildError::Join(format!(
                "region '{}' matches no LSOA in {}",
                req.region, req.config.lookups.lsoa21_ward_district.table.path
            )));
        }
        Ok(Self {
            lsoa21: rows.iter().map(|r| r.lsoa.as_str()).collect(),
            wards: rows.iter().map(|r| r.ward_code.as_str()).collect(),
            districts: rows.iter().map(|r| r.district_code.as_str()).collect(),
            all_districts: ward_rows.iter().map(|r| r.district_code.as_str()).collect(),
            lookup_wards: ward_rows.iter().map(|r| r.ward_code.as_str()).collect(),
            rows,
        })
    }
}

/// Codes of the 2011 LSOAs in the region.
///
/// Each vintage keeps its own geography: a 2011 LSOA belongs to the region
/// through its own district in the 2022 lookup (E01027305 is in West
/// Northamptonshire there, but best-fits a Cherwell ward in 2024).
pub(super) fn lsoa11_codes<'a>(
    changes: &'a [LsoaChangeRow],
    in_region: InRegion<'_>,
) -> HashSet<&'a str> {
    changes
        .iter()
        .filter(|c| in_region.contains(&c.district_code, &c.lsoa11))
        .map(|c| c.lsoa11.as_str())
        .collect()
}

/// Codes of the 2011 LSOAs outside the region that a region 2021 LSOA
/// derives from (E01027305's own 2011 parent, in West Northamptonshire in
/// the 2022 lookup). They are loaded, flagged outside the region, so that
/// IMD 2019 carried onto every region 2021 LSOA is the England-wide figure.
pub(super) fn lsoa11_parents<'a>(
    changes: &'a [LsoaChangeRow],
    lsoa21: &HashSet<&str>,
    in_region: &HashSet<&str>,
) -> HashSet<&'a str> {
    changes
        .iter()
        .filter(|c| lsoa21.contains(c.lsoa21.as_str()) && !in_region.contains(c.lsoa11.as_str()))
        .map(|c| c.lsoa11.as_str())
        .collect()
}
