//! Loading the atlas from command-line arguments, with a progress bar.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::args::AtlasArgs;
use crate::atlas::build::{load, LoadObserver, LoadRequest};
use crate::atlas::Atlas;
use crate::config::AtlasConfig;

struct Bar {
    bar: ProgressBar,
}

impl LoadObserver for Bar {
    fn step_done(&self, step: &str, records: usize, elapsed: Duration) {
        self.bar.println(format!(
            "  {step:<34} {records:>9} records  {:>7.0} ms",
            elapsed.as_secs_f64() * 1000.0
        ));
    }

    fn postcode_files(&self, done: usize, total: usize) {
        self.bar.set_length(total as u64);
        self.bar.set_position(done as u64);
    }
}

/// Reads the definition and loads the atlas the arguments name.
///
/// # Errors
/// A message naming the file, row and column at fault.
pub fn load_atlas(args: &AtlasArgs) -> Result<Atlas, String> {
    let config = load_config(args)?;
    load_atlas_with(args, &config)
}

/// Reads the atlas definition the arguments name.
///
/// # Errors
/// A message naming the file, line and key at fault.
pub fn load_config(args: &AtlasArgs) -> Result<AtlasConfig, String> {
    match &args.config {
        Some(path) => AtlasConfig::from_file(path),
        None => AtlasConfig::default_definition(),
    }
    .map_err(|e| e.to_string())
}

/// Loads the atlas of an already read definition.
///
/// # Errors
/// A message naming the file, row and column at fault.
pub fn load_atlas_with(args: &AtlasArgs, config: &AtlasConfig) -> Result<Atlas, String> {
    let region = args
        .region
        .clone()
        .unwrap_or_else(|| config.default_region.clone());
    if !args.data_dir.is_dir() {
        return Err(format!(
            "data directory {} not found (set --data-dir or GAPMAP_DATA_DIR)",
            args.data_dir.display()
        ));
    }
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template("  postcode files {bar:30} {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let observer = Bar { bar };
    let request = LoadRequest {
        config,
        data_dir: &args.data_dir,
        region: &region,
    };
    let atlas = load(&request, &observer).map_err(|e| e.to_string());
    observer.bar.finish_and_clear();
    atlas
}
