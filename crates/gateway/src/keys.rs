//! Subscription keys: where a request's key is found, which subscription it belongs to, and
//! whether that subscription opens the API. Lookups go by the key's SHA-256 digest and end in a
//! constant-time comparison, so response timing says nothing about how close a guess was.

use crate::error::{ErrorKind, GatewayError};
use gatehouse_model::{ProductState, Scope, SubscriptionState, UserState, Validated};
use http::HeaderMap;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// A subscription as the hot path needs it.
#[derive(Debug)]
pub struct SubscriptionEntry {
    pub id: Arc<str>,
    /// The display name (the id when it has none), for `context.Subscription.Name`.
    pub name: Arc<str>,
    pub state: SubscriptionState,
    /// The product (index in the config) when the subscription's scope is a product: its
    /// policies apply to the requests it authorizes.
    pub product: Option<usize>,
    /// `None`: every API. Otherwise the sorted indices of the APIs it opens.
    covers: Option<Box<[u32]>>,
    /// For `context.Subscription.PrimaryKey`/`SecondaryKey` (never logged; `Debug` hides them).
    pub keys: SubscriptionKeys,
    /// The owner (index in the config's users), for `context.User`.
    pub owner: Option<usize>,
    /// The owner is blocked (or deleted): as in APIM, a blocked user's keys stop working.
    pub owner_blocked: bool,
}

/// A subscription's keys, readable by policy expressions as in APIM.
pub struct SubscriptionKeys {
    pub primary: Arc<str>,
    pub secondary: Option<Arc<str>>,
}

impl std::fmt::Debug for SubscriptionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubscriptionKeys(<secret>)")
    }
}

impl SubscriptionEntry {
    pub fn covers(&self, api_index: usize) -> bool {
        match &self.covers {
            None => true,
            Some(apis) => apis.binary_search(&(api_index as u32)).is_ok(),
        }
    }
}

#[derive(Debug, Default)]
pub struct KeyIndex {
    by_digest: HashMap<[u8; 32], (usize, Box<[u8]>)>,
    subscriptions: Vec<SubscriptionEntry>,
}

fn digest(key: &[u8]) -> [u8; 32] {
    Sha256::digest(key).into()
}

impl KeyIndex {
    pub fn build(v: &Validated) -> KeyIndex {
        let api_index: HashMap<&str, u32> = v
            .config
            .apis
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.as_str(), i as u32))
            .collect();
        let mut index = KeyIndex::default();
        for (i, (sub, scope)) in v.config.subscriptions.iter().zip(&v.scopes).enumerate() {
            let covers = match scope {
                Scope::All => None,
                Scope::Api(a) => Some(
                    api_index
                        .get(a.as_str())
                        .copied()
                        .into_iter()
                        .collect::<Vec<_>>(),
                ),
                Scope::Product(p) => Some(
                    v.config
                        .products
                        .iter()
                        .filter(|prod| &prod.id == p && prod.state == ProductState::Published)
                        .flat_map(|prod| {
                            prod.apis
                                .iter()
                                .filter_map(|a| api_index.get(a.as_str()).copied())
                        })
                        .collect(),
                ),
            };
            let covers = covers.map(|mut c| {
                c.sort_unstable();
                c.dedup();
                c.into_boxed_slice()
            });
            let product = match scope {
                Scope::Product(p) => v.config.products.iter().position(|prod| &prod.id == p),
                _ => None,
            };
            let owner = sub
                .owner
                .as_ref()
                .and_then(|o| v.config.users.iter().position(|u| &u.id == o));
            let owner_blocked = owner.is_some_and(|u| {
                matches!(
                    v.config.users[u].state,
                    UserState::Blocked | UserState::Deleted
                )
            });
            index.subscriptions.push(SubscriptionEntry {
                id: sub.id.as_str().into(),
                name: sub.display_name.as_deref().unwrap_or(&sub.id).into(),
                product,
                state: sub.state,
                covers,
                owner,
                owner_blocked,
                keys: SubscriptionKeys {
                    primary: sub.primary_key.expose().into(),
                    secondary: sub.secondary_key.as_ref().map(|k| k.expose().into()),
                },
            });
            for key in std::iter::once(&sub.primary_key).chain(sub.secondary_key.as_ref()) {
                let k = key.expose().as_bytes();
                index.by_digest.insert(digest(k), (i, k.into()));
            }
        }
        index
    }

    /// The subscription owning `key`, if any.
    pub fn lookup(&self, key: &[u8]) -> Option<&SubscriptionEntry> {
        let (i, stored) = self.by_digest.get(&digest(key))?;
        bool::from(stored.as_ref().ct_eq(key)).then(|| &self.subscriptions[*i])
    }

    pub fn len(&self) -> usize {
        self.subscriptions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.subscriptions.is_empty()
    }
}

/// Where the key was found, so it can be stripped before forwarding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyLocation {
    Header,
    Query,
}

/// Finds the key: the header first, then the query parameter (percent-decoded).
pub fn find_key<'a>(
    headers: &'a HeaderMap,
    query: Option<&'a str>,
    header: &str,
    param: &str,
) -> FoundKey<'a> {
    if let Some(v) = headers.get(header) {
        return Some((Cow::Borrowed(v.as_bytes()), KeyLocation::Header));
    }
    let q = query?;
    q.split('&').find_map(|pair| {
        let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
        (n == param).then(|| {
            (
                Cow::from(percent_encoding::percent_decode_str(v)),
                KeyLocation::Query,
            )
        })
    })
}

/// A request's subscription key as found, and where.
pub type FoundKey<'a> = Option<(Cow<'a, [u8]>, KeyLocation)>;

/// The subscription phase of a request to the API at `api_index`: its key, looked for where
/// the API's settings say, and the subscription that key opens (see [`authorize`]).
pub fn check<'a, 'k>(
    keys: &'k KeyIndex,
    api: &crate::snapshot::ApiSettings,
    api_index: usize,
    headers: &'a HeaderMap,
    query: Option<&'a str>,
) -> Result<(FoundKey<'a>, Option<&'k SubscriptionEntry>), GatewayError> {
    let key = find_key(headers, query, api.key_header.as_str(), &api.key_query);
    let sub = authorize(
        keys,
        key.as_ref().map(|(k, _)| k.as_ref()),
        api_index,
        api.subscription_required,
    )?;
    Ok((key, sub))
}

/// The subscription check of one request, as APIM does it: with `required`, a missing key is 401,
/// an unknown key or one whose scope does not include this API is 401, a key of a subscription
/// that is not active is 403. Without `required`, a valid key still identifies its subscription
/// and anything else is ignored.
pub fn authorize<'k>(
    keys: &'k KeyIndex,
    key: Option<&[u8]>,
    api_index: usize,
    required: bool,
) -> Result<Option<&'k SubscriptionEntry>, GatewayError> {
    let Some(key) = key else {
        return if required {
            Err(GatewayError::new(
                ErrorKind::SubscriptionKeyMissing,
                "no subscription key in header or query",
            ))
        } else {
            Ok(None)
        };
    };
    let found = keys.lookup(key);
    if !required {
        return Ok(found.filter(|s| {
            s.state == SubscriptionState::Active && !s.owner_blocked && s.covers(api_index)
        }));
    }
    let sub = found.ok_or_else(|| {
        GatewayError::new(
            ErrorKind::SubscriptionKeyInvalid,
            "the key belongs to no subscription",
        )
    })?;
    if sub.state != SubscriptionState::Active {
        return Err(GatewayError::new(
            ErrorKind::SubscriptionInactive,
            format!("subscription '{}' is {:?}", sub.id, sub.state),
        ));
    }
    if sub.owner_blocked {
        return Err(GatewayError::new(
            ErrorKind::SubscriptionInactive,
            format!("subscription '{}' belongs to a blocked user", sub.id),
        ));
    }
    if !sub.covers(api_index) {
        return Err(GatewayError::new(
            ErrorKind::SubscriptionKeyInvalid,
            format!("subscription '{}' does not include this API", sub.id),
        ));
    }
    Ok(Some(sub))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_model::{Format, from_str, validate};
    use std::path::Path;

    const CFG: &str = r#"
service: { name: t }
apis:
  - { id: a, path: a, backend: "http://127.0.0.1:1", operations: [ { id: o, method: GET, url_template: "/" } ] }
  - { id: b, path: b, backend: "http://127.0.0.1:1", operations: [ { id: o, method: GET, url_template: "/" } ] }
products:
  - { id: p, apis: [a] }
  - { id: hidden, apis: [b], state: not_published }
subscriptions:
  - { id: all, scope: all, primary_key: "key-all-000000000000", secondary_key: "key-all-secondary-00" }
  - { id: prod, scope: product/p, primary_key: "key-prod-00000000000" }
  - { id: api-b, scope: api/b, primary_key: "key-api-b-0000000000" }
  - { id: gone, scope: all, primary_key: "key-suspended-000000", state: suspended }
  - { id: unpub, scope: product/hidden, primary_key: "key-unpublished-0000" }
  - { id: blocked, scope: all, owner: mallory, primary_key: "key-blocked-owner-00" }
  - { id: fine, scope: all, owner: alice, primary_key: "key-active-owner-000" }
users:
  - { id: mallory, email: m@example.com, state: blocked }
  - { id: alice, email: a@example.com }
"#;

    fn index() -> KeyIndex {
        KeyIndex::build(&validate(from_str(CFG, Format::Yaml, Path::new("t")).unwrap()).unwrap())
    }

    fn check(
        keys: &KeyIndex,
        key: Option<&str>,
        api: usize,
        required: bool,
    ) -> Result<Option<String>, ErrorKind> {
        authorize(keys, key.map(str::as_bytes), api, required)
            .map(|s| s.map(|s| s.id.to_string()))
            .map_err(|e| e.kind)
    }

    #[test]
    fn primary_and_secondary_keys_and_scopes() {
        let k = index();
        assert_eq!(
            check(&k, Some("key-all-000000000000"), 1, true),
            Ok(Some("all".into()))
        );
        assert_eq!(
            check(&k, Some("key-all-secondary-00"), 0, true),
            Ok(Some("all".into()))
        );
        assert_eq!(
            check(&k, Some("key-prod-00000000000"), 0, true),
            Ok(Some("prod".into()))
        );
        assert_eq!(
            check(&k, Some("key-prod-00000000000"), 1, true),
            Err(ErrorKind::SubscriptionKeyInvalid)
        );
        assert_eq!(
            check(&k, Some("key-api-b-0000000000"), 1, true),
            Ok(Some("api-b".into()))
        );
        assert_eq!(
            check(&k, Some("key-api-b-0000000000"), 0, true),
            Err(ErrorKind::SubscriptionKeyInvalid)
        );
        assert_eq!(
            check(&k, Some("key-unpublished-0000"), 1, true),
            Err(ErrorKind::SubscriptionKeyInvalid)
        );
    }

    #[test]
    fn a_blocked_owner_keys_stop_working() {
        let k = index();
        assert_eq!(
            check(&k, Some("key-blocked-owner-00"), 0, true),
            Err(ErrorKind::SubscriptionInactive)
        );
        assert_eq!(check(&k, Some("key-blocked-owner-00"), 0, false), Ok(None));
        assert_eq!(
            check(&k, Some("key-active-owner-000"), 0, true),
            Ok(Some("fine".into()))
        );
    }

    #[test]
    fn missing_invalid_inactive() {
        let k = index();
        assert_eq!(
            check(&k, None, 0, true),
            Err(ErrorKind::SubscriptionKeyMissing)
        );
        assert_eq!(
            check(&k, Some("key-all-00000000000"), 0, true),
            Err(ErrorKind::SubscriptionKeyInvalid)
        );
        assert_eq!(
            check(&k, Some(""), 0, true),
            Err(ErrorKind::SubscriptionKeyInvalid)
        );
        assert_eq!(
            check(&k, Some("key-suspended-000000"), 0, true),
            Err(ErrorKind::SubscriptionInactive)
        );
    }

    #[test]
    fn optional_subscription_identifies_but_never_refuses() {
        let k = index();
        assert_eq!(check(&k, None, 0, false), Ok(None));
        assert_eq!(check(&k, Some("nonsense"), 0, false), Ok(None));
        assert_eq!(check(&k, Some("key-suspended-000000"), 0, false), Ok(None));
        assert_eq!(
            check(&k, Some("key-prod-00000000000"), 0, false),
            Ok(Some("prod".into()))
        );
    }

    #[test]
    fn key_from_header_then_query() {
        let mut h = HeaderMap::new();
        assert_eq!(
            find_key(
                &h,
                Some("a=1&subscription-key=k%2Fx"),
                "Ocp-Apim-Subscription-Key",
                "subscription-key"
            ),
            Some((Cow::Borrowed(&b"k/x"[..]), KeyLocation::Query))
        );
        h.insert("ocp-apim-subscription-key", "hk".parse().unwrap());
        assert_eq!(
            find_key(
                &h,
                Some("subscription-key=q"),
                "Ocp-Apim-Subscription-Key",
                "subscription-key"
            )
            .map(|(k, l)| (k.into_owned(), l)),
            Some((b"hk".to_vec(), KeyLocation::Header))
        );
        assert_eq!(find_key(&HeaderMap::new(), None, "x", "y"), None);
    }
}
