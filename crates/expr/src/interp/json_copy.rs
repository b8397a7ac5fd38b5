//! `jarray.CopyTo(array, index)`: the JArray's items written into the caller's array, which C#
//! passes by reference (the interpreter holds arrays by value, so the local is assigned the
//! filled copy). The checks are the library's (crates/expr/src/library/json_special.rs).

use super::*;

impl Interp<'_> {
    /// `None` when this is not a JArray's `CopyTo(array, index)`.
    pub(super) fn json_copy_to(
        &mut self,
        j: &crate::jtree::JToken,
        name: &str,
        args: &[Arg],
        at: usize,
    ) -> Option<F<Value>> {
        let [dst, index] = args else { return None };
        if name != "CopyTo" || !j.is_array() || j.is_constructor() {
            return None;
        }
        Some((|| {
            let array = self.ev(&dst.value)?;
            let index = self.ev(&index.value)?;
            let filled = lib::json_copy_into(j, array, &index, at)?;
            self.charge(j.len().saturating_mul(budget::SLOT), at)?;
            if self.is_lvalue(&dst.value) {
                self.assign(&dst.value, filled)?;
            }
            Ok(Value::Null)
        })())
    }
}
