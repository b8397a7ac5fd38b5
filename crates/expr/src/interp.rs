//! Tree-walking interpreter. Control flow (return, break, `?.` short-circuit) travels as the
//! error side of `Result` so that `?` propagates it without ceremony; errors carry the .NET
//! exception kind because `context.LastError` shows it to the policy.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use super::ast::*;
use super::budget::{self, Budget, Limits};
use super::library as lib;
use super::value::{Lambda, Object, Value};
use super::{Context, RuntimeError};

pub(crate) enum Flow {
    Err(RuntimeError),
    /// A `?.` met null: the enclosing `NullChain` turns this into `null`.
    NullShort,
    Return(Value),
    Break,
    Continue,
}

impl From<RuntimeError> for Flow {
    fn from(e: RuntimeError) -> Self {
        Flow::Err(e)
    }
}

pub(crate) type F<T> = Result<T, Flow>;

type Args = Vec<(Option<String>, Value)>;

/// Builds a run-time error.
pub(crate) fn rt(kind: &'static str, message: impl Into<String>, offset: usize) -> Flow {
    Flow::Err(RuntimeError {
        message: message.into(),
        kind,
        offset,
        budget: None,
    })
}

/// The error of an exhausted budget. It says which budget, so `context.LastError.Message` and
/// the gateway's log tell a slow policy from a greedy one.
fn over_budget(budget: Budget, limits: &Limits, offset: usize) -> Flow {
    let (kind, message) = match budget {
        Budget::Steps => (
            "InvalidOperationException",
            format!(
                "The expression exceeded its step budget ({} evaluation steps).",
                limits.steps
            ),
        ),
        Budget::Time => (
            "TimeoutException",
            format!(
                "The expression exceeded its time budget ({} ms).",
                limits.time.as_millis()
            ),
        ),
        Budget::Memory => (
            "OutOfMemoryException",
            format!(
                "The expression exceeded its memory budget ({} bytes).",
                limits.memory
            ),
        ),
    };
    Flow::Err(RuntimeError {
        message,
        kind,
        offset,
        budget: Some(budget),
    })
}

pub(crate) fn null_ref(at: usize) -> Flow {
    rt(
        "NullReferenceException",
        "Object reference not set to an instance of an object.",
        at,
    )
}

/// Deepest nesting of lambda and local-function calls. The step budget bounds time but not
/// recursion depth; a recursive local function would otherwise exhaust the thread's stack, as
/// each call nests several interpreter frames per syntax level.
const MAX_CALL_DEPTH: usize = 64;

/// Stack the interpreter may use below where it started, checked at each call. The parser
/// bounds the depth of one body, so between two checks the stack grows by a bounded amount;
/// this keeps the total well inside a 2 MiB thread (tokio's and the test harness's default)
/// even in unoptimised builds, where frames are several times larger.
const MAX_STACK_BYTES: usize = 768 * 1024;

/// An address on the current stack, to measure how deep the interpreter has recursed.
fn stack_address() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

pub(crate) struct Interp<'c> {
    pub(crate) ctx: &'c mut dyn Context,
    locals: Vec<(String, Value)>,
    /// The bytes each local was counted at (an upper bound: in-place growth adds, nothing
    /// subtracts until the local goes or is reassigned).
    sizes: Vec<usize>,
    /// Sum of `sizes`.
    held: usize,
    /// Bytes of the temporaries the expressions being evaluated hold (arguments evaluated so
    /// far, the left side of a binary operator): restored as each expression completes.
    temps: usize,
    steps: u64,
    limits: Limits,
    started: Instant,
    /// The step count at which the clock is read next.
    next_clock: u64,
    calls: usize,
    stack_base: usize,
}

impl<'c> Interp<'c> {
    pub(crate) fn new(ctx: &'c mut dyn Context, limits: Limits) -> Self {
        Interp {
            ctx,
            locals: Vec::new(),
            sizes: Vec::new(),
            held: 0,
            temps: 0,
            steps: 0,
            limits,
            started: Instant::now(),
            next_clock: budget::CLOCK_EVERY,
            calls: 0,
            stack_base: stack_address(),
        }
    }

    // ------------------------------------------------------------ budgets

    /// Fails once the evaluation has run longer than its time budget.
    pub(crate) fn check_time(&mut self, at: usize) -> F<()> {
        if self.started.elapsed() > self.limits.time {
            return Err(over_budget(Budget::Time, &self.limits, at));
        }
        Ok(())
    }

    /// Reads the clock before work whose cost grows with `v`'s size.
    pub(crate) fn heavy(&mut self, v: &Value, at: usize) -> F<()> {
        if budget::shallow(v) >= budget::HEAVY_BYTES {
            self.check_time(at)?;
        }
        Ok(())
    }

    /// The bytes of `v`, counted no further than the memory budget.
    pub(crate) fn size_of(&self, v: &Value) -> usize {
        budget::size_upto(v, self.limits.memory)
    }

    /// Whether `bytes` more may be allocated now; called *before* building anything that
    /// size. Locals are counted at an upper bound, so before refusing, they are counted
    /// exactly once more.
    pub(crate) fn charge(&mut self, bytes: usize, at: usize) -> F<()> {
        let memory = self.limits.memory;
        let fits =
            |held: usize, temps: usize| held.saturating_add(temps).saturating_add(bytes) <= memory;
        if fits(self.held, self.temps) {
            return Ok(());
        }
        self.recount();
        if fits(self.held, self.temps) {
            return Ok(());
        }
        Err(over_budget(Budget::Memory, &self.limits, at))
    }

    /// Counts `v` as a temporary of the expression being evaluated (the caller restores
    /// `temps` when that expression completes).
    fn hold(&mut self, v: &Value, at: usize) -> F<()> {
        let bytes = self.size_of(v);
        if bytes == 0 {
            return Ok(());
        }
        self.charge(bytes, at)?;
        self.temps += bytes;
        Ok(())
    }

    /// Bytes that may still be allocated now (locals counted exactly).
    pub(crate) fn room(&mut self) -> usize {
        self.recount();
        self.limits
            .memory
            .saturating_sub(self.held.saturating_add(self.temps))
    }

    pub(crate) fn out_of_memory(&self, at: usize) -> Flow {
        over_budget(Budget::Memory, &self.limits, at)
    }

    /// [`hold`](Self::hold) for each of `items`.
    pub(crate) fn hold_all(&mut self, items: &[Value], at: usize) -> F<()> {
        let mut bytes = items.len() * budget::SLOT;
        for v in items {
            bytes = bytes.saturating_add(self.size_of(v));
            if bytes > self.limits.memory {
                break;
            }
        }
        self.charge(bytes, at)?;
        self.temps += bytes;
        Ok(())
    }

    /// Restores the temporaries to `mark` (what an expression held before it started).
    pub(crate) fn release(&mut self, mark: usize) {
        self.temps = mark;
    }

    pub(crate) fn temps(&self) -> usize {
        self.temps
    }

    fn recount(&mut self) {
        let cap = self.limits.memory;
        let mut held = 0usize;
        for ((_, v), size) in self.locals.iter().zip(self.sizes.iter_mut()) {
            *size = budget::size_upto(v, cap);
            held = held.saturating_add(*size);
        }
        self.held = held;
    }

    fn push_local(&mut self, name: String, v: Value, at: usize) -> F<()> {
        let bytes = self.size_of(&v);
        self.charge(bytes, at)?;
        self.held += bytes;
        self.locals.push((name, v));
        self.sizes.push(bytes);
        Ok(())
    }

    fn truncate_locals(&mut self, mark: usize) {
        if mark >= self.locals.len() {
            return;
        }
        let gone: usize = self.sizes.drain(mark..).sum();
        self.held = self.held.saturating_sub(gone);
        self.locals.truncate(mark);
    }

    fn set_local(&mut self, i: usize, v: Value, at: usize) -> F<()> {
        let bytes = self.size_of(&v);
        let old = self.sizes.get(i).copied().unwrap_or(0);
        if bytes > old {
            self.charge(bytes - old, at)?;
        }
        self.held = self.held.saturating_sub(old).saturating_add(bytes);
        if let (Some(slot), Some(size)) = (self.locals.get_mut(i), self.sizes.get_mut(i)) {
            slot.1 = v;
            *size = bytes;
        }
        Ok(())
    }

    /// Charges growth of a local changed in place (`list.Add(x)`, `obj["k"] = v`).
    fn grow_local(&mut self, i: usize, bytes: usize, at: usize) -> F<()> {
        self.charge(bytes, at)?;
        self.held += bytes;
        if let Some(size) = self.sizes.get_mut(i) {
            *size += bytes;
        }
        Ok(())
    }

    /// The local an lvalue (`x`, `x[i][j]`) lives in.
    fn root_local(&self, e: &Expr) -> Option<usize> {
        match &e.kind {
            E::Name(n) => self.local_index(n),
            E::Index { target, .. } => self.root_local(target),
            _ => None,
        }
    }

    /// `v` as text for concatenation and formatting, refusing text that would not fit the
    /// memory budget before building it (JSON and XML print larger than they are held).
    pub(crate) fn text<'v>(&mut self, v: &'v Value, at: usize) -> F<Cow<'v, str>> {
        Ok(match v {
            Value::String(s) => Cow::Borrowed(&**s),
            Value::Json(j @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => {
                let room = self.room();
                match budget::json_text(j, true, room) {
                    Some(t) => Cow::Owned(t),
                    None => return Err(over_budget(Budget::Memory, &self.limits, at)),
                }
            }
            Value::Object(Object::XDocument(_) | Object::XElement(_)) => {
                self.charge(self.size_of(v), at)?;
                let t = v.to_display();
                self.charge(t.len(), at)?;
                Cow::Owned(t)
            }
            other => Cow::Owned(other.to_display()),
        })
    }

    fn finish(r: F<Value>) -> Result<Value, RuntimeError> {
        match r {
            Ok(v) | Err(Flow::Return(v)) => Ok(v),
            Err(Flow::NullShort) => Ok(Value::Null),
            Err(Flow::Err(e)) => Err(e),
            Err(Flow::Break | Flow::Continue) => Err(RuntimeError {
                message: "break or continue outside a loop".into(),
                kind: "InvalidOperationException",
                offset: 0,
                budget: None,
            }),
        }
    }

    pub(crate) fn eval_expr(&mut self, e: &Expr) -> Result<Value, RuntimeError> {
        let r = self.ev(e);
        Self::finish(r)
    }

    pub(crate) fn run_block(&mut self, stmts: &[Stmt]) -> Result<Value, RuntimeError> {
        let r = self.exec_list(stmts).map(|_| Value::Null);
        Self::finish(r)
    }

    fn tick(&mut self, at: usize) -> F<()> {
        self.steps += 1;
        if self.steps > self.limits.steps {
            return Err(over_budget(Budget::Steps, &self.limits, at));
        }
        if self.steps >= self.next_clock {
            self.next_clock = self.steps + budget::CLOCK_EVERY;
            self.check_time(at)?;
        }
        Ok(())
    }

    fn local(&self, name: &str) -> Option<&Value> {
        self.locals
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    fn local_index(&self, name: &str) -> Option<usize> {
        self.locals.iter().rposition(|(n, _)| n == name)
    }

    // ------------------------------------------------------------ statements

    fn exec_list(&mut self, stmts: &[Stmt]) -> F<()> {
        // Local functions are in scope in their whole block, also before their declaration.
        for s in stmts {
            if let S::LocalFn(def) = &s.kind
                && let Some(name) = &def.local_fn
            {
                let f = Value::Lambda(Arc::new(Lambda {
                    def: def.clone(),
                    captured: Vec::new(),
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
    fn case_matches(&mut self, v: &Value, c: &Case) -> F<bool> {
        if !self.pat_matches(v, &c.pat)? {
            return Ok(false);
        }
        match &c.guard {
            Some(g) => self.cond(g),
            None => Ok(true),
        }
    }

    fn pat_matches(&mut self, v: &Value, p: &Pat) -> F<bool> {
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

    fn scoped(&mut self, stmts: &[Stmt]) -> F<()> {
        let mark = self.locals.len();
        let r = self.exec_list(stmts);
        self.truncate_locals(mark);
        r
    }

    fn exec(&mut self, s: &Stmt) -> F<()> {
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
            S::Foreach { var, iter, body } => {
                let coll = self.ev(iter)?;
                let items = lib::iterate(self, coll, iter.at)?;
                // The copy being walked is held until the loop ends.
                let temps = self.temps;
                let r = self.hold_all(&items, iter.at).and_then(|()| {
                    for item in items {
                        let mark = self.locals.len();
                        self.push_local(var.clone(), item, iter.at)?;
                        let r = self.exec(body);
                        self.truncate_locals(mark);
                        match r {
                            Err(Flow::Break) => break,
                            Err(Flow::Continue) | Ok(()) => {}
                            Err(f) => return Err(f),
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
                    let r = self.exec(body);
                    self.truncate_locals(mark);
                    match r {
                        Err(Flow::Break) => break,
                        Err(Flow::Continue) | Ok(()) => {}
                        Err(f) => return Err(f),
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
                        let r = self.exec(body);
                        self.truncate_locals(mark);
                        match r {
                            Err(Flow::Break) => break,
                            Err(Flow::Continue) | Ok(()) => {}
                            Err(f) => return Err(f),
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
            S::Seq(b) => self.exec_list(b),
            S::Break => Err(Flow::Break),
            S::Continue => Err(Flow::Continue),
            S::Throw(e) => {
                let msg = match e {
                    Some(e) => {
                        let v = self.ev(e)?;
                        lib::exception_message(&v)
                    }
                    None => "Exception of type 'System.Exception' was thrown.".to_string(),
                };
                Err(rt("Exception", msg, s.at))
            }
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

    pub(crate) fn cond(&mut self, e: &Expr) -> F<bool> {
        match self.ev(e)? {
            Value::Bool(b) => Ok(b),
            Value::Json(serde_json::Value::Bool(b)) => Ok(b),
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

    // ------------------------------------------------------------ expressions

    /// A chain of names that denotes a type or namespace (`System.Text.Encoding`), as opposed to
    /// a value; `None` when the root is a local or `context`.
    fn static_path(&self, e: &Expr) -> Option<String> {
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
                if lib::is_type(&super::parser::normalize_type_name(&p)) {
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
            E::Int(i) => Value::Int(*i),
            E::Double(d) => Value::Double(*d),
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
                        Part::Hole(e, fmt) => {
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
                            self.charge(s.len() + t.len(), at)?;
                            s.push_str(&t);
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
                    let ty = super::parser::normalize_type_name(&p);
                    if lib::is_type(&ty) {
                        return lib::static_property(self, &ty, name, at);
                    }
                    return Err(rt(
                        "CompilationError",
                        format!("The name '{p}' does not exist in the current context"),
                        at,
                    ));
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
            } => return self.call(callee, generics, args, at),
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
                lib::unary(*op, v, at)?
            }
            E::Binary(op, l, r) => {
                let a = self.ev(l)?;
                let mark = self.temps;
                let b = self.hold(&a, at).and_then(|()| self.ev(r));
                self.release(mark);
                let b = b?;
                self.binary(*op, a, b, at)?
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
                lib::cast(v, ty, at)?
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
                let ok = lib::is_instance(&v, ty);
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
            })),
            E::New { ty, args, init } => {
                let args = self.eval_args(args)?;
                let init = match init {
                    Some(items) => Some(self.eval_list(items)?),
                    None => None,
                };
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
            E::NewAnon(fields) => {
                // Each field is a copy, held while the next ones are evaluated.
                let mark = self.temps;
                let r = (|| -> F<serde_json::Map<String, serde_json::Value>> {
                    let mut m = serde_json::Map::new();
                    for (k, v) in fields {
                        let v = self.ev(v)?;
                        self.hold(&v, at)?;
                        m.insert(k.clone(), lib::to_json(&v, at)?);
                    }
                    Ok(m)
                })();
                self.release(mark);
                Value::Json(serde_json::Value::Object(r?))
            }
            E::Assign { target, op, value } => {
                let v = match op {
                    None => self.ev(value)?,
                    Some(op) => {
                        let cur = self.ev(target)?;
                        let mark = self.temps;
                        let rhs = self.hold(&cur, at).and_then(|()| self.ev(value));
                        self.release(mark);
                        self.binary(*op, cur, rhs?, at)?
                    }
                };
                self.assign(target, v.clone())?;
                v
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
                let next = lib::binary(BinOp::Add, cur.clone(), Value::Int(*delta), at)?;
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

    /// A binary operator on evaluated operands (`a + b`, and `a += b`).
    fn binary(&mut self, op: BinOp, a: Value, b: Value, at: usize) -> F<Value> {
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
        lib::binary(op, a, b, at)
    }

    /// Evaluates items in order; each is held (counted against the memory budget) while the
    /// next ones are evaluated, so many large arguments cannot pile up unnoticed.
    fn eval_list(&mut self, items: &[Expr]) -> F<Vec<Value>> {
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

    fn eval_args(&mut self, args: &[Arg]) -> F<Vec<(Option<String>, Value)>> {
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

    fn call(&mut self, callee: &Expr, generics: &[TypeRef], args: &[Arg], at: usize) -> F<Value> {
        if args.iter().any(|a| matches!(a.value.kind, E::Out { .. })) {
            return self.call_with_out(callee, args, at);
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
        if let Some(p) = self.static_path(target) {
            let ty = super::parser::normalize_type_name(&p);
            if !lib::is_type(&ty) {
                return Err(rt(
                    "CompilationError",
                    format!("The name '{p}' does not exist in the current context"),
                    at,
                ));
            }
            if ty == "Array" && name == "Copy" {
                return self.array_copy(args, at);
            }
            let args = self.eval_args(args)?;
            self.heavy_call(None, &args, at)?;
            return lib::call_static(self, &ty, name, generics, args, at);
        }
        // `x.Property("k").Remove()` on a local JObject removes the property in place.
        if name == "Remove"
            && args.is_empty()
            && let E::Call {
                callee: inner,
                args: iargs,
                ..
            } = &target.kind
            && let E::Member {
                target: obj,
                name: pname,
                ..
            } = &inner.kind
            && pname == "Property"
            && iargs.len() == 1
        {
            let key = self.ev(&iargs[0].value)?;
            let slot = self.lvalue(obj)?;
            if let Value::Json(serde_json::Value::Object(m)) = slot {
                m.remove(&key.to_display());
            }
            return Ok(Value::Null);
        }
        if lib::MUTATORS.contains(&name.as_str()) && self.is_lvalue(target) {
            let args = self.eval_args(args)?;
            if matches!(name.as_str(), "Add" | "AddRange" | "Insert" | "Merge")
                && let Some(i) = self.root_local(target)
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
            } else {
                null_ref(at)
            });
        }
        let mark = self.temps;
        let args = self.hold(&t, at).and_then(|()| self.eval_args(args));
        self.release(mark);
        let args = args?;
        self.heavy_call(Some(&t), &args, at)?;
        lib::call_method(self, t, name, generics, args, at)
    }

    /// Reads the clock before a library call whose cost grows with its input, so a loop of
    /// expensive calls is cut at the time budget, not at the step budget.
    fn heavy_call(&mut self, target: Option<&Value>, args: &Args, at: usize) -> F<()> {
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
    fn array_copy(&mut self, args: &[Arg], at: usize) -> F<Value> {
        let (src, si, dst, di, n) = match args {
            [s, d, n] => (s, None, d, None, n),
            [s, si, d, di, n] => (s, Some(si), d, Some(di), n),
            _ => {
                return Err(rt(
                    "CompilationError",
                    format!(
                        "No overload for method 'Copy' takes {} arguments",
                        args.len()
                    ),
                    at,
                ));
            }
        };
        let items = match self.ev(&src.value)? {
            Value::Bytes(b) => b.into_iter().map(|x| Value::Int(x as i64)).collect(),
            Value::Array(a) => a,
            Value::Null => return Err(null_ref(at)),
            other => return Err(lib::cast_err(&other, "System.Array", at)),
        };
        let index = |it: &mut Self, e: Option<&Arg>| -> F<i64> {
            match e {
                Some(a) => match it.ev(&a.value)? {
                    Value::Int(i) => Ok(i),
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
                    if let (Value::Int(x), Some(cell)) = (&v, b.get_mut(d)) {
                        *cell = *x as u8;
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

    /// Calls a lambda with arguments (LINQ). Lambdas see the locals in scope where they run,
    /// which — since delegates cannot escape an expression — are the ones they were written in.
    pub(crate) fn call_lambda(&mut self, l: &Lambda, args: Vec<Value>, at: usize) -> F<Value> {
        let def = &l.def;
        if let Some(name) = &def.local_fn
            && args.len() != def.params.len()
        {
            return Err(rt(
                "CompilationError",
                format!(
                    "No overload for method '{name}' takes {} arguments",
                    args.len()
                ),
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
        for (n, v) in &l.captured {
            self.push_local(n.clone(), v.clone(), at)?;
        }
        for (i, (p, v)) in def.params.iter().zip(args).enumerate() {
            let v = match def.param_types.get(i) {
                Some(Some(t)) => lib::convert_declared(v, t),
                _ => v,
            };
            self.push_local(p.clone(), v, at)?;
        }
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
        self.truncate_locals(mark);
        self.calls -= 1;
        match (r, &def.ret) {
            (Ok(v), Some(t)) => Ok(lib::convert_declared(v, t)),
            (r, _) => r,
        }
    }

    /// A call with `out` arguments: `int.TryParse(s, out var n)`, `jobj.TryGetValue(k, out
    /// JToken v)`, `context.Variables.TryGetValue(k, out object v)`. The out variable becomes a
    /// local of the enclosing scope (or is assigned, for `out existing`).
    fn call_with_out(&mut self, callee: &Expr, args: &[Arg], at: usize) -> F<Value> {
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
        let (ok, value) = if let Some(p) = self.static_path(target) {
            let ty = super::parser::normalize_type_name(&p);
            lib::try_parse(self, &ty, name, inputs, at)?
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
            lib::try_get_value(self, t, name, inputs, at)?
        };
        let value = match var_ty {
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
        Ok(Value::Bool(ok))
    }

    fn is_lvalue(&self, e: &Expr) -> bool {
        match &e.kind {
            E::Name(n) => self.local(n).is_some(),
            E::Index { target, .. } => self.is_lvalue(target),
            _ => false,
        }
    }

    /// A mutable reference to a local or an element inside one (`body["a"]["b"]`). Keys are
    /// evaluated before the local is borrowed.
    fn lvalue(&mut self, e: &Expr) -> F<&mut Value> {
        let mut keys = Vec::new();
        let mut cur = e;
        loop {
            match &cur.kind {
                E::Index { target, args, .. } => {
                    if args.len() != 1 {
                        return Err(rt(
                            "NotSupportedException",
                            "multi-dimensional indexers are not supported",
                            cur.at,
                        ));
                    }
                    keys.push((self.ev(&args[0])?, cur.at));
                    cur = target;
                }
                E::Name(n) => {
                    let Some(i) = self.local_index(n) else {
                        return Err(rt(
                            "CompilationError",
                            format!("The name '{n}' does not exist in the current context"),
                            cur.at,
                        ));
                    };
                    let mut slot = &mut self.locals[i].1;
                    for (k, kat) in keys.into_iter().rev() {
                        slot = lib::element_mut(slot, &k, kat)?;
                    }
                    return Ok(slot);
                }
                _ => {
                    return Err(rt(
                        "NotSupportedException",
                        "only locals and their elements can be assigned",
                        cur.at,
                    ));
                }
            }
        }
    }

    fn assign(&mut self, target: &Expr, v: Value) -> F<()> {
        match &target.kind {
            E::Name(n) => match self.local_index(n) {
                Some(i) => self.set_local(i, v, target.at),
                None => Err(rt(
                    "CompilationError",
                    format!("The name '{n}' does not exist in the current context"),
                    target.at,
                )),
            },
            E::Index { .. } => {
                let mut keys = Vec::new();
                let mut cur = target;
                while let E::Index {
                    target: t, args, ..
                } = &cur.kind
                {
                    if args.len() != 1 {
                        return Err(rt(
                            "NotSupportedException",
                            "multi-dimensional indexers are not supported",
                            cur.at,
                        ));
                    }
                    keys.push((self.ev(&args[0])?, cur.at));
                    cur = t;
                }
                keys.reverse();
                let E::Name(n) = &cur.kind else {
                    return Err(rt(
                        "NotSupportedException",
                        "only locals and their elements can be assigned",
                        cur.at,
                    ));
                };
                let Some(i) = self.local_index(n) else {
                    return Err(rt(
                        "CompilationError",
                        format!("The name '{n}' does not exist in the current context"),
                        cur.at,
                    ));
                };
                // Counted as growth (the replaced element is not subtracted until the
                // local is counted again).
                self.grow_local(i, self.size_of(&v), target.at)?;
                lib::set_path(&mut self.locals[i].1, &keys, v)
            }
            _ => Err(rt(
                "NotSupportedException",
                "only locals and their elements can be assigned",
                target.at,
            )),
        }
    }
}
