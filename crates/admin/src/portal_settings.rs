//! The developer portal's settings (crates/model/src/portal.rs): APIM's `portalsettings/signin`
//! and `portalsettings/signup` in their ARM shapes (PortalSigninSettings,
//! PortalSignupSettings), their list `portalsettings`, and gatehouse's `gatehouse/portal` with
//! the whole section (title, description, logo, colours, sign-up, sign-in) in camelCase.
//! PUT replaces (what is left out takes its default), PATCH merges (RFC 7396); both answer 200
//! with the ETag and honour If-Match.

use crate::dispatch::{Ctx, check_if_match, method_not_allowed, with_etag};
use crate::error::{ApiError, Detail};
use crate::resources::props::{merge, properties};
use crate::write::backing_error;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_model::Config;
use gatehouse_model::portal::{Portal, Signin, Signup};
use serde_json::{Value, json};

const SETTINGS_TYPE: &str = "Microsoft.ApiManagement/service/portalsettings";

fn signin_props(s: &Signin) -> Value {
    json!({"enabled": s.enabled})
}

fn signup_props(s: &Signup) -> Value {
    let t = &s.terms_of_service;
    json!({
        "enabled": s.enabled,
        "termsOfService": {"text": t.text, "enabled": t.enabled, "consentRequired": t.consent_required},
    })
}

/// The whole section in camelCase; absent values are `null`, so a GET's body PUT back is the
/// same section.
fn portal_props(p: &Portal) -> Value {
    json!({
        "title": p.title,
        "description": p.description,
        "logoUrl": p.logo_url,
        "colors": {"primary": p.colors.primary, "background": p.colors.background, "text": p.colors.text},
        "signup": signup_props(&p.signup),
        "signin": signin_props(&p.signin),
    })
}

fn setting_envelope(sid: &str, which: &str, c: &Config) -> Value {
    let props = if which == "signin" {
        signin_props(&c.portal.signin)
    } else {
        signup_props(&c.portal.signup)
    };
    json!({"id": format!("{sid}/portalsettings/{which}"), "type": SETTINGS_TYPE, "name": which, "properties": props})
}

fn portal_envelope(sid: &str, c: &Config) -> Value {
    json!({"id": format!("{sid}/gatehouse/portal"), "type": "Gatehouse/service/portal", "name": "portal", "properties": portal_props(&c.portal)})
}

/// `null` members dropped at every depth: in a request `null` means "not given" (the model's
/// default then applies), as elsewhere in this API (crates/admin/src/resources/props.rs).
fn without_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k, without_nulls(x)))
                .collect(),
        ),
        other => other,
    }
}

/// The first array in `v`, by its path below `properties`. No member of the section is a
/// list, and serde would read a struct from a JSON array (by position): refused instead.
fn first_array(v: &Value, path: &str) -> Option<String> {
    match v {
        Value::Array(_) => Some(path.to_string()),
        Value::Object(m) => m
            .iter()
            .find_map(|(k, x)| first_array(x, &format!("{path}.{k}"))),
        _ => None,
    }
}

fn read<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, ApiError> {
    if let Some(at) = first_array(&v, "properties") {
        return Err(ApiError::property(
            at,
            "must be an object or a value, not a list",
        ));
    }
    serde_json::from_value(without_nulls(v))
        .map_err(|e| ApiError::property("properties", e.to_string()))
}

/// A validation problem of the section (`portal.colors.primary`, `portal.logo_url`) named as
/// the body's property (`properties.colors.primary`, `properties.logoUrl`).
fn arm_target(path: &str) -> String {
    let Some(rest) = path.strip_prefix("portal.") else {
        return path.to_string();
    };
    let camel: Vec<String> = rest
        .split('.')
        .map(|seg| {
            let mut out = String::new();
            let mut upper = false;
            for ch in seg.chars() {
                if ch == '_' {
                    upper = true;
                } else if upper {
                    out.extend(ch.to_uppercase());
                    upper = false;
                } else {
                    out.push(ch);
                }
            }
            out
        })
        .collect();
    format!("properties.{}", camel.join("."))
}

fn rename_targets(mut e: ApiError) -> ApiError {
    e.details = e
        .details
        .into_iter()
        .map(|d| Detail {
            target: arm_target(&d.target),
            ..d
        })
        .collect();
    e
}

/// `GET portalsettings`: the sign-in and sign-up settings.
pub(crate) async fn list(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let cur = ctx.st.api.backing.current().await.map_err(backing_error)?;
    let sid = &ctx.target.service_id;
    let value: Vec<Value> = ["signin", "signup"]
        .iter()
        .map(|w| setting_envelope(sid, w, &cur.config))
        .collect();
    Ok(axum::Json(json!({"value": value, "count": 2, "nextLink": null})).into_response())
}

/// How a write changes the section: from the body's `properties` (merged into the current
/// camelCase form for a PATCH).
type Apply = fn(&mut Portal, Value) -> Result<(), ApiError>;

/// GET/HEAD/PUT/PATCH of `portalsettings/{signin|signup}`.
pub(crate) async fn setting(ctx: &Ctx<'_>, m: &Method, which: &str) -> Result<Response, ApiError> {
    let apply: Apply = if which == "signin" {
        |p, v| {
            p.signin = read(v)?;
            Ok(())
        }
    } else {
        |p, v| {
            p.signup = read(v)?;
            Ok(())
        }
    };
    let which = which.to_string();
    let w2 = which.clone();
    let current = move |c: &Config| -> Value {
        if w2 == "signin" {
            signin_props(&c.portal.signin)
        } else {
            signup_props(&c.portal.signup)
        }
    };
    let sid = ctx.target.service_id.clone();
    let envelope = move |c: &Config| setting_envelope(&sid, &which, c);
    handle(ctx, m, &envelope, &current, apply).await
}

/// GET/HEAD/PUT/PATCH of `gatehouse/portal`.
pub(crate) async fn portal(ctx: &Ctx<'_>, m: &Method) -> Result<Response, ApiError> {
    let sid = ctx.target.service_id.clone();
    let envelope = move |c: &Config| portal_envelope(&sid, c);
    let current = |c: &Config| portal_props(&c.portal);
    let apply: Apply = |p, v| {
        *p = read(v)?;
        Ok(())
    };
    handle(ctx, m, &envelope, &current, apply).await
}

async fn handle(
    ctx: &Ctx<'_>,
    m: &Method,
    envelope: &(dyn Fn(&Config) -> Value + Send + Sync),
    current: &(dyn Fn(&Config) -> Value + Send + Sync),
    apply: Apply,
) -> Result<Response, ApiError> {
    match *m {
        Method::GET => {
            let cur = ctx.st.api.backing.current().await.map_err(backing_error)?;
            Ok(with_etag(StatusCode::OK, envelope(&cur.config)))
        }
        Method::PUT | Method::PATCH => {
            let patch = *m == Method::PATCH;
            let body = Value::Object(properties(&ctx.body)?);
            let im = ctx.if_match.clone();
            let pre = move |c: &Config| check_if_match(&im, Some(&envelope(c)));
            let change = move |c: &mut Config| {
                let mut v = if patch { current(c) } else { json!({}) };
                merge(&mut v, &body);
                apply(&mut c.portal, v)
            };
            let summary = format!("{m} {}", ctx.target.segments.join("/"));
            let (cfg, ()) = ctx
                .st
                .write(&ctx.actor, &summary, None, &pre, &change)
                .await
                .map_err(rename_targets)?;
            Ok(with_etag(StatusCode::OK, envelope(&cfg)))
        }
        _ => Err(method_not_allowed(m, &ctx.path)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_name_the_body_property() {
        assert_eq!(arm_target("portal.logo_url"), "properties.logoUrl");
        assert_eq!(
            arm_target("portal.colors.primary"),
            "properties.colors.primary"
        );
        assert_eq!(arm_target("apis[0].path"), "apis[0].path");
    }

    #[test]
    fn camel_case_round_trips() {
        let mut p = Portal {
            title: Some("Contoso".into()),
            logo_url: Some("/logo.png".into()),
            ..Portal::default()
        };
        p.signup.terms_of_service.consent_required = true;
        p.signin.enabled = true;
        let back: Portal = read(portal_props(&p)).expect("reads its own answer");
        assert_eq!(back, p);
        let s: Signup = read(json!({"enabled": false})).expect("reads");
        assert!(!s.enabled && !s.terms_of_service.enabled);
        assert!(read::<Signin>(json!({"enabled": 1})).is_err());
        let e = read::<Portal>(json!({"colors": [null, null]})).expect_err("a list");
        assert_eq!(e.details[0].target, "properties.colors");
    }
}
