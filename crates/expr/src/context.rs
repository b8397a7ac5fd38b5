//! The seam between the engine and whoever runs it: the [`Context`] trait behind `context.…`,
//! and [`MapContext`], a map-backed implementation for tests and dry runs. The gateway's
//! implementation is in crates/gateway/src/exchange.rs, the test one in
//! crates/policy/src/pipeline/exchange.rs.

use indexmap::IndexMap;
use std::collections::{BTreeMap, BTreeSet};

use crate::value::{DateTime, Value};

/// What `context.` exposes. Paths are member names below `context`, e.g. `["Request", "Method"]`.
/// The interpreter knows the shape of APIM's context (which members are objects, which are
/// dictionaries) and only asks the implementation for leaves, so a gateway implements a handful
/// of methods rather than an object model.
pub trait Context {
    /// A scalar member such as `["Request","Method"]`, `["Subscription","Id"]`, `["RequestId"]`.
    /// `None` means the member is null.
    fn member(&mut self, path: &[&str]) -> Option<Value>;

    /// Whether an object on the path exists: `Response` (absent inbound), `Subscription`,
    /// `User`, `Request.PrivateEndpointConnection` may be null in APIM.
    fn object_exists(&mut self, path: &[&str]) -> bool {
        let _ = path;
        true
    }

    /// A dictionary entry. Dictionaries are `Request.Headers`, `Response.Headers`,
    /// `Request.Url.Query`, `Request.OriginalUrl.Query`, `Request.MatchedParameters` and
    /// `Variables`. Header names must match case-insensitively. Header values come back as a
    /// single comma-joined string, as `GetValueOrDefault` returns them in APIM.
    fn lookup(&mut self, dictionary: &[&str], key: &str) -> Option<Value>;

    /// The values of a header or query parameter as APIM's indexer, `TryGetValue` and
    /// enumeration give them (`IReadOnlyDictionary<string, string[]>`): one element per value.
    /// By default, [`Context::lookup`]'s comma-joined text split as [`list_values`] splits a
    /// header line (a query value is kept whole); implementations that keep each header line
    /// or query value apart override it.
    fn lookup_values(&mut self, dictionary: &[&str], key: &str) -> Option<Vec<String>> {
        let joined = self.lookup(dictionary, key)?.to_display();
        if dictionary.last() == Some(&"Headers") {
            Some(list_values(key, std::slice::from_ref(&joined)))
        } else {
            Some(vec![joined])
        }
    }

    /// Keys of a dictionary (for `.Keys`, `.Count` and enumeration).
    fn keys(&mut self, dictionary: &[&str]) -> Vec<String>;

    /// Sets a variable (used by the set-variable policy; APIM expressions cannot assign to
    /// `context.Variables` themselves).
    fn set_variable(&mut self, name: &str, value: Value);

    /// The body of `"Request"` or `"Response"` as text; `preserve_content: false` lets the
    /// implementation hand it over instead of copying.
    fn body(&mut self, message: &str, preserve_content: bool) -> Option<String>;

    /// The clock behind `DateTime.UtcNow`/`Now`; overridable so tests are deterministic.
    fn now(&mut self) -> DateTime {
        DateTime::now_utc()
    }

    /// `context.Trace(source, message)` sink; ignored by default.
    fn trace(&mut self, source: &str, message: &str) {
        let _ = (source, message);
    }
}

/// The values of a header as APIM's `Headers[name]` gives them: each line's comma-separated
/// list split into its elements (trimmed), except for the headers APIM's documentation names
/// as never concatenated because their values may contain commas or dates (set-header policy:
/// User-Agent, WWW-Authenticate, Proxy-Authenticate, Cookie, Set-Cookie, Warning, Date,
/// Expires, If-Modified-Since, If-Unmodified-Since, Last-Modified, Retry-After): one element
/// per line.
pub fn list_values(name: &str, lines: &[String]) -> Vec<String> {
    const WHOLE: &[&str] = &[
        "user-agent",
        "www-authenticate",
        "proxy-authenticate",
        "cookie",
        "set-cookie",
        "warning",
        "date",
        "expires",
        "if-modified-since",
        "if-unmodified-since",
        "last-modified",
        "retry-after",
    ];
    if WHOLE.iter().any(|w| w.eq_ignore_ascii_case(name)) {
        return lines.to_vec();
    }
    lines
        .iter()
        .flat_map(|l| l.split(','))
        .map(|v| v.trim().to_string())
        .collect()
}

/// A [`Context`] backed by maps, for tests and for `policy check`'s dry runs.
#[derive(Debug, Clone, Default)]
pub struct MapContext {
    /// Scalars by dotted path: `"Request.Method"`, `"Subscription.Id"`.
    pub members: BTreeMap<String, Value>,
    /// Dictionaries by dotted path, each in the order its keys were added (as a request's
    /// headers arrive); header dictionaries keep the names' case as given and are looked up
    /// case-insensitively.
    pub dictionaries: BTreeMap<String, IndexMap<String, Value>>,
    /// Objects that are null. By default `Response`, `Subscription`, `User`, `LastError` and
    /// `Request.PrivateEndpointConnection` are null unless a member below them is set.
    pub null_objects: BTreeSet<String>,
    pub bodies: BTreeMap<String, String>,
    pub now: Option<DateTime>,
    pub traces: Vec<(String, String)>,
}

impl MapContext {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a scalar member by dotted path, e.g. `set("Request.Method", "GET")`.
    pub fn set(&mut self, path: &str, value: impl Into<Value>) -> &mut Self {
        self.members.insert(path.to_string(), value.into());
        self
    }

    /// Sets a header (`message` is `"Request"` or `"Response"`).
    /// A name already set in another case keeps its first spelling and takes the new value.
    pub fn header(&mut self, message: &str, name: &str, value: &str) -> &mut Self {
        let headers = self
            .dictionaries
            .entry(format!("{message}.Headers"))
            .or_default();
        let key = headers
            .keys()
            .find(|k| k.eq_ignore_ascii_case(name))
            .cloned()
            .unwrap_or_else(|| name.to_string());
        headers.insert(key, Value::str(value));
        self
    }

    /// Sets an entry of any dictionary (`"Request.MatchedParameters"`, `"Request.Url.Query"`).
    pub fn entry(&mut self, dictionary: &str, key: &str, value: impl Into<Value>) -> &mut Self {
        self.dictionaries
            .entry(dictionary.to_string())
            .or_default()
            .insert(key.to_string(), value.into());
        self
    }

    pub fn variable(&mut self, name: &str, value: impl Into<Value>) -> &mut Self {
        self.entry("Variables", name, value)
    }

    pub fn body_text(&mut self, message: &str, body: &str) -> &mut Self {
        self.bodies.insert(message.to_string(), body.to_string());
        self
    }

    fn is_headers(d: &str) -> bool {
        d.ends_with(".Headers")
    }
}

impl Context for MapContext {
    fn member(&mut self, path: &[&str]) -> Option<Value> {
        self.members.get(&path.join(".")).cloned()
    }

    fn object_exists(&mut self, path: &[&str]) -> bool {
        let p = path.join(".");
        if self.null_objects.contains(&p) {
            return false;
        }
        let nullable = matches!(
            p.as_str(),
            "Response"
                | "Subscription"
                | "User"
                | "LastError"
                | "Request.PrivateEndpointConnection"
        );
        if !nullable {
            return true;
        }
        let prefix = format!("{p}.");
        self.members.keys().any(|k| k.starts_with(&prefix))
            || self.dictionaries.keys().any(|k| k.starts_with(&prefix))
            || self.bodies.contains_key(&p)
    }

    fn lookup(&mut self, dictionary: &[&str], key: &str) -> Option<Value> {
        let d = dictionary.join(".");
        let map = self.dictionaries.get(&d)?;
        if Self::is_headers(&d) {
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.clone())
        } else {
            map.get(key).cloned()
        }
    }

    fn keys(&mut self, dictionary: &[&str]) -> Vec<String> {
        self.dictionaries
            .get(&dictionary.join("."))
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn set_variable(&mut self, name: &str, value: Value) {
        self.variable(name, value);
    }

    fn body(&mut self, message: &str, _preserve_content: bool) -> Option<String> {
        self.bodies.get(message).cloned()
    }

    fn now(&mut self) -> DateTime {
        self.now.unwrap_or_else(DateTime::now_utc)
    }

    fn trace(&mut self, source: &str, message: &str) {
        self.traces.push((source.to_string(), message.to_string()));
    }
}
