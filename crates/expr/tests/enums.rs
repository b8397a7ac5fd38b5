//! APIM's enums as values (crates/expr/src/library/enums.rs): System.Enum's static and instance
//! members, casts, operators and patterns, and the members that give and take them, as C# gives
//! them (checked with Mono).

mod support;

use gatehouse_expr::ExprKind;
use support::text_or_kind as run;

fn block(src: &str) -> String {
    support::text_or_kind_as(src, ExprKind::Block)
}

#[test]
fn parse_names_numbers_and_lists() {
    assert_eq!(run(r#"Enum.Parse(typeof(DayOfWeek), "Monday")"#), "Monday");
    assert_eq!(
        run(r#"Enum.Parse(typeof(DayOfWeek), " monday ", true)"#),
        "Monday"
    );
    assert_eq!(
        run(r#"Enum.Parse(typeof(DayOfWeek), "monday")"#),
        "!ArgumentException"
    );
    assert_eq!(
        run(r#"Enum.Parse(typeof(StringComparison), "4")"#),
        "Ordinal"
    );
    assert_eq!(
        run(r#"(int)Enum.Parse(typeof(RegexOptions), "IgnoreCase, Multiline")"#),
        "3"
    );
    // Pfx and Pkcs12 share 3; .NET names it Pfx.
    assert_eq!(
        run(r#"Enum.Parse(typeof(X509ContentType), "Pkcs12")"#),
        "Pfx"
    );
    assert_eq!(run(r#"Enum.Parse(typeof(int), "1")"#), "!ArgumentException");
    assert_eq!(
        run(r#"Enum.Parse(typeof(System.DayOfWeek), "Friday")"#),
        "Friday"
    );
}

#[test]
fn names_values_and_definitions() {
    assert_eq!(run("Enum.GetName(typeof(DayOfWeek), 3)"), "Wednesday");
    assert_eq!(run("Enum.GetName(typeof(DayOfWeek), 9) == null"), "True");
    assert_eq!(
        run(r#"string.Join(",", Enum.GetNames(typeof(UriPartial)))"#),
        "Scheme,Authority,Path,Query"
    );
    assert_eq!(
        run(r#"string.Join(",", Enum.GetNames(typeof(PaddingMode)))"#),
        "None,PKCS7,Zeros,ANSIX923,ISO10126"
    );
    assert_eq!(run("Enum.GetValues(typeof(JTokenType)).Length"), "18");
    assert_eq!(
        run(r#"Enum.IsDefined(typeof(DayOfWeek), "Friday")"#),
        "True"
    );
    assert_eq!(
        run(r#"Enum.IsDefined(typeof(DayOfWeek), "friday")"#),
        "False"
    );
    assert_eq!(run("Enum.IsDefined(typeof(DayOfWeek), 7)"), "False");
    assert_eq!(run("Enum.ToObject(typeof(DayOfWeek), 2)"), "Tuesday");
    assert_eq!(run("JTokenType.GetNames(typeof(JTokenType)).Length"), "18");
}

#[test]
fn formats() {
    assert_eq!(
        run(r#"Enum.Format(typeof(RegexOptions), 3, "G")"#),
        "IgnoreCase, Multiline"
    );
    assert_eq!(run(r#"Enum.Format(typeof(DayOfWeek), 3, "D")"#), "3");
    assert_eq!(run(r#"Enum.Format(typeof(DayOfWeek), 3, "X")"#), "00000003");
    assert_eq!(
        run(r#"Enum.Format(typeof(DayOfWeek), DayOfWeek.Friday, "D")"#),
        "5"
    );
    assert_eq!(
        run(r#"Enum.Format(typeof(DayOfWeek), 3, "Q")"#),
        "!FormatException"
    );
}

#[test]
fn values_and_casts() {
    assert_eq!(run("DayOfWeek.Monday"), "Monday");
    assert_eq!(run("JTokenType.Array"), "Array");
    assert_eq!(run("UriPartial.Path"), "Path");
    assert_eq!(run("DateTimeKind.Utc"), "Utc");
    assert_eq!(
        run("new DateTime(2024, 3, 15).DayOfWeek == DayOfWeek.Friday"),
        "True"
    );
    assert_eq!(run("(DayOfWeek)1"), "Monday");
    assert_eq!(run("(int)(RegexOptions)3"), "3");
    assert_eq!(run("(StringComparison)5"), "OrdinalIgnoreCase");
    assert_eq!(run("(DayOfWeek)\"x\""), "!InvalidCastException");
}

#[test]
fn try_parse() {
    let block = |src: &str| support::text_or_kind_as(src, gatehouse_expr::ExprKind::Block);
    assert_eq!(
        block(r#"var ok = Enum.TryParse("Friday", out DayOfWeek d); return ok + " " + d;"#),
        "True Friday"
    );
    assert_eq!(
        block(
            r#"var ok = Enum.TryParse<DayOfWeek>("friday", true, out var d); return ok + " " + d;"#
        ),
        "True Friday"
    );
    assert_eq!(
        block(r#"var ok = Enum.TryParse<DayOfWeek>("nope", out var d); return ok + " " + d;"#),
        "False Sunday"
    );
    assert_eq!(
        block(r#"Enum.TryParse("Ordinal", out StringComparison c); return c;"#),
        "Ordinal"
    );
}

#[test]
fn has_flag_on_flags_enums() {
    assert_eq!(
        run("(RegexOptions.IgnoreCase | RegexOptions.Multiline).HasFlag(RegexOptions.Multiline)"),
        "True"
    );
    assert_eq!(
        run("RegexOptions.IgnoreCase.HasFlag(RegexOptions.Multiline)"),
        "False"
    );
    assert_eq!(
        run("RegexOptions.IgnoreCase.HasFlag(RegexOptions.None)"),
        "True"
    );
    assert_eq!(
        run(
            "(SaveOptions.DisableFormatting | SaveOptions.OmitDuplicateNamespaces).HasFlag(SaveOptions.DisableFormatting)"
        ),
        "True"
    );
}

#[test]
fn int_of_an_enum_value() {
    assert_eq!(run("(int)DayOfWeek.Saturday"), "6");
    assert_eq!(run("(int)new DateTime(2024, 3, 15).DayOfWeek"), "5");
    assert_eq!(run("(int)StringComparison.OrdinalIgnoreCase"), "5");
    assert_eq!(run("(int)XmlNodeType.Element"), "1");
    // `None` is 0 in most enums and 1 in PaddingMode: the value knows its enum.
    assert_eq!(run("(int)PaddingMode.None"), "1");
    assert_eq!(run("(int)RegexOptions.None"), "0");
}

/// An enum value's type, formats and own members.
#[test]
fn a_value_is_its_enum() {
    assert_eq!(
        run("DayOfWeek.Monday.GetType().FullName"),
        "System.DayOfWeek"
    );
    assert_eq!(
        run("JToken.Parse(\"[1]\").Type.GetType().FullName"),
        "Newtonsoft.Json.Linq.JTokenType"
    );
    assert_eq!(
        run("DayOfWeek.Friday.GetTypeCode() == TypeCode.Int32"),
        "True"
    );
    assert_eq!(run("DayOfWeek.Friday.GetHashCode()"), "5");
    assert_eq!(run("DayOfWeek.Monday.ToString(\"D\")"), "1");
    assert_eq!(run("DayOfWeek.Monday.ToString(\"X\")"), "00000001");
    assert_eq!(run("DayOfWeek.Monday.ToString(\"Q\")"), "!FormatException");
    assert_eq!(run("((DayOfWeek)9).ToString()"), "9");
    assert_eq!(
        run("(RegexOptions.IgnoreCase | RegexOptions.Multiline).ToString()"),
        "IgnoreCase, Multiline"
    );
    assert_eq!(
        run("$\"{DayOfWeek.Tuesday:D} {DayOfWeek.Tuesday}\""),
        "2 Tuesday"
    );
    assert_eq!(
        run("string.Format(\"{0} {0:X}\", DayOfWeek.Wednesday)"),
        "Wednesday 00000003"
    );
    assert_eq!(run("DayOfWeek.Monday.CompareTo(DayOfWeek.Friday)"), "-1");
    assert_eq!(run("DayOfWeek.Friday.CompareTo(5)"), "!ArgumentException");
    assert_eq!(run("DayOfWeek.Friday.Equals(5)"), "False");
    assert_eq!(
        run("RegexOptions.IgnoreCase.HasFlag(DayOfWeek.Monday)"),
        "!ArgumentException"
    );
}

#[test]
fn operators_casts_and_patterns() {
    assert_eq!(run("DayOfWeek.Monday < DayOfWeek.Friday"), "True");
    assert_eq!(run("DayOfWeek.Monday + 2"), "Wednesday");
    assert_eq!(run("DayOfWeek.Friday - DayOfWeek.Monday"), "4");
    assert_eq!(
        run("(RegexOptions.IgnoreCase | RegexOptions.Compiled).ToString(\"D\")"),
        "9"
    );
    assert_eq!(run("(long)DayOfWeek.Friday"), "5");
    assert_eq!(run("Convert.ToInt32(DayOfWeek.Friday)"), "5");
    assert_eq!(run("(DayOfWeek)3"), "Wednesday");
    assert_eq!(
        block("object o = DayOfWeek.Monday; return (o is DayOfWeek) + \" \" + (o is int);"),
        "True False"
    );
    assert_eq!(
        block(
            "switch (new DateTime(2024, 3, 16).DayOfWeek) { case DayOfWeek.Saturday: return \"weekend\"; default: return \"weekday\"; }"
        ),
        "weekend"
    );
    // The name in a string is not the enum.
    assert_eq!(
        run("DateTime.SpecifyKind(new DateTime(2024, 1, 2), \"Utc\")"),
        "!InvalidCastException"
    );
}

/// Members that give enum values, and members that take them.
#[test]
fn producers_and_consumers() {
    assert_eq!(
        run("new DateTime(2024, 3, 16).DayOfWeek == DayOfWeek.Saturday"),
        "True"
    );
    assert_eq!(
        run(
            "DateTime.SpecifyKind(new DateTime(2024, 1, 2), DateTimeKind.Local).Kind == DateTimeKind.Local"
        ),
        "True"
    );
    assert_eq!(
        run("XElement.Parse(\"<a/>\").NodeType == XmlNodeType.Element"),
        "True"
    );
    assert_eq!(
        run("char.GetUnicodeCategory('A') == UnicodeCategory.UppercaseLetter"),
        "True"
    );
    assert_eq!(
        run("new Uri(\"https://10.0.0.1/x\").HostNameType == UriHostNameType.IPv4"),
        "True"
    );
    assert_eq!(
        run("IPAddress.IPv6Any.AddressFamily == AddressFamily.InterNetworkV6"),
        "True"
    );
    assert_eq!(run("Aes.Create().Mode == CipherMode.CBC"), "True");
    assert_eq!(run("Aes.Create().Padding"), "PKCS7");
    assert_eq!(run("Math.Round(2.5, MidpointRounding.AwayFromZero)"), "3");
    assert_eq!(
        run("JObject.Parse(\"{\\\"a\\\":[1]}\").ToString(Formatting.None)"),
        "{\"a\":[1]}"
    );
    assert_eq!(
        run("Regex.IsMatch(\"ABC\", \"b\", RegexOptions.IgnoreCase | RegexOptions.Compiled)"),
        "True"
    );
    // Options the regex engine does not do are refused, not ignored.
    assert_eq!(
        run("Regex.IsMatch(\"ABC\", \"b\", RegexOptions.RightToLeft)"),
        "!NotSupportedException"
    );
    assert_eq!(
        run("Regex.IsMatch(\"ABC\", \"(b)\", RegexOptions.ExplicitCapture)"),
        "!NotSupportedException"
    );
}

/// `policy check` accepts the enums' members.
#[test]
fn policy_check_knows_the_members() {
    support::no_findings(
        "return UnicodeCategory.UppercaseLetter + \" \" + TypeCode.Int32 + \" \" + UriHostNameType.IPv4 + \" \" + AddressFamily.InterNetworkV6 + \" \" + NormalizationForm.FormD + \" \" + RegexOptions.RightToLeft;",
    );
}

#[test]
fn uri_kinds_and_reader_settings() {
    assert_eq!(
        run("new Uri(\"/a/b\", UriKind.Relative).IsAbsoluteUri"),
        "False"
    );
    assert_eq!(
        run("Uri.IsWellFormedUriString(\"/a\", UriKind.Relative)"),
        "True"
    );
    assert_eq!(
        run(
            "new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore }.DtdProcessing == DtdProcessing.Ignore"
        ),
        "True"
    );
    assert_eq!(run("(int)new XmlReaderSettings().ConformanceLevel"), "2");
}
