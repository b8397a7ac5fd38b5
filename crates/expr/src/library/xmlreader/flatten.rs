//! The document under an `XmlReader`, flattened into the nodes the reader steps through
//! (crates/expr/src/library/xmlreader.rs): roxmltree's tree in document order, an element's
//! end tag a node of its own, the XML declaration (which roxmltree does not keep) read from
//! the text.

use super::*;
use crate::xml::MAX_XML_DEPTH;

/// Flattens the document into reader nodes, in document order.
pub(super) fn flatten(it: &mut Interp, text: &str, at: usize) -> F<Vec<ReaderNode>> {
    it.charge(budget::xml_parse_cost(text), at)?;
    let doc =
        roxmltree::Document::parse(text).map_err(|e| rt("XmlException", e.to_string(), at))?;
    let mut out = Vec::new();
    let body = text.trim_start_matches('\u{feff}');
    if let Some(decl) = body.strip_prefix("<?xml")
        && decl.starts_with(|c: char| c.is_ascii_whitespace())
        && let Some(end) = decl.find("?>")
    {
        let mut node = plain("XmlDeclaration", "xml", decl[..end].trim(), 0);
        node.attributes = pseudo_attributes(&node.value);
        out.push(node);
    }
    let mut ordinal = 0usize;
    for c in doc.root().children() {
        walk(c, text, 0, &mut ordinal, &mut out, at)?;
    }
    Ok(out)
}

/// The declaration's `version="1.0" encoding='utf-8'`, which .NET's reader lists as
/// attributes (roxmltree has already checked its syntax).
fn pseudo_attributes(decl: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = decl;
    while let Some((name, after)) = rest.split_once('=') {
        let after = after.trim_start();
        let Some(quote) = after.chars().next().filter(|q| matches!(q, '"' | '\'')) else {
            break;
        };
        let Some((value, tail)) = after[1..].split_once(quote) else {
            break;
        };
        out.push((name.trim().to_string(), value.to_string()));
        rest = tail;
    }
    out
}

fn plain(kind: &'static str, name: &str, value: &str, depth: i64) -> ReaderNode {
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
    }
}

fn walk(
    n: roxmltree::Node,
    text: &str,
    depth: usize,
    ordinal: &mut usize,
    out: &mut Vec<ReaderNode>,
    at: usize,
) -> F<()> {
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
        let kind = if t.chars().all(|c| matches!(c, ' ' | '\t' | '\r' | '\n')) {
            "Whitespace"
        } else {
            "Text"
        };
        out.push(plain(kind, "", t, d));
        return Ok(());
    }
    if n.is_comment() {
        out.push(plain("Comment", "", n.text().unwrap_or_default(), d));
        return Ok(());
    }
    if let Some(pi) = n.pi() {
        out.push(plain(
            "ProcessingInstruction",
            pi.target,
            pi.value.unwrap_or_default(),
            d,
        ));
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
    let mut attributes = Vec::new();
    let parent_ns: Vec<(Option<&str>, &str)> = n
        .parent_element()
        .map(|p| p.namespaces().map(|x| (x.name(), x.uri())).collect())
        .unwrap_or_default();
    for ns in n.namespaces() {
        if parent_ns.contains(&(ns.name(), ns.uri())) || ns.name() == Some("xml") {
            continue;
        }
        let q = ns
            .name()
            .map_or("xmlns".to_string(), |p| format!("xmlns:{p}"));
        attributes.push((q, ns.uri().to_string()));
    }
    for a in n.attributes() {
        let q = match a.namespace().and_then(|u| n.lookup_prefix(u)) {
            Some(p) if !p.is_empty() => format!("{p}:{}", a.name()),
            _ => a.name().to_string(),
        };
        attributes.push((q, a.value().to_string()));
    }
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
    });
    *ordinal += 1;
    if empty {
        return Ok(());
    }
    for c in n.children() {
        walk(c, text, depth + 1, ordinal, out, at)?;
    }
    let mut end = plain("EndElement", &name, "", d);
    end.local = tag.name().to_string();
    end.namespace = tag.namespace().unwrap_or_default().to_string();
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
        assert_eq!(super::pseudo_attributes(decl[..end].trim()).len(), 1);
    }
}
