//! C# 7 value tuples: `(1, "a")`, `(a: 1, b: 2)`, `t.Item1`/`t.a`, deconstruction. Element
//! names are a compile-time matter in C# (`(a: 1) == (b: 1)` holds), so they are kept beside
//! the values and ignored by equality. `System.Tuple` and anonymous objects (`new { a = 1 }`)
//! are held the same way: an ordered list of values, told apart by their [`TupleKind`].

use crate::value::Value;

#[derive(Debug, Clone)]
pub struct Tuple {
    pub items: Vec<Value>,
    /// The element names as written (`(a: 1, 2)` names only the first).
    pub names: Vec<Option<String>>,
    pub kind: TupleKind,
}

/// Which of C#'s three ordered-record types a [`Tuple`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TupleKind {
    /// `(1, "a")`: a struct; `==` compares the items.
    Value,
    /// A `System.Tuple` (`Tuple.Create(1, "a")`, crates/expr/src/library/tuples.rs): a class,
    /// so `==` compares references, and its hash is .NET's deterministic one.
    Reference,
    /// `new { a = 1, b }`: a compiler-generated class whose members are its names only, whose
    /// `Equals` compares the items, `==` the references, and whose `ToString()` is
    /// `{ a = 1, b = x }`.
    Anonymous,
}

impl PartialEq for Tuple {
    fn eq(&self, other: &Self) -> bool {
        // A System.Tuple never equals a value tuple: they are different types; two anonymous
        // objects are of one type only when their member names are the same.
        self.kind == other.kind
            && self.items == other.items
            && (self.kind != TupleKind::Anonymous || self.names == other.names)
    }
}

impl Tuple {
    /// `t.Item2` or `t.name`; `None` when the tuple has no such element.
    pub(crate) fn member(&self, name: &str) -> Option<&Value> {
        if let Some(i) = self.names.iter().position(|n| n.as_deref() == Some(name)) {
            return self.items.get(i);
        }
        if self.kind == TupleKind::Anonymous {
            return None;
        }
        let n: usize = name.strip_prefix("Item")?.parse().ok()?;
        // `Item01` is not a member; only the canonical spelling is.
        if n == 0 || name != format!("Item{n}") {
            return None;
        }
        self.items.get(n - 1)
    }

    /// A class (`System.Tuple`, anonymous object): `==` compares references.
    pub(crate) fn is_class(&self) -> bool {
        self.kind != TupleKind::Value
    }

    /// `ToString()`: `(1, a, )`, each element's own `ToString()`, null as empty text; an
    /// anonymous object's `{ a = 1, b = x }` (`{ }` when it has no member).
    pub fn to_display(&self) -> String {
        let parts = self.items.iter().map(Value::to_display);
        if self.kind == TupleKind::Anonymous {
            let fields: Vec<String> = parts
                .zip(&self.names)
                .map(|(v, n)| format!("{} = {v}", n.as_deref().unwrap_or_default()))
                .collect();
            return match fields.is_empty() {
                true => "{ }".to_string(),
                false => format!("{{ {} }}", fields.join(", ")),
            };
        }
        let parts: Vec<String> = parts.collect();
        format!("({})", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_and_display() {
        let t = Tuple {
            items: vec![
                Value::Int(1),
                Value::str("a"),
                Value::Null,
                Value::Bool(true),
            ],
            names: vec![Some("n".into()), None, None, None],
            kind: TupleKind::Value,
        };
        assert_eq!(t.member("Item1"), Some(&Value::Int(1)));
        assert_eq!(t.member("n"), Some(&Value::Int(1)));
        assert_eq!(t.member("Item2"), Some(&Value::str("a")));
        assert_eq!(t.member("Item5"), None);
        assert_eq!(t.member("Item0"), None);
        assert_eq!(t.member("Item01"), None);
        assert_eq!(t.to_display(), "(1, a, , True)");
        let u = Tuple {
            items: t.items.clone(),
            names: vec![None; 4],
            kind: TupleKind::Value,
        };
        assert_eq!(t, u);
    }

    #[test]
    fn anonymous_members_and_display() {
        let a = Tuple {
            items: vec![Value::Int(1), Value::str("x")],
            names: vec![Some("a".into()), Some("b".into())],
            kind: TupleKind::Anonymous,
        };
        assert_eq!(a.member("b"), Some(&Value::str("x")));
        assert_eq!(a.member("Item1"), None);
        assert_eq!(a.to_display(), "{ a = 1, b = x }");
        let renamed = Tuple {
            names: vec![Some("a".into()), Some("c".into())],
            ..a.clone()
        };
        assert_ne!(a, renamed);
        let empty = Tuple {
            items: vec![],
            names: vec![],
            kind: TupleKind::Anonymous,
        };
        assert_eq!(empty.to_display(), "{ }");
    }
}
