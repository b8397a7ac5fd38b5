//! Expressions from assignment down to unary operators: lambdas, the conditional, binary
//! operators by precedence, casts, `is` patterns, `switch` expressions and argument lists.

use super::*;
use crate::numeric::Num;

impl Parser {
    pub(crate) fn expr(&mut self) -> R<Expr> {
        self.enter()?;
        let r = self.assignment();
        self.depth -= 1;
        r
    }

    pub(super) fn assignment(&mut self) -> R<Expr> {
        if let Some(l) = self.try_lambda()? {
            return Ok(l);
        }
        let lhs = self.conditional()?;
        let at = self.at();
        let op = match self.peek() {
            Tok::Punct("=") => Some(None),
            Tok::Punct("+=") => Some(Some(BinOp::Add)),
            Tok::Punct("-=") => Some(Some(BinOp::Sub)),
            Tok::Punct("*=") => Some(Some(BinOp::Mul)),
            Tok::Punct("/=") => Some(Some(BinOp::Div)),
            Tok::Punct("%=") => Some(Some(BinOp::Rem)),
            Tok::Punct("&=") => Some(Some(BinOp::BitAnd)),
            Tok::Punct("|=") => Some(Some(BinOp::BitOr)),
            Tok::Punct("^=") => Some(Some(BinOp::BitXor)),
            Tok::Punct("<<=") => Some(Some(BinOp::Shl)),
            Tok::Punct("??=") => {
                self.pos += 1;
                check_assignable(&lhs)?;
                let value = self.expr()?;
                return Ok(Expr {
                    at: lhs.at,
                    kind: E::CoalesceAssign(Box::new(lhs), Box::new(value)),
                });
            }
            _ => None,
        };
        let Some(op) = op else { return Ok(lhs) };
        self.pos += 1;
        check_assignable(&lhs).map_err(|mut e| {
            e.offset = at;
            e
        })?;
        let value = self.expr()?;
        Ok(Expr {
            at: lhs.at,
            kind: E::Assign {
                target: Box::new(lhs),
                op,
                value: Box::new(value),
            },
        })
    }

    /// `x => …`, `(a, b) => …`, `() => …`, `(string a) => …`.
    pub(super) fn try_lambda(&mut self) -> R<Option<Expr>> {
        let at = self.at();
        let save = self.pos;
        let mut params = Vec::new();
        if let Tok::Ident(name) = self.peek().clone() {
            if self.is_punct_at(1, "=>") {
                self.pos += 2;
                params.push(name);
                return self.lambda_body(at, params).map(Some);
            }
            return Ok(None);
        }
        if !self.is_punct("(") {
            return Ok(None);
        }
        self.pos += 1;
        if !self.eat(")") {
            loop {
                // Either `name` or `Type name`.
                let Tok::Ident(a) = self.peek().clone() else {
                    self.pos = save;
                    return Ok(None);
                };
                if matches!(self.peek_at(1).tok, Tok::Punct("," | ")")) {
                    self.pos += 1;
                    params.push(a);
                } else if self.try_type().is_some() {
                    match self.peek().clone() {
                        Tok::Ident(n) => {
                            self.pos += 1;
                            params.push(n);
                        }
                        _ => {
                            self.pos = save;
                            return Ok(None);
                        }
                    }
                } else {
                    self.pos = save;
                    return Ok(None);
                }
                if self.eat(",") {
                    continue;
                }
                if self.eat(")") {
                    break;
                }
                self.pos = save;
                return Ok(None);
            }
        }
        if !self.eat("=>") {
            self.pos = save;
            return Ok(None);
        }
        self.lambda_body(at, params).map(Some)
    }

    pub(super) fn lambda_body(&mut self, at: usize, params: Vec<String>) -> R<Expr> {
        self.features.insert("lambda");
        let body = if self.is_punct("{") {
            self.pos += 1;
            LambdaBody::Block(self.statements_until_brace()?)
        } else {
            LambdaBody::Expr(self.expr()?)
        };
        let param_types = vec![None; params.len()];
        Ok(Expr {
            at,
            kind: E::Lambda(Arc::new(LambdaDef {
                params,
                body,
                param_types,
                ret: None,
                local_fn: None,
            })),
        })
    }

    pub(super) fn conditional(&mut self) -> R<Expr> {
        let c = self.binary(3)?;
        if self.is_punct("?") {
            self.pos += 1;
            let a = self.expr()?;
            self.expect(":")?;
            let b = self.expr()?;
            return Ok(Expr {
                at: c.at,
                kind: E::Cond(Box::new(c), Box::new(a), Box::new(b)),
            });
        }
        Ok(c)
    }

    /// Precedence of the binary operator at the cursor (higher binds tighter), and how many
    /// tokens it spans (`>` `>` is a shift).
    pub(super) fn binop(&self) -> Option<(u8, &'static str, usize)> {
        let t = self.peek_at(0);
        Some(match &t.tok {
            Tok::Punct("??") => (3, "??", 1),
            Tok::Punct("||") => (4, "||", 1),
            Tok::Punct("&&") => (5, "&&", 1),
            Tok::Punct("|") => (6, "|", 1),
            Tok::Punct("^") => (7, "^", 1),
            Tok::Punct("&") => (8, "&", 1),
            Tok::Punct("==") => (9, "==", 1),
            Tok::Punct("!=") => (9, "!=", 1),
            Tok::Punct(">") => {
                let n = self.peek_at(1);
                if matches!(n.tok, Tok::Punct(">")) && n.start == t.end {
                    (11, ">>", 2)
                } else {
                    (10, ">", 1)
                }
            }
            Tok::Punct("<") => (10, "<", 1),
            Tok::Punct("<=") => (10, "<=", 1),
            Tok::Punct(">=") => (10, ">=", 1),
            Tok::Ident(s) if s == "is" => (10, "is", 1),
            Tok::Ident(s) if s == "as" => (10, "as", 1),
            Tok::Punct("<<") => (11, "<<", 1),
            Tok::Punct("+") => (12, "+", 1),
            Tok::Punct("-") => (12, "-", 1),
            Tok::Punct("*") => (13, "*", 1),
            Tok::Punct("/") => (13, "/", 1),
            Tok::Punct("%") => (13, "%", 1),
            _ => return None,
        })
    }

    pub(super) fn binary(&mut self, min: u8) -> R<Expr> {
        self.enter()?;
        let r = self.binary_inner(min);
        self.depth -= 1;
        r
    }

    pub(super) fn binary_inner(&mut self, min: u8) -> R<Expr> {
        let mut left = self.unary_switch()?;
        let mut n = 0;
        while let Some((prec, op, len)) = self.binop() {
            if prec < min {
                break;
            }
            n += 1;
            self.chain_guard(n)?;
            self.pos += len;
            let at = left.at;
            if op == "as" {
                let ty = self.require_type()?;
                left = Expr {
                    at,
                    kind: E::As(Box::new(left), ty),
                };
                continue;
            }
            if op == "is" {
                left = self.is_pattern(left)?;
                continue;
            }
            // `??` is right-associative; the others are left-associative.
            let right = if op == "??" {
                self.binary(prec)?
            } else {
                self.binary(prec + 1)?
            };
            let (l, r) = (Box::new(left), Box::new(right));
            let kind = match op {
                "??" => E::Coalesce(l, r),
                "||" => E::Or(l, r),
                "&&" => E::And(l, r),
                _ => {
                    let b = match op {
                        "|" => BinOp::BitOr,
                        "^" => BinOp::BitXor,
                        "&" => BinOp::BitAnd,
                        "==" => BinOp::Eq,
                        "!=" => BinOp::Ne,
                        "<" => BinOp::Lt,
                        ">" => BinOp::Gt,
                        "<=" => BinOp::Le,
                        ">=" => BinOp::Ge,
                        "<<" => BinOp::Shl,
                        ">>" => BinOp::Shr,
                        "+" => BinOp::Add,
                        "-" => BinOp::Sub,
                        "*" => BinOp::Mul,
                        "/" => BinOp::Div,
                        _ => BinOp::Rem,
                    };
                    E::Binary(b, l, r)
                }
            };
            if op == "??" {
                self.features.insert("null-coalescing");
            }
            left = Expr { at, kind };
        }
        Ok(left)
    }

    /// `x is T`, `x is T name`, `x is null`, `x is not null`, `x is "const"`.
    pub(super) fn is_pattern(&mut self, left: Expr) -> R<Expr> {
        let at = left.at;
        let negate = if self.is_ident("not") {
            self.pos += 1;
            true
        } else {
            false
        };
        let is_const = matches!(
            self.peek(),
            Tok::Num(_) | Tok::Str(_) | Tok::Char(_) | Tok::Punct("-")
        ) || self.is_ident("null")
            || self.is_ident("true")
            || self.is_ident("false");
        if is_const {
            let c = self.unary()?;
            return Ok(Expr {
                at,
                kind: E::IsConst(Box::new(left), Box::new(c), negate),
            });
        }
        if self.is_punct("{") {
            // `x is { Length: > 0 }`: the same test as a switch arm, true or false.
            let pat = self.pattern_unary()?;
            let e = Expr {
                at,
                kind: E::Switch(
                    Box::new(left),
                    vec![
                        (
                            Case { pat, guard: None },
                            Expr {
                                at,
                                kind: E::Bool(!negate),
                            },
                        ),
                        (
                            Case {
                                pat: Pat::Discard,
                                guard: None,
                            },
                            Expr {
                                at,
                                kind: E::Bool(negate),
                            },
                        ),
                    ],
                ),
            };
            return Ok(e);
        }
        let ty = self.require_type()?;
        let binding = match self.peek().clone() {
            Tok::Ident(n) if !NON_OPERAND.contains(&n.as_str()) => {
                self.pos += 1;
                Some(n)
            }
            _ => None,
        };
        let e = Expr {
            at,
            kind: E::Is(Box::new(left), ty, binding),
        };
        Ok(if negate {
            Expr {
                at,
                kind: E::Unary(UnOp::Not, Box::new(e)),
            }
        } else {
            e
        })
    }

    pub(super) fn unary(&mut self) -> R<Expr> {
        self.enter()?;
        let r = self.unary_inner();
        self.depth -= 1;
        r
    }

    pub(super) fn unary_inner(&mut self) -> R<Expr> {
        let at = self.at();
        let op = match self.peek() {
            Tok::Punct("-") => Some(UnOp::Neg),
            Tok::Punct("+") => Some(UnOp::Plus),
            Tok::Punct("!") => Some(UnOp::Not),
            Tok::Punct("~") => Some(UnOp::BitNot),
            _ => None,
        };
        if let Some(op) = op {
            self.pos += 1;
            let e = self.unary()?;
            // Fold negative literals so `-9223372036854775808`-style edge cases stay simple.
            let kind = match (op, &e.kind) {
                // `-2147483648` is an int and `-9223372036854775808` a long, though their
                // digits alone are a uint and a ulong (C# §12.9.3).
                (UnOp::Neg, E::Num(Num::U32(0x8000_0000))) => E::Num(Num::I32(i32::MIN)),
                (UnOp::Neg, E::Num(Num::U64(0x8000_0000_0000_0000))) => E::Num(Num::I64(i64::MIN)),
                (
                    UnOp::Neg,
                    E::Num(
                        n @ (Num::I32(_) | Num::I64(_) | Num::F32(_) | Num::F64(_) | Num::Dec(_)),
                    ),
                ) => match crate::numeric::negate(*n, false) {
                    Ok(m) => E::Num(m),
                    Err(_) => E::Unary(op, Box::new(e)),
                },
                _ => E::Unary(op, Box::new(e)),
            };
            return Ok(Expr { at, kind });
        }
        if self.is_punct("++") || self.is_punct("--") {
            let delta = if self.is_punct("++") { 1 } else { -1 };
            self.pos += 1;
            let target = self.unary()?;
            check_assignable(&target)?;
            return Ok(Expr {
                at,
                kind: E::IncDec {
                    target: Box::new(target),
                    delta,
                    prefix: true,
                },
            });
        }
        if self.is_punct("(")
            && let Some(c) = self.try_cast()?
        {
            return Ok(c);
        }
        self.postfix()
    }

    /// A unary expression and any `switch { … }` after it: in C# the switch expression binds
    /// looser than casts and unary operators but tighter than the binary operators.
    pub(super) fn unary_switch(&mut self) -> R<Expr> {
        let mut e = self.unary()?;
        let mut n = 0;
        while self.is_ident("switch") && self.is_punct_at(1, "{") {
            n += 1;
            self.chain_guard(n)?;
            self.pos += 1;
            e = self.switch_expr(e)?;
        }
        Ok(e)
    }

    pub(super) fn try_cast(&mut self) -> R<Option<Expr>> {
        let at = self.at();
        let save = self.pos;
        self.pos += 1;
        let Some(ty) = self.try_type() else {
            self.pos = save;
            return Ok(None);
        };
        if !self.is_punct(")") {
            self.pos = save;
            return Ok(None);
        }
        self.pos += 1;
        let definite = PREDEFINED.contains(&ty.name.as_str()) || ty.array > 0 || ty.nullable;
        let follows_operand = match self.peek() {
            Tok::Ident(s) => !NON_OPERAND.contains(&s.as_str()),
            Tok::Num(_)
            | Tok::Str(_)
            | Tok::Char(_)
            | Tok::Interp(_)
            | Tok::Punct("(" | "!" | "~") => true,
            Tok::Punct("-" | "+") => definite,
            _ => false,
        };
        if !follows_operand {
            self.pos = save;
            return Ok(None);
        }
        self.features.insert("cast");
        self.note(&ty.name);
        let e = self.unary()?;
        Ok(Some(Expr {
            at,
            kind: E::Cast(ty, Box::new(e)),
        }))
    }

    pub(super) fn args(&mut self, close: &str) -> R<Vec<Arg>> {
        let mut out = Vec::new();
        if self.eat(close) {
            return Ok(out);
        }
        loop {
            let mut name = None;
            if let Tok::Ident(n) = self.peek().clone()
                && self.is_punct_at(1, ":")
            {
                self.pos += 2;
                name = Some(n);
            }
            // `ref x` / `in x`: the variable itself is passed. The only method of APIM's
            // surface taking one is `Array.Resize(ref a, n)`, which the interpreter writes
            // back into the variable (crates/expr/src/interp/calls.rs, like `Array.Sort`).
            if (self.is_ident("ref") || self.is_ident("in"))
                && matches!(self.peek_at(1).tok, Tok::Ident(_))
            {
                self.pos += 1;
                self.features.insert("ref");
            }
            let value = if self.is_ident("out") {
                self.out_arg()?
            } else {
                self.expr()?
            };
            out.push(Arg { name, value });
            if self.eat(",") {
                continue;
            }
            self.expect(close)?;
            return Ok(out);
        }
    }

    /// `out var n`, `out int n`, `out _`, `out n`.
    pub(super) fn out_arg(&mut self) -> R<Expr> {
        let at = self.at();
        self.pos += 1;
        self.features.insert("out");
        let (declare, ty) = if matches!(self.peek_at(1).tok, Tok::Ident(_)) {
            if self.is_ident("var") {
                self.pos += 1;
                (true, None)
            } else {
                (true, Some(self.require_type()?))
            }
        } else {
            (false, None)
        };
        let name = self.ident()?;
        Ok(Expr {
            at,
            kind: E::Out { name, declare, ty },
        })
    }

    /// A switch pattern: `or` of `and` of unary patterns.
    pub(super) fn pattern(&mut self) -> R<Pat> {
        self.enter()?;
        let r = self.pattern_or();
        self.depth -= 1;
        r
    }

    pub(super) fn pattern_or(&mut self) -> R<Pat> {
        let mut p = self.pattern_and()?;
        let mut n = 0;
        while self.is_ident("or") {
            n += 1;
            self.chain_guard(n)?;
            self.pos += 1;
            let q = self.pattern_and()?;
            p = Pat::Or(Box::new(p), Box::new(q));
        }
        Ok(p)
    }

    pub(super) fn pattern_and(&mut self) -> R<Pat> {
        let mut p = self.pattern_unary()?;
        let mut n = 0;
        while self.is_ident("and") {
            n += 1;
            self.chain_guard(n)?;
            self.pos += 1;
            let q = self.pattern_unary()?;
            p = Pat::And(Box::new(p), Box::new(q));
        }
        Ok(p)
    }

    pub(super) fn pattern_unary(&mut self) -> R<Pat> {
        if self.is_ident("not") {
            self.pos += 1;
            return Ok(Pat::Not(Box::new(self.pattern()?)));
        }
        if self.is_ident("_") && !matches!(self.peek_at(1).tok, Tok::Punct("." | "(" | "[")) {
            self.pos += 1;
            return Ok(Pat::Discard);
        }
        if self.is_punct("(") {
            self.pos += 1;
            let p = self.pattern()?;
            self.expect(")")?;
            return Ok(p);
        }
        if self.eat("{") {
            return self.property_pattern();
        }
        let rel = match self.peek() {
            Tok::Punct("<") => Some(BinOp::Lt),
            Tok::Punct(">") => Some(BinOp::Gt),
            Tok::Punct("<=") => Some(BinOp::Le),
            Tok::Punct(">=") => Some(BinOp::Ge),
            _ => None,
        };
        if let Some(op) = rel {
            self.pos += 1;
            // Operand above the relational level so `> 5 and < 9` stops at `and`.
            return Ok(Pat::Rel(op, self.binary(11)?));
        }
        // `string s`, `int n`, `var x`, `JObject`: a type followed by a binding name, or a
        // predefined type name alone. Anything else is a constant expression.
        if let Tok::Ident(first) = self.peek().clone()
            && !matches!(first.as_str(), "null" | "true" | "false" | "default")
        {
            let save = self.pos;
            if let Some(ty) = self.try_type() {
                if let Tok::Ident(b) = self.peek().clone()
                    && !matches!(b.as_str(), "when" | "and" | "or")
                {
                    self.pos += 1;
                    self.note(&ty.name);
                    return Ok(Pat::Type(ty, Some(b)));
                }
                let alone = PREDEFINED.contains(&ty.name.as_str())
                    || matches!(
                        ty.name.as_str(),
                        "JObject" | "JArray" | "JToken" | "JValue" | "DateTime" | "Guid"
                    );
                if alone && ty.name != "var" {
                    self.note(&ty.name);
                    return Ok(Pat::Type(ty, None));
                }
            }
            self.pos = save;
        }
        Ok(Pat::Const(self.binary(11)?))
    }

    /// `pattern [when guard]`.
    /// `{ Name: pattern, … } [binding]`; the `{` is consumed.
    fn property_pattern(&mut self) -> R<Pat> {
        self.features.insert("property-pattern");
        let mut props = Vec::new();
        while !self.eat("}") {
            let name = self.ident()?;
            self.expect(":")?;
            props.push((name, self.pattern()?));
            if !self.eat(",") {
                self.expect("}")?;
                break;
            }
        }
        let binding = match self.peek().clone() {
            Tok::Ident(n) if !NON_OPERAND.contains(&n.as_str()) && n != "when" => {
                self.pos += 1;
                Some(n)
            }
            _ => None,
        };
        Ok(Pat::Props(props, binding))
    }

    pub(super) fn case(&mut self) -> R<Case> {
        let pat = self.pattern()?;
        let guard = if self.is_ident("when") {
            self.pos += 1;
            Some(self.expr()?)
        } else {
            None
        };
        Ok(Case { pat, guard })
    }

    /// The arms of `subject switch { … }`; the cursor is after `switch`.
    pub(super) fn switch_expr(&mut self, subject: Expr) -> R<Expr> {
        self.features.insert("switch");
        self.expect("{")?;
        let mut arms = Vec::new();
        loop {
            if self.eat("}") {
                break;
            }
            let c = self.case()?;
            self.expect("=>")?;
            let v = self.expr()?;
            arms.push((c, v));
            if self.eat(",") {
                continue;
            }
            self.expect("}")?;
            break;
        }
        Ok(Expr {
            at: subject.at,
            kind: E::Switch(Box::new(subject), arms),
        })
    }

    pub(super) fn expr_list(&mut self, close: &str) -> R<Vec<Expr>> {
        let mut out = Vec::new();
        if self.eat(close) {
            return Ok(out);
        }
        loop {
            if self.is_punct("{") {
                // `{ k, v }` inside a collection initializer.
                let at = self.at();
                self.pos += 1;
                let items = self.expr_list("}")?;
                out.push(Expr {
                    at,
                    kind: E::NewArray {
                        ty: None,
                        size: None,
                        items: Some(items),
                    },
                });
            } else if self.is_punct("[") {
                // `["k"] = v`, an index initializer (C# 6): read as the pair `{ "k", v }`,
                // which a dictionary's initializer adds. (`[` cannot start an expression.)
                let at = self.at();
                self.pos += 1;
                let key = self.expr()?;
                self.expect("]")?;
                self.expect("=")?;
                let value = self.expr()?;
                out.push(Expr {
                    at,
                    kind: E::NewArray {
                        ty: None,
                        size: None,
                        items: Some(vec![key, value]),
                    },
                });
            } else {
                out.push(self.expr()?);
            }
            if self.eat(",") {
                if self.eat(close) {
                    return Ok(out);
                }
                continue;
            }
            self.expect(close)?;
            return Ok(out);
        }
    }
}
