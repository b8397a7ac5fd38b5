//! LINQ to XML's members that write a tree out or read one in through the System.IO and
//! System.Xml objects: `Save(TextWriter | XmlWriter[, SaveOptions])`, `WriteTo(XmlWriter)`,
//! `CreateWriter()`, `CreateReader()` of the nodes that are not containers, `Load(TextReader
//! | XmlReader[, LoadOptions])`, and their async forms (`SaveAsync`, `WriteToAsync`,
//! `LoadAsync`, `ReadFromAsync`), which do the work at once and return a completed task
//! (crates/expr/src/library/tasks.rs). The `CancellationToken` argument of the async forms is
//! taken as given: nothing here can be cancelled.
//!
//! `Save(TextWriter)` writes as .NET's does, through an `XmlWriter` with the settings of the
//! `SaveOptions` (indented unless `DisableFormatting`): the XML declaration first, with the
//! writer's encoding (`utf-16` for a `StringWriter`) and the document's `standalone`, then the
//! nodes. `Save(fileName)` would write a file, which APIM's sandbox does not allow: it fails
//! as a denied path does.

use super::*;
use crate::io::{IoState, ReaderAttr, ReaderNode, XmlReaderState};
use crate::xml::{XData, XKind, XRef};

/// `SaveOptions` flags of an optional argument: (`DisableFormatting`, `OmitDuplicateNamespaces`).
fn save_options(v: Option<&Value>) -> (bool, bool) {
    match v {
        Some(Value::Enum("SaveOptions", o)) => (o & 1 == 1, o & 2 == 2),
        _ => (false, false),
    }
}

/// `node.Save(target[, options])`.
fn save(it: &mut Interp, n: &XRef, args: &[Value], at: usize) -> F<()> {
    let target = args.first().unwrap_or(&Value::Null);
    match target {
        Value::Null => Err(rt(
            "ArgumentNullException",
            "Value cannot be null. (Parameter 'textWriter')",
            at,
        )),
        Value::String(path) => Err(file_refused(path, at)),
        Value::Object(Object::Io(io)) => {
            let is_text = matches!(&*io.state(), IoState::StringWriter(_));
            if is_text {
                let (compact, omit) = save_options(args.get(1));
                let writer = new_writer(
                    WriterTarget::Text(io.clone()),
                    WriterSettings {
                        indent: !compact,
                        omit_declaration: false,
                        conformance: "Document",
                        omit_duplicates: omit,
                    },
                );
                save_to_writer(it, n, &writer, at)?;
                let Value::Object(Object::Io(w)) = &writer else {
                    return Ok(());
                };
                if let IoState::XmlWriter(w) = &mut *w.state() {
                    xml_writer_call(it, w, "Close", &Vec::new(), at)?;
                }
                return Ok(());
            }
            save_to_writer(it, n, target, at)
        }
        other => Err(cast_err(other, "System.IO.TextWriter", at)),
    }
}

/// `node.Save(xmlWriter)`: a document as `WriteTo` writes it; an element between
/// `WriteStartDocument()` and `WriteEndDocument()`.
fn save_to_writer(it: &mut Interp, n: &XRef, writer: &Value, at: usize) -> F<()> {
    let Value::Object(Object::Io(io)) = writer else {
        return Err(cast_err(writer, "System.Xml.XmlWriter", at));
    };
    let mut state = io.state();
    let IoState::XmlWriter(w) = &mut *state else {
        drop(state);
        return Err(cast_err(writer, "System.Xml.XmlWriter", at));
    };
    if n.kind() == XKind::Element {
        xml_writer_call(it, w, "WriteStartDocument", &Vec::new(), at)?;
        write_node(it, w, n, at)?;
        return xml_writer_call(it, w, "WriteEndDocument", &Vec::new(), at).map(|_| ());
    }
    write_node(it, w, n, at)
}

/// `node.WriteTo(writer)`.
fn write_to(it: &mut Interp, n: &XRef, args: &[Value], at: usize) -> F<()> {
    match args.first() {
        None | Some(Value::Null) => Err(rt(
            "ArgumentNullException",
            "Value cannot be null. (Parameter 'writer')",
            at,
        )),
        Some(v) => match write_node_to(it, v, n, at) {
            Some(r) => r,
            None => Err(cast_err(v, "System.Xml.XmlWriter", at)),
        },
    }
}

/// An `XmlReader` over one node that is not a container (`XNodeReader` reads just it).
fn leaf_reader(n: &XRef) -> Value {
    let node =
        |kind: &'static str, name: String, value: String, attributes: Vec<ReaderAttr>| ReaderNode {
            kind,
            local: name.clone(),
            name,
            namespace: String::new(),
            value,
            depth: 0,
            empty: false,
            attributes,
            offset: 0,
            ordinal: 0,
            end: 0,
            parent: None,
        };
    let attr = |name: &str, value: &str| ReaderAttr {
        name: name.into(),
        local: name.into(),
        namespace: String::new(),
        value: value.into(),
        quote: '"',
        offset: 0,
    };
    let one = match &*n.data() {
        XData::Text(t) => node("Text", String::new(), t.clone(), Vec::new()),
        XData::CData(t) => node("CDATA", String::new(), t.clone(), Vec::new()),
        XData::Comment(t) => node("Comment", String::new(), t.clone(), Vec::new()),
        XData::Pi(target, data) => node(
            "ProcessingInstruction",
            target.clone(),
            data.clone(),
            Vec::new(),
        ),
        XData::DocumentType {
            name,
            public_id,
            system_id,
            internal_subset,
        } => {
            let mut attrs = Vec::new();
            if let Some(p) = public_id {
                attrs.push(attr("PUBLIC", p));
            }
            if let Some(s) = system_id {
                attrs.push(attr("SYSTEM", s));
            }
            node(
                "DocumentType",
                name.clone(),
                internal_subset.clone().unwrap_or_default(),
                attrs,
            )
        }
        _ => node("None", String::new(), String::new(), Vec::new()),
    };
    let mut s = XmlReaderState::new(Arc::from(""), crate::io::ReaderSettings::default());
    s.nodes = Some(vec![one]);
    s.node_reader = true;
    io_value(IoState::XmlReader(s))
}

/// The `(TextReader | XmlReader)` argument of `Load`/`LoadAsync`: an `XmlReader` over it.
fn reader_arg(v: &Value, at: usize) -> F<Value> {
    match v {
        Value::Object(Object::Io(io)) if matches!(&*io.state(), IoState::XmlReader(_)) => {
            Ok(v.clone())
        }
        Value::Object(Object::Io(io)) if matches!(&*io.state(), IoState::StringReader { .. }) => {
            xml_reader_create(&vec![(None, v.clone())], at)
        }
        Value::Null => Err(rt(
            "ArgumentNullException",
            "Value cannot be null. (Parameter 'textReader')",
            at,
        )),
        Value::String(path) => Err(file_refused(path, at)),
        other => Err(cast_err(other, "System.IO.TextReader", at)),
    }
}

/// `XElement.Load`/`XDocument.Load(TextReader | XmlReader[, LoadOptions])` and
/// `ReadFrom(XmlReader)` of any node type, and their async forms; `None` for another member.
/// `Load(string)` (a file or URL) is refused as a denied path.
pub(crate) fn xml_load_static(
    it: &mut Interp,
    ty: &str,
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    let (sync, task) = match name.strip_suffix("Async") {
        Some(s) => (s, true),
        None => (name, false),
    };
    let document = ty == "XDocument";
    let load = sync == "Load" && matches!(ty, "XElement" | "XDocument");
    if !(load || (task && sync == "ReadFrom")) {
        return None;
    }
    let work = (|| {
        let reader = reader_arg(arg(args, 0, at)?, at)?;
        let Value::Object(Object::Io(io)) = &reader else {
            return Err(cast_err(&reader, "System.Xml.XmlReader", at));
        };
        let mut state = io.state();
        let IoState::XmlReader(s) = &mut *state else {
            return Err(cast_err(&reader, "System.Xml.XmlReader", at));
        };
        let v = load_from_reader(it, s, document && load, load, at)?;
        drop(state);
        Ok(v)
    })();
    Some(if task { task_from(work, true) } else { work })
}

/// `Annotation(type)`, `Annotations(type)`, `RemoveAnnotations(type)`: the `Type`-argument
/// forms of the generic members (a `Type` is its name here, as `typeof` gives it).
fn annotation_by_type(t: &Value, name: &str, args: &[Value], at: usize) -> Option<F<Value>> {
    let [ty] = args else { return None };
    let ty = match ty {
        Value::Null => {
            return Some(Err(rt(
                "ArgumentNullException",
                "Value cannot be null. (Parameter 'type')",
                at,
            )));
        }
        Value::String(s) => TypeRef {
            name: s.rsplit('.').next().unwrap_or(s).to_string(),
            args: Vec::new(),
            array: 0,
            nullable: false,
        },
        other => return Some(Err(cast_err(other, "System.Type", at))),
    };
    xml::annotation_call(t, name, std::slice::from_ref(&ty), &[], at)
}

/// The members above on a node; `None` for another member (or a value that is no node).
pub(crate) fn xml_io_call(
    it: &mut Interp,
    t: &Value,
    name: &str,
    generics: &[TypeRef],
    args: &[Value],
    at: usize,
) -> Option<F<Value>> {
    let n = xml::node_of(t)?.clone();
    let kind = n.kind();
    let is_node = kind != XKind::Attribute;
    Some(match name {
        "Annotation" | "Annotations" | "RemoveAnnotations" if generics.is_empty() => {
            return annotation_by_type(t, name, args, at);
        }
        "Save" if matches!(kind, XKind::Document | XKind::Element) && !args.is_empty() => {
            save(it, &n, args, at).map(|()| Value::Null)
        }
        "SaveAsync" if matches!(kind, XKind::Document | XKind::Element) && !args.is_empty() => {
            // (writer, cancellationToken) or (textWriter, options, cancellationToken).
            let upto = if args.len() >= 3 { 2 } else { 1 };
            task_from(save(it, &n, &args[..upto], at).map(|()| Value::Null), false)
        }
        "WriteTo" if is_node && args.len() == 1 => write_to(it, &n, args, at).map(|()| Value::Null),
        "WriteToAsync" if is_node && args.len() == 2 => task_from(
            write_to(it, &n, &args[..1], at).map(|()| Value::Null),
            false,
        ),
        "CreateWriter" if n.is_container() && args.is_empty() => Ok(new_writer(
            WriterTarget::Container(n.clone()),
            WriterSettings {
                conformance: if kind == XKind::Document {
                    "Document"
                } else {
                    "Fragment"
                },
                omit_declaration: true,
                ..WriterSettings::default()
            },
        )),
        "CreateReader" if is_node && !n.is_container() && args.len() <= 1 => Ok(leaf_reader(&n)),
        _ => return None,
    })
}
