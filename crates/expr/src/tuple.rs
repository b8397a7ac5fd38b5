//! C# 7 value tuples: `(1, "a")`, `(a: 1, b: 2)`, `t.Item1`/`t.a`, deconstruction. Element
//! names are a compile-time matter in C# (`(a: 1) == (b: 1)` holds), so they are kept beside
//! the values and ignored by equality.

use crate::value::Value;

#[derive(Debug, Clone)]
pub struct Tuple {
    pub items: Vec<Value>,
    /// The element names as written (`(a: 1, 2)` names only the first).
    pub names: Vec<Option<String>>,
    /// A `System.Tuple` (`Tuple.Create(1, "a")`, crates/expr/src/library/tuples.rs): a class,
    /// so `==` compares references, and its hash is .NET's deterministic one.
    pub reference: bool,
}

impl PartialEq for Tuple {
    fn eq(&self, other: &Self) -> bool {
        // A System.Tuple never equals a value tuple: they are different types.
        self.reference == other.reference && self.items == other.items
    }
}

impl Tuple {
    /// `t.Item2` or `t.name`; `None` when the tuple has no such element.
    pub(crate) fn member(&self, name: &str) -> Option<&Value> {
        if let Some(i) = self.names.iter().position(|n| n.as_deref() == Some(name)) {
            return self.items.get(i);
        }
        let n: usize = name.strip_prefix("Item")?.parse().ok()?;
        // `Item01` is not a member; only the canonical spelling is.
        if n == 0 || name != format!("Item{n}") {
            return None;
        }
        self.items.get(n - 1)
    }

    /// `ToString()`: `(1, a, )`, each element's own `ToString()`, null as empty text.
    pub fn to_display(&self) -> String {
        let parts: Vec<String> = self.items.iter().map(Value::to_display).collect();
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
            reference: false,
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
            reference: false,
        };
        assert_eq!(t, u);
    }
}
