//! Checks that the required sources cover what they declare, run on what
//! was read before it is joined.
//!
//! The lookups, population and deprivation tables declare England as their
//! coverage (see the area sources in [`super::build`]): every English LSOA
//! must have a row in each. A table cut off at a line break reads without
//! any error, so its shortfall is found here by comparing the tables with
//! each other: England's LSOAs are those any of them lists (codes starting
//! `E`), each must list them all, and a deprivation table must also list
//! as many areas as the release declares it ranks (`areas_ranked`).
//! Without this, a truncated population table showed up only as a coverage
//! line in `gapmap check`, and a truncated IMD table as `null` deciles
//! everywhere. The boundary layers are read for the region only, so they
//! are checked against the region's LSOAs and districts.
//!
//! The usual case costs a set of one table's codes and a lookup per code of
//! the others: about 0.1 s for both vintages at the tests' opt-level 1 (the
//! `validate/coverage` step of `gapmap check`).

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::path::{Path, PathBuf};

use rustc_hash::FxHasher;

use super::RuralUrban;
use crate::config::{AtlasConfig, DeprivationConfig, TableRef};
use crate::sources::table::resolve;
use crate::sources::tables::{DeprivationValues, LsoaChangeRow, WardLookupRow};
use crate::sources::{RawArea, SourceError};

/// Prefix of the area codes inside the declared coverage (England).
const COVERAGE_PREFIX: &str = "E";

/// How many missing codes an error lists.
const EXAMPLES: usize = 5;

/// What the atlas build has read, borrowed for the checks.
pub(crate) struct Loaded<'a> {
    /// The atlas definition (for file names and `areas_ranked`).
    pub config: &'a AtlasConfig,
    /// Data directory the definition's paths are relative to.
    pub data_dir: &'a Path,
    /// Name of the region loaded.
    pub region: &'a str,
    /// 2021 LSOA codes of the region.
    pub region_lsoa21: &'a HashSet<&'a str>,
    /// 2011 LSOA codes of the region.
    pub region_lsoa11: &'a HashSet<&'a str>,
    /// District codes of the region.
    pub region_districts: &'a HashSet<&'a str>,
    /// Every row of the LSOA 2021 → ward → district lookup.
    pub ward_lookup: &'a [WardLookupRow],
    /// Every row of the LSOA 2011 → 2021 lookup.
    pub lsoa_changes: &'a [LsoaChangeRow],
    /// The region's 2021 LSOA boundaries.
    pub lsoa21: &'a [RawArea],
    /// The region's 2011 LSOA boundaries.
    pub lsoa11: &'a [RawArea],
    /// The region's district boundaries.
    pub districts: &'a [RawArea],
    /// IMD 2025 values of every area in the tables.
    pub imd2025: &'a DeprivationValues,
    /// IMD 2019 values of every area in the tables.
    pub imd2019: &'a DeprivationValues,
    /// Residents of every LSOA in the table.
    pub population: &'a HashMap<String, u32>,
    /// Rural/urban class of every LSOA in the table.
    pub rural_urban: &'a HashMap<String, RuralUrban>,
    /// 2011 LSOA → 2017 ward for every LSOA in the table.
    pub ward17: &'a HashMap<String, String>,
}

/// A set of area codes; FxHash, as the codes are not attacker-chosen keys
/// and SipHash would make these passes several times slower.
type Codes<'a> = HashSet<&'a str, BuildHasherDefault<FxHasher>>;

/// One source's codes inside the declared coverage, each once, with the
/// file they came from.
struct Listed<'a> {
    file: PathBuf,
    codes: Vec<&'a str>,
    /// How many areas the source declares it has, beyond those the other
    /// sources list (`areas_ranked` of a deprivation release).
    declared: Option<usize>,
}

impl<'a> Loaded<'a> {
    fn file(&self, table: &TableRef) -> PathBuf {
        resolve(self.data_dir, &table.path)
    }

    /// A source whose codes are unique already (the keys of a map).
    fn listed(&self, table: &TableRef, codes: impl Iterator<Item = &'a str>) -> Listed<'a> {
        Listed {
            file: self.file(table),
            codes: codes.filter(|c| c.starts_with(COVERAGE_PREFIX)).collect(),
            declared: None,
        }
    }

    /// A source whose rows may repeat a code (a lookup's rows).
    fn listed_rows(&self, table: &TableRef, codes: impl Iterator<Item = &'a str>) -> Listed<'a> {
        let unique: Codes<'a> = codes.filter(|c| c.starts_with(COVERAGE_PREFIX)).collect();
        Listed {
            file: self.file(table),
            codes: unique.into_iter().collect(),
            declared: None,
        }
    }

    /// One entry per table of a release: the codes with at least one value
    /// from that table's columns.
    fn release_tables(
        &self,
        release: &DeprivationConfig,
        values: &'a DeprivationValues,
    ) -> Vec<Listed<'a>> {
        release
            .tables
            .iter()
            .map(|t| {
                let fields: Vec<(usize, &str)> = t
                    .columns
                    .keys()
                    .filter_map(|k| {
                        let (indicator, part) = k.split_once('.')?;
                        let pos = release.indicators.iter().position(|i| i.id == indicator)?;
                        Some((pos, part))
                    })
                    .collect();
                let codes = values.values.iter().filter_map(|(code, row)| {
                    let has = fields.iter().any(|&(pos, part)| {
                        row.get(pos).is_some_and(|v| match part {
                            "decile" => v.decile.is_some(),
                            "rank" => v.rank.is_some(),
                            _ => v.score.is_some(),
                        })
                    });
                    has.then_some(code.as_str())
                });
                let mut listed = self.listed(&t.table, codes);
                listed.declared = usize::try_from(release.areas_ranked).ok();
                listed
            })
            .collect()
    }

    /// Runs every check.
    ///
    /// # Errors
    /// `Incomplete`, naming the first file that lacks areas of its declared
    /// coverage, how many, and a few of their codes.
    pub(crate) fn check(&self) -> Result<(), SourceError> {
        let c = self.config;
        let mut lsoa21 = vec![
            self.listed_rows(
                &c.lookups.lsoa21_ward_district.table,
                self.ward_lookup.iter().map(|r| r.lsoa.as_str()),
            ),
            self.listed_rows(
                &c.lookups.lsoa11_lsoa21.table,
                self.lsoa_changes.iter().map(|r| r.lsoa21.as_str()),
            ),
            self.listed(
                &c.population.table,
                self.population.keys().map(String::as_str),
            ),
            self.listed(
                &c.lookups.rural_urban.table,
                self.rural_urban.keys().map(String::as_str),
            ),
        ];
        lsoa21.extend(self.release_tables(&c.imd2025, self.imd2025));
        complete(&lsoa21, "LSOAs (2021) in England")?;

        let mut lsoa11 = vec![
            self.listed_rows(
                &c.lookups.lsoa11_lsoa21.table,
                self.lsoa_changes.iter().map(|r| r.lsoa11.as_str()),
            ),
            self.listed(
                &c.lookups.lsoa11_ward17.table,
                self.ward17.keys().map(String::as_str),
            ),
        ];
        lsoa11.extend(self.release_tables(&c.imd2019, self.imd2019));
        complete(&lsoa11, "LSOAs (2011) in England")?;

        let region = self.region;
        let b = &c.boundaries;
        for (table, wanted, read, what) in [
            (
                &b.lsoa21.table,
                self.region_lsoa21,
                self.lsoa21,
                "LSOAs (2021)",
            ),
            (
                &b.lsoa11.table,
                self.region_lsoa11,
                self.lsoa11,
                "LSOAs (2011)",
            ),
            (
                &b.districts.table,
                self.region_districts,
                self.districts,
                "districts",
            ),
        ] {
            let have: Codes<'_> = read.iter().map(|a| a.code.as_str()).collect();
            let missing: Vec<&str> = wanted
                .iter()
                .copied()
                .filter(|w| !have.contains(w))
                .collect();
            if !missing.is_empty() {
                return Err(incomplete(
                    self.file(table),
                    &format!("{what} of region '{region}'"),
                    missing,
                    wanted.len(),
                ));
            }
        }
        Ok(())
    }
}

/// Fails on the first source that lacks a code another source lists, or
/// lists fewer codes than it declares.
///
/// The usual case, every source listing the same codes, costs one set of
/// the first source's codes and a lookup per code of the others; only when
/// they differ are the sets and their union built to say what is missing
/// where.
fn complete(sources: &[Listed<'_>], what: &str) -> Result<(), SourceError> {
    let reference: Codes<'_> = sources
        .first()
        .map(|s| s.codes.iter().copied().collect())
        .unwrap_or_default();
    let same = sources
        .iter()
        .all(|s| s.codes.len() == reference.len() && s.codes.iter().all(|c| reference.contains(c)));
    if !same {
        let sets: Vec<Codes<'_>> = sources
            .iter()
            .map(|s| s.codes.iter().copied().collect())
            .collect();
        let all: Codes<'_> = sets.iter().flatten().copied().collect();
        for (s, set) in sources.iter().zip(&sets) {
            let missing: Vec<&str> = all.iter().copied().filter(|c| !set.contains(c)).collect();
            if !missing.is_empty() {
                return Err(incomplete(s.file.clone(), what, missing, all.len()));
            }
        }
    }
    for s in sources {
        if let Some(declared) = s.declared.filter(|d| s.codes.len() < *d) {
            // Every source is short of the same areas: only the count shows it.
            return Err(SourceError::Incomplete {
                file: s.file.clone(),
                what: format!("{what} the release ranks (areas_ranked)"),
                missing: declared - s.codes.len(),
                expected: declared,
                examples: Vec::new(),
            });
        }
    }
    Ok(())
}

fn incomplete(file: PathBuf, what: &str, mut missing: Vec<&str>, expected: usize) -> SourceError {
    missing.sort_unstable();
    let examples = missing
        .iter()
        .take(EXAMPLES)
        .map(|c| (*c).to_owned())
        .collect();
    SourceError::Incomplete {
        file,
        what: what.to_owned(),
        missing: missing.len(),
        expected,
        examples,
    }
}
