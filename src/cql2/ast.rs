//! The CQL2 expression tree shared by both encodings. Text and JSON parse to
//! the same tree, and the tree prints back to either ([`std::fmt::Display`]
//! for CQL2 text, [`Expr::to_json`] for CQL2 JSON), so that round trips can be
//! tested.

use std::fmt::{self, Write as _};

use serde_json::{json, Value};

/// A position: `[x, y]` (longitude, latitude in CRS84; easting, northing in
/// a projected CRS). A third ordinate (`POINT Z`) is parsed and dropped.
pub type Coord = [f64; 2];

/// A geometry literal (WKT in CQL2 text, GeoJSON in CQL2 JSON), in the CRS
/// the request names (`filter-crs`). Rings are as given: closed, at least
/// four positions.
#[derive(Debug, Clone, PartialEq)]
pub enum Geometry {
    /// One position.
    Point(Coord),
    /// At least two positions.
    LineString(Vec<Coord>),
    /// An exterior ring, then holes.
    Polygon(Vec<Vec<Coord>>),
    /// Positions.
    MultiPoint(Vec<Coord>),
    /// Line strings.
    MultiLineString(Vec<Vec<Coord>>),
    /// Polygons.
    MultiPolygon(Vec<Vec<Vec<Coord>>>),
    /// Members, none of them a collection (as the CQL2 BNF and JSON schema
    /// require).
    GeometryCollection(Vec<Geometry>),
}

impl Geometry {
    /// The number of positions in the literal.
    pub fn vertex_count(&self) -> usize {
        match self {
            Geometry::Point(_) => 1,
            Geometry::LineString(c) | Geometry::MultiPoint(c) => c.len(),
            Geometry::Polygon(r) | Geometry::MultiLineString(r) => r.iter().map(Vec::len).sum(),
            Geometry::MultiPolygon(p) => p.iter().flatten().map(Vec::len).sum(),
            Geometry::GeometryCollection(g) => g.iter().map(Geometry::vertex_count).sum(),
        }
    }

    /// Every position, for range checks.
    pub fn coords(&self) -> Box<dyn Iterator<Item = &Coord> + '_> {
        match self {
            Geometry::Point(c) => Box::new(std::iter::once(c)),
            Geometry::LineString(c) | Geometry::MultiPoint(c) => Box::new(c.iter()),
            Geometry::Polygon(r) | Geometry::MultiLineString(r) => Box::new(r.iter().flatten()),
            Geometry::MultiPolygon(p) => Box::new(p.iter().flatten().flatten()),
            Geometry::GeometryCollection(g) => Box::new(g.iter().flat_map(Geometry::coords)),
        }
    }

    /// The WKT / GeoJSON type name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Geometry::Point(_) => "Point",
            Geometry::LineString(_) => "LineString",
            Geometry::Polygon(_) => "Polygon",
            Geometry::MultiPoint(_) => "MultiPoint",
            Geometry::MultiLineString(_) => "MultiLineString",
            Geometry::MultiPolygon(_) => "MultiPolygon",
            Geometry::GeometryCollection(_) => "GeometryCollection",
        }
    }
}

/// The eight spatial comparison functions of CQL2 (`S_INTERSECTS` …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpatialOp {
    /// `S_INTERSECTS`.
    Intersects,
    /// `S_EQUALS`.
    Equals,
    /// `S_DISJOINT`.
    Disjoint,
    /// `S_TOUCHES`.
    Touches,
    /// `S_WITHIN`.
    Within,
    /// `S_OVERLAPS`.
    Overlaps,
    /// `S_CROSSES`.
    Crosses,
    /// `S_CONTAINS`.
    Contains,
}

impl SpatialOp {
    /// Every spatial function.
    pub const ALL: [SpatialOp; 8] = [
        SpatialOp::Intersects,
        SpatialOp::Equals,
        SpatialOp::Disjoint,
        SpatialOp::Touches,
        SpatialOp::Within,
        SpatialOp::Overlaps,
        SpatialOp::Crosses,
        SpatialOp::Contains,
    ];

    /// The CQL2 JSON name (`s_intersects`); CQL2 text uses it in any case.
    pub fn name(self) -> &'static str {
        match self {
            SpatialOp::Intersects => "s_intersects",
            SpatialOp::Equals => "s_equals",
            SpatialOp::Disjoint => "s_disjoint",
            SpatialOp::Touches => "s_touches",
            SpatialOp::Within => "s_within",
            SpatialOp::Overlaps => "s_overlaps",
            SpatialOp::Crosses => "s_crosses",
            SpatialOp::Contains => "s_contains",
        }
    }

    /// The function a name (any case) stands for.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|op| op.name().eq_ignore_ascii_case(name))
    }
}

/// Operators and the standard functions with fixed meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `AND`, two or more arguments.
    And,
    /// `OR`, two or more arguments.
    Or,
    /// `NOT`, one argument.
    Not,
    /// `=`.
    Eq,
    /// `<>`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `LIKE`: value, pattern.
    Like,
    /// `BETWEEN`: value, low, high.
    Between,
    /// `IN`: value, then an [`Expr::Array`] of candidates.
    In,
    /// `IS NULL`, one argument.
    IsNull,
    /// `+`.
    Add,
    /// Binary `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `%` (remainder).
    Mod,
    /// `div` (integer division).
    IntDiv,
    /// `^` (power).
    Pow,
    /// Unary minus of a non-literal (`-residents`); negative number
    /// literals are folded into [`Expr::Number`]. CQL2 JSON has no unary
    /// minus: it is written `{"op":"-","args":[x]}`, which this crate's JSON
    /// parser accepts.
    Neg,
    /// `CASEI`, one argument.
    Casei,
    /// `ACCENTI`, one argument.
    Accenti,
    /// A spatial comparison function, two arguments.
    Spatial(SpatialOp),
}

impl Op {
    /// The CQL2 JSON `op` name.
    pub fn name(self) -> &'static str {
        match self {
            Op::And => "and",
            Op::Or => "or",
            Op::Not => "not",
            Op::Eq => "=",
            Op::Ne => "<>",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Like => "like",
            Op::Between => "between",
            Op::In => "in",
            Op::IsNull => "isNull",
            Op::Add => "+",
            Op::Sub | Op::Neg => "-",
            Op::Mul => "*",
            Op::Div => "/",
            Op::Mod => "%",
            Op::IntDiv => "div",
            Op::Pow => "^",
            Op::Casei => "casei",
            Op::Accenti => "accenti",
            Op::Spatial(s) => s.name(),
        }
    }

    /// The operator a CQL2 JSON `op` name stands for (`-` is [`Op::Sub`]),
    /// `None` for other (function) names.
    pub fn from_json_name(name: &str) -> Option<Self> {
        Some(match name {
            "and" => Op::And,
            "or" => Op::Or,
            "not" => Op::Not,
            "=" => Op::Eq,
            "<>" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "like" => Op::Like,
            "between" => Op::Between,
            "in" => Op::In,
            "isNull" => Op::IsNull,
            "+" => Op::Add,
            "-" => Op::Sub,
            "*" => Op::Mul,
            "/" => Op::Div,
            "%" => Op::Mod,
            "div" => Op::IntDiv,
            "^" => Op::Pow,
            "casei" => Op::Casei,
            "accenti" => Op::Accenti,
            other => Op::Spatial(SpatialOp::from_name(other)?),
        })
    }

    /// How many arguments the operator takes: `(min, max)`.
    pub fn arity(self) -> (usize, usize) {
        match self {
            Op::And | Op::Or => (2, usize::MAX),
            Op::Not | Op::IsNull | Op::Neg | Op::Casei | Op::Accenti => (1, 1),
            Op::Between => (3, 3),
            _ => (2, 2),
        }
    }

    /// Binding strength in CQL2 text (higher binds tighter), following the
    /// BNF: OR < AND < NOT < predicates < `+ -` < `* / % div` < `^` < unary minus.
    fn precedence(self) -> u8 {
        match self {
            Op::Or => 1,
            Op::And => 2,
            Op::Not => 3,
            Op::Eq
            | Op::Ne
            | Op::Lt
            | Op::Le
            | Op::Gt
            | Op::Ge
            | Op::Like
            | Op::Between
            | Op::In
            | Op::IsNull => 4,
            Op::Add | Op::Sub => 5,
            Op::Mul | Op::Div | Op::Mod | Op::IntDiv => 6,
            Op::Pow => 7,
            Op::Neg => 8,
            Op::Casei | Op::Accenti | Op::Spatial(_) => ATOM,
        }
    }
}

const ATOM: u8 = u8::MAX;

/// A CQL2 expression: a predicate, or a value inside one. Types are not
/// checked here (a filter's meaning depends on the schema it is compiled
/// against), only the shape the grammar gives.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `NULL` (accepted as a literal, though CQL2 only names it in `IS NULL`).
    Null,
    /// `TRUE` / `FALSE`.
    Bool(bool),
    /// A number, parsed from its text with correct rounding, so that the
    /// digits a client copies from GeoJSON give back the same `f64`.
    Number(f64),
    /// A character literal, escapes resolved (`\%` and `\_` are kept, for LIKE).
    String(String),
    /// A property name.
    Property(String),
    /// `DATE('2024-01-31')`.
    Date(String),
    /// `TIMESTAMP('2024-01-31T12:00:00Z')`.
    Timestamp(String),
    /// `INTERVAL(start, end)`; an open end is `String("..")`.
    Interval(Box<Expr>, Box<Expr>),
    /// A geometry literal.
    Geometry(Geometry),
    /// `BBOX(west, south, east, north)`; elevations, when given, are dropped.
    BBox([f64; 4]),
    /// A parenthesised list: the candidates of `IN`, or an array literal.
    Array(Vec<Expr>),
    /// An operator or standard function with its arguments.
    Op(Op, Vec<Expr>),
    /// Any other function call, by name as written (e.g. `T_AFTER`).
    Function(String, Vec<Expr>),
}

impl Expr {
    fn precedence(&self) -> u8 {
        match self {
            Expr::Op(op, _) => op.precedence(),
            // A negative number prints with a sign, which binds like unary minus.
            Expr::Number(n) if n.is_sign_negative() => Op::Neg.precedence(),
            _ => ATOM,
        }
    }

    /// The expression as CQL2 JSON. Numbers are written as JSON numbers
    /// (shortest round-trip form).
    pub fn to_json(&self) -> Value {
        match self {
            Expr::Null => Value::Null,
            Expr::Bool(b) => Value::Bool(*b),
            Expr::Number(n) => json!(n),
            Expr::String(s) => Value::String(s.clone()),
            Expr::Property(p) => json!({ "property": p }),
            Expr::Date(d) => json!({ "date": d }),
            Expr::Timestamp(t) => json!({ "timestamp": t }),
            Expr::Interval(a, b) => {
                json!({ "interval": [interval_end_json(a), interval_end_json(b)] })
            }
            Expr::Geometry(g) => geometry_json(g),
            Expr::BBox(b) => json!({ "bbox": b }),
            Expr::Array(items) => Value::Array(items.iter().map(Expr::to_json).collect()),
            Expr::Op(op, args) => {
                json!({ "op": op.name(), "args": args.iter().map(Expr::to_json).collect::<Vec<_>>() })
            }
            Expr::Function(name, args) => {
                json!({ "op": name, "args": args.iter().map(Expr::to_json).collect::<Vec<_>>() })
            }
        }
    }
}

fn interval_end_json(e: &Expr) -> Value {
    match e {
        // Inside an interval, instants are bare strings in CQL2 JSON.
        Expr::Date(s) | Expr::Timestamp(s) | Expr::String(s) => Value::String(s.clone()),
        other => other.to_json(),
    }
}

fn coords_json(c: &[Coord]) -> Value {
    Value::Array(c.iter().map(|p| json!(p)).collect())
}

fn rings_json(r: &[Vec<Coord>]) -> Value {
    Value::Array(r.iter().map(|c| coords_json(c)).collect())
}

fn geometry_json(g: &Geometry) -> Value {
    let coordinates = match g {
        Geometry::Point(p) => json!(p),
        Geometry::LineString(c) | Geometry::MultiPoint(c) => coords_json(c),
        Geometry::Polygon(r) | Geometry::MultiLineString(r) => rings_json(r),
        Geometry::MultiPolygon(p) => Value::Array(p.iter().map(|r| rings_json(r)).collect()),
        Geometry::GeometryCollection(members) => {
            return json!({
                "type": "GeometryCollection",
                "geometries": members.iter().map(geometry_json).collect::<Vec<_>>(),
            })
        }
    };
    json!({ "type": g.type_name(), "coordinates": coordinates })
}

/// Writes a number so that it parses back to the same `f64` (ryu's shortest
/// round-trip form, as the GeoJSON output writes numbers).
///
/// # Errors
/// Only those of `out`.
pub fn write_number(out: &mut impl fmt::Write, n: f64) -> fmt::Result {
    if n.is_finite() {
        out.write_str(ryu::Buffer::new().format_finite(n))
    } else {
        // Never produced by the parsers; written so that it fails to parse back.
        out.write_str("NaN")
    }
}

fn write_string(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('\'')?;
    for c in s.chars() {
        match c {
            '\'' => f.write_str("''")?,
            // A backslash before `'` or `\` would be read as an escape: double it.
            // Elsewhere it is kept, so `\%` and `\_` reach LIKE as written.
            '\\' => f.write_str("\\\\")?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('\'')
}

fn write_coords(f: &mut fmt::Formatter<'_>, c: &[Coord]) -> fmt::Result {
    f.write_char('(')?;
    for (i, p) in c.iter().enumerate() {
        if i > 0 {
            f.write_char(',')?;
        }
        write_number(f, p[0])?;
        f.write_char(' ')?;
        write_number(f, p[1])?;
    }
    f.write_char(')')
}

fn write_rings(f: &mut fmt::Formatter<'_>, r: &[Vec<Coord>]) -> fmt::Result {
    f.write_char('(')?;
    for (i, c) in r.iter().enumerate() {
        if i > 0 {
            f.write_char(',')?;
        }
        write_coords(f, c)?;
    }
    f.write_char(')')
}

impl fmt::Display for Geometry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.type_name().to_ascii_uppercase())?;
        match self {
            Geometry::Point(p) => write_coords(f, std::slice::from_ref(p)),
            Geometry::LineString(c) => write_coords(f, c),
            Geometry::MultiPoint(c) => {
                f.write_char('(')?;
                for (i, p) in c.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write_coords(f, std::slice::from_ref(p))?;
                }
                f.write_char(')')
            }
            Geometry::Polygon(r) | Geometry::MultiLineString(r) => write_rings(f, r),
            Geometry::MultiPolygon(p) => {
                f.write_char('(')?;
                for (i, r) in p.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write_rings(f, r)?;
                }
                f.write_char(')')
            }
            Geometry::GeometryCollection(members) => {
                f.write_char('(')?;
                for (i, g) in members.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write!(f, "{g}")?;
                }
                f.write_char(')')
            }
        }
    }
}

/// Writes `e`, in parentheses when it binds more loosely than `min`.
fn operand(f: &mut fmt::Formatter<'_>, e: &Expr, min: u8) -> fmt::Result {
    if e.precedence() < min {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, items: &[Expr]) -> fmt::Result {
    f.write_char('(')?;
    for (i, a) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{a}")?;
    }
    f.write_char(')')
}

fn property_name(f: &mut fmt::Formatter<'_>, p: &str) -> fmt::Result {
    let plain = p.chars().next().is_some_and(super::lexer::is_ident_start)
        && p.chars().all(super::lexer::is_ident_part)
        && !super::lexer::is_reserved(p);
    if plain {
        f.write_str(p)
    } else {
        f.write_char('"')?;
        for c in p.chars() {
            if c == '"' {
                f.write_str("\"\"")?;
            } else {
                f.write_char(c)?;
            }
        }
        f.write_char('"')
    }
}

/// CQL2 text, with parentheses only where precedence needs them.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Null => f.write_str("NULL"),
            Expr::Bool(b) => f.write_str(if *b { "TRUE" } else { "FALSE" }),
            Expr::Number(n) => write_number(f, *n),
            Expr::String(s) => write_string(f, s),
            Expr::Property(p) => property_name(f, p),
            Expr::Date(d) => {
                f.write_str("DATE(")?;
                write_string(f, d)?;
                f.write_char(')')
            }
            Expr::Timestamp(t) => {
                f.write_str("TIMESTAMP(")?;
                write_string(f, t)?;
                f.write_char(')')
            }
            Expr::Interval(a, b) => write!(f, "INTERVAL({a}, {b})"),
            Expr::Geometry(g) => write!(f, "{g}"),
            Expr::BBox(b) => {
                f.write_str("BBOX(")?;
                for (i, v) in b.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write_number(f, *v)?;
                }
                f.write_char(')')
            }
            Expr::Array(items) => write_list(f, items),
            Expr::Function(name, args) => {
                f.write_str(name)?;
                write_list(f, args)
            }
            Expr::Op(op, args) => write_op(f, *op, args),
        }
    }
}

fn write_op(f: &mut fmt::Formatter<'_>, op: Op, args: &[Expr]) -> fmt::Result {
    let p = op.precedence();
    match (op, args) {
        (Op::And | Op::Or, _) => {
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    f.write_str(if op == Op::And { " AND " } else { " OR " })?;
                }
                // AND/OR are associative, but a nested chain printed flat
                // would parse back as one chain: keep its parentheses.
                operand(f, a, p + 1)?;
            }
            Ok(())
        }
        (Op::Not, [a]) => {
            f.write_str("NOT ")?;
            operand(f, a, p)
        }
        (Op::IsNull, [a]) => {
            operand(f, a, p + 1)?;
            f.write_str(" IS NULL")
        }
        (Op::Neg, [a]) => {
            f.write_char('-')?;
            // `--x` and `-(-1)` must not merge into one literal: parenthesise any
            // operand that itself starts with a minus sign.
            if a.precedence() <= p || matches!(a, Expr::Number(_)) {
                write!(f, "({a})")
            } else {
                write!(f, "{a}")
            }
        }
        (Op::Between, [v, lo, hi]) => {
            operand(f, v, p + 1)?;
            f.write_str(" BETWEEN ")?;
            operand(f, lo, p + 1)?;
            f.write_str(" AND ")?;
            operand(f, hi, p + 1)
        }
        (Op::In, [v, list]) => {
            operand(f, v, p + 1)?;
            f.write_str(" IN ")?;
            match list {
                Expr::Array(items) => write_list(f, items),
                other => write_list(f, std::slice::from_ref(other)),
            }
        }
        (Op::Casei | Op::Accenti | Op::Spatial(_), _) => {
            f.write_str(&op.name().to_ascii_uppercase())?;
            write_list(f, args)
        }
        (Op::Pow, [a, b]) => {
            // `^` takes one factor each side (BNF `powerTerm`): parenthesise
            // anything that is not a single factor.
            operand(f, a, p + 1)?;
            f.write_str(" ^ ")?;
            operand(f, b, p + 1)
        }
        (_, [a, b]) => {
            let symbol = match op {
                Op::Like => "LIKE",
                Op::IntDiv => "div",
                other => other.name(),
            };
            // Left-associative (arithmetic) or non-associative (comparisons):
            // the right operand needs parentheses at equal precedence.
            let left_min = if p == 4 { p + 1 } else { p };
            operand(f, a, left_min)?;
            write!(f, " {symbol} ")?;
            operand(f, b, p + 1)
        }
        // Wrong arity cannot come from the parsers; print it as a call so it is visible.
        _ => {
            f.write_str(op.name())?;
            write_list(f, args)
        }
    }
}
