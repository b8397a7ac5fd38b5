//! Users, named values, backends, policies, private endpoint connections and the
//! service itself: model ↔ ARM `properties`.

use super::props::{Props, enum_str};
use crate::error::ApiError;
use gatehouse_model::network::{PrivateEndpoint, PrivateEndpointState};
use gatehouse_model::{Backend, BackendTls, Config, NamedValue, Secret, User};
use serde_json::{Value, json};

/// The UserContract `properties`: never the password or its hash (write-only).
pub fn user_props(u: &User, c: &Config) -> Value {
    json!({
        "email": u.email,
        "firstName": u.first_name,
        "lastName": u.last_name,
        "state": enum_str(&u.state),
        "identities": [],
        "groups": super::groups::of_user(c, &u.id),
    })
}

pub fn user_from(id: &str, p: &Props, old: Option<&User>) -> Result<User, ApiError> {
    Ok(User {
        id: id.to_string(),
        email: p.req_str("email", old.map(|o| o.email.as_str()))?,
        first_name: p.str("firstName")?,
        last_name: p.str("lastName")?,
        state: p.typed_or("state", old.map(|o| o.state))?,
        password_hash: old.and_then(|o| o.password_hash.clone()),
    })
}

pub const USER_FIELDS: &[(&str, &str)] = &[
    ("id", "name"),
    ("email", "properties.email"),
    ("first_name", "properties.firstName"),
    ("last_name", "properties.lastName"),
    ("state", "properties.state"),
    ("password_hash", "properties.password"),
];

/// A secret value is never in a GET body: only `listValue` answers it.
pub fn named_value_props(n: &NamedValue) -> Value {
    let mut p = json!({
        "displayName": n.display_name.clone().unwrap_or_else(|| n.id.clone()),
        "secret": n.secret,
        "tags": n.tags,
    });
    if !n.secret {
        p["value"] = json!(n.value.expose());
    }
    p
}

pub fn named_value_from(
    id: &str,
    p: &Props,
    old: Option<&NamedValue>,
) -> Result<NamedValue, ApiError> {
    let value = match (p.str("value")?, old) {
        (Some(v), _) => Secret::new(v),
        (None, Some(o)) => o.value.clone(),
        (None, None) => {
            return Err(ApiError::property(
                "properties.value",
                "'value' is required",
            ));
        }
    };
    Ok(NamedValue {
        id: id.to_string(),
        display_name: p.str_or("displayName", old.map(|o| &o.display_name))?,
        value,
        secret: p.bool("secret")?.unwrap_or(false),
        tags: p.typed("tags")?.unwrap_or_default(),
    })
}

pub const NAMED_VALUE_FIELDS: &[(&str, &str)] = &[
    ("id", "name"),
    ("display_name", "properties.displayName"),
    ("value", "properties.value"),
    ("secret", "properties.secret"),
    ("tags", "properties.tags"),
];

pub fn backend_props(b: &Backend) -> Value {
    json!({
        "url": b.url,
        "protocol": "http",
        "description": b.description,
        "tls": {
            "validateCertificateChain": b.tls.validate_certificate_chain,
            "validateCertificateName": b.tls.validate_certificate_name,
        },
        "timeoutMs": b.timeout_ms,
        "connectTimeoutMs": b.connect_timeout_ms,
    })
}

pub fn backend_from(p: &Props, old: Option<&Backend>) -> Result<Backend, ApiError> {
    if let Some(proto) = p.str("protocol")?
        && proto != "http"
    {
        return Err(ApiError::property(
            "properties.protocol",
            "only 'http' backends are supported",
        ));
    }
    let tls = match p.0.get("tls") {
        None | Some(Value::Null) => old.map(|o| o.tls.clone()).unwrap_or_default(),
        Some(v) => {
            let t = v
                .as_object()
                .ok_or_else(|| ApiError::property("properties.tls", "must be an object"))?;
            let t = Props(t);
            let base = old.map(|o| o.tls.clone()).unwrap_or_default();
            BackendTls {
                validate_certificate_chain: t
                    .bool("validateCertificateChain")?
                    .unwrap_or(base.validate_certificate_chain),
                validate_certificate_name: t
                    .bool("validateCertificateName")?
                    .unwrap_or(base.validate_certificate_name),
                ca_file: base.ca_file,
            }
        }
    };
    Ok(Backend {
        url: p.req_str("url", old.map(|o| o.url.as_str()))?,
        description: p.str("description")?,
        timeout_ms: p
            .u64("timeoutMs")?
            .or(old.map(|o| o.timeout_ms))
            .unwrap_or(300_000),
        connect_timeout_ms: p
            .u64("connectTimeoutMs")?
            .or(old.map(|o| o.connect_timeout_ms))
            .unwrap_or(10_000),
        tls,
    })
}

pub const BACKEND_FIELDS: &[(&str, &str)] = &[
    ("url", "properties.url"),
    ("description", "properties.description"),
    ("timeout_ms", "properties.timeoutMs"),
    ("connect_timeout_ms", "properties.connectTimeoutMs"),
    ("tls", "properties.tls"),
];

/// A policy document body: GET answers format `xml`.
pub fn policy_props(xml: &str) -> Value {
    json!({"format": "xml", "value": xml})
}

/// The XML of a policy (or fragment) PUT; `format` is `xml` (default) or `rawxml`.
pub fn policy_from(p: &Props) -> Result<String, ApiError> {
    match p.str("format")?.as_deref() {
        None | Some("xml") | Some("rawxml") => {}
        Some(other) => {
            return Err(ApiError::property(
                "properties.format",
                format!("format '{other}' is not supported; use 'xml' or 'rawxml'"),
            ));
        }
    }
    p.req_str("value", None)
}

pub fn fragment_props(xml: &str) -> Value {
    json!({"format": "xml", "value": xml, "description": null})
}

fn status_name(s: PrivateEndpointState) -> &'static str {
    match s {
        PrivateEndpointState::Pending => "Pending",
        PrivateEndpointState::Approved => "Approved",
        PrivateEndpointState::Rejected => "Rejected",
        PrivateEndpointState::Disconnected => "Disconnected",
    }
}

pub fn private_endpoint_props(e: &PrivateEndpoint) -> Value {
    json!({
        "privateEndpoint": {"id": e.name},
        "privateLinkServiceConnectionState": {
            "status": status_name(e.state),
            "description": "",
            "actionsRequired": "None",
        },
        "provisioningState": "Succeeded",
        "groupIds": [e.group_id],
        "linkId": e.link_id,
        "listen": e.listen,
    })
}

pub fn private_endpoint_from(
    name: &str,
    p: &Props,
    old: Option<&PrivateEndpoint>,
) -> Result<PrivateEndpoint, ApiError> {
    let state = match p.0.get("privateLinkServiceConnectionState") {
        None | Some(Value::Null) => old.map(|o| o.state).unwrap_or_default(),
        Some(v) => {
            let target = "properties.privateLinkServiceConnectionState";
            if !v.is_object() {
                return Err(ApiError::property(target, "must be an object"));
            }
            if v.get("description")
                .is_some_and(|d| !(d.is_string() || d.is_null()))
            {
                return Err(ApiError::property(
                    format!("{target}.description"),
                    "must be a string",
                ));
            }
            let status = match v.get("status") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.as_str()),
                Some(_) => {
                    return Err(ApiError::property(
                        format!("{target}.status"),
                        "must be a string",
                    ));
                }
            };
            match status {
                None => old.map(|o| o.state).unwrap_or_default(),
                Some(status) => match status {
                    "Approved" => PrivateEndpointState::Approved,
                    "Rejected" => PrivateEndpointState::Rejected,
                    "Pending" => PrivateEndpointState::Pending,
                    "Disconnected" => PrivateEndpointState::Disconnected,
                    other => {
                        return Err(ApiError::property(
                            "properties.privateLinkServiceConnectionState.status",
                            format!(
                                "'{other}' is not one of Approved, Rejected, Pending, Disconnected"
                            ),
                        ));
                    }
                },
            }
        }
    };
    let link_id = match (p.u64("linkId")?, old) {
        (Some(n), _) => {
            u32::try_from(n).map_err(|_| ApiError::property("properties.linkId", "too large"))?
        }
        (None, Some(o)) => o.link_id,
        // A connection is created by its private endpoint (or with `linkId`); approving one
        // that does not exist is 404, as in Azure.
        (None, None) => {
            return Err(ApiError::not_found(format!(
                "privateEndpointConnections/{name} (give properties.linkId to create it)"
            )));
        }
    };
    Ok(PrivateEndpoint {
        name: name.to_string(),
        link_id,
        listen: p
            .typed("listen")?
            .or_else(|| old.and_then(|o| o.listen.clone())),
        state,
        group_id: old
            .map(|o| o.group_id.clone())
            .unwrap_or_else(|| "Gateway".to_string()),
    })
}

pub const PRIVATE_ENDPOINT_FIELDS: &[(&str, &str)] = &[
    ("link_id", "properties.linkId"),
    ("listen", "properties.listen"),
    (
        "state",
        "properties.privateLinkServiceConnectionState.status",
    ),
    ("group_id", "properties.groupIds"),
];
