//! LINQ to XML's methods that change an element (`Add`, `SetAttributeValue`, …), applied to
//! an element held in a local, with the content rules of construction
//! (crates/expr/src/library/xml_build.rs).
//!
//! Checked against Mono (mcs/mono); the C# and its output are in crates/expr/tests/xml_json.rs
//! (`xelement_in_a_local_changes_like_dotnet`).

use super::xml_build::{add_content, finish, name_arg, rescope, scalar_plain};
use super::*;
use crate::xml::{XAttribute, XElement, XNode};

/// The methods that change an element held in a local (`root.Add(child)`, `SetAttributeValue`
/// …), as `new XElement` adds content. The tree is a value here, so only an element in a
/// variable changes; `doc.Root.Add(x)` cannot reach into the document (no parent links).
pub(crate) const XML_MUTATORS: &[&str] = &[
    "Add",
    "AddFirst",
    "SetAttributeValue",
    "SetElementValue",
    "SetValue",
    "RemoveNodes",
    "RemoveAttributes",
    "RemoveAll",
    "ReplaceNodes",
    "ReplaceAll",
];

/// Applies one of [`XML_MUTATORS`] to `slot`. Scalars print as `ToString()` would, except
/// those `XmlConvert` writes its own way (booleans, dates); what is added was charged to the
/// memory budget by the caller (crates/expr/src/interp/calls.rs).
pub(crate) fn xml_mutate(slot: &mut Arc<XElement>, name: &str, args: Args, at: usize) -> F<Value> {
    let mut text_of =
        |v: &Value| -> F<String> { Ok(scalar_plain(v).unwrap_or_else(|| v.to_display())) };
    let vals: Vec<Value> = args.into_iter().map(|(_, v)| v).collect();
    let e = Arc::make_mut(slot);
    match name {
        "Add" | "AddFirst" | "ReplaceNodes" | "ReplaceAll" => {
            if name == "ReplaceNodes" {
                e.nodes.clear();
            }
            if name == "ReplaceAll" {
                e.nodes.clear();
                e.attributes.clear();
            }
            let mut attributes = std::mem::take(&mut e.attributes);
            let mut added = Vec::new();
            for v in &vals {
                add_content(&mut text_of, v, &mut attributes, &mut added, at)?;
            }
            e.attributes = attributes;
            if name == "AddFirst" {
                added.append(&mut e.nodes);
                e.nodes = added;
            } else {
                // Text added after text joins it, as .NET merges adjacent text.
                for n in added {
                    match (e.nodes.last_mut(), n) {
                        (Some(XNode::Text(prev)), XNode::Text(t)) => prev.push_str(&t),
                        (_, n) => e.nodes.push(n),
                    }
                }
            }
        }
        "SetAttributeValue" => {
            let n = name_arg(vals.first().unwrap_or(&Value::Null), at)?;
            let pos = e.attributes.iter().position(|a| a.name == n);
            match (vals.get(1).filter(|v| !v.is_null()), pos) {
                (None, Some(i)) => {
                    e.attributes.remove(i);
                }
                (None, None) => {}
                (Some(v), Some(i)) => e.attributes[i].value = text_of(v)?,
                (Some(v), None) => e.attributes.push(XAttribute {
                    qualified: n.local.clone(),
                    name: n,
                    value: text_of(v)?,
                }),
            }
        }
        "SetElementValue" => {
            let n = name_arg(vals.first().unwrap_or(&Value::Null), at)?;
            let pos = e
                .nodes
                .iter()
                .position(|c| matches!(c, XNode::Element(x) if x.name == n));
            match (vals.get(1).filter(|v| !v.is_null()), pos) {
                (None, Some(i)) => {
                    e.nodes.remove(i);
                }
                (None, None) => {}
                (Some(v), Some(i)) => {
                    if let XNode::Element(x) = &mut e.nodes[i] {
                        Arc::make_mut(x).nodes = vec![XNode::Text(text_of(v)?)];
                    }
                }
                (Some(v), None) => e.nodes.push(XNode::Element(finish(
                    n,
                    Vec::new(),
                    vec![XNode::Text(text_of(v)?)],
                ))),
            }
        }
        "SetValue" => {
            let v = vals.first().filter(|v| !v.is_null()).ok_or_else(|| {
                rt(
                    "ArgumentNullException",
                    "Value cannot be null.\nParameter name: value",
                    at,
                )
            })?;
            e.nodes = vec![XNode::Text(text_of(v)?)];
        }
        "RemoveNodes" => e.nodes.clear(),
        "RemoveAttributes" => e.attributes.clear(),
        _ => {
            e.nodes.clear();
            e.attributes.clear();
        }
    }
    *slot = rescope(slot, &[], "");
    Ok(Value::Null)
}

/// `e.Element(n).Remove()` (the first child element named `n`; none is a
/// NullReferenceException, as `Remove()` on null is) and `e.Elements(n).Remove()` (every one;
/// without `n`, every child element).
pub(crate) fn xml_remove_children(
    slot: &mut Arc<XElement>,
    child: Option<&Value>,
    all: bool,
    at: usize,
) -> F<Value> {
    let wanted = match child {
        Some(v) => Some(name_arg(v, at)?),
        None => None,
    };
    let matches = |n: &XNode| match n {
        XNode::Element(x) => wanted.as_ref().is_none_or(|w| x.name == *w),
        _ => false,
    };
    let e = Arc::make_mut(slot);
    if all {
        e.nodes.retain(|n| !matches(n));
    } else {
        match e.nodes.iter().position(matches) {
            Some(i) => {
                e.nodes.remove(i);
            }
            None => return Err(null_ref(at)),
        }
    }
    Ok(Value::Null)
}
