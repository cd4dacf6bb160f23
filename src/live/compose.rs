//! Register entries joined into the atlas: placed (both CRSs, LSOA, ward,
//! district), and turned into assets beside the ones from files.
//!
//! Coverage: the register is a source whose coverage is the served region,
//! and it is the coverage of the register-only categories (a warm space
//! absent from the register is absent from the region as far as anyone has
//! recorded). For the atlas's own categories the register adds assets but
//! claims no coverage, so "no data" where the national source does not
//! reach stays "no data".

use super::LiveError;
use crate::atlas::register::{PlacedEntry, REGISTER_SOURCE};
use crate::atlas::{Asset, AssetSource, Atlas, Category, CategoryIdx, Coverage, SourceIdx};
use crate::config::RegisterConfig;
use crate::model::register::{Entry, RegisterCategory};
use crate::sources::Reprojector;

/// Places entries: their point in British National Grid too, and the 2021
/// LSOA, ward and district containing it.
///
/// # Errors
/// [`LiveError::Source`] if the coordinate transformation cannot be set up.
pub fn place(atlas: &Atlas, entries: Vec<Entry>) -> Result<Vec<PlacedEntry>, LiveError> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let r = Reprojector::from_epsg(4326).map_err(LiveError::Source)?;
    let xs: Vec<f64> = entries.iter().map(|e| e.fields.lon).collect();
    let ys: Vec<f64> = entries.iter().map(|e| e.fields.lat).collect();
    let points = r.points(&xs, &ys).map_err(LiveError::Source)?;
    Ok(entries
        .into_iter()
        .zip(points)
        .map(|(entry, location)| {
            let lsoa21 = atlas.lsoa21_at(location.lonlat);
            let lsoa = lsoa21.and_then(|i| atlas.lsoa21.get(i as usize));
            PlacedEntry {
                entry,
                location,
                lsoa21,
                ward: lsoa.and_then(|l| l.ward),
                district: lsoa.and_then(|l| l.district),
            }
        })
        .collect())
}

/// The register as an asset source of `atlas`'s region.
fn register_source(atlas: &Atlas, cfg: &RegisterConfig) -> AssetSource {
    AssetSource {
        id: REGISTER_SOURCE.to_owned(),
        title: cfg.title.clone(),
        publisher: cfg.publisher.clone(),
        vintage: "live: each entry carries its valid_from, valid_to and updated_at".to_owned(),
        licence: cfg.licence.clone(),
        attribution: cfg.attribution.clone(),
        coverage: Coverage::Districts {
            codes: atlas.districts.iter().map(|d| d.code.clone()).collect(),
            description: format!("{}, the region this register covers", atlas.region.name),
        },
    }
}

/// The asset list, categories and sources of `base` with the register's
/// entries open on `today` (`YYYY-MM-DD`) in place of the ones it had.
/// Categories and sources only grow: existing indices keep their meaning.
pub fn compose(
    base: &Atlas,
    cfg: &RegisterConfig,
    added: &[RegisterCategory],
    placed: &[PlacedEntry],
    today: &str,
) -> (Vec<Asset>, Vec<Category>, Vec<AssetSource>) {
    let mut sources = base.sources.clone();
    let register = if let Some(i) = sources.iter().position(|s| s.id == REGISTER_SOURCE) {
        i
    } else {
        sources.push(register_source(base, cfg));
        sources.len() - 1
    };
    let register = SourceIdx::try_from(register).unwrap_or(SourceIdx::MAX);
    let mut categories = base.categories.clone();
    let wanted = cfg
        .categories
        .iter()
        .map(|c| (&c.id, &c.label))
        .chain(added.iter().map(|c| (&c.id, &c.label)));
    for (id, label) in wanted {
        if !categories.iter().any(|c| &c.id == id) {
            categories.push(Category {
                id: id.clone(),
                label: label.clone(),
                sources: vec![register],
            });
        }
    }
    let mut assets: Vec<Asset> = base
        .assets
        .iter()
        .filter(|a| a.source != register)
        .cloned()
        .collect();
    for p in placed {
        if !p.entry.open_on(today) || p.lsoa21.is_none() {
            continue;
        }
        let Some(category) = categories
            .iter()
            .position(|c| c.id == p.entry.fields.category)
            .and_then(|i| CategoryIdx::try_from(i).ok())
        else {
            continue;
        };
        let f = &p.entry.fields;
        assets.push(Asset {
            id: p.entry.feature_id(),
            name: f.name.clone(),
            category,
            source: register,
            location: p.location,
            address: f.address.clone(),
            postcode: f.postcode.clone(),
            area_m2: None,
            location_precision: None,
            lsoa21: p.lsoa21,
            ward: p.ward,
            district: p.district,
            in_region: true,
        });
    }
    assets.sort_by(|a, b| a.id.cmp(&b.id));
    (assets, categories, sources)
}

/// Today's date in UTC, `YYYY-MM-DD`.
#[must_use]
pub fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

/// Now in UTC, RFC 3339 with milliseconds.
#[must_use]
pub fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}
