//! Subscribing to a product from its page: a subscription named by the user, `submitted` until
//! approved when the product requires approval, refused past the product's `subscriptions_limit`.
//! One store commit, the same the management API makes: the keys work at the gateway as soon as
//! the node applies it.

use crate::page::{Notice, PageError};
use crate::session::Visitor;
use crate::sign;
use crate::state::Portal;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use gatehouse_model::{Secret, Subscription, SubscriptionState};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize)]
pub struct SubscribeForm {
    #[serde(default)]
    name: String,
}

/// Why a subscription cannot be made, as the product page says it.
fn refusal(v: &Visitor, product: &str) -> Option<String> {
    let p = v.config.products.iter().find(|p| p.id == product)?;
    if !p.subscription_required {
        return Some("This product is open: its APIs need no subscription key.".into());
    }
    let uid = v.user_id()?;
    let mine = crate::views::live_subscriptions(&v.config, uid, product);
    match p.subscriptions_limit {
        Some(limit) if mine >= limit as usize => Some(format!(
            "You already have {mine} subscription(s) to this product, its limit is {limit}."
        )),
        _ => None,
    }
}

pub async fn subscribe(
    State(portal): State<Arc<Portal>>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<SubscribeForm>,
) -> Result<Response, PageError> {
    let user = v.require_user()?.clone();
    // Only a product the user may see (404 otherwise, as if it did not exist).
    crate::catalogue::visible_products(&v.config, &v.groups)
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(|| PageError::NotFound(format!("The product '{id}'")))?;
    let name = form.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        let notice = Notice::error("Give the subscription a name of 1 to 100 characters.");
        return crate::catalogue::product_page(&v, &id, Some(notice), name);
    }
    if let Some(why) = refusal(&v, &id) {
        return crate::catalogue::product_page(&v, &id, Some(Notice::error(why)), name);
    }
    let sub_id = format!("{}-{}", id, &sign::random_hex(6));
    let (primary, secondary) = (sign::random_hex(16), sign::random_hex(16));
    if primary.is_empty() || secondary.is_empty() {
        return Err(PageError::Internal(
            "no randomness for subscription keys".into(),
        ));
    }
    let actor = format!("portal:{}", user.email);
    let state = crate::write::commit(
        &portal,
        &actor,
        &format!("subscribe to product {id}"),
        |config| {
            // Checked again on the config being committed: another subscription may have landed.
            let p = config
                .products
                .iter()
                .find(|p| p.id == id)
                .ok_or_else(|| PageError::NotFound(format!("The product '{id}'")))?;
            let mine = crate::views::live_subscriptions(config, &user.id, &id);
            if let Some(limit) = p.subscriptions_limit
                && mine >= limit as usize
            {
                return Err(PageError::Refused(format!(
                    "the product allows {limit} subscription(s) per user"
                )));
            }
            let state = if p.approval_required {
                SubscriptionState::Submitted
            } else {
                SubscriptionState::Active
            };
            config.subscriptions.push(Subscription {
                id: sub_id.clone(),
                display_name: Some(name.clone()),
                scope: format!("product/{id}"),
                owner: Some(user.id.clone()),
                primary_key: Secret::new(primary.clone()),
                secondary_key: Some(Secret::new(secondary.clone())),
                state,
            });
            Ok(state)
        },
    )
    .await?;
    tracing::info!(user = %user.id, product = %id, subscription = %sub_id, ?state, "portal: subscribed");
    let done = if state == SubscriptionState::Submitted {
        "submitted"
    } else {
        "subscribed"
    };
    Ok(Redirect::to(&format!("/profile?done={done}")).into_response())
}
