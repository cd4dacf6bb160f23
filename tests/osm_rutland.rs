//! The `rutland` region on the whole-county 2018 OpenStreetMap extract
//! (issue 13 §3): per category, the assets GapMap reads from
//! `osm_rutland_2018.osm.pbf` are exactly the nodes and areas an independent
//! reader (pyosmium's libosmium area assembler, `tests/osm/count_osm.py`)
//! finds for the same tag rules, first matching rule winning; polygon areas
//! match pyproj's geodesic area within 0.1 %; features that cannot be areas
//! are reported by OSM id, never dropped silently; and `gapmap check
//! --region rutland` loads the region's LSOAs (counted here from the ONS
//! lookup). Needs `pip install osmium pyproj shapely` (scripts/install).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use gapmap::config::{AssetSourceConfig, AssetSourceKind, AtlasConfig};
use gapmap::sources::{read_asset_source, Location, SourceAssets};
use serde_json::{json, Value};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/geodata")
}

fn rutland_source(config: &AtlasConfig) -> &AssetSourceConfig {
    config
        .asset_sources
        .iter()
        .find(|s| s.id == "osm_rutland")
        .expect("asset source osm_rutland")
}

/// The source's rules as the JSON the independent script reads.
fn rules_json(source: &AssetSourceConfig) -> Value {
    let AssetSourceKind::Osm { rules } = &source.kind else {
        panic!("osm_rutland is an OSM source");
    };
    let pairs = |ms: &[gapmap::config::TagMatch]| {
        ms.iter()
            .map(|m| json!([m.key, m.values]))
            .collect::<Vec<_>>()
    };
    rules
        .iter()
        .map(
            |r| json!({"category": r.category, "any": pairs(&r.any), "exclude": pairs(&r.exclude)}),
        )
        .collect()
}

/// One feature the independent reader found.
struct Independent {
    key: String,
    category: String,
    /// Geodesic area (m²); `None` for nodes and for areas libosmium could
    /// not assemble.
    area_m2: Option<f64>,
    /// libosmium could not assemble the area (rings that do not close...).
    invalid: bool,
}

fn independent(pbf: &Path, rules: &Value) -> Vec<Independent> {
    let dir = tempfile::tempdir().unwrap();
    let rules_path = dir.path().join("rules.json");
    std::fs::write(&rules_path, rules.to_string()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/osm/count_osm.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(pbf)
        .arg(&rules_path)
        .output()
        .expect("python3 (with pip packages osmium, pyproj, shapely: scripts/install)");
    assert!(
        out.status.success(),
        "count_osm.py failed (pip install osmium pyproj shapely):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            Independent {
                key: v["key"].as_str().unwrap().to_owned(),
                category: v["category"].as_str().unwrap().to_owned(),
                area_m2: v["area_m2"].as_f64(),
                invalid: v.get("invalid").is_some() || v["valid"] == json!(false),
            }
        })
        .collect()
}

/// Per category, the sorted keys.
type ByCategory = BTreeMap<String, BTreeSet<String>>;

fn placed_by_category(read: &SourceAssets) -> ByCategory {
    let mut out = ByCategory::new();
    for a in &read.assets {
        if matches!(a.location, Location::Point(_)) {
            out.entry(a.category.clone())
                .or_default()
                .insert(a.key.clone());
        }
    }
    out
}

fn unplaced_reasons(read: &SourceAssets) -> Vec<String> {
    read.assets
        .iter()
        .filter_map(|a| match &a.location {
            Location::Unplaced(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn rutland_assets_match_an_independent_reader() {
    let config = AtlasConfig::default_definition().unwrap();
    let source = rutland_source(&config);
    let read = read_asset_source(&data_dir(), source).unwrap();
    let pbf = data_dir().join("assets/osm_rutland_2018.osm.pbf");
    let theirs = independent(&pbf, &rules_json(source));

    let ours = placed_by_category(&read);
    let mut expected = ByCategory::new();
    for f in theirs.iter().filter(|f| !f.invalid) {
        expected
            .entry(f.category.clone())
            .or_default()
            .insert(f.key.clone());
    }
    let counts = |m: &ByCategory| {
        m.iter()
            .map(|(c, k)| (c.clone(), k.len()))
            .collect::<BTreeMap<_, _>>()
    };
    // Counts first, so that a failure shows the per-category figures.
    assert_eq!(counts(&ours), counts(&expected), "GapMap vs pyosmium");
    assert_eq!(ours, expected, "the same OSM ids per category");
    // The figures of the 2018 extract (independently: pyosmium 4, libosmium
    // area assembler), so that a change of rules or reader shows here.
    let total: usize = expected.values().map(BTreeSet::len).sum();
    assert_eq!(total, 236);
    assert_eq!(expected["sports_pitch"].len(), 79);
    assert_eq!(expected["park"].len(), 48);

    // Closed ways with their own tags inside a tagged multipolygon relation
    // are read as their own areas (Oakham School's relation 6034079 holds
    // playing fields drawn as tagged ways; these two are access=private,
    // so excluded by the rules either way), and every tagged closed way
    // the independent reader assembles is among ours (asserted above).
    // Rutland Water Nature Reserve (relation 7588790) has rings that do
    // not close: neither reader can assemble it; GapMap reports its
    // tagged boundary way by id instead of dropping it silently.
    assert!(theirs
        .iter()
        .any(|f| f.key == "relation-7588790" && f.invalid));
    let reasons = unplaced_reasons(&read);
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("way-525958985") && r.contains("nature_reserve")),
        "{reasons:?}"
    );
    assert_eq!(reasons.len(), 2, "{reasons:?}");

    // Polygon areas: pyproj's Geod.geometry_area_perimeter on WGS84.
    let area_of: BTreeMap<&str, f64> = read
        .assets
        .iter()
        .filter_map(|a| Some((a.key.as_str(), a.area_m2?)))
        .collect();
    let mut compared = 0;
    for f in &theirs {
        let Some(want) = f.area_m2 else { continue };
        if f.invalid {
            continue;
        }
        let got = area_of
            .get(f.key.as_str())
            .unwrap_or_else(|| panic!("{} has no area", f.key));
        assert!(
            (got - want).abs() <= 1e-3 * want,
            "{}: GapMap {got} m², pyproj {want} m²",
            f.key
        );
        compared += 1;
    }
    assert!(compared > 200, "{compared} polygons compared");
}

/// A way with its own tags that is also a member of a tagged multipolygon
/// relation is read (both the way and the relation), and a bow-tie polygon
/// is refused, naming its OSM id.
#[test]
fn member_ways_are_read_and_bow_ties_reported() {
    let dir = tempfile::tempdir().unwrap();
    // Nodes on a 0.01° grid near Oakham; a square ring (way 10), a larger
    // ring around it (way 11) and a bow-tie (way 12: 1-2-4-3 crosses).
    let mut xml = String::from(
        "<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6' generator='test'>\n",
    );
    let nodes = [
        (1, -0.73, 52.67),
        (2, -0.72, 52.67),
        (3, -0.72, 52.68),
        (4, -0.73, 52.68),
        (5, -0.75, 52.65),
        (6, -0.70, 52.65),
        (7, -0.70, 52.70),
        (8, -0.75, 52.70),
    ];
    for (id, lon, lat) in nodes {
        writeln!(xml, "<node id='{id}' version='1' lat='{lat}' lon='{lon}'/>").unwrap();
    }
    let way = |id: u32, refs: &[u32], tags: &[(&str, &str)]| {
        let mut s = format!("<way id='{id}' version='1'>");
        for r in refs {
            write!(s, "<nd ref='{r}'/>").unwrap();
        }
        for (k, v) in tags {
            write!(s, "<tag k='{k}' v='{v}'/>").unwrap();
        }
        s.push_str("</way>\n");
        s
    };
    xml.push_str(&way(
        10,
        &[1, 2, 3, 4, 1],
        &[("leisure", "park"), ("name", "Member Park")],
    ));
    xml.push_str(&way(11, &[5, 6, 7, 8, 5], &[]));
    xml.push_str(&way(12, &[1, 2, 4, 3, 1], &[("leisure", "playground")]));
    xml.push_str(
        "<relation id='20' version='1'><member type='way' ref='11' role='outer'/>\
         <member type='way' ref='10' role='inner'/><tag k='type' v='multipolygon'/>\
         <tag k='leisure' v='nature_reserve'/><tag k='name' v='Reserve'/></relation>\n</osm>\n",
    );
    std::fs::write(dir.path().join("fixture.osm"), xml).unwrap();
    let text = gapmap::config::DEFAULT_ATLAS_TOML
        .replace("assets/osm_rutland_2018.osm.pbf", "fixture.osm");
    let config = AtlasConfig::from_toml(&text, Path::new("test.toml")).unwrap();
    let read = read_asset_source(dir.path(), rutland_source(&config)).unwrap();
    let ours = placed_by_category(&read);
    assert_eq!(
        ours.get("park")
            .map(|k| k.iter().map(String::as_str).collect::<Vec<_>>()),
        Some(vec!["way-10"]),
        "{ours:?}"
    );
    assert_eq!(
        ours.get("nature_reserve")
            .map(|k| k.iter().map(String::as_str).collect::<Vec<_>>()),
        Some(vec!["relation-20"])
    );
    assert!(!ours.contains_key("playground"), "{ours:?}");
    let reasons = unplaced_reasons(&read);
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("way-12") && r.contains("invalid polygon")),
        "{reasons:?}"
    );
    // The reserve's area excludes its inner ring (0.05° x 0.05° minus
    // 0.01° x 0.01°: 24/25 of the outer ring's area).
    let area = |key: &str| {
        read.assets
            .iter()
            .find(|a| a.key == key)
            .and_then(|a| a.area_m2)
            .unwrap()
    };
    let ratio = area("relation-20") / (area("way-10") * 25.0);
    assert!((ratio - 0.96).abs() < 0.01, "{ratio}");
}

/// `gapmap check --region rutland` loads Rutland's LSOAs (the ONS best-fit
/// lookup's count for E06000017) and keeps every asset the extract yields;
/// Oxfordshire keeps none of them.
#[test]
fn check_loads_rutland_and_leaves_oxfordshire_alone() {
    let mut lookup =
        csv::Reader::from_path(data_dir().join("lookups/lsoa21_ward24_lad24.csv")).unwrap();
    let headers = lookup.headers().unwrap().clone();
    let lad = headers.iter().position(|h| h == "ltla24_code").unwrap();
    let lsoas = lookup
        .records()
        .filter(|r| r.as_ref().unwrap().get(lad) == Some("E06000017"))
        .count();
    assert!(lsoas > 20, "{lsoas}");

    let check = |region: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_gapmap"))
            .args(["check", "--quiet", "--region", region, "--data-dir"])
            .arg(data_dir())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    let text = check("rutland");
    assert!(text.contains("GapMap atlas: Rutland (rutland)"), "{text}");
    assert!(
        text.contains(&format!("LSOAs 2021           {lsoas:>7}")),
        "{lsoas} LSOAs expected:\n{text}"
    );
    // 236 areas and nodes, all within Rutland or its edge buffer.
    assert!(text.contains("osm_rutland    kept    236"), "{text}");
    // The skipped open way is listed by its OSM id.
    assert!(text.contains("OSM way-525958985"), "{text}");

    let text = check("oxfordshire");
    assert!(text.contains("osm_rutland    kept      0"), "{text}");
}
