//! CQL2 filters (OGC API – Features Part 3). The `cql2` crate parses the text
//! (or JSON) into an expression; this module compiles that expression once per
//! request against a collection's schema — resolving property names to column
//! positions, type-checking literals and converting geometry literals — and
//! then evaluates the compiled tree against each feature's typed values.
//! Compiling first means a typo in a property name is a 400 naming it, not an
//! empty result, and evaluation does no string lookups.

use std::borrow::Cow;
use std::cmp::Ordering;

use cql2::Expr;
use geo::{BoundingRect, Geometry, Intersects, Rect, Relate};

use super::model::{Collection, Feature, FeatureGeometry, PropType, PropValue};
use crate::api::error::ApiError;
use crate::atlas::Crs;

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
enum SpatialOp {
    Intersects,
    Disjoint,
    Within,
    Contains,
    Touches,
    Overlaps,
    Crosses,
    Equals,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

/// A value-producing part of an expression.
#[derive(Debug, Clone)]
enum Scalar {
    Prop(usize),
    Lit(PropValue),
    Casei(Box<Scalar>),
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

/// A literal geometry, with its envelope for a quick rejection test.
#[derive(Debug, Clone)]
struct GeomLit {
    shape: Geometry<f64>,
    envelope: Option<Rect<f64>>,
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
    Like(Scalar, Scalar),
    /// A spatial predicate with the feature's geometry on the left.
    Spatial(SpatialOp, GeomLit),
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

/// Parses a filter in the given language.
///
/// # Errors
/// A 400 for any syntax error.
pub fn parse(text: &str, lang: FilterLang) -> Result<Expr, ApiError> {
    // The parser has internal `unreachable!`s for input its grammar should
    // never produce; a panic there must still be a 400, not a dropped connection.
    let parsed = std::panic::catch_unwind(|| match lang {
        FilterLang::Text => cql2::parse_text(text).map_err(|e| e.to_string()),
        FilterLang::Json => cql2::parse_json(text).map_err(|e| e.to_string()),
    });
    match parsed {
        Ok(Ok(expr)) => Ok(expr),
        Ok(Err(e)) => Err(err(format!("could not parse: {e}"))),
        Err(_) => Err(err("could not parse")),
    }
}

impl Filter {
    /// Compiles a parsed expression against a collection's schema; geometry
    /// literals are taken to be in `crs` (`filter-crs`).
    ///
    /// # Errors
    /// A 400 naming an unknown property, an unsupported operator or a type mismatch.
    pub fn compile(expr: &Expr, collection: &Collection, crs: Crs) -> Result<Self, ApiError> {
        let c = Compiler { collection };
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
}

const MAX_DEPTH: usize = 64;

fn arity<'e>(op: &str, args: &'e [Box<Expr>], n: usize) -> Result<&'e [Box<Expr>], ApiError> {
    if args.len() == n {
        Ok(args)
    } else {
        Err(err(format!("{op} takes {n} arguments, got {}", args.len())))
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
            Expr::Property { .. } => {
                let s = self.scalar(e, d)?;
                if self.kind(&s) == Kind::Bool {
                    Ok(Node::Truthy(s))
                } else {
                    Err(err("a property used as a condition must be boolean"))
                }
            }
            Expr::Operation { op, args } => self.operation(op, args, d),
            other => Err(err(format!(
                "expected a condition, found {}",
                describe(other)
            ))),
        }
    }

    fn operation(&self, op: &str, args: &[Box<Expr>], d: usize) -> Result<Node, ApiError> {
        match op {
            "and" | "or" => {
                let nodes = args.iter().map(|a| self.node(a, d)).collect::<Result<Vec<_>, _>>()?;
                Ok(if op == "and" { Node::And(nodes) } else { Node::Or(nodes) })
            }
            "not" => {
                let a = arity(op, args, 1)?;
                Ok(Node::Not(Box::new(self.node(&a[0], d)?)))
            }
            "=" | "<>" | "<" | "<=" | ">" | ">=" => {
                let a = arity(op, args, 2)?;
                let cmp = match op {
                    "=" => CmpOp::Eq,
                    "<>" => CmpOp::Ne,
                    "<" => CmpOp::Lt,
                    "<=" => CmpOp::Le,
                    ">" => CmpOp::Gt,
                    _ => CmpOp::Ge,
                };
                let (l, r) = (self.scalar(&a[0], d)?, self.scalar(&a[1], d)?);
                self.check_same(op, &l, &r)?;
                Ok(Node::Cmp(cmp, l, r))
            }
            "between" => {
                let a = arity(op, args, 3)?;
                let v = self.scalar(&a[0], d)?;
                let lo = self.scalar(&a[1], d)?;
                let hi = self.scalar(&a[2], d)?;
                self.check_same(op, &v, &lo)?;
                self.check_same(op, &v, &hi)?;
                Ok(Node::Between(v, lo, hi))
            }
            "in" => {
                let a = arity(op, args, 2)?;
                let v = self.scalar(&a[0], d)?;
                let Expr::Array(items) = a[1].as_ref() else {
                    return Err(err("IN expects a list"));
                };
                let list = items.iter().map(|i| self.scalar(i, d)).collect::<Result<Vec<_>, _>>()?;
                for item in &list {
                    self.check_same(op, &v, item)?;
                }
                Ok(Node::In(v, list))
            }
            "isNull" => {
                let a = arity(op, args, 1)?;
                Ok(Node::IsNull(self.scalar(&a[0], d)?))
            }
            "like" => {
                let a = arity(op, args, 2)?;
                let (v, p) = (self.scalar(&a[0], d)?, self.scalar(&a[1], d)?);
                for s in [&v, &p] {
                    if !matches!(self.kind(s), Kind::Str | Kind::Null) {
                        return Err(err("LIKE compares text"));
                    }
                }
                Ok(Node::Like(v, p))
            }
            "s_intersects" | "s_disjoint" | "s_within" | "s_contains" | "s_touches" | "s_overlaps" | "s_crosses"
            | "s_equals" => {
                let a = arity(op, args, 2)?;
                let spatial = match op {
                    "s_intersects" => SpatialOp::Intersects,
                    "s_disjoint" => SpatialOp::Disjoint,
                    "s_within" => SpatialOp::Within,
                    "s_contains" => SpatialOp::Contains,
                    "s_touches" => SpatialOp::Touches,
                    "s_overlaps" => SpatialOp::Overlaps,
                    "s_crosses" => SpatialOp::Crosses,
                    _ => SpatialOp::Equals,
                };
                let (l, r) = (a[0].as_ref(), a[1].as_ref());
                match (is_geometry_property(l), is_geometry_property(r)) {
                    (true, false) => Ok(Node::Spatial(spatial, geometry_literal(r)?)),
                    // Swapping the operands inverts within/contains; the rest are symmetric.
                    (false, true) => {
                        let swapped = match spatial {
                            SpatialOp::Within => SpatialOp::Contains,
                            SpatialOp::Contains => SpatialOp::Within,
                            s => s,
                        };
                        Ok(Node::Spatial(swapped, geometry_literal(l)?))
                    }
                    (false, false) => {
                        let (g1, g2) = (geometry_literal(l)?, geometry_literal(r)?);
                        Ok(Node::Const(Some(spatial_test(spatial, &g1.shape, &g2))))
                    }
                    (true, true) => Ok(Node::Const(Some(matches!(
                        spatial,
                        SpatialOp::Intersects | SpatialOp::Within | SpatialOp::Contains | SpatialOp::Equals
                    )))),
                }
            }
            other if other.starts_with("t_") => Err(err(format!(
                "temporal operator {other} is not supported: these collections have no temporal properties"
            ))),
            other if other.starts_with("a_") => Err(err(format!(
                "array operator {other} is not supported: these collections have no array properties"
            ))),
            other => Err(err(format!("unsupported operator or function '{other}'"))),
        }
    }

    fn scalar(&self, e: &Expr, depth: usize) -> Result<Scalar, ApiError> {
        if depth > MAX_DEPTH {
            return Err(err("expression nested too deeply"));
        }
        let d = depth + 1;
        match e {
            Expr::Property { property } => {
                let i = self.collection.prop(property).ok_or_else(|| {
                    err(format!(
                        "unknown property '{property}'; queryables of '{}': {}",
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
                Ok(Scalar::Prop(i))
            }
            Expr::Float(f) => Ok(Scalar::Lit(PropValue::Float(*f))),
            Expr::Literal(s) => Ok(Scalar::Lit(PropValue::Str(s.clone()))),
            Expr::Bool(b) => Ok(Scalar::Lit(PropValue::Bool(*b))),
            Expr::Null => Ok(Scalar::Lit(PropValue::Null)),
            Expr::Operation { op, args } => match op.as_str() {
                "casei" => {
                    let a = arity(op, args, 1)?;
                    let s = self.scalar(&a[0], d)?;
                    if !matches!(self.kind(&s), Kind::Str | Kind::Null) {
                        return Err(err("CASEI takes text"));
                    }
                    Ok(Scalar::Casei(Box::new(s)))
                }
                "+" | "-" | "*" | "/" => {
                    let a = arity(op, args, 2)?;
                    let (l, r) = (self.scalar(&a[0], d)?, self.scalar(&a[1], d)?);
                    for s in [&l, &r] {
                        if !matches!(self.kind(s), Kind::Num | Kind::Null) {
                            return Err(err(format!("'{op}' takes numbers")));
                        }
                    }
                    let aop = match op.as_str() {
                        "+" => ArithOp::Add,
                        "-" => ArithOp::Sub,
                        "*" => ArithOp::Mul,
                        _ => ArithOp::Div,
                    };
                    Ok(Scalar::Arith(aop, Box::new(l), Box::new(r)))
                }
                other => Err(err(format!(
                    "unsupported function '{other}' in a value position"
                ))),
            },
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
            Scalar::Arith(..) => Kind::Num,
        }
    }

    fn check_same(&self, op: &str, a: &Scalar, b: &Scalar) -> Result<(), ApiError> {
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
            "'{op}' compares {} with {}",
            name(a, ka),
            name(b, kb)
        )))
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
        Expr::Operation { .. } => "an operation",
        Expr::Interval { .. } | Expr::Timestamp { .. } | Expr::Date { .. } => {
            "a temporal value (not supported)"
        }
        Expr::Property { .. } => "a property",
        Expr::BBox { .. } | Expr::Geometry(_) => "a geometry",
        Expr::Float(_) => "a number",
        Expr::Literal(_) => "text",
        Expr::Bool(_) => "a boolean",
        Expr::Array(_) => "a list",
        Expr::Null => "null",
    }
}

fn is_geometry_property(e: &Expr) -> bool {
    matches!(e, Expr::Property { property } if property == GEOMETRY_PROPERTY)
}

fn geometry_literal(e: &Expr) -> Result<GeomLit, ApiError> {
    match e {
        Expr::Geometry(_) | Expr::BBox { .. } => {
            let shape = Geometry::try_from(e.clone()).map_err(|x| err(format!("bad geometry: {x}")))?;
            let envelope = shape.bounding_rect();
            Ok(GeomLit { shape, envelope })
        }
        Expr::Property { property } => Err(err(format!(
            "spatial operators compare the '{GEOMETRY_PROPERTY}' property with a geometry; '{property}' is not a geometry"
        ))),
        other => Err(err(format!("expected a geometry, found {}", describe(other)))),
    }
}

fn spatial_test(op: SpatialOp, feature: &Geometry<f64>, lit: &GeomLit) -> bool {
    match op {
        SpatialOp::Intersects => feature.intersects(&lit.shape),
        SpatialOp::Disjoint => !feature.intersects(&lit.shape),
        _ => {
            let m = feature.relate(&lit.shape);
            match op {
                SpatialOp::Within => m.is_within(),
                SpatialOp::Contains => m.is_contains(),
                SpatialOp::Touches => m.is_touches(),
                SpatialOp::Overlaps => m.is_overlaps(),
                SpatialOp::Crosses => m.is_crosses(),
                _ => m.is_equal_topo(),
            }
        }
    }
}

fn rects_intersect(a: Rect<f64>, b: Rect<f64>) -> bool {
    a.min().x <= b.max().x
        && b.min().x <= a.max().x
        && a.min().y <= b.max().y
        && b.min().y <= a.max().y
}

fn of(v: &PropValue) -> Val<'_> {
    match v {
        PropValue::Null | PropValue::Json(_) => Val::Null,
        #[allow(clippy::cast_precision_loss)] // property integers are far below 2^53
        PropValue::Int(i) => Val::Num(*i as f64),
        PropValue::Float(x) => Val::Num(*x),
        PropValue::Str(s) => Val::Str(Cow::Borrowed(s)),
        PropValue::Bool(b) => Val::Bool(*b),
    }
}

fn value<'a>(s: &'a Scalar, f: &'a Feature) -> Val<'a> {
    match s {
        Scalar::Prop(i) => f.values.get(*i).map_or(Val::Null, of),
        Scalar::Lit(v) => of(v),
        Scalar::Casei(inner) => match value(inner, f) {
            Val::Str(s) => Val::Str(Cow::Owned(s.to_lowercase())),
            other => other,
        },
        Scalar::Arith(op, l, r) => match (value(l, f), value(r, f)) {
            (Val::Num(a), Val::Num(b)) => {
                let x = match op {
                    ArithOp::Add => a + b,
                    ArithOp::Sub => a - b,
                    ArithOp::Mul => a * b,
                    ArithOp::Div => a / b,
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
            let shape = g.shapes.get(slot)?;
            // Envelopes that do not meet settle most tests without exact geometry.
            if let (Some(env), Some(b)) = (lit.envelope, g.bboxes.get(slot)) {
                if !rects_intersect(env, *b) {
                    return Some(*op == SpatialOp::Disjoint);
                }
            }
            Some(spatial_test(*op, shape, lit))
        }
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
    use super::like;

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
