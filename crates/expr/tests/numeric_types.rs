//! .NET's numeric types kept apart (crates/expr/src/numeric.rs): literal types, binary numeric
//! promotion, unchecked wrap-around and `checked` overflow, shifts, conversions, float and
//! decimal arithmetic and text, and the members of Decimal, Double, Single and the integers.
//! Each expected result is what C# gives (checked against modern .NET's documented behaviour;
//! the oracle, tests/oracle/expressions.txt, runs the same rules through a C# compiler).

mod support;

use gatehouse_expr::{ExprKind, MapContext};
use support::{run_in, text_or_kind_as};

/// The text of an expression (or a `{ … }` block), or `!Exception`.
fn run(src: &str) -> String {
    match run_in(src, &mut MapContext::new()) {
        Ok(v) => v.to_display(),
        Err(e) => format!("!{}", e.kind),
    }
}

/// `Type text` of an expression's result, or `!Exception`.
fn typed(src: &str) -> String {
    match run_in(src, &mut MapContext::new()) {
        Ok(v) => format!("{} {}", v.type_name().trim_start_matches("System."), v),
        Err(e) => format!("!{}", e.kind),
    }
}

#[test]
fn literals_have_their_csharp_types() {
    assert_eq!(typed("1"), "Int32 1");
    assert_eq!(typed("2147483648"), "UInt32 2147483648");
    assert_eq!(typed("4294967296"), "Int64 4294967296");
    assert_eq!(typed("9223372036854775808"), "UInt64 9223372036854775808");
    assert_eq!(typed("-2147483648"), "Int32 -2147483648");
    assert_eq!(typed("-9223372036854775808"), "Int64 -9223372036854775808");
    assert_eq!(typed("1L"), "Int64 1");
    assert_eq!(typed("1U"), "UInt32 1");
    assert_eq!(typed("1UL"), "UInt64 1");
    assert_eq!(typed("0xFFFFFFFF"), "UInt32 4294967295");
    assert_eq!(typed("1.5"), "Double 1.5");
    assert_eq!(typed("1.5f"), "Single 1.5");
    assert_eq!(typed("1d"), "Double 1");
    assert_eq!(typed("1.50m"), "Decimal 1.50");
    assert_eq!(typed("1m"), "Decimal 1");
}

#[test]
fn promotion_and_wrap_around() {
    assert_eq!(typed("1 + 1L"), "Int64 2");
    assert_eq!(typed("1 + 1U"), "UInt32 2");
    assert_eq!(typed("{ int a = 1; uint b = 1; return a + b; }"), "Int64 2");
    assert_eq!(typed("1.5f + 1"), "Single 2.5");
    assert_eq!(typed("1.5f + 1.0"), "Double 2.5");
    assert_eq!(typed("1m + 1"), "Decimal 2");
    assert_eq!(typed("(byte)1 + (byte)2"), "Int32 3");
    assert_eq!(typed("'a' + 1"), "Int32 98");
    assert_eq!(
        run("{ ulong u = 1; long l = 1; return u + l; }"),
        "!CompilationError"
    );
    // Between constants C# rejects it at compile time, so gatehouse rejects it when parsing
    // (crates/expr/src/constants.rs); between variables, when it runs.
    assert!(gatehouse_expr::parse("1m + 1.0", gatehouse_expr::ExprKind::Single).is_err());
    assert_eq!(
        run("{ var m = 1m; var d = 1.0; return m + d; }"),
        "!CompilationError"
    );
    assert_eq!(
        run("{ var x = int.MaxValue; return x + 1; }"),
        "-2147483648"
    );
    assert_eq!(
        run("{ var x = long.MaxValue; return x + 1; }"),
        "-9223372036854775808"
    );
    assert_eq!(
        run("{ var x = uint.MinValue; return x - 1; }"),
        "4294967295"
    );
    assert_eq!(run("1 << 33"), "2");
    assert_eq!(run("1L << 65"), "2");
    assert_eq!(run("-16 >> 2"), "-4");
    assert_eq!(run("0xFFFFFFFFu >> 28"), "15");
    assert_eq!(run("7 / 2"), "3");
    assert_eq!(run("-7 % 3"), "-1");
    assert_eq!(
        run("{ var z = 0; return 1 / z; }"),
        "!DivideByZeroException"
    );
    assert_eq!(
        run("{ var z = 0m; return 1m / z; }"),
        "!DivideByZeroException"
    );
    assert_eq!(run("{ var z = 0.0; return 1 / z; }"), "Infinity");
    assert_eq!(
        run("{ var m = int.MinValue; return m / -1; }"),
        "!OverflowException"
    );
    assert_eq!(run("{ byte b = 255; b++; return b; }"), "0");
    assert_eq!(typed("{ short s = 1; s += 2; return s; }"), "Int16 3");
    assert_eq!(typed("{ char c = 'a'; c++; return c; }"), "Char b");
}

#[test]
fn checked_and_unchecked() {
    assert_eq!(
        run("{ var x = int.MaxValue; return checked(x + 1); }"),
        "!OverflowException"
    );
    assert_eq!(
        run("{ var x = int.MaxValue; return unchecked(x + 1); }"),
        "-2147483648"
    );
    assert_eq!(
        text_or_kind_as(
            "var x = int.MaxValue; checked { x++; } return x;",
            ExprKind::Block
        ),
        "!OverflowException"
    );
    assert_eq!(
        text_or_kind_as(
            "var x = int.MaxValue; checked { unchecked { x++; } } return x;",
            ExprKind::Block
        ),
        "-2147483648"
    );
    assert_eq!(run("{ var big = 300; return (byte)big; }"), "44");
    assert_eq!(
        run("{ var big = 300; return checked((byte)big); }"),
        "!OverflowException"
    );
    assert_eq!(
        run("{ var m = int.MinValue; return checked(-m); }"),
        "!OverflowException"
    );
    assert_eq!(
        run("{ var d = 1e10; return checked((int)d); }"),
        "!OverflowException"
    );
}

#[test]
fn conversions() {
    assert_eq!(run("(int)2.9"), "2");
    assert_eq!(run("(int)-2.9"), "-2");
    assert_eq!(run("{ var d = double.NaN; return (int)d; }"), "-2147483648");
    assert_eq!(run("{ var d = 1e10; return (int)d; }"), "-2147483648");
    assert_eq!(
        run("{ var m = 1e20m; return (int)m; }"),
        "!OverflowException"
    );
    assert_eq!(run("(decimal)0.1"), "0.1");
    assert_eq!(run("(decimal)(1.0 / 3)"), "0.333333333333333");
    assert_eq!(run("(float)0.1"), "0.1");
    assert_eq!(run("(double)0.1f"), "0.10000000149011612");
    assert_eq!(run("(char)65"), "A");
    assert_eq!(typed("(long)1"), "Int64 1");
    assert_eq!(run("(int)(object)1L"), "!InvalidCastException");
    assert_eq!(run("(long)(object)1"), "!InvalidCastException");
    assert_eq!(run("1 is int"), "True");
    assert_eq!(run("1L is int"), "False");
    assert_eq!(run("1.5f is float"), "True");
    assert_eq!(run("1 == 1L"), "True");
    assert_eq!(run("1.0f == 1.0"), "True");
    assert_eq!(run("0.1f == 0.1"), "False");
    assert_eq!(typed("{ long n = 5; return n; }"), "Int64 5");
    assert_eq!(typed("{ double d = 5; return d; }"), "Double 5");
    assert_eq!(typed("{ decimal m = 5; return m; }"), "Decimal 5");
    assert_eq!(run("1L.GetType().Name"), "Int64");
    assert_eq!(run("1.5m.GetType().FullName"), "System.Decimal");
    assert_eq!(typed("DateTime.MinValue.Ticks"), "Int64 0");
    assert_eq!(
        typed("JObject.Parse(\"{\\\"a\\\":1}\")[\"a\"].Value<long>()"),
        "Int64 1"
    );
}

#[test]
fn float_and_decimal_arithmetic_and_text() {
    assert_eq!(run("1.1f * 3"), "3.3000002");
    assert_eq!(run("0.1f + 0.2f"), "0.3");
    assert_eq!(run("0.1 + 0.2"), "0.30000000000000004");
    assert_eq!(run("0.1m + 0.2m"), "0.3");
    assert_eq!(run("1.0m * 3"), "3.0");
    assert_eq!(run("1.50m"), "1.50");
    assert_eq!(run("10m / 4"), "2.5");
    assert_eq!(run("1m / 3"), "0.3333333333333333333333333333");
    assert_eq!(run("float.MaxValue"), "3.4028235E+38");
    // .NET Core switches to exponent form past 17 digits (max(digits, 17)), not at 1E+15.
    assert_eq!(run("1e16"), "10000000000000000");
    assert_eq!(run("1e17"), "1E+17");
    assert_eq!(run("123456789012345.0"), "123456789012345");
    assert_eq!(run("0.0001"), "0.0001");
    assert_eq!(run("0.00001"), "1E-05");
    assert_eq!(run("decimal.MaxValue + 1"), "!OverflowException");
    assert_eq!(run("1.005m.ToString(\"F2\")"), "1.01");
    assert_eq!(run("1234.5m.ToString(\"N1\")"), "1,234.5");
    assert_eq!(run("1.5m.ToString(\"0.00\")"), "1.50");
    assert_eq!(run("0.5m.ToString(\"P0\")"), "50 %");
    assert_eq!(run("1.25f.ToString(\"F1\")"), "1.2");
    assert_eq!(run("(-1).ToString(\"X\")"), "FFFFFFFF");
    assert_eq!(run("(-1L).ToString(\"X\")"), "FFFFFFFFFFFFFFFF");
    assert_eq!(run("((byte)200).ToString(\"X\")"), "C8");
    assert_eq!(
        run("ulong.MaxValue.ToString(\"N0\")"),
        "18,446,744,073,709,551,615"
    );
}

#[test]
fn decimal_members() {
    assert_eq!(run("decimal.Add(1.1m, 2.2m)"), "3.3");
    assert_eq!(run("decimal.Divide(1, 8)"), "0.125");
    assert_eq!(run("decimal.Remainder(7.5m, 2)"), "1.5");
    assert_eq!(run("decimal.Negate(1.5m)"), "-1.5");
    assert_eq!(run("decimal.Round(2.5m)"), "2");
    assert_eq!(run("decimal.Round(2.345m, 2)"), "2.34");
    assert_eq!(
        run("decimal.Round(2.345m, 2, MidpointRounding.AwayFromZero)"),
        "2.35"
    );
    assert_eq!(run("Math.Round(1.005m, 2)"), "1.00");
    assert_eq!(run("decimal.Truncate(-1.7m)"), "-1");
    assert_eq!(run("decimal.Floor(-1.2m)"), "-2");
    assert_eq!(run("decimal.Ceiling(1.2m)"), "2");
    assert_eq!(run("decimal.ToInt32(-2.9m)"), "-2");
    assert_eq!(run("decimal.ToByte(300m)"), "!OverflowException");
    assert_eq!(typed("decimal.ToDouble(0.1m)"), "Double 0.1");
    assert_eq!(
        run("string.Join(\",\", decimal.GetBits(-1.50m))"),
        "150,0,0,-2147352576"
    );
    assert_eq!(run("decimal.Compare(1.0m, 1m)"), "0");
    assert_eq!(run("decimal.One + decimal.MinusOne"), "0");
    assert_eq!(run("decimal.MaxValue"), "79228162514264337593543950335");
    assert_eq!(run("decimal.Parse(\"1,234.50\")"), "1234.50");
    assert_eq!(run("decimal.Parse(\"1e3\")"), "!FormatException");
    assert_eq!(
        run("{ decimal.TryParse(\"2.50\", out var m); return m; }"),
        "2.50"
    );
    assert_eq!(run("decimal.FromOACurrency(12345)"), "1.2345");
    assert_eq!(run("decimal.ToOACurrency(1.23456m)"), "12346");
}

#[test]
fn double_single_and_integer_members() {
    assert_eq!(run("double.IsNaN(0.0 / 0)"), "True");
    assert_eq!(run("double.IsFinite(1.0 / 0)"), "False");
    assert_eq!(run("double.IsNegative(-0.0)"), "True");
    assert_eq!(run("double.IsSubnormal(double.Epsilon)"), "True");
    assert_eq!(run("double.IsNormal(1.0)"), "True");
    assert_eq!(run("float.IsSubnormal(1e-40f)"), "True");
    assert_eq!(run("double.Epsilon"), "5E-324");
    assert_eq!(run("float.Epsilon"), "1E-45");
    assert_eq!(run("float.Parse(\"1.1\") * 3"), "3.3000002");
    assert_eq!(run("double.Parse(\"1,000.5\")"), "1000.5");
    assert_eq!(run("double.Parse(\"-Infinity\")"), "-Infinity");
    assert_eq!(run("int.Parse(\"2147483648\")"), "!OverflowException");
    assert_eq!(typed("uint.Parse(\"4294967295\")"), "UInt32 4294967295");
    assert_eq!(run("uint.Parse(\"-1\")"), "!OverflowException");
    assert_eq!(typed("ulong.MaxValue"), "UInt64 18446744073709551615");
    assert_eq!(typed("short.MinValue"), "Int16 -32768");
    assert_eq!(typed("sbyte.MinValue"), "SByte -128");
    assert_eq!(run("1.CompareTo(2)"), "-1");
    assert_eq!(run("1L.CompareTo(1)"), "0");
    assert_eq!(run("1.CompareTo(1L)"), "!ArgumentException");
    assert_eq!(run("1.Equals(1L)"), "False");
    assert_eq!(run("1L.Equals(1)"), "True");
    assert_eq!(run("double.NaN.Equals(double.NaN)"), "True");
    assert_eq!(run("double.NaN.CompareTo(0.0)"), "-1");
    assert_eq!(run("1.GetTypeCode()"), "Int32");
    assert_eq!(run("1.5m.GetTypeCode()"), "Decimal");
    assert_eq!(run("(1L << 40).GetHashCode()"), "256");
    assert_eq!(run("Convert.ToInt32(2.5)"), "2");
    assert_eq!(run("Convert.ToInt32(3.5)"), "4");
    assert_eq!(run("Convert.ToInt32(2.5m)"), "2");
    assert_eq!(run("Convert.ToInt32(3000000000L)"), "!OverflowException");
    assert_eq!(
        typed("Convert.ToUInt32(\"4000000000\")"),
        "UInt32 4000000000"
    );
    assert_eq!(typed("Convert.ToDecimal(0.1)"), "Decimal 0.1");
    assert_eq!(typed("Convert.ToSingle(1)"), "Single 1");
    assert_eq!(run("Convert.ToDouble('a')"), "!InvalidCastException");
    assert_eq!(run("Convert.ToByte(-1)"), "!OverflowException");
    assert_eq!(
        run("BitConverter.ToString(BitConverter.GetBytes(1L))"),
        "01-00-00-00-00-00-00-00"
    );
    assert_eq!(
        run("BitConverter.ToString(BitConverter.GetBytes(1.5f))"),
        "00-00-C0-3F"
    );
    assert_eq!(
        run("BitConverter.ToString(BitConverter.GetBytes((short)-2))"),
        "FE-FF"
    );
    assert_eq!(run("BitConverter.SingleToInt32Bits(1.0f)"), "1065353216");
    assert_eq!(run("BitConverter.Int32BitsToSingle(1065353216)"), "1");
    assert_eq!(
        typed("BitConverter.ToUInt64(BitConverter.GetBytes(-1L), 0)"),
        "UInt64 18446744073709551615"
    );
}

#[test]
fn math_div_rem_and_ieee_remainder() {
    assert_eq!(
        run("{ var q = Math.DivRem(7, 2, out int r); return q + \",\" + r; }"),
        "3,1"
    );
    assert_eq!(
        typed("{ Math.DivRem(-7L, 2L, out long r); return r; }"),
        "Int64 -1"
    );
    assert_eq!(run("Math.DivRem(7, 2).Remainder"), "1");
    assert_eq!(
        run("{ var z = 0; return Math.DivRem(1, z); }"),
        "!DivideByZeroException"
    );
    assert_eq!(run("Math.IEEERemainder(3, 2)"), "-1");
    assert_eq!(run("Math.IEEERemainder(5, 2)"), "1");
    assert_eq!(
        run("Math.BigMul(int.MaxValue, int.MaxValue)"),
        "4611686014132420609"
    );
    assert_eq!(run("Math.Abs(-1.5m)"), "1.5");
    assert_eq!(typed("Math.Max(1, 2L)"), "Int64 2");
    assert_eq!(typed("Math.Max((byte)1, (byte)2)"), "Byte 2");
    assert_eq!(
        run("{ var m = int.MinValue; return Math.Abs(m); }"),
        "!OverflowException"
    );
    assert_eq!(run("Math.Clamp(1m, 5m, 0m)"), "!ArgumentException");
    assert_eq!(run("Math.Sign(-0.5m)"), "-1");
}

#[test]
fn decimal_constructors_and_change_type() {
    assert_eq!(run("new decimal(150, 0, 0, true, 2)"), "-1.50");
    assert_eq!(
        run("new decimal(new[] { 150, 0, 0, -2147352576 })"),
        "-1.50"
    );
    assert_eq!(
        run("new decimal(1, 0, 0, false, 29)"),
        "!ArgumentOutOfRangeException"
    );
    assert_eq!(typed("new decimal(0.1)"), "Decimal 0.1");
    assert_eq!(typed("Convert.ChangeType(\"42\", typeof(int))"), "Int32 42");
    assert_eq!(typed("Convert.ChangeType(2.5, typeof(int))"), "Int32 2");
    assert_eq!(
        run("Convert.ChangeType(null, typeof(int))"),
        "!InvalidCastException"
    );
    assert_eq!(run("Convert.GetTypeCode(1L)"), "Int64");
    assert_eq!(run("Convert.IsDBNull(null)"), "False");
}

/// C#'s checked context is lexical: a lambda or local function written inside `checked` checks
/// wherever it runs; one written outside does not, even when called from inside.
#[test]
fn checked_is_lexical() {
    assert_eq!(
        run("{ int Inc(int x) { return x + 1; } return checked(Inc(int.MaxValue)); }"),
        "-2147483648"
    );
    assert_eq!(
        run("{ checked { int Inc(int x) { return x + 1; } return Inc(int.MaxValue); } }"),
        "!OverflowException"
    );
    assert_eq!(
        run("{ Func<int, int> f = x => x + 1; return checked(f(int.MaxValue)); }"),
        "-2147483648"
    );
    assert_eq!(
        run("{ var xs = new[] { int.MaxValue }; return checked(xs.Select(x => x + 1).First()); }"),
        "!OverflowException"
    );
}
