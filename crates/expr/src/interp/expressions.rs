//! Expressions: names, members, operators, conversions, lambdas and interpolation.

use super::*;

impl<'c> Interp<'c> {
    /// A chain of names that denotes a type or namespace (`System.Text.Encoding`), as opposed to
    /// a value; `None` when the root is a local or `context`.
    pub(super) fn static_path(&self, e: &Expr) -> Option<String> {
        match &e.kind {
            E::Name(n) => {
                if n == "context" || self.local(n).is_some() {
                    None
                } else {
                    Some(n.clone())
                }
            }
            E::Member {
                target,
                name,
                null_cond: false,
            } => {
                let p = self.static_path(target)?;
                // `TimeZoneInfo.TransitionTime`: a nested type continues the path.
                let nested = format!("{p}.{name}");
                if lib::is_type(&crate::parser::normalize_type_name(&p))
                    && !lib::is_type(&crate::parser::normalize_type_name(&nested))
                {
                    None
                } else {
                    Some(format!("{p}.{name}"))
                }
            }
            _ => None,
        }
    }

    pub(crate) fn ev(&mut self, e: &Expr) -> F<Value> {
        self.tick(e.at)?;
        let at = e.at;
        Ok(match &e.kind {
            E::Null => Value::Null,
            E::Bool(b) => Value::Bool(*b),
            E::Num(n) => n.value(),
            E::Str(s) => Value::String(s.clone()),
            E::Char(c) => Value::Char(*c),
            E::Interp(parts) => {
                let mut s = String::new();
                for p in parts {
                    match p {
                        Part::Text(t) => {
                            self.charge(s.len() + t.len(), at)?;
                            s.push_str(t);
                        }
                        Part::Hole(e, align, fmt) => {
                            // The text so far is held while the hole is evaluated.
                            let mark = self.temps;
                            self.charge(s.len(), at)?;
                            self.temps += s.len();
                            let v = self.ev(e);
                            self.release(mark);
                            let v = v?;
                            let t = match fmt {
                                None => self.text(&v, e.at)?,
                                Some(f) => Cow::Owned(lib::format_value(&v, Some(f), e.at)?),
                            };
                            let pad = match align {
                                Some(a) => self.alignment_padding(*a, &t, e.at)?,
                                None => 0,
                            };
                            self.charge(s.len() + t.len() + pad, at)?;
                            let spaces = " ".repeat(pad);
                            if align.is_some_and(|a| a < 0) {
                                s.push_str(&t);
                                s.push_str(&spaces);
                            } else {
                                s.push_str(&spaces);
                                s.push_str(&t);
                            }
                        }
                    }
                }
                Value::String(s.into())
            }
            E::Name(n) => match n.as_str() {
                "context" => Value::Object(Object::Context(Arc::from(Vec::new()))),
                _ => match self.local(n) {
                    Some(v) => v.clone(),
                    None => {
                        return Err(rt(
                            "CompilationError",
                            format!("The name '{n}' does not exist in the current context"),
                            at,
                        ));
                    }
                },
            },
            E::Member {
                target,
                name,
                null_cond,
            } => {
                if let Some(p) = self.static_path(target) {
                    let ty = crate::parser::normalize_type_name(&p);
                    if ty == "char" && lib::CHAR_METHODS.contains(&name.as_str()) {
                        return Ok(method_group(&ty, name, at));
                    }
                    if lib::is_type(&ty) {
                        return lib::static_property(self, &ty, name, at);
                    }
                    return Err(rt(
                        "CompilationError",
                        format!("The name '{p}' does not exist in the current context"),
                        at,
                    ));
                }
                if let Some(r) = self.nullable_member(target, name, at) {
                    return r;
                }
                if let Some(r) = self.type_member(target, name, at) {
                    return r;
                }
                let t = self.ev(target)?;
                if t.is_null() && !matches!(t, Value::Json(_)) {
                    return Err(if *null_cond {
                        Flow::NullShort
                    } else {
                        null_ref(at)
                    });
                }
                self.heavy(&t, at)?;
                lib::member(self, t, name, at)?
            }
            E::NullChain(inner) => match self.ev(inner) {
                Err(Flow::NullShort) => Value::Null,
                other => other?,
            },
            E::Call {
                callee,
                generics,
                args,
            } => {
                // The handlers of the changes the call made (interp/events.rs).
                let r = self.call(callee, generics, args, at);
                return self.raise_pending(r, at);
            }
            E::Index {
                target,
                args,
                null_cond,
            } => {
                let t = self.ev(target)?;
                if t.is_null() {
                    return Err(if *null_cond {
                        Flow::NullShort
                    } else {
                        null_ref(at)
                    });
                }
                let mark = self.temps;
                let keys = self.hold(&t, at).and_then(|()| {
                    let mut keys = Vec::with_capacity(args.len());
                    for a in args {
                        keys.push(self.ev(a)?);
                    }
                    Ok(keys)
                });
                self.release(mark);
                let keys = keys?;
                self.heavy(&t, at)?;
                lib::index(self, t, keys, at)?
            }
            E::Unary(op, x) => {
                let v = self.ev(x)?;
                lib::unary_in(*op, v, self.checked, at)?
            }
            E::Checked(checked, x) => self.in_context(*checked, x)?,
            E::Binary(op, l, r) => {
                let a = self.ev(l)?;
                let mark = self.temps;
                let b = self.hold(&a, at).and_then(|()| self.ev(r));
                self.release(mark);
                let b = b?;
                self.binary_literals(*op, a, b, l, r, at)?
            }
            E::And(l, r) => Value::Bool(self.cond(l)? && self.cond(r)?),
            E::Or(l, r) => Value::Bool(self.cond(l)? || self.cond(r)?),
            E::Coalesce(l, r) => {
                let a = self.ev(l)?;
                if matches!(a, Value::Null) {
                    self.ev(r)?
                } else {
                    a
                }
            }
            E::Cond(c, a, b) => {
                if self.cond(c)? {
                    self.ev(a)?
                } else {
                    self.ev(b)?
                }
            }
            E::Cast(ty, x) => {
                let v = self.ev(x)?;
                self.cast(ty, x, v, at)?
            }
            E::As(x, ty) => {
                let v = self.ev(x)?;
                if lib::is_instance(&v, ty) {
                    v
                } else {
                    Value::Null
                }
            }
            E::Is(x, ty, binding) => {
                let v = self.ev(x)?;
                // `x is var y` matches anything, null included (a var pattern).
                let ok = ty.name == "var" || lib::is_instance(&v, ty);
                if ok && let Some(b) = binding {
                    self.push_local(b.clone(), v, at)?;
                }
                Value::Bool(ok)
            }
            E::IsConst(x, c, negate) => {
                let v = self.ev(x)?;
                let c = self.ev(c)?;
                let eq = match (&v, &c) {
                    (_, Value::Null) => v.is_null(),
                    _ => lib::values_equal(&v, &c),
                };
                Value::Bool(eq != *negate)
            }
            E::Lambda(def) => Value::Lambda(Arc::new(Lambda {
                def: def.clone(),
                captured: Vec::new(),
                checked: self.checked,
            })),
            E::New { ty, args, init } => {
                let mut args = self.eval_args(args)?;
                let init = self.initializer(ty, init.as_deref(), &mut args)?;
                lib::construct(self, ty, args, init, at)?
            }
            E::NewArray { ty, size, items } => {
                let items = match items {
                    Some(items) => self.eval_list(items)?,
                    None => Vec::new(),
                };
                let size = match size {
                    Some(s) => Some(self.ev(s)?),
                    None => None,
                };
                lib::new_array(self, ty.as_ref(), size, items, at)?
            }
            E::NewAnon(fields) => self.anonymous_object(fields, at)?,
            E::Assign { target, op, value } => {
                if let (
                    Some(op),
                    E::Member {
                        target: obj, name, ..
                    },
                ) = (op, &target.kind)
                    && let Some(r) = self.event_assign(obj, name, *op, value, at)
                {
                    return r;
                }
                let v = match op {
                    None => self.ev(value)?,
                    Some(op) => {
                        let cur = self.ev(target)?;
                        let mark = self.temps;
                        let rhs = self.hold(&cur, at).and_then(|()| self.ev(value));
                        self.release(mark);
                        self.compound(*op, cur, rhs?, is_literal(value), at)?
                    }
                };
                let r = self.assign(target, v.clone()).map(|()| v);
                self.raise_pending(r, at)?
            }
            E::CoalesceAssign(target, value) => {
                let cur = self.ev(target)?;
                if matches!(cur, Value::Null) {
                    let v = self.ev(value)?;
                    self.assign(target, v.clone())?;
                    v
                } else {
                    cur
                }
            }
            E::IncDec {
                target,
                delta,
                prefix,
            } => {
                let cur = self.ev(target)?;
                let next = self.compound(BinOp::Add, cur.clone(), Value::Int(*delta), true, at)?;
                self.assign(target, next.clone())?;
                if *prefix { next } else { cur }
            }
            E::TypeOf(t) => Value::str(&t.name),
            E::Default(t) => match t {
                Some(t) => lib::default_of(t),
                None => Value::Null,
            },
            E::Out { .. } => {
                return Err(rt(
                    "CompilationError",
                    "an out argument is only valid in a method call",
                    at,
                ));
            }
            E::Tuple(items) => self.tuple(items, at)?,
            E::Throw(x) => {
                let x = &**x;
                self.throw(Some(x), at)?;
                Value::Null
            }
            E::Switch(subject, arms) => {
                let v = self.ev(subject)?;
                for (case, value) in arms {
                    let mark = self.locals.len();
                    let r = match self.case_matches(&v, case) {
                        Ok(true) => Some(self.ev(value)),
                        Ok(false) => None,
                        Err(f) => Some(Err(f)),
                    };
                    self.truncate_locals(mark);
                    if let Some(r) = r {
                        return r;
                    }
                }
                // The unmatched value is not shown: it may be a secret.
                return Err(rt(
                    "SwitchExpressionException",
                    "Non-exhaustive switch expression failed to match its input.",
                    at,
                ));
            }
        })
    }

    /// `(T)x` of an evaluated `x` (out of line: [`Self::ev`] recurses, and its frame is what
    /// bounds the recursion depth).
    #[inline(never)]
    fn cast(&mut self, ty: &crate::ast::TypeRef, x: &Expr, v: Value, at: usize) -> F<Value> {
        // `(int)(object)1L`: unboxing wants the exact type (InvalidCastException).
        if let E::Cast(inner, _) = &x.kind
            && matches!(inner.name.as_str(), "object" | "dynamic")
            && inner.array == 0
            && lib::unbox_mismatch(&v, ty)
        {
            return Err(lib::cast_err(&v, &ty.name, at));
        }
        lib::cast_in(v, ty, self.checked, at)
    }

    /// `checked(x)` / `unchecked(x)`.
    #[inline(never)]
    fn in_context(&mut self, checked: bool, x: &Expr) -> F<Value> {
        let outer = std::mem::replace(&mut self.checked, checked);
        let r = self.ev(x);
        self.checked = outer;
        r
    }

    /// `x op= y` and `x++`: `b += 1` on a byte stores a byte, as C# converts the result back
    /// to the target's type (§12.21.4).
    #[inline(never)]
    fn compound(
        &mut self,
        op: BinOp,
        cur: Value,
        rhs: Value,
        literal: bool,
        at: usize,
    ) -> F<Value> {
        let was_char = matches!(cur, Value::Char(_));
        let kind = crate::numeric::Num::of(&cur).map(|n| n.kind());
        let konst = crate::numeric::Consts {
            left: false,
            right: literal,
        };
        let r = self.binary_consts(op, cur, rhs, konst, at)?;
        if was_char && r.is_number() {
            let char_ty = crate::ast::TypeRef {
                name: "char".into(),
                args: Vec::new(),
                array: 0,
                nullable: false,
            };
            return lib::cast_in(r, &char_ty, self.checked, at);
        }
        lib::narrow_back(r, kind, self.checked, at)
    }

    #[inline(never)]
    fn binary_literals(
        &mut self,
        op: BinOp,
        a: Value,
        b: Value,
        l: &Expr,
        r: &Expr,
        at: usize,
    ) -> F<Value> {
        let consts = crate::numeric::Consts {
            left: is_literal(l),
            right: is_literal(r),
        };
        self.binary_consts(op, a, b, consts, at)
    }

    /// A binary operator on evaluated operands (`a + b`, and `a += b`), knowing which operands were written as literals (C# converts a
    /// non-negative int constant to uint/ulong where the other operand is one).
    pub(super) fn binary_consts(
        &mut self,
        op: BinOp,
        a: Value,
        b: Value,
        consts: crate::numeric::Consts,
        at: usize,
    ) -> F<Value> {
        // `ns + "local"` makes an XName, not a string.
        if let Some(v) = lib::xml_binary(op, &a, &b) {
            return Ok(v);
        }
        if op == BinOp::Add && (matches!(a, Value::String(_)) || matches!(b, Value::String(_))) {
            // String concatenation: the operator whose result outgrows its operands, so a
            // self-doubling string stops here, before the allocation.
            let x = self.text(&a, at)?;
            let y = self.text(&b, at)?;
            self.charge(x.len() + y.len(), at)?;
            let mut s = String::with_capacity(x.len() + y.len());
            s.push_str(&x);
            s.push_str(&y);
            return Ok(Value::String(s.into()));
        }
        lib::binary_in(op, a, b, self.checked, consts, at)
    }

    /// Evaluates items in order; each is held (counted against the memory budget) while the
    /// next ones are evaluated, so many large arguments cannot pile up unnoticed.
    pub(super) fn eval_list(&mut self, items: &[Expr]) -> F<Vec<Value>> {
        let mark = self.temps;
        let r = (|| {
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                let v = self.ev(i)?;
                self.hold(&v, i.at)?;
                out.push(v);
            }
            Ok(out)
        })();
        self.release(mark);
        r
    }

    pub(super) fn eval_args(&mut self, args: &[Arg]) -> F<Vec<(Option<String>, Value)>> {
        let mark = self.temps;
        let r = (|| {
            let mut out = Vec::with_capacity(args.len());
            for a in args {
                let v = self.ev(&a.value)?;
                self.hold(&v, a.value.at)?;
                out.push((a.name.clone(), v));
            }
            Ok(out)
        })();
        self.release(mark);
        r
    }

    /// Spaces `{x,align}` adds around `t`: the field is |align| UTF-16 units wide, as .NET's
    /// composite formatting measures it. Charged before the padding is built, since a policy
    /// controls the width.
    fn alignment_padding(&mut self, align: i64, t: &str, at: usize) -> F<usize> {
        let width = usize::try_from(align.unsigned_abs()).unwrap_or(usize::MAX);
        let len = t.encode_utf16().count();
        let pad = width.saturating_sub(len);
        self.charge(pad, at)?;
        Ok(pad)
    }
}

/// A static method used as a delegate (`"a1".Where(char.IsDigit)`): a one-parameter lambda that
/// calls it.
fn method_group(ty: &str, name: &str, at: usize) -> Value {
    use crate::ast::{Arg, LambdaBody, LambdaDef};
    let e = |kind: E| Expr { kind, at };
    let param = "<arg>".to_string();
    let call = e(E::Call {
        callee: Box::new(e(E::Member {
            target: Box::new(e(E::Name(ty.to_string()))),
            name: name.to_string(),
            null_cond: false,
        })),
        generics: Vec::new(),
        args: vec![Arg {
            name: None,
            value: e(E::Name(param.clone())),
        }],
    });
    Value::Lambda(Arc::new(Lambda {
        def: Arc::new(LambdaDef {
            params: vec![param],
            body: LambdaBody::Expr(call),
            param_types: vec![None],
            ret: None,
            local_fn: None,
        }),
        captured: Vec::new(),
        checked: false,
    }))
}

/// Whether an operand is a numeric literal (possibly negated), a constant in C#'s sense.
fn is_literal(e: &Expr) -> bool {
    match &e.kind {
        E::Num(_) => true,
        E::Unary(crate::ast::UnOp::Neg, x) => matches!(x.kind, E::Num(_)),
        _ => false,
    }
}
