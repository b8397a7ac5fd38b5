//! Time zones by Windows id, as APIM (on Windows) knows them: Mono on Linux knows IANA ids only,
//! so the C# oracle cannot check these; the expected offsets are the zones' published ones.
//! DateTimeOffset keeping its offset is checked by the oracle corpus
//! (crates/expr/tests/oracle/expressions.txt) and here for what a policy typically does.

mod support;

use support::text_or_kind as run;

const SUMMER: &str = "new DateTime(2024, 7, 1, 12, 0, 0)";
const WINTER: &str = "new DateTime(2024, 1, 15, 12, 0, 0)";

fn zone(id: &str) -> String {
    format!("TimeZoneInfo.FindSystemTimeZoneById(\"{id}\")")
}

#[test]
fn windows_ids_convert_with_their_zones_rules() {
    let cases = [
        (
            "W. Europe Standard Time",
            "07/01/2024 14:00:00",
            "01/15/2024 13:00:00",
        ),
        (
            "Eastern Standard Time",
            "07/01/2024 08:00:00",
            "01/15/2024 07:00:00",
        ),
        (
            "Pacific Standard Time",
            "07/01/2024 05:00:00",
            "01/15/2024 04:00:00",
        ),
        (
            "Tokyo Standard Time",
            "07/01/2024 21:00:00",
            "01/15/2024 21:00:00",
        ),
        (
            "India Standard Time",
            "07/01/2024 17:30:00",
            "01/15/2024 17:30:00",
        ),
        (
            "GMT Standard Time",
            "07/01/2024 13:00:00",
            "01/15/2024 12:00:00",
        ),
        (
            "AUS Eastern Standard Time",
            "07/01/2024 22:00:00",
            "01/15/2024 23:00:00",
        ),
        ("UTC", "07/01/2024 12:00:00", "01/15/2024 12:00:00"),
    ];
    for (id, summer, winter) in cases {
        let z = zone(id);
        assert_eq!(
            run(&format!("TimeZoneInfo.ConvertTimeFromUtc({SUMMER}, {z})")),
            summer,
            "{id}"
        );
        assert_eq!(
            run(&format!("TimeZoneInfo.ConvertTimeFromUtc({WINTER}, {z})")),
            winter,
            "{id}"
        );
        assert_eq!(run(&format!("{z}.Id")), id);
    }
}

#[test]
fn windows_zone_properties() {
    let berlin = zone("W. Europe Standard Time");
    assert_eq!(run(&format!("{berlin}.BaseUtcOffset")), "01:00:00");
    assert_eq!(run(&format!("{berlin}.GetUtcOffset({SUMMER})")), "02:00:00");
    assert_eq!(
        run(&format!("{berlin}.IsDaylightSavingTime({SUMMER})")),
        "True"
    );
    assert_eq!(run(&format!("{berlin}.SupportsDaylightSavingTime")), "True");
    assert_eq!(
        run(&format!("{berlin}.StandardName")),
        "W. Europe Standard Time"
    );
    assert_eq!(
        run(&format!("{berlin}.DaylightName")),
        "W. Europe Daylight Time"
    );
    assert_eq!(
        run(&format!("{berlin}.DisplayName")),
        "(UTC+01:00) W. Europe Standard Time"
    );
    let tokyo = zone("Tokyo Standard Time");
    // Windows keeps only Japan's current rules: no daylight time.
    assert_eq!(run(&format!("{tokyo}.SupportsDaylightSavingTime")), "False");
    assert_eq!(run(&format!("{tokyo}.BaseUtcOffset")), "09:00:00");
    assert_eq!(
        run(&format!("{}.BaseUtcOffset", zone("Eastern Standard Time"))),
        "-05:00:00"
    );
}

#[test]
fn conversions_between_windows_ids() {
    assert_eq!(
        run(&format!(
            "TimeZoneInfo.ConvertTimeBySystemTimeZoneId({WINTER}, \"W. Europe Standard Time\", \"Tokyo Standard Time\")"
        )),
        "01/15/2024 20:00:00"
    );
    assert_eq!(
        run(&format!(
            "TimeZoneInfo.ConvertTimeBySystemTimeZoneId(new DateTimeOffset({SUMMER}, TimeSpan.Zero), \"Eastern Standard Time\").ToString(\"o\")"
        )),
        "2024-07-01T08:00:00.0000000-04:00"
    );
    assert_eq!(
        run(&format!(
            "TimeZoneInfo.ConvertTimeToUtc({SUMMER}, {})",
            zone("Eastern Standard Time")
        )),
        "07/01/2024 16:00:00"
    );
    // 02:30 on 2024-03-31 is skipped in Berlin: an invalid time.
    assert_eq!(
        run(&format!(
            "TimeZoneInfo.ConvertTimeToUtc(new DateTime(2024, 3, 31, 2, 30, 0), {})",
            zone("W. Europe Standard Time")
        )),
        "!ArgumentException"
    );
}

#[test]
fn unknown_ids_and_the_gateway_zone() {
    assert_eq!(
        run(&zone("Mars Standard Time")),
        "!TimeZoneNotFoundException"
    );
    assert_eq!(
        run(&zone("w. europe standard time")),
        "!TimeZoneNotFoundException"
    );
    assert_eq!(
        run("TimeZoneInfo.FindSystemTimeZoneById(null)"),
        "!ArgumentNullException"
    );
    assert_eq!(run("TimeZoneInfo.Local.BaseUtcOffset"), "00:00:00");
    assert_eq!(run("TimeZoneInfo.Local.Id"), "UTC");
    assert_eq!(run("DateTimeOffset.Now.Offset"), "00:00:00");
}

#[test]
fn offsets_survive_what_policies_do_with_them() {
    let d = "DateTimeOffset.Parse(\"2024-01-02T03:04:05+05:30\")";
    assert_eq!(
        run(&format!("{d}.ToString(\"o\")")),
        "2024-01-02T03:04:05.0000000+05:30"
    );
    assert_eq!(run(&format!("{d}.AddHours(1).Offset")), "05:30:00");
    assert_eq!(run(&format!("{d}.UtcDateTime")), "01/01/2024 21:34:05");
    assert_eq!(run(&format!("{d} == {d}.ToUniversalTime()")), "True");
    assert_eq!(
        run(&format!("{d}.EqualsExact({d}.ToUniversalTime())")),
        "False"
    );
    assert_eq!(
        run(&format!("{d}.ToOffset(TimeSpan.FromHours(20))")),
        "!ArgumentOutOfRangeException"
    );
}

#[test]
fn system_zones_are_windows_zones() {
    assert_eq!(
        run("TimeZoneInfo.GetSystemTimeZones().Any(z => z.Id == \"W. Europe Standard Time\")"),
        "True"
    );
    assert_eq!(
        run("TimeZoneInfo.GetSystemTimeZones().All(z => z.GetType().Name == \"TimeZoneInfo\")"),
        "True"
    );
    assert_eq!(
        run("TimeZone.CurrentTimeZone.GetType().FullName"),
        "System.CurrentSystemTimeZone"
    );
    assert_eq!(
        run("TimeZone.CurrentTimeZone.Id"),
        "!RuntimeBinderException"
    );
}

/// DateTime.Kind (crates/expr/src/datetime.rs): the gateway's local zone is UTC, so local and
/// UTC times share ticks and differ in kind, which `o`/`K` print and conversions check (Mono,
/// on a UTC host, gives the same).
#[test]
fn datetime_kinds() {
    assert_eq!(
        run("new DateTime(2024, 1, 2, 3, 4, 5).ToString(\"o\")"),
        "2024-01-02T03:04:05.0000000"
    );
    assert_eq!(
        run("new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc).ToString(\"o\")"),
        "2024-01-02T03:04:05.0000000Z"
    );
    assert_eq!(
        run("new DateTime(2024, 1, 2, 3, 4, 5).ToLocalTime().ToString(\"o\")"),
        "2024-01-02T03:04:05.0000000+00:00"
    );
    assert_eq!(
        run("DateTime.SpecifyKind(new DateTime(2024, 1, 2), DateTimeKind.Utc).AddDays(1).Kind"),
        "Utc"
    );
    assert_eq!(
        run(
            "new DateTime(2024, 1, 2, 0, 0, 0, DateTimeKind.Utc) == new DateTime(2024, 1, 2, 0, 0, 0, DateTimeKind.Local)"
        ),
        "True"
    );
    assert_eq!(
        run(
            "TimeZoneInfo.ConvertTimeFromUtc(new DateTime(2024, 7, 1, 12, 0, 0, DateTimeKind.Local), TimeZoneInfo.FindSystemTimeZoneById(\"W. Europe Standard Time\"))"
        ),
        "!ArgumentException"
    );
    assert_eq!(
        run(
            "TimeZoneInfo.ConvertTimeToUtc(new DateTime(2024, 7, 1, 12, 0, 0), TimeZoneInfo.FindSystemTimeZoneById(\"W. Europe Standard Time\")).ToString(\"o\")"
        ),
        "2024-07-01T10:00:00.0000000Z"
    );
}

/// TimeSpan's exact parsing and arithmetic, as Mono gives them.
#[test]
fn timespan_parse_exact_and_arithmetic() {
    let inv = "CultureInfo.InvariantCulture";
    assert_eq!(
        run(&format!(
            "TimeSpan.ParseExact(\"3:04\", \"h\\\\:mm\", {inv}).ToString()"
        )),
        "03:04:00"
    );
    assert_eq!(
        run(&format!(
            "TimeSpan.ParseExact(\"3:04\", \"hh\\\\:mm\", {inv})"
        )),
        "!FormatException"
    );
    assert_eq!(
        run(&format!("TimeSpan.ParseExact(\"25\", \"hh\", {inv})")),
        "!OverflowException"
    );
    assert_eq!(
        run(&format!(
            "TimeSpan.ParseExact(\"0:01:02:03.1234567\", \"G\", {inv}).ToString()"
        )),
        "01:02:03.1234567"
    );
    assert_eq!(
        run("TimeSpan.TryParseExact(\"x\", \"hh\\\\:mm\", null, out var r)"),
        "False"
    );
    assert_eq!(run("TimeSpan.FromTicks(5).Multiply(0.5).Ticks"), "2");
    assert_eq!(run("TimeSpan.Zero.Divide(0)"), "!OverflowException");
    assert_eq!(
        run("TimeSpan.FromMinutes(1).Multiply(double.NaN)"),
        "!ArgumentException"
    );
    assert_eq!(
        run("TimeSpan.MaxValue.Add(TimeSpan.FromTicks(1))"),
        "!OverflowException"
    );
}

/// Clock times around a zone's transitions, as Mono gives them for Europe/Berlin.
#[test]
fn ambiguous_and_invalid_clock_times() {
    let berlin = "TimeZoneInfo.FindSystemTimeZoneById(\"W. Europe Standard Time\")";
    assert_eq!(
        run(&format!(
            "{berlin}.IsAmbiguousTime(new DateTime(2024, 10, 27, 2, 30, 0))"
        )),
        "True"
    );
    assert_eq!(
        run(&format!(
            "{berlin}.IsInvalidTime(new DateTime(2024, 3, 31, 2, 30, 0))"
        )),
        "True"
    );
    assert_eq!(
        run(&format!(
            "string.Join(\",\", {berlin}.GetAmbiguousTimeOffsets(new DateTime(2024, 10, 27, 2, 30, 0)))"
        )),
        "01:00:00,02:00:00"
    );
    assert_eq!(
        run(&format!(
            "{berlin}.GetUtcOffset(new DateTime(2024, 10, 27, 2, 30, 0)).ToString()"
        )),
        "01:00:00"
    );
    assert_eq!(
        run(&format!(
            "{berlin}.GetAmbiguousTimeOffsets(new DateTime(2024, 10, 27, 4, 30, 0))"
        )),
        "!ArgumentException"
    );
}

/// TimeZoneInfo.TransitionTime and AdjustmentRule from their factories, as Mono builds and
/// checks them.
#[test]
fn transition_times_and_adjustment_rules() {
    let fixed =
        "TimeZoneInfo.TransitionTime.CreateFixedDateRule(new DateTime(1, 1, 1, 2, 30, 0), 3, 10)";
    assert_eq!(
        run(&format!(
            "{fixed}.Month + \"|\" + {fixed}.Day + \"|\" + {fixed}.IsFixedDateRule"
        )),
        "3|10|True"
    );
    assert_eq!(
        run(
            "TimeZoneInfo.TransitionTime.CreateFloatingDateRule(new DateTime(1, 1, 1, 2, 0, 0), 3, 6, DayOfWeek.Sunday)"
        ),
        "!ArgumentOutOfRangeException"
    );
    let s = "TransitionTime.CreateFloatingDateRule(new DateTime(1, 1, 1, 2, 0, 0), 3, 5, DayOfWeek.Sunday)";
    let e = "TransitionTime.CreateFloatingDateRule(new DateTime(1, 1, 1, 3, 0, 0), 10, 5, DayOfWeek.Sunday)";
    assert_eq!(
        run(&format!(
            "AdjustmentRule.CreateAdjustmentRule(new DateTime(2024, 1, 1), new DateTime(2024, 12, 31), TimeSpan.FromHours(1), {s}, {e}).DaylightTransitionEnd.Month"
        )),
        "10"
    );
    assert_eq!(
        run(&format!(
            "AdjustmentRule.CreateAdjustmentRule(new DateTime(2024, 1, 1), new DateTime(2024, 12, 31), TimeSpan.FromHours(1), {s}, {s})"
        )),
        "!ArgumentException"
    );
    support::no_findings(&format!("return {fixed}.Week;"));
}

fn block(src: &str) -> String {
    support::text_or_kind_as(src, gatehouse_expr::ExprKind::Block)
}

/// A custom zone with the EU rule (last Sunday of March 02:00 to last Sunday of October 03:00).
const EU_ZONE: &str = "TimeZoneInfo.CreateCustomTimeZone(\"EU\", TimeSpan.FromHours(1), \"(UTC+01:00) EU\", \"EU Std\", \"EU Dst\", new[] { AdjustmentRule.CreateAdjustmentRule(new DateTime(2000, 1, 1), DateTime.MaxValue.Date, TimeSpan.FromHours(1), TransitionTime.CreateFloatingDateRule(new DateTime(1, 1, 1, 2, 0, 0), 3, 5, DayOfWeek.Sunday), TransitionTime.CreateFloatingDateRule(new DateTime(1, 1, 1, 3, 0, 0), 10, 5, DayOfWeek.Sunday)) })";

/// Custom zones follow their rules, serialize in .NET's format and read back.
#[test]
fn custom_zones_follow_their_rules_and_round_trip() {
    assert_eq!(
        block(&format!(
            "var z = {EU_ZONE}; return z.GetUtcOffset({SUMMER}) + \" \" + z.GetUtcOffset({WINTER}) + \" \" + z.IsInvalidTime(new DateTime(2024, 3, 31, 2, 30, 0)) + \" \" + z.IsAmbiguousTime(new DateTime(2024, 10, 27, 2, 30, 0));"
        )),
        "02:00:00 01:00:00 True True"
    );
    assert_eq!(
        run(&format!("{EU_ZONE}.ToSerializedString()")),
        "EU;60;(UTC+01:00) EU;EU Std;EU Dst;[01:01:2000;12:31:9999;60;[0;02:00:00;3;5;0;];[0;03:00:00;10;5;0;];];"
    );
    assert_eq!(
        block(&format!(
            "var z = {EU_ZONE}; var y = TimeZoneInfo.FromSerializedString(z.ToSerializedString()); return y.Equals(z) + \" \" + y.GetUtcOffset({SUMMER});"
        )),
        "True 02:00:00"
    );
    assert_eq!(
        run("TimeZoneInfo.FromSerializedString(\"T;60;d;s;dl;\")"),
        "!SerializationException"
    );
    assert_eq!(
        run("TimeZoneInfo.CreateCustomTimeZone(\"x\", TimeSpan.FromSeconds(30), \"a\", \"b\")"),
        "!ArgumentException"
    );
    support::no_findings(
        "return TimeZoneInfo.CreateCustomTimeZone(\"x\", TimeSpan.Zero, \"a\", \"b\").Id;",
    );
}

/// A system zone's rules read back as a custom zone give the zone's offsets. Zones with two
/// daylight periods in a row (Berlin's 1945 double summer time, New York's 1945 war/peace
/// time) give rules whose dates touch, which CreateCustomTimeZone refuses as overlapping: .NET 8
/// on Linux derives the same rules and fails the same way.
#[test]
fn system_zone_rules_round_trip() {
    let z = zone("Australia/Sydney");
    for t in [
        SUMMER,
        WINTER,
        "new DateTime(2050, 7, 1)",
        "new DateTime(1995, 1, 10)",
    ] {
        let expr = format!(
            "var y = TimeZoneInfo.FromSerializedString({z}.ToSerializedString()); return (y.GetUtcOffset({t}) == {z}.GetUtcOffset({t})).ToString();"
        );
        assert_eq!(block(&expr), "True", "Sydney at {t}");
    }
    for id in ["Europe/Berlin", "America/New_York"] {
        assert_eq!(
            run(&format!(
                "TimeZoneInfo.FromSerializedString({}.ToSerializedString())",
                zone(id)
            )),
            "!SerializationException"
        );
    }
    assert_eq!(run("TimeZoneInfo.Utc.GetAdjustmentRules().Length"), "0");
    assert_eq!(
        run(&format!(
            "{}.GetAdjustmentRules().Length > 50",
            zone("Europe/Berlin")
        )),
        "True"
    );
}
