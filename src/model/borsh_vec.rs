//! Vectors read back from the prepared atlas (see `sources::prepared`) at
//! their exact length. borsh's own `Vec` reading reserves at most 4 KiB and
//! then grows by doubling, which left England's 1.49 M postcodes in a
//! vector with room for 2.1 M (29 MB unused) and a polygon's rings up to
//! half empty. The prepared file's checksum is verified before anything is
//! read from it, so a count is the writer's; still, no count reserves more
//! than [`MAX_RESERVE_BYTES`], beyond which the vector grows as items
//! arrive (a crafted count then runs into the end of the input).

use std::sync::Arc;

use borsh::io::{Read, Result};
use borsh::BorshDeserialize;

/// The most memory one count reserves ahead of its items.
pub const MAX_RESERVE_BYTES: usize = 256 << 20;

/// An empty vector with room for `len` items, at most
/// [`MAX_RESERVE_BYTES`] of them.
#[must_use]
pub fn reserved<T>(len: usize) -> Vec<T> {
    let most = MAX_RESERVE_BYTES / std::mem::size_of::<T>().max(1);
    Vec::with_capacity(len.min(most))
}

/// Reads a borsh vector (a `u32` count, then the items) with exactly the
/// room it needs.
///
/// # Errors
/// As the items' own reading, or an input that ends early.
pub fn read_vec<T: BorshDeserialize, R: Read>(r: &mut R) -> Result<Vec<T>> {
    let len = u32::deserialize_reader(r)? as usize;
    let mut items = reserved(len);
    for _ in 0..len {
        items.push(T::deserialize_reader(r)?);
    }
    Ok(items)
}

/// [`read_vec`] for a shared vector.
///
/// # Errors
/// As [`read_vec`].
pub fn read_arc_vec<T: BorshDeserialize, R: Read>(r: &mut R) -> Result<Arc<Vec<T>>> {
    read_vec(r).map(Arc::new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use borsh::BorshSerialize;

    #[test]
    fn reads_what_borsh_writes_with_no_spare_room() {
        let items: Vec<u64> = (0..10_000).collect();
        let bytes = borsh::to_vec(&items).unwrap_or_default();
        let back: Vec<u64> = read_vec(&mut bytes.as_slice()).unwrap_or_default();
        assert_eq!(back, items);
        assert_eq!(back.capacity(), items.len());
        // borsh's own reading leaves room to spare: what this module is for.
        let theirs = Vec::<u64>::deserialize(&mut bytes.as_slice()).unwrap_or_default();
        assert!(theirs.capacity() > theirs.len());
    }

    #[test]
    fn a_count_beyond_the_input_is_an_error_not_a_reservation() {
        let mut bytes = Vec::new();
        u32::MAX.serialize(&mut bytes).unwrap_or_default();
        7_u64.serialize(&mut bytes).unwrap_or_default();
        assert!(read_vec::<u64, _>(&mut bytes.as_slice()).is_err());
        assert!(reserved::<u64>(usize::MAX).capacity() <= MAX_RESERVE_BYTES / 8);
    }
}
