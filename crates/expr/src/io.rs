//! The .NET objects whose methods change them: `StringReader` (a position), `StringWriter` (a
//! buffer) and `XmlReader` (a cursor). Every other value of the language is plain data, copied
//! on assignment; these are reference types in .NET — `var r2 = r; r2.Read();` moves `r` too —
//! so the state sits behind an `Arc<Mutex<…>>` that copies share. The members are in
//! crates/expr/src/library/textio.rs and crates/expr/src/library/xmlreader.rs.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::value::Value;

/// One `XmlReader` node, flattened from the parsed document in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReaderNode {
    /// The `XmlNodeType` name: `Element`, `EndElement`, `Text`, `Whitespace`, `Comment`,
    /// `ProcessingInstruction`, `XmlDeclaration`.
    pub(crate) kind: &'static str,
    /// The name as written (`p:a`); empty for text.
    pub(crate) name: String,
    pub(crate) local: String,
    pub(crate) namespace: String,
    pub(crate) value: String,
    pub(crate) depth: i64,
    pub(crate) empty: bool,
    /// Attributes as written (`name`, value), namespace declarations included, as .NET lists them.
    pub(crate) attributes: Vec<(String, String)>,
    /// For an element: its ordinal among the document's elements (what `XElement.Load` finds
    /// again) and the index of its last node (its `EndElement`, or itself when empty).
    pub(crate) ordinal: usize,
    pub(crate) end: usize,
}

/// An `XmlReader`: the document's text, its nodes once read, and the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct XmlReaderState {
    pub(crate) text: Arc<str>,
    /// Parsed on the first `Read` (as .NET reports malformed XML then, not at `Create`).
    pub(crate) nodes: Option<Vec<ReaderNode>>,
    /// The current node: `None` before the first `Read`; `Some(len)` at the end.
    pub(crate) pos: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum IoState {
    /// `StringReader`: the text and the byte offset of the next character.
    StringReader {
        text: Arc<str>,
        pos: usize,
    },
    StringWriter(String),
    XmlReader(XmlReaderState),
    StringBuilder(String),
    Queue(VecDeque<Value>),
    /// The top is the last element.
    Stack(Vec<Value>),
    /// `HashSet<T>`: distinct items in insertion order (how .NET enumerates a set that has
    /// not had removals).
    HashSet(Vec<Value>),
}

/// A stateful .NET object shared by every copy of the value that holds it.
#[derive(Debug)]
pub struct IoObject {
    /// The .NET type name, kept outside the lock: naming the object (in an error, or printing
    /// it) must not wait for a method of the same object that is running.
    pub(crate) type_name: &'static str,
    state: Mutex<IoState>,
}

impl IoObject {
    pub(crate) fn new(state: IoState) -> Arc<IoObject> {
        let type_name = match state {
            IoState::StringReader { .. } => "System.IO.StringReader",
            IoState::StringWriter(_) => "System.IO.StringWriter",
            IoState::XmlReader(_) => "System.Xml.XmlReader",
            IoState::StringBuilder(_) => "System.Text.StringBuilder",
            IoState::Queue(_) => "System.Collections.Generic.Queue`1",
            IoState::Stack(_) => "System.Collections.Generic.Stack`1",
            IoState::HashSet(_) => "System.Collections.Generic.HashSet`1",
        };
        Arc::new(IoObject {
            type_name,
            state: Mutex::new(state),
        })
    }

    /// The state. A panic while it was held cannot leave it inconsistent (every update is a
    /// plain assignment), so a poisoned lock is taken over.
    pub(crate) fn state(&self) -> MutexGuard<'_, IoState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `ToString()`: a writer's or builder's text, otherwise the type name. While one of the
    /// object's own methods runs (`sb.Append(sb)`), its text is not available here: the type
    /// name stands in.
    pub(crate) fn display(&self) -> String {
        match self.state.try_lock().as_deref() {
            Ok(IoState::StringWriter(b) | IoState::StringBuilder(b)) => b.clone(),
            _ => self.type_name.to_string(),
        }
    }

    /// The bytes the object holds, for the memory budget. While one of its own methods runs
    /// (the lock is held: the budget is being checked from inside it) it counts as nothing;
    /// that method charges what it adds itself.
    pub(crate) fn size(&self) -> usize {
        match self.state.try_lock() {
            Ok(s) => match &*s {
                IoState::StringReader { text, .. } => text.len(),
                IoState::StringWriter(b) | IoState::StringBuilder(b) => b.len(),
                IoState::Queue(q) => q
                    .iter()
                    .map(|v| crate::budget::SLOT + crate::budget::size_upto(v, usize::MAX))
                    .sum(),
                IoState::Stack(q) | IoState::HashSet(q) => q
                    .iter()
                    .map(|v| crate::budget::SLOT + crate::budget::size_upto(v, usize::MAX))
                    .sum(),
                IoState::XmlReader(r) => {
                    r.text.len()
                        + r.nodes.as_ref().map_or(0, |n| {
                            n.iter()
                                .map(|x| 96 + x.name.len() + x.value.len())
                                .sum::<usize>()
                        })
                }
            },
            Err(_) => 0,
        }
    }
}

/// Reference equality, as `==` on .NET reference types.
impl PartialEq for IoObject {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Value {
    /// A copy that shares no state with `self`: the stateful objects above (a builder, a
    /// reader, a set …) are copied rather than shared. What a policy keeps beyond the request
    /// (crates/policy/src/cache.rs) must be detached: .NET serialises a cached value, so no
    /// later request can change the one another stored.
    pub fn detached(&self) -> Value {
        match self {
            Value::Object(crate::value::Object::Io(o)) => {
                let state = o.state().clone();
                Value::Object(crate::value::Object::Io(IoObject::new(state)))
            }
            Value::Array(a) => Value::Array(a.iter().map(Value::detached).collect()),
            Value::Json(j) => Value::Json(j.deep_clone()),
            Value::Object(crate::value::Object::Map(m)) => {
                Value::Object(crate::value::Object::Map(Arc::new(
                    m.iter()
                        .map(|(k, v)| (k.detached(), v.detached()))
                        .collect(),
                )))
            }
            Value::Object(crate::value::Object::Record(r)) => {
                Value::Object(crate::value::Object::Record(Arc::new(
                    r.iter().map(|(k, v)| (k.clone(), v.detached())).collect(),
                )))
            }
            other => other.clone(),
        }
    }

    /// The estimated bytes the value holds, as the evaluation budget counts them
    /// (crates/expr/src/budget.rs), for callers that keep values (a cache).
    pub fn estimated_size(&self) -> usize {
        crate::budget::size_upto(self, usize::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detached_copies_share_no_state() {
        let v = Value::Object(crate::value::Object::Io(IoObject::new(
            IoState::StringBuilder("a".into()),
        )));
        let copy = v.detached();
        if let Value::Object(crate::value::Object::Io(o)) = &v
            && let IoState::StringBuilder(b) = &mut *o.state()
        {
            b.push('b');
        }
        assert_eq!(v.to_display(), "ab");
        assert_eq!(copy.to_display(), "a");
        assert!(copy.estimated_size() >= 1);
    }
}
