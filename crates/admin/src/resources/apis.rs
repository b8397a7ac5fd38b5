//! APIs, operations, products and subscriptions: model ↔ ARM `properties`.

use super::props::{Props, enum_str, random_key};
use crate::error::ApiError;
use gatehouse_model::{
    Api, Operation, Product, ProductState, Protocol, Scope, Secret, Subscription,
    SubscriptionKeyNames,
};
use serde_json::{Value, json};

pub fn api_props(a: &Api) -> Value {
    let mut p = json!({
        "displayName": a.display_name.clone().unwrap_or_else(|| a.id.clone()),
        "description": a.description,
        "path": a.path,
        "protocols": a.protocols,
        "subscriptionRequired": a.subscription_required,
        "subscriptionKeyParameterNames": {"header": a.subscription_key.header, "query": a.subscription_key.query},
        "apiRevision": "1",
        "isCurrent": true,
        "type": "http",
    });
    // The model's `backend` is a URL (ARM serviceUrl) or a `backends` id (gatehouse's backendId).
    if a.backend.contains("://") {
        p["serviceUrl"] = json!(a.backend);
    } else {
        p["backendId"] = json!(a.backend);
    }
    p
}

pub fn api_from(id: &str, p: &Props, old: Option<&Api>) -> Result<Api, ApiError> {
    let backend = match (p.str("serviceUrl")?, p.str("backendId")?) {
        (Some(u), _) => u,
        (None, Some(b)) => b,
        (None, None) => match old {
            Some(o) => o.backend.clone(),
            None => {
                return Err(ApiError::property(
                    "properties.serviceUrl",
                    "'serviceUrl' (or 'backendId') is required",
                ));
            }
        },
    };
    Ok(Api {
        id: id.to_string(),
        display_name: p.str_or("displayName", old.map(|o| &o.display_name))?,
        description: p.str("description")?,
        path: p.req_str("path", old.map(|o| o.path.as_str()))?,
        backend,
        protocols: p
            .typed::<Vec<Protocol>>("protocols")?
            .unwrap_or_else(|| vec![Protocol::Http, Protocol::Https]),
        subscription_required: p.bool("subscriptionRequired")?.unwrap_or(true),
        subscription_key: p
            .typed::<SubscriptionKeyNames>("subscriptionKeyParameterNames")?
            .unwrap_or_default(),
        // Child resources are written through their own paths and survive a PUT of the API.
        operations: old.map(|o| o.operations.clone()).unwrap_or_default(),
        policies: old.and_then(|o| o.policies.clone()),
        tags: old.map(|o| o.tags.clone()).unwrap_or_default(),
        schemas: old.and_then(|o| o.schemas.clone()),
    })
}

pub const API_FIELDS: &[(&str, &str)] = &[
    ("id", "name"),
    ("display_name", "properties.displayName"),
    ("description", "properties.description"),
    ("path", "properties.path"),
    ("backend", "properties.serviceUrl"),
    ("protocols", "properties.protocols"),
    ("subscription_required", "properties.subscriptionRequired"),
    (
        "subscription_key",
        "properties.subscriptionKeyParameterNames",
    ),
];

pub fn op_props(o: &Operation) -> Value {
    json!({
        "displayName": o.display_name.clone().unwrap_or_else(|| o.id.clone()),
        "method": o.method,
        "urlTemplate": o.url_template,
        "templateParameters": [],
        "responses": [],
    })
}

pub fn op_from(id: &str, p: &Props, old: Option<&Operation>) -> Result<Operation, ApiError> {
    Ok(Operation {
        id: id.to_string(),
        display_name: p.str_or("displayName", old.map(|o| &o.display_name))?,
        method: p.req_str("method", old.map(|o| o.method.as_str()))?,
        url_template: p.req_str("urlTemplate", old.map(|o| o.url_template.as_str()))?,
        policies: old.and_then(|o| o.policies.clone()),
        description: old.and_then(|o| o.description.clone()),
        parameters: old.map(|o| o.parameters.clone()).unwrap_or_default(),
        request: old.and_then(|o| o.request.clone()),
        responses: old.map(|o| o.responses.clone()).unwrap_or_default(),
    })
}

pub const OP_FIELDS: &[(&str, &str)] = &[
    ("id", "name"),
    ("display_name", "properties.displayName"),
    ("method", "properties.method"),
    ("url_template", "properties.urlTemplate"),
];

pub fn product_props(p: &Product) -> Value {
    json!({
        "displayName": p.display_name.clone().unwrap_or_else(|| p.id.clone()),
        "description": p.description,
        "subscriptionRequired": p.subscription_required,
        "approvalRequired": p.approval_required,
        "subscriptionsLimit": p.subscriptions_limit,
        "state": match p.state { ProductState::Published => "published", ProductState::NotPublished => "notPublished" },
    })
}

pub fn product_from(id: &str, p: &Props, old: Option<&Product>) -> Result<Product, ApiError> {
    let state = match p.str("state")?.as_deref() {
        None => old.map(|o| o.state).unwrap_or_default(),
        Some("published") => ProductState::Published,
        Some("notPublished") => ProductState::NotPublished,
        Some(other) => {
            return Err(ApiError::property(
                "properties.state",
                format!("'{other}' is not one of published, notPublished"),
            ));
        }
    };
    Ok(Product {
        id: id.to_string(),
        display_name: p.str_or("displayName", old.map(|o| &o.display_name))?,
        description: p.str("description")?,
        apis: old.map(|o| o.apis.clone()).unwrap_or_default(),
        subscription_required: p.bool("subscriptionRequired")?.unwrap_or(true),
        approval_required: p.bool("approvalRequired")?.unwrap_or(false),
        subscriptions_limit: p
            .u64("subscriptionsLimit")?
            .map(|n| {
                u32::try_from(n)
                    .map_err(|_| ApiError::property("properties.subscriptionsLimit", "too large"))
            })
            .transpose()?,
        state,
        policies: old.and_then(|o| o.policies.clone()),
        groups: old.map(|o| o.groups.clone()).unwrap_or_default(),
    })
}

pub const PRODUCT_FIELDS: &[(&str, &str)] = &[
    ("id", "name"),
    ("display_name", "properties.displayName"),
    ("description", "properties.description"),
    ("apis", "properties.apis"),
    ("subscription_required", "properties.subscriptionRequired"),
    ("approval_required", "properties.approvalRequired"),
    ("subscriptions_limit", "properties.subscriptionsLimit"),
    ("state", "properties.state"),
];

/// Keys are never in a GET body: only `listSecrets` answers them.
pub fn subscription_props(s: &Subscription, service_id: &str) -> Value {
    let scope = match Scope::parse(&s.scope) {
        Ok(Scope::All) => format!("{service_id}/apis"),
        Ok(Scope::Product(p)) => format!("{service_id}/products/{p}"),
        Ok(Scope::Api(a)) => format!("{service_id}/apis/{a}"),
        Err(_) => s.scope.clone(),
    };
    json!({
        "displayName": s.display_name.clone().unwrap_or_else(|| s.id.clone()),
        "scope": scope,
        "ownerId": s.owner.as_ref().map(|u| format!("{service_id}/users/{u}")),
        "state": enum_str(&s.state),
        "allowTracing": false,
    })
}

pub fn subscription_from(
    id: &str,
    p: &Props,
    old: Option<&Subscription>,
) -> Result<Subscription, ApiError> {
    let scope_text = p.req_str("scope", old.map(|o| o.scope.as_str()))?;
    // Stored in the file's short form (`product/x`); a scope that does not parse is kept as
    // written so validation reports it with its path.
    let scope = Scope::parse(&scope_text)
        .map(|s| s.to_string())
        .unwrap_or(scope_text);
    let owner = match p.str("ownerId")? {
        Some(o) => Some(o.rsplit('/').next().unwrap_or(&o).to_string()),
        None => old.and_then(|o| o.owner.clone()),
    };
    let primary = match (p.str("primaryKey")?, old) {
        (Some(k), _) => Secret::new(k),
        (None, Some(o)) => o.primary_key.clone(),
        (None, None) => Secret::new(random_key()?),
    };
    let secondary = match (p.str("secondaryKey")?, old) {
        (Some(k), _) => Some(Secret::new(k)),
        (None, Some(o)) if o.secondary_key.is_some() => o.secondary_key.clone(),
        _ => Some(Secret::new(random_key()?)),
    };
    Ok(Subscription {
        id: id.to_string(),
        display_name: p.str_or("displayName", old.map(|o| &o.display_name))?,
        scope,
        owner,
        primary_key: primary,
        secondary_key: secondary,
        state: p.typed_or("state", old.map(|o| o.state))?,
    })
}

pub const SUBSCRIPTION_FIELDS: &[(&str, &str)] = &[
    ("id", "name"),
    ("display_name", "properties.displayName"),
    ("scope", "properties.scope"),
    ("owner", "properties.ownerId"),
    ("primary_key", "properties.primaryKey"),
    ("secondary_key", "properties.secondaryKey"),
    ("state", "properties.state"),
];
