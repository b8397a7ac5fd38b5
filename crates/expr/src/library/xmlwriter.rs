//! `System.Xml.XmlWriter` as LINQ to XML uses it: `XmlWriter.Create(stringWriter |
//! stringBuilder[, settings])`, `container.CreateWriter()`, and the target of `node.WriteTo(w)`
//! and `doc.Save(w)`.
//!
//! The writer builds LINQ to XML nodes (crates/expr/src/xml.rs) under a holder element and
//! prints them with the tree's printer when it is flushed or closed — the printer that already
//! writes as .NET's `XmlWriter` does (indented or not, namespace prefixes, escaping). Like
//! .NET's, which buffers what it writes until `Flush()`/`Close()`, nothing reaches the
//! `StringWriter` before then; a `Flush()` while an element is still open writes nothing here
//! (.NET would write the start tags so far). A `CreateWriter()` writer adds its nodes to the
//! container when closed, as .NET's `XNodeBuilder` does.
//!
//! The XML declaration (`<?xml version="1.0" encoding="utf-16"?>`, the encoding of a
//! `StringWriter`/`StringBuilder` target) is written by `WriteStartDocument`, and before the
//! first element of a `ConformanceLevel.Document` writer, unless `OmitXmlDeclaration`.

use super::*;
use crate::io::{IoObject, IoState};
use crate::xml::{XData, XName, XObject, XRef};

const XMLNS: &str = "http://www.w3.org/2000/xmlns/";

/// `XmlWriterSettings` (the members policies set).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WriterSettings {
    pub(crate) indent: bool,
    pub(crate) omit_declaration: bool,
    /// `Document`, `Fragment` or `Auto`.
    pub(crate) conformance: &'static str,
    /// `NamespaceHandling.OmitDuplicates` (what `SaveOptions.OmitDuplicateNamespaces` sets).
    pub(crate) omit_duplicates: bool,
}

impl Default for WriterSettings {
    fn default() -> Self {
        WriterSettings {
            indent: false,
            omit_declaration: false,
            conformance: "Document",
            omit_duplicates: false,
        }
    }
}

/// Where a writer's output goes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum WriterTarget {
    /// A `StringWriter` or `StringBuilder`.
    Text(Arc<IoObject>),
    /// The container of `CreateWriter()`.
    Container(XRef),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct XmlWriterState {
    pub(crate) target: WriterTarget,
    pub(crate) settings: WriterSettings,
    /// Holds the top-level nodes written so far.
    pub(crate) holder: XRef,
    /// The elements started and not yet ended, outermost first.
    pub(crate) open: Vec<XRef>,
    /// The namespace declarations the writer made up for prefixes (`xmlns:p`): .NET writes
    /// them after the element's other attributes.
    pub(crate) auto: Vec<XRef>,
    /// The declaration, once due: its `standalone` (`None` when left out).
    pub(crate) declaration: Option<Option<bool>>,
    /// The characters of the output already written to the target.
    pub(crate) written: usize,
    pub(crate) closed: bool,
}

fn holder() -> XRef {
    XObject::element(XName {
        namespace: String::new(),
        local: "holder".into(),
    })
}

pub(crate) fn new_writer(target: WriterTarget, settings: WriterSettings) -> Value {
    io_value(IoState::XmlWriter(XmlWriterState {
        target,
        settings,
        holder: holder(),
        open: Vec::new(),
        auto: Vec::new(),
        declaration: None,
        written: 0,
        closed: false,
    }))
}

/// `XmlWriter.Create(output[, settings])`.
pub(crate) fn xml_writer_create(args: &Args, at: usize) -> F<Value> {
    let settings = match args.get(1).map(|(_, v)| v) {
        None | Some(Value::Null) => WriterSettings::default(),
        Some(Value::Object(Object::Io(io))) => match &*io.state() {
            IoState::XmlWriterSettings(s) => s.clone(),
            _ => return Err(cast_err(&args[1].1, "System.Xml.XmlWriterSettings", at)),
        },
        Some(other) => return Err(cast_err(other, "System.Xml.XmlWriterSettings", at)),
    };
    match arg(args, 0, at)? {
        Value::Object(Object::Io(io))
            if matches!(
                &*io.state(),
                IoState::StringWriter(_) | IoState::StringBuilder(_)
            ) =>
        {
            Ok(new_writer(WriterTarget::Text(io.clone()), settings))
        }
        Value::Null => Err(rt(
            "ArgumentNullException",
            "Value cannot be null. (Parameter 'output')",
            at,
        )),
        Value::String(path) => Err(file_refused(path, at)),
        other => Err(cast_err(other, "System.IO.TextWriter", at)),
    }
}

/// A file path where .NET would open a file: APIM's sandbox gives policies no file system.
pub(crate) fn file_refused(path: &str, at: usize) -> Flow {
    rt(
        "UnauthorizedAccessException",
        format!("Access to the path '{path}' is denied."),
        at,
    )
}

/// `new XmlWriterSettings { … }` (its initializer's properties as named arguments).
pub(crate) fn construct_writer_settings(args: &Args, at: usize) -> F<Value> {
    let mut s = WriterSettings::default();
    for (name, v) in args {
        match name {
            Some(n) => writer_settings_set(&mut s, n, v, at)?,
            None => {
                return Err(rt(
                    "CompilationError",
                    "'XmlWriterSettings' does not contain a constructor that takes arguments",
                    at,
                ));
            }
        }
    }
    Ok(io_value(IoState::XmlWriterSettings(s)))
}

pub(crate) fn writer_settings_member(s: &WriterSettings, name: &str) -> Option<Value> {
    Some(match name {
        "Indent" => Value::Bool(s.indent),
        "OmitXmlDeclaration" => Value::Bool(s.omit_declaration),
        "ConformanceLevel" => enum_member("ConformanceLevel", s.conformance).unwrap_or(Value::Null),
        "IndentChars" => Value::str("  "),
        _ => return None,
    })
}

pub(crate) fn writer_settings_set(
    s: &mut WriterSettings,
    name: &str,
    v: &Value,
    at: usize,
) -> F<()> {
    let flag = |v: &Value| match v {
        Value::Bool(b) => Ok(*b),
        other => Err(cast_err(other, "System.Boolean", at)),
    };
    match (name, v) {
        ("Indent", v) => s.indent = flag(v)?,
        ("OmitXmlDeclaration", v) => s.omit_declaration = flag(v)?,
        ("ConformanceLevel", Value::Enum("ConformanceLevel", n)) => {
            s.conformance = match n {
                0 => "Auto",
                1 => "Fragment",
                _ => "Document",
            }
        }
        _ => {
            return Err(rt(
                "NotSupportedException",
                format!("XmlWriterSettings.{name} cannot be set here"),
                at,
            ));
        }
    }
    Ok(())
}

/// `WriteEndDocument()` with no root element written.
fn no_root(at: usize) -> Flow {
    invalid(
        "Token EndDocument in state Document would result in an invalid XML document.",
        at,
    )
}

fn invalid(message: impl Into<String>, at: usize) -> Flow {
    rt("InvalidOperationException", message, at)
}

impl XmlWriterState {
    /// Where the next node goes: the innermost open element, or the top level.
    fn current(&self) -> XRef {
        self.open
            .last()
            .cloned()
            .unwrap_or_else(|| self.holder.clone())
    }

    fn check_open(&self, at: usize) -> F<()> {
        if self.closed {
            return Err(invalid("The Writer is closed or in error state.", at));
        }
        Ok(())
    }

    /// What a `Document` writer refuses at the top level: a second root element, text (`allowed`
    /// is false for a token never allowed there); the declaration it writes before the first.
    fn check_top(&mut self, token: &str, allowed: bool, at: usize) -> F<()> {
        self.check_open(at)?;
        if !self.open.is_empty() {
            return Ok(());
        }
        if self.settings.conformance == "Document" {
            let has_root = self
                .holder
                .nodes()
                .iter()
                .any(|n| n.kind() == crate::xml::XKind::Element);
            if !allowed || (token == "StartElement" && has_root) {
                let state = if has_root { "EndRootElement" } else { "Start" };
                return Err(invalid(
                    format!(
                        "Token {token} in state {state} would result in an invalid XML document. Make sure that the ConformanceLevel setting is set to ConformanceLevel.Fragment or ConformanceLevel.Auto if you want to write an XML fragment."
                    ),
                    at,
                ));
            }
            if self.declaration.is_none() && self.holder.nodes().is_empty() {
                self.declaration = Some(None);
            }
        }
        Ok(())
    }

    /// Adds `content` (a node or a value, as `XContainer.Add` takes it) where the writer is.
    fn add(&self, it: &mut Interp, content: Value, at: usize) -> F<()> {
        let parent = xml::xvalue(self.current());
        match xml_edit(it, &parent, "Add", &[content], at) {
            Some(r) => r.map(|_| ()),
            None => Ok(()),
        }
    }

    /// The output so far: the declaration, then the top-level nodes.
    fn render(&self, at: usize) -> F<String> {
        let mut out = String::new();
        if let Some(standalone) = self.declaration
            && !self.settings.omit_declaration
        {
            out.push_str("<?xml version=\"1.0\" encoding=\"utf-16\"");
            if let Some(s) = standalone {
                out.push_str(if s {
                    " standalone=\"yes\""
                } else {
                    " standalone=\"no\""
                });
            }
            out.push_str("?>");
        }
        let compact = !self.settings.indent;
        let mut prev_text = false;
        for n in self.holder.nodes() {
            let text = matches!(n.kind(), crate::xml::XKind::Text | crate::xml::XKind::CData);
            if !out.is_empty() && !compact && !text && !prev_text {
                out.push('\n');
            }
            prev_text = text;
            out.push_str(
                &n.try_to_xml_with(compact, self.settings.omit_duplicates)
                    .map_err(|e| rt("XmlException", e, at))?,
            );
        }
        Ok(out)
    }

    /// Writes what has not reached the target yet (when no element is open).
    fn flush(&mut self, it: &mut Interp, at: usize) -> F<()> {
        if !self.open.is_empty() {
            return Ok(());
        }
        match &self.target {
            WriterTarget::Text(io) => {
                let text = self.render(at)?;
                let new: String = text.chars().skip(self.written).collect();
                self.written = text.chars().count();
                let v = Value::Object(Object::Io(io.clone()));
                match write_to_writer(it, &v, &new, at) {
                    Some(r) => r?,
                    None => {
                        let held = match &*io.state() {
                            IoState::StringBuilder(b) => b.len(),
                            _ => 0,
                        };
                        it.charge(held.saturating_add(new.len()), at)?;
                        if let IoState::StringBuilder(b) = &mut *io.state() {
                            b.push_str(&new);
                        }
                    }
                }
            }
            WriterTarget::Container(_) => {}
        }
        Ok(())
    }

    /// `Close()`: ends the open elements, writes the rest (a container gets the nodes).
    fn close(&mut self, it: &mut Interp, at: usize) -> F<()> {
        if self.closed {
            return Ok(());
        }
        self.open.clear();
        self.flush(it, at)?;
        if let WriterTarget::Container(c) = &self.target {
            let nodes: Vec<Value> = self.holder.nodes().into_iter().map(xml::xvalue).collect();
            self.holder.clear_nodes();
            if !nodes.is_empty()
                && let Some(r) = xml_edit(it, &xml::xvalue(c.clone()), "Add", &nodes, at)
            {
                r?;
            }
        }
        self.closed = true;
        Ok(())
    }

    /// An element named `local` in `ns` with `prefix`, declaring the prefix when an open
    /// element does not already.
    fn start_element(
        &mut self,
        it: &mut Interp,
        prefix: &str,
        local: &str,
        ns: &str,
        at: usize,
    ) -> F<()> {
        self.check_top("StartElement", true, at)?;
        if local.is_empty() {
            return Err(rt(
                "ArgumentException",
                "The empty string '' is not a valid local name.",
                at,
            ));
        }
        let e = XObject::element(XName {
            namespace: ns.to_string(),
            local: local.to_string(),
        });
        if !prefix.is_empty() && !ns.is_empty() && !self.declared(prefix, ns) {
            self.declare(&e, prefix, ns);
        }
        self.add(it, xml::xvalue(e.clone()), at)?;
        // `Add` adds a copy of a node that has a parent; this one has none, so it is `e`.
        self.open.push(e);
        Ok(())
    }

    fn declared(&self, prefix: &str, ns: &str) -> bool {
        self.open.iter().any(|e| {
            e.attributes().iter().any(|a| {
                matches!(&*a.data(), XData::Attribute { name, value }
                    if name.namespace == XMLNS && name.local == prefix && value == ns)
            })
        })
    }

    fn attribute(&mut self, prefix: &str, local: &str, ns: &str, value: &str, at: usize) -> F<()> {
        self.check_open(at)?;
        let Some(e) = self.open.last().cloned() else {
            return Err(invalid(
                "Token StartAttribute in state Start would result in an invalid XML document.",
                at,
            ));
        };
        if !e.nodes().is_empty() {
            return Err(invalid(
                "Token StartAttribute in state Content would result in an invalid XML document.",
                at,
            ));
        }
        // `xmlns` / `xmlns:p` written as attributes are namespace declarations.
        let name = if (prefix.is_empty() && local == "xmlns") || prefix == "xmlns" {
            if prefix.is_empty() {
                XName {
                    namespace: String::new(),
                    local: "xmlns".into(),
                }
            } else {
                XName {
                    namespace: XMLNS.into(),
                    local: local.into(),
                }
            }
        } else {
            if !prefix.is_empty() && !ns.is_empty() && !self.declared(prefix, ns) {
                self.declare(&e, prefix, ns);
            }
            XName {
                namespace: ns.into(),
                local: local.into(),
            }
        };
        if e.attributes()
            .iter()
            .any(|a| a.name().as_ref() == Some(&name))
        {
            return Err(rt(
                "XmlException",
                format!("'{}' is a duplicate attribute name.", name.local),
                at,
            ));
        }
        // Before the declarations the writer made up, as .NET writes them last.
        let index = e
            .attributes()
            .iter()
            .position(|a| self.auto.iter().any(|x| Arc::ptr_eq(x, a)))
            .unwrap_or(usize::MAX);
        e.insert_attribute(
            index,
            XObject::new(XData::Attribute {
                name,
                value: value.into(),
            }),
        );
        Ok(())
    }

    /// Declares `prefix` for `ns` on `e` (an `xmlns:prefix` attribute the writer makes up).
    fn declare(&mut self, e: &XRef, prefix: &str, ns: &str) {
        let d = XObject::new(XData::Attribute {
            name: XName {
                namespace: XMLNS.into(),
                local: prefix.into(),
            },
            value: ns.into(),
        });
        e.push_attribute(d.clone());
        self.auto.push(d);
    }
}

/// `(prefix, local, ns)` of the name arguments of `WriteStartElement`/`WriteElementString`/
/// `WriteAttributeString`, given how many of the arguments are the name's.
fn name_args(args: &[Value], n: usize, at: usize) -> F<(String, String, String)> {
    let s = |i: usize| -> F<String> {
        match args.get(i) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(v) => as_str(v, at),
        }
    };
    Ok(match n {
        1 => (String::new(), s(0)?, String::new()),
        2 => (String::new(), s(0)?, s(1)?),
        _ => (s(0)?, s(1)?, s(2)?),
    })
}

/// The methods of an `XmlWriter`.
pub(crate) fn xml_writer_call(
    it: &mut Interp,
    w: &mut XmlWriterState,
    name: &str,
    args: &Args,
    at: usize,
) -> F<Value> {
    let vals: Vec<Value> = args.iter().map(|(_, v)| v.clone()).collect();
    let text = |i: usize| -> F<String> {
        match vals.get(i) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(v) => as_str(v, at),
        }
    };
    match (name, vals.len()) {
        ("WriteStartDocument", 0 | 1) => {
            w.check_open(at)?;
            if !w.holder.nodes().is_empty() || w.declaration.is_some() {
                return Err(invalid(
                    "WriteStartDocument cannot be called on writers created with ConformanceLevel.Fragment.",
                    at,
                ));
            }
            w.declaration = Some(match vals.first() {
                Some(Value::Bool(b)) => Some(*b),
                _ => None,
            });
        }
        ("WriteEndDocument", 0) => {
            w.check_open(at)?;
            w.open.clear();
            if !w
                .holder
                .nodes()
                .iter()
                .any(|n| n.kind() == crate::xml::XKind::Element)
                && w.settings.conformance == "Document"
            {
                return Err(no_root(at));
            }
        }
        ("WriteStartElement", 1..=3) => {
            let (p, l, ns) = name_args(&vals, vals.len(), at)?;
            w.start_element(it, &p, &l, &ns, at)?;
        }
        ("WriteEndElement" | "WriteFullEndElement", 0) => {
            w.check_open(at)?;
            let Some(e) = w.open.pop() else {
                return Err(invalid("There was no XML start tag open.", at));
            };
            if name == "WriteFullEndElement" && e.nodes().is_empty() {
                e.push_node(XObject::new(XData::Text(String::new())));
            }
        }
        ("WriteElementString", 2..=4) => {
            let (p, l, ns) = name_args(&vals, vals.len() - 1, at)?;
            let value = text(vals.len() - 1)?;
            w.start_element(it, &p, &l, &ns, at)?;
            let e = w.open.pop();
            if let Some(e) = e
                && !value.is_empty()
            {
                e.push_node(XObject::new(XData::Text(value)));
            }
        }
        ("WriteAttributeString", 2..=4) => {
            let (p, l, ns) = name_args(&vals, vals.len() - 1, at)?;
            w.attribute(&p, &l, &ns, &text(vals.len() - 1)?, at)?;
        }
        ("WriteString" | "WriteWhitespace", 1) => {
            let t = text(0)?;
            let blank = t.chars().all(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
            w.check_top("Text", blank, at)?;
            w.add(it, Value::str(t), at)?;
        }
        ("WriteValue", 1) => {
            w.check_top("Text", false, at)?;
            w.add(it, vals[0].clone(), at)?;
        }
        ("WriteCData", 1) => {
            w.check_top("CData", false, at)?;
            w.add(it, xml::xvalue(XObject::new(XData::CData(text(0)?))), at)?;
        }
        ("WriteComment", 1) => {
            w.check_top("Comment", true, at)?;
            w.add(it, xml::xvalue(XObject::new(XData::Comment(text(0)?))), at)?;
        }
        ("WriteProcessingInstruction", 2) => {
            w.check_top("ProcessingInstruction", true, at)?;
            let pi = XObject::new(XData::Pi(text(0)?, text(1)?));
            w.add(it, xml::xvalue(pi), at)?;
        }
        ("Flush", 0) => {
            w.check_open(at)?;
            w.flush(it, at)?;
        }
        ("Close" | "Dispose", 0) => w.close(it, at)?,
        ("ToString", 0) => return Ok(Value::str("System.Xml.XmlWriter")),
        _ => {
            return Err(rt(
                "RuntimeBinderException",
                format!("'System.Xml.XmlWriter' does not contain a definition for '{name}'"),
                at,
            ));
        }
    }
    Ok(Value::Null)
}

/// Writes `node` where the writer is (`node.WriteTo(writer)`): a copy of it, as .NET writes
/// the node's markup; a document writes its declaration's `standalone` and its nodes.
pub(crate) fn write_node(it: &mut Interp, w: &mut XmlWriterState, node: &XRef, at: usize) -> F<()> {
    match node.kind() {
        crate::xml::XKind::Document => {
            let standalone = match &*node.data() {
                XData::Document {
                    declaration: Some(d),
                    ..
                } => match d.standalone.as_deref() {
                    Some("yes") => Some(true),
                    Some("no") => Some(false),
                    _ => None,
                },
                _ => None,
            };
            if w.declaration.is_none() && w.holder.nodes().is_empty() {
                w.declaration = Some(standalone);
            }
            for n in node.nodes() {
                write_node(it, w, &n, at)?;
            }
            // `XDocument.WriteTo` ends with `WriteEndDocument()`: a document needs its root.
            let rooted = w
                .holder
                .nodes()
                .iter()
                .any(|n| n.kind() == crate::xml::XKind::Element);
            if !rooted && w.settings.conformance == "Document" && w.open.is_empty() {
                return Err(no_root(at));
            }
            Ok(())
        }
        crate::xml::XKind::Element => {
            w.check_top("StartElement", true, at)?;
            w.add(it, xml::xvalue(node.deep_clone()), at)
        }
        crate::xml::XKind::Text | crate::xml::XKind::CData => {
            let blank = node
                .value()
                .chars()
                .all(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
            w.check_top("Text", blank, at)?;
            w.add(it, xml::xvalue(node.deep_clone()), at)
        }
        crate::xml::XKind::Attribute => Err(invalid("An attribute cannot be written here.", at)),
        _ => {
            w.check_top("Comment", true, at)?;
            w.add(it, xml::xvalue(node.deep_clone()), at)
        }
    }
}

/// `node.WriteTo(writer)` with `writer` a value; `None` when it is no `XmlWriter`.
pub(crate) fn write_node_to(
    it: &mut Interp,
    writer: &Value,
    node: &XRef,
    at: usize,
) -> Option<F<()>> {
    let Value::Object(Object::Io(io)) = writer else {
        return None;
    };
    let mut state = io.state();
    let IoState::XmlWriter(w) = &mut *state else {
        return None;
    };
    Some(write_node(it, w, node, at))
}

/// `XmlWriter.Create`'s existence, for `policy check`.
pub(crate) fn xml_writer_static_exists(ty: &str, name: &str) -> bool {
    ty == "XmlWriter" && name == "Create"
}
