//! Annotations on tokens (`AddAnnotation`, `Annotation<T>()`/`Annotation(typeof(T))`,
//! `Annotations<T>()`, `RemoveAnnotations<T>()`): objects attached to a token, found by type,
//! kept by identity, neither serialised nor copied by `DeepClone` (held by the tree,
//! crates/expr/src/jtree.rs, and counted against the memory budget as long as the token is).

use super::*;

/// An annotation member on a token; `None` for another member.
pub(crate) fn annotation_call(
    it: &mut Interp,
    j: &JToken,
    name: &str,
    args: &Args,
    generics: &[TypeRef],
    at: usize,
) -> Option<F<Value>> {
    let r: F<Option<Value>> = (|| {
        Ok(Some(match (name, args.len()) {
            ("AddAnnotation", 1) => {
                let v = arg(args, 0, at)?;
                if matches!(v, Value::Null) {
                    return Err(rt(
                        "ArgumentNullException",
                        "Value cannot be null. (Parameter 'annotation')",
                        at,
                    ));
                }
                let size = it.size_of(v).saturating_add(SLOT);
                it.grow(size, at)?;
                j.add_annotation(v.clone());
                Value::Null
            }
            ("Annotation" | "Annotations" | "RemoveAnnotations", 0 | 1) => {
                let ty = match (generics.first(), args.first()) {
                    (Some(t), None) => t.clone(),
                    // `Annotation(typeof(T))`: `typeof` is the type's name here.
                    (None, Some((_, Value::String(s)))) => TypeRef {
                        name: crate::parser::normalize_type_name(s),
                        args: Vec::new(),
                        array: 0,
                        nullable: false,
                    },
                    (None, Some((_, Value::Null))) => {
                        return Err(rt(
                            "ArgumentNullException",
                            "Value cannot be null. (Parameter 'type')",
                            at,
                        ));
                    }
                    _ => return Err(no_method(j, name, at)),
                };
                annotations(j, name, &ty)
            }
            _ => return Ok(None),
        }))
    })();
    r.transpose()
}

fn annotations(j: &JToken, name: &str, ty: &TypeRef) -> Value {
    let list = j.annotations();
    match name {
        "Annotation" => list
            .into_iter()
            .find(|a| is_instance(a, ty))
            .unwrap_or(Value::Null),
        "Annotations" => Value::Array(list.into_iter().filter(|a| is_instance(a, ty)).collect()),
        _ => {
            j.retain_annotations(&mut |a| !is_instance(a, ty));
            Value::Null
        }
    }
}
