//! Validation of register entries as clients send them: a GeoJSON feature
//! (OGC API – Features Part 4) or a row of an imported file, turned into
//! [`EntryFields`] or refused with the field at fault.
//!
//! Rules: `name` and `category` are required; the location is a point
//! (in CRS84, EPSG:4326 latitude-first, or British National Grid) or, when
//! the geometry is null, the centre of the given `postcode` from Code-Point
//! Open; it must lie in one of the served region's 2021 LSOAs (the region
//! the register covers). Text fields are trimmed, empty means absent, and
//! each has a length limit. `opening_hours` must parse as OpenStreetMap
//! `opening_hours`; dates are `YYYY-MM-DD` with `valid_from` ≤ `valid_to`.

use serde_json::{Map, Value};

use super::{LiveError, RowError};
use crate::atlas::Atlas;
use crate::model::normalise_postcode;
use crate::model::register::EntryFields;
use crate::sources::register::import::ImportRows;
use crate::sources::Reprojector;

/// The CRS of coordinates a client sends (`Content-Crs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputCrs {
    /// OGC CRS84: longitude, latitude (the default).
    Crs84,
    /// EPSG:4326 in its defined axis order: latitude, longitude.
    Epsg4326,
    /// EPSG:27700: easting, northing in metres.
    Bng,
}

impl InputCrs {
    /// From a `Content-Crs` header value (the URI, with or without angle
    /// brackets); `None` for any other CRS.
    #[must_use]
    pub fn from_header(value: &str) -> Option<Self> {
        let uri = value.trim().trim_start_matches('<').trim_end_matches('>');
        match uri {
            "http://www.opengis.net/def/crs/OGC/1.3/CRS84" => Some(Self::Crs84),
            "http://www.opengis.net/def/crs/EPSG/0/4326" => Some(Self::Epsg4326),
            "http://www.opengis.net/def/crs/EPSG/0/27700" => Some(Self::Bng),
            _ => None,
        }
    }
}

/// Properties that clients echo back from what they read (QGIS sends every
/// field) but that the server sets: accepted and ignored.
pub const SERVER_SET: &[&str] = &[
    "id",
    "fid",
    "version",
    "created_by",
    "created_at",
    "updated_by",
    "updated_at",
    "source",
    "licence",
    "attribution",
    "category_label",
    "lsoa21",
    "ward",
    "district",
    "open_today",
];

/// Properties a client may set.
pub const WRITABLE: &[&str] = &[
    "name",
    "category",
    "address",
    "postcode",
    "organisation",
    "contact",
    "description",
    "opening_hours",
    "capacity",
    "valid_from",
    "valid_to",
];

/// Limits in characters of the free-text fields.
const LIMITS: &[(&str, usize)] = &[
    ("name", 200),
    ("address", 500),
    ("organisation", 200),
    ("contact", 200),
    ("description", 4000),
    ("opening_hours", 500),
];

/// Largest `capacity` accepted.
pub const MAX_CAPACITY: u64 = 1_000_000;

fn invalid(field: &str, message: impl Into<String>) -> LiveError {
    LiveError::Invalid {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// Validates a GeoJSON feature sent to the register.
///
/// # Errors
/// [`LiveError::Invalid`] naming the member or property at fault
/// (`geometry`, `properties.name`, ...).
pub fn feature(body: &Value, crs: InputCrs, atlas: &Atlas) -> Result<EntryFields, LiveError> {
    let obj = body
        .as_object()
        .ok_or_else(|| invalid("body", "a GeoJSON Feature object"))?;
    match obj.get("type") {
        Some(Value::String(t)) if t == "Feature" => {}
        _ => return Err(invalid("type", "must be \"Feature\"")),
    }
    let Some(Value::Object(props)) = obj.get("properties") else {
        return Err(invalid(
            "properties",
            "an object with at least name and category",
        ));
    };
    let point = match obj.get("geometry") {
        None | Some(Value::Null) => None,
        Some(g) => Some(point(g)?),
    };
    properties(props, point, crs, atlas)
}

/// Reads a GeoJSON Point's two coordinates.
fn point(g: &Value) -> Result<(f64, f64), LiveError> {
    let o = g
        .as_object()
        .ok_or_else(|| invalid("geometry", "a GeoJSON Point or null"))?;
    if o.get("type").and_then(Value::as_str) != Some("Point") {
        return Err(invalid(
            "geometry",
            "a GeoJSON Point or null (entries are points)",
        ));
    }
    let c = o
        .get("coordinates")
        .and_then(Value::as_array)
        .filter(|c| c.len() == 2 || c.len() == 3)
        .ok_or_else(|| invalid("geometry", "coordinates must be [x, y]"))?;
    let x = c.first().and_then(Value::as_f64);
    let y = c.get(1).and_then(Value::as_f64);
    match (x, y) {
        (Some(x), Some(y)) if x.is_finite() && y.is_finite() => Ok((x, y)),
        _ => Err(invalid(
            "geometry",
            "coordinates must be two finite numbers",
        )),
    }
}

/// Validates the properties of an entry, with its point in `crs` (or none,
/// to geocode `postcode`).
///
/// # Errors
/// [`LiveError::Invalid`] naming the property at fault.
pub fn properties(
    props: &Map<String, Value>,
    point: Option<(f64, f64)>,
    crs: InputCrs,
    atlas: &Atlas,
) -> Result<EntryFields, LiveError> {
    for k in props.keys() {
        if !WRITABLE.contains(&k.as_str()) && !SERVER_SET.contains(&k.as_str()) {
            return Err(invalid(
                k,
                format!(
                    "unknown property; writable ones are {}",
                    WRITABLE.join(", ")
                ),
            ));
        }
    }
    let name = text(props, "name")?.ok_or_else(|| invalid("name", "required"))?;
    let category = text(props, "category")?.ok_or_else(|| invalid("category", "required"))?;
    if atlas.category_by_id(&category).is_none() {
        let ids: Vec<&str> = atlas.categories.iter().map(|c| c.id.as_str()).collect();
        return Err(invalid(
            "category",
            format!(
                "unknown category '{category}'; expected one of {}",
                ids.join(", ")
            ),
        ));
    }
    let postcode = match text(props, "postcode")? {
        None => None,
        Some(p) => Some(
            normalise_postcode(&p)
                .ok_or_else(|| invalid("postcode", format!("'{p}' is not a UK postcode")))?,
        ),
    };
    let (lon, lat) = if let Some(p) = point {
        to_lonlat(p, crs)?
    } else {
        {
            let Some(code) = &postcode else {
                return Err(invalid(
                    "geometry",
                    "a point is required unless a postcode is given to place the entry",
                ));
            };
            let found = atlas.postcode(code).ok_or_else(|| {
                invalid(
                    "postcode",
                    format!(
                        "{code} is not a current postcode unit in {} (Code-Point Open); give a point instead",
                        atlas.region.name
                    ),
                )
            })?;
            (found.location.lonlat.x(), found.location.lonlat.y())
        }
    };
    if atlas.lsoa21_at(geo::Point::new(lon, lat)).is_none() {
        return Err(invalid(
            if point.is_some() {
                "geometry"
            } else {
                "postcode"
            },
            format!(
                "the point ({lon:.6}, {lat:.6}) lies outside {}, the region this register covers",
                atlas.region.name
            ),
        ));
    }
    let opening_hours = text(props, "opening_hours")?;
    if let Some(oh) = &opening_hours {
        opening_hours_syntax::parse(oh).map_err(|e| {
            invalid(
                "opening_hours",
                format!("not valid OpenStreetMap opening_hours syntax: {e}"),
            )
        })?;
    }
    let capacity = match props.get("capacity") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .filter(|&c| c <= MAX_CAPACITY)
                .and_then(|c| u32::try_from(c).ok())
                .ok_or_else(|| {
                    invalid(
                        "capacity",
                        format!("a whole number from 0 to {MAX_CAPACITY}"),
                    )
                })?,
        ),
    };
    let valid_from = date(props, "valid_from")?;
    let valid_to = date(props, "valid_to")?;
    if let (Some(f), Some(t)) = (&valid_from, &valid_to) {
        if f > t {
            return Err(invalid("valid_to", format!("{t} is before valid_from {f}")));
        }
    }
    Ok(EntryFields {
        name,
        category,
        lon,
        lat,
        address: text(props, "address")?,
        postcode,
        organisation: text(props, "organisation")?,
        contact: text(props, "contact")?,
        description: text(props, "description")?,
        opening_hours,
        capacity,
        valid_from,
        valid_to,
    })
}

/// A text property: trimmed, empty → `None`, within its length limit, no
/// control characters but line breaks and tabs.
fn text(props: &Map<String, Value>, field: &str) -> Result<Option<String>, LiveError> {
    let s = match props.get(field) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.trim(),
        Some(_) => return Err(invalid(field, "must be text")),
    };
    if s.is_empty() {
        return Ok(None);
    }
    let limit = LIMITS
        .iter()
        .find(|(f, _)| *f == field)
        .map_or(100, |(_, l)| *l);
    if s.chars().count() > limit {
        return Err(invalid(field, format!("at most {limit} characters")));
    }
    if s.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return Err(invalid(field, "contains control characters"));
    }
    Ok(Some(s.to_owned()))
}

/// A `YYYY-MM-DD` calendar date.
fn date(props: &Map<String, Value>, field: &str) -> Result<Option<String>, LiveError> {
    let Some(s) = text(props, field)? else {
        return Ok(None);
    };
    // Exactly ten characters: chrono alone would accept `2024-1-5`.
    if s.len() != 10 || chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").is_err() {
        return Err(invalid(field, format!("'{s}' is not a date YYYY-MM-DD")));
    }
    Ok(Some(s))
}

/// Converts a point in `crs` to CRS84 longitude, latitude.
fn to_lonlat(p: (f64, f64), crs: InputCrs) -> Result<(f64, f64), LiveError> {
    let (lon, lat) = match crs {
        InputCrs::Crs84 => p,
        InputCrs::Epsg4326 => (p.1, p.0),
        InputCrs::Bng => {
            if !(-1.0e5..=1.0e6).contains(&p.0) || !(-1.0e5..=1.5e6).contains(&p.1) {
                return Err(invalid(
                    "geometry",
                    "British National Grid coordinates must be an easting and northing in metres",
                ));
            }
            let r = Reprojector::from_epsg(27700).map_err(LiveError::Source)?;
            let d = r.points(&[p.0], &[p.1]).map_err(LiveError::Source)?;
            let d = d
                .first()
                .ok_or_else(|| invalid("geometry", "cannot be transformed"))?;
            (d.lonlat.x(), d.lonlat.y())
        }
    };
    if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
        return Err(invalid(
            "geometry",
            "longitude must be within -180..180 and latitude within -90..90 (CRS84 is longitude first)",
        ));
    }
    Ok((lon, lat))
}

/// Validates every row of an import file; all of them, so that the report
/// names each bad row and column.
///
/// # Errors
/// [`LiveError::InvalidRows`] listing every bad row (nothing is written).
pub fn rows(
    rows: &ImportRows,
    crs: InputCrs,
    atlas: &Atlas,
) -> Result<Vec<EntryFields>, LiveError> {
    let crs = match rows.epsg {
        Some(27700) => InputCrs::Bng,
        Some(4326) => InputCrs::Crs84,
        _ => crs,
    };
    let mut ok = Vec::with_capacity(rows.rows.len());
    let mut bad = Vec::new();
    for r in &rows.rows {
        let result = r
            .geometry
            .as_ref()
            .map(point)
            .transpose()
            .and_then(|p| properties(&r.properties, p, crs, atlas));
        match result {
            Ok(f) => ok.push(f),
            Err(LiveError::Invalid { field, message }) => bad.push(RowError {
                row: r.row,
                column: field,
                message,
            }),
            Err(other) => return Err(other),
        }
    }
    if bad.is_empty() {
        Ok(ok)
    } else {
        Err(LiveError::InvalidRows(bad))
    }
}

/// Applies a JSON merge patch (RFC 7396) to a feature.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7396_examples() {
        // RFC 7396 Appendix A, a selection.
        for (target, patch, result) in [
            (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
            (json!({"a":"b"}), json!({"a":null}), json!({})),
            (
                json!({"a":{"b":"c"}}),
                json!({"a":{"b":"d","c":null}}),
                json!({"a":{"b":"d"}}),
            ),
            (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
            (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
            (json!([1, 2]), json!({"a":"b","c":null}), json!({"a":"b"})),
        ] {
            let mut t = target.clone();
            merge_patch(&mut t, &patch);
            assert_eq!(t, result, "{target} + {patch}");
        }
    }

    #[test]
    fn content_crs_header_forms() {
        assert_eq!(
            InputCrs::from_header("<http://www.opengis.net/def/crs/EPSG/0/27700>"),
            Some(InputCrs::Bng)
        );
        assert_eq!(
            InputCrs::from_header("http://www.opengis.net/def/crs/OGC/1.3/CRS84"),
            Some(InputCrs::Crs84)
        );
        assert_eq!(InputCrs::from_header("<EPSG:3857>"), None);
    }
}
