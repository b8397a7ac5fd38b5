//! `node.Changed += handler` / `-=` on LINQ to XML objects, and the calling of the handlers
//! of the changes an expression made (crates/expr/src/library/xml_events.rs): after each call
//! and assignment, the announcements the tree recorded are delivered in order.

use super::*;

impl Interp<'_> {
    /// `target.Changed += value` / `Changing -= value`; `None` for any other assignment.
    pub(super) fn xml_event_subscription(
        &mut self,
        target: &Expr,
        op: Option<BinOp>,
        value: &Expr,
        at: usize,
    ) -> Option<F<Value>> {
        let add = match op {
            Some(BinOp::Add) => true,
            Some(BinOp::Sub) => false,
            _ => return None,
        };
        let E::Member {
            target: obj, name, ..
        } = &target.kind
        else {
            return None;
        };
        if !matches!(name.as_str(), "Changed" | "Changing") {
            return None;
        }
        Some(self.subscribe_xml(obj, name, value, add, at))
    }

    fn subscribe_xml(
        &mut self,
        obj: &Expr,
        name: &str,
        value: &Expr,
        add: bool,
        at: usize,
    ) -> F<Value> {
        let o = self.ev(obj)?;
        let handler = self.ev(value)?;
        match lib::subscribe(&o, name, &handler, add, at) {
            Some(r) => r.map(|()| Value::Null),
            None if o.is_null() => Err(null_ref(at)),
            None => Err(rt(
                "RuntimeBinderException",
                format!(
                    "'{}' does not contain a definition for '{name}'",
                    o.type_name()
                ),
                at,
            )),
        }
    }

    /// Calls the handlers of the changes made so far; passes `r` through (on an error the
    /// announcements are dropped: the expression failed).
    pub(super) fn raise_xml_events(&mut self, r: F<Value>, at: usize) -> F<Value> {
        if r.is_err() {
            lib::clear_xml_events();
            return r;
        }
        for e in lib::take_xml_events() {
            let args = lib::event_arguments(&e);
            for h in &e.handlers {
                self.call_lambda(h, args.clone(), at)?;
            }
        }
        r
    }
}
