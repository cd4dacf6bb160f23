//! Wards that no 2021 LSOA best-fits (Oxford's Holywell, E05013106, in the
//! 2024 lookup) still exist: their residents are apportioned by postcode
//! units and their assets found by their polygon.
//!
//! Rule: each LSOA's Census 2021 residents are shared equally over its
//! postcode units (OS Code-Point Open); a ward's apportioned residents are
//! the shares of the units inside its polygon, rounded to a whole number.
//! The same equal-share rule is the 2SFCA demand ([`super::fca`]).

use std::collections::HashMap;

use geo::{BoundingRect, Contains, Intersects};

use crate::atlas::{Atlas, Ward};

/// The rule, in words, for method blocks.
pub const RULE: &str = "no 2021 LSOA best-fits this ward in the ONS 2024 lookup, so its residents are apportioned by postcode units: each LSOA's Census 2021 usual residents are shared equally over its OS Code-Point Open postcode units, and the ward has the shares of the units inside its polygon; its assets are those inside its polygon";

/// A ward's residents apportioned by postcode units, and the units used.
#[derive(Debug, Clone, PartialEq)]
pub struct Apportioned {
    /// Apportioned residents (unrounded).
    pub residents: f64,
    /// Postcode units inside the ward's polygon.
    pub postcode_units: usize,
    /// 2021 LSOA indexes those units lie in, with the residents each gives.
    pub from_lsoas: Vec<(u32, f64)>,
}

/// Apportions residents to `ward` by the postcode units inside its polygon;
/// `None` for a ward without a polygon.
#[must_use]
pub fn residents(atlas: &Atlas, ward: &Ward) -> Option<Apportioned> {
    let shape = ward.geometry.as_ref()?;
    let mut units_per_lsoa: HashMap<u32, usize> = HashMap::new();
    for p in atlas.postcodes.iter() {
        *units_per_lsoa.entry(p.lsoa21).or_insert(0) += 1;
    }
    let mut by_lsoa: HashMap<u32, f64> = HashMap::new();
    let mut units = 0;
    for p in atlas.postcodes.iter() {
        if !shape.bng_bbox.intersects(&p.location.bng) || !shape.bng.contains(&p.location.bng) {
            continue;
        }
        units += 1;
        let n = units_per_lsoa.get(&p.lsoa21).copied().unwrap_or(1);
        #[allow(clippy::cast_precision_loss)] // unit counts are small
        let share = f64::from(atlas.residents(p.lsoa21)) / n as f64;
        *by_lsoa.entry(p.lsoa21).or_insert(0.0) += share;
    }
    let mut from_lsoas: Vec<(u32, f64)> = by_lsoa.into_iter().collect();
    from_lsoas.sort_by_key(|(i, _)| *i);
    Some(Apportioned {
        residents: from_lsoas.iter().map(|(_, r)| r).sum(),
        postcode_units: units,
        from_lsoas,
    })
}

/// Indexes of the assets inside the ward's polygon (none without one).
#[must_use]
pub fn assets_inside(atlas: &Atlas, ward: &Ward) -> Vec<usize> {
    let Some(shape) = ward.geometry.as_ref() else {
        return Vec::new();
    };
    let Some(bbox) = shape.bng.bounding_rect() else {
        return Vec::new();
    };
    atlas
        .assets
        .iter()
        .enumerate()
        .filter(|(_, a)| bbox.intersects(&a.location.bng) && shape.bng.contains(&a.location.bng))
        .map(|(i, _)| i)
        .collect()
}
