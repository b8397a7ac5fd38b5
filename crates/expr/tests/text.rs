//! Regex instances, NextMatch, MatchEvaluator, Unescape; TimeSpan and DateTime formats and
//! parsing, as C# gives them (checked with Mono).

mod support;

use support::text_or_kind as run;

#[test]
fn regexes() {
    assert_eq!(
        run(r#"Regex.Match("a1b22c", @"\d+").NextMatch().Value"#),
        "22"
    );
    assert_eq!(
        run(r#"Regex.Match("a1b22c", @"\d+").NextMatch().Index"#),
        "3"
    );
    assert_eq!(
        run(r#"Regex.Match("a1", @"\d").NextMatch().NextMatch().Success"#),
        "False"
    );
    assert_eq!(run(r#"Regex.Matches("é1é2", @"\d")[1].Index"#), "3");
    assert_eq!(
        run(r#"Regex.Replace("a1b2", @"\d", m => (int.Parse(m.Value) * 2).ToString())"#),
        "a2b4"
    );
    assert_eq!(run(r#"new Regex(@"(\d)").Replace("a1", "[$1]")"#), "a[1]");
    assert_eq!(
        run(r#"new Regex("a", RegexOptions.IgnoreCase).Matches("AaA").Count"#),
        "3"
    );
    assert_eq!(run(r#"new Regex("(").IsMatch("x")"#), "!ArgumentException");
    assert_eq!(run(r#"Regex.Unescape(@"a\.b\x41")"#), "a.bA");
    assert_eq!(run(r#"Regex.Match("abc", "b").ToString()"#), "b");
}

#[test]
fn timespans_and_dates() {
    assert_eq!(
        run(r#"TimeSpan.Parse("1.02:03:04.5").TotalHours"#),
        "26.05125"
    );
    assert_eq!(run(r#"TimeSpan.Parse("bad")"#), "!FormatException");
    assert_eq!(
        run(r#"TimeSpan.FromSeconds(3661).ToString("g")"#),
        "1:01:01"
    );
    assert_eq!(
        run(r#"TimeSpan.FromSeconds(3661).ToString(@"hh\:mm")"#),
        "01:01"
    );
    assert_eq!(run(r#"$"{TimeSpan.FromMinutes(90):c}""#), "01:30:00");
    assert_eq!(run("TimeSpan.FromMinutes(1).Negate().Ticks"), "-600000000");
    assert_eq!(
        run("new TimeSpan(1, 2, 3, 4, 5).TotalMilliseconds"),
        "93784005"
    );
    assert_eq!(run("DateTime.DaysInMonth(2024, 2)"), "29");
    assert_eq!(
        run("DateTime.DaysInMonth(2024, 13)"),
        "!ArgumentOutOfRangeException"
    );
    assert_eq!(run("DateTime.IsLeapYear(1900)"), "False");
    assert_eq!(
        run("new DateTime(2024, 1, 2).ToString(\"Y\")"),
        "2024 January"
    );
}

#[test]
fn normalization() {
    assert_eq!(run("\"e\\u0301\".Normalize().Length"), "1");
    assert_eq!(
        run("\"\\u00e9\".Normalize(NormalizationForm.FormD).Length"),
        "2"
    );
    assert_eq!(run("\"ﬁ\".Normalize(NormalizationForm.FormKC)"), "fi");
    assert_eq!(run("\"e\\u0301\".IsNormalized()"), "False");
}

#[test]
fn parse_exact() {
    assert_eq!(
        run(
            "DateTime.ParseExact(\"02.01.2024\", \"dd.MM.yyyy\", System.Globalization.CultureInfo.InvariantCulture).Day"
        ),
        "2"
    );
    assert_eq!(
        run("DateTime.ParseExact(\"2024-13-01\", \"yyyy-MM-dd\", null)"),
        "!FormatException"
    );
}

// Encoding.UTF8.EncodingName                       // Unicode (UTF-8)
// BitConverter.ToString(Encoding.UTF8.GetPreamble()) // EF-BB-BF
// Encoding.UTF8.GetMaxByteCount(10)                // 33
// Encoding.Unicode.GetMaxCharCount(11)             // 7
// Encoding.GetEncoding("UTF-16BE").CodePage        // 1201
#[test]
fn encoding_members() {
    let cases = [
        ("Encoding.UTF8.EncodingName", "Unicode (UTF-8)"),
        (
            "Encoding.BigEndianUnicode.EncodingName",
            "Unicode (Big-Endian)",
        ),
        ("Encoding.ASCII.WindowsCodePage", "1252"),
        (
            "BitConverter.ToString(Encoding.UTF8.GetPreamble())",
            "EF-BB-BF",
        ),
        (
            "BitConverter.ToString(Encoding.UTF32.GetPreamble())",
            "FF-FE-00-00",
        ),
        ("Encoding.UTF8.GetMaxByteCount(10)", "33"),
        ("Encoding.UTF32.GetMaxByteCount(10)", "44"),
        (
            "Encoding.UTF8.GetMaxByteCount(-1)",
            "!ArgumentOutOfRangeException",
        ),
        ("Encoding.UTF8.GetMaxCharCount(10)", "11"),
        ("Encoding.Unicode.GetMaxCharCount(11)", "7"),
        ("Encoding.UTF32.GetMaxCharCount(10)", "7"),
        (
            "new string(Encoding.UTF8.GetChars(new byte[] { 0x68, 0xC3, 0xA9 }))",
            "hé",
        ),
        (r#"Encoding.GetEncoding("UTF-16BE").CodePage"#, "1201"),
        (r#"Encoding.GetEncoding("latin1").WebName"#, "iso-8859-1"),
        (
            "Encoding.GetEncoding(65001).EncodingName",
            "Unicode (UTF-8)",
        ),
        (r#"Encoding.GetEncoding("nope")"#, "!ArgumentException"),
        ("Encoding.GetEncoding(437)", "!NotSupportedException"),
        (
            "Encoding.GetEncoding(70000)",
            "!ArgumentOutOfRangeException",
        ),
        (
            "BitConverter.ToString(Encoding.Convert(Encoding.UTF8, Encoding.Unicode, new byte[] { 0x68, 0xC3, 0xA9 }))",
            "68-00-E9-00",
        ),
        (
            "BitConverter.ToString(Encoding.Convert(Encoding.UTF8, Encoding.ASCII, new byte[] { 0x61, 0x68, 0xC3, 0xA9 }, 1, 3))",
            "68-3F",
        ),
        ("Encoding.GetEncoding(28591).IsAlwaysNormalized()", "True"),
        ("Encoding.UTF8.IsAlwaysNormalized()", "False"),
    ];
    for (src, want) in cases {
        assert_eq!(run(src), want, "{src}");
    }
    support::no_findings(
        r#"return Encoding.Convert(Encoding.GetEncoding("utf-8"), Encoding.ASCII, new byte[] { 1 }).Length;"#,
    );
}

// Guid.ParseExact("0123456789abcdef0123456789ABCDEF", "N") -> 01234567-89ab-cdef-0123-456789abcdef
// Guid.Parse("+1234567-89ab-cdef-0123-456789abcdef")       -> 01234567-… (Guid.cs's compat forms)
// Guid.Empty.CompareTo(null)                                -> 1
#[test]
fn guid_parse_exact_and_compare() {
    let cases = [
        (
            r#"Guid.ParseExact("0123456789abcdef0123456789ABCDEF", "N").ToString()"#,
            "01234567-89ab-cdef-0123-456789abcdef",
        ),
        (
            r#"Guid.ParseExact("{01234567-89ab-cdef-0123-456789abcdef}", "B").ToString()"#,
            "01234567-89ab-cdef-0123-456789abcdef",
        ),
        (
            r#"Guid.ParseExact("01234567-89ab-cdef-0123-456789abcdef", "N")"#,
            "!FormatException",
        ),
        (
            r#"Guid.ParseExact("01234567-89ab-cdef-0123-456789abcdef", "Q")"#,
            "!FormatException",
        ),
        (
            r#"Guid.TryParseExact("0123456789abcdef0123456789abcdef", "D", out var g)"#,
            "False",
        ),
        (
            r#"Guid.Parse("+1234567-89ab-cdef-0123-456789abcdef").ToString()"#,
            "01234567-89ab-cdef-0123-456789abcdef",
        ),
        (
            r#"Guid.Parse("01234567-89ab-cdef-0123-4567+9abcdef")"#,
            "!FormatException",
        ),
        (
            r#"Guid.Parse("91234567-89ab-cdef-0123-456789abcdef").CompareTo(Guid.Empty)"#,
            "1",
        ),
        ("Guid.Empty.CompareTo(null)", "1"),
    ];
    for (src, want) in cases {
        assert_eq!(run(src), want, "{src}");
    }
    support::no_findings(
        r#"Guid.TryParseExact("x", "N", out var g); return Guid.ParseExact("0123456789abcdef0123456789abcdef", "N").CompareTo(g);"#,
    );
}

// char.ConvertToUtf32("a\U0001F600", 1) -> 128512; char.GetUnicodeCategory('(') -> OpenPunctuation
// "hello world".LastIndexOfAny(new[] { 'o', 'l' }, 7, 2) -> 7;  string.CompareOrdinal("a", "c") -> -2
#[test]
fn char_utf16_members_and_string_any() {
    let cases = [
        ("(int)char.MaxValue", "65535"),
        (r#"char.IsHighSurrogate("a\U0001F600", 1)"#, "True"),
        (r#"char.IsSurrogatePair("a\U0001F600", 1)"#, "True"),
        ("char.IsSurrogate('a')", "False"),
        ("char.ConvertFromUtf32(0x1F600)", "😀"),
        (
            "char.ConvertFromUtf32(0xD800)",
            "!ArgumentOutOfRangeException",
        ),
        (r#"char.ConvertToUtf32("a\U0001F600", 1)"#, "128512"),
        (
            r#"char.ConvertToUtf32("a\U0001F600", 2)"#,
            "!ArgumentException",
        ),
        (
            "char.ConvertToUtf32('a', 'b')",
            "!ArgumentOutOfRangeException",
        ),
        ("char.GetUnicodeCategory('(')", "OpenPunctuation"),
        ("char.GetUnicodeCategory('\\u0301')", "NonSpacingMark"),
        (
            r#"char.GetUnicodeCategory("a\U0001F600", 1)"#,
            "OtherSymbol",
        ),
        (r#""hello world".IndexOfAny(new[] { 'o', 'w' }, 5)"#, "6"),
        (
            r#""hello world".LastIndexOfAny(new[] { 'o', 'l' }, 7, 2)"#,
            "7",
        ),
        (
            r#""hello world".IndexOfAny(new[] { 'o' }, 12)"#,
            "!ArgumentOutOfRangeException",
        ),
        (r#"string.CompareOrdinal("a", "c")"#, "-2"),
        (r#"string.Copy("abc")"#, "abc"),
    ];
    for (src, want) in cases {
        assert_eq!(run(src), want, "{src}");
    }
    support::no_findings(
        r#"return char.ConvertFromUtf32(65) + string.CompareOrdinal("a", "b") + "x".IndexOfAny(new[] { 'x' }) + char.GetUnicodeCategory('a');"#,
    );
}
