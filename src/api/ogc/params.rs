//! Query-string parsing shared by the OGC endpoints: every parameter is checked
//! against the endpoint's list (unknown ones are a 400, OGC API – Features
//! requirement 9), given at most once, and parsed into a typed value with an
//! error that names it.

use geo::Rect;

use crate::api::error::ApiError;
use crate::atlas::Crs;

pub use crate::api::query::Params;

/// Parses a non-negative integer parameter within `[min, ..]`.
///
/// # Errors
/// A 400 naming the parameter.
pub fn parse_uint(name: &str, value: &str, min: u64) -> Result<u64, ApiError> {
    value
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|v| *v >= min)
        .ok_or_else(|| ApiError::bad_parameter(name, format!("an integer ≥ {min}, got '{value}'")))
}

/// Plausible British National Grid coordinates (metres): the EPSG:27700
/// area of use (about −104 km..689 km east, −17 km..1 257 km north) widened
/// by roughly 100 km, as `([min_x, min_y], [max_x, max_y])`. Anything outside is not a BNG position (typically
/// longitudes and latitudes sent with the wrong `bbox-crs`, or a typo).
pub const BNG_PLAUSIBLE: ([f64; 2], [f64; 2]) =
    ([-200_000.0, -100_000.0], [800_000.0, 1_400_000.0]);

/// Parses a `bbox` given in `crs`: four numbers `minx,miny,maxx,maxy` (or
/// six, `minx,miny,minz,maxx,maxy,maxz`, whose heights are checked and then
/// ignored). Returns the box as one or two rectangles: in CRS84 a west edge
/// greater than the east edge means the box crosses the antimeridian
/// (OGC API – Features 1.0 §7.15.3), and it is split there into
/// `[west, 180]` and `[-180, east]`. Latitudes must lie in −90..90, longitudes
/// in −180..180, and BNG coordinates within [`BNG_PLAUSIBLE`].
///
/// # Errors
/// A 400 naming `bbox`.
pub fn parse_bbox(value: &str, crs: Crs) -> Result<Vec<Rect<f64>>, ApiError> {
    let bad = |why: &str| {
        ApiError::bad_parameter(
            "bbox",
            format!(
                "four comma-separated numbers minx,miny,maxx,maxy (or six with heights) in {}; {why}",
                crs.uri()
            ),
        )
    };
    let nums: Vec<f64> = value
        .split(',')
        .map(|s| s.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad(&format!("got '{value}'")))?;
    if nums.iter().any(|v| !v.is_finite()) {
        return Err(bad("got a non-finite number"));
    }
    let [x0, y0, x1, y1] = match nums.as_slice() {
        [a, b, c, d] => [*a, *b, *c, *d],
        [a, b, z0, d, e, z1] => {
            if z0 > z1 {
                return Err(bad("the lower height must not exceed the upper one"));
            }
            [*a, *b, *d, *e]
        }
        _ => return Err(bad(&format!("got {} numbers", nums.len()))),
    };
    if y0 > y1 {
        return Err(bad("the southern edge must not exceed the northern one"));
    }
    match crs {
        Crs::Crs84 => {
            if !(-90.0..=90.0).contains(&y0) || !(-90.0..=90.0).contains(&y1) {
                return Err(bad("latitudes must lie within -90..90"));
            }
            if !(-180.0..=180.0).contains(&x0) || !(-180.0..=180.0).contains(&x1) {
                return Err(bad("longitudes must lie within -180..180"));
            }
            if x0 > x1 {
                // Crosses the antimeridian.
                Ok(vec![
                    Rect::new((x0, y0), (180.0, y1)),
                    Rect::new((-180.0, y0), (x1, y1)),
                ])
            } else {
                Ok(vec![Rect::new((x0, y0), (x1, y1))])
            }
        }
        Crs::Bng => {
            if x0 > x1 {
                return Err(bad(
                    "the western edge must not exceed the eastern one (a projected CRS does not wrap)",
                ));
            }
            let ([min_x, min_y], [max_x, max_y]) = BNG_PLAUSIBLE;
            let inside =
                |x: f64, y: f64| (min_x..=max_x).contains(&x) && (min_y..=max_y).contains(&y);
            if !inside(x0, y0) || !inside(x1, y1) {
                return Err(bad(&format!(
                    "British National Grid eastings must lie within {min_x}..{max_x} m and northings within {min_y}..{max_y} m"
                )));
            }
            Ok(vec![Rect::new((x0, y0), (x1, y1))])
        }
    }
}

/// An instant of a `datetime` parameter: seconds since 1970-01-01T00:00:00Z
/// and nanoseconds, so that instants order correctly whatever their offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant {
    /// Whole seconds since the Unix epoch (negative before 1970).
    pub secs: i64,
    /// Nanoseconds (0..1e9), truncated beyond nine fractional digits.
    pub nanos: u32,
}

/// A parsed `datetime`: an instant (`start == end`), or an interval whose
/// open ends are `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeInterval {
    /// Start, `None` when open (`..`).
    pub start: Option<Instant>,
    /// End, `None` when open (`..`).
    pub end: Option<Instant>,
}

/// Parses a `datetime` parameter (OGC API – Features 1.0 §7.15.4): an
/// RFC 3339 date-time (`2018-02-12T23:20:50Z`, offsets and fractions
/// allowed) or full-date (`2018-02-12`, taken as its start in UTC for
/// ordering), or an interval `start/end` whose ends are such instants or
/// `..` (or empty) for an open end. Both ends cannot be open, and the start
/// must not come after the end.
///
/// # Errors
/// A 400 naming `datetime`.
pub fn parse_datetime(value: &str) -> Result<TimeInterval, ApiError> {
    let bad = |why: String| {
        ApiError::bad_parameter(
            "datetime",
            format!(
                "an RFC 3339 date-time or date (2018-02-12T23:20:50Z, 2018-02-12), or an interval start/end with '..' for an open end; {why}"
            ),
        )
    };
    let parts: Vec<&str> = value.split('/').collect();
    let instant = |s: &str| parse_instant(s).ok_or_else(|| bad(format!("'{s}' is not one")));
    match parts.as_slice() {
        [one] => {
            let t = instant(one)?;
            Ok(TimeInterval {
                start: Some(t),
                end: Some(t),
            })
        }
        [a, b] => {
            let open = |s: &str| s.is_empty() || s == "..";
            let start = if open(a) { None } else { Some(instant(a)?) };
            let end = if open(b) { None } else { Some(instant(b)?) };
            match (start, end) {
                (None, None) => Err(bad("both ends of the interval are open".to_owned())),
                (Some(s), Some(e)) if s > e => Err(bad(format!("'{a}' comes after '{b}'"))),
                _ => Ok(TimeInterval { start, end }),
            }
        }
        _ => Err(bad(format!("got '{value}'"))),
    }
}

/// Parses `n` ASCII digits.
fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// days-from-civil).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// An RFC 3339 `full-date` or `date-time`, or `None`.
fn parse_instant(s: &str) -> Option<Instant> {
    let (date, time) = match s.find(['T', 't']) {
        Some(i) => (s.get(..i)?, Some(s.get(i + 1..)?)),
        None => (s, None),
    };
    let d: Vec<&str> = date.split('-').collect();
    let [y, m, dd] = d.as_slice() else {
        return None;
    };
    if y.len() != 4 || m.len() != 2 || dd.len() != 2 {
        return None;
    }
    let (year, month, day) = (digits(y)?, digits(m)?, digits(dd)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut secs = days_from_civil(year, month, day) * 86_400;
    let mut nanos = 0_u32;
    if let Some(t) = time {
        // partial-time then time-offset: Z, or +hh:mm / -hh:mm.
        let (clock, offset) = if let Some(c) = t.strip_suffix(['Z', 'z']) {
            (c, 0)
        } else {
            let i = t.rfind(['+', '-'])?;
            let (c, o) = (t.get(..i)?, t.get(i..)?);
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let (oh, om) = o.get(1..)?.split_once(':')?;
            if oh.len() != 2 || om.len() != 2 {
                return None;
            }
            let (oh, om) = (digits(oh)?, digits(om)?);
            if oh > 23 || om > 59 {
                return None;
            }
            (c, sign * (oh * 3600 + om * 60))
        };
        let (whole, frac) = match clock.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (clock, None),
        };
        let c: Vec<&str> = whole.split(':').collect();
        let [h, mi, se] = c.as_slice() else {
            return None;
        };
        if h.len() != 2 || mi.len() != 2 || se.len() != 2 {
            return None;
        }
        let (h, mi, se) = (digits(h)?, digits(mi)?, digits(se)?);
        // 60 is a leap second.
        if h > 23 || mi > 59 || se > 60 {
            return None;
        }
        if let Some(f) = frac {
            digits(f)?;
            let nine: String = f.chars().chain(std::iter::repeat('0')).take(9).collect();
            nanos = u32::try_from(digits(&nine)?).ok()?;
        }
        secs += h * 3600 + mi * 60 + se - offset;
    }
    Some(Instant { secs, nanos })
}

/// One key of a `sortby` parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    /// Property name.
    pub name: String,
    /// True for `-name` (descending); `+name` and `name` ascend.
    pub descending: bool,
}

/// Parses `sortby` (OGC API – Features Part 8 / the Records sorting
/// extension): a comma-separated list of property names, each optionally
/// prefixed by `+` (ascending, the default) or `-` (descending). A `+` that
/// form-decoding turned into a space counts as `+`.
///
/// # Errors
/// A 400 naming `sortby` for an empty key or a name that is not
/// `[A-Za-z_][A-Za-z0-9_.:-]*`-like.
pub fn parse_sortby(value: &str) -> Result<Vec<SortKey>, ApiError> {
    value
        .split(',')
        .map(|raw| {
            let k = raw.trim();
            let (descending, name) = match k.as_bytes().first() {
                Some(b'-') => (true, k.get(1..).unwrap_or("")),
                Some(b'+') => (false, k.get(1..).unwrap_or("")),
                _ => (false, k),
            };
            let valid = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
            if valid {
                Ok(SortKey {
                    name: name.to_owned(),
                    descending,
                })
            } else {
                Err(ApiError::bad_parameter(
                    "sortby",
                    format!("comma-separated property names, each optionally prefixed by + (ascending) or - (descending); got '{value}'"),
                ))
            }
        })
        .collect()
}

/// Output format requested with `f` or the `Accept` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON / GeoJSON.
    Json,
    /// HTML for browsers.
    Html,
}

/// Chooses the format: `f` wins; otherwise HTML only when the `Accept` header
/// ranks `text/html` above every JSON type (browsers do, API clients do not).
///
/// # Errors
/// A 400 for an unknown `f`.
pub fn format(params: &Params, accept: Option<&str>) -> Result<Format, ApiError> {
    match params.get("f") {
        Some("json" | "geojson" | "application/json" | "application/geo+json") => {
            return Ok(Format::Json)
        }
        Some("html" | "text/html") => return Ok(Format::Html),
        Some(_) => return Err(ApiError::bad_parameter("f", "json or html")),
        None => {}
    }
    Ok(if accept.is_some_and(prefers_html) {
        Format::Html
    } else {
        Format::Json
    })
}

fn prefers_html(accept: &str) -> bool {
    let (mut html, mut json) = (0.0_f64, 0.0_f64);
    for part in accept.split(',') {
        let mut it = part.split(';');
        let media = it.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = it
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f64>().ok())
            .unwrap_or(1.0);
        match media.as_str() {
            "text/html" | "application/xhtml+xml" => html = html.max(q),
            m if m.contains("json") => json = json.max(q),
            _ => {}
        }
    }
    html > 0.0 && html > json
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact values parsed from exact text
mod tests {
    use super::*;

    fn one(v: &str) -> [f64; 4] {
        let r = parse_bbox(v, Crs::Crs84).unwrap();
        assert_eq!(r.len(), 1, "{v}");
        [r[0].min().x, r[0].min().y, r[0].max().x, r[0].max().y]
    }

    #[test]
    fn bbox_forms() {
        assert_eq!(one("1,2,3,4"), [1.0, 2.0, 3.0, 4.0]);
        assert_eq!(one("1,2,0,3,4,9"), [1.0, 2.0, 3.0, 4.0]);
        assert!(parse_bbox("1,2,3", Crs::Crs84).is_err());
        assert!(parse_bbox("1,4,3,2", Crs::Crs84).is_err());
        assert!(parse_bbox("1,2,9,3,4,0", Crs::Crs84).is_err());
        assert!(parse_bbox("a,b,c,d", Crs::Crs84).is_err());
        assert!(parse_bbox("1,2,NaN,4", Crs::Crs84).is_err());
        // West > east crosses the antimeridian in CRS84, never in BNG.
        let split = parse_bbox("177,65,-177,70", Crs::Crs84).unwrap();
        assert_eq!(split.len(), 2);
        assert_eq!((split[0].min().x, split[0].max().x), (177.0, 180.0));
        assert_eq!((split[1].min().x, split[1].max().x), (-180.0, -177.0));
        assert!(parse_bbox("3,2,1,4", Crs::Bng).is_err());
        // Out of range.
        assert!(parse_bbox("-1.5,-95,-1.0,95", Crs::Crs84).is_err());
        assert!(parse_bbox("-1.5,-95,0,-1.0,95,0", Crs::Crs84).is_err());
        assert!(parse_bbox("-181,50,-1,51", Crs::Crs84).is_err());
        assert!(parse_bbox("440000,200000,460000,210000", Crs::Bng).is_ok());
        assert!(parse_bbox("440000,200000,460000,2100000", Crs::Bng).is_err());
        assert!(parse_bbox("-1e7,0,0,10", Crs::Bng).is_err());
    }

    #[test]
    fn datetimes() {
        for ok in [
            "2018-02-12T23:20:50Z",
            "2018-02-12t23:20:50.52z",
            "1996-12-19T16:39:57-08:00",
            "2016-12-31T23:59:60Z",
            "2018-02-12",
            "2020-02-29",
            "2018-02-12T00:00:00Z/2018-03-18T12:31:12Z",
            "2018-02-12T00:00:00Z/..",
            "../2018-03-18T12:31:12Z",
            "/2018-03-18",
            "2018-02-12T10:00:00+05:00/2018-02-12T06:00:00Z",
        ] {
            assert!(parse_datetime(ok).is_ok(), "{ok}");
        }
        for bad in [
            "yesterday",
            "2018-02-12T00:00:00Z/2018-13-45",
            "../..",
            "/",
            "..",
            "2019-02-29",
            "2018-02-12T24:00:00Z",
            "2018-02-12T23:20:50",
            "2018-2-12",
            "2018-02-12T23:20:50+5:00",
            "2018-03-01/2018-02-01",
            "2018-02-12T10:00:00+05:00/2018-02-12T04:00:00Z",
            "2018-02-12/2018-02-13/2018-02-14",
        ] {
            let e = parse_datetime(bad).unwrap_err();
            assert_eq!(e.parameter.as_deref(), Some("datetime"), "{bad}");
        }
        // Offsets are applied: 1996-12-19T16:39:57-08:00 is 1996-12-20T00:39:57Z.
        let a = parse_datetime("1996-12-19T16:39:57-08:00").unwrap();
        let b = parse_datetime("1996-12-20T00:39:57Z").unwrap();
        assert_eq!(a, b);
        // 2000-03-01T00:00:00Z is 951868800 s after the epoch.
        assert_eq!(
            parse_datetime("2000-03-01T00:00:00.5Z").unwrap().start,
            Some(Instant {
                secs: 951_868_800,
                nanos: 500_000_000
            })
        );
    }

    #[test]
    fn sortby_keys() {
        let k = parse_sortby(" name,-imd_score,+code").unwrap();
        assert_eq!(
            k.iter()
                .map(|k| (k.name.as_str(), k.descending))
                .collect::<Vec<_>>(),
            [("name", false), ("imd_score", true), ("code", false)]
        );
        assert!(parse_sortby("").is_err());
        assert!(parse_sortby("name,,code").is_err());
        assert!(parse_sortby("-").is_err());
        assert!(parse_sortby("1abc").is_err());
    }

    #[test]
    fn accept_header() {
        assert!(prefers_html(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        ));
        assert!(!prefers_html(
            "application/geo+json, application/json;q=0.9"
        ));
        assert!(!prefers_html("*/*"));
        assert!(!prefers_html("application/json, text/html;q=0.5"));
    }
}
