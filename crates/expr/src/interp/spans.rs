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
            if ty == "string" && name == "Create" {
                return self.string_create(args, at).map(Some);
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

    /// `string.Create(length, state, (span, state) => { … })`: the delegate fills a span of
    /// `length` chars (a `char[]` here), which becomes the string.
    fn string_create(&mut self, args: &[Arg], at: usize) -> F<Value> {
        let [len, state, action] = args else {
            return Err(rt(
                "CompilationError",
                format!(
                    "No overload for method 'Create' takes {} arguments",
                    args.len()
                ),
                at,
            ));
        };
        let len = self.ev(&len.value)?;
        let state = self.ev(&state.value)?;
        let action = self.ev(&action.value)?;
        let n = match len {
            Value::Int(n) => n,
            other => return Err(lib::cast_err(&other, "System.Int32", at)),
        };
        let Value::Lambda(l) = action else {
            return Err(rt(
                "ArgumentNullException",
                "Value cannot be null. (Parameter 'action')",
                at,
            ));
        };
        if n < 0 {
            return Err(rt(
                "ArgumentOutOfRangeException",
                "Non-negative number required. (Parameter 'length')",
                at,
            ));
        }
        if n == 0 {
            return Ok(Value::str(""));
        }
        let n = n as usize;
        self.charge(n.saturating_mul(budget::SLOT), at)?;
        let span = Value::Array(vec![Value::Char('\0'); n]);
        let filled = self.call_keeping_first(&l, vec![span, state], at)?;
        Ok(Value::str(crate::library::spans::span_text(&filled, at)?))
    }

    /// Calls the delegate `l` (as `call_lambda` does) and gives back its first parameter as
    /// the body left it: a span argument the delegate wrote into.
    fn call_keeping_first(&mut self, l: &Lambda, args: Vec<Value>, at: usize) -> F<Value> {
        let def = &l.def;
        if def.params.len() != args.len() {
            return Err(rt(
                "CompilationError",
                format!("Delegate does not take {} arguments", args.len()),
                at,
            ));
        }
        if self.calls >= MAX_CALL_DEPTH
            || stack_address().abs_diff(self.stack_base) > MAX_STACK_BYTES
        {
            return Err(rt(
                "InsufficientExecutionStackException",
                "Insufficient stack to continue executing the program safely (calls nested too deeply).",
                at,
            ));
        }
        self.calls += 1;
        let mark = self.locals.len();
        let r = (|| {
            for (n, v) in &l.captured {
                self.push_local(n.clone(), v.clone(), at)?;
            }
            let first = self.locals.len();
            for (p, v) in def.params.iter().zip(args) {
                self.push_local(p.clone(), v, at)?;
            }
            let outer_checked = std::mem::replace(&mut self.checked, l.checked);
            let ran = match &def.body {
                LambdaBody::Expr(e) => self.ev(e).map(|_| ()),
                LambdaBody::Block(b) => match self.exec_list(b) {
                    Ok(()) | Err(Flow::Return(_)) => Ok(()),
                    Err(Flow::Break | Flow::Continue) => Err(rt(
                        "CompilationError",
                        "No enclosing loop out of which to break or continue",
                        at,
                    )),
                    Err(f) => Err(f),
                },
            };
            self.checked = outer_checked;
            ran?;
            Ok(self
                .locals
                .get(first)
                .map(|(_, v)| v.clone())
                .unwrap_or(Value::Null))
        })();
        self.truncate_locals(mark);
        self.calls -= 1;
        r
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
