//! CQL2 (OGC 21-065, Common Query Language) parsing: text and JSON encodings
//! to one expression tree ([`Expr`]).
//!
//! A self-contained module (it uses nothing else from this crate), written for
//! bounded work on hostile input: the filter length, the nesting depth, and
//! the vertices of geometry literals are limited ([`Limits`]) and checked
//! while parsing, and both parsers are single-pass recursive descent without
//! backtracking, so parsing is linear in the input and its recursion is
//! bounded by [`Limits::max_depth`]. Errors carry the byte offset at fault.
//!
//! The grammar follows the CQL2 1.0 BNF: keywords in any case,
//! double-quoted property names, `''` and backslash escapes in character
//! literals, `+ - * / % div ^` with the BNF's precedence, `LIKE`, `BETWEEN`,
//! `IN`, `IS NULL` (each with `NOT`), `CASEI`/`ACCENTI`, the eight spatial
//! functions, WKT geometries and `BBOX`, `DATE`/`TIMESTAMP`/`INTERVAL`, and
//! calls of any other function by name. What a filter means (types,
//! property names, which functions exist) is left to the caller.

mod ast;
mod error;
mod json;
mod lexer;
mod text;

pub use ast::{write_number, Coord, Expr, Geometry, Op, SpatialOp};
pub use error::{Cql2Error, ErrorKind};

/// Bounds on the work a filter can ask of the parser (and, through the
/// literals it admits, of the evaluator).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest filter, in bytes.
    pub max_len: usize,
    /// Deepest nesting: of brackets, `NOT`, unary minus, `^`, function
    /// arguments and WKT brackets while parsing text, of the expression tree
    /// built (so `1+1+1+…` counts one level per operator), and, for JSON,
    /// twice this plus six levels of objects and arrays.
    pub max_depth: usize,
    /// Most positions in one geometry literal (`BBOX` counts 4).
    pub max_vertices: usize,
    /// Most positions in all the geometry literals of a filter.
    pub max_total_vertices: usize,
    /// Most geometry literals (`BBOX` included) in a filter: each costs an
    /// exact test per candidate feature, however few vertices it has.
    pub max_geometries: usize,
}

/// What the geometry literals of one filter have used of their [`Limits`]:
/// the text and JSON parsers both count through it, so the two encodings are
/// bounded alike.
#[derive(Debug, Default)]
pub(crate) struct GeometryBudget {
    geometries: usize,
    vertices: usize,
}

impl GeometryBudget {
    /// Counts one more geometry literal.
    pub(crate) fn geometry(&mut self, limits: &Limits, pos: usize) -> Result<(), Cql2Error> {
        self.geometries += 1;
        if self.geometries > limits.max_geometries {
            return Err(Cql2Error::new(
                pos,
                error::ErrorKind::TooManyGeometries {
                    max: limits.max_geometries,
                },
            ));
        }
        Ok(())
    }

    /// Counts `n` more positions across all literals.
    pub(crate) fn vertices(
        &mut self,
        limits: &Limits,
        n: usize,
        pos: usize,
    ) -> Result<(), Cql2Error> {
        self.vertices += n;
        if self.vertices > limits.max_total_vertices {
            return Err(Cql2Error::new(
                pos,
                error::ErrorKind::TooManyVerticesInAll {
                    max: limits.max_total_vertices,
                },
            ));
        }
        Ok(())
    }
}

impl Default for Limits {
    /// 16 KiB, 64 levels, 1,000 positions per literal, 2,000 in all, 16
    /// literals.
    fn default() -> Self {
        Self {
            max_len: 16 * 1024,
            max_depth: 64,
            max_vertices: 1000,
            max_total_vertices: 2000,
            max_geometries: 16,
        }
    }
}

/// Parses a CQL2 text filter with the default [`Limits`].
///
/// # Errors
/// A [`Cql2Error`] with the byte offset of the first problem.
pub fn parse_text(src: &str) -> Result<Expr, Cql2Error> {
    text::parse(src, &Limits::default())
}

/// Parses a CQL2 text filter within `limits`.
///
/// # Errors
/// A [`Cql2Error`] with the byte offset of the first problem.
pub fn parse_text_with(src: &str, limits: &Limits) -> Result<Expr, Cql2Error> {
    text::parse(src, limits)
}

/// Parses a CQL2 JSON filter with the default [`Limits`].
///
/// # Errors
/// A [`Cql2Error`] with the byte offset of the first problem.
pub fn parse_json(src: &str) -> Result<Expr, Cql2Error> {
    json::parse(src, &Limits::default())
}

/// Parses a CQL2 JSON filter within `limits`.
///
/// # Errors
/// A [`Cql2Error`] with the byte offset of the first problem.
pub fn parse_json_with(src: &str, limits: &Limits) -> Result<Expr, Cql2Error> {
    json::parse(src, limits)
}

#[cfg(test)]
mod tests;
