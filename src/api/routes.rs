//! A router that remembers the paths it serves, so that the OpenAPI document
//! can be checked against the router itself (`tests/api_routes.rs`).

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::Request;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, Route};
use axum::Router;
use tower::{Layer, Service};

use super::AppState;

/// Routes under construction: the axum router and the path templates added.
pub struct Routes {
    router: Router<Arc<AppState>>,
    paths: Vec<&'static str>,
}

impl Default for Routes {
    fn default() -> Self {
        Self::new()
    }
}

impl Routes {
    /// No routes yet.
    #[must_use]
    pub fn new() -> Self {
        Self {
            router: Router::new(),
            paths: Vec::new(),
        }
    }

    /// Adds a route (axum path syntax: `/collections/{collection_id}`).
    #[must_use]
    pub fn route(mut self, path: &'static str, method: MethodRouter<Arc<AppState>>) -> Self {
        self.paths.push(path);
        self.router = self.router.route(path, method);
        self
    }

    /// Serves a directory below `prefix`; recorded as `prefix/{path}`.
    #[must_use]
    pub fn files<S>(mut self, prefix: &'static str, recorded: &'static str, service: S) -> Self
    where
        S: Service<Request, Error = Infallible> + Clone + Send + Sync + 'static,
        S::Response: IntoResponse,
        S::Future: Send + 'static,
    {
        self.paths.push(recorded);
        self.router = self.router.nest_service(prefix, service);
        self
    }

    /// Adds every route of `other`.
    #[must_use]
    pub fn merge(mut self, other: Routes) -> Self {
        self.paths.extend(other.paths);
        self.router = self.router.merge(other.router);
        self
    }

    /// Applies a layer to the routes added so far.
    #[must_use]
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.router = self.router.layer(layer);
        self
    }

    /// The router and the path templates it serves.
    pub fn into_parts(self) -> (Router<Arc<AppState>>, Vec<&'static str>) {
        (self.router, self.paths)
    }
}
