//! `/`: the landing page, with links to the API definition, conformance and
//! collections, and the credits every data source asks for.

use serde_json::{json, Value};

use super::links::{licence_links, link};
use super::model::OgcState;
use super::respond::media;

/// The landing document.
pub fn document(ogc: &OgcState, base: &str) -> Value {
    let sources: Vec<Value> = ogc
        .sources
        .iter()
        .map(|s| {
            json!({
                "title": s.title,
                "publisher": s.publisher,
                "vintage": s.vintage,
                "licence": s.licence,
                "attribution": s.attribution,
            })
        })
        .collect();
    let mut attribution: Vec<&str> = Vec::new();
    for s in &ogc.sources {
        if !attribution.contains(&s.attribution.as_str()) {
            attribution.push(&s.attribution);
        }
    }
    let mut links = vec![
        link(&format!("{base}/"), "self", media::JSON, "This document"),
        link(
            &format!("{base}/?f=html"),
            "alternate",
            "text/html",
            "This document as HTML",
        ),
        link(
            &format!("{base}/api"),
            "service-desc",
            media::OPENAPI,
            "The API definition (OpenAPI 3.0)",
        ),
        link(
            &format!("{base}/api?f=html"),
            "service-doc",
            "text/html",
            "The API definition as HTML",
        ),
        link(
            &format!("{base}/conformance"),
            "conformance",
            media::JSON,
            "Conformance classes implemented",
        ),
        link(
            &format!("{base}/collections"),
            "data",
            media::JSON,
            "The feature collections",
        ),
        link(
            &format!("{base}/processes"),
            crate::api::processes::REL_PROCESSES,
            media::JSON,
            "The processes (area profiles)",
        ),
    ];
    links.extend(licence_links(
        ogc.sources.iter().map(|s| s.licence.as_str()),
    ));
    json!({
        "title": format!("GapMap: {}", ogc.region),
        "description": format!(
            "Where deprivation and community assets meet, or fail to, in {}: small areas with the English Indices of Deprivation, wards and districts with access roll-ups, and community assets, served as OGC API – Features.",
            ogc.region
        ),
        "attribution": attribution.join(" "),
        "sources": sources,
        "links": links,
    })
}
