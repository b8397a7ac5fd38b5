//! How LINQ and `List.Sort` order values: `Comparer<T>.Default`. For strings that is the
//! culture-sensitive comparer, not ordinal order: APIM runs modern .NET, whose invariant culture
//! compares with ICU's root collation, so `"a" < "b" < "C"` (where ordinal order puts `"C"`
//! first). gatehouse approximates that collation in three levels, as ICU does:
//! 1. primary: punctuation and symbols before digits before letters, letters compared without
//!    their case;
//! 2. tertiary: at the first letter whose case differs, lower case first (`"a" < "A"`);
//! 3. ordinal order as the last tie-break.
//!
//! Accents and the relative order of punctuation marks are not modelled (they fall back to code
//! point order). Checked against Mono (mcs/mono), whose invariant culture agrees on these:
//! ```csharp
//! new[] { "b", "a", "C" }.OrderBy(s => s)      // a, b, C
//! new[] { "B", "b", "a", "A" }.OrderBy(s => s) // a, A, b, B
//! new[] { "b1", "a", "_x", "10", "9" }.OrderBy(s => s) // _x, 10, 9, a, b1
//! ```

use std::cmp::Ordering;

use super::*;

fn primary(c: char) -> (u8, char) {
    let class = if c.is_alphabetic() {
        2
    } else if c.is_numeric() {
        1
    } else {
        0
    };
    (class, c.to_lowercase().next().unwrap_or(c))
}

/// The invariant culture's string comparison (see the module note).
pub(crate) fn culture_cmp(a: &str, b: &str) -> Ordering {
    let p = a.chars().map(primary).cmp(b.chars().map(primary));
    if p != Ordering::Equal {
        return p;
    }
    for (x, y) in a.chars().zip(b.chars()) {
        if x != y {
            match (x.is_lowercase(), y.is_lowercase()) {
                (true, false) => return Ordering::Less,
                (false, true) => return Ordering::Greater,
                _ => {}
            }
        }
    }
    a.cmp(b)
}

/// `Comparer<T>.Default.Compare(a, b)`: null first, strings by [`culture_cmp`], the rest by
/// value.
pub(crate) fn sort_cmp(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::String(x), Value::String(y)) => culture_cmp(x, y),
        _ => cmp_values(a, b).unwrap_or(Ordering::Equal),
    }
}

/// `OrderBy(k1).ThenBy(k2)…`: one stable sort on the keys in turn, each ascending or
/// descending (the interpreter gathers the chain: crates/expr/src/interp/calls.rs).
pub(crate) fn order_by_keys(
    it: &mut Interp,
    source: Value,
    keys: &[(Arc<Lambda>, bool)],
    at: usize,
) -> F<Value> {
    let items = iterate(it, source, at)?;
    let mut keyed = Vec::with_capacity(items.len());
    let mut grown = 0usize;
    for v in items {
        let mut ks = Vec::with_capacity(keys.len());
        for (l, _) in keys {
            let k = it.call_lambda(l, vec![v.clone()], at)?;
            grown = grown.saturating_add(it.size_of(&k) + SLOT);
            it.charge(grown, at)?;
            ks.push(k);
        }
        keyed.push((ks, v));
    }
    keyed.sort_by(|a, b| {
        for (i, (_, desc)) in keys.iter().enumerate() {
            let o = sort_cmp(&a.0[i], &b.0[i]);
            let o = if *desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
    Ok(Value::Array(keyed.into_iter().map(|(_, v)| v).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_order_as_the_invariant_culture() {
        let mut v = ["b", "a", "C", "A", "_x", "10", "9", "B"];
        v.sort_by(|a, b| culture_cmp(a, b));
        assert_eq!(v, ["_x", "10", "9", "a", "A", "b", "B", "C"]);
    }

    #[test]
    fn nulls_come_first() {
        let mut v = [Value::str("a"), Value::Null, Value::Int(1)];
        v.sort_by(sort_cmp);
        assert!(matches!(v[0], Value::Null));
    }
}
