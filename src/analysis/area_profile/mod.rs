//! The profile of any area a team works in — drawn, uploaded, or a list of
//! LSOAs or wards — read as a ward is read (issue 15).
//!
//! - **Residents** are apportioned from 2021 LSOAs by their access origins
//!   ([`super::apportion::polygon_origins`]): each postcode unit (or the
//!   surface point of an LSOA without any) stands for an equal share of
//!   its LSOA's Census 2021 residents, and the area counts the shares of
//!   the origins it covers. An LSOA whose origins are all covered counts
//!   whole, so an area equal to a union of LSOAs has exactly their figures.
//! - **Deprivation** ([`deprivation`]): LSOAs and apportioned residents by
//!   national decile, shares in the most deprived 10% / 20%, and
//!   resident-weighted scores for the IMD, its domains and sub-domains, in
//!   2025 and 2019 (carried onto 2021 LSOAs).
//! - **Assets** ([`assets`]): per category and source, inside the area
//!   and within distance bands of its boundary, with coverage.
//! - **Access** ([`access`]): residents' straight-line distance to the
//!   nearest asset per category (distribution, mean, median) and the
//!   residents of deprived-and-far LSOAs (the `/gaps` definition).
//! - **Benchmarks** ([`benchmarks`]): the same deprivation figures for the
//!   containing districts, the region, and England.
//!
//! Only the region's LSOAs count: the part of an area outside the region
//! adds nothing (and an area covering no origin of the region is refused).
//! Work is bounded by [`Limits`] and by the R-trees: only LSOAs whose
//! envelope meets the area, and assets within the widest band, are visited;
//! points are tested against the boundary's indexed edges
//! ([`super::prepared_area`]). The origin and asset loops poll an
//! [`Interrupt`], so an abandoned request stops computing.

pub mod access;
pub mod assets;
pub mod benchmarks;
pub mod deprivation;
pub mod output;

use geo::CoordsIter;

use super::apportion::{self, LsoaShare};
use super::gap_report::{DEFAULT_MAX_DECILE, DEFAULT_MIN_DISTANCE_M};
use super::prepared_area::PreparedArea;
use super::{AnalysisError, Interrupt, Results};
use crate::atlas::{Atlas, DualPolygon};

/// Bounds on the work one profile may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest number of vertices in an area's boundary (all rings).
    pub max_vertices: usize,
    /// Largest number of polygons (parts) in an area, or features in an
    /// uploaded file.
    pub max_parts: usize,
    /// Largest number of LSOA or ward codes defining an area.
    pub max_codes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_vertices: 20_000,
            max_parts: 500,
            max_codes: 2_000,
        }
    }
}

/// Distance bands around an area for asset counts (m, BNG straight line to
/// the boundary).
pub const ASSET_BANDS_M: [f64; 3] = [400.0, 800.0, 1600.0];

/// Parameters of a profile.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProfileParams {
    /// Bands (m, ascending) for "assets within" counts around the boundary.
    pub asset_bands_m: Vec<f64>,
    /// Bands (m, ascending) for residents' distance to the nearest asset.
    pub access_bands_m: Vec<f64>,
    /// Largest IMD 2025 decile counted as deprived for gaps.
    pub max_decile: u8,
    /// Smallest distance (m) counted as far for gaps.
    pub min_distance_m: f64,
}

impl Default for ProfileParams {
    fn default() -> Self {
        Self {
            asset_bands_m: ASSET_BANDS_M.to_vec(),
            access_bands_m: super::access::DEFAULT_BANDS_M.to_vec(),
            max_decile: DEFAULT_MAX_DECILE,
            min_distance_m: DEFAULT_MIN_DISTANCE_M,
        }
    }
}

/// How an area was defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaKind {
    /// A polygon (drawn or uploaded): residents apportioned by postcode units.
    Polygon,
    /// Whole 2021 LSOAs (listed, or the best-fit LSOAs of wards or districts).
    Lsoas,
}

/// An area ready to profile: its boundary, the LSOA shares it counts and
/// the origins it covers.
#[derive(Debug, Clone)]
pub struct AreaSpec {
    /// How it was defined.
    pub kind: AreaKind,
    /// Its boundary (for a list of LSOAs, their polygons side by side).
    pub boundary: DualPolygon,
    /// The boundary's BNG edges, indexed for point tests.
    pub prepared: PreparedArea,
    /// LSOAs counted, by index.
    pub shares: Vec<LsoaShare>,
    /// Positions (in the analysis's origins) of the origins covered.
    pub origins: Vec<usize>,
}

/// Number of vertices of a boundary, all rings.
#[must_use]
pub fn vertices(boundary: &DualPolygon) -> usize {
    boundary.bng.coords_count()
}

/// The area of a polygon (already valid, in both CRSs).
///
/// # Errors
/// [`AnalysisError::InvalidParameter`] naming `geometry` when the polygon
/// has more vertices or parts than `limits` allow, or covers no postcode
/// unit (nor LSOA surface point) of the region;
/// [`AnalysisError::Interrupted`] once `interrupt` is raised.
pub fn from_polygon(
    atlas: &Atlas,
    results: &Results,
    boundary: DualPolygon,
    limits: &Limits,
    interrupt: &Interrupt,
) -> Result<AreaSpec, AnalysisError> {
    let n = vertices(&boundary);
    if n > limits.max_vertices {
        return Err(AnalysisError::invalid(
            "geometry",
            format!(
                "a boundary of at most {} vertices (got {n})",
                limits.max_vertices
            ),
        ));
    }
    if boundary.bng.0.len() > limits.max_parts {
        return Err(AnalysisError::invalid(
            "geometry",
            format!(
                "at most {} polygons (got {})",
                limits.max_parts,
                boundary.bng.0.len()
            ),
        ));
    }
    let prepared = PreparedArea::new(&boundary.bng);
    let (shares, origins) = apportion::polygon_origins(
        atlas,
        &results.analysis.origins,
        &boundary,
        &prepared,
        interrupt,
    )?;
    if shares.is_empty() {
        // Great Britain's latitudes read as longitudes, and its longitudes
        // as latitudes: the axes were swapped.
        let b = boundary.lonlat_bbox;
        let swapped =
            b.min().x >= 49.0 && b.max().x <= 61.0 && b.min().y >= -9.0 && b.max().y <= 3.0;
        let why = if swapped {
            "its coordinates look like latitude, longitude: GeoJSON, CRS84 and EPSG:4326 here are longitude first"
        } else {
            "it lies outside the region, or is too small to hold one"
        };
        return Err(AnalysisError::invalid(
            "geometry",
            format!(
                "an area inside {}: this one covers none of its postcode units ({why})",
                atlas.region.name
            ),
        ));
    }
    Ok(AreaSpec {
        kind: AreaKind::Polygon,
        boundary,
        prepared,
        shares,
        origins,
    })
}

/// The area made of whole 2021 LSOAs (indexes; duplicates ignored).
///
/// # Errors
/// [`AnalysisError::InvalidParameter`] naming `lsoas` for an empty list,
/// more than `limits.max_codes` LSOAs, or an index outside the atlas.
pub fn from_lsoas(
    atlas: &Atlas,
    results: &Results,
    mut lsoas: Vec<u32>,
    limits: &Limits,
) -> Result<AreaSpec, AnalysisError> {
    lsoas.sort_unstable();
    lsoas.dedup();
    if lsoas.is_empty() || lsoas.len() > limits.max_codes {
        return Err(AnalysisError::invalid(
            "lsoas",
            format!("1 to {} 2021 LSOAs of the region", limits.max_codes),
        ));
    }
    let origins = &results.analysis.origins;
    let mut lonlat = Vec::new();
    let mut bng = Vec::new();
    let mut shares = Vec::with_capacity(lsoas.len());
    let mut covered = Vec::new();
    for &i in &lsoas {
        let l = atlas
            .lsoa21
            .get(i as usize)
            .ok_or_else(|| AnalysisError::invalid("lsoas", "2021 LSOAs of the region"))?;
        lonlat.extend(l.geometry.lonlat.0.iter().cloned());
        bng.extend(l.geometry.bng.0.iter().cloned());
        let own = origins.of(i as usize);
        let n = own.len();
        covered.extend(own.positions());
        shares.push(LsoaShare::whole(i, u32::try_from(n).unwrap_or(u32::MAX)));
    }
    let boundary = DualPolygon::new(geo::MultiPolygon(lonlat), geo::MultiPolygon(bng))
        .ok_or_else(|| AnalysisError::invalid("lsoas", "LSOAs with a boundary"))?;
    Ok(AreaSpec {
        kind: AreaKind::Lsoas,
        prepared: PreparedArea::new(&boundary.bng),
        boundary,
        shares,
        origins: covered,
    })
}

/// The profile of an area.
#[derive(Debug, Clone)]
pub struct AreaProfile {
    /// How the area was defined.
    pub kind: AreaKind,
    /// Its boundary.
    pub boundary: DualPolygon,
    /// Geodesic area (m², WGS84).
    pub area_m2: f64,
    /// Apportioned Census 2021 residents (unrounded).
    pub residents: f64,
    /// LSOAs counted, with their shares.
    pub shares: Vec<LsoaShare>,
    /// Postcode units covered (origins that are postcode units).
    pub postcode_units: usize,
    /// IMD 2025.
    pub y2025: deprivation::Deprivation,
    /// IMD 2019 carried onto 2021 LSOAs.
    pub y2019: deprivation::Deprivation,
    /// Per category, in category order.
    pub categories: Vec<CategoryProfile>,
    /// Containing districts, region and England.
    pub benchmarks: Vec<benchmarks::Benchmark>,
    /// The parameters used.
    pub params: ProfileParams,
}

/// Assets and access of an area for one category.
#[derive(Debug, Clone)]
pub struct CategoryProfile {
    /// Category index.
    pub category: usize,
    /// Assets inside and around.
    pub assets: assets::CategoryAssets,
    /// Residents' distances to the nearest asset.
    pub access: access::CategoryAccess,
}

/// Computes the profile of an area.
///
/// # Errors
/// [`AnalysisError::Interrupted`] once `interrupt` is raised.
pub fn compute(
    atlas: &Atlas,
    results: &Results,
    spec: &AreaSpec,
    params: &ProfileParams,
    interrupt: &Interrupt,
) -> Result<AreaProfile, AnalysisError> {
    use geo::GeodesicArea;
    let parts: Vec<(u32, f64)> = spec
        .shares
        .iter()
        .map(|s| (s.lsoa, s.residents(atlas)))
        .collect();
    let analysis = &results.analysis;
    let y2025 = deprivation::year_2025(atlas, &parts);
    let y2019 = deprivation::year_2019(atlas, &analysis.imd2019, &parts);
    let categories = (0..atlas.categories.len())
        .map(|c| {
            Ok(CategoryProfile {
                category: c,
                assets: assets::category(atlas, c, spec, &params.asset_bands_m, interrupt)?,
                access: access::category(atlas, analysis, c, spec, &parts, params, interrupt)?,
            })
        })
        .collect::<Result<_, AnalysisError>>()?;
    let postcode_units = spec
        .shares
        .iter()
        .filter(|s| {
            analysis.origins.kinds.get(s.lsoa as usize)
                == Some(&super::origins::OriginKind::Postcodes)
        })
        .map(|s| s.inside as usize)
        .sum();
    Ok(AreaProfile {
        kind: spec.kind,
        boundary: spec.boundary.clone(),
        area_m2: spec.boundary.lonlat.geodesic_area_unsigned(),
        residents: parts.iter().map(|(_, r)| r).sum(),
        shares: spec.shares.clone(),
        postcode_units,
        y2025,
        y2019,
        categories,
        benchmarks: benchmarks::benchmarks(atlas, results, &spec.shares),
        params: params.clone(),
    })
}
