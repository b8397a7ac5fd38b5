//! What the expression tests share: running a source against a context (a source in `{ … }`
//! is a block of statements, anything else one expression), and reading its text, its .NET
//! exception type or its `policy check` findings. Each test file keeps only its own fixture.

// Each test binary uses the helpers it needs.
#![allow(dead_code)]

use gatehouse_expr::{ExprKind, MapContext, RuntimeError, Value, eval, parse};

/// Runs `src` against `ctx`; a parse error fails the test.
pub fn run_in(src: &str, ctx: &mut MapContext) -> Result<Value, RuntimeError> {
    let t = src.trim();
    let (kind, body) = match t.strip_prefix('{').and_then(|b| b.strip_suffix('}')) {
        Some(block) => (ExprKind::Block, block),
        None => (ExprKind::Single, src),
    };
    let p = parse(body, kind).unwrap_or_else(|e| panic!("parse {src:?}: {e:?}"));
    eval(&p, ctx)
}

/// The value's text; an exception fails the test.
pub fn text_of(src: &str, r: Result<Value, RuntimeError>) -> String {
    match r {
        Ok(v) => v.to_display(),
        Err(e) => panic!("{src:?} failed: {e:?}"),
    }
}

/// The .NET exception type; a value fails the test.
pub fn kind_of(src: &str, r: Result<Value, RuntimeError>) -> &'static str {
    match r {
        Ok(v) => panic!("{src:?} gave {v:?}, not an error"),
        Err(e) => e.kind,
    }
}

/// One expression over an empty context: its text, `!Kind` for a .NET exception, or the parse
/// error's text.
pub fn text_or_kind(src: &str) -> String {
    text_or_kind_as(src, ExprKind::Single)
}

/// [`text_or_kind`] for a source of the given kind (`Block`: statements ending in `return`).
pub fn text_or_kind_as(src: &str, kind: ExprKind) -> String {
    let program = match parse(src, kind) {
        Ok(p) => p,
        Err(e) => return format!("parse error: {e}"),
    };
    match eval(&program, &mut MapContext::new()) {
        Ok(v) => v.to_display(),
        Err(e) => format!("!{}", e.kind),
    }
}

/// `policy check` finds nothing unsupported in the block `src`.
pub fn no_findings(src: &str) {
    let p = parse(src, ExprKind::Block).unwrap_or_else(|e| panic!("parse {src:?}: {e:?}"));
    let found = p.unsupported_members();
    assert!(found.is_empty(), "{src:?}: {found:?}");
}
