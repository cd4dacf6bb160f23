//! Register entries placed in the atlas: each entry with its location in both
//! CRSs and the 2021 LSOA, ward and district it lies in.

use super::area::AreaIdx;
use crate::model::register::Entry;
use crate::model::DualPoint;

/// Id of the register among [`crate::atlas::Atlas::sources`].
pub const REGISTER_SOURCE: &str = "register";

/// A register entry placed in the atlas.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedEntry {
    /// The stored entry.
    pub entry: Entry,
    /// Its point in CRS84 and British National Grid.
    pub location: DualPoint,
    /// The 2021 LSOA containing it (`None` outside the region's LSOAs).
    pub lsoa21: Option<AreaIdx>,
    /// The ward of that LSOA.
    pub ward: Option<AreaIdx>,
    /// The district of that LSOA.
    pub district: Option<AreaIdx>,
}
