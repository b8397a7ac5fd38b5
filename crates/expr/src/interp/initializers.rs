//! Object initializers (`new T { Prop = value, … }`) of the types whose objects the library
//! builds property by property (the crypto types: `new RSAParameters { Modulus = m }`,
//! `new AesManaged { Key = k }`; `new XmlReaderSettings { IgnoreWhitespace = true }`);
//! collection initializers stay the list of their items.

use super::*;

impl<'c> Interp<'c> {
    /// The items of `init` for `construct`: evaluated as a list, or, for a type taking
    /// property initializers, appended to `args` as named arguments (then `None`).
    pub(super) fn initializer(
        &mut self,
        ty: &TypeRef,
        init: Option<&[Expr]>,
        args: &mut Vec<(Option<String>, Value)>,
    ) -> F<Option<Vec<Value>>> {
        let Some(items) = init else {
            return Ok(None);
        };
        if !lib::crypto::is_crypto_type(&ty.name)
            && !matches!(ty.name.as_str(), "XmlReaderSettings" | "XmlWriterSettings")
        {
            return Ok(Some(self.eval_list(items)?));
        }
        for item in items {
            let E::Assign {
                target,
                op: None,
                value,
            } = &item.kind
            else {
                return Err(not_a_member(item.at));
            };
            let E::Name(n) = &target.kind else {
                return Err(not_a_member(item.at));
            };
            let v = self.ev(value)?;
            args.push((Some(n.clone()), v));
        }
        Ok(None)
    }
}

fn not_a_member(at: usize) -> Flow {
    rt(
        "CompilationError",
        "Invalid initializer member declarator",
        at,
    )
}
