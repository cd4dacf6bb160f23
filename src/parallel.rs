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

/// Sets `out[i] = f(i)` for every index of `out`, on all available cores.
/// For results as large as a whole table (one cell per LSOA and category),
/// which [`par_map`] would hold twice while its parts are joined.
///
/// A worker that panics leaves its slots as they were (see [`par_map`]).
///
/// ```
/// use gapmap::parallel::par_fill;
/// let mut squares = vec![0; 5];
/// par_fill(&mut squares, |i| i * i);
/// assert_eq!(squares, vec![0, 1, 4, 9, 16]);
/// ```
pub fn par_fill<R: Send>(out: &mut [R], f: impl Fn(usize) -> R + Sync) {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    if threads <= 1 || out.len() < 2 {
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = f(i);
        }
        return;
    }
    let chunk = out.len().div_ceil(threads * 4).max(1);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = out
            .chunks_mut(chunk)
            .enumerate()
            .map(|(k, part)| {
                s.spawn(move || {
                    for (j, slot) in part.iter_mut().enumerate() {
                        *slot = f(k * chunk + j);
                    }
                })
            })
            .collect();
        for h in handles {
            // Joined here, so that a panic stays in its chunk.
            let _ = h.join();
        }
    });
}
