//! Postcode units (every current Code-Point Open unit; it has no residential
//! flag): the origins for access measures and the gazetteer
//! for search.

use super::area::AreaIdx;
use crate::model::{DualPoint, PostcodeCode};

/// A postcode unit inside the region.
#[derive(Debug, Clone, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct Postcode {
    /// Normalised postcode, e.g. `OX4 6HW`.
    pub code: PostcodeCode,
    /// Code-Point Open position.
    pub location: DualPoint,
    /// The 2021 LSOA containing the position.
    pub lsoa21: AreaIdx,
}
