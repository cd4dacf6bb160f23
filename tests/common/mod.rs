//! Shared test support: the real Oxfordshire atlas, loaded once per test binary.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use gapmap::atlas::build::{load, LoadRequest, Quiet};
use gapmap::atlas::Atlas;
use gapmap::config::AtlasConfig;

/// The data directory: `GAPMAP_DATA_DIR` or `../shared/geodata` beside the project.
pub fn data_dir() -> PathBuf {
    std::env::var_os("GAPMAP_DATA_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/geodata"), PathBuf::from)
}

/// The default (Oxfordshire) atlas, loaded once.
pub fn atlas() -> &'static Atlas {
    static ATLAS: OnceLock<Atlas> = OnceLock::new();
    ATLAS.get_or_init(|| {
        let config = AtlasConfig::default_definition().expect("default definition");
        load(
            &LoadRequest {
                config: &config,
                data_dir: &data_dir(),
                region: "oxfordshire",
            },
            &Quiet,
        )
        .expect("atlas loads")
    })
}
