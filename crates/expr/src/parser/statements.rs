//! Statements of `@{ … }` blocks: declarations, control flow, `switch`, local functions.

use super::*;

impl Parser {
    /// Statements up to the end of input (the body of `@{ … }`).
    pub(crate) fn statements_to_eof(&mut self) -> R<Vec<Stmt>> {
        let mut out = Vec::new();
        while !matches!(self.peek(), Tok::Eof) {
            out.push(self.statement()?);
        }
        Ok(out)
    }

    /// Statements up to a closing brace, which is consumed.
    pub(super) fn statements_until_brace(&mut self) -> R<Vec<Stmt>> {
        let mut out = Vec::new();
        loop {
            if self.eat("}") {
                return Ok(out);
            }
            if matches!(self.peek(), Tok::Eof) {
                return Err(ExprError::new(self.at(), "expected '}'"));
            }
            out.push(self.statement()?);
        }
    }

    pub(super) fn statement(&mut self) -> R<Stmt> {
        // A statement level counts twice: parsing (and running) one takes several large
        // frames, and 96 nested blocks overflowed a 2 MiB thread stack in unoptimised builds.
        self.enter()?;
        if let Err(e) = self.enter() {
            self.depth -= 1;
            return Err(e);
        }
        let r = self.statement_inner();
        self.depth -= 2;
        r
    }

    pub(super) fn statement_inner(&mut self) -> R<Stmt> {
        let at = self.at();
        let s = |kind| Ok(Stmt { kind, at });
        if self.eat("{") {
            return s(S::Block(self.statements_until_brace()?));
        }
        if self.eat(";") {
            return s(S::Empty);
        }
        let kw = match self.peek() {
            Tok::Ident(k) => k.clone(),
            _ => String::new(),
        };
        match kw.as_str() {
            "if" => {
                self.pos += 1;
                self.expect("(")?;
                let c = self.expr()?;
                self.expect(")")?;
                let then = Box::new(self.statement()?);
                let els = if self.is_ident("else") {
                    self.pos += 1;
                    Some(Box::new(self.statement()?))
                } else {
                    None
                };
                return s(S::If(c, then, els));
            }
            "return" => {
                self.pos += 1;
                if self.eat(";") {
                    return s(S::Return(None));
                }
                let e = self.expr()?;
                self.expect(";")?;
                return s(S::Return(Some(e)));
            }
            "foreach" => {
                self.pos += 1;
                self.features.insert("foreach");
                self.expect("(")?;
                let mut parts = Vec::new();
                let var = if self.is_ident("var") && self.is_punct_at(1, "(") {
                    self.pos += 2;
                    parts = self.deconstruction_names()?;
                    // The element itself, under a name no C# identifier can take.
                    "$element".to_string()
                } else {
                    if !self.is_ident("var") {
                        self.require_type()?;
                    } else {
                        self.pos += 1;
                    }
                    self.ident()?
                };
                if !self.is_ident("in") {
                    return Err(ExprError::new(self.at(), "expected 'in'"));
                }
                self.pos += 1;
                let iter = self.expr()?;
                self.expect(")")?;
                let body = Box::new(self.statement()?);
                return s(S::Foreach {
                    var,
                    parts,
                    iter,
                    body,
                });
            }
            "while" => {
                self.pos += 1;
                self.expect("(")?;
                let c = self.expr()?;
                self.expect(")")?;
                let body = Box::new(self.statement()?);
                return s(S::While(c, body));
            }
            "do" => {
                self.pos += 1;
                let body = Box::new(self.statement()?);
                if !self.is_ident("while") {
                    return Err(ExprError::new(
                        self.at(),
                        "expected 'while' after a do body",
                    ));
                }
                self.pos += 1;
                self.expect("(")?;
                let c = self.expr()?;
                self.expect(")")?;
                self.expect(";")?;
                return s(S::DoWhile(body, c));
            }
            "for" => {
                self.pos += 1;
                self.expect("(")?;
                let mut init = Vec::new();
                if !self.eat(";") {
                    if let Some(d) = self.try_declaration()? {
                        init = d;
                    } else {
                        let iat = self.at();
                        init.push(Stmt {
                            kind: S::Expr(self.expr()?),
                            at: iat,
                        });
                        self.expect(";")?;
                    }
                }
                let cond = if self.is_punct(";") {
                    None
                } else {
                    Some(self.expr()?)
                };
                self.expect(";")?;
                let mut step = Vec::new();
                if !self.eat(")") {
                    loop {
                        step.push(self.expr()?);
                        if self.eat(",") {
                            continue;
                        }
                        self.expect(")")?;
                        break;
                    }
                }
                let body = Box::new(self.statement()?);
                return s(S::For {
                    init,
                    cond,
                    step,
                    body,
                });
            }
            "break" => {
                self.pos += 1;
                self.expect(";")?;
                return s(S::Break);
            }
            "continue" => {
                self.pos += 1;
                self.expect(";")?;
                return s(S::Continue);
            }
            "throw" => {
                self.pos += 1;
                if self.eat(";") {
                    return s(S::Throw(None));
                }
                let e = self.expr()?;
                self.expect(";")?;
                return s(S::Throw(Some(e)));
            }
            "checked" | "unchecked" if self.is_punct_at(1, "{") => {
                let checked = self.is_ident("checked");
                self.pos += 2;
                return s(S::Checked(checked, self.statements_until_brace()?));
            }
            "using" if self.is_punct_at(1, "(") => {
                // `using (var w = XmlWriter.Create(sb)) { … }`: the body, then `w?.Dispose()`
                // (what disposal does shows: a writer hands its output on and closes).
                self.pos += 2;
                let mut body = match self.try_declaration_no_semicolon()? {
                    Some(d) => d,
                    None => {
                        let eat = self.at();
                        vec![Stmt {
                            kind: S::Expr(self.expr()?),
                            at: eat,
                        }]
                    }
                };
                self.expect(")")?;
                let disposed: Vec<String> = body
                    .iter()
                    .filter_map(|d| match &d.kind {
                        S::Local { name, .. } => Some(name.clone()),
                        S::Expr(Expr {
                            kind: E::Name(n), ..
                        }) => Some(n.clone()),
                        _ => None,
                    })
                    .collect();
                body.push(self.statement()?);
                // In reverse order of declaration, as C# disposes them.
                for name in disposed.into_iter().rev() {
                    body.push(dispose_statement(name, at));
                }
                return s(S::Block(body));
            }
            "using" => {
                self.pos += 1;
                if let Some(d) = self.try_declaration()? {
                    return s(S::Seq(d));
                }
                return Err(ExprError::new(at, "expected a declaration after 'using'"));
            }
            "switch" if self.is_punct_at(1, "(") => {
                return s(self.switch_statement()?);
            }
            "var" if self.is_punct_at(1, "(") => {
                self.pos += 2;
                self.features.insert("tuple");
                let names = self.deconstruction_names()?;
                self.expect("=")?;
                let e = self.expr()?;
                self.expect(";")?;
                return s(S::Deconstruct(names, e));
            }
            "try" if self.is_punct_at(1, "{") => {
                return s(self.try_statement()?);
            }
            "switch" | "goto" | "lock" | "yield" | "fixed" | "unsafe" => {
                return Err(
                    ExprError::new(at, format!("'{kw}' statements are not supported"))
                        .unsupported(format!("{kw} statement")),
                );
            }
            _ => {}
        }
        if let Some(decls) = self.try_declaration()? {
            return s(if decls.len() == 1 {
                decls.into_iter().next().map(|d| d.kind).unwrap_or(S::Empty)
            } else {
                S::Seq(decls)
            });
        }
        let e = self.expr()?;
        self.expect(";")?;
        s(S::Expr(e))
    }

    /// The rest of a local function after its return type: `Name(T a, U b) { … }` or
    /// `Name(T a) => expr;`. The result is one statement in a one-element list.
    pub(super) fn local_function(&mut self, at: usize, ret: TypeRef) -> R<Vec<Stmt>> {
        // A nesting level of its own: a local function costs more parser (and interpreter)
        // stack per level than a plain block.
        self.enter()?;
        let r = self.local_function_inner(at, ret);
        self.depth -= 1;
        r
    }

    pub(super) fn local_function_inner(&mut self, at: usize, ret: TypeRef) -> R<Vec<Stmt>> {
        self.features.insert("local-function");
        let name = self.ident()?;
        self.expect("(")?;
        let mut params = Vec::new();
        let mut param_types = Vec::new();
        if !self.eat(")") {
            loop {
                if self.is_ident("out") || self.is_ident("ref") || self.is_ident("params") {
                    return Err(ExprError::new(
                        self.at(),
                        "out/ref/params parameters are not supported",
                    )
                    .unsupported("out/ref parameters"));
                }
                let tat = self.at();
                let t = self.try_type().ok_or_else(|| {
                    ExprError::new(
                        tat,
                        format!("expected a type but found {}", self.describe()),
                    )
                })?;
                params.push(self.ident()?);
                param_types.push(Some(t));
                if self.eat(",") {
                    continue;
                }
                self.expect(")")?;
                break;
            }
        }
        let body = if self.eat("=>") {
            let e = self.expr()?;
            self.expect(";")?;
            LambdaBody::Expr(e)
        } else {
            self.expect("{")?;
            LambdaBody::Block(self.statements_until_brace()?)
        };
        let ret = (ret.name != "void").then_some(ret);
        Ok(vec![Stmt {
            kind: S::LocalFn(Arc::new(LambdaDef {
                params,
                body,
                param_types,
                ret,
                local_fn: Some(name),
            })),
            at,
        }])
    }

    /// `switch (x) { case …: … default: … }`; the cursor is on `switch`. Kept out of
    /// `statement_inner` so that function's stack frame, paid at every nesting level, stays
    /// small.
    pub(super) fn switch_statement(&mut self) -> R<S> {
        self.pos += 2;
        self.features.insert("switch");
        let subject = self.expr()?;
        self.expect(")")?;
        self.expect("{")?;
        let mut sections: Vec<SwitchSection> = Vec::new();
        loop {
            if self.eat("}") {
                break;
            }
            let mut labels = Vec::new();
            loop {
                if self.is_ident("case") {
                    self.pos += 1;
                    labels.push(Some(self.case()?));
                    self.expect(":")?;
                } else if self.is_ident("default") && self.is_punct_at(1, ":") {
                    self.pos += 2;
                    labels.push(None);
                } else {
                    break;
                }
            }
            if labels.is_empty() {
                return Err(ExprError::new(
                    self.at(),
                    format!("expected 'case' or 'default' but found {}", self.describe()),
                ));
            }
            let mut body = Vec::new();
            let at_label = |p: &Self| {
                p.is_ident("case")
                    || (p.is_ident("default") && p.is_punct_at(1, ":"))
                    || p.is_punct("}")
            };
            while !at_label(self) {
                if matches!(self.peek(), Tok::Eof) {
                    return Err(ExprError::new(self.at(), "expected '}'"));
                }
                if self.is_ident("goto") {
                    return Err(ExprError::new(self.at(), "'goto' is not supported")
                        .unsupported("goto statement"));
                }
                body.push(self.statement()?);
            }
            sections.push(SwitchSection { labels, body });
        }
        Ok(S::Switch(subject, sections))
    }

    pub(super) fn try_declaration(&mut self) -> R<Option<Vec<Stmt>>> {
        let d = self.try_declaration_no_semicolon()?;
        let is_fn = matches!(
            d.as_deref(),
            Some([Stmt {
                kind: S::LocalFn(_),
                ..
            }])
        );
        if d.is_some() && !is_fn {
            self.expect(";")?;
        }
        Ok(d)
    }

    /// `var x = e`, `string a = e, b`, `byte[] b = …`. Answers `None` (position restored) when
    /// the statement is not a declaration. Note: a multi-declarator `S::Block` would scope the
    /// locals to that block, so declarations are returned flat and the caller splices them.
    pub(super) fn try_declaration_no_semicolon(&mut self) -> R<Option<Vec<Stmt>>> {
        let save = self.pos;
        let at = self.at();
        if self.is_ident("const") {
            self.pos += 1;
        }
        // `static int F(…)`: a static local function (no captures; same thing here).
        if self.is_ident("static") && matches!(self.peek_at(1).tok, Tok::Ident(_)) {
            self.pos += 1;
        }
        let ty = if self.is_ident("var") && matches!(self.peek_at(1).tok, Tok::Ident(_)) {
            self.pos += 1;
            None
        } else {
            match self.try_type() {
                Some(t) => Some(t),
                None => {
                    self.pos = save;
                    return Ok(None);
                }
            }
        };
        let Tok::Ident(_) = self.peek() else {
            self.pos = save;
            return Ok(None);
        };
        if self.is_punct_at(1, "(")
            && let Some(ret) = ty
        {
            // `int F(int a) { … }` or `=> expr;`: a call statement such as `F(x);` never gets
            // here because a bare name is not followed by another name.
            return self.local_function(at, ret).map(Some);
        }
        if !matches!(self.peek_at(1).tok, Tok::Punct("=" | ";" | "," | ")")) {
            self.pos = save;
            return Ok(None);
        }
        if let Some(t) = &ty {
            let n = t.name.clone();
            self.note(&n);
        }
        let mut out = Vec::new();
        loop {
            let dat = self.at();
            let name = self.ident()?;
            let init = if self.eat("=") {
                if self.is_punct("{") {
                    // `int[] a = { 1, 2 }`
                    let iat = self.at();
                    self.pos += 1;
                    let items = self.expr_list("}")?;
                    Some(Expr {
                        at: iat,
                        kind: E::NewArray {
                            ty: None,
                            size: None,
                            items: Some(items),
                        },
                    })
                } else {
                    Some(self.expr()?)
                }
            } else {
                None
            };
            out.push(Stmt {
                kind: S::Local {
                    name,
                    ty: ty.clone(),
                    init,
                },
                at: dat,
            });
            if self.eat(",") {
                continue;
            }
            break;
        }
        Ok(Some(out))
    }
}

/// `name?.Dispose();`, what a `using` statement ends with (skipped when the body returns or
/// throws: then the local is out of reach and nothing can see the disposal).
fn dispose_statement(name: String, at: usize) -> Stmt {
    let e = |kind: E| Expr { kind, at };
    let call = e(E::Call {
        callee: Box::new(e(E::Member {
            target: Box::new(e(E::Name(name))),
            name: "Dispose".to_string(),
            null_cond: true,
        })),
        generics: Vec::new(),
        args: Vec::new(),
    });
    Stmt {
        kind: S::Expr(e(E::NullChain(Box::new(call)))),
        at,
    }
}
