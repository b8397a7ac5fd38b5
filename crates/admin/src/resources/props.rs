//! Reading an ARM `properties` object into model fields: each reader names the property it
//! failed on, so a bad body answers 400 with `target` = `properties.<name>`.

use crate::error::ApiError;
use serde_json::{Map, Value};

/// The `properties` object of a request body (absent → empty).
pub struct Props<'a>(pub &'a Map<String, Value>);

impl<'a> Props<'a> {
    pub fn str(&self, key: &str) -> Result<Option<String>, ApiError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::property(
                format!("properties.{key}"),
                "must be a string",
            )),
        }
    }
    /// `key`, or when the body leaves it out the resource's current value `old`.
    pub fn str_or(
        &self,
        key: &str,
        old: Option<&Option<String>>,
    ) -> Result<Option<String>, ApiError> {
        Ok(self.str(key)?.or_else(|| old.cloned().flatten()))
    }
    pub fn req_str(&self, key: &str, current: Option<&str>) -> Result<String, ApiError> {
        match (self.str(key)?, current) {
            (Some(s), _) => Ok(s),
            (None, Some(c)) => Ok(c.to_string()),
            (None, None) => Err(ApiError::property(
                format!("properties.{key}"),
                format!("'{key}' is required"),
            )),
        }
    }
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::property(
                format!("properties.{key}"),
                "must be true or false",
            )),
        }
    }
    pub fn u64(&self, key: &str) -> Result<Option<u64>, ApiError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            // JSON does not tell 3 from 3.0; an integral float is read as the integer.
            Some(v) => v
                .as_u64()
                .or_else(|| {
                    v.as_f64()
                        .filter(|f| f.fract() == 0.0 && (0.0..9.0e15).contains(f))
                        .map(|f| f as u64)
                })
                .map(Some)
                .ok_or_else(|| {
                    ApiError::property(
                        format!("properties.{key}"),
                        "must be a non-negative integer",
                    )
                }),
        }
    }
    /// `key` read with [`Props::typed`], else the current value `old`, else the model's default.
    pub fn typed_or<T: serde::de::DeserializeOwned + Default>(
        &self,
        key: &str,
        old: Option<T>,
    ) -> Result<T, ApiError> {
        Ok(self.typed(key)?.or(old).unwrap_or_default())
    }
    /// A property read into a model type through its serde form (enums, nested objects).
    pub fn typed<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>, ApiError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => serde_json::from_value(without_nulls(v))
                .map(Some)
                .map_err(|e| ApiError::property(format!("properties.{key}"), e.to_string())),
        }
    }
}

/// An object's `null` members dropped: in a request `null` means "not given" (a model default
/// then applies), as ARM's merge-patch reading of bodies has it.
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k.clone(), x.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The `properties` object of a body, or an empty one.
pub fn properties(body: &Value) -> Result<Map<String, Value>, ApiError> {
    if !(body.is_object() || body.is_null()) {
        return Err(ApiError::property("", "the body must be a JSON object"));
    }
    match body.get("properties") {
        None => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(ApiError::property("properties", "must be an object")),
    }
}

/// PATCH: `patch` merged into `base` (RFC 7396 merge patch, as ARM applies it).
pub fn merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    b.remove(k);
                } else {
                    merge(b.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (b, p) => *b = p.clone(),
    }
}

/// A random key as APIM generates them: 32 lowercase hex digits.
pub fn random_key() -> Result<String, ApiError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(format!("no randomness: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// An enum value as its serde string (`notPublished`, `active`).
pub fn enum_str<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nulls_are_not_given_and_integral_floats_are_integers() {
        let m = json!({"n": 399.0, "f": 1.5, "k": {"header": null, "query": "q"}});
        let p = Props(m.as_object().unwrap());
        assert_eq!(p.u64("n").unwrap(), Some(399));
        assert!(p.u64("f").is_err());
        let k: gatehouse_model::SubscriptionKeyNames = p.typed("k").unwrap().unwrap();
        assert_eq!(k.header, "Ocp-Apim-Subscription-Key");
        assert_eq!(k.query, "q");
    }
}
