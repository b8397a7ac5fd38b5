//! LINQ to XML's `Changing` and `Changed` events (`node.Changed += (sender, e) => { … }`).
//!
//! As in .NET, a change is announced on the object whose content changes and then on each of
//! its ancestors: adding or removing a node or attribute on its parent (the sender is the
//! added or removed object, `ObjectChange` `Add`/`Remove`), a new value on the text, comment,
//! attribute or processing instruction itself (`Value`), a new name on the element (`Name`);
//! `Changing` before the change, `Changed` after, each node's handlers in the order they were
//! added. The tree's primitives (crates/expr/src/xml.rs) record each announcement with the
//! handlers found at that moment (so a removed node's former ancestors still hear of it); the
//! interpreter calls the handlers once the expression that made the change has run
//! (crates/expr/src/interp/xml_events.rs). The handlers run in .NET's order with .NET's
//! arguments, but after the whole change rather than in the middle of it: a `Changing`
//! handler sees the tree already changed, and one that throws does not stop the change (the
//! exception still ends the expression).
//!
//! Handlers live as long as the evaluation, like annotations.

use std::cell::{Cell, RefCell};

use super::*;
use crate::value::Lambda;
use crate::xml::XRef;

/// One announcement: the handlers to call and their arguments.
pub(crate) struct XmlEvent {
    pub(crate) handlers: Vec<Arc<Lambda>>,
    pub(crate) sender: XRef,
    pub(crate) change: &'static str,
}

thread_local! {
    /// Handlers added in this evaluation (0: nothing to look for).
    static SUBSCRIBED: Cell<usize> = const { Cell::new(0) };
    static QUEUE: RefCell<Vec<XmlEvent>> = const { RefCell::new(Vec::new()) };
}

/// The `XObjectChange` member names, by their values.
const CHANGES: &[&str] = &["Add", "Remove", "Name", "Value"];

/// Announces a change of `start`'s content (or of `start` itself): queues its handlers and its
/// ancestors' of the phase (`changing` or changed).
pub(crate) fn notify(start: &XRef, sender: &XRef, change: &'static str, changing: bool) {
    if SUBSCRIBED.with(Cell::get) == 0 {
        return;
    }
    let mut handlers = Vec::new();
    let mut cur = Some(start.clone());
    while let Some(n) = cur {
        handlers.extend(n.handlers(changing));
        cur = n.parent();
    }
    if !handlers.is_empty() {
        QUEUE.with(|q| {
            q.borrow_mut().push(XmlEvent {
                handlers,
                sender: sender.clone(),
                change,
            })
        });
    }
}

/// Whether any handler was added in this evaluation (else changes need not be announced).
pub(crate) fn xml_events_active() -> bool {
    SUBSCRIBED.with(Cell::get) > 0
}

/// `Changing` then `Changed` of one change, around `f` (which makes it).
pub(crate) fn xml_change<T>(
    start: &XRef,
    sender: &XRef,
    change: &'static str,
    f: impl FnOnce() -> T,
) -> T {
    notify(start, sender, change, true);
    let r = f();
    notify(start, sender, change, false);
    r
}

/// The announcements waiting for their handlers, in order.
pub(crate) fn take_xml_events() -> Vec<XmlEvent> {
    QUEUE.with(|q| std::mem::take(&mut *q.borrow_mut()))
}

/// Forgets the waiting announcements (the expression that made them failed).
pub(crate) fn clear_xml_events() {
    QUEUE.with(|q| q.borrow_mut().clear());
}

/// A new evaluation: no handlers; the count of the evaluation it interrupts, to restore.
pub(crate) fn begin_xml_events() -> usize {
    clear_xml_events();
    SUBSCRIBED.with(|s| s.replace(0))
}

pub(crate) fn end_xml_events(outer: usize) {
    clear_xml_events();
    SUBSCRIBED.with(|s| s.set(outer));
}

/// `node.Changed += handler` (`add`) or `-= handler` on a node or attribute value;
/// `None` when `t` is no node.
pub(crate) fn subscribe(
    t: &Value,
    event: &str,
    handler: &Value,
    add: bool,
    at: usize,
) -> Option<F<()>> {
    let n = xml::node_of(t)?;
    let changing = event == "Changing";
    Some(match handler {
        Value::Lambda(l) => {
            if add {
                n.add_handler(changing, l.clone());
                SUBSCRIBED.with(|s| s.set(s.get() + 1));
            } else {
                n.remove_handler(changing, l);
            }
            Ok(())
        }
        // Removing or adding no handler changes nothing, as with a null delegate.
        Value::Null => Ok(()),
        other => Err(cast_err(
            other,
            "System.EventHandler`1[System.Xml.Linq.XObjectChangeEventArgs]",
            at,
        )),
    })
}

/// The handler's arguments: the sender and an `XObjectChangeEventArgs` (its `ObjectChange`).
pub(crate) fn event_arguments(e: &XmlEvent) -> Vec<Value> {
    let change = CHANGES.iter().position(|c| *c == e.change).unwrap_or(0) as i64;
    let mut args = std::collections::BTreeMap::new();
    args.insert(
        "ObjectChange".to_string(),
        enum_member("XObjectChange", CHANGES[change as usize]).unwrap_or(Value::Null),
    );
    vec![
        xml::xvalue(e.sender.clone()),
        Value::Object(Object::Record(Arc::new(args))),
    ]
}
