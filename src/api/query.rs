//! One way in for every route: the query string decoded once ([`Params`]),
//! checked against the route's accepted parameters (an unknown or repeated
//! parameter is a 400 listing the accepted ones; OGC API – Features Part 1,
//! requirement 9), and path parameters ([`ApiPath`]) whose rejections are
//! problem documents naming the parameter, like every other error.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::Uri;
use serde::de::DeserializeOwned;

use crate::api::error::ApiError;

/// The decoded query string, in order.
#[derive(Debug, Clone, Default)]
pub struct Params {
    /// `(name, value)` pairs as given.
    pub pairs: Vec<(String, String)>,
}

impl Params {
    /// Decodes the query string of a URI.
    ///
    /// # Errors
    /// A 400 when the query string cannot be decoded.
    pub fn from_uri(uri: &Uri) -> Result<Self, ApiError> {
        let raw = uri.query().unwrap_or("");
        reject_invalid_utf8(raw)?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw).map_err(|e| {
            ApiError::bad_request(format!("the query string cannot be decoded: {e}"))
        })?;
        Ok(Self { pairs })
    }

    /// Checks that every parameter is known and none is repeated. `extra`
    /// accepts further names (a collection's queryable properties).
    ///
    /// # Errors
    /// A 400 naming the first unknown or repeated parameter.
    pub fn check(&self, allowed: &[&str], extra: impl Fn(&str) -> bool) -> Result<(), ApiError> {
        for (i, (k, _)) in self.pairs.iter().enumerate() {
            if !allowed.contains(&k.as_str()) && !extra(k) {
                return Err(ApiError::unknown_parameter(k, allowed));
            }
            if self.pairs[..i].iter().any(|(p, _)| p == k) {
                return Err(ApiError::bad_parameter(k, "the parameter at most once"));
            }
        }
        Ok(())
    }

    /// The value of a parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A 400 naming the parameter whose name or value decodes to bytes that
/// are not UTF-8. Form decoding would otherwise replace them with U+FFFD and
/// the route would answer a question nobody asked (a search for `%FF`
/// matched every ward).
fn reject_invalid_utf8(raw: &str) -> Result<(), ApiError> {
    for pair in raw.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decoded_name = percent_encoding::percent_decode_str(name).decode_utf8();
        let value_ok = percent_encoding::percent_decode_str(value)
            .decode_utf8()
            .is_ok();
        let shown = percent_encoding::percent_decode_str(name)
            .decode_utf8_lossy()
            .replace('+', " ");
        if decoded_name.is_err() || !value_ok {
            return Err(ApiError::bad_parameter(
                &shown,
                "text that decodes to UTF-8 (percent-encoded bytes that are not UTF-8 were sent)",
            ));
        }
    }
    Ok(())
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Self::from_uri(&parts.uri)
    }
}

impl Params {
    /// Checks that only `allowed` parameters are given, each at most once.
    ///
    /// # Errors
    /// A 400 naming the first unknown or repeated parameter and listing the
    /// accepted ones.
    pub fn only(&self, allowed: &[&str]) -> Result<&Self, ApiError> {
        self.check(allowed, |_| false)?;
        Ok(self)
    }
}

/// Path parameters, deserialised like axum's `Path`; a value that does not
/// fit (not a number, not UTF-8) is a 400 problem document naming it.
#[derive(Debug, Clone)]
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(Self(v)),
            Err(rejection) => Err(ApiError::from_path_rejection(&rejection)),
        }
    }
}
