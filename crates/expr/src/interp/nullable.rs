//! `Nullable<T>` members on a value cast to `T?`: `((int?)x).HasValue`, `.Value`,
//! `.GetValueOrDefault()`. Values carry no static type here, so only a target written as a cast
//! to a nullable type is known to be a `Nullable<T>`; anywhere else a null still throws
//! NullReferenceException as a null reference does.

use super::*;

/// The nullable type a target expression is cast to, if it is written `(T?)…`.
fn nullable_cast(target: &Expr) -> Option<&TypeRef> {
    match &target.kind {
        E::Cast(ty, _) if ty.nullable && ty.array == 0 => Some(ty),
        _ => None,
    }
}

impl<'c> Interp<'c> {
    /// `HasValue` / `Value` of a `(T?)…` target; `None` when the target is not one.
    pub(super) fn nullable_member(
        &mut self,
        target: &Expr,
        name: &str,
        at: usize,
    ) -> Option<F<Value>> {
        nullable_cast(target)?;
        if !matches!(name, "HasValue" | "Value") {
            return None;
        }
        Some(self.ev(target).and_then(|v| match (name, v) {
            ("HasValue", v) => Ok(Value::Bool(!v.is_null())),
            (_, Value::Null) => Err(rt(
                "InvalidOperationException",
                "Nullable object must have a value.",
                at,
            )),
            (_, v) => Ok(v),
        }))
    }

    /// `GetValueOrDefault()` / `GetValueOrDefault(d)` of a `(T?)…` target.
    pub(super) fn nullable_call(
        &mut self,
        target: &Expr,
        name: &str,
        args: &[Arg],
    ) -> Option<F<Value>> {
        let ty = nullable_cast(target)?;
        if name != "GetValueOrDefault" || args.len() > 1 {
            return None;
        }
        let plain = TypeRef {
            nullable: false,
            ..ty.clone()
        };
        Some((|| {
            let v = self.ev(target)?;
            if !v.is_null() {
                return Ok(v);
            }
            match args.first() {
                Some(a) => self.ev(&a.value),
                None => Ok(lib::default_of(&plain)),
            }
        })())
    }
}
