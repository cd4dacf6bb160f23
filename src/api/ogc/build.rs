//! Builds the collections once from the atlas and the planner's roll-ups:
//! typed property rows, geometries as GeoJSON in both CRSs, and references to
//! the atlas's polygons (held there once) for spatial filters.

use std::collections::HashMap;
use std::sync::Arc;

use geo::Rect;

use super::encode;
use super::model::{
    AreaList, Collection, Feature, FeatureGeometry, OgcState, PropDef, PropType, PropValue,
    Provenance, Row, Shapes,
};
use crate::analysis::Results;
use crate::atlas::{
    AssetSource, Atlas, CategoryIdx, ChangeCode, DeprivationRelease, DualPoint, DualPolygon,
    IndicatorValue, Lsoa21,
};

/// Accumulates a collection's schema and features.
pub(super) struct Builder {
    props: Vec<PropDef>,
    features: Vec<Feature>,
}

impl Builder {
    pub(super) fn new(fixed: &[(&str, PropType, &str)]) -> Self {
        Self {
            props: fixed
                .iter()
                .map(|(n, k, t)| PropDef {
                    name: (*n).to_owned(),
                    kind: *k,
                    title: (*t).to_owned(),
                })
                .collect(),
            features: Vec::new(),
        }
    }

    fn add_prop(&mut self, name: String, kind: PropType, title: String) {
        self.props.push(PropDef { name, kind, title });
    }

    /// Adds a feature whose values follow the schema; missing values are null.
    pub(super) fn push(
        &mut self,
        id: &str,
        mut values: Vec<PropValue>,
        geometry: Option<Arc<FeatureGeometry>>,
    ) {
        values.resize(self.props.len(), PropValue::Null);
        self.features.push(Feature {
            id: id.to_owned(),
            values: Row::new(&values),
            geometry,
        });
    }

    pub(super) fn finish(
        self,
        id: &str,
        title: String,
        description: &str,
        provenance: Vec<Provenance>,
        geometry_type: &'static str,
    ) -> Collection {
        let by_id = self
            .features
            .iter()
            .enumerate()
            .map(|(i, f)| (f.id.clone(), i))
            .collect();
        let extent = self
            .features
            .iter()
            .filter_map(|f| f.geometry.as_ref().map(|g| g.bboxes[0]))
            .reduce(|a, b| {
                Rect::new(
                    (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
                    (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
                )
            });
        let credits = provenance
            .iter()
            .map(|p| {
                format!(
                    "{} ({}, {}; {}).",
                    p.title, p.publisher, p.vintage, p.licence
                )
            })
            .collect::<Vec<_>>()
            .join(" ");
        Collection {
            id: id.to_owned(),
            title,
            description: format!("{description} Data: {credits}"),
            provenance,
            props: self.props,
            features: self.features,
            by_id,
            extent,
            geometry_type,
            temporal: None,
        }
    }
}

/// Writes chosen properties (all when `only` is `None`) as a JSON object.
pub fn write_properties(props: &[PropDef], values: &Row, only: Option<&[usize]>) -> String {
    let mut out = String::with_capacity(32 * values.len().max(1));
    push_properties(&mut out, props, values, only);
    out
}

/// Appends chosen properties (all when `only` is `None`) as a JSON object.
pub fn push_properties(out: &mut String, props: &[PropDef], values: &Row, only: Option<&[usize]>) {
    out.push('{');
    let mut first = true;
    let mut write = |i: usize| {
        if let (Some(p), Some(v)) = (props.get(i), values.get(i)) {
            if !first {
                out.push(',');
            }
            first = false;
            encode::push_str(out, &p.name);
            out.push(':');
            v.write_json(out);
        }
    };
    match only {
        Some(idx) => idx.iter().copied().for_each(&mut write),
        None => (0..values.len()).for_each(&mut write),
    }
    out.push('}');
}

/// The geometry of area `index` of `list`, whose polygons are `p`: the
/// shapes stay in the atlas (a reference, not a copy).
fn polygon_geometry(p: &DualPolygon, list: &AreaList, index: usize) -> FeatureGeometry {
    FeatureGeometry::new(
        Shapes::Area {
            list: list.clone(),
            index: u32::try_from(index).unwrap_or(u32::MAX),
        },
        [p.lonlat_bbox, p.bng_bbox],
    )
}

pub(super) fn point_geometry(p: DualPoint) -> FeatureGeometry {
    FeatureGeometry::new(
        Shapes::Point([p.lonlat, p.bng]),
        [
            Rect::new(p.lonlat.0, p.lonlat.0),
            Rect::new(p.bng.0, p.bng.0),
        ],
    )
}

pub(super) fn provenance(s: &AssetSource) -> Provenance {
    Provenance {
        title: s.title.clone(),
        publisher: s.publisher.clone(),
        vintage: s.vintage.clone(),
        licence: s.licence.clone(),
        attribution: s.attribution.clone(),
    }
}

fn area_provenance(atlas: &Atlas, ids: &[&str]) -> Vec<Provenance> {
    ids.iter()
        .filter_map(|id| atlas.area_sources.iter().find(|s| s.id == *id))
        .map(provenance)
        .collect()
}

/// What an indicator's score measures, after the IoD technical reports
/// (IoD2025 and IoD2019, §3 "domains and indicators"): the income-based
/// scores are rates, the others combined scores; for every one a higher
/// score means more deprived.
fn score_meaning(id: &str) -> &'static str {
    match id {
        "imd" => "the seven domain scores combined with the published domain weights (income and employment weigh most), after an exponential transformation of their ranks",
        "income" => "the proportion (0-1) of the population experiencing deprivation relating to low income",
        "employment" => "the proportion (0-1) of the working-age population involuntarily excluded from the labour market",
        "idaci" => "the proportion (0-1) of children aged 0-15 living in income-deprived families",
        "idaopi" => "the proportion (0-1) of people aged 60 and over experiencing income deprivation",
        _ => "a combined score of the domain's indicators (not a rate; it can be negative)",
    }
}

/// Adds `<indicator>_decile`, `_rank` and `_score` for every indicator of a
/// release, described as the IoD defines them: deciles and ranks count from
/// the most deprived (1), scores grow with deprivation.
fn add_indicator_props(b: &mut Builder, release: &DeprivationRelease) {
    for d in &release.indicators {
        b.add_prop(
            format!("{}_decile", d.id),
            PropType::Integer,
            format!(
                "{} decile ({}): national decile of LSOAs in England, 1 = most deprived 10%, 10 = least deprived 10%",
                d.label, release.title
            ),
        );
        b.add_prop(
            format!("{}_rank", d.id),
            PropType::Integer,
            format!(
                "{} rank ({}): national rank among the {} LSOAs in England, 1 = most deprived",
                d.label, release.title, release.areas_ranked
            ),
        );
        b.add_prop(
            format!("{}_score", d.id),
            PropType::Number,
            format!(
                "{} score ({}): {}; higher = more deprived",
                d.label,
                release.title,
                score_meaning(&d.id)
            ),
        );
    }
}

fn indicator_values(release: &DeprivationRelease, values: &[IndicatorValue]) -> Vec<PropValue> {
    let mut out = Vec::with_capacity(release.indicators.len() * 3);
    for i in 0..release.indicators.len() {
        let v = values.get(i).copied().unwrap_or_default();
        out.push(v.decile.into());
        out.push(v.rank.into());
        out.push(v.score.into());
    }
    out
}

/// The IMD 2019 values carried onto a 2021 LSOA (`analysis::history`), how
/// they were carried, and the check of a carried decile against its score.
fn add_carried_2019_props(b: &mut Builder) {
    use PropType::{Boolean, Integer, Number, String as Str};
    for (name, t, title) in [
        ("imd_decile_2019", Integer, "IMD 2019 decile carried onto this 2021 LSOA (IoD2019 is published on 2011 LSOAs): that of its 2011 LSOA if unchanged or split, of the linked 2011 LSOA with the largest mid-2015 population if merged or irregular"),
        ("imd_rank_2019", Integer, "IMD 2019 rank carried onto this 2021 LSOA, from the same 2011 LSOA as imd_decile_2019 (1 = most deprived of 32,844)"),
        ("imd_score_2019", Number, "IMD 2019 score carried onto this 2021 LSOA: its 2011 LSOA's if unchanged or split, the mid-2015-population-weighted mean of the linked 2011 LSOAs' if merged or irregular; higher = more deprived"),
        ("imd_2019_link", Str, "How this 2021 LSOA derives from 2011 LSOAs (ONS lookup change code): unchanged, split, merged or irregular"),
        ("imd_score_decile_2019", Integer, "The IMD 2019 decile that imd_score_2019 falls in: for an unchanged or split LSOA the published decile of its one 2011 LSOA (score and decile of the same area); for a merged or irregular one, by IoD2019's published decile score ranges over all 32,844 2011 LSOAs"),
        ("imd_decile_2019_disagrees", Boolean, "True where imd_score_decile_2019 differs from imd_decile_2019 (merged or irregular LSOAs only: the largest parent's decile is not where the carried score falls; read either with care); false otherwise, null without 2019 values"),
    ] {
        b.add_prop(name.to_owned(), t, title.to_owned());
    }
}

/// Values for [`add_carried_2019_props`]; `imd` is the IMD's position in
/// the 2019 release.
fn carried_2019_values(atlas: &Atlas, l: &Lsoa21, imd: Option<usize>) -> Vec<PropValue> {
    use crate::analysis::history::{carry_2019, score_decile_2019};
    let carried = carry_2019(atlas, l);
    let value = imd
        .and_then(|k| carried.get(k))
        .copied()
        .unwrap_or_default();
    let link = l
        .lsoa11
        .iter()
        .chain(&l.lsoa11_outside)
        .map(|(_, c)| match c {
            ChangeCode::Unchanged => "unchanged",
            ChangeCode::Split => "split",
            ChangeCode::Merged => "merged",
            ChangeCode::Irregular => "irregular",
        })
        .next();
    // One parent: its published decile is where its own score falls.
    let score_decile = imd
        .and_then(|k| score_decile_2019(atlas, l, &carried, k))
        .or(value.score.and(value.decile));
    let disagrees = match (score_decile, value.decile) {
        (Some(s), Some(d)) => PropValue::Bool(s != d),
        _ => PropValue::Null,
    };
    vec![
        value.decile.into(),
        value.rank.into(),
        value.score.into(),
        link.into(),
        score_decile.into(),
        disagrees,
    ]
}

fn lsoa21(atlas: &Atlas) -> Collection {
    use PropType::{Integer, String as Str};
    let mut b = Builder::new(&[
        ("code", Str, "ONS LSOA 2021 code"),
        ("name", Str, "ONS LSOA 2021 name"),
        ("district", Str, "Local authority district code (2024)"),
        ("district_name", Str, "Local authority district name"),
        ("ward", Str, "Best-fit electoral ward code (2024)"),
        ("ward_name", Str, "Best-fit electoral ward name (2024)"),
        ("residents", Integer, "Census 2021 usual residents"),
        ("rural_urban", Str, "Urban or Rural (2021 classification)"),
        ("ruc21_code", Str, "Rural/urban classification 2021 code"),
        (
            "ruc21_classification",
            Str,
            "Rural/urban classification 2021",
        ),
    ]);
    add_indicator_props(&mut b, &atlas.imd2025);
    add_carried_2019_props(&mut b);
    let imd = atlas.imd2019.position("imd");
    let list = AreaList::Lsoa21(Arc::clone(&atlas.lsoa21));
    for (i, l) in atlas.lsoa21.iter().enumerate() {
        let ward = atlas.ward_of(l);
        let district = atlas.district_of(l);
        let ru = l.rural_urban.as_ref();
        let mut values = vec![
            l.code.as_str().into(),
            l.name.as_str().into(),
            district.map(|d| d.code.as_str()).into(),
            district.map(|d| d.name.as_str()).into(),
            ward.map(|w| w.code.as_str()).into(),
            ward.map(|w| w.name.as_str()).into(),
            l.residents.into(),
            ru.map(|r| r.ruc.as_str()).into(),
            ru.map(|r| r.code.as_str()).into(),
            ru.map(|r| r.classification.as_str()).into(),
        ];
        values.extend(indicator_values(&atlas.imd2025, &l.imd));
        values.extend(carried_2019_values(atlas, l, imd));
        b.push(
            &l.code,
            values,
            Some(Arc::new(polygon_geometry(&l.geometry, &list, i))),
        );
    }
    b.finish(
        "lsoa",
        format!("Lower Layer Super Output Areas (2021), {}", atlas.region.name),
        &format!(
            "2021 LSOAs with the {} (national deciles and ranks, 1 = most deprived, and scores, higher = more deprived, for the index, domains and sub-domains), Census 2021 residents, rural/urban class, ward and district.",
            atlas.imd2025.title
        ),
        area_provenance(atlas, &["lsoa21", "imd2025", "population", "lookups"]),
        "MultiPolygon",
    )
}

fn lsoa11(atlas: &Atlas) -> Collection {
    use PropType::{Integer, String as Str};
    let mut b = Builder::new(&[
        ("code", Str, "ONS LSOA 2011 code"),
        ("name", Str, "ONS LSOA 2011 name"),
        (
            "district",
            Str,
            "Local authority district code (2022 lookup)",
        ),
        ("ward17", Str, "Best-fit electoral ward code (2017)"),
        (
            "population_2015",
            Integer,
            "Mid-2015 population (IoD2019 denominator)",
        ),
    ]);
    add_indicator_props(&mut b, &atlas.imd2019);
    let list = AreaList::Lsoa11(Arc::clone(&atlas.lsoa11));
    for (i, l) in atlas.lsoa11.iter().enumerate() {
        let mut values = vec![
            l.code.as_str().into(),
            l.name.as_str().into(),
            l.district_code.as_deref().into(),
            l.ward17.as_deref().into(),
            l.population_2015.into(),
        ];
        values.extend(indicator_values(&atlas.imd2019, &l.imd));
        b.push(
            &l.code,
            values,
            Some(Arc::new(polygon_geometry(&l.geometry, &list, i))),
        );
    }
    b.finish(
        "lsoa-2011",
        format!(
            "Lower Layer Super Output Areas (2011), {}",
            atlas.region.name
        ),
        &format!(
            "2011 LSOAs with the {} (national deciles and ranks, 1 = most deprived, and scores, higher = more deprived).",
            atlas.imd2019.title
        ),
        area_provenance(atlas, &["lsoa11", "imd2019", "lookups"]),
        "MultiPolygon",
    )
}

/// Appends the planner's roll-ups to each row, extending the schema the first
/// time a key is seen (rows without the key get null). A property of our own
/// wins over a roll-up of the same name.
fn merge_extra(
    b: &mut Builder,
    rows: &mut [Vec<PropValue>],
    extra: impl IntoIterator<Item = serde_json::Map<String, serde_json::Value>>,
    title: &dyn Fn(&str) -> String,
) {
    let base = b.props.len();
    // name -> (position, whether a non-null value has fixed its type yet)
    let mut names: HashMap<String, (usize, bool)> = HashMap::new();
    for (row, map) in rows.iter_mut().zip(extra) {
        for (k, v) in map {
            if b.props[..base].iter().any(|p| p.name == k) {
                continue;
            }
            let (value, kind) = PropValue::from_json(&v);
            let is_null = matches!(value, PropValue::Null);
            let (i, typed) = *names.entry(k.clone()).or_insert_with(|| {
                let i = b.props.len();
                b.add_prop(k.clone(), kind, title(&k));
                (i, !is_null)
            });
            if !is_null {
                if let Some(p) = b.props.get_mut(i) {
                    if !typed {
                        p.kind = kind;
                        names.insert(k, (i, true));
                    } else if matches!(
                        (p.kind, kind),
                        (PropType::Integer, PropType::Number)
                            | (PropType::Number, PropType::Integer)
                    ) {
                        p.kind = PropType::Number;
                    }
                }
            }
            if row.len() <= i {
                row.resize(i + 1, PropValue::Null);
            }
            if let Some(slot) = row.get_mut(i) {
                *slot = value;
            }
        }
    }
}

/// Describes a roll-up property of a ward or district, from its key (see
/// `analysis::rollup::flatten` for the keys and `analysis::rollup` for the
/// definitions). Unknown keys keep their name, spaced.
fn rollup_title(atlas: &Atlas, key: &str) -> String {
    let indicator = |id: &str| {
        atlas
            .imd2025
            .indicators
            .iter()
            .find(|d| d.id == id)
            .map_or_else(|| id.replace('_', " "), |d| d.label.clone())
    };
    let band = |top: &str| match top {
        "top10" => "the most deprived 10% of LSOAs in England (national decile 1)",
        _ => "the most deprived 20% of LSOAs in England (national decile 1 or 2)",
    };
    let release = |year: &str| match year {
        "2019" => "IoD2019, carried onto 2021 LSOAs",
        _ => "IoD2025",
    };
    if let Some(rest) = key.strip_prefix("official_") {
        let (year, measure) = rest.split_once('_').unwrap_or((rest, ""));
        return format!(
            "MHCLG official district summary, IoD{year} (File 10), as published: {}",
            measure.replace('_', " ")
        );
    }
    match key {
        "official_source" | "rollup_method" => return key.replace('_', " "),
        "lsoas" => return "2021 LSOAs in the area".to_owned(),
        "residents" => return "Census 2021 usual residents".to_owned(),
        "imd_score_change" => {
            return "imd_score_2025 minus imd_score_2019: positive = more deprived in 2025"
                .to_owned()
        }
        _ => {}
    }
    if let Some(year) = key.strip_prefix("imd_score_") {
        return format!(
            "GapMap roll-up (not the published figure): Census 2021 resident-weighted mean IMD score of the area's 2021 LSOAs ({}); higher = more deprived",
            release(year)
        );
    }
    for (suffix, what) in [
        ("_assets_inside", "located in the area's 2021 LSOAs"),
        (
            "_assets_within_1km",
            "inside the area or within 1 km of its boundary (null without a boundary)",
        ),
    ] {
        if let Some(cat) = key.strip_suffix(suffix) {
            return format!("{} {what}", category_label(atlas, cat));
        }
    }
    if let Some(cat) = key.strip_suffix("_mean_distance_m") {
        return format!(
            "{}: resident-weighted mean straight-line distance (m) from the area's LSOAs to the nearest one, over LSOAs the sources cover",
            category_label(atlas, cat)
        );
    }
    if let Some(cat) = key.strip_suffix("_per_10k_residents") {
        return format!(
            "{}: resident-weighted mean two-step floating catchment access, per 10,000 residents",
            category_label(atlas, cat)
        );
    }
    for top in ["top10", "top20"] {
        if let Some(id) = key.strip_suffix(&format!("_change_lsoas_{top}")) {
            return format!(
                "{}: change 2019 to 2025 in the area's LSOAs in {}",
                indicator(id),
                band(top)
            );
        }
        for (part, what) in [
            ("lsoas", "2021 LSOAs of the area in"),
            (
                "lsoa_share",
                "Share (0-1) of the area's LSOAs with a decile that are in",
            ),
            ("residents", "Census 2021 residents of the area's LSOAs in"),
            (
                "resident_share",
                "Share (0-1) of the area's residents (in LSOAs with a decile) living in",
            ),
        ] {
            if let Some(rest) = key.strip_suffix(&format!("_{part}_{top}")) {
                if let Some((id, year)) = rest.rsplit_once('_') {
                    return format!(
                        "{}: {what} {} ({})",
                        indicator(id),
                        band(top),
                        release(year)
                    );
                }
            }
        }
    }
    key.replace('_', " ")
}

fn category_label(atlas: &Atlas, id: &str) -> String {
    atlas
        .categories
        .iter()
        .find(|c| c.id == id)
        .map_or_else(|| id.replace('_', " "), |c| c.label.clone())
}

fn count(n: usize) -> PropValue {
    PropValue::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

/// The geometry of the `i`-th feature, `id`: shared with the same feature
/// of `previous` (an earlier build of the same collection over the same
/// areas) when there is one, else `make()`: encoding the polygons is most
/// of the cost of the `wards` and `districts` collections, and only their
/// roll-ups change with the assets.
fn shared_geometry(
    previous: Option<&Collection>,
    i: usize,
    id: &str,
    make: impl FnOnce() -> Option<FeatureGeometry>,
) -> Option<Arc<FeatureGeometry>> {
    match previous
        .and_then(|c| c.features.get(i))
        .filter(|f| f.id == id)
    {
        Some(f) => f.geometry.clone(),
        None => make().map(Arc::new),
    }
}

/// The `wards` collection; geometries are shared with `previous` (see
/// [`shared_geometry`]).
fn wards(atlas: &Atlas, results: &Results, previous: Option<&Collection>) -> Collection {
    use PropType::{Integer, String as Str};
    let mut b = Builder::new(&[
        ("code", Str, "Electoral ward code (2024)"),
        ("name", Str, "Electoral ward name (2024)"),
        ("district", Str, "Local authority district code"),
        ("district_name", Str, "Local authority district name"),
        (
            "lsoa_count",
            Integer,
            "2021 LSOAs assigned by the best-fit lookup",
        ),
        (
            "residents",
            Integer,
            "Census 2021 usual residents of those LSOAs; for a ward no LSOA best-fits, apportioned by postcode units (see boundary_note and the ward profile)",
        ),
        ("boundary_note", Str, "Where the boundary comes from"),
    ]);
    let mut rows = Vec::with_capacity(atlas.wards.len());
    // Counted once, and only when some ward needs its residents apportioned.
    let units = std::cell::OnceCell::new();
    for w in atlas.wards.iter() {
        let district = w.district.and_then(|d| atlas.districts.get(d as usize));
        let residents: u32 = w
            .lsoas
            .iter()
            .filter_map(|&l| atlas.lsoa21.get(l as usize)?.residents)
            .sum();
        let residents = if w.lsoas.is_empty() {
            let units = units.get_or_init(|| crate::analysis::apportion::UnitCounts::new(atlas));
            crate::analysis::apportion::residents_with(atlas, w, units).map_or(residents, |p| {
                // Rounded to whole residents; a ward holds far fewer than u32::MAX.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let r = p.residents.round() as u32;
                r
            })
        } else {
            residents
        };
        rows.push(vec![
            w.code.as_str().into(),
            w.name.as_str().into(),
            district.map(|d| d.code.as_str()).into(),
            district.map(|d| d.name.as_str()).into(),
            count(w.lsoas.len()),
            Some(residents).into(),
            w.geometry_note.as_str().into(),
        ]);
    }
    // The roll-up properties: several hundred per ward, made on all cores a
    // chunk at a time, each chunk merged before the next is made (England's
    // 7,700 maps at once took 185 MB, the start-up's peak).
    let indexes: Vec<usize> = (0..atlas.wards.len()).collect();
    let extra = indexes.chunks(256).flat_map(|chunk| {
        crate::parallel::par_map(chunk, |&i| {
            u32::try_from(i)
                .map(|i| results.ward_properties(i))
                .unwrap_or_default()
        })
    });
    merge_extra(&mut b, &mut rows, extra, &|k| rollup_title(atlas, k));
    let list = AreaList::Wards(Arc::clone(&atlas.wards));
    for (i, (w, row)) in atlas.wards.iter().zip(rows).enumerate() {
        let geometry = shared_geometry(previous, i, &w.code, || {
            w.geometry.as_ref().map(|p| polygon_geometry(p, &list, i))
        });
        b.push(&w.code, row, geometry);
    }
    b.finish(
        "wards",
        format!("Electoral wards (2024), {}", atlas.region.name),
        "Electoral wards with 2024 codes and names, their best-fit 2021 LSOAs and residents, and the planner's access and deprivation roll-ups. Boundaries are the December 2022 set (recoded wards take their 2022 shape); wards without a published boundary have a null geometry.",
        area_provenance(atlas, &["wards", "lookups", "population", "imd2025"]),
        "MultiPolygon",
    )
}

/// Where the `official_*` district figures come from.
const OFFICIAL_SOURCE: &str = "MHCLG, English Indices of Deprivation, local authority district summaries (File 10): IoD2025 corrected v2 (November 2025) on 2024 districts, IoD2019 on 2019 districts; computed by MHCLG on each release's own LSOAs. These are the published headline district figures.";

/// How GapMap's own district roll-ups (every property not `official_*`)
/// are made, so that no one takes them for the published figures.
const ROLLUP_METHOD: &str = "GapMap roll-up, not a published figure: over the district's 2021 LSOAs by district membership (ONS 2011-2021 LSOA lookup, 2022 districts); scores are means weighted by Census 2021 usual residents; IoD2019 values are carried onto 2021 LSOAs (unchanged and split LSOAs take their parent's, merged and irregular the mid-2015-population-weighted score and the largest parent's decile). E.g. Oxford's IoD2019 roll-up is 17.053, the published IoD2019 average score 16.707.";

/// The `districts` collection; geometries are shared with `previous` (see
/// [`shared_geometry`]).
fn districts(atlas: &Atlas, results: &Results, previous: Option<&Collection>) -> Collection {
    use PropType::{Integer, String as Str};
    let mut b = Builder::new(&[
        ("code", Str, "Local authority district code (2024)"),
        ("name", Str, "Local authority district name"),
        ("ward_count", Integer, "Electoral wards"),
        ("lsoa_count", Integer, "2021 LSOAs"),
        ("residents", Integer, "Census 2021 usual residents"),
    ]);
    let mut rows = Vec::with_capacity(atlas.districts.len());
    let mut extra = Vec::with_capacity(atlas.districts.len());
    for (i, d) in atlas.districts.iter().enumerate() {
        let residents: u32 = d
            .lsoas
            .iter()
            .filter_map(|&l| atlas.lsoa21.get(l as usize)?.residents)
            .sum();
        rows.push(vec![
            d.code.as_str().into(),
            d.name.as_str().into(),
            count(d.wards.len()),
            count(d.lsoas.len()),
            Some(residents).into(),
        ]);
        let mut props = u32::try_from(i)
            .map(|i| results.district_properties(i))
            .unwrap_or_default();
        // The headline figures: MHCLG's, as published.
        if let Some(figures) = atlas.district_summaries.figures.get(&d.code) {
            props.insert("official_source".into(), OFFICIAL_SOURCE.into());
            for (k, v) in figures {
                props.insert(k.clone(), serde_json::json!(v));
            }
        }
        props.insert("rollup_method".into(), ROLLUP_METHOD.into());
        extra.push(props);
    }
    merge_extra(&mut b, &mut rows, extra, &|k| rollup_title(atlas, k));
    let list = AreaList::Districts(Arc::clone(&atlas.districts));
    for (i, (d, row)) in atlas.districts.iter().zip(rows).enumerate() {
        let geometry = shared_geometry(previous, i, &d.code, || {
            Some(polygon_geometry(&d.geometry, &list, i))
        });
        b.push(&d.code, row, geometry);
    }
    b.finish(
        "districts",
        format!("Local authority districts (2024), {}", atlas.region.name),
        "Local authority districts: MHCLG's official IoD2025 and IoD2019 district summaries (official_*, the headline figures, as published), and GapMap's own residents, access and deprivation roll-ups over the district's member LSOAs (labelled by rollup_method; they differ from the published figures).",
        area_provenance(
            atlas,
            &[
                "districts",
                "population",
                "imd2025",
                "district_summaries_2025",
                "district_summaries_2019",
            ],
        ),
        "MultiPolygon",
    )
}

/// The assets collection, or one category's (`only`).
fn assets(atlas: &Atlas, only: Option<usize>) -> Collection {
    use PropType::{Boolean, Number, String as Str};
    let mut b = Builder::new(&[
        ("id", Str, "Asset id (<source>-<key>)"),
        ("name", Str, "Name as published"),
        ("category", Str, "Category id"),
        ("category_label", Str, "Category"),
        ("source", Str, "Source id"),
        ("source_vintage", Str, "Source data vintage"),
        ("licence", Str, "Licence of the source"),
        ("address", Str, "Address, where published"),
        ("postcode", Str, "Postcode, where published"),
        (
            "area_m2",
            Number,
            "Area in square metres (assets mapped as polygons)",
        ),
        (
            "location_precision",
            Str,
            "Null when the source gives the position; otherwise how approximate it is (an ended postcode placed at its postcode sector's centroid)",
        ),
        ("lsoa21", Str, "2021 LSOA containing the asset"),
        ("ward", Str, "Electoral ward (2024) of that LSOA"),
        ("district", Str, "Local authority district of that LSOA"),
        (
            "in_region",
            Boolean,
            "False for assets kept within the edge buffer outside the region",
        ),
    ]);
    for a in &atlas.assets {
        let cat = usize::from(a.category);
        if only.is_some_and(|o| o != cat) {
            continue;
        }
        let category = atlas.categories.get(cat);
        let source = atlas.sources.get(usize::from(a.source));
        let values = vec![
            a.id.as_str().into(),
            a.name.as_str().into(),
            category.map(|c| c.id.as_str()).into(),
            category.map(|c| c.label.as_str()).into(),
            source.map(|s| s.id.as_str()).into(),
            source.map(|s| s.vintage.as_str()).into(),
            source.map(|s| s.licence.as_str()).into(),
            a.address.as_deref().into(),
            a.postcode.as_deref().into(),
            a.area_m2.into(),
            a.location_precision.as_deref().into(),
            a.lsoa21
                .and_then(|i| atlas.lsoa21.get(i as usize))
                .map(|l| l.code.as_str())
                .into(),
            a.ward
                .and_then(|i| atlas.wards.get(i as usize))
                .map(|w| w.code.as_str())
                .into(),
            a.district
                .and_then(|i| atlas.districts.get(i as usize))
                .map(|d| d.code.as_str())
                .into(),
            PropValue::Bool(a.in_region),
        ];
        b.push(&a.id, values, Some(Arc::new(point_geometry(a.location))));
    }
    // Sources are credited even when a category has no asset from them yet.
    let sources: Vec<usize> = match only {
        Some(c) => atlas
            .categories
            .get(c)
            .map(|cat| cat.sources.iter().map(|&s| usize::from(s)).collect())
            .unwrap_or_default(),
        None => (0..atlas.sources.len()).collect(),
    };
    let provenance = sources
        .iter()
        .filter_map(|&s| atlas.sources.get(s))
        .map(provenance)
        .collect();
    match only.and_then(|c| atlas.categories.get(c)) {
        Some(cat) => b.finish(
            &format!("assets-{}", cat.id),
            format!("{} ({})", cat.label, atlas.region.name),
            &format!(
                "Community assets of one category: {}. Polygons (parks...) are shown as a point on their surface with their area. Outside a source's coverage an absent asset means no data.",
                cat.label.to_lowercase()
            ),
            provenance,
            "Point",
        ),
        None => b.finish(
            "assets",
            format!("Community assets, {}", atlas.region.name),
            "Community assets of every category (GP practices, pharmacies, libraries, parks...), with the LSOA, ward and district they lie in. Coverage differs by source: outside a source's coverage an absent asset means no data. Assets within the edge buffer outside the region are flagged in_region = false.",
            provenance,
            "Point",
        ),
    }
}

/// Builds every collection of a snapshot from its atlas and analysis
/// results; `tag` is the snapshot's, for ETags.
pub fn build(atlas: &Atlas, results: &Results, tag: u64) -> OgcState {
    build_with(atlas, results, atlas_collections(atlas), tag)
}

/// The collections that read the atlas alone (`lsoa`, `lsoa-2011`,
/// `assets` and `assets-<category>`), built on all cores, so that they can
/// be built while the analysis runs (`Snapshot::build`). Pass them to
/// [`build_with`].
#[must_use]
pub fn atlas_collections(atlas: &Atlas) -> Vec<Arc<Collection>> {
    type Job<'a> = Box<dyn Fn() -> Collection + Sync + 'a>;
    let mut jobs: Vec<Job<'_>> = vec![
        Box::new(|| lsoa21(atlas)),
        Box::new(|| lsoa11(atlas)),
        Box::new(|| assets(atlas, None)),
    ];
    for c in 0..atlas.categories.len() {
        jobs.push(Box::new(move || assets(atlas, Some(c))));
    }
    crate::parallel::par_map(&jobs, |job| Arc::new(job()))
}

/// [`build`] given the [`atlas_collections`] of the same atlas: adds the
/// `wards` and `districts` collections, which carry the analysis' roll-ups,
/// in the listed order (`lsoa`, `lsoa-2011`, `wards`, `districts`,
/// `assets`, `assets-<category>`...).
#[must_use]
pub fn build_with(
    atlas: &Atlas,
    results: &Results,
    mut collections: Vec<Arc<Collection>>,
    tag: u64,
) -> OgcState {
    let (wards, districts) = std::thread::scope(|s| {
        let wards = s.spawn(|| wards(atlas, results, None));
        let districts = districts(atlas, results, None);
        (
            wards
                .join()
                .unwrap_or_else(|_| self::wards(atlas, results, None)),
            districts,
        )
    });
    let at = collections.len().min(2);
    collections.splice(at..at, [Arc::new(wards), Arc::new(districts)]);
    assemble(atlas, collections, tag)
}

/// The collections of a snapshot whose atlas derives from `previous`'s
/// ([`Atlas::with_assets`]: same areas, other assets) and whose `results`
/// were updated for the `changed` categories ([`Results::update`]).
/// Collections that depend neither on assets nor on those categories are
/// shared with `previous`: `lsoa` and `lsoa-2011` always, `assets-<id>` of
/// every category not in `changed` that `previous` has, and `wards` and
/// `districts` (whose roll-ups cover every category) when no category
/// changed or was added. The rest is built as [`build`] builds it, except
/// that rebuilt `wards` and `districts` share their features' geometries
/// with `previous`. No collection holds the tag: ETags are made per
/// request from `tag`.
///
/// Equals [`build`] on `atlas` and `results` provided `changed` lists
/// every category whose assets, sources, label or coverage differ between
/// the two atlases.
pub fn rebuild(
    atlas: &Atlas,
    results: &Results,
    tag: u64,
    previous: &OgcState,
    changed: &[CategoryIdx],
) -> OgcState {
    let reuse = |id: &str| {
        previous
            .by_id
            .get(id)
            .and_then(|&i| previous.collections.get(i))
    };
    let or_build = |id: &str, make: &dyn Fn() -> Collection| {
        reuse(id).map_or_else(|| Arc::new(make()), Arc::clone)
    };
    let category_id = |c: usize| {
        atlas
            .categories
            .get(c)
            .map(|cat| format!("assets-{}", cat.id))
    };
    let unchanged = |c: usize| !changed.iter().any(|&x| usize::from(x) == c);
    let all_known = (0..atlas.categories.len())
        .all(|c| unchanged(c) && category_id(c).is_some_and(|id| reuse(&id).is_some()));
    let mut collections = vec![
        or_build("lsoa", &|| lsoa21(atlas)),
        or_build("lsoa-2011", &|| lsoa11(atlas)),
    ];
    if all_known {
        collections.push(or_build("wards", &|| wards(atlas, results, None)));
        collections.push(or_build("districts", &|| districts(atlas, results, None)));
    } else {
        // The roll-ups change; the boundaries do not.
        let wards = wards(atlas, results, reuse("wards").map(Arc::as_ref));
        collections.push(Arc::new(wards));
        let districts = districts(atlas, results, reuse("districts").map(Arc::as_ref));
        collections.push(Arc::new(districts));
    }
    collections.push(Arc::new(assets(atlas, None)));
    for c in 0..atlas.categories.len() {
        let kept = category_id(c)
            .filter(|_| unchanged(c))
            .and_then(|id| reuse(&id));
        collections.push(kept.map_or_else(|| Arc::new(assets(atlas, Some(c))), Arc::clone));
    }
    assemble(atlas, collections, tag)
}

/// The state serving `collections`.
fn assemble(atlas: &Atlas, collections: Vec<Arc<Collection>>, tag: u64) -> OgcState {
    let by_id = collections
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.clone(), i))
        .collect();
    let sources = atlas
        .area_sources
        .iter()
        .chain(&atlas.sources)
        .map(provenance)
        .collect();
    OgcState {
        collections,
        by_id,
        sources,
        region: atlas.region.name.clone(),
        startup_tag: tag,
    }
}
