//! `System.Tuple`: `Tuple.Create(…)` and `new Tuple<…>(…)`, `Item1`…`Item7`, `ToString()`
//! (`(1, a)`), structural `Equals`, reference `==`, and the hash .NET computes for it
//! (Tuple.cs: `CombineHashCodes` over the items' hashes, deterministic unlike a value
//! tuple's). Held as the value tuple is (crates/expr/src/tuple.rs), of kind `Reference`; anonymous
//! objects (`new { a = 1 }`) are held the same way, of kind `Anonymous`.

use super::*;

/// `System.Tuple`'s type names by arity (`GetType()`; the type arguments are not kept).
const TYPE_NAMES: [&str; 7] = [
    "System.Tuple`1",
    "System.Tuple`2",
    "System.Tuple`3",
    "System.Tuple`4",
    "System.Tuple`5",
    "System.Tuple`6",
    "System.Tuple`7",
];

pub(crate) fn reference_tuple_type(arity: usize) -> &'static str {
    TYPE_NAMES
        .get(arity.wrapping_sub(1))
        .copied()
        .unwrap_or("System.Tuple")
}

/// An anonymous object's type name (`GetType()`): Roslyn names the generic class it generates
/// `<>f__AnonymousType<n>`<arity>`, numbered in the order of the compilation; gatehouse
/// numbers every shape 0 (the type arguments are not kept).
pub(crate) fn anonymous_type(arity: usize) -> &'static str {
    const NAMES: [&str; 9] = [
        "<>f__AnonymousType0",
        "<>f__AnonymousType0`1",
        "<>f__AnonymousType0`2",
        "<>f__AnonymousType0`3",
        "<>f__AnonymousType0`4",
        "<>f__AnonymousType0`5",
        "<>f__AnonymousType0`6",
        "<>f__AnonymousType0`7",
        "<>f__AnonymousType0`8",
    ];
    NAMES.get(arity).copied().unwrap_or("<>f__AnonymousType0")
}

/// An anonymous object's `GetHashCode()`, as Roslyn generates it: each item's hash folded as
/// `h * -1521134295 + item`. Roslyn's seed comes from the member names in a way the compiler
/// does not document, so gatehouse starts from 0: equal objects hash equal, as .NET promises,
/// but the number differs from .NET's.
pub(crate) fn anonymous_hash(t: &crate::tuple::Tuple) -> i32 {
    t.items.iter().fold(0i32, |h, x| {
        h.wrapping_mul(-1521134295).wrapping_add(hash_code(x))
    })
}

pub(crate) fn is_reference_tuple(v: &Value) -> bool {
    matches!(v, Value::Object(Object::Tuple(t)) if t.is_class())
}

/// `Tuple.Create(a, …)` / `new Tuple<…>(a, …)` with one to seven items. (Eight make a tuple
/// whose `Rest` is another tuple, which is not held here.)
pub(crate) fn reference_tuple(it: &mut Interp, args: &Args, at: usize) -> F<Value> {
    if args.is_empty() || args.len() > 7 {
        return Err(rt(
            if args.is_empty() {
                "CompilationError"
            } else {
                "NotSupportedException"
            },
            format!(
                "Tuple.Create with {} arguments is not supported (one to seven)",
                args.len()
            ),
            at,
        ));
    }
    it.charge(args.len() * SLOT, at)?;
    Ok(Value::Object(Object::Tuple(Arc::new(
        crate::tuple::Tuple {
            items: args.iter().map(|(_, v)| v.clone()).collect(),
            names: vec![None; args.len()],
            kind: crate::tuple::TupleKind::Reference,
        },
    ))))
}

/// Tuple.cs's `CombineHashCodes`.
fn combine(h1: i32, h2: i32) -> i32 {
    (h1 << 5).wrapping_add(h1) ^ h2
}

/// `Tuple<…>.GetHashCode()`: the items' hashes (0 for null) combined as Tuple.cs does for
/// each arity.
pub(crate) fn reference_tuple_hash(t: &crate::tuple::Tuple) -> i32 {
    let h: Vec<i32> = t.items.iter().map(hash_code).collect();
    let c3 = |a: i32, b: i32, c: i32| combine(combine(a, b), c);
    let c4 = |a: i32, b: i32, c: i32, d: i32| combine(combine(a, b), combine(c, d));
    match h.as_slice() {
        [a] => *a,
        [a, b] => combine(*a, *b),
        [a, b, c] => c3(*a, *b, *c),
        [a, b, c, d] => c4(*a, *b, *c, *d),
        [a, b, c, d, e] => combine(c4(*a, *b, *c, *d), *e),
        [a, b, c, d, e, f] => combine(c4(*a, *b, *c, *d), combine(*e, *f)),
        [a, b, c, d, e, f, g] => combine(c4(*a, *b, *c, *d), c3(*e, *f, *g)),
        _ => 0,
    }
}
