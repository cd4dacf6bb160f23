//! GapMap: where deprivation and community assets meet, or fail to.
//!
//! Data flows one way, and each layer imports only those below it:
//!
//! 1. [`model`], [`config`], [`parallel`]: shared plain types (geometries in
//!    both CRSs, codes, published values), the atlas definition, a helper for
//!    both cores, and the CQL2 parser ([`cql2`]) — used by every layer, using none;
//! 2. [`sources`]: reading files (the only code that touches GDAL);
//! 3. [`atlas`]: the joined, indexed model built from the sources;
//! 4. [`analysis`]: pure functions over the atlas with their own error type;
//! 5. [`api`] and [`cli`]: thin translations of requests and arguments into
//!    calls, and of results into responses.

pub mod analysis;
pub mod api;
pub mod atlas;
pub mod cli;
pub mod config;
pub mod cql2;
pub mod live;
pub mod model;
pub mod parallel;
pub mod sources;
