//! The service-wide resources: the service itself (GET/PATCH), tenant access (the management
//! API's access keys), and gatehouse's network section.

use crate::AccessKeys;
use crate::dispatch::{Ctx, check_if_match, secrets_with_etag, with_etag};
use crate::error::ApiError;
use crate::resources::props::{Props, merge, properties, random_key};
use crate::write::backing_error;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_model::{Config, Secret};
use serde_json::{Value, json};

/// APIM's AccessInformationContract for the management API's access (`tenant/access`).
fn tenant_envelope(sid: &str) -> Value {
    json!({"id": format!("{sid}/tenant/access"), "type": "Microsoft.ApiManagement/service/tenant", "name": "access",
           "properties": {"id": "access", "principalId": "integration", "enabled": true}})
}

pub(crate) async fn tenant_get(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    Ok(with_etag(
        StatusCode::OK,
        tenant_envelope(&ctx.target.service_id),
    ))
}

/// `GET tenant`: the access infos (TenantAccess_ListByService); gatehouse has only `access`.
pub(crate) async fn tenant_list(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    Ok(axum::Json(json!({
        "value": [tenant_envelope(&ctx.target.service_id)], "count": 1, "nextLink": null
    }))
    .into_response())
}

async fn access_keys(ctx: &Ctx<'_>) -> Result<AccessKeys, ApiError> {
    ctx.st
        .api
        .backing
        .access_keys()
        .await
        .map_err(backing_error)
}

pub(crate) async fn tenant_secrets(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let k = access_keys(ctx).await?;
    // The ETag is the access entity's, as TenantAccess_ListSecrets answers it.
    Ok(secrets_with_etag(
        json!({"id": "access", "principalId": "integration", "primaryKey": k.primary.expose(),
        "secondaryKey": k.secondary.expose(), "enabled": true}),
        Some(&tenant_envelope(&ctx.target.service_id)),
    ))
}

/// `POST users/git/token` (APIM's User_GetSharedAccessToken for the Git user): the password of
/// user `apim` at the Git endpoint, signed with the access key `keyType` names, valid until
/// `expiry`. Other users have no token here: the portal signs its own sessions.
pub(crate) async fn user_token(ctx: &Ctx<'_>, user: &str) -> Result<Response, ApiError> {
    if user != "git" {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "ValidationError",
            format!("tokens are issued for the Git user only (POST users/git/token), not '{user}'"),
        ));
    }
    let p = properties(&ctx.body)?;
    let key_type = p.get("keyType").and_then(Value::as_str);
    let expiry = p.get("expiry").and_then(Value::as_str).ok_or_else(|| {
        ApiError::property(
            "expiry",
            "expiry is required: a date such as 2026-12-31T00:00:00Z",
        )
    })?;
    let expiry =
        time::OffsetDateTime::parse(expiry, &time::format_description::well_known::Rfc3339)
            .map_err(|e| {
                ApiError::property(
                    "expiry",
                    format!("expiry '{expiry}' is not a date such as 2026-12-31T00:00:00Z: {e}"),
                )
            })?;
    if expiry <= time::OffsetDateTime::now_utc() {
        return Err(ApiError::property("expiry", "expiry must be in the future"));
    }
    let k = access_keys(ctx).await?;
    let key = match key_type {
        Some("primary") => &k.primary,
        Some("secondary") => &k.secondary,
        other => {
            return Err(ApiError::property(
                "keyType",
                format!("keyType must be 'primary' or 'secondary', not {other:?}"),
            ));
        }
    };
    tracing::info!(actor = %ctx.actor, "management API: Git password issued");
    Ok(axum::Json(json!({"value": crate::auth::git_password(expiry, key)})).into_response())
}

pub(crate) async fn tenant_regenerate(ctx: &Ctx<'_>, primary: bool) -> Result<Response, ApiError> {
    let _guard = ctx.st.write_lock.lock().await;
    let k = access_keys(ctx).await?;
    let fresh = Secret::new(random_key()?);
    let keys = if primary {
        AccessKeys {
            primary: fresh,
            secondary: k.secondary,
        }
    } else {
        AccessKeys {
            primary: k.primary,
            secondary: fresh,
        }
    };
    ctx.st
        .api
        .backing
        .set_access_keys(keys)
        .await
        .map_err(backing_error)?;
    tracing::info!(actor = %ctx.actor, primary, "management API: access key regenerated");
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn service_envelope(c: &Config, sid: &str) -> Value {
    let n = &c.network;
    // `gateway.hostnames` are Proxy entries; `hostname_configurations` carry their own type.
    let mut hostnames: Vec<Value> = c
        .gateway
        .hostnames
        .iter()
        .map(|h| json!({"type": "Proxy", "hostName": h.host_name, "defaultSslBinding": h.default_ssl_binding,
                        "certificateSource": "Custom", "certificate": {"certFile": h.certificate.cert_file, "keyFile": h.certificate.key_file}}))
        .collect();
    hostnames.extend(c.hostname_configurations.iter().map(|h| {
        let mut v = json!({"type": h.kind, "hostName": h.host_name, "defaultSslBinding": h.default_ssl_binding});
        if let Some(cert) = &h.certificate {
            v["certificateSource"] = json!("Custom");
            v["certificate"] = json!({"certFile": cert.cert_file, "keyFile": cert.key_file});
        }
        v
    }));
    json!({
        "id": sid, "type": "Microsoft.ApiManagement/service", "name": c.service.name, "location": c.service.location,
        "sku": {"name": crate::resources::props::enum_str(&c.service.sku), "capacity": c.service.capacity},
        "properties": {
            "provisioningState": "Succeeded",
            "virtualNetworkType": match n.kind { gatehouse_model::network::NetworkType::None => "None", gatehouse_model::network::NetworkType::External => "External", gatehouse_model::network::NetworkType::Internal => "Internal" },
            "publicNetworkAccess": match n.public_network_access { gatehouse_model::network::PublicNetworkAccess::Enabled => "Enabled", gatehouse_model::network::PublicNetworkAccess::Disabled => "Disabled" },
            "virtualNetworkConfiguration": n.virtual_network,
            "hostnameConfigurations": hostnames,
            "additionalLocations": c.service.additional_locations.iter().map(location_json).collect::<Vec<_>>(),
        }
    })
}

/// APIM's AdditionalLocation (`location`, `sku`, `virtualNetworkConfiguration`,
/// `disableGateway`), with the location's whole network section as `network` (gatehouse's:
/// each location's virtual network, NSGs, private endpoints … are configured separately).
fn location_json(l: &gatehouse_model::AdditionalLocation) -> Value {
    json!({
        "location": l.location,
        "sku": {"name": l.sku.as_ref().map(crate::resources::props::enum_str), "capacity": l.capacity},
        "virtualNetworkConfiguration": l.network.virtual_network,
        "disableGateway": l.disable_gateway,
        "network": l.network,
    })
}

/// A PATCH's `additionalLocations[i]`: the shape GET answers (`sku: {name, capacity}`), or
/// the config file's (`capacity`, `sku`, `disable_gateway`).
fn location_from_json(
    v: &Value,
    target: &str,
) -> Result<gatehouse_model::AdditionalLocation, ApiError> {
    let mut v = v.clone();
    let o = v
        .as_object_mut()
        .ok_or_else(|| ApiError::property(target, "must be an object"))?;
    if let Some(Value::Object(sku)) = o.remove("sku") {
        if let Some(cap) = sku.get("capacity").filter(|c| !c.is_null()) {
            o.insert("capacity".into(), cap.clone());
        }
        if let Some(name) = sku.get("name").filter(|n| !n.is_null()) {
            o.insert("sku".into(), name.clone());
        }
    }
    // GET answers both; the whole `network` section wins over its virtual network.
    if o.contains_key("network") {
        o.remove("virtualNetworkConfiguration");
    } else if let Some(vnet) = o.remove("virtualNetworkConfiguration") {
        o.insert("network".into(), json!({"virtual_network": vnet}));
    }
    serde_json::from_value(v).map_err(bad_prop(target))
}

pub(crate) async fn service_get(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let cur = ctx.st.api.backing.current().await.map_err(backing_error)?;
    Ok(with_etag(
        StatusCode::OK,
        service_envelope(&cur.config, &ctx.target.service_id),
    ))
}

fn bad_prop(target: &str) -> impl Fn(serde_json::Error) -> ApiError + '_ {
    move |e| ApiError::property(target, e.to_string())
}

pub(crate) async fn service_patch(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let sid = ctx.target.service_id.clone();
    let body = ctx.body.clone();
    let im = ctx.if_match.clone();
    let s2 = sid.clone();
    let pre = move |c: &Config| check_if_match(&im, Some(&service_envelope(c, &s2)));
    let change = move |c: &mut Config| {
        if let Some(sku) = body.get("sku").filter(|v| !v.is_null()) {
            if !sku.is_object() {
                return Err(ApiError::property("sku", "must be an object"));
            }
            if let Some(name) = sku.get("name") {
                c.service.sku =
                    serde_json::from_value(name.clone()).map_err(bad_prop("sku.name"))?;
            }
            if let Some(cap) = sku.get("capacity") {
                c.service.capacity =
                    serde_json::from_value(cap.clone()).map_err(bad_prop("sku.capacity"))?;
            }
        }
        let p = properties(&body)?;
        let p = Props(&p);
        if let Some(k) = p.typed("virtualNetworkType")? {
            c.network.kind = k;
        }
        if let Some(a) = p.typed("publicNetworkAccess")? {
            c.network.public_network_access = a;
        }
        if p.0.contains_key("virtualNetworkConfiguration") {
            c.network.virtual_network = p.typed("virtualNetworkConfiguration")?;
        }
        if let Some(list) = p.0.get("hostnameConfigurations").filter(|v| !v.is_null()) {
            let list = list.as_array().ok_or_else(|| {
                ApiError::property("properties.hostnameConfigurations", "must be an array")
            })?;
            // A Proxy entry with a certificate is a `gateway.hostnames` entry (as before the
            // other types existed); every other entry a `hostname_configurations` one.
            let mut proxies = Vec::new();
            let mut others = Vec::new();
            for (i, h) in list.iter().enumerate() {
                let t = format!("properties.hostnameConfigurations[{i}]");
                let kind: gatehouse_model::hostnames::HostnameType =
                    serde_json::from_value(h.get("type").cloned().unwrap_or(json!("Proxy")))
                        .map_err(bad_prop(&format!("{t}.type")))?;
                let host: String =
                    serde_json::from_value(h.get("hostName").cloned().unwrap_or(Value::Null))
                        .map_err(bad_prop(&t))?;
                let default_ssl_binding = h
                    .get("defaultSslBinding")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let cert: Option<gatehouse_model::CertificateFiles> =
                    match h.get("certificate").filter(|v| !v.is_null()) {
                        None => None,
                        Some(_) => Some(
                            serde_json::from_value(json!({
                                "cert_file": h.pointer("/certificate/certFile"),
                                "key_file": h.pointer("/certificate/keyFile")}))
                            .map_err(bad_prop(&t))?,
                        ),
                    };
                match (kind, cert) {
                    (gatehouse_model::hostnames::HostnameType::Proxy, Some(certificate)) => proxies
                        .push(gatehouse_model::Hostname {
                            host_name: host,
                            certificate,
                            default_ssl_binding,
                        }),
                    (kind, certificate) => {
                        others.push(gatehouse_model::hostnames::HostnameConfiguration {
                            kind,
                            host_name: host,
                            certificate,
                            default_ssl_binding,
                        })
                    }
                }
            }
            c.gateway.hostnames = proxies;
            c.hostname_configurations = others;
        }
        if let Some(list) = p.0.get("additionalLocations").filter(|v| !v.is_null()) {
            let list = list.as_array().ok_or_else(|| {
                ApiError::property("properties.additionalLocations", "must be an array")
            })?;
            c.service.additional_locations = list
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    location_from_json(l, &format!("properties.additionalLocations[{i}]"))
                })
                .collect::<Result<_, _>>()?;
        }
        Ok(())
    };
    let (cfg, ()) = ctx
        .st
        .write(&ctx.actor, "PATCH service", None, &pre, &change)
        .await?;
    Ok(with_etag(StatusCode::OK, service_envelope(&cfg, &sid)))
}

fn network_envelope(c: &Config, sid: &str) -> Result<Value, ApiError> {
    let props = serde_json::to_value(&c.network).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(
        json!({"id": format!("{sid}/gatehouse/network"), "type": "Gatehouse/service/network", "name": "network", "properties": props}),
    )
}

pub(crate) async fn network_get(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let cur = ctx.st.api.backing.current().await.map_err(backing_error)?;
    Ok(with_etag(
        StatusCode::OK,
        network_envelope(&cur.config, &ctx.target.service_id)?,
    ))
}

pub(crate) async fn network_put(ctx: &Ctx<'_>, patch: bool) -> Result<Response, ApiError> {
    let sid = ctx.target.service_id.clone();
    if !patch && ctx.body.get("properties").is_none() {
        return Err(ApiError::property(
            "properties",
            "'properties' (the network section) is required",
        ));
    }
    let body_props = Value::Object(properties(&ctx.body)?);
    let im = ctx.if_match.clone();
    let s2 = sid.clone();
    let pre = move |c: &Config| check_if_match(&im, Some(&network_envelope(c, &s2)?));
    let change = move |c: &mut Config| {
        let mut v = if patch {
            serde_json::to_value(&c.network).map_err(|e| ApiError::internal(e.to_string()))?
        } else {
            json!({})
        };
        merge(&mut v, &body_props);
        c.network = serde_json::from_value(v).map_err(bad_prop("properties"))?;
        Ok(())
    };
    let (cfg, ()) = ctx
        .st
        .write(&ctx.actor, "PUT gatehouse/network", None, &pre, &change)
        .await?;
    Ok(with_etag(StatusCode::OK, network_envelope(&cfg, &sid)?))
}
