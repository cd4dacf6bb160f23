//! OpenStreetMap extracts read with GDAL's OSM driver. Nodes come from the
//! `points` layer, closed ways and multipolygon relations from
//! `multipolygons`; polygons become a point on their surface and keep their
//! geodesic area.
//!
//! Nothing whose tags match a rule is dropped silently; these are reported as
//! unplaced rows naming the OSM id (`gapmap check` lists them):
//! - a way in the `lines` layer (an open way, which is no area) whose own
//!   tags match: typically one boundary way of a multipolygon relation that
//!   carries the same leisure tags, when the relation's rings do not close
//!   and GDAL cannot assemble it (Rutland Water Nature Reserve, way
//!   525958985 of relation 7588790, in the 2018 Rutland extract);
//! - a polygon that is not valid OGC geometry (self-intersecting, as a
//!   bow-tie; rings crossing): its area and surface point are not well
//!   defined, so it is skipped rather than guessed at.
//!
//! A closed way with its own tags that is also a member of a multipolygon
//! relation is read as its own area by GDAL 3.6's driver (checked on the
//! Rutland extract: Oakham School's playing fields, ways 145110899 and
//! 145112754, members of relation 6034079).

use std::collections::HashMap;
use std::path::Path;

use gdal::vector::{Feature, LayerAccess};
use geo::{GeodesicArea, Geometry, InteriorPoint, MultiPolygon, Validation};

use super::{Location, RawAsset, SourceAssets};
use crate::config::{AssetSourceConfig, OsmRule, TagMatch};
use crate::sources::error::SourceError;
use crate::sources::gdal_errors::{capture, capture_warnings};
use crate::sources::reproject::{Reprojector, WGS84_EPSG};
use crate::sources::table::{read_failure, Table};

/// Fields of the OSM driver's layers that are not tags.
const NON_TAG_FIELDS: [&str; 3] = ["osm_id", "osm_way_id", "other_tags"];

pub(super) fn read(
    data_dir: &Path,
    config: &AssetSourceConfig,
    rules: &[OsmRule],
) -> Result<SourceAssets, SourceError> {
    let table = Table::open_ref(data_dir, &config.table)?;
    let file = table.file().to_owned();
    let reprojector = Reprojector::from_epsg(WGS84_EPSG)?;
    let mut out = SourceAssets::default();
    let mut row = 0_u64;
    // GDAL's OSM driver assembles the file's multipolygons on each layer's
    // pass, so each pass raises the same warnings: counted per pass, said
    // once for the file.
    let (mut most_warnings, mut first_warning) = (0_usize, None::<String>);
    for layer_name in ["points", "multipolygons", "lines"] {
        let mut layer =
            table
                .dataset()?
                .layer_by_name(layer_name)
                .map_err(|e| SourceError::Open {
                    file: file.clone(),
                    layer: Some(layer_name.to_owned()),
                    message: e.to_string(),
                })?;
        let fields: Vec<String> = layer.defn().fields().map(|f| f.name()).collect();
        let mut features = layer.features();
        let mut layer_rows = 0_u64;
        // GDAL's warnings while it assembles features (a multipolygon ring
        // that does not close, which it closes): said once with the file,
        // not as a bare log line each.
        let mut warnings: Vec<String> = Vec::new();
        loop {
            // A cut-off PBF is reported only through GDAL's error handler
            // ("error ... during the parsing of data around byte N"), after
            // which the driver returns no more features.
            let ((feature, failures), raised) = capture_warnings(|| capture(|| features.next()));
            warnings.extend(raised);
            if !failures.is_empty() {
                return Err(read_failure(&file, Some(layer_name), layer_rows, &failures));
            }
            let Some(feature) = feature else {
                break;
            };
            layer_rows += 1;
            row += 1;
            let tags = tags_of(&feature, &fields);
            let Some(rule) = rules.iter().find(|r| matches(r, &tags)) else {
                out.filtered_out += 1;
                continue;
            };
            let Some(key) = osm_key(&feature, &fields, layer_name) else {
                continue;
            };
            let unplaced = |reason: String| RawAsset {
                key: key.clone(),
                name: tags.get("name").cloned().unwrap_or_default(),
                category: rule.category.clone(),
                location: Location::Unplaced(reason),
                address: None,
                postcode: None,
                area_m2: None,
                row,
            };
            if layer_name == "lines" {
                out.assets.push(unplaced(format!(
                    "OSM {key}: its tags make it a {}, but it is an open way, not an area \
                     (for example a boundary way of a multipolygon relation whose rings do not \
                     close, which cannot be assembled); skipped",
                    rule.category
                )));
                continue;
            }
            let (geo, raised) =
                capture_warnings(|| feature.geometry().and_then(|g| g.to_geo().ok()));
            warnings.extend(raised);
            let polygon = match geo {
                Some(Geometry::Point(p)) => Ok((p.x(), p.y(), None)),
                Some(Geometry::MultiPolygon(mp)) => area_asset(&key, &mp),
                Some(Geometry::Polygon(p)) => area_asset(&key, &MultiPolygon(vec![p])),
                _ => Err("OSM feature without usable geometry".to_owned()),
            };
            let (lon, lat, area_m2) = match polygon {
                Ok(v) => v,
                Err(reason) => {
                    out.assets.push(unplaced(reason));
                    continue;
                }
            };
            let point = reprojector.points(&[lon], &[lat])?.pop().ok_or_else(|| {
                SourceError::Transform {
                    what: "OSM point".to_owned(),
                    message: "no result".to_owned(),
                }
            })?;
            out.assets.push(RawAsset {
                key,
                name: tags.get("name").cloned().unwrap_or_default(),
                category: rule.category.clone(),
                location: Location::Point(point),
                address: address(&tags),
                postcode: tags
                    .get("addr:postcode")
                    .and_then(|p| crate::model::normalise_postcode(p)),
                area_m2,
                row,
            });
        }
        most_warnings = most_warnings.max(warnings.len());
        if first_warning.is_none() {
            first_warning = warnings.into_iter().next();
        }
    }
    if let Some(first) = first_warning {
        tracing::warn!(
            file = %file.display(),
            warnings = most_warnings,
            "GDAL warned while assembling this OpenStreetMap file's features, which are kept \
             as GDAL assembled them; first: {first}"
        );
    }
    Ok(out)
}

/// Geodesic area (m², WGS84 ellipsoid) of a lon/lat multipolygon. GDAL's OSM
/// driver keeps the winding of the ways, which is arbitrary, and Karney's
/// algorithm reads a clockwise exterior as "the Earth minus this polygon"
/// (about 5.1e14 m²) and a hole wound like its exterior as more area rather
/// than less; so the rings are wound counter-clockwise (holes clockwise) first.
pub(crate) fn geodesic_area_m2(mp: &MultiPolygon<f64>) -> f64 {
    crate::model::geometry::wound(mp.clone()).geodesic_area_unsigned()
}

/// A polygon asset's surface point (lon, lat) and geodesic area (m²), or
/// why it has none: an invalid polygon (self-intersecting rings, a bow-tie,
/// crossing rings) has no well-defined area, so it is refused, naming the
/// OSM id and the first problem geo's validity check finds.
fn area_asset(key: &str, mp: &MultiPolygon<f64>) -> Result<(f64, f64, Option<f64>), String> {
    if let Some(problem) = mp.validation_errors().first() {
        return Err(format!(
            "OSM {key}: invalid polygon ({problem}); its area is not well defined, so it is skipped"
        ));
    }
    let (x, y) = surface_point(mp)
        .ok_or_else(|| format!("OSM {key}: empty polygon, no point on its surface"))?;
    Ok((x, y, Some(geodesic_area_m2(mp))))
}

fn surface_point(mp: &MultiPolygon<f64>) -> Option<(f64, f64)> {
    mp.interior_point().map(|p| (p.x(), p.y()))
}

/// `node-N` (points layer), `way-N` (lines, and closed ways in
/// multipolygons) or `relation-N` (multipolygons).
fn osm_key(feature: &Feature<'_>, fields: &[String], layer: &str) -> Option<String> {
    let get = |name: &str| {
        let idx = fields.iter().position(|f| f == name)?;
        feature
            .field_as_string(idx)
            .ok()
            .flatten()
            .filter(|s| !s.is_empty())
    };
    if let Some(way) = get("osm_way_id") {
        return Some(format!("way-{way}"));
    }
    let id = get("osm_id")?;
    // In the multipolygons layer osm_id is a relation; in lines, a way; in
    // points, a node.
    Some(match layer {
        "multipolygons" => format!("relation-{id}"),
        "lines" => format!("way-{id}"),
        _ => format!("node-{id}"),
    })
}

fn tags_of(feature: &Feature<'_>, fields: &[String]) -> HashMap<String, String> {
    let mut tags = HashMap::new();
    for (idx, name) in fields.iter().enumerate() {
        let Some(value) = feature.field_as_string(idx).ok().flatten() else {
            continue;
        };
        if name == "other_tags" {
            tags.extend(parse_hstore(&value));
        } else if !NON_TAG_FIELDS.contains(&name.as_str()) && !value.is_empty() {
            tags.insert(name.clone(), value);
        }
    }
    tags
}

/// Parses GDAL's `other_tags` (`"k"=>"v","k2"=>"v2"`, with `\"` escapes).
fn parse_hstore(text: &str) -> Vec<(String, String)> {
    let mut strings = Vec::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut s = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(n) = chars.next() {
                        s.push(n);
                    }
                }
                '"' => break,
                _ => s.push(c),
            }
        }
        strings.push(s);
    }
    strings
        .chunks_exact(2)
        .map(|kv| (kv[0].clone(), kv[1].clone()))
        .collect()
}

fn tag_matches(m: &TagMatch, tags: &HashMap<String, String>) -> bool {
    tags.get(&m.key)
        .is_some_and(|v| m.values.is_empty() || m.values.iter().any(|w| w == v))
}

fn matches(rule: &OsmRule, tags: &HashMap<String, String>) -> bool {
    rule.any.iter().any(|m| tag_matches(m, tags))
        && !rule.exclude.iter().any(|m| tag_matches(m, tags))
}

fn address(tags: &HashMap<String, String>) -> Option<String> {
    let parts: Vec<&str> = ["addr:housenumber", "addr:street", "addr:city"]
        .iter()
        .filter_map(|k| tags.get(*k).map(String::as_str))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::{geodesic_area_m2, parse_hstore};
    use geo::{polygon, MultiPolygon};

    #[test]
    fn area_ignores_winding() {
        // A 0.01° square at the equator: 0.01° of longitude is 1113.195 m on
        // WGS84 (a·π/180·0.01) and 0.01° of latitude there 1105.74 m
        // (M(0)·π/180·0.01 with M(0) = a(1−e²)), so ≈ 1.2309e6 m².
        let ccw =
            polygon![(x: 0.0, y: 0.0), (x: 0.01, y: 0.0), (x: 0.01, y: 0.01), (x: 0.0, y: 0.01)];
        let cw =
            polygon![(x: 0.0, y: 0.0), (x: 0.0, y: 0.01), (x: 0.01, y: 0.01), (x: 0.01, y: 0.0)];
        for p in [ccw, cw] {
            let a = geodesic_area_m2(&MultiPolygon(vec![p]));
            assert!((a - 1.2309e6).abs() < 1.0e3, "{a}");
        }
        // A clockwise hole of a quarter of the area, wound like the exterior.
        let holed = geo::Polygon::new(
            polygon![(x: 0.0, y: 0.0), (x: 0.0, y: 0.01), (x: 0.01, y: 0.01), (x: 0.01, y: 0.0)]
                .exterior()
                .clone(),
            vec![geo::LineString::from(vec![
                (0.0025, 0.0025),
                (0.0025, 0.0075),
                (0.0075, 0.0075),
                (0.0075, 0.0025),
                (0.0025, 0.0025),
            ])],
        );
        let a = geodesic_area_m2(&MultiPolygon(vec![holed]));
        assert!((a - 0.75 * 1.2309e6).abs() < 1.0e3, "{a}");
    }

    #[test]
    fn parses_other_tags() {
        let tags = parse_hstore(r#""access"=>"private","name:en"=>"A \"quoted\" park""#);
        assert_eq!(tags[0], ("access".to_owned(), "private".to_owned()));
        assert_eq!(tags[1].1, "A \"quoted\" park");
    }
}
