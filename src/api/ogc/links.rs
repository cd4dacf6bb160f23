//! Link objects and licence URLs shared by the OGC documents.

use serde_json::{json, Value};

/// A link object.
pub fn link(href: &str, rel: &str, media: &str, title: &str) -> Value {
    json!({ "href": href, "rel": rel, "type": media, "title": title })
}

/// The canonical URL of a licence identifier used in the atlas definition, if any.
pub fn licence_url(licence: &str) -> Option<&'static str> {
    let l = licence.to_ascii_uppercase();
    if l.contains("OGL") {
        Some("https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/")
    } else if l.contains("ODBL") {
        Some("https://opendatacommons.org/licenses/odbl/1-0/")
    } else {
        None
    }
}

/// `rel="license"` links for a set of licences, one per distinct URL.
pub fn licence_links<'a>(licences: impl Iterator<Item = &'a str>) -> Vec<Value> {
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for l in licences {
        if let Some(url) = licence_url(l) {
            if !seen.contains(&url) {
                seen.push(url);
                out.push(link(url, "license", "text/html", l));
            }
        }
    }
    out
}
