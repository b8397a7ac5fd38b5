//! YAML documents read straight into a `serde_json::Value`, with numbers as serde_json reads
//! them from JSON text.
//!
//! Hand-written (a serde `Visitor`, not a crate) because neither route the crates offer does
//! this: `yaml_serde::from_str::<serde_json::Value>` refuses an integer literal outside
//! i64/u64 ("JSON number out of range": yaml_serde hands it over as an i128 that serde_json's
//! visitor will not take), and going through `yaml_serde::Value` keeps a second copy of the
//! whole document. OpenAI's `openapi.yaml` says `minimum: -9223372036854776000`; serde_json
//! reads that literal as an f64, and so does this. yaml_serde's own limits still apply while
//! it drives this visitor (nesting depth, alias expansion).

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// A JSON value deserialized leniently from YAML (see the module comment).
pub struct Lenient(pub Value);

impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LenientVisitor).map(Lenient)
    }
}

/// Reads `text` as YAML into JSON.
pub fn from_str(text: &str) -> Result<Value, yaml_serde::Error> {
    yaml_serde::from_str::<Lenient>(text).map(|l| l.0)
}

struct LenientVisitor;

/// A float as serde_json's own `Value` visitor keeps one: NaN and infinities become null.
fn float(f: f64) -> Value {
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

impl<'de> Visitor<'de> for LenientVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value that has a JSON form")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        // Within i64/u64 an integer stays one; beyond, serde_json reads the literal as f64.
        Ok(match (i64::try_from(v), u64::try_from(v)) {
            (Ok(i), _) => Value::Number(i.into()),
            (_, Ok(u)) => Value::Number(u.into()),
            _ => float(v as f64),
        })
    }

    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(match u64::try_from(v) {
            Ok(u) => Value::Number(u.into()),
            Err(_) => float(v as f64),
        })
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Lenient::deserialize(d).map(|l| l.0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(Lenient(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        // A key is read as a string: YAML's `200:` is the response key "200", as serde_json's
        // own visitor reads it.
        while let Some(k) = map.next_key::<String>()? {
            let Lenient(v) = map.next_value()?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, _: A) -> Result<Value, A::Error> {
        Err(de::Error::custom("YAML tags (`!name`) have no JSON form"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_beyond_64_bits_read_as_serde_json_reads_them() {
        let v =
            from_str("minimum: -9223372036854776000\nmax: 18446744073709551616\n").expect("parses");
        let want: Value = serde_json::from_str(
            r#"{"minimum": -9223372036854776000, "max": 18446744073709551616}"#,
        )
        .expect("json");
        assert_eq!(v, want);
        assert!(v["minimum"].is_f64());
    }

    #[test]
    fn scalars_sequences_and_numeric_keys() {
        let v = from_str("a: 1\nb: -2\nc: 1.5\nd: [true, null, x]\n200: {description: ok}\n")
            .expect("parses");
        assert_eq!(
            v,
            json!({"a": 1, "b": -2, "c": 1.5, "d": [true, null, "x"], "200": {"description": "ok"}})
        );
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            doc.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(from_str(&doc).is_err());
    }
}
