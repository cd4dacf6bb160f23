//! Parse errors, each with the byte offset in the filter text where the
//! problem was found, so that a client can point at the offending character.

use thiserror::Error;

/// Why a filter could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("at byte {pos}: {kind}")]
pub struct Cql2Error {
    /// Byte offset into the filter text (for CQL2 JSON, into the JSON text).
    pub pos: usize,
    /// What went wrong.
    pub kind: ErrorKind,
}

impl Cql2Error {
    /// An error of `kind` at byte `pos`.
    pub fn new(pos: usize, kind: ErrorKind) -> Self {
        Self { pos, kind }
    }

    /// A syntax error described in words.
    pub fn syntax(pos: usize, message: impl Into<String>) -> Self {
        Self::new(pos, ErrorKind::Syntax(message.into()))
    }
}

/// The kinds of parse error. The limit kinds exist so that callers (and tests)
/// can tell "too big" from "malformed".
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ErrorKind {
    /// The text does not follow the grammar.
    #[error("{0}")]
    Syntax(String),
    /// The filter is longer than [`super::Limits::max_len`] bytes.
    #[error("the filter is {len} bytes long; at most {max} are accepted")]
    TooLong {
        /// Length of the filter in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Brackets, `NOT`, unary minus, function calls, JSON objects or arrays
    /// nest deeper than [`super::Limits::max_depth`].
    #[error("the expression is nested more than {max} levels deep")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// One geometry literal has more than [`super::Limits::max_vertices`] vertices.
    #[error("a geometry literal has more than {max} vertices")]
    TooManyVertices {
        /// The limit.
        max: usize,
    },
    /// All geometry literals together have more than
    /// [`super::Limits::max_total_vertices`] vertices.
    #[error("the geometry literals of the filter have more than {max} vertices in all")]
    TooManyVerticesInAll {
        /// The limit.
        max: usize,
    },
    /// The filter has more than [`super::Limits::max_geometries`] geometry literals.
    #[error("the filter has more than {max} geometry literals")]
    TooManyGeometries {
        /// The limit.
        max: usize,
    },
    /// A number that does not fit a finite 64-bit float (e.g. `1e400`).
    #[error("the number {0} is out of range")]
    NumberOutOfRange(String),
}
