//! Calls whose callee writes into its arguments. C# converts a `char[]`/`byte[]` to `Span<T>`
//! implicitly, so `42.TryFormat(buf, out int n)`, `rng.GetBytes(buffer)` or
//! `"abc".CopyTo(0, chars, 0, 3)` change the caller's array (arrays are references there; the
//! interpreter holds them by value). One path for all of them: the arguments are evaluated (an
//! `out` one as a placeholder), the library (crates/expr/src/library/spans.rs) updates the
//! destination and the `out` values, and this writes them back to the caller's variables. A
//! destination that is not a variable (`new char[4]`) is written and dropped, as in C#.

use super::*;
use crate::library::spans::{self as sp, Receiver};

impl<'c> Interp<'c> {
    /// `Some` when the call writes into an argument and was run here.
    pub(super) fn span_call(
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
        let Some(always) = sp::candidate(name) else {
            return Ok(None);
        };
        if let Some(p) = self.static_path(target) {
            let ty = crate::parser::normalize_type_name(&p);
            if !lib::is_type(&ty) {
                return Ok(None);
            }
            let Some(dest) = sp::destination(&Receiver::Static(&ty), name, args.len()) else {
                return Ok(None);
            };
            return self
                .run_span_call(&Receiver::Static(&ty), name, dest, args, at)
                .map(Some);
        }
        // A name other methods share: when reading the receiver has an effect, it is read
        // once here, and a method that writes nothing is called as the ordinary path would.
        let pure = self.pure(target);
        let t = self.ev(target)?;
        // A collection's `CopyTo` (not a string's or a builder's) writes through its own path.
        if name == "CopyTo"
            && !args.is_empty()
            && sp::destination(&Receiver::Value(&t), name, args.len()).is_none()
        {
            return self.copy_to_value(t, args, at);
        }
        if !always
            && !pure
            && !matches!(t, Value::Null)
            && sp::destination(&Receiver::Value(&t), name, args.len()).is_none()
        {
            let mark = self.temps;
            let vals = self.hold(&t, at).and_then(|()| self.eval_args(args));
            self.release(mark);
            let vals = vals?;
            self.heavy_call(Some(&t), &vals, at)?;
            return lib::call_method(self, t, name, generics, vals, at).map(Some);
        }
        if matches!(t, Value::Null) {
            if !always {
                return Ok(None);
            }
            return Err(if *null_cond {
                Flow::NullShort
            } else {
                null_ref(at)
            });
        }
        let Some(dest) = sp::destination(&Receiver::Value(&t), name, args.len()) else {
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
        let r = self.run_span_call(&Receiver::Value(&t), name, dest, args, at);
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

    fn run_span_call(
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
        let ret = sp::call(self, recv, name, &mut vals, at)?;
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
