//! Reading a token through `CreateReader()`: `JToken.Load`/`ReadFrom` and the token types'
//! `Load`, and `JRaw.Create`. A reader's own members are not in APIM's allowed list, so what a
//! policy observes is Newtonsoft's `JTokenReader` read whole: a second read finds the reader on
//! the token's end (`EndObject` …) and fails, except after a scalar, which is its own last
//! token and reads again.

use super::*;
use crate::jtree::Flavor;
use std::sync::Mutex;

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
pub(crate) fn load(it: &mut Interp, ty: &str, r: &Value, at: usize) -> F<Value> {
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
pub(crate) fn raw_create(it: &mut Interp, r: &Value, at: usize) -> F<Value> {
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
