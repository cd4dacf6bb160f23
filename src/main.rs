//! The `gapmap` binary: parses arguments and hands over to [`gapmap::cli`].

// mimalloc: loading England allocates and frees millions of small strings and
// vectors from several threads at once; glibc's allocator spent about a
// seventh of the cold start in malloc, realloc and page faults.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    gapmap::cli::main()
}
