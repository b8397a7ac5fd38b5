//! Methods that change a local in place and need the interpreter: `Element(n).Remove()` on an
//! XElement, and `List.RemoveAll(predicate)`.
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
        // `e.Element("b").Remove()` / `e.Elements("b").Remove()` on an element in a local:
        // the child elements leave it (the tree has no parent links to follow otherwise).
        if name == "Remove"
            && args.is_empty()
            && let E::Call {
                callee: inner,
                args: iargs,
                ..
            } = &target.kind
            && let E::Member {
                target: obj,
                name: pname,
                ..
            } = &inner.kind
            && matches!(pname.as_str(), "Element" | "Elements")
            && iargs.len() <= 1
            && self.is_lvalue(obj)
            && !self.json_rooted(obj)
            && matches!(self.lvalue(obj)?, Value::Object(Object::XElement(_)))
        {
            let child = match iargs.first() {
                Some(a) => Some(self.ev(&a.value)?),
                None => None,
            };
            let all = pname == "Elements";
            if let Value::Object(Object::XElement(e)) = self.lvalue(obj)? {
                return lib::xml_remove_children(e, child.as_ref(), all, at).map(Some);
            }
        }
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
        Ok(None)
    }
}
