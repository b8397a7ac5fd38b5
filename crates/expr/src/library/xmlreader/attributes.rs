//! The `XmlReader` cursor on attributes: `MoveToAttribute`/`MoveToFirstAttribute`/
//! `MoveToNextAttribute`/`MoveToElement`, `ReadAttributeValue` (the value as a `Text` node one
//! level deeper), `GetAttribute` and the indexer, and what the properties say there; the
//! scope of the current element: `LookupNamespace`, `XmlLang`, `XmlSpace`.
//!
//! Checked against Mono's reader on `<a xmlns='urn:d' xmlns:p='urn:p' x='1' p:y='2'>`: the
//! namespace declarations are attributes of the namespace `http://www.w3.org/2000/xmlns/`
//! (`xmlns` has local name `xmlns` and no prefix), an attribute is one level deeper than its
//! element and its value one more, `AttributeCount` stays the element's, and an index out of
//! range throws `ArgumentOutOfRangeException` (parameter `i`).

use super::*;

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";

/// The attribute the cursor is on (or in, after `ReadAttributeValue`).
pub(super) fn current_attr(s: &XmlReaderState) -> Option<&ReaderAttr> {
    current(s)?.attributes.get(s.attr?)
}

/// The properties that read differently on an attribute, and the element scope's.
pub(super) fn attribute_member(s: &XmlReaderState, name: &str) -> Option<Value> {
    match name {
        "XmlLang" => {
            return Some(Value::str(
                scoped_attribute(s, |a| a.name == "xml:lang").unwrap_or_default(),
            ));
        }
        "XmlSpace" => {
            return Some(Value::str(
                match scoped_attribute(s, |a| a.name == "xml:space").as_deref() {
                    Some("preserve") => "Preserve",
                    Some("default") => "Default",
                    _ => "None",
                },
            ));
        }
        _ => {}
    }
    let a = current_attr(s)?;
    let depth = current(s).map_or(0, |n| depth_of(s, n)) + 1;
    let (prefix, _) = a.name.split_once(':').unwrap_or(("", ""));
    if s.attr_text {
        return Some(match name {
            "Name" | "LocalName" | "Prefix" | "NamespaceURI" => Value::str(""),
            "Depth" => Value::Int(depth + 1),
            "Value" => Value::str(&a.value),
            "HasValue" => Value::Bool(true),
            "IsEmptyElement" => Value::Bool(false),
            _ => return None,
        });
    }
    Some(match name {
        "Name" => Value::str(&a.name),
        "LocalName" => Value::str(&a.local),
        "Prefix" => Value::str(prefix),
        "NamespaceURI" => Value::str(&a.namespace),
        "Value" => Value::str(&a.value),
        "HasValue" => Value::Bool(true),
        "Depth" => Value::Int(depth),
        "IsEmptyElement" => Value::Bool(false),
        "QuoteChar" => Value::Char(a.quote),
        _ => return None,
    })
}

/// The element whose scope the cursor is in: the current element (or its start, on an end
/// tag), otherwise the parent of the current node.
fn scope_start(s: &XmlReaderState) -> Option<usize> {
    let n = current(s)?;
    match n.kind {
        "Element" => s.pos,
        "EndElement" => Some(n.end),
        _ => n.parent,
    }
}

/// The value of the nearest attribute `want` on the current element or its ancestors: at
/// most the document's depth of steps.
fn scoped_attribute(s: &XmlReaderState, want: impl Fn(&ReaderAttr) -> bool) -> Option<String> {
    let nodes = s.nodes.as_deref()?;
    let mut at = scope_start(s);
    while let Some(i) = at {
        let n = nodes.get(i)?;
        if let Some(a) = n.attributes.iter().find(|a| want(a)) {
            return Some(a.value.clone());
        }
        at = n.parent;
    }
    None
}

/// `LookupNamespace(prefix)`: the URI bound to the prefix where the cursor is; `""` for the
/// empty prefix when no default namespace is declared, null for an unbound prefix.
fn lookup_namespace(s: &XmlReaderState, prefix: &str) -> Value {
    match prefix {
        "xml" => return Value::str(XML_NS),
        "xmlns" => return Value::str(XMLNS_NS),
        _ => {}
    }
    let decl = if prefix.is_empty() {
        "xmlns".to_string()
    } else {
        format!("xmlns:{prefix}")
    };
    match scoped_attribute(s, |a| a.name == decl) {
        Some(uri) => Value::str(uri),
        None if prefix.is_empty() => Value::str(""),
        None => Value::Null,
    }
}

fn out_of_range(at: usize) -> Flow {
    arg_range(
        "Specified argument was out of the range of valid values. (Parameter 'i')",
        at,
    )
}

/// The index of the attribute an argument list names: `(int)`, `(name)` or
/// `(localName, namespaceURI)`; `Ok(None)` when there is no such attribute.
pub(super) fn find_attribute(s: &XmlReaderState, args: &Args, at: usize) -> F<Option<usize>> {
    let attrs: &[ReaderAttr] = current(s).map_or(&[], |n| &n.attributes);
    Ok(match (arg(args, 0, at)?, args.get(1).map(|(_, v)| v)) {
        (Value::Int(i), None) => match usize::try_from(*i).ok().filter(|i| *i < attrs.len()) {
            Some(i) => Some(i),
            None => return Err(out_of_range(at)),
        },
        (Value::Null, _) => {
            return Err(rt(
                "ArgumentNullException",
                "Value cannot be null. (Parameter 'name')",
                at,
            ));
        }
        (v, None) => {
            let w = as_str(v, at)?;
            attrs.iter().position(|a| a.name == w)
        }
        (v, Some(ns)) => {
            let w = as_str(v, at)?;
            let ns = if ns.is_null() {
                String::new()
            } else {
                as_str(ns, at)?
            };
            attrs.iter().position(|a| a.local == w && a.namespace == ns)
        }
    })
}

/// The attribute members; `None` for a name that is not one of them.
pub(super) fn attribute_call(
    _it: &mut Interp,
    s: &mut XmlReaderState,
    name: &str,
    args: &Args,
    at: usize,
) -> F<Option<Value>> {
    let count = current(s).map_or(0, |n| n.attributes.len());
    Ok(Some(match name {
        "GetAttribute" | "get_Item" => match find_attribute(s, args, at)? {
            Some(i) => current(s)
                .and_then(|n| n.attributes.get(i))
                .map_or(Value::Null, |a| Value::str(&a.value)),
            None => Value::Null,
        },
        "MoveToAttribute" => {
            let found = find_attribute(s, args, at)?;
            if let Some(i) = found {
                s.attr = Some(i);
                s.attr_text = false;
            }
            match arg(args, 0, at)? {
                // MoveToAttribute(int) is void.
                Value::Int(_) => Value::Null,
                _ => Value::Bool(found.is_some()),
            }
        }
        "MoveToFirstAttribute" | "MoveToNextAttribute" => {
            let next = match s.attr {
                Some(i) if name == "MoveToNextAttribute" => i + 1,
                _ => 0,
            };
            if next < count {
                s.attr = Some(next);
                s.attr_text = false;
            }
            Value::Bool(next < count)
        }
        "MoveToElement" => Value::Bool(to_element(s)),
        "ReadAttributeValue" => {
            let moved = s.attr.is_some() && !s.attr_text;
            s.attr_text |= moved;
            Value::Bool(moved)
        }
        "LookupNamespace" => match arg(args, 0, at)? {
            Value::Null => {
                return Err(rt(
                    "ArgumentNullException",
                    "Value cannot be null. (Parameter 'prefix')",
                    at,
                ));
            }
            v => lookup_namespace(s, &as_str(v, at)?),
        },
        _ => return Ok(None),
    }))
}
