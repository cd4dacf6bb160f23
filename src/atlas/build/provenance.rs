//! What the atlas says about its sources: provenance and coverage of the
//! asset sources and area layers, and the shape of each deprivation release.

use crate::atlas::asset::{AssetSource, Coverage};
use crate::atlas::deprivation::{DeprivationRelease, IndicatorDef};
use crate::config::{
    AssetSourceConfig, AtlasConfig, CoverageConfig, DeprivationConfig, Provenance,
};

/// A source entry from its id, provenance and coverage.
fn provenance_source(id: &str, p: &Provenance, coverage: Coverage) -> AssetSource {
    AssetSource {
        id: id.to_owned(),
        title: p.title.clone(),
        publisher: p.publisher.clone(),
        vintage: p.vintage.clone(),
        licence: p.licence.clone(),
        attribution: p.attribution.clone(),
        coverage,
    }
}

/// The source entry of a configured asset source.
pub(super) fn asset_source(c: &AssetSourceConfig) -> AssetSource {
    provenance_source(&c.id, &c.provenance, coverage(c))
}

/// Where a configured asset source has data.
fn coverage(c: &AssetSourceConfig) -> Coverage {
    let description = c.coverage_note.clone();
    match &c.coverage {
        CoverageConfig::CodePrefix(prefix) => Coverage::CodePrefix {
            prefix: prefix.clone(),
            description,
        },
        CoverageConfig::Districts(codes) => Coverage::Districts {
            codes: codes.clone(),
            description,
        },
        CoverageConfig::Bbox(bbox) => Coverage::Bbox {
            bbox: *bbox,
            description,
        },
    }
}

/// Provenance of the area layers: boundaries, deprivation, population,
/// lookups and postcodes, all covering England.
pub(super) fn area_sources(cfg: &AtlasConfig) -> Vec<AssetSource> {
    let england = || Coverage::CodePrefix {
        prefix: "E".to_owned(),
        description: "England".to_owned(),
    };
    vec![
        provenance_source("lsoa21", &cfg.boundaries.lsoa21.provenance, england()),
        provenance_source("lsoa11", &cfg.boundaries.lsoa11.provenance, england()),
        provenance_source("wards", &cfg.boundaries.wards.provenance, england()),
        provenance_source("districts", &cfg.boundaries.districts.provenance, england()),
        provenance_source("imd2025", &cfg.imd2025.provenance, england()),
        provenance_source("imd2019", &cfg.imd2019.provenance, england()),
        provenance_source("population", &cfg.population.provenance, england()),
        provenance_source("lookups", &cfg.lookups.provenance, england()),
        provenance_source("postcodes", &cfg.postcodes.provenance, england()),
    ]
    .into_iter()
    .chain(cfg.district_summaries.iter().map(|s| {
        provenance_source(
            &format!("district_summaries_{}", s.year),
            &s.provenance,
            england(),
        )
    }))
    .collect()
}

/// A deprivation release's shape (year, indicators, attribution) on the
/// given geography (`lsoa21` or `lsoa11`), with its decile score ranges.
pub(super) fn release(
    c: &DeprivationConfig,
    geography: &str,
    decile_floors: Vec<Option<[f64; 9]>>,
) -> DeprivationRelease {
    DeprivationRelease {
        year: c.year,
        title: c.provenance.title.clone(),
        geography: geography.to_owned(),
        areas_ranked: c.areas_ranked,
        indicators: c
            .indicators
            .iter()
            .map(|i| IndicatorDef {
                id: i.id.clone(),
                label: i.label.clone(),
                kind: i.kind.clone(),
            })
            .collect(),
        attribution: c.provenance.attribution.clone(),
        decile_floors,
    }
}
