//! Newtonsoft's less common LINQ to JSON pieces: `JConstructor` (`new Date(1)`), `JRaw`, the
//! comment and undefined `JValue`s, their members, and the members that hand out a token's
//! helper objects (`CreateReader`, `CreateWriter`/`WriteTo`, `GetEnumerator`,
//! `JToken.EqualityComparer`: crates/expr/src/library/json_aux.rs; reading a reader:
//! json_reader.rs; annotations: json_annotations.rs; casts: json_casts.rs; events:
//! json_events.rs). Written as Newtonsoft writes them by json_write.rs.
//! Checked under Mono (crates/expr/tests/oracle, expressions-json.txt):
//! ```csharp
//! new JConstructor("Date", 1, "a").ToString(Formatting.None)   // new Date(1,"a")
//! JToken.Parse("new Date(1)").Type                              // Constructor
//! new JRaw("[1,  2]").ToString()                                // [1,  2]
//! ```

use super::*;
use crate::jtree::Flavor;
use std::sync::Mutex;

/// `JToken.ToString()`: a string's text, `True`, a number; a comment's text, a raw token's
/// text verbatim; a property as `"name": value`; a container indented.
pub(crate) fn json_display(t: &JToken) -> String {
    if let (Some(name), Some(v)) = (t.name(), t.property_value()) {
        return super::json_write::property_text(&name, &v.to_serde(), true, usize::MAX)
            .unwrap_or_default();
    }
    if t.is_container() {
        return super::json_write::text(&t.to_serde(), true, usize::MAX).unwrap_or_default();
    }
    match t.scalar().unwrap_or(J::Null) {
        J::Null => String::new(),
        J::String(s) => s,
        J::Bool(true) => "True".into(),
        J::Bool(false) => "False".into(),
        J::Number(n) => n.to_string(),
        other => super::json_write::text(&other, true, usize::MAX).unwrap_or_default(),
    }
}

/// `JTokenType` of a token whose flavour says it (`None` for the plain ones).
pub(crate) fn special_member(j: &JToken, name: &str) -> Option<Value> {
    let kind = match j.flavor() {
        Flavor::Plain => return None,
        Flavor::Constructor => "Constructor",
        Flavor::Raw => "Raw",
        Flavor::Comment => "Comment",
        Flavor::Undefined => "Undefined",
    };
    match name {
        "Type" => enum_member("JTokenType", kind),
        "Name" if j.is_constructor() => {
            Some(Value::str(&*j.constructor_name().unwrap_or_default()))
        }
        // A constructor is no JArray: it has no IsReadOnly of its own.
        _ => None,
    }
}

/// `new JConstructor(name, content…)`, `new JRaw(raw)`; `None` for another type.
pub(crate) fn special_construct(ty: &str, args: &Args, at: usize) -> Option<F<Value>> {
    match ty {
        "JConstructor" => Some(new_constructor(args, at)),
        "JRaw" => Some((|| {
            let j = match arg(args, 0, at)? {
                // `new JRaw(null)` binds to `JRaw(JRaw other)`, which reads `other`.
                Value::Null => return Err(null_ref(at)),
                // `new JRaw(other)`: a copy of its text.
                Value::Json(t) if t.flavor() == Flavor::Raw => t.scalar().unwrap_or(J::Null),
                Value::Json(t) if !t.is_container() => t.scalar().unwrap_or(J::Null),
                v => to_json(v, at)?,
            };
            Ok(Value::Json(JToken::special_value(Flavor::Raw, j)))
        })()),
        _ => None,
    }
}

fn new_constructor(args: &Args, at: usize) -> F<Value> {
    let name = match args.first() {
        None => String::new(),
        Some((_, Value::Null)) => {
            return Err(rt(
                "ArgumentNullException",
                "Value cannot be null. (Parameter 'name')",
                at,
            ));
        }
        Some((_, v)) => as_str(v, at)?,
    };
    if !args.is_empty() && name.is_empty() {
        return Err(rt(
            "ArgumentException",
            "Constructor name cannot be empty. (Parameter 'name')",
            at,
        ));
    }
    let c = JToken::new_constructor(&name);
    // `params object[] content`, added as one collection (content_items keeps Newtonsoft's
    // order for collections within it).
    let content = Value::Array(args.iter().skip(1).map(|(_, v)| v.clone()).collect());
    for i in content_items(&content, at)? {
        c.insert(None, i).map_err(|e| tree_err(e, at))?;
    }
    Ok(Value::Json(c))
}

/// Whether `ty.name` is a static member handled by [`special_static`].
pub(crate) fn json_special_static_exists(ty: &str, name: &str, call: bool) -> bool {
    let token_type = matches!(
        ty,
        "JToken"
            | "JContainer"
            | "JObject"
            | "JArray"
            | "JValue"
            | "JProperty"
            | "JConstructor"
            | "JRaw"
    );
    if !token_type {
        return false;
    }
    if !call {
        return name == "EqualityComparer";
    }
    match name {
        "Load" | "ReadFrom" => true,
        "CreateComment" | "CreateUndefined" | "CreateNull" | "CreateString" => {
            matches!(ty, "JValue" | "JRaw")
        }
        "Create" => ty == "JRaw",
        "Parse" | "FromObject" | "DeepEquals" => {
            matches!(ty, "JContainer" | "JConstructor" | "JRaw")
        }
        _ => false,
    }
}

/// `JToken.EqualityComparer` and its inheritors'.
pub(crate) fn json_static_property(ty: &str, name: &str) -> Option<Value> {
    (name == "EqualityComparer" && json_special_static_exists(ty, name, false))
        .then(|| aux(JsonAux::Comparer))
}

/// The statics of this module: `Load`/`ReadFrom` of every token type, `JValue.CreateComment`
/// and `CreateUndefined`, `JRaw.Create`, and the statics `JContainer`, `JConstructor` and
/// `JRaw` inherit (`JContainer.Parse` is `JToken.Parse`).
pub(crate) fn special_static(
    it: &mut Interp,
    ty: &str,
    name: &str,
    generics: &[TypeRef],
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    if !json_special_static_exists(ty, name, true) {
        return None;
    }
    Some((|| {
        Ok(match name {
            "CreateComment" => {
                let j = match arg(args, 0, at)? {
                    Value::Null => J::Null,
                    v => J::String(as_str(v, at)?),
                };
                Value::Json(JToken::special_value(Flavor::Comment, j))
            }
            "CreateUndefined" => Value::Json(JToken::special_value(Flavor::Undefined, J::Null)),
            "Create" => raw_create(it, arg(args, 0, at)?, at)?,
            "Load" | "ReadFrom" => load(it, ty, arg(args, 0, at)?, at)?,
            "CreateNull" | "CreateString" | "DeepEquals" => {
                match json_token_static("JValue", name, args, at) {
                    Some(r) => r?,
                    None => return Err(no_static(ty, name, at)),
                }
            }
            _ => match call_static(it, "JToken", name, generics, args.clone(), at) {
                Ok(v) => v,
                Err(e) => return Err(e),
            },
        })
    })())
}

fn no_static(ty: &str, name: &str, at: usize) -> Flow {
    rt(
        "RuntimeBinderException",
        format!("'{ty}' does not contain a definition for '{name}'"),
        at,
    )
}

/// The instance members of this module on a token: annotations, `CreateReader`,
/// `CreateWriter`, `WriteTo`, `GetEnumerator`, `AsJEnumerable`, and `ToString` of the
/// non-plain values. `None` for another member.
pub(crate) fn special_method(
    it: &mut Interp,
    j: &JToken,
    name: &str,
    args: &Args,
    generics: &[TypeRef],
    at: usize,
) -> Option<F<Value>> {
    if let Some(r) = annotation_call(it, j, name, args, generics, at) {
        return Some(r);
    }
    let r: F<Option<Value>> = (|| {
        Ok(Some(match (name, args.len()) {
            ("CreateReader", 0) => aux(JsonAux::Reader(j.clone(), Mutex::new(false))),
            ("CreateWriter", 0) if j.is_container() => aux(JsonAux::Writer(j.clone())),
            ("WriteTo", n) if n >= 1 => {
                let w = arg(args, 0, at)?;
                match w {
                    Value::Object(Object::JsonAux(a)) if matches!(&**a, JsonAux::Writer(_)) => {
                        if let JsonAux::Writer(c) = &**a {
                            it.charge(it.size_of(&Value::Json(j.clone())), at)?;
                            c.insert(None, j.deep_clone())
                                .map_err(|e| tree_err(e, at))?;
                        }
                    }
                    Value::Null => return Err(null_ref(at)),
                    other => return Err(cast_err(other, "Newtonsoft.Json.JsonWriter", at)),
                }
                Value::Null
            }
            ("GetEnumerator", 0) if j.is_container() && !j.is_property() => {
                let object = j.is_object();
                let items: Vec<Value> = if object {
                    j.children()
                        .into_iter()
                        .map(|p| {
                            let mut r = BTreeMap::new();
                            r.insert(
                                "Key".to_string(),
                                Value::str(&*p.name().unwrap_or_default()),
                            );
                            r.insert(
                                "Value".to_string(),
                                p.property_value().map_or(Value::Null, Value::Json),
                            );
                            Value::Object(Object::Record(Arc::new(r)))
                        })
                        .collect()
                } else {
                    j.children().into_iter().map(Value::Json).collect()
                };
                it.charge(items.len().saturating_mul(SLOT), at)?;
                aux(JsonAux::Enumerator(items, Mutex::new(-1), object))
            }
            ("AsJEnumerable", 0) => {
                Value::Array(j.children().into_iter().map(Value::Json).collect())
            }
            // JToken.Children() of a value: empty (its Values() refuses, as the caller does).
            ("Children", 0) if !j.is_container() && generics.is_empty() => Value::Array(Vec::new()),
            // The serializer reads a constructor as its name (`EnsureType` of "D").
            ("ToObject", 0)
                if j.is_constructor()
                    && generics.first().is_some_and(|t| {
                        t.array > 0
                            || matches!(
                                t.name.as_str(),
                                "List" | "IList" | "Dictionary" | "IDictionary" | "IEnumerable"
                            )
                    }) =>
            {
                return Err(rt(
                    "JsonSerializationException",
                    format!(
                        "Error converting value \"{}\" to type '{}'. Path ''.",
                        j.constructor_name().unwrap_or_default(),
                        generics.first().map_or("", |t| t.name.as_str())
                    ),
                    at,
                ));
            }
            // A value written as JSON (`"a"`, `/*c*/`) when a Formatting is given (JToken's
            // ToString(Formatting, converters)); JValue's own ToString() is its text.
            ("ToString", _)
                if !j.is_container()
                    && (j.flavor() != Flavor::Plain
                        || matches!(args.first(), Some((_, Value::Enum("Formatting", _))))) =>
            {
                match args.first() {
                    None => Value::str(json_display(j)),
                    Some((_, f)) => {
                        let pretty = matches!(f, Value::Enum("Formatting", 1));
                        let room = it.room();
                        let text = budget::json_text(&j.to_serde(), pretty, room)
                            .ok_or_else(|| it.out_of_memory(at))?;
                        Value::str(text)
                    }
                }
            }
            _ => return Ok(None),
        }))
    })();
    r.transpose()
}

pub(crate) fn no_method(j: &JToken, name: &str, at: usize) -> Flow {
    rt(
        "RuntimeBinderException",
        format!(
            "'{}' does not contain a definition for '{name}'",
            j.type_name()
        ),
        at,
    )
}

/// `constructor.Name = name` (a null name is refused as Newtonsoft's setter does not; it is
/// kept as the empty name). `None` for another member.
pub(crate) fn json_special_set(j: &JToken, name: &str, v: &Value, at: usize) -> Option<F<()>> {
    match name {
        "Name" if j.is_constructor() => Some(match v {
            Value::Null => {
                j.set_constructor_name("");
                Ok(())
            }
            v => as_str(v, at).map(|s| j.set_constructor_name(&s)),
        }),
        _ => None,
    }
}

/// `JArray.CopyTo(array, arrayIndex)` (Newtonsoft's `JContainer.CopyItemsTo`) with its
/// arguments evaluated: `args[0]` gets the items written from `arrayIndex` on (the
/// interpreter writes it back, crates/expr/src/library/destinations.rs), or the exception
/// Newtonsoft throws.
pub(crate) fn json_copy_into(
    it: &mut Interp,
    j: &JToken,
    args: &mut [Value],
    at: usize,
) -> F<Value> {
    let [array, index] = args else {
        return Err(no_overload("CopyTo", args.len(), at));
    };
    let filled = copied_into(j, array.clone(), index, at)?;
    it.charge(j.len().saturating_mul(budget::SLOT), at)?;
    *array = filled;
    Ok(Value::Null)
}

/// `array` with the JArray's items written from `index` on.
fn copied_into(j: &JToken, array: Value, index: &Value, at: usize) -> F<Value> {
    let mut items = match array {
        Value::Array(a) => a,
        Value::Null => {
            return Err(rt(
                "ArgumentNullException",
                "Value cannot be null. (Parameter 'array')",
                at,
            ));
        }
        other => return Err(cast_err(&other, "Newtonsoft.Json.Linq.JToken[]", at)),
    };
    let i = match index {
        Value::Int(i) => *i,
        other => return Err(cast_err(other, "System.Int32", at)),
    };
    let len = items.len() as i64;
    if i < 0 {
        return Err(rt(
            "ArgumentOutOfRangeException",
            "arrayIndex is less than 0. (Parameter 'arrayIndex')",
            at,
        ));
    }
    if i >= len && i != 0 {
        return Err(rt(
            "ArgumentException",
            "arrayIndex is equal to or greater than the length of array.",
            at,
        ));
    }
    let kids = j.children();
    if kids.len() as i64 > len - i {
        return Err(rt(
            "ArgumentException",
            "The number of elements in the source JObject is greater than the available space from arrayIndex to the end of the destination array.",
            at,
        ));
    }
    for (k, c) in kids.into_iter().enumerate() {
        if let Some(cell) = items.get_mut(i as usize + k) {
            *cell = Value::Json(c);
        }
    }
    Ok(Value::Array(items))
}
