//! CQL2 filters (OGC API – Features Part 3). [`crate::cql2`] parses the text
//! (or JSON) into an expression, within fixed limits; this module compiles
//! that expression once per request against a collection's schema —
//! resolving property names to column positions, type-checking literals and
//! converting geometry literals, after checking that their coordinates lie
//! within the range of the filter CRS — and then evaluates the compiled tree
//! against each feature's typed values.
//! Compiling first means a typo in a property name is a 400 naming it, not an
//! empty result, and evaluation does no string lookups.
//!
//! Spatial predicates compare the literal with the feature geometry held in
//! the literal's CRS (`filter-crs`: CRS84 by default, or EPSG:27700), i.e.
//! the very coordinates a client receives in that CRS, with DE-9IM semantics
//! (`geo`'s `Relate`). Envelopes settle most features before any exact test,
//! and point features (the assets) are tested by their position relative to
//! the literal, which costs one pass over the literal's vertices.

use std::borrow::Cow;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::sync::atomic::{self, AtomicU64};

use geo::coordinate_position::CoordPos;
use geo::dimensions::Dimensions;
use geo::relate::IntersectionMatrix;
use geo::{
    BoundingRect, CoordinatePosition, CoordsIter, Geometry, HasDimensions, Intersects, LineString,
    MultiPoint, MultiPolygon, Point, Polygon, PreparedGeometry, Rect, Relate,
};

use super::model::{Collection, Feature, FeatureGeometry, PropType, PropValue, ShapeRef, ValueRef};
use crate::api::error::ApiError;
use crate::atlas::Crs;
use crate::cql2::{self, Expr, Op, SpatialOp};

/// Which encoding the `filter` parameter uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterLang {
    /// `cql2-text` (the default).
    Text,
    /// `cql2-json`.
    Json,
}

impl FilterLang {
    /// Parses `filter-lang`.
    ///
    /// # Errors
    /// A 400 naming the accepted languages.
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        match s {
            "cql2-text" => Ok(Self::Text),
            "cql2-json" => Ok(Self::Json),
            _ => Err(ApiError::bad_parameter(
                "filter-lang",
                "cql2-text or cql2-json",
            )),
        }
    }
}

/// The name filters use for a feature's geometry (as in the queryables).
pub const GEOMETRY_PROPERTY: &str = "geometry";

/// Coordinates accepted in geometry literals with `filter-crs` EPSG:27700:
/// the grid's area of use (about −104 km to 689 km east, −17 km to 1,257 km
/// north) with a wide margin, so that anything outside is certainly a mistake
/// (degrees given as metres, or swapped axes), not a generous box.
const BNG_EASTINGS: (f64, f64) = (-200_000.0, 900_000.0);
/// See [`BNG_EASTINGS`].
const BNG_NORTHINGS: (f64, f64) = (-200_000.0, 1_500_000.0);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    /// `%`: remainder with the sign of the dividend (as SQL `MOD`).
    Mod,
    /// `div`: the quotient truncated toward zero (as SQL `DIV`).
    IntDiv,
    Pow,
}

/// A value-producing part of an expression.
#[derive(Debug, Clone)]
enum Scalar {
    Prop(usize),
    Lit(PropValue),
    Casei(Box<Scalar>),
    Neg(Box<Scalar>),
    Arith(ArithOp, Box<Scalar>, Box<Scalar>),
}

/// The static type of a scalar, for type checks at compile time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Num,
    Str,
    Bool,
    Null,
    Other,
}

/// A literal geometry in the filter CRS, with what the quick tests need.
#[derive(Debug, Clone)]
struct GeomLit {
    /// Identifies the literal in the per-thread cache of prepared geometries.
    id: u64,
    shape: Geometry<f64>,
    envelope: Rect<f64>,
    dim: Dimensions,
}

/// Source of [`GeomLit::id`]s.
static NEXT_LITERAL: AtomicU64 = AtomicU64::new(1);

/// How many prepared literals each thread keeps: those of the last filter
/// (at most [`cql2::Limits::max_geometries`]) and some of the one before, so
/// that a filter's own literals never evict each other.
const PREPARED_PER_THREAD: usize = 32;

/// Cached literals of one thread, oldest first, with their vertex counts.
type PreparedCache = Vec<(u64, usize, PreparedGeometry<'static, Geometry<f64>>)>;

/// Most vertices of prepared literals kept per thread: twice what one filter
/// may hold.
const PREPARED_VERTICES_PER_THREAD: usize = 4000;

thread_local! {
    /// Literals of recently evaluated filters with their relate graph built
    /// once (edge index, self-intersections), so that testing each feature
    /// costs in proportion to the feature, not to a 1,000-vertex literal.
    /// `geo`'s prepared geometries hold `Rc`s, which would make [`Filter`]
    /// neither `Send` nor `Sync`; kept here, they never leave the thread
    /// that evaluates.
    static PREPARED: RefCell<PreparedCache> = const { RefCell::new(Vec::new()) };
}

/// The DE-9IM matrix of the literal (first) and a feature geometry (second).
fn relate_literal(lit: &GeomLit, feature: &impl Relate<f64>) -> IntersectionMatrix {
    PREPARED.with(|cell| {
        let mut cache = cell.borrow_mut();
        let i = if let Some(i) = cache.iter().position(|(id, _, _)| *id == lit.id) {
            i
        } else {
            let n = lit.shape.coords_count();
            while !cache.is_empty()
                && (cache.len() >= PREPARED_PER_THREAD
                    || cache.iter().map(|c| c.1).sum::<usize>() + n > PREPARED_VERTICES_PER_THREAD)
            {
                cache.remove(0);
            }
            cache.push((lit.id, n, PreparedGeometry::from(lit.shape.clone())));
            cache.len() - 1
        };
        match cache.get(i) {
            Some((_, _, prepared)) => prepared.relate(feature),
            None => lit.shape.relate(feature),
        }
    })
}

/// A compiled predicate.
#[derive(Debug, Clone)]
enum Node {
    Const(Option<bool>),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    Truthy(Scalar),
    Cmp(CmpOp, Scalar, Scalar),
    In(Scalar, Vec<Scalar>),
    Between(Scalar, Scalar, Scalar),
    IsNull(Scalar),
    /// `(condition) IS NULL`: whether the condition is unknown.
    IsUnknown(Box<Node>),
    /// `geometry IS NULL`.
    GeometryIsNull,
    Like(Scalar, Scalar),
    /// A spatial predicate with the feature's geometry on the left.
    Spatial(SpatialOp, GeomLit),
    /// A spatial predicate of the feature's geometry with itself: its value
    /// when the feature has a geometry.
    SelfSpatial(bool),
}

/// A filter compiled against one collection.
#[derive(Debug, Clone)]
pub struct Filter {
    root: Node,
    crs: Crs,
}

/// A runtime value.
#[derive(Debug, Clone, PartialEq)]
enum Val<'a> {
    Null,
    Num(f64),
    Str(Cow<'a, str>),
    Bool(bool),
}

fn err(detail: impl std::fmt::Display) -> ApiError {
    ApiError::bad_parameter("filter", format!("a valid CQL2 expression ({detail})"))
}

/// Parses a filter in the given language, within [`cql2::Limits::default`]
/// (16 KiB, 64 levels of nesting, 16 geometry literals, 1,000 vertices per
/// literal and 2,000 in all): parsing is linear in the text, so any filter is
/// parsed in milliseconds, and the limits on literals bound the exact tests
/// evaluation can need per feature.
///
/// # Errors
/// A 400 naming `filter`, with the byte offset of the first problem.
pub fn parse(text: &str, lang: FilterLang) -> Result<Expr, ApiError> {
    let parsed = match lang {
        FilterLang::Text => cql2::parse_text(text),
        FilterLang::Json => cql2::parse_json(text),
    };
    parsed.map_err(|e| err(format!("could not parse: {e}")))
}

impl Filter {
    /// Compiles a parsed expression against a collection's schema; geometry
    /// literals are taken to be in `crs` (`filter-crs`).
    ///
    /// # Errors
    /// A 400 naming an unknown property, an unsupported operator, a type
    /// mismatch, or a literal coordinate outside the range of `crs`.
    pub fn compile(expr: &Expr, collection: &Collection, crs: Crs) -> Result<Self, ApiError> {
        let c = Compiler { collection, crs };
        Ok(Self {
            root: c.node(expr, 0)?,
            crs,
        })
    }

    /// Whether a feature passes (unknown counts as not passing).
    pub fn matches(&self, f: &Feature) -> bool {
        eval(&self.root, f, FeatureGeometry::slot(self.crs)) == Some(true)
    }
}

struct Compiler<'a> {
    collection: &'a Collection,
    crs: Crs,
}

/// A guard for trees built by hand; parsed trees are already bounded by
/// [`cql2::Limits::max_depth`].
const MAX_DEPTH: usize = 128;

fn arity(op: Op, args: &[Expr], n: usize) -> Result<&[Expr], ApiError> {
    if args.len() == n {
        Ok(args)
    } else {
        Err(err(format!(
            "'{}' takes {n} arguments, got {}",
            op.name(),
            args.len()
        )))
    }
}

fn cmp_op(op: Op) -> Option<CmpOp> {
    Some(match op {
        Op::Eq => CmpOp::Eq,
        Op::Ne => CmpOp::Ne,
        Op::Lt => CmpOp::Lt,
        Op::Le => CmpOp::Le,
        Op::Gt => CmpOp::Gt,
        Op::Ge => CmpOp::Ge,
        _ => return None,
    })
}

fn arith_op(op: Op) -> Option<ArithOp> {
    Some(match op {
        Op::Add => ArithOp::Add,
        Op::Sub => ArithOp::Sub,
        Op::Mul => ArithOp::Mul,
        Op::Div => ArithOp::Div,
        Op::Mod => ArithOp::Mod,
        Op::IntDiv => ArithOp::IntDiv,
        Op::Pow => ArithOp::Pow,
        _ => return None,
    })
}

fn unsupported_function(name: &str) -> ApiError {
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("t_") {
        err(format!(
            "temporal operator {name} is not supported: these collections have no temporal properties"
        ))
    } else if lower.starts_with("a_") {
        err(format!(
            "array operator {name} is not supported: these collections have no array properties"
        ))
    } else {
        err(format!("unsupported function '{name}'"))
    }
}

impl Compiler<'_> {
    fn node(&self, e: &Expr, depth: usize) -> Result<Node, ApiError> {
        if depth > MAX_DEPTH {
            return Err(err("expression nested too deeply"));
        }
        let d = depth + 1;
        match e {
            Expr::Bool(b) => Ok(Node::Const(Some(*b))),
            Expr::Property(_) => {
                let s = self.scalar(e, d)?;
                if self.kind(&s) == Kind::Bool {
                    Ok(Node::Truthy(s))
                } else {
                    Err(err("a property used as a condition must be boolean"))
                }
            }
            Expr::Op(op, args) => self.operation(*op, args, d),
            Expr::Function(name, _) => Err(unsupported_function(name)),
            other => Err(err(format!(
                "expected a condition, found {}",
                describe(other)
            ))),
        }
    }

    fn operation(&self, op: Op, args: &[Expr], d: usize) -> Result<Node, ApiError> {
        if let Some(cmp) = cmp_op(op) {
            let a = arity(op, args, 2)?;
            let (l, r) = (self.scalar(&a[0], d)?, self.scalar(&a[1], d)?);
            self.check_same(op, &l, &r)?;
            return Ok(Node::Cmp(cmp, l, r));
        }
        match op {
            Op::And | Op::Or => {
                let nodes = args
                    .iter()
                    .map(|a| self.node(a, d))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(if op == Op::And {
                    Node::And(nodes)
                } else {
                    Node::Or(nodes)
                })
            }
            Op::Not => {
                let a = arity(op, args, 1)?;
                Ok(Node::Not(Box::new(self.node(&a[0], d)?)))
            }
            Op::Between => {
                let a = arity(op, args, 3)?;
                let v = self.scalar(&a[0], d)?;
                let lo = self.scalar(&a[1], d)?;
                let hi = self.scalar(&a[2], d)?;
                self.check_same(op, &v, &lo)?;
                self.check_same(op, &v, &hi)?;
                Ok(Node::Between(v, lo, hi))
            }
            Op::In => {
                let a = arity(op, args, 2)?;
                let v = self.scalar(&a[0], d)?;
                let Expr::Array(items) = &a[1] else {
                    return Err(err("IN expects a list"));
                };
                let list = items
                    .iter()
                    .map(|i| self.scalar(i, d))
                    .collect::<Result<Vec<_>, _>>()?;
                for item in &list {
                    self.check_same(op, &v, item)?;
                }
                Ok(Node::In(v, list))
            }
            Op::IsNull => {
                let a = arity(op, args, 1)?;
                match &a[0] {
                    Expr::Property(p) if p == GEOMETRY_PROPERTY => Ok(Node::GeometryIsNull),
                    Expr::Op(inner, _) if cmp_op(*inner).is_some() || is_condition(*inner) => {
                        Ok(Node::IsUnknown(Box::new(self.node(&a[0], d)?)))
                    }
                    other => Ok(Node::IsNull(self.scalar(other, d)?)),
                }
            }
            Op::Like => {
                let a = arity(op, args, 2)?;
                let (v, p) = (self.scalar(&a[0], d)?, self.scalar(&a[1], d)?);
                for s in [&v, &p] {
                    if !matches!(self.kind(s), Kind::Str | Kind::Null) {
                        return Err(err("LIKE compares text"));
                    }
                }
                Ok(Node::Like(v, p))
            }
            Op::Spatial(spatial) => {
                let a = arity(op, args, 2)?;
                self.spatial(spatial, &a[0], &a[1])
            }
            other => Err(err(format!(
                "expected a condition, found the value operator '{}'",
                other.name()
            ))),
        }
    }

    fn spatial(&self, op: SpatialOp, l: &Expr, r: &Expr) -> Result<Node, ApiError> {
        match (is_geometry_property(l), is_geometry_property(r)) {
            (true, false) => Ok(Node::Spatial(op, self.geometry_literal(r)?)),
            // Swapping the operands inverts within/contains; the rest are symmetric.
            (false, true) => {
                let swapped = match op {
                    SpatialOp::Within => SpatialOp::Contains,
                    SpatialOp::Contains => SpatialOp::Within,
                    s => s,
                };
                Ok(Node::Spatial(swapped, self.geometry_literal(l)?))
            }
            (false, false) => {
                let (g1, g2) = (self.geometry_literal(l)?, self.geometry_literal(r)?);
                Ok(Node::Const(Some(spatial_test(op, &g1.shape, &g2.shape))))
            }
            // A geometry compared with itself.
            (true, true) => Ok(Node::SelfSpatial(matches!(
                op,
                SpatialOp::Intersects | SpatialOp::Within | SpatialOp::Contains | SpatialOp::Equals
            ))),
        }
    }

    fn property_index(&self, property: &str) -> Result<usize, ApiError> {
        let i = self.collection.prop(property).ok_or_else(|| {
            err(format!(
                "unknown property '{property}'; queryables of '{}': {}, {GEOMETRY_PROPERTY}",
                self.collection.id,
                self.collection
                    .props
                    .iter()
                    .filter(|p| p.kind != PropType::Json)
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        if self
            .collection
            .props
            .get(i)
            .is_some_and(|p| p.kind == PropType::Json)
        {
            return Err(err(format!("property '{property}' is not queryable")));
        }
        Ok(i)
    }

    fn scalar(&self, e: &Expr, depth: usize) -> Result<Scalar, ApiError> {
        if depth > MAX_DEPTH {
            return Err(err("expression nested too deeply"));
        }
        let d = depth + 1;
        match e {
            Expr::Property(p) if p == GEOMETRY_PROPERTY && self.collection.prop(p).is_none() => {
                Err(err(format!(
                    "'{GEOMETRY_PROPERTY}' can be used only in spatial functions and IS NULL"
                )))
            }
            Expr::Property(property) => Ok(Scalar::Prop(self.property_index(property)?)),
            Expr::Number(f) => Ok(Scalar::Lit(PropValue::Float(*f))),
            Expr::String(s) => Ok(Scalar::Lit(PropValue::Str(s.as_str().into()))),
            Expr::Bool(b) => Ok(Scalar::Lit(PropValue::Bool(*b))),
            Expr::Null => Ok(Scalar::Lit(PropValue::Null)),
            Expr::Op(Op::Casei, args) => {
                let a = arity(Op::Casei, args, 1)?;
                let s = self.scalar(&a[0], d)?;
                if !matches!(self.kind(&s), Kind::Str | Kind::Null) {
                    return Err(err("CASEI takes text"));
                }
                Ok(Scalar::Casei(Box::new(s)))
            }
            Expr::Op(Op::Accenti, _) => Err(err(
                "ACCENTI is not supported (accent-insensitive comparison is not a conformance class of this server)",
            )),
            Expr::Op(Op::Neg, args) => {
                let a = arity(Op::Neg, args, 1)?;
                let s = self.scalar(&a[0], d)?;
                if !matches!(self.kind(&s), Kind::Num | Kind::Null) {
                    return Err(err("unary '-' takes a number"));
                }
                Ok(Scalar::Neg(Box::new(s)))
            }
            Expr::Op(op, args) => {
                let Some(aop) = arith_op(*op) else {
                    return Err(err(format!(
                        "expected a value, found the condition operator '{}'",
                        op.name()
                    )));
                };
                let a = arity(*op, args, 2)?;
                let (l, r) = (self.scalar(&a[0], d)?, self.scalar(&a[1], d)?);
                for s in [&l, &r] {
                    if !matches!(self.kind(s), Kind::Num | Kind::Null) {
                        return Err(err(format!("'{}' takes numbers", op.name())));
                    }
                }
                Ok(Scalar::Arith(aop, Box::new(l), Box::new(r)))
            }
            Expr::Function(name, _) => Err(unsupported_function(name)),
            other => Err(err(format!("expected a value, found {}", describe(other)))),
        }
    }

    fn kind(&self, s: &Scalar) -> Kind {
        match s {
            Scalar::Prop(i) => match self.collection.props.get(*i).map(|p| p.kind) {
                Some(PropType::Integer | PropType::Number) => Kind::Num,
                Some(PropType::String) => Kind::Str,
                Some(PropType::Boolean) => Kind::Bool,
                Some(PropType::Json) | None => Kind::Other,
            },
            Scalar::Lit(v) => match v {
                PropValue::Null => Kind::Null,
                PropValue::Int(_) | PropValue::Float(_) => Kind::Num,
                PropValue::Str(_) => Kind::Str,
                PropValue::Bool(_) => Kind::Bool,
                PropValue::Json(_) => Kind::Other,
            },
            Scalar::Casei(_) => Kind::Str,
            Scalar::Arith(..) | Scalar::Neg(_) => Kind::Num,
        }
    }

    fn check_same(&self, op: Op, a: &Scalar, b: &Scalar) -> Result<(), ApiError> {
        let (ka, kb) = (self.kind(a), self.kind(b));
        if ka == kb || ka == Kind::Null || kb == Kind::Null {
            return Ok(());
        }
        let name = |s: &Scalar, k: Kind| match s {
            Scalar::Prop(i) => format!(
                "property '{}' ({})",
                self.collection
                    .props
                    .get(*i)
                    .map_or("?", |p| p.name.as_str()),
                kind_name(k)
            ),
            _ => format!("a {} value", kind_name(k)),
        };
        Err(err(format!(
            "'{}' compares {} with {}",
            op.name(),
            name(a, ka),
            name(b, kb)
        )))
    }

    /// Converts a geometry literal (or `BBOX`) after checking that every
    /// coordinate is within the range of the filter CRS.
    fn geometry_literal(&self, e: &Expr) -> Result<GeomLit, ApiError> {
        let shape = match e {
            Expr::Geometry(g) => {
                for c in g.coords() {
                    self.check_coord(*c)?;
                }
                to_geo(g)
            }
            Expr::BBox(b) => self.bbox(*b)?,
            Expr::Property(p) => {
                // An unknown name is reported as such (with the queryables).
                self.property_index(p)?;
                return Err(err(format!(
                    "spatial functions compare the '{GEOMETRY_PROPERTY}' property with a geometry; '{p}' is not a geometry"
                )));
            }
            other => {
                return Err(err(format!(
                    "expected a geometry, found {}",
                    describe(other)
                )))
            }
        };
        let envelope = shape
            .bounding_rect()
            .ok_or_else(|| err("empty geometries are not supported"))?;
        let dim = shape.dimensions();
        Ok(GeomLit {
            id: NEXT_LITERAL.fetch_add(1, atomic::Ordering::Relaxed),
            shape,
            envelope,
            dim,
        })
    }

    fn check_coord(&self, c: cql2::Coord) -> Result<(), ApiError> {
        let [x, y] = c;
        let ok = match self.crs {
            Crs::Crs84 => (-180.0..=180.0).contains(&x) && (-90.0..=90.0).contains(&y),
            Crs::Bng => {
                (BNG_EASTINGS.0..=BNG_EASTINGS.1).contains(&x)
                    && (BNG_NORTHINGS.0..=BNG_NORTHINGS.1).contains(&y)
            }
        };
        if ok {
            Ok(())
        } else {
            let mut xs = String::new();
            let mut ys = String::new();
            let _ = cql2::write_number(&mut xs, x);
            let _ = cql2::write_number(&mut ys, y);
            Err(err(match self.crs {
                Crs::Crs84 => format!(
                    "the position ({xs} {ys}) is outside CRS84, where longitude is within [-180, 180] and latitude within [-90, 90]; for British National Grid metres give filter-crs={}",
                    Crs::Bng.uri()
                ),
                Crs::Bng => format!(
                    "the position ({xs} {ys}) is outside British National Grid (EPSG:27700), whose eastings lie within [-200000, 900000] and northings within [-200000, 1500000] metres"
                ),
            }))
        }
    }

    /// `BBOX(west, south, east, north)`; in CRS84 a box with west > east
    /// crosses the antimeridian and becomes two boxes.
    fn bbox(&self, b: [f64; 4]) -> Result<Geometry<f64>, ApiError> {
        let [w, s, e, n] = b;
        self.check_coord([w, s])?;
        self.check_coord([e, n])?;
        if s > n {
            return Err(err("BBOX: the south edge must not exceed the north edge"));
        }
        let rect = |w: f64, e: f64| Rect::new((w, s), (e, n)).to_polygon();
        if w <= e {
            Ok(Geometry::Polygon(rect(w, e)))
        } else if self.crs == Crs::Crs84 {
            Ok(Geometry::MultiPolygon(MultiPolygon(vec![
                rect(w, 180.0),
                rect(-180.0, e),
            ])))
        } else {
            Err(err("BBOX: the west edge must not exceed the east edge"))
        }
    }
}

/// Operators whose value is a condition (for `(…) IS NULL`).
fn is_condition(op: Op) -> bool {
    matches!(
        op,
        Op::And | Op::Or | Op::Not | Op::Like | Op::Between | Op::In | Op::IsNull | Op::Spatial(_)
    )
}

fn to_geo(g: &cql2::Geometry) -> Geometry<f64> {
    fn line(c: &[cql2::Coord]) -> LineString<f64> {
        LineString::from(c.iter().map(|&[x, y]| (x, y)).collect::<Vec<_>>())
    }
    fn polygon(rings: &[Vec<cql2::Coord>]) -> Polygon<f64> {
        let mut it = rings.iter();
        let exterior = it
            .next()
            .map_or_else(|| LineString(Vec::new()), |r| line(r));
        Polygon::new(exterior, it.map(|r| line(r)).collect())
    }
    match g {
        cql2::Geometry::Point([x, y]) => Geometry::Point(Point::new(*x, *y)),
        cql2::Geometry::LineString(c) => Geometry::LineString(line(c)),
        cql2::Geometry::Polygon(r) => Geometry::Polygon(polygon(r)),
        cql2::Geometry::MultiPoint(c) => Geometry::MultiPoint(MultiPoint(
            c.iter().map(|&[x, y]| Point::new(x, y)).collect(),
        )),
        cql2::Geometry::MultiLineString(l) => {
            Geometry::MultiLineString(geo::MultiLineString(l.iter().map(|c| line(c)).collect()))
        }
        cql2::Geometry::MultiPolygon(p) => {
            Geometry::MultiPolygon(MultiPolygon(p.iter().map(|r| polygon(r)).collect()))
        }
        cql2::Geometry::GeometryCollection(members) => Geometry::GeometryCollection(
            geo::GeometryCollection(members.iter().map(to_geo).collect()),
        ),
    }
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Num => "number",
        Kind::Str => "text",
        Kind::Bool => "boolean",
        Kind::Null => "null",
        Kind::Other => "object",
    }
}

fn describe(e: &Expr) -> &'static str {
    match e {
        Expr::Op(..) => "an operation",
        Expr::Function(..) => "a function call",
        Expr::Interval(..) | Expr::Timestamp(_) | Expr::Date(_) => {
            "a temporal value (not supported: these collections have no temporal properties)"
        }
        Expr::Property(_) => "a property",
        Expr::BBox(_) | Expr::Geometry(_) => "a geometry",
        Expr::Number(_) => "a number",
        Expr::String(_) => "text",
        Expr::Bool(_) => "a boolean",
        Expr::Array(_) => "a list",
        Expr::Null => "null",
    }
}

fn is_geometry_property(e: &Expr) -> bool {
    matches!(e, Expr::Property(p) if p == GEOMETRY_PROPERTY)
}

/// The exact test, by DE-9IM (intersects and disjoint by `Intersects`,
/// which agrees with the matrix and is cheaper).
fn spatial_test(op: SpatialOp, feature: &Geometry<f64>, lit: &Geometry<f64>) -> bool {
    match op {
        SpatialOp::Intersects => feature.intersects(lit),
        SpatialOp::Disjoint => !feature.intersects(lit),
        _ => matrix_says(op, &feature.relate(lit)),
    }
}

/// What the matrix of (feature, literal) says about `op`.
fn matrix_says(op: SpatialOp, m: &IntersectionMatrix) -> bool {
    match op {
        SpatialOp::Intersects => m.is_intersects(),
        SpatialOp::Disjoint => m.is_disjoint(),
        SpatialOp::Within => m.is_within(),
        SpatialOp::Contains => m.is_contains(),
        SpatialOp::Touches => m.is_touches(),
        SpatialOp::Overlaps => m.is_overlaps(),
        SpatialOp::Crosses => m.is_crosses(),
        SpatialOp::Equals => m.is_equal_topo(),
    }
}

/// [`spatial_test`] of a feature against a prepared literal (faster than
/// `Intersects` too, whose polygon test has no index). The matrix has the
/// literal first: within and contains swap, the other relations are
/// symmetric.
fn literal_test(op: SpatialOp, feature: &impl Relate<f64>, lit: &GeomLit) -> bool {
    match op {
        SpatialOp::Within => relate_literal(lit, feature).is_contains(),
        SpatialOp::Contains => relate_literal(lit, feature).is_within(),
        other => matrix_says(other, &relate_literal(lit, feature)),
    }
}

/// A point feature against a literal, from the point's position relative
/// to the literal (interior, boundary by the mod-2 rule, exterior): the
/// DE-9IM matrix of a point has only that one row to fill.
fn point_test(op: SpatialOp, p: geo::Coord<f64>, lit: &GeomLit) -> bool {
    let pos = || match &lit.shape {
        // The parts of a multipolygon may touch at points, where a point is
        // on the boundary of two parts: that is still the boundary (the
        // mod-2 rule that `CoordinatePosition` applies to the sum is for lines).
        Geometry::MultiPolygon(mp) => mp.0.iter().map(|poly| poly.coordinate_position(&p)).fold(
            CoordPos::Outside,
            |acc, x| match (acc, x) {
                (CoordPos::Inside, _) | (_, CoordPos::Inside) => CoordPos::Inside,
                (CoordPos::OnBoundary, _) | (_, CoordPos::OnBoundary) => CoordPos::OnBoundary,
                _ => CoordPos::Outside,
            },
        ),
        other => other.coordinate_position(&p),
    };
    match op {
        SpatialOp::Intersects => pos() != CoordPos::Outside,
        SpatialOp::Disjoint => pos() == CoordPos::Outside,
        SpatialOp::Within => pos() == CoordPos::Inside,
        // A point has no boundary: it touches what it meets only on the other's boundary.
        SpatialOp::Touches => pos() == CoordPos::OnBoundary,
        // A point contains (and equals) only points that are all the point itself.
        SpatialOp::Contains | SpatialOp::Equals => {
            lit.dim == Dimensions::ZeroDimensional && lit.shape.coords_iter().all(|c| c == p)
        }
        // Both need a part of the point inside the other and a part outside.
        SpatialOp::Overlaps | SpatialOp::Crosses => false,
    }
}

/// Whether `a` lies within `b` (edges included).
fn rect_within(a: Rect<f64>, b: Rect<f64>) -> bool {
    a.min().x >= b.min().x
        && a.min().y >= b.min().y
        && a.max().x <= b.max().x
        && a.max().y <= b.max().y
}

/// The spatial test for one feature: envelope and dimension tests first,
/// which settle most features without exact geometry.
fn spatial_eval(op: SpatialOp, shape: ShapeRef<'_>, bbox: Rect<f64>, lit: &GeomLit) -> bool {
    if !rects_intersect(bbox, lit.envelope) {
        return op == SpatialOp::Disjoint;
    }
    let dimensions = match shape {
        ShapeRef::Point(p) => p.dimensions(),
        ShapeRef::MultiPolygon(mp) => mp.dimensions(),
    };
    let settled = match op {
        SpatialOp::Within => !rect_within(bbox, lit.envelope),
        SpatialOp::Contains => !rect_within(lit.envelope, bbox),
        // Equal point sets have equal envelopes: their extremes are vertices.
        SpatialOp::Equals => bbox != lit.envelope,
        // Overlaps needs equal dimensions; crosses is not defined for two
        // areas or two points (the relate matrix says false).
        SpatialOp::Overlaps => dimensions != lit.dim,
        SpatialOp::Crosses => dimensions == lit.dim && lit.dim != Dimensions::OneDimensional,
        _ => false,
    };
    if settled {
        return false;
    }
    match shape {
        ShapeRef::Point(p) if !matches!(lit.shape, Geometry::GeometryCollection(_)) => {
            point_test(op, p.0, lit)
        }
        ShapeRef::Point(p) => literal_test(op, &p, lit),
        ShapeRef::MultiPolygon(mp) => literal_test(op, mp, lit),
    }
}

fn rects_intersect(a: Rect<f64>, b: Rect<f64>) -> bool {
    a.min().x <= b.max().x
        && b.min().x <= a.max().x
        && a.min().y <= b.max().y
        && b.min().y <= a.max().y
}

fn of(v: ValueRef<'_>) -> Val<'_> {
    match v {
        ValueRef::Null | ValueRef::Json(_) => Val::Null,
        #[allow(clippy::cast_precision_loss)] // property integers are far below 2^53
        ValueRef::Int(i) => Val::Num(i as f64),
        ValueRef::Float(x) => Val::Num(x),
        ValueRef::Str(s) => Val::Str(Cow::Borrowed(s)),
        ValueRef::Bool(b) => Val::Bool(b),
    }
}

fn value<'a>(s: &'a Scalar, f: &'a Feature) -> Val<'a> {
    match s {
        Scalar::Prop(i) => f.values.get(*i).map_or(Val::Null, of),
        Scalar::Lit(v) => of(v.as_ref()),
        // CQL2 CASEI: Unicode default (full) case folding, so 'Straße'
        // matches 'STRASSE' and 'ΣΊΣΥΦΟΣ' matches 'σίσυφος'; plain
        // lowercasing would miss both.
        Scalar::Casei(inner) => match value(inner, f) {
            Val::Str(s) => Val::Str(Cow::Owned(caseless::default_case_fold_str(&s))),
            other => other,
        },
        Scalar::Neg(inner) => match value(inner, f) {
            Val::Num(a) => Val::Num(-a),
            _ => Val::Null,
        },
        Scalar::Arith(op, l, r) => match (value(l, f), value(r, f)) {
            (Val::Num(a), Val::Num(b)) => {
                // Division by zero and overflow give no number: the
                // comparison is then unknown, as with a null operand.
                let x = match op {
                    ArithOp::Add => a + b,
                    ArithOp::Sub => a - b,
                    ArithOp::Mul => a * b,
                    ArithOp::Div => a / b,
                    ArithOp::Mod => a % b,
                    ArithOp::IntDiv => (a / b).trunc(),
                    ArithOp::Pow => a.powf(b),
                };
                if x.is_finite() {
                    Val::Num(x)
                } else {
                    Val::Null
                }
            }
            _ => Val::Null,
        },
    }
}

fn compare(a: &Val<'_>, b: &Val<'_>) -> Option<Ordering> {
    match (a, b) {
        (Val::Num(x), Val::Num(y)) => x.partial_cmp(y),
        (Val::Str(x), Val::Str(y)) => Some(x.as_ref().cmp(y.as_ref())),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Three-valued AND/OR: `short` is the value that decides at once.
fn combine(nodes: &[Node], f: &Feature, slot: usize, short: bool) -> Option<bool> {
    let mut unknown = false;
    for x in nodes {
        match eval(x, f, slot) {
            Some(b) if b == short => return Some(short),
            None => unknown = true,
            Some(_) => {}
        }
    }
    if unknown {
        None
    } else {
        Some(!short)
    }
}

fn eval(n: &Node, f: &Feature, slot: usize) -> Option<bool> {
    match n {
        Node::Const(b) => *b,
        Node::And(nodes) => combine(nodes, f, slot, false),
        Node::Or(nodes) => combine(nodes, f, slot, true),
        Node::Not(x) => eval(x, f, slot).map(|b| !b),
        Node::Truthy(s) => match value(s, f) {
            Val::Bool(b) => Some(b),
            _ => None,
        },
        Node::Cmp(op, l, r) => {
            let o = compare(&value(l, f), &value(r, f))?;
            Some(match op {
                CmpOp::Eq => o == Ordering::Equal,
                CmpOp::Ne => o != Ordering::Equal,
                CmpOp::Lt => o == Ordering::Less,
                CmpOp::Le => o != Ordering::Greater,
                CmpOp::Gt => o == Ordering::Greater,
                CmpOp::Ge => o != Ordering::Less,
            })
        }
        Node::Between(v, lo, hi) => {
            let v = value(v, f);
            let a = compare(&v, &value(lo, f))?;
            let b = compare(&v, &value(hi, f))?;
            Some(a != Ordering::Less && b != Ordering::Greater)
        }
        Node::In(v, list) => {
            let v = value(v, f);
            if v == Val::Null {
                return None;
            }
            let mut unknown = false;
            for item in list {
                match compare(&v, &value(item, f)) {
                    Some(Ordering::Equal) => return Some(true),
                    None => unknown = true,
                    Some(_) => {}
                }
            }
            if unknown {
                None
            } else {
                Some(false)
            }
        }
        Node::IsNull(s) => Some(value(s, f) == Val::Null),
        Node::Like(v, p) => match (value(v, f), value(p, f)) {
            (Val::Str(s), Val::Str(p)) => Some(like(&s, &p)),
            _ => None,
        },
        Node::Spatial(op, lit) => {
            let g = f.geometry.as_ref()?;
            let (shape, bbox) = (g.shape(slot)?, g.bboxes.get(slot)?);
            Some(spatial_eval(*op, shape, *bbox, lit))
        }
        Node::SelfSpatial(b) => f.geometry.as_ref().map(|_| *b),
        Node::GeometryIsNull => Some(f.geometry.is_none()),
        Node::IsUnknown(x) => Some(eval(x, f, slot).is_none()),
    }
}

/// SQL LIKE: `%` any run of characters, `_` one character, `\` escapes.
fn like(s: &str, pattern: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Tok {
        Any,
        One,
        Ch(char),
    }
    let mut toks = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        toks.push(match c {
            '%' => Tok::Any,
            '_' => Tok::One,
            '\\' => Tok::Ch(chars.next().unwrap_or('\\')),
            c => Tok::Ch(c),
        });
    }
    let text: Vec<char> = s.chars().collect();
    // Greedy matching, backtracking to the last `%`: linear for typical patterns.
    let (mut ti, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < text.len() {
        match toks.get(pi) {
            Some(Tok::Any) => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(Tok::One) => {
                ti += 1;
                pi += 1;
            }
            Some(Tok::Ch(c)) if text.get(ti) == Some(c) => {
                ti += 1;
                pi += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    toks.get(pi..).unwrap_or(&[]).iter().all(|t| *t == Tok::Any)
}

#[cfg(test)]
mod tests {
    use super::{like, point_test, spatial_test, GeomLit};
    use crate::cql2::SpatialOp;
    use geo::{BoundingRect, Geometry, HasDimensions, Point};

    fn lit(wkt: &str) -> GeomLit {
        let e = crate::cql2::parse_text(&format!("S_INTERSECTS(geometry,{wkt})")).unwrap();
        let crate::cql2::Expr::Op(_, args) = e else {
            panic!("{wkt}")
        };
        let crate::cql2::Expr::Geometry(g) = &args[1] else {
            panic!("{wkt}")
        };
        let shape = super::to_geo(g);
        GeomLit {
            id: super::NEXT_LITERAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            envelope: shape.bounding_rect().unwrap(),
            dim: shape.dimensions(),
            shape,
        }
    }

    /// The point fast path gives the DE-9IM answer (`Relate`) for points
    /// inside, outside and on the boundary of every kind of literal.
    #[test]
    fn point_test_agrees_with_relate() {
        let literals = [
            "POLYGON((0 0,4 0,4 4,0 4,0 0),(1 1,2 1,2 2,1 2,1 1))",
            "MULTIPOLYGON(((0 0,1 0,1 1,0 1,0 0)),((1 1,2 1,2 2,1 2,1 1)))",
            "LINESTRING(0 0,2 2,4 0)",
            "LINESTRING(0 0,4 0,4 4,0 4,0 0)",
            "MULTILINESTRING((0 0,2 0),(2 0,2 2),(2 0,4 0))",
            "POINT(2 2)",
            "MULTIPOINT((2 2),(1 1))",
            "MULTIPOINT((2 2),(2 2))",
        ];
        let mut checked = 0;
        for wkt in literals {
            let l = lit(wkt);
            for i in -2..=18 {
                for j in -2..=18 {
                    let p = geo::Coord {
                        x: f64::from(i) * 0.25,
                        y: f64::from(j) * 0.25,
                    };
                    let feature = Geometry::Point(Point(p));
                    for op in SpatialOp::ALL {
                        assert_eq!(
                            point_test(op, p, &l),
                            spatial_test(op, &feature, &l.shape),
                            "{op:?} of POINT({} {}) and {wkt}",
                            p.x,
                            p.y
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 3000);
    }

    /// Areas and lines against prepared literals give what plain `Relate`
    /// gives, including the swap of within and contains.
    #[test]
    fn prepared_literals_agree_with_relate() {
        let features = [
            "POLYGON((0 0,4 0,4 4,0 4,0 0))",
            "POLYGON((1 1,2 1,2 2,1 2,1 1))",
            "POLYGON((3 3,6 3,6 6,3 6,3 3))",
            "POLYGON((4 0,8 0,8 4,4 4,4 0))",
            "MULTIPOLYGON(((0 0,1 0,1 1,0 1,0 0)),((5 5,6 5,6 6,5 6,5 5)))",
            "LINESTRING(-1 2,5 2)",
            "LINESTRING(1 1,3 3)",
        ];
        let literals = [
            "POLYGON((0 0,4 0,4 4,0 4,0 0))",
            "POLYGON((0 0,4 0,4 4,0 4,0 0),(1 1,2 1,2 2,1 2,1 1))",
            "LINESTRING(0 2,4 2)",
            "MULTIPOINT((1 1),(9 9))",
            "GEOMETRYCOLLECTION(POINT(1 1),LINESTRING(5 0,5 9))",
        ];
        for lw in literals {
            let l = lit(lw);
            for fw in features {
                let f = lit(fw).shape;
                for op in SpatialOp::ALL {
                    assert_eq!(
                        super::literal_test(op, &f, &l),
                        spatial_test(op, &f, &l.shape),
                        "{op:?} of {fw} and {lw}"
                    );
                }
            }
        }
    }

    /// Filters stay shareable across threads: prepared geometries (which
    /// are not) live in a per-thread cache, not in the filter.
    #[test]
    fn filters_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<super::Filter>();
    }

    #[test]
    fn like_patterns() {
        assert!(like("Oxford 005A", "Oxford%"));
        assert!(like("Oxford 005A", "%005_"));
        assert!(!like("Oxford 005A", "%006%"));
        assert!(like("50%", "50\\%"));
        assert!(!like("500", "50\\%"));
        assert!(like("", "%"));
        assert!(!like("abc", "ab"));
        assert!(like("abcbc", "a%bc"));
    }
}
