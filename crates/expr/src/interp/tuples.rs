//! Tuples, anonymous objects and deconstruction: `(1, "a")`, `new { a = 1 }`,
//! `var (a, b) = t;`, `foreach (var (k, v) in d)`.

use super::*;
use crate::tuple::{Tuple, TupleKind};

impl<'c> Interp<'c> {
    /// `(a: 1, 2)`: each element is held while the next ones are evaluated.
    pub(super) fn tuple(&mut self, items: &[(Option<String>, Expr)], at: usize) -> F<Value> {
        let values = self.held_values(items.iter().map(|(_, e)| e), at)?;
        Ok(Value::Object(Object::Tuple(Arc::new(Tuple {
            items: values,
            names: items.iter().map(|(n, _)| n.clone()).collect(),
            kind: TupleKind::Value,
        }))))
    }

    /// `new { a = 1, b }`: an anonymous object, its members evaluated as a tuple's elements.
    pub(super) fn anonymous_object(&mut self, fields: &[(String, Expr)], at: usize) -> F<Value> {
        let values = self.held_values(fields.iter().map(|(_, e)| e), at)?;
        Ok(Value::Object(Object::Tuple(Arc::new(Tuple {
            items: values,
            names: fields.iter().map(|(n, _)| Some(n.clone())).collect(),
            kind: TupleKind::Anonymous,
        }))))
    }

    /// The values of `exprs` in order, each held (counted against the memory budget) while
    /// the next ones are evaluated.
    fn held_values<'e>(
        &mut self,
        exprs: impl ExactSizeIterator<Item = &'e Expr>,
        at: usize,
    ) -> F<Vec<Value>> {
        let mark = self.temps;
        let n = exprs.len();
        let r = (|| -> F<Vec<Value>> {
            let mut out = Vec::with_capacity(n);
            for e in exprs {
                let v = self.ev(e)?;
                self.hold(&v, at)?;
                out.push(v);
            }
            self.charge(n * budget::SLOT, at)?;
            Ok(out)
        })();
        self.release(mark);
        r
    }

    /// The parts `var (a, b) = v` binds: a tuple's elements, or a `KeyValuePair`'s key and
    /// value (its `Deconstruct`).
    pub(super) fn parts_of(&self, v: Value, n: usize, at: usize) -> F<Vec<Value>> {
        match &v {
            Value::Object(Object::Tuple(t))
                if t.items.len() == n && t.kind != TupleKind::Anonymous =>
            {
                Ok(t.items.clone())
            }
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
}
