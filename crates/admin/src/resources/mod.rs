//! The addressable resources of the API: each [`Item`] knows its ARM `type`, where it lives in
//! the config, and how to read, write and delete it there; each [`Collection`] lists items.

pub mod apis;
pub mod groups;
pub mod others;
pub mod props;

use crate::error::ApiError;
use gatehouse_model::Config;
use props::Props;
use serde_json::Value;

/// One resource, by the names in its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Api(String),
    Operation(String, String),
    ApiPolicy(String),
    OperationPolicy(String, String),
    Product(String),
    ProductPolicy(String),
    Subscription(String),
    User(String),
    Group(String),
    NamedValue(String),
    Backend(String),
    GlobalPolicy,
    Fragment(String),
    PrivateEndpoint(String),
}

/// A list endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Collection {
    Apis,
    Operations(String),
    ApiPolicies(String),
    OperationPolicies(String, String),
    Products,
    ProductApis(String),
    ProductPolicies(String),
    ProductGroups(String),
    Subscriptions,
    Users,
    Groups,
    GroupUsers(String),
    NamedValues,
    Backends,
    GlobalPolicies,
    Fragments,
    PrivateEndpoints,
}

fn api_index(c: &Config, a: &str) -> Result<usize, ApiError> {
    c.apis
        .iter()
        .position(|x| x.id == a)
        .ok_or_else(|| ApiError::not_found(format!("API '{a}'")))
}
fn product_index(c: &Config, p: &str) -> Result<usize, ApiError> {
    c.products
        .iter()
        .position(|x| x.id == p)
        .ok_or_else(|| ApiError::not_found(format!("Product '{p}'")))
}
fn op_index(c: &Config, a: usize, o: &str) -> Result<usize, ApiError> {
    c.apis[a]
        .operations
        .iter()
        .position(|x| x.id == o)
        .ok_or_else(|| ApiError::not_found(format!("Operation '{o}'")))
}

/// Builds the element `is` finds (from the old one) or a new one and puts it in place; returns
/// whether it was created. Nothing changes when `build` refuses.
fn upsert<T>(
    list: &mut Vec<T>,
    is: impl Fn(&T) -> bool,
    build: impl FnOnce(Option<&T>) -> Result<T, ApiError>,
) -> Result<bool, ApiError> {
    let at = list.iter().position(is);
    let item = build(at.map(|i| &list[i]))?;
    Ok(match at {
        Some(i) => {
            list[i] = item;
            false
        }
        None => {
            list.push(item);
            true
        }
    })
}

/// Removes the element `is` finds; returns whether there was one.
fn remove<T>(list: &mut Vec<T>, is: impl Fn(&T) -> bool) -> bool {
    match list.iter().position(is) {
        Some(i) => {
            list.remove(i);
            true
        }
        None => false,
    }
}

impl Item {
    /// ARM `type`.
    pub fn arm_type(&self) -> &'static str {
        match self {
            Item::Api(_) => "Microsoft.ApiManagement/service/apis",
            Item::Operation(..) => "Microsoft.ApiManagement/service/apis/operations",
            Item::ApiPolicy(_) => "Microsoft.ApiManagement/service/apis/policies",
            Item::OperationPolicy(..) => "Microsoft.ApiManagement/service/apis/operations/policies",
            Item::Product(_) => "Microsoft.ApiManagement/service/products",
            Item::ProductPolicy(_) => "Microsoft.ApiManagement/service/products/policies",
            Item::Subscription(_) => "Microsoft.ApiManagement/service/subscriptions",
            Item::User(_) => "Microsoft.ApiManagement/service/users",
            Item::Group(_) => "Microsoft.ApiManagement/service/groups",
            Item::NamedValue(_) => "Microsoft.ApiManagement/service/namedValues",
            Item::Backend(_) => "Microsoft.ApiManagement/service/backends",
            Item::GlobalPolicy => "Microsoft.ApiManagement/service/policies",
            Item::Fragment(_) => "Microsoft.ApiManagement/service/policyFragments",
            Item::PrivateEndpoint(_) => {
                "Microsoft.ApiManagement/service/privateEndpointConnections"
            }
        }
    }

    /// The name of its schemas in the OpenAPI document (crates/admin/src/openapi.rs).
    pub fn schema_name(&self) -> &'static str {
        match self {
            Item::Api(_) => "Api",
            Item::Operation(..) => "Operation",
            Item::ApiPolicy(_)
            | Item::OperationPolicy(..)
            | Item::ProductPolicy(_)
            | Item::GlobalPolicy => "Policy",
            Item::Product(_) => "Product",
            Item::Subscription(_) => "Subscription",
            Item::User(_) => "User",
            Item::Group(_) => "Group",
            Item::NamedValue(_) => "NamedValue",
            Item::Backend(_) => "Backend",
            Item::Fragment(_) => "PolicyFragment",
            Item::PrivateEndpoint(_) => "PrivateEndpointConnection",
        }
    }

    /// The path below the service (`apis/a/operations/o`) and the resource's `name`.
    pub fn relative(&self) -> (String, String) {
        match self {
            Item::Api(a) => (format!("apis/{a}"), a.clone()),
            Item::Operation(a, o) => (format!("apis/{a}/operations/{o}"), o.clone()),
            Item::ApiPolicy(a) => (format!("apis/{a}/policies/policy"), "policy".into()),
            Item::OperationPolicy(a, o) => (
                format!("apis/{a}/operations/{o}/policies/policy"),
                "policy".into(),
            ),
            Item::Product(p) => (format!("products/{p}"), p.clone()),
            Item::ProductPolicy(p) => (format!("products/{p}/policies/policy"), "policy".into()),
            Item::Subscription(s) => (format!("subscriptions/{s}"), s.clone()),
            Item::User(u) => (format!("users/{u}"), u.clone()),
            Item::Group(g) => (format!("groups/{g}"), g.clone()),
            Item::NamedValue(n) => (format!("namedValues/{n}"), n.clone()),
            Item::Backend(b) => (format!("backends/{b}"), b.clone()),
            Item::GlobalPolicy => ("policies/policy".into(), "policy".into()),
            Item::Fragment(f) => (format!("policyFragments/{f}"), f.clone()),
            Item::PrivateEndpoint(e) => (format!("privateEndpointConnections/{e}"), e.clone()),
        }
    }

    /// The properties of the resource; `Ok(None)` when it does not exist, 404 when its parent does not.
    pub fn get(&self, c: &Config, service_id: &str) -> Result<Option<Value>, ApiError> {
        Ok(match self {
            Item::Api(a) => c.apis.iter().find(|x| &x.id == a).map(apis::api_props),
            Item::Operation(a, o) => {
                let i = api_index(c, a)?;
                c.apis[i]
                    .operations
                    .iter()
                    .find(|x| &x.id == o)
                    .map(apis::op_props)
            }
            Item::ApiPolicy(a) => c.apis[api_index(c, a)?]
                .policies
                .as_deref()
                .map(others::policy_props),
            Item::OperationPolicy(a, o) => {
                let i = api_index(c, a)?;
                let j = op_index(c, i, o)?;
                c.apis[i].operations[j]
                    .policies
                    .as_deref()
                    .map(others::policy_props)
            }
            Item::Product(p) => c
                .products
                .iter()
                .find(|x| &x.id == p)
                .map(apis::product_props),
            Item::ProductPolicy(p) => c.products[product_index(c, p)?]
                .policies
                .as_deref()
                .map(others::policy_props),
            Item::Subscription(s) => c
                .subscriptions
                .iter()
                .find(|x| &x.id == s)
                .map(|x| apis::subscription_props(x, service_id)),
            Item::User(u) => c
                .users
                .iter()
                .find(|x| &x.id == u)
                .map(|x| others::user_props(x, c)),
            Item::Group(g) => groups::props_of(c, g),
            Item::NamedValue(n) => c
                .named_values
                .iter()
                .find(|x| &x.id == n)
                .map(others::named_value_props),
            Item::Backend(b) => c.backends.get(b).map(others::backend_props),
            Item::GlobalPolicy => c.policies.global.as_deref().map(others::policy_props),
            Item::Fragment(f) => c
                .policies
                .fragments
                .get(f)
                .map(|x| others::fragment_props(x)),
            Item::PrivateEndpoint(e) => c
                .network
                .private_endpoints
                .iter()
                .find(|x| &x.name == e)
                .map(others::private_endpoint_props),
        })
    }

    /// Writes the resource from a request's `properties`; returns whether it was created.
    pub fn put(&self, c: &mut Config, p: &Props) -> Result<bool, ApiError> {
        Ok(match self {
            Item::Api(a) => upsert(&mut c.apis, |x| &x.id == a, |old| apis::api_from(a, p, old))?,
            Item::Operation(a, o) => {
                let i = api_index(c, a)?;
                let ops = &mut c.apis[i].operations;
                upsert(ops, |x| &x.id == o, |old| apis::op_from(o, p, old))?
            }
            Item::ApiPolicy(a) => {
                let i = api_index(c, a)?;
                c.apis[i]
                    .policies
                    .replace(others::policy_from(p)?)
                    .is_none()
            }
            Item::OperationPolicy(a, o) => {
                let i = api_index(c, a)?;
                let j = op_index(c, i, o)?;
                c.apis[i].operations[j]
                    .policies
                    .replace(others::policy_from(p)?)
                    .is_none()
            }
            Item::Product(id) => upsert(
                &mut c.products,
                |x| &x.id == id,
                |old| apis::product_from(id, p, old),
            )?,
            Item::ProductPolicy(id) => {
                let i = product_index(c, id)?;
                c.products[i]
                    .policies
                    .replace(others::policy_from(p)?)
                    .is_none()
            }
            Item::Subscription(id) => upsert(
                &mut c.subscriptions,
                |x| &x.id == id,
                |old| apis::subscription_from(id, p, old),
            )?,
            Item::User(id) => upsert(
                &mut c.users,
                |x| &x.id == id,
                |old| others::user_from(id, p, old),
            )?,
            Item::Group(id) => upsert(
                &mut c.groups,
                |x| &x.id == id,
                |old| groups::group_from(id, p, old),
            )?,
            Item::NamedValue(id) => upsert(
                &mut c.named_values,
                |x| &x.id == id,
                |old| others::named_value_from(id, p, old),
            )?,
            Item::Backend(id) => {
                let v = others::backend_from(p, c.backends.get(id))?;
                c.backends.insert(id.clone(), v).is_none()
            }
            Item::GlobalPolicy => c.policies.global.replace(others::policy_from(p)?).is_none(),
            Item::Fragment(id) => c
                .policies
                .fragments
                .insert(id.clone(), others::policy_from(p)?)
                .is_none(),
            Item::PrivateEndpoint(name) => {
                let list = &mut c.network.private_endpoints;
                upsert(
                    list,
                    |x| &x.name == name,
                    |old| others::private_endpoint_from(name, p, old),
                )?
            }
        })
    }

    /// Removes the resource; `false` when it was absent.
    pub fn delete(&self, c: &mut Config) -> Result<bool, ApiError> {
        Ok(match self {
            // As in APIM, deleting an API removes it from its products, and deleting a user
            // removes it from its groups.
            Item::Api(a) => {
                for p in &mut c.products {
                    p.apis.retain(|x| x != a);
                }
                remove(&mut c.apis, |x| &x.id == a)
            }
            Item::Operation(a, o) => {
                let i = api_index(c, a)?;
                remove(&mut c.apis[i].operations, |x| &x.id == o)
            }
            Item::ApiPolicy(a) => {
                let i = api_index(c, a)?;
                c.apis[i].policies.take().is_some()
            }
            Item::OperationPolicy(a, o) => {
                let i = api_index(c, a)?;
                let j = op_index(c, i, o)?;
                c.apis[i].operations[j].policies.take().is_some()
            }
            Item::Product(p) => remove(&mut c.products, |x| &x.id == p),
            Item::ProductPolicy(p) => {
                let i = product_index(c, p)?;
                c.products[i].policies.take().is_some()
            }
            Item::Subscription(s) => remove(&mut c.subscriptions, |x| &x.id == s),
            Item::User(u) => {
                for g in &mut c.groups {
                    g.users.retain(|x| x != u);
                }
                remove(&mut c.users, |x| &x.id == u)
            }
            Item::Group(g) => groups::delete(c, g)?,
            Item::NamedValue(n) => remove(&mut c.named_values, |x| &x.id == n),
            Item::Backend(b) => c.backends.remove(b).is_some(),
            Item::GlobalPolicy => c.policies.global.take().is_some(),
            Item::Fragment(f) => c.policies.fragments.remove(f).is_some(),
            Item::PrivateEndpoint(e) => remove(&mut c.network.private_endpoints, |x| &x.name == e),
        })
    }

    /// Where the resource lives in the config (`apis[2].operations[0]`) and how its fields are
    /// named in ARM, to map a validation problem's path onto `properties.<name>`.
    pub fn config_location(
        &self,
        c: &Config,
    ) -> Option<(String, &'static [(&'static str, &'static str)])> {
        const POLICY: &[(&str, &str)] = &[("", "properties.value")];
        let api = |a: &str| c.apis.iter().position(|x| x.id == a);
        let op = |i: usize, o: &str| c.apis[i].operations.iter().position(|x| x.id == o);
        match self {
            Item::Api(a) => Some((format!("apis[{}]", api(a)?), apis::API_FIELDS)),
            Item::Operation(a, o) => {
                let i = api(a)?;
                Some((
                    format!("apis[{i}].operations[{}]", op(i, o)?),
                    apis::OP_FIELDS,
                ))
            }
            Item::ApiPolicy(a) => Some((format!("apis[{}].policies", api(a)?), POLICY)),
            Item::OperationPolicy(a, o) => {
                let i = api(a)?;
                Some((
                    format!("apis[{i}].operations[{}].policies", op(i, o)?),
                    POLICY,
                ))
            }
            Item::Product(p) => {
                let k = c.products.iter().position(|x| &x.id == p)?;
                Some((format!("products[{k}]"), apis::PRODUCT_FIELDS))
            }
            Item::ProductPolicy(p) => {
                let k = c.products.iter().position(|x| &x.id == p)?;
                Some((format!("products[{k}].policies"), POLICY))
            }
            Item::Subscription(s) => {
                let k = c.subscriptions.iter().position(|x| &x.id == s)?;
                Some((format!("subscriptions[{k}]"), apis::SUBSCRIPTION_FIELDS))
            }
            Item::User(u) => Some((
                format!("users[{}]", c.users.iter().position(|x| &x.id == u)?),
                others::USER_FIELDS,
            )),
            Item::Group(g) => Some((
                format!("groups[{}]", c.groups.iter().position(|x| &x.id == g)?),
                groups::GROUP_FIELDS,
            )),
            Item::NamedValue(n) => {
                let k = c.named_values.iter().position(|x| &x.id == n)?;
                Some((format!("named_values[{k}]"), others::NAMED_VALUE_FIELDS))
            }
            Item::Backend(b) => Some((format!("backends.{b}"), others::BACKEND_FIELDS)),
            Item::GlobalPolicy => Some(("policies.global".into(), POLICY)),
            Item::Fragment(f) => Some((format!("policies.fragments.{f}"), POLICY)),
            Item::PrivateEndpoint(e) => {
                let k = c
                    .network
                    .private_endpoints
                    .iter()
                    .position(|x| &x.name == e)?;
                Some((
                    format!("network.private_endpoints[{k}]"),
                    others::PRIVATE_ENDPOINT_FIELDS,
                ))
            }
        }
    }
}

impl Collection {
    /// The items of the list, in the config's order; 404 when the parent does not exist.
    pub fn items(&self, c: &Config) -> Result<Vec<Item>, ApiError> {
        Ok(match self {
            Collection::Apis => c.apis.iter().map(|a| Item::Api(a.id.clone())).collect(),
            Collection::Operations(a) => {
                let i = api_index(c, a)?;
                c.apis[i]
                    .operations
                    .iter()
                    .map(|o| Item::Operation(a.clone(), o.id.clone()))
                    .collect()
            }
            Collection::ApiPolicies(a) => {
                let i = api_index(c, a)?;
                c.apis[i]
                    .policies
                    .iter()
                    .map(|_| Item::ApiPolicy(a.clone()))
                    .collect()
            }
            Collection::OperationPolicies(a, o) => {
                let i = api_index(c, a)?;
                let j = op_index(c, i, o)?;
                c.apis[i].operations[j]
                    .policies
                    .iter()
                    .map(|_| Item::OperationPolicy(a.clone(), o.clone()))
                    .collect()
            }
            Collection::Products => c
                .products
                .iter()
                .map(|p| Item::Product(p.id.clone()))
                .collect(),
            Collection::ProductApis(p) => {
                let k = product_index(c, p)?;
                c.products[k]
                    .apis
                    .iter()
                    .map(|a| Item::Api(a.clone()))
                    .collect()
            }
            Collection::ProductPolicies(p) => {
                let k = product_index(c, p)?;
                c.products[k]
                    .policies
                    .iter()
                    .map(|_| Item::ProductPolicy(p.clone()))
                    .collect()
            }
            Collection::Subscriptions => c
                .subscriptions
                .iter()
                .map(|s| Item::Subscription(s.id.clone()))
                .collect(),
            Collection::Users => c.users.iter().map(|u| Item::User(u.id.clone())).collect(),
            Collection::Groups => groups::all_ids(c).into_iter().map(Item::Group).collect(),
            Collection::GroupUsers(g) => groups::member_ids(c, g)?
                .into_iter()
                .map(Item::User)
                .collect(),
            Collection::ProductGroups(p) => {
                let k = product_index(c, p)?;
                c.products[k]
                    .groups
                    .iter()
                    .map(|g| Item::Group(g.clone()))
                    .collect()
            }
            Collection::NamedValues => c
                .named_values
                .iter()
                .map(|n| Item::NamedValue(n.id.clone()))
                .collect(),
            Collection::Backends => c
                .backends
                .keys()
                .map(|b| Item::Backend(b.clone()))
                .collect(),
            Collection::GlobalPolicies => c
                .policies
                .global
                .iter()
                .map(|_| Item::GlobalPolicy)
                .collect(),
            Collection::Fragments => c
                .policies
                .fragments
                .keys()
                .map(|f| Item::Fragment(f.clone()))
                .collect(),
            Collection::PrivateEndpoints => c
                .network
                .private_endpoints
                .iter()
                .map(|e| Item::PrivateEndpoint(e.name.clone()))
                .collect(),
        })
    }
}
