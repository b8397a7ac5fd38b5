//! LINQ to XML's tree: every `XObject` (document, element, attribute, text, CDATA, comment,
//! processing instruction, document type) is a node with identity and a parent link, as in
//! System.Xml.Linq, where they are reference types. A node is an `Arc` handle ([`XRef`]); its
//! contents sit behind a `Mutex` so that `Value` stays `Send + Sync` (an evaluation runs on
//! one thread: the locks are never contended, only never held across a call that could lock
//! the same node again). Editing a node through any reference (`doc.Root.Element("a")
//! .Remove()`) therefore changes the document it belongs to.
//!
//! Parent links: in .NET a child keeps its ancestors alive (`XElement.Parse(s).Element("b")
//! .Parent` is the parsed element, which nothing else holds). So while an evaluation runs, a
//! parent link is strong; the evaluation's [`ParentScope`] remembers every node given one and,
//! when the evaluation ends, turns their links weak, which breaks the parent/child cycles so
//! that the trees are freed as soon as no value holds them. Outside an evaluation (a cached
//! value's copy) links are weak from the start.
//!
//! How content is added follows `XContainer.AddContentSkipNotify` (.NET's source): a node that
//! already has a parent is copied, as is the root of the tree it is being added into (so
//! `e.Add(e)` adds a copy of `e`); a string joins a last `XText` (not an `XCData`) child.
//! Trees are at most [`MAX_XML_DEPTH`] deep: building, printing, copying and dropping recurse.
//! Printing follows .NET's indenting `XmlWriter` (crates/expr/tests/xml_json.rs pins it), and
//! namespaces are resolved where a node is written, as `ElementWriter` and
//! `XmlWellFormedWriter` resolve them (no prefix is stored: the `xmlns` attributes are the
//! declarations; see [`Namespaces`]).
//!
//! Names: an argument written `"{uri}local"` matches namespace and local name exactly; a plain
//! `"local"` matches the local name in any namespace. .NET would only match elements without a
//! namespace there; matching by local name is the deliberate simplification, since policies
//! written against namespaced payloads mostly care about the local name.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

/// Documents deeper than this are refused: building, printing and dropping the tree recurse
/// once per level, and a hostile body must not exhaust the stack.
pub(crate) const MAX_XML_DEPTH: usize = 256;

/// An expanded name: namespace URI (empty for none) and local name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XName {
    pub namespace: String,
    pub local: String,
}

impl XName {
    /// `{uri}local`, or `local` without a namespace (`XName.ToString()`).
    pub fn expanded(&self) -> String {
        if self.namespace.is_empty() {
            self.local.clone()
        } else {
            format!("{{{}}}{}", self.namespace, self.local)
        }
    }

    /// Whether a name as written in a call (`"a"` or `"{uri}a"`) designates this name.
    pub(crate) fn matches(&self, wanted: &str) -> bool {
        match wanted.strip_prefix('{').and_then(|r| r.split_once('}')) {
            Some((ns, local)) => self.namespace == ns && self.local == local,
            None => self.local == wanted,
        }
    }
}

/// `<?xml version=… encoding=… standalone=…?>` of a document (`XDeclaration`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct XDeclaration {
    pub version: Option<String>,
    pub encoding: Option<String>,
    pub standalone: Option<String>,
}

impl XDeclaration {
    /// `ToString()`: `<?xml version="1.0" encoding="utf-8"?>`, the absent parts left out.
    pub fn to_xml(&self) -> String {
        let mut s = String::from("<?xml");
        for (k, v) in [
            ("version", &self.version),
            ("encoding", &self.encoding),
            ("standalone", &self.standalone),
        ] {
            if let Some(v) = v {
                s.push_str(&format!(" {k}=\"{v}\""));
            }
        }
        s.push_str("?>");
        s
    }
}

/// Whether a record is an `XDeclaration` (its three properties and nothing else).
pub(crate) fn is_declaration(r: &std::collections::BTreeMap<String, crate::value::Value>) -> bool {
    r.len() == 3
        && ["Version", "Encoding", "Standalone"]
            .iter()
            .all(|k| r.contains_key(*k))
}

/// The declaration a record holds.
pub(crate) fn declaration_of(
    r: &std::collections::BTreeMap<String, crate::value::Value>,
) -> XDeclaration {
    let f = |k: &str| match r.get(k) {
        Some(crate::value::Value::String(s)) => Some(s.to_string()),
        _ => None,
    };
    XDeclaration {
        version: f("Version"),
        encoding: f("Encoding"),
        standalone: f("Standalone"),
    }
}

/// What a node holds.
#[derive(Debug)]
pub enum XData {
    Document {
        declaration: Option<XDeclaration>,
        nodes: Vec<XRef>,
    },
    Element {
        /// Printed with the prefix its namespace is bound to where it is written, as .NET
        /// finds it (parsed prefixes are not kept: the `xmlns` attributes are).
        name: XName,
        /// `XAttribute` nodes; namespace declarations (`xmlns`, `xmlns:p`) are attributes too.
        attributes: Vec<XRef>,
        nodes: Vec<XRef>,
    },
    Attribute {
        /// `xmlns:p` is `{http://www.w3.org/2000/xmlns/}p`; `xmlns` is in no namespace.
        name: XName,
        value: String,
    },
    Text(String),
    /// `XCData`: text that prints as `<![CDATA[…]]>`.
    CData(String),
    Comment(String),
    /// `XProcessingInstruction`: target and data.
    Pi(String, String),
    DocumentType {
        name: String,
        public_id: Option<String>,
        system_id: Option<String>,
        internal_subset: Option<String>,
    },
}

/// The kind of a node, for dispatch without holding its lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XKind {
    Document,
    Element,
    Attribute,
    Text,
    CData,
    Comment,
    Pi,
    DocumentType,
}

/// One node of a tree. Compared by identity, as .NET compares `XObject`s with `==`.
#[derive(Debug)]
pub struct XObject {
    kind: XKind,
    parent: Mutex<ParentLink>,
    /// Whether the running evaluation's [`ParentScope`] knows the node.
    registered: AtomicBool,
    data: Mutex<XData>,
    /// `AddAnnotation`'s objects, oldest first. They live as long as the evaluation: an
    /// annotation may hold its own node, a cycle the end of the evaluation breaks.
    annotations: Mutex<Vec<crate::value::Value>>,
    /// The `Changing` and `Changed` handlers (crates/expr/src/interp/events.rs,
    /// crates/expr/src/library/xml_events.rs); kept, like annotations, for the evaluation.
    events: crate::interp::events::EventHandlers,
    /// The namespace declarations of the ancestors a returned node had when its evaluation
    /// ended (see [`keep_scope`]), for printing it once they are gone.
    outer: Mutex<Vec<(String, String)>>,
}

#[derive(Debug)]
enum ParentLink {
    None,
    Strong(XRef),
    Weak(Weak<XObject>),
}

thread_local! {
    /// The nodes given a strong parent link by the evaluation running on this thread.
    static STRONG: RefCell<Option<Vec<Weak<XObject>>>> = const { RefCell::new(None) };
}

/// Keeps, on each node of an evaluation's result (or of a sequence it returns), the namespace
/// declarations its ancestors make: once the evaluation ends, its ancestors may be freed, and
/// the result is printed after that (by the policy), as .NET prints it with its ancestors.
pub(crate) fn keep_scope(v: &crate::value::Value) {
    use crate::value::{Object, Value};
    match v {
        Value::Object(Object::XElement(n) | Object::XAttribute(n)) if n.parent().is_some() => {
            let decls = ancestor_declarations(n);
            *lock(&n.outer) = decls;
        }
        Value::Array(items) => items.iter().for_each(keep_scope),
        _ => {}
    }
}

/// The declarations of a node's ancestor elements, outermost first.
fn ancestor_declarations(n: &XRef) -> Vec<(String, String)> {
    let mut outer = Vec::new();
    let mut cur = n.parent();
    while let Some(p) = cur {
        if p.kind == XKind::Element {
            outer.push(declarations(&p));
        }
        cur = p.parent();
    }
    if n.parent().is_none() {
        return lock(&n.outer).clone();
    }
    outer.into_iter().rev().flatten().collect()
}

/// Strong parent links for the length of an evaluation (see the module comment).
pub(crate) struct ParentScope {
    outer: Option<Vec<Weak<XObject>>>,
}

impl ParentScope {
    pub(crate) fn begin() -> ParentScope {
        ParentScope {
            outer: STRONG.with(|s| s.replace(Some(Vec::new()))),
        }
    }
}

impl Drop for ParentScope {
    fn drop(&mut self) {
        let live = STRONG.with(|s| s.replace(self.outer.take()));
        for w in live.unwrap_or_default() {
            if let Some(n) = w.upgrade() {
                n.registered.store(false, Ordering::Relaxed);
                let annotations = std::mem::take(&mut *lock(&n.annotations));
                drop(annotations);
                n.events.clear();
                let old = {
                    let mut link = lock(&n.parent);
                    match &*link {
                        ParentLink::Strong(p) => {
                            let weak = ParentLink::Weak(Arc::downgrade(p));
                            std::mem::replace(&mut *link, weak)
                        }
                        _ => ParentLink::None,
                    }
                };
                // The parent may go now: dropped with no lock held.
                drop(old);
            }
        }
    }
}

pub type XRef = Arc<XObject>;

impl PartialEq for XObject {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock only means a panic elsewhere; the data is still a valid tree.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl XObject {
    pub fn new(data: XData) -> XRef {
        let kind = match &data {
            XData::Document { .. } => XKind::Document,
            XData::Element { .. } => XKind::Element,
            XData::Attribute { .. } => XKind::Attribute,
            XData::Text(_) => XKind::Text,
            XData::CData(_) => XKind::CData,
            XData::Comment(_) => XKind::Comment,
            XData::Pi(..) => XKind::Pi,
            XData::DocumentType { .. } => XKind::DocumentType,
        };
        Arc::new(XObject {
            kind,
            parent: Mutex::new(ParentLink::None),
            registered: AtomicBool::new(false),
            data: Mutex::new(data),
            annotations: Mutex::new(Vec::new()),
            events: Default::default(),
            outer: Mutex::new(Vec::new()),
        })
    }

    pub fn element(name: XName) -> XRef {
        XObject::new(XData::Element {
            name,
            attributes: Vec::new(),
            nodes: Vec::new(),
        })
    }

    pub fn kind(&self) -> XKind {
        self.kind
    }

    /// The contents, locked: release before touching another node that could be this one.
    pub fn data(&self) -> MutexGuard<'_, XData> {
        lock(&self.data)
    }

    pub fn parent(&self) -> Option<XRef> {
        match &*lock(&self.parent) {
            ParentLink::None => None,
            ParentLink::Strong(p) => Some(p.clone()),
            ParentLink::Weak(w) => w.upgrade(),
        }
    }

    /// Registers the node with the running evaluation's [`ParentScope`] (once); whether one
    /// runs.
    fn register(self: &Arc<Self>) -> bool {
        STRONG.with(|s| match &mut *s.borrow_mut() {
            Some(live) => {
                if !self.registered.swap(true, Ordering::Relaxed) {
                    live.push(Arc::downgrade(self));
                }
                true
            }
            None => false,
        })
    }

    /// The annotations, locked.
    pub(crate) fn annotations(&self) -> MutexGuard<'_, Vec<crate::value::Value>> {
        lock(&self.annotations)
    }

    /// `AddAnnotation`: kept only within an evaluation (see [`XObject::annotations`]).
    pub(crate) fn add_annotation(self: &Arc<Self>, v: crate::value::Value) {
        if self.register() {
            lock(&self.annotations).push(v);
        }
    }

    /// The `Changing` and `Changed` handlers, kept only within an evaluation (the node is
    /// registered with it, which drops them at its end).
    pub(crate) fn events(self: &Arc<Self>) -> &crate::interp::events::EventHandlers {
        self.register();
        &self.events
    }

    /// Whether any handler listens to the node's changes.
    pub(crate) fn has_listeners(&self) -> bool {
        !self.events.is_empty()
    }

    pub(crate) fn set_parent(self: &Arc<Self>, p: Option<&XRef>) {
        let link = match p {
            None => ParentLink::None,
            Some(p) => {
                if self.register() {
                    ParentLink::Strong(p.clone())
                } else {
                    ParentLink::Weak(Arc::downgrade(p))
                }
            }
        };
        let old = std::mem::replace(&mut *lock(&self.parent), link);
        drop(old);
    }

    pub fn is_container(&self) -> bool {
        matches!(self.kind, XKind::Document | XKind::Element)
    }

    /// The child nodes (a copy of the list; the nodes are shared).
    pub fn nodes(&self) -> Vec<XRef> {
        match &*self.data() {
            XData::Document { nodes, .. } | XData::Element { nodes, .. } => nodes.clone(),
            _ => Vec::new(),
        }
    }

    /// The node beside this one among its parent's nodes (the next when `next`), found
    /// without copying the list.
    pub fn sibling(self: &Arc<Self>, next: bool) -> Option<XRef> {
        let p = self.parent()?;
        let d = p.data();
        let nodes = match &*d {
            XData::Document { nodes, .. } | XData::Element { nodes, .. } => nodes,
            _ => return None,
        };
        let i = nodes.iter().position(|x| Arc::ptr_eq(x, self))?;
        if next {
            nodes.get(i + 1).cloned()
        } else {
            i.checked_sub(1).and_then(|j| nodes.get(j).cloned())
        }
    }

    /// The last child node (without copying the list).
    pub fn last_node(&self) -> Option<XRef> {
        match &*self.data() {
            XData::Document { nodes, .. } | XData::Element { nodes, .. } => nodes.last().cloned(),
            _ => None,
        }
    }

    pub fn attributes(&self) -> Vec<XRef> {
        match &*self.data() {
            XData::Element { attributes, .. } => attributes.clone(),
            _ => Vec::new(),
        }
    }

    pub fn elements(&self) -> Vec<XRef> {
        self.nodes()
            .into_iter()
            .filter(|n| n.kind == XKind::Element)
            .collect()
    }

    /// The name of an element or attribute.
    pub fn name(&self) -> Option<XName> {
        match &*self.data() {
            XData::Element { name, .. } | XData::Attribute { name, .. } => Some(name.clone()),
            _ => None,
        }
    }

    pub(crate) fn name_matches(&self, wanted: &str) -> bool {
        match &*self.data() {
            XData::Element { name, .. } | XData::Attribute { name, .. } => name.matches(wanted),
            _ => false,
        }
    }

    /// The root of the tree this node is in (itself when it has no parent).
    pub fn root(self: &Arc<Self>) -> XRef {
        let mut cur = self.clone();
        while let Some(p) = cur.parent() {
            cur = p;
        }
        cur
    }

    /// How many ancestors the node has.
    pub fn depth(&self) -> usize {
        let mut d = 0;
        let mut cur = self.parent();
        while let Some(p) = cur {
            d += 1;
            cur = p.parent();
        }
        d
    }

    /// Levels of elements below this node (0 for a leaf).
    pub fn height(&self) -> usize {
        self.nodes()
            .iter()
            .filter(|n| n.is_container())
            .map(|n| n.height() + 1)
            .max()
            .unwrap_or(0)
    }

    /// `Value` of a document or element: the text (and CDATA) of all descendants, in document
    /// order; of the others, their own value.
    pub fn value(&self) -> String {
        let mut s = String::new();
        self.collect_text(&mut s);
        s
    }

    fn collect_text(&self, out: &mut String) {
        match &*self.data() {
            XData::Document { nodes, .. } | XData::Element { nodes, .. } => {
                for n in nodes {
                    if n.is_container() {
                        n.collect_text(out);
                    } else if let XData::Text(t) | XData::CData(t) = &*n.data() {
                        out.push_str(t);
                    }
                }
            }
            XData::Attribute { value: t, .. }
            | XData::Text(t)
            | XData::CData(t)
            | XData::Comment(t) => out.push_str(t),
            XData::Pi(_, d) => out.push_str(d),
            XData::DocumentType { .. } => {}
        }
    }

    /// A copy of the node and its subtree, sharing nothing, without a parent (`CloneNode`).
    pub fn deep_clone(&self) -> XRef {
        let data = match &*self.data() {
            XData::Document { declaration, nodes } => XData::Document {
                declaration: declaration.clone(),
                nodes: nodes.iter().map(|n| n.deep_clone()).collect(),
            },
            XData::Element {
                name,
                attributes,
                nodes,
            } => XData::Element {
                name: name.clone(),
                attributes: attributes.iter().map(|n| n.deep_clone()).collect(),
                nodes: nodes.iter().map(|n| n.deep_clone()).collect(),
            },
            XData::Attribute { name, value } => XData::Attribute {
                name: name.clone(),
                value: value.clone(),
            },
            XData::Text(t) => XData::Text(t.clone()),
            XData::CData(t) => XData::CData(t.clone()),
            XData::Comment(t) => XData::Comment(t.clone()),
            XData::Pi(a, b) => XData::Pi(a.clone(), b.clone()),
            XData::DocumentType {
                name,
                public_id,
                system_id,
                internal_subset,
            } => XData::DocumentType {
                name: name.clone(),
                public_id: public_id.clone(),
                system_id: system_id.clone(),
                internal_subset: internal_subset.clone(),
            },
        };
        let copy = XObject::new(data);
        for c in copy.nodes().iter().chain(copy.attributes().iter()) {
            c.set_parent(Some(&copy));
        }
        copy
    }

    /// A copy for keeping beyond the evaluation (`Value::detached`): [`deep_clone`], with the
    /// namespace declarations of the node's ancestors kept for printing it.
    ///
    /// [`deep_clone`]: XObject::deep_clone
    pub fn detached_copy(self: &Arc<Self>) -> XRef {
        let copy = self.deep_clone();
        *lock(&copy.outer) = ancestor_declarations(self);
        copy
    }

    /// The namespace declarations of the node's ancestors (outermost first), what .NET's
    /// writer knows when it writes the node (`ElementWriter.PushAncestors`).
    pub(crate) fn inherited_declarations(self: &Arc<Self>) -> Vec<(String, String)> {
        ancestor_declarations(self)
    }

    /// Appends `child` (already without a parent) to the nodes.
    pub(crate) fn push_node(self: &Arc<Self>, child: XRef) {
        crate::library::xml_change(self, &child.clone(), "Add", || {
            child.set_parent(Some(self));
            if let XData::Document { nodes, .. } | XData::Element { nodes, .. } = &mut *self.data()
            {
                nodes.push(child);
            }
        })
    }

    /// Inserts `child` (without a parent) at `index` of the nodes.
    pub(crate) fn insert_node(self: &Arc<Self>, index: usize, child: XRef) {
        crate::library::xml_change(self, &child.clone(), "Add", || {
            child.set_parent(Some(self));
            if let XData::Document { nodes, .. } | XData::Element { nodes, .. } = &mut *self.data()
            {
                let i = index.min(nodes.len());
                nodes.insert(i, child);
            }
        })
    }

    /// Inserts attribute `a` (without a parent) at `index` of the attributes.
    pub(crate) fn insert_attribute(self: &Arc<Self>, index: usize, a: XRef) {
        crate::library::xml_change(self, &a.clone(), "Add", || {
            a.set_parent(Some(self));
            if let XData::Element { attributes, .. } = &mut *self.data() {
                let i = index.min(attributes.len());
                attributes.insert(i, a);
            }
        })
    }

    pub(crate) fn push_attribute(self: &Arc<Self>, a: XRef) {
        crate::library::xml_change(self, &a.clone(), "Add", || {
            a.set_parent(Some(self));
            if let XData::Element { attributes, .. } = &mut *self.data() {
                attributes.push(a);
            }
        })
    }

    /// Where `child` is among the nodes (or attributes) of this node.
    pub fn index_of(&self, child: &XRef) -> Option<usize> {
        match &*self.data() {
            XData::Document { nodes, .. } => nodes.iter().position(|n| Arc::ptr_eq(n, child)),
            XData::Element {
                nodes, attributes, ..
            } => {
                let list = if child.kind == XKind::Attribute {
                    attributes
                } else {
                    nodes
                };
                list.iter().position(|n| Arc::ptr_eq(n, child))
            }
            _ => None,
        }
    }

    /// Takes the node out of its parent (`Remove()` without the missing-parent check).
    pub(crate) fn detach(self: &Arc<Self>) {
        let Some(p) = self.parent() else { return };
        crate::library::xml_change(&p, self, "Remove", || {
            if let XData::Document { nodes, .. } | XData::Element { nodes, .. } = &mut *p.data() {
                nodes.retain(|n| !Arc::ptr_eq(n, self));
            }
            if let XData::Element { attributes, .. } = &mut *p.data() {
                attributes.retain(|n| !Arc::ptr_eq(n, self));
            }
            self.set_parent(None);
        })
    }

    /// Removes every child node (`RemoveNodes`), first to last, as .NET removes them.
    pub(crate) fn clear_nodes(self: &Arc<Self>) {
        if crate::library::xml_heard(self) {
            for n in self.nodes() {
                n.detach();
            }
            return;
        }
        let old = match &mut *self.data() {
            XData::Document { nodes, .. } | XData::Element { nodes, .. } => std::mem::take(nodes),
            _ => Vec::new(),
        };
        for n in old {
            n.set_parent(None);
        }
    }

    pub(crate) fn clear_attributes(self: &Arc<Self>) {
        if crate::library::xml_heard(self) {
            for a in self.attributes() {
                a.detach();
            }
            return;
        }
        let old = match &mut *self.data() {
            XData::Element { attributes, .. } => std::mem::take(attributes),
            _ => Vec::new(),
        };
        for n in old {
            n.set_parent(None);
        }
    }

    /// The .NET type of the node.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            XKind::Document => "System.Xml.Linq.XDocument",
            XKind::Element => "System.Xml.Linq.XElement",
            XKind::Attribute => "System.Xml.Linq.XAttribute",
            XKind::Text => "System.Xml.Linq.XText",
            XKind::CData => "System.Xml.Linq.XCData",
            XKind::Comment => "System.Xml.Linq.XComment",
            XKind::Pi => "System.Xml.Linq.XProcessingInstruction",
            XKind::DocumentType => "System.Xml.Linq.XDocumentType",
        }
    }

    /// `NodeType` (an `XmlNodeType` name).
    pub fn node_type(&self) -> &'static str {
        match self.kind {
            XKind::Document => "Document",
            XKind::Element => "Element",
            XKind::Attribute => "Attribute",
            XKind::Text => "Text",
            XKind::CData => "CDATA",
            XKind::Comment => "Comment",
            XKind::Pi => "ProcessingInstruction",
            XKind::DocumentType => "DocumentType",
        }
    }

    /// `ToString()` (indented unless `compact`, `SaveOptions.DisableFormatting`); a namespace
    /// prefix declared twice in one tag fails as .NET's writer fails (XmlException's text).
    pub fn try_to_xml(self: &Arc<Self>, compact: bool) -> Result<String, String> {
        self.try_to_xml_with(compact, false)
    }

    /// `ToString(SaveOptions)`: `compact` is `DisableFormatting`, `omit` is
    /// `OmitDuplicateNamespaces` (a declaration an ancestor already makes is not repeated).
    pub fn try_to_xml_with(self: &Arc<Self>, compact: bool, omit: bool) -> Result<String, String> {
        let fresh = || Namespaces {
            omit_duplicates: omit,
            ..Namespaces::default()
        };
        let mut s = String::new();
        match self.kind {
            XKind::Document => {
                // Top-level nodes each on their own line (unless text is between them); the
                // declaration is left out.
                let nodes = self.nodes();
                for (i, n) in nodes.iter().enumerate() {
                    if i > 0
                        && !compact
                        && n.kind != XKind::Text
                        && nodes[i - 1].kind != XKind::Text
                    {
                        s.push('\n');
                    }
                    n.write(&mut s, 0, compact, &mut fresh())?;
                }
            }
            XKind::Attribute => {
                // `XAttribute.ToString()`: the prefix its element binds to its namespace, or one
                // the writer makes up (p0).
                let mut ns = Namespaces::default();
                let (name, value) = match &*self.data() {
                    XData::Attribute { name, value, .. } => (name.clone(), value.clone()),
                    _ => return Ok(s),
                };
                let prefix = if name.namespace.is_empty() {
                    String::new()
                } else {
                    match self.parent() {
                        Some(p) => prefix_in_scope(&p, &name.namespace),
                        None => resolve_prefix(&lock(&self.outer), &name.namespace, false)
                            .or_else(|| special_prefix(&name.namespace)),
                    }
                    .unwrap_or_else(|| ns.generate_prefix())
                };
                push_qualified(&mut s, &prefix, &name.local);
                s.push_str("=\"");
                escape(&value, true, &mut s);
                s.push('"');
            }
            XKind::Element => {
                let mut ns = fresh();
                // The declarations of the ancestors are known (ElementWriter.PushAncestors),
                // though not written: a prefix they bind is declared again where used.
                ns.resolver.extend(ancestor_declarations(self));
                self.write(&mut s, 0, compact, &mut ns)?;
            }
            _ => self.write(&mut s, 0, compact, &mut fresh())?,
        }
        Ok(s)
    }

    /// [`try_to_xml`](Self::try_to_xml), an error printed as the message.
    pub fn to_xml(self: &Arc<Self>, compact: bool) -> String {
        self.try_to_xml(compact).unwrap_or_else(|e| e)
    }

    fn is_text(&self) -> bool {
        matches!(self.kind, XKind::Text | XKind::CData)
    }

    /// Writes the node as .NET's indenting XmlWriter does: each child on its own line, until
    /// a text (or CDATA) child is written — from there on, this element and everything inside
    /// it is written inline ("mixed content"), as `compact` writes everything.
    fn write(
        &self,
        out: &mut String,
        indent: usize,
        compact: bool,
        ns: &mut Namespaces,
    ) -> Result<(), String> {
        match &*self.data() {
            XData::Element {
                name,
                attributes,
                nodes,
                ..
            } => {
                let tag = ns.start_element(name, attributes, out)?;
                if nodes.is_empty() {
                    out.push_str(" />");
                    ns.end_element();
                    return Ok(());
                }
                out.push('>');
                let mut mixed = compact;
                for n in nodes {
                    if n.is_text() {
                        mixed = true;
                    } else if !mixed {
                        out.push('\n');
                        out.push_str(&"  ".repeat(indent + 1));
                    }
                    n.write(out, indent + 1, mixed, ns)?;
                }
                if !mixed {
                    out.push('\n');
                    out.push_str(&"  ".repeat(indent));
                }
                out.push_str("</");
                out.push_str(&tag);
                out.push('>');
                ns.end_element();
            }
            XData::Text(t) => escape(t, false, out),
            XData::CData(t) => {
                // "]]>" cannot appear inside a section: .NET splits it across two.
                out.push_str("<![CDATA[");
                out.push_str(&t.replace("]]>", "]]]]><![CDATA[>"));
                out.push_str("]]>");
            }
            XData::Comment(c) => {
                out.push_str("<!--");
                out.push_str(c);
                out.push_str("-->");
            }
            XData::Pi(target, data) => {
                out.push_str("<?");
                out.push_str(target);
                if !data.is_empty() {
                    out.push(' ');
                    out.push_str(data);
                }
                out.push_str("?>");
            }
            XData::DocumentType {
                name,
                public_id,
                system_id,
                internal_subset,
            } => {
                // XmlWriter.WriteDocType: PUBLIC with both ids, SYSTEM with only the system id.
                out.push_str("<!DOCTYPE ");
                out.push_str(name);
                match (public_id, system_id) {
                    (Some(p), s) => {
                        out.push_str(&format!(
                            " PUBLIC \"{p}\" \"{}\"",
                            s.as_deref().unwrap_or_default()
                        ));
                    }
                    (None, Some(s)) => out.push_str(&format!(" SYSTEM \"{s}\"")),
                    // The writer leaves a space where the ids would be.
                    (None, None) => out.push(' '),
                }
                if let Some(i) = internal_subset {
                    out.push('[');
                    out.push_str(i);
                    out.push(']');
                }
                out.push('>');
            }
            XData::Document { .. } | XData::Attribute { .. } => {}
        }
        Ok(())
    }
}

pub(crate) const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";
pub(crate) const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Whether an attribute name is a namespace declaration (`xmlns`, `xmlns:p`); its prefix.
pub(crate) fn declared_prefix(name: &XName) -> Option<&str> {
    if name.namespace.is_empty() && name.local == "xmlns" {
        Some("")
    } else if name.namespace == XMLNS_NS {
        Some(&name.local)
    } else {
        None
    }
}

/// The namespace declarations an element's attributes make: (prefix, namespace).
fn declarations(e: &XObject) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for a in e.attributes() {
        if let XData::Attribute { name, value, .. } = &*a.data()
            && let Some(p) = declared_prefix(name)
        {
            out.push((p.to_string(), value.clone()));
        }
    }
    out
}

fn special_prefix(ns: &str) -> Option<String> {
    match ns {
        XML_NS => Some("xml".into()),
        XMLNS_NS => Some("xmlns".into()),
        _ => None,
    }
}

/// `XElement.GetPrefixOfNamespace` for an attribute's namespace: a non-empty prefix bound to
/// `ns` at `e` and not rebound closer.
fn prefix_in_scope(e: &XRef, ns: &str) -> Option<String> {
    let mut chain = Vec::new();
    let mut cur = Some(e.clone());
    while let Some(c) = cur {
        if c.kind == XKind::Element {
            chain.push(declarations(&c));
        }
        cur = c.parent();
    }
    let decls: Vec<(String, String)> = chain.into_iter().rev().flatten().collect();
    resolve_prefix(&decls, ns, false).or_else(|| special_prefix(ns))
}

/// The newest prefix bound to `ns` in `decls` (oldest first) whose binding is not replaced by
/// a newer one; the default namespace's `""` only when `allow_default`.
fn resolve_prefix(decls: &[(String, String)], ns: &str, allow_default: bool) -> Option<String> {
    decls.iter().enumerate().rev().find_map(|(i, (p, u))| {
        (u == ns && (allow_default || !p.is_empty()) && decls[i + 1..].iter().all(|(q, _)| q != p))
            .then(|| p.clone())
    })
}

/// ` xmlns="uri"` for the default namespace, ` xmlns:p="uri"` for a prefix.
fn push_declaration(out: &mut String, prefix: &str, uri: &str) {
    out.push(' ');
    if prefix.is_empty() {
        out.push_str("xmlns");
    } else {
        push_qualified(out, "xmlns", prefix);
    }
    out.push_str("=\"");
    escape(uri, true, out);
    out.push('"');
}

fn push_qualified(out: &mut String, prefix: &str, local: &str) {
    if !prefix.is_empty() {
        out.push_str(prefix);
        out.push(':');
    }
    out.push_str(local);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum NsKind {
    /// Declared by an ancestor already: nothing to write.
    Implied,
    NeedToWrite,
    Written,
    Special,
}

/// The namespace bookkeeping of .NET's `ElementWriter` (its resolver: the declarations the
/// elements make, by their `xmlns` attributes) and of `XmlWellFormedWriter` (what is declared
/// in the output; a prefix needed and not declared there is declared at the end of the tag,
/// and an attribute's namespace without a prefix gets a made-up one, `p1`, `p2` …).
struct Namespaces {
    resolver: Vec<(String, String)>,
    resolver_marks: Vec<usize>,
    stack: Vec<(String, String, NsKind)>,
    marks: Vec<usize>,
    /// `SaveOptions.OmitDuplicateNamespaces`.
    omit_duplicates: bool,
}

impl Default for Namespaces {
    fn default() -> Self {
        Namespaces {
            resolver: Vec::new(),
            resolver_marks: Vec::new(),
            stack: vec![
                ("xmlns".into(), XMLNS_NS.into(), NsKind::Special),
                ("xml".into(), XML_NS.into(), NsKind::Special),
                (String::new(), String::new(), NsKind::Implied),
            ],
            marks: Vec::new(),
            omit_duplicates: false,
        }
    }
}

impl Namespaces {
    fn index_of(&self, prefix: &str) -> Option<usize> {
        self.stack.iter().rposition(|(p, _, _)| p == prefix)
    }

    fn lookup_prefix(&self, ns: &str) -> Option<String> {
        (0..self.stack.len()).rev().find_map(|i| {
            let (p, u, _) = &self.stack[i];
            (u == ns && self.index_of(p) == Some(i)).then(|| p.clone())
        })
    }

    fn scope_start(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn redefine(prefix: &str, old: &str, new: &str) -> String {
        format!(
            "The prefix '{prefix}' cannot be redefined from '{old}' to '{new}' within the same start element tag."
        )
    }

    fn push_implicit(&mut self, prefix: &str, ns: &str) -> Result<(), String> {
        let kind = match self.index_of(prefix) {
            Some(i) if i >= self.scope_start() => {
                if self.stack[i].1 != ns {
                    return Err(Self::redefine(prefix, &self.stack[i].1, ns));
                }
                return Ok(());
            }
            Some(i) if self.stack[i].1 == ns => NsKind::Implied,
            _ => NsKind::NeedToWrite,
        };
        self.stack.push((prefix.to_string(), ns.to_string(), kind));
        Ok(())
    }

    /// An `xmlns` attribute: whether it is written (with `omit_duplicates`, not when the
    /// same declaration is in scope already).
    fn push_explicit(&mut self, prefix: &str, ns: &str) -> Result<bool, String> {
        let mut write = true;
        if let Some(i) = self.index_of(prefix) {
            if i >= self.scope_start() {
                if self.stack[i].1 != ns {
                    return Err(Self::redefine(prefix, &self.stack[i].1, ns));
                }
                if self.stack[i].2 == NsKind::Written {
                    return Err("Duplicate attribute.".into());
                }
                if self.omit_duplicates && self.stack[i].2 != NsKind::NeedToWrite {
                    write = false;
                }
                self.stack[i].2 = NsKind::Written;
                return Ok(write);
            }
            if self.stack[i].1 == ns && self.omit_duplicates {
                write = false;
            }
        }
        self.stack
            .push((prefix.to_string(), ns.to_string(), NsKind::Written));
        Ok(write)
    }

    fn generate_prefix(&mut self) -> String {
        let base = format!("p{}", self.stack.len() - 3);
        if self.index_of(&base).is_none() {
            return base;
        }
        (0..)
            .map(|i| format!("{base}{i}"))
            .find(|p| self.index_of(p).is_none())
            .unwrap_or(base)
    }

    /// Writes `<name attributes declarations`; the tag's qualified name is the result.
    fn start_element(
        &mut self,
        name: &XName,
        attributes: &[XRef],
        out: &mut String,
    ) -> Result<String, String> {
        self.resolver_marks.push(self.resolver.len());
        let attrs: Vec<(XName, String)> = attributes
            .iter()
            .filter_map(|a| match &*a.data() {
                XData::Attribute { name, value, .. } => Some((name.clone(), value.clone())),
                _ => None,
            })
            .collect();
        for (n, v) in &attrs {
            if let Some(p) = declared_prefix(n) {
                self.resolver.push((p.to_string(), v.clone()));
            }
        }
        let prefix = if name.namespace.is_empty() {
            Some(String::new())
        } else {
            resolve_prefix(&self.resolver, &name.namespace, true)
                .or_else(|| special_prefix(&name.namespace))
        };
        let prefix = prefix
            .or_else(|| self.lookup_prefix(&name.namespace))
            .unwrap_or_default();
        self.marks.push(self.stack.len());
        self.push_implicit(&prefix, &name.namespace)?;
        let mut tag = String::new();
        push_qualified(&mut tag, &prefix, &name.local);
        out.push('<');
        out.push_str(&tag);
        for (n, v) in &attrs {
            if let Some(p) = declared_prefix(n) {
                if self.push_explicit(p, v)? {
                    push_declaration(out, p, v);
                }
                continue;
            }
            out.push(' ');
            if n.namespace.is_empty() {
                out.push_str(&n.local);
            } else {
                let found = resolve_prefix(&self.resolver, &n.namespace, false)
                    .or_else(|| special_prefix(&n.namespace));
                let p = match found {
                    Some(p) => p,
                    None => match self.lookup_prefix(&n.namespace).filter(|p| !p.is_empty()) {
                        Some(p) => p,
                        None => self.generate_prefix(),
                    },
                };
                if p != "xml" {
                    self.push_implicit(&p, &n.namespace)?;
                }
                push_qualified(out, &p, &n.local);
            }
            out.push_str("=\"");
            escape(v, true, out);
            out.push('"');
        }
        // What the tag needs and no attribute declared, newest first, as the writer does.
        let start = self.scope_start();
        for (p, u, k) in self.stack[start..].iter().rev() {
            if *k == NsKind::NeedToWrite {
                push_declaration(out, p, u);
            }
        }
        Ok(tag)
    }

    fn end_element(&mut self) {
        if let Some(m) = self.marks.pop() {
            self.stack.truncate(m);
        }
        if let Some(m) = self.resolver_marks.pop() {
            self.resolver.truncate(m);
        }
    }
}

/// Escapes text as XmlWriter does (`"` only in attribute values).
pub(crate) fn escape(s: &str, attr: bool, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(local: &str) -> XRef {
        XObject::element(XName {
            namespace: String::new(),
            local: local.into(),
        })
    }

    #[test]
    fn parent_links_and_identity() {
        let a = el("a");
        let b = el("b");
        a.push_node(b.clone());
        assert!(b.parent().is_some_and(|p| Arc::ptr_eq(&p, &a)));
        assert_eq!(a.to_xml(true), "<a><b /></a>");
        let copy = a.deep_clone();
        assert!(
            copy.nodes()[0]
                .parent()
                .is_some_and(|p| Arc::ptr_eq(&p, &copy))
        );
        assert!(*copy != *a);
        b.detach();
        assert!(b.parent().is_none());
        assert_eq!(a.to_xml(true), "<a />");
        assert_eq!(copy.to_xml(true), "<a><b /></a>");
    }
}
