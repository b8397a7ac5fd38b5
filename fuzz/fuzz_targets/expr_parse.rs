//! Arbitrary UTF-8 through the expression lexer and parser, as both `@( … )` (one expression)
//! and `@{ … }` (statements): parsing never panics, and a parsed program's unsupported-member
//! scan (what `policy check` runs) never panics either.

#![no_main]

use gatehouse_policy::expr::{ExprKind, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for kind in [ExprKind::Single, ExprKind::Block] {
        if let Ok(program) = parse(text, kind) {
            assert_eq!(program.kind(), kind);
            let _ = program.unsupported_members();
            let _ = program.features();
        }
    }
});
