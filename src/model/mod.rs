//! Shared plain types at the bottom of the layers: every other module may use
//! them, and they use nothing of GapMap's. Geometries in both reference
//! systems, area codes and classifications, published deprivation values and
//! postcode normalisation.

pub mod area;
pub mod borsh_vec;
pub mod codes;
pub mod geometry;
mod geometry_encoding;
pub mod postcode;
pub mod register;

pub use codes::{ChangeCode, IndicatorValue, RuralUrban};
pub use geometry::{Crs, DualPoint, DualPolygon};
pub use postcode::{normalise_postcode, PostcodeCode};
