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

/// Postcode units per 2021 LSOA index (region and ring), counted once for
/// any number of [`residents_with`] calls: England has 1.7 M units.
#[derive(Debug, Clone, Default)]
pub struct UnitCounts(Vec<u32>);

impl UnitCounts {
    /// Counts the atlas's postcode units per LSOA.
    #[must_use]
    pub fn new(atlas: &Atlas) -> Self {
        let mut counts: Vec<u32> = Vec::new();
        for p in atlas.postcodes.iter() {
            let i = p.lsoa21 as usize;
            if counts.len() <= i {
                counts.resize(i + 1, 0);
            }
            if let Some(n) = counts.get_mut(i) {
                *n += 1;
            }
        }
        Self(counts)
    }

    /// Units placed in the LSOA (at least 1, so that a share is finite).
    fn of(&self, lsoa: u32) -> u32 {
        self.0.get(lsoa as usize).copied().unwrap_or(1).max(1)
    }
}

/// Apportions residents to `ward` by the postcode units inside its polygon;
/// `None` for a ward without a polygon. Counts the units per LSOA first:
/// use [`residents_with`] for several wards.
#[must_use]
pub fn residents(atlas: &Atlas, ward: &Ward) -> Option<Apportioned> {
    ward.geometry.as_ref()?;
    residents_with(atlas, ward, &UnitCounts::new(atlas))
}

/// [`residents`], with the units per LSOA counted beforehand.
#[must_use]
pub fn residents_with(atlas: &Atlas, ward: &Ward, units: &UnitCounts) -> Option<Apportioned> {
    let shape = ward.geometry.as_ref()?;
    let mut by_lsoa: HashMap<u32, f64> = HashMap::new();
    let mut inside = 0;
    for p in atlas.postcodes.iter() {
        if !shape.bng_bbox.intersects(&p.location.bng) || !shape.bng.contains(&p.location.bng) {
            continue;
        }
        inside += 1;
        let share = f64::from(atlas.residents(p.lsoa21)) / f64::from(units.of(p.lsoa21));
        *by_lsoa.entry(p.lsoa21).or_insert(0.0) += share;
    }
    let mut from_lsoas: Vec<(u32, f64)> = by_lsoa.into_iter().collect();
    from_lsoas.sort_by_key(|(i, _)| *i);
    Some(Apportioned {
        residents: from_lsoas.iter().map(|(_, r)| r).sum(),
        postcode_units: inside,
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

/// One 2021 LSOA's part in a drawn or uploaded area: how many of its
/// access origins ([`super::origins`]: its postcode units, or one point on
/// its surface when it has none) the area covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LsoaShare {
    /// 2021 LSOA index.
    pub lsoa: u32,
    /// Origins of the LSOA inside the area (or on its boundary).
    pub inside: u32,
    /// All origins of the LSOA.
    pub origins: u32,
}

impl LsoaShare {
    /// The LSOA counted whole.
    #[must_use]
    pub fn whole(lsoa: u32, origins: u32) -> Self {
        Self {
            lsoa,
            inside: origins,
            origins,
        }
    }

    /// Share of the LSOA's residents counted (0-1): exactly 1.0 when every
    /// origin is inside, so a whole LSOA weighs exactly its residents.
    #[must_use]
    pub fn share(&self) -> f64 {
        if self.inside >= self.origins {
            1.0
        } else {
            f64::from(self.inside) / f64::from(self.origins.max(1))
        }
    }

    /// Residents counted: the LSOA's Census 2021 residents × [`Self::share`].
    #[must_use]
    pub fn residents(&self, atlas: &Atlas) -> f64 {
        f64::from(atlas.residents(self.lsoa)) * self.share()
    }
}

/// The region's 2021 LSOAs whose origins `area` covers, by the same
/// equal-share rule as [`residents`] and the 2SFCA demand: each origin
/// stands for an equal share of its LSOA's Census 2021 residents. Covering
/// means inside or on the boundary (as postcode units are placed in
/// LSOAs), tested in British National Grid. Candidates come from the LSOA
/// R-tree; LSOAs of the ring (outside the region) are never counted.
/// Sorted by LSOA index; LSOAs with no origin inside are left out.
#[must_use]
pub fn polygon_shares(
    atlas: &Atlas,
    origins: &super::origins::Origins,
    area: &crate::atlas::DualPolygon,
) -> Vec<LsoaShare> {
    let prepared = super::prepared_area::PreparedArea::new(&area.bng);
    polygon_origins(atlas, origins, area, &prepared, &super::Interrupt::never())
        .map(|(shares, _)| shares)
        .unwrap_or_default()
}

/// [`polygon_shares`], with the positions ([`super::origins::Origins::get`]) of the
/// origins covered, in order; `prepared` is `area.bng` prepared.
///
/// # Errors
/// [`super::AnalysisError::Interrupted`] once `interrupt` is raised.
pub fn polygon_origins(
    atlas: &Atlas,
    origins: &super::origins::Origins,
    area: &crate::atlas::DualPolygon,
    prepared: &super::prepared_area::PreparedArea,
    interrupt: &super::Interrupt,
) -> Result<(Vec<LsoaShare>, Vec<usize>), super::AnalysisError> {
    let mut candidates: Vec<u32> = atlas
        .indexes
        .lsoa21
        .envelope_candidates(area.bng_bbox, crate::atlas::Crs::Bng)
        .filter(|&i| (i as usize) < atlas.lsoa21.len())
        .collect();
    candidates.sort_unstable();
    let mut shares = Vec::new();
    let mut covered = Vec::new();
    let mut visited = 0;
    for i in candidates {
        let own = origins.of(i as usize);
        let before = covered.len();
        for (k, o) in own.positions().zip(own.iter()) {
            interrupt.check_at(visited)?;
            visited += 1;
            let p = o.bng;
            if area.bng_bbox.intersects(&p) && prepared.contains(p.0) {
                covered.push(k);
            }
        }
        let inside = covered.len() - before;
        if inside > 0 {
            shares.push(LsoaShare {
                lsoa: i,
                inside: u32::try_from(inside).unwrap_or(u32::MAX),
                origins: u32::try_from(own.len()).unwrap_or(u32::MAX),
            });
        }
    }
    Ok((shares, covered))
}
