//! Parser tests: structure and precedence against trees written by hand,
//! round trips through both encodings, error positions, and the limits.
#![allow(clippy::unwrap_used, clippy::float_cmp)] // tests may panic; numbers are exact

use std::time::{Duration, Instant};

use super::*;

fn p(s: &str) -> Expr {
    parse_text(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn prop(n: &str) -> Expr {
    Expr::Property(n.to_owned())
}

fn num(n: f64) -> Expr {
    Expr::Number(n)
}

fn op(o: Op, args: Vec<Expr>) -> Expr {
    Expr::Op(o, args)
}

fn text_err(s: &str) -> Cql2Error {
    match parse_text(s) {
        Ok(e) => panic!("{s} parsed as {e:?}"),
        Err(e) => e,
    }
}

/// Text → tree → text → tree, and tree → JSON → tree.
fn round_trip(s: &str) {
    let e = p(s);
    let printed = e.to_string();
    let again = parse_text(&printed).unwrap_or_else(|err| panic!("{printed}: {err}"));
    assert_eq!(again, e, "text round trip of {s} via {printed}");
    let json = e.to_json().to_string();
    let from_json = parse_json(&json).unwrap_or_else(|err| panic!("{json}: {err}"));
    assert_eq!(from_json, e, "JSON round trip of {s} via {json}");
}

#[test]
fn precedence_follows_the_bnf() {
    // * binds tighter than +; ^ tighter than *; left-associative - and /.
    assert_eq!(
        p("a + b * c ^ 2 = 1"),
        op(
            Op::Eq,
            vec![
                op(
                    Op::Add,
                    vec![
                        prop("a"),
                        op(
                            Op::Mul,
                            vec![prop("b"), op(Op::Pow, vec![prop("c"), num(2.0)])]
                        )
                    ]
                ),
                num(1.0)
            ]
        )
    );
    assert_eq!(
        p("a - b - c < 0"),
        op(
            Op::Lt,
            vec![
                op(
                    Op::Sub,
                    vec![op(Op::Sub, vec![prop("a"), prop("b")]), prop("c")]
                ),
                num(0.0)
            ]
        )
    );
    assert_eq!(
        p("a % 7 div 2 / 3 >= 1"),
        op(
            Op::Ge,
            vec![
                op(
                    Op::Div,
                    vec![
                        op(
                            Op::IntDiv,
                            vec![op(Op::Mod, vec![prop("a"), num(7.0)]), num(2.0)]
                        ),
                        num(3.0)
                    ]
                ),
                num(1.0)
            ]
        )
    );
    // `^` is right-associative; unary minus binds tighter than `^` (BNF
    // `arithmeticFactor = ["-"] arithmeticOperand`).
    assert_eq!(
        p("x = 2 ^ 3 ^ 2"),
        op(
            Op::Eq,
            vec![
                prop("x"),
                op(
                    Op::Pow,
                    vec![num(2.0), op(Op::Pow, vec![num(3.0), num(2.0)])]
                )
            ]
        )
    );
    assert_eq!(
        p("-a ^ 2 > 1"),
        op(
            Op::Gt,
            vec![
                op(Op::Pow, vec![op(Op::Neg, vec![prop("a")]), num(2.0)]),
                num(1.0)
            ]
        )
    );
    // OR < AND < NOT.
    let eq = |n: &str, v: f64| op(Op::Eq, vec![prop(n), num(v)]);
    assert_eq!(
        p("a = 1 OR b = 2 AND NOT c = 3"),
        op(
            Op::Or,
            vec![
                eq("a", 1.0),
                op(Op::And, vec![eq("b", 2.0), op(Op::Not, vec![eq("c", 3.0)])])
            ]
        )
    );
    assert_eq!(
        p("(a = 1 OR b = 2) AND c = 3"),
        op(
            Op::And,
            vec![op(Op::Or, vec![eq("a", 1.0), eq("b", 2.0)]), eq("c", 3.0)]
        )
    );
    // Chains are n-ary.
    assert_eq!(
        p("a = 1 and b = 2 AND c = 3"),
        op(Op::And, vec![eq("a", 1.0), eq("b", 2.0), eq("c", 3.0)])
    );
    // BETWEEN's AND is its own; the next AND is the connective.
    assert_eq!(
        p("a BETWEEN 1 AND 2 AND b = 3"),
        op(
            Op::And,
            vec![
                op(Op::Between, vec![prop("a"), num(1.0), num(2.0)]),
                eq("b", 3.0)
            ]
        )
    );
}

#[test]
fn predicates_and_negations() {
    assert_eq!(
        p("name NOT LIKE 'x%'"),
        op(
            Op::Not,
            vec![op(Op::Like, vec![prop("name"), Expr::String("x%".into())])]
        )
    );
    assert_eq!(
        p("a not in (1, 2)"),
        op(
            Op::Not,
            vec![op(
                Op::In,
                vec![prop("a"), Expr::Array(vec![num(1.0), num(2.0)])]
            )]
        )
    );
    assert_eq!(
        p("a IS NOT NULL"),
        op(Op::Not, vec![op(Op::IsNull, vec![prop("a")])])
    );
    assert_eq!(
        p("a NOT BETWEEN -1 AND +2.5e1"),
        op(
            Op::Not,
            vec![op(Op::Between, vec![prop("a"), num(-1.0), num(25.0)])]
        )
    );
    assert_eq!(
        p("CASEI(name) = casei('ABC')"),
        op(
            Op::Eq,
            vec![
                op(Op::Casei, vec![prop("name")]),
                op(Op::Casei, vec![Expr::String("ABC".into())])
            ]
        )
    );
    assert_eq!(p("in_region"), prop("in_region"));
    assert_eq!(p("TRUE"), Expr::Bool(true));
    assert_eq!(p("a <> 1"), p("a != 1"));
    assert_eq!(
        p("T_AFTER(d, TIMESTAMP('2020-01-01T00:00:00Z'))"),
        Expr::Function(
            "T_AFTER".into(),
            vec![prop("d"), Expr::Timestamp("2020-01-01T00:00:00Z".into())]
        )
    );
}

#[test]
fn keywords_in_any_case_and_quoted_names() {
    assert_eq!(p("a = 1 AnD b Is nUlL"), p("a = 1 AND b IS NULL"));
    assert_eq!(
        p("s_intersects(geometry, point(1 2))"),
        p("S_INTERSECTS(geometry,POINT(1 2))")
    );
    // A quoted name is always a property, even a keyword.
    assert_eq!(p("\"and\" = 1"), op(Op::Eq, vec![prop("and"), num(1.0)]));
    assert_eq!(
        p("\"a \"\"b\"\"\" = 1"),
        op(Op::Eq, vec![prop("a \"b\""), num(1.0)])
    );
    // Names may hold dots, colons and letters beyond ASCII; keywords end at a name character.
    assert_eq!(
        p("ns:a.b_1 = 1"),
        op(Op::Eq, vec![prop("ns:a.b_1"), num(1.0)])
    );
    assert_eq!(
        p("notes = 'x'"),
        op(Op::Eq, vec![prop("notes"), Expr::String("x".into())])
    );
    assert_eq!(p("größe > 1"), op(Op::Gt, vec![prop("größe"), num(1.0)]));
}

#[test]
fn string_escapes() {
    let s = |src: &str| match p(&format!("a = {src}")) {
        Expr::Op(Op::Eq, args) => match &args[1] {
            Expr::String(s) => s.clone(),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    assert_eq!(s("'St Mary''s'"), "St Mary's");
    assert_eq!(s(r"'St Mary\'s'"), "St Mary's");
    assert_eq!(s(r"'a\\b'"), r"a\b");
    assert_eq!(s(r"'tab\there'"), "tab\there");
    assert_eq!(s(r"'\a\b\v\f\r\n'"), "\u{7}\u{8}\u{b}\u{c}\r\n");
    // Other backslashes stay, so LIKE sees its escapes.
    assert_eq!(s(r"'50\%'"), r"50\%");
    assert_eq!(s(r"'ace\\_library'"), r"ace\_library");
    assert_eq!(s(r"'ace\_library'"), r"ace\_library");
    assert_eq!(s("''"), "");
    assert_eq!(s("'naïve ☃'"), "naïve ☃");
}

#[test]
fn numbers_are_exact() {
    let n = |src: &str| match p(&format!("a = {src}")) {
        Expr::Op(Op::Eq, args) => match args[1] {
            Expr::Number(x) => x,
            ref other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    assert_eq!(n("510065621723298.44"), 510_065_621_723_298.44);
    assert_eq!(n("18.250999999999998"), 18.250_999_999_999_998);
    assert_eq!(n("-0.5"), -0.5);
    assert_eq!(n(".5"), 0.5);
    assert_eq!(n("5."), 5.0);
    assert_eq!(n("1E3"), 1000.0);
    assert_eq!(n("1e-3"), 0.001);
    assert_eq!(n("+7"), 7.0);
    // The same text through JSON gives the same bits.
    for text in [
        "510065621723298.44",
        "18.250999999999998",
        "0.1",
        "-1.4737652251106255",
        "51.782265427066385",
        "5e-324",
        "1.7976931348623157e308",
    ] {
        let j = parse_json(&format!(
            "{{\"op\":\"=\",\"args\":[{{\"property\":\"a\"}},{text}]}}"
        ))
        .unwrap();
        assert_eq!(j, p(&format!("a = {text}")), "{text}");
        assert_eq!(n(text).to_bits(), text.parse::<f64>().unwrap().to_bits());
    }
    assert!(matches!(
        text_err("a = 1e400").kind,
        ErrorKind::NumberOutOfRange(_)
    ));
    assert!(matches!(
        parse_json(r#"{"op":"=","args":[{"property":"a"},1e400]}"#)
            .unwrap_err()
            .kind,
        ErrorKind::NumberOutOfRange(_)
    ));
}

#[test]
fn geometries() {
    let g = |src: &str| match p(&format!("S_INTERSECTS(geometry, {src})")) {
        Expr::Op(Op::Spatial(SpatialOp::Intersects), args) => args[1].clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        g("POINT(-1.5 51.75)"),
        Expr::Geometry(Geometry::Point([-1.5, 51.75]))
    );
    assert_eq!(
        g("POINT Z(1 2 3)"),
        Expr::Geometry(Geometry::Point([1.0, 2.0]))
    );
    assert_eq!(
        g("LINESTRING(0 0, 1 1)"),
        Expr::Geometry(Geometry::LineString(vec![[0.0, 0.0], [1.0, 1.0]]))
    );
    assert_eq!(g("MULTIPOINT((0 0), (1 1))"), g("MULTIPOINT(0 0, 1 1)"));
    assert_eq!(
        g("POLYGON((0 0,1 0,1 1,0 0),(0.1 0.1,0.2 0.1,0.2 0.2,0.1 0.1))"),
        Expr::Geometry(Geometry::Polygon(vec![
            vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]],
            vec![[0.1, 0.1], [0.2, 0.1], [0.2, 0.2], [0.1, 0.1]]
        ]))
    );
    assert_eq!(g("BBOX(1,2,3,4)"), Expr::BBox([1.0, 2.0, 3.0, 4.0]));
    assert_eq!(g("bbox(1,2,0,3,4,9)"), Expr::BBox([1.0, 2.0, 3.0, 4.0]));
    for src in [
        "MULTILINESTRING((0 0,1 1),(2 2,3 3))",
        "MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5)))",
        "GEOMETRYCOLLECTION(POINT(1 2),LINESTRING(0 0,1 1))",
    ] {
        assert!(matches!(g(src), Expr::Geometry(_)), "{src}");
    }
    // Malformed literals are errors, with positions.
    for (src, pos) in [
        ("S_INTERSECTS(geometry,POLYGON((1 2, 3)))", 37),
        ("S_INTERSECTS(geometry,POLYGON((0 0,1 0,1 1,0 1)))", 30),
        ("S_INTERSECTS(geometry,LINESTRING(0 0))", 32),
        (
            "S_INTERSECTS(geometry,GEOMETRYCOLLECTION(GEOMETRYCOLLECTION(POINT(1 2))))",
            41,
        ),
        ("S_INTERSECTS(geometry,POINT EMPTY)", 28),
        ("S_INTERSECTS(geometry,BBOX(1,2,3))", 22),
    ] {
        assert_eq!(text_err(src).pos, pos, "{src}: {}", text_err(src));
    }
}

#[test]
fn round_trips() {
    for s in [
        "imd_decile <= 2 AND district = 'E07000178'",
        "a = 1 OR b = 2 AND NOT c = 3",
        "(a = 1 OR b = 2) AND (c = 3 OR d = 4)",
        "NOT (a = 1 AND b = 2)",
        "NOT NOT a = 1",
        "a - (b - c) = a - b - c",
        "a / (b * c) > (a / b) * c",
        "2 ^ 3 ^ 2 = (2 ^ 3) ^ 2",
        "-a ^ 2 = -(a ^ 2)",
        "-(-1) = --1",
        "a - -5 = -a + -(b)",
        "residents % 7 = 3 AND residents div 10 >= 159 AND residents ^ 2 > 2550409",
        "name LIKE 'O''Brien\\\\%' AND name NOT LIKE CASEI('x_%')",
        "a BETWEEN 1 + 1 AND 3 * 2 AND a NOT BETWEEN 0 AND 1",
        "a IN (1, 2, 3) AND b NOT IN ('x', 'y')",
        "a IS NULL OR b IS NOT NULL",
        "\"and\" = 1 AND \"with space\" = 'v'",
        "S_INTERSECTS(geometry, POLYGON((-1.215 51.705,-1.185 51.705,-1.185 51.725,-1.215 51.725,-1.215 51.705)))",
        "S_WITHIN(geometry, BBOX(-1.3,51.7,-1.2,51.8)) OR S_CROSSES(geometry, LINESTRING(0 0,1 1))",
        "S_EQUALS(geometry, MULTIPOINT((1 2),(3 4))) AND S_TOUCHES(geometry, MULTILINESTRING((0 0,1 1),(2 2,3 3)))",
        "S_OVERLAPS(geometry, MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5))))",
        "S_DISJOINT(geometry, GEOMETRYCOLLECTION(POINT(1 2),LINESTRING(0 0,1 1)))",
        "area_m2 = 510065621723298.44 AND score = 18.250999999999998",
        "T_AFTER(d, TIMESTAMP('2020-01-01T00:00:00.5Z')) AND T_DURING(d, INTERVAL('2020-01-01', '..'))",
        "d = DATE('2020-01-31')",
        "in_region AND TRUE OR FALSE",
        "foo(a, 1, 'x') = bar()",
        "(a = 1) IS NULL",
    ] {
        round_trip(s);
    }
}

#[test]
fn json_encoding() {
    let j = parse_json(
        r#"{"op":"and","args":[
            {"op":"<=","args":[{"property":"imd_decile"},2]},
            {"op":"in","args":[{"property":"district"},["E07000178","E07000179"]]},
            {"op":"s_intersects","args":[{"property":"geometry"},{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}]},
            {"op":"s_within","args":[{"property":"geometry"},{"bbox":[-1.3,51.7,-1.2,51.8]}]},
            {"op":"like","args":[{"op":"casei","args":[{"property":"name"}]},{"op":"casei","args":["a\u00e9\ud83d\ude00%"]}]},
            {"op":"t_after","args":[{"property":"d"},{"timestamp":"2020-01-01T00:00:00Z"}]},
            {"op":"isNull","args":[{"property":"postcode"}]},
            {"op":">","args":[{"op":"div","args":[{"property":"residents"},10]},159]}
        ]}"#,
    )
    .unwrap();
    assert_eq!(
        j,
        p("imd_decile <= 2 AND district IN ('E07000178','E07000179') \
           AND S_INTERSECTS(geometry, POLYGON((0 0,1 0,1 1,0 0))) \
           AND S_WITHIN(geometry, BBOX(-1.3,51.7,-1.2,51.8)) \
           AND CASEI(name) LIKE CASEI('a\u{e9}\u{1f600}%') \
           AND t_after(d, TIMESTAMP('2020-01-01T00:00:00Z')) \
           AND postcode IS NULL AND residents div 10 > 159")
    );
    // Errors carry the offset in the JSON text.
    for (src, pos) in [
        (r#"{"op":"=","args":[{"property":"a"},1]"#, 37),
        (r#"{"op":"=","args":[{"property":"a"}]}"#, 17),
        (r#"{"op":"in","args":[{"property":"a"},1]}"#, 18),
        (r#"{"op":"=","args":[{"property":"a"},01]}"#, 35),
        (r#"{"op":"=","op":"<"}"#, 10),
        (r#"{"op":"=","args":[{"propertee":"a"},1]}"#, 18),
        (
            r#"{"op":"s_intersects","args":[{"property":"geometry"},{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1]]]}]}"#,
            86,
        ),
        (r#"{"op":"=","args":[{"property":"a"},"\ud800"]}"#, 36),
        (r"[1] x", 4),
    ] {
        let e = parse_json(src).unwrap_err();
        assert_eq!(e.pos, pos, "{src}: {e}");
    }
}

#[test]
fn syntax_errors_have_positions() {
    for (src, pos) in [
        ("imd_decile <", 12),
        ("imd_decile = 'x", 13),
        ("a = 1 AND", 9),
        ("a = 1 b = 2", 6),
        ("(a = 1", 6),
        ("a = 1)", 5),
        ("a = = 1", 4),
        ("a = 1 = 2", 6),
        ("a # 1", 2),
        ("a BETWEEN 1 OR 2", 12),
        ("a IN 1", 5),
        ("a IS 1", 5),
        ("AND = 1", 0),
        ("a = \"\"", 4),
        ("S_INTERSECTS(geometry)", 0),
        ("CASEI(a, b) = 'x'", 0),
        ("d = DATE('2020-1-1')", 9),
        ("d = TIMESTAMP('2020-01-01 00:00:00')", 14),
        ("", 0),
    ] {
        let e = text_err(src);
        assert_eq!(e.pos, pos, "{src}: {e}");
        assert!(matches!(e.kind, ErrorKind::Syntax(_)), "{src}: {e}");
    }
}

fn assert_fast(what: &str, f: impl FnOnce()) {
    let t = Instant::now();
    f();
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "{what} took {:?}",
        t.elapsed()
    );
}

#[test]
fn limits_are_enforced_while_parsing() {
    let too_deep = |s: &str| {
        assert_fast(&s[..s.len().min(40)], || {
            let e = text_err(s);
            assert!(
                matches!(e.kind, ErrorKind::TooDeep { max: 64 }),
                "{}: {e}",
                &s[..40.min(s.len())]
            );
        });
    };
    too_deep(&format!(
        "{}imd_decile=1{}",
        "(".repeat(372),
        ")".repeat(372)
    ));
    too_deep(&format!("{}imd_decile=1", "NOT ".repeat(1800)));
    too_deep(&format!("imd_decile = {}1", "-".repeat(3000)));
    too_deep(&format!("imd_decile = {}1", "- ".repeat(3000)));
    too_deep(&format!("x = 2{}", "^2".repeat(3000)));
    too_deep(&format!("x = 1{}", "+1".repeat(3000)));
    too_deep(&format!("x = {}1{}", "f(".repeat(500), ")".repeat(500)));
    too_deep(&format!("x IN {}1{}", "(".repeat(500), ")".repeat(500)));
    // Unclosed brackets: an error at the end, found in linear time.
    for n in [22, 5000] {
        assert_fast("unclosed", || {
            let e = text_err(&format!("{}imd_decile=1", "(".repeat(n)));
            if n > 64 {
                assert!(matches!(e.kind, ErrorKind::TooDeep { .. }), "{e}");
            } else {
                assert_eq!(e.pos, n + 12, "{e}");
            }
        });
    }
    // Brackets nested inside a WKT literal are a syntax error at the first extra one.
    let e = text_err(&format!(
        "S_INTERSECTS(geometry,POINT{}1 2{})",
        "(".repeat(300),
        ")".repeat(300)
    ));
    assert_eq!(e.pos, 28, "{e}");
    let e = text_err(&format!(
        "S_INTERSECTS(geometry,POLYGON{}0 0{})",
        "(".repeat(300),
        ")".repeat(300)
    ));
    assert_eq!(e.pos, 31, "{e}");
    // Exactly at the depth limit is fine; one more is not.
    let limits = Limits {
        max_depth: 10,
        ..Limits::default()
    };
    let nested = |n: usize| format!("{}a=1{}", "(".repeat(n), ")".repeat(n));
    assert!(parse_text_with(&nested(10), &limits).is_ok());
    assert!(parse_text_with(&nested(11), &limits).is_err());
    // JSON nesting.
    let deep_not = format!(
        "{}{{\"op\":\"=\",\"args\":[{{\"property\":\"a\"}},1]}}{}",
        "{\"op\":\"not\",\"args\":[".repeat(400),
        "]}".repeat(400)
    );
    assert_fast("json not", || {
        let e = parse_json(&deep_not).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::TooDeep { .. }), "{e}");
    });
    assert_fast("json arrays", || {
        let e = parse_json(&"[".repeat(10_000)).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::TooDeep { .. }), "{e}");
    });
    // 64 NOTs in JSON are too deep for the tree even though the JSON fits.
    let nots = |n: usize| {
        format!(
            "{}true{}",
            "{\"op\":\"not\",\"args\":[".repeat(n),
            "]}".repeat(n)
        )
    };
    assert!(parse_json(&nots(63)).is_ok());
    assert!(matches!(
        parse_json(&nots(64)).unwrap_err().kind,
        ErrorKind::TooDeep { max: 64 }
    ));
    // Length.
    let long = format!("a = '{}'", "x".repeat(20_000));
    assert!(matches!(text_err(&long).kind, ErrorKind::TooLong { .. }));
    assert!(matches!(
        parse_json(&long).unwrap_err().kind,
        ErrorKind::TooLong { .. }
    ));
}

fn ring(n: usize) -> String {
    // A closed ring of n positions (n - 1 distinct) around (0, 0).
    let mut pts: Vec<String> = (0..n - 1)
        .map(|i| {
            let a = i as f64 / (n - 1) as f64 * std::f64::consts::TAU;
            // Whole numbers keep 900 positions within the length limit.
            format!("{:.0} {:.0}", 100.0 * a.cos(), 100.0 * a.sin())
        })
        .collect();
    pts.push(pts[0].clone());
    pts.join(",")
}

#[test]
fn vertex_limits() {
    let poly = |n: usize| format!("S_CROSSES(geometry,POLYGON(({})))", ring(n));
    assert!(parse_text(&poly(1000)).is_ok());
    let e = text_err(&poly(1001));
    assert!(
        matches!(e.kind, ErrorKind::TooManyVertices { max: 1000 }),
        "{e}"
    );
    assert_eq!(e.pos, 19);
    let two = format!("{} OR {}", poly(900), poly(900));
    assert!(parse_text(&two).is_ok());
    let three = format!("{} OR {} OR {}", poly(700), poly(700), poly(700));
    assert!(matches!(
        text_err(&three).kind,
        ErrorKind::TooManyVerticesInAll { max: 2000 }
    ));
    // 2,000 short vertices fit in 16 KiB and are refused at once.
    let pts: Vec<String> = (0..2000)
        .map(|i| format!("{} {}", i % 10, i / 10 % 10))
        .collect();
    let big = format!("S_CROSSES(geometry,LINESTRING({}))", pts.join(","));
    assert!(big.len() < 16 * 1024);
    assert_fast("2000 vertices", || {
        assert!(matches!(
            text_err(&big).kind,
            ErrorKind::TooManyVertices { .. }
        ));
    });
    let coords: Vec<String> = (0..1001)
        .map(|i| format!("[{},{}]", i % 10, i / 10 % 10))
        .collect();
    let json = format!(
        "{{\"op\":\"s_crosses\",\"args\":[{{\"property\":\"geometry\"}},{{\"type\":\"LineString\",\"coordinates\":[{}]}}]}}",
        coords.join(",")
    );
    assert!(matches!(
        parse_json(&json).unwrap_err().kind,
        ErrorKind::TooManyVertices { max: 1000 }
    ));
}

#[test]
fn geometry_count_limit() {
    let preds = |n: usize| {
        (0..n)
            .map(|i| format!("S_INTERSECTS(geometry,POINT({i} 0))"))
            .collect::<Vec<_>>()
            .join(" OR ")
    };
    assert!(parse_text(&preds(16)).is_ok());
    let e = text_err(&preds(17));
    assert!(
        matches!(e.kind, ErrorKind::TooManyGeometries { max: 16 }),
        "{e}"
    );
    assert_eq!(e.pos, preds(16).len() + 4 + 22);
    let bboxes = (0..17)
        .map(|_| "S_WITHIN(geometry,BBOX(0,0,1,1))")
        .collect::<Vec<_>>()
        .join(" AND ");
    assert!(matches!(
        text_err(&bboxes).kind,
        ErrorKind::TooManyGeometries { .. }
    ));
    let json = |n: usize| {
        let args: Vec<String> = (0..n)
            .map(|i| format!(r#"{{"op":"s_intersects","args":[{{"property":"geometry"}},{{"type":"Point","coordinates":[{i},0]}}]}}"#))
            .collect();
        format!(r#"{{"op":"or","args":[{}]}}"#, args.join(","))
    };
    assert!(parse_json(&json(16)).is_ok());
    assert!(matches!(
        parse_json(&json(17)).unwrap_err().kind,
        ErrorKind::TooManyGeometries { max: 16 }
    ));
}

#[test]
fn parsing_is_linear() {
    // The largest inputs the length limit admits, of several shapes, all parse
    // (or fail) in well under a second.
    let n = 16 * 1024;
    let cases = [
        "a = 1 OR ".repeat(n / 9) + "a = 1",
        "x = 1".to_owned() + &"+1".repeat(n / 2 - 4),
        "(".repeat(n),
        "-".repeat(n),
        "NOT ".repeat(n / 4),
        format!("a IN ({}1)", "1,".repeat(n / 2 - 6)),
        "'".repeat(n),
        format!("'{}", "\\'".repeat(n / 2 - 1)),
        "a = 1 AND (".repeat(n / 11),
        "((((((((((((((((((((((imd_decile=1".to_owned(),
    ];
    for c in &cases {
        assert_fast(&c[..c.len().min(30)], || {
            let _ = parse_text(c);
            let _ = parse_json(c);
        });
    }
}
