//! Pure analysis functions over the atlas: access distances, capacity-aware
//! access (2SFCA), gaps, and ward/district roll-ups. No HTTP, no files.
//!
//! One algorithm per module:
//! - [`geodesic`]: geodesic distances, fast and within 0.1 mm for short lines;
//! - [`nearest`]: geodesic nearest-neighbour and within-distance search over a
//!   BNG R-tree;
//! - [`origins`]: access origins per LSOA (its postcodes, or a point on its
//!   surface when it has none);
//! - [`apportion`]: residents and assets of wards no LSOA best-fits, and LSOA shares of any polygon;
//! - [`area_profile`]: the profile of a drawn, uploaded or listed area;
//! - [`access`]: straight-line distance to the nearest asset per LSOA and
//!   category, coverage-aware;
//! - [`fca`]: two-step floating catchment area (2SFCA) assets per 10,000
//!   residents;
//! - [`history`]: IMD 2019 (2011 LSOAs) carried onto 2021 LSOAs;
//! - [`gaps`]: LSOAs both deprived and far from a category;
//! - [`rollup`]: ward and district roll-ups, 2019 and 2025 side by side;
//! - [`priority`]: wards containing the most deprived LSOAs;
//! - [`results`]: all of the above computed once for a snapshot;
//! - [`gap_report`]: a validated gap request and its report (GeoJSON, CSV);
//! - [`located`]: approximated and excluded assets, for method blocks;
//! - [`prepared_area`]: a polygon's edges indexed for many point tests;
//! - [`interrupt`]: the flag that stops an analysis nobody waits for.
//!
//! Errors are [`AnalysisError`]; the API and CLI translate them.

pub mod access;
pub mod apportion;
pub mod area_profile;
pub mod fca;
pub mod gap_report;
pub mod gaps;
pub mod geodesic;
pub mod history;
pub mod interrupt;
pub mod located;
pub mod nearest;
pub mod origins;
pub mod prepared_area;
pub mod priority;
pub mod results;
pub mod rollup;

pub use interrupt::Interrupt;
pub use results::{Analysis, AnalysisTimings, Results};

/// Why an analysis request cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnalysisError {
    /// A request parameter has a value the analysis cannot use.
    #[error("parameter '{parameter}': expected {expected}")]
    InvalidParameter {
        /// The parameter at fault, as named in `/gaps` and `gapmap gaps`.
        parameter: &'static str,
        /// What would have been accepted.
        expected: String,
    },
    /// The request was abandoned (its time budget ran out, or its client
    /// left) and the analysis stopped before answering.
    #[error("the analysis was abandoned before it finished")]
    Interrupted,
}

impl AnalysisError {
    /// An invalid parameter value.
    pub fn invalid(parameter: &'static str, expected: impl Into<String>) -> Self {
        Self::InvalidParameter {
            parameter,
            expected: expected.into(),
        }
    }
}

/// Which deprivation release a query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Year {
    /// English Indices of Deprivation 2019 (2011 LSOAs, carried onto 2021 LSOAs).
    #[serde(rename = "2019")]
    Y2019,
    /// English Indices of Deprivation 2025 (2021 LSOAs).
    #[serde(rename = "2025")]
    Y2025,
}

impl Year {
    /// Parses `2019` or `2025`.
    ///
    /// ```
    /// use gapmap::analysis::Year;
    /// assert_eq!(Year::parse("2019"), Some(Year::Y2019));
    /// assert_eq!(Year::parse("2020"), None);
    /// ```
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "2019" => Some(Self::Y2019),
            "2025" => Some(Self::Y2025),
            _ => None,
        }
    }

    /// The year as a number.
    #[must_use]
    pub fn number(self) -> u16 {
        match self {
            Self::Y2019 => 2019,
            Self::Y2025 => 2025,
        }
    }
}
