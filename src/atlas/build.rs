//! Builds the atlas: reads every configured source (in parallel where they are
//! independent), restricts them to the region, joins them by code, geocodes
//! assets, places assets and postcodes in LSOAs, and builds the indexes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use geo::{Distance, Euclidean, Rect};

use super::area::{AreaIdx, District, Lsoa11, Lsoa21, Ward};
use super::asset::{Asset, AssetSource, Category, Coverage};
use super::deprivation::{DeprivationRelease, IndicatorDef};
use super::geometry::Crs;
use super::index::{AreaIndex, AssetIndex};
use super::postcode::Postcode;
use super::report::{LoadReport, StepTiming, Unplaced};
use super::{Atlas, CodeLookup, Indexes, RegionInfo};
use crate::config::{
    AssetSourceConfig, AtlasConfig, ConfigError, CoverageConfig, DeprivationConfig, Provenance,
};
use crate::parallel::par_map;
use crate::sources::{self, tables, Location, RawArea, SourceAssets, SourceError};

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

struct Timer<'a> {
    steps: std::sync::Mutex<Vec<StepTiming>>,
    observer: &'a dyn LoadObserver,
}

impl Timer<'_> {
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
}

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

fn release(c: &DeprivationConfig, geography: &str) -> DeprivationRelease {
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
    }
}

fn to_idx(i: usize) -> AreaIdx {
    AreaIdx::try_from(i).unwrap_or(AreaIdx::MAX)
}

type Areas = Result<Vec<RawArea>, BuildError>;

/// Loads and joins everything.
///
/// # Errors
/// A missing or malformed source, or a region that matches nothing.
#[allow(clippy::too_many_lines)] // one linear recipe; each step is a call
pub fn load(req: &LoadRequest<'_>, observer: &dyn LoadObserver) -> Result<Atlas, BuildError> {
    let started = Instant::now();
    let cfg = req.config;
    let dir = req.data_dir;
    let region_cfg = cfg.region(req.region)?;
    let timer = Timer {
        steps: std::sync::Mutex::new(Vec::new()),
        observer,
    };
    let in_region_district = |district: &str, lsoa: &str| {
        if region_cfg.districts.is_empty() {
            region_cfg
                .lsoa_code_prefix
                .as_deref()
                .is_some_and(|p| lsoa.starts_with(p))
        } else {
            region_cfg.districts.iter().any(|d| d == district)
        }
    };

    // 1. Lookups decide which areas belong to the region.
    let ward_rows = timer.time("lookups/lsoa21_ward_district", Vec::len, || {
        Ok(tables::read_ward_lookup(
            dir,
            &cfg.lookups.lsoa21_ward_district,
        )?)
    })?;
    let region_rows: Vec<&tables::WardLookupRow> = ward_rows
        .iter()
        .filter(|r| in_region_district(&r.district_code, &r.lsoa))
        .collect();
    if region_rows.is_empty() {
        return Err(BuildError::Join(format!(
            "region '{}' matches no LSOA in {}",
            req.region, cfg.lookups.lsoa21_ward_district.table.path
        )));
    }
    let lsoa21_codes: HashSet<&str> = region_rows.iter().map(|r| r.lsoa.as_str()).collect();
    let ward_codes: HashSet<&str> = region_rows.iter().map(|r| r.ward_code.as_str()).collect();
    let district_codes: HashSet<&str> = region_rows
        .iter()
        .map(|r| r.district_code.as_str())
        .collect();

    let changes = timer.time("lookups/lsoa11_lsoa21", Vec::len, || {
        Ok(tables::read_lsoa_changes(dir, &cfg.lookups.lsoa11_lsoa21)?)
    })?;
    // Each vintage keeps its own geography: a 2011 LSOA belongs to the region
    // through its own district in the 2022 lookup (E01027305 is in West
    // Northamptonshire there, but best-fits a Cherwell ward in 2024).
    let lsoa11_codes: HashSet<&str> = changes
        .iter()
        .filter(|c| in_region_district(&c.district_code, &c.lsoa11))
        .map(|c| c.lsoa11.as_str())
        .collect();

    // 2. Independent reads, in parallel.
    let (
        lsoa21_raw,
        lsoa11_raw,
        ward_raw,
        district_raw,
        imd25,
        imd19,
        pop,
        ruc,
        ward17,
        asset_reads,
        scan,
    ) = std::thread::scope(|s| {
        let t = &timer;
        let b = &cfg.boundaries;
        let h1 = s.spawn(|| -> Areas {
            t.time("boundaries/lsoa21", Vec::len, || {
                Ok(sources::read_boundaries(dir, &b.lsoa21, |c| {
                    lsoa21_codes.contains(c)
                })?)
            })
        });
        let h2 = s.spawn(|| -> Areas {
            t.time("boundaries/lsoa11", Vec::len, || {
                Ok(sources::read_boundaries(dir, &b.lsoa11, |c| {
                    lsoa11_codes.contains(c)
                })?)
            })
        });
        let h3 = s.spawn(|| -> Areas {
            t.time("boundaries/wards", Vec::len, || {
                Ok(sources::read_boundaries(dir, &b.wards, |c| {
                    ward_codes.contains(c)
                })?)
            })
        });
        let h4 = s.spawn(|| -> Areas {
            t.time("boundaries/districts", Vec::len, || {
                Ok(sources::read_boundaries(dir, &b.districts, |c| {
                    district_codes.contains(c)
                })?)
            })
        });
        let h5 = s.spawn(|| {
            t.time(
                "deprivation/imd2025",
                |v: &tables::DeprivationValues| v.values.len(),
                || Ok(tables::read_deprivation(dir, &cfg.imd2025)?),
            )
        });
        let h6 = s.spawn(|| {
            t.time(
                "deprivation/imd2019",
                |v: &tables::DeprivationValues| v.values.len(),
                || Ok(tables::read_deprivation(dir, &cfg.imd2019)?),
            )
        });
        let h7 = s.spawn(|| {
            t.time("population", HashMap::len, || {
                Ok(tables::read_population(dir, &cfg.population)?)
            })
        });
        let h8 = s.spawn(|| {
            t.time("lookups/rural_urban", HashMap::len, || {
                Ok(tables::read_rural_urban(dir, &cfg.lookups.rural_urban)?)
            })
        });
        let h9 = s.spawn(|| {
            t.time("lookups/lsoa11_ward17", HashMap::len, || {
                Ok(tables::read_pairs(dir, &cfg.lookups.lsoa11_ward17)?)
            })
        });
        let h10 = s.spawn(|| {
            cfg.asset_sources
                .iter()
                .map(|a| {
                    t.time(
                        &format!("assets/{}", a.id),
                        |v: &SourceAssets| v.assets.len(),
                        || Ok(sources::read_asset_source(dir, a)?),
                    )
                })
                .collect::<Result<Vec<_>, _>>()
        });
        // The gazetteer is the largest read; it needs nothing the other
        // reads produce, so it runs beside them.
        let h11 = s.spawn(|| {
            t.time(
                "postcodes",
                |s: &sources::PostcodeScan| s.rows,
                || {
                    // A region without districts is a country prefix ("E"),
                    // which Code-Point's country codes share with LSOA codes.
                    let in_region =
                        |country: &str, district: &str| in_region_district(district, country);
                    Ok(sources::read_postcodes(
                        dir,
                        &cfg.postcodes,
                        &in_region,
                        &|d, t| {
                            observer.postcode_files(d, t);
                        },
                    )?)
                },
            )
        });
        let join = |name: &str| BuildError::Join(format!("reader for {name} failed"));
        (
            h1.join().map_err(|_| join("lsoa21")),
            h2.join().map_err(|_| join("lsoa11")),
            h3.join().map_err(|_| join("wards")),
            h4.join().map_err(|_| join("districts")),
            h5.join().map_err(|_| join("imd2025")),
            h6.join().map_err(|_| join("imd2019")),
            h7.join().map_err(|_| join("population")),
            h8.join().map_err(|_| join("rural_urban")),
            h9.join().map_err(|_| join("ward17")),
            h10.join().map_err(|_| join("assets")),
            h11.join().map_err(|_| join("postcodes")),
        )
    });
    let (lsoa21_raw, lsoa11_raw, ward_raw, district_raw) =
        (lsoa21_raw??, lsoa11_raw??, ward_raw??, district_raw??);
    let (mut imd25, mut imd19, pop, ruc, ward17, asset_reads, scan) = (
        imd25??,
        imd19??,
        pop??,
        ruc??,
        ward17??,
        asset_reads??,
        scan??,
    );
    timer.time(
        "validate/coverage",
        |(): &()| 0,
        || {
            Ok(super::validate::Loaded {
                config: cfg,
                data_dir: dir,
                region: req.region,
                region_lsoa21: &lsoa21_codes,
                region_lsoa11: &lsoa11_codes,
                region_districts: &district_codes,
                ward_lookup: &ward_rows,
                lsoa_changes: &changes,
                lsoa21: &lsoa21_raw,
                lsoa11: &lsoa11_raw,
                districts: &district_raw,
                imd2025: &imd25,
                imd2019: &imd19,
                population: &pop,
                rural_urban: &ruc,
                ward17: &ward17,
            }
            .check()?)
        },
    )?;

    // 3. Districts, wards, LSOAs, joined by code.
    let mut districts: Vec<District> = district_raw
        .into_iter()
        .map(|a| District {
            code: a.code,
            name: a.name,
            geometry: a.geometry,
            wards: Vec::new(),
            lsoas: Vec::new(),
        })
        .collect();
    districts.sort_by(|a, b| a.code.cmp(&b.code));
    let district_lookup = CodeLookup::of(&districts, |d| &d.code);

    let ward_shapes: HashMap<String, RawArea> =
        ward_raw.into_iter().map(|a| (a.code.clone(), a)).collect();
    let mut ward_meta: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    for r in &region_rows {
        ward_meta.insert(&r.ward_code, (&r.ward_name, &r.district_code));
    }
    let mut wards: Vec<Ward> = ward_meta
        .iter()
        .map(|(code, (name, district))| {
            let shape = ward_shapes.get(*code);
            let geometry_note = match shape {
                Some(s) => match &s.original_code {
                    Some(old) => {
                        format!("December 2022 boundary of {old}, recoded to {code} in 2024")
                    }
                    None => "December 2022 boundary".to_owned(),
                },
                None => "no published boundary for this ward code".to_owned(),
            };
            Ward {
                code: (*code).to_owned(),
                name: (*name).to_owned(),
                district: district_lookup.get(*district).copied(),
                geometry: shape.map(|s| s.geometry.clone()),
                geometry_note,
                lsoas: Vec::new(),
            }
        })
        .collect();
    let ward_lookup = CodeLookup::of(&wards, |w| &w.code);

    let imd25_schema = release(&cfg.imd2025, "lsoa21");
    let imd19_schema = release(&cfg.imd2019, "lsoa11");
    let row_of: HashMap<&str, &&tables::WardLookupRow> =
        region_rows.iter().map(|r| (r.lsoa.as_str(), r)).collect();
    let mut lsoa21: Vec<Lsoa21> = lsoa21_raw
        .into_iter()
        .map(|a| {
            let row = row_of.get(a.code.as_str());
            Lsoa21 {
                imd: imd25.values.remove(&a.code).unwrap_or_default(),
                residents: pop.get(&a.code).copied(),
                rural_urban: ruc.get(&a.code).cloned(),
                ward: row.and_then(|r| ward_lookup.get(r.ward_code.as_str()).copied()),
                district: row.and_then(|r| district_lookup.get(r.district_code.as_str()).copied()),
                lsoa11: Vec::new(),
                code: a.code,
                name: a.name,
                geometry: a.geometry,
            }
        })
        .collect();
    lsoa21.sort_by(|a, b| a.code.cmp(&b.code));
    let lsoa21_lookup = CodeLookup::of(&lsoa21, |l| &l.code);

    let mut lsoa11: Vec<Lsoa11> = lsoa11_raw
        .into_iter()
        .map(|a| Lsoa11 {
            imd: imd19.values.remove(&a.code).unwrap_or_default(),
            population_2015: imd19.population.get(&a.code).copied(),
            ward17: ward17.get(&a.code).cloned(),
            district_code: None,
            lsoa21: Vec::new(),
            code: a.code,
            name: a.name,
            geometry: a.geometry,
        })
        .collect();
    lsoa11.sort_by(|a, b| a.code.cmp(&b.code));
    let lsoa11_lookup = CodeLookup::of(&lsoa11, |l| &l.code);
    for c in &changes {
        if let (Some(&i11), Some(&i21)) =
            (lsoa11_lookup.get(&c.lsoa11), lsoa21_lookup.get(&c.lsoa21))
        {
            lsoa11[i11 as usize].lsoa21.push((i21, c.change));
            lsoa11[i11 as usize].district_code = Some(c.district_code.clone());
            lsoa21[i21 as usize].lsoa11.push((i11, c.change));
        }
    }
    for (i, l) in lsoa21.iter().enumerate() {
        if let Some(w) = l.ward {
            wards[w as usize].lsoas.push(to_idx(i));
        }
        if let Some(d) = l.district {
            districts[d as usize].lsoas.push(to_idx(i));
        }
    }
    for (i, w) in wards.iter().enumerate() {
        if let Some(d) = w.district {
            districts[d as usize].wards.push(to_idx(i));
        }
    }

    let indexes_areas = timer.time(
        "index/areas",
        |_: &(AreaIndex, AreaIndex, AreaIndex, AreaIndex)| lsoa21.len(),
        || {
            Ok((
                AreaIndex::build(
                    lsoa21
                        .iter()
                        .enumerate()
                        .map(|(i, l)| (to_idx(i), &l.geometry)),
                ),
                AreaIndex::build(
                    lsoa11
                        .iter()
                        .enumerate()
                        .map(|(i, l)| (to_idx(i), &l.geometry)),
                ),
                AreaIndex::build(
                    wards
                        .iter()
                        .enumerate()
                        .filter_map(|(i, w)| Some((to_idx(i), w.geometry.as_ref()?))),
                ),
                AreaIndex::build(
                    districts
                        .iter()
                        .enumerate()
                        .map(|(i, d)| (to_idx(i), &d.geometry)),
                ),
            ))
        },
    )?;
    let (lsoa21_index, lsoa11_index, ward_index, district_index) = indexes_areas;

    // 4. Postcodes: the region's are placed in LSOAs (as access origins);
    // those the asset lists name are looked up anywhere.
    let wanted: HashSet<String> = asset_reads
        .iter()
        .flat_map(|s| s.assets.iter())
        .filter_map(|a| match &a.location {
            Location::Postcode(p) => Some(p.clone()),
            _ => None,
        })
        .collect();
    let found = scan.locate(wanted.iter().map(String::as_str))?;
    let geometry_of = |i: u32| lsoa21.get(i as usize).map(|l| &l.geometry);
    let (postcodes, postcodes_outside_lsoas) = timer.time(
        "postcodes/placed",
        |p: &(Vec<Postcode>, usize)| p.0.len(),
        || Ok(place_postcodes(scan.region, &lsoa21_index, &geometry_of)),
    )?;

    // 5. Assets: geocode, place, keep those in or near the region, dedupe.
    let mut report = LoadReport::default();
    let categories_cfg = &cfg.categories;
    let mut categories: Vec<Category> = categories_cfg
        .iter()
        .map(|c| Category {
            id: c.id.clone(),
            label: c.label.clone(),
            sources: Vec::new(),
        })
        .collect();
    let mut asset_sources = Vec::new();
    let mut assets: Vec<Asset> = Vec::new();
    let buffer = region_cfg.edge_buffer_m;
    for (si, (source_cfg, read)) in cfg.asset_sources.iter().zip(asset_reads).enumerate() {
        let source_idx = u16::try_from(si).unwrap_or(u16::MAX);
        asset_sources.push(provenance_source(
            &source_cfg.id,
            &source_cfg.provenance,
            coverage(source_cfg),
        ));
        report
            .filtered_out
            .push((source_cfg.id.clone(), read.filtered_out));
        let (mut dupes, mut beyond) = (0, 0);
        let first_new = assets.len();
        for raw in read.assets {
            let Some(category) = categories.iter().position(|c| c.id == raw.category) else {
                continue;
            };
            let location = match &raw.location {
                Location::Point(p) => *p,
                Location::Postcode(pc) => {
                    if let Some(p) = found.get(pc) {
                        *p
                    } else {
                        report.unplaced.push(Unplaced {
                            source: source_cfg.id.clone(),
                            row: raw.row,
                            name: raw.name.clone(),
                            reason: format!("postcode {pc} not in Code-Point Open"),
                        });
                        continue;
                    }
                }
                Location::Unplaced(reason) => {
                    report.unplaced.push(Unplaced {
                        source: source_cfg.id.clone(),
                        row: raw.row,
                        name: raw.name.clone(),
                        reason: reason.clone(),
                    });
                    continue;
                }
            };
            let lsoa = lsoa21_index.containing(location.lonlat, Crs::Crs84, geometry_of);
            if lsoa.is_none() && !near_region(location.bng, buffer, &lsoa21_index, &lsoa21) {
                beyond += 1;
                continue;
            }
            if let Some(within) = source_cfg.dedupe_within_m {
                let duplicate = assets[..first_new].iter().any(|a| {
                    usize::from(a.category) == category
                        && Euclidean.distance(a.location.bng, location.bng) <= within
                });
                if duplicate {
                    dupes += 1;
                    continue;
                }
            }
            let l = lsoa.and_then(|i| lsoa21.get(i as usize));
            assets.push(Asset {
                id: format!("{}-{}", source_cfg.id, raw.key),
                name: raw.name,
                category: u16::try_from(category).unwrap_or(u16::MAX),
                source: source_idx,
                location,
                address: raw.address,
                postcode: raw.postcode,
                area_m2: raw.area_m2,
                lsoa21: lsoa,
                ward: l.and_then(|l| l.ward),
                district: l.and_then(|l| l.district),
                in_region: lsoa.is_some(),
            });
            if let Some(c) = categories.get_mut(category) {
                if !c.sources.contains(&source_idx) {
                    c.sources.push(source_idx);
                }
            }
        }
        report.duplicates.push((source_cfg.id.clone(), dupes));
        report.beyond_region.push((source_cfg.id.clone(), beyond));
    }
    make_ids_unique(&mut assets);
    assets.sort_by(|a, b| a.id.cmp(&b.id));
    let asset_index = timer.time(
        "index/assets",
        |_: &AssetIndex| assets.len(),
        || {
            Ok(AssetIndex::build(
                categories.len(),
                assets
                    .iter()
                    .enumerate()
                    .map(|(i, a)| (to_idx(i), usize::from(a.category), a.location)),
            ))
        },
    )?;

    let lookup = CodeLookup {
        lsoa21: lsoa21_lookup,
        lsoa11: lsoa11_lookup,
        wards: ward_lookup,
        districts: district_lookup,
        assets: CodeLookup::of(&assets, |a| &a.id),
        categories: categories
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((c.id.clone(), u16::try_from(i).ok()?)))
            .collect(),
    };
    let england = || Coverage::CodePrefix {
        prefix: "E".to_owned(),
        description: "England".to_owned(),
    };
    let area_sources = vec![
        provenance_source("lsoa21", &cfg.boundaries.lsoa21.provenance, england()),
        provenance_source("lsoa11", &cfg.boundaries.lsoa11.provenance, england()),
        provenance_source("wards", &cfg.boundaries.wards.provenance, england()),
        provenance_source("districts", &cfg.boundaries.districts.provenance, england()),
        provenance_source("imd2025", &cfg.imd2025.provenance, england()),
        provenance_source("imd2019", &cfg.imd2019.provenance, england()),
        provenance_source("population", &cfg.population.provenance, england()),
        provenance_source("lookups", &cfg.lookups.provenance, england()),
        provenance_source("postcodes", &cfg.postcodes.provenance, england()),
    ];
    report.postcodes_outside_lsoas = postcodes_outside_lsoas;
    report.steps = timer.steps.into_inner().unwrap_or_default();
    report.total = started.elapsed();
    Ok(Atlas {
        region: RegionInfo {
            id: req.region.to_owned(),
            name: region_cfg.name.clone(),
            edge_buffer_m: buffer,
        },
        lsoa21,
        lsoa11,
        wards,
        districts,
        imd2025: imd25_schema,
        imd2019: imd19_schema,
        categories,
        sources: asset_sources,
        assets,
        postcodes,
        area_sources,
        indexes: Indexes {
            lsoa21: lsoa21_index,
            lsoa11: lsoa11_index,
            wards: ward_index,
            districts: district_index,
            assets: asset_index,
        },
        report,
        lookup,
    })
}

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

/// Places postcodes in LSOAs, using both cores.
fn place_postcodes<'a>(
    records: Vec<sources::PostcodeRecord>,
    index: &AreaIndex,
    geometry: &(dyn Fn(u32) -> Option<&'a super::DualPolygon> + Sync),
) -> (Vec<Postcode>, usize) {
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

/// Whether a BNG point lies within `buffer` metres of any region LSOA.
fn near_region(point: geo::Point<f64>, buffer: f64, index: &AreaIndex, lsoas: &[Lsoa21]) -> bool {
    let search = Rect::new(
        (point.x() - buffer, point.y() - buffer),
        (point.x() + buffer, point.y() + buffer),
    );
    index
        .envelope_candidates(search, Crs::Bng)
        .filter_map(|i| lsoas.get(i as usize))
        .any(|l| Euclidean.distance(&point, &l.geometry.bng) <= buffer)
}

/// Appends `-2`, `-3`... to repeated ids so that every id is unique.
fn make_ids_unique(assets: &mut [Asset]) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for a in assets.iter_mut() {
        let n = seen.entry(a.id.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            a.id = format!("{}-{}", a.id, n);
        }
    }
}
