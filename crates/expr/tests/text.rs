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
