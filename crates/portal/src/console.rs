//! One API's page and its "try it" console. The console is a form the portal's server answers:
//! it sends the request to the gateway (`PortalOptions::gateway_url`) with the chosen
//! subscription's key and shows the gateway's real answer. So the key never reaches the page's
//! script or a URL, no CORS policy is needed on the API, and the console works without
//! JavaScript (static/console.js only fills the path and method when an operation is picked).

use crate::catalogue::visible_api;
use crate::page::{Layout, PageError, render};
use crate::session::Visitor;
use crate::state::Portal;
use crate::views::{self, OperationView};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use gatehouse_model::{Api, Scope, SubscriptionState};
use serde::Deserialize;
use std::sync::Arc;

pub fn routes() -> axum::Router<Arc<Portal>> {
    axum::Router::new().route("/apis/{id}/try", post(try_it))
}

/// How much of the gateway's answer the console shows.
const MAX_SHOWN_BODY: usize = 64 * 1024;
const MAX_HEADERS: usize = 32;

pub struct KeyChoice {
    pub id: String,
    pub name: String,
}

pub struct ConsoleResult {
    pub request_line: String,
    pub status: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "api.html")]
struct ApiPage {
    l: Layout,
    id: String,
    description: String,
    base_url: String,
    tags: Vec<String>,
    products: Vec<(String, String)>,
    operations: Vec<OperationView>,
    keys: Vec<KeyChoice>,
    signed_in: bool,
    console_enabled: bool,
    form: ConsoleForm,
    result: Option<ConsoleResult>,
}

#[derive(Deserialize, Default, Clone)]
pub struct ConsoleForm {
    #[serde(default)]
    pub operation: String,
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub subscription: String,
    #[serde(default)]
    pub headers: String,
    #[serde(default)]
    pub body: String,
}

/// The API's page, with the console's last answer when there is one.
pub fn api_page(
    portal: &Portal,
    v: &Visitor,
    api: &Api,
    submitted: Option<(ConsoleForm, ConsoleResult)>,
) -> Response {
    let base_url = format!(
        "{}/{}",
        portal
            .options
            .gateway_url
            .as_deref()
            .unwrap_or("")
            .trim_end_matches('/'),
        api.path.trim_matches('/')
    );
    let products = crate::catalogue::visible_products(&v.config, &v.groups)
        .into_iter()
        .filter(|p| p.apis.contains(&api.id))
        .map(|p| {
            (
                p.id.clone(),
                p.display_name.clone().unwrap_or_else(|| p.id.clone()),
            )
        })
        .collect();
    let operations: Vec<OperationView> = api
        .operations
        .iter()
        .map(|o| views::operation(o, api.schemas.as_ref()))
        .collect();
    let (form, result) = match submitted {
        Some((f, r)) => (f, Some(r)),
        None => {
            let first = operations.first();
            (
                ConsoleForm {
                    operation: first.map(|o| o.id.clone()).unwrap_or_default(),
                    method: first
                        .map(|o| default_method(&o.method))
                        .unwrap_or_else(|| "GET".into()),
                    path: first
                        .map(|o| example_path(&o.url_template))
                        .unwrap_or_else(|| "/".into()),
                    ..ConsoleForm::default()
                },
                None,
            )
        }
    };
    let page = ApiPage {
        l: Layout::new(
            v,
            api.display_name.clone().unwrap_or_else(|| api.id.clone()),
            "apis",
        ),
        id: api.id.clone(),
        description: api.description.clone().unwrap_or_default(),
        base_url,
        tags: api.tags.clone(),
        products,
        operations,
        keys: usable_keys(v, api),
        signed_in: v.user.is_some(),
        console_enabled: portal.options.gateway_url.is_some(),
        form,
        result,
    };
    render(&page)
}

fn default_method(m: &str) -> String {
    if m == "*" {
        "GET".into()
    } else {
        m.to_string()
    }
}

/// The URL template as a starting path: `/items/{id}` stays (the user fills it in), a trailing
/// wildcard becomes `/`.
fn example_path(t: &str) -> String {
    let t = t.strip_suffix("/*").unwrap_or(t);
    if t.is_empty() {
        "/".into()
    } else {
        t.to_string()
    }
}

/// The signed-in user's active subscriptions whose keys open this API.
fn usable_keys(v: &Visitor, api: &Api) -> Vec<KeyChoice> {
    let Some(uid) = v.user_id() else {
        return Vec::new();
    };
    v.config
        .subscriptions
        .iter()
        .filter(|s| s.owner.as_deref() == Some(uid) && s.state == SubscriptionState::Active)
        .filter(|s| match Scope::parse(&s.scope) {
            Ok(Scope::All) => true,
            Ok(Scope::Api(a)) => a == api.id,
            Ok(Scope::Product(p)) => v
                .config
                .products
                .iter()
                .any(|x| x.id == p && x.apis.contains(&api.id)),
            Err(_) => false,
        })
        .map(|s| KeyChoice {
            id: s.id.clone(),
            name: s.display_name.clone().unwrap_or_else(|| s.id.clone()),
        })
        .collect()
}

async fn try_it(
    State(portal): State<Arc<Portal>>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<ConsoleForm>,
) -> Result<Response, PageError> {
    v.require_user()?;
    let api = visible_api(&v, &id)?;
    let result = match send(&portal, &v, api, &form).await {
        Ok(r) => r,
        Err(message) => ConsoleResult {
            request_line: format!("{} {}", form.method, form.path),
            status: String::new(),
            headers: Vec::new(),
            body: String::new(),
            error: Some(message),
        },
    };
    Ok(api_page(&portal, &v, api, Some((form, result))))
}

/// Sends the console's request through the gateway; an `Err` says why it was not sent.
async fn send(
    portal: &Portal,
    v: &Visitor,
    api: &Api,
    form: &ConsoleForm,
) -> Result<ConsoleResult, String> {
    let gateway = portal
        .options
        .gateway_url
        .as_deref()
        .ok_or("this portal has no gateway to send requests to")?;
    let method = http::Method::from_bytes(form.method.trim().as_bytes())
        .map_err(|_| format!("'{}' is not an HTTP method", form.method))?;
    let path = form.path.trim();
    if !path.starts_with('/')
        || path.starts_with("//")
        || path.len() > 2048
        || path.contains(['#', ' ', '\r', '\n'])
    {
        return Err("the path must start with a single '/' and hold no spaces or '#'".into());
    }
    let sub = usable_keys(v, api)
        .into_iter()
        .find(|k| k.id == form.subscription);
    let mut url = format!(
        "{}/{}",
        gateway.trim_end_matches('/'),
        api.path.trim_matches('/')
    );
    if url.ends_with('/') {
        url.pop();
    }
    url.push_str(path);
    let mut req = portal.http.request(method.clone(), &url);
    if let Some(k) = &sub {
        let key = v
            .config
            .subscriptions
            .iter()
            .find(|s| s.id == k.id)
            .map(|s| s.primary_key.expose().to_string())
            .unwrap_or_default();
        req = req.header(api.subscription_key.header.as_str(), key);
    } else if !form.subscription.is_empty() {
        return Err("that subscription cannot call this API".into());
    }
    for (n, line) in form
        .headers
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
    {
        if n >= MAX_HEADERS {
            return Err(format!("at most {MAX_HEADERS} headers"));
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("header line {} has no ':'", n + 1))?;
        let name = http::HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
            format!(
                "header line {}: '{}' is not a header name",
                n + 1,
                name.trim()
            )
        })?;
        let value = http::HeaderValue::from_str(value.trim())
            .map_err(|_| format!("header line {}: the value is not valid", n + 1))?;
        if matches!(
            name.as_str(),
            "host" | "content-length" | "connection" | "transfer-encoding"
        ) {
            continue;
        }
        req = req.header(name, value);
    }
    if !form.body.is_empty() && method != http::Method::GET && method != http::Method::HEAD {
        req = req.body(form.body.clone());
    }
    let request_line = format!("{method} {url}");
    let mut resp = req
        .send()
        .await
        .map_err(|e| format!("the gateway did not answer: {e}"))?;
    let status = resp.status();
    let headers = resp
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| format!("reading the answer: {e}"))?
    {
        let room = MAX_SHOWN_BODY.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_SHOWN_BODY {
            break;
        }
    }
    Ok(ConsoleResult {
        request_line,
        status: format!(
            "{} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        ),
        headers,
        body: shown_body(&body),
        error: None,
    })
}

/// The answer's body as text; JSON pretty-printed so that it can be read.
fn shown_body(body: &[u8]) -> String {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) if v.is_object() || v.is_array() => {
            serde_json::to_string_pretty(&v).unwrap_or_default()
        }
        _ => String::from_utf8_lossy(body).into_owned(),
    }
}
