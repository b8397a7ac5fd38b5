//! Tree-walking interpreter. Control flow (return, break, `?.` short-circuit) travels as the
//! error side of `Result` so that `?` propagates it without ceremony; errors carry the .NET
//! exception kind because `context.LastError` shows it to the policy.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use super::ast::*;
use super::budget;
use super::library as lib;
use super::limits::{Budget, Limits};
use super::value::{Lambda, Object, Value};
use crate::context::Context;
use crate::error::RuntimeError;

mod calls;
mod destinations;
pub(crate) mod events;
mod expressions;
mod in_place;
mod initializers;
mod lvalues;
mod nullable;
mod statements;
mod string_create;
mod thenby;
mod trycatch;
mod tuples;
mod type_calls;
mod types;

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
    /// The exceptions the enclosing `catch` blocks handle, innermost last: `throw;` rethrows
    /// the last one.
    caught: Vec<RuntimeError>,
    /// Inside `checked(…)` or a `checked { }` block: integer overflow throws
    /// OverflowException instead of wrapping (crates/expr/src/numeric.rs).
    pub(crate) checked: bool,
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
            caught: Vec::new(),
            checked: false,
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

    /// Charges growth of a value reached through a shared token rather than a local
    /// (`((JArray)o["a"]).Add(x)`): counted as held until the locals are counted again.
    pub(crate) fn grow(&mut self, bytes: usize, at: usize) -> F<()> {
        self.charge(bytes, at)?;
        self.held = self.held.saturating_add(bytes);
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
            Value::Json(j) if j.is_object() || j.is_array() => {
                let room = self.room();
                match budget::json_text(&j.to_serde(), true, room) {
                    Some(t) => Cow::Owned(t),
                    None => return Err(over_budget(Budget::Memory, &self.limits, at)),
                }
            }
            Value::Object(Object::XDocument(n) | Object::XElement(n)) => {
                self.charge(self.size_of(v), at)?;
                let t = n.try_to_xml(false).map_err(|e| rt("XmlException", e, at))?;
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
}
