//! The writer's work: where the next node goes, what a `Document` writer refuses, printing
//! and handing the output to the target.

use super::*;
use crate::xml::XData;

/// `WriteEndDocument()` with no root element written.
pub(super) fn no_root(at: usize) -> Flow {
    invalid(
        "Token EndDocument in state Document would result in an invalid XML document.",
        at,
    )
}

pub(super) fn invalid(message: impl Into<String>, at: usize) -> Flow {
    rt("InvalidOperationException", message, at)
}

impl XmlWriterState {
    /// Where the next node goes: the innermost open element, or the top level.
    pub(super) fn current(&self) -> XRef {
        self.open
            .last()
            .cloned()
            .unwrap_or_else(|| self.holder.clone())
    }

    pub(super) fn check_open(&self, at: usize) -> F<()> {
        if self.closed {
            return Err(invalid("The Writer is closed or in error state.", at));
        }
        Ok(())
    }

    /// What a `Document` writer refuses at the top level: a second root element, text (`allowed`
    /// is false for a token never allowed there); the declaration it writes before the first.
    pub(super) fn check_top(&mut self, token: &str, allowed: bool, at: usize) -> F<()> {
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
    pub(super) fn add(&self, it: &mut Interp, content: Value, at: usize) -> F<()> {
        let parent = xml::xvalue(self.current());
        match xml_edit(it, &parent, "Add", &[content], at) {
            Some(r) => r.map(|_| ()),
            None => Ok(()),
        }
    }

    /// The output so far: the declaration, then the top-level nodes.
    pub(super) fn render(&self, at: usize) -> F<String> {
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
    pub(super) fn flush(&mut self, it: &mut Interp, at: usize) -> F<()> {
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
    pub(super) fn close(&mut self, it: &mut Interp, at: usize) -> F<()> {
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
    pub(super) fn start_element(
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

    pub(super) fn declared(&self, prefix: &str, ns: &str) -> bool {
        self.open.iter().any(|e| {
            e.attributes().iter().any(|a| {
                matches!(&*a.data(), XData::Attribute { name, value }
                    if name.namespace == XMLNS && name.local == prefix && value == ns)
            })
        })
    }

    pub(super) fn attribute(
        &mut self,
        prefix: &str,
        local: &str,
        ns: &str,
        value: &str,
        at: usize,
    ) -> F<()> {
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
    pub(super) fn declare(&mut self, e: &XRef, prefix: &str, ns: &str) {
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
