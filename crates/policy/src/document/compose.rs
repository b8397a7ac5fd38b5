//! Scope composition exactly as APIM does it: global → product → api → operation. In each
//! section a scope's `<base/>` stands for the parent's composed section, so where it stands
//! decides order; without `<base/>` the parent is cut out. Fragments are expanded in place.

use std::collections::HashMap;

use super::{
    ErrorKind, Fragment, Node, PolicyDocument, PolicyElement, PolicyError, Section, Sections,
};

/// The effective policy of one operation: four sections with no `<base/>` left.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Composed {
    pub sections: Sections,
    /// The scope each top-level element of a section came from (`global`, `product`, `api`,
    /// `operation`), by section in [`Section::ALL`] order, for `context.LastError.Scope`.
    /// Empty for documents composed by hand.
    pub scopes: [Vec<&'static str>; 4],
}

impl Composed {
    /// The scope the `i`-th top-level element of section `s` came from (empty when unknown).
    pub fn scope_of(&self, s: Section, i: usize) -> &'static str {
        self.scopes[section_index(s)].get(i).copied().unwrap_or("")
    }
}

// Like a document, a composition reads as its sections: `composed.inbound`, `section(s)`.
impl std::ops::Deref for Composed {
    type Target = Sections;
    fn deref(&self) -> &Sections {
        &self.sections
    }
}

impl std::ops::DerefMut for Composed {
    fn deref_mut(&mut self) -> &mut Sections {
        &mut self.sections
    }
}

/// Composes the four scopes. A missing scope document behaves as `<base/>` in every section;
/// the global scope's `<base/>` stands for nothing. More than one `<base/>` in a section is
/// an error (the loader refuses it too; this guards documents built by hand).
pub fn compose(
    global: Option<&PolicyDocument>,
    product: Option<&PolicyDocument>,
    api: Option<&PolicyDocument>,
    operation: Option<&PolicyDocument>,
) -> Result<Composed, PolicyError> {
    let mut acc = Composed::default();
    let scoped = [
        ("global", global),
        ("product", product),
        ("api", api),
        ("operation", operation),
    ];
    for (scope, doc) in scoped {
        let Some(doc) = doc else { continue };
        for s in Section::ALL {
            let own = doc.section(s);
            let bases: Vec<&PolicyElement> = own.iter().filter(|e| e.is_base()).collect();
            if let Some(second) = bases.get(1) {
                return Err(PolicyError {
                    file: doc.file.clone(),
                    line: second.position.0,
                    column: second.position.1,
                    kind: ErrorKind::Syntax,
                    policy: Some("base".into()),
                    element_path: second.path.clone(),
                    message: format!("more than one <base/> in <{}>", s.name()),
                });
            }
            let parent = std::mem::take(acc.section_mut(s));
            let parent_scopes = std::mem::take(&mut acc.scopes[section_index(s)]);
            let mut parent = Some((parent, parent_scopes));
            let mut next = Vec::with_capacity(own.len());
            let mut scopes = Vec::with_capacity(own.len());
            for e in own {
                if e.is_base() {
                    if let Some((elements, their_scopes)) = parent.take() {
                        next.extend(elements);
                        scopes.extend(their_scopes);
                    }
                } else {
                    next.push(e.clone());
                    scopes.push(scope);
                }
            }
            *acc.section_mut(s) = next;
            acc.scopes[section_index(s)] = scopes;
        }
    }
    Ok(acc)
}

fn section_index(s: Section) -> usize {
    match s {
        Section::Inbound => 0,
        Section::Backend => 1,
        Section::Outbound => 2,
        Section::OnError => 3,
    }
}

/// Replaces every `<include-fragment fragment-id="x"/>` (at any depth) by fragment x's
/// elements, recursively; a cycle or an unknown id is an error at the include.
pub fn resolve_fragments(
    doc: &PolicyDocument,
    fragments: &HashMap<String, Fragment>,
) -> Result<PolicyDocument, PolicyError> {
    let mut out = doc.clone();
    for s in Section::ALL {
        let mut stack = Vec::new();
        *out.section_mut(s) = expand(&doc.file, doc.section(s), fragments, &mut stack)?;
    }
    Ok(out)
}

fn expand(
    file: &str,
    elements: &[PolicyElement],
    fragments: &HashMap<String, Fragment>,
    stack: &mut Vec<String>,
) -> Result<Vec<PolicyElement>, PolicyError> {
    let mut out = Vec::with_capacity(elements.len());
    for e in elements {
        if e.name != "include-fragment" {
            let mut e = e.clone();
            let mut children = Vec::with_capacity(e.children.len());
            for c in std::mem::take(&mut e.children) {
                match c {
                    Node::Element(child) => {
                        for x in expand(file, std::slice::from_ref(&child), fragments, stack)? {
                            children.push(Node::Element(x));
                        }
                    }
                    t @ Node::Text(_) => children.push(t),
                }
            }
            e.children = children;
            out.push(e);
            continue;
        }
        let err = |message: String| PolicyError {
            file: file.to_string(),
            line: e.position.0,
            column: e.position.1,
            kind: ErrorKind::Syntax,
            policy: Some("include-fragment".into()),
            element_path: e.path.clone(),
            message,
        };
        let Some(id) = e.attr("fragment-id").and_then(|v| v.as_literal()) else {
            return Err(err("include-fragment needs a literal fragment-id".into()));
        };
        if stack.iter().any(|s| s == id) {
            return Err(err(format!(
                "fragment cycle: {} -> {id}",
                stack.join(" -> ")
            )));
        }
        let Some(fragment) = fragments.get(id) else {
            return Err(err(format!("unknown fragment '{id}'")));
        };
        stack.push(id.to_string());
        let inner = expand(&fragment.file, &fragment.elements, fragments, stack);
        stack.pop();
        out.extend(inner?);
    }
    Ok(out)
}
