//! LINQ to XML's `Changing` and `Changed` events (`node.Changed += (sender, e) => { … }`):
//! which objects hear a change and what their handlers are given. Subscribing and running the
//! handlers is crates/expr/src/interp/events.rs's, as for Newtonsoft's containers.
//!
//! As in .NET, a change is announced on the object whose content changes and then on each of
//! its ancestors: adding or removing a node or attribute on its parent (the sender is the
//! added or removed object, `ObjectChange` `Add`/`Remove`), a new value on the text, comment,
//! attribute or processing instruction itself (`Value`), a new name on the element (`Name`);
//! `Changing` before the change, `Changed` after, each node's handlers in the order they were
//! added. The tree's primitives (crates/expr/src/xml.rs) record each announcement with the
//! objects listening at that moment (so a removed node's former ancestors still hear of it);
//! the interpreter calls the handlers once the call or assignment that made the change has
//! run. The handlers run in .NET's order with .NET's arguments, but after the whole change
//! rather than in the middle of it: a `Changing` handler sees the tree already changed, and
//! one that throws does not stop the change (the exception still ends the expression).
//!
//! Handlers live as long as the evaluation, like annotations (crates/expr/src/xml.rs drops
//! them when it ends: a handler may hold its own node).

use super::*;
use crate::interp::events::{self, Dispatch, EventHandlers, Pending};
use crate::xml::XRef;

/// The `XObjectChange` member names, by their values.
const CHANGES: &[&str] = &["Add", "Remove", "Name", "Value"];

/// The handlers of `event` on a node or attribute: every `XObject` declares `Changed` and
/// `Changing`.
pub(crate) fn xml_event_handlers<'v>(v: &'v Value, event: &str) -> Option<&'v EventHandlers> {
    let n = xml::node_of(v)?;
    matches!(event, "Changed" | "Changing").then(|| n.events())
}

/// One announcement: the objects that listened when the change was made (the changed one,
/// then its ancestors), the sender and the change.
pub(crate) struct XmlRaised {
    listeners: Vec<XRef>,
    sender: XRef,
    change: &'static str,
    changing: bool,
}

/// Announces a change of `start`'s content (or of `start` itself) to it and its ancestors,
/// in the phase `changing` (else changed).
pub(crate) fn notify(start: &XRef, sender: &XRef, change: &'static str, changing: bool) {
    if !events::listening() {
        return;
    }
    let mut listeners = Vec::new();
    let mut cur = Some(start.clone());
    while let Some(n) = cur {
        if n.has_listeners() {
            listeners.push(n.clone());
        }
        cur = n.parent();
    }
    if !listeners.is_empty() {
        events::queue(Pending::Xml(XmlRaised {
            listeners,
            sender: sender.clone(),
            change,
            changing,
        }));
    }
}

/// Whether a change of `n` may be heard (it or an ancestor has handlers): then a multi-node
/// change is made one node at a time, each announced, as .NET makes it.
pub(crate) fn xml_heard(n: &XRef) -> bool {
    if !events::listening() {
        return false;
    }
    let mut cur = Some(n.clone());
    while let Some(n) = cur {
        if n.has_listeners() {
            return true;
        }
        cur = n.parent();
    }
    false
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

/// The handler calls of an announcement: on each listener in turn, the sender and an
/// `XObjectChangeEventArgs` (its `ObjectChange`).
pub(crate) fn xml_event_dispatch(raised: XmlRaised) -> Vec<Dispatch> {
    let change = CHANGES
        .iter()
        .find(|c| **c == raised.change)
        .copied()
        .unwrap_or(CHANGES[0]);
    let args = Value::record(vec![(
        "ObjectChange",
        enum_member("XObjectChange", change).unwrap_or(Value::Null),
    )]);
    let sender = xml::xvalue(raised.sender);
    let event = if raised.changing {
        "Changing"
    } else {
        "Changed"
    };
    raised
        .listeners
        .into_iter()
        .map(|n| Dispatch {
            owner: xml::xvalue(n),
            sender: sender.clone(),
            event,
            args: args.clone(),
            busy: None,
        })
        .collect()
}
