//! R-tree indexes over the atlas: area envelopes for point-in-polygon and bbox
//! queries, and asset points (in British National Grid metres) for nearest and
//! within-distance queries.

use std::collections::HashMap;

use geo::{Intersects, MultiPolygon, Point, Rect};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use crate::model::{Crs, DualPoint, DualPolygon};

/// An area's envelope tagged with its index.
pub type EnvelopeEntry = GeomWithData<Rectangle<[f64; 2]>, u32>;
/// A point tagged with its index.
pub type PointEntry = GeomWithData<[f64; 2], u32>;

fn rect_to_aabb(r: Rect<f64>) -> AABB<[f64; 2]> {
    AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y])
}

/// Envelope trees over a set of polygons, in both CRSs.
#[derive(Debug, Default)]
pub struct AreaIndex {
    lonlat: RTree<EnvelopeEntry>,
    bng: RTree<EnvelopeEntry>,
}

impl AreaIndex {
    /// Bulk-loads the trees from polygons, tagging each with its position.
    pub fn build<'a>(polygons: impl Iterator<Item = (u32, &'a DualPolygon)>) -> Self {
        let (mut lonlat, mut bng) = (Vec::new(), Vec::new());
        for (i, p) in polygons {
            let a = rect_to_aabb(p.lonlat_bbox);
            lonlat.push(GeomWithData::new(Rectangle::from_aabb(a), i));
            let b = rect_to_aabb(p.bng_bbox);
            bng.push(GeomWithData::new(Rectangle::from_aabb(b), i));
        }
        Self {
            lonlat: RTree::bulk_load(lonlat),
            bng: RTree::bulk_load(bng),
        }
    }

    /// Indexes of areas whose envelope intersects `bbox` (in `crs`).
    pub fn envelope_candidates(&self, bbox: Rect<f64>, crs: Crs) -> impl Iterator<Item = u32> + '_ {
        let tree = match crs {
            Crs::Crs84 => &self.lonlat,
            Crs::Bng => &self.bng,
        };
        tree.locate_in_envelope_intersecting(&rect_to_aabb(bbox))
            .map(|e| e.data)
    }

    /// Indexes of areas whose geometry intersects `bbox` (in `crs`), in index order.
    pub fn intersecting<'a>(
        &self,
        bbox: Rect<f64>,
        crs: Crs,
        geometry: impl Fn(u32) -> Option<&'a DualPolygon>,
    ) -> Vec<u32> {
        let mut hits: Vec<u32> = self
            .envelope_candidates(bbox, crs)
            .filter(|&i| geometry(i).is_some_and(|g| g.in_crs(crs).intersects(&bbox)))
            .collect();
        hits.sort_unstable();
        hits
    }

    /// The first area (lowest index) whose polygon contains or touches the point.
    pub fn containing<'a>(
        &self,
        point: Point<f64>,
        crs: Crs,
        geometry: impl Fn(u32) -> Option<&'a DualPolygon>,
    ) -> Option<u32> {
        let tree = match crs {
            Crs::Crs84 => &self.lonlat,
            Crs::Bng => &self.bng,
        };
        // Candidates in index order, so the first polygon that covers the
        // point is the answer and the rest need no test.
        let mut candidates: Vec<u32> = tree
            .locate_all_at_point(&[point.x(), point.y()])
            .map(|e| e.data)
            .collect();
        candidates.sort_unstable();
        candidates
            .into_iter()
            .find(|&i| geometry(i).is_some_and(|g| polygon_covers(g.in_crs(crs), point)))
    }
}

/// True when the point is inside the polygon or on its boundary.
///
/// Asks each part directly: `MultiPolygon::intersects` would first compute
/// the whole polygon's bounding box, a second pass over every vertex that
/// the R-tree lookup has already made redundant (it was a third of the
/// time spent placing England's 1.5 million postcodes).
fn polygon_covers(polygon: &MultiPolygon<f64>, point: Point<f64>) -> bool {
    polygon.0.iter().any(|part| part.intersects(&point))
}

/// Point trees over assets: one per category over its *sites*, in BNG
/// metres, and two over every asset.
#[derive(Debug, Default)]
pub struct AssetIndex {
    by_category: Vec<RTree<PointEntry>>,
    /// Per category: site (lowest asset index at a position) → the other
    /// assets of the category at that exact position, where there are any.
    copies: Vec<HashMap<u32, Vec<u32>>>,
    all_lonlat: RTree<PointEntry>,
    all_bng: RTree<PointEntry>,
}

/// A category's assets grouped by exact BNG position: one tree entry per
/// position, tagged with the lowest asset index there, and the count where
/// above one.
///
/// Why: assets geocoded from one postcode, or a register file with one
/// address repeated, share a position. Nearest and within-distance
/// searches would measure every one of them from every origin (30,000
/// register rows at one point took the access update 871 s); one entry per
/// position gives the same answers, since co-located assets are at the
/// same distance and ties go to the lowest index.
fn sites(mut entries: Vec<PointEntry>) -> (RTree<PointEntry>, HashMap<u32, Vec<u32>>) {
    let key = |e: &PointEntry| (e.geom()[0].to_bits(), e.geom()[1].to_bits(), e.data);
    entries.sort_unstable_by_key(key);
    let mut kept: Vec<PointEntry> = Vec::with_capacity(entries.len());
    let mut copies = HashMap::new();
    for e in entries {
        match kept.last() {
            // Exact equality is the point: the same bits, the same position.
            Some(last) if last.geom().map(f64::to_bits) == e.geom().map(f64::to_bits) => {
                copies
                    .entry(last.data)
                    .or_insert_with(Vec::new)
                    .push(e.data);
            }
            _ => kept.push(e),
        }
    }
    (RTree::bulk_load(kept), copies)
}

impl AssetIndex {
    /// The trees of an atlas's assets (positions in `assets` as indices),
    /// with `categories` categories.
    #[must_use]
    pub fn of_assets(categories: usize, assets: &[crate::atlas::Asset]) -> Self {
        Self::build(
            categories,
            assets.iter().enumerate().map(|(i, a)| {
                (
                    u32::try_from(i).unwrap_or(u32::MAX),
                    usize::from(a.category),
                    a.location,
                )
            }),
        )
    }

    /// Builds the trees from `(asset index, category index, location)`.
    fn build(categories: usize, assets: impl Iterator<Item = (u32, usize, DualPoint)>) -> Self {
        let mut per: Vec<Vec<PointEntry>> = vec![Vec::new(); categories];
        let (mut ll, mut bng) = (Vec::new(), Vec::new());
        for (i, c, p) in assets {
            let b = [p.bng.x(), p.bng.y()];
            if let Some(v) = per.get_mut(c) {
                v.push(GeomWithData::new(b, i));
            }
            bng.push(GeomWithData::new(b, i));
            ll.push(GeomWithData::new([p.lonlat.x(), p.lonlat.y()], i));
        }
        let (by_category, copies) = per.into_iter().map(sites).unzip();
        Self {
            by_category,
            copies,
            all_lonlat: RTree::bulk_load(ll),
            all_bng: RTree::bulk_load(bng),
        }
    }

    /// The sites of one category (BNG metres), if the category exists: one
    /// entry per distinct position, tagged with the lowest index of the
    /// category's assets there. [`AssetIndex::copies`] gives how many
    /// assets a site stands for; counts of assets must use it.
    #[must_use]
    pub fn category(&self, category: usize) -> Option<&RTree<PointEntry>> {
        self.by_category.get(category)
    }

    /// How many assets of `category` the site `item` of
    /// [`AssetIndex::category`] stands for (1 for an asset alone at its
    /// position).
    #[must_use]
    pub fn copies(&self, category: usize, item: u32) -> u32 {
        let others = self.others(category, item).len();
        u32::try_from(others).map_or(u32::MAX, |n| n.saturating_add(1))
    }

    /// Every asset of `category` the site `item` stands for: `item` itself,
    /// then the others at its position in index order. Lists of assets
    /// (an area's assets, each with its source) must expand sites so.
    pub fn members(&self, category: usize, item: u32) -> impl Iterator<Item = u32> + '_ {
        std::iter::once(item).chain(self.others(category, item).iter().copied())
    }

    fn others(&self, category: usize, item: u32) -> &[u32] {
        self.copies
            .get(category)
            .and_then(|m| m.get(&item))
            .map_or(&[], Vec::as_slice)
    }

    /// Assets of all categories inside `bbox` (in `crs`), in index order.
    #[must_use]
    pub fn in_bbox(&self, bbox: Rect<f64>, crs: Crs) -> Vec<u32> {
        let tree = match crs {
            Crs::Crs84 => &self.all_lonlat,
            Crs::Bng => &self.all_bng,
        };
        let mut v: Vec<u32> = tree
            .locate_in_envelope(&rect_to_aabb(bbox))
            .map(|e| e.data)
            .collect();
        v.sort_unstable();
        v
    }
}
