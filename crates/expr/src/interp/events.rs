//! .NET events on library objects: `obj.Event += handler;` / `-=`, and raising them.
//!
//! An object with events owns an [`EventHandlers`] (handlers by event name, in subscription
//! order); [`handlers_of`] finds it for a value and an event name, so any object kind can
//! take part (Newtonsoft's containers, crates/expr/src/library/json_events.rs; LINQ to XML's
//! `Changed`/`Changing`, crates/expr/src/library/xml_events.rs).
//!
//! Library code changes objects without the interpreter at hand, so a change that raises an
//! event queues a [`Pending`] (per thread: an evaluation runs on one); the interpreter runs the
//! handlers when the call or assignment that made the change returns ([`Interp::raise_pending`]),
//! in the order the events were raised, inside the evaluation's budgets (a handler is a lambda
//! call like any other, and the call depth bounds handlers that raise events in turn). A
//! handler therefore sees the object as the whole call left it, where .NET would show it
//! between the steps of a multi-step change (`ReplaceAll` clears, then adds).
//!
//! Another object kind takes part with: an [`EventHandlers`] in the object, an arm in
//! [`handlers_of`], a [`Pending`] variant its changes queue, and an arm in
//! [`Interp::raise_pending`] turning it into [`Dispatch`]es (whose handlers, sender, event,
//! EventArgs, and a [`Busy`] object if changes are refused while the handlers run).

use super::*;
use std::cell::RefCell;
use std::sync::Mutex;

/// The events every library type with events declares (C#'s `+=` on any other member is an
/// ordinary compound assignment).
pub(crate) const EVENT_NAMES: &[&str] = &[
    "AddingNew",
    "CollectionChanged",
    "ListChanged",
    "PropertyChanged",
    "PropertyChanging",
    "Changed",
    "Changing",
];

/// Subscriptions: event, handler, the evaluation that subscribed it.
type Subscriptions = Mutex<Vec<(&'static str, Value, u64)>>;

/// Handlers subscribed to one object's events, each with the evaluation that subscribed it.
/// Shared (`Arc`) so that the evaluation can find them again when it ends: a handler is a
/// lambda that may capture its own object (`a.CollectionChanged += (s, e) => a.Count…`), a
/// cycle of strong links reference counting would never free, so [`EvaluationScope`] drops
/// the handlers an evaluation subscribed when it ends (they would never run in another).
#[derive(Default, Debug)]
pub struct EventHandlers(Arc<Subscriptions>);

thread_local! {
    /// The handler lists the running evaluation subscribed to.
    static SUBSCRIBED: RefCell<Vec<std::sync::Weak<Subscriptions>>> =
        const { RefCell::new(Vec::new()) };
}

impl EventHandlers {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(&'static str, Value, u64)>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn add(&self, event: &'static str, handler: Value) {
        self.lock().push((event, handler, current_evaluation()));
        SUBSCRIBED.with(|s| s.borrow_mut().push(Arc::downgrade(&self.0)));
    }

    /// Removes the last subscription of `handler` (the same delegate: a lambda written again
    /// is another one, as in C#).
    pub(crate) fn remove(&self, event: &str, handler: &Value) {
        let mut list = self.lock();
        if let Some(i) = list
            .iter()
            .rposition(|(e, h, _)| *e == event && same_delegate(h, handler))
        {
            list.remove(i);
        }
    }

    /// The handlers of `event` this evaluation subscribed, in subscription order. (A handler
    /// is a lambda of the program that subscribed it, which reads that evaluation's locals: a
    /// token kept across evaluations, in a cache, does not run it in another.)
    pub(crate) fn of(&self, event: &str) -> Vec<Value> {
        let now = current_evaluation();
        self.lock()
            .iter()
            .filter(|(e, _, by)| *e == event && *by == now)
            .map(|(_, h, _)| h.clone())
            .collect()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// How many subscriptions (what the memory budget counts).
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    /// Forgets every handler (a handler may hold its own object: the cycle is broken when
    /// the evaluation ends). They are dropped with the lock released.
    pub(crate) fn clear(&self) {
        let old = std::mem::take(&mut *self.lock());
        drop(old);
    }
}

fn same_delegate(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Lambda(x), Value::Lambda(y)) => Arc::ptr_eq(x, y),
        _ => false,
    }
}

/// The handlers of `event` on `v`, when `v` declares that event.
pub(crate) fn handlers_of<'v>(v: &'v Value, event: &str) -> Option<&'v EventHandlers> {
    match v {
        Value::Json(j) => lib::json_event_handlers(j, event),
        _ => lib::xml_event_handlers(v, event),
    }
}

/// The delegate type `v`'s `event` takes (what a handler of another type fails to convert to).
fn handler_type(v: &Value) -> &'static str {
    if let Value::Object(
        Object::XDocument(_) | Object::XElement(_) | Object::XAttribute(_) | Object::XNode(_),
    ) = v
    {
        "System.EventHandler`1[System.Xml.Linq.XObjectChangeEventArgs]"
    } else {
        "System.Delegate"
    }
}

/// An event raised by library code, waiting for the interpreter to run its handlers.
pub(crate) enum Pending {
    /// A change to a Newtonsoft token (crates/expr/src/jtree.rs).
    Json(crate::jtree::Raised),
    /// A change to a LINQ to XML object (crates/expr/src/xml.rs).
    Xml(lib::XmlRaised),
}

thread_local! {
    static PENDING: RefCell<Vec<Pending>> = const { RefCell::new(Vec::new()) };
    static EVALUATION: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// Whether this evaluation subscribed any handler (else changes need not look for them).
    static LISTENING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether any handler was subscribed in this evaluation: a cheap test before looking for
/// the listeners of a change.
pub(crate) fn listening() -> bool {
    LISTENING.with(|l| l.get())
}

fn current_evaluation() -> u64 {
    EVALUATION.with(|e| e.get())
}

/// The events of one evaluation (crates/expr/src/lib.rs's `eval_with`): a fresh evaluation id
/// and an empty queue while it runs; the previous ones back when it ends.
pub(crate) struct EvaluationScope(u64, bool, Vec<std::sync::Weak<Subscriptions>>);

impl EvaluationScope {
    pub(crate) fn begin() -> EvaluationScope {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        take();
        EvaluationScope(
            EVALUATION.with(|e| e.replace(id)),
            LISTENING.with(|l| l.replace(false)),
            SUBSCRIBED.with(|s| std::mem::take(&mut *s.borrow_mut())),
        )
    }
}

impl Drop for EvaluationScope {
    fn drop(&mut self) {
        take();
        // The handlers this evaluation subscribed go with it (see [`EventHandlers`]); they are
        // dropped with no lock held, as dropping a lambda may free the object holding the list.
        let now = current_evaluation();
        let subscribed = SUBSCRIBED.with(|s| s.replace(std::mem::take(&mut self.2)));
        for list in subscribed.iter().filter_map(std::sync::Weak::upgrade) {
            let mine: Vec<_> = {
                let mut l = list.lock().unwrap_or_else(|e| e.into_inner());
                let (mine, others) = std::mem::take(&mut *l)
                    .into_iter()
                    .partition(|(_, _, by)| *by == now);
                *l = others;
                mine
            };
            drop(mine);
        }
        EVALUATION.with(|e| e.set(self.0));
        LISTENING.with(|l| l.set(self.1));
    }
}

/// Queues an event (library code, which has no interpreter at hand).
pub(crate) fn queue(p: Pending) {
    PENDING.with(|q| q.borrow_mut().push(p));
}

fn take() -> Vec<Pending> {
    PENDING.with(|q| std::mem::take(&mut *q.borrow_mut()))
}

/// An object that refuses changes while some of its handlers run (Newtonsoft's containers
/// during their collection-change events).
pub(crate) trait Busy {
    fn set_busy(&self, busy: bool);
}

impl Busy for crate::jtree::JToken {
    fn set_busy(&self, busy: bool) {
        crate::jtree::JToken::set_busy(self, busy);
    }
}

/// One handler call: the object whose handlers run (the sender, or an ancestor of a changed
/// XML node), the sender, the event, its `EventArgs`, and the object that is busy while the
/// handlers run, if any.
pub(crate) struct Dispatch {
    pub(crate) owner: Value,
    pub(crate) sender: Value,
    pub(crate) event: &'static str,
    pub(crate) args: Value,
    pub(crate) busy: Option<Box<dyn Busy>>,
}

impl Interp<'_> {
    /// `target.Event += handler` / `-=`: `None` when `name` is no event name.
    pub(super) fn event_assign(
        &mut self,
        target: &Expr,
        name: &str,
        op: BinOp,
        value: &Expr,
        at: usize,
    ) -> Option<F<Value>> {
        let event = *EVENT_NAMES.iter().find(|e| **e == name)?;
        if !matches!(op, BinOp::Add | BinOp::Sub) {
            return None;
        }
        Some((|| {
            let obj = self.ev(target)?;
            let handler = self.ev(value)?;
            if matches!(obj, Value::Null) {
                return Err(null_ref(at));
            }
            let Some(handlers) = handlers_of(&obj, event) else {
                return Err(rt(
                    "RuntimeBinderException",
                    format!(
                        "'{}' does not contain a definition for '{name}'",
                        obj.type_name()
                    ),
                    at,
                ));
            };
            match handler {
                // Subscribing null changes nothing, as in C#.
                Value::Null => {}
                Value::Lambda(_) if op == BinOp::Add => {
                    self.grow(budget::SLOT, at)?;
                    LISTENING.with(|l| l.set(true));
                    handlers.add(event, handler);
                }
                Value::Lambda(_) => handlers.remove(event, &handler),
                other => return Err(lib::cast_err(&other, handler_type(&obj), at)),
            }
            Ok(Value::Null)
        })())
    }

    /// Runs the handlers of the events raised since the last call, oldest first; a handler's
    /// own changes raise theirs after it returns. After a failure the rest are dropped.
    pub(super) fn raise_pending(&mut self, r: F<Value>, at: usize) -> F<Value> {
        if PENDING.with(|q| q.borrow().is_empty()) {
            return r;
        }
        let pending = take();
        let v = r?;
        for p in pending {
            let calls = match p {
                Pending::Json(raised) => lib::json_event_dispatch(raised),
                Pending::Xml(raised) => lib::xml_event_dispatch(raised),
            };
            for d in calls {
                let handlers = match handlers_of(&d.owner, d.event) {
                    Some(h) => h.of(d.event),
                    None => continue,
                };
                if let Some(b) = &d.busy {
                    b.set_busy(true);
                }
                let mut out = Ok(Value::Null);
                for h in handlers {
                    if let Value::Lambda(l) = &h {
                        out = self.call_lambda(l, vec![d.sender.clone(), d.args.clone()], at);
                        out = self.raise_pending(out, at);
                        if out.is_err() {
                            break;
                        }
                    }
                }
                if let Some(b) = &d.busy {
                    b.set_busy(false);
                }
                if let Err(e) = out {
                    take();
                    return Err(e);
                }
            }
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use crate::{ExprKind, MapContext, Value, eval, parse};

    /// A handler capturing its own token is a cycle; it is dropped when its evaluation ends.
    #[test]
    fn handlers_end_with_their_evaluation() {
        let src = "var a = new JArray(); var n = 0; \
                   a.CollectionChanged += (s, e) => { n = a.Count; }; a.Add(1); return a;";
        let p = parse(src, ExprKind::Block).expect("parses");
        let v = eval(&p, &mut MapContext::new()).expect("runs");
        let Value::Json(a) = v else { panic!("{v:?}") };
        assert!(a.events().is_empty());
    }
}
