//! The `gapmap` binary: parses arguments and hands over to [`gapmap::cli`].

fn main() -> std::process::ExitCode {
    gapmap::cli::main()
}
