//! Assets of one category inside an area and within distance bands of its
//! boundary, per source, with each source's coverage of the area.
//!
//! Distances to the boundary are BNG planar straight lines (the projection's
//! scale error is below 0.1% in England); "inside" includes the boundary.
//! Only assets in the category's R-tree within the widest band of the
//! area's bounding box are visited.

use super::AreaSpec;
use crate::analysis::{AnalysisError, Interrupt};
use crate::atlas::Atlas;

/// How much of an area a source covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceCoverage {
    /// Every LSOA counted.
    All,
    /// Some LSOAs counted.
    Part,
    /// None: "no data" there, not "no asset".
    None,
}

/// Counts of one source's assets.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceAssets {
    /// Source index.
    pub source: usize,
    /// Its coverage of the area.
    pub coverage: SourceCoverage,
    /// Assets inside the area.
    pub inside: u32,
    /// Assets inside or within each band of the boundary (cumulative).
    pub within: Vec<u32>,
}

/// One asset near the area.
#[derive(Debug, Clone, PartialEq)]
pub struct NearAsset {
    /// Index in `atlas.assets`.
    pub asset: u32,
    /// Distance to the boundary (m; 0 inside).
    pub distance_m: f64,
}

/// Assets of one category in and around an area.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryAssets {
    /// Coverage of the area by the category's sources together.
    pub coverage: SourceCoverage,
    /// Assets inside the area.
    pub inside: u32,
    /// Assets inside or within each band (cumulative), in band order.
    pub within: Vec<u32>,
    /// Per source of the category.
    pub sources: Vec<SourceAssets>,
    /// Every asset inside or within the widest band, nearest first.
    pub assets: Vec<NearAsset>,
}

/// Coverage of `spec`'s LSOAs by a predicate on an LSOA.
fn coverage(
    atlas: &Atlas,
    spec: &AreaSpec,
    covers: impl Fn(&crate::atlas::Lsoa21) -> bool,
) -> SourceCoverage {
    let n = spec
        .shares
        .iter()
        .filter(|s| atlas.lsoa21.get(s.lsoa as usize).is_some_and(&covers))
        .count();
    match n {
        0 => SourceCoverage::None,
        n if n == spec.shares.len() => SourceCoverage::All,
        _ => SourceCoverage::Part,
    }
}

/// Assets of category `c` in and around `spec`, for ascending `bands_m`.
///
/// # Errors
/// [`AnalysisError::Interrupted`] once `interrupt` is raised.
pub fn category(
    atlas: &Atlas,
    c: usize,
    spec: &AreaSpec,
    bands_m: &[f64],
    interrupt: &Interrupt,
) -> Result<CategoryAssets, AnalysisError> {
    let widest = bands_m.last().copied().unwrap_or(0.0).max(0.0);
    let r = spec.boundary.bng_bbox;
    let envelope = rstar::AABB::from_corners(
        [r.min().x - widest, r.min().y - widest],
        [r.max().x + widest, r.max().y + widest],
    );
    let mut near = Vec::new();
    for (visited, e) in atlas
        .indexes
        .assets
        .category(c)
        .into_iter()
        .flat_map(|t| t.locate_in_envelope(&envelope))
        .enumerate()
    {
        interrupt.check_at(visited)?;
        let d = spec
            .prepared
            .distance(geo::Coord::from((e.geom()[0], e.geom()[1])));
        if d <= widest {
            near.push((e.data, d));
        }
    }
    let mut assets: Vec<NearAsset> = near
        .into_iter()
        // A site stands for every asset at its position (each with its own
        // source and name): list them all.
        .flat_map(|(site, d)| {
            atlas
                .indexes
                .assets
                .members(c, site)
                .map(move |asset| NearAsset {
                    asset,
                    distance_m: d,
                })
        })
        .collect();
    assets.sort_by(|a, b| {
        a.distance_m
            .total_cmp(&b.distance_m)
            .then(a.asset.cmp(&b.asset))
    });
    let count = |of: &dyn Fn(&NearAsset) -> bool| -> (u32, Vec<u32>) {
        let n = |f: &dyn Fn(&NearAsset) -> bool| {
            u32::try_from(assets.iter().filter(|a| of(a) && f(a)).count()).unwrap_or(u32::MAX)
        };
        (
            n(&|a| a.distance_m <= 0.0),
            bands_m.iter().map(|&b| n(&|a| a.distance_m <= b)).collect(),
        )
    };
    let (inside, within) = count(&|_| true);
    let sources = atlas
        .categories
        .get(c)
        .map(|cat| cat.sources.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|&s| {
            let source = atlas.sources.get(usize::from(s))?;
            let of_source = |a: &NearAsset| {
                atlas
                    .assets
                    .get(a.asset as usize)
                    .is_some_and(|x| x.source == s)
            };
            let (inside, within) = count(&of_source);
            Some(SourceAssets {
                source: usize::from(s),
                coverage: coverage(atlas, spec, |l| atlas.source_covers(source, l)),
                inside,
                within,
            })
        })
        .collect();
    let covers = |l: &crate::atlas::Lsoa21| {
        crate::atlas::CategoryIdx::try_from(c).is_ok_and(|k| atlas.category_covers(k, l))
    };
    Ok(CategoryAssets {
        coverage: coverage(atlas, spec, covers),
        inside,
        within,
        sources,
        assets,
    })
}
