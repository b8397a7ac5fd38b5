//! XML → JSON, as APIM's `xml-to-json` writes it (Json.NET's `SerializeXmlNode` conventions
//! with APIM's observed changes).
//!
//! Rules:
//! - the root element becomes the one property of the top-level object;
//! - `direct` puts the XML declaration's pseudo-attributes at the top level
//!   (`<?xml version="1.0"?>` → `"version": "1.0"`, as APIM is observed to do) and keeps
//!   namespace declarations as attributes (`@xmlns`, `@xmlns$soap`);
//!   `javascript-friendly` drops both;
//! - `:` in element and attribute names becomes `$` (`soap:Envelope` → `soap$Envelope`);
//! - attributes become `@name` properties, first;
//! - an element with only text becomes a string; `<a/>` becomes `null` and `<a></a>` `""`
//!   (Json.NET tells them apart the same way); otherwise an object whose text is `#text`;
//! - children with the same name are grouped into one array at the first one's place;
//!   `always-array-child-elements` makes every child element an array, even a single one;
//! - whitespace-only text is dropped (Json.NET loads without preserving whitespace);
//!   CDATA is text; comments and processing instructions are dropped;
//! - DTDs are refused, so no entity is ever expanded or fetched (XXE-safe); nesting is
//!   bounded by [`MAX_DEPTH`].
//!
//! Output is compact JSON; strings are escaped as serde_json does (`"`, `\` and control
//! characters), like Json.NET's default.

use std::collections::HashMap;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use roxmltree::{Document, Node, NodeType, ParsingOptions};

use super::{MAX_DEPTH, TransformError, XmlToJson, XmlToJsonKind};

/// Converts an XML body to JSON as APIM's `xml-to-json` does.
pub fn xml_to_json(xml: &str, opts: &XmlToJson) -> Result<String, TransformError> {
    xml_to_json_within(xml, opts, usize::MAX)
}

/// [`xml_to_json`] producing at most `max` bytes: the JSON is written with a check as it grows
/// (names, quotes and escapes make it larger than the XML it comes from).
pub fn xml_to_json_within(
    xml: &str,
    opts: &XmlToJson,
    max: usize,
) -> Result<String, TransformError> {
    let xml = xml.strip_prefix('\u{FEFF}').unwrap_or(xml);
    let options = ParsingOptions {
        // Refusing DTDs refuses entity declarations with them: only the five predefined
        // entities and character references are ever resolved.
        allow_dtd: false,
        ..ParsingOptions::default()
    };
    if !namespace_work_within_limit(xml) {
        return Err(TransformError::Namespaces {
            limit: MAX_NAMESPACE_WORK,
        });
    }
    let doc = Document::parse_with_options(xml, options).map_err(xml_error)?;
    let conv = Conv { xml, opts };
    let mut top: Vec<(String, O)> = Vec::new();
    if opts.kind == XmlToJsonKind::Direct {
        for (k, v) in declaration(xml) {
            top.push((k.to_owned(), O::Str(v.to_owned())));
        }
    }
    let root = doc.root_element();
    top.push((conv.name(root), conv.value(root, 1)?));
    let mut out = String::new();
    write(&O::Obj(top), &mut out, max)?;
    Ok(out)
}

/// The most bookkeeping a body may need, counted as the sum over its elements of the
/// namespace declarations in scope plus the square of the element's own attribute count.
/// roxmltree gives every element its own copy of the namespaces in scope and checks an
/// element's attributes pairwise, so thousands of declarations on the root times thousands
/// of elements, or thousands of attributes on one element, would cost seconds of CPU for a
/// few hundred kilobytes.
const MAX_NAMESPACE_WORK: u64 = 20_000_000;

/// A quick streaming pass that measures that work before roxmltree parses. Malformed input
/// passes here and is reported by roxmltree with its position.
fn namespace_work_within_limit(xml: &str) -> bool {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<u64> = Vec::new();
    let (mut in_scope, mut work) = (0u64, 0u64);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let (own, attrs) = attribute_counts(&e);
                in_scope += own;
                stack.push(own);
                work += in_scope + attrs * attrs;
            }
            Ok(Event::Empty(e)) => {
                let (own, attrs) = attribute_counts(&e);
                work += in_scope + own + attrs * attrs;
            }
            Ok(Event::End(_)) => in_scope = in_scope.saturating_sub(stack.pop().unwrap_or(0)),
            Ok(Event::Eof) | Err(_) => return true,
            Ok(_) => {}
        }
        if work > MAX_NAMESPACE_WORK {
            return false;
        }
    }
}

/// (namespace declarations, all attributes) of a start tag.
fn attribute_counts(e: &BytesStart) -> (u64, u64) {
    let mut attrs = e.attributes();
    attrs.with_checks(false);
    let (mut ns, mut all) = (0u64, 0u64);
    for a in attrs.filter_map(Result::ok) {
        let k = a.key.as_ref();
        if k == "xmlns" || k.starts_with("xmlns:") {
            ns += 1;
        }
        all += 1;
    }
    (ns, all)
}

fn xml_error(e: roxmltree::Error) -> TransformError {
    if matches!(e, roxmltree::Error::DtdDetected) {
        return TransformError::Dtd;
    }
    let pos = e.pos();
    let text = e.to_string();
    // roxmltree appends " at row:col"; the position is reported separately.
    let suffix = format!(" at {pos}");
    let message = text.strip_suffix(&suffix).unwrap_or(&text).to_owned();
    TransformError::Xml {
        line: pos.row,
        column: pos.col,
        message,
    }
}

/// The pseudo-attributes of a leading `<?xml …?>`, in order. roxmltree has already checked
/// the declaration, so this only splits it up.
fn declaration(xml: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let Some(rest) = xml.strip_prefix("<?xml") else {
        return out;
    };
    if !rest.starts_with(|c: char| c.is_ascii_whitespace()) {
        return out;
    }
    let Some(end) = rest.find("?>") else {
        return out;
    };
    let mut s = &rest[..end];
    loop {
        s = s.trim_start();
        let Some(eq) = s.find('=') else {
            break;
        };
        let name = s[..eq].trim();
        let after = s[eq + 1..].trim_start();
        let Some(q) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            break;
        };
        let Some(close) = after[1..].find(q) else {
            break;
        };
        out.push((name, &after[1..1 + close]));
        s = &after[close + 2..];
    }
    out
}

/// A JSON value with properties in document order.
enum O {
    Null,
    Str(String),
    Arr(Vec<O>),
    Obj(Vec<(String, O)>),
}

struct Conv<'a> {
    xml: &'a str,
    opts: &'a XmlToJson,
}

impl Conv<'_> {
    /// The element's qualified name as written (roxmltree resolves prefixes away), with `:`
    /// turned into `$`.
    fn name(&self, n: Node) -> String {
        let start = n.range().start + 1;
        let raw: &str = self.xml.get(start..).unwrap_or("");
        let end = raw
            .find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
            .unwrap_or(raw.len());
        raw[..end].replace(':', "$")
    }

    fn value(&self, n: Node, depth: usize) -> Result<O, TransformError> {
        if depth > MAX_DEPTH {
            return Err(TransformError::TooDeep { limit: MAX_DEPTH });
        }
        let mut props: Vec<(String, O)> = Vec::new();
        if self.opts.kind == XmlToJsonKind::Direct {
            self.namespace_declarations(n, &mut props);
        }
        for a in n.attributes() {
            let qname = self.xml.get(a.range_qname()).unwrap_or(a.name());
            props.push((
                format!("@{}", qname.replace(':', "$")),
                O::Str(a.value().to_owned()),
            ));
        }
        let n_attrs = props.len();

        // Children grouped by name, in first-occurrence order.
        let mut groups: Vec<(String, bool, Vec<O>)> = Vec::new();
        // Name → index in `groups`, so many distinct names stay linear.
        let mut index: HashMap<String, usize> = HashMap::new();
        for c in n.children() {
            let (key, is_element, v) = match c.node_type() {
                NodeType::Element => (self.name(c), true, self.value(c, depth + 1)?),
                NodeType::Text => {
                    let t = c.text().unwrap_or("");
                    if t.chars().all(|ch| ch.is_ascii_whitespace()) {
                        continue;
                    }
                    ("#text".to_owned(), false, O::Str(t.to_owned()))
                }
                _ => continue,
            };
            match index.get(&key).and_then(|&i| groups.get_mut(i)) {
                Some((_, _, items)) => items.push(v),
                None => {
                    index.insert(key.clone(), groups.len());
                    groups.push((key, is_element, vec![v]));
                }
            }
        }

        if n_attrs == 0 && groups.is_empty() {
            let self_closing = self.xml.get(n.range()).is_some_and(|s| s.ends_with("/>"));
            return Ok(if self_closing {
                O::Null
            } else {
                O::Str(String::new())
            });
        }
        // Text alone: the element is its string.
        if n_attrs == 0
            && groups.len() == 1
            && !groups[0].1
            && groups[0].2.len() == 1
            && let Some((_, _, mut items)) = groups.pop()
            && let Some(text) = items.pop()
        {
            return Ok(text);
        }
        for (key, is_element, mut items) in groups {
            let forced = is_element && self.opts.always_array_child_elements;
            let v = if items.len() == 1 && !forced {
                items.pop().unwrap_or(O::Null)
            } else {
                O::Arr(items)
            };
            props.push((key, v));
        }
        Ok(O::Obj(props))
    }

    /// Namespaces declared on this element, in source order. roxmltree keeps them apart
    /// from attributes and only exposes the namespaces in scope, so the start tag is read
    /// again for their names (roxmltree has checked it) and roxmltree resolves the URIs.
    fn namespace_declarations(&self, n: Node, props: &mut Vec<(String, O)>) {
        let tag = self.xml.get(n.range()).unwrap_or("");
        let mut s = tag.get(1..).unwrap_or("");
        let name_end = s
            .find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
            .unwrap_or(s.len());
        s = &s[name_end..];
        let mut scope: Option<HashMap<Option<&str>, &str>> = None;
        loop {
            s = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
            // `n.range()` spans the whole element: stop at the end of the start tag.
            if s.starts_with('>') || s.starts_with('/') {
                break;
            }
            let Some(eq) = s.find('=') else {
                break;
            };
            let name = s[..eq].trim_end();
            let after = s[eq + 1..].trim_start_matches(|c: char| c.is_ascii_whitespace());
            let Some(q) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                break;
            };
            let Some(close) = after[1..].find(q) else {
                break;
            };
            s = &after[close + 2..];
            let (key, prefix) = if name == "xmlns" {
                ("@xmlns".to_owned(), None)
            } else if let Some(p) = name.strip_prefix("xmlns:") {
                (format!("@xmlns${p}"), Some(p))
            } else {
                continue;
            };
            // One map per declaring element: a lookup per declaration would scan the scope
            // each time, quadratic for an element with thousands of declarations.
            let uris = scope.get_or_insert_with(|| {
                n.namespaces()
                    .map(|ns| (ns.name(), ns.uri()))
                    .collect::<HashMap<_, _>>()
            });
            let uri = uris.get(&prefix).copied().unwrap_or("");
            props.push((key, O::Str(uri.to_owned())));
        }
    }
}

fn write(v: &O, out: &mut String, max: usize) -> Result<(), TransformError> {
    // Checked per value: what one value adds before the check is bounded by its own text.
    if out.len() > max {
        return Err(TransformError::TooLarge { limit: max });
    }
    match v {
        O::Null => out.push_str("null"),
        O::Str(s) => write_str(s, out),
        O::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out, max)?;
            }
            out.push(']');
        }
        O::Obj(props) => {
            out.push('{');
            for (i, (k, item)) in props.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(k, out);
                out.push(':');
                write(item, out, max)?;
            }
            out.push('}');
        }
    }
    if out.len() > max {
        return Err(TransformError::TooLarge { limit: max });
    }
    Ok(())
}

fn write_str(s: &str, out: &mut String) {
    // Serializing a &str to JSON cannot fail; the fallback keeps the output valid anyway.
    match serde_json::to_string(s) {
        Ok(q) => out.push_str(&q),
        Err(_) => out.push_str("\"\""),
    }
}

#[cfg(test)]
mod tests {
    use super::declaration;

    #[test]
    fn splits_the_declaration() {
        assert_eq!(
            declaration(r#"<?xml version="1.0" encoding='utf-8' standalone="yes"?><a/>"#),
            vec![
                ("version", "1.0"),
                ("encoding", "utf-8"),
                ("standalone", "yes")
            ]
        );
        assert!(declaration("<a/>").is_empty());
        assert!(declaration("<?xml-stylesheet href='x'?><a/>").is_empty());
    }
}
