//! The one path of calls that write into a caller's array (crates/expr/src/interp/
//! destinations.rs, crates/expr/src/library/destinations.rs) and the one event mechanism
//! (crates/expr/src/interp/events.rs) across the kinds of receiver they serve. The oracle
//! (expressions-*.txt) compares each member against C#; these pin that every kind goes
//! through the same write-back and raise.

mod support;

use gatehouse_expr::ExprKind;
use support::text_or_kind_as;

fn block(body: &str) -> String {
    text_or_kind_as(body, ExprKind::Block)
}

#[test]
fn every_kind_of_destination_is_written_back_to_the_variable() {
    // A span method with an `out` argument, a reader, a list, a JArray, a string.
    assert_eq!(
        block(r#"var b = new char[4]; 42.TryFormat(b, out int n); return new string(b, 0, n);"#),
        "42"
    );
    assert_eq!(
        block(
            r#"var b = new char[3]; var r = new StringReader("abcd"); var n = r.Read(b, 0, 3); return n + new string(b);"#
        ),
        "3abc"
    );
    assert_eq!(
        block(
            r#"var l = new List<int> { 1, 2 }; var a = new int[3]; l.CopyTo(a, 1); return string.Join(",", a);"#
        ),
        "0,1,2"
    );
    assert_eq!(
        block(
            r#"var j = new JArray(1, 2); var a = new JToken[2]; j.CopyTo(a, 0); return (int)a[1];"#
        ),
        "2"
    );
    assert_eq!(
        block(r#"var a = new char[2]; "xy".CopyTo(0, a, 0, 2); return new string(a);"#),
        "xy"
    );
    // Into an element of a jagged array, and into a temporary (written and dropped).
    assert_eq!(
        block(
            r#"var a = new int[][] { new int[2] }; new List<int> { 7, 8 }.CopyTo(a[0]); new List<int> { 9 }.CopyTo(new int[1]); return a[0][1];"#
        ),
        "8"
    );
}

#[test]
fn the_destination_checks_stay_each_types_own() {
    assert_eq!(
        block(r#"var a = new int[1]; new List<int> { 1, 2 }.CopyTo(a); return 0;"#),
        "!ArgumentException"
    );
    assert_eq!(
        block(r#"var a = new JToken[1]; new JArray(1, 2).CopyTo(a, 0); return 0;"#),
        "!ArgumentException"
    );
    assert_eq!(
        block(r#"var b = new char[2]; new StringReader("abc").Read(b, 1, 2); return 0;"#),
        "!ArgumentException"
    );
}

#[test]
fn xml_and_json_events_are_raised_in_the_order_of_the_changes() {
    assert_eq!(
        block(
            r#"var log = ""; var x = new XElement("a"); var j = new JArray(); x.Changed += (o, e) => log += "x"; j.CollectionChanged += (o, e) => log += "j"; x.Add(1); j.Add(1); x.Add(2); return log;"#
        ),
        "xjx"
    );
    // Subscribing null changes nothing; a handler that is no delegate is refused with the
    // event's own delegate type.
    assert_eq!(
        block(
            r#"var n = 0; var x = new XElement("a"); x.Changed += (o, e) => n++; x.Changed += null; x.Add(1); return n;"#
        ),
        "1"
    );
    assert_eq!(
        block(r#"var x = new XElement("a"); x.Changed += 5; return 0;"#),
        "!InvalidCastException"
    );
}
