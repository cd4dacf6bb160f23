//! Pure analysis functions over the atlas: access distances, capacity-aware
//! access (2SFCA), gaps, and ward/district roll-ups. No HTTP, no files.
//!
//! One algorithm per module:
//! - [`geodesic`]: geodesic distances, fast and within 0.1 mm for short lines;
//! - [`nearest`]: geodesic nearest-neighbour and within-distance search over a
//!   BNG R-tree;
//! - [`origins`]: access origins per LSOA (its postcodes, or a point on its
//!   surface when it has none);
//! - [`access`]: straight-line distance to the nearest asset per LSOA and
//!   category, coverage-aware;
//! - [`fca`]: two-step floating catchment area (2SFCA) assets per 10,000
//!   residents;
//! - [`history`]: IMD 2019 (2011 LSOAs) carried onto 2021 LSOAs;
//! - [`gaps`]: LSOAs both deprived and far from a category;
//! - [`rollup`]: ward and district roll-ups, 2019 and 2025 side by side;
//! - [`priority`]: wards containing the most deprived LSOAs.

pub mod access;
pub mod fca;
pub mod gaps;
pub mod geodesic;
pub mod history;
pub mod nearest;
pub mod origins;
pub mod priority;
pub mod rollup;

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
