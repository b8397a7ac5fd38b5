//! Pratt parser for the C# subset. It never panics: every lookahead goes through `peek`, which
//! answers `Eof` past the end, and nesting is bounded so hostile input cannot exhaust the stack
//! (of the parser, or of the interpreter that walks the tree later).

use std::collections::BTreeSet;
use std::sync::Arc;

use super::ast::*;
use super::lexer::{InterpPart, Tok, Token, tokenize};
use crate::error::ExprError;

mod expressions;
mod primary;
mod statements;
mod trycatch;

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
        "System.Security.Cryptography.X509Certificates.",
        "System.Security.Cryptography.",
        "System.Text.",
        "System.Linq.",
        "System.Xml.Linq.",
        "System.Xml.",
        "System.IO.",
        "System.Net.",
        "System.Globalization.",
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
        "SByte" => "sbyte",
        "Int16" => "short",
        "UInt16" => "ushort",
        "UInt32" => "uint",
        "UInt64" => "ulong",
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
    /// Each distinct string literal, held once: the CLR interns literals, so two equal
    /// literals are one object (`object.ReferenceEquals("a", "a")` is true).
    literals: std::collections::HashSet<std::sync::Arc<str>>,
}

type R<T> = Result<T, ExprError>;

impl Parser {
    pub(crate) fn new(source: &str, base: usize) -> R<Self> {
        Ok(Parser {
            toks: tokenize(source, base)?,
            pos: 0,
            depth: 0,
            features: BTreeSet::new(),
            literals: Default::default(),
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

    /// `(int, string)` or `(int a, string b)`: a value tuple type (element names are not
    /// kept: the tuple literal's own names are what members resolve against).
    fn tuple_type(&mut self, level: usize) -> Option<TypeRef> {
        self.pos += 1;
        let mut args = Vec::new();
        loop {
            args.push(self.type_inner(level + 1)?);
            if matches!(self.peek(), Tok::Ident(_))
                && matches!(self.peek_at(1).tok, Tok::Punct("," | ")"))
            {
                self.pos += 1;
            }
            if self.eat(",") {
                continue;
            }
            if self.eat(")") {
                break;
            }
            return None;
        }
        (args.len() >= 2).then(|| TypeRef {
            name: "ValueTuple".to_string(),
            args,
            array: 0,
            nullable: false,
        })
    }

    fn type_inner(&mut self, level: usize) -> Option<TypeRef> {
        if level > 8 {
            return None;
        }
        if self.is_punct("(") {
            return self.tuple_type(level);
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
