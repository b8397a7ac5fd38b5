//! C# statements and syntax APIM accepts, with C# (checked against Mono's `mcs`) as the
//! spec: Unicode whitespace, `try`/`catch`/`finally`/`throw`, `using`, `foreach` over every
//! enumerable, tuples, patterns, and interpolation with alignment and format specifiers.

use gatehouse_expr::{ExprKind, Limits, MapContext, RuntimeError, Value, eval, eval_with, parse};

fn ctx() -> MapContext {
    let mut c = MapContext::new();
    c.set("Request.Method", "POST")
        .header("Request", "Accept", "text/plain")
        .header("Request", "X-Id", "7")
        .variable("count", 3)
        .body_text("Request", r#"{"a":1,"b":"x"}"#);
    c
}

fn block(src: &str) -> Result<Value, RuntimeError> {
    let p = parse(src, ExprKind::Block).unwrap_or_else(|e| panic!("parse {src:?}: {e:?}"));
    eval(&p, &mut ctx())
}

fn run(src: &str) -> Value {
    block(src).unwrap_or_else(|e| panic!("eval {src:?}: {e:?}"))
}

fn s(src: &str) -> String {
    match run(src) {
        Value::String(s) => s.to_string(),
        other => panic!("{src:?} gave {other:?}, not a string"),
    }
}

fn single(src: &str) -> Value {
    let p = parse(src, ExprKind::Single).unwrap_or_else(|e| panic!("parse {src:?}: {e:?}"));
    eval(&p, &mut ctx()).unwrap_or_else(|e| panic!("eval {src:?}: {e:?}"))
}

#[test]
fn unicode_whitespace_between_tokens() {
    for ws in [
        "\u{a0}", "\u{1680}", "\u{2000}", "\u{2005}", "\u{200a}", "\u{202f}", "\u{205f}",
        "\u{3000}", "\t", "\u{b}", "\u{c}", "\u{85}", "\u{2028}", "\u{2029}", "\r",
    ] {
        let src = format!("var{ws}x{ws}={ws}1;{ws}return{ws}x{ws}+{ws}1;");
        assert_eq!(run(&src), Value::Int(2), "{:?}", ws);
    }
    // A `//` comment ends at any line terminator.
    assert_eq!(run("var x = 1; // note\u{2028}return x;"), Value::Int(1));
    // Not whitespace: zero-width space is a format character (Cf), an error as in C#.
    assert!(parse("var\u{200b}x = 1; return x;", ExprKind::Block).is_err());
    assert!(parse("\"a\u{2028}b\"", ExprKind::Single).is_err());
}

#[test]
fn catch_library_exceptions_by_type() {
    let cases = [
        ("int.Parse(\"x\")", "FormatException"),
        ("((string)null).Length", "NullReferenceException"),
        ("new int[1][3]", "IndexOutOfRangeException"),
        ("1 / int.Parse(\"0\")", "DivideByZeroException"),
        ("\"abc\".Substring(5)", "ArgumentOutOfRangeException"),
    ];
    for (expr, kind) in cases {
        let src = format!(
            "try {{ var v = {expr}; return \"none\"; }} catch ({kind} e) {{ return e.GetType().Name; }}"
        );
        assert_eq!(s(&src), kind, "{expr}");
        // The .NET hierarchy: every one of them is a SystemException and an Exception.
        for base in ["SystemException", "Exception", "System.Exception"] {
            let src = format!(
                "try {{ var v = {expr}; return \"none\"; }} catch ({base}) {{ return \"caught\"; }}"
            );
            assert_eq!(s(&src), "caught", "{expr} as {base}");
        }
    }
    // ArgumentOutOfRangeException is an ArgumentException; FormatException is not.
    assert_eq!(
        s(
            "try { \"abc\".Substring(5); } catch (ArgumentException) { return \"arg\"; } return \"no\";"
        ),
        "arg"
    );
    let r = block(
        "try { int.Parse(\"x\"); } catch (ArgumentException) { return \"arg\"; } return \"no\";",
    );
    assert_eq!(r.map_err(|e| e.kind), Err("FormatException"));
    assert_eq!(
        s("try { int.Parse(\"x\"); } catch (Exception ex) { return ex.Message; }"),
        "Input string was not in a correct format."
    );
}

#[test]
fn throw_and_catch_user_exceptions() {
    assert_eq!(
        s("try { throw new Exception(\"boom\"); } catch (Exception ex) { return ex.Message; }"),
        "boom"
    );
    assert_eq!(
        s(
            "try { throw new ArgumentNullException(\"p\"); } catch (ArgumentException ex) { return ex.GetType().FullName + \"|\" + ex.Message; }"
        ),
        "System.ArgumentNullException|Value cannot be null.\nParameter name: p"
    );
    assert_eq!(
        s(
            "try { throw new InvalidOperationException(\"bad\"); } catch (Exception ex) { return ex.ToString(); }"
        ),
        "System.InvalidOperationException: bad"
    );
    assert_eq!(
        s("var e = new FormatException(); return e.Message;"),
        "One of the identified items was in an invalid format."
    );
    assert_eq!(
        s(
            "var e = new Exception(\"outer\", new KeyNotFoundException(\"k\")); return e.InnerException.GetType().FullName + \"|\" + e.GetBaseException().Message;"
        ),
        "System.Collections.Generic.KeyNotFoundException|k"
    );
    assert_eq!(
        run(
            "var e = new ArgumentOutOfRangeException(\"n\"); return e is ArgumentException && e is SystemException && !(e is FormatException);"
        ),
        Value::Bool(true)
    );
    // Uncaught: the evaluation fails with the thrown type and message.
    let e = block("throw new NotSupportedException(\"nope\");").expect_err("throws");
    assert_eq!(
        (e.kind, e.message.as_str()),
        ("NotSupportedException", "nope")
    );
    let e = block("throw null;").expect_err("throws");
    assert_eq!(e.kind, "NullReferenceException");
}

#[test]
fn filters_bare_catch_rethrow_and_order() {
    assert_eq!(
        s(
            "try { throw new Exception(\"a\"); } catch (Exception e) when (e.Message == \"b\") { return \"b\"; } catch (Exception e) when (e.Message == \"a\") { return \"a\"; }"
        ),
        "a"
    );
    // A filter that throws is false.
    assert_eq!(
        s(
            "try { throw new Exception(\"a\"); } catch (Exception) when (int.Parse(\"x\") > 0) { return \"f\"; } catch { return \"bare\"; }"
        ),
        "bare"
    );
    let e = block("try { int.Parse(\"q\"); } catch (FormatException) { throw; }")
        .expect_err("rethrown");
    assert_eq!(e.kind, "FormatException");
    let e = block("try { int.Parse(\"q\"); } catch (FormatException ex) { throw new InvalidOperationException(\"wrapped\", ex); }").expect_err("wrapped");
    assert_eq!(
        (e.kind, e.message.as_str()),
        ("InvalidOperationException", "wrapped")
    );
    // Nested: the inner try does not handle it, the outer does.
    assert_eq!(
        s(
            "try { try { int.Parse(\"q\"); } catch (ArgumentException) { return \"inner\"; } } catch (FormatException) { return \"outer\"; } return \"none\";"
        ),
        "outer"
    );
    // The catch variable is scoped to its block.
    assert!(
        block("try { throw new Exception(); } catch (Exception e) { } return e.Message;")
            .is_err_and(|e| e.kind == "CompilationError")
    );
}

#[test]
fn finally_runs_on_every_path() {
    assert_eq!(
        s("var log = \"\"; try { log += \"t\"; } finally { log += \"f\"; } return log;"),
        "tf"
    );
    // `return` inside try runs finally; the value returned is the one computed before.
    assert_eq!(
        s(
            "var log = new List<string>(); string F() { try { return \"r\"; } finally { log.Add(\"f\"); } } var r = F(); return r + log.Count;"
        ),
        "r1"
    );
    assert_eq!(
        s(
            "var log = \"\"; try { try { int.Parse(\"x\"); } finally { log += \"f\"; } } catch (FormatException) { log += \"c\"; } return log;"
        ),
        "fc"
    );
    assert_eq!(
        s(
            "var log = \"\"; for (var i = 0; i < 3; i++) { try { if (i == 1) continue; log += i; } finally { log += \"f\"; } } return log;"
        ),
        "0ff2f"
    );
    let e = block("var x = 0; try { int.Parse(\"x\"); } finally { x = 1; } return x;")
        .expect_err("uncaught");
    assert_eq!(e.kind, "FormatException");
}

#[test]
fn budget_exhaustion_is_not_catchable() {
    let limits = Limits {
        steps: 500,
        ..Limits::default()
    };
    for src in [
        "try { while (true) { } } catch (Exception) { return \"swallowed\"; }",
        "try { while (true) { } } catch { return \"swallowed\"; }",
        "try { while (true) { } } catch (Exception e) when (true) { return \"swallowed\"; }",
        "try { while (true) { } } finally { while (true) { } }",
    ] {
        let p = parse(src, ExprKind::Block).expect("parses");
        let e = eval_with(&p, &mut ctx(), &limits).expect_err("over budget");
        assert!(e.budget.is_some(), "{src}: {e:?}");
    }
}

#[test]
fn compile_errors_are_not_catchable() {
    // An unknown name is a compile-time error in C#: no catch turns it into a value.
    let e = block("try { return undefinedName; } catch (Exception) { return 0; }")
        .expect_err("not caught");
    assert_eq!(e.kind, "CompilationError");
}

#[test]
fn try_parses_and_is_reported_as_a_feature() {
    let p = parse(
        "try { return 1; } catch (JsonReaderException e) { return 2; }",
        ExprKind::Block,
    )
    .expect("parses");
    assert!(p.features().contains("try"));
    assert!(p.unsupported_members().is_empty());
    for bad in [
        "try { }",
        "try { } catch (",
        "try { } catch (Exception e) when { }",
    ] {
        assert!(parse(bad, ExprKind::Block).is_err(), "{bad}");
    }
    assert_eq!(single("1 + 1"), Value::Int(2));
}

#[test]
fn interpolation_alignment_and_formats() {
    assert_eq!(
        s(r#"var n = 5; return $"[{n,5}][{n,-5:D3}][{1.5,6:F2}]";"#),
        "[    5][005  ][  1.50]"
    );
    assert_eq!(
        s(r#"string x = null; return $"[{"é",3}][{x,2}]";"#),
        "[  é][  ]"
    );
    assert_eq!(
        s(r#"var d = new DateTime(2024, 1, 2, 3, 4, 5); return $"{d:HH':'mm}|{d,12:yyyy-MM-dd}";"#),
        "03:04|  2024-01-02"
    );
    assert_eq!(
        s(r#"var a = 1; return $@"{{{a}}}\n" + @$"""{a,2}""";"#),
        "{1}\\n\" 1\""
    );
    // A huge width is memory like any other string.
    let p = parse(r#"return $"{1,2000000000}";"#, ExprKind::Block).expect("parses");
    let e = eval(&p, &mut ctx()).expect_err("over budget");
    assert!(e.budget.is_some());
    assert!(parse(r#"$"{1,w}""#, ExprKind::Single).is_err());
}

#[test]
fn tuples() {
    assert_eq!(s(r#"var t = (1, "a"); return t.ToString();"#), "(1, a)");
    assert_eq!(s(r#"var t = (1, "a"); return t.Item2 + t.Item1;"#), "a1");
    assert_eq!(
        run("var t = (a: 1, b: 2); return t.a * 10 + t.b + t.Item1;"),
        Value::Int(13)
    );
    assert_eq!(
        s(r#"var t = (x: 1.5, (string)null, true); return $"{t}";"#),
        "(1.5, , True)"
    );
    assert_eq!(
        run("var (x, y) = (1, 2); return x * 10 + y;"),
        Value::Int(12)
    );
    assert_eq!(
        run("var (x, _, z) = (1, 2, 3); return x + z;"),
        Value::Int(4)
    );
    // A tuple from a local function, deconstructed.
    assert_eq!(
        s(r#"(int, string) F(int n) => (n, n.ToString()); var r = F(4); return r.Item2;"#),
        "4"
    );
    assert_eq!(run("return (1, 2) == (a: 1, b: 2);"), Value::Bool(true));
    assert_eq!(run("return (1, 2).Equals((1, 3));"), Value::Bool(false));
    assert!(
        block("var t = (1, 2); return t.Item3;").is_err_and(|e| e.kind == "RuntimeBinderException")
    );
    let e = block("var (a, b, c) = (1, 2); return a;").expect_err("wrong arity");
    assert_eq!(e.kind, "InvalidCastException");
    assert_eq!(single("(2 + 3) * 2"), Value::Int(10));
}

#[test]
fn foreach_over_every_enumerable() {
    assert_eq!(
        s(r#"var r = ""; foreach (char c in "abc") r += c; return r;"#),
        "abc"
    );
    // Dictionaries (here `context`'s) enumerate as KeyValuePairs, deconstructible; MapContext
    // keeps header names as given, in the order they were added.
    assert_eq!(
        s(
            r#"var r = ""; foreach (var (k, v) in context.Request.Headers) r += k + v[0]; return r;"#
        ),
        "Accepttext/plainX-Id7"
    );
    assert_eq!(
        s(
            r#"var r = new List<string>(); foreach (var h in context.Request.Headers) r.Add(h.Key + ":" + string.Join("|", h.Value)); return string.Join(",", r);"#
        ),
        "Accept:text/plain,X-Id:7"
    );
    assert_eq!(
        s(r#"var r = ""; foreach (var v in context.Variables) r += v.Key + v.Value; return r;"#),
        "count3"
    );
    assert_eq!(
        s(
            r#"var o = context.Request.Body.As<JObject>(); var r = ""; foreach (var p in o.Properties()) r += p.Name + "=" + p.Value + ";"; foreach (var p in o) r += p.Key; return r;"#
        ),
        "a=1;b=x;ab"
    );
    assert_eq!(
        run(
            r#"var sum = 0; foreach (var t in JArray.Parse("[1,2,3]")) sum += (int)t; return sum;"#
        ),
        Value::Int(6)
    );
    assert_eq!(
        run(
            r#"var n = 0; foreach (var x in new[] { 1, 2, 3, 4 }.Where(i => i % 2 == 0)) n += x; return n;"#
        ),
        Value::Int(6)
    );
    assert_eq!(
        s(
            r#"var r = ""; foreach (Match m in Regex.Matches("a1b22", @"\d+")) r += m.Value + "|"; return r;"#
        ),
        "1|22|"
    );
    assert_eq!(
        run("var n = 0; foreach (var (a, b) in new[] { (1, 2), (3, 4) }) n += a * b; return n;"),
        Value::Int(14)
    );
}

#[test]
fn using_statements() {
    assert_eq!(
        run(
            "using (var h = new HMACSHA256(new byte[] { 1 })) { return h.ComputeHash(new byte[] { 2 }).Length; }"
        ),
        Value::Int(32)
    );
    assert_eq!(
        run("var s = SHA256.Create(); using (s) { return s.ComputeHash(new byte[0]).Length; }"),
        Value::Int(32)
    );
    assert_eq!(
        run("using var h = SHA256.Create(); var n = h.ComputeHash(new byte[0]).Length; return n;"),
        Value::Int(32)
    );
    // The `using (var …)` local is scoped to its statement.
    assert!(
        block("using (var x = SHA256.Create()) { } return x;")
            .is_err_and(|e| e.kind == "CompilationError")
    );
}

#[test]
fn patterns_nameof_throw_expressions() {
    assert_eq!(
        run("object o = 5; if (o is int n && n > 3) return n; return 0;"),
        Value::Int(5)
    );
    assert_eq!(
        run("object o = null; return o is var x && x == null;"),
        Value::Bool(true)
    );
    assert_eq!(
        s(
            r#"object o = -2; switch (o) { case int n when n > 0: return "pos"; case int n: return "int " + n; default: return "other"; }"#
        ),
        "int -2"
    );
    assert_eq!(
        s("var abc = 1; return nameof(abc) + nameof(context.Request);"),
        "abcRequest"
    );
    let e =
        block(r#"string v = null; var x = v ?? throw new ArgumentNullException("v"); return x;"#)
            .expect_err("throws");
    assert_eq!(e.kind, "ArgumentNullException");
    assert_eq!(
        s(r#"string v = "ok"; return v ?? throw new Exception();"#),
        "ok"
    );
    assert_eq!(
        s(
            r#"try { var x = 1 > 0 ? throw new FormatException("f") : 1; return "no"; } catch (FormatException e) { return e.Message; }"#
        ),
        "f"
    );
    // `checked(…)`/`unchecked(…)` run with C#'s 32-bit int arithmetic
    // (crates/expr/src/numeric.rs; tests/numeric_types.rs has the overflow cases).
    for src in ["unchecked(1 + 1)", "checked(1 + 1)"] {
        let p = parse(src, ExprKind::Single).expect("parses");
        assert!(p.unsupported_members().is_empty(), "{src}");
    }
    assert_eq!(single("default(int)"), Value::Int(0));
}

#[test]
fn property_patterns() {
    assert_eq!(
        run(r#"var s = "abc"; return s is { Length: > 2 };"#),
        Value::Bool(true)
    );
    assert_eq!(
        run(r#"string s = null; return s is { Length: > 2 };"#),
        Value::Bool(false)
    );
    assert_eq!(
        run(r#"var s = "ab"; return s is not { Length: 3 };"#),
        Value::Bool(true)
    );
    assert_eq!(
        s(
            r#"var t = (a: 1, b: "x"); switch (t) { case { a: 1, b: "y" }: return "y"; case { a: > 0 } p: return "pos " + p.b; default: return "none"; }"#
        ),
        "pos x"
    );
    assert_eq!(
        s(
            r#"var s = "hello"; return s switch { { Length: 0 } => "empty", { Length: < 3 } => "short", _ => "long" };"#
        ),
        "long"
    );
}

/// `try` blocks nested as deep as the parser allows, each rethrowing through a filter and a
/// `finally`, fit in a 2 MiB thread's stack (tokio's and the test harness's default).
#[test]
fn deeply_nested_try_blocks_do_not_overflow() {
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let mut deepest = 0;
            for n in 1..200 {
                let mut src = String::from("throw new FormatException(\"x\");");
                for _ in 0..n {
                    src = format!(
                        "try {{ {src} }} catch (Exception e) when (e.Message == \"x\") {{ throw; }} finally {{ var f = 1; }}"
                    );
                }
                let Ok(p) = parse(&src, ExprKind::Block) else {
                    break;
                };
                deepest = n;
                let e = eval(&p, &mut ctx()).expect_err("rethrown to the top");
                assert_eq!(e.kind, "FormatException");
            }
            deepest
        })
        .expect("spawns");
    let deepest = handle.join().expect("no stack overflow");
    assert!(deepest >= 20, "only {deepest} levels parse");
}

#[test]
fn do_while_runs_its_body_before_the_first_test() {
    assert_eq!(
        run("var n = 0; do { n++; } while (n < 5); return n;"),
        Value::Int(5)
    );
    // The body runs once even when the condition is false from the start.
    assert_eq!(
        run("var n = 10; do { n++; } while (n < 5); return n;"),
        Value::Int(11)
    );
    // `continue` goes to the test, `break` leaves the loop.
    assert_eq!(
        s(
            "var n = 0; var odd = 0; do { n++; if (n % 2 == 0) continue; odd++; if (n > 6) break; } while (n < 10); return n + \"/\" + odd;"
        ),
        "7/4"
    );
    // An endless loop stops at the step budget.
    let e = block("do { } while (true); return 1;").expect_err("budget");
    assert!(e.budget.is_some(), "{e:?}");
}
