//! A compile-time scan for members the library does not implement, so that `policy check`
//! reports `char.IsDigit(c)` or `context.Foo` before a request fails on it.
//!
//! It is deliberately conservative: it only judges what is decidable from the text alone —
//! static members of known types (`Convert.X`, `Math.X`), unknown type names in a static
//! position (`IPAddress.Parse`), the fixed shape of `context`, and methods called on string
//! literals. Anything whose type depends on run-time values is left alone, and a name declared
//! anywhere in the program (local, parameter, lambda or pattern variable, local function) is
//! treated as a value everywhere, so a scope subtlety can only hide a finding, never invent one.

use std::collections::BTreeSet;

use super::ast::*;
use super::features as lib;
use super::parser::normalize_type_name;

/// One finding: the byte offset of the expression, and what is not supported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    pub offset: usize,
    pub what: String,
}

pub(crate) fn scan_exprs(exprs: &[&Expr], stmts: &[Stmt]) -> Vec<Finding> {
    let mut declared = BTreeSet::new();
    for e in exprs {
        declare_expr(e, &mut declared);
    }
    for s in stmts {
        declare_stmt(s, &mut declared);
    }
    let mut sc = Scanner {
        declared,
        found: Vec::new(),
    };
    for e in exprs {
        sc.expr(e);
    }
    for s in stmts {
        sc.stmt(s);
    }
    sc.found
}

// ------------------------------------------------------------ declared names

fn declare_stmt(s: &Stmt, d: &mut BTreeSet<String>) {
    // Names only here; the children (bodies, initializers) are visited below, once.
    match &s.kind {
        S::Local { name, .. } => {
            d.insert(name.clone());
        }
        S::Foreach { var, parts, .. } => {
            d.insert(var.clone());
            d.extend(parts.iter().cloned());
        }
        S::LocalFn(def) => declare_lambda(def, d),
        S::Try { catches, .. } => d.extend(catches.iter().filter_map(|c| c.name.clone())),
        S::Deconstruct(names, _) => d.extend(names.iter().cloned()),
        S::Switch(_, sections) => {
            for c in sections.iter().flat_map(|x| x.labels.iter().flatten()) {
                declare_pat(&c.pat, d);
            }
        }
        _ => {}
    }
    let mut children = Vec::new();
    let mut exprs = Vec::new();
    for_each_child_stmt(s, &mut |c| children.push(c), &mut |e| exprs.push(e));
    children.into_iter().for_each(|c| declare_stmt(c, d));
    exprs.into_iter().for_each(|e| declare_expr(e, d));
}

fn declare_lambda(def: &LambdaDef, d: &mut BTreeSet<String>) {
    d.extend(def.params.iter().cloned());
    if let Some(n) = &def.local_fn {
        d.insert(n.clone());
    }
}

fn declare_pat(p: &Pat, d: &mut BTreeSet<String>) {
    match p {
        Pat::Type(_, Some(b)) => {
            d.insert(b.clone());
        }
        Pat::Not(p) => declare_pat(p, d),
        Pat::Props(props, binding) => {
            d.extend(binding.iter().cloned());
            props.iter().for_each(|(_, p)| declare_pat(p, d));
        }
        Pat::And(a, b) | Pat::Or(a, b) => {
            declare_pat(a, d);
            declare_pat(b, d);
        }
        _ => {}
    }
}

fn declare_expr(e: &Expr, d: &mut BTreeSet<String>) {
    match &e.kind {
        E::Is(_, _, Some(b)) => {
            d.insert(b.clone());
        }
        E::Out { name, .. } => {
            d.insert(name.clone());
        }
        E::Lambda(def) => declare_lambda(def, d),
        E::Switch(_, arms) => {
            for (c, _) in arms {
                declare_pat(&c.pat, d);
            }
        }
        _ => {}
    }
    let mut children = Vec::new();
    let mut stmts = Vec::new();
    for_each_child_expr(e, &mut |c| children.push(c), &mut |s| stmts.push(s));
    children.into_iter().for_each(|c| declare_expr(c, d));
    stmts.into_iter().for_each(|s| declare_stmt(s, d));
}

// ------------------------------------------------------------ traversal

/// Calls `fe` on each direct sub-expression and `fs` on each direct sub-statement of `e`.
fn for_each_child_expr<'a>(
    e: &'a Expr,
    fe: &mut dyn FnMut(&'a Expr),
    fs: &mut dyn FnMut(&'a Stmt),
) {
    match &e.kind {
        E::Null
        | E::Bool(_)
        | E::Num(_)
        | E::Str(_)
        | E::Char(_)
        | E::Name(_)
        | E::TypeOf(_)
        | E::Default(_)
        | E::Out { .. } => {}
        E::Interp(parts) => {
            for p in parts {
                if let Part::Hole(h, ..) = p {
                    fe(h);
                }
            }
        }
        E::Member { target, .. } => fe(target),
        E::Call { callee, args, .. } => {
            fe(callee);
            args.iter().for_each(|a| fe(&a.value));
        }
        E::Index { target, args, .. } => {
            fe(target);
            args.iter().for_each(&mut *fe);
        }
        E::NullChain(x)
        | E::Unary(_, x)
        | E::Checked(_, x)
        | E::Cast(_, x)
        | E::As(x, _)
        | E::Is(x, _, _)
        | E::IncDec { target: x, .. } => fe(x),
        E::Binary(_, a, b)
        | E::And(a, b)
        | E::Or(a, b)
        | E::Coalesce(a, b)
        | E::IsConst(a, b, _)
        | E::CoalesceAssign(a, b)
        | E::Assign {
            target: a,
            value: b,
            ..
        } => {
            fe(a);
            fe(b);
        }
        E::Cond(a, b, c) => {
            fe(a);
            fe(b);
            fe(c);
        }
        E::Lambda(def) => match &def.body {
            LambdaBody::Expr(x) => fe(x),
            LambdaBody::Block(b) => b.iter().for_each(&mut *fs),
        },
        E::New { args, init, .. } => {
            args.iter().for_each(|a| fe(&a.value));
            init.iter().flatten().for_each(&mut *fe);
        }
        E::NewArray { size, items, .. } => {
            if let Some(s) = size {
                fe(s);
            }
            items.iter().flatten().for_each(&mut *fe);
        }
        E::NewAnon(fields) => fields.iter().for_each(|(_, x)| fe(x)),
        E::Tuple(items) => items.iter().for_each(|(_, x)| fe(x)),
        E::Throw(x) => fe(x),
        E::Switch(subject, arms) => {
            fe(subject);
            for (c, v) in arms {
                pat_exprs(&c.pat, fe);
                if let Some(g) = &c.guard {
                    fe(g);
                }
                fe(v);
            }
        }
    }
}

fn pat_exprs<'a>(p: &'a Pat, fe: &mut dyn FnMut(&'a Expr)) {
    match p {
        Pat::Const(e) | Pat::Rel(_, e) => fe(e),
        Pat::Not(p) => pat_exprs(p, fe),
        Pat::Props(props, _) => props.iter().for_each(|(_, p)| pat_exprs(p, fe)),
        Pat::And(a, b) | Pat::Or(a, b) => {
            pat_exprs(a, fe);
            pat_exprs(b, fe);
        }
        Pat::Discard | Pat::Type(..) => {}
    }
}

/// Calls `fs` on each direct sub-statement and `fe` on each direct expression of `s`.
fn for_each_child_stmt<'a>(
    s: &'a Stmt,
    fs: &mut dyn FnMut(&'a Stmt),
    fe: &mut dyn FnMut(&'a Expr),
) {
    match &s.kind {
        S::Local { init, .. } => {
            if let Some(e) = init {
                fe(e);
            }
        }
        S::Expr(e) | S::Deconstruct(_, e) => fe(e),
        S::If(c, a, b) => {
            fe(c);
            fs(a);
            if let Some(b) = b {
                fs(b);
            }
        }
        S::Return(e) | S::Throw(e) => {
            if let Some(e) = e {
                fe(e);
            }
        }
        S::Foreach { iter, body, .. } => {
            fe(iter);
            fs(body);
        }
        S::While(c, body) | S::DoWhile(body, c) => {
            fe(c);
            fs(body);
        }
        S::For {
            init,
            cond,
            step,
            body,
        } => {
            init.iter().for_each(&mut *fs);
            if let Some(c) = cond {
                fe(c);
            }
            step.iter().for_each(&mut *fe);
            fs(body);
        }
        S::Block(b) | S::Seq(b) | S::Checked(_, b) => b.iter().for_each(&mut *fs),
        S::Try {
            body,
            catches,
            finally,
        } => {
            body.iter().for_each(&mut *fs);
            for c in catches {
                if let Some(f) = &c.filter {
                    fe(f);
                }
                c.body.iter().for_each(&mut *fs);
            }
            finally.iter().flatten().for_each(&mut *fs);
        }
        S::LocalFn(def) => match &def.body {
            LambdaBody::Expr(x) => fe(x),
            LambdaBody::Block(b) => b.iter().for_each(&mut *fs),
        },
        S::Switch(subject, sections) => {
            fe(subject);
            for sec in sections {
                for c in sec.labels.iter().flatten() {
                    pat_exprs(&c.pat, fe);
                    if let Some(g) = &c.guard {
                        fe(g);
                    }
                }
                sec.body.iter().for_each(&mut *fs);
            }
        }
        S::Break | S::Continue | S::Empty => {}
    }
}

// ------------------------------------------------------------ the scan

struct Scanner {
    declared: BTreeSet<String>,
    found: Vec<Finding>,
}

/// Where a receiver expression stands, as far as the text tells.
enum Receiver {
    /// A static path: a type (normalized) the library knows.
    Type(String),
    /// A static path that is neither a value nor a known type (`System.Net.IPAddress`).
    UnknownType(String),
    /// A context object at this path below `context`.
    Context(Vec<String>),
    /// A string literal or interpolated string.
    Str,
    /// Anything else: a run-time value.
    Value,
}

impl Scanner {
    /// The interpreter's `static_path` with "declared anywhere" standing for "is a local".
    fn static_path(&self, e: &Expr) -> Option<String> {
        match &e.kind {
            E::Name(n) => (n != "context" && !self.declared.contains(n)).then(|| n.clone()),
            E::Member {
                target,
                name,
                null_cond: false,
            } => {
                let p = self.static_path(target)?;
                // `TimeZoneInfo.TransitionTime`: a nested type continues the path.
                let nested = format!("{p}.{name}");
                if lib::is_type(&normalize_type_name(&p))
                    && !lib::is_type(&normalize_type_name(&nested))
                {
                    None
                } else {
                    Some(format!("{p}.{name}"))
                }
            }
            _ => None,
        }
    }

    fn context_path(&self, e: &Expr) -> Option<Vec<String>> {
        match &e.kind {
            E::Name(n) if n == "context" => Some(Vec::new()),
            E::Member { target, name, .. } => {
                let mut p = self.context_path(target)?;
                p.push(name.clone());
                let refs: Vec<&str> = p.iter().map(String::as_str).collect();
                lib::context_navigable(&refs).then_some(p)
            }
            E::NullChain(x) => self.context_path(x),
            _ => None,
        }
    }

    fn receiver(&self, target: &Expr) -> Receiver {
        if let Some(p) = self.static_path(target) {
            let ty = normalize_type_name(&p);
            return if lib::is_type(&ty) {
                Receiver::Type(ty)
            } else {
                Receiver::UnknownType(p)
            };
        }
        if let Some(p) = self.context_path(target) {
            return Receiver::Context(p);
        }
        match &target.kind {
            E::Str(_) | E::Interp(_) => Receiver::Str,
            _ => Receiver::Value,
        }
    }

    fn report(&mut self, offset: usize, what: String) {
        self.found.push(Finding { offset, what });
    }

    /// Checks `target.name` (a call when `call`); answers whether the target still needs
    /// scanning (static paths are names, not expressions to look into).
    fn member(&mut self, target: &Expr, name: &str, call: bool, at: usize) -> bool {
        match self.receiver(target) {
            Receiver::Type(ty) => {
                if !lib::static_member_exists(&ty, name, call) {
                    let kind = if call { "method" } else { "member" };
                    self.report(at, format!("the {kind} '{ty}.{name}'"));
                }
                false
            }
            Receiver::UnknownType(p) => {
                self.report(at, format!("the type '{p}'"));
                false
            }
            Receiver::Context(p) => {
                let refs: Vec<&str> = p.iter().map(String::as_str).collect();
                let known = if call {
                    lib::context_method_known(&refs, name)
                } else {
                    lib::context_member_known(&refs, name)
                };
                if !known {
                    let shown = if p.is_empty() {
                        "context".to_string()
                    } else {
                        format!("context.{}", p.join("."))
                    };
                    let kind = if call { "method" } else { "member" };
                    self.report(at, format!("the {kind} '{shown}.{name}'"));
                }
                true
            }
            Receiver::Str => {
                let known = if call {
                    lib::STRING_METHODS.contains(&name)
                        || lib::LINQ.contains(&name)
                        || name == "GetType"
                } else {
                    name == "Length"
                };
                if !known {
                    let kind = if call { "method" } else { "member" };
                    self.report(at, format!("the string {kind} '{name}'"));
                }
                true
            }
            Receiver::Value => true,
        }
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            E::Member { target, name, .. } => {
                if self.member(target, name, false, e.at) {
                    self.expr(target);
                }
                return;
            }
            E::Call { callee, args, .. } => {
                if let E::Member { target, name, .. } = &callee.kind {
                    if self.member(target, name, true, e.at) {
                        self.expr(target);
                    }
                    for a in args {
                        self.expr(&a.value);
                    }
                    return;
                }
            }
            _ => {}
        }
        let mut children = Vec::new();
        let mut stmts = Vec::new();
        for_each_child_expr(e, &mut |c| children.push(c), &mut |s| stmts.push(s));
        children.into_iter().for_each(|c| self.expr(c));
        stmts.into_iter().for_each(|s| self.stmt(s));
    }

    fn stmt(&mut self, s: &Stmt) {
        let mut children = Vec::new();
        let mut exprs = Vec::new();
        for_each_child_stmt(s, &mut |c| children.push(c), &mut |e| exprs.push(e));
        exprs.into_iter().for_each(|e| self.expr(e));
        children.into_iter().for_each(|c| self.stmt(c));
    }
}
