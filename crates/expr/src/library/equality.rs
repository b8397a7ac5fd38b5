//! The equality a LINQ operator's optional `IEqualityComparer<T>` argument stands for
//! (`Distinct(c)`, `Contains(x, c)`, `Union`/`Intersect`/`Except(other, c)`,
//! `SequenceEqual(other, c)`): a `StringComparer`'s (crates/expr/src/library/comparers.rs), a
//! set comparer's (`HashSet<T>.CreateSetComparer()`, set_comparer.rs), `JToken.EqualityComparer`'s
//! (`JToken.DeepEquals`), or, without one, `Equals`.

use super::*;

pub(crate) enum Equality {
    /// `Equals`, strings compared by the string comparer when one was given.
    Plain(Option<StringComparerKind>),
    Sets,
    Tokens,
}

/// The equality of an optional comparer argument; any other value leaves `Equals`.
pub(crate) fn equality_arg(v: Option<&Value>) -> Equality {
    match v {
        _ if is_set_comparer(v) => Equality::Sets,
        Some(Value::Object(Object::JsonAux(a))) if matches!(&**a, JsonAux::Comparer) => {
            Equality::Tokens
        }
        _ => Equality::Plain(comparer_arg(v)),
    }
}

impl Equality {
    pub(crate) fn eq(&self, a: &Value, b: &Value) -> bool {
        match self {
            Equality::Plain(c) => equal_under(*c, a, b),
            Equality::Sets => sets_equal(a, b),
            // Newtonsoft's comparer is DeepEquals; a value no token can hold equals nothing.
            Equality::Tokens => tokens_deep_equal(a, b, 0).unwrap_or(false),
        }
    }
}
