//! Assets: geocoded, placed in 2021 LSOAs, kept when in or near the region,
//! de-duplicated against earlier sources, given unique ids, and indexed.

use std::collections::HashMap;

use geo::{Distance, Euclidean, Point, Rect};

use super::dedupe::EarlierAssets;
use super::postcodes::AssetPostcodes;
use super::provenance;
use crate::atlas::area::Lsoa21;
use crate::atlas::asset::{Asset, AssetSource, Category, SourceIdx};
use crate::atlas::index::AreaIndex;
use crate::atlas::report::{Approximated, LoadReport, Unplaced};
use crate::config::{AssetSourceConfig, AtlasConfig};
use crate::model::{Crs, DualPoint};
use crate::sources::{Location, RawAsset, SectorCentroid, SourceAssets};

/// The assets kept, with the categories and sources they refer to.
pub(super) struct PlacedAssets {
    /// Assets sorted by (unique) id.
    pub assets: Vec<Asset>,
    /// Categories in configuration order, each listing the sources that
    /// supplied at least one kept asset.
    pub categories: Vec<Category>,
    /// Sources in configuration order.
    pub sources: Vec<AssetSource>,
}

/// What placing an asset needs to know about the region.
struct Region<'a> {
    /// Positions of the postcodes asset rows name.
    postcodes: &'a AssetPostcodes,
    /// The region's 2021 LSOAs.
    lsoa21: &'a [Lsoa21],
    /// Their envelope index.
    index: &'a AreaIndex,
    /// Per category: assets up to this far (BNG metres) outside every
    /// region LSOA are kept ([`reach_per_category`]).
    buffers: Vec<f64>,
}

/// Places every source's assets in turn, in configuration order, recording
/// filtered, unplaced, duplicate and out-of-region rows in `report`; then
/// makes ids unique and sorts assets by id.
pub(super) fn place_all(
    cfg: &AtlasConfig,
    reads: Vec<SourceAssets>,
    postcodes: &AssetPostcodes,
    lsoa21: &[Lsoa21],
    index: &AreaIndex,
    buffer: f64,
    report: &mut LoadReport,
) -> PlacedAssets {
    let buffers = reach_per_category(cfg, &reads, postcodes, lsoa21, buffer);
    let region = Region {
        postcodes,
        lsoa21,
        index,
        buffers,
    };
    let mut categories: Vec<Category> = cfg
        .categories
        .iter()
        .map(|c| Category {
            id: c.id.clone(),
            label: c.label.clone(),
            sources: Vec::new(),
        })
        .collect();
    let mut sources = Vec::new();
    let mut assets: Vec<Asset> = Vec::new();
    for (si, (source_cfg, read)) in cfg.asset_sources.iter().zip(reads).enumerate() {
        let source_idx = SourceIdx::try_from(si).unwrap_or(SourceIdx::MAX);
        sources.push(provenance::asset_source(source_cfg));
        report
            .filtered_out
            .push((source_cfg.id.clone(), read.filtered_out));
        add_source(
            source_cfg,
            source_idx,
            read.assets,
            &region,
            &mut categories,
            &mut assets,
            report,
        );
    }
    make_ids_unique(&mut assets);
    assets.sort_by(|a, b| a.id.cmp(&b.id));
    PlacedAssets {
        assets,
        categories,
        sources,
    }
}

/// Adds one source's rows to `assets`: rows of unknown categories are
/// skipped, rows that cannot be geocoded are reported as unplaced, rows
/// beyond the region's buffer are counted, and, when the source has
/// `dedupe_within_m`, rows within that distance of an asset of the same
/// category from an earlier source are counted as duplicates.
fn add_source(
    source_cfg: &AssetSourceConfig,
    source_idx: SourceIdx,
    rows: Vec<RawAsset>,
    region: &Region<'_>,
    categories: &mut [Category],
    assets: &mut Vec<Asset>,
    report: &mut LoadReport,
) {
    let (mut dupes, mut beyond) = (0, 0);
    // Indexed once, before this source adds any: a source is compared
    // with earlier sources only, never with itself.
    let earlier = source_cfg
        .dedupe_within_m
        .map(|within| (within, EarlierAssets::of(assets)));
    for raw in rows {
        let Some(category) = categories.iter().position(|c| c.id == raw.category) else {
            continue;
        };
        let Some((location, approximate)) = geocode(&raw, &source_cfg.id, region.postcodes, report)
        else {
            continue;
        };
        let lsoa = region.index.containing(location.lonlat, Crs::Crs84, |i| {
            region.lsoa21.get(i as usize).map(|l| &l.geometry)
        });
        let buffer = region.buffers.get(category).copied().unwrap_or(0.0);
        if lsoa.is_none() && !near_region(location.bng, buffer, region) {
            beyond += 1;
            continue;
        }
        if let Some((within, earlier)) = &earlier {
            if earlier.has_within(category, location.bng, *within) {
                dupes += 1;
                continue;
            }
        }
        let l = lsoa.and_then(|i| region.lsoa21.get(i as usize));
        let id = format!("{}-{}", source_cfg.id, raw.key);
        let location_precision = approximate.map(|a| {
            let note = a.note();
            report.approximated.push(Approximated {
                source: source_cfg.id.clone(),
                row: raw.row,
                asset_id: id.clone(),
                name: raw.name.clone(),
                postcode: a.postcode.to_owned(),
                sector: a.centroid.sector.clone(),
                sector_units: a.centroid.units,
                spread_m: a.centroid.spread_m,
                precision: note.clone(),
            });
            note
        });
        assets.push(Asset {
            id,
            name: raw.name,
            category: u16::try_from(category).unwrap_or(u16::MAX),
            source: source_idx,
            location,
            address: raw.address,
            postcode: raw.postcode,
            area_m2: raw.area_m2,
            location_precision,
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

/// A position that stands in for an ended postcode.
struct Approximate<'a> {
    /// The postcode the row gives.
    postcode: &'a str,
    /// Its sector's centroid.
    centroid: &'a SectorCentroid,
}

impl Approximate<'_> {
    /// The precision stated on the asset and in method blocks.
    fn note(&self) -> String {
        format!(
            "approximate: postcode {} is not in OS Code-Point Open (ended); placed at the centroid of the {} current units of postcode {} {}, which lie within {:.0} m of it",
            self.postcode, self.centroid.units, self.centroid.level, self.centroid.sector, self.centroid.spread_m
        )
    }
}

/// The row's position: its point, its postcode's, or (for a postcode not in
/// the gazetteer) its postcode sector's centroid, returned with what
/// approximated it; `None` (reported in `report` as unplaced, with the
/// reason) when it has none of these.
fn geocode<'a>(
    raw: &'a RawAsset,
    source: &str,
    postcodes: &'a AssetPostcodes,
    report: &mut LoadReport,
) -> Option<(DualPoint, Option<Approximate<'a>>)> {
    let reason = match &raw.location {
        Location::Point(p) => return Some((*p, None)),
        Location::Postcode(pc) => {
            if let Some(p) = postcodes.exact.get(pc) {
                return Some((*p, None));
            }
            if let Some(centroid) = postcodes.sectors.get(pc) {
                let approximate = Approximate {
                    postcode: pc,
                    centroid,
                };
                return Some((centroid.location, Some(approximate)));
            }
            format!("postcode {pc} not in Code-Point Open, and neither its sector nor its district has a current unit")
        }
        Location::Unplaced(reason) => reason.clone(),
    };
    report.unplaced.push(Unplaced {
        source: source.to_owned(),
        row: raw.row,
        name: raw.name.clone(),
        reason,
    });
    None
}

/// How far beyond the region each category's assets are kept: the edge
/// buffer, widened until no asset nearer to any point of a region LSOA can
/// lie beyond it, so that nearest distances equal an England-wide run's.
///
/// For each region LSOA, with `c` the centre of its BNG envelope and `h`
/// half its diagonal, every point `p` of the LSOA has its nearest asset
/// within `planar(c, nearest to c) + h`; 1 % plus 100 m covers the
/// difference between BNG planar and geodesic distance (under 0.1 % in
/// Great Britain) and the points geocoded later. The widest over the
/// region's LSOAs is the category's reach.
fn reach_per_category(
    cfg: &AtlasConfig,
    reads: &[SourceAssets],
    postcodes: &AssetPostcodes,
    lsoa21: &[Lsoa21],
    buffer: f64,
) -> Vec<f64> {
    let mut points: Vec<Vec<[f64; 2]>> = vec![Vec::new(); cfg.categories.len()];
    for read in reads {
        for raw in &read.assets {
            let Some(c) = cfg.categories.iter().position(|c| c.id == raw.category) else {
                continue;
            };
            let at = match &raw.location {
                Location::Point(p) => Some(p.bng),
                Location::Postcode(pc) => postcodes
                    .exact
                    .get(pc)
                    .map(|p| p.bng)
                    .or_else(|| postcodes.sectors.get(pc).map(|c| c.location.bng)),
                Location::Unplaced(_) => None,
            };
            if let (Some(p), Some(list)) = (at, points.get_mut(c)) {
                list.push([p.x(), p.y()]);
            }
        }
    }
    points
        .into_iter()
        .map(|pts| {
            let tree = rstar::RTree::bulk_load(pts);
            lsoa21
                .iter()
                .filter_map(|l| {
                    let b = l.geometry.bng_bbox;
                    let c = b.center();
                    let nearest = tree.nearest_neighbor(&[c.x, c.y])?;
                    let d = (nearest[0] - c.x).hypot(nearest[1] - c.y);
                    let h = 0.5 * b.width().hypot(b.height());
                    Some((d + h) * 1.01 + 100.0)
                })
                .fold(buffer, f64::max)
        })
        .collect()
}

/// Whether a BNG point lies within `buffer` metres of any region LSOA.
fn near_region(point: Point<f64>, buffer: f64, region: &Region<'_>) -> bool {
    let search = Rect::new(
        (point.x() - buffer, point.y() - buffer),
        (point.x() + buffer, point.y() + buffer),
    );
    region
        .index
        .envelope_candidates(search, Crs::Bng)
        .filter_map(|i| region.lsoa21.get(i as usize))
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
