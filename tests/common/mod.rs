//! Shared test support: the real Oxfordshire atlas, loaded once per test binary.
#![allow(dead_code)]
// Test support may fail loudly: a missing data set should stop the tests.
#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod http;
pub mod server;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use gapmap::atlas::build::{load, LoadRequest, Quiet};
use gapmap::atlas::Atlas;
use gapmap::config::AtlasConfig;

/// The data directory: `GAPMAP_DATA_DIR` or `../shared/geodata` beside the project.
pub fn data_dir() -> PathBuf {
    std::env::var_os("GAPMAP_DATA_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/geodata"),
        PathBuf::from,
    )
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

/// The planner's start-up analysis over the shared atlas, computed once.
pub fn planner() -> &'static gapmap::analysis::Results {
    static PLANNER: OnceLock<gapmap::analysis::Results> = OnceLock::new();
    PLANNER.get_or_init(|| gapmap::analysis::Results::new(atlas()))
}

/// The application state (its own atlas, since `AppState` owns one), built once.
#[allow(clippy::expect_used)] // a test fixture: failing to load is a test failure
pub fn app_state() -> std::sync::Arc<gapmap::api::AppState> {
    static STATE: OnceLock<std::sync::Arc<gapmap::api::AppState>> = OnceLock::new();
    STATE
        .get_or_init(|| {
            let config = AtlasConfig::default_definition().expect("default definition");
            let atlas = load(
                &LoadRequest {
                    config: &config,
                    data_dir: &data_dir(),
                    region: "oxfordshire",
                },
                &Quiet,
            )
            .expect("atlas loads");
            std::sync::Arc::new(gapmap::api::AppState::new(atlas))
        })
        .clone()
}

/// Geodesic distance (m) on WGS84 by Vincenty's inverse formula: an
/// implementation independent of `geo`/geographiclib, for cross-checks
/// (agrees with Karney to well under a millimetre for non-antipodal points).
pub fn vincenty_m(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let a = 6_378_137.0_f64;
    let f = 1.0 / 298.257_223_563;
    let b = a * (1.0 - f);
    let l = (lon2 - lon1).to_radians();
    let u1 = ((1.0 - f) * lat1.to_radians().tan()).atan();
    let u2 = ((1.0 - f) * lat2.to_radians().tan()).atan();
    let (sin_u1, cos_u1) = u1.sin_cos();
    let (sin_u2, cos_u2) = u2.sin_cos();
    let mut lambda = l;
    for _ in 0..200 {
        let (sin_l, cos_l) = lambda.sin_cos();
        let sin_sigma =
            ((cos_u2 * sin_l).powi(2) + (cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_l).powi(2)).sqrt();
        if sin_sigma == 0.0 {
            return 0.0;
        }
        let cos_sigma = sin_u1 * sin_u2 + cos_u1 * cos_u2 * cos_l;
        let sigma = sin_sigma.atan2(cos_sigma);
        let sin_alpha = cos_u1 * cos_u2 * sin_l / sin_sigma;
        let cos2_alpha = 1.0 - sin_alpha * sin_alpha;
        let cos_2sm = if cos2_alpha == 0.0 {
            0.0
        } else {
            cos_sigma - 2.0 * sin_u1 * sin_u2 / cos2_alpha
        };
        let c = f / 16.0 * cos2_alpha * (4.0 + f * (4.0 - 3.0 * cos2_alpha));
        let prev = lambda;
        lambda = l
            + (1.0 - c)
                * f
                * sin_alpha
                * (sigma
                    + c * sin_sigma * (cos_2sm + c * cos_sigma * (-1.0 + 2.0 * cos_2sm * cos_2sm)));
        if (lambda - prev).abs() < 1e-12 {
            let u_sq = cos2_alpha * (a * a - b * b) / (b * b);
            let big_a =
                1.0 + u_sq / 16384.0 * (4096.0 + u_sq * (-768.0 + u_sq * (320.0 - 175.0 * u_sq)));
            let big_b = u_sq / 1024.0 * (256.0 + u_sq * (-128.0 + u_sq * (74.0 - 47.0 * u_sq)));
            let delta_sigma = big_b
                * sin_sigma
                * (cos_2sm
                    + big_b / 4.0
                        * (cos_sigma * (-1.0 + 2.0 * cos_2sm * cos_2sm)
                            - big_b / 6.0
                                * cos_2sm
                                * (-3.0 + 4.0 * sin_sigma * sin_sigma)
                                * (-3.0 + 4.0 * cos_2sm * cos_2sm)));
            return b * big_a * (sigma - delta_sigma);
        }
    }
    f64::NAN
}

/// Provenance for configurations that tests build by hand.
pub fn test_provenance() -> gapmap::config::Provenance {
    gapmap::config::Provenance {
        title: "test".into(),
        publisher: "test".into(),
        vintage: "test".into(),
        licence: "test".into(),
        attribution: "test".into(),
    }
}

/// The rows of a CSV in the data directory (read with the `csv` crate, not
/// GapMap's readers), as header → cell maps; a UTF-8 BOM is dropped.
pub fn csv_rows(path: &str) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(data_dir().join(path)).unwrap();
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_owned())
        .collect();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .cloned()
                .zip(r.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}
