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
    /// Attributes in the order .NET lists them, namespace declarations included.
    pub(crate) attributes: Vec<ReaderAttr>,
    /// The byte offset .NET's line information points at: an element's name (after `<` or
    /// `</`), a text's first character.
    pub(crate) offset: usize,
    /// For an element: its ordinal among the document's elements (what `XElement.Load` finds
    /// again) and the index of its last node (its `EndElement`, or itself when empty). For an
    /// `EndElement`: the index of its start.
    pub(crate) ordinal: usize,
    pub(crate) end: usize,
    /// The index of the enclosing element (the scope of namespaces, `xml:lang`, `xml:space`).
    pub(crate) parent: Option<usize>,
}

/// An attribute of a [`ReaderNode`], as the reader shows it once moved onto it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReaderAttr {
    /// The name as written (`p:a`, `xmlns:p`).
    pub(crate) name: String,
    pub(crate) local: String,
    pub(crate) namespace: String,
    pub(crate) value: String,
    /// The quote character it was written with (`QuoteChar`).
    pub(crate) quote: char,
    /// Byte offset of its name, for line information.
    pub(crate) offset: usize,
}

/// `XmlReaderSettings`: what a reader skips and how it treats a DTD. The enum-valued
/// settings hold their member names, as the library holds enum values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReaderSettings {
    pub(crate) ignore_whitespace: bool,
    pub(crate) ignore_comments: bool,
    pub(crate) ignore_pis: bool,
    pub(crate) close_input: bool,
    pub(crate) check_characters: bool,
    pub(crate) dtd_processing: &'static str,
    pub(crate) conformance_level: &'static str,
    /// `Async`: whether the `…Async` methods may be used.
    pub(crate) asynchronous: bool,
}

impl Default for ReaderSettings {
    /// .NET's defaults.
    fn default() -> Self {
        ReaderSettings {
            ignore_whitespace: false,
            ignore_comments: false,
            ignore_pis: false,
            close_input: false,
            check_characters: true,
            dtd_processing: "Prohibit",
            conformance_level: "Document",
            asynchronous: false,
        }
    }
}

/// An `XmlNameTable`: the strings added, and how many of its reader's nodes have been
/// added (the reader adds the names of the nodes it has read).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct NameTable {
    pub(crate) names: std::collections::HashSet<Arc<str>>,
    pub(crate) seen: usize,
}

/// The node `ReadValueChunk` reads: the position, the attribute, whether on its text.
pub(crate) type ChunkKey = (Option<usize>, Option<usize>, bool);

/// An `XmlReader`: the document's text, its nodes once read, and the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct XmlReaderState {
    pub(crate) text: Arc<str>,
    /// Parsed on the first `Read` (as .NET reports malformed XML then, not at `Create`).
    pub(crate) nodes: Option<Vec<ReaderNode>>,
    /// The current node: `None` before the first `Read`; `Some(len)` at the end.
    pub(crate) pos: Option<usize>,
    /// Moved onto the current element's attribute of this index (`MoveToAttribute` …).
    pub(crate) attr: Option<usize>,
    /// On that attribute's value, as a text node (`ReadAttributeValue`).
    pub(crate) attr_text: bool,
    /// `Close()` was called: `ReadState.Closed`, no node.
    pub(crate) closed: bool,
    pub(crate) settings: ReaderSettings,
    /// A `ReadSubtree()` reader: the first and last node it reads, and the depth of the
    /// first (its depth 0).
    pub(crate) subtree: Option<(usize, usize, i64)>,
    /// Its `NameTable` (shared with a `ReadSubtree()` reader, as .NET's is).
    pub(crate) names: Arc<IoObject>,
    /// `ReadValueChunk`'s progress: the node it reads (position, attribute, on the
    /// attribute's text) and the byte offset of the value's next character.
    pub(crate) chunk: Option<(ChunkKey, usize)>,
    /// A `ReadContentAsBase64`/`BinHex` (or `ReadElementContent…`) read under way: the method
    /// (which later calls must be), the decoded bytes and how many were handed out.
    pub(crate) binary: Option<(&'static str, Vec<u8>, usize)>,
    /// A reader over LINQ to XML nodes (`node.CreateReader()`, .NET's `XNodeReader`): it
    /// cannot read values in chunks or binary content, nor asynchronously.
    pub(crate) node_reader: bool,
}

impl XmlReaderState {
    /// A reader over `text`, before its first `Read`.
    pub(crate) fn new(text: Arc<str>, settings: ReaderSettings) -> XmlReaderState {
        XmlReaderState {
            text,
            nodes: None,
            pos: None,
            attr: None,
            attr_text: false,
            closed: false,
            settings,
            subtree: None,
            names: IoObject::new(IoState::NameTable(NameTable::default())),
            chunk: None,
            binary: None,
            node_reader: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum IoState {
    /// `StringReader`: the text and the byte offset of the next character.
    StringReader {
        text: Arc<str>,
        pos: usize,
        /// `Close()`/`Dispose()` was called: reading throws ObjectDisposedException.
        closed: bool,
    },
    StringWriter(WriterState),
    XmlReader(XmlReaderState),
    /// A completed `Task`/`Task<T>`/`ValueTask` (an async member's result), its awaiter or
    /// configured awaitable (crates/expr/src/library/tasks.rs).
    Task(crate::library::TaskState),
    /// An `XmlReader`'s `NameTable`: the strings it has atomised.
    NameTable(NameTable),
    /// An `XmlWriter` (crates/expr/src/library/xmlwriter.rs) and its settings.
    XmlWriter(crate::library::XmlWriterState),
    XmlWriterSettings(crate::library::WriterSettings),
    XmlReaderSettings(ReaderSettings),
    StringBuilder(String),
    Queue(VecDeque<Value>),
    /// The top is the last element.
    Stack(Vec<Value>),
    /// `HashSet<T>`: distinct items in insertion order (how .NET enumerates a set that has
    /// not had removals).
    /// The `StringComparer` its items are compared with (`None`: exact equality).
    HashSet(Vec<Value>, Option<crate::library::StringComparerKind>),
    /// An enumerator (`list.GetEnumerator()`, crates/expr/src/library/enumerators.rs).
    Enumerator(crate::library::EnumState),
    /// `Exception.Data`, text decoders and encoders, `CharEnumerator`
    /// (crates/expr/src/library/misc_state.rs).
    Misc(crate::library::MiscState),
    /// `HashSet<T>.CreateSetComparer()` (crates/expr/src/library/set_comparer.rs).
    SetComparer,
}

impl IoState {
    /// Empties a collection (what breaks a reference cycle through it) and gives back what it
    /// held, to be dropped once the lock is released.
    pub(crate) fn take_values(&mut self) -> Vec<Value> {
        match self {
            IoState::Queue(q) => std::mem::take(q).into(),
            IoState::Stack(s) | IoState::HashSet(s, _) => std::mem::take(s),
            IoState::Misc(crate::library::MiscState::Data(d)) => std::mem::take(d)
                .into_iter()
                .flat_map(|(k, v)| [k, v])
                .collect(),
            IoState::Enumerator(e) => {
                let mut out = std::mem::take(&mut e.items);
                out.push(std::mem::replace(&mut e.default, Value::Null));
                if let Some(src) = e.source.take() {
                    out.push(Value::Object(crate::value::Object::Io(src)));
                }
                out
            }
            IoState::Task(t) => match &mut t.outcome {
                Ok(v) => vec![std::mem::replace(v, Value::Null)],
                Err(_) => Vec::new(),
            },
            _ => Vec::new(),
        }
    }
}

/// A `StringWriter`: the `StringBuilder` it writes into (a shared object: `GetStringBuilder()`
/// hands it out, and edits through it show in the writer), its `NewLine`, and whether it is
/// `TextWriter.Null` (which discards what is written).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WriterState {
    pub(crate) builder: Arc<IoObject>,
    pub(crate) new_line: String,
    pub(crate) discard: bool,
    /// `Close()`/`Dispose()` was called: writing throws ObjectDisposedException (the text
    /// stays readable through `ToString()`).
    pub(crate) closed: bool,
}

impl WriterState {
    pub(crate) fn new(builder: Arc<IoObject>) -> WriterState {
        WriterState {
            builder,
            new_line: crate::library::NEW_LINE.to_string(),
            discard: false,
            closed: false,
        }
    }

    /// The text written so far.
    pub(crate) fn text(&self) -> String {
        match &*self.builder.state() {
            IoState::StringBuilder(b) => b.clone(),
            _ => String::new(),
        }
    }

    /// Appends to the builder (nothing for `TextWriter.Null`).
    pub(crate) fn push(&self, s: &str) {
        if self.discard {
            return;
        }
        if let IoState::StringBuilder(b) = &mut *self.builder.state() {
            b.push_str(s);
        }
    }

    pub(crate) fn len(&self) -> usize {
        match &*self.builder.state() {
            IoState::StringBuilder(b) => b.len(),
            _ => 0,
        }
    }
}

/// A stateful .NET object shared by every copy of the value that holds it.
#[derive(Debug)]
pub struct IoObject {
    /// The .NET type name, kept outside the lock: naming the object (in an error, or printing
    /// it) must not wait for a method of the same object that is running.
    pub(crate) type_name: &'static str,
    state: Mutex<IoState>,
    /// A `StringBuilder`'s `Capacity` in chars (crates/expr/src/library/builder_capacity.rs);
    /// kept beside the state so that reading it never waits for the builder's own method.
    pub(crate) capacity: std::sync::atomic::AtomicUsize,
}

impl IoObject {
    pub(crate) fn new(state: IoState) -> Arc<IoObject> {
        let type_name = match &state {
            IoState::StringReader { .. } => "System.IO.StringReader",
            IoState::StringWriter(_) => "System.IO.StringWriter",
            IoState::Task(t) => t.type_name(),
            IoState::NameTable(_) => "System.Xml.NameTable",
            IoState::XmlWriter(_) => "System.Xml.XmlWriter",
            IoState::XmlWriterSettings(_) => "System.Xml.XmlWriterSettings",
            IoState::XmlReader(_) => "System.Xml.XmlReader",
            IoState::XmlReaderSettings(_) => "System.Xml.XmlReaderSettings",
            IoState::StringBuilder(_) => "System.Text.StringBuilder",
            IoState::Queue(_) => "System.Collections.Generic.Queue`1",
            IoState::Stack(_) => "System.Collections.Generic.Stack`1",
            IoState::HashSet(..) => "System.Collections.Generic.HashSet`1",
            IoState::Enumerator(e) => e.kind.type_name(),
            IoState::Misc(m) => m.type_name(),
            IoState::SetComparer => "System.Collections.Generic.HashSetEqualityComparer`1",
        };
        IoObject::named(state, type_name)
    }

    /// An object of a type other than its state's usual one (`TextReader.Null` is a reader
    /// over nothing, of type `TextReader+NullTextReader`).
    pub(crate) fn named(state: IoState, type_name: &'static str) -> Arc<IoObject> {
        let capacity = match &state {
            // UTF-16 units; an ASCII text (as many chars as bytes) has one per byte.
            IoState::StringBuilder(b) if b.chars().count() == b.len() => b.len().max(16),
            IoState::StringBuilder(b) => b.encode_utf16().count().max(16),
            _ => 0,
        };
        Arc::new(IoObject {
            type_name,
            state: Mutex::new(state),
            capacity: capacity.into(),
        })
    }

    /// The state. A panic while it was held cannot leave it inconsistent (every update is a
    /// plain assignment), so a poisoned lock is taken over.
    /// Reaching a collection's contents records it for the end of the evaluation, which breaks
    /// the reference cycles it may now be part of (crates/expr/src/cycles.rs).
    pub(crate) fn state(self: &Arc<Self>) -> MutexGuard<'_, IoState> {
        let guard = self.unwatched_state();
        crate::cycles::touch(self, &guard);
        guard
    }

    /// The state, not recorded as touched (for the cycle walk itself).
    pub(crate) fn unwatched_state(&self) -> MutexGuard<'_, IoState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `ToString()`: a writer's or builder's text, otherwise the type name. While one of the
    /// object's own methods runs (`sb.Append(sb)`), its text is not available here: the type
    /// name stands in.
    pub(crate) fn display(&self) -> String {
        match self.state.try_lock().as_deref() {
            Ok(IoState::StringBuilder(b)) => b.clone(),
            // The builder may be the object whose method runs (`sb.Append(writer)` with
            // `writer` over `sb`): then the type name stands in, as for the builder itself.
            Ok(IoState::StringWriter(w)) if !w.discard => {
                match w.builder.state.try_lock().as_deref() {
                    Ok(IoState::StringBuilder(b)) => b.clone(),
                    _ => self.type_name.to_string(),
                }
            }
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
                IoState::XmlReaderSettings(_)
                | IoState::XmlWriterSettings(_)
                | IoState::SetComparer => 0,
                // The nodes written and not yet handed to the target.
                IoState::XmlWriter(w) => crate::budget::size_upto(
                    &Value::Object(crate::value::Object::XElement(w.holder.clone())),
                    usize::MAX,
                ),
                IoState::StringBuilder(b) => b.len(),
                IoState::StringWriter(w) => w.builder.size(),
                IoState::Task(t) => t.size(),
                IoState::NameTable(n) => {
                    n.names.iter().map(|s| crate::budget::SLOT + s.len()).sum()
                }
                IoState::Queue(q) => q
                    .iter()
                    .map(|v| crate::budget::SLOT + crate::budget::size_upto(v, usize::MAX))
                    .sum(),
                IoState::Stack(q) | IoState::HashSet(q, _) => q
                    .iter()
                    .map(|v| crate::budget::SLOT + crate::budget::size_upto(v, usize::MAX))
                    .sum(),
                IoState::Enumerator(e) => e.size(),
                IoState::Misc(m) => m.size(),
                IoState::XmlReader(r) => {
                    r.text.len()
                        + r.nodes.as_ref().map_or(0, |n| {
                            n.iter()
                                .map(|x| {
                                    96 + x.name.len()
                                        + x.value.len()
                                        + x.attributes
                                            .iter()
                                            .map(|a| 96 + a.name.len() + a.value.len())
                                            .sum::<usize>()
                                })
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

impl Eq for IoObject {}

impl Value {
    /// A copy that shares no state with `self`: the stateful objects above (a builder, a
    /// reader, a set …) are copied rather than shared. What a policy keeps beyond the request
    /// (crates/policy/src/cache.rs) must be detached: .NET serialises a cached value, so no
    /// later request can change the one another stored.
    pub fn detached(&self) -> Value {
        match self {
            Value::Object(crate::value::Object::Io(o)) => {
                let mut state = o.state().clone();
                // A writer's builder is an object of its own: copied too.
                if let IoState::StringWriter(w) = &mut state {
                    let copy = w.builder.state().clone();
                    w.builder = IoObject::new(copy);
                }
                Value::Object(crate::value::Object::Io(IoObject::named(
                    state,
                    o.type_name,
                )))
            }
            Value::Object(crate::value::Object::Hasher(k, h)) => {
                Value::Object(crate::value::Object::Hasher(*k, h.detached()))
            }
            Value::Array(a) => Value::Array(a.iter().map(Value::detached).collect()),
            Value::Json(j) => Value::Json(j.deep_clone()),
            Value::Object(crate::value::Object::Map(m)) => Value::Object(
                crate::value::Object::Map(Arc::new(crate::library::Entries {
                    items: m
                        .iter()
                        .map(|(k, v)| (k.detached(), v.detached()))
                        .collect(),
                    comparer: m.comparer,
                })),
            ),
            Value::Object(crate::value::Object::Record(r)) => {
                Value::Object(crate::value::Object::Record(Arc::new(
                    r.iter().map(|(k, v)| (k.clone(), v.detached())).collect(),
                )))
            }
            // LINQ to XML nodes are references into a tree: a copy of the node and its subtree.
            Value::Object(crate::value::Object::XDocument(n)) => {
                Value::Object(crate::value::Object::XDocument(n.detached_copy()))
            }
            Value::Object(crate::value::Object::XElement(n)) => {
                Value::Object(crate::value::Object::XElement(n.detached_copy()))
            }
            Value::Object(crate::value::Object::XAttribute(n)) => {
                Value::Object(crate::value::Object::XAttribute(n.detached_copy()))
            }
            Value::Object(crate::value::Object::XNode(n)) => {
                Value::Object(crate::value::Object::XNode(n.detached_copy()))
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
