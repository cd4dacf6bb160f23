//! Ward and district roll-ups: deprivation in 2019 and 2025 side by side,
//! assets, and access, over a set of 2021 LSOAs.
//!
//! - Both years are counted on the same 2021 LSOAs and Census 2021
//!   residents: 2019 values are carried onto 2021 LSOAs by
//!   [`super::history`] (splits inherit the parent's values; merges take the
//!   most populous parent's decile and the population-weighted score). So a
//!   change is a change in deprivation, not in geography or denominators.
//! - **IMD score**: the resident-weighted mean of the LSOAs' IMD scores
//!   (weights: Census 2021 usual residents; LSOAs with unknown residents
//!   carry no weight and are counted in [`AreaRollup::lsoas_unknown_residents`]).
//! - **Deciles are not averaged** ([`SUMMARY_RULE`]): an area's deprivation
//!   is its LSOAs and residents by national decile, the shares of residents
//!   in the most deprived 10% and 20%, and the population-weighted score.
//!   A mean of deciles mixes a rank-based band with population and hides
//!   the spread; every ward summary (map panel, printable page, JSON
//!   profile) is this one roll-up.
//! - **Most deprived 10% / 20%**: LSOAs with national decile 1 / ≤ 2, for the
//!   IMD and each of the seven domains; counts and shares of LSOAs and of
//!   residents (shares of those LSOAs/residents with a decile). Deciles are
//!   national, so England's own share is 10% / 20% by definition.
//! - **Assets inside**: assets of each category located in the area's LSOAs.
//! - **Assets within 1 km**: assets whose point lies within 1 km (BNG planar
//!   straight line) of the area's boundary or inside it, from all assets
//!   loaded (including those within the region's edge buffer).
//! - **Mean access distance**: resident-weighted mean of the LSOAs' mean
//!   straight-line distance to the nearest asset, over the LSOAs the
//!   category's sources cover (null when none is covered).

use geo::{Distance, Euclidean, Rect};

use super::access::{Access, AccessTable};
use super::fca::FcaTable;
use crate::atlas::{Atlas, DualPolygon, IndicatorValue};

/// The IMD and its seven domains, as rolled up.
pub const INDICATORS: [&str; 8] = [
    "imd",
    "income",
    "employment",
    "education",
    "health",
    "crime",
    "housing",
    "environment",
];

/// The ward and district summary rule, as stated on every page showing it.
pub const SUMMARY_RULE: &str = "Deciles are not averaged: the area's LSOAs and Census 2021 residents are counted by national decile (1 = most deprived 10% of LSOAs in England), with the share of residents in the most deprived 10% and 20%; the IMD score is the mean of the LSOAs' IMD scores weighted by Census 2021 usual residents. LSOAs with unknown residents carry no weight and are counted (lsoas_unknown_residents).";

/// Distance for "assets within" an area (metres).
pub const NEAR_M: f64 = 1000.0;

/// LSOAs and residents in the most deprived deciles for one indicator.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct DecileShare {
    /// LSOAs with a decile for the indicator.
    pub lsoas_with_decile: u32,
    /// LSOAs in the most deprived 10% (decile 1).
    pub lsoas_top10: u32,
    /// LSOAs in the most deprived 20% (decile ≤ 2).
    pub lsoas_top20: u32,
    /// Share of LSOAs in the most deprived 10%.
    pub lsoa_share_top10: Option<f64>,
    /// Share of LSOAs in the most deprived 20%.
    pub lsoa_share_top20: Option<f64>,
    /// Residents (Census 2021) in the most deprived 10%.
    pub residents_top10: u64,
    /// Residents in the most deprived 20%.
    pub residents_top20: u64,
    /// Share of residents in the most deprived 10%.
    pub resident_share_top10: Option<f64>,
    /// Share of residents in the most deprived 20%.
    pub resident_share_top20: Option<f64>,
    /// LSOAs by national decile: element `d - 1` counts decile `d`.
    pub lsoas_by_decile: [u32; 10],
    /// Census 2021 residents by national decile (unknown residents count 0).
    pub residents_by_decile: [u64; 10],
}

/// Deprivation of an area in one release.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct YearRollup {
    /// Resident-weighted mean IMD score.
    pub imd_score: Option<f64>,
    /// Per indicator of [`INDICATORS`], in that order.
    pub indicators: Vec<(String, DecileShare)>,
}

/// Assets and access of an area for one category.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct CategoryRollup {
    /// Category id.
    pub category: String,
    /// Assets located inside the area.
    pub assets_inside: u32,
    /// Assets inside or within [`NEAR_M`] of the area's boundary (`None` without a boundary).
    pub assets_within_1km: Option<u32>,
    /// Resident-weighted mean of the LSOAs' mean straight-line distances (m).
    pub mean_distance_m: Option<f64>,
    /// LSOAs covered by the category's sources.
    pub covered_lsoas: u32,
    /// Resident-weighted mean 2SFCA assets per 10,000 residents.
    pub per_10k_residents: Option<f64>,
}

/// A roll-up of an area.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct AreaRollup {
    /// 2021 LSOAs in the area.
    pub lsoas: u32,
    /// Census 2021 usual residents.
    pub residents: u64,
    /// LSOAs whose Census 2021 residents are unknown: no weight in the
    /// score and resident shares, still counted by decile.
    pub lsoas_unknown_residents: u32,
    /// IMD 2019 (carried onto 2021 LSOAs).
    pub y2019: YearRollup,
    /// IMD 2025.
    pub y2025: YearRollup,
    /// Per category, in category order.
    pub categories: Vec<CategoryRollup>,
}

/// Rolls up deprivation over LSOAs. `values(lsoa)` gives an LSOA's
/// indicator row; `position(id)` the indicator's place in it.
pub fn year_rollup<'a>(
    atlas: &'a Atlas,
    lsoas: &[u32],
    values: impl Fn(usize) -> Option<&'a [IndicatorValue]>,
    position: impl Fn(&str) -> Option<usize>,
) -> YearRollup {
    let people = |i: u32| atlas.residents(i);
    let imd = position("imd");
    let scores = lsoas.iter().filter_map(|&i| {
        let s = values(i as usize)?.get(imd?)?.score?;
        Some((s, f64::from(people(i))))
    });
    let imd_score = super::history::weighted_mean(scores);
    let indicators = INDICATORS
        .iter()
        .map(|id| {
            let d = position(id).map_or_else(DecileShare::default, |k| {
                decile_share(atlas, lsoas, |i| {
                    values(i).and_then(|v| v.get(k)).and_then(|v| v.decile)
                })
            });
            ((*id).to_owned(), d)
        })
        .collect();
    YearRollup {
        imd_score,
        indicators,
    }
}

/// LSOAs and residents of `lsoas` by national decile, where `decile(lsoa)`
/// gives an LSOA's decile (1-10) on one indicator. Weights are Census 2021
/// residents; an LSOA with unknown residents is counted with 0 residents.
pub fn decile_share(
    atlas: &Atlas,
    lsoas: &[u32],
    decile: impl Fn(usize) -> Option<u8>,
) -> DecileShare {
    let mut d = DecileShare::default();
    let mut with_people = 0_u64;
    for &i in lsoas {
        let Some(decile) = decile(i as usize) else {
            continue;
        };
        let p = u64::from(atlas.residents(i));
        d.lsoas_with_decile += 1;
        with_people += p;
        let slot = usize::from(decile.clamp(1, 10)) - 1;
        if let Some(n) = d.lsoas_by_decile.get_mut(slot) {
            *n += 1;
        }
        if let Some(n) = d.residents_by_decile.get_mut(slot) {
            *n += p;
        }
        if decile <= 1 {
            d.lsoas_top10 += 1;
            d.residents_top10 += p;
        }
        if decile <= 2 {
            d.lsoas_top20 += 1;
            d.residents_top20 += p;
        }
    }
    let share = |a: f64, b: f64| (b > 0.0).then(|| a / b);
    let n = f64::from(d.lsoas_with_decile);
    d.lsoa_share_top10 = share(f64::from(d.lsoas_top10), n);
    d.lsoa_share_top20 = share(f64::from(d.lsoas_top20), n);
    d.resident_share_top10 = share(d.residents_top10 as f64, with_people as f64);
    d.resident_share_top20 = share(d.residents_top20 as f64, with_people as f64);
    d
}

/// One indicator's decile summary as JSON (shares rounded to 4 places):
/// LSOAs and residents by decile (arrays of 10, decile 1 first), counts and
/// shares in the most deprived 10% and 20%.
#[must_use]
pub fn decile_share_json(d: &DecileShare) -> serde_json::Value {
    let r = |x: Option<f64>| x.map(|v| (v * 1e4).round() / 1e4);
    serde_json::json!({
        "lsoas_with_decile": d.lsoas_with_decile,
        "lsoas_by_decile": d.lsoas_by_decile,
        "residents_by_decile": d.residents_by_decile,
        "lsoas_top10": d.lsoas_top10,
        "lsoas_top20": d.lsoas_top20,
        "lsoa_share_top10": r(d.lsoa_share_top10),
        "lsoa_share_top20": r(d.lsoa_share_top20),
        "residents_top10": d.residents_top10,
        "residents_top20": d.residents_top20,
        "resident_share_top10": r(d.resident_share_top10),
        "resident_share_top20": r(d.resident_share_top20),
    })
}

/// The IMD summary of an area, the one every ward page shows: LSOAs,
/// residents, LSOAs with unknown residents, and per release (`2019`,
/// `2025`) the population-weighted IMD score (3 places) and the IMD
/// [`decile_share_json`]; `rule` is [`SUMMARY_RULE`].
#[must_use]
pub fn summary_json(r: &AreaRollup) -> serde_json::Value {
    let year = |y: &YearRollup| {
        let imd = y.indicators.iter().find(|(id, _)| id == "imd");
        let mut v = imd.map_or_else(
            || decile_share_json(&DecileShare::default()),
            |(_, d)| decile_share_json(d),
        );
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "imd_score".into(),
                serde_json::json!(y.imd_score.map(|s| (s * 1e3).round() / 1e3)),
            );
        }
        v
    };
    serde_json::json!({
        "lsoas": r.lsoas,
        "residents": r.residents,
        "lsoas_unknown_residents": r.lsoas_unknown_residents,
        "2019": year(&r.y2019),
        "2025": year(&r.y2025),
        "rule": SUMMARY_RULE,
    })
}

/// Assets per category inside the area (by the asset's LSOA) and within
/// [`NEAR_M`] of its boundary.
pub fn asset_counts(
    atlas: &Atlas,
    lsoas: &[u32],
    boundary: Option<&DualPolygon>,
) -> Vec<(u32, Option<u32>)> {
    let mut inside = vec![0_u32; atlas.categories.len()];
    let mut member = vec![false; atlas.lsoa21.len()];
    for &i in lsoas {
        if let Some(m) = member.get_mut(i as usize) {
            *m = true;
        }
    }
    for a in &atlas.assets {
        let is_in = a
            .lsoa21
            .is_some_and(|l| member.get(l as usize).copied().unwrap_or(false));
        if let (true, Some(n)) = (is_in, inside.get_mut(usize::from(a.category))) {
            *n += 1;
        }
    }
    (0..atlas.categories.len())
        .map(|c| {
            let near = boundary.map(|b| assets_near(atlas, c, b));
            (inside.get(c).copied().unwrap_or(0), near)
        })
        .collect()
}

/// Assets of category `c` inside or within [`NEAR_M`] of a boundary (BNG
/// planar distance).
fn assets_near(atlas: &Atlas, c: usize, b: &DualPolygon) -> u32 {
    let r = b.bng_bbox;
    let search = Rect::new(
        (r.min().x - NEAR_M, r.min().y - NEAR_M),
        (r.max().x + NEAR_M, r.max().y + NEAR_M),
    );
    let Some(tree) = atlas.indexes.assets.category(c) else {
        return 0;
    };
    let envelope = rstar::AABB::from_corners(
        [search.min().x, search.min().y],
        [search.max().x, search.max().y],
    );
    // Each site stands for every asset of the category at its position.
    tree.locate_in_envelope(&envelope)
        .filter(|e| {
            Euclidean.distance(&geo::Point::new(e.geom()[0], e.geom()[1]), &b.bng) <= NEAR_M
        })
        .map(|e| atlas.indexes.assets.copies(c, e.data))
        .fold(0_u32, u32::saturating_add)
}

/// The whole roll-up of an area.
pub fn rollup(
    atlas: &Atlas,
    lsoas: &[u32],
    boundary: Option<&DualPolygon>,
    imd2019: &[Vec<IndicatorValue>],
    access: &AccessTable,
    fca: &FcaTable,
) -> AreaRollup {
    let counts = asset_counts(atlas, lsoas, boundary);
    with_counts(atlas, lsoas, imd2019, access, fca, &counts)
}

/// [`rollup`] with the assets inside counted from `per_lsoa` (which must
/// have counted every category): for many areas of one atlas, a sum over
/// each area's LSOAs instead of a pass over every asset per area (England's
/// 7,000 wards took seconds that way).
#[allow(clippy::too_many_arguments)] // the inputs of `rollup`, plus the counts
pub fn rollup_counted(
    atlas: &Atlas,
    lsoas: &[u32],
    boundary: Option<&DualPolygon>,
    imd2019: &[Vec<IndicatorValue>],
    access: &AccessTable,
    fca: &FcaTable,
    per_lsoa: &AssetsPerLsoa,
) -> AreaRollup {
    // `rollup` counts an asset once however often its LSOA is listed.
    let mut distinct = lsoas.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let counts: Vec<(u32, Option<u32>)> = (0..atlas.categories.len())
        .map(|c| {
            (
                per_lsoa.inside(c, &distinct),
                boundary.map(|b| assets_near(atlas, c, b)),
            )
        })
        .collect();
    with_counts(atlas, lsoas, imd2019, access, fca, &counts)
}

/// The roll-up given each category's `(inside, near)` asset counts.
fn with_counts(
    atlas: &Atlas,
    lsoas: &[u32],
    imd2019: &[Vec<IndicatorValue>],
    access: &AccessTable,
    fca: &FcaTable,
    counts: &[(u32, Option<u32>)],
) -> AreaRollup {
    let people = |i: u32| atlas.residents(i);
    let y2025 = year_rollup(
        atlas,
        lsoas,
        |i| atlas.lsoa21.get(i).map(|l| l.imd.as_slice()),
        |id| atlas.imd2025.position(id),
    );
    let y2019 = year_rollup(
        atlas,
        lsoas,
        |i| imd2019.get(i).map(Vec::as_slice),
        |id| atlas.imd2019.position(id),
    );
    let categories = (0..atlas.categories.len())
        .map(|c| {
            let counts = counts.get(c).copied().unwrap_or((0, None));
            category_rollup(atlas, lsoas, c, counts, access, fca)
        })
        .collect();
    AreaRollup {
        lsoas: u32::try_from(lsoas.len()).unwrap_or(u32::MAX),
        residents: lsoas.iter().map(|&i| u64::from(people(i))).sum(),
        lsoas_unknown_residents: unknown_residents(atlas, lsoas),
        y2019,
        y2025,
        categories,
    }
}

/// LSOAs of `lsoas` whose Census 2021 residents are unknown.
fn unknown_residents(atlas: &Atlas, lsoas: &[u32]) -> u32 {
    let n = lsoas
        .iter()
        .filter(|&&i| {
            atlas
                .lsoa21
                .get(i as usize)
                .is_some_and(|l| l.residents.is_none())
        })
        .count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The roll-up of category `c` over LSOAs, given its `(inside, near)` asset
/// counts (see [`asset_counts`]).
fn category_rollup(
    atlas: &Atlas,
    lsoas: &[u32],
    c: usize,
    (inside, near): (u32, Option<u32>),
    access: &AccessTable,
    fca: &FcaTable,
) -> CategoryRollup {
    let people = |i: u32| atlas.residents(i);
    let measured: Vec<(f64, f64)> = lsoas
        .iter()
        .filter_map(|&i| match access.get(i as usize, c) {
            Some(Access::Measured(m)) => Some((m.mean_m, f64::from(people(i)))),
            _ => None,
        })
        .collect();
    let covered = lsoas
        .iter()
        .filter(|&&i| !matches!(access.get(i as usize, c), Some(Access::NoData) | None))
        .count();
    let per_10k = super::history::weighted_mean(
        lsoas
            .iter()
            .filter_map(|&i| Some((fca.get(i as usize, c)?, f64::from(people(i))))),
    );
    CategoryRollup {
        category: atlas
            .categories
            .get(c)
            .map(|cat| cat.id.clone())
            .unwrap_or_default(),
        assets_inside: inside,
        assets_within_1km: near,
        mean_distance_m: super::history::weighted_mean(measured.into_iter()),
        covered_lsoas: u32::try_from(covered).unwrap_or(u32::MAX),
        per_10k_residents: per_10k,
    }
}

/// Assets per 2021 LSOA (by the asset's LSOA) of the categories flagged in
/// `only`, for [`update`]: counting an area's assets is then a sum over its
/// LSOAs instead of a pass over every asset.
#[derive(Debug, Clone, Default)]
pub struct AssetsPerLsoa {
    /// Per category: counts per LSOA, `None` for categories not flagged.
    counts: Vec<Option<Vec<u32>>>,
}

impl AssetsPerLsoa {
    /// Counts the assets of the flagged categories.
    #[must_use]
    pub fn count(atlas: &Atlas, only: &[bool]) -> Self {
        let n = atlas.lsoa21.len();
        let mut counts: Vec<Option<Vec<u32>>> = (0..atlas.categories.len())
            .map(|c| only.get(c).copied().unwrap_or(false).then(|| vec![0; n]))
            .collect();
        for a in &atlas.assets {
            let slot = counts
                .get_mut(usize::from(a.category))
                .and_then(Option::as_mut)
                .zip(a.lsoa21)
                .and_then(|(v, l)| v.get_mut(l as usize));
            if let Some(k) = slot {
                *k += 1;
            }
        }
        Self { counts }
    }

    /// Assets of category `c` in a set of distinct LSOAs (0 when not counted).
    fn inside(&self, c: usize, distinct: &[u32]) -> u32 {
        let Some(Some(per)) = self.counts.get(c) else {
            return 0;
        };
        distinct
            .iter()
            .map(|&i| per.get(i as usize).copied().unwrap_or(0))
            .fold(0_u32, u32::saturating_add)
    }
}

/// The roll-up of an area over an atlas derived from the one `previous` was
/// computed on ([`Atlas::with_assets`]: same areas, other assets), with the
/// access and 2SFCA of the derived atlas: the categories flagged in
/// `recompute` (which `per_lsoa` must have counted) and those beyond
/// `previous`'s are rolled up anew, everything else (deprivation, residents,
/// the other categories) is copied. Equals [`rollup`] provided every
/// category whose assets differ is flagged.
#[allow(clippy::too_many_arguments)] // the same inputs as `rollup`, plus what to redo
pub fn update(
    previous: &AreaRollup,
    atlas: &Atlas,
    lsoas: &[u32],
    boundary: Option<&DualPolygon>,
    access: &AccessTable,
    fca: &FcaTable,
    recompute: &[bool],
    per_lsoa: &AssetsPerLsoa,
) -> AreaRollup {
    // `rollup` counts an asset once however often its LSOA is listed.
    let mut distinct = lsoas.to_vec();
    if !lsoas.windows(2).all(|w| w[0] < w[1]) {
        distinct.sort_unstable();
        distinct.dedup();
    }
    let categories = (0..atlas.categories.len())
        .map(|c| {
            let redo = recompute.get(c).copied().unwrap_or(true);
            match previous.categories.get(c) {
                Some(old) if !redo => old.clone(),
                _ => {
                    let inside = per_lsoa.inside(c, &distinct);
                    let near = boundary.map(|b| assets_near(atlas, c, b));
                    category_rollup(atlas, lsoas, c, (inside, near), access, fca)
                }
            }
        })
        .collect();
    AreaRollup {
        lsoas: previous.lsoas,
        residents: previous.residents,
        lsoas_unknown_residents: previous.lsoas_unknown_residents,
        y2019: previous.y2019.clone(),
        y2025: previous.y2025.clone(),
        categories,
    }
}

/// Flat, JSON-friendly properties of a roll-up (for OGC features): keys like
/// `imd_score_2025`, `health_2019_resident_share_top20`,
/// `imd_change_lsoas_top10`, `gp_practice_mean_distance_m`.
#[must_use]
pub fn flatten(r: &AreaRollup) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::{json, Value};
    let mut m = serde_json::Map::new();
    let round = |x: f64, places: i32| {
        let f = 10_f64.powi(places);
        (x * f).round() / f
    };
    let num = |x: Option<f64>, places: i32| x.map_or(Value::Null, |v| json!(round(v, places)));
    m.insert("lsoas".into(), json!(r.lsoas));
    m.insert("residents".into(), json!(r.residents));
    m.insert("imd_score_2019".into(), num(r.y2019.imd_score, 3));
    m.insert("imd_score_2025".into(), num(r.y2025.imd_score, 3));
    let change = match (r.y2019.imd_score, r.y2025.imd_score) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    m.insert("imd_score_change".into(), num(change, 3));
    for (year, yr) in [("2019", &r.y2019), ("2025", &r.y2025)] {
        for (id, d) in &yr.indicators {
            m.insert(format!("{id}_{year}_lsoas_top10"), json!(d.lsoas_top10));
            m.insert(format!("{id}_{year}_lsoas_top20"), json!(d.lsoas_top20));
            m.insert(
                format!("{id}_{year}_lsoa_share_top10"),
                num(d.lsoa_share_top10, 4),
            );
            m.insert(
                format!("{id}_{year}_lsoa_share_top20"),
                num(d.lsoa_share_top20, 4),
            );
            m.insert(
                format!("{id}_{year}_residents_top10"),
                json!(d.residents_top10),
            );
            m.insert(
                format!("{id}_{year}_residents_top20"),
                json!(d.residents_top20),
            );
            m.insert(
                format!("{id}_{year}_resident_share_top10"),
                num(d.resident_share_top10, 4),
            );
            m.insert(
                format!("{id}_{year}_resident_share_top20"),
                num(d.resident_share_top20, 4),
            );
        }
    }
    for ((id, a), (_, b)) in r.y2019.indicators.iter().zip(&r.y2025.indicators) {
        let diff = |x: u32, y: u32| i64::from(y) - i64::from(x);
        m.insert(
            format!("{id}_change_lsoas_top10"),
            json!(diff(a.lsoas_top10, b.lsoas_top10)),
        );
        m.insert(
            format!("{id}_change_lsoas_top20"),
            json!(diff(a.lsoas_top20, b.lsoas_top20)),
        );
    }
    for c in &r.categories {
        m.insert(
            format!("{}_assets_inside", c.category),
            json!(c.assets_inside),
        );
        m.insert(
            format!("{}_assets_within_1km", c.category),
            c.assets_within_1km.map_or(Value::Null, |n| json!(n)),
        );
        m.insert(
            format!("{}_mean_distance_m", c.category),
            num(c.mean_distance_m, 0),
        );
        m.insert(
            format!("{}_per_10k_residents", c.category),
            num(c.per_10k_residents, 3),
        );
    }
    m
}
