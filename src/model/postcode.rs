//! Postcode normalisation, shared by every reader of postcodes.

/// Normalises a postcode for lookup: upper case, single space before the
/// three-character inward code. Returns `None` when it cannot be a UK postcode.
///
/// ```
/// use gapmap::model::normalise_postcode;
/// assert_eq!(normalise_postcode(" ox4  6hw").as_deref(), Some("OX4 6HW"));
/// assert_eq!(normalise_postcode("OX46HW").as_deref(), Some("OX4 6HW"));
/// assert_eq!(normalise_postcode("[Unknown]"), None);
/// assert_eq!(normalise_postcode("SW1A 1AA").as_deref(), Some("SW1A 1AA"));
/// assert_eq!(normalise_postcode("OX4 6HWX"), None);
/// assert_eq!(normalise_postcode("ÖX4 6HW"), None);
/// assert_eq!(normalise_postcode("ox4\u{a0}6hw").as_deref(), Some("OX4 6HW"));
/// ```
#[must_use]
pub fn normalise_postcode(raw: &str) -> Option<String> {
    // One pass into a fixed buffer and one allocation: this runs for each of
    // the 1.7 million rows of Code-Point Open at every start.
    let mut compact = [0_u8; 7];
    let mut len = 0;
    for c in raw.chars().filter(|c| !c.is_whitespace()) {
        let b = u8::try_from(c).ok().filter(u8::is_ascii_alphanumeric)?;
        *compact.get_mut(len)? = b.to_ascii_uppercase();
        len += 1;
    }
    let compact = compact.get(..len).filter(|c| c.len() >= 5)?;
    let (outward, inward) = compact.split_at(len - 3);
    let inward_ok = inward[0].is_ascii_digit()
        && inward[1].is_ascii_alphabetic()
        && inward[2].is_ascii_alphabetic();
    if !inward_ok || !outward[0].is_ascii_alphabetic() {
        return None;
    }
    let mut out = String::with_capacity(len + 1);
    out.extend(outward.iter().map(|&b| char::from(b)));
    out.push(' ');
    out.extend(inward.iter().map(|&b| char::from(b)));
    Some(out)
}
