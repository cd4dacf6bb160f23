//! `/collections` and `/collections/{id}`: collection metadata with extent,
//! CRSs (Part 2), data vintage, licence and attribution.

use serde_json::{json, Value};

use super::crs;
use super::links::{licence_links, link};
use super::model::{Collection, OgcState};
use super::respond::media;

/// One collection's description.
pub fn describe(c: &Collection, base: &str) -> Value {
    let url = format!("{base}/collections/{}", c.id);
    let mut links = vec![
        link(&url, "self", media::JSON, "This collection"),
        link(
            &format!("{url}?f=html"),
            "alternate",
            "text/html",
            "This collection as HTML",
        ),
        link(
            &format!("{url}/items"),
            "items",
            media::GEOJSON,
            "The features",
        ),
        link(
            &format!("{url}/items?f=html"),
            "items",
            "text/html",
            "The features as HTML",
        ),
        link(
            &format!("{url}/queryables"),
            "http://www.opengis.net/def/rel/ogc/1.0/queryables",
            media::SCHEMA,
            "Queryable properties",
        ),
    ];
    links.extend(licence_links(
        c.provenance.iter().map(|p| p.licence.as_str()),
    ));
    let mut doc = json!({
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        // Every feature of a collection has this one GeoJSON geometry type
        // (or a null geometry), so clients can create a typed layer up
        // front; the queryables say the same as a JSON Schema `format`.
        "geometryType": c.geometry_type,
        "crs": crs::supported_uris(),
        "storageCrs": crs::SUPPORTED[0].uri(),
        "attribution": c.attribution(),
        "license": c.provenance.iter().map(|p| p.licence.as_str()).collect::<Vec<_>>().first().copied().unwrap_or(""),
        "sources": c.provenance.iter().map(|p| json!({
            "title": p.title, "publisher": p.publisher, "vintage": p.vintage,
            "licence": p.licence, "attribution": p.attribution,
        })).collect::<Vec<_>>(),
        "numberOfFeatures": c.features.len(),
        "links": links,
    });
    if let (Some(e), Some(map)) = (c.extent, doc.as_object_mut()) {
        map.insert(
            "extent".to_owned(),
            json!({ "spatial": {
                "bbox": [[e.min().x, e.min().y, e.max().x, e.max().y]],
                "crs": crs::SUPPORTED[0].uri(),
            }}),
        );
    }
    doc
}

/// The collections list.
pub fn list(ogc: &OgcState, base: &str) -> Value {
    json!({
        "title": format!("Collections ({})", ogc.region),
        "links": [
            link(&format!("{base}/collections"), "self", media::JSON, "This document"),
            link(&format!("{base}/collections?f=html"), "alternate", "text/html", "This document as HTML"),
        ],
        "crs": crs::supported_uris(),
        "collections": ogc.collections.iter().map(|c| describe(c, base)).collect::<Vec<_>>(),
    })
}
