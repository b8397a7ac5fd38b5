//! Postfix chains (member access, calls, indexers, `?.`), primaries (literals, names,
//! interpolated strings) and `new` expressions.

use super::*;

impl Parser {
    pub(super) fn postfix(&mut self) -> R<Expr> {
        let mut e = self.primary()?;
        let mut chained_null = false;
        let mut n = 0;
        loop {
            n += 1;
            self.chain_guard(n)?;
            let at = self.at();
            if self.is_punct(".") || self.is_punct("?.") {
                let null_cond = self.is_punct("?.");
                self.pos += 1;
                if null_cond {
                    chained_null = true;
                    self.features.insert("null-conditional");
                }
                let name = self.ident()?;
                self.note(&name);
                let target = Box::new(e);
                let member = Expr {
                    at: target.at,
                    kind: E::Member {
                        target,
                        name,
                        null_cond,
                    },
                };
                // Generic method call: `.As<JObject>(`.
                if self.is_punct("<") {
                    let save = self.pos;
                    self.pos += 1;
                    let mut generics = Vec::new();
                    let mut ok = false;
                    while let Some(t) = self.try_type() {
                        generics.push(t);
                        if self.eat(",") {
                            continue;
                        }
                        ok = self.eat(">") && self.is_punct("(");
                        break;
                    }
                    if ok {
                        self.pos += 1;
                        for g in &generics {
                            self.note(&g.name);
                        }
                        let args = self.args(")")?;
                        e = Expr {
                            at: member.at,
                            kind: E::Call {
                                callee: Box::new(member),
                                generics,
                                args,
                            },
                        };
                        continue;
                    }
                    self.pos = save;
                }
                e = member;
            } else if self.is_punct("(") {
                if !matches!(e.kind, E::Name(_) | E::Member { .. }) {
                    return Err(ExprError::new(at, "only methods can be called")
                        .unsupported("delegate invocation"));
                }
                self.pos += 1;
                let args = self.args(")")?;
                e = Expr {
                    at: e.at,
                    kind: E::Call {
                        callee: Box::new(e),
                        generics: Vec::new(),
                        args,
                    },
                };
            } else if self.is_punct("[")
                || (self.is_punct("?")
                    && self.is_punct_at(1, "[")
                    && self.peek_at(1).start == self.peek_at(0).end)
            {
                let null_cond = self.is_punct("?");
                if null_cond {
                    self.pos += 1;
                    chained_null = true;
                    self.features.insert("null-conditional");
                }
                self.pos += 1;
                let args = self.expr_list("]")?;
                if args.is_empty() {
                    return Err(ExprError::new(at, "an indexer needs an argument"));
                }
                e = Expr {
                    at: e.at,
                    kind: E::Index {
                        target: Box::new(e),
                        args,
                        null_cond,
                    },
                };
            } else if self.is_punct("++") || self.is_punct("--") {
                let delta = if self.is_punct("++") { 1 } else { -1 };
                check_assignable(&e)?;
                self.pos += 1;
                e = Expr {
                    at: e.at,
                    kind: E::IncDec {
                        target: Box::new(e),
                        delta,
                        prefix: false,
                    },
                };
            } else if self.is_punct("!") && matches!(self.peek_at(1).tok, Tok::Punct("." | "[")) {
                // Null-forgiving `x!.y`: no run-time meaning.
                self.pos += 1;
            } else {
                break;
            }
        }
        if chained_null {
            e = Expr {
                at: e.at,
                kind: E::NullChain(Box::new(e)),
            };
        }
        Ok(e)
    }

    /// The one instance of a string literal's text (see `Parser::literals`).
    fn literal(&mut self, s: String) -> Arc<str> {
        if let Some(held) = self.literals.get(s.as_str()) {
            return held.clone();
        }
        let held: Arc<str> = s.into();
        self.literals.insert(held.clone());
        held
    }

    pub(super) fn primary(&mut self) -> R<Expr> {
        let at = self.at();
        let tok = self.bump();
        let kind = match tok.tok {
            Tok::Num(n) => E::Num(n),
            Tok::Str(s) => E::Str(self.literal(s)),
            Tok::Char(c) => E::Char(c),
            Tok::Interp(parts) => self.interpolation(parts)?,
            Tok::Punct("(") => {
                let (name, e) = self.tuple_element()?;
                if name.is_none() && !self.is_punct(",") {
                    self.expect(")")?;
                    return Ok(e);
                }
                return self.tuple_rest(at, name, e);
            }
            Tok::Ident(name) => match name.as_str() {
                "true" => E::Bool(true),
                "false" => E::Bool(false),
                "null" => E::Null,
                "new" => return self.new_expr(at),
                "typeof" => {
                    self.expect("(")?;
                    let t = self.require_type()?;
                    self.expect(")")?;
                    E::TypeOf(t)
                }
                "default" => {
                    if self.eat("(") {
                        let t = self.require_type()?;
                        self.expect(")")?;
                        E::Default(Some(t))
                    } else {
                        E::Default(None)
                    }
                }
                "throw" => {
                    self.features.insert("throw-expression");
                    E::Throw(Box::new(self.expr()?))
                }
                "nameof" if self.is_punct("(") => {
                    self.pos += 1;
                    let e = self.expr()?;
                    self.expect(")")?;
                    match e.kind {
                        E::Name(n) | E::Member { name: n, .. } => E::Str(n.into()),
                        _ => return Err(ExprError::new(e.at, "expected a name in nameof")),
                    }
                }
                "checked" | "unchecked" if self.is_punct("(") => {
                    self.pos += 1;
                    let e = self.expr()?;
                    self.expect(")")?;
                    E::Checked(name == "checked", Box::new(e))
                }
                "this" | "base" | "await" | "stackalloc" | "checked" | "unchecked" | "nameof"
                | "sizeof" | "switch" | "delegate" => {
                    return Err(ExprError::new(at, format!("'{name}' is not supported"))
                        .unsupported(name.as_str()));
                }
                _ => {
                    self.note(&name);
                    // `HashSet<int>.CreateSetComparer()`: a generic type's static member. The
                    // type arguments do not change which member runs; `<` starts them only
                    // when types, `>` and `.` follow (C#'s disambiguation rule).
                    if self.is_punct("<") {
                        let save = self.pos;
                        self.pos += 1;
                        let mut ok = false;
                        while self.try_type().is_some() {
                            if self.eat(",") {
                                continue;
                            }
                            ok = self.eat(">") && self.is_punct(".");
                            break;
                        }
                        if !ok {
                            self.pos = save;
                        }
                    }
                    E::Name(name)
                }
            },
            other => {
                let what = match other {
                    Tok::Eof => "end of expression".to_string(),
                    Tok::Punct(p) => format!("'{p}'"),
                    _ => "token".to_string(),
                };
                return Err(ExprError::new(
                    at,
                    format!("expected an expression but found {what}"),
                ));
            }
        };
        Ok(Expr { at, kind })
    }

    /// One element of a parenthesized list that may be a tuple: `name: expr` or `expr`.
    fn tuple_element(&mut self) -> R<(Option<String>, Expr)> {
        let name = match self.peek() {
            Tok::Ident(n) if self.is_punct_at(1, ":") => Some(n.clone()),
            _ => None,
        };
        if name.is_some() {
            self.pos += 2;
        }
        Ok((name, self.expr()?))
    }

    /// The rest of a tuple literal after its first element: `, b, c)`.
    fn tuple_rest(&mut self, at: usize, name: Option<String>, first: Expr) -> R<Expr> {
        self.features.insert("tuple");
        let mut items = vec![(name, first)];
        while self.eat(",") {
            items.push(self.tuple_element()?);
        }
        self.expect(")")?;
        if items.len() < 2 {
            return Err(ExprError::new(
                at,
                "a tuple must have at least two elements",
            ));
        }
        Ok(Expr {
            at,
            kind: E::Tuple(items),
        })
    }

    pub(super) fn interpolation(&mut self, parts: Vec<InterpPart>) -> R<E> {
        self.features.insert("interpolation");
        let mut out = Vec::new();
        for p in parts {
            match p {
                InterpPart::Text(t) => out.push(Part::Text(t)),
                InterpPart::Hole {
                    source,
                    offset,
                    align,
                    format,
                } => {
                    let mut sub = Parser::new(&source, offset)?;
                    sub.depth = self.depth + 1;
                    let e = sub.expr()?;
                    sub.expect_eof()?;
                    self.features.extend(sub.features);
                    out.push(Part::Hole(e, align, format));
                }
            }
        }
        Ok(E::Interp(out))
    }

    pub(super) fn new_expr(&mut self, at: usize) -> R<Expr> {
        self.features.insert("new");
        // new[] { … }
        if self.is_punct("[") && self.is_punct_at(1, "]") {
            self.pos += 2;
            self.expect("{")?;
            let items = self.expr_list("}")?;
            return Ok(Expr {
                at,
                kind: E::NewArray {
                    ty: None,
                    size: None,
                    items: Some(items),
                },
            });
        }
        // new { a = 1, b } (anonymous object, becomes a JObject)
        if self.eat("{") {
            let mut fields = Vec::new();
            if !self.eat("}") {
                loop {
                    let e = self.expr()?;
                    match e.kind {
                        E::Assign {
                            target,
                            op: None,
                            value,
                        } if matches!(target.kind, E::Name(_)) => {
                            if let E::Name(n) = target.kind {
                                fields.push((n, *value));
                            }
                        }
                        E::Name(ref n) => fields.push((n.clone(), e.clone())),
                        E::Member { ref name, .. } => fields.push((name.clone(), e.clone())),
                        _ => {
                            return Err(ExprError::new(
                                e.at,
                                "invalid anonymous type member declarator",
                            ));
                        }
                    }
                    if self.eat(",") {
                        if self.eat("}") {
                            break;
                        }
                        continue;
                    }
                    self.expect("}")?;
                    break;
                }
            }
            return Ok(Expr {
                at,
                kind: E::NewAnon(fields),
            });
        }
        // Element type without its array rank: `new byte[16]` must not read `byte[]`.
        let tat = self.at();
        let Tok::Ident(_) = self.peek() else {
            return Err(ExprError::new(tat, "expected a type after 'new'"));
        };
        let mut ty = self.require_type()?;
        if self.is_punct("[") {
            // new T[n] or new T[] { … } (require_type already consumed `[]` pairs).
            self.pos += 1;
            let size = self.expr()?;
            self.expect("]")?;
            let items = if self.eat("{") {
                Some(self.expr_list("}")?)
            } else {
                None
            };
            return Ok(Expr {
                at,
                kind: E::NewArray {
                    ty: Some(ty),
                    size: Some(Box::new(size)),
                    items,
                },
            });
        }
        if ty.array > 0 {
            ty.array -= 1;
            let items = if self.eat("{") {
                Some(self.expr_list("}")?)
            } else {
                return Err(ExprError::new(
                    self.at(),
                    "array creation needs a size or an initializer",
                ));
            };
            return Ok(Expr {
                at,
                kind: E::NewArray {
                    ty: Some(ty),
                    size: None,
                    items,
                },
            });
        }
        let args = if self.eat("(") {
            self.args(")")?
        } else {
            Vec::new()
        };
        let init = if self.eat("{") {
            Some(self.expr_list("}")?)
        } else {
            None
        };
        Ok(Expr {
            at,
            kind: E::New { ty, args, init },
        })
    }
}
