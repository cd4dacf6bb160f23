//! GapMap: where deprivation and community assets meet, or fail to.
//!
//! Data flows one way: [`sources`] (files, GDAL) → [`atlas`] (the joined,
//! indexed model, built once) → [`analysis`] (pure functions) → [`api`] and
//! the web map. [`cli`] wires them to commands; [`config`] and [`parallel`]
//! serve every layer.

pub mod analysis;
pub mod api;
pub mod atlas;
pub mod cli;
pub mod config;
pub mod cql2;
pub mod parallel;
pub mod sources;
