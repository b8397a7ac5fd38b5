//! The signed-in user's subscriptions on the profile page: keys hidden until the user asks (a
//! POST, so a key never appears in a URL), regenerate either key, rename, cancel. Each action is
//! one store commit; a regenerated key replaces the old one at the gateway as soon as the node
//! applies it.

use crate::accounts::profile;
use crate::page::{Notice, PageError};
use crate::session::Visitor;
use crate::state::Portal;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use gatehouse_model::{Config, Secret, Subscription, SubscriptionState};
use serde::Deserialize;
use std::sync::Arc;

pub fn routes() -> axum::Router<Arc<Portal>> {
    axum::Router::new()
        .route("/profile/subscriptions/{sid}/show", post(show))
        .route("/profile/subscriptions/{sid}/regenerate", post(regenerate))
        .route("/profile/subscriptions/{sid}/rename", post(rename))
        .route("/profile/subscriptions/{sid}/cancel", post(cancel))
}

pub struct SubscriptionView {
    pub id: String,
    pub name: String,
    pub scope: String,
    pub state: String,
    pub live: bool,
    /// The keys, when this is the subscription the user asked to see.
    pub keys: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "subscriptions.html")]
struct Section {
    subscriptions: Vec<SubscriptionView>,
    csrf: String,
}

/// The notice after a redirect to `/profile?done=…` (subscription made from a product page).
pub fn done_notice(code: &str) -> Option<Notice> {
    match code {
        "subscribed" => Some(Notice::ok(
            "Subscribed: your keys are below (select Show keys).",
        )),
        "submitted" => Some(Notice::ok(
            "Subscription requested: it becomes active when an administrator approves it.",
        )),
        _ => None,
    }
}

/// The subscriptions section of the profile page, as HTML (escaped by its template).
pub fn section(v: &Visitor, reveal: Option<&str>) -> String {
    let Some(uid) = v.user_id() else {
        return String::new();
    };
    let subscriptions = v
        .config
        .subscriptions
        .iter()
        .filter(|s| s.owner.as_deref() == Some(uid))
        .map(|s| view(&v.config, s, reveal == Some(s.id.as_str())))
        .collect();
    Section {
        subscriptions,
        csrf: v.csrf.clone(),
    }
    .render()
    .unwrap_or_else(|e| {
        tracing::error!(error = %e, "portal: subscriptions section failed to render");
        String::new()
    })
}

fn view(config: &Config, s: &Subscription, reveal: bool) -> SubscriptionView {
    let scope = match gatehouse_model::Scope::parse(&s.scope) {
        Ok(gatehouse_model::Scope::Product(p)) => {
            let name = config
                .products
                .iter()
                .find(|x| x.id == p)
                .and_then(|x| x.display_name.clone());
            format!("Product: {}", name.unwrap_or(p))
        }
        Ok(gatehouse_model::Scope::Api(a)) => format!("API: {a}"),
        Ok(gatehouse_model::Scope::All) => "All APIs".to_string(),
        Err(_) => s.scope.clone(),
    };
    let live = matches!(
        s.state,
        SubscriptionState::Active | SubscriptionState::Submitted | SubscriptionState::Suspended
    );
    SubscriptionView {
        id: s.id.clone(),
        name: s.display_name.clone().unwrap_or_else(|| s.id.clone()),
        scope,
        state: format!("{:?}", s.state).to_lowercase(),
        live,
        keys: reveal.then(|| {
            (
                s.primary_key.expose().to_string(),
                s.secondary_key
                    .as_ref()
                    .map(|k| k.expose().to_string())
                    .unwrap_or_default(),
            )
        }),
    }
}

/// The user's own subscription `sid` (404 for anyone else's: ids are not secrets, but other
/// users' subscriptions are none of their business).
fn own<'c>(
    config: &'c mut Config,
    uid: &str,
    sid: &str,
) -> Result<&'c mut Subscription, PageError> {
    config
        .subscriptions
        .iter_mut()
        .find(|s| s.id == sid && s.owner.as_deref() == Some(uid))
        .ok_or_else(|| PageError::NotFound(format!("The subscription '{sid}'")))
}

async fn show(
    State(portal): State<Arc<Portal>>,
    v: Visitor,
    Path(sid): Path<String>,
) -> Result<Response, PageError> {
    let uid = v.require_user()?.id.clone();
    let mut config = (*v.config).clone();
    own(&mut config, &uid, &sid)?;
    Ok(profile::page(&portal, &v, None, Some(&sid)).await)
}

#[derive(Deserialize)]
struct KeyForm {
    #[serde(default)]
    key: String,
}

async fn regenerate(
    State(portal): State<Arc<Portal>>,
    v: Visitor,
    Path(sid): Path<String>,
    Form(form): Form<KeyForm>,
) -> Result<Response, PageError> {
    let user = v.require_user()?.clone();
    let which = match form.key.as_str() {
        "primary" | "secondary" => form.key.clone(),
        _ => {
            return Ok(profile::page(
                &portal,
                &v,
                Some(Notice::error("Choose the primary or the secondary key.")),
                None,
            )
            .await);
        }
    };
    let fresh = crate::sign::random_hex(16);
    if fresh.is_empty() {
        return Err(PageError::Internal("no randomness for a key".into()));
    }
    let summary = format!("regenerate the {which} key of subscription {sid}");
    crate::write::commit(
        &portal,
        &format!("portal:{}", user.email),
        &summary,
        |config| {
            let s = own(config, &user.id, &sid)?;
            if which == "primary" {
                s.primary_key = Secret::new(fresh.clone());
            } else {
                s.secondary_key = Some(Secret::new(fresh.clone()));
            }
            Ok(())
        },
    )
    .await?;
    tracing::info!(user = %user.id, subscription = %sid, key = %which, "portal: key regenerated");
    let v = refreshed(&portal, v).await?;
    let notice = Notice::ok(format!(
        "A new {which} key was made; the old one no longer works."
    ));
    Ok(profile::page(&portal, &v, Some(notice), Some(&sid)).await)
}

#[derive(Deserialize)]
struct NameForm {
    #[serde(default)]
    name: String,
}

async fn rename(
    State(portal): State<Arc<Portal>>,
    v: Visitor,
    Path(sid): Path<String>,
    Form(form): Form<NameForm>,
) -> Result<Response, PageError> {
    let user = v.require_user()?.clone();
    let name = form.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Ok(profile::page(
            &portal,
            &v,
            Some(Notice::error(
                "Give the subscription a name of 1 to 100 characters.",
            )),
            None,
        )
        .await);
    }
    crate::write::commit(
        &portal,
        &format!("portal:{}", user.email),
        &format!("rename subscription {sid}"),
        |config| {
            own(config, &user.id, &sid)?.display_name = Some(name.clone());
            Ok(())
        },
    )
    .await?;
    let v = refreshed(&portal, v).await?;
    Ok(profile::page(
        &portal,
        &v,
        Some(Notice::ok(format!("Renamed to “{name}”."))),
        None,
    )
    .await)
}

async fn cancel(
    State(portal): State<Arc<Portal>>,
    v: Visitor,
    Path(sid): Path<String>,
) -> Result<Response, PageError> {
    let user = v.require_user()?.clone();
    crate::write::commit(
        &portal,
        &format!("portal:{}", user.email),
        &format!("cancel subscription {sid}"),
        |config| {
            own(config, &user.id, &sid)?.state = SubscriptionState::Cancelled;
            Ok(())
        },
    )
    .await?;
    tracing::info!(user = %user.id, subscription = %sid, "portal: subscription cancelled");
    let v = refreshed(&portal, v).await?;
    Ok(profile::page(
        &portal,
        &v,
        Some(Notice::ok(
            "The subscription was cancelled; its keys no longer work.",
        )),
        None,
    )
    .await)
}

/// The visitor with the configuration just committed.
async fn refreshed(portal: &Portal, mut v: Visitor) -> Result<Visitor, PageError> {
    v.config = portal.config().await?;
    Ok(v)
}
