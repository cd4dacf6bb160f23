//! Saved areas joined to the served snapshot: validated with the rules of
//! the `area-profile` process's own boundaries, written through the
//! register's store in one transaction each, and acknowledged only once a
//! snapshot that contains the change is served (as register writes are).
//! Replicas sharing a PostGIS store follow the areas' change log as they
//! follow the register's ([`super::Register::follow`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::{blocking, Applied, LiveError, Register};
use crate::analysis::area_profile::{self, Limits};
use crate::analysis::{AnalysisError, Interrupt, Results};
use crate::atlas::Atlas;
use crate::model::area::{AreaFields, SavedArea};
use crate::model::DualPolygon;
use crate::sources::area_boundary::{self, BoundaryError, BoundaryLimits};
use crate::sources::register::Stamp;

/// A saved area ready to serve and profile: its boundary in both CRSs,
/// projected exactly as a CRS84 `geometry` input of the process is, so
/// that profiling it by id and by its served geometry agree to the bit.
#[derive(Debug, Clone)]
pub struct PlacedArea {
    /// The stored area.
    pub area: SavedArea,
    /// Its boundary in CRS84 and British National Grid.
    pub polygon: DualPolygon,
}

/// Largest name, in characters.
pub const MAX_NAME: usize = 200;
/// Largest description, in characters.
pub const MAX_DESCRIPTION: usize = 2_000;

/// Properties the server sets, which clients may echo back (ignored).
const SERVER_SET: &[&str] = &[
    "id",
    "fid",
    "version",
    "created_by",
    "created_at",
    "updated_by",
    "updated_at",
];

/// The CRS of a written area's coordinates (`Content-Crs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AreaCrs {
    /// OGC CRS84, longitude then latitude (the default).
    Crs84,
    /// EPSG:27700, easting then northing in metres.
    Bng,
}

impl AreaCrs {
    /// From a `Content-Crs` value (the URI, with or without angle
    /// brackets); `None` for any other CRS.
    #[must_use]
    pub fn from_header(value: &str) -> Option<Self> {
        match value.trim().trim_start_matches('<').trim_end_matches('>') {
            "http://www.opengis.net/def/crs/OGC/1.3/CRS84" => Some(Self::Crs84),
            "http://www.opengis.net/def/crs/EPSG/0/27700" => Some(Self::Bng),
            _ => None,
        }
    }

    fn definition(self) -> &'static str {
        match self {
            Self::Crs84 => "OGC:CRS84",
            Self::Bng => "EPSG:27700",
        }
    }
}

fn invalid(field: &str, message: impl Into<String>) -> LiveError {
    LiveError::Invalid {
        field: field.to_owned(),
        message: message.into(),
    }
}

fn boundary_error(e: BoundaryError) -> LiveError {
    let field = if e.input == "crs" {
        "Content-Crs"
    } else {
        e.input
    };
    invalid(field, e.problem)
}

/// Places a stored area: its CRS84 boundary checked and projected as
/// [`area_boundary::geojson::read`] does for a CRS84 geometry input.
///
/// # Errors
/// [`LiveError::Invalid`] naming `geometry` when the stored boundary is
/// beyond the limits or cannot be projected.
pub fn place(area: SavedArea) -> Result<PlacedArea, LiveError> {
    let srs = area_boundary::spatial_ref("OGC:CRS84", "crs").map_err(boundary_error)?;
    let b = area_boundary::finish(
        area.fields.geometry.clone(),
        &srs,
        1,
        &BoundaryLimits::default(),
        "geometry",
    )
    .map_err(boundary_error)?;
    Ok(PlacedArea {
        area,
        polygon: b.polygon,
    })
}

fn text(
    props: &serde_json::Map<String, Value>,
    name: &str,
    max: usize,
    required: bool,
) -> Result<Option<String>, LiveError> {
    let field = format!("properties.{name}");
    match props.get(name) {
        None | Some(Value::Null) if required => {
            Err(invalid(&field, format!("required: 1 to {max} characters")))
        }
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let t = s.trim();
            if t.is_empty() && required {
                return Err(invalid(&field, format!("1 to {max} characters")));
            }
            let controls = name == "name" && t.chars().any(char::is_control);
            if t.chars().count() > max || controls {
                return Err(invalid(
                    &field,
                    format!("at most {max} characters, no control characters"),
                ));
            }
            Ok((!t.is_empty()).then(|| t.to_owned()))
        }
        Some(_) => Err(invalid(&field, "a string")),
    }
}

/// Validates a GeoJSON Feature sent to the `areas` collection: a
/// `Polygon` or `MultiPolygon` geometry in `crs` (multi-part and with
/// holes allowed; an invalid polygon repaired with MakeValid where that
/// leaves an area, else refused), within the process's vertex and part
/// limits, covering postcode units of the served region; `properties.name`
/// (1–200 characters) and optional `properties.description` (≤ 2,000).
///
/// # Errors
/// [`LiveError::Invalid`] naming the member at fault (`body`, `type`,
/// `geometry`, `properties.name`, `properties.description`,
/// `properties.<unknown>`, `Content-Crs`).
pub fn validate(
    body: &Value,
    crs: AreaCrs,
    atlas: &Atlas,
    results: &Results,
    interrupt: &Interrupt,
) -> Result<AreaFields, LiveError> {
    let obj = body
        .as_object()
        .ok_or_else(|| invalid("body", "a GeoJSON Feature object"))?;
    if obj.get("type").and_then(Value::as_str) != Some("Feature") {
        return Err(invalid("type", "must be \"Feature\""));
    }
    let Some(Value::Object(props)) = obj.get("properties") else {
        return Err(invalid("properties", "an object with at least a name"));
    };
    if let Some(k) = props.keys().find(|k| {
        !matches!(k.as_str(), "name" | "description") && !SERVER_SET.contains(&k.as_str())
    }) {
        let shown: String = k.chars().take(40).collect();
        return Err(invalid(
            &format!("properties.{shown}"),
            "unknown property; an area has name and description",
        ));
    }
    let name = text(props, "name", MAX_NAME, true)?.unwrap_or_default();
    let description = text(props, "description", MAX_DESCRIPTION, false)?;
    let geometry = obj
        .get("geometry")
        .filter(|g| !g.is_null())
        .ok_or_else(|| invalid("geometry", "a GeoJSON Polygon or MultiPolygon"))?;
    // Only a geometry here: a Feature or FeatureCollection the process
    // accepts inside `geometry` would be a feature inside a feature.
    if !matches!(
        geometry.get("type").and_then(Value::as_str),
        Some("Polygon" | "MultiPolygon")
    ) {
        return Err(invalid("geometry", "a GeoJSON Polygon or MultiPolygon"));
    }
    let limits = Limits::default();
    let read = area_boundary::geojson::read(
        geometry,
        crs.definition(),
        &BoundaryLimits {
            max_vertices: limits.max_vertices,
            max_parts: limits.max_parts,
            ..BoundaryLimits::default()
        },
    )
    .map_err(boundary_error)?;
    // What will be stored is the CRS84 boundary; placed again, exactly as
    // the store's copy will be, it is what the region check sees.
    let fields = AreaFields {
        name,
        description,
        geometry: read.polygon.lonlat,
    };
    let placed = place(SavedArea {
        id: 0,
        fields,
        version: 0,
        created_by: String::new(),
        created_at: String::new(),
        updated_by: String::new(),
        updated_at: String::new(),
    })?;
    area_profile::from_polygon(atlas, results, placed.polygon.clone(), &limits, interrupt)
        .map_err(|e| match e {
            AnalysisError::InvalidParameter {
                parameter,
                expected,
            } => invalid(parameter, expected),
            AnalysisError::Interrupted => LiveError::Task(e.to_string()),
        })?;
    let mut fields = placed.area.fields;
    fields.geometry = placed.polygon.lonlat;
    Ok(fields)
}

/// Places every loaded area; one that cannot be placed is left out with a
/// warning (it stays in the store for an administrator to mend).
pub(super) fn place_all(areas: Vec<SavedArea>) -> Vec<PlacedArea> {
    areas
        .into_iter()
        .filter_map(|a| {
            let id = a.id;
            place(a)
                .map_err(|e| tracing::warn!(area = id, error = %e, "saved area left out"))
                .ok()
        })
        .collect()
}

impl Register {
    /// Creates a saved area; returns it once a snapshot serving it is.
    ///
    /// # Errors
    /// [`LiveError::Store`].
    pub async fn create_area(
        &self,
        fields: AreaFields,
        actor: &str,
    ) -> Result<SavedArea, LiveError> {
        let store = Arc::clone(&self.store);
        let actor = actor.to_owned();
        let (area, change) = blocking(move || {
            let at = super::compose::now();
            Ok(store.create_area(
                &fields,
                Stamp {
                    actor: &actor,
                    at: &at,
                },
            )?)
        })
        .await?;
        self.catch_up_areas(change.seq).await?;
        Ok(area)
    }

    /// Replaces saved area `id`'s fields (`PUT`; `action` `replace`, or
    /// `update` for `PATCH`), if at version `expected` when given.
    ///
    /// # Errors
    /// [`LiveError::Store`] with [`StoreError::NotFound`] or
    /// [`StoreError::VersionMismatch`] (nothing written).
    pub async fn replace_area(
        &self,
        id: i64,
        expected: Option<i64>,
        fields: AreaFields,
        action: &'static str,
        actor: &str,
    ) -> Result<SavedArea, LiveError> {
        let store = Arc::clone(&self.store);
        let actor = actor.to_owned();
        let (area, change) = blocking(move || {
            let at = super::compose::now();
            Ok(store.replace_area(
                id,
                expected,
                &fields,
                action,
                Stamp {
                    actor: &actor,
                    at: &at,
                },
            )?)
        })
        .await?;
        self.catch_up_areas(change.seq).await?;
        Ok(area)
    }

    /// Deletes saved area `id`, if at version `expected` when given.
    ///
    /// # Errors
    /// As [`Register::replace_area`].
    pub async fn delete_area(
        &self,
        id: i64,
        expected: Option<i64>,
        actor: &str,
    ) -> Result<(), LiveError> {
        let store = Arc::clone(&self.store);
        let actor = actor.to_owned();
        let change = blocking(move || {
            let at = super::compose::now();
            Ok(store.delete_area(
                id,
                expected,
                Stamp {
                    actor: &actor,
                    at: &at,
                },
            )?)
        })
        .await?;
        self.catch_up_areas(change.seq).await
    }

    /// The stored area `id`, read from the store (not the snapshot).
    ///
    /// # Errors
    /// [`LiveError::Store`].
    pub async fn get_area(&self, id: i64) -> Result<Option<SavedArea>, LiveError> {
        let store = Arc::clone(&self.store);
        blocking(move || Ok(store.get_area(id)?)).await
    }

    /// Returns once the served snapshot includes area change `target`.
    ///
    /// # Errors
    /// [`LiveError::Store`] if the change log cannot be read.
    pub async fn catch_up_areas(&self, target: i64) -> Result<(), LiveError> {
        let mut applied = self.applied.lock().await;
        if applied.areas_seq >= target {
            return Ok(());
        }
        self.refresh_areas(&mut applied).await
    }

    /// Applies every area change after the applied position and publishes
    /// a snapshot with the areas as they now are (each changed area read
    /// again from the store). `applied` changes only once published.
    pub(super) async fn refresh_areas(&self, applied: &mut Applied) -> Result<(), LiveError> {
        const BATCH: usize = 10_000;
        let mut seq = applied.areas_seq;
        let mut changed = std::collections::BTreeSet::new();
        loop {
            let store = Arc::clone(&self.store);
            let from = seq;
            let changes = blocking(move || Ok(store.area_changes_since(from, BATCH)?)).await?;
            let n = changes.len();
            if let Some(last) = changes.last() {
                seq = last.seq;
            }
            changed.extend(changes.into_iter().map(|c| c.area_id));
            if n < BATCH {
                break;
            }
        }
        if changed.is_empty() {
            return Ok(());
        }
        let store = Arc::clone(&self.store);
        let ids: Vec<i64> = changed.into_iter().collect();
        let fresh = blocking(move || {
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                let area = store.get_area(id)?;
                out.push((id, area.and_then(|a| place_all(vec![a]).pop())));
            }
            Ok::<_, LiveError>(out)
        })
        .await?;
        let mut by_id: BTreeMap<i64, PlacedArea> = applied
            .areas
            .iter()
            .map(|p| (p.area.id, p.clone()))
            .collect();
        for (id, placed) in fresh {
            match placed {
                Some(p) => by_id.insert(id, p),
                None => by_id.remove(&id),
            };
        }
        let areas = Arc::new(by_id.into_values().collect::<Vec<_>>());
        let publisher = Arc::clone(&self.publisher);
        let published = Arc::clone(&areas);
        blocking(move || {
            publisher.publish_areas(published);
            Ok(())
        })
        .await?;
        applied.areas = areas;
        applied.areas_seq = seq;
        Ok(())
    }
}
