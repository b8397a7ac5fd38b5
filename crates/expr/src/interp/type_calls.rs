//! Calls the interpreter answers from the shape of their arguments: `Nullable.GetUnderlyingType
//! (typeof(T?))`, which needs the written type (a type value here is its name, without the
//! `?`), and `Deconstruct(out a, out b)`, the one method with two `out` arguments.

use super::*;

impl<'c> Interp<'c> {
    /// `Nullable.GetUnderlyingType(t)`: `T` for `typeof(T?)` of a value type, else null (a
    /// type obtained otherwise — `GetType()`, `typeof(T)` — is never a nullable one).
    pub(super) fn underlying_type(&mut self, args: &[Arg], at: usize) -> F<Value> {
        let [a] = args else {
            return Err(lib::no_overload("GetUnderlyingType", args.len(), at));
        };
        if let E::TypeOf(t) = &a.value.kind {
            return Ok(if t.nullable && t.array == 0 {
                Value::str(&t.name)
            } else {
                Value::Null
            });
        }
        match self.ev(&a.value)? {
            Value::Null => Err(rt(
                "ArgumentNullException",
                "Value cannot be null. (Parameter 'nullableType')",
                at,
            )),
            Value::String(_) => Ok(Value::Null),
            other => Err(lib::cast_err(&other, "System.Type", at)),
        }
    }

    /// `x.Deconstruct(out var a, out var b)`: a `KeyValuePair`'s key and value, a tuple's
    /// items, into the out variables (declared here, or assigned).
    pub(super) fn deconstruct_call(&mut self, target: &Expr, args: &[Arg], at: usize) -> F<Value> {
        let v = self.ev(target)?;
        let parts = self.parts_of(v, args.len(), at)?;
        for (a, part) in args.iter().zip(parts) {
            let E::Out { name, declare, ty } = &a.value.kind else {
                return Err(rt(
                    "CompilationError",
                    "Deconstruct takes out arguments only",
                    a.value.at,
                ));
            };
            let part = match ty {
                Some(t) => lib::convert_declared(part, t),
                None => part,
            };
            if name == "_" {
                continue;
            }
            if *declare {
                self.push_local(name.clone(), part, a.value.at)?;
            } else {
                let target = Expr {
                    kind: E::Name(name.clone()),
                    at: a.value.at,
                };
                self.assign(&target, part)?;
            }
        }
        Ok(Value::Null)
    }
}
