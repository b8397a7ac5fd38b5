//! Assignment targets: locals and the elements and members below them.

use super::*;

impl<'c> Interp<'c> {
    pub(super) fn is_lvalue(&self, e: &Expr) -> bool {
        match &e.kind {
            E::Name(n) => self.local(n).is_some(),
            E::Index { target, .. } => self.is_lvalue(target),
            _ => false,
        }
    }

    /// Whether `e` (a local or an element of one) reaches into a JSON tree: its tokens are
    /// shared and change in place through any handle, never through a `&mut` slot.
    pub(super) fn json_rooted(&self, e: &Expr) -> bool {
        self.root_local(e)
            .and_then(|i| self.locals.get(i))
            .is_some_and(|(_, v)| matches!(v, Value::Json(_)))
    }

    /// A mutable reference to a local or an element inside one (`body["a"]["b"]`). Keys are
    /// evaluated before the local is borrowed.
    pub(super) fn lvalue(&mut self, e: &Expr) -> F<&mut Value> {
        let mut keys = Vec::new();
        let mut cur = e;
        loop {
            match &cur.kind {
                E::Index { target, args, .. } => {
                    if args.len() != 1 {
                        return Err(rt(
                            "NotSupportedException",
                            "multi-dimensional indexers are not supported",
                            cur.at,
                        ));
                    }
                    keys.push((self.ev(&args[0])?, cur.at));
                    cur = target;
                }
                E::Name(n) => {
                    let Some(i) = self.local_index(n) else {
                        return Err(rt(
                            "CompilationError",
                            format!("The name '{n}' does not exist in the current context"),
                            cur.at,
                        ));
                    };
                    let mut slot = &mut self.locals[i].1;
                    for (k, kat) in keys.into_iter().rev() {
                        slot = lib::element_mut(slot, &k, kat)?;
                    }
                    return Ok(slot);
                }
                _ => {
                    return Err(rt(
                        "NotSupportedException",
                        "only locals and their elements can be assigned",
                        cur.at,
                    ));
                }
            }
        }
    }

    pub(super) fn assign(&mut self, target: &Expr, v: Value) -> F<()> {
        match &target.kind {
            E::Name(n) => match self.local_index(n) {
                Some(i) => self.set_local(i, v, target.at),
                None => Err(rt(
                    "CompilationError",
                    format!("The name '{n}' does not exist in the current context"),
                    target.at,
                )),
            },
            E::Index { .. } => {
                let mut keys = Vec::new();
                let mut cur = target;
                while let E::Index {
                    target: t, args, ..
                } = &cur.kind
                {
                    if args.len() != 1 {
                        return Err(rt(
                            "NotSupportedException",
                            "multi-dimensional indexers are not supported",
                            cur.at,
                        ));
                    }
                    keys.push((self.ev(&args[0])?, cur.at));
                    cur = t;
                }
                keys.reverse();
                // `((JObject)a[0])["b"] = v`: a token reached by any expression is changed
                // in place (it is shared with its tree).
                if !matches!(&cur.kind, E::Name(_)) {
                    let mut o = self.ev(cur)?;
                    // A token, or an object with identity (`ex.Data["k"] = v`, `sb[0] = c`
                    // read through a property): changed where it is.
                    if matches!(o, Value::Json(_) | Value::Object(Object::Io(_))) {
                        let grown = self.size_of(&v);
                        self.grow(grown, target.at)?;
                        return lib::set_path(&mut o, &keys, v);
                    }
                }
                let E::Name(n) = &cur.kind else {
                    return Err(rt(
                        "NotSupportedException",
                        "only locals and their elements can be assigned",
                        cur.at,
                    ));
                };
                let Some(i) = self.local_index(n) else {
                    return Err(rt(
                        "CompilationError",
                        format!("The name '{n}' does not exist in the current context"),
                        cur.at,
                    ));
                };
                // Counted as growth (the replaced element is not subtracted until the
                // local is counted again).
                self.grow_local(i, self.size_of(&v), target.at)?;
                lib::set_path(&mut self.locals[i].1, &keys, v)
            }
            // `(a, b) = (b, a)`: the right side is complete before any target is written.
            E::Tuple(targets) => {
                let parts = self.parts_of(v, targets.len(), target.at)?;
                for ((_, t), part) in targets.iter().zip(parts) {
                    let discard =
                        matches!(&t.kind, E::Name(n) if n == "_" && self.local(n).is_none());
                    if !discard {
                        self.assign(t, part)?;
                    }
                }
                Ok(())
            }
            // A property of an object with identity (`aes.Key = key`): set on the object.
            E::Member {
                target: obj, name, ..
            } => {
                let o = self.ev(obj)?;
                // `property.Value = v`, `jvalue.Value = v`: the shared token changes.
                if let Value::Json(j) = &o
                    && name == "Value"
                {
                    let grown = self.size_of(&v);
                    self.grow(grown, target.at)?;
                    return lib::json_set_value(j, v, target.at);
                }
                if let Some(r) = lib::builder_set(self, &o, name, &v, target.at) {
                    return r;
                }
                if let Value::Json(j) = &o
                    && let Some(r) = lib::json_special_set(j, name, &v, target.at)
                {
                    return r;
                }
                if let Some(r) = lib::settings_set(&o, name, &v, target.at) {
                    return r;
                }
                // `e.Value = "2"`, `e.Name = n` on a LINQ to XML node: set on the node, which
                // the document it belongs to sees.
                if let Some(r) = lib::xml_set_member(self, &o, name, v.clone(), target.at) {
                    return r;
                }
                match lib::crypto::set_member(&o, name, v, target.at) {
                    Some(r) => r,
                    None => Err(rt(
                        "NotSupportedException",
                        "only locals and their elements can be assigned",
                        target.at,
                    )),
                }
            }
            _ => Err(rt(
                "NotSupportedException",
                "only locals and their elements can be assigned",
                target.at,
            )),
        }
    }
}
