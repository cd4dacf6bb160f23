//! `/collections/{id}/items` and `/collections/{id}/items/{featureId}`:
//! selection (bbox, equality on properties, CQL2), paging and GeoJSON output
//! written straight into a string from the precomputed pieces.

use std::cmp::Ordering;
use std::fmt::Write as _;

use geo::Rect;

use super::crs;
use super::encode;
use super::filter::{self, Filter, FilterLang};
use super::model::{Collection, Feature, FeatureGeometry, PropType, PropValue, ValueRef};
use super::params::{parse_bbox, parse_datetime, parse_sortby, parse_uint, Params, TimeInterval};
use crate::api::error::ApiError;
use crate::atlas::Crs;

/// Parameters `/items` accepts besides queryable property names.
pub const ITEMS_PARAMS: &[&str] = &[
    "f",
    "bbox",
    "bbox-crs",
    "limit",
    "offset",
    "crs",
    "properties",
    "filter",
    "filter-lang",
    "filter-crs",
    "datetime",
    "sortby",
];

/// Parameters a single feature accepts.
pub const FEATURE_PARAMS: &[&str] = &["f", "crs", "properties"];

/// Link relation of a collection's queryables (OGC API – Features Part 3).
pub const QUERYABLES_REL: &str = "http://www.opengis.net/def/rel/ogc/1.0/queryables";

/// Default page size.
pub const DEFAULT_LIMIT: u64 = 100;
/// Largest page size; larger requests are clamped to it.
pub const MAX_LIMIT: u64 = 10_000;

/// A parsed `/items` request.
#[derive(Debug)]
pub struct ItemsQuery {
    /// One box, or two for a CRS84 box crossing the antimeridian, in its CRS.
    bbox: Option<(Vec<Rect<f64>>, Crs)>,
    /// Page size after clamping.
    pub limit: usize,
    /// Features skipped.
    pub offset: usize,
    /// Output CRS.
    pub crs: Crs,
    properties: Option<Vec<usize>>,
    equals: Vec<(usize, PropValue)>,
    filter: Option<Filter>,
    /// The `datetime` asked. Collections without temporal properties
    /// select every feature for any valid value; the register selects the
    /// entries open during it.
    pub datetime: Option<TimeInterval>,
    /// The collection's temporal properties (start and end dates).
    temporal: Option<(usize, usize)>,
    /// `sortby` keys: property position and whether descending.
    sort: Vec<(usize, bool)>,
}

/// The positions of the named properties, in the order first named: a
/// repeated name is written once (a JSON object has no duplicate keys, and
/// a short URL must not multiply the response).
fn parse_properties(c: &Collection, value: &str) -> Result<Vec<usize>, ApiError> {
    let mut seen = vec![false; c.props.len()];
    let positions: Vec<usize> = value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|name| {
            c.prop(name).ok_or_else(|| {
                ApiError::bad_parameter(
                    "properties",
                    format!(
                        "a comma-separated list of properties of '{}'; '{name}' is not one (known: {})",
                        c.id,
                        c.props.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                )
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(positions
        .into_iter()
        .filter(|&i| seen.get_mut(i).is_some_and(|s| !std::mem::replace(s, true)))
        .collect())
}

/// Parses the value of an equality filter `name=value` for the property's type.
fn parse_equal(name: &str, kind: PropType, value: &str) -> Result<PropValue, ApiError> {
    let v = value.trim();
    match kind {
        PropType::Integer => v
            .parse::<i64>()
            .map(PropValue::Int)
            .map_err(|_| ApiError::bad_parameter(name, format!("an integer, got '{value}'"))),
        PropType::Number => v
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(PropValue::Float)
            .ok_or_else(|| ApiError::bad_parameter(name, format!("a number, got '{value}'"))),
        PropType::Boolean => match v {
            "true" => Ok(PropValue::Bool(true)),
            "false" => Ok(PropValue::Bool(false)),
            _ => Err(ApiError::bad_parameter(
                name,
                format!("true or false, got '{value}'"),
            )),
        },
        PropType::String => Ok(PropValue::Str(value.into())),
        PropType::Json => Err(ApiError::bad_parameter(
            name,
            "a queryable property (this one is not)",
        )),
    }
}

fn equal(have: ValueRef<'_>, want: &PropValue) -> bool {
    let want = want.as_ref();
    match (have, want) {
        #[allow(clippy::cast_precision_loss)] // property integers are far below 2^53
        (ValueRef::Int(a), ValueRef::Float(b)) => (a as f64 - b).abs() == 0.0,
        (ValueRef::Float(a), ValueRef::Float(b)) => (a - b).abs() == 0.0,
        _ => have == want,
    }
}

/// Whether a collection property can be given as an equality parameter.
pub fn is_queryable(c: &Collection, name: &str) -> bool {
    c.props
        .iter()
        .any(|p| p.name == name && p.kind != PropType::Json)
}

impl ItemsQuery {
    /// Parses and checks the query string of `/items`.
    ///
    /// # Errors
    /// A 400 naming the first bad parameter.
    pub fn parse(c: &Collection, params: &Params) -> Result<Self, ApiError> {
        params
            .check(ITEMS_PARAMS, |k| is_queryable(c, k))
            .map_err(|mut e| {
                if e.title == "Unknown parameter" {
                    let _ = write!(
                        e.detail,
                        ", or a queryable property of '{0}' (see /collections/{0}/queryables)",
                        c.id
                    );
                }
                e
            })?;
        let limit = match params.get("limit") {
            Some(v) => parse_uint("limit", v, 1)?.min(MAX_LIMIT),
            None => DEFAULT_LIMIT,
        };
        let offset = match params.get("offset") {
            Some(v) => parse_uint("offset", v, 0)?,
            None => 0,
        };
        let out_crs = crs_param(params, "crs")?.unwrap_or(Crs::Crs84);
        let bbox_crs = crs_param(params, "bbox-crs")?;
        let bbox = match params.get("bbox") {
            Some(v) => {
                let crs = bbox_crs.unwrap_or(Crs::Crs84);
                Some((parse_bbox(v, crs)?, crs))
            }
            None if bbox_crs.is_some() => {
                return Err(ApiError::bad_parameter(
                    "bbox-crs",
                    "to be given only with bbox",
                ));
            }
            None => None,
        };
        let properties = properties_param(c, params)?;
        let mut equals = Vec::new();
        for (k, v) in &params.pairs {
            if ITEMS_PARAMS.contains(&k.as_str()) {
                continue;
            }
            if let Some(i) = c.prop(k) {
                let kind = c.props.get(i).map_or(PropType::String, |p| p.kind);
                equals.push((i, parse_equal(k, kind, v)?));
            }
        }
        let lang = params
            .get("filter-lang")
            .map(FilterLang::parse)
            .transpose()?
            .unwrap_or(FilterLang::Text);
        let filter_crs = crs_param(params, "filter-crs")?.unwrap_or(Crs::Crs84);
        let filter = match params.get("filter") {
            Some(text) => Some(Filter::compile(&filter::parse(text, lang)?, c, filter_crs)?),
            None => None,
        };
        let datetime = params.get("datetime").map(parse_datetime).transpose()?;
        let sort = match params.get("sortby") {
            Some(v) => sort_keys(c, v)?,
            None => Vec::new(),
        };
        Ok(Self {
            bbox,
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
            offset: usize::try_from(offset).unwrap_or(usize::MAX),
            crs: out_crs,
            properties,
            equals,
            filter,
            datetime,
            temporal: c.temporal,
            sort,
        })
    }

    fn matches(&self, f: &Feature) -> bool {
        if let Some((rects, crs)) = &self.bbox {
            let slot = FeatureGeometry::slot(*crs);
            let Some(g) = &f.geometry else { return false };
            let (Some(b), Some(shape)) = (g.bboxes.get(slot), g.shape(slot)) else {
                return false;
            };
            let meets = |rect: &Rect<f64>| {
                let envelope_meets = b.min().x <= rect.max().x
                    && rect.min().x <= b.max().x
                    && b.min().y <= rect.max().y
                    && rect.min().y <= b.max().y;
                envelope_meets && shape.intersects(rect)
            };
            if !rects.iter().any(meets) {
                return false;
            }
        }
        if !self
            .equals
            .iter()
            .all(|(i, want)| f.values.get(*i).is_some_and(|have| equal(have, want)))
        {
            return false;
        }
        if let (Some(when), Some((from, to))) = (&self.datetime, self.temporal) {
            if !open_during(f.values.get(from), f.values.get(to), when) {
                return false;
            }
        }
        self.filter.as_ref().is_none_or(|flt| flt.matches(f))
    }

    /// Positions of every feature that matches: in collection order, or in
    /// `sortby` order with ties broken by feature id, so that pages of a
    /// sorted request never overlap or skip.
    pub fn select(&self, c: &Collection) -> Vec<usize> {
        let mut out: Vec<usize> = c
            .features
            .iter()
            .enumerate()
            .filter(|(_, f)| self.matches(f))
            .map(|(i, _)| i)
            .collect();
        if !self.sort.is_empty() {
            out.sort_by(|&a, &b| {
                let (Some(fa), Some(fb)) = (c.features.get(a), c.features.get(b)) else {
                    return Ordering::Equal;
                };
                self.sort
                    .iter()
                    .map(|&(i, descending)| {
                        let o = compare_values(fa.values.get(i), fb.values.get(i));
                        if descending {
                            o.reverse()
                        } else {
                            o
                        }
                    })
                    .find(|o| o.is_ne())
                    .unwrap_or_else(|| fa.id.cmp(&fb.id))
            });
        }
        out
    }
}

/// Whether days `from`..=`to` (`YYYY-MM-DD`, either end open when null)
/// intersect a `datetime` instant or interval: the first day starts at its
/// 00:00 UTC and the last day ends before the next day's.
fn open_during(from: Option<ValueRef<'_>>, to: Option<ValueRef<'_>>, when: &TimeInterval) -> bool {
    let day_start = |v: Option<ValueRef<'_>>| -> Option<i64> {
        let ValueRef::Str(s) = v? else { return None };
        let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
        Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp())
    };
    let secs = |i: &super::params::Instant| (i.secs, i.nanos);
    // Open when the entry starts no later than the interval ends...
    let starts_in_time = match (day_start(from), when.end) {
        (Some(f), Some(end)) => (f, 0) <= secs(&end),
        _ => true,
    };
    // ...and ends (the day after `to` begins) after the interval starts.
    let ends_in_time = match (day_start(to), when.start) {
        (Some(t), Some(start)) => secs(&start) < (t + 86_400, 0),
        _ => true,
    };
    starts_in_time && ends_in_time
}

/// Resolves `sortby` names to queryable properties of the collection.
fn sort_keys(c: &Collection, value: &str) -> Result<Vec<(usize, bool)>, ApiError> {
    parse_sortby(value)?
        .into_iter()
        .map(|k| {
            c.prop(&k.name)
                .filter(|_| is_queryable(c, &k.name))
                .map(|i| (i, k.descending))
                .ok_or_else(|| {
                    ApiError::bad_parameter(
                        "sortby",
                        format!(
                            "queryable properties of '{0}' (see /collections/{0}/queryables); '{1}' is not one",
                            c.id, k.name
                        ),
                    )
                })
        })
        .collect()
}

/// Orders two values of one property: numbers numerically, text by code
/// point, false before true, and null after every value (so an ascending
/// sort lists nulls last and a descending one first, as SQL's default does).
fn compare_values(a: Option<ValueRef<'_>>, b: Option<ValueRef<'_>>) -> Ordering {
    use ValueRef::{Bool, Float, Int, Null, Str};
    let a = a.unwrap_or(Null);
    let b = b.unwrap_or(Null);
    #[allow(clippy::cast_precision_loss)] // property integers are far below 2^53
    let num = |v: ValueRef<'_>| match v {
        Int(i) => Some(i as f64),
        Float(f) => Some(f),
        _ => None,
    };
    match (a, b) {
        (Null, Null) => Ordering::Equal,
        (Null, _) => Ordering::Greater,
        (_, Null) => Ordering::Less,
        (Int(x), Int(y)) => x.cmp(&y),
        (Str(x), Str(y)) => x.cmp(y),
        (Bool(x), Bool(y)) => x.cmp(&y),
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            _ => Ordering::Equal,
        },
    }
}

/// Writes one feature as GeoJSON.
pub fn write_feature(
    out: &mut String,
    c: &Collection,
    f: &Feature,
    crs: Crs,
    only: Option<&[usize]>,
) {
    out.push_str("{\"type\":\"Feature\",\"id\":");
    encode::push_str(out, &f.id);
    out.push_str(",\"geometry\":");
    out.push_str(
        f.geometry
            .as_ref()
            .and_then(|g| g.json(FeatureGeometry::slot(crs)))
            .unwrap_or("null"),
    );
    out.push_str(",\"properties\":");
    super::build::push_properties(out, &c.props, &f.values, only);
}

/// About the length of a feature's properties object: room to write it
/// without reallocating most of the time.
fn properties_estimate(f: &Feature) -> usize {
    32 * f.values.len()
}

/// Links of a page: the parameters as given, with `offset` changed.
fn page_url(url: &str, params: &Params, offset: Option<usize>) -> String {
    let mut pairs: Vec<(String, String)> = params
        .pairs
        .iter()
        .filter(|(k, _)| k != "offset")
        .cloned()
        .collect();
    if let Some(o) = offset {
        pairs.push(("offset".to_owned(), o.to_string()));
    }
    if pairs.is_empty() {
        url.to_owned()
    } else {
        format!("{url}?{}", encode::query_string(&pairs))
    }
}

fn push_link(out: &mut String, href: &str, rel: &str, media: &str, title: &str) {
    out.push_str("{\"href\":");
    encode::push_str(out, href);
    out.push_str(",\"rel\":\"");
    out.push_str(rel);
    out.push_str("\",\"type\":\"");
    out.push_str(media);
    out.push_str("\",\"title\":\"");
    out.push_str(title);
    out.push_str("\"}");
}

/// Writes a page of features as a GeoJSON feature collection.
pub fn write_page(
    c: &Collection,
    q: &ItemsQuery,
    params: &Params,
    base: &str,
    selected: &[usize],
) -> String {
    let total = selected.len();
    let start = q.offset.min(total);
    let end = start.saturating_add(q.limit).min(total);
    let page = selected.get(start..end).unwrap_or(&[]);
    let only = q.properties.as_deref();
    let slot = FeatureGeometry::slot(q.crs);
    let estimate: usize = page
        .iter()
        .filter_map(|&i| c.features.get(i))
        .map(|f| {
            properties_estimate(f) + f.geometry.as_ref().map_or(4, |g| g.json_len_hint(slot)) + 64
        })
        .sum();
    let mut out = String::with_capacity(estimate + 1024);
    out.push_str("{\"type\":\"FeatureCollection\",\"numberMatched\":");
    encode::push_usize(&mut out, total);
    out.push_str(",\"numberReturned\":");
    encode::push_usize(&mut out, page.len());
    out.push_str(",\"timeStamp\":\"");
    out.push_str(&encode::rfc3339_now());
    out.push_str("\",\"links\":[");
    let url = format!("{base}/collections/{}/items", c.id);
    let this_offset = (q.offset > 0).then_some(q.offset);
    push_link(
        &mut out,
        &page_url(&url, params, this_offset),
        "self",
        "application/geo+json",
        "This page",
    );
    let mut html_params = params.clone();
    html_params.pairs.retain(|(k, _)| k != "f");
    html_params.pairs.push(("f".to_owned(), "html".to_owned()));
    out.push(',');
    push_link(
        &mut out,
        &page_url(&url, &html_params, this_offset),
        "alternate",
        "text/html",
        "This page as HTML",
    );
    if end < total {
        out.push(',');
        push_link(
            &mut out,
            &page_url(&url, params, Some(end)),
            "next",
            "application/geo+json",
            "Next page",
        );
    }
    if start > 0 {
        out.push(',');
        let prev = start.saturating_sub(q.limit);
        push_link(
            &mut out,
            &page_url(&url, params, Some(prev)),
            "prev",
            "application/geo+json",
            "Previous page",
        );
    }
    out.push(',');
    push_link(
        &mut out,
        &format!("{base}/collections/{}", c.id),
        "collection",
        "application/json",
        "The collection",
    );
    // OGC API – Features Part 3: the queryables are linked from the items too.
    out.push(',');
    push_link(
        &mut out,
        &format!("{base}/collections/{}/queryables", c.id),
        QUERYABLES_REL,
        "application/schema+json",
        "Queryable properties",
    );
    out.push_str("],\"features\":[");
    for (n, &i) in page.iter().enumerate() {
        if let Some(f) = c.features.get(i) {
            if n > 0 {
                out.push(',');
            }
            write_feature(&mut out, c, f, q.crs, only);
            out.push('}');
        }
    }
    out.push_str("]}");
    out
}

/// Writes a single feature with its links.
pub fn write_single(
    c: &Collection,
    f: &Feature,
    crs: Crs,
    only: Option<&[usize]>,
    base: &str,
) -> String {
    let mut out = String::with_capacity(properties_estimate(f) + 4096);
    write_feature(&mut out, c, f, crs, only);
    let url = format!("{base}/collections/{}/items/", c.id);
    let mut id = String::new();
    encode::push_query_component(&mut id, &f.id);
    out.push_str(",\"links\":[");
    push_link(
        &mut out,
        &format!("{url}{id}"),
        "self",
        "application/geo+json",
        "This feature",
    );
    out.push(',');
    push_link(
        &mut out,
        &format!("{url}{id}?f=html"),
        "alternate",
        "text/html",
        "This feature as HTML",
    );
    out.push(',');
    push_link(
        &mut out,
        &format!("{base}/collections/{}", c.id),
        "collection",
        "application/json",
        "The collection",
    );
    out.push_str("]}");
    out
}

/// Parses the parameters of a single-feature request.
///
/// # Errors
/// A 400 naming the first bad parameter.
pub fn parse_single(
    c: &Collection,
    params: &Params,
) -> Result<(Crs, Option<Vec<usize>>), ApiError> {
    params.check(FEATURE_PARAMS, |_| false)?;
    let out_crs = crs_param(params, "crs")?.unwrap_or(Crs::Crs84);
    Ok((out_crs, properties_param(c, params)?))
}

/// A CRS parameter (`crs`, `bbox-crs`, `filter-crs`), when given.
fn crs_param(params: &Params, name: &str) -> Result<Option<Crs>, ApiError> {
    params.get(name).map(|v| crs::parse(name, v)).transpose()
}

/// The `properties` parameter as property indexes, when given.
fn properties_param(c: &Collection, params: &Params) -> Result<Option<Vec<usize>>, ApiError> {
    params
        .get("properties")
        .map(|v| parse_properties(c, v))
        .transpose()
}
