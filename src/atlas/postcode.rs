//! Residential postcodes: the origins for access measures and the gazetteer
//! for search.

use super::area::AreaIdx;
use super::geometry::DualPoint;

/// A postcode unit inside the region.
#[derive(Debug, Clone)]
pub struct Postcode {
    /// Normalised postcode, e.g. `OX4 6HW`.
    pub code: String,
    /// Code-Point Open position.
    pub location: DualPoint,
    /// The 2021 LSOA containing the position.
    pub lsoa21: AreaIdx,
}

/// Normalises a postcode for lookup: upper case, single space before the
/// three-character inward code. Returns `None` when it cannot be a UK postcode.
///
/// ```
/// use gapmap::atlas::normalise_postcode;
/// assert_eq!(normalise_postcode(" ox4  6hw").as_deref(), Some("OX4 6HW"));
/// assert_eq!(normalise_postcode("OX46HW").as_deref(), Some("OX4 6HW"));
/// assert_eq!(normalise_postcode("[Unknown]"), None);
/// ```
#[must_use]
pub fn normalise_postcode(raw: &str) -> Option<String> {
    let compact: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if !(5..=7).contains(&compact.len()) || !compact.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let bytes = compact.as_bytes();
    let inward = &bytes[bytes.len() - 3..];
    let inward_ok = inward[0].is_ascii_digit()
        && inward[1].is_ascii_alphabetic()
        && inward[2].is_ascii_alphabetic();
    if !inward_ok || !bytes[0].is_ascii_alphabetic() {
        return None;
    }
    let split = compact.len() - 3;
    Some(format!("{} {}", &compact[..split], &compact[split..]))
}
