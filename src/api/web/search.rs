//! `GET /search?q=`: wards and districts by name, LSOAs by code or name
//! (2021 codes, and 2011 codes, which give the 2021 LSOAs they became),
//! postcodes, postcode districts and sectors (Code-Point Open, in the
//! region).
//!
//! Places no boundary names ("Greater Leys") are found through the
//! addresses of the region's assets, and assets by name.
//!
//! Names are compared folded: lower case, `&` read as `and`, `St`/`St.`
//! read as `Saint`, and apostrophes and other punctuation dropped, so
//! "St Clements" finds "St Clement's" and "Rose Hill and Iffley" finds
//! "Rose Hill & Iffley".

use axum::Json;
use geo::Centroid;
use serde_json::{json, Value};

use super::geojson_out::{bbox, round5};
use crate::api::error::ApiError;
use crate::api::ogc::params::parse_uint;
use crate::api::query::Params;
use crate::api::Snap;

/// Searches the atlas; exact matches (postcode, LSOA code) come first, then
/// names starting with the query, then names containing it.
pub async fn search(Snap(state): Snap, params: Params) -> Result<Json<Value>, ApiError> {
    params.only(&["q", "limit"])?;
    let atlas = &state.atlas;
    let q = params.get("q").unwrap_or("").trim();
    let limit = match params.get("limit") {
        None => 20,
        Some(v) => usize::try_from(parse_uint("limit", v, 1)?)
            .unwrap_or(usize::MAX)
            .min(100),
    };
    let needle = q.to_lowercase();
    let folded = fold(q);
    let mut results: Vec<(u8, Value)> = Vec::new();
    if needle.len() >= 2 {
        lsoa11_matches(atlas, &needle, &mut results);
        postcode_area_matches(atlas, q, &mut results);
        if let Some(pc) = atlas.postcode(q) {
            let lsoa = atlas.lsoa21.get(pc.lsoa21 as usize);
            let ward = lsoa.and_then(|l| atlas.ward_of(l));
            results.push((0, json!({
                "kind": "postcode", "code": pc.code, "name": pc.code,
                "detail": format!("{} · {}", lsoa.map_or("", |l| l.name.as_str()), ward.map_or("", |w| w.name.as_str())),
                "lsoa": lsoa.map(|l| &l.code), "ward": ward.map(|w| &w.code),
                "lon": round5(pc.location.lonlat.x()), "lat": round5(pc.location.lonlat.y()),
            })));
        }
        for l in atlas.lsoa21.iter() {
            let code = l.code.to_lowercase();
            let name = l.name.to_lowercase();
            let rank = if code == needle || name == needle {
                1
            } else if code.starts_with(&needle) {
                2
            } else if name.starts_with(&needle) && needle.len() >= 3 {
                4
            } else {
                continue;
            };
            let c = l.geometry.lonlat.centroid();
            results.push((rank, json!({
                "kind": "lsoa", "code": l.code, "name": l.name,
                "detail": atlas.ward_of(l).map_or(String::new(), |w| format!("LSOA in {}", w.name)),
                "lsoa": l.code, "bbox": bbox(l.geometry.lonlat_bbox),
                "lon": c.map(|c| round5(c.x())), "lat": c.map(|c| round5(c.y())),
            })));
        }
        for w in atlas.wards.iter() {
            let name = fold(&w.name);
            let rank = if name == folded || w.code.to_lowercase() == needle {
                1
            } else if !folded.is_empty() && name.starts_with(&folded) {
                3
            } else if !folded.is_empty() && name.contains(&folded) {
                5
            } else {
                continue;
            };
            let district = w.district.and_then(|d| atlas.districts.get(d as usize));
            results.push((
                rank,
                json!({
                    "kind": "ward", "code": w.code, "name": w.name,
                    "detail": format!("Ward in {}", district.map_or("", |d| d.name.as_str())),
                    "ward": w.code, "bbox": w.geometry.as_ref().map(|g| bbox(g.lonlat_bbox)),
                }),
            ));
        }
        for d in atlas.districts.iter() {
            let name = fold(&d.name);
            let rank = if name == folded || d.code.to_lowercase() == needle {
                1
            } else if !folded.is_empty() && name.contains(&folded) {
                6
            } else {
                continue;
            };
            results.push((
                rank,
                json!({
                    "kind": "district", "code": d.code, "name": d.name, "detail": "District",
                    "bbox": bbox(d.geometry.lonlat_bbox),
                }),
            ));
        }
        // The loaded region itself (a county such as Oxfordshire): its
        // profile page.
        let region = fold(&atlas.region.name);
        let rank = if region == folded || atlas.region.id == needle {
            Some(1)
        } else if folded.len() >= 3 && region.starts_with(&folded) {
            Some(3)
        } else {
            None
        };
        if let Some(rank) = rank {
            results.push((
                rank,
                json!({
                    "kind": "region", "code": atlas.region.id, "name": atlas.region.name,
                    "detail": "Whole region: profile",
                    "bbox": super::data::region_bbox(atlas).map(bbox),
                }),
            ));
        }
        if folded.len() >= 4 {
            place_matches(atlas, q, &folded, &mut results);
        }
    }
    results.sort_by_key(|(r, _)| *r);
    let total = results.len();
    let results: Vec<Value> = results.into_iter().take(limit).map(|(_, v)| v).collect();
    Ok(Json(
        json!({ "query": q, "total": total, "results": results }),
    ))
}

/// A name folded for comparison: lower case; `&` as `and`; `st` and `st.`
/// as `saint`; letters, digits and single spaces only.
///
/// `fold("St Clement's")` and `fold("Saint Clements")` are both
/// `"saint clements"`; `fold("Rose Hill & Iffley")` is
/// `"rose hill and iffley"`.
#[must_use]
pub fn fold(name: &str) -> String {
    let spaced = name.replace('&', " and ");
    let words: Vec<String> = spaced
        .split(|c: char| c.is_whitespace() || c == '-' || c == ',')
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .map(|w| if w == "st" { "saint".to_owned() } else { w })
        .collect();
    words.join(" ")
}

/// A 2011 LSOA code gives the 2021 LSOAs it became (unchanged, split,
/// merged or irregular), ranked as exact matches.
fn lsoa11_matches(atlas: &crate::atlas::Atlas, needle: &str, results: &mut Vec<(u8, Value)>) {
    let Some((i11, l11)) = atlas
        .lsoa11
        .iter()
        .enumerate()
        .find(|(_, l)| l.code.to_lowercase() == needle)
    else {
        return;
    };
    for l in atlas.lsoa21.iter() {
        let Some((_, change)) = l.lsoa11.iter().find(|(j, _)| *j as usize == i11) else {
            continue;
        };
        let c = l.geometry.lonlat.centroid();
        results.push((1, json!({
            "kind": "lsoa", "code": l.code, "name": l.name,
            "detail": format!("2021 LSOA from 2011 LSOA {} (change {})", l11.code, change.letter()),
            "lsoa": l.code, "lsoa11": l11.code, "bbox": bbox(l.geometry.lonlat_bbox),
            "lon": c.map(|c| round5(c.x())), "lat": c.map(|c| round5(c.y())),
        })));
    }
}

/// A postcode district (`OX4`) or sector (`OX4 6`): the extent of the
/// region's postcode units in it, ranked as exact matches.
fn postcode_area_matches(atlas: &crate::atlas::Atlas, q: &str, results: &mut Vec<(u8, Value)>) {
    let words: Vec<String> = q.split_whitespace().map(str::to_uppercase).collect();
    let outward_ok = |w: &str| {
        (2..=4).contains(&w.len())
            && w.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && w.chars().any(|c| c.is_ascii_digit())
            && w.chars().all(|c| c.is_ascii_alphanumeric())
    };
    let (prefix, kind) = match words.as_slice() {
        [outward] if outward_ok(outward) => (format!("{outward} "), "postcode_district"),
        [outward, sector]
            if outward_ok(outward)
                && sector.len() == 1
                && sector.chars().all(|c| c.is_ascii_digit()) =>
        {
            (format!("{outward} {sector}"), "postcode_sector")
        }
        _ => return,
    };
    let units: Vec<_> = atlas
        .postcodes
        .iter()
        .filter(|p| p.code.as_str().starts_with(&prefix))
        .collect();
    let Some(first) = units.first() else {
        return;
    };
    let (mut x0, mut y0, mut x1, mut y1) = (
        first.location.lonlat.x(),
        first.location.lonlat.y(),
        first.location.lonlat.x(),
        first.location.lonlat.y(),
    );
    for p in &units {
        x0 = x0.min(p.location.lonlat.x());
        y0 = y0.min(p.location.lonlat.y());
        x1 = x1.max(p.location.lonlat.x());
        y1 = y1.max(p.location.lonlat.y());
    }
    let code = prefix.trim_end();
    let what = if kind == "postcode_sector" {
        "sector"
    } else {
        "district"
    };
    results.push((0, json!({
        "kind": kind, "code": code, "name": code,
        "detail": format!("Postcode {what}: {} postcode units in {}", units.len(), atlas.region.name),
        "units": units.len(),
        "bbox": [round5(x0), round5(y0), round5(x1), round5(y1)],
        "lon": round5(f64::midpoint(x0, x1)), "lat": round5(f64::midpoint(y0, y1)),
    })));
}

/// Most asset-name matches listed (after every area match).
const ASSET_MATCHES: usize = 5;

/// A place named in the addresses of the region's assets (a locality such
/// as "Greater Leys", which no ward or LSOA is called): one result at the
/// mean position of those assets; and assets whose name contains the query.
fn place_matches(
    atlas: &crate::atlas::Atlas,
    q: &str,
    folded: &str,
    results: &mut Vec<(u8, Value)>,
) {
    let padded = format!(" {folded} ");
    let words = |s: &str| format!(" {} ", fold(s));
    let mut in_address = Vec::new();
    let mut named = 0;
    for a in atlas.assets.iter().filter(|a| a.in_region) {
        let lsoa = a.lsoa21.and_then(|i| atlas.lsoa21.get(i as usize));
        if a.address
            .as_deref()
            .is_some_and(|s| words(s).contains(&padded))
        {
            in_address.push(a);
        }
        if named < ASSET_MATCHES && words(&a.name).contains(&padded) {
            named += 1;
            let label = atlas
                .categories
                .get(usize::from(a.category))
                .map_or("", |c| c.label.as_str());
            results.push((
                7,
                json!({
                    "kind": "asset", "code": a.id, "name": a.name,
                    "detail": format!("{label}{}", a.postcode.as_deref().map_or(String::new(), |p| format!(" · {p}"))),
                    "lsoa": lsoa.map(|l| &l.code),
                    "lon": round5(a.location.lonlat.x()), "lat": round5(a.location.lonlat.y()),
                }),
            ));
        }
    }
    let Some(first) = in_address.first() else {
        return;
    };
    let n = in_address.len() as f64;
    let lon = in_address
        .iter()
        .map(|a| a.location.lonlat.x())
        .sum::<f64>()
        / n;
    let lat = in_address
        .iter()
        .map(|a| a.location.lonlat.y())
        .sum::<f64>()
        / n;
    let (mut x0, mut y0, mut x1, mut y1) = (lon, lat, lon, lat);
    for a in &in_address {
        x0 = x0.min(a.location.lonlat.x());
        y0 = y0.min(a.location.lonlat.y());
        x1 = x1.max(a.location.lonlat.x());
        y1 = y1.max(a.location.lonlat.y());
    }
    // The LSOA of the asset nearest the mean position.
    let nearest = in_address
        .iter()
        .min_by(|a, b| {
            let d = |p: &crate::atlas::Asset| {
                (p.location.lonlat.x() - lon).hypot(p.location.lonlat.y() - lat)
            };
            d(a).total_cmp(&d(b))
        })
        .unwrap_or(first);
    let lsoa = nearest.lsoa21.and_then(|i| atlas.lsoa21.get(i as usize));
    let name: Vec<String> = q
        .split_whitespace()
        .map(|w| {
            let mut c = w.chars();
            c.next().map_or_else(String::new, |f| {
                f.to_uppercase()
                    .chain(c.flat_map(char::to_lowercase))
                    .collect()
            })
        })
        .collect();
    results.push((
        6,
        json!({
            "kind": "place", "code": folded, "name": name.join(" "),
            "detail": format!(
                "Place named in the address of {} asset{} (e.g. {}){}",
                in_address.len(),
                if in_address.len() == 1 { "" } else { "s" },
                first.name,
                lsoa.map_or(String::new(), |l| format!(", in {}", l.name)),
            ),
            "lsoa": lsoa.map(|l| &l.code),
            "bbox": [round5(x0), round5(y0), round5(x1), round5(y1)],
            "lon": round5(lon), "lat": round5(lat),
        }),
    ));
}
