//! Splitting independent work over all cores with `std::thread::scope`:
//! placing postcodes at load and the per-LSOA and per-asset loops of the
//! analysis are embarrassingly parallel, and scoped threads borrow the atlas
//! without `Arc` or copies.

/// Maps `f` over `items` on all available cores, keeping the input order.
///
/// A worker that panics yields no results for its chunk rather than
/// aborting; callers only pass functions that do not panic, so this is a
/// guard, not a code path.
///
/// ```
/// use gapmap::parallel::par_map;
/// let squares = par_map(&[1, 2, 3, 4, 5], |x| x * x);
/// assert_eq!(squares, vec![1, 4, 9, 16, 25]);
/// ```
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    if threads <= 1 || items.len() < 2 {
        return items.iter().map(&f).collect();
    }
    // More chunks than threads balances uneven work (dense city LSOAs
    // next to empty rural ones) without a work-stealing pool.
    let chunk = items.len().div_ceil(threads * 4).max(1);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}
