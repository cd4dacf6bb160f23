//! Command-line interface: argument parsing, progress display, and one module
//! per command. [`args`] defines every argument and imports nothing else of
//! the CLI; [`load`] turns atlas arguments into an atlas; each command module
//! uses both, so the modules form no circle.

mod args;
mod check;
mod gaps;
mod load;
mod memory;
mod prepared;
mod register;
mod serve;
mod token;

use std::process::ExitCode;

use clap::Parser;

pub use args::{Args, AtlasArgs, Command, GapsArgs, GapsFormat, ServeArgs};
pub use load::load_atlas;
pub use memory::peak_rss_bytes;

/// Runs the command line; returns the process exit code.
#[must_use]
pub fn main() -> ExitCode {
    let args = Args::parse();
    init_tracing();
    let result = match &args.command {
        Command::Check(a) => check::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Gaps(a) => gaps::run(a),
        Command::Token(t) => token::run(t),
        Command::Register(r) => register::run(r),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("GAPMAP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
