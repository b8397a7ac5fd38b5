//! Reading methods that fill the caller's array: `reader.Read(buffer, index, count)`,
//! `ReadBlock`, `xmlReader.ReadValueChunk(buffer, …)`, `ReadContentAsBase64(buffer, …)` and
//! their async forms. C# passes arrays by reference; the interpreter holds them by value, so
//! the filled array the library returns (crates/expr/src/library/textio.rs) is written back
//! into the variable, as `rng.GetBytes(buffer)` is.

use super::*;

impl Interp<'_> {
    /// `None` unless `t.name(buffer, …)` fills `buffer` and `buffer` is a variable (or an
    /// element or member that can be assigned); otherwise the call's result.
    pub(super) fn io_fill(
        &mut self,
        t: &Value,
        name: &str,
        args: &[Arg],
        at: usize,
    ) -> Option<F<Value>> {
        let first = args.first()?;
        if args.len() != 3 || !lib::fills_buffer(t, name) || !self.is_lvalue(&first.value) {
            return None;
        }
        Some(self.fill_call(t, name, args, at))
    }

    fn fill_call(&mut self, t: &Value, name: &str, args: &[Arg], at: usize) -> F<Value> {
        let vals = self.eval_args(args)?;
        let (result, filled) = lib::call_filling(self, t, name, &vals, at)?;
        if let Some(filled) = filled {
            self.assign(&args[0].value, filled)?;
        }
        Ok(result)
    }
}
