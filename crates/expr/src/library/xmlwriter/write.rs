//! The `XmlWriter` methods (`WriteStartElement`, `WriteString` …, `Flush`, `Close`) and
//! `node.WriteTo(writer)`.

use super::state::{invalid, no_root};
use super::*;
use crate::xml::XData;

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
            let copy = node.deep_clone();
            declare_inherited(w, node, &copy);
            w.add(it, xml::xvalue(copy), at)
        }
        crate::xml::XKind::DocumentType if w.open.is_empty() => {
            // Only a document's top level takes a document type (the holder is an element).
            w.check_top("DocumentType", true, at)?;
            w.holder.push_node(node.deep_clone());
            Ok(())
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

/// Declares on `copy` (written for `node`) the prefixes `node`'s ancestors bind that its
/// subtree uses and the writer has not declared: what .NET's writer declares, knowing the
/// ancestors' bindings, to write the node with the same prefixes.
fn declare_inherited(w: &mut XmlWriterState, node: &XRef, copy: &XRef) {
    let mut used = std::collections::HashSet::new();
    let mut stack = vec![copy.clone()];
    while let Some(n) = stack.pop() {
        if let Some(name) = n.name() {
            used.insert(name.namespace);
        }
        for a in n.attributes() {
            if let Some(name) = a.name() {
                used.insert(name.namespace);
            }
        }
        stack.extend(n.elements());
    }
    let own: Vec<String> = copy
        .attributes()
        .iter()
        .filter_map(|a| {
            a.name()
                .and_then(|n| crate::xml::declared_prefix(&n).map(str::to_string))
        })
        .collect();
    // The innermost binding of a prefix is the one in force.
    let mut seen = std::collections::HashSet::new();
    for (prefix, ns) in node.inherited_declarations().into_iter().rev() {
        if prefix.is_empty()
            || !seen.insert(prefix.clone())
            || !used.contains(&ns)
            || own.contains(&prefix)
            || w.declared(&prefix, &ns)
        {
            continue;
        }
        w.declare(copy, &prefix, &ns);
    }
}
