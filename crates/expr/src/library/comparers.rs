//! `System.StringComparer`: `Ordinal`, `OrdinalIgnoreCase`, `InvariantCulture(IgnoreCase)`,
//! `CurrentCulture(IgnoreCase)`, `FromComparison`, `Create`, and a comparer's `Compare`,
//! `Equals`, `GetHashCode`; also what LINQ's comparer overloads (`Contains(x, c)`,
//! `Distinct(c)`, `OrderBy(k, c)`) use.
//!
//! Ordinal comparisons follow .NET's `string.CompareOrdinal` (the difference of the first
//! differing UTF-16 units, else of the lengths) and `OrdinalIgnoreCase` (each unit upper-cased
//! by simple case mapping first). The culture-aware comparers use the invariant culture's
//! collation as crates/expr/src/library/ordering.rs approximates it (gatehouse's current culture
//! is the invariant culture, as the provider arguments assume). Checked against the C# oracle
//! (crates/expr/tests/oracle/expressions.txt, "// stringcomparer").

use std::cmp::Ordering;

use super::*;

/// Which comparer: the six `StringComparer` properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringComparerKind {
    CurrentCulture,
    CurrentCultureIgnoreCase,
    InvariantCulture,
    InvariantCultureIgnoreCase,
    Ordinal,
    OrdinalIgnoreCase,
}

use StringComparerKind as K;

/// In `StringComparison`'s order (its underlying values 0–5).
const KINDS: [(&str, StringComparerKind); 6] = [
    ("CurrentCulture", K::CurrentCulture),
    ("CurrentCultureIgnoreCase", K::CurrentCultureIgnoreCase),
    ("InvariantCulture", K::InvariantCulture),
    ("InvariantCultureIgnoreCase", K::InvariantCultureIgnoreCase),
    ("Ordinal", K::Ordinal),
    ("OrdinalIgnoreCase", K::OrdinalIgnoreCase),
];

impl StringComparerKind {
    /// The .NET type of the comparer (modern .NET's classes).
    pub fn type_name(self) -> &'static str {
        match self {
            K::Ordinal => "System.OrdinalCaseSensitiveComparer",
            K::OrdinalIgnoreCase => "System.OrdinalIgnoreCaseComparer",
            _ => "System.CultureAwareComparer",
        }
    }

    fn ignore_case(self) -> bool {
        matches!(
            self,
            K::CurrentCultureIgnoreCase | K::InvariantCultureIgnoreCase | K::OrdinalIgnoreCase
        )
    }

    /// `Compare(x, y)` of two strings.
    pub(crate) fn compare(self, x: &str, y: &str) -> i64 {
        match self {
            K::Ordinal => ordinal_compare(x, y, false),
            K::OrdinalIgnoreCase => ordinal_compare(x, y, true),
            _ if self.ignore_case() => culture_cmp(&x.to_lowercase(), &y.to_lowercase()) as i64,
            _ => culture_cmp(x, y) as i64,
        }
    }

    /// `Equals(x, y)` of two strings.
    pub(crate) fn equals(self, x: &str, y: &str) -> bool {
        match self {
            K::Ordinal => x == y,
            _ => self.compare(x, y) == 0,
        }
    }

    /// The text whose ordinal hash is the comparer's hash of `s`: equal under the comparer
    /// means equal keys.
    fn hash_key(self, s: &str) -> String {
        if self.ignore_case() {
            s.encode_utf16()
                .map(upper_unit)
                .map(|u| char::from_u32(u32::from(u)).unwrap_or('\u{fffd}'))
                .collect()
        } else {
            s.to_string()
        }
    }
}

/// A UTF-16 unit upper-cased by simple (one-to-one) case mapping, as OrdinalIgnoreCase does;
/// surrogates and units whose upper case is not one BMP unit stay.
fn upper_unit(u: u16) -> u16 {
    let Some(c) = char::from_u32(u32::from(u)) else {
        return u;
    };
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(x), None) if (x as u32) <= 0xFFFF => x as u32 as u16,
        _ => u,
    }
}

/// `string.CompareOrdinal` (and OrdinalIgnoreCase's compare): the difference of the first
/// differing UTF-16 units, else of the lengths.
fn ordinal_compare(x: &str, y: &str, ignore_case: bool) -> i64 {
    let mut a = x.encode_utf16();
    let mut b = y.encode_utf16();
    loop {
        match (a.next(), b.next()) {
            (Some(p), Some(q)) => {
                let (p, q) = if ignore_case {
                    (upper_unit(p), upper_unit(q))
                } else {
                    (p, q)
                };
                if p != q {
                    return i64::from(p) - i64::from(q);
                }
            }
            (Some(_), None) => return 1 + a.count() as i64,
            (None, Some(_)) => return -1 - b.count() as i64,
            (None, None) => return 0,
        }
    }
}

fn comparer(kind: StringComparerKind) -> Value {
    Value::Object(Object::Comparer(kind))
}

/// `StringComparer.Ordinal` … (static properties).
pub(crate) fn comparer_static_property(ty: &str, name: &str) -> Option<Value> {
    if ty != "StringComparer" {
        return None;
    }
    KINDS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, k)| comparer(*k))
}

/// Whether `StringComparer.<name>` exists (for `policy check`).
pub(crate) fn comparer_static_exists(ty: &str, name: &str, call: bool) -> Option<bool> {
    (ty == "StringComparer").then(|| {
        if call {
            matches!(name, "FromComparison" | "Create")
        } else {
            comparer_static_property(ty, name).is_some()
        }
    })
}

/// `StringComparer.FromComparison(c)`, `StringComparer.Create(culture, ignoreCase)`.
pub(crate) fn comparer_static(name: &str, args: &Args, at: usize) -> Option<F<Value>> {
    Some(match name {
        "FromComparison" => arg(args, 0, at).and_then(|c| {
            comparison_kind(c)
                .map(comparer)
                .ok_or_else(|| {
                    rt(
                        "ArgumentException",
                        "The string comparison type passed in is currently not supported. (Parameter 'comparisonType')",
                        at,
                    )
                })
        }),
        // The invariant culture is the only culture here (`CultureInfo.InvariantCulture`).
        "Create" => match (arg(args, 0, at), arg(args, 1, at)) {
            (Ok(Value::Null), Ok(Value::Bool(ignore))) => Ok(comparer(if *ignore {
                K::InvariantCultureIgnoreCase
            } else {
                K::InvariantCulture
            })),
            (Ok(_), Ok(other)) => Err(cast_err(other, "System.Boolean", at)),
            (Err(e), _) | (_, Err(e)) => Err(e),
        },
        _ => return None,
    })
}

/// A `StringComparison` argument (held by name, or its underlying value).
fn comparison_kind(v: &Value) -> Option<StringComparerKind> {
    match v {
        Value::Enum("StringComparison", i) => usize::try_from(*i)
            .ok()
            .and_then(|i| KINDS.get(i))
            .map(|(_, k)| *k),
        _ => None,
    }
}

/// A comparer's methods: `Compare`, `Equals(x, y)`, `GetHashCode(s)`.
pub(crate) fn comparer_method(
    kind: StringComparerKind,
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    let r = match (name, args.as_slice()) {
        ("Compare", [(_, x), (_, y)]) => Ok(Value::Int(match (x, y) {
            (Value::Null, Value::Null) => 0,
            (Value::Null, _) => -1,
            (_, Value::Null) => 1,
            (Value::String(a), Value::String(b)) => kind.compare(a, b),
            // Not two strings: the first must compare itself (IComparable).
            (a, b) => match cmp_values(a, b) {
                Some(o) => o as i64,
                None => {
                    return Some(Err(rt(
                        "ArgumentException",
                        "At least one object must implement IComparable.",
                        at,
                    )));
                }
            },
        })),
        ("Equals", [(_, x), (_, y)]) => Ok(Value::Bool(match (x, y) {
            (Value::Null, Value::Null) => true,
            (Value::Null, _) | (_, Value::Null) => false,
            (Value::String(a), Value::String(b)) => kind.equals(a, b),
            (a, b) => object_equals(a, b),
        })),
        ("GetHashCode", [(_, x)]) => match x {
            Value::Null => Err(rt(
                "ArgumentNullException",
                "Value cannot be null. (Parameter 'obj')",
                at,
            )),
            Value::String(s) => Ok(Value::Int(hash_code(&Value::str(kind.hash_key(s))) as i64)),
            other => Ok(Value::Int(hash_code(other) as i64)),
        },
        _ => return None,
    };
    Some(r)
}

/// The comparer argument of a LINQ call, if it is a string comparer.
pub(crate) fn comparer_arg(v: Option<&Value>) -> Option<StringComparerKind> {
    match v {
        Some(Value::Object(Object::Comparer(k))) => Some(*k),
        _ => None,
    }
}

/// Equality under an optional comparer (strings by it, anything else as `Equals`).
pub(crate) fn equal_under(c: Option<StringComparerKind>, a: &Value, b: &Value) -> bool {
    match (c, a, b) {
        (Some(k), Value::String(x), Value::String(y)) => k.equals(x, y),
        _ => values_equal(a, b),
    }
}

/// Ordering under an optional comparer (`OrderBy(k, comparer)`).
pub(crate) fn order_under(c: Option<StringComparerKind>, a: &Value, b: &Value) -> Ordering {
    match (c, a, b) {
        (Some(_), Value::Null, Value::Null) => Ordering::Equal,
        (Some(_), Value::Null, _) => Ordering::Less,
        (Some(_), _, Value::Null) => Ordering::Greater,
        (Some(k), Value::String(x), Value::String(y)) => k.compare(x, y).cmp(&0),
        _ => sort_cmp(a, b),
    }
}

/// The arguments of `new Dictionary<…>(…)` / `new HashSet<…>(…)` without their
/// `StringComparer`, and that comparer: the dictionary or set compares its keys with it
/// (crates/expr/src/library/dictionary.rs, builders.rs) and answers it as `Comparer`.
pub(crate) fn take_comparer(
    ty: &str,
    args: Args,
    at: usize,
) -> F<(Args, Option<StringComparerKind>)> {
    if !matches!(ty, "Dictionary" | "HashSet") {
        return Ok((args, None));
    }
    let _ = at;
    let mut kept = Vec::with_capacity(args.len());
    let mut comparer = None;
    for (n, v) in args {
        match v {
            Value::Object(Object::Comparer(k)) => comparer = Some(k),
            v => kept.push((n, v)),
        }
    }
    Ok((kept, comparer))
}

/// `Comparer` of a dictionary or set: the `StringComparer` it was made with, else
/// `EqualityComparer<T>.Default` — for strings the ordinal comparison, which stands in for it.
pub(crate) fn comparer_value(k: Option<StringComparerKind>) -> Value {
    Value::Object(Object::Comparer(k.unwrap_or(K::Ordinal)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinal_differences() {
        assert_eq!(ordinal_compare("a", "c", false), -2);
        assert_eq!(ordinal_compare("abc", "ab", false), 1);
        assert_eq!(ordinal_compare("ab", "abcd", false), -2);
        assert_eq!(ordinal_compare("A", "a", true), 0);
        assert_eq!(ordinal_compare("a", "B", true), -1);
    }
}
