//! A boundary uploaded as a file, read with GDAL from memory (`/vsimem/`;
//! a `.zip` through `/vsizip/`, so a zipped Shapefile is read as it is).
//! Drivers are limited to boundary formats: GeoJSON, GeoPackage,
//! Shapefile, KML (both drivers), FlatGeobuf, GML and MapInfo. Every
//! feature of every layer must be a polygon or multipolygon; they become
//! the parts of one area, in the CRS of the first layer (others are
//! transformed to it).

use std::sync::atomic::{AtomicU64, Ordering};

use gdal::vector::LayerAccess;
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};

use super::{finish, Boundary, BoundaryError, BoundaryLimits};

/// Drivers an upload may be read with.
pub const DRIVERS: [&str; 9] = [
    "GeoJSON",
    "GPKG",
    "ESRI Shapefile",
    "KML",
    "LIBKML",
    "FlatGeobuf",
    "GML",
    "MapInfo File",
    "GeoJSONSeq",
];

fn bad(problem: impl Into<String>) -> BoundaryError {
    BoundaryError::new("file", problem)
}

/// Removes the in-memory file when dropped.
struct MemFile(String);

impl Drop for MemFile {
    fn drop(&mut self) {
        let _ = gdal::vsi::unlink_mem_file(&self.0);
    }
}

/// Reads an uploaded boundary file. `name` is its file name (only its
/// extension is used: `.zip` is opened as a zip archive).
///
/// # Errors
/// [`BoundaryError`] naming `file`: too large, unreadable, without a CRS,
/// with a feature that is not a polygon, beyond the limits, unrepairable.
pub fn read(
    bytes: Vec<u8>,
    name: &str,
    limits: &BoundaryLimits,
) -> Result<Boundary, BoundaryError> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    if bytes.len() > limits.max_bytes {
        return Err(bad(format!(
            "{} bytes; at most {} are accepted",
            bytes.len(),
            limits.max_bytes
        )));
    }
    if bytes.is_empty() {
        return Err(bad("the file is empty"));
    }
    check_geojson_crs(&bytes)?;
    let ext: String = std::path::Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect::<String>()
        .to_ascii_lowercase();
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    let mem = MemFile(format!(
        "/vsimem/gapmap-upload-{}-{id}/upload.{}",
        std::process::id(),
        if ext.is_empty() { "bin" } else { &ext }
    ));
    // GDAL reads the bytes in place and never owns them: handing it a Rust
    // allocation to free (`create_mem_file`) aborts the process when the
    // program's allocator is not the C library's (the binary uses
    // mimalloc). Drop order keeps the buffer alive: the dataset goes first,
    // then the in-memory file, then the bytes.
    let mut buffer = bytes;
    let _held = gdal::vsi::create_mem_file_from_ref(&mem.0, &mut buffer)
        .map_err(|e| bad(format!("cannot be held: {e}")))?;
    let path = if ext == "zip" {
        format!("/vsizip/{}", mem.0)
    } else {
        mem.0.clone()
    };
    // A zip holds a Shapefile and nothing else: a GeoJSON inside one would
    // escape the check of its `crs` member above.
    let drivers: &[&str] = if ext == "zip" {
        &["ESRI Shapefile"]
    } else {
        &DRIVERS
    };
    let options = DatasetOptions {
        open_flags: GdalOpenFlags::GDAL_OF_VECTOR | GdalOpenFlags::GDAL_OF_READONLY,
        allowed_drivers: Some(drivers),
        ..DatasetOptions::default()
    };
    let dataset = Dataset::open_ex(&path, options).map_err(|_| {
        bad("GDAL cannot read it as a boundary file (GeoJSON, GeoPackage, zipped Shapefile, KML, FlatGeobuf, GML or MapInfo)")
    })?;
    read_dataset(&dataset, limits)
}

/// Refuses a GeoJSON upload whose `crs` member is anything but the name of
/// a CRS GapMap takes (an EPSG code or CRS84). GDAL follows a
/// `"type": "link"` member's URL (a request to wherever the file says,
/// which `ALLOW_NETWORK_ACCESS` does not cover) and reads a name it does
/// not know as CRS84 without a word. Files that are not JSON pass through;
/// text that is not JSON but names a `crs` is refused too.
fn check_geojson_crs(bytes: &[u8]) -> Result<(), BoundaryError> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Some(&first) = text.iter().find(|b| !b.is_ascii_whitespace()) else {
        return Ok(());
    };
    // GeoJSON, or a GeoJSON text sequence (RFC 8142: RS before each text).
    if first != b'{' && first != 0x1e {
        return Ok(());
    }
    let refused = || {
        bad("its crs member is not accepted: GeoJSON is CRS84 (RFC 7946); an older file may name an EPSG CRS, as {\"type\":\"name\",\"properties\":{\"name\":\"EPSG:27700\"}}, but never link to one")
    };
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(text) else {
        let named = text.windows(5).any(|w| w == b"\"crs\"");
        return if named { Err(refused()) } else { Ok(()) };
    };
    let Some(crs) = doc.get("crs") else {
        return Ok(());
    };
    let name = (crs.get("type").and_then(serde_json::Value::as_str) == Some("name"))
        .then(|| crs.get("properties")?.get("name")?.as_str())
        .flatten();
    match name {
        Some(n) if super::epsg_code(n).is_some() => Ok(()),
        _ => Err(refused()),
    }
}

/// Vertices of an OGR geometry, all parts and rings; `None` when it nests
/// deeper than a geometry collection of multipolygons (never a boundary).
fn ogr_vertices(g: &gdal::vector::Geometry, depth: usize) -> Option<usize> {
    if depth > 3 {
        return None;
    }
    let parts = g.geometry_count();
    if parts == 0 {
        return Some(g.point_count());
    }
    (0..parts).try_fold(0_usize, |sum, i| {
        Some(sum.saturating_add(ogr_vertices(&g.get_geometry(i), depth + 1)?))
    })
}

fn read_dataset(dataset: &Dataset, limits: &BoundaryLimits) -> Result<Boundary, BoundaryError> {
    let mut srs: Option<gdal::spatial_ref::SpatialRef> = None;
    let mut parts = Vec::new();
    let mut features = 0_usize;
    let mut budget = limits.max_vertices;
    for mut layer in dataset.layers() {
        let layer_srs = layer.spatial_ref();
        for feature in layer.features() {
            let Some(geometry) = feature.geometry() else {
                continue;
            };
            features += 1;
            if features > limits.max_parts {
                return Err(bad(format!(
                    "more than {} features; at most {} are accepted",
                    limits.max_parts, limits.max_parts
                )));
            }
            // Counted on GDAL's own geometry, before any copy or text: a
            // 187 KB zip can hold one ring of millions of vertices.
            let vertices = ogr_vertices(geometry, 0).ok_or_else(|| {
                bad(format!(
                    "feature {features} nests geometries deeper than a polygon's rings"
                ))
            })?;
            if vertices > budget {
                return Err(bad(format!(
                    "more than {} vertices; at most {} are accepted",
                    limits.max_vertices, limits.max_vertices
                )));
            }
            let layer_srs = layer_srs.clone().ok_or_else(|| {
                bad("the file has no coordinate reference system (a Shapefile needs its .prj)")
            })?;
            let mut g = geometry.clone();
            g.flatten_to_2d();
            match &srs {
                None => srs = Some(layer_srs),
                Some(first) if *first != layer_srs => {
                    // PROJ's per-coordinate complaints go to the 400, not the log.
                    let (transformed, _proj_messages) =
                        super::super::gdal_errors::capture(|| g.transform_to(first));
                    g = transformed
                        .map_err(|e| bad(format!("a layer cannot be transformed: {e}")))?;
                }
                Some(_) => {}
            }
            let kind = g.geometry_name();
            let json: serde_json::Value = g
                .json()
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .ok_or_else(|| bad(format!("feature {features} cannot be read")))?;
            match json.get("type").and_then(serde_json::Value::as_str) {
                Some("Polygon" | "MultiPolygon") => {}
                _ => {
                    return Err(bad(format!(
                        "feature {features} is a {kind}; a boundary must be polygons"
                    )))
                }
            }
            let (mp, _) =
                super::geojson::parse_counted(&json, &mut budget).map_err(|e| bad(e.problem))?;
            parts.extend(mp.0);
        }
    }
    let Some(mut srs) = srs else {
        return Err(bad("the file has no polygon features"));
    };
    srs.set_axis_mapping_strategy(gdal::spatial_ref::AxisMappingStrategy::TraditionalGisOrder);
    finish(geo::MultiPolygon(parts), &srs, features, limits, "file")
}
