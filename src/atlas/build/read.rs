//! The independent reads: boundaries, deprivation, population, lookups,
//! asset lists and the postcode gazetteer, each on its own thread.

use std::collections::{HashMap, HashSet};
use std::thread::ScopedJoinHandle;

use super::region::{InRegion, Members};
use super::{ring, BuildError, LoadRequest, Timer};
use crate::model::RuralUrban;
use crate::sources::{self, tables, PostcodeScan, RawArea, SourceAssets};

/// What the readers produced.
pub(super) struct Reads {
    /// Everything keyed by area code.
    pub areas: AreaReads,
    /// One read per configured asset source, in configuration order.
    pub assets: Vec<SourceAssets>,
    /// The postcode gazetteer.
    pub postcodes: PostcodeScan,
}

/// Area boundaries (restricted to the region) and the tables keyed by area
/// code (England-wide).
pub(super) struct AreaReads {
    /// 2021 LSOA boundaries in the region.
    pub lsoa21: Vec<RawArea>,
    /// 2011 LSOA boundaries in the region.
    pub lsoa11: Vec<RawArea>,
    /// 2024 ward boundaries in the region.
    pub wards: Vec<RawArea>,
    /// District boundaries in the region.
    pub districts: Vec<RawArea>,
    /// 2021 LSOA boundaries that may lie in the region's ring
    /// ([`super::ring::candidates`]).
    pub ring_lsoa21: Vec<RawArea>,
    /// IMD 2025 values by 2021 LSOA code.
    pub imd2025: tables::DeprivationValues,
    /// IMD 2019 values (and 2015 population) by 2011 LSOA code.
    pub imd2019: tables::DeprivationValues,
    /// Census 2021 residents by 2021 LSOA code.
    pub population: HashMap<String, u32>,
    /// Rural/urban classification by 2021 LSOA code.
    pub rural_urban: HashMap<String, RuralUrban>,
    /// 2017 ward code by 2011 LSOA code.
    pub ward17: HashMap<String, String>,
}

/// A reader's result once its thread is joined; a thread that panicked is
/// reported as a [`BuildError::Join`] naming the reader.
fn joined<T>(
    handle: ScopedJoinHandle<'_, Result<T, BuildError>>,
    name: &str,
) -> Result<Result<T, BuildError>, BuildError> {
    handle
        .join()
        .map_err(|_| BuildError::Join(format!("reader for {name} failed")))
}

/// Runs every independent read on its own thread and waits for all of them.
///
/// Boundaries are restricted to the codes in `members` and `lsoa11`, and
/// the 2021 LSOAs of the ring within `reach` metres ([`ring::candidates`],
/// which needs every district boundary, so districts are read first on
/// the same thread); the gazetteer splits postcodes by `in_region`.
///
/// # Errors
/// The first failure in the order of the [`Reads`] fields (every reader has
/// finished by then).
pub(super) fn read_all(
    req: &LoadRequest<'_>,
    timer: &Timer<'_>,
    in_region: InRegion<'_>,
    members: &Members<'_>,
    ward_rows: &[tables::WardLookupRow],
    lsoa11: &HashSet<&str>,
    reach: f64,
) -> Result<Reads, BuildError> {
    let (cfg, dir) = (req.config, req.data_dir);
    let b = &cfg.boundaries;
    let t = timer;
    std::thread::scope(|s| {
        let lsoa21 = s.spawn(|| {
            let all_districts = t.time("boundaries/districts", Vec::len, || {
                Ok(sources::read_boundaries(dir, &b.districts, |_| true)?)
            })?;
            let candidates = ring::candidates(ward_rows, &all_districts, members, reach);
            let lsoas = t.time("boundaries/lsoa21", Vec::len, || {
                Ok(sources::read_boundaries(dir, &b.lsoa21, |c| {
                    members.lsoa21.contains(c) || candidates.contains(c)
                })?)
            })?;
            let (region, ring): (Vec<RawArea>, Vec<RawArea>) = lsoas
                .into_iter()
                .partition(|a| members.lsoa21.contains(a.code.as_str()));
            let districts: Vec<RawArea> = all_districts
                .into_iter()
                .filter(|d| members.districts.contains(d.code.as_str()))
                .collect();
            Ok::<_, BuildError>((region, ring, districts))
        });
        let lsoa11 = s.spawn(|| {
            t.time("boundaries/lsoa11", Vec::len, || {
                Ok(sources::read_boundaries(dir, &b.lsoa11, |c| {
                    lsoa11.contains(c)
                })?)
            })
        });
        let wards = s.spawn(|| {
            t.time("boundaries/wards", Vec::len, || {
                // Also wards no LSOA best-fits: [`super::areas`] keeps those
                // lying in the region's districts.
                Ok(sources::read_boundaries(dir, &b.wards, |c| {
                    members.wards.contains(c) || !members.lookup_wards.contains(c)
                })?)
            })
        });
        let imd2025 = s.spawn(|| {
            t.time(
                "deprivation/imd2025",
                |v: &tables::DeprivationValues| v.values.len(),
                || Ok(tables::read_deprivation(dir, &cfg.imd2025)?),
            )
        });
        let imd2019 = s.spawn(|| {
            t.time(
                "deprivation/imd2019",
                |v: &tables::DeprivationValues| v.values.len(),
                || Ok(tables::read_deprivation(dir, &cfg.imd2019)?),
            )
        });
        let population = s.spawn(|| {
            t.time("population", HashMap::len, || {
                Ok(tables::read_population(dir, &cfg.population)?)
            })
        });
        let rural_urban = s.spawn(|| {
            t.time("lookups/rural_urban", HashMap::len, || {
                Ok(tables::read_rural_urban(dir, &cfg.lookups.rural_urban)?)
            })
        });
        let ward17 = s.spawn(|| {
            t.time("lookups/lsoa11_ward17", HashMap::len, || {
                Ok(tables::read_pairs(dir, &cfg.lookups.lsoa11_ward17)?)
            })
        });
        let assets = s.spawn(|| {
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
        let postcodes = s.spawn(|| {
            t.time(
                "postcodes",
                |s: &PostcodeScan| s.rows,
                || {
                    // A region without districts is a country prefix ("E"),
                    // which Code-Point's country codes share with LSOA codes.
                    let in_region =
                        |country: &str, district: &str| in_region.contains(district, country);
                    Ok(sources::read_postcodes(
                        dir,
                        &cfg.postcodes,
                        &in_region,
                        &|d, total| {
                            t.observer.postcode_files(d, total);
                        },
                    )?)
                },
            )
        });
        // Join every reader before looking at any result, so that a reader
        // that panicked is reported rather than re-raised by the scope.
        let lsoa21 = joined(lsoa21, "lsoa21");
        let lsoa11 = joined(lsoa11, "lsoa11");
        let wards = joined(wards, "wards");
        let imd2025 = joined(imd2025, "imd2025");
        let imd2019 = joined(imd2019, "imd2019");
        let population = joined(population, "population");
        let rural_urban = joined(rural_urban, "rural_urban");
        let ward17 = joined(ward17, "ward17");
        let assets = joined(assets, "assets");
        let postcodes = joined(postcodes, "postcodes");
        let (lsoa21, ring_lsoa21, districts) = lsoa21??;
        Ok(Reads {
            areas: AreaReads {
                lsoa21,
                lsoa11: lsoa11??,
                wards: wards??,
                districts,
                ring_lsoa21,
                imd2025: imd2025??,
                imd2019: imd2019??,
                population: population??,
                rural_urban: rural_urban??,
                ward17: ward17??,
            },
            assets: assets??,
            postcodes: postcodes??,
        })
    })
}
