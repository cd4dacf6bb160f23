//! Benchmarks for an area: the same deprivation figures for the districts
//! its LSOAs belong to, for the region, and for England (deciles are
//! national, so England's shares in the most deprived 10% / 20% of LSOAs
//! are 0.1 / 0.2 by definition; its scores are given only when England is
//! the loaded region). Access figures come from the start-up roll-ups.

use super::deprivation::{self, Deprivation};
use crate::analysis::apportion::LsoaShare;
use crate::analysis::rollup::AreaRollup;
use crate::analysis::Results;
use crate::atlas::Atlas;

/// What a benchmark is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BenchmarkKind {
    /// A district containing some of the area's LSOAs (2022 membership).
    District,
    /// The loaded region.
    Region,
    /// England (the region when `--region england`).
    England,
}

/// One benchmark.
#[derive(Debug, Clone)]
pub struct Benchmark {
    /// What it is.
    pub kind: BenchmarkKind,
    /// Code (district) or region id.
    pub code: String,
    /// Name.
    pub name: String,
    /// Census 2021 residents.
    pub residents: f64,
    /// IMD 2025.
    pub y2025: Deprivation,
    /// IMD 2019 carried onto 2021 LSOAs.
    pub y2019: Deprivation,
    /// Resident-weighted mean distance to the nearest asset per category
    /// (m), from the start-up roll-up.
    pub mean_distance_m: Vec<Option<f64>>,
}

fn of(
    atlas: &Atlas,
    results: &Results,
    kind: BenchmarkKind,
    (code, name): (String, String),
    lsoas: &[u32],
    rollup: Option<&AreaRollup>,
) -> Benchmark {
    let parts: Vec<(u32, f64)> = lsoas
        .iter()
        .map(|&i| (i, f64::from(atlas.residents(i))))
        .collect();
    Benchmark {
        kind,
        code,
        name,
        residents: parts.iter().map(|(_, r)| r).sum(),
        y2025: deprivation::year_2025(atlas, &parts),
        y2019: deprivation::year_2019(atlas, &results.analysis.imd2019, &parts),
        mean_distance_m: (0..atlas.categories.len())
            .map(|c| rollup.and_then(|r| r.categories.get(c)?.mean_distance_m))
            .collect(),
    }
}

/// The benchmarks of an area counting `shares`: its districts (in code
/// order), the region, and England when it is the region.
pub fn benchmarks(atlas: &Atlas, results: &Results, shares: &[LsoaShare]) -> Vec<Benchmark> {
    let mut districts: Vec<u32> = shares
        .iter()
        .filter_map(|s| atlas.lsoa21.get(s.lsoa as usize)?.district)
        .collect();
    districts.sort_unstable();
    districts.dedup();
    let mut out: Vec<Benchmark> = districts
        .into_iter()
        .filter_map(|d| {
            let district = atlas.districts.get(d as usize)?;
            Some(of(
                atlas,
                results,
                BenchmarkKind::District,
                (district.code.clone(), district.name.clone()),
                &district.lsoas,
                results.districts.get(d as usize),
            ))
        })
        .collect();
    let all: Vec<u32> = (0..atlas.lsoa21.len())
        .filter_map(|i| u32::try_from(i).ok())
        .collect();
    let kind = if atlas.region.id == "england" {
        BenchmarkKind::England
    } else {
        BenchmarkKind::Region
    };
    out.push(of(
        atlas,
        results,
        kind,
        (atlas.region.id.clone(), atlas.region.name.clone()),
        &all,
        Some(&results.region),
    ));
    out
}
