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
//! Printing follows .NET's indenting `XmlWriter` (crates/expr/tests/xml_json.rs pins it).
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

/// What a node holds.
#[derive(Debug)]
pub enum XData {
    Document {
        declaration: Option<XDeclaration>,
        nodes: Vec<XRef>,
    },
    Element {
        name: XName,
        /// The name as written (`p:a`), for printing.
        qualified: String,
        /// `XAttribute` nodes; namespace declarations (`xmlns`, `xmlns:p`) are attributes too.
        attributes: Vec<XRef>,
        nodes: Vec<XRef>,
    },
    Attribute {
        name: XName,
        /// The name as written (`p:a`, `xmlns:p`).
        qualified: String,
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
        })
    }

    pub fn element(name: XName, qualified: String) -> XRef {
        XObject::new(XData::Element {
            name,
            qualified,
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

    pub(crate) fn set_parent(self: &Arc<Self>, p: Option<&XRef>) {
        let link = match p {
            None => ParentLink::None,
            Some(p) => {
                let scoped = STRONG.with(|s| match &mut *s.borrow_mut() {
                    Some(live) => {
                        if !self.registered.swap(true, Ordering::Relaxed) {
                            live.push(Arc::downgrade(self));
                        }
                        true
                    }
                    None => false,
                });
                if scoped {
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
                qualified,
                attributes,
                nodes,
            } => XData::Element {
                name: name.clone(),
                qualified: qualified.clone(),
                attributes: attributes.iter().map(|n| n.deep_clone()).collect(),
                nodes: nodes.iter().map(|n| n.deep_clone()).collect(),
            },
            XData::Attribute {
                name,
                qualified,
                value,
            } => XData::Attribute {
                name: name.clone(),
                qualified: qualified.clone(),
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

    /// Appends `child` (already without a parent) to the nodes.
    pub(crate) fn push_node(self: &Arc<Self>, child: XRef) {
        child.set_parent(Some(self));
        if let XData::Document { nodes, .. } | XData::Element { nodes, .. } = &mut *self.data() {
            nodes.push(child);
        }
    }

    /// Inserts `child` (without a parent) at `index` of the nodes.
    pub(crate) fn insert_node(self: &Arc<Self>, index: usize, child: XRef) {
        child.set_parent(Some(self));
        if let XData::Document { nodes, .. } | XData::Element { nodes, .. } = &mut *self.data() {
            let i = index.min(nodes.len());
            nodes.insert(i, child);
        }
    }

    pub(crate) fn push_attribute(self: &Arc<Self>, a: XRef) {
        a.set_parent(Some(self));
        if let XData::Element { attributes, .. } = &mut *self.data() {
            attributes.push(a);
        }
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
        if let XData::Document { nodes, .. } | XData::Element { nodes, .. } = &mut *p.data() {
            nodes.retain(|n| !Arc::ptr_eq(n, self));
        }
        if let XData::Element { attributes, .. } = &mut *p.data() {
            attributes.retain(|n| !Arc::ptr_eq(n, self));
        }
        self.set_parent(None);
    }

    /// Removes every child node (`RemoveNodes`).
    pub(crate) fn clear_nodes(&self) {
        let old = match &mut *self.data() {
            XData::Document { nodes, .. } | XData::Element { nodes, .. } => std::mem::take(nodes),
            _ => Vec::new(),
        };
        for n in old {
            n.set_parent(None);
        }
    }

    pub(crate) fn clear_attributes(&self) {
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

    /// `ToString()` (indented unless `compact`, `SaveOptions.DisableFormatting`).
    pub fn to_xml(&self, compact: bool) -> String {
        let mut s = String::new();
        match self.kind {
            XKind::Document => {
                // Top-level nodes each on their own line; the declaration is left out.
                for (i, n) in self.nodes().iter().enumerate() {
                    if i > 0 && !compact && n.kind != XKind::Text {
                        s.push('\n');
                    }
                    n.write(&mut s, 0, compact);
                }
            }
            XKind::Attribute => {
                if let XData::Attribute {
                    qualified, value, ..
                } = &*self.data()
                {
                    s.push_str(qualified);
                    s.push_str("=\"");
                    escape(value, true, &mut s);
                    s.push('"');
                }
            }
            _ => self.write(&mut s, 0, compact),
        }
        s
    }

    fn is_text(&self) -> bool {
        matches!(self.kind, XKind::Text | XKind::CData)
    }

    /// Writes the node as .NET's indenting XmlWriter does: each child on its own line, until
    /// a text (or CDATA) child is written — from there on, this element and everything inside
    /// it is written inline ("mixed content"), as `compact` writes everything.
    fn write(&self, out: &mut String, indent: usize, compact: bool) {
        match &*self.data() {
            XData::Element {
                qualified,
                attributes,
                nodes,
                ..
            } => {
                out.push('<');
                out.push_str(qualified);
                for a in attributes {
                    if let XData::Attribute {
                        qualified, value, ..
                    } = &*a.data()
                    {
                        out.push(' ');
                        out.push_str(qualified);
                        out.push_str("=\"");
                        escape(value, true, out);
                        out.push('"');
                    }
                }
                if nodes.is_empty() {
                    out.push_str(" />");
                    return;
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
                    n.write(out, indent + 1, mixed);
                }
                if !mixed {
                    out.push('\n');
                    out.push_str(&"  ".repeat(indent));
                }
                out.push_str("</");
                out.push_str(qualified);
                out.push('>');
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
        XObject::element(
            XName {
                namespace: String::new(),
                local: local.into(),
            },
            local.into(),
        )
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
