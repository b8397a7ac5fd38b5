//! One handler for every path of both forms: reads the target, checks version and token, and
//! answers each resource's GET/PUT/PATCH/DELETE/POST as APIM's 2022-08-01 examples do.

use crate::ManagementApi;
use crate::auth;
use crate::error::ApiError;
use crate::links::{Link, link};
use crate::query::Filter;
use crate::resources::props::{Props, merge, properties, random_key};
use crate::resources::{Collection, Item};
use crate::route::{self, Target};
use crate::write::backing_error;
use axum::body::to_bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_model::{Config, Secret};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Largest request body read (a policy document is the largest resource).
const MAX_BODY: usize = 4 * 1024 * 1024;

pub struct State {
    pub api: ManagementApi,
    pub write_lock: tokio::sync::Mutex<()>,
}

pub async fn handle(
    axum::extract::State(st): axum::extract::State<Arc<State>>,
    req: Request,
) -> Response {
    match handle_inner(&st, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

pub(crate) struct Ctx<'a> {
    pub st: &'a State,
    pub target: Target,
    pub actor: String,
    pub if_match: Option<String>,
    pub body: Value,
    pub query: route::Query,
    pub path: String,
}

async fn handle_inner(st: &State, req: Request) -> Result<Response, ApiError> {
    let head = req.method() == Method::HEAD;
    let response = dispatch(st, req).await;
    if !head {
        return response;
    }
    // HEAD: GET's status and headers (ETag), no body.
    let r = response.unwrap_or_else(|e| e.into_response());
    let (mut parts, _) = r.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_TYPE);
    Ok(Response::from_parts(parts, axum::body::Body::empty()))
}

/// The methods of the paths of the OpenAPI document (crates/admin/src/openapi.rs): an unknown
/// path is 404, a known path with a method it does not serve 405 with `Allow`.
fn check_method(segments: &[String], method: &Method, path: &str) -> Result<(), ApiError> {
    let Some(allowed) = crate::openapi::allowed(segments) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!("{method} {path} is not a resource of this API."),
        ));
    };
    if allowed.contains(&method.as_str()) {
        if let Some(name) = crate::openapi::bad_name(segments) {
            return Err(ApiError::property(
                "name",
                format!(
                    "invalid resource name '{name}': use 1-80 letters, digits, '-', '_' or '.'"
                ),
            ));
        }
        return Ok(());
    }
    Err(method_not_allowed(method, path).with_allow(allowed.join(", ")))
}

async fn dispatch(st: &State, req: Request) -> Result<Response, ApiError> {
    let (parts, body) = req.into_parts();
    let target = route::target(parts.uri.path(), &st.api.service_name)?;
    let query = route::query(parts.uri.query())?;
    let keys = st.api.backing.access_keys().await.map_err(backing_error)?;
    let header_value = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let actor = auth::verify(header_value, &keys, time::OffsetDateTime::now_utc())
        .map_err(|e| ApiError::new(StatusCode::UNAUTHORIZED, "Unauthorized", e.to_string()))?;
    check_method(&target.segments, &parts.method, parts.uri.path())?;
    let bytes = to_bytes(body, MAX_BODY).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestTooLarge",
            "the body is too large",
        )
    })?;
    // An absent body reads as no properties; a present one must be a JSON object.
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestContent",
                    "the body must be a JSON object",
                ));
            }
            Err(e) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestContent",
                    format!("the body is not JSON: {e}"),
                ));
            }
        }
    };
    let ctx = Ctx {
        st,
        target,
        actor,
        if_match: if_match(&parts.headers),
        body,
        query,
        path: parts.uri.path().to_string(),
    };
    let segs: Vec<&str> = ctx.target.segments.iter().map(String::as_str).collect();
    let m = if parts.method == Method::HEAD {
        Method::GET
    } else {
        parts.method.clone()
    };
    use Collection as C;
    use Item as I;
    let s = |x: &str| x.to_string();
    match (segs.as_slice(), &m) {
        ([], &Method::GET) => crate::service::service_get(&ctx).await,
        ([], &Method::PATCH) => crate::service::service_patch(&ctx).await,
        (["gatehouse", "network"], &Method::GET) => crate::service::network_get(&ctx).await,
        (["gatehouse", "network"], &Method::PUT | &Method::PATCH) => {
            crate::service::network_put(&ctx, m == Method::PATCH).await
        }
        (["networkstatus"], &Method::GET) => crate::nodes::network_status(&ctx).await,
        (["locations", location, "networkstatus"], &Method::GET) => {
            crate::nodes::network_status_of(&ctx, location).await
        }
        (["gatehouse", "nodes"], &Method::GET) => crate::nodes::nodes_list(&ctx).await,
        (["applynetworkconfigurationupdates"], &Method::POST) => {
            match st.api.node.apply_network().await {
                Ok(v) => Ok(axum::Json(v).into_response()),
                Err(msg) => Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "NetworkConfigurationUpdateFailed",
                    msg,
                )),
            }
        }
        (["tenant"], &Method::GET) => crate::service::tenant_list(&ctx).await,
        (["tenant", "access"], &Method::GET) => crate::service::tenant_get(&ctx).await,
        (["tenant", "access", "listSecrets"], &Method::POST) => {
            crate::service::tenant_secrets(&ctx).await
        }
        (
            [
                "tenant",
                "access",
                which @ ("regeneratePrimaryKey" | "regenerateSecondaryKey"),
            ],
            &Method::POST,
        ) => crate::service::tenant_regenerate(&ctx, *which == "regeneratePrimaryKey").await,
        (
            [
                "subscriptions",
                id,
                action @ ("listSecrets" | "regeneratePrimaryKey" | "regenerateSecondaryKey"),
            ],
            &Method::POST,
        ) => subscription_action(&ctx, id, action).await,
        (["namedValues", id, "listValue"], &Method::POST) => named_value_value(&ctx, id).await,
        (["users", u, "token"], &Method::POST) => crate::service::user_token(&ctx, u).await,
        (["products", p, "apis", a], _) => link(&ctx, &m, Link::ProductApi(s(p), s(a))).await,
        (["products", p, "groups", g], _) => link(&ctx, &m, Link::ProductGroup(s(p), s(g))).await,
        (["groups", g, "users", u], _) => link(&ctx, &m, Link::GroupUser(s(g), s(u))).await,
        (["portalsettings"], &Method::GET) => crate::portal_settings::list(&ctx).await,
        (["portalsettings", which @ ("signin" | "signup")], _) => {
            crate::portal_settings::setting(&ctx, &m, which).await
        }
        (["gatehouse", "portal"], _) => crate::portal_settings::portal(&ctx, &m).await,
        (["apis"], &Method::GET) => list(&ctx, C::Apis).await,
        (["apis", a, "operations"], &Method::GET) => list(&ctx, C::Operations(s(a))).await,
        (["apis", a, "policies"], &Method::GET) => list(&ctx, C::ApiPolicies(s(a))).await,
        (["apis", a, "operations", o, "policies"], &Method::GET) => {
            list(&ctx, C::OperationPolicies(s(a), s(o))).await
        }
        (["products"], &Method::GET) => list(&ctx, C::Products).await,
        (["products", p, "apis"], &Method::GET) => list(&ctx, C::ProductApis(s(p))).await,
        (["products", p, "policies"], &Method::GET) => list(&ctx, C::ProductPolicies(s(p))).await,
        (["products", p, "groups"], &Method::GET) => list(&ctx, C::ProductGroups(s(p))).await,
        (["subscriptions"], &Method::GET) => list(&ctx, C::Subscriptions).await,
        (["users"], &Method::GET) => list(&ctx, C::Users).await,
        (["groups"], &Method::GET) => list(&ctx, C::Groups).await,
        (["groups", g, "users"], &Method::GET) => list(&ctx, C::GroupUsers(s(g))).await,
        (["namedValues"], &Method::GET) => list(&ctx, C::NamedValues).await,
        (["backends"], &Method::GET) => list(&ctx, C::Backends).await,
        (["policies"], &Method::GET) => list(&ctx, C::GlobalPolicies).await,
        (["policyFragments"], &Method::GET) => list(&ctx, C::Fragments).await,
        (["privateEndpointConnections"], &Method::GET) => list(&ctx, C::PrivateEndpoints).await,
        (["apis", a], _) => item(&ctx, &m, I::Api(s(a))).await,
        (["apis", a, "operations", o], _) => item(&ctx, &m, I::Operation(s(a), s(o))).await,
        (["apis", a, "policies", "policy"], _) => item(&ctx, &m, I::ApiPolicy(s(a))).await,
        (["apis", a, "operations", o, "policies", "policy"], _) => {
            item(&ctx, &m, I::OperationPolicy(s(a), s(o))).await
        }
        (["products", p], _) => item(&ctx, &m, I::Product(s(p))).await,
        (["products", p, "policies", "policy"], _) => item(&ctx, &m, I::ProductPolicy(s(p))).await,
        (["subscriptions", id], _) => item(&ctx, &m, I::Subscription(s(id))).await,
        (["users", u], _) => item(&ctx, &m, I::User(s(u))).await,
        (["groups", g], _) => item(&ctx, &m, I::Group(s(g))).await,
        (["namedValues", n], _) => item(&ctx, &m, I::NamedValue(s(n))).await,
        (["backends", b], _) => item(&ctx, &m, I::Backend(s(b))).await,
        (["policies", "policy"], _) => item(&ctx, &m, I::GlobalPolicy).await,
        (["policyFragments", f], _) => item(&ctx, &m, I::Fragment(s(f))).await,
        (["privateEndpointConnections", e], _) => item(&ctx, &m, I::PrivateEndpoint(s(e))).await,
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!("{} {} is not a resource of this API.", m, ctx.path),
        )),
    }
}

fn if_match(h: &HeaderMap) -> Option<String> {
    h.get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
}

/// A resource's ETag: a hash of its envelope without `id`, quoted, so that the ARM and the
/// short form of a path (whose ids differ) agree on it.
pub(crate) fn etag(envelope: &Value) -> String {
    let mut v = envelope.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("id");
    }
    let digest = Sha256::digest(v.to_string().as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

pub(crate) fn envelope(service_id: &str, item: &Item, props: Value) -> Value {
    let (rel, name) = item.relative();
    json!({"id": format!("{service_id}/{rel}"), "type": item.arm_type(), "name": name, "properties": props})
}

pub(crate) fn with_etag(status: StatusCode, body: Value) -> Response {
    let tag = etag(&body);
    let mut r = (status, axum::Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&tag) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r
}

/// A PUT's answer: the resource with its ETag, 201 when the write created it, else 200.
pub(crate) fn written(created: bool, envelope: Value) -> Response {
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    with_etag(status, envelope)
}

/// A DELETE's answer: 200 when something was removed, 204 when there was nothing.
pub(crate) fn deleted(removed: bool) -> Response {
    if removed {
        StatusCode::OK
    } else {
        StatusCode::NO_CONTENT
    }
    .into_response()
}

pub(crate) fn method_not_allowed(method: &Method, path: &str) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!("{method} is not allowed on {path}"),
    )
}

/// If-Match against the resource's current envelope (`None`: absent); `*` matches any existing.
pub(crate) fn check_if_match(
    if_match: &Option<String>,
    current: Option<&Value>,
) -> Result<(), ApiError> {
    match (if_match.as_deref(), current) {
        (None, _) => Ok(()),
        (Some("*"), Some(_)) => Ok(()),
        (Some(tag), Some(env))
            if tag == etag(env) || tag.trim_matches('"') == etag(env).trim_matches('"') =>
        {
            Ok(())
        }
        _ => Err(ApiError::precondition()),
    }
}

pub(crate) fn current_envelope(
    c: &Config,
    sid: &str,
    item: &Item,
) -> Result<Option<Value>, ApiError> {
    Ok(item.get(c, sid)?.map(|p| envelope(sid, item, p)))
}

async fn list(ctx: &Ctx<'_>, coll: Collection) -> Result<Response, ApiError> {
    let filter = ctx.query.filter.as_deref().map(Filter::parse).transpose()?;
    let cur = ctx.st.api.backing.current().await.map_err(backing_error)?;
    let sid = &ctx.target.service_id;
    let mut value = Vec::new();
    for item in coll.items(&cur.config)? {
        let Some(props) = item.get(&cur.config, sid)? else {
            continue;
        };
        let (_, name) = item.relative();
        if filter.as_ref().is_some_and(|f| !f.matches(&name, &props)) {
            continue;
        }
        value.push(envelope(sid, &item, props));
    }
    let count = value.len();
    let page: Vec<Value> = value
        .into_iter()
        .skip(ctx.query.skip)
        .take(ctx.query.top.unwrap_or(usize::MAX))
        .collect();
    let next = ctx.query.skip.saturating_add(page.len());
    let next_link = (ctx.query.top.is_some() && next < count).then(|| {
        let mut q = format!(
            "{}?api-version={}&$top={}&$skip={next}",
            ctx.path,
            ctx.query.api_version,
            ctx.query.top.unwrap_or(0)
        );
        if let Some(f) = &ctx.query.filter {
            q.push_str("&$filter=");
            q.push_str(&percent_encode(f));
        }
        q
    });
    Ok(axum::Json(json!({"value": page, "count": count, "nextLink": next_link})).into_response())
}

/// A query value percent-encoded (RFC 3986 unreserved characters kept). Hand-written: a few
/// lines for the one value (`$filter`) a nextLink carries back.
fn percent_encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn item(ctx: &Ctx<'_>, m: &Method, item: Item) -> Result<Response, ApiError> {
    let sid = ctx.target.service_id.clone();
    let (rel, _) = item.relative();
    match *m {
        Method::GET if ctx.query.export && matches!(item, Item::Api(_)) => {
            let cur = ctx.st.api.backing.current().await.map_err(backing_error)?;
            let Item::Api(a) = &item else {
                return Err(ApiError::internal("export of a non-API"));
            };
            let api = cur
                .config
                .apis
                .iter()
                .find(|x| &x.id == a)
                .ok_or_else(|| ApiError::not_found(rel))?;
            crate::oas::export_response(api, ctx.query.format.as_deref())
        }
        Method::GET => {
            let cur = ctx.st.api.backing.current().await.map_err(backing_error)?;
            match current_envelope(&cur.config, &sid, &item)? {
                Some(env) => Ok(with_etag(StatusCode::OK, env)),
                None => Err(ApiError::not_found(rel)),
            }
        }
        Method::PUT | Method::PATCH => {
            let patch = *m == Method::PATCH;
            let mut body_props = properties(&ctx.body)?;
            // APIM's import contract: `format` + `value` carry an OpenAPI document (or its URL).
            let imported = match &item {
                Item::Api(_) if !patch => {
                    crate::oas::take_import(&mut body_props, ctx.st.api.node.as_ref()).await?
                }
                _ => None,
            };
            // Write-only: hashed here, set after the user is written, never in `properties`.
            let password_hash = match &item {
                Item::User(_) => crate::password::take(&mut body_props).await?,
                _ => None,
            };
            if !patch {
                // PUT replaces: what the resource requires must be in the body, even when the
                // resource exists (a PATCH merges instead).
                let absent = |k: &&str| body_props.get(*k).is_none_or(Value::is_null);
                let mut missing: Vec<_> = crate::openapi::required_on_put(item.schema_name())
                    .into_iter()
                    .filter(absent)
                    .collect();
                let one_of = crate::openapi::one_required_on_put(item.schema_name());
                if !one_of.is_empty() && one_of.iter().all(absent) {
                    missing.push(one_of[0]);
                }
                if !missing.is_empty() {
                    let mut e =
                        ApiError::bad_request("One or more fields contain incorrect values:");
                    for k in missing {
                        e.details.push(crate::error::Detail {
                            code: "ValidationError".into(),
                            target: format!("properties.{k}"),
                            message: format!("'{k}' is required"),
                        });
                    }
                    return Err(e);
                }
            }
            let im = ctx.if_match.clone();
            let (it, s2) = (item.clone(), sid.clone());
            let pre =
                move |c: &Config| check_if_match(&im, current_envelope(c, &s2, &it)?.as_ref());
            let (it, s2) = (item.clone(), sid.clone());
            let change = move |c: &mut Config| {
                let props = if patch {
                    let mut base = it
                        .get(c, &s2)?
                        .ok_or_else(|| ApiError::not_found(it.relative().0))?;
                    merge(&mut base, &Value::Object(body_props.clone()));
                    base.as_object().cloned().unwrap_or_default()
                } else {
                    body_props.clone()
                };
                let created = it.put(c, &Props(&props))?;
                if let (Some(imp), Item::Api(a)) = (&imported, &it) {
                    crate::oas::apply_import(c, a, imp);
                }
                if let (Some(h), Item::User(u)) = (&password_hash, &it)
                    && let Some(user) = c.users.iter_mut().find(|x| &x.id == u)
                {
                    user.password_hash = Some(h.clone());
                }
                Ok(created)
            };
            let summary = format!("{m} {rel}");
            let (cfg, created) = ctx
                .st
                .write(&ctx.actor, &summary, Some(&item), &pre, &change)
                .await?;
            let env = current_envelope(&cfg, &sid, &item)?
                .ok_or_else(|| ApiError::internal("written resource vanished"))?;
            Ok(written(created, env))
        }
        Method::DELETE => {
            let im = ctx.if_match.clone();
            let (it, s2) = (item.clone(), sid.clone());
            let pre = move |c: &Config| match current_envelope(c, &s2, &it)? {
                Some(env) => check_if_match(&im, Some(&env)),
                None => Ok(()),
            };
            let it = item.clone();
            let change = move |c: &mut Config| it.delete(c);
            let (_, removed) = ctx
                .st
                .write(
                    &ctx.actor,
                    &format!("DELETE {rel}"),
                    Some(&item),
                    &pre,
                    &change,
                )
                .await?;
            Ok(deleted(removed))
        }
        _ => Err(method_not_allowed(m, &rel)),
    }
}

async fn subscription_action(ctx: &Ctx<'_>, id: &str, action: &str) -> Result<Response, ApiError> {
    let find = |c: &Config| {
        c.subscriptions
            .iter()
            .position(|s| s.id == id)
            .ok_or_else(|| ApiError::not_found(format!("subscriptions/{id}")))
    };
    if action == "listSecrets" {
        let cur = ctx.st.api.backing.current().await.map_err(backing_error)?;
        let s = &cur.config.subscriptions[find(&cur.config)?];
        let body = json!({
            "primaryKey": s.primary_key.expose(),
            "secondaryKey": s.secondary_key.as_ref().map(Secret::expose),
        });
        // Subscription_ListSecrets answers the subscription's ETag too.
        let item = Item::Subscription(id.to_string());
        let env = current_envelope(&cur.config, &ctx.target.service_id, &item)?;
        return Ok(secrets_with_etag(body, env.as_ref()));
    }
    let primary = action == "regeneratePrimaryKey";
    let key = Secret::new(random_key()?);
    let change = move |c: &mut Config| {
        let i = find(c)?;
        if primary {
            c.subscriptions[i].primary_key = key.clone();
        } else {
            c.subscriptions[i].secondary_key = Some(key.clone());
        }
        Ok(())
    };
    let item = Item::Subscription(id.to_string());
    ctx.st
        .write(
            &ctx.actor,
            &format!("POST subscriptions/{id}/{action}"),
            Some(&item),
            &|_| Ok(()),
            &change,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn named_value_value(ctx: &Ctx<'_>, id: &str) -> Result<Response, ApiError> {
    let cur = ctx.st.api.backing.current().await.map_err(backing_error)?;
    let nv = cur
        .config
        .named_values
        .iter()
        .find(|n| n.id == id)
        .ok_or_else(|| ApiError::not_found(format!("namedValues/{id}")))?;
    let item = Item::NamedValue(id.to_string());
    let env = current_envelope(&cur.config, &ctx.target.service_id, &item)?;
    Ok(secrets_with_etag(
        json!({"value": nv.value.expose()}),
        env.as_ref(),
    ))
}

/// A secrets answer (`listSecrets`, `listValue`) with the ETag of the resource it belongs to.
pub(crate) fn secrets_with_etag(body: Value, envelope: Option<&Value>) -> Response {
    let mut r = axum::Json(body).into_response();
    if let Some(v) = envelope.and_then(|e| HeaderValue::from_str(&etag(e)).ok()) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r
}
