//! Fast JSON writing into a `String`: numbers through `ryu`/`itoa`, strings
//! escaped by hand, geometries as GeoJSON. Feature collections are written by
//! concatenating precomputed pieces rather than building `serde_json` trees,
//! which would cost an allocation per coordinate on every request.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use geo::{Coord, Geometry, LineString, MultiPolygon, Point, Polygon};

/// Appends an integer.
pub fn push_int(out: &mut String, v: i64) {
    out.push_str(itoa::Buffer::new().format(v));
}

/// Appends an unsigned integer.
pub fn push_usize(out: &mut String, v: usize) {
    out.push_str(itoa::Buffer::new().format(v));
}

/// Appends a number; JSON has no NaN or infinity, so those become `null`.
pub fn push_f64(out: &mut String, v: f64) {
    if v.is_finite() {
        out.push_str(ryu::Buffer::new().format_finite(v));
    } else {
        out.push_str("null");
    }
}

/// Appends a JSON string literal.
pub fn push_str(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match escape {
            Some(e) => out.push_str(e),
            None => {
                let _ = write!(out, "\\u{b:04x}");
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

fn push_coord(out: &mut String, c: Coord<f64>) {
    out.push('[');
    push_f64(out, c.x);
    out.push(',');
    push_f64(out, c.y);
    out.push(']');
}

fn push_ring(out: &mut String, ring: &LineString<f64>) {
    out.push('[');
    for (i, c) in ring.0.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_coord(out, *c);
    }
    out.push(']');
}

fn push_polygon_rings(out: &mut String, p: &Polygon<f64>) {
    out.push('[');
    push_ring(out, p.exterior());
    for r in p.interiors() {
        out.push(',');
        push_ring(out, r);
    }
    out.push(']');
}

/// Writes a multipolygon as a GeoJSON `MultiPolygon`, always, even with one
/// part: a collection serves one geometry type (as its metadata and
/// queryables declare), so clients that create a typed layer from the first
/// page (GDAL's OAPIF driver into FlatGeobuf or PostGIS) do not meet a
/// `MultiPolygon` after settling on `Polygon`. Rings are written as held,
/// wound by [`crate::atlas::DualPolygon::new`].
pub fn multipolygon(mp: &MultiPolygon<f64>) -> String {
    let mut out = String::with_capacity(
        64 + mp
            .0
            .iter()
            .map(|p| p.exterior().0.len() * 40)
            .sum::<usize>(),
    );
    out.push_str("{\"type\":\"MultiPolygon\",\"coordinates\":[");
    for (i, p) in mp.0.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_polygon_rings(&mut out, p);
    }
    out.push_str("]}");
    out
}

/// Writes a point as a GeoJSON geometry.
pub fn point(p: Point<f64>) -> String {
    let mut out = String::from("{\"type\":\"Point\",\"coordinates\":");
    push_coord(&mut out, p.0);
    out.push('}');
    out
}

/// The geo geometry of a multipolygon, for spatial filters.
pub fn shape_of(mp: &MultiPolygon<f64>) -> Geometry<f64> {
    Geometry::MultiPolygon(mp.clone())
}

/// Percent-encodes a query-string component (RFC 3986 unreserved characters,
/// and the `,:/` that OGC parameter values use, kept as they are).
pub fn push_query_component(out: &mut String, s: &str) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b',' | b':' | b'/')
        {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// Builds a query string (without `?`) from pairs.
pub fn query_string(pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        push_query_component(&mut out, k);
        out.push('=');
        push_query_component(&mut out, v);
    }
    out
}

/// The current time as RFC 3339 (`2026-11-23T09:30:00Z`), from the standard library only.
pub fn rfc3339_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

/// Formats seconds since the Unix epoch as RFC 3339 UTC.
pub fn rfc3339(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's civil-from-days algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_strings() {
        let mut s = String::new();
        push_str(&mut s, "a\"b\\c\nd\u{1}é");
        assert_eq!(s, "\"a\\\"b\\\\c\\nd\\u0001é\"");
        let parsed: String = serde_json::from_str(&s).unwrap();
        assert_eq!(parsed, "a\"b\\c\nd\u{1}é");
    }

    #[test]
    fn formats_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_426_200), "2026-11-23T09:30:00Z");
    }

    #[test]
    fn numbers() {
        let mut s = String::new();
        push_f64(&mut s, -1.25);
        s.push(' ');
        push_f64(&mut s, f64::NAN);
        assert_eq!(s, "-1.25 null");
    }
}
