//! Straight-line access per LSOA and asset category.
//!
//! For every 2021 LSOA and category:
//! - **origins** are the LSOA's postcode units ([`super::origins`]);
//! - **mean / max / min distance**: over the origins, of the geodesic
//!   (WGS84, straight-line, not network) distance from each origin to its
//!   nearest asset of the category ([`super::nearest`]). Every distance is a
//!   straight-line distance; travel by road or path is longer;
//! - **nearest asset**: the asset nearest to any of the LSOA's origins (its
//!   distance is the min distance);
//! - **assets within bands** (default 400 m, 800 m, 1.6 km, 5 km): assets of
//!   the category whose geodesic distance from the LSOA's *origin centre*
//!   (the mean position of its postcodes) is at most the band;
//! - **coverage**: an LSOA outside every source of the category
//!   ([`Atlas::category_covers`]) gets [`Access::NoData`], never a distance:
//!   no asset in the data there means "no data", not "no asset";
//! - **coverage edge** (sources covering a bounding box, e.g. the central
//!   Oxford OpenStreetMap extract): when *every* source covering the LSOA is
//!   a bbox and, for some origin, the nearest asset is farther than the edge
//!   of the box, an asset just beyond the edge (not in the extract) could be
//!   nearer. The LSOA is then measured but marked uncertain
//!   ([`Measured::edge`]), and gap queries leave it out.
//!
//! Assets outside the region count as destinations: the build keeps each
//! category's assets out to the edge buffer (5 km by default) or as far as
//! an asset nearer to any point of a region LSOA could lie, so residents
//! near the county boundary are not pushed to far-away assets inside it and
//! every region LSOA's figures equal England-wide ones.

use std::sync::Arc;

use geo::Point;

use super::nearest::{geodesic_m, group_candidates, nearest_among, within_geodesic};
use super::origins::{OriginKind, Origins};
use crate::atlas::{Atlas, Coverage};
use crate::parallel::par_fill;

/// Default distance bands in metres (400 m, 800 m, 1.6 km, 5 km).
pub const DEFAULT_BANDS_M: [f64; 4] = [400.0, 800.0, 1600.0, 5000.0];

/// Parameters of the access computation.
#[derive(
    Debug, Clone, PartialEq, serde::Serialize, borsh::BorshSerialize, borsh::BorshDeserialize,
)]
pub struct AccessParams {
    /// Distance bands (metres, ascending) for "assets within" counts.
    pub bands_m: Vec<f64>,
}

impl Default for AccessParams {
    fn default() -> Self {
        Self {
            bands_m: DEFAULT_BANDS_M.to_vec(),
        }
    }
}

/// Why an LSOA's nearest asset may lie beyond a bbox coverage edge.
#[derive(
    Debug, Clone, Copy, PartialEq, serde::Serialize, borsh::BorshSerialize, borsh::BorshDeserialize,
)]
pub struct EdgeNote {
    /// Distance from the origin concerned to its nearest asset (m).
    pub nearest_m: f64,
    /// Distance from that origin to the edge of the coverage box (m).
    pub edge_m: f64,
}

/// Access measured for an LSOA and category.
#[derive(Debug, Clone, PartialEq, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct Measured {
    /// Mean over origins of the distance to the nearest asset (m, straight line).
    pub mean_m: f64,
    /// Largest distance from an origin to its nearest asset (m).
    pub max_m: f64,
    /// Smallest distance from an origin to its nearest asset (m).
    pub min_m: f64,
    /// Index (in `atlas.assets`) of the asset nearest to any origin.
    pub nearest_asset: u32,
    /// Assets within each band of the origin centre, in band order.
    pub within: Vec<u32>,
    /// Set when the nearest asset may lie beyond a bbox coverage edge.
    pub edge: Option<EdgeNote>,
}

/// Access for one LSOA and category.
#[derive(Debug, Clone, PartialEq, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub enum Access {
    /// No source of the category covers the LSOA.
    NoData,
    /// Covered, but the category has no asset at all in the loaded data.
    NoAsset,
    /// The LSOA has no origin (no postcode and no usable geometry).
    NoOrigin,
    /// Measured.
    Measured(Measured),
}

impl Access {
    /// The measurement, if any.
    #[must_use]
    pub fn measured(&self) -> Option<&Measured> {
        match self {
            Access::Measured(m) => Some(m),
            _ => None,
        }
    }
}

/// Access for every LSOA × category.
#[derive(Debug, Clone, Default, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct AccessTable {
    /// Parameters used.
    pub params: AccessParams,
    /// Number of categories.
    pub categories: usize,
    /// How each LSOA's origins were chosen.
    pub origin_kinds: Vec<OriginKind>,
    /// Number of origins per LSOA.
    pub origin_counts: Vec<usize>,
    /// "no data: …" reason per category, from its sources' coverage descriptions.
    pub no_data_reasons: Vec<String>,
    #[borsh(deserialize_with = "crate::model::borsh_vec::read_vec")]
    cells: Vec<Access>,
    /// Ids of the atlas's assets, in `atlas.assets` order: what
    /// [`Measured::nearest_asset`] points at, so that [`update`] can follow
    /// the indices of reused cells into an atlas with other assets.
    asset_ids: Arc<Vec<String>>,
}

impl AccessTable {
    /// Access of one LSOA for one category.
    #[must_use]
    pub fn get(&self, lsoa: usize, category: usize) -> Option<&Access> {
        if category >= self.categories {
            return None;
        }
        self.cells.get(lsoa * self.categories + category)
    }

    /// Number of LSOAs.
    #[must_use]
    pub fn lsoas(&self) -> usize {
        self.cells.len().checked_div(self.categories).unwrap_or(0)
    }
}

/// "no data: <coverage of each source>" for a category.
#[must_use]
pub fn no_data_reason(atlas: &Atlas, category: usize) -> String {
    let covers: Vec<&str> = atlas
        .category_sources(category)
        .map(|s| s.coverage.description())
        .collect();
    if covers.is_empty() {
        "no data: no source supplies this category".to_owned()
    } else {
        format!("no data: source covers {} only", covers.join("; "))
    }
}

/// Computes access for every LSOA and category, on all cores.
pub fn compute(atlas: &Atlas, origins: &Origins, params: &AccessParams) -> AccessTable {
    let categories = atlas.categories.len();
    // Filled in place: England's 440,000 cells, once.
    let mut cells = vec![Access::NoOrigin; atlas.lsoa21.len() * categories];
    par_fill(&mut cells, |k| {
        lsoa_access(atlas, origins, params, k / categories, k % categories)
    });
    AccessTable {
        params: params.clone(),
        categories,
        origin_kinds: origins.kinds.clone(),
        origin_counts: (0..atlas.lsoa21.len())
            .map(|i| origins.of(i).len())
            .collect(),
        no_data_reasons: (0..categories).map(|c| no_data_reason(atlas, c)).collect(),
        cells,
        asset_ids: asset_ids(atlas),
    }
}

fn asset_ids(atlas: &Atlas) -> Arc<Vec<String>> {
    Arc::new(atlas.assets.iter().map(|a| a.id.clone()).collect())
}

/// Access for an atlas derived from the one `previous` was computed on
/// ([`Atlas::with_assets`]: same LSOAs and origins, other assets), with the
/// parameters of `previous`: categories whose `recompute` flag is set, and
/// categories beyond `previous.categories`, are computed anew; the others
/// are copied, with their nearest-asset indices moved to the new positions
/// of the same assets (looked up by id).
///
/// Equals [`compute`] on `atlas` provided every category whose assets,
/// sources or coverage differ between the two atlases is flagged. A reused
/// category whose nearest asset is gone from `atlas` is computed anew.
pub fn update(
    previous: &AccessTable,
    atlas: &Atlas,
    origins: &Origins,
    recompute: &[bool],
) -> AccessTable {
    let categories = atlas.categories.len();
    let n = atlas.lsoa21.len();
    // Old asset index -> new index (u32::MAX when the asset is gone).
    let moved: Vec<u32> = previous
        .asset_ids
        .iter()
        .map(|id| atlas.asset_index(id).unwrap_or(u32::MAX))
        .collect();
    let reused_cell = |lsoa: usize, c: usize| -> Option<Access> {
        let mut cell = previous.get(lsoa, c)?.clone();
        if let Access::Measured(m) = &mut cell {
            m.nearest_asset = moved
                .get(m.nearest_asset as usize)
                .copied()
                .filter(|&i| i != u32::MAX)?;
        }
        Some(cell)
    };
    let mut fresh: Vec<bool> = (0..categories)
        .map(|c| c >= previous.categories || recompute.get(c).copied().unwrap_or(false))
        .collect();
    // A category that cannot be copied cell for cell is computed anew.
    if previous.lsoas() != n {
        fresh.fill(true);
    }
    let reusable = |c: usize| {
        (0..n).all(|i| match previous.get(i, c) {
            Some(Access::Measured(m)) => moved
                .get(m.nearest_asset as usize)
                .is_some_and(|&j| j != u32::MAX),
            Some(_) => true,
            None => false,
        })
    };
    for (c, f) in fresh.iter_mut().enumerate() {
        if !*f && !reusable(c) {
            *f = true;
        }
    }
    let params = &previous.params;
    // Filled in place, as in `compute`: rows joined afterwards held the
    // table twice (England: about 100 MB more at the start-up's peak).
    let mut cells = vec![Access::NoOrigin; n * categories];
    par_fill(&mut cells, |k| {
        let (i, c) = (k / categories, k % categories);
        if fresh.get(c).copied().unwrap_or(true) {
            lsoa_access(atlas, origins, params, i, c)
        } else {
            reused_cell(i, c).unwrap_or(Access::NoData)
        }
    });
    AccessTable {
        params: params.clone(),
        categories,
        origin_kinds: origins.kinds.clone(),
        origin_counts: (0..n).map(|i| origins.of(i).len()).collect(),
        no_data_reasons: (0..categories).map(|c| no_data_reason(atlas, c)).collect(),
        cells,
        asset_ids: asset_ids(atlas),
    }
}

/// Access of one LSOA for one category.
pub fn lsoa_access(
    atlas: &Atlas,
    origins: &Origins,
    params: &AccessParams,
    lsoa: usize,
    category: usize,
) -> Access {
    let (Some(area), Ok(cat)) = (atlas.lsoa21.get(lsoa), u16::try_from(category)) else {
        return Access::NoData;
    };
    if !atlas.category_covers(cat, area) {
        return Access::NoData;
    }
    let Some(tree) = atlas
        .indexes
        .assets
        .category(category)
        .filter(|t| t.size() > 0)
    else {
        return Access::NoAsset;
    };
    let points = origins.of(lsoa);
    let (Some(centre), false) = (
        origins.centres.get(lsoa).copied().flatten(),
        points.is_empty(),
    ) else {
        return Access::NoOrigin;
    };
    let lonlat = |i: u32| atlas.assets.get(i as usize).map(|a| a.location.lonlat);
    let Some(group) = origins.bounds.get(lsoa).copied().flatten() else {
        return Access::NoOrigin;
    };
    let candidates = group_candidates(tree, group, lonlat);
    let boxes = bbox_only_coverage(atlas, category, area);
    let (mut sum, mut max, mut min, mut nearest_asset) = (0.0, 0.0_f64, f64::INFINITY, u32::MAX);
    let mut edge: Option<EdgeNote> = None;
    for o in points.iter() {
        let Some(n) = nearest_among(&candidates, o) else {
            return Access::NoAsset;
        };
        sum += n.distance_m;
        max = max.max(n.distance_m);
        if (n.distance_m, n.item).partial_cmp(&(min, nearest_asset))
            == Some(std::cmp::Ordering::Less)
        {
            min = n.distance_m;
            nearest_asset = n.item;
        }
        if let Some(boxes) = &boxes {
            let edge_m = boxes
                .iter()
                .map(|b| distance_to_bbox_edge_m(o.lonlat, b))
                .fold(0.0_f64, f64::max);
            let excess = n.distance_m - edge_m;
            if excess > 0.0 && edge.is_none_or(|e| excess > e.nearest_m - e.edge_m) {
                edge = Some(EdgeNote {
                    nearest_m: n.distance_m,
                    edge_m,
                });
            }
        }
    }
    let widest = params.bands_m.iter().copied().fold(0.0_f64, f64::max);
    let near = within_geodesic(tree, &centre, widest, lonlat);
    // A site stands for every asset at its position.
    let copies = |n: &super::nearest::Nearest| atlas.indexes.assets.copies(category, n.item);
    let within = params
        .bands_m
        .iter()
        .map(|&b| {
            near.iter()
                .filter(|n| n.distance_m <= b)
                .map(copies)
                .fold(0_u32, u32::saturating_add)
        })
        .collect();
    Access::Measured(Measured {
        mean_m: sum / points.len() as f64,
        max_m: max,
        min_m: min,
        nearest_asset,
        within,
        edge,
    })
}

/// The boxes of the sources covering an LSOA for a category, when every
/// covering source is a bbox; `None` when any covering source is not (a
/// national or district list has no edge inside the region that matters).
fn bbox_only_coverage(
    atlas: &Atlas,
    category: usize,
    lsoa: &crate::atlas::Lsoa21,
) -> Option<Vec<[f64; 4]>> {
    atlas.categories.get(category)?;
    let mut boxes = Vec::new();
    for s in atlas.category_sources(category) {
        if !atlas.source_covers(s, lsoa) {
            continue;
        }
        match &s.coverage {
            Coverage::Bbox { bbox, .. } => boxes.push(*bbox),
            _ => return None,
        }
    }
    (!boxes.is_empty()).then_some(boxes)
}

/// Geodesic distance from a point inside a lon/lat box to the nearest side of
/// the box (0 outside it). Sides are meridians and parallels; the distance
/// to a meridian is measured along the point's parallel, which differs from
/// the true shortest distance by far less than a metre at these scales.
///
/// ```
/// use geo::Point;
/// use gapmap::analysis::access::distance_to_bbox_edge_m;
/// let b = [-1.345, 51.748, -1.241, 51.797];
/// // 0.001° of latitude north of the southern edge: about 111 m.
/// let d = distance_to_bbox_edge_m(Point::new(-1.29, 51.749), &b);
/// assert!((d - 111.0).abs() < 2.0, "{d}");
/// ```
#[must_use]
pub fn distance_to_bbox_edge_m(p: Point<f64>, bbox: &[f64; 4]) -> f64 {
    let (x, y) = (p.x(), p.y());
    if x < bbox[0] || x > bbox[2] || y < bbox[1] || y > bbox[3] {
        return 0.0;
    }
    [
        Point::new(bbox[0], y),
        Point::new(bbox[2], y),
        Point::new(x, bbox[1]),
        Point::new(x, bbox[3]),
    ]
    .into_iter()
    .map(|q| geodesic_m(p, q))
    .fold(f64::INFINITY, f64::min)
}
