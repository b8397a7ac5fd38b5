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
            let mut kept = Vec::with_capacity(items.len());
            let mut removed = 0;
            for v in items {
                match self.call_lambda(&l, vec![v.clone()], at)? {
                    Value::Bool(true) => removed += 1,
                    Value::Bool(false) => kept.push(v),
                    other => return Err(lib::cast_err(&other, "System.Boolean", at)),
                }
            }
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
        if name == "CopyTo" && !args.is_empty() {
            return self.copy_to(target, args, at);
        }
        Ok(None)
    }

    /// `src.CopyTo(array, …)`: the items are written into the destination when it is a
    /// variable (or an element of one); on a temporary only the checks are seen. A receiver
    /// that is not a collection of crates/expr/src/library/copy_to.rs (a JArray's `CopyTo` is
    /// its own) goes to the library with the values already evaluated (each evaluated once).
    fn copy_to(&mut self, target: &Expr, args: &[Arg], at: usize) -> F<Option<Value>> {
        let t = self.ev(target)?;
        self.copy_to_value(t, args, at)
    }

    /// [`Self::copy_to`] on a receiver already evaluated (crates/expr/src/interp/spans.rs
    /// reads a receiver with effects once, then hands a collection's `CopyTo` here).
    pub(super) fn copy_to_value(&mut self, t: Value, args: &[Arg], at: usize) -> F<Option<Value>> {
        // A JArray's `CopyTo` has Newtonsoft's checks (crates/expr/src/interp/json_copy.rs).
        if let Value::Json(j) = &t
            && let Some(r) = self.json_copy_to(j, "CopyTo", args, at)
        {
            return r.map(Some);
        }
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            vals.push(self.ev(&a.value)?);
        }
        let Some(plan) = lib::copy_to_plan(&t, &vals, at) else {
            if matches!(t, Value::Null) {
                return Err(null_ref(at));
            }
            let args = vals.into_iter().map(|v| (None, v)).collect();
            return lib::call_method(self, t, "CopyTo", &[], args, at).map(Some);
        };
        let (which, from, items) = plan?;
        let Some(dst) = args.get(which).map(|a| &a.value) else {
            return Ok(Some(Value::Null));
        };
        if !self.is_lvalue(dst) {
            return Ok(Some(Value::Null));
        }
        if let Some(i) = self.root_local(dst) {
            let added = items
                .iter()
                .map(|v| self.size_of(v))
                .fold(0, usize::saturating_add);
            self.grow_local(i, added, at)?;
        }
        let slot = self.lvalue(dst)?;
        for (k, v) in items.into_iter().enumerate() {
            let d = from + k;
            match slot {
                Value::Bytes(b) => {
                    if let (Some(x), Some(cell)) = (lib::int_of(&v), b.get_mut(d)) {
                        *cell = x as u8;
                    }
                }
                Value::Array(a) => {
                    if let Some(cell) = a.get_mut(d) {
                        *cell = v;
                    }
                }
                _ => {}
            }
        }
        Ok(Some(Value::Null))
    }
}
