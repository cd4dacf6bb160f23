//! Priority areas: wards containing LSOAs in the most deprived deciles.
//!
//! - **2025**: IMD 2025 deciles of 2021 LSOAs, grouped by the ONS 2024
//!   best-fit ward (codes and names); residents are Census 2021.
//! - **2019**: IMD 2019 deciles of 2011 LSOAs, grouped by the ONS 2017
//!   best-fit ward (IoD2019's ward geography). ONS publishes no names with
//!   that lookup; a 2017 code still in use in 2024 names the same ward
//!   (ONS codes change when boundaries do), so it takes the 2024 name, saying
//!   so in `ward_name_source`; other 2017 wards carry codes only. Residents are the mid-2015
//!   populations IoD2019 used; the district is the 2011 LSOA's district in
//!   the 2022 lookup.
//!
//! Wards are sorted by the number of qualifying LSOAs, then residents (both
//! descending), then code.

use std::collections::BTreeMap;

use crate::atlas::Atlas;

/// `ward_name_source` of a 2024 ward.
pub const NAME_2024: &str = "ONS 2024 best-fit lookup";
/// `ward_name_source` of a 2017 ward whose code is unchanged in 2024.
pub const NAME_2017_SAME_CODE: &str =
    "2024 name of the same ward code: the 2017 code is unchanged in the 2024 lookup (ONS publishes no names with the 2017 lookup)";
/// `ward_name_source` of a 2017 ward whose code was replaced by 2024.
pub const NAME_2017_NONE: &str =
    "none: ONS publishes no names with the 2017 lookup and the code was replaced by 2024 (boundary change)";

/// A ward containing deprived LSOAs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PriorityWard {
    /// Ward code (2024 for 2025; 2017 for 2019).
    pub ward_code: String,
    /// Ward name (for a 2017 ward: the 2024 name of the same code, when the
    /// code is unchanged; otherwise `None`, as no 2017 names are published).
    pub ward_name: Option<String>,
    /// Where the name comes from.
    pub ward_name_source: &'static str,
    /// District code.
    pub district_code: Option<String>,
    /// District name.
    pub district_name: Option<String>,
    /// Qualifying LSOA codes (2021 for 2025; 2011 for 2019), sorted.
    pub lsoas: Vec<String>,
    /// Residents of the qualifying LSOAs (Census 2021 for 2025; mid-2015 for 2019).
    pub residents: u64,
}

/// Wards with LSOAs whose decile on `indicator` is at most `max_decile`, for 2025.
pub fn wards_2025(atlas: &Atlas, indicator: &str, max_decile: u8) -> Vec<PriorityWard> {
    let Some(k) = atlas.imd2025.position(indicator) else {
        return Vec::new();
    };
    let mut by_ward: BTreeMap<String, PriorityWard> = BTreeMap::new();
    for l in atlas.lsoa21.iter() {
        let Some(d) = l.imd.get(k).and_then(|v| v.decile) else {
            continue;
        };
        if d > max_decile {
            continue;
        }
        let ward = atlas.ward_of(l);
        let district = atlas.district_of(l);
        let code = ward.map_or_else(|| "unknown".to_owned(), |w| w.code.clone());
        let e = by_ward.entry(code.clone()).or_insert_with(|| PriorityWard {
            ward_code: code,
            ward_name: ward.map(|w| w.name.clone()),
            ward_name_source: NAME_2024,
            district_code: district.map(|d| d.code.clone()),
            district_name: district.map(|d| d.name.clone()),
            lsoas: Vec::new(),
            residents: 0,
        });
        e.lsoas.push(l.code.clone());
        e.residents += u64::from(l.residents.unwrap_or(0));
    }
    finish(by_ward)
}

/// Wards (2017 best-fit) with 2011 LSOAs whose IMD 2019 decile on
/// `indicator` is at most `max_decile`.
pub fn wards_2019(atlas: &Atlas, indicator: &str, max_decile: u8) -> Vec<PriorityWard> {
    let Some(k) = atlas.imd2019.position(indicator) else {
        return Vec::new();
    };
    let mut by_ward: BTreeMap<String, PriorityWard> = BTreeMap::new();
    for l in atlas.lsoa11.iter() {
        let Some(d) = l.imd.get(k).and_then(|v| v.decile) else {
            continue;
        };
        if d > max_decile {
            continue;
        }
        let code = l.ward17.clone().unwrap_or_else(|| "unknown".to_owned());
        let district = l
            .district_code
            .as_deref()
            .and_then(|c| atlas.district_by_code(c))
            .map(|(_, d)| d);
        let same_code = atlas.ward_by_code(&code).map(|(_, w)| w.name.clone());
        let e = by_ward.entry(code.clone()).or_insert_with(|| PriorityWard {
            ward_code: code,
            ward_name_source: if same_code.is_some() {
                NAME_2017_SAME_CODE
            } else {
                NAME_2017_NONE
            },
            ward_name: same_code,
            district_code: l.district_code.clone(),
            district_name: district.map(|d| d.name.clone()),
            lsoas: Vec::new(),
            residents: 0,
        });
        e.lsoas.push(l.code.clone());
        e.residents += u64::from(l.population_2015.unwrap_or(0));
    }
    finish(by_ward)
}

fn finish(by_ward: BTreeMap<String, PriorityWard>) -> Vec<PriorityWard> {
    let mut v: Vec<PriorityWard> = by_ward
        .into_values()
        .map(|mut w| {
            w.lsoas.sort();
            w
        })
        .collect();
    v.sort_by(|a, b| {
        b.lsoas
            .len()
            .cmp(&a.lsoas.len())
            .then(b.residents.cmp(&a.residents))
            .then_with(|| a.ward_code.cmp(&b.ward_code))
    });
    v
}
