//! Tuples and deconstruction: `(1, "a")`, `var (a, b) = t;`, `foreach (var (k, v) in d)`, and
//! what `foreach` walks (a dictionary yields `KeyValuePair`s, as in C#).

use super::*;
use crate::tuple::Tuple;

impl<'c> Interp<'c> {
    /// `(a: 1, 2)`: each element is held while the next ones are evaluated.
    pub(super) fn tuple(&mut self, items: &[(Option<String>, Expr)], at: usize) -> F<Value> {
        let mark = self.temps;
        let r = (|| -> F<Vec<Value>> {
            let mut out = Vec::with_capacity(items.len());
            for (_, e) in items {
                let v = self.ev(e)?;
                self.hold(&v, at)?;
                out.push(v);
            }
            self.charge(items.len() * budget::SLOT, at)?;
            Ok(out)
        })();
        self.release(mark);
        Ok(Value::Object(Object::Tuple(Arc::new(Tuple {
            items: r?,
            names: items.iter().map(|(n, _)| n.clone()).collect(),
            reference: false,
        }))))
    }

    /// The parts `var (a, b) = v` binds: a tuple's elements, or a `KeyValuePair`'s key and
    /// value (its `Deconstruct`).
    pub(super) fn parts_of(&self, v: Value, n: usize, at: usize) -> F<Vec<Value>> {
        match &v {
            Value::Object(Object::Tuple(t)) if t.items.len() == n => Ok(t.items.clone()),
            Value::Object(Object::Record(r)) if n == 2 && r.contains_key("Key") => Ok(vec![
                r.get("Key").cloned().unwrap_or(Value::Null),
                r.get("Value").cloned().unwrap_or(Value::Null),
            ]),
            Value::Null => Err(null_ref(at)),
            other => Err(rt(
                "InvalidCastException",
                format!(
                    "Cannot deconstruct an object of type '{}' into {n} elements",
                    other.type_name()
                ),
                at,
            )),
        }
    }

    /// Binds `names` (skipping the `_` discards) to the parts of `v`, as new locals.
    pub(super) fn deconstruct(&mut self, names: &[String], v: Value, at: usize) -> F<()> {
        for (name, part) in names.iter().zip(self.parts_of(v, names.len(), at)?) {
            if name != "_" {
                self.push_local(name.clone(), part, at)?;
            }
        }
        Ok(())
    }

    /// The elements `foreach` walks. A dictionary (a local one or one of `context`'s) yields
    /// `KeyValuePair`s with `Key` and `Value`, as C# enumerates `IDictionary`; everything else
    /// enumerates as LINQ does.
    pub(super) fn foreach_items(&mut self, coll: Value, at: usize) -> F<Vec<Value>> {
        let pair = |k: &str, v: Value| {
            let mut r = std::collections::BTreeMap::new();
            r.insert("Key".to_string(), Value::str(k));
            r.insert("Value".to_string(), v);
            Value::Object(Object::Record(Arc::new(r)))
        };
        match &coll {
            Value::Object(Object::Dictionary(d)) => {
                self.charge(d.len().saturating_mul(budget::SLOT * 3), at)?;
                Ok(d.iter().map(|(k, v)| pair(k, v.clone())).collect())
            }
            Value::Object(Object::Context(path)) => {
                let p: Vec<&str> = path.iter().map(|s| &**s).collect();
                if !lib::is_dictionary(&p) {
                    return lib::iterate(self, coll, at);
                }
                let keys = self.ctx.keys(&p);
                self.charge(keys.len().saturating_mul(budget::SLOT * 3), at)?;
                let mut out = Vec::with_capacity(keys.len());
                for k in keys {
                    let v = lib::dictionary_entry(self, &p, &k).unwrap_or(Value::Null);
                    out.push(pair(&k, v));
                }
                Ok(out)
            }
            _ => lib::iterate(self, coll, at),
        }
    }
}
