//! From source text to the typed tree: pre-pass, roxmltree, then a walk that checks every
//! element against the policy table, decodes expressions and substitutes named values.

use std::collections::BTreeSet;

use super::prepass::{self, CLOSE, OPEN, Prepassed};
use super::schema::{self, Content, Spec, Support, Ty};
use super::{
    Document, ErrorKind, Fragment, NamedValues, Node, PolicyDocument, PolicyElement, PolicyError,
    Section, Value, check_expression,
};

/// Everything a load learns, including what `policy check` reports besides errors.
pub(crate) struct Outcome {
    pub document: Option<Document>,
    pub errors: Vec<PolicyError>,
    pub policies_used: BTreeSet<String>,
    pub unsupported: Vec<String>,
}

/// Loads a `<policies>` or `<fragment>` document. `named_values: None` leaves `{{name}}`
/// untouched (what `policy check` does: it has no store); with a map every name must resolve.
pub fn parse_document(
    file: &str,
    source: &str,
    named_values: Option<&NamedValues>,
) -> Result<Document, Vec<PolicyError>> {
    let out = load(file, source, named_values);
    match out.document {
        Some(d) if out.errors.is_empty() => Ok(d),
        _ => Err(out.errors),
    }
}

/// Loads a document that must be `<policies>`.
pub fn parse_policies(
    file: &str,
    source: &str,
    named_values: Option<&NamedValues>,
) -> Result<PolicyDocument, Vec<PolicyError>> {
    match parse_document(file, source, named_values)? {
        Document::Policies(p) => Ok(p),
        Document::Fragment(_) => Err(vec![root_error(
            file,
            "expected <policies>, found <fragment>",
        )]),
    }
}

/// Loads a document that must be `<fragment>`.
pub fn parse_fragment(
    file: &str,
    source: &str,
    named_values: Option<&NamedValues>,
) -> Result<Fragment, Vec<PolicyError>> {
    match parse_document(file, source, named_values)? {
        Document::Fragment(f) => Ok(f),
        Document::Policies(_) => Err(vec![root_error(
            file,
            "expected <fragment>, found <policies>",
        )]),
    }
}

fn root_error(file: &str, message: &str) -> PolicyError {
    PolicyError {
        file: file.into(),
        line: 1,
        column: 1,
        kind: ErrorKind::Syntax,
        policy: None,
        element_path: String::new(),
        message: message.into(),
    }
}

pub(crate) fn load(file: &str, source: &str, named: Option<&NamedValues>) -> Outcome {
    let mut out = Outcome {
        document: None,
        errors: Vec::new(),
        policies_used: BTreeSet::new(),
        unsupported: Vec::new(),
    };
    let pre = match prepass::prepass(source) {
        Ok(p) => p,
        Err(e) => {
            let (line, column) = prepass::line_col(source, e.offset);
            let (kind, message) = match e.message.strip_prefix("expression: ") {
                Some(m) => (ErrorKind::Expression, m.to_string()),
                None => (ErrorKind::Syntax, e.message),
            };
            out.errors.push(PolicyError {
                file: file.into(),
                line,
                column,
                kind,
                policy: None,
                element_path: String::new(),
                message,
            });
            return out;
        }
    };
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        ..Default::default()
    };
    let xml = match roxmltree::Document::parse_with_options(&pre.text, opts) {
        Ok(d) => d,
        Err(e) => {
            let pos = e.pos();
            let off = prepass::offset_of(&pre.text, pos.row, pos.col);
            let (line, column) = prepass::line_col(source, pre.original_offset(off));
            // roxmltree names ROW:COL of the rewritten text; name the original's instead.
            let msg = e.to_string().replace(
                &format!("{}:{}", pos.row, pos.col),
                &format!("{line}:{column}"),
            );
            out.errors.push(PolicyError {
                file: file.into(),
                line,
                column,
                kind: ErrorKind::Syntax,
                policy: None,
                element_path: String::new(),
                message: msg,
            });
            return out;
        }
    };
    let mut l = Loader {
        file,
        src: source,
        pre: &pre,
        named,
        out: &mut out,
    };
    let doc = l.document(xml.root_element());
    if let Some(doc) = doc {
        out.document = Some(doc);
    }
    out
}

struct Loader<'a> {
    file: &'a str,
    src: &'a str,
    pre: &'a Prepassed,
    named: Option<&'a NamedValues>,
    out: &'a mut Outcome,
}

impl Loader<'_> {
    fn pos(&self, rewritten: usize) -> (u32, u32) {
        prepass::line_col(self.src, self.pre.original_offset(rewritten))
    }

    fn error(
        &mut self,
        at: (u32, u32),
        kind: ErrorKind,
        policy: Option<&str>,
        path: &str,
        message: String,
    ) {
        let message = self.redact(message);
        self.out.errors.push(PolicyError {
            file: self.file.into(),
            line: at.0,
            column: at.1,
            kind,
            policy: policy.map(str::to_string),
            element_path: path.into(),
            message,
        });
    }

    /// Belt and braces: no message may carry a secret's value, whatever produced it. The value
    /// is shown as the `{{name}}` it was written as, so the author can still find the spot.
    fn redact(&self, message: String) -> String {
        match self.named {
            Some(named) => crate::document::redact_named(message, named),
            None => message,
        }
    }

    fn document(&mut self, root: roxmltree::Node) -> Option<Document> {
        let name = root.tag_name().name();
        let at = self.pos(root.range().start);
        match name {
            "policies" => {
                let mut doc = PolicyDocument {
                    file: self.file.into(),
                    ..Default::default()
                };
                let mut seen: Vec<Section> = Vec::new();
                for child in root.children() {
                    if child.is_text() {
                        self.no_text(child, "policies", "policies");
                        continue;
                    }
                    if !child.is_element() {
                        continue;
                    }
                    let cname = child.tag_name().name();
                    let cat = self.pos(child.range().start);
                    let Some(section) = Section::ALL.into_iter().find(|s| s.name() == cname) else {
                        self.error(cat, ErrorKind::Syntax, None, "policies",
                            format!("unknown section <{cname}> (expected inbound, backend, outbound, on-error)"));
                        continue;
                    };
                    if seen.contains(&section) {
                        self.error(
                            cat,
                            ErrorKind::Syntax,
                            None,
                            "policies",
                            format!("section <{cname}> appears more than once"),
                        );
                        continue;
                    }
                    seen.push(section);
                    let path = format!("policies/{cname}");
                    self.no_attributes(child, &path);
                    let elements = self.policy_list(child, &path, true);
                    *doc.section_mut(section) = elements;
                }
                for s in Section::ALL {
                    if !seen.contains(&s) {
                        doc.section_mut(s).push(PolicyElement {
                            name: "base".into(),
                            attributes: Vec::new(),
                            children: Vec::new(),
                            position: at,
                            path: format!("policies/{}/base", s.name()),
                        });
                    }
                }
                Some(Document::Policies(doc))
            }
            "fragment" => {
                self.no_attributes(root, "fragment");
                let elements = self.policy_list(root, "fragment", false);
                Some(Document::Fragment(Fragment {
                    file: self.file.into(),
                    elements,
                }))
            }
            other => {
                self.error(
                    at,
                    ErrorKind::Syntax,
                    None,
                    "",
                    format!("root element must be <policies> or <fragment>, found <{other}>"),
                );
                None
            }
        }
    }

    fn no_attributes(&mut self, node: roxmltree::Node, path: &str) {
        for a in node.attributes() {
            let at = self.pos(a.range().start);
            self.error(
                at,
                ErrorKind::Attribute,
                None,
                path,
                format!(
                    "<{}> takes no attribute '{}'",
                    node.tag_name().name(),
                    a.name()
                ),
            );
        }
    }

    fn no_text(&mut self, text: roxmltree::Node, parent: &str, path: &str) {
        if text.text().is_some_and(|t| !t.trim().is_empty()) {
            let at = self.pos(text.range().start);
            self.error(
                at,
                ErrorKind::Syntax,
                None,
                path,
                format!("unexpected text in <{parent}>"),
            );
        }
    }

    /// The children of a section, fragment or policy container: policies only. `<base/>` is
    /// allowed (once) only directly in a section.
    fn policy_list(
        &mut self,
        parent: roxmltree::Node,
        path: &str,
        section: bool,
    ) -> Vec<PolicyElement> {
        let pname = parent.tag_name().name().to_string();
        let mut result = Vec::new();
        let mut bases = 0;
        let names: Vec<&str> = parent
            .children()
            .filter(|c| c.is_element())
            .map(|c| c.tag_name().name())
            .collect();
        let mut counts = std::collections::HashMap::<&str, usize>::new();
        for child in parent.children() {
            if child.is_text() {
                self.no_text(child, &pname, path);
                continue;
            }
            if !child.is_element() {
                continue;
            }
            let name = child.tag_name().name();
            let cpath = child_path(path, name, &names, &mut counts);
            let at = self.pos(child.range().start);
            if name == "base" {
                if !section {
                    self.error(
                        at,
                        ErrorKind::Syntax,
                        Some("base"),
                        &cpath,
                        "<base/> is allowed only directly inside a section".into(),
                    );
                    continue;
                }
                bases += 1;
                if bases == 2 {
                    self.error(
                        at,
                        ErrorKind::Syntax,
                        Some("base"),
                        &cpath,
                        format!("more than one <base/> in <{pname}>"),
                    );
                }
            }
            match self.lookup_policy(name, at, &cpath) {
                Some(spec) => {
                    if let Some(e) = self.element(child, spec, cpath) {
                        result.push(e);
                    }
                }
                None => continue,
            }
        }
        result
    }

    fn lookup_policy(&mut self, name: &str, at: (u32, u32), path: &str) -> Option<&'static Spec> {
        if let Some(spec) = schema::policy(name) {
            return Some(spec);
        }
        if schema::azure_only_family(name) {
            self.out.policies_used.insert(name.into());
            self.out.unsupported.push(name.into());
            self.error(
                at,
                ErrorKind::Unsupported,
                Some(name),
                path,
                format!("policy '{name}' is Azure-only; gatehouse cannot run it"),
            );
        } else {
            self.error(
                at,
                ErrorKind::Syntax,
                Some(name),
                path,
                format!("unknown policy <{name}>"),
            );
        }
        None
    }

    fn element(
        &mut self,
        node: roxmltree::Node,
        spec: &'static Spec,
        path: String,
    ) -> Option<PolicyElement> {
        let name = spec.name;
        let at = self.pos(node.range().start);
        let is_policy = schema::policy(name).is_some_and(|p| std::ptr::eq(p, spec));
        if is_policy {
            self.out.policies_used.insert(name.into());
        }
        match spec.support {
            Support::Yes => {}
            Support::AzureOnly | Support::NotYet => {
                self.out.unsupported.push(name.into());
                let why = if spec.support == Support::AzureOnly {
                    "is Azure-only; gatehouse cannot run it"
                } else {
                    "is not supported by gatehouse yet"
                };
                self.error(
                    at,
                    ErrorKind::Unsupported,
                    Some(name),
                    &path,
                    format!("policy '{name}' {why}"),
                );
                return None;
            }
        }
        let liquid = name == "set-body"
            && node
                .attribute("template")
                .is_some_and(|t| t.trim() == "liquid");
        let mut attributes = Vec::new();
        for a in node.attributes() {
            let aat = self.pos(a.range().start);
            let ty = spec
                .required
                .iter()
                .chain(spec.optional)
                .find(|(n, _)| *n == a.name())
                .map(|(_, t)| *t);
            let Some(ty) = ty else {
                self.error(
                    aat,
                    ErrorKind::Attribute,
                    Some(name),
                    &path,
                    format!("unknown attribute '{}' on <{name}>", a.name()),
                );
                continue;
            };
            let value = self.attr_value(a.value(), aat, name, &path, a.name(), liquid);
            if let Some(Value::Literal { text, .. }) = &value
                && !text.contains("{{")
                && let Err(m) = check_type(ty, text)
            {
                self.error(
                    aat,
                    ErrorKind::Attribute,
                    Some(name),
                    &path,
                    format!("attribute '{}' of <{name}> {m}", a.name()),
                );
            }
            if let Some(v) = value {
                attributes.push((a.name().to_string(), v));
            }
        }
        for (req, _) in spec.required {
            if node.attribute(*req).is_none() {
                self.error(
                    at,
                    ErrorKind::Attribute,
                    Some(name),
                    &path,
                    format!("<{name}> requires attribute '{req}'"),
                );
            }
        }
        if !spec.one_of.is_empty() && !spec.one_of.iter().any(|a| node.attribute(*a).is_some()) {
            self.error(
                at,
                ErrorKind::Attribute,
                Some(name),
                &path,
                format!(
                    "<{name}> requires one of the attributes {}",
                    spec.one_of.join(", ")
                ),
            );
        }
        let children = match spec.content {
            Content::Empty => {
                for c in node.children() {
                    if c.is_element() {
                        let cat = self.pos(c.range().start);
                        self.error(
                            cat,
                            ErrorKind::Syntax,
                            Some(name),
                            &path,
                            format!(
                                "<{name}> takes no child elements, found <{}>",
                                c.tag_name().name()
                            ),
                        );
                    } else if c.is_text() {
                        self.no_text(c, name, &path);
                    }
                }
                Vec::new()
            }
            Content::Policies => self
                .policy_list(node, &path, false)
                .into_iter()
                .map(Node::Element)
                .collect(),
            Content::Text => self.mixed(node, spec, &path, false, false),
            Content::Children(_) => self.mixed(node, spec, &path, true, false),
            Content::TextOrChildren(_) => self.mixed(node, spec, &path, false, false),
            Content::Any => self.mixed(node, spec, &path, false, liquid),
        };
        Some(PolicyElement {
            name: name.into(),
            attributes,
            children,
            position: at,
            path,
        })
    }

    /// Children of a text-bearing or sub-element-bearing element.
    fn mixed(
        &mut self,
        node: roxmltree::Node,
        spec: &'static Spec,
        path: &str,
        elements_only: bool,
        liquid: bool,
    ) -> Vec<Node> {
        let name = spec.name;
        let names: Vec<&str> = node
            .children()
            .filter(|c| c.is_element())
            .map(|c| c.tag_name().name())
            .collect();
        let mut counts = std::collections::HashMap::<&str, usize>::new();
        let mut out = Vec::new();
        for c in node.children() {
            if c.is_text() {
                if elements_only {
                    self.no_text(c, name, path);
                    continue;
                }
                let at = self.pos(c.range().start);
                out.extend(
                    self.text_value(c.text().unwrap_or(""), at, Some(name), path, liquid)
                        .into_iter()
                        .map(Node::Text),
                );
            } else if c.is_element() {
                let cname = c.tag_name().name();
                let cpath = child_path(path, cname, &names, &mut counts);
                let cat = self.pos(c.range().start);
                if matches!(spec.content, Content::Any) {
                    out.push(Node::Element(self.generic(c, cpath, liquid)));
                    continue;
                }
                match schema::child(spec, cname) {
                    Some(cs) => {
                        if let Some(e) = self.element(c, cs, cpath) {
                            out.push(Node::Element(e));
                        }
                    }
                    None if matches!(spec.content, Content::Text) => {
                        self.error(
                            cat,
                            ErrorKind::Syntax,
                            Some(name),
                            &cpath,
                            format!("<{name}> takes text only, found <{cname}>"),
                        );
                    }
                    None => {
                        self.error(
                            cat,
                            ErrorKind::Syntax,
                            Some(name),
                            &cpath,
                            format!("unexpected element <{cname}> in <{name}>"),
                        );
                    }
                }
            }
        }
        let keep_ws = !out
            .iter()
            .any(|n| matches!(n, Node::Element(_) | Node::Text(Value::Expression { .. })));
        if !keep_ws {
            out.retain(
                |n| !matches!(n, Node::Text(Value::Literal { text, .. }) if text.trim().is_empty()),
            );
        }
        out
    }

    /// Elements of a template body (`set-body`): kept as they are, without the policy table.
    fn generic(&mut self, node: roxmltree::Node, path: String, liquid: bool) -> PolicyElement {
        let at = self.pos(node.range().start);
        let mut attributes = Vec::new();
        for a in node.attributes() {
            let aat = self.pos(a.range().start);
            if let Some(v) = self.attr_value(a.value(), aat, "set-body", &path, a.name(), liquid) {
                attributes.push((a.name().to_string(), v));
            }
        }
        let names: Vec<&str> = node
            .children()
            .filter(|c| c.is_element())
            .map(|c| c.tag_name().name())
            .collect();
        let mut counts = std::collections::HashMap::<&str, usize>::new();
        let mut children = Vec::new();
        for c in node.children() {
            if c.is_text() {
                let cat = self.pos(c.range().start);
                children.extend(
                    self.text_value(c.text().unwrap_or(""), cat, Some("set-body"), &path, liquid)
                        .into_iter()
                        .map(Node::Text),
                );
            } else if c.is_element() {
                let cpath = child_path(&path, c.tag_name().name(), &names, &mut counts);
                children.push(Node::Element(self.generic(c, cpath, liquid)));
            }
        }
        PolicyElement {
            name: node.tag_name().name().into(),
            attributes,
            children,
            position: at,
            path,
        }
    }

    /// An attribute value: one literal or one expression (APIM has no mixed attribute values).
    fn attr_value(
        &mut self,
        raw: &str,
        at: (u32, u32),
        policy: &str,
        path: &str,
        attr: &str,
        liquid: bool,
    ) -> Option<Value> {
        let mut parts = self.text_value(raw, at, Some(policy), path, liquid);
        if parts.len() > 1 {
            parts.retain(|v| !matches!(v, Value::Literal { text, .. } if text.trim().is_empty()));
        }
        match parts.len() {
            0 => Some(Value::literal("")),
            1 => parts.pop(),
            _ => {
                self.error(at, ErrorKind::Attribute, Some(policy), path,
                    format!("attribute '{attr}' mixes text and expressions; an expression must be the whole value"));
                None
            }
        }
    }

    /// Splits decoded text at the placeholders into literals and expressions.
    fn text_value(
        &mut self,
        raw: &str,
        at: (u32, u32),
        policy: Option<&str>,
        path: &str,
        liquid: bool,
    ) -> Vec<Value> {
        let mut out = Vec::new();
        let mut rest = raw;
        while let Some(p) = rest.find(OPEN) {
            if p > 0 {
                out.push(self.literal(&rest[..p], at, path, liquid));
            }
            let after = &rest[p + OPEN.len_utf8()..];
            let Some(q) = after.find(CLOSE) else { break };
            let id: Option<usize> = after[..q].parse().ok();
            rest = &after[q + CLOSE.len_utf8()..];
            let Some(span) = id.and_then(|i| self.pre.exprs.get(i)) else {
                continue;
            };
            let position = prepass::line_col(self.src, span.start);
            let decoded = prepass::decode_entities(&span.raw);
            let (source, secret) = self.substitute(&decoded, position, path, false);
            if let Err(mut problem) = check_expression(&source, span.kind) {
                let pos = prepass::line_col(
                    self.src,
                    span.content_start + problem.offset.min(span.raw.len()),
                );
                if secret {
                    // The parser quotes tokens, and a token can be a piece of the secret that
                    // whole-value redaction would not recognise: say where, not what.
                    problem.message = format!(
                        "the expression does not parse; it contains the secret named value(s) {}, so the parser's message (which quotes the text) is withheld",
                        self.secret_names(&decoded)
                    );
                }
                match problem.unsupported {
                    Some(feature) => self.error(
                        pos,
                        ErrorKind::Unsupported,
                        policy,
                        path,
                        format!(
                            "expression uses {feature}, which gatehouse does not support yet: {}",
                            problem.message
                        ),
                    ),
                    None => self.error(pos, ErrorKind::Expression, policy, path, problem.message),
                }
            }
            out.push(Value::Expression {
                kind: span.kind,
                source,
                position,
                secret,
            });
        }
        if !rest.is_empty() {
            out.push(self.literal(rest, at, path, liquid));
        }
        out
    }

    fn literal(&mut self, text: &str, at: (u32, u32), path: &str, liquid: bool) -> Value {
        let (text, secret) = self.substitute(text, at, path, liquid);
        Value::Literal { text, secret }
    }

    /// The `{{name}}`s of the secret named values `text` mentions, for messages.
    fn secret_names(&self, text: &str) -> String {
        let Some(named) = self.named else {
            return String::new();
        };
        let mut names: Vec<&str> = named
            .iter()
            .filter(|(n, nv)| nv.secret && text.contains(&format!("{{{{{n}}}}}")))
            .map(|(n, _)| n.as_str())
            .collect();
        names.sort_unstable();
        names
            .iter()
            .map(|n| format!("{{{{{n}}}}}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Substitutes `{{name}}`. Without a store (policy check) names are left as written. In a
    /// Liquid body `{{ … }}` is Liquid's own syntax: only names the store knows are replaced.
    fn substitute(
        &mut self,
        text: &str,
        at: (u32, u32),
        path: &str,
        liquid: bool,
    ) -> (String, bool) {
        let Some(named) = self.named else {
            return (text.to_string(), false);
        };
        let mut out = String::with_capacity(text.len());
        let mut secret = false;
        let mut rest = text;
        while let Some(p) = rest.find("{{") {
            out.push_str(&rest[..p]);
            let after = &rest[p + 2..];
            let name = after
                .find("}}")
                .map(|e| &after[..e])
                .filter(|n| is_named_value_name(n));
            match name {
                Some(n) => match named.get(n) {
                    Some(nv) => {
                        out.push_str(&nv.value);
                        secret |= nv.secret;
                        rest = &after[n.len() + 2..];
                    }
                    None if liquid => {
                        out.push_str("{{");
                        rest = after;
                    }
                    None => {
                        self.error(
                            at,
                            ErrorKind::Syntax,
                            None,
                            path,
                            format!("unknown named value '{n}'"),
                        );
                        out.push_str("{{");
                        rest = after;
                    }
                },
                None => {
                    out.push_str("{{");
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        (out, secret)
    }
}

/// APIM named value names: letters, digits, `.`, `-`, `_` (so Liquid's `{{ x.y }}` with
/// spaces never looks like one).
fn is_named_value_name(n: &str) -> bool {
    !n.is_empty()
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

fn child_path<'n>(
    parent: &str,
    name: &'n str,
    siblings: &[&str],
    counts: &mut std::collections::HashMap<&'n str, usize>,
) -> String {
    let total = siblings.iter().filter(|s| **s == name).count();
    let n = counts.entry(name).or_insert(0);
    *n += 1;
    if total > 1 {
        format!("{parent}/{name}[{n}]")
    } else {
        format!("{parent}/{name}")
    }
}

fn check_type(ty: Ty, text: &str) -> Result<(), String> {
    let t = text.trim();
    match ty {
        Ty::Str => Ok(()),
        Ty::Int => t
            .parse::<i64>()
            .map(|_| ())
            .map_err(|_| format!("must be an integer, found '{t}'")),
        Ty::Bool => {
            if t.eq_ignore_ascii_case("true") || t.eq_ignore_ascii_case("false") {
                Ok(())
            } else {
                Err(format!("must be true or false, found '{t}'"))
            }
        }
        Ty::Enum(values) => {
            if values.contains(&t) {
                Ok(())
            } else {
                Err(format!("must be one of {}, found '{t}'", values.join(", ")))
            }
        }
    }
}
