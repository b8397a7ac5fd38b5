//! LINQ to XML's members that edit a tree in place, through any reference to one of its nodes
//! (`doc.Root.Add(x)`, `doc.Descendants("a").Remove()`, `e.Attribute("a").Remove()`,
//! `node.ReplaceWith(…)`, `e.Value = "x"`): the nodes have identity and parent links
//! (crates/expr/src/xml.rs), so the document a node belongs to changes with it.
//!
//! Content is added as `XContainer.AddContentSkipNotify` and `XContainer.Inserter` (.NET's
//! reference source) add it: a string (or number, bool, date, written as `XmlConvert` writes
//! them) is text and joins a text node it follows; `null` is skipped; a sequence adds each
//! item; an attribute goes to the attributes (and is refused by `AddFirst`, `AddAfterSelf`,
//! `AddBeforeSelf` and by a document); a node that has a parent, or is the root of the tree it
//! is added into, is copied. A document takes whitespace, comments, processing instructions,
//! one document type and one element, as .NET validates them. Checked against Mono
//! (mcs/mono): crates/expr/tests/xml_tree.rs and the oracle's `// xml tree` section.

use super::xml::{attribute, node_of, xvalue};
use super::xml_build::{name_arg, scalar_text};
use super::*;
use crate::xml::{MAX_XML_DEPTH, XData, XKind, XObject, XRef};

/// The methods that change a node; `xml_edit` answers them.
pub(crate) const XML_MUTATORS: &[&str] = &[
    "Add",
    "AddFirst",
    "AddAfterSelf",
    "AddBeforeSelf",
    "Remove",
    "ReplaceWith",
    "SetAttributeValue",
    "SetElementValue",
    "SetValue",
    "RemoveNodes",
    "RemoveAttributes",
    "RemoveAll",
    "ReplaceNodes",
    "ReplaceAll",
    "ReplaceAttributes",
];

/// One item of content, flattened from the arguments before anything changes (.NET takes a
/// snapshot of the content: `e.ReplaceNodes(e.Nodes())` keeps the nodes).
enum Item {
    Node(XRef),
    Attribute(XRef),
    Text(String),
}

fn flatten(it: &mut Interp, v: &Value, out: &mut Vec<Item>, at: usize) -> F<()> {
    match v {
        Value::Null => {}
        Value::Object(Object::XAttribute(a)) => out.push(Item::Attribute(a.clone())),
        Value::Object(Object::XElement(n) | Object::XDocument(n) | Object::XNode(n)) => {
            out.push(Item::Node(n.clone()))
        }
        Value::Array(items) => {
            for i in items {
                flatten(it, i, out, at)?;
            }
        }
        Value::Object(Object::XName(_) | Object::XNamespace(_)) => {
            out.push(Item::Text(v.to_display()))
        }
        other => out.push(Item::Text(scalar_text(it, other, at)?)),
    }
    Ok(())
}

/// The content items of `args`, charged to the memory budget (what is added may be a copy).
fn content(it: &mut Interp, args: &[Value], at: usize) -> F<Vec<Item>> {
    let mut out = Vec::new();
    for v in args {
        it.charge(it.size_of(v).saturating_add(SLOT), at)?;
        flatten(it, v, &mut out, at)?;
    }
    Ok(out)
}

fn argument(message: &str, at: usize) -> Flow {
    rt("ArgumentException", message.to_string(), at)
}

fn structure(at: usize) -> Flow {
    rt(
        "InvalidOperationException",
        "This operation would create an incorrectly structured document.",
        at,
    )
}

fn missing_parent(at: usize) -> Flow {
    rt("InvalidOperationException", "The parent is missing.", at)
}

fn null_arg(param: &str, at: usize) -> Flow {
    rt(
        "ArgumentNullException",
        format!("Value cannot be null.\nParameter name: {param}"),
        at,
    )
}

/// `XDocument.ValidateString`: a document holds no text but whitespace.
fn validate_text(container: &XRef, s: &str, at: usize) -> F<()> {
    if container.kind() == XKind::Document
        && !s.chars().all(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
    {
        return Err(argument(
            "Non-whitespace characters cannot be added to content.",
            at,
        ));
    }
    Ok(())
}

/// `ValidateNode` of an element or a document, for `n` inserted after `prev`.
fn validate_node(container: &XRef, n: &XRef, prev: Option<&XRef>, at: usize) -> F<()> {
    let kind_name = match n.kind() {
        XKind::Document => Some("Document"),
        XKind::DocumentType if container.kind() == XKind::Element => Some("DocumentType"),
        XKind::CData if container.kind() == XKind::Document => Some("CDATA"),
        _ => None,
    };
    if let Some(k) = kind_name {
        return Err(argument(
            &format!("A node of type {k} cannot be added to content."),
            at,
        ));
    }
    if container.kind() != XKind::Document {
        return Ok(());
    }
    let nodes = container.nodes();
    match n.kind() {
        XKind::Text => validate_text(container, &n.value(), at),
        XKind::Element if nodes.iter().any(|x| x.kind() == XKind::Element) => Err(structure(at)),
        XKind::DocumentType => {
            let upto = prev
                .and_then(|p| nodes.iter().position(|x| Arc::ptr_eq(x, p)))
                .map_or(0, |i| i + 1);
            if nodes.iter().any(|x| x.kind() == XKind::DocumentType)
                || nodes[..upto].iter().any(|x| x.kind() == XKind::Element)
            {
                Err(structure(at))
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

/// Adds `a` to element `e`'s attributes: a copy when it has a parent; a second attribute of a
/// name is refused.
fn add_attribute(e: &XRef, a: XRef, at: usize) -> F<()> {
    if e.kind() != XKind::Element {
        return Err(argument("An attribute cannot be added to content.", at));
    }
    let name = a.name();
    if e.attributes().iter().any(|x| x.name() == name) {
        return Err(rt("InvalidOperationException", "Duplicate attribute.", at));
    }
    let a = if a.parent().is_some() {
        a.deep_clone()
    } else {
        a
    };
    e.push_attribute(a);
    Ok(())
}

/// Puts `items` into `container`: appended (`Add`, the constructors) when `append`, else
/// after `prev` (at the start when `None`), as `XContainer.Inserter` does.
fn insert(
    container: &XRef,
    mut prev: Option<XRef>,
    append: bool,
    items: Vec<Item>,
    at: usize,
) -> F<()> {
    let base_depth = container.depth();
    let root = container.root();
    let mut pending: Option<String> = None;
    // Text joins the text node before it, or becomes a node of its own.
    let flush = |prev: &mut Option<XRef>, t: String| {
        if t.is_empty() {
            return;
        }
        if let Some(p) = prev.as_ref()
            && p.kind() == XKind::Text
        {
            // .NET appends to the text node: its Value changes.
            xml_change(p, p, "Value", || {
                if let XData::Text(s) = &mut *p.data() {
                    s.push_str(&t);
                }
            });
            return;
        }
        let n = XObject::new(XData::Text(t));
        let i = prev
            .as_ref()
            .and_then(|p| container.index_of(p))
            .map_or(0, |i| i + 1);
        container.insert_node(i, n.clone());
        *prev = Some(n);
    };
    for item in items {
        if append {
            prev = container.last_node();
        }
        match item {
            Item::Text(s) => {
                validate_text(container, &s, at)?;
                if append {
                    // `new XElement("a", "")` has (empty) content: `<a></a>`.
                    if s.is_empty() && prev.is_none() {
                        container.push_node(XObject::new(XData::Text(s)));
                    } else {
                        flush(&mut prev, s);
                    }
                } else {
                    pending.get_or_insert_with(String::new).push_str(&s);
                }
            }
            Item::Attribute(a) => {
                if !append {
                    return Err(argument("An attribute cannot be added to content.", at));
                }
                add_attribute(container, a, at)?;
            }
            Item::Node(n) => {
                validate_node(container, &n, prev.as_ref(), at)?;
                let n = if n.parent().is_some() || Arc::ptr_eq(&n, &root) {
                    n.deep_clone()
                } else {
                    n
                };
                if base_depth + 1 + n.height() > MAX_XML_DEPTH {
                    return Err(rt(
                        "InvalidOperationException",
                        format!("The XML would be nested deeper than {MAX_XML_DEPTH} levels."),
                        at,
                    ));
                }
                if let Some(t) = pending.take() {
                    flush(&mut prev, t);
                }
                let i = prev
                    .as_ref()
                    .and_then(|p| container.index_of(p))
                    .map_or(0, |i| i + 1);
                container.insert_node(i, n.clone());
                prev = Some(n);
            }
        }
    }
    if let Some(t) = pending.take() {
        flush(&mut prev, t);
    }
    Ok(())
}

/// `XContainer.Add(content)` for the constructors (crates/expr/src/library/xml_build.rs).
pub(super) fn add_content(it: &mut Interp, container: &XRef, args: &[Value], at: usize) -> F<()> {
    let items = content(it, args, at)?;
    insert(container, None, true, items, at)
}

/// The node before `n` among its parent's nodes (`None` when it is the first).
fn previous(n: &XRef) -> Option<XRef> {
    let p = n.parent()?;
    let nodes = p.nodes();
    let i = nodes.iter().position(|x| Arc::ptr_eq(x, n))?;
    i.checked_sub(1).map(|j| nodes[j].clone())
}

/// The member that edits `t` (one of [`XML_MUTATORS`]); `None` when `t` is no node or `name`
/// is no such member of it.
pub(crate) fn xml_edit(
    it: &mut Interp,
    t: &Value,
    name: &str,
    args: &[Value],
    at: usize,
) -> Option<F<Value>> {
    let n = node_of(t)?;
    if !XML_MUTATORS.contains(&name) {
        return None;
    }
    let kind = n.kind();
    let element = kind == XKind::Element;
    let container = n.is_container();
    let is_node = kind != XKind::Attribute;
    let ok = match name {
        "Add" | "AddFirst" | "RemoveNodes" | "ReplaceNodes" => container,
        "AddAfterSelf" | "AddBeforeSelf" | "ReplaceWith" => is_node,
        "Remove" => true,
        "SetValue" => matches!(kind, XKind::Element | XKind::Attribute),
        _ => element,
    };
    if !ok {
        return Some(Err(super::xml::no_xml_member(t.type_name(), name, at)));
    }
    Some(edit(it, n, name, args, at).map(|()| Value::Null))
}

fn edit(it: &mut Interp, n: &XRef, name: &str, args: &[Value], at: usize) -> F<()> {
    match name {
        "Add" => {
            let items = content(it, args, at)?;
            insert(n, None, true, items, at)
        }
        "AddFirst" => {
            let items = content(it, args, at)?;
            insert(n, None, false, items, at)
        }
        "AddAfterSelf" | "AddBeforeSelf" => {
            let parent = n.parent().ok_or_else(|| missing_parent(at))?;
            let items = content(it, args, at)?;
            let prev = if name == "AddAfterSelf" {
                Some(n.clone())
            } else {
                previous(n)
            };
            insert(&parent, prev, false, items, at)
        }
        "Remove" => {
            if n.parent().is_none() {
                return Err(missing_parent(at));
            }
            n.detach();
            Ok(())
        }
        "ReplaceWith" => {
            let parent = n.parent().ok_or_else(|| missing_parent(at))?;
            let items = content(it, args, at)?;
            let prev = previous(n);
            n.detach();
            insert(&parent, prev, false, items, at)
        }
        "RemoveNodes" => {
            n.clear_nodes();
            Ok(())
        }
        "RemoveAttributes" => {
            n.clear_attributes();
            Ok(())
        }
        "RemoveAll" => {
            n.clear_attributes();
            n.clear_nodes();
            Ok(())
        }
        "ReplaceNodes" | "ReplaceAll" | "ReplaceAttributes" => {
            let items = content(it, args, at)?;
            if name != "ReplaceAttributes" {
                n.clear_nodes();
            }
            if name != "ReplaceNodes" {
                n.clear_attributes();
            }
            insert(n, None, true, items, at)
        }
        "SetValue" => {
            let v = args
                .first()
                .filter(|v| !v.is_null())
                .ok_or_else(|| null_arg("value", at))?;
            let s = value_text(it, v, at)?;
            set_value(n, s);
            Ok(())
        }
        "SetAttributeValue" => {
            let x = name_arg(args.first().unwrap_or(&Value::Null), at)?;
            let found = n
                .attributes()
                .into_iter()
                .find(|a| a.name().as_ref() == Some(&x));
            match (args.get(1).filter(|v| !v.is_null()), found) {
                (None, Some(a)) => a.detach(),
                (None, None) => {}
                (Some(v), Some(a)) => {
                    let s = value_text(it, v, at)?;
                    set_value(&a, s);
                }
                (Some(v), None) => {
                    let s = value_text(it, v, at)?;
                    it.charge(s.len().saturating_add(SLOT), at)?;
                    n.push_attribute(attribute(x, s));
                }
            }
            Ok(())
        }
        "SetElementValue" => {
            let x = name_arg(args.first().unwrap_or(&Value::Null), at)?;
            let found = n
                .elements()
                .into_iter()
                .find(|c| c.name().as_ref() == Some(&x));
            match (args.get(1).filter(|v| !v.is_null()), found) {
                (None, Some(c)) => c.detach(),
                (None, None) => {}
                (Some(v), Some(c)) => {
                    let s = value_text(it, v, at)?;
                    set_value(&c, s);
                }
                (Some(v), None) => {
                    let s = value_text(it, v, at)?;
                    it.charge(s.len().saturating_add(SLOT), at)?;
                    let c = XObject::element(x.clone());
                    c.push_node(XObject::new(XData::Text(s)));
                    insert(n, None, true, vec![Item::Node(c)], at)?;
                }
            }
            Ok(())
        }
        _ => Err(super::xml::no_xml_member(
            xvalue(n.clone()).type_name(),
            name,
            at,
        )),
    }
}

/// `GetStringValue`: a value as `SetValue` writes it; an XML object is refused.
fn value_text(it: &mut Interp, v: &Value, at: usize) -> F<String> {
    if node_of(v).is_some() {
        return Err(argument("An XObject cannot be used as a value.", at));
    }
    let s = match v {
        Value::Object(Object::XName(_) | Object::XNamespace(_)) => v.to_display(),
        other => scalar_text(it, other, at)?,
    };
    it.charge(s.len(), at)?;
    Ok(s)
}

/// The `Value` setter: an element's nodes become the one text (`<a></a>` when empty); an
/// attribute's, a text's, a comment's value is the text.
fn set_value(n: &XRef, s: String) {
    if n.kind() == XKind::Element {
        n.clear_nodes();
        if s.is_empty() {
            // .NET keeps an empty value as the element's content, announced as its Value.
            xml_change(n, n, "Value", || {
                if let XData::Element { nodes, .. } = &mut *n.data() {
                    nodes.push(XObject::new(XData::Text(s)));
                }
            });
            if let Some(t) = n.last_node() {
                t.set_parent(Some(n));
            }
        } else {
            n.push_node(XObject::new(XData::Text(s)));
        }
        return;
    }
    xml_change(n, n, "Value", || match &mut *n.data() {
        XData::Attribute { value: v, .. }
        | XData::Text(v)
        | XData::CData(v)
        | XData::Comment(v) => *v = s,
        _ => {}
    })
}

/// `x.Value = v`, `e.Name = n`, `pi.Data = d` … on a node; `None` when `t` is no node or the
/// property cannot be set on it.
pub(crate) fn xml_set_member(
    it: &mut Interp,
    t: &Value,
    name: &str,
    v: Value,
    at: usize,
) -> Option<F<()>> {
    let n = node_of(t)?;
    let kind = n.kind();
    Some((|| -> F<()> {
        match (kind, name) {
            (
                XKind::Element | XKind::Attribute | XKind::Text | XKind::CData | XKind::Comment,
                "Value",
            ) => {
                if v.is_null() {
                    return Err(null_arg("value", at));
                }
                let s = match &v {
                    Value::String(s) => s.to_string(),
                    other => value_text(it, other, at)?,
                };
                it.charge(s.len(), at)?;
                set_value(n, s);
                Ok(())
            }
            (XKind::Element, "Name") => {
                let x = name_arg(&v, at)?;
                xml_change(n, n, "Name", || {
                    if let XData::Element { name, .. } = &mut *n.data() {
                        *name = x;
                    }
                });
                Ok(())
            }
            (XKind::Pi, "Target" | "Data") | (XKind::DocumentType, _) => {
                let s = match &v {
                    Value::Null => None,
                    Value::String(s) => Some(s.to_string()),
                    other => return Err(cast_err(other, "System.String", at)),
                };
                it.charge(s.as_ref().map_or(0, String::len), at)?;
                // A processing instruction's Target and a document type's Name are its
                // Name; the rest its Value.
                let change = if matches!(name, "Target" | "Name") {
                    "Name"
                } else {
                    "Value"
                };
                notify(n, n, change, true);
                let r = set_pi_or_doctype(n, name, s, at);
                notify(n, n, change, false);
                r
            }
            _ => Err(rt(
                "CompilationError",
                format!("Property or indexer '{name}' cannot be assigned to -- it is read only"),
                at,
            )),
        }
    })())
}

/// A processing instruction's `Target`/`Data`, a document type's `Name`/`PublicId`/…
fn set_pi_or_doctype(n: &XRef, name: &str, s: Option<String>, at: usize) -> F<()> {
    let mut d = n.data();
    match (&mut *d, name) {
        (XData::Pi(target, data), _) => {
            let s = s.ok_or_else(|| null_arg("value", at))?;
            if name == "Target" {
                *target = s;
            } else {
                *data = s;
            }
        }
        (XData::DocumentType { name: dn, .. }, "Name") => {
            *dn = s.ok_or_else(|| null_arg("value", at))?
        }
        (XData::DocumentType { public_id, .. }, "PublicId") => *public_id = s,
        (XData::DocumentType { system_id, .. }, "SystemId") => *system_id = s,
        (
            XData::DocumentType {
                internal_subset, ..
            },
            "InternalSubset",
        ) => *internal_subset = s,
        _ => {
            return Err(rt(
                "CompilationError",
                format!("Property '{name}' cannot be assigned to"),
                at,
            ));
        }
    }
    Ok(())
}

/// `Extensions.Remove()` on a sequence of nodes or attributes: each leaves its parent (one
/// without a parent is refused, as its own `Remove()` is). `None` when the items are not all
/// nodes.
pub(crate) fn xml_sequence_remove(items: &[Value], at: usize) -> Option<F<Value>> {
    if !items.iter().all(|i| i.is_null() || node_of(i).is_some()) {
        return None;
    }
    Some((|| {
        for i in items {
            if let Some(n) = node_of(i) {
                if n.parent().is_none() {
                    return Err(missing_parent(at));
                }
                n.detach();
            }
        }
        Ok(Value::Null)
    })())
}
