//! The GDAL backend: any vector layer GDAL can open.

use std::path::Path;

use gdal::spatial_ref::SpatialRef;
use gdal::vector::{geometry_type_flatten, Feature, LayerAccess, OGRwkbGeometryType};
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};
use geo::Geometry;

use super::Cells;
use crate::sources::error::SourceError;
use crate::sources::gdal_errors::capture;

/// The error for failures GDAL raised while reading features, after `rows`
/// features had been read.
pub(crate) fn read_failure(
    file: &Path,
    layer: Option<&str>,
    rows: u64,
    failures: &[String],
) -> SourceError {
    SourceError::Gdal {
        file: file.to_owned(),
        message: format!(
            "GDAL failed while reading{} after {rows} features: {}; the file looks truncated or corrupt",
            layer.map(|l| format!(" layer '{l}'")).unwrap_or_default(),
            failures.join("; ")
        ),
    }
}

/// An open GDAL dataset and the layer rows are read from.
pub(super) struct GdalLayer {
    dataset: Dataset,
    layer: Option<String>,
}

impl GdalLayer {
    /// Opens `path` with GDAL and lists the layer's columns.
    pub(super) fn open(
        path: &Path,
        layer: Option<&str>,
        open_options: &[&str],
    ) -> Result<(Self, Vec<String>), SourceError> {
        let options = DatasetOptions {
            open_flags: GdalOpenFlags::GDAL_OF_VECTOR | GdalOpenFlags::GDAL_OF_READONLY,
            open_options: if open_options.is_empty() {
                None
            } else {
                Some(open_options)
            },
            ..DatasetOptions::default()
        };
        let dataset = Dataset::open_ex(path, options).map_err(|e| SourceError::Open {
            file: path.to_owned(),
            layer: layer.map(str::to_owned),
            message: e.to_string(),
        })?;
        let table = Self {
            dataset,
            layer: layer.map(str::to_owned),
        };
        let columns = table
            .layer(path)?
            .defn()
            .fields()
            .map(|f| f.name())
            .collect();
        Ok((table, columns))
    }

    fn layer(&self, file: &Path) -> Result<gdal::vector::Layer<'_>, SourceError> {
        let result = match &self.layer {
            Some(name) => self.dataset.layer_by_name(name),
            None => self.dataset.layer(0),
        };
        result.map_err(|e| SourceError::Open {
            file: file.to_owned(),
            layer: self.layer.clone(),
            message: e.to_string(),
        })
    }

    pub(super) fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// The layer's declared CRS, if any.
    pub(super) fn spatial_ref(&self, file: &Path) -> Result<Option<SpatialRef>, SourceError> {
        Ok(self.layer(file)?.spatial_ref())
    }

    pub(super) fn for_each(
        &self,
        file: &Path,
        visit: &mut dyn FnMut(Cells<'_>) -> Result<(), SourceError>,
    ) -> Result<(), SourceError> {
        let mut layer = self.layer(file)?;
        let mut features = layer.features();
        let mut row = 0_u64;
        loop {
            // Some drivers report a corrupt or cut-off file only through
            // GDAL's error handler, then stop returning features.
            let (feature, failures) = capture(|| features.next());
            if !failures.is_empty() {
                return Err(read_failure(file, self.layer.as_deref(), row, &failures));
            }
            let Some(feature) = feature else {
                return Ok(());
            };
            row += 1;
            visit(Cells::Gdal(&feature))?;
        }
    }
}

/// A feature's geometry as a `geo` geometry; `None` when missing or empty.
pub(super) fn geometry(
    feature: &Feature<'_>,
) -> Result<Option<Geometry<f64>>, gdal::errors::GdalError> {
    feature
        .geometry()
        .filter(|g| !g.is_empty())
        .map(gdal::vector::Geometry::to_geo)
        .transpose()
}

/// The polygon rings of a feature's geometry whose last point is not their
/// first, e.g. `"polygon 1, ring 2"` (both 1-based); `geo` closes them when
/// the geometry is converted.
pub(super) fn open_rings(feature: &Feature<'_>) -> Vec<String> {
    fn polygon(p: &gdal::vector::Geometry, index: usize, out: &mut Vec<String>) {
        for r in 0..p.geometry_count() {
            let ring = p.get_geometry(r);
            let Ok(last) = i32::try_from(ring.point_count()) else {
                continue;
            };
            if last > 0 {
                let (a, b) = (ring.get_point(0), ring.get_point(last - 1));
                if (a.0, a.1) != (b.0, b.1) {
                    out.push(format!("polygon {}, ring {}", index + 1, r + 1));
                }
            }
        }
    }
    let mut out = Vec::new();
    let Some(g) = feature.geometry() else {
        return out;
    };
    match geometry_type_flatten(g.geometry_type()) {
        OGRwkbGeometryType::wkbPolygon => polygon(g, 0, &mut out),
        OGRwkbGeometryType::wkbMultiPolygon => {
            for i in 0..g.geometry_count() {
                polygon(&g.get_geometry(i), i, &mut out);
            }
        }
        _ => {}
    }
    out
}
