//! System.Object's members on every value (crates/expr/src/library/objects.rs): `Equals`,
//! `GetHashCode`, `ToString`, `GetType`, `GetTypeCode`, and the statics every type inherits
//! (`object.ReferenceEquals`, `object.Equals`). Expected values come from Mono (mcs + mono)
//! and .NET's sources; the C# is quoted beside each case.

mod support;

use gatehouse_expr::{MapContext, Value};
use support::{no_findings, run_in, text_of};

fn text(src: &str) -> String {
    let r: Result<Value, _> = run_in(src, &mut MapContext::new());
    text_of(src, r)
}

fn check(cases: &[(&str, &str)]) {
    for (src, want) in cases {
        assert_eq!(text(src), *want, "{src}");
    }
}

// Console.WriteLine(5.GetHashCode());                 // 5
// Console.WriteLine(5000000000L.GetHashCode());       // 705032705
// Console.WriteLine('a'.GetHashCode());               // 6357089
// Console.WriteLine(1.5.GetHashCode());               // 1073217536
// Console.WriteLine(TimeSpan.FromSeconds(90).GetHashCode()); // 900000000
// Console.WriteLine(Guid.Parse("01234567-89ab-cdef-0123-456789abcdef").GetHashCode()); // 1145324612
#[test]
fn value_type_hashes_are_dotnets() {
    check(&[
        ("5.GetHashCode()", "5"),
        ("(-5).GetHashCode()", "-5"),
        ("5000000000L.GetHashCode()", "705032705"),
        ("true.GetHashCode()", "1"),
        ("false.GetHashCode()", "0"),
        ("'a'.GetHashCode()", "6357089"),
        ("1.5.GetHashCode()", "1073217536"),
        ("0.0.GetHashCode() == (-0.0).GetHashCode()", "True"),
        ("TimeSpan.FromSeconds(90).GetHashCode()", "900000000"),
        (
            r#"Guid.Parse("01234567-89ab-cdef-0123-456789abcdef").GetHashCode()"#,
            "1145324612",
        ),
        // Strings hash per process in .NET: only equal strings hashing alike is promised.
        (
            r#""abc".GetHashCode() == ("ab" + "c").GetHashCode()"#,
            "True",
        ),
        (r#"JToken.Parse("7").GetHashCode()"#, "7"),
    ]);
}

// Console.WriteLine(1.Equals(1.0));                 // False (the boxed double is no Int32)
// Console.WriteLine(1.0.Equals(1));                 // True (Equals(double) after conversion)
// Console.WriteLine(double.NaN.Equals(double.NaN)); // True
// var l = new List<int>{1}; l.Equals(l), l.Equals(new List<int>{1}) // True False
// new Exception("m").Equals(new Exception("m"))     // False
#[test]
fn equals_is_value_or_identity_as_dotnet() {
    check(&[
        ("1.Equals(1.0)", "False"),
        ("1.0.Equals(1)", "True"),
        ("double.NaN.Equals(double.NaN)", "True"),
        (r#""a".Equals(1)"#, "False"),
        (
            "{ var l = new List<int> { 1 }; return l.Equals(l); }",
            "True",
        ),
        ("new List<int> { 1 }.Equals(new List<int> { 1 })", "False"),
        (r#"new Exception("m").Equals(new Exception("m"))"#, "False"),
        (
            r#"{ var e = new Exception("m"); return e.Equals(e); }"#,
            "True",
        ),
        (
            r#"{ var sb = new StringBuilder("a"); return sb.Equals(sb); }"#,
            "True",
        ),
        ("Encoding.UTF8.Equals(Encoding.UTF8)", "True"),
        (
            r#"new KeyValuePair<string, int>("a", 1).Equals(new KeyValuePair<string, int>("a", 1))"#,
            "True",
        ),
    ]);
}

// object.ReferenceEquals("a", "a") // True (literals are interned)
// object.ReferenceEquals(1, 1)     // False (each argument is boxed)
// object.Equals(1, 1)              // True
// object.Equals(null, null)        // True
#[test]
fn inherited_statics() {
    check(&[
        (r#"object.ReferenceEquals("a", "a")"#, "True"),
        ("object.ReferenceEquals(1, 1)", "False"),
        ("object.ReferenceEquals(null, null)", "True"),
        (r#"object.ReferenceEquals(null, "a")"#, "False"),
        ("object.Equals(1, 1)", "True"),
        ("object.Equals(null, null)", "True"),
        (r#"object.Equals("a", null)"#, "False"),
        (
            "{ var a = new[] { 1 }; return object.ReferenceEquals(a, a); }",
            "True",
        ),
        ("object.ReferenceEquals(new[] { 1 }, new[] { 1 })", "False"),
        (r#"string.ReferenceEquals("x", "x")"#, "True"),
        ("int.Equals(2, 2)", "True"),
        (
            r#"{ var e = new Exception(); return Exception.ReferenceEquals(e, e); }"#,
            "True",
        ),
    ]);
    no_findings(
        r#"return object.ReferenceEquals("a", "a") && int.Equals(1, 1) && List.ReferenceEquals(null, null);"#,
    );
}

// 1.GetTypeCode() // Int32;  "a".GetTypeCode() // String;  true.GetTypeCode() // Boolean
#[test]
fn type_codes_and_default_text() {
    check(&[
        ("1.GetTypeCode()", "Int32"),
        (r#""a".GetTypeCode()"#, "String"),
        ("true.GetTypeCode()", "Boolean"),
        ("'c'.GetTypeCode()", "Char"),
        ("1.5.GetTypeCode()", "Double"),
        ("new DateTime(2024, 1, 2).GetTypeCode()", "DateTime"),
        (r#"new Exception("m").GetType().Name"#, "Exception"),
        (r#""a".GetType().FullName"#, "System.String"),
        ("new Random(1).ToString()", "System.Random"),
        ("SHA256.Create().Equals(SHA256.Create())", "False"),
    ]);
}

// Tuple.Create(1, "a").ToString()                      // (1, a)
// Tuple.Create(1, "a") == Tuple.Create(1, "a")         // False (a class: references)
// Tuple.Create(1, "a").Equals(Tuple.Create(1, "a"))    // True
// Tuple.Create(1, 2).GetHashCode()                     // 35 ((1 << 5) + 1) ^ 2
// Tuple.Create(1, 2, 3).GetHashCode()                  // 1152
#[test]
fn system_tuple() {
    check(&[
        (r#"Tuple.Create(1, "a").ToString()"#, "(1, a)"),
        (r#"Tuple.Create(1, "a").Item2"#, "a"),
        (r#"Tuple.Create(1, "a") == Tuple.Create(1, "a")"#, "False"),
        (
            r#"{ var t = Tuple.Create(1, "a"); var u = t; return t == u; }"#,
            "True",
        ),
        (
            r#"Tuple.Create(1, "a").Equals(Tuple.Create(1, "a"))"#,
            "True",
        ),
        ("Tuple.Create(1, 2).GetHashCode()", "35"),
        ("Tuple.Create(1, 2, 3).GetHashCode()", "1152"),
        (r#"new Tuple<int, string>(3, "b").Item1"#, "3"),
        (r#"Tuple.Create(1, "a").GetType().Name"#, "Tuple`2"),
    ]);
    no_findings(r#"return Tuple.Create(1, "a").Item1;"#);
}

// StringComparer.Ordinal.Compare("a", "c")               // -2 (string.CompareOrdinal)
// StringComparer.OrdinalIgnoreCase.Compare("a", "B")     // -1
// StringComparer.InvariantCulture.Compare("B", "a")      // 1
// new[] { "A", "b" }.Contains("a", StringComparer.OrdinalIgnoreCase) // True
#[test]
fn string_comparers() {
    check(&[
        (r#"StringComparer.Ordinal.Compare("a", "c")"#, "-2"),
        (r#"StringComparer.Ordinal.Compare("abc", "ab")"#, "1"),
        (r#"StringComparer.Ordinal.Compare(null, "a")"#, "-1"),
        (
            r#"StringComparer.OrdinalIgnoreCase.Compare("a", "B")"#,
            "-1",
        ),
        (r#"StringComparer.InvariantCulture.Compare("B", "a")"#, "1"),
        (
            r#"StringComparer.OrdinalIgnoreCase.Equals("a", "A")"#,
            "True",
        ),
        (r#"StringComparer.Ordinal.Equals("a", "A")"#, "False"),
        (
            r#"StringComparer.OrdinalIgnoreCase.GetHashCode("abc") == StringComparer.OrdinalIgnoreCase.GetHashCode("ABC")"#,
            "True",
        ),
        (
            r#"StringComparer.FromComparison(StringComparison.OrdinalIgnoreCase).Equals("a", "A")"#,
            "True",
        ),
        (
            "StringComparer.Ordinal.GetType().FullName",
            "System.OrdinalCaseSensitiveComparer",
        ),
        (
            r#"new[] { "A", "b" }.Contains("a", StringComparer.OrdinalIgnoreCase)"#,
            "True",
        ),
        (
            r#"string.Join(",", new[] { "a", "A", "b", "B" }.Distinct(StringComparer.OrdinalIgnoreCase))"#,
            "a,b",
        ),
        (
            r#"string.Join(",", new[] { "b", "a", "C", "B" }.OrderBy(s => s, StringComparer.Ordinal))"#,
            "B,C,a,b",
        ),
        (
            r#"new Dictionary<string, int>(StringComparer.Ordinal) { { "a", 1 } }.ContainsKey("A")"#,
            "False",
        ),
    ]);
    // A dictionary keeps the comparer it is given (crates/expr/src/library/dictionary.rs).
    assert_eq!(
        support::text_or_kind(
            r#"new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase) { { "a", 1 } }.ContainsKey("A")"#
        ),
        "True"
    );
    no_findings(
        r#"return StringComparer.FromComparison(StringComparison.Ordinal).Equals(StringComparer.OrdinalIgnoreCase.ToString(), "x");"#,
    );
}

// new Exception("m").HResult -> -2146233088 (COR_E_EXCEPTION)
// new ArgumentNullException("p").HResult -> -2147467261 (E_POINTER)
#[test]
fn exception_hresults() {
    check(&[
        (r#"new Exception("m").HResult"#, "-2146233088"),
        (r#"new ArgumentException("m").HResult"#, "-2147024809"),
        (r#"new ArgumentNullException("p").HResult"#, "-2147467261"),
        (r#"new FormatException("m").HResult"#, "-2146233033"),
        (r#"new KeyNotFoundException("m").HResult"#, "-2146232969"),
        (
            r#"{ try { int.Parse("x"); return 0; } catch (Exception e) { return e.HResult; } }"#,
            "-2146233033",
        ),
    ]);
}

// SHA256.Create().GetHashCode() == SHA256.Create().GetHashCode() -> False (identity hashes)
// { var h = SHA256.Create(); return h.GetHashCode() == h.GetHashCode(); } -> True
#[test]
fn identity_hashes_tell_objects_apart() {
    check(&[
        // Two live objects (a temporary's identity may be reused once it is gone, as an
        // address is; .NET promises no more than distinct live objects hashing apart).
        (
            "{ var a = SHA256.Create(); var b = SHA256.Create(); return a.GetHashCode() == b.GetHashCode(); }",
            "False",
        ),
        (
            "{ var h = SHA256.Create(); return h.GetHashCode() == h.GetHashCode(); }",
            "True",
        ),
        (
            r#"{ var sb = new StringBuilder(); var h = sb.GetHashCode(); sb.Append("x"); return h == sb.GetHashCode(); }"#,
            "True",
        ),
    ]);
}
