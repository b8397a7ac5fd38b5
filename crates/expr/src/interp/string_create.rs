//! `string.Create(length, state, (span, state) => { … })`: the delegate fills a span of
//! `length` chars, which becomes the string. Apart from crates/expr/src/interp/destinations.rs
//! because the array written is the delegate's parameter, not a caller's variable.

use super::*;

impl Interp<'_> {
    /// `string.Create(length, state, (span, state) => { … })`: the delegate fills a span of
    /// `length` chars (a `char[]` here), which becomes the string.
    pub(super) fn string_create(&mut self, args: &[Arg], at: usize) -> F<Value> {
        let [len, state, action] = args else {
            return Err(rt(
                "CompilationError",
                format!(
                    "No overload for method 'Create' takes {} arguments",
                    args.len()
                ),
                at,
            ));
        };
        let len = self.ev(&len.value)?;
        let state = self.ev(&state.value)?;
        let action = self.ev(&action.value)?;
        let n = match len {
            Value::Int(n) => n,
            other => return Err(lib::cast_err(&other, "System.Int32", at)),
        };
        let Value::Lambda(l) = action else {
            return Err(rt(
                "ArgumentNullException",
                "Value cannot be null. (Parameter 'action')",
                at,
            ));
        };
        if n < 0 {
            return Err(rt(
                "ArgumentOutOfRangeException",
                "Non-negative number required. (Parameter 'length')",
                at,
            ));
        }
        if n == 0 {
            return Ok(Value::str(""));
        }
        let n = n as usize;
        self.charge(n.saturating_mul(budget::SLOT), at)?;
        let span = Value::Array(vec![Value::Char('\0'); n]);
        let filled = self.call_keeping_first(&l, vec![span, state], at)?;
        Ok(Value::str(crate::library::spans::span_text(&filled, at)?))
    }

    /// Calls the delegate `l` (as `call_lambda` does) and gives back its first parameter as
    /// the body left it: a span argument the delegate wrote into.
    fn call_keeping_first(&mut self, l: &Lambda, args: Vec<Value>, at: usize) -> F<Value> {
        let def = &l.def;
        if def.params.len() != args.len() {
            return Err(rt(
                "CompilationError",
                format!("Delegate does not take {} arguments", args.len()),
                at,
            ));
        }
        if self.calls >= MAX_CALL_DEPTH
            || stack_address().abs_diff(self.stack_base) > MAX_STACK_BYTES
        {
            return Err(rt(
                "InsufficientExecutionStackException",
                "Insufficient stack to continue executing the program safely (calls nested too deeply).",
                at,
            ));
        }
        self.calls += 1;
        let mark = self.locals.len();
        let r = (|| {
            for (n, v) in &l.captured {
                self.push_local(n.clone(), v.clone(), at)?;
            }
            let first = self.locals.len();
            for (p, v) in def.params.iter().zip(args) {
                self.push_local(p.clone(), v, at)?;
            }
            let outer_checked = std::mem::replace(&mut self.checked, l.checked);
            let ran = match &def.body {
                LambdaBody::Expr(e) => self.ev(e).map(|_| ()),
                LambdaBody::Block(b) => match self.exec_list(b) {
                    Ok(()) | Err(Flow::Return(_)) => Ok(()),
                    Err(Flow::Break | Flow::Continue) => Err(rt(
                        "CompilationError",
                        "No enclosing loop out of which to break or continue",
                        at,
                    )),
                    Err(f) => Err(f),
                },
            };
            self.checked = outer_checked;
            ran?;
            Ok(self
                .locals
                .get(first)
                .map(|(_, v)| v.clone())
                .unwrap_or(Value::Null))
        })();
        self.truncate_locals(mark);
        self.calls -= 1;
        r
    }
}
