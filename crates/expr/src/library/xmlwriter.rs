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

mod settings;
mod state;
mod write;

use super::*;
use crate::io::{IoObject, IoState};
use crate::xml::{XName, XObject, XRef};
pub(crate) use settings::*;
pub(crate) use write::*;

pub(super) const XMLNS: &str = "http://www.w3.org/2000/xmlns/";

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

pub(super) fn holder() -> XRef {
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

/// `XmlWriter.Create`'s existence, for `policy check`.
pub(crate) fn xml_writer_static_exists(ty: &str, name: &str) -> bool {
    ty == "XmlWriter" && name == "Create"
}
