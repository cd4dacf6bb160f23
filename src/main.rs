//! The `gapmap` binary: parses arguments and hands over to [`gapmap::cli`].

// mimalloc: loading England allocates and frees millions of small strings and
// vectors from several threads at once; glibc's allocator spent about a
// seventh of the cold start in malloc, realloc and page faults.
// Optional (default on) so that heap profilers, which follow the system
// allocator, can see a build without it.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (`include/mimalloc.h`; v3, which
/// libmimalloc-sys builds unless told `v2`): how long freed memory is kept
/// before it is returned to the system.
#[cfg(feature = "mimalloc")]
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> std::process::ExitCode {
    // Return freed memory at once instead of after a second (mimalloc
    // v3's default): the start-up builds and drops hundreds of MB of temporary
    // tables while it allocates the lasting ones, and the delayed purge
    // let them pile up. England's server peaked at 1,084 MiB under the
    // 60 s mixed load with the default and 834 MiB with this and no_thp
    // (benches/ready.sh), at the same req/s.
    #[cfg(feature = "mimalloc")]
    // SAFETY: sets a plain integer option, which mimalloc reads at each
    // purge; called before any other thread exists (it is not thread-safe).
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
    }
    gapmap::cli::main()
}

#[cfg(all(test, feature = "mimalloc"))]
mod tests {
    /// The option number is mimalloc's, not a name: a mimalloc whose
    /// options moved would silently set another one.
    #[test]
    fn option_15_is_the_purge_delay() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            // SAFETY: reads an integer option.
            let delay = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
            assert_eq!(delay, 1000, "mimalloc v3's default purge delay is 1,000 ms");
        }
    }
}
