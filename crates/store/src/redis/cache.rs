//! [`RedisCache`]: the external cache of `cache-lookup`/`cache-store` and the `-value` policies
//! with `caching-type="external"` (or `"prefer-external"`), shared by every node as APIM's
//! external cache is.
//!
//! Entries are stored with their TTL (`SET … PX`) in the small JSON form [`StoredEntry`]:
//! plain values (null, booleans, numbers, strings, JSON) and responses with a text body. Other
//! values (byte arrays, dates, objects of the expression library) cannot be stored: the put
//! removes the key instead, as the trait asks. While Redis is unreachable a lookup misses and
//! a store is not made; a request never fails because of the cache.

use std::sync::Arc;
use std::time::Duration;

use gatehouse_policy::answer::Answer;
use gatehouse_policy::cache::{Cache, CachedEntry, CachedResponse};
use gatehouse_policy::expr::Value;
use serde::{Deserialize, Serialize};

use super::link::Link;

/// What Redis holds for one entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StoredEntry {
    Value(StoredValue),
    Response {
        status: u16,
        reason: String,
        headers: Vec<(String, String)>,
        /// cache-store only stores UTF-8 bodies (crates/policy/src/pipeline/caching.rs).
        body: String,
    },
}

/// A plain value, with its type kept (an `Int` comes back an `Int`, not a JSON number).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StoredValue {
    Null,
    Bool(bool),
    Int(i64),
    Double(f64),
    String(String),
    Json(serde_json::Value),
}

impl StoredEntry {
    /// The stored form of `entry`; `None` when it cannot be stored.
    pub fn from_entry(entry: &CachedEntry) -> Option<StoredEntry> {
        Some(match entry {
            CachedEntry::Value(v) => StoredEntry::Value(match v {
                Value::Null => StoredValue::Null,
                Value::Bool(b) => StoredValue::Bool(*b),
                Value::Int(i) => StoredValue::Int(*i),
                Value::Double(d) => StoredValue::Double(*d),
                Value::String(s) => StoredValue::String(s.to_string()),
                Value::Json(j) if !j.is_property() => StoredValue::Json(j.to_serde()),
                _ => return None,
            }),
            CachedEntry::Response(r) => StoredEntry::Response {
                status: r.status,
                reason: r.reason.clone(),
                headers: r.headers.clone(),
                body: String::from_utf8(r.body.clone()).ok()?,
            },
        })
    }

    /// The entry back.
    pub fn into_entry(self) -> CachedEntry {
        match self {
            StoredEntry::Value(v) => CachedEntry::Value(match v {
                StoredValue::Null => Value::Null,
                StoredValue::Bool(b) => Value::Bool(b),
                StoredValue::Int(i) => Value::Int(i),
                StoredValue::Double(d) => Value::Double(d),
                StoredValue::String(s) => Value::str(&s),
                StoredValue::Json(j) => Value::json(&j),
            }),
            StoredEntry::Response {
                status,
                reason,
                headers,
                body,
            } => CachedEntry::Response(CachedResponse {
                status,
                reason,
                headers,
                body: body.into_bytes(),
            }),
        }
    }
}

/// The external cache in Redis.
#[derive(Debug, Clone)]
pub struct RedisCache {
    link: Arc<Link>,
}

/// Redis keys of the cache: prefixed so they never meet the counters' keys.
fn redis_key(key: &str) -> String {
    format!("gatehouse:cache:{key}")
}

impl RedisCache {
    pub(crate) fn new(link: Arc<Link>) -> Self {
        RedisCache { link }
    }

    async fn fetch(&self, key: &str) -> Option<(CachedEntry, Option<Duration>)> {
        if !self.link.is_up() {
            self.link.count_fallback();
            return None;
        }
        let key = redis_key(key);
        let found = self
            .link
            .call(|mut conn| async move {
                redis::pipe()
                    .cmd("GET")
                    .arg(&key)
                    .cmd("PTTL")
                    .arg(&key)
                    .query_async::<(Option<String>, i64)>(&mut conn)
                    .await
            })
            .await;
        let (text, ttl) = match found {
            Ok((Some(text), ttl)) => (text, ttl),
            Ok((None, _)) => return None,
            Err(_) => {
                self.link.count_fallback();
                return None;
            }
        };
        match serde_json::from_str::<StoredEntry>(&text) {
            Ok(stored) => {
                let ttl = u64::try_from(ttl).ok().map(Duration::from_millis);
                Some((stored.into_entry(), ttl))
            }
            Err(e) => {
                // Written by another version, or by someone else: a miss, not an error.
                tracing::debug!(target: "gatehouse::shared", error = %e, "unreadable external cache entry: a miss");
                None
            }
        }
    }

    async fn store(&self, key: String, entry: CachedEntry, ttl: Duration) {
        self.write(&key, move || {
            let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
            let text =
                StoredEntry::from_entry(&entry).and_then(|s| serde_json::to_string(&s).ok())?;
            (ms > 0).then_some((text, ms))
        })
        .await;
    }

    async fn delete(&self, key: &str) {
        self.write(key, || None).await;
    }

    /// Sets `key` to what `value` gives (its text and TTL in ms), or deletes it when that is
    /// `None`. `value` runs only when Redis is up: nothing is serialised for a store not made.
    async fn write(&self, key: &str, value: impl FnOnce() -> Option<(String, u64)>) {
        if !self.link.is_up() {
            self.link.count_fallback();
            return;
        }
        let key = redis_key(key);
        let value = value();
        let done = self
            .link
            .call(|mut conn| async move {
                match value {
                    Some((text, ms)) => {
                        redis::cmd("SET")
                            .arg(&key)
                            .arg(text)
                            .arg("PX")
                            .arg(ms)
                            .query_async::<()>(&mut conn)
                            .await
                    }
                    // Removed, expired already, or not storable: the old value must not
                    // outlive it.
                    None => {
                        redis::cmd("DEL")
                            .arg(&key)
                            .query_async::<()>(&mut conn)
                            .await
                    }
                }
            })
            .await;
        if done.is_err() {
            self.link.count_fallback();
        }
    }
}

impl Cache for RedisCache {
    fn get<'a>(&'a self, key: &'a str) -> Answer<'a, Option<CachedEntry>> {
        Answer::pending(async move { self.fetch(key).await.map(|(e, _)| e) })
    }

    fn put(&self, key: String, entry: CachedEntry, ttl: Duration) -> Answer<'_, ()> {
        Answer::pending(self.store(key, entry, ttl))
    }

    fn remove<'a>(&'a self, key: &'a str) -> Answer<'a, ()> {
        Answer::pending(self.delete(key))
    }

    fn get_with_ttl<'a>(
        &'a self,
        key: &'a str,
    ) -> Answer<'a, Option<(CachedEntry, Option<Duration>)>> {
        Answer::pending(self.fetch(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_and_text_responses_round_trip_others_are_not_stored() {
        let values = [
            Value::Null,
            Value::Bool(true),
            Value::Int(-7),
            Value::Double(1.5),
            Value::str("text"),
            Value::json(&serde_json::json!({"a": [1, "b"]})),
        ];
        for v in values {
            let entry = CachedEntry::Value(v);
            let stored = StoredEntry::from_entry(&entry).expect("storable");
            let text = serde_json::to_string(&stored).expect("serializes");
            let back: StoredEntry = serde_json::from_str(&text).expect("parses");
            assert_eq!(back.into_entry(), entry);
        }
        let response = CachedEntry::Response(CachedResponse {
            status: 200,
            reason: "OK".into(),
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: b"hello".to_vec(),
        });
        let stored = StoredEntry::from_entry(&response).expect("storable");
        assert_eq!(stored.into_entry(), response);
        assert!(StoredEntry::from_entry(&CachedEntry::Value(Value::Bytes(vec![1]))).is_none());
    }
}
