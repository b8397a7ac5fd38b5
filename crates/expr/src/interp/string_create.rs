//! `string.Create(length, state, (span, state) => { … })`: the delegate fills a span of
//! `length` chars, which becomes the string. Apart from crates/expr/src/interp/destinations.rs
//! because the array written is the delegate's parameter, not a caller's variable.

use super::*;

impl Interp<'_> {
    /// `string.Create(length, state, (span, state) => { … })`: the delegate fills a span of
    /// `length` chars (a `char[]` here), which becomes the string.
    pub(super) fn string_create(&mut self, args: &[Arg], at: usize) -> F<Value> {
        let [len, state, action] = args else {
            return Err(lib::no_overload("Create", args.len(), at));
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

    /// Calls the delegate `l` and gives back its first parameter as the body left it: a span
    /// argument the delegate wrote into.
    fn call_keeping_first(&mut self, l: &Lambda, args: Vec<Value>, at: usize) -> F<Value> {
        let def = &l.def;
        if def.params.len() != args.len() {
            return Err(rt(
                "CompilationError",
                format!("Delegate does not take {} arguments", args.len()),
                at,
            ));
        }
        let (_, first) = self.run_lambda(l, args, true, at)?;
        Ok(first.unwrap_or(Value::Null))
    }
}
