//! The CQL2 text parser: recursive descent over the tokens, one token of
//! look-ahead (two to tell `NOT LIKE` from `NOT x`), never backtracking, so
//! the work is linear in the input. Every construct that recurses (brackets,
//! `NOT`, unary minus, `^`, function arguments, WKT brackets) passes through
//! [`Parser::enter`], which stops at [`Limits::max_depth`]; every node built
//! checks the height of the tree it makes, which bounds left-leaning chains
//! such as `1+1+1+…` that need no recursion to parse but would need it to
//! evaluate.
//!
//! Precedence, loosest first, as in the BNF (`booleanExpression` …
//! `arithmeticFactor`): `OR`, `AND`, `NOT`, predicates (comparison, `LIKE`,
//! `BETWEEN`, `IN`, `IS NULL`; not associative), `+ -`, `* / % div`, `^`
//! (right-associative), unary minus.

use super::ast::{Coord, Expr, Geometry, Op, SpatialOp};
use super::error::{Cql2Error, ErrorKind};
use super::lexer::{is_reserved, tokenize, Tok, Token};
use super::{GeometryBudget, Limits};

/// An expression and the height of its tree (a leaf is 1).
type Parsed = (Expr, usize);

/// Parses CQL2 text.
///
/// # Errors
/// A [`Cql2Error`] with the byte offset of the first problem, including any
/// of the [`Limits`] being exceeded.
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
    let toks = tokenize(src)?;
    let mut p = Parser {
        toks,
        i: 0,
        depth: 0,
        limits,
        budget: GeometryBudget::default(),
    };
    let (e, _) = p.expr()?;
    match p.tok() {
        Tok::Eof => Ok(e),
        Tok::RParen => Err(p.error("')' without a matching '('")),
        other => Err(p.error(format!("unexpected {}", describe(other)))),
    }
}

fn describe(t: &Tok<'_>) -> String {
    match t {
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::Comma => "','".into(),
        Tok::Eq => "'='".into(),
        Tok::Ne => "'<>'".into(),
        Tok::Lt => "'<'".into(),
        Tok::Le => "'<='".into(),
        Tok::Gt => "'>'".into(),
        Tok::Ge => "'>='".into(),
        Tok::Plus => "'+'".into(),
        Tok::Minus => "'-'".into(),
        Tok::Star => "'*'".into(),
        Tok::Slash => "'/'".into(),
        Tok::Percent => "'%'".into(),
        Tok::Caret => "'^'".into(),
        Tok::Number(_) => "a number".into(),
        Tok::Str(_) => "a character literal".into(),
        Tok::Ident(s) => format!("'{s}'"),
        Tok::Quoted(s) => format!("\"{s}\""),
        Tok::Eof => "end of filter".into(),
    }
}

struct Parser<'a, 'l> {
    toks: Vec<Token<'a>>,
    i: usize,
    depth: usize,
    limits: &'l Limits,
    budget: GeometryBudget,
}

const GEOMETRY_TAGS: [&str; 7] = [
    "POINT",
    "LINESTRING",
    "POLYGON",
    "MULTIPOINT",
    "MULTILINESTRING",
    "MULTIPOLYGON",
    "GEOMETRYCOLLECTION",
];

impl<'a> Parser<'a, '_> {
    fn tok(&self) -> &Tok<'a> {
        self.toks.get(self.i).map_or(&Tok::Eof, |t| &t.tok)
    }

    fn tok_at(&self, k: usize) -> &Tok<'a> {
        self.toks.get(self.i + k).map_or(&Tok::Eof, |t| &t.tok)
    }

    fn pos(&self) -> usize {
        self.toks.get(self.i).map_or(0, |t| t.pos)
    }

    fn bump(&mut self) {
        if self.i + 1 < self.toks.len() {
            self.i += 1;
        }
    }

    fn error(&self, message: impl Into<String>) -> Cql2Error {
        Cql2Error::syntax(self.pos(), message)
    }

    fn is_kw_at(&self, k: usize, kw: &str) -> bool {
        matches!(self.tok_at(k), Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }

    fn is_kw(&self, kw: &str) -> bool {
        self.is_kw_at(0, kw)
    }

    fn expect(&mut self, want: &Tok<'_>, what: &str) -> Result<(), Cql2Error> {
        if self.tok() == want {
            self.bump();
            Ok(())
        } else {
            Err(self.error(format!("expected {what}, found {}", describe(self.tok()))))
        }
    }

    /// Enters one level of nesting at the current token.
    fn enter(&mut self) -> Result<(), Cql2Error> {
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            Err(Cql2Error::new(
                self.pos(),
                ErrorKind::TooDeep {
                    max: self.limits.max_depth,
                },
            ))
        } else {
            Ok(())
        }
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Builds an operator node, refusing trees taller than the depth limit.
    fn node(&self, op: Op, args: Vec<Parsed>, pos: usize) -> Result<Parsed, Cql2Error> {
        let h = self.height(&args, pos)?;
        Ok((Expr::Op(op, args.into_iter().map(|a| a.0).collect()), h))
    }

    /// The height of a node over `children`, within the depth limit.
    fn height(&self, children: &[Parsed], pos: usize) -> Result<usize, Cql2Error> {
        let h = 1 + children.iter().map(|a| a.1).max().unwrap_or(0);
        if h > self.limits.max_depth {
            return Err(Cql2Error::new(
                pos,
                ErrorKind::TooDeep {
                    max: self.limits.max_depth,
                },
            ));
        }
        Ok(h)
    }

    fn expr(&mut self) -> Result<Parsed, Cql2Error> {
        self.chain("OR", Op::Or, Self::and)
    }

    fn and(&mut self) -> Result<Parsed, Cql2Error> {
        self.chain("AND", Op::And, Self::not)
    }

    /// `x KW y KW z` as one n-ary node.
    fn chain(
        &mut self,
        kw: &str,
        op: Op,
        next: fn(&mut Self) -> Result<Parsed, Cql2Error>,
    ) -> Result<Parsed, Cql2Error> {
        let pos = self.pos();
        let first = next(self)?;
        if !self.is_kw(kw) {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.is_kw(kw) {
            self.bump();
            items.push(next(self)?);
        }
        self.node(op, items, pos)
    }

    fn not(&mut self) -> Result<Parsed, Cql2Error> {
        if self.is_kw("NOT") {
            let pos = self.pos();
            self.enter()?;
            self.bump();
            let inner = self.not()?;
            self.leave();
            self.node(Op::Not, vec![inner], pos)
        } else {
            self.predicate()
        }
    }

    fn predicate(&mut self) -> Result<Parsed, Cql2Error> {
        let pos = self.pos();
        let left = self.additive()?;
        let cmp = match self.tok() {
            Tok::Eq => Some(Op::Eq),
            Tok::Ne => Some(Op::Ne),
            Tok::Lt => Some(Op::Lt),
            Tok::Le => Some(Op::Le),
            Tok::Gt => Some(Op::Gt),
            Tok::Ge => Some(Op::Ge),
            _ => None,
        };
        if let Some(op) = cmp {
            self.bump();
            let right = self.additive()?;
            return self.node(op, vec![left, right], pos);
        }
        if self.is_kw("IS") {
            self.bump();
            let negated = self.is_kw("NOT");
            if negated {
                self.bump();
            }
            if !self.is_kw("NULL") {
                return Err(self.error(format!(
                    "expected NULL after IS{}, found {}",
                    if negated { " NOT" } else { "" },
                    describe(self.tok())
                )));
            }
            self.bump();
            let test = self.node(Op::IsNull, vec![left], pos)?;
            return if negated {
                self.node(Op::Not, vec![test], pos)
            } else {
                Ok(test)
            };
        }
        let negated = self.is_kw("NOT")
            && (self.is_kw_at(1, "LIKE") || self.is_kw_at(1, "BETWEEN") || self.is_kw_at(1, "IN"));
        if negated {
            self.bump();
        }
        let test = if self.is_kw("LIKE") {
            self.bump();
            let pattern = self.additive()?;
            self.node(Op::Like, vec![left, pattern], pos)?
        } else if self.is_kw("BETWEEN") {
            self.bump();
            let lo = self.additive()?;
            if !self.is_kw("AND") {
                return Err(self.error(format!(
                    "expected AND between the bounds of BETWEEN, found {}",
                    describe(self.tok())
                )));
            }
            self.bump();
            let hi = self.additive()?;
            self.node(Op::Between, vec![left, lo, hi], pos)?
        } else if self.is_kw("IN") {
            self.bump();
            if *self.tok() != Tok::LParen {
                return Err(self.error(format!(
                    "expected '(' and a list after IN, found {}",
                    describe(self.tok())
                )));
            }
            let list = self.list()?;
            self.node(Op::In, vec![left, list], pos)?
        } else {
            return Ok(left);
        };
        if negated {
            self.node(Op::Not, vec![test], pos)
        } else {
            Ok(test)
        }
    }

    /// `( item, item, … )` as an [`Expr::Array`]; the current token is `(`.
    fn list(&mut self) -> Result<Parsed, Cql2Error> {
        let pos = self.pos();
        self.enter()?;
        self.bump();
        let mut items = Vec::new();
        if *self.tok() != Tok::RParen {
            loop {
                items.push(self.additive()?);
                if *self.tok() == Tok::Comma {
                    self.bump();
                } else {
                    break;
                }
            }
        }
        self.expect(&Tok::RParen, "',' or ')' in the list")?;
        self.leave();
        self.array(items, pos)
    }

    fn array(&self, items: Vec<Parsed>, pos: usize) -> Result<Parsed, Cql2Error> {
        let h = self.height(&items, pos)?;
        Ok((Expr::Array(items.into_iter().map(|a| a.0).collect()), h))
    }

    fn additive(&mut self) -> Result<Parsed, Cql2Error> {
        let pos = self.pos();
        let mut left = self.multiplicative()?;
        loop {
            let op = match self.tok() {
                Tok::Plus => Op::Add,
                Tok::Minus => Op::Sub,
                _ => return Ok(left),
            };
            self.bump();
            let right = self.multiplicative()?;
            left = self.node(op, vec![left, right], pos)?;
        }
    }

    fn multiplicative(&mut self) -> Result<Parsed, Cql2Error> {
        let pos = self.pos();
        let mut left = self.power()?;
        loop {
            let op = match self.tok() {
                Tok::Star => Op::Mul,
                Tok::Slash => Op::Div,
                Tok::Percent => Op::Mod,
                _ if self.is_kw("DIV") => Op::IntDiv,
                _ => return Ok(left),
            };
            self.bump();
            let right = self.power()?;
            left = self.node(op, vec![left, right], pos)?;
        }
    }

    fn power(&mut self) -> Result<Parsed, Cql2Error> {
        let pos = self.pos();
        let base = self.unary()?;
        if *self.tok() != Tok::Caret {
            return Ok(base);
        }
        self.enter()?;
        self.bump();
        let exponent = self.power()?;
        self.leave();
        self.node(Op::Pow, vec![base, exponent], pos)
    }

    fn unary(&mut self) -> Result<Parsed, Cql2Error> {
        match (self.tok(), self.tok_at(1)) {
            // A sign directly before a number is part of the literal.
            (Tok::Minus, Tok::Number(n)) => {
                let n = -*n;
                self.bump();
                self.bump();
                Ok((Expr::Number(n), 1))
            }
            (Tok::Plus, Tok::Number(n)) => {
                let n = *n;
                self.bump();
                self.bump();
                Ok((Expr::Number(n), 1))
            }
            (Tok::Minus, _) => {
                let pos = self.pos();
                self.enter()?;
                self.bump();
                let inner = self.unary()?;
                self.leave();
                self.node(Op::Neg, vec![inner], pos)
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<Parsed, Cql2Error> {
        let pos = self.pos();
        let next_is_paren = *self.tok_at(1) == Tok::LParen;
        match self.tok().clone() {
            Tok::Number(n) => {
                self.bump();
                Ok((Expr::Number(n), 1))
            }
            Tok::Str(s) => {
                self.bump();
                Ok((Expr::String(s), 1))
            }
            Tok::Quoted(name) => {
                self.bump();
                Ok((Expr::Property(name), 1))
            }
            Tok::LParen => {
                self.enter()?;
                self.bump();
                let first = self.expr()?;
                let out = if *self.tok() == Tok::Comma {
                    let mut items = vec![first];
                    while *self.tok() == Tok::Comma {
                        self.bump();
                        items.push(self.expr()?);
                    }
                    self.expect(&Tok::RParen, "',' or ')'")?;
                    self.array(items, pos)?
                } else {
                    if *self.tok() != Tok::RParen {
                        return Err(self.error(format!(
                            "expected ')' to close the '(' at byte {pos}, found {}",
                            describe(self.tok())
                        )));
                    }
                    self.bump();
                    first
                };
                self.leave();
                Ok(out)
            }
            Tok::Ident(word) => self.word(word, pos, next_is_paren),
            other => Err(self.error(format!("expected a value, found {}", describe(&other)))),
        }
    }

    /// An unquoted word: a literal keyword, a geometry, a temporal literal, a
    /// function call or a property name.
    fn word(&mut self, word: &'a str, pos: usize, call: bool) -> Result<Parsed, Cql2Error> {
        let upper = word.to_ascii_uppercase();
        match upper.as_str() {
            "TRUE" | "FALSE" => {
                self.bump();
                return Ok((Expr::Bool(upper == "TRUE"), 1));
            }
            "NULL" => {
                self.bump();
                return Ok((Expr::Null, 1));
            }
            _ => {}
        }
        let tagged = call || self.is_kw_at(1, "Z") || self.is_kw_at(1, "EMPTY");
        if tagged && GEOMETRY_TAGS.contains(&upper.as_str()) {
            self.count_geometry(pos)?;
            let g = self.geometry(true)?;
            return Ok((Expr::Geometry(g), 1));
        }
        if !call {
            if is_reserved(word) {
                return Err(self.error(format!("expected a value, found the keyword {upper}")));
            }
            self.bump();
            return Ok((Expr::Property(word.to_owned()), 1));
        }
        match upper.as_str() {
            "BBOX" => {
                self.count_geometry(pos)?;
                self.bbox().map(|b| (Expr::BBox(b), 1))
            }
            "DATE" | "TIMESTAMP" => {
                self.bump();
                self.enter()?;
                self.bump();
                let text_pos = self.pos();
                let Tok::Str(s) = self.tok().clone() else {
                    return Err(self.error(format!("expected a quoted {upper} after {upper}(")));
                };
                check_instant(&s, upper == "DATE", text_pos)?;
                self.bump();
                self.expect(&Tok::RParen, "')'")?;
                self.leave();
                Ok((
                    if upper == "DATE" {
                        Expr::Date(s)
                    } else {
                        Expr::Timestamp(s)
                    },
                    1,
                ))
            }
            "INTERVAL" => {
                self.bump();
                self.enter()?;
                self.bump();
                let a = self.interval_end()?;
                self.expect(&Tok::Comma, "',' between the ends of INTERVAL")?;
                let b = self.interval_end()?;
                self.expect(&Tok::RParen, "')'")?;
                self.leave();
                let h = 1 + a.1.max(b.1);
                Ok((Expr::Interval(Box::new(a.0), Box::new(b.0)), h))
            }
            _ if is_reserved(word) => {
                Err(self.error(format!("expected a value, found the keyword {upper}")))
            }
            _ => self.call(word, pos),
        }
    }

    fn interval_end(&mut self) -> Result<Parsed, Cql2Error> {
        let pos = self.pos();
        let (e, h) = self.additive()?;
        match &e {
            Expr::String(s) => {
                if s != ".." {
                    check_instant(s, !s.contains('T'), pos)?;
                }
                Ok((e, h))
            }
            Expr::Property(_) | Expr::Function(..) | Expr::Date(_) | Expr::Timestamp(_) => {
                Ok((e, h))
            }
            _ => Err(Cql2Error::syntax(
                pos,
                "an INTERVAL end is a date, a timestamp, '..', a property or a function",
            )),
        }
    }

    /// `name(args)`; the current token is the name.
    fn call(&mut self, name: &str, pos: usize) -> Result<Parsed, Cql2Error> {
        self.bump();
        self.enter()?;
        self.bump();
        let mut args = Vec::new();
        if *self.tok() != Tok::RParen {
            loop {
                args.push(self.expr()?);
                if *self.tok() == Tok::Comma {
                    self.bump();
                } else {
                    break;
                }
            }
        }
        self.expect(&Tok::RParen, "',' or ')' in the arguments")?;
        self.leave();
        let op = if name.eq_ignore_ascii_case("CASEI") {
            Some(Op::Casei)
        } else if name.eq_ignore_ascii_case("ACCENTI") {
            Some(Op::Accenti)
        } else {
            SpatialOp::from_name(name).map(Op::Spatial)
        };
        if let Some(op) = op {
            let (n, _) = op.arity();
            if args.len() != n {
                return Err(Cql2Error::syntax(
                    pos,
                    format!(
                        "{} takes {n} argument{}, got {}",
                        name.to_ascii_uppercase(),
                        if n == 1 { "" } else { "s" },
                        args.len()
                    ),
                ));
            }
            return self.node(op, args, pos);
        }
        let h = self.height(&args, pos)?;
        Ok((
            Expr::Function(name.to_owned(), args.into_iter().map(|a| a.0).collect()),
            h,
        ))
    }

    fn signed_number(&mut self) -> Result<f64, Cql2Error> {
        let sign = match self.tok() {
            Tok::Minus => {
                self.bump();
                -1.0
            }
            Tok::Plus => {
                self.bump();
                1.0
            }
            _ => 1.0,
        };
        match self.tok() {
            Tok::Number(n) => {
                let n = sign * *n;
                self.bump();
                Ok(n)
            }
            other => Err(self.error(format!("expected a number, found {}", describe(other)))),
        }
    }

    fn bbox(&mut self) -> Result<[f64; 4], Cql2Error> {
        let pos = self.pos();
        self.bump();
        self.enter()?;
        self.bump();
        let mut v = vec![self.signed_number()?];
        while *self.tok() == Tok::Comma && v.len() < 6 {
            self.bump();
            v.push(self.signed_number()?);
        }
        self.expect(&Tok::RParen, "')' after the numbers of BBOX")?;
        self.leave();
        self.count_vertices(4, pos)?;
        match v.as_slice() {
            [w, s, e, n] | [w, s, _, e, n, _] => Ok([*w, *s, *e, *n]),
            _ => Err(Cql2Error::syntax(
                pos,
                format!("BBOX takes 4 or 6 numbers, got {}", v.len()),
            )),
        }
    }

    fn count_geometry(&mut self, pos: usize) -> Result<(), Cql2Error> {
        self.budget.geometry(self.limits, pos)
    }

    fn count_vertices(&mut self, n: usize, pos: usize) -> Result<(), Cql2Error> {
        self.budget.vertices(self.limits, n, pos)
    }

    /// A WKT geometry; the current token is its tag.
    fn geometry(&mut self, allow_collection: bool) -> Result<Geometry, Cql2Error> {
        let pos = self.pos();
        let Tok::Ident(tag) = self.tok().clone() else {
            return Err(self.error("expected a geometry"));
        };
        let tag = tag.to_ascii_uppercase();
        if !GEOMETRY_TAGS.contains(&tag.as_str()) {
            return Err(self.error(format!("expected a geometry, found '{tag}'")));
        }
        self.bump();
        if self.is_kw("Z") {
            self.bump();
        }
        if self.is_kw("EMPTY") {
            return Err(self.error("empty geometries are not supported"));
        }
        let mut w = Wkt {
            count: 0,
            start: pos,
        };
        let g = match tag.as_str() {
            "POINT" => {
                self.open()?;
                let c = self.coord(&mut w)?;
                self.close()?;
                Geometry::Point(c)
            }
            "LINESTRING" => Geometry::LineString(self.line(&mut w)?),
            "POLYGON" => Geometry::Polygon(self.polygon(&mut w)?),
            "MULTIPOINT" => {
                self.open()?;
                let mut pts = Vec::new();
                loop {
                    // Both `MULTIPOINT((1 2),(3 4))` (the BNF) and `MULTIPOINT(1 2,3 4)`.
                    if *self.tok() == Tok::LParen {
                        self.open()?;
                        pts.push(self.coord(&mut w)?);
                        self.close()?;
                    } else {
                        pts.push(self.coord(&mut w)?);
                    }
                    if !self.comma()? {
                        break;
                    }
                }
                Geometry::MultiPoint(pts)
            }
            "MULTILINESTRING" => {
                self.open()?;
                let mut lines = vec![self.line(&mut w)?];
                while self.comma()? {
                    lines.push(self.line(&mut w)?);
                }
                Geometry::MultiLineString(lines)
            }
            "MULTIPOLYGON" => {
                self.open()?;
                let mut polys = vec![self.polygon(&mut w)?];
                while self.comma()? {
                    polys.push(self.polygon(&mut w)?);
                }
                Geometry::MultiPolygon(polys)
            }
            _ => {
                if !allow_collection {
                    return Err(Cql2Error::syntax(
                        pos,
                        "a GEOMETRYCOLLECTION cannot be a member of another",
                    ));
                }
                self.open()?;
                let mut members = vec![self.geometry(false)?];
                while self.comma()? {
                    members.push(self.geometry(false)?);
                }
                Geometry::GeometryCollection(members)
            }
        };
        Ok(g)
    }

    fn open(&mut self) -> Result<(), Cql2Error> {
        if *self.tok() != Tok::LParen {
            return Err(self.error(format!("expected '(', found {}", describe(self.tok()))));
        }
        self.enter()?;
        self.bump();
        Ok(())
    }

    fn close(&mut self) -> Result<(), Cql2Error> {
        self.expect(&Tok::RParen, "')'")?;
        self.leave();
        Ok(())
    }

    /// After an item of a list: `,` (true) or `)` (false, and the list is closed).
    fn comma(&mut self) -> Result<bool, Cql2Error> {
        match self.tok() {
            Tok::Comma => {
                self.bump();
                Ok(true)
            }
            Tok::RParen => {
                self.close()?;
                Ok(false)
            }
            other => Err(self.error(format!("expected ',' or ')', found {}", describe(other)))),
        }
    }

    fn coord(&mut self, w: &mut Wkt) -> Result<Coord, Cql2Error> {
        let pos = self.pos();
        let x = self.signed_number()?;
        let y = self.signed_number()?;
        // An elevation (`POINT Z`, or three numbers) is accepted and dropped.
        if matches!(self.tok(), Tok::Number(_) | Tok::Minus | Tok::Plus) {
            self.signed_number()?;
        }
        w.count += 1;
        if w.count > self.limits.max_vertices {
            return Err(Cql2Error::new(
                w.start,
                ErrorKind::TooManyVertices {
                    max: self.limits.max_vertices,
                },
            ));
        }
        self.count_vertices(1, pos)?;
        Ok([x, y])
    }

    fn line(&mut self, w: &mut Wkt) -> Result<Vec<Coord>, Cql2Error> {
        let pos = self.pos();
        self.open()?;
        let mut c = vec![self.coord(w)?];
        while self.comma()? {
            c.push(self.coord(w)?);
        }
        if c.len() < 2 {
            return Err(Cql2Error::syntax(
                pos,
                "a line string needs at least 2 positions",
            ));
        }
        Ok(c)
    }

    fn polygon(&mut self, w: &mut Wkt) -> Result<Vec<Vec<Coord>>, Cql2Error> {
        self.open()?;
        let mut rings = Vec::new();
        loop {
            let pos = self.pos();
            let ring = self.line(w)?;
            check_ring(&ring, pos)?;
            rings.push(ring);
            if !self.comma()? {
                break;
            }
        }
        Ok(rings)
    }
}

/// Per-literal vertex count.
struct Wkt {
    count: usize,
    start: usize,
}

/// A ring has at least four positions and ends where it starts.
pub(crate) fn check_ring(ring: &[Coord], pos: usize) -> Result<(), Cql2Error> {
    if ring.len() < 4 {
        return Err(Cql2Error::syntax(
            pos,
            format!(
                "a polygon ring needs at least 4 positions, got {}",
                ring.len()
            ),
        ));
    }
    if ring.first() != ring.last() {
        return Err(Cql2Error::syntax(
            pos,
            "a polygon ring must end at the position it starts from",
        ));
    }
    Ok(())
}

/// `YYYY-MM-DD` (`date`) or `YYYY-MM-DDThh:mm:ss[.fff]Z`.
pub(crate) fn check_instant(s: &str, date: bool, pos: usize) -> Result<(), Cql2Error> {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let date_ok = b.len() >= 10
        && digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10);
    let ok = if date {
        date_ok && b.len() == 10
    } else {
        let frac_ok = match b.get(19) {
            Some(b'.') => b.len() > 21 && digits(20..b.len() - 1),
            Some(b'Z') => b.len() == 20,
            _ => false,
        };
        date_ok
            && b.get(10) == Some(&b'T')
            && digits(11..13)
            && b.get(13) == Some(&b':')
            && digits(14..16)
            && b.get(16) == Some(&b':')
            && digits(17..19)
            && b.last() == Some(&b'Z')
            && frac_ok
    };
    if ok {
        Ok(())
    } else {
        Err(Cql2Error::syntax(
            pos,
            if date {
                format!("'{s}' is not a date (YYYY-MM-DD)")
            } else {
                format!("'{s}' is not a timestamp (YYYY-MM-DDThh:mm:ss[.fff]Z)")
            },
        ))
    }
}
