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

/// A normalised postcode held inline: at most 8 ASCII bytes (`SW1A 1AA`),
/// zero-padded. England's 1.5 million postcode units each held a `String`
/// (24 bytes plus a heap block); this is 8 bytes, and orders as the text
/// does (a shorter code that is a prefix of another sorts first, as 0 is
/// below every character).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
pub struct PostcodeCode([u8; 8]);

impl PostcodeCode {
    /// From a code [`normalise_postcode`] returned (at most 8 ASCII bytes);
    /// `None` for anything longer or not ASCII.
    #[must_use]
    pub fn new(normalised: &str) -> Option<Self> {
        let bytes = normalised.as_bytes();
        if bytes.len() > 8 || !normalised.is_ascii() || bytes.contains(&0) {
            return None;
        }
        let mut code = [0_u8; 8];
        code[..bytes.len()].copy_from_slice(bytes);
        Some(Self(code))
    }

    /// From a code [`normalise_postcode`] returned, which is always at
    /// most 8 ASCII bytes; anything else (never seen) keeps its first 8
    /// bytes up to a character boundary.
    #[must_use]
    pub fn from_normalised(normalised: &str) -> Self {
        Self::new(normalised).unwrap_or_else(|| {
            let mut end = normalised.len().min(8);
            while !normalised.is_char_boundary(end) {
                end -= 1;
            }
            let mut code = [0_u8; 8];
            code[..end].copy_from_slice(&normalised.as_bytes()[..end]);
            Self(code)
        })
    }

    /// The code as text, e.g. `OX4 6HW`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        let len = self.0.iter().position(|&b| b == 0).unwrap_or(8);
        // Built from ASCII only, so always UTF-8.
        std::str::from_utf8(&self.0[..len]).unwrap_or_default()
    }
}

impl std::fmt::Display for PostcodeCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for PostcodeCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_keep_their_text_and_order() {
        let mut codes: Vec<&str> = vec!["OX4 6HW", "SW1A 1AA", "W1 1AA", "OX4 6H", "B1 1AA"];
        let mut compact: Vec<PostcodeCode> = codes
            .iter()
            .map(|c| PostcodeCode::new(c).unwrap())
            .collect();
        codes.sort_unstable();
        compact.sort_unstable();
        let back: Vec<&str> = compact.iter().map(PostcodeCode::as_str).collect();
        assert_eq!(back, codes);
        assert_eq!(PostcodeCode::new("TOOLONG 1AA"), None);
        assert_eq!(PostcodeCode::new("ÖX4 6HW"), None);
    }
}
