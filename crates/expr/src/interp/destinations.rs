//! Calls whose callee writes into its arguments: C# passes arrays by reference (and converts
//! a `char[]`/`byte[]` to `Span<T>` implicitly), so `42.TryFormat(buf, out int n)`,
//! `rng.GetBytes(buffer)`, `reader.Read(buffer, 0, n)`, `list.CopyTo(array)` or
//! `jarray.CopyTo(tokens, 0)` change the caller's array; the interpreter holds arrays by
//! value. One path for all of them: the arguments are evaluated (an `out` one as a
//! placeholder), the library (crates/expr/src/library/destinations.rs, which decides which
//! receivers and members write into which argument) updates the destination and the `out`
//! values, and this writes them back to the caller's variables. A destination that is not a
//! variable (`new char[4]`) is written and dropped, as in C#.

use super::*;
use crate::library::destinations::{self as dst, Receiver};

impl<'c> Interp<'c> {
    /// `Some` when the call writes into an argument and was run here.
    pub(super) fn destination_call(
        &mut self,
        callee: &Expr,
        generics: &[TypeRef],
        args: &[Arg],
        at: usize,
    ) -> F<Option<Value>> {
        let E::Member {
            target,
            name,
            null_cond,
        } = &callee.kind
        else {
            return Ok(None);
        };
        let Some(always) = dst::candidate(name, args.len()) else {
            return Ok(None);
        };
        if let Some(p) = self.static_path(target) {
            let ty = crate::parser::normalize_type_name(&p);
            if !lib::is_type(&ty) {
                return Ok(None);
            }
            if ty == "string" && name == "Create" {
                return self.string_create(args, at).map(Some);
            }
            let Some(dest) = dst::destination(&Receiver::Static(&ty), name, args.len()) else {
                return Ok(None);
            };
            return self
                .write_back_call(&Receiver::Static(&ty), name, dest, args, at)
                .map(Some);
        }
        // A name other methods share: when reading the receiver has an effect, it is read
        // once here, and a method that writes nothing is called as the ordinary path would.
        let pure = self.pure(target);
        let t = self.ev(target)?;
        let dest = dst::destination(&Receiver::Value(&t), name, args.len());
        if !always && !pure && !matches!(t, Value::Null) && dest.is_none() {
            let mark = self.temps;
            let vals = self.hold(&t, at).and_then(|()| self.eval_args(args));
            self.release(mark);
            let vals = vals?;
            self.heavy_call(Some(&t), &vals, at)?;
            return lib::call_method(self, t, name, generics, vals, at).map(Some);
        }
        if matches!(t, Value::Null) {
            // A receiver read again by the ordinary path must have no effect.
            if !always && pure {
                return Ok(None);
            }
            return Err(if *null_cond {
                Flow::NullShort
            } else {
                null_ref(at)
            });
        }
        let Some(dest) = dest else {
            if !always {
                return Ok(None);
            }
            return Err(rt(
                "RuntimeBinderException",
                format!(
                    "'{}' does not contain a definition for '{name}'",
                    t.type_name()
                ),
                at,
            ));
        };
        let mark = self.temps;
        self.hold(&t, at)?;
        let r = self.write_back_call(&Receiver::Value(&t), name, dest, args, at);
        self.release(mark);
        r.map(Some)
    }

    /// Whether evaluating `e` twice is the same as once: a variable or a property path.
    fn pure(&self, e: &Expr) -> bool {
        match &e.kind {
            E::Name(_) | E::Str(_) | E::Null => true,
            E::Member { target, .. } => self.pure(target),
            _ => false,
        }
    }

    /// Evaluates the arguments, runs the call, and writes the destination (the argument at
    /// `dest`) and the `out` arguments back to the caller's variables.
    fn write_back_call(
        &mut self,
        recv: &Receiver,
        name: &str,
        dest: usize,
        args: &[Arg],
        at: usize,
    ) -> F<Value> {
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            vals.push(match &a.value.kind {
                E::Out { .. } => Value::Null,
                _ => self.ev(&a.value)?,
            });
        }
        for v in &vals {
            self.heavy(v, at)?;
        }
        let ret = dst::call(self, recv, name, &mut vals, at)?;
        for (i, (a, v)) in args.iter().zip(vals).enumerate() {
            match &a.value.kind {
                E::Out {
                    name: var,
                    declare,
                    ty,
                } => self.bind_out(var, *declare, ty.as_ref(), v, a.value.at)?,
                _ if i == dest && self.is_lvalue(&a.value) => self.assign(&a.value, v)?,
                _ => {}
            }
        }
        Ok(ret)
    }

    /// `out var n`, `out int n` (a new local) or `out n` (an existing one) receives `v`.
    fn bind_out(
        &mut self,
        var: &str,
        declare: bool,
        ty: Option<&TypeRef>,
        v: Value,
        at: usize,
    ) -> F<()> {
        let v = match ty {
            Some(t) => lib::convert_declared(v, t),
            None => v,
        };
        if var == "_" {
            return Ok(());
        }
        if declare {
            self.push_local(var.to_string(), v, at)
        } else {
            let target = Expr {
                kind: E::Name(var.to_string()),
                at,
            };
            self.assign(&target, v)
        }
    }
}
