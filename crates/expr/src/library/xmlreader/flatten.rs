//! The document under an `XmlReader`, flattened into the nodes the reader steps through
//! (crates/expr/src/library/xmlreader.rs): roxmltree's tree in document order, an element's
//! end tag a node of its own, the XML declaration (which roxmltree does not keep) read from
//! the text.

use super::*;
use crate::io::ReaderSettings;
use crate::xml::MAX_XML_DEPTH;

/// Flattens the document into reader nodes, in document order.
pub(super) fn flatten(
    it: &mut Interp,
    text: &str,
    settings: &ReaderSettings,
    at: usize,
) -> F<Vec<ReaderNode>> {
    it.charge(budget::xml_parse_cost(text), at)?;
    let doc = roxmltree::Document::parse(text).map_err(|e| {
        // A DTD is what DtdProcessing decides on: refused by default (Prohibit), as here;
        // skipping it (Ignore) or processing it (Parse) is not implemented.
        if matches!(e, roxmltree::Error::DtdDetected) && settings.dtd_processing != "Prohibit" {
            rt(
                "NotSupportedException",
                format!(
                    "DtdProcessing.{} is not supported for a document with a DTD",
                    settings.dtd_processing
                ),
                at,
            )
        } else {
            rt("XmlException", e.to_string(), at)
        }
    })?;
    let mut out = Vec::new();
    let body = text.trim_start_matches('\u{feff}');
    if let Some(decl) = body.strip_prefix("<?xml")
        && decl.starts_with(|c: char| c.is_ascii_whitespace())
        && let Some(end) = decl.find("?>")
    {
        let start = text.len() - body.len() + 2;
        let mut node = plain("XmlDeclaration", "xml", decl[..end].trim(), 0, start);
        node.attributes = pseudo_attributes(
            &node.value,
            start + 4 + decl[..end].len() - decl[..end].trim_start().len(),
        );
        out.push(node);
    }
    let mut ordinal = 0usize;
    for c in doc.root().children() {
        walk(
            Walk { text, settings, at },
            c,
            0,
            None,
            &mut ordinal,
            &mut out,
        )?;
    }
    Ok(out)
}

/// The declaration's `version="1.0" encoding='utf-8'`, which .NET's reader lists as
/// attributes (roxmltree has already checked its syntax); `offset` is where `decl` starts.
fn pseudo_attributes(decl: &str, offset: usize) -> Vec<ReaderAttr> {
    scan_attributes(decl)
        .into_iter()
        .map(|(name, at, quote, value)| ReaderAttr {
            local: name.to_string(),
            name: name.to_string(),
            namespace: String::new(),
            value: value.to_string(),
            quote,
            offset: offset + at,
        })
        .collect()
}

/// The attributes written in a start tag (the text after its name): each name, its offset
/// in `tag`, its quote character and its raw value, in document order (what .NET's reader
/// lists, and roxmltree does not keep for namespace declarations).
fn scan_attributes(tag: &str) -> Vec<(&str, usize, char, &str)> {
    let mut out = Vec::new();
    let mut i = 0;
    let b = tag.as_bytes();
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() || matches!(b[i], b'/' | b'>' | b'?') {
            break;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' {
            i += 1;
        }
        let name = &tag[start..i];
        while i < b.len() && b[i] != b'\'' && b[i] != b'"' {
            i += 1;
        }
        let Some(&q) = b.get(i) else { break };
        let Some(len) = tag[i + 1..].find(q as char) else {
            break;
        };
        out.push((name, start, q as char, &tag[i + 1..i + 1 + len]));
        i += len + 2;
    }
    out
}

const XMLNS: &str = "http://www.w3.org/2000/xmlns/";
const XML: &str = "http://www.w3.org/XML/1998/namespace";

/// An element's attributes as the reader lists them: in document order, namespace
/// declarations included, values as roxmltree normalised them.
fn attributes_of(n: roxmltree::Node, text: &str) -> Vec<ReaderAttr> {
    let range = n.range();
    let tag_start = range.start + 1 + qname_len(text, range.start + 1);
    let tag = text.get(tag_start..range.end).unwrap_or_default();
    let mut out = Vec::new();
    for (name, at, quote, raw) in scan_attributes(tag) {
        let (prefix, local) = name.split_once(':').unwrap_or(("", name));
        let (local, namespace, value) = if name == "xmlns" || prefix == "xmlns" {
            let wanted = (prefix == "xmlns").then_some(local);
            let uri = n
                .namespaces()
                .find(|ns| ns.name() == wanted)
                .map_or(raw, |ns| ns.uri());
            (local, XMLNS.to_string(), uri.to_string())
        } else {
            let ns = match prefix {
                "" => None,
                "xml" => Some(XML.to_string()),
                p => n
                    .namespaces()
                    .find(|x| x.name() == Some(p))
                    .map(|x| x.uri().to_string()),
            };
            let value = n
                .attributes()
                .find(|a| a.name() == local && a.namespace().map(str::to_string) == ns)
                .map_or(raw, |a| a.value());
            (local, ns.unwrap_or_default(), value.to_string())
        };
        out.push(ReaderAttr {
            name: name.to_string(),
            local: local.to_string(),
            namespace,
            value,
            quote,
            offset: tag_start + at,
        });
    }
    out
}

/// The length of the name written at `at`.
fn qname_len(text: &str, at: usize) -> usize {
    text.get(at..).map_or(0, |t| {
        t.find(|c: char| c.is_ascii_whitespace() || matches!(c, '/' | '>'))
            .unwrap_or(t.len())
    })
}

fn plain(kind: &'static str, name: &str, value: &str, depth: i64, offset: usize) -> ReaderNode {
    ReaderNode {
        kind,
        name: name.to_string(),
        local: name.to_string(),
        namespace: String::new(),
        value: value.to_string(),
        depth,
        empty: false,
        attributes: Vec::new(),
        ordinal: 0,
        end: 0,
        offset,
        parent: None,
    }
}

/// What every step of [`walk`] needs.
#[derive(Clone, Copy)]
struct Walk<'a> {
    text: &'a str,
    settings: &'a ReaderSettings,
    at: usize,
}

/// Whether whitespace under `n` is significant: an `xml:space="preserve"` in scope.
fn preserves_space(n: roxmltree::Node) -> bool {
    n.ancestors()
        .filter(|a| a.is_element())
        .find_map(|a| a.attribute(("http://www.w3.org/XML/1998/namespace", "space")))
        == Some("preserve")
}

fn walk(
    w: Walk,
    n: roxmltree::Node,
    depth: usize,
    parent: Option<usize>,
    ordinal: &mut usize,
    out: &mut Vec<ReaderNode>,
) -> F<()> {
    let Walk { text, settings, at } = w;
    if depth > MAX_XML_DEPTH {
        return Err(rt(
            "XmlException",
            format!("The XML is nested deeper than {MAX_XML_DEPTH} levels."),
            at,
        ));
    }
    let d = depth as i64;
    if n.is_text() {
        let t = n.text().unwrap_or_default();
        let kind = if !t.chars().all(|c| matches!(c, ' ' | '\t' | '\r' | '\n')) {
            "Text"
        } else if preserves_space(n) {
            "SignificantWhitespace"
        } else {
            "Whitespace"
        };
        if kind == "Whitespace" && settings.ignore_whitespace {
            return Ok(());
        }
        let mut node = plain(kind, "", t, d, n.range().start);
        node.parent = parent;
        out.push(node);
        return Ok(());
    }
    if n.is_comment() {
        if settings.ignore_comments {
            return Ok(());
        }
        let mut node = plain(
            "Comment",
            "",
            n.text().unwrap_or_default(),
            d,
            n.range().start + 4,
        );
        node.parent = parent;
        out.push(node);
        return Ok(());
    }
    if let Some(pi) = n.pi() {
        if settings.ignore_pis {
            return Ok(());
        }
        let mut node = plain(
            "ProcessingInstruction",
            pi.target,
            pi.value.unwrap_or_default(),
            d,
            n.range().start + 2,
        );
        node.parent = parent;
        out.push(node);
        return Ok(());
    }
    if !n.is_element() {
        return Ok(());
    }
    let tag = n.tag_name();
    let prefix = tag
        .namespace()
        .and_then(|u| n.lookup_prefix(u))
        .filter(|p| !p.is_empty());
    let name = match prefix {
        Some(p) => format!("{p}:{}", tag.name()),
        None => tag.name().to_string(),
    };
    let attributes = attributes_of(n, text);
    // `<a/>` has no end tag; `<a></a>` has one (and is not IsEmptyElement), as in .NET.
    let empty = !n.has_children() && text.get(n.range()).is_some_and(|s| s.ends_with("/>"));
    let index = out.len();
    out.push(ReaderNode {
        kind: "Element",
        name: name.clone(),
        local: tag.name().to_string(),
        namespace: tag.namespace().unwrap_or_default().to_string(),
        value: String::new(),
        depth: d,
        empty,
        attributes,
        ordinal: *ordinal,
        end: index,
        offset: n.range().start + 1,
        parent,
    });
    *ordinal += 1;
    if empty {
        return Ok(());
    }
    for c in n.children() {
        walk(w, c, depth + 1, Some(index), ordinal, out)?;
    }
    let close = text
        .get(..n.range().end)
        .and_then(|t| t.rfind("</"))
        .map_or(n.range().end, |p| p + 2);
    let mut end = plain("EndElement", &name, "", d, close);
    end.local = tag.name().to_string();
    end.namespace = tag.namespace().unwrap_or_default().to_string();
    end.end = index;
    end.parent = parent;
    out.push(end);
    let last = out.len() - 1;
    out[index].end = last;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn decl() {
        let decl = " version='1.0'?><a/>";
        let end = decl.find("?>").unwrap_or(0);
        assert_eq!(super::pseudo_attributes(decl[..end].trim(), 0).len(), 1);
        let a = super::scan_attributes(" x='1' p:y = \"a'b\" />");
        assert_eq!(a, vec![("x", 1, '\'', "1"), ("p:y", 7, '"', "a'b")]);
    }
}
