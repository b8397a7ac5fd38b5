//! `OrderBy(…).ThenBy(…)` chains: the keys are read from the source, as gatehouse holds an
//! ordered sequence as a plain one (crates/expr/src/library/ordering.rs sorts).

use super::*;

impl<'c> Interp<'c> {
    /// `s.OrderBy(k1).ThenBy(k2)…`: gatehouse holds an ordered sequence as a plain one, so the
    /// chain of keys is read from the source and the source sorted on all of them at once.
    pub(super) fn ordered_chain(&mut self, callee: &Expr, args: &[Arg], at: usize) -> F<Value> {
        // From the outermost call in: (key selector, descending), then the source.
        let mut keys: Vec<(&Expr, bool)> = Vec::new();
        let (mut e, mut a) = (callee, args);
        let source = loop {
            let (E::Member { target, name, .. }, [key]) = (&e.kind, a) else {
                return Err(rt("CompilationError", "Method name expected", at));
            };
            keys.push((&key.value, name.ends_with("Descending")));
            if matches!(name.as_str(), "OrderBy" | "OrderByDescending") {
                break target;
            }
            match &target.kind {
                E::Call { callee, args, .. } => (e, a) = (callee, args),
                _ => {
                    return Err(rt(
                        "CompilationError",
                        format!("'{name}' needs an ordered sequence (OrderBy first)"),
                        at,
                    ));
                }
            }
        };
        keys.reverse();
        // Evaluated in source order: the source, then each key selector.
        let src = self.ev(source)?;
        let mut lambdas = Vec::with_capacity(keys.len());
        for (k, desc) in keys {
            match self.ev(k)? {
                Value::Lambda(l) => lambdas.push((l, desc)),
                other => return Err(lib::cast_err(&other, "Func", at)),
            }
        }
        lib::order_by_keys(self, src, &lambdas, at)
    }
}
