//! Query-string parsing shared by the OGC endpoints: every parameter is checked
//! against the endpoint's list (unknown ones are a 400, OGC API – Features
//! requirement 9), given at most once, and parsed into a typed value with an
//! error that names it.

use crate::api::error::ApiError;

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

/// Parses a `bbox`: four numbers (or six, with heights, which are ignored).
///
/// # Errors
/// A 400 naming `bbox`.
pub fn parse_bbox(value: &str) -> Result<[f64; 4], ApiError> {
    let bad = |why: &str| {
        ApiError::bad_parameter(
            "bbox",
            format!(
                "four comma-separated numbers minx,miny,maxx,maxy (or six with heights); {why}"
            ),
        )
    };
    let nums: Vec<f64> = value
        .split(',')
        .map(|s| s.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad(&format!("got '{value}'")))?;
    let b = match nums.as_slice() {
        [a, b, c, d] => [*a, *b, *c, *d],
        [a, b, _, d, e, _] => [*a, *b, *d, *e],
        _ => return Err(bad(&format!("got {} numbers", nums.len()))),
    };
    if b.iter().any(|v| !v.is_finite()) {
        return Err(bad("got a non-finite number"));
    }
    if b[0] > b[2] || b[1] > b[3] {
        return Err(bad("the lower corner must not exceed the upper one"));
    }
    Ok(b)
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

    #[test]
    fn bbox_forms() {
        assert_eq!(parse_bbox("1,2,3,4").unwrap(), [1.0, 2.0, 3.0, 4.0]);
        assert_eq!(parse_bbox("1,2,0,3,4,9").unwrap(), [1.0, 2.0, 3.0, 4.0]);
        assert!(parse_bbox("1,2,3").is_err());
        assert!(parse_bbox("3,2,1,4").is_err());
        assert!(parse_bbox("a,b,c,d").is_err());
        assert!(parse_bbox("1,2,NaN,4").is_err());
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
