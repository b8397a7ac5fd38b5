//! The configuration as rows: one per resource, keyed by (kind, parent, id), so a change to one
//! API touches one row. Bodies are the model's own types as JSON; `position` keeps each list's
//! order so that loading what was imported gives back the same config.

use crate::error::StoreError;
use crate::secret_key::SecretKey;
use gatehouse_model::Config;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeMap;

pub(crate) const SERVICE: &str = "service";
pub(crate) const GATEWAY: &str = "gateway";
pub(crate) const NETWORK: &str = "network";
pub(crate) const GLOBAL_POLICY: &str = "global_policy";
pub(crate) const FRAGMENT: &str = "fragment";
pub(crate) const BACKEND: &str = "backend";
pub(crate) const API: &str = "api";
pub(crate) const OPERATION: &str = "operation";
pub(crate) const PRODUCT: &str = "product";
pub(crate) const SUBSCRIPTION: &str = "subscription";
pub(crate) const NAMED_VALUE: &str = "named_value";
pub(crate) const USER: &str = "user";
pub(crate) const GROUP: &str = "group";
pub(crate) const PORTAL: &str = "portal";

/// Every kind, in the order `load` rebuilds them.
pub const KINDS: [&str; 14] = [
    SERVICE,
    GATEWAY,
    NETWORK,
    GLOBAL_POLICY,
    FRAGMENT,
    BACKEND,
    API,
    OPERATION,
    PRODUCT,
    SUBSCRIPTION,
    NAMED_VALUE,
    USER,
    GROUP,
    PORTAL,
];

/// A row's identity: kind, parent (the API of an operation, '' otherwise), id ('' for the
/// service-wide singletons).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Key {
    pub kind: String,
    pub parent: String,
    pub id: String,
}

impl Key {
    pub fn new(kind: &str, parent: &str, id: &str) -> Key {
        Key {
            kind: kind.to_string(),
            parent: parent.to_string(),
            id: id.to_string(),
        }
    }

    /// How errors and the encryption's associated data name the resource:
    /// `subscription/s1`, `operation/orders/get`, `service`.
    pub fn resource(&self) -> String {
        let mut out = self.kind.clone();
        for part in [&self.parent, &self.id] {
            if !part.is_empty() {
                out.push('/');
                out.push_str(part);
            }
        }
        out
    }
}

/// A row's content with its secrets in clear.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Content {
    pub position: i64,
    pub body: Value,
}

pub(crate) type Rows = BTreeMap<Key, Content>;

/// Splits `config` into rows.
pub(crate) fn to_rows(config: &Config) -> Result<Rows, StoreError> {
    let mut rows = Rows::new();
    let mut put = |kind: &'static str, parent: &str, id: &str, position: usize, body: Value| {
        let key = Key::new(kind, parent, id);
        let content = Content {
            position: i64::try_from(position).unwrap_or(i64::MAX),
            body,
        };
        match rows.insert(key, content) {
            None => Ok(()),
            Some(_) => Err(StoreError::DuplicateId {
                kind,
                id: if parent.is_empty() {
                    id.to_string()
                } else {
                    format!("{parent}/{id}")
                },
            }),
        }
    };
    put(SERVICE, "", "", 0, json(SERVICE, &config.service)?)?;
    put(GATEWAY, "", "", 0, json(GATEWAY, &config.gateway)?)?;
    put(NETWORK, "", "", 0, json(NETWORK, &config.network)?)?;
    put(PORTAL, "", "", 0, json(PORTAL, &config.portal)?)?;
    put(
        GLOBAL_POLICY,
        "",
        "",
        0,
        json(GLOBAL_POLICY, &config.policies.global)?,
    )?;
    for (i, (id, xml)) in config.policies.fragments.iter().enumerate() {
        put(FRAGMENT, "", id, i, json(FRAGMENT, xml)?)?;
    }
    for (i, (id, backend)) in config.backends.iter().enumerate() {
        put(BACKEND, "", id, i, json(BACKEND, backend)?)?;
    }
    for (i, api) in config.apis.iter().enumerate() {
        // The API row without its operations: each operation is a row of its own.
        let mut body = json(API, api)?;
        if let Some(obj) = body.as_object_mut() {
            obj.insert("operations".into(), Value::Array(Vec::new()));
        }
        put(API, "", &api.id, i, body)?;
        for (j, op) in api.operations.iter().enumerate() {
            put(OPERATION, &api.id, &op.id, j, json(OPERATION, op)?)?;
        }
    }
    for (i, p) in config.products.iter().enumerate() {
        put(PRODUCT, "", &p.id, i, json(PRODUCT, p)?)?;
    }
    for (i, s) in config.subscriptions.iter().enumerate() {
        put(SUBSCRIPTION, "", &s.id, i, json(SUBSCRIPTION, s)?)?;
    }
    for (i, n) in config.named_values.iter().enumerate() {
        put(NAMED_VALUE, "", &n.id, i, json(NAMED_VALUE, n)?)?;
    }
    for (i, u) in config.users.iter().enumerate() {
        put(USER, "", &u.id, i, json(USER, u)?)?;
    }
    for (i, g) in config.groups.iter().enumerate() {
        put(GROUP, "", &g.id, i, json(GROUP, g)?)?;
    }
    Ok(rows)
}

fn json<T: Serialize>(kind: &str, value: &T) -> Result<Value, StoreError> {
    serde_json::to_value(value).map_err(|source| StoreError::Serialize {
        resource: kind.to_string(),
        source,
    })
}

/// Rebuilds the config from its rows. `None` when the store holds no service row.
pub(crate) fn from_rows(rows: Rows) -> Result<Option<Config>, StoreError> {
    let mut config = Config::default();
    let mut seen_service = false;
    // Lists are rebuilt in `position` order; BTreeMap keys sort by id, not by position.
    type Group = Vec<(i64, Key, Value)>;
    let mut ordered: BTreeMap<(String, String), Group> = BTreeMap::new();
    for (key, content) in rows {
        ordered
            .entry((key.kind.clone(), key.parent.clone()))
            .or_default()
            .push((content.position, key, content.body));
    }
    let mut operations: BTreeMap<String, Vec<gatehouse_model::Operation>> = BTreeMap::new();
    for ((kind, parent), mut list) in ordered {
        list.sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
        for (_, key, body) in list {
            match kind.as_str() {
                SERVICE => {
                    config.service = parse(&key, body)?;
                    seen_service = true;
                }
                GATEWAY => config.gateway = parse(&key, body)?,
                NETWORK => config.network = parse(&key, body)?,
                PORTAL => config.portal = parse(&key, body)?,
                GLOBAL_POLICY => config.policies.global = parse(&key, body)?,
                FRAGMENT => {
                    let xml = parse(&key, body)?;
                    config.policies.fragments.insert(key.id, xml);
                }
                BACKEND => {
                    let backend = parse(&key, body)?;
                    config.backends.insert(key.id, backend);
                }
                API => config.apis.push(parse(&key, body)?),
                OPERATION => operations
                    .entry(parent.clone())
                    .or_default()
                    .push(parse(&key, body)?),
                PRODUCT => config.products.push(parse(&key, body)?),
                SUBSCRIPTION => config.subscriptions.push(parse(&key, body)?),
                NAMED_VALUE => config.named_values.push(parse(&key, body)?),
                USER => config.users.push(parse(&key, body)?),
                GROUP => config.groups.push(parse(&key, body)?),
                other => {
                    return Err(StoreError::Corrupt {
                        resource: key.resource(),
                        reason: format!("unknown kind {other:?}"),
                    });
                }
            }
        }
    }
    for api in &mut config.apis {
        api.operations = operations.remove(&api.id).unwrap_or_default();
    }
    if let Some((api, _)) = operations.into_iter().next() {
        return Err(StoreError::Corrupt {
            resource: format!("operation/{api}"),
            reason: "operations of an API that is not stored".into(),
        });
    }
    Ok(seen_service.then_some(config))
}

fn parse<T: DeserializeOwned>(key: &Key, body: Value) -> Result<T, StoreError> {
    serde_json::from_value(body).map_err(|e| StoreError::Corrupt {
        resource: key.resource(),
        reason: e.to_string(),
    })
}

/// The JSON fields of a row that hold secrets: subscription keys, and the value of a named
/// value marked secret.
fn secret_fields(kind: &str, body: &Value) -> &'static [&'static str] {
    match kind {
        SUBSCRIPTION => &["primary_key", "secondary_key"],
        NAMED_VALUE if body.get("secret") == Some(&Value::Bool(true)) => &["value"],
        _ => &[],
    }
}

/// The body as stored: secrets encrypted.
pub(crate) fn seal(key: &Key, body: &Value, secrets: &SecretKey) -> Result<Value, StoreError> {
    let mut sealed = body.clone();
    let resource = key.resource();
    for field in secret_fields(&key.kind, body) {
        if let Some(slot) = sealed.get_mut(*field)
            && let Value::String(clear) = slot
        {
            *slot = Value::String(secrets.encrypt(&resource, clear)?);
        }
    }
    Ok(sealed)
}

/// The body as stored, with its secrets decrypted.
pub(crate) fn unseal(key: &Key, mut body: Value, secrets: &SecretKey) -> Result<Value, StoreError> {
    let resource = key.resource();
    for field in secret_fields(&key.kind, &body) {
        if let Some(slot) = body.get_mut(*field)
            && let Value::String(stored) = slot
        {
            *slot = Value::String(secrets.decrypt(&resource, stored)?);
        }
    }
    Ok(body)
}

/// The body with its secrets replaced by `***`, for history listings.
pub(crate) fn redact(kind: &str, mut body: Value) -> Value {
    for field in secret_fields(kind, &body) {
        if let Some(slot) = body.get_mut(*field)
            && slot.is_string()
        {
            *slot = Value::String("***".into());
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Config {
        let yaml = r#"
service: { name: s }
backends: { b: { url: "http://127.0.0.1:1" } }
apis:
  - id: zeta
    path: z
    backend: b
    operations:
      - { id: second, method: GET, url_template: /b }
      - { id: first, method: GET, url_template: /a }
  - { id: alpha, path: a, backend: b }
subscriptions:
  - { id: s1, scope: all, primary_key: k1 }
named_values:
  - { id: plain, value: hello }
  - { id: hidden, value: hunter2, secret: true }
"#;
        gatehouse_model::from_str(
            yaml,
            gatehouse_model::Format::Yaml,
            std::path::Path::new("t.yaml"),
        )
        .unwrap()
    }

    #[test]
    fn rows_round_trip_in_order() {
        let config = sample();
        let rows = to_rows(&config).unwrap();
        assert!(rows.contains_key(&Key::new(OPERATION, "zeta", "second")));
        assert_eq!(
            rows[&Key::new(API, "", "zeta")].body["operations"],
            Value::Array(vec![])
        );
        let back = from_rows(rows).unwrap().unwrap();
        assert_eq!(
            serde_json::to_value(&back).unwrap(),
            serde_json::to_value(&config).unwrap()
        );
    }

    #[test]
    fn only_secret_fields_are_sealed() {
        let rows = to_rows(&sample()).unwrap();
        let key = SecretKey::generate();
        for (k, c) in &rows {
            let sealed = seal(k, &c.body, &key).unwrap();
            let text = sealed.to_string();
            assert!(
                !text.contains("hunter2") && !text.contains("\"k1\""),
                "{text}"
            );
            assert_eq!(unseal(k, sealed, &key).unwrap(), c.body);
        }
        let plain = &rows[&Key::new(NAMED_VALUE, "", "plain")];
        assert_eq!(
            seal(&Key::new(NAMED_VALUE, "", "plain"), &plain.body, &key).unwrap(),
            plain.body
        );
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let mut config = sample();
        config.apis.push(config.apis[0].clone());
        assert!(matches!(
            to_rows(&config),
            Err(StoreError::DuplicateId { kind: "api", .. })
        ));
    }
}
