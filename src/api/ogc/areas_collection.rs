//! The `areas` collection: the saved areas teams named and stored (an
//! estate, a primary care network area, "our patch"), each a CRS84 (or,
//! with `crs`, British National Grid) MultiPolygon with its name and
//! bookkeeping. Writable with an editor token (OGC API – Features Part 4:
//! `POST` items, `PUT`, `PATCH`, `DELETE` one); profiled by the
//! `area-profile` process as `{"area": "areas-<n>"}`.

use std::sync::Arc;

use super::build::Builder;
use super::model::{AreaList, Collection, FeatureGeometry, PropType, PropValue, Shapes};
use crate::atlas::Atlas;
use crate::live::areas::PlacedArea;

/// The collection id.
pub const ID: &str = "areas";

/// Builds the collection from the placed areas (in id order).
pub fn collection(atlas: &Atlas, areas: &Arc<Vec<PlacedArea>>) -> Collection {
    use PropType::{Integer, String as Str};
    let mut b = Builder::new(&[
        ("id", Str, "Area id (areas-<n>)"),
        ("name", Str, "Name"),
        ("description", Str, "Description"),
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
    let list = AreaList::Saved(Arc::clone(areas));
    for (index, p) in areas.iter().enumerate() {
        let a = &p.area;
        let values: Vec<PropValue> = vec![
            a.feature_id().as_str().into(),
            a.fields.name.as_str().into(),
            a.fields.description.as_deref().into(),
            PropValue::Int(a.version),
            a.created_by.as_str().into(),
            a.created_at.as_str().into(),
            a.updated_by.as_str().into(),
            a.updated_at.as_str().into(),
        ];
        let g = &p.polygon;
        let geometry = FeatureGeometry::new(
            Shapes::Area {
                list: list.clone(),
                index: u32::try_from(index).unwrap_or(u32::MAX),
            },
            [g.lonlat_bbox, g.bng_bbox],
        );
        b.push(&a.feature_id(), values, Some(Arc::new(geometry)));
    }
    b.finish(
        ID,
        format!("Saved areas, {}", atlas.region.name),
        "Areas teams drew or uploaded and saved by name (estates, neighbourhoods, primary care network areas, regeneration zones), to profile again by link: POST /processes/area-profile/execution with {\"inputs\": {\"area\": \"areas-<n>\"}}, or open /web/static/area.html?area=areas-<n>. Writable with an editor token through OGC API - Features Part 4 (POST, PUT, PATCH, DELETE).",
        Vec::new(),
        "MultiPolygon",
    )
}
