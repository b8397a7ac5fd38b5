//! Calls: static and instance methods, lambdas, `out` arguments, `Array.Copy`, and what heavy calls are charged.

use super::*;

impl<'c> Interp<'c> {
    pub(super) fn call(
        &mut self,
        callee: &Expr,
        generics: &[TypeRef],
        args: &[Arg],
        at: usize,
    ) -> F<Value> {
        // `42.TryFormat(buf, out n)`, `reader.Read(buf, 0, n)`, `list.CopyTo(array)`: writes
        // into an argument (destinations.rs).
        if let Some(v) = self.destination_call(callee, generics, args, at)? {
            return Ok(v);
        }
        if args.iter().any(|a| matches!(a.value.kind, E::Out { .. })) {
            return self.call_with_out(callee, generics, args, at);
        }
        let (target, name, null_cond) = match &callee.kind {
            E::Member {
                target,
                name,
                null_cond,
            } => (target, name, *null_cond),
            // A local function, or a delegate held in a local (`Func<int, int> f = …; f(1)`).
            E::Name(n) if matches!(self.local(n), Some(Value::Lambda(_))) => {
                let Some(Value::Lambda(l)) = self.local(n).cloned() else {
                    return Err(null_ref(at));
                };
                let args = self.eval_args(args)?;
                let args = args.into_iter().map(|(_, v)| v).collect();
                return self.call_lambda(&l, args, at);
            }
            E::Name(n) => {
                return Err(rt(
                    "CompilationError",
                    format!("The name '{n}' does not exist in the current context"),
                    at,
                ));
            }
            _ => return Err(rt("CompilationError", "Method name expected", at)),
        };
        if self.same_variable(target, name, args) {
            return Ok(Value::Bool(true));
        }
        if matches!(name.as_str(), "ThenBy" | "ThenByDescending") {
            return self.ordered_chain(callee, args, at);
        }
        if let Some(p) = self.static_path(target) {
            let ty = crate::parser::normalize_type_name(&p);
            if !lib::is_type(&ty) {
                return Err(rt(
                    "CompilationError",
                    format!("The name '{p}' does not exist in the current context"),
                    at,
                ));
            }
            // ConstrainedCopy is Copy that either completes or changes nothing; the
            // arguments are checked before anything is written, so Copy is that here.
            if ty == "Array" && matches!(name.as_str(), "Copy" | "ConstrainedCopy") {
                return self.array_copy(args, at);
            }
            if ty == "Array" && lib::ARRAY_IN_PLACE.contains(&name.as_str()) {
                return self.array_in_place(name, args, at);
            }
            if ty == "Nullable" && name == "GetUnderlyingType" {
                return self.underlying_type(args, at);
            }
            let args = self.eval_args(args)?;
            self.heavy_call(None, &args, at)?;
            return lib::call_static(self, &ty, name, generics, args, at);
        }
        if let Some(r) = self.nullable_call(target, name, args) {
            return r;
        }
        // Methods that change a local in place and need the interpreter (a predicate, a
        // token path): kept out of this frame, which every nested call repeats.
        if matches!(name.as_str(), "Remove" | "RemoveAll" | "Replace" | "Sort")
            && let Some(v) = self.call_in_place(target, name, args, at)?
        {
            return Ok(v);
        }
        // `StringBuilder.Insert`, `Queue.Clear` …: objects that change themselves (shared
        // state, crates/expr/src/io.rs) take the ordinary call path.
        // LINQ to XML nodes too: they are edited through any reference
        // (crates/expr/src/library/xml_mutate.rs).
        let shared = matches!(&target.kind,
            E::Name(n) if matches!(self.local(n),
                Some(Value::Object(Object::Io(_) | Object::Hasher(..) | Object::Crypto(_)))))
            || (lib::MUTATORS.contains(&name.as_str())
                && self.is_lvalue(target)
                && !self.json_rooted(target)
                && match self.lvalue(target)? {
                    Value::Object(
                        Object::XElement(_)
                        | Object::XDocument(_)
                        | Object::XAttribute(_)
                        | Object::XNode(_),
                    ) => true,
                    // `nodes.Remove()`: the extension over a sequence of nodes, not a list's.
                    Value::Array(items) => {
                        name == "Remove"
                            && args.is_empty()
                            && items.iter().all(|v| {
                                matches!(
                                    v,
                                    Value::Null
                                        | Value::Object(
                                            Object::XElement(_)
                                                | Object::XAttribute(_)
                                                | Object::XNode(_)
                                        )
                                )
                            })
                    }
                    _ => false,
                });
        if lib::MUTATORS.contains(&name.as_str())
            && self.is_lvalue(target)
            && !shared
            && !self.json_rooted(target)
        {
            let args = self.eval_args(args)?;
            if matches!(
                name.as_str(),
                "Add" | "AddRange" | "Insert" | "InsertRange" | "Merge"
            ) && let Some(i) = self.root_local(target)
            {
                // What is added grows the local in place: charged before it is added.
                let mut added = 0usize;
                for (_, v) in &args {
                    added = added.saturating_add(self.size_of(v) + budget::SLOT);
                }
                self.grow_local(i, added, at)?;
            }
            let slot = self.lvalue(target)?;
            return lib::mutate(slot, name, args, at);
        }
        let t = self.ev(target)?;
        if matches!(t, Value::Null) {
            return Err(if null_cond {
                Flow::NullShort
            } else if on_null_throws_argument_null(name) {
                rt(
                    "ArgumentNullException",
                    "Value cannot be null. (Parameter 'source')",
                    at,
                )
            } else {
                null_ref(at)
            });
        }
        let mark = self.temps;
        let args = self.hold(&t, at).and_then(|()| self.eval_args(args));
        self.release(mark);
        let args = args?;
        self.heavy_call(Some(&t), &args, at)?;
        // `default(T)` of an empty sequence needs its element type, which only the source
        // shows (crates/expr/src/library/linq_sets.rs).
        if generics.is_empty()
            && lib::DEFAULTING.contains(&name.as_str())
            && let Some(ty) = lib::static_element_type(target)
        {
            return lib::call_method(self, t, name, &[ty], args, at);
        }
        lib::call_method(self, t, name, generics, args, at)
    }

    /// `a.Equals(a)`, `object.ReferenceEquals(a, a)`, `object.Equals(a, a)`: an array, list or
    /// byte array read twice from one variable is one object, though the interpreter holds it
    /// by value and each read is a copy (crates/expr/src/library/objects.rs).
    fn same_variable(&self, target: &Expr, name: &str, args: &[Arg]) -> bool {
        let array_local = |e: &Expr| match &e.kind {
            E::Name(n) if matches!(self.local(n), Some(Value::Array(_) | Value::Bytes(_))) => {
                Some(n.clone())
            }
            _ => None,
        };
        let same = |x: &Expr, y: &Expr| array_local(x).is_some_and(|n| array_local(y) == Some(n));
        match (name, args) {
            ("Equals", [x]) => same(target, &x.value),
            ("Equals" | "ReferenceEquals", [x, y]) => {
                self.static_path(target).is_some() && same(&x.value, &y.value)
            }
            _ => false,
        }
    }

    /// Reads the clock before a library call whose cost grows with its input, so a loop of
    /// expensive calls is cut at the time budget, not at the step budget.
    pub(super) fn heavy_call(&mut self, target: Option<&Value>, args: &Args, at: usize) -> F<()> {
        if let Some(t) = target {
            self.heavy(t, at)?;
        }
        for (_, v) in args {
            self.heavy(v, at)?;
        }
        Ok(())
    }

    /// `Array.Copy(src, dst, n)` / `Array.Copy(src, si, dst, di, n)`: writes into the
    /// destination, which must be a local (or an element of one).
    pub(super) fn array_copy(&mut self, args: &[Arg], at: usize) -> F<Value> {
        let (src, si, dst, di, n) = match args {
            [s, d, n] => (s, None, d, None, n),
            [s, si, d, di, n] => (s, Some(si), d, Some(di), n),
            _ => {
                return Err(lib::no_overload("Copy", args.len(), at));
            }
        };
        let items = match self.ev(&src.value)? {
            Value::Bytes(b) => b.into_iter().map(Value::Byte).collect(),
            Value::Array(a) => a,
            Value::Null => return Err(null_ref(at)),
            other => return Err(lib::cast_err(&other, "System.Array", at)),
        };
        let index = |it: &mut Self, e: Option<&Arg>| -> F<i64> {
            match e {
                Some(a) => match it.ev(&a.value)? {
                    // Array.Copy has Int32 and Int64 overloads.
                    Value::Int(i) | Value::Long(i) => Ok(i),
                    other => Err(lib::cast_err(&other, "System.Int32", at)),
                },
                None => Ok(0),
            }
        };
        let si = index(self, si)?;
        let di = index(self, di)?;
        let n = index(self, Some(n))?;
        if let Some(i) = self.root_local(&dst.value) {
            let copied: usize = items
                .iter()
                .skip(usize::try_from(si).unwrap_or(0))
                .take(usize::try_from(n).unwrap_or(0))
                .map(|v| self.size_of(v))
                .fold(0, usize::saturating_add);
            self.grow_local(i, copied, at)?;
        }
        let slot = self.lvalue(&dst.value)?;
        let len = match slot {
            Value::Bytes(b) => b.len(),
            Value::Array(a) => a.len(),
            Value::Null => return Err(null_ref(at)),
            other => return Err(lib::cast_err(other, "System.Array", at)),
        } as i64;
        if si < 0
            || di < 0
            || n < 0
            || si.saturating_add(n) > items.len() as i64
            || di.saturating_add(n) > len
        {
            return Err(rt(
                "ArgumentException",
                "Destination array was not long enough. Check the destination index, length, and the array's lower bounds.",
                at,
            ));
        }
        for k in 0..n as usize {
            // In range (checked above); `get` keeps even a mistake here from panicking.
            let Some(v) = items.get(si as usize + k).cloned() else {
                break;
            };
            let d = di as usize + k;
            match slot {
                Value::Bytes(b) => {
                    if let (Some(x), Some(cell)) = (lib::int_of(&v), b.get_mut(d)) {
                        *cell = x as u8;
                    }
                }
                Value::Array(a) => {
                    if let Some(cell) = a.get_mut(d) {
                        *cell = v;
                    }
                }
                _ => {}
            }
        }
        Ok(Value::Null)
    }

    /// `Array.Sort(a)`, `Array.Reverse(a)`, `Array.Clear(a, i, n)`: the library computes the
    /// new contents (crates/expr/src/library/arrays.rs), written back into the variable.
    pub(super) fn array_in_place(&mut self, name: &str, args: &[Arg], at: usize) -> F<Value> {
        let Some((first, rest)) = args.split_first() else {
            return Err(lib::no_overload(name, 0, at));
        };
        let current = self.ev(&first.value)?;
        self.heavy(&current, at)?;
        let mut others = Vec::new();
        for a in rest {
            others.push(self.ev(&a.value)?);
        }
        let updated = lib::array_in_place(self, name, current, &others, at)?;
        if self.is_lvalue(&first.value) {
            *self.lvalue(&first.value)? = updated;
        }
        Ok(Value::Null)
    }

    /// Calls a lambda with arguments (LINQ). Lambdas see the locals in scope where they run,
    /// which — since delegates cannot escape an expression — are the ones they were written in.
    pub(crate) fn call_lambda(&mut self, l: &Lambda, args: Vec<Value>, at: usize) -> F<Value> {
        let def = &l.def;
        if let Some(name) = &def.local_fn
            && args.len() != def.params.len()
        {
            return Err(lib::no_overload(name, args.len(), at));
        }
        let (v, _) = self.run_lambda(l, args, false, at)?;
        Ok(match &def.ret {
            Some(t) => lib::convert_declared(v, t),
            None => v,
        })
    }

    /// Runs the body of `l` with `args` bound to its parameters (converted to their declared
    /// types), within the call-depth and stack bounds: its result, and with `keep_first` its
    /// first parameter as the body left it (a span argument the delegate wrote into).
    pub(super) fn run_lambda(
        &mut self,
        l: &Lambda,
        args: Vec<Value>,
        keep_first: bool,
        at: usize,
    ) -> F<(Value, Option<Value>)> {
        let def = &l.def;
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
            for (i, (p, v)) in def.params.iter().zip(args).enumerate() {
                let v = match def.param_types.get(i) {
                    Some(Some(t)) => lib::convert_declared(v, t),
                    _ => v,
                };
                self.push_local(p.clone(), v, at)?;
            }
            let outer_checked = std::mem::replace(&mut self.checked, l.checked);
            let r = match &def.body {
                LambdaBody::Expr(e) => self.ev(e),
                LambdaBody::Block(b) => match self.exec_list(b) {
                    Ok(()) => Ok(Value::Null),
                    Err(Flow::Return(v)) => Ok(v),
                    // A loop outside the function cannot be broken from inside it.
                    Err(Flow::Break | Flow::Continue) => Err(rt(
                        "CompilationError",
                        "No enclosing loop out of which to break or continue",
                        at,
                    )),
                    Err(f) => Err(f),
                },
            };
            self.checked = outer_checked;
            let kept = keep_first.then(|| {
                self.locals
                    .get(first)
                    .map(|(_, v)| v.clone())
                    .unwrap_or(Value::Null)
            });
            Ok((r?, kept))
        })();
        self.truncate_locals(mark);
        self.calls -= 1;
        r
    }

    /// A call with `out` arguments: `int.TryParse(s, out var n)`, `jobj.TryGetValue(k, out
    /// JToken v)`, `context.Variables.TryGetValue(k, out object v)`. The out variable becomes a
    /// local of the enclosing scope (or is assigned, for `out existing`).
    pub(super) fn call_with_out(
        &mut self,
        callee: &Expr,
        generics: &[TypeRef],
        args: &[Arg],
        at: usize,
    ) -> F<Value> {
        let E::Member {
            target,
            name,
            null_cond,
        } = &callee.kind
        else {
            return Err(rt(
                "NotSupportedException",
                "out arguments are supported for TryParse and TryGetValue only",
                at,
            ));
        };
        if name == "Deconstruct" && args.iter().all(|a| matches!(a.value.kind, E::Out { .. })) {
            return self.deconstruct_call(target, args, at);
        }
        let mut inputs = Vec::new();
        let mut out = None;
        for a in args {
            match &a.value.kind {
                E::Out { name, declare, ty } if out.is_none() => {
                    out = Some((name, *declare, ty.as_ref(), a.value.at));
                }
                E::Out { .. } => {
                    return Err(rt(
                        "NotSupportedException",
                        "only one out argument per call is supported",
                        a.value.at,
                    ));
                }
                _ => inputs.push(self.ev(&a.value)?),
            }
        }
        let Some((var, declare, var_ty, var_at)) = out else {
            return Err(null_ref(at));
        };
        let (ret, value) = if let Some(p) = self.static_path(target) {
            let ty = crate::parser::normalize_type_name(&p);
            // `Enum.TryParse<X>(s, out var v)` or `Enum.TryParse(s, out X v)`: the enum is
            // the type argument, else the out variable's type.
            let enum_ty = (ty == "Enum" && name == "TryParse")
                .then(|| generics.first().or(var_ty).map(|t| t.name.as_str()))
                .flatten();
            if ty == "Math" && name == "DivRem" {
                // `Math.DivRem(a, b, out r)`: the quotient, and the remainder into `r`.
                match inputs.as_slice() {
                    [a, b] => lib::div_rem(a, b, at)?,
                    _ => return Err(null_ref(at)),
                }
            } else {
                let (ok, v) = match enum_ty {
                    Some(e) => lib::enum_try_parse(e, &inputs, at)?,
                    None => lib::try_parse(self, &ty, name, inputs, at)?,
                };
                (Value::Bool(ok), v)
            }
        } else {
            let t = self.ev(target)?;
            if t.is_null() && !matches!(t, Value::Json(_)) {
                // `x?.TryGetValue(k, out v)` on null: the whole chain is null, `v` undeclared.
                return Err(if *null_cond {
                    Flow::NullShort
                } else {
                    null_ref(at)
                });
            }
            // `rsa.ImportRSAPrivateKey(der, out int read)` returns nothing; its out is a count.
            if let Some(r) = lib::crypto::call_with_out(self, &t, name, &inputs, at) {
                r?
            } else {
                let (ok, v) = lib::try_get_value(self, t, name, inputs, at)?;
                (Value::Bool(ok), v)
            }
        };
        let value = match var_ty {
            // Nothing found: the out variable holds `default(T)` of its declared type
            // (`TryDequeue(out int x)` on an empty queue leaves 0).
            Some(t) if matches!(value, Value::Null) => lib::default_of(t),
            Some(t) => lib::convert_declared(value, t),
            None => value,
        };
        if var != "_" {
            if declare {
                self.push_local(var.clone(), value, var_at)?;
            } else {
                let target = Expr {
                    kind: E::Name(var.clone()),
                    at: var_at,
                };
                self.assign(&target, value)?;
            }
        }
        Ok(ret)
    }
}

/// Whether calling `name` on null throws ArgumentNullException rather than
/// NullReferenceException: LINQ's operators are extension methods, so `null.Select(…)` runs
/// and refuses its `source`. Names that are also instance methods of common types
/// (`list.Contains`, `list.ToArray`, `sb.Append` …) keep NullReferenceException, which is what
/// C# gives whenever the receiver's static type is that type.
fn on_null_throws_argument_null(name: &str) -> bool {
    const ALSO_INSTANCE: &[&str] = &[
        "Contains", "ToArray", "Reverse", "Append", "Equals", "ToString", "CopyTo",
    ];
    crate::features::LINQ.contains(&name) && !ALSO_INSTANCE.contains(&name)
}
