//! How assets were located, for the method block of every analysis response:
//! which assets stand at an approximate position (an ended postcode placed at
//! its postcode sector's centroid) and which rows could not be placed at all.
//! No asset is dropped silently.

use serde_json::{json, Value};

use crate::atlas::Atlas;

/// The rule, in words.
pub const RULE: &str = "assets are placed at the position their source gives, or at their postcode's OS Code-Point Open position; an active asset whose postcode has ended (it is not in Code-Point Open) is kept at the centroid of its postcode sector's current units (or, when the whole sector has been recoded, of its postcode district's) and flagged with that precision (location_precision, which states how far the units spread from the centroid); rows with no postcode, or whose sector and district have no current unit, are excluded and listed here";

/// The `assets_located` member of a method block: the rule, the approximated
/// assets (in or near the region) and the excluded rows (anywhere in the
/// sources: an unplaced row's area is unknown). With `category`, only assets
/// of that category and rows of its sources are listed.
#[must_use]
pub fn assets_located(atlas: &Atlas, category: Option<usize>) -> Value {
    let approximated: Vec<Value> = atlas
        .assets
        .iter()
        .filter(|a| category.is_none_or(|c| usize::from(a.category) == c))
        .filter_map(|a| {
            let precision = a.location_precision.as_ref()?;
            Some(json!({
                "id": a.id,
                "name": a.name,
                "category": atlas.categories.get(usize::from(a.category)).map(|c| &c.id),
                "postcode": a.postcode,
                "precision": precision,
            }))
        })
        .collect();
    let sources: Option<Vec<&str>> =
        category.map(|c| atlas.category_sources(c).map(|s| s.id.as_str()).collect());
    let excluded: Vec<Value> = atlas
        .report
        .unplaced
        .iter()
        .filter(|u| {
            sources
                .as_ref()
                .is_none_or(|s| s.contains(&u.source.as_str()))
        })
        .map(|u| json!({"source": u.source, "row": u.row, "name": u.name, "reason": u.reason}))
        .collect();
    json!({
        "rule": RULE,
        "approximated": approximated,
        "excluded": excluded,
    })
}

/// The same as lines of text, for the CLI.
#[must_use]
pub fn assets_located_text(atlas: &Atlas, category: Option<usize>) -> String {
    use std::fmt::Write as _;
    let v = assets_located(atlas, category);
    let mut s = format!("Assets located: {RULE}.\n");
    for a in v["approximated"].as_array().into_iter().flatten() {
        let _ = writeln!(
            s,
            "  approximated: {} ({}): {}",
            a["name"].as_str().unwrap_or(""),
            a["id"].as_str().unwrap_or(""),
            a["precision"].as_str().unwrap_or("")
        );
    }
    for u in v["excluded"].as_array().into_iter().flatten() {
        let _ = writeln!(
            s,
            "  excluded: {} (source {}, row {}): {}",
            u["name"].as_str().unwrap_or(""),
            u["source"].as_str().unwrap_or(""),
            u["row"],
            u["reason"].as_str().unwrap_or("")
        );
    }
    s
}
