//! Statements: blocks, loops, `switch` and pattern matching, `try`/`catch`, conditions.

use super::*;

impl<'c> Interp<'c> {
    pub(super) fn exec_list(&mut self, stmts: &[Stmt]) -> F<()> {
        // Local functions are in scope in their whole block, also before their declaration.
        for s in stmts {
            if let S::LocalFn(def) = &s.kind
                && let Some(name) = &def.local_fn
            {
                let f = Value::Lambda(Arc::new(Lambda {
                    def: def.clone(),
                    captured: Vec::new(),
                    checked: self.checked,
                }));
                self.push_local(name.clone(), f, s.at)?;
            }
        }
        for s in stmts {
            self.exec(s)?;
        }
        Ok(())
    }

    /// Whether `v` matches a `case`/arm (its pattern, then its `when` guard). Bindings the
    /// pattern introduces are pushed as locals; the caller truncates them.
    pub(super) fn case_matches(&mut self, v: &Value, c: &Case) -> F<bool> {
        if !self.pat_matches(v, &c.pat)? {
            return Ok(false);
        }
        match &c.guard {
            Some(g) => self.cond(g),
            None => Ok(true),
        }
    }

    pub(super) fn pat_matches(&mut self, v: &Value, p: &Pat) -> F<bool> {
        Ok(match p {
            Pat::Discard => true,
            Pat::Const(e) => {
                let c = self.ev(e)?;
                if c.is_null() {
                    v.is_null()
                } else {
                    lib::values_equal(v, &c)
                }
            }
            Pat::Rel(op, e) => {
                let c = self.ev(e)?;
                if v.is_null() || c.is_null() {
                    false
                } else {
                    matches!(lib::binary(*op, v.clone(), c, e.at)?, Value::Bool(true))
                }
            }
            Pat::Not(p) => !self.pat_matches(v, p)?,
            Pat::And(a, b) => self.pat_matches(v, a)? && self.pat_matches(v, b)?,
            Pat::Or(a, b) => self.pat_matches(v, a)? || self.pat_matches(v, b)?,
            Pat::Props(props, binding) => {
                if v.is_null() {
                    return Ok(false);
                }
                for (name, p) in props {
                    let m = lib::member(self, v.clone(), name, 0)?;
                    if !self.pat_matches(&m, p)? {
                        return Ok(false);
                    }
                }
                if let Some(b) = binding {
                    self.push_local(b.clone(), v.clone(), 0)?;
                }
                true
            }
            Pat::Type(ty, binding) => {
                // `var x` matches anything, null included.
                let ok = ty.name == "var" || lib::is_instance(v, ty);
                if ok && let Some(b) = binding {
                    self.push_local(b.clone(), v.clone(), 0)?;
                }
                ok
            }
        })
    }

    pub(super) fn scoped(&mut self, stmts: &[Stmt]) -> F<()> {
        let mark = self.locals.len();
        let r = self.exec_list(stmts);
        self.truncate_locals(mark);
        r
    }

    pub(super) fn exec(&mut self, s: &Stmt) -> F<()> {
        self.tick(s.at)?;
        match &s.kind {
            S::Local { name, ty, init } => {
                let mut v = match init {
                    Some(e) => self.ev(e)?,
                    None => Value::Null,
                };
                if let Some(t) = ty {
                    v = lib::implicit(v, t);
                }
                self.push_local(name.clone(), v, s.at)?;
                Ok(())
            }
            S::Expr(e) => self.ev(e).map(|_| ()),
            S::Deconstruct(names, e) => {
                let v = self.ev(e)?;
                self.deconstruct(names, v, s.at)
            }
            S::If(c, then, els) => {
                let b = self.cond(c)?;
                let mark = self.locals.len();
                let r = if b {
                    self.exec(then)
                } else if let Some(e) = els {
                    self.exec(e)
                } else {
                    Ok(())
                };
                self.truncate_locals(mark);
                r
            }
            S::Return(e) => {
                let v = match e {
                    Some(e) => self.ev(e)?,
                    None => Value::Null,
                };
                Err(Flow::Return(v))
            }
            S::Foreach {
                var,
                parts,
                iter,
                body,
            } => {
                let coll = self.ev(iter)?;
                // What LINQ walks: a dictionary yields KeyValuePairs
                // (crates/expr/src/library/access.rs, `iterate`).
                let items = lib::iterate(self, coll, iter.at)?;
                // The copy being walked is held until the loop ends.
                let temps = self.temps;
                let r = self.hold_all(&items, iter.at).and_then(|()| {
                    for item in items {
                        let mark = self.locals.len();
                        if parts.is_empty() {
                            self.push_local(var.clone(), item, iter.at)?;
                        } else {
                            self.deconstruct(parts, item, iter.at)?;
                        }
                        if !self.loop_pass(body, mark)? {
                            break;
                        }
                    }
                    Ok(())
                });
                self.temps = temps;
                r
            }
            S::While(c, body) => {
                while self.cond(c)? {
                    let mark = self.locals.len();
                    if !self.loop_pass(body, mark)? {
                        break;
                    }
                }
                Ok(())
            }
            S::DoWhile(body, c) => {
                loop {
                    let mark = self.locals.len();
                    if !self.loop_pass(body, mark)? || !self.cond(c)? {
                        break;
                    }
                }
                Ok(())
            }
            S::For {
                init,
                cond,
                step,
                body,
            } => {
                let outer = self.locals.len();
                let r = (|| {
                    self.exec_list(init)?;
                    loop {
                        if let Some(c) = cond
                            && !self.cond(c)?
                        {
                            break;
                        }
                        let mark = self.locals.len();
                        if !self.loop_pass(body, mark)? {
                            break;
                        }
                        for e in step {
                            self.ev(e)?;
                        }
                    }
                    Ok(())
                })();
                self.truncate_locals(outer);
                r
            }
            S::Block(b) => self.scoped(b),
            S::Checked(checked, b) => {
                let outer = std::mem::replace(&mut self.checked, *checked);
                let r = self.scoped(b);
                self.checked = outer;
                r
            }
            S::Seq(b) => self.exec_list(b),
            S::Break => Err(Flow::Break),
            S::Continue => Err(Flow::Continue),
            S::Throw(e) => self.throw(e.as_ref(), s.at),
            S::Try {
                body,
                catches,
                finally,
            } => self.try_catch(body, catches, finally.as_deref()),
            S::Empty => Ok(()),
            // Already in scope: exec_list registered it when the block was entered.
            S::LocalFn(_) => Ok(()),
            S::Switch(subject, sections) => {
                let v = self.ev(subject)?;
                let mark = self.locals.len();
                let mut chosen = None;
                let mut default = None;
                'find: for (i, sec) in sections.iter().enumerate() {
                    for label in &sec.labels {
                        match label {
                            Some(c) => {
                                if self.case_matches(&v, c)? {
                                    chosen = Some(i);
                                    break 'find;
                                }
                                self.truncate_locals(mark);
                            }
                            None => default = default.or(Some(i)),
                        }
                    }
                }
                let r = match chosen.or(default).and_then(|i| sections.get(i)) {
                    Some(sec) => self.exec_list(&sec.body),
                    None => Ok(()),
                };
                self.truncate_locals(mark);
                match r {
                    Err(Flow::Break) => Ok(()),
                    other => other,
                }
            }
        }
    }

    /// One pass of a loop's body; its locals end with it (back to `mark`). `false` after a
    /// `break`; `continue` and falling off the end go on.
    fn loop_pass(&mut self, body: &Stmt, mark: usize) -> F<bool> {
        let r = self.exec(body);
        self.truncate_locals(mark);
        match r {
            Err(Flow::Break) => Ok(false),
            Err(Flow::Continue) | Ok(()) => Ok(true),
            Err(f) => Err(f),
        }
    }

    pub(crate) fn cond(&mut self, e: &Expr) -> F<bool> {
        match self.ev(e)? {
            Value::Bool(b) => Ok(b),
            Value::Json(j) if j.with_scalar(serde_json::Value::is_boolean) == Some(true) => {
                Ok(j.with_scalar(|b| b.as_bool() == Some(true)) == Some(true))
            }
            Value::Null => Err(null_ref(e.at)),
            other => Err(rt(
                "InvalidCastException",
                format!(
                    "Cannot implicitly convert type '{}' to 'bool'",
                    other.type_name()
                ),
                e.at,
            )),
        }
    }
}
