//! The asset-gap report: validates a gap request against the atlas, selects
//! the LSOAs both deprived and far from a category (see [`super::gaps`]) and
//! describes them, with summary, parameters, method and attribution, as
//! GeoJSON or CSV. `GET /gaps` and `gapmap gaps` both call [`validate`] and
//! [`report`].

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::{json, Value};

use super::access::{Access, Measured};
use super::gaps::{self, GapQuery, GapSelection, Measure};
use super::results::Analysis;
use super::{AnalysisError, Year};
use crate::atlas::Atlas;

/// Parses a deprivation release year (`2019` or `2025`).
///
/// # Errors
/// [`AnalysisError::InvalidParameter`] naming `year`.
pub fn parse_year(text: &str) -> Result<Year, AnalysisError> {
    Year::parse(text)
        .ok_or_else(|| AnalysisError::invalid("year", format!("2019 or 2025 (got '{text}')")))
}

/// Default largest decile counted as deprived: the one gap definition shared
/// by `/gaps`, the ward profiles (JSON and printable) and the map's gap mode.
pub const DEFAULT_MAX_DECILE: u8 = 2;
/// Default smallest distance (m, straight line) counted as far; see
/// [`DEFAULT_MAX_DECILE`].
pub const DEFAULT_MIN_DISTANCE_M: f64 = 1600.0;

/// Parses the smallest distance counted as far (metres, finite, ≥ 0).
///
/// # Errors
/// [`AnalysisError::InvalidParameter`] naming `min_distance_m`.
pub fn parse_min_distance_m(text: &str) -> Result<f64, AnalysisError> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|d| d.is_finite() && *d >= 0.0)
        .ok_or_else(|| {
            AnalysisError::invalid(
                "min_distance_m",
                format!("a distance in metres, 0 or more (got '{text}')"),
            )
        })
}

/// Parses the largest decile counted as deprived (1-10).
///
/// # Errors
/// [`AnalysisError::InvalidParameter`] naming `max_decile`.
pub fn parse_max_decile(text: &str) -> Result<u8, AnalysisError> {
    text.trim()
        .parse::<u8>()
        .ok()
        .filter(|d| (1..=10).contains(d))
        .ok_or_else(|| {
            AnalysisError::invalid(
                "max_decile",
                format!("an integer from 1 to 10 (got '{text}')"),
            )
        })
}

/// A validated gap request.
#[derive(Debug, Clone, PartialEq)]
pub struct GapRequest {
    /// Category index.
    pub category: usize,
    /// Indicator id (`imd`, `health`...).
    pub indicator: String,
    /// Deprivation release.
    pub year: Year,
    /// Largest decile counted as deprived.
    pub max_decile: u8,
    /// Smallest distance counted as far (m).
    pub min_distance_m: f64,
    /// Distance measure.
    pub measure: Measure,
}

/// Raw (string) gap parameters, as typed by a user.
#[derive(Debug, Clone, Default)]
pub struct RawGapParams<'a> {
    /// Category id.
    pub category: Option<&'a str>,
    /// Largest decile.
    pub max_decile: Option<&'a str>,
    /// Smallest distance.
    pub min_distance_m: Option<&'a str>,
    /// Indicator id.
    pub domain: Option<&'a str>,
    /// Year.
    pub year: Option<&'a str>,
    /// Measure.
    pub measure: Option<&'a str>,
}

/// Validates raw parameters against the atlas.
///
/// # Errors
/// [`AnalysisError::InvalidParameter`] naming the first parameter at fault and what was expected.
pub fn validate(atlas: &Atlas, raw: &RawGapParams<'_>) -> Result<GapRequest, AnalysisError> {
    let ids: Vec<&str> = atlas.categories.iter().map(|c| c.id.as_str()).collect();
    let category = match raw.category {
        None => {
            return Err(AnalysisError::invalid(
                "category",
                format!("one of: {}", ids.join(", ")),
            ))
        }
        Some(c) => atlas
            .category_by_id(c.trim())
            .map(|(i, _)| usize::from(i))
            .ok_or_else(|| {
                AnalysisError::invalid(
                    "category",
                    format!("one of: {} (got '{c}')", ids.join(", ")),
                )
            })?,
    };
    let year = raw.year.map_or(Ok(Year::Y2025), parse_year)?;
    let max_decile = raw
        .max_decile
        .map_or(Ok(DEFAULT_MAX_DECILE), parse_max_decile)?;
    let min_distance_m = raw
        .min_distance_m
        .map_or(Ok(DEFAULT_MIN_DISTANCE_M), parse_min_distance_m)?;
    let measure = match raw.measure {
        None => Measure::Mean,
        Some(m) => Measure::parse(m)
            .ok_or_else(|| AnalysisError::invalid("measure", format!("mean or max (got '{m}')")))?,
    };
    let release = match year {
        Year::Y2019 => &atlas.imd2019,
        Year::Y2025 => &atlas.imd2025,
    };
    let indicator = raw.domain.map_or("imd", str::trim).to_owned();
    let with_deciles = indicators_with_deciles(atlas, year);
    if release.position(&indicator).is_none() || !with_deciles.contains(&indicator) {
        return Err(AnalysisError::invalid(
            "domain",
            format!(
                "an indicator with deciles in IMD {}: {} (got '{indicator}')",
                year.number(),
                with_deciles.join(", ")
            ),
        ));
    }
    Ok(GapRequest {
        category,
        indicator,
        year,
        max_decile,
        min_distance_m,
        measure,
    })
}

/// Indicators of a release that publish deciles for at least one LSOA.
fn indicators_with_deciles(atlas: &Atlas, year: Year) -> Vec<String> {
    let release = match year {
        Year::Y2019 => &atlas.imd2019,
        Year::Y2025 => &atlas.imd2025,
    };
    release
        .indicators
        .iter()
        .enumerate()
        .filter(|(k, _)| match year {
            Year::Y2025 => atlas
                .lsoa21
                .iter()
                .any(|l| l.imd.get(*k).is_some_and(|v| v.decile.is_some())),
            Year::Y2019 => atlas
                .lsoa11
                .iter()
                .any(|l| l.imd.get(*k).is_some_and(|v| v.decile.is_some())),
        })
        .map(|(_, d)| d.id.clone())
        .collect()
}

/// Each 2021 LSOA's decile on an indicator and year (2019: carried onto
/// 2021 LSOAs, see [`crate::analysis::history`]).
#[must_use]
pub fn deciles(atlas: &Atlas, analysis: &Analysis, indicator: &str, year: Year) -> Vec<Option<u8>> {
    match year {
        Year::Y2025 => {
            let k = atlas.imd2025.position(indicator);
            atlas.lsoa21.iter().map(|l| l.imd.get(k?)?.decile).collect()
        }
        Year::Y2019 => {
            let k = atlas.imd2019.position(indicator);
            (0..atlas.lsoa21.len())
                .map(|i| analysis.imd2019.get(i)?.get(k?)?.decile)
                .collect()
        }
    }
}

/// One gap with everything reported about it.
#[derive(Debug, Clone, PartialEq)]
pub struct GapRow {
    /// 1-based rank by need.
    pub rank: usize,
    /// 2021 LSOA index.
    pub lsoa: usize,
    /// Decile on the chosen indicator and year.
    pub decile: u8,
    /// The compared distance (m).
    pub distance_m: f64,
    /// Full access measurement.
    pub measured: Measured,
    /// 2SFCA assets per 10,000 residents.
    pub per_10k: Option<f64>,
}

/// Why a deprived LSOA has no answer (neither a gap nor a non-gap).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unanswerable {
    /// Outside every source of the category ("no data", never "no asset").
    NoData,
    /// Far, but the nearest asset may lie beyond a bounding-box extract's edge.
    CoverageEdge,
    /// No asset of the category anywhere, or no origin to measure from.
    Unmeasured,
}

impl Unanswerable {
    /// The machine-readable status (`no_data`, `coverage_edge`, `unmeasured`).
    #[must_use]
    pub fn status(self) -> &'static str {
        match self {
            Self::NoData => "no_data",
            Self::CoverageEdge => "coverage_edge",
            Self::Unmeasured => "unmeasured",
        }
    }
}

/// A deprived LSOA the report cannot answer for, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnansweredRow {
    /// 2021 LSOA index.
    pub lsoa: usize,
    /// Decile on the chosen indicator and year.
    pub decile: u8,
    /// Why there is no answer.
    pub why: Unanswerable,
}

/// The answer to a gap request.
#[derive(Debug, Clone)]
pub struct GapReport {
    /// The request.
    pub request: GapRequest,
    /// Gaps, most in need first.
    pub rows: Vec<GapRow>,
    /// What the selection left out.
    pub selection: GapSelection,
    /// Every LSOA counted as deprived (decile at most `max_decile`).
    pub deprived: usize,
    /// Deprived LSOAs with no answer (no data, coverage edge, unmeasured),
    /// most deprived first, then by code.
    pub unanswered: Vec<UnansweredRow>,
}

/// Runs a gap request over the precomputed analysis.
#[must_use]
pub fn report(atlas: &Atlas, analysis: &Analysis, request: &GapRequest) -> GapReport {
    let d = deciles(atlas, analysis, &request.indicator, request.year);
    let query = GapQuery {
        category: request.category,
        max_decile: request.max_decile,
        min_distance_m: request.min_distance_m,
        measure: request.measure,
    };
    let mut selection = gaps::select(&analysis.access, &d, &query);
    let rows = std::mem::take(&mut selection.gaps)
        .into_iter()
        .enumerate()
        .filter_map(|(i, g)| {
            let Some(Access::Measured(m)) = analysis.access.get(g.lsoa, request.category) else {
                return None;
            };
            Some(GapRow {
                rank: i + 1,
                lsoa: g.lsoa,
                decile: g.decile,
                distance_m: g.distance_m,
                measured: m.clone(),
                per_10k: analysis.fca.get(g.lsoa, request.category),
            })
        })
        .collect();
    let (deprived, unanswered) = unanswered(atlas, analysis, &d, request);
    GapReport {
        request: request.clone(),
        rows,
        selection,
        deprived,
        unanswered,
    }
}

/// The deprived LSOAs (count) and those of them a gap query cannot answer
/// for, by the same rules as [`gaps::select`]: outside coverage (no data),
/// far but possibly nearer an asset beyond a bounding-box edge, or
/// unmeasured.
fn unanswered(
    atlas: &Atlas,
    analysis: &Analysis,
    deciles: &[Option<u8>],
    request: &GapRequest,
) -> (usize, Vec<UnansweredRow>) {
    let mut deprived = 0;
    let mut out = Vec::new();
    for (lsoa, decile) in deciles.iter().enumerate() {
        let Some(decile) = decile.filter(|d| *d <= request.max_decile) else {
            continue;
        };
        deprived += 1;
        let why = match analysis.access.get(lsoa, request.category) {
            Some(Access::Measured(m)) => {
                let far = match request.measure {
                    Measure::Mean => m.mean_m,
                    Measure::Max => m.max_m,
                } >= request.min_distance_m;
                if far && m.edge.is_some() {
                    Unanswerable::CoverageEdge
                } else {
                    continue;
                }
            }
            Some(Access::NoData) => Unanswerable::NoData,
            Some(Access::NoAsset | Access::NoOrigin) | None => Unanswerable::Unmeasured,
        };
        out.push(UnansweredRow { lsoa, decile, why });
    }
    out.sort_by(|a, b| {
        a.decile.cmp(&b.decile).then_with(|| {
            let code = |i: usize| atlas.lsoa21.get(i).map(|l| l.code.as_str());
            code(a.lsoa).cmp(&code(b.lsoa))
        })
    });
    (deprived, out)
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10_f64.powi(places);
    (x * f).round() / f
}

impl GapReport {
    /// The flat properties of a row, in column order.
    #[must_use]
    pub fn row_properties(
        &self,
        atlas: &Atlas,
        analysis: &Analysis,
        row: &GapRow,
    ) -> Vec<(String, Value)> {
        let l = atlas.lsoa21.get(row.lsoa);
        let ward = l.and_then(|l| atlas.ward_of(l));
        let district = l.and_then(|l| atlas.district_of(l));
        let nearest = atlas.assets.get(row.measured.nearest_asset as usize);
        let mut p: Vec<(String, Value)> = vec![
            ("rank".into(), json!(row.rank)),
            ("lsoa21_code".into(), json!(l.map(|l| &l.code))),
            ("lsoa21_name".into(), json!(l.map(|l| &l.name))),
            ("indicator".into(), json!(self.request.indicator)),
            ("year".into(), json!(self.request.year.number())),
            ("decile".into(), json!(row.decile)),
            ("measure".into(), json!(self.request.measure.name())),
            ("distance_m".into(), json!(round(row.distance_m, 1))),
            (
                "mean_distance_m".into(),
                json!(round(row.measured.mean_m, 1)),
            ),
            ("max_distance_m".into(), json!(round(row.measured.max_m, 1))),
            ("min_distance_m".into(), json!(round(row.measured.min_m, 1))),
            ("distance_kind".into(), json!("straight-line")),
            ("nearest_asset_id".into(), json!(nearest.map(|a| &a.id))),
            ("nearest_asset_name".into(), json!(nearest.map(|a| &a.name))),
            (
                "nearest_asset_distance_m".into(),
                json!(round(row.measured.min_m, 1)),
            ),
        ];
        for (band, n) in analysis
            .access
            .params
            .bands_m
            .iter()
            .zip(&row.measured.within)
        {
            p.push((format!("assets_within_{band:.0}m"), json!(n)));
        }
        p.extend([
            (
                "assets_per_10k_residents".into(),
                row.per_10k.map_or(Value::Null, |v| json!(round(v, 3))),
            ),
            ("residents".into(), json!(l.and_then(|l| l.residents))),
            ("ward_code".into(), json!(ward.map(|w| &w.code))),
            ("ward_name".into(), json!(ward.map(|w| &w.name))),
            ("district_code".into(), json!(district.map(|d| &d.code))),
            ("district_name".into(), json!(district.map(|d| &d.name))),
            (
                "origins".into(),
                json!(analysis.access.origin_kinds.get(row.lsoa)),
            ),
            (
                "origin_count".into(),
                json!(analysis.access.origin_counts.get(row.lsoa)),
            ),
            ("status".into(), json!("gap")),
            ("reason".into(), Value::Null),
        ]);
        p
    }

    /// Why a deprived LSOA has no answer, for people.
    #[must_use]
    pub fn reason(&self, analysis: &Analysis, why: Unanswerable) -> String {
        match why {
            Unanswerable::NoData => analysis
                .access
                .no_data_reasons
                .get(self.request.category)
                .cloned()
                .unwrap_or_else(|| "no data".to_owned()),
            Unanswerable::CoverageEdge => "uncertain: the only source here is an extract with a bounding-box edge, and an asset just beyond that edge (not in the extract) could be nearer than the nearest one in it".to_owned(),
            Unanswerable::Unmeasured => "not measured: no asset of this category, or no point of the LSOA, to measure from".to_owned(),
        }
    }

    /// The flat properties of an unanswered LSOA: the columns of a gap row
    /// that describe the area, `status` (`no_data`, `coverage_edge`,
    /// `unmeasured`) and `reason`; distances are absent (null).
    #[must_use]
    pub fn unanswered_properties(
        &self,
        atlas: &Atlas,
        analysis: &Analysis,
        u: &UnansweredRow,
    ) -> Vec<(String, Value)> {
        let l = atlas.lsoa21.get(u.lsoa);
        let ward = l.and_then(|l| atlas.ward_of(l));
        let district = l.and_then(|l| atlas.district_of(l));
        vec![
            ("lsoa21_code".into(), json!(l.map(|l| &l.code))),
            ("lsoa21_name".into(), json!(l.map(|l| &l.name))),
            ("indicator".into(), json!(self.request.indicator)),
            ("year".into(), json!(self.request.year.number())),
            ("decile".into(), json!(u.decile)),
            ("measure".into(), json!(self.request.measure.name())),
            ("residents".into(), json!(l.and_then(|l| l.residents))),
            ("ward_code".into(), json!(ward.map(|w| &w.code))),
            ("ward_name".into(), json!(ward.map(|w| &w.name))),
            ("district_code".into(), json!(district.map(|d| &d.code))),
            ("district_name".into(), json!(district.map(|d| &d.name))),
            ("status".into(), json!(u.why.status())),
            ("reason".into(), json!(self.reason(analysis, u.why))),
        ]
    }

    /// What the report can and cannot say, in one sentence: when coverage
    /// prevents an answer for some deprived LSOAs, that comes first
    /// ("Cannot answer for 11 of 11 deprived LSOAs: no park data there.").
    #[must_use]
    pub fn headline(&self, atlas: &Atlas) -> String {
        let what = atlas
            .categories
            .get(self.request.category)
            .map_or_else(String::new, |c| c.id.replace('_', " "));
        let n =
            |k: usize, one: &str, many: &str| format!("{k} {}", if k == 1 { one } else { many });
        let count = |w: Unanswerable| self.unanswered.iter().filter(|u| u.why == w).count();
        let (no_data, edge, unmeasured) = (
            count(Unanswerable::NoData),
            count(Unanswerable::CoverageEdge),
            count(Unanswerable::Unmeasured),
        );
        let gaps = n(self.rows.len(), "gap", "gaps");
        if self.deprived == 0 {
            return format!(
                "No LSOA is in decile {} or below on {}: nothing to answer.",
                self.request.max_decile, self.request.indicator
            );
        }
        if self.unanswered.is_empty() {
            return format!(
                "{gaps} among {}.",
                n(self.deprived, "deprived LSOA", "deprived LSOAs")
            );
        }
        let mut why = Vec::new();
        if no_data > 0 {
            why.push(format!("no {what} data there ({no_data})"));
        }
        if edge > 0 {
            why.push(format!(
                "an asset beyond a data extract's edge could be nearer ({edge})"
            ));
        }
        if unmeasured > 0 {
            why.push(format!("nothing to measure from or to ({unmeasured})"));
        }
        let why = if why.len() == 1 {
            why.concat()
                .replace(&format!(" ({})", self.unanswered.len()), "")
        } else {
            why.join("; ")
        };
        let answered = self.deprived - self.unanswered.len();
        let rest = if answered == 0 {
            String::new()
        } else {
            format!(
                " {gaps} among the other {}.",
                n(answered, "deprived LSOA", "deprived LSOAs")
            )
        };
        format!(
            "Cannot answer for {} of {} deprived LSOAs: {why}.{rest}",
            self.unanswered.len(),
            self.deprived
        )
    }

    /// Totals: LSOAs, residents, wards.
    #[must_use]
    pub fn summary(&self, atlas: &Atlas) -> Value {
        let residents: u64 = self
            .rows
            .iter()
            .filter_map(|r| atlas.lsoa21.get(r.lsoa)?.residents)
            .map(u64::from)
            .sum();
        let wards: BTreeSet<&str> = self
            .rows
            .iter()
            .filter_map(|r| Some(atlas.ward_of(atlas.lsoa21.get(r.lsoa)?)?.code.as_str()))
            .collect();
        let unanswered_residents: u64 = self
            .unanswered
            .iter()
            .filter_map(|u| atlas.lsoa21.get(u.lsoa)?.residents)
            .map(u64::from)
            .sum();
        let count = |w: Unanswerable| self.unanswered.iter().filter(|u| u.why == w).count();
        json!({
            "headline": self.headline(atlas),
            "deprived_lsoas": self.deprived,
            "lsoas": self.rows.len(),
            "residents": residents,
            "wards": wards.len(),
            "ward_codes": wards,
            "ward_names": wards.iter().filter_map(|c| Some(atlas.ward_by_code(c)?.1.name.as_str())).collect::<Vec<_>>(),
            "cannot_answer": {
                "lsoas": self.unanswered.len(),
                "residents": unanswered_residents,
                "no_data": count(Unanswerable::NoData),
                "coverage_edge": count(Unanswerable::CoverageEdge),
                "unmeasured": count(Unanswerable::Unmeasured),
                "lsoa21_codes": self.unanswered.iter().filter_map(|u| Some(&atlas.lsoa21.get(u.lsoa)?.code)).collect::<Vec<_>>(),
            },
            "left_out": {
                "deprived_but_no_data": self.selection.deprived_no_data,
                "deprived_and_far_but_uncertain_coverage_edge": self.selection.deprived_uncertain,
                "deprived_but_unmeasured": self.selection.deprived_unmeasured,
                "lsoas_without_decile": self.selection.without_decile,
            }
        })
    }

    /// The parameters echoed back.
    #[must_use]
    pub fn parameters(&self, atlas: &Atlas) -> Value {
        json!({
            "category": atlas.categories.get(self.request.category).map(|c| &c.id),
            "max_decile": self.request.max_decile,
            "min_distance_m": self.request.min_distance_m,
            "domain": self.request.indicator,
            "year": self.request.year.number(),
            "measure": self.request.measure.name(),
        })
    }

    /// How everything was computed.
    #[must_use]
    pub fn method(&self, atlas: &Atlas, analysis: &Analysis) -> Value {
        let c = self.request.category;
        let fca = analysis.fca.params.as_ref();
        json!({
            "distance": "straight-line distance over the Earth's surface (geodesic, WGS84), not a travel distance by road or path",
            "origins": "the LSOA's postcode units: every current OS Code-Point Open unit whose position falls in the LSOA, residential or not (Code-Point Open has no residential flag), as in CDRC's Access to Healthy Assets and Hazards; an LSOA without postcodes uses one point on its surface (origins = interior_point)",
            "measures": {
                "mean_distance_m": "mean over the LSOA's origins of the distance to the nearest asset",
                "max_distance_m": "largest distance from one of the LSOA's origins to its nearest asset",
                "nearest_asset": "the asset nearest to any of the LSOA's origins, at min_distance_m",
                "assets_within": "assets within each band of the LSOA's origin centre (mean position of its postcodes)",
                "bands_m": analysis.access.params.bands_m,
            },
            "coverage": format!("LSOAs outside every source of the category are 'no data', never gaps ({})", analysis.access.no_data_reasons.get(c).map_or("", String::as_str)),
            "coverage_edge": "where every source covering an LSOA is a bounding-box extract and some origin's nearest asset is farther than the box edge, an asset beyond the extract could be nearer: such LSOAs are uncertain and left out of gaps",
            "capacity": {
                "method": "two-step floating catchment area (2SFCA, Luo and Wang 2003)",
                "supply": "1 per asset (no capacity is published for every source)",
                "demand": "Census 2021 usual residents, shared equally over the LSOA's postcodes",
                "catchment_m": fca.and_then(|f| f.catchment_m.get(c)),
                "decay": fca.map(|f| f.decay),
                "unit": "assets per 10,000 residents",
            },
            "deprivation": match self.request.year {
                Year::Y2025 => "IMD 2025 deciles of 2021 LSOAs (1 = most deprived 10% in England)",
                Year::Y2019 => "IMD 2019 deciles of 2011 LSOAs carried onto 2021 LSOAs: unchanged and split LSOAs take their 2011 parent's decile; merged or irregular ones take the decile of the parent with the largest mid-2015 population",
            },
            "deprived": format!("decile <= {} on {}", self.request.max_decile, self.request.indicator),
            "far": format!("{} distance >= {} m", self.request.measure.name(), self.request.min_distance_m),
            "sort": "decile ascending, then distance descending",
            "assets_located": super::located::assets_located(atlas, Some(c)),
            "sources": atlas.category_sources(c).map(|s| json!({"id": s.id, "title": s.title, "vintage": s.vintage, "coverage": s.coverage.description()})).collect::<Vec<_>>(),
            "attribution": attributions(atlas, c),
        })
    }

    /// GeoJSON FeatureCollection of the gaps, with the deprived LSOAs it
    /// cannot answer for (`cannot_answer`), summary, method and
    /// parameters; keys sorted as a `serde_json::Value` writes them. Written
    /// straight to text, each geometry from its polygons (CRS84, degrees to
    /// 6 places): as a JSON tree, England's report of every LSOA took some
    /// 400 MB to write a 35 MB answer.
    #[must_use]
    pub fn to_geojson_text(&self, atlas: &Atlas, analysis: &Analysis) -> String {
        let feature = |out: &mut String, lsoa: usize, props: Vec<(String, Value)>| {
            let l = atlas.lsoa21.get(lsoa);
            out.push_str("{\"geometry\":");
            match l {
                Some(l) => write_multipolygon(out, &l.geometry.lonlat),
                None => out.push_str("null"),
            }
            out.push_str(",\"id\":");
            out.push_str(&json!(l.map(|l| &l.code)).to_string());
            out.push_str(",\"properties\":");
            let props: serde_json::Map<String, Value> = props.into_iter().collect();
            out.push_str(&Value::Object(props).to_string());
            out.push_str(",\"type\":\"Feature\"}");
        };
        let mut out = String::with_capacity(4096 * (self.rows.len() + self.unanswered.len() + 1));
        out.push_str("{\"cannot_answer\":{\"features\":[");
        for (i, u) in self.unanswered.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            feature(
                &mut out,
                u.lsoa,
                self.unanswered_properties(atlas, analysis, u),
            );
        }
        out.push_str("],\"type\":\"FeatureCollection\"},\"features\":[");
        for (i, r) in self.rows.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            feature(&mut out, r.lsoa, self.row_properties(atlas, analysis, r));
        }
        let _ = write!(
            out,
            "],\"method\":{},\"numberReturned\":{},\"parameters\":{},\"summary\":{},\"type\":\"FeatureCollection\"}}",
            self.method(atlas, analysis),
            self.rows.len(),
            self.parameters(atlas),
            self.summary(atlas),
        );
        out
    }

    /// CSV with a header row: one row per gap (`status` = `gap`), then one
    /// per deprived LSOA the report cannot answer for (`status` = `no_data`,
    /// `coverage_edge` or `unmeasured`, with `reason`; no rank or distances).
    #[must_use]
    pub fn to_csv(&self, atlas: &Atlas, analysis: &Analysis) -> String {
        let mut out = String::new();
        let names: Vec<String> = Self::empty_columns(analysis);
        let quoted: Vec<String> = names.iter().map(|k| csv_field(k)).collect();
        let _ = writeln!(out, "{}", quoted.join(","));
        let mut write = |props: Vec<(String, Value)>| {
            let by_name: std::collections::HashMap<String, Value> = props.into_iter().collect();
            let values: Vec<String> = names
                .iter()
                .map(|k| csv_field(&by_name.get(k).map(plain).unwrap_or_default()))
                .collect();
            let _ = writeln!(out, "{}", values.join(","));
        };
        for r in &self.rows {
            write(self.row_properties(atlas, analysis, r));
        }
        for u in &self.unanswered {
            write(self.unanswered_properties(atlas, analysis, u));
        }
        out
    }

    fn empty_columns(analysis: &Analysis) -> Vec<String> {
        let mut v: Vec<String> = [
            "rank",
            "lsoa21_code",
            "lsoa21_name",
            "indicator",
            "year",
            "decile",
            "measure",
            "distance_m",
            "mean_distance_m",
            "max_distance_m",
            "min_distance_m",
            "distance_kind",
            "nearest_asset_id",
            "nearest_asset_name",
            "nearest_asset_distance_m",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        v.extend(
            analysis
                .access
                .params
                .bands_m
                .iter()
                .map(|b| format!("assets_within_{b:.0}m")),
        );
        v.extend(
            [
                "assets_per_10k_residents",
                "residents",
                "ward_code",
                "ward_name",
                "district_code",
                "district_name",
                "origins",
                "origin_count",
                "status",
                "reason",
            ]
            .iter()
            .map(|s| (*s).to_owned()),
        );
        v
    }
}

/// Attribution lines of the category's sources and the areas data.
fn attributions(atlas: &Atlas, category: usize) -> Vec<String> {
    let mut v: Vec<String> = atlas
        .category_sources(category)
        .map(|s| s.attribution.clone())
        .collect();
    v.push(atlas.imd2025.attribution.clone());
    v.push(atlas.imd2019.attribution.clone());
    for s in atlas.area_sources.iter() {
        if !v.contains(&s.attribution) {
            v.push(s.attribution.clone());
        }
    }
    v
}

/// A JSON value as plain text (strings unquoted, null empty). Text that a
/// spreadsheet would run as a formula (starting `=`, `+`, `-`, `@`, tab or
/// carriage return: register entries are typed by users, and planners open
/// these files in Excel) gets a leading `'`, after OWASP's CSV-injection
/// advice; numbers are written as numbers.
pub(crate) fn plain(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) if s.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{s}"),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Quotes a CSV field when it holds a comma, quote or line break.
pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Writes a (multi)polygon as a GeoJSON geometry, coordinates rounded to 6
/// decimals (about 0.1 m, finer than the generalised boundaries), without
/// building a JSON tree of it.
fn write_multipolygon(out: &mut String, mp: &geo::MultiPolygon<f64>) {
    #[derive(serde::Serialize)]
    struct Geometry<'a> {
        coordinates: Polygons<'a>,
        #[serde(rename = "type")]
        kind: &'static str,
    }
    struct Polygons<'a>(&'a geo::MultiPolygon<f64>);
    struct Rings<'a>(&'a geo::Polygon<f64>);
    struct Ring<'a>(&'a geo::LineString<f64>);
    impl serde::Serialize for Polygons<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(self.0 .0.iter().map(Rings))
        }
    }
    impl serde::Serialize for Rings<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(
                std::iter::once(self.0.exterior())
                    .chain(self.0.interiors())
                    .map(Ring),
            )
        }
    }
    impl serde::Serialize for Ring<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(
                self.0
                    .coords()
                    .map(|c| [(c.x * 1e6).round() / 1e6, (c.y * 1e6).round() / 1e6]),
            )
        }
    }
    let geometry = Geometry {
        coordinates: Polygons(mp),
        kind: "MultiPolygon",
    };
    match serde_json::to_string(&geometry) {
        Ok(text) => out.push_str(&text),
        // Serialising numbers and arrays cannot fail.
        Err(_) => out.push_str("null"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn csv_text_that_a_spreadsheet_would_run_is_neutralised() {
        assert_eq!(
            super::plain(&json!("=HYPERLINK(\"http://evil.example/\",\"Click\")")),
            "'=HYPERLINK(\"http://evil.example/\",\"Click\")"
        );
        for risky in ["+1", "-1+2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(super::plain(&json!(risky)).starts_with('\''), "{risky:?}");
        }
        assert_eq!(super::plain(&json!(-1.5)), "-1.5");
        assert_eq!(super::plain(&json!("Blackbird Leys")), "Blackbird Leys");
    }
}
