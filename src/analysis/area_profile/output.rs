//! An area profile as JSON (the process output), as a flat list of
//! measures, and as CSV (one area, or several side by side for compare).

use std::fmt::Write as _;

use serde_json::{json, Map, Value};

use super::assets::SourceCoverage;
use super::benchmarks::Benchmark;
use super::deprivation::{Deciles, Deprivation};
use super::AreaProfile;
use crate::analysis::rollup::SUMMARY_RULE;
use crate::atlas::Atlas;

fn round(x: f64, places: i32) -> f64 {
    let f = 10_f64.powi(places);
    (x * f).round() / f
}

/// A count of people as a whole number (rounded).
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // rounded, non-negative, far below 2^53
fn whole(x: f64) -> Value {
    json!(x.round().max(0.0) as u64)
}

fn num(x: Option<f64>, places: i32) -> Value {
    x.map_or(Value::Null, |v| json!(round(v, places)))
}

/// One indicator's deciles as JSON (residents to 0.1, shares to 4 places).
#[must_use]
pub fn deciles_json(d: &Deciles) -> Value {
    json!({
        "lsoas_with_decile": d.lsoas_with_decile,
        "lsoas_by_decile": d.lsoas_by_decile,
        "residents_by_decile": d.residents_by_decile.iter().map(|r| round(*r, 1)).collect::<Vec<_>>(),
        "lsoas_top10": d.lsoas_top(1),
        "lsoas_top20": d.lsoas_top(2),
        "residents_top10": round(d.residents_top(1), 1),
        "residents_top20": round(d.residents_top(2), 1),
        "resident_share_top10": num(d.resident_share_top(1), 4),
        "resident_share_top20": num(d.resident_share_top(2), 4),
    })
}

/// A release's figures as JSON: scores of every indicator (3 places) and
/// the deciles of the IMD and its domains.
#[must_use]
pub fn deprivation_json(d: &Deprivation) -> Value {
    json!({
        "imd_score": num(d.score("imd"), 3),
        "scores": d.scores.iter().map(|s| json!({"id": s.id, "label": s.label, "kind": s.kind, "score": num(s.score, 3)})).collect::<Vec<_>>(),
        "deciles": d.deciles.iter().map(|(id, x)| (id.clone(), deciles_json(x))).collect::<Map<_, _>>(),
    })
}

fn bands(bands_m: &[f64], values: impl Iterator<Item = Value>) -> Value {
    bands_m
        .iter()
        .map(|b| format!("{b}"))
        .zip(values)
        .collect::<Map<_, _>>()
        .into()
}

fn coverage_word(c: SourceCoverage) -> &'static str {
    match c {
        SourceCoverage::All => "covered",
        SourceCoverage::Part => "partly covered",
        SourceCoverage::None => "no data",
    }
}

fn benchmark_json(atlas: &Atlas, b: &Benchmark) -> Value {
    json!({
        "kind": b.kind,
        "code": b.code,
        "name": b.name,
        "residents": whole(b.residents),
        "2025": deprivation_json(&b.y2025),
        "2019": deprivation_json(&b.y2019),
        "mean_distance_m": atlas.categories.iter().zip(&b.mean_distance_m).map(|(c, d)| (c.id.clone(), num(*d, 0))).collect::<Map<_, _>>(),
    })
}

/// The profile as the process's JSON output.
#[must_use]
pub fn to_json(atlas: &Atlas, p: &AreaProfile) -> Value {
    let lsoas: Vec<Value> = p
        .shares
        .iter()
        .filter_map(|s| {
            let l = atlas.lsoa21.get(s.lsoa as usize)?;
            Some(json!({
                "code": l.code,
                "name": l.name,
                "share": round(s.share(), 4),
                "residents": l.residents,
                "residents_counted": round(s.residents(atlas), 1),
                "origins_inside": s.inside,
                "origins": s.origins,
            }))
        })
        .collect();
    let categories: Vec<Value> = p
        .categories
        .iter()
        .filter_map(|cp| {
            let cat = atlas.categories.get(cp.category)?;
            let a = &cp.assets;
            let x = &cp.access;
            let answerable = x.measured_residents > 0.0;
            Some(json!({
                "category": cat.id,
                "label": cat.label,
                "coverage": coverage_word(a.coverage),
                "no_data": (a.coverage != SourceCoverage::All).then(|| crate::analysis::access::no_data_reason(atlas, cp.category)),
                "assets_inside": a.inside,
                "assets_within_m": bands(&p.params.asset_bands_m, a.within.iter().map(|n| json!(n))),
                "by_source": a.sources.iter().filter_map(|s| {
                    let src = atlas.sources.get(s.source)?;
                    Some(json!({
                        "source": src.id,
                        "coverage": coverage_word(s.coverage),
                        "coverage_description": src.coverage.description(),
                        "assets_inside": s.inside,
                        "assets_within_m": bands(&p.params.asset_bands_m, s.within.iter().map(|n| json!(n))),
                    }))
                }).collect::<Vec<_>>(),
                "assets": a.assets.iter().filter_map(|n| {
                    let asset = atlas.assets.get(n.asset as usize)?;
                    Some(json!({
                        "id": asset.id,
                        "name": asset.name,
                        "source": atlas.sources.get(usize::from(asset.source)).map(|s| &s.id),
                        "distance_to_area_m": round(n.distance_m, 0),
                        "lon": round(asset.location.lonlat.x(), 6),
                        "lat": round(asset.location.lonlat.y(), 6),
                    }))
                }).collect::<Vec<_>>(),
                "access": {
                    "covered_residents": round(x.covered_residents, 1),
                    "measured_residents": round(x.measured_residents, 1),
                    "mean_distance_m": num(x.mean_m, 0),
                    "median_distance_m": num(x.median_m, 0),
                    "residents_within_m": bands(&p.params.access_bands_m, x.residents_within.iter().map(|r| json!(round(*r, 1)))),
                    "gap_residents": answerable.then(|| round(x.gap_residents, 1)),
                    "gap_lsoas": x.gap_lsoas.iter().filter_map(|&i| atlas.lsoa21.get(i as usize).map(|l| l.code.clone())).collect::<Vec<_>>(),
                    "deprived_far_residents": answerable.then(|| round(x.deprived_far_residents, 1)),
                    "cannot_answer": cannot_answer(atlas, cp.category, x),
                },
            }))
        })
        .collect();
    let b = p.boundary.lonlat_bbox;
    json!({
        "area": {
            "defined_by": p.kind,
            "bbox": [round(b.min().x, 6), round(b.min().y, 6), round(b.max().x, 6), round(b.max().y, 6)],
            "area_km2": round(p.area_m2 / 1e6, 3),
            "residents": whole(p.residents),
            "residents_unrounded": round(p.residents, 3),
            "postcode_units": p.postcode_units,
            "lsoas_counted": p.shares.len(),
            "lsoas_whole": p.shares.iter().filter(|s| s.inside >= s.origins).count(),
            "lsoas": lsoas,
        },
        "summary": {
            "2025": summary_year(&p.y2025),
            "2019": summary_year(&p.y2019),
            "rule": SUMMARY_RULE,
        },
        "deprivation": {"2025": deprivation_json(&p.y2025), "2019": deprivation_json(&p.y2019)},
        "categories": categories,
        "benchmarks": p.benchmarks.iter().map(|b| benchmark_json(atlas, b)).collect::<Vec<_>>(),
        "england": {"lsoa_share_top10": 0.1, "lsoa_share_top20": 0.2, "note": "deciles are national: 10% of England's LSOAs are in each decile by definition"},
        "parameters": p.params,
        "method": method(atlas),
        "sources": sources(atlas),
    })
}

fn summary_year(d: &Deprivation) -> Value {
    let mut v = d.deciles_of("imd").map_or(Value::Null, deciles_json);
    if let Some(o) = v.as_object_mut() {
        o.insert("imd_score".into(), num(d.score("imd"), 3));
    }
    v
}

/// How the profile is computed, for its method block.
#[must_use]
pub fn method(atlas: &Atlas) -> Value {
    json!({
        "residents": "Census 2021 usual residents apportioned from 2021 LSOAs by postcode units: each LSOA's residents are shared equally over its current OS Code-Point Open postcode units (an LSOA without any uses one point on its surface), and the area counts the units inside it or on its boundary; share = units inside / units of the LSOA. Code-Point Open has no residential flag, so every current unit counts.",
        "region": format!("only LSOAs of {} count: parts of an area outside it add nothing", atlas.region.name),
        "deprivation": SUMMARY_RULE,
        "weights": "LSOA figures are weighted by the residents counted (Census 2021 usual residents × share)",
        "years": "2019 values are IMD 2019 (2011 LSOAs) carried onto 2021 LSOAs: unchanged and split LSOAs take their 2011 parent's values; merged or irregular ones take the most populous parent's decile and the population-weighted score",
        "assets": "assets inside the area (or on its boundary) and within each band of its boundary: straight-line distance in British National Grid metres",
        "coverage": "where a category's sources do not cover an LSOA, there is no data there, not no asset; coverage says whether every, some or none of the area's LSOAs are covered",
        "access": "each postcode unit's straight-line geodesic distance (WGS84) to the nearest asset of the category, weighted by the residents it stands for; not a travel distance",
        "gaps": "gap_residents: residents counted in the area's LSOAs in IMD 2025 decile <= max_decile whose mean distance is >= min_distance_m (the /gaps definition); deprived_far_residents: residents of postcode units in those deprived LSOAs whose own distance is >= min_distance_m",
        "benchmarks": "the same figures over the whole 2021 LSOAs of each district the area draws from (district membership) and of the region; deciles are national, so England's shares in the most deprived 10% and 20% are 0.1 and 0.2",
        "assets_located": crate::analysis::located::assets_located(atlas, None),
    })
}

/// Every source behind a profile, with vintage and licence.
#[must_use]
pub fn sources(atlas: &Atlas) -> Value {
    let one = |s: &crate::atlas::AssetSource| json!({"id": s.id, "title": s.title, "publisher": s.publisher, "vintage": s.vintage, "licence": s.licence, "attribution": s.attribution});
    json!({
        "areas": atlas.area_sources.iter().map(one).collect::<Vec<_>>(),
        "deprivation": [
            {"title": atlas.imd2025.title, "attribution": atlas.imd2025.attribution},
            {"title": atlas.imd2019.title, "attribution": atlas.imd2019.attribution},
        ],
        "assets": atlas.sources.iter().map(one).collect::<Vec<_>>(),
    })
}

/// The profile as flat `(measure, value)` pairs, in a fixed order: the rows
/// of the CSV and of the compare table.
#[must_use]
pub fn measures(atlas: &Atlas, p: &AreaProfile) -> Vec<(String, Value)> {
    let mut m: Vec<(String, Value)> = vec![
        ("residents".into(), whole(p.residents)),
        ("area_km2".into(), json!(round(p.area_m2 / 1e6, 3))),
        ("lsoas_counted".into(), json!(p.shares.len())),
        ("postcode_units".into(), json!(p.postcode_units)),
    ];
    for d in [&p.y2025, &p.y2019] {
        let y = d.year.number();
        for s in &d.scores {
            m.push((format!("{}_score_{y}", s.id), num(s.score, 3)));
        }
        for (id, x) in &d.deciles {
            m.push((
                format!("{id}_{y}_resident_share_top10"),
                num(x.resident_share_top(1), 4),
            ));
            m.push((
                format!("{id}_{y}_resident_share_top20"),
                num(x.resident_share_top(2), 4),
            ));
        }
        if let Some(x) = d.deciles_of("imd") {
            for (k, r) in x.residents_by_decile.iter().enumerate() {
                m.push((
                    format!("imd_{y}_residents_decile_{}", k + 1),
                    json!(round(*r, 1)),
                ));
            }
            for (k, n) in x.lsoas_by_decile.iter().enumerate() {
                m.push((format!("imd_{y}_lsoas_decile_{}", k + 1), json!(n)));
            }
        }
    }
    for cp in &p.categories {
        let Some(cat) = atlas.categories.get(cp.category) else {
            continue;
        };
        let id = &cat.id;
        m.push((
            format!("{id}_coverage"),
            json!(coverage_word(cp.assets.coverage)),
        ));
        m.push((format!("{id}_assets_inside"), json!(cp.assets.inside)));
        for (b, n) in p.params.asset_bands_m.iter().zip(&cp.assets.within) {
            m.push((format!("{id}_assets_within_{b}m"), json!(n)));
        }
        m.push((format!("{id}_mean_distance_m"), num(cp.access.mean_m, 0)));
        m.push((
            format!("{id}_median_distance_m"),
            num(cp.access.median_m, 0),
        ));
        for (b, r) in p
            .params
            .access_bands_m
            .iter()
            .zip(&cp.access.residents_within)
        {
            m.push((format!("{id}_residents_within_{b}m"), json!(round(*r, 1))));
        }
        let answerable = cp.access.measured_residents > 0.0;
        m.push((
            format!("{id}_gap_residents"),
            json!(answerable.then(|| round(cp.access.gap_residents, 1))),
        ));
        m.push((
            format!("{id}_deprived_far_residents"),
            json!(answerable.then(|| round(cp.access.deprived_far_residents, 1))),
        ));
        m.push((
            format!("{id}_cannot_answer"),
            json!(cannot_answer(atlas, cp.category, &cp.access)),
        ));
    }
    m
}

/// Why an area's gap figures for a category are not given: no resident
/// was measured, because no source covers the area ("no data") or the
/// loaded data hold no asset of the category to measure to. A gap of 0
/// would read as "no gap" (the ward profile and `/gaps` say the same).
fn cannot_answer(
    atlas: &Atlas,
    category: usize,
    x: &super::access::CategoryAccess,
) -> Option<String> {
    if x.measured_residents > 0.0 {
        None
    } else if x.covered_residents > 0.0 {
        Some(
            "cannot answer: no asset of this category is in the loaded data, so no distance or gap can be measured"
                .to_owned(),
        )
    } else {
        Some(crate::analysis::access::no_data_reason(atlas, category))
    }
}

fn csv_field(v: &Value) -> String {
    let s = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Areas side by side as CSV: a `measure` column, then one column per
/// `(name, measures)` (each from [`measures`], same order).
#[must_use]
pub fn to_csv(columns: &[(String, Vec<(String, Value)>)]) -> String {
    let mut out = String::from("measure");
    for (name, _) in columns {
        out.push(',');
        out.push_str(&csv_field(&Value::String(name.clone())));
    }
    out.push_str("\r\n");
    let Some((_, first)) = columns.first() else {
        return out;
    };
    for (row, (key, _)) in first.iter().enumerate() {
        out.push_str(key);
        for (_, values) in columns {
            let _ = write!(
                out,
                ",{}",
                values.get(row).map_or(String::new(), |(_, v)| csv_field(v))
            );
        }
        out.push_str("\r\n");
    }
    out
}
