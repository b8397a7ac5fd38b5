//! Numbers, chars, Math, Convert, Nullable and System.Type members as C# gives them (each
//! expected text checked with Mono, or with modern .NET's documented behaviour where Mono
//! differs; crates/expr/tests/oracle/known-differences.txt lists those).

mod support;

use gatehouse_expr::ExprKind;
use support::text_or_kind as run;

#[test]
fn numeric_formats() {
    assert_eq!(run("0.5.ToString(\"P\")"), "50.00 %");
    assert_eq!(run("1234.5.ToString(\"E2\")"), "1.23E+003");
    assert_eq!(run("(-100).ToString(\"C\")"), "(¤100.00)");
    assert_eq!(run("12.3456.ToString(\"G3\")"), "12.3");
    assert_eq!(run("1234567.ToString(\"#,##0\")"), "1,234,567");
    assert_eq!(run("(-1.5).ToString(\"0.0;(0.0)\")"), "(1.5)");
    assert_eq!(
        run("$\"{0.125:P1}|{3.75:0.#}|{255:X4}\""),
        "12.5 %|3.8|00FF"
    );
    assert_eq!(run("string.Format(\"{0:N1}\", 1234.56)"), "1,234.6");
    assert_eq!(run("1.5.ToString(\"Q\")"), "!FormatException");
}

#[test]
fn math_members() {
    assert_eq!(run("Math.Round(2.5)"), "2");
    assert_eq!(run("Math.Round(2.5, MidpointRounding.AwayFromZero)"), "3");
    assert_eq!(run("Math.Log(8, 2)"), "3");
    assert_eq!(run("Math.Sign(0.0)"), "0");
    assert_eq!(run("Math.Clamp(15, 0, 10)"), "10");
    assert_eq!(run("Math.Clamp(1, 5, 0)"), "!ArgumentException");
    assert_eq!(run("Math.Sign(double.NaN)"), "!ArithmeticException");
    assert_eq!(run("double.Epsilon > 0"), "True");
}

#[test]
fn chars_and_case() {
    assert_eq!(run("'a' + 1"), "98");
    assert_eq!(run("char.IsLetterOrDigit('_')"), "False");
    assert_eq!(run("\"a1b2\".Where(char.IsDigit).Count()"), "2");
    assert_eq!(run("\"x-y!\".Count(char.IsPunctuation)"), "2");
    assert_eq!(run("\"Straße\".ToUpper()"), "STRAßE");
    assert_eq!(run("\"ΟΔΟΣ\".ToLower()"), "οδοσ");
    assert_eq!(run("char.Parse(\"ab\")"), "!FormatException");
}

#[test]
fn parse_and_convert() {
    assert_eq!(run("int.Parse(null)"), "!ArgumentNullException");
    assert_eq!(run("short.Parse(\"70000\")"), "!OverflowException");
    assert_eq!(run("int.Parse(\"12a\")"), "!FormatException");
    assert_eq!(run("Convert.ToInt32(\"ff\", 16)"), "255");
    assert_eq!(run("Convert.ToInt32(\"12\", 3)"), "!ArgumentException");
    assert_eq!(run("Convert.ToString(255, 2)"), "11111111");
    assert_eq!(run("Convert.ToString(null) == null"), "True");
    assert_eq!(run("Convert.ToChar(65)"), "A");
    assert_eq!(run("Convert.FromHexString(\"01ABff\").Length"), "3");
}

#[test]
fn nullable_and_types() {
    assert_eq!(run("((int?)null).HasValue"), "False");
    assert_eq!(run("((int?)null).GetValueOrDefault(9)"), "9");
    assert_eq!(run("((int?)null).GetValueOrDefault()"), "0");
    assert_eq!(run("((int?)null).Value"), "!InvalidOperationException");
    assert_eq!(run("((int?)5).Value"), "5");
    assert_eq!(run("typeof(string).FullName"), "System.String");
    assert_eq!(run("1.GetType().Name"), "Int32");
    assert_eq!(run("\"a\".GetType().Namespace"), "System");
}

fn block(src: &str) -> String {
    support::text_or_kind_as(src, ExprKind::Block)
}

#[test]
fn seeded_random_is_dotnets_sequence() {
    // The texts Mono (and .NET, whose seeded Random keeps the same algorithm) prints.
    assert_eq!(
        block("var r = new Random(42); return r.Next() + \" \" + r.Next() + \" \" + r.Next();"),
        "1434747710 302596119 269548474"
    );
    assert_eq!(
        block(
            "var q = new Random(1); return q.Next(1, 2) + \" \" + q.Next(100) + \" \" + q.NextDouble().ToString(\"R\") + \" \" + q.Next(-5, int.MaxValue);"
        ),
        "1 11 0.46701067987224587 245238201"
    );
    assert_eq!(
        run("new Random(1).Next(-1)"),
        "!ArgumentOutOfRangeException"
    );
    assert_eq!(run("new Random().Next(5) < 5"), "True");
}

#[test]
fn text_encodings() {
    assert_eq!(
        run("Convert.ToBase64String(Encoding.Unicode.GetBytes(\"a\"))"),
        "YQA="
    );
    assert_eq!(run("Encoding.UTF8.GetByteCount(\"日本\")"), "6");
    assert_eq!(
        run("Encoding.ASCII.GetString(Encoding.ASCII.GetBytes(\"é\"))"),
        "?"
    );
    assert_eq!(run("Encoding.UTF8.WebName"), "utf-8");
    assert_eq!(
        run("Encoding.Unicode.GetString(new byte[] { 104, 0, 105, 0 })"),
        "hi"
    );
    assert_eq!(
        run("Encoding.UTF8.GetBytes((string)null)"),
        "!ArgumentNullException"
    );
}
