//! Sources: reading files. This is the only layer that touches GDAL; it turns
//! each configured file into plain records (codes, values, geometries in both
//! CRSs) for the atlas to join. Sources import only [`crate::model`] and [`crate::config`].

pub mod area_boundary;
pub mod assets;
pub mod boundaries;
pub mod error;
mod gdal_errors;
pub mod postcodes;
pub mod prepared;
pub mod register;
pub mod reproject;
pub mod table;
pub mod tables;

pub use assets::{read_asset_source, slug, Location, RawAsset, SourceAssets};
pub use boundaries::{read_boundaries, RawArea};
pub use error::SourceError;
pub use postcodes::{read_postcodes, sector_of, PostcodeRecord, PostcodeScan, SectorCentroid};
pub use reproject::Reprojector;
