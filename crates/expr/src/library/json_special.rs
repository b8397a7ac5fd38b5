//! Newtonsoft's less common LINQ to JSON pieces: `JConstructor` (`new Date(1)`), `JRaw`, the
//! comment and undefined `JValue`s, annotations, a token's reader (`CreateReader`, read back by
//! `JToken.Load`/`ReadFrom`, `JObject.Load`, `JRaw.Create` …) and a container's writer
//! (`CreateWriter`, written by `WriteTo`), `JToken.EqualityComparer`, and `GetEnumerator`.
//!
//! A reader's and a writer's own members are not in APIM's allowed list, so what a policy can
//! observe of them is what Newtonsoft's readers of a `JTokenReader` and `WriteTo` into a
//! `JTokenWriter` do: a reader is read once whole (a second `Load` finds the reader on the
//! token's end, `EndObject`, and fails; a scalar is its own last token and reads again), a
//! writer adds a copy of what is written to its container (validated as `Add` is).
//! Checked under Mono (crates/expr/tests/oracle, expressions-json.txt):
//! ```csharp
//! new JConstructor("Date", 1, "a").ToString(Formatting.None)   // new Date(1,"a")
//! JToken.Parse("new Date(1)").Type                              // Constructor
//! new JRaw("[1,  2]").ToString()                                // [1,  2]
//! JRaw.Create(JToken.Parse("{\"a\":  [1,2]}").CreateReader())  // {"a":[1,2]}
//! JObject.Load(JToken.Parse("[1]").CreateReader())              // JsonReaderException
//! ```

use super::*;
use crate::jtree::Flavor;
use std::sync::Mutex;

/// A helper object (`Object::JsonAux`).
#[derive(Debug)]
pub enum JsonAux {
    /// `token.CreateReader()`: whether it has been read (then it sits on the token's end).
    Reader(JToken, Mutex<bool>),
    /// `container.CreateWriter()`.
    Writer(JToken),
    /// `JToken.EqualityComparer`.
    Comparer,
    /// `GetEnumerator()`: the items, and the position (-1 before the first).
    Enumerator(Vec<Value>, Mutex<i64>, bool),
}

impl JsonAux {
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            JsonAux::Reader(..) => "Newtonsoft.Json.Linq.JTokenReader",
            JsonAux::Writer(_) => "Newtonsoft.Json.Linq.JTokenWriter",
            JsonAux::Comparer => "Newtonsoft.Json.Linq.JTokenEqualityComparer",
            JsonAux::Enumerator(..) => "System.Collections.Generic.IEnumerator`1",
        }
    }
}

/// Reference identity (the helper objects are reference types); `JToken.EqualityComparer` is
/// one shared instance.
impl PartialEq for JsonAux {
    fn eq(&self, other: &Self) -> bool {
        matches!((self, other), (JsonAux::Comparer, JsonAux::Comparer)) || std::ptr::eq(self, other)
    }
}

fn aux(a: JsonAux) -> Value {
    Value::Object(Object::JsonAux(Arc::new(a)))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

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

fn reader_of(v: &Value, at: usize) -> F<(&JToken, &Mutex<bool>)> {
    match v {
        Value::Object(Object::JsonAux(a)) => match &**a {
            JsonAux::Reader(t, read) => Ok((t, read)),
            _ => Err(cast_err(v, "Newtonsoft.Json.JsonReader", at)),
        },
        // (Newtonsoft 13 checks it in `JToken.ReadFrom` and `JsonWriter.WriteToken`.)
        Value::Null => Err(rt(
            "ArgumentNullException",
            "Value cannot be null. (Parameter 'reader')",
            at,
        )),
        _ => Err(cast_err(v, "Newtonsoft.Json.JsonReader", at)),
    }
}

/// The token a reader that has read `t` whole sits on: its end token (`EndObject` …), or the
/// last scalar of it, which a reader reads again.
fn end_of(t: &JToken) -> Result<JToken, &'static str> {
    if t.is_constructor() {
        return Err("EndConstructor");
    }
    match t.kind() {
        JKind::Object => Err("EndObject"),
        JKind::Array => Err("EndArray"),
        JKind::Property => match t.property_value() {
            Some(v) => end_of(&v),
            None => Err("EndObject"),
        },
        JKind::Value => Ok(t.clone()),
    }
}

/// The start token name a reader on `t` reports.
fn start_of(t: &JToken) -> &'static str {
    if t.is_constructor() {
        return "StartConstructor";
    }
    match (t.kind(), t.flavor(), t.scalar()) {
        (JKind::Object, ..) => "StartObject",
        (JKind::Array, ..) => "StartArray",
        (JKind::Property, ..) => "PropertyName",
        (_, Flavor::Raw, _) => "Raw",
        (_, Flavor::Comment, _) => "Comment",
        (_, Flavor::Undefined, _) => "Undefined",
        (_, _, Some(J::String(_))) => "String",
        (_, _, Some(J::Bool(_))) => "Boolean",
        (_, _, Some(J::Number(n))) if n.is_f64() => "Float",
        (_, _, Some(J::Number(_))) => "Integer",
        _ => "Null",
    }
}

/// `T.Load(reader)` / `T.ReadFrom(reader)`: a copy of what the reader has not read yet (a
/// container's comments left out, as `JContainer.ReadTokenFrom` does without load settings).
fn load(it: &mut Interp, ty: &str, r: &Value, at: usize) -> F<Value> {
    let (t, read) = reader_of(r, at)?;
    let mut read = lock(read);
    let current = if *read {
        end_of(t).map_err(|end| end.to_string())
    } else {
        Ok(t.clone())
    };
    let current_name = match &current {
        Ok(c) => start_of(c).to_string(),
        Err(end) => end.clone(),
    };
    let want = match ty {
        "JObject" => Some(("object", "StartObject")),
        "JArray" => Some(("array", "StartArray")),
        "JConstructor" => Some(("constructor", "StartConstructor")),
        "JProperty" => Some(("property", "PropertyName")),
        _ => None,
    };
    let fail = |msg: String| rt("JsonReaderException", msg, at);
    if let Some((what, start)) = want
        && current_name != start
    {
        return Err(fail(format!(
            "Error reading {ty} from JsonReader. Current JsonReader item is not an {what}: {current_name}. Path ''."
        )));
    }
    let token = match current {
        // A raw token is no value `ReadFrom` reads (only a container's content may be raw).
        Ok(c) if c.flavor() == Flavor::Raw => {
            return Err(fail(
                "Error reading JToken from JsonReader. Unexpected token: Raw. Path ''.".into(),
            ));
        }
        Ok(c) => c,
        Err(end) => {
            return Err(fail(format!(
                "Error reading JToken from JsonReader. Unexpected token: {end}. Path ''."
            )));
        }
    };
    if ty == "JValue" && token.is_container() {
        return Err(cast_err(
            &Value::Json(token),
            "Newtonsoft.Json.Linq.JValue",
            at,
        ));
    }
    it.charge(it.size_of(&Value::Json(token.clone())), at)?;
    *read = true;
    let copy = token.deep_clone();
    if copy.is_container() {
        strip_comments(&copy);
    }
    Ok(Value::Json(copy))
}

fn strip_comments(t: &JToken) {
    let kids = t.children();
    for (i, k) in kids.iter().enumerate().rev() {
        if k.flavor() == Flavor::Comment && !t.is_property() {
            t.remove_at(i);
        } else if k.is_container() {
            strip_comments(k);
        }
    }
}

/// `JRaw.Create(reader)`: what the reader has not read yet, written compactly as the raw text.
fn raw_create(it: &mut Interp, r: &Value, at: usize) -> F<Value> {
    let (t, read) = reader_of(r, at)?;
    let mut read = lock(read);
    let token = if *read {
        end_of(t).map_err(|_| rt("JsonWriterException", "No token to close. Path ''.", at))?
    } else {
        t.clone()
    };
    let room = it.room();
    let text =
        budget::json_text(&token.to_serde(), false, room).ok_or_else(|| it.out_of_memory(at))?;
    it.charge(text.len(), at)?;
    *read = true;
    Ok(Value::Json(JToken::special_value(
        Flavor::Raw,
        J::String(text),
    )))
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

fn no_method(j: &JToken, name: &str, at: usize) -> Flow {
    rt(
        "RuntimeBinderException",
        format!(
            "'{}' does not contain a definition for '{name}'",
            j.type_name()
        ),
        at,
    )
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

/// Members of the helper objects: the comparer's `Equals(a, b)`/`GetHashCode(t)`, the
/// enumerator's `MoveNext()`/`Current`/`Reset()`/`Dispose()`.
pub(crate) fn aux_method(a: &JsonAux, name: &str, args: &Args, at: usize) -> Option<F<Value>> {
    match (a, name, args.len()) {
        (JsonAux::Comparer, "Equals", 2) => {
            Some(json_token_static("JToken", "DeepEquals", args, at)?)
        }
        (JsonAux::Comparer, "GetHashCode", 1) => Some(arg(args, 0, at).map(|v| match v {
            Value::Json(t) => Value::Int(i64::from(deep_hash(t))),
            _ => Value::Int(0),
        })),
        (JsonAux::Enumerator(items, pos, _), "MoveNext", 0) => {
            let mut p = lock(pos);
            let len = items.len() as i64;
            if *p < len {
                *p += 1;
            }
            Some(Ok(Value::Bool(*p < len)))
        }
        (JsonAux::Enumerator(_, _, object), "Reset", 0) => Some(if *object {
            // JObject's enumerator is an iterator method: C#'s iterators cannot reset.
            Err(rt(
                "NotSupportedException",
                "Specified method is not supported.",
                at,
            ))
        } else {
            if let JsonAux::Enumerator(_, pos, _) = a {
                *lock(pos) = -1;
            }
            Ok(Value::Null)
        }),
        (JsonAux::Enumerator(..), "Dispose", 0) => Some(Ok(Value::Null)),
        _ => None,
    }
}

/// `enumerator.Current`: the item at the position; outside the items, the default (a
/// List's enumerator and an iterator both give it).
pub(crate) fn aux_member(a: &JsonAux, name: &str) -> Option<Value> {
    match (a, name) {
        (JsonAux::Enumerator(items, pos, object), "Current") => {
            let p = *lock(pos);
            Some(match usize::try_from(p).ok().and_then(|i| items.get(i)) {
                Some(v) => v.clone(),
                None if *object => {
                    let mut r = BTreeMap::new();
                    r.insert("Key".to_string(), Value::Null);
                    r.insert("Value".to_string(), Value::Null);
                    Value::Object(Object::Record(Arc::new(r)))
                }
                None => Value::Null,
            })
        }
        _ => None,
    }
}

/// `JToken.GetDeepHashCode()`: a container's children's hashes xored (a property's and a
/// constructor's name too), a value's type xored with its value's hash.
pub(crate) fn deep_hash(t: &JToken) -> i32 {
    let kids = || t.children().iter().fold(0i32, |h, c| h ^ deep_hash(c));
    if let Some(n) = t.constructor_name() {
        return hash_code(&Value::str(&*n)) ^ kids();
    }
    match t.kind() {
        JKind::Object | JKind::Array => kids(),
        JKind::Property => hash_code(&Value::str(&*t.name().unwrap_or_default())) ^ kids(),
        JKind::Value => {
            // JTokenType's numbers: Integer 6, Float 7, String 8, Boolean 9, Null 10,
            // Undefined 11, Comment 5, Raw 13.
            let (ty, v) = match (t.flavor(), t.scalar().unwrap_or(J::Null)) {
                (Flavor::Raw, j) => (13, from_json(&j)),
                (Flavor::Comment, j) => (5, from_json(&j)),
                (Flavor::Undefined, _) => (11, Value::Null),
                (_, J::Null) => (10, Value::Null),
                (_, J::Bool(b)) => (9, Value::Bool(b)),
                (_, J::String(s)) => (8, Value::str(&s)),
                (_, j @ J::Number(_)) if j.as_number().is_some_and(|n| n.is_f64()) => {
                    (7, from_json(&j))
                }
                (_, j) => (6, from_json(&j)),
            };
            let vh = match v {
                Value::Long(i) => (i as i32) ^ ((i >> 32) as i32),
                Value::Null => 0,
                v => hash_code(&v),
            };
            ty ^ vh
        }
    }
}

/// `(JConstructor)t`, `(JRaw)t`, and `(JArray)` of a constructor: whether the cast succeeds;
/// `None` where the ordinary token casts answer.
pub(crate) fn special_cast(j: &JToken, ty: &str) -> Option<bool> {
    match ty {
        "JConstructor" => Some(j.is_constructor()),
        "JRaw" => Some(j.flavor() == Flavor::Raw),
        "JArray" if j.is_constructor() => Some(false),
        _ => None,
    }
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

/// `(int)container`, `container.ToObject<DateTime>()`: Newtonsoft's explicit conversions
/// refuse a container as `Can not convert Array to Int32.` (an ArgumentException); `None`
/// for a target that is not one of those conversions' types.
pub(crate) fn container_conversion_err(j: &JToken, ty: &str, at: usize) -> Option<Flow> {
    let target = match ty {
        "string" => "String",
        "bool" => "Boolean",
        "char" => "Char",
        "DateTime" => "DateTime",
        "DateTimeOffset" => "DateTimeOffset",
        "Guid" => "Guid",
        "TimeSpan" => "TimeSpan",
        "Uri" => "Uri",
        n => crate::numeric::Kind::named(n)?
            .full_name()
            .trim_start_matches("System."),
    };
    let kind = if j.is_constructor() {
        "Constructor"
    } else {
        match j.kind() {
            JKind::Object => "Object",
            JKind::Array => "Array",
            JKind::Property => "Property",
            JKind::Value => return None,
        }
    };
    Some(rt(
        "ArgumentException",
        format!("Can not convert {kind} to {target}."),
        at,
    ))
}

/// `JArray.CopyTo(array, arrayIndex)` (Newtonsoft's `JContainer.CopyItemsTo`): `array` with the
/// items written from `arrayIndex` on, or the exception Newtonsoft throws.
pub(crate) fn json_copy_into(j: &JToken, array: Value, index: &Value, at: usize) -> F<Value> {
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

/// The handlers of `event` on a token that declares it: every container has
/// `CollectionChanged`, `ListChanged` and `AddingNew` (JContainer's); a JObject also
/// `PropertyChanged` and `PropertyChanging`.
pub(crate) fn json_event_handlers<'t>(
    j: &'t JToken,
    event: &str,
) -> Option<&'t crate::interp::events::EventHandlers> {
    let declared = match event {
        "CollectionChanged" | "ListChanged" | "AddingNew" => j.is_container(),
        "PropertyChanged" | "PropertyChanging" => j.is_object(),
        _ => false,
    };
    declared.then(|| j.events())
}

fn record(fields: Vec<(&str, Value)>) -> Value {
    Value::Object(Object::Record(Arc::new(
        fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )))
}

/// `NotifyCollectionChangedEventArgs`.
fn collection_args(action: &str, new: Option<Value>, old: Option<Value>, i: i64, o: i64) -> Value {
    record(vec![
        (
            "Action",
            enum_member("NotifyCollectionChangedAction", action).unwrap_or(Value::Null),
        ),
        ("NewItems", new.unwrap_or(Value::Null)),
        ("OldItems", old.unwrap_or(Value::Null)),
        ("NewStartingIndex", Value::Int(i)),
        ("OldStartingIndex", Value::Int(o)),
    ])
}

/// `ListChangedEventArgs(type, newIndex)`: its OldIndex is -1.
fn list_args(ty: &str, i: i64) -> Value {
    record(vec![
        (
            "ListChangedType",
            enum_member("ListChangedType", ty).unwrap_or(Value::Null),
        ),
        ("NewIndex", Value::Int(i)),
        ("OldIndex", Value::Int(-1)),
        ("PropertyDescriptor", Value::Null),
    ])
}

/// The handler calls a change raises, in Newtonsoft 13's order: `ListChanged` before
/// `CollectionChanged` (JContainer's InsertItem/RemoveItemAt/SetItem/ClearItems), and for a
/// JObject's property `PropertyChanging`, the change, then `PropertyChanged`, `ListChanged`
/// (ItemChanged) and `CollectionChanged` (Replace, the property as both lists of items).
pub(crate) fn json_event_dispatch(
    raised: crate::jtree::Raised,
) -> Vec<crate::interp::events::Dispatch> {
    use crate::interp::events::Dispatch;
    use crate::jtree::Change;
    let source = raised.source;
    let sender = Value::Json(source.clone());
    let one = |t: &JToken| Some(Value::Array(vec![Value::Json(t.clone())]));
    let pair = |list: Value, coll: Value| {
        vec![
            Dispatch {
                sender: sender.clone(),
                event: "ListChanged",
                args: list,
                busy: Some(source.clone()),
            },
            Dispatch {
                sender: sender.clone(),
                event: "CollectionChanged",
                args: coll,
                busy: Some(source.clone()),
            },
        ]
    };
    let property = |event: &'static str, name: &str| Dispatch {
        sender: sender.clone(),
        event,
        args: record(vec![("PropertyName", Value::str(name))]),
        busy: None,
    };
    match raised.change {
        Change::Added(i, item) => pair(
            list_args("ItemAdded", i as i64),
            collection_args("Add", one(&item), None, i as i64, -1),
        ),
        Change::Removed(i, item) => pair(
            list_args("ItemDeleted", i as i64),
            collection_args("Remove", None, one(&item), -1, i as i64),
        ),
        Change::Replaced(i, new, old) => pair(
            list_args("ItemChanged", i as i64),
            collection_args("Replace", one(&new), one(&old), i as i64, i as i64),
        ),
        Change::Reset => pair(
            list_args("Reset", -1),
            collection_args("Reset", None, None, -1, -1),
        ),
        Change::PropertyChanging(name) => vec![property("PropertyChanging", &name)],
        Change::PropertyAdded(name) => vec![property("PropertyChanged", &name)],
        Change::PropertyValueChanged(name, i, p) => {
            // The property is an IList of its value: both lists hold its value now.
            let items = || {
                Some(Value::Array(
                    p.property_value().map(Value::Json).into_iter().collect(),
                ))
            };
            let mut calls = vec![property("PropertyChanged", &name)];
            calls.extend(pair(
                list_args("ItemChanged", i as i64),
                collection_args("Replace", items(), items(), i as i64, i as i64),
            ));
            calls
        }
    }
}
