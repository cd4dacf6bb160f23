//! The CQL2 JSON parser. JSON is read by a small parser of our own rather
//! than `serde_json`, for three reasons: numbers are converted from their
//! exact text (correctly rounded, so `510065621723298.44` is the same `f64`
//! as in CQL2 text, which `serde_json`'s default fast path does not
//! guarantee), nesting is limited while reading (not after a tree of
//! unbounded depth exists), and every error carries its byte offset.

use super::ast::{Coord, Expr, Geometry, Op};
use super::error::{Cql2Error, ErrorKind};
use super::text::{check_instant, check_ring};
use super::{GeometryBudget, Limits};

/// A JSON value and the byte offset where it starts.
#[derive(Debug)]
struct JValue<'a> {
    pos: usize,
    kind: J<'a>,
}

#[derive(Debug)]
enum J<'a> {
    Null,
    Bool(bool),
    /// The number's text, validated against the JSON grammar.
    Number(&'a str),
    String(String),
    Array(Vec<JValue<'a>>),
    Object(Vec<(String, JValue<'a>)>),
}

/// Parses CQL2 JSON.
///
/// # Errors
/// A [`Cql2Error`] with the byte offset of the first problem: malformed
/// JSON, JSON that is not a CQL2 expression, or a [`Limits`] exceeded.
pub fn parse(src: &str, limits: &Limits) -> Result<Expr, Cql2Error> {
    if src.len() > limits.max_len {
        return Err(Cql2Error::new(
            limits.max_len,
            ErrorKind::TooLong {
                len: src.len(),
                max: limits.max_len,
            },
        ));
    }
    let mut r = Reader {
        src,
        i: 0,
        depth: 0,
        // Each CQL2 level is an object and its `args` array; geometries add
        // up to four arrays of coordinates.
        max_depth: 2 * limits.max_depth + 6,
    };
    r.ws();
    let v = r.value()?;
    r.ws();
    if r.i < src.len() {
        return Err(Cql2Error::syntax(
            r.i,
            "unexpected text after the JSON value",
        ));
    }
    let mut c = Converter {
        limits,
        budget: GeometryBudget::default(),
    };
    c.expr(&v).map(|(e, _)| e)
}

struct Reader<'a> {
    src: &'a str,
    i: usize,
    depth: usize,
    max_depth: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn err(&self, message: impl Into<String>) -> Cql2Error {
        Cql2Error::syntax(self.i, message)
    }

    fn literal(&mut self, word: &str, kind: J<'a>) -> Result<JValue<'a>, Cql2Error> {
        let pos = self.i;
        if self.src[pos..].starts_with(word) {
            self.i += word.len();
            Ok(JValue { pos, kind })
        } else {
            Err(self.err("expected a JSON value"))
        }
    }

    fn value(&mut self) -> Result<JValue<'a>, Cql2Error> {
        match self.peek() {
            Some(b'{') => self.nested(true),
            Some(b'[') => self.nested(false),
            Some(b'"') => {
                let pos = self.i;
                Ok(JValue {
                    pos,
                    kind: J::String(self.string()?),
                })
            }
            Some(b't') => self.literal("true", J::Bool(true)),
            Some(b'f') => self.literal("false", J::Bool(false)),
            Some(b'n') => self.literal("null", J::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("expected a JSON value")),
            None => Err(self.err("unexpected end of JSON")),
        }
    }

    /// An object (`{`) or array (`[`), with the nesting limit.
    fn nested(&mut self, object: bool) -> Result<JValue<'a>, Cql2Error> {
        let pos = self.i;
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(Cql2Error::new(
                pos,
                ErrorKind::TooDeep {
                    max: self.max_depth,
                },
            ));
        }
        self.i += 1;
        self.ws();
        let close = if object { b'}' } else { b']' };
        let mut members = Vec::new();
        let mut items = Vec::new();
        if self.peek() == Some(close) {
            self.i += 1;
        } else {
            loop {
                self.ws();
                if object {
                    if self.peek() != Some(b'"') {
                        return Err(self.err("expected a quoted member name"));
                    }
                    let key_pos = self.i;
                    let key = self.string()?;
                    if members.iter().any(|(k, _)| *k == key) {
                        return Err(Cql2Error::syntax(
                            key_pos,
                            format!("member \"{key}\" is given twice"),
                        ));
                    }
                    self.ws();
                    if self.peek() != Some(b':') {
                        return Err(self.err("expected ':'"));
                    }
                    self.i += 1;
                    self.ws();
                    members.push((key, self.value()?));
                } else {
                    items.push(self.value()?);
                }
                self.ws();
                match self.peek() {
                    Some(b',') => self.i += 1,
                    Some(c) if c == close => {
                        self.i += 1;
                        break;
                    }
                    _ => {
                        return Err(self.err(if object {
                            "expected ',' or '}'"
                        } else {
                            "expected ',' or ']'"
                        }))
                    }
                }
            }
        }
        self.depth -= 1;
        Ok(JValue {
            pos,
            kind: if object {
                J::Object(members)
            } else {
                J::Array(items)
            },
        })
    }

    fn hex4(&mut self) -> Result<u32, Cql2Error> {
        let h = self
            .src
            .get(self.i..self.i + 4)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.err("expected four hexadecimal digits after \\u"))?;
        self.i += 4;
        u32::from_str_radix(h, 16).map_err(|_| self.err("bad \\u escape"))
    }

    fn string(&mut self) -> Result<String, Cql2Error> {
        let start = self.i;
        self.i += 1;
        let mut out = String::new();
        loop {
            let rest = &self.src[self.i..];
            let Some(c) = rest.chars().next() else {
                return Err(Cql2Error::syntax(start, "unterminated string"));
            };
            match c {
                '"' => {
                    self.i += 1;
                    return Ok(out);
                }
                '\\' => {
                    let esc = self.i;
                    self.i += 1;
                    let e = self.peek().ok_or_else(|| self.err("unterminated escape"))?;
                    self.i += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if !self.src[self.i..].starts_with("\\u") {
                                    return Err(Cql2Error::syntax(
                                        esc,
                                        "unpaired surrogate in \\u escape",
                                    ));
                                }
                                self.i += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(Cql2Error::syntax(
                                        esc,
                                        "unpaired surrogate in \\u escape",
                                    ));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            out.push(char::from_u32(code).ok_or_else(|| {
                                Cql2Error::syntax(esc, "unpaired surrogate in \\u escape")
                            })?);
                        }
                        _ => return Err(Cql2Error::syntax(esc, "unknown escape")),
                    }
                }
                c if u32::from(c) < 0x20 => {
                    return Err(self.err("control character in a string (escape it)"));
                }
                c => {
                    out.push(c);
                    self.i += c.len_utf8();
                }
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Result<JValue<'a>, Cql2Error> {
        let pos = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let int_start = self.i;
        let n = self.digits();
        if n == 0 || (n > 1 && self.src.as_bytes().get(int_start) == Some(&b'0')) {
            return Err(Cql2Error::syntax(pos, "malformed number"));
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(Cql2Error::syntax(pos, "malformed number"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(Cql2Error::syntax(pos, "malformed number"));
            }
        }
        Ok(JValue {
            pos,
            kind: J::Number(&self.src[pos..self.i]),
        })
    }
}

type Parsed = (Expr, usize);

struct Converter<'l> {
    limits: &'l Limits,
    budget: GeometryBudget,
}

fn member<'v, 'a>(members: &'v [(String, JValue<'a>)], key: &str) -> Option<&'v JValue<'a>> {
    members.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

fn number(v: &JValue<'_>) -> Result<f64, Cql2Error> {
    match v.kind {
        J::Number(text) => {
            let x: f64 = text
                .parse()
                .map_err(|_| Cql2Error::syntax(v.pos, "malformed number"))?;
            if x.is_finite() {
                Ok(x)
            } else {
                Err(Cql2Error::new(
                    v.pos,
                    ErrorKind::NumberOutOfRange(text.to_owned()),
                ))
            }
        }
        _ => Err(Cql2Error::syntax(v.pos, "expected a number")),
    }
}

fn array<'v, 'a>(v: &'v JValue<'a>, what: &str) -> Result<&'v [JValue<'a>], Cql2Error> {
    match &v.kind {
        J::Array(items) => Ok(items),
        _ => Err(Cql2Error::syntax(v.pos, format!("expected {what}"))),
    }
}

fn string<'v>(v: &'v JValue<'_>, what: &str) -> Result<&'v str, Cql2Error> {
    match &v.kind {
        J::String(s) => Ok(s),
        _ => Err(Cql2Error::syntax(v.pos, format!("expected {what}"))),
    }
}

impl Converter<'_> {
    fn too_deep(&self, pos: usize) -> Cql2Error {
        Cql2Error::new(
            pos,
            ErrorKind::TooDeep {
                max: self.limits.max_depth,
            },
        )
    }

    fn expr(&mut self, v: &JValue<'_>) -> Result<Parsed, Cql2Error> {
        match &v.kind {
            J::Null => Ok((Expr::Null, 1)),
            J::Bool(b) => Ok((Expr::Bool(*b), 1)),
            J::Number(_) => Ok((Expr::Number(number(v)?), 1)),
            J::String(s) => Ok((Expr::String(s.clone()), 1)),
            J::Array(items) => {
                let (items, h) = self.exprs(items, v.pos)?;
                Ok((Expr::Array(items), h))
            }
            J::Object(members) => self.object(members, v.pos),
        }
    }

    fn exprs(&mut self, items: &[JValue<'_>], pos: usize) -> Result<(Vec<Expr>, usize), Cql2Error> {
        let mut out = Vec::with_capacity(items.len());
        let mut h = 0;
        for item in items {
            let (e, eh) = self.expr(item)?;
            h = h.max(eh);
            out.push(e);
        }
        if h + 1 > self.limits.max_depth {
            return Err(self.too_deep(pos));
        }
        Ok((out, h + 1))
    }

    fn object(
        &mut self,
        members: &[(String, JValue<'_>)],
        pos: usize,
    ) -> Result<Parsed, Cql2Error> {
        if let Some(op) = member(members, "op") {
            let name = string(op, "an operator name")?;
            let args = member(members, "args").ok_or_else(|| {
                Cql2Error::syntax(pos, format!("operator \"{name}\" has no \"args\""))
            })?;
            let items = array(args, "an array of arguments")?;
            let (args_e, h) = self.exprs(items, args.pos)?;
            let op = match Op::from_json_name(name) {
                // `{"op":"-","args":[x]}`: unary minus (this crate writes it so).
                Some(Op::Sub) if args_e.len() == 1 => Op::Neg,
                Some(op) => op,
                None => return Ok((Expr::Function(name.to_owned(), args_e), h)),
            };
            let (lo, hi) = op.arity();
            if args_e.len() < lo || args_e.len() > hi {
                let want = if lo == hi {
                    lo.to_string()
                } else {
                    format!("at least {lo}")
                };
                return Err(Cql2Error::syntax(
                    args.pos,
                    format!("\"{name}\" takes {want} arguments, got {}", args_e.len()),
                ));
            }
            if op == Op::In && !matches!(args_e.get(1), Some(Expr::Array(_))) {
                return Err(Cql2Error::syntax(
                    args.pos,
                    "the second argument of \"in\" must be an array",
                ));
            }
            return Ok((Expr::Op(op, args_e), h));
        }
        if let Some(p) = member(members, "property") {
            return Ok((Expr::Property(string(p, "a property name")?.to_owned()), 1));
        }
        if let Some(t) = member(members, "type") {
            self.count_geometry(pos)?;
            let g = self.geometry(members, t, pos, true)?;
            return Ok((Expr::Geometry(g), 1));
        }
        if let Some(b) = member(members, "bbox") {
            self.count_geometry(pos)?;
            let nums = array(b, "an array of 4 or 6 numbers")?
                .iter()
                .map(number)
                .collect::<Result<Vec<_>, _>>()?;
            self.count_total(4, b.pos)?;
            return match nums.as_slice() {
                [w, s, e, n] | [w, s, _, e, n, _] => Ok((Expr::BBox([*w, *s, *e, *n]), 1)),
                _ => Err(Cql2Error::syntax(
                    b.pos,
                    format!("a bbox has 4 or 6 numbers, got {}", nums.len()),
                )),
            };
        }
        if let Some(d) = member(members, "date") {
            let s = string(d, "a date")?;
            check_instant(s, true, d.pos)?;
            return Ok((Expr::Date(s.to_owned()), 1));
        }
        if let Some(t) = member(members, "timestamp") {
            let s = string(t, "a timestamp")?;
            check_instant(s, false, t.pos)?;
            return Ok((Expr::Timestamp(s.to_owned()), 1));
        }
        if let Some(i) = member(members, "interval") {
            let ends = array(i, "an array of two interval ends")?;
            let [a, b] = ends else {
                return Err(Cql2Error::syntax(i.pos, "an interval has two ends"));
            };
            let (a, ha) = self.interval_end(a)?;
            let (b, hb) = self.interval_end(b)?;
            return Ok((Expr::Interval(Box::new(a), Box::new(b)), 1 + ha.max(hb)));
        }
        Err(Cql2Error::syntax(
            pos,
            "expected an object with \"op\", \"property\", \"type\" (a GeoJSON geometry), \"bbox\", \"date\", \"timestamp\" or \"interval\"",
        ))
    }

    fn interval_end(&mut self, v: &JValue<'_>) -> Result<Parsed, Cql2Error> {
        if let J::String(s) = &v.kind {
            if s != ".." {
                check_instant(s, !s.contains('T'), v.pos)?;
            }
            return Ok((Expr::String(s.clone()), 1));
        }
        let (e, h) = self.expr(v)?;
        match e {
            Expr::Property(_) | Expr::Function(..) => Ok((e, h)),
            _ => Err(Cql2Error::syntax(
                v.pos,
                "an interval end is a date, a timestamp, \"..\", a property or a function",
            )),
        }
    }

    fn count_geometry(&mut self, pos: usize) -> Result<(), Cql2Error> {
        self.budget.geometry(self.limits, pos)
    }

    fn count_total(&mut self, n: usize, pos: usize) -> Result<(), Cql2Error> {
        self.budget.vertices(self.limits, n, pos)
    }

    fn geometry(
        &mut self,
        members: &[(String, JValue<'_>)],
        t: &JValue<'_>,
        pos: usize,
        allow_collection: bool,
    ) -> Result<Geometry, Cql2Error> {
        let kind = string(t, "a GeoJSON geometry type")?;
        if kind == "GeometryCollection" {
            if !allow_collection {
                return Err(Cql2Error::syntax(
                    pos,
                    "a GeometryCollection cannot be a member of another",
                ));
            }
            let list = member(members, "geometries").ok_or_else(|| {
                Cql2Error::syntax(pos, "a GeometryCollection needs \"geometries\"")
            })?;
            let mut out = Vec::new();
            for g in array(list, "an array of geometries")? {
                let J::Object(m) = &g.kind else {
                    return Err(Cql2Error::syntax(g.pos, "expected a GeoJSON geometry"));
                };
                let gt = member(m, "type")
                    .ok_or_else(|| Cql2Error::syntax(g.pos, "expected a GeoJSON geometry"))?;
                out.push(self.geometry(m, gt, g.pos, false)?);
            }
            if out.is_empty() {
                return Err(Cql2Error::syntax(pos, "empty geometries are not supported"));
            }
            return Ok(Geometry::GeometryCollection(out));
        }
        let c = member(members, "coordinates")
            .ok_or_else(|| Cql2Error::syntax(pos, "a GeoJSON geometry needs \"coordinates\""))?;
        let mut count = 0usize;
        let g = match kind {
            "Point" => Geometry::Point(self.position(c, &mut count, pos)?),
            "LineString" => Geometry::LineString(self.line(c, &mut count, pos)?),
            "MultiPoint" => Geometry::MultiPoint(self.positions(c, &mut count, pos)?),
            "Polygon" => Geometry::Polygon(self.polygon(c, &mut count, pos)?),
            "MultiLineString" => Geometry::MultiLineString(
                array(c, "an array of line strings")?
                    .iter()
                    .map(|l| self.line(l, &mut count, pos))
                    .collect::<Result<_, _>>()?,
            ),
            "MultiPolygon" => Geometry::MultiPolygon(
                array(c, "an array of polygons")?
                    .iter()
                    .map(|p| self.polygon(p, &mut count, pos))
                    .collect::<Result<_, _>>()?,
            ),
            other => {
                return Err(Cql2Error::syntax(
                    t.pos,
                    format!("unknown geometry type \"{other}\""),
                ))
            }
        };
        if g.vertex_count() == 0 {
            return Err(Cql2Error::syntax(pos, "empty geometries are not supported"));
        }
        Ok(g)
    }

    fn position(
        &mut self,
        v: &JValue<'_>,
        count: &mut usize,
        start: usize,
    ) -> Result<Coord, Cql2Error> {
        let nums = array(v, "a position [x, y]")?;
        let c = match nums {
            // An elevation is accepted and dropped.
            [x, y] | [x, y, _] => [number(x)?, number(y)?],
            _ => return Err(Cql2Error::syntax(v.pos, "a position has 2 or 3 numbers")),
        };
        if let [_, _, z] = nums {
            number(z)?;
        }
        *count += 1;
        if *count > self.limits.max_vertices {
            return Err(Cql2Error::new(
                start,
                ErrorKind::TooManyVertices {
                    max: self.limits.max_vertices,
                },
            ));
        }
        self.count_total(1, v.pos)?;
        Ok(c)
    }

    fn positions(
        &mut self,
        v: &JValue<'_>,
        count: &mut usize,
        start: usize,
    ) -> Result<Vec<Coord>, Cql2Error> {
        array(v, "an array of positions")?
            .iter()
            .map(|p| self.position(p, count, start))
            .collect()
    }

    fn line(
        &mut self,
        v: &JValue<'_>,
        count: &mut usize,
        start: usize,
    ) -> Result<Vec<Coord>, Cql2Error> {
        let c = self.positions(v, count, start)?;
        if c.len() < 2 {
            return Err(Cql2Error::syntax(
                v.pos,
                "a line string needs at least 2 positions",
            ));
        }
        Ok(c)
    }

    fn polygon(
        &mut self,
        v: &JValue<'_>,
        count: &mut usize,
        start: usize,
    ) -> Result<Vec<Vec<Coord>>, Cql2Error> {
        array(v, "an array of rings")?
            .iter()
            .map(|r| {
                let ring = self.positions(r, count, start)?;
                check_ring(&ring, r.pos)?;
                Ok(ring)
            })
            .collect()
    }
}
