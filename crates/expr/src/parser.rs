//! Pratt parser for the C# subset. It never panics: every lookahead goes through `peek`, which
//! answers `Eof` past the end, and nesting is bounded so hostile input cannot exhaust the stack
//! (of the parser, or of the interpreter that walks the tree later).

use std::collections::BTreeSet;
use std::sync::Arc;

use super::ExprError;
use super::ast::*;
use super::lexer::{InterpPart, Tok, Token, tokenize};

/// Deepest nesting accepted. Real policies stay far below; the bound keeps the recursive parser
/// and the tree-walking interpreter within a thread's stack.
const MAX_DEPTH: usize = 96;

/// C# keywords that name built-in types; `(string)x` is always a cast, even before `-`.
const PREDEFINED: &[&str] = &[
    "string", "int", "long", "bool", "double", "float", "decimal", "byte", "sbyte", "char",
    "object", "short", "ushort", "uint", "ulong", "var", "dynamic",
];

/// Keywords that cannot start an operand; used to tell a cast `(T)x` from `(x) as T`.
const NON_OPERAND: &[&str] = &["is", "as", "in", "switch", "with", "and", "or"];

/// Strips the namespaces real policies spell out and maps CLR names to C# keywords, so the
/// interpreter only ever sees one spelling (`System.String` and `string` are the same type).
pub(crate) fn normalize_type_name(name: &str) -> String {
    const PREFIXES: &[&str] = &[
        "System.Collections.Generic.",
        "System.Text.RegularExpressions.",
        "System.Security.Cryptography.",
        "System.Text.",
        "System.Linq.",
        "System.Xml.Linq.",
        "System.Net.",
        "Newtonsoft.Json.Linq.",
        "Newtonsoft.Json.",
        "System.",
    ];
    let mut n = name;
    for p in PREFIXES {
        if let Some(rest) = n.strip_prefix(p) {
            n = rest;
            break;
        }
    }
    match n {
        "String" => "string",
        "Int32" => "int",
        "Int64" => "long",
        "Boolean" => "bool",
        "Double" => "double",
        "Single" => "float",
        "Decimal" => "decimal",
        "Object" => "object",
        "Byte" => "byte",
        "Char" => "char",
        other => other,
    }
    .to_string()
}

pub(crate) struct Parser {
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    pub(crate) features: BTreeSet<&'static str>,
}

type R<T> = Result<T, ExprError>;

impl Parser {
    pub(crate) fn new(source: &str, base: usize) -> R<Self> {
        Ok(Parser {
            toks: tokenize(source, base)?,
            pos: 0,
            depth: 0,
            features: BTreeSet::new(),
        })
    }

    fn peek_at(&self, n: usize) -> &Token {
        // The token list always ends with Eof; clamp to it.
        let i = (self.pos + n).min(self.toks.len().saturating_sub(1));
        &self.toks[i]
    }

    fn peek(&self) -> &Tok {
        &self.peek_at(0).tok
    }

    fn at(&self) -> usize {
        self.peek_at(0).start
    }

    fn bump(&mut self) -> Token {
        let t = self.peek_at(0).clone();
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::Punct(q) if *q == p)
    }

    fn is_punct_at(&self, n: usize, p: &str) -> bool {
        matches!(&self.peek_at(n).tok, Tok::Punct(q) if *q == p)
    }

    fn is_ident(&self, name: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == name)
    }

    fn eat(&mut self, p: &str) -> bool {
        if self.is_punct(p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn describe(&self) -> String {
        match self.peek() {
            Tok::Ident(s) => format!("'{s}'"),
            Tok::Punct(p) => format!("'{p}'"),
            Tok::Eof => "end of expression".into(),
            _ => "a literal".into(),
        }
    }

    fn expect(&mut self, p: &str) -> R<()> {
        if self.eat(p) {
            Ok(())
        } else {
            Err(ExprError::new(
                self.at(),
                format!("expected '{p}' but found {}", self.describe()),
            ))
        }
    }

    fn ident(&mut self) -> R<String> {
        match self.peek().clone() {
            Tok::Ident(s) => {
                self.pos += 1;
                Ok(s)
            }
            _ => Err(ExprError::new(
                self.at(),
                format!("expected an identifier but found {}", self.describe()),
            )),
        }
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ExprError::new(self.at(), "expression is nested too deeply"));
        }
        Ok(())
    }

    /// Bounds chains built by loops (`a+b+c…`, `a.b.c…`) which deepen the tree without recursion.
    fn chain_guard(&self, n: usize) -> R<()> {
        if self.depth + n / 4 > MAX_DEPTH || n > 4 * MAX_DEPTH {
            return Err(ExprError::new(self.at(), "expression is too long a chain"));
        }
        Ok(())
    }

    pub(crate) fn expect_eof(&self) -> R<()> {
        if matches!(self.peek(), Tok::Eof) {
            Ok(())
        } else {
            Err(ExprError::new(
                self.at(),
                format!(
                    "unexpected {} after the end of the expression",
                    self.describe()
                ),
            ))
        }
    }

    fn note(&mut self, name: &str) {
        if let Some(f) = crate::features::feature_of(name) {
            self.features.insert(f);
        }
    }

    // ---------------------------------------------------------------- types

    /// Tries to read a type at the current position; restores the position and answers `None`
    /// when what follows is not a type.
    fn try_type(&mut self) -> Option<TypeRef> {
        let save = self.pos;
        match self.type_inner(0) {
            Some(t) => Some(t),
            None => {
                self.pos = save;
                None
            }
        }
    }

    fn type_inner(&mut self, level: usize) -> Option<TypeRef> {
        if level > 8 {
            return None;
        }
        let Tok::Ident(first) = self.peek().clone() else {
            return None;
        };
        if NON_OPERAND.contains(&first.as_str())
            || matches!(first.as_str(), "new" | "true" | "false" | "null" | "typeof")
        {
            return None;
        }
        self.pos += 1;
        let mut name = first;
        while self.is_punct(".") && matches!(self.peek_at(1).tok, Tok::Ident(_)) {
            self.pos += 1;
            if let Tok::Ident(s) = self.bump().tok {
                name.push('.');
                name.push_str(&s);
            }
        }
        let mut args = Vec::new();
        if self.is_punct("<") {
            self.pos += 1;
            loop {
                args.push(self.type_inner(level + 1)?);
                if self.eat(",") {
                    continue;
                }
                if self.eat(">") {
                    break;
                }
                return None;
            }
        }
        let mut nullable = false;
        if self.is_punct("?") {
            let next = &self.peek_at(1).tok;
            let ok = matches!(next, Tok::Punct(")" | ">" | "," | "["))
                || (matches!(next, Tok::Ident(_))
                    && matches!(&self.peek_at(2).tok, Tok::Punct("=" | ";"))
                    || matches!(&self.peek_at(2).tok, Tok::Ident(s) if s == "in"));
            if ok {
                self.pos += 1;
                nullable = true;
            }
        }
        let mut array = 0;
        while self.is_punct("[") && self.is_punct_at(1, "]") {
            self.pos += 2;
            array += 1;
        }
        Some(TypeRef {
            name: normalize_type_name(&name),
            args,
            array,
            nullable,
        })
    }

    fn require_type(&mut self) -> R<TypeRef> {
        let at = self.at();
        let t = self.try_type().ok_or_else(|| {
            ExprError::new(at, format!("expected a type but found {}", self.describe()))
        })?;
        self.note(&t.name);
        Ok(t)
    }

    // ---------------------------------------------------------------- expressions

    pub(crate) fn expr(&mut self) -> R<Expr> {
        self.enter()?;
        let r = self.assignment();
        self.depth -= 1;
        r
    }

    fn assignment(&mut self) -> R<Expr> {
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
    fn try_lambda(&mut self) -> R<Option<Expr>> {
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

    fn lambda_body(&mut self, at: usize, params: Vec<String>) -> R<Expr> {
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

    fn conditional(&mut self) -> R<Expr> {
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
    fn binop(&self) -> Option<(u8, &'static str, usize)> {
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

    fn binary(&mut self, min: u8) -> R<Expr> {
        self.enter()?;
        let r = self.binary_inner(min);
        self.depth -= 1;
        r
    }

    fn binary_inner(&mut self, min: u8) -> R<Expr> {
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
    fn is_pattern(&mut self, left: Expr) -> R<Expr> {
        let at = left.at;
        let negate = if self.is_ident("not") {
            self.pos += 1;
            true
        } else {
            false
        };
        let is_const = matches!(
            self.peek(),
            Tok::Int(_) | Tok::Double(_) | Tok::Str(_) | Tok::Char(_) | Tok::Punct("-")
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

    fn unary(&mut self) -> R<Expr> {
        self.enter()?;
        let r = self.unary_inner();
        self.depth -= 1;
        r
    }

    fn unary_inner(&mut self) -> R<Expr> {
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
                (UnOp::Neg, E::Int(i)) => E::Int(i.wrapping_neg()),
                (UnOp::Neg, E::Double(d)) => E::Double(-d),
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
    fn unary_switch(&mut self) -> R<Expr> {
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

    fn try_cast(&mut self) -> R<Option<Expr>> {
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
            Tok::Int(_)
            | Tok::Double(_)
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

    fn args(&mut self, close: &str) -> R<Vec<Arg>> {
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
            if self.is_ident("ref") || self.is_ident("in") {
                return Err(ExprError::new(self.at(), "ref arguments are not supported")
                    .unsupported("ref arguments"));
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
    fn out_arg(&mut self) -> R<Expr> {
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
    fn pattern(&mut self) -> R<Pat> {
        self.enter()?;
        let r = self.pattern_or();
        self.depth -= 1;
        r
    }

    fn pattern_or(&mut self) -> R<Pat> {
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

    fn pattern_and(&mut self) -> R<Pat> {
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

    fn pattern_unary(&mut self) -> R<Pat> {
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
    fn case(&mut self) -> R<Case> {
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
    fn switch_expr(&mut self, subject: Expr) -> R<Expr> {
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

    fn expr_list(&mut self, close: &str) -> R<Vec<Expr>> {
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

    fn postfix(&mut self) -> R<Expr> {
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

    fn primary(&mut self) -> R<Expr> {
        let at = self.at();
        let tok = self.bump();
        let kind = match tok.tok {
            Tok::Int(i) => E::Int(i),
            Tok::Double(d) => E::Double(d),
            Tok::Str(s) => E::Str(s.into()),
            Tok::Char(c) => E::Char(c),
            Tok::Interp(parts) => self.interpolation(parts)?,
            Tok::Punct("(") => {
                let e = self.expr()?;
                if self.is_punct(",") {
                    return Err(
                        ExprError::new(self.at(), "tuples are not supported").unsupported("tuples")
                    );
                }
                self.expect(")")?;
                return Ok(e);
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
                "this" | "base" | "await" | "stackalloc" | "checked" | "unchecked" | "nameof"
                | "sizeof" | "switch" | "throw" | "delegate" => {
                    return Err(ExprError::new(at, format!("'{name}' is not supported"))
                        .unsupported(name.as_str()));
                }
                _ => {
                    self.note(&name);
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

    fn interpolation(&mut self, parts: Vec<InterpPart>) -> R<E> {
        self.features.insert("interpolation");
        let mut out = Vec::new();
        for p in parts {
            match p {
                InterpPart::Text(t) => out.push(Part::Text(t)),
                InterpPart::Hole {
                    source,
                    offset,
                    format,
                } => {
                    let mut sub = Parser::new(&source, offset)?;
                    sub.depth = self.depth + 1;
                    let e = sub.expr()?;
                    sub.expect_eof()?;
                    self.features.extend(sub.features);
                    out.push(Part::Hole(e, format));
                }
            }
        }
        Ok(E::Interp(out))
    }

    fn new_expr(&mut self, at: usize) -> R<Expr> {
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

    // ---------------------------------------------------------------- statements

    /// Statements up to the end of input (the body of `@{ … }`).
    pub(crate) fn statements_to_eof(&mut self) -> R<Vec<Stmt>> {
        let mut out = Vec::new();
        while !matches!(self.peek(), Tok::Eof) {
            out.push(self.statement()?);
        }
        Ok(out)
    }

    /// Statements up to a closing brace, which is consumed.
    fn statements_until_brace(&mut self) -> R<Vec<Stmt>> {
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

    fn statement(&mut self) -> R<Stmt> {
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

    fn statement_inner(&mut self) -> R<Stmt> {
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
                if !self.is_ident("var") {
                    self.require_type()?;
                } else {
                    self.pos += 1;
                }
                let var = self.ident()?;
                if !self.is_ident("in") {
                    return Err(ExprError::new(self.at(), "expected 'in'"));
                }
                self.pos += 1;
                let iter = self.expr()?;
                self.expect(")")?;
                let body = Box::new(self.statement()?);
                return s(S::Foreach { var, iter, body });
            }
            "while" => {
                self.pos += 1;
                self.expect("(")?;
                let c = self.expr()?;
                self.expect(")")?;
                let body = Box::new(self.statement()?);
                return s(S::While(c, body));
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
                self.pos += 2;
                return s(S::Block(self.statements_until_brace()?));
            }
            "using" if self.is_punct_at(1, "(") => {
                // `using (var h = new HMACSHA256(k)) { … }`: disposal has no meaning here.
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
                body.push(self.statement()?);
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
            "try" | "switch" | "do" | "goto" | "lock" | "yield" | "fixed" | "unsafe" => {
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
    fn local_function(&mut self, at: usize, ret: TypeRef) -> R<Vec<Stmt>> {
        // A nesting level of its own: a local function costs more parser (and interpreter)
        // stack per level than a plain block.
        self.enter()?;
        let r = self.local_function_inner(at, ret);
        self.depth -= 1;
        r
    }

    fn local_function_inner(&mut self, at: usize, ret: TypeRef) -> R<Vec<Stmt>> {
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
    fn switch_statement(&mut self) -> R<S> {
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

    fn try_declaration(&mut self) -> R<Option<Vec<Stmt>>> {
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
    fn try_declaration_no_semicolon(&mut self) -> R<Option<Vec<Stmt>>> {
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

fn check_assignable(e: &Expr) -> R<()> {
    match &e.kind {
        E::Name(_) | E::Index { .. } | E::Member { .. } => Ok(()),
        _ => Err(ExprError::new(
            e.at,
            "the left-hand side of an assignment must be a variable, property or indexer",
        )),
    }
}
