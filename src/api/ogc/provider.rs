//! The collection-provider interface: everything the OGC handlers ask of a
//! collection's data. Handlers resolve a collection id to a
//! `&dyn CollectionProvider` ([`super::OgcState::provider`]) and never see how
//! the features are stored. The in-memory collections built from the atlas
//! ([`Collection`]: typed values plus pre-encoded GeoJSON) implement it here;
//! a store-backed collection (the community asset register in GeoPackage or
//! PostGIS) implements the same methods, reusing [`ItemsQuery`] for parsing.

use serde_json::Value;

use super::items::{self, ItemsQuery};
use super::model::Collection;
use super::params::Params;
use super::{collections, queryables};
use crate::api::error::ApiError;
use crate::model::Crs;

/// A served feature collection, as the handlers see it.
pub trait CollectionProvider: Send + Sync {
    /// Identifier in URLs.
    fn id(&self) -> &str;

    /// Title for people.
    fn title(&self) -> &str;

    /// The collection document (`/collections/{id}`): extent, CRS list,
    /// provenance and links; `base` is the public base URL.
    fn describe(&self, base: &str) -> Value;

    /// The queryables document (JSON Schema of the filterable properties).
    fn queryables(&self, base: &str) -> Value;

    /// Parses and validates an items request (bbox, filter, paging,
    /// properties, CRS) against this collection's schema.
    ///
    /// # Errors
    /// A 400 naming the parameter at fault.
    fn parse_items(&self, params: &Params) -> Result<ItemsQuery, ApiError>;

    /// Selects and writes one page of features as a GeoJSON
    /// FeatureCollection with paging links.
    fn write_items(&self, query: &ItemsQuery, params: &Params, base: &str) -> String;

    /// Parses the parameters of a single-feature request: output CRS and the
    /// properties to include (`None`: all).
    ///
    /// # Errors
    /// A 400 naming the parameter at fault.
    fn parse_item(&self, params: &Params) -> Result<(Crs, Option<Vec<usize>>), ApiError>;

    /// Whether feature `id` exists.
    fn contains(&self, id: &str) -> bool;

    /// One feature as GeoJSON, or `None` when there is no feature `id`.
    fn write_item(
        &self,
        id: &str,
        crs: Crs,
        properties: Option<&[usize]>,
        base: &str,
    ) -> Option<String>;
}

impl CollectionProvider for Collection {
    fn id(&self) -> &str {
        &self.id
    }

    fn title(&self) -> &str {
        &self.title
    }

    fn describe(&self, base: &str) -> Value {
        collections::describe(self, base)
    }

    fn queryables(&self, base: &str) -> Value {
        queryables::document(self, base)
    }

    fn parse_items(&self, params: &Params) -> Result<ItemsQuery, ApiError> {
        ItemsQuery::parse(self, params)
    }

    fn write_items(&self, query: &ItemsQuery, params: &Params, base: &str) -> String {
        let selected = query.select(self);
        items::write_page(self, query, params, base, &selected)
    }

    fn parse_item(&self, params: &Params) -> Result<(Crs, Option<Vec<usize>>), ApiError> {
        items::parse_single(self, params)
    }

    fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    fn write_item(
        &self,
        id: &str,
        crs: Crs,
        properties: Option<&[usize]>,
        base: &str,
    ) -> Option<String> {
        let f = self.features.get(*self.by_id.get(id)?)?;
        Some(items::write_single(self, f, crs, properties, base))
    }
}
