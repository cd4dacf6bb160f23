//! Priority areas: wards containing LSOAs in the most deprived deciles.
//!
//! - **2025**: IMD 2025 deciles of 2021 LSOAs, grouped by the ONS 2024
//!   best-fit ward (codes and names); residents are Census 2021.
//! - **2019**: IMD 2019 deciles of 2011 LSOAs, grouped by the ONS 2017
//!   best-fit ward (IoD2019's ward geography). ONS publishes no names with
//!   that lookup, so 2019 wards carry codes only; residents are the mid-2015
//!   populations IoD2019 used; the district is the 2011 LSOA's district in
//!   the 2022 lookup.
//!
//! Wards are sorted by the number of qualifying LSOAs, then residents (both
//! descending), then code.

use std::collections::BTreeMap;

use crate::atlas::Atlas;

/// A ward containing deprived LSOAs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PriorityWard {
    /// Ward code (2024 for 2025; 2017 for 2019).
    pub ward_code: String,
    /// Ward name (`None` for 2017 wards: no names published).
    pub ward_name: Option<String>,
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
        let e = by_ward.entry(code.clone()).or_insert_with(|| PriorityWard {
            ward_code: code,
            ward_name: None,
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
