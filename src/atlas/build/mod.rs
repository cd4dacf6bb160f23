//! Builds the atlas: reads every configured source (in parallel where they are
//! independent), restricts them to the region, joins them by code, geocodes
//! assets, places assets and postcodes in LSOAs, and builds the indexes.
//!
//! [`load`] is the recipe; each step lives in its own module:
//! [`region`] (which areas belong to the region), [`read`] (the independent
//! reads), [`areas`] (joining areas by code), [`postcodes`] (placing the
//! gazetteer), [`assets`] (geocoding, placing and de-duplicating assets) and
//! [`provenance`] (what the atlas says about its sources).

mod areas;
mod assets;
mod dedupe;
mod postcodes;
mod provenance;
mod read;
mod region;
mod ring;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::area::AreaIdx;
use super::report::{LoadReport, StepTiming};
use super::{Atlas, AtlasParts, RegionInfo};
use crate::config::{AtlasConfig, ConfigError};
use crate::sources::SourceError;

/// Why the atlas could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The definition is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A source could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The sources do not join up.
    #[error("{0}")]
    Join(String),
}

/// Receives progress while the atlas loads (the CLI draws it).
pub trait LoadObserver: Sync {
    /// A step finished.
    fn step_done(&self, _step: &str, _records: usize, _elapsed: Duration) {}
    /// Progress through the postcode files.
    fn postcode_files(&self, _done: usize, _total: usize) {}
}

/// An observer that ignores everything.
pub struct Quiet;
impl LoadObserver for Quiet {}

/// Where to load from and what.
#[derive(Debug, Clone)]
pub struct LoadRequest<'a> {
    /// Atlas definition.
    pub config: &'a AtlasConfig,
    /// Data directory that paths are relative to.
    pub data_dir: &'a Path,
    /// Region name (a key of `[regions]`).
    pub region: &'a str,
}

/// Times the steps of a load, tells the observer, and keeps the timings for
/// the [`LoadReport`]. Shared by the parallel readers.
struct Timer<'a> {
    steps: std::sync::Mutex<Vec<StepTiming>>,
    observer: &'a dyn LoadObserver,
}

impl<'a> Timer<'a> {
    /// A timer with no steps yet.
    fn new(observer: &'a dyn LoadObserver) -> Self {
        Self {
            steps: std::sync::Mutex::new(Vec::new()),
            observer,
        }
    }

    /// Runs `f` as the step `step`, recording its wall time and the number
    /// of records `count` finds in its result. Failed steps are not recorded.
    fn time<T>(
        &self,
        step: &str,
        count: impl Fn(&T) -> usize,
        f: impl FnOnce() -> Result<T, BuildError>,
    ) -> Result<T, BuildError> {
        let start = Instant::now();
        let value = f()?;
        let elapsed = start.elapsed();
        let records = count(&value);
        self.observer.step_done(step, records, elapsed);
        if let Ok(mut s) = self.steps.lock() {
            s.push(StepTiming {
                step: step.to_owned(),
                records,
                elapsed,
            });
        }
        Ok(value)
    }

    /// The recorded steps, in the order they finished.
    fn into_steps(self) -> Vec<StepTiming> {
        self.steps.into_inner().unwrap_or_default()
    }
}

/// A position as an [`AreaIdx`] (saturating: the atlas never holds that many).
fn to_idx(i: usize) -> AreaIdx {
    AreaIdx::try_from(i).unwrap_or(AreaIdx::MAX)
}

/// Loads and joins everything.
///
/// # Errors
/// A missing or malformed source, or a region that matches nothing.
pub fn load(req: &LoadRequest<'_>, observer: &dyn LoadObserver) -> Result<Atlas, BuildError> {
    let started = Instant::now();
    let cfg = req.config;
    let region_cfg = cfg.region(req.region)?;
    let timer = Timer::new(observer);
    let in_region = region::InRegion(region_cfg);

    // 1. Lookups decide which areas belong to the region.
    let ward_rows = region::read_ward_lookup(req, &timer)?;
    let members = region::Members::of(&ward_rows, in_region, req)?;
    let changes = region::read_lsoa_changes(req, &timer)?;
    let lsoa11_codes = region::lsoa11_codes(&changes, in_region);
    // 2011 LSOAs outside the region that a region 2021 LSOA derives from
    // are read too (flagged), so IMD 2019 carries over as England-wide.
    let mut lsoa11_read = region::lsoa11_parents(&changes, &members.lsoa21, &lsoa11_codes);
    lsoa11_read.extend(lsoa11_codes.iter().copied());

    // 2. Independent reads, in parallel (with the ring around the region).
    let mut reads = read::read_all(
        req,
        &timer,
        in_region,
        &members,
        &ward_rows,
        &lsoa11_read,
        ring::REACH_M,
    )?;
    validate_coverage(
        req,
        &timer,
        &members,
        &lsoa11_codes,
        &ward_rows,
        &changes,
        &reads,
    )?;

    // The decile score ranges come from the whole national tables, before
    // the join keeps only the region's rows.
    let floors2025 = crate::atlas::deprivation::decile_floors(
        cfg.imd2025.indicators.len(),
        reads.areas.imd2025.values.values().map(Vec::as_slice),
    );
    let floors2019 = crate::atlas::deprivation::decile_floors(
        cfg.imd2019.indicators.len(),
        reads.areas.imd2019.values.values().map(Vec::as_slice),
    );

    // 3. Districts, wards, LSOAs, joined by code; the ring's LSOAs.
    let ring_raw: Vec<_> = std::mem::take(&mut reads.areas.ring_lsoa21)
        .into_iter()
        .map(|a| {
            let residents = reads.areas.population.get(&a.code).copied();
            (a, residents)
        })
        .collect();
    let areas = areas::join(reads.areas, &members, &changes, &lsoa11_codes);
    let lsoa21_index = areas::lsoa21_index(&areas, &timer)?;
    let mut ring_lsoas = ring::select(ring_raw, &lsoa21_index, ring::REACH_M);
    let ring_index = crate::atlas::AreaIndex::build(
        ring_lsoas
            .iter()
            .enumerate()
            .map(|(i, l)| (to_idx(i), &l.geometry)),
    );

    // 4. Postcodes: every unit in a region LSOA (the access origins) or a
    // ring LSOA (2SFCA demand), whatever district Code-Point files it
    // under; those the asset lists name are looked up anywhere.
    let found = postcodes::locate_asset_postcodes(&reads.postcodes, &reads.assets)?;
    let nearby = match ring::envelope(
        areas
            .lsoa21
            .iter()
            .map(|l| l.geometry.bng_bbox)
            .chain(ring_lsoas.iter().map(|l| l.geometry.bng_bbox)),
    ) {
        Some(bbox) => reads.postcodes.within(bbox, ring::country(&members))?,
        None => Vec::new(),
    };
    let (postcodes, postcodes_outside_lsoas) = postcodes::place(
        reads.postcodes.region,
        nearby,
        &mut postcodes::Targets {
            lsoa21: &areas.lsoa21,
            index: &lsoa21_index,
            ring: &mut ring_lsoas,
            ring_index: &ring_index,
        },
        &timer,
    )?;

    // 5. Assets: geocode, place, keep those in or near the region, dedupe.
    let mut report = LoadReport::default();
    let placed = assets::place_all(
        cfg,
        reads.assets,
        &found,
        &areas.lsoa21,
        &lsoa21_index,
        region_cfg.edge_buffer_m,
        &mut report,
    );
    // 6. Provenance, the load report, and the atlas assembled from its
    // parts (as a prepared atlas is, see `parts`).
    let district_summaries = official_summaries(req, &areas.districts, &timer)?;
    report.postcodes_outside_lsoas = postcodes_outside_lsoas;
    let parts = AtlasParts {
        region: RegionInfo {
            id: req.region.to_owned(),
            name: region_cfg.name.clone(),
            edge_buffer_m: region_cfg.edge_buffer_m,
        },
        lsoa21: Arc::new(areas.lsoa21),
        lsoa11: Arc::new(areas.lsoa11),
        wards: Arc::new(areas.wards),
        districts: Arc::new(areas.districts),
        district_summaries: Arc::new(district_summaries),
        imd2025: Arc::new(provenance::release(&cfg.imd2025, "lsoa21", floors2025)),
        imd2019: Arc::new(provenance::release(&cfg.imd2019, "lsoa11", floors2019)),
        categories: placed.categories,
        sources: placed.sources,
        assets: placed.assets,
        postcodes: Arc::new(postcodes),
        ring: Arc::new(super::Ring {
            reach_m: ring::REACH_M,
            lsoas: ring_lsoas,
            lsoa11: areas.lsoa11_outside,
        }),
        area_sources: Arc::new(provenance::area_sources(cfg)),
        report: Arc::new(LoadReport::default()),
    };
    let mut atlas = timer.time(
        "index/atlas",
        |a: &Atlas| a.lsoa21.len() + a.assets.len(),
        || Ok(Atlas::from_parts(parts)),
    )?;
    report.steps = timer.into_steps();
    report.total = started.elapsed();
    atlas.report = Arc::new(report);
    Ok(atlas)
}

/// Checks that every required source covers what it declares (see
/// [`super::validate`]): a table cut short is an error, not a coverage line.
fn validate_coverage(
    req: &LoadRequest<'_>,
    timer: &Timer<'_>,
    members: &region::Members<'_>,
    lsoa11_codes: &std::collections::HashSet<&str>,
    ward_rows: &[crate::sources::tables::WardLookupRow],
    changes: &[crate::sources::tables::LsoaChangeRow],
    reads: &read::Reads,
) -> Result<(), BuildError> {
    let a = &reads.areas;
    timer.time(
        "validate/coverage",
        |(): &()| 0,
        || {
            Ok(super::validate::Loaded {
                config: req.config,
                data_dir: req.data_dir,
                region: req.region,
                region_lsoa21: &members.lsoa21,
                region_lsoa11: lsoa11_codes,
                region_districts: &members.districts,
                ward_lookup: ward_rows,
                lsoa_changes: changes,
                lsoa21: &a.lsoa21,
                lsoa11: &a.lsoa11,
                districts: &a.districts,
                imd2025: &a.imd2025,
                imd2019: &a.imd2019,
                population: &a.population,
                rural_urban: &a.rural_urban,
                ward17: &a.ward17,
            }
            .check()?)
        },
    )
}

/// Reads MHCLG's official district summaries of the region's districts,
/// every configured release in turn (timed as `district_summaries`).
fn official_summaries(
    req: &LoadRequest<'_>,
    districts: &[super::District],
    timer: &Timer<'_>,
) -> Result<super::OfficialSummaries, BuildError> {
    timer.time(
        "district_summaries",
        |s: &super::OfficialSummaries| s.figures.len(),
        || {
            let mut out = super::OfficialSummaries::default();
            for c in &req.config.district_summaries {
                let mut all = crate::sources::tables::read_district_summaries(req.data_dir, c)?;
                for d in districts {
                    if let Some(f) = all.remove(&d.code) {
                        out.figures.entry(d.code.clone()).or_default().extend(f);
                    }
                }
                out.sources.push(format!("district_summaries_{}", c.year));
            }
            Ok(out)
        },
    )
}
