//! Methods that change a local in place and need the interpreter: `List.RemoveAll(predicate)`.
//! (LINQ to XML nodes and JSON tokens are edited in place through any reference:
//! crates/expr/src/library/xml_mutate.rs, crates/expr/src/jtree.rs.)
//! Apart from crates/expr/src/interp/calls.rs so that `call`'s stack frame, repeated at every
//! nested call, stays small.

use super::*;

impl<'c> Interp<'c> {
    /// The change made and its result, or `None` when the call is not one of these.
    #[inline(never)]
    pub(super) fn call_in_place(
        &mut self,
        target: &Expr,
        name: &str,
        args: &[Arg],
        at: usize,
    ) -> F<Option<Value>> {
        // `list.RemoveAll(x => …)` on a list in a local: the predicate runs over a copy, then
        // the kept elements replace the list; the count removed is the result.
        if name == "RemoveAll"
            && args.len() == 1
            && self.is_lvalue(target)
            && let Value::Array(items) = self.ev(target)?
        {
            let Value::Lambda(l) = self.ev(&args[0].value)? else {
                return Err(rt("CompilationError", "RemoveAll needs a predicate", at));
            };
            let (removed, kept) = lib::remove_matching(self, &l, items, at)?;
            self.assign(target, Value::Array(kept))?;
            return Ok(Some(Value::Int(removed)));
        }
        // `list.Sort(comparison)`, `Sort(comparer)`, `Sort(index, count, comparer)` on a list
        // in a local: the comparison may call back into the interpreter, so the list is
        // sorted as a copy and written back (crates/expr/src/library/collection_members.rs).
        if name == "Sort"
            && !args.is_empty()
            && self.is_lvalue(target)
            && let Value::Array(items) = self.ev(target)?
        {
            let mut vals = Vec::with_capacity(args.len());
            for a in args {
                vals.push((None, self.ev(&a.value)?));
            }
            let sorted = lib::sort_list(self, items, &vals, at)?;
            self.assign(target, Value::Array(sorted))?;
            return Ok(Some(Value::Null));
        }
        Ok(None)
    }
}
