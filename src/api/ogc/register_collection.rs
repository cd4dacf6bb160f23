//! The `register` collection: every community asset register entry, open
//! or closed, with its bookkeeping. `datetime` selects entries by their
//! `valid_from` / `valid_to` dates (OGC API – Features §7.15.4: an entry is
//! selected when the days it is open intersect the instant or interval).

use super::build::{point_geometry, provenance, Builder};
use super::model::{Collection, PropType, PropValue};
use crate::atlas::register::{PlacedEntry, REGISTER_SOURCE};
use crate::atlas::Atlas;

/// The collection's id.
pub const ID: &str = "register";

/// Builds the register collection from the placed entries.
pub fn collection(atlas: &Atlas, entries: &[PlacedEntry]) -> Collection {
    use PropType::{Boolean, Integer, String as Str};
    let mut b = Builder::new(&[
        ("id", Str, "Entry id (register-<n>)"),
        ("name", Str, "Name"),
        ("category", Str, "Category id"),
        ("category_label", Str, "Category"),
        ("address", Str, "Address"),
        ("postcode", Str, "Postcode"),
        ("organisation", Str, "Organisation that runs it"),
        ("contact", Str, "Contact"),
        ("description", Str, "Description"),
        (
            "opening_hours",
            Str,
            "Opening times (OpenStreetMap opening_hours syntax)",
        ),
        ("capacity", Integer, "People served at once"),
        (
            "valid_from",
            Str,
            "First day open (YYYY-MM-DD; null: before records)",
        ),
        (
            "valid_to",
            Str,
            "Last day open (YYYY-MM-DD; null: still open)",
        ),
        (
            "open_today",
            Boolean,
            "Open today (UTC date), so counted in the analysis",
        ),
        ("source", Str, "Source id"),
        ("licence", Str, "Licence"),
        ("lsoa21", Str, "2021 LSOA containing the entry"),
        ("ward", Str, "Electoral ward (2024) of that LSOA"),
        ("district", Str, "Local authority district of that LSOA"),
        (
            "version",
            Integer,
            "Version: 1 at creation, +1 at each change",
        ),
        ("created_by", Str, "Token name that created it"),
        ("created_at", Str, "When (UTC)"),
        ("updated_by", Str, "Token name that last changed it"),
        ("updated_at", Str, "When (UTC)"),
    ]);
    let today = crate::live::compose::today();
    let source = atlas.sources.iter().find(|s| s.id == REGISTER_SOURCE);
    for p in entries {
        let e = &p.entry;
        let f = &e.fields;
        let category = atlas.category_by_id(&f.category).map(|(_, c)| c);
        let values: Vec<PropValue> = vec![
            e.feature_id().as_str().into(),
            f.name.as_str().into(),
            f.category.as_str().into(),
            category.map(|c| c.label.as_str()).into(),
            f.address.as_deref().into(),
            f.postcode.as_deref().into(),
            f.organisation.as_deref().into(),
            f.contact.as_deref().into(),
            f.description.as_deref().into(),
            f.opening_hours.as_deref().into(),
            f.capacity
                .map_or(PropValue::Null, |c| PropValue::Int(i64::from(c))),
            f.valid_from.as_deref().into(),
            f.valid_to.as_deref().into(),
            PropValue::Bool(e.open_on(&today)),
            REGISTER_SOURCE.into(),
            source.map(|s| s.licence.as_str()).into(),
            p.lsoa21
                .and_then(|i| atlas.lsoa21.get(i as usize))
                .map(|l| l.code.as_str())
                .into(),
            p.ward
                .and_then(|i| atlas.wards.get(i as usize))
                .map(|w| w.code.as_str())
                .into(),
            p.district
                .and_then(|i| atlas.districts.get(i as usize))
                .map(|d| d.code.as_str())
                .into(),
            PropValue::Int(e.version),
            e.created_by.as_str().into(),
            e.created_at.as_str().into(),
            e.updated_by.as_str().into(),
            e.updated_at.as_str().into(),
        ];
        b.push(
            &e.feature_id(),
            values,
            Some(std::sync::Arc::new(point_geometry(p.location))),
        );
    }
    let mut c = b.finish(
        ID,
        format!("Community asset register, {}", atlas.region.name),
        "Community assets teams record themselves (larders, warm spaces, social groups, youth clubs...), open or closed: valid_from and valid_to date each entry, and datetime= selects the entries open at an instant or in an interval. Entries open today also appear in the assets collections (source = register) and count in the gap analysis. Writable with a token through OGC API - Features Part 4 (POST, PUT, PATCH, DELETE); every change is kept (items/{featureId}/history).",
        source.map(provenance).into_iter().collect(),
        "Point",
    );
    c.temporal = c.prop("valid_from").zip(c.prop("valid_to"));
    c
}
