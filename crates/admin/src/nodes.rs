//! `GET gatehouse/nodes` (gatehouse's own: the gateway nodes and whether they are alive) and
//! APIM's `networkstatus` answered per location from what the nodes reported
//! (NetworkStatus_ListByService and NetworkStatus_ListByLocation).

use crate::dispatch::Ctx;
use crate::error::ApiError;
use crate::write::backing_error;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

/// A node whose last heartbeat is younger than this is `online` (nodes beat every 2 s:
/// crates/cli/src/heartbeat.rs).
pub const ONLINE_WITHIN: Duration = Duration::from_secs(10);

fn state(age: Duration) -> &'static str {
    if age < ONLINE_WITHIN {
        "online"
    } else {
        "offline"
    }
}

/// `GET gatehouse/nodes`: `{value: [{name, location, appliedRevision, lastHeartbeat, state}],
/// count}`.
pub(crate) async fn nodes_list(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let nodes = ctx.st.api.backing.nodes().await.map_err(backing_error)?;
    let value: Vec<Value> = nodes
        .iter()
        .map(|n| {
            json!({
                "name": n.name,
                "location": n.location,
                "appliedRevision": n.applied_revision,
                "lastHeartbeat": n.last_heartbeat,
                "state": state(n.heartbeat_age),
            })
        })
        .collect();
    Ok(axum::Json(json!({"count": value.len(), "value": value, "nextLink": null})).into_response())
}

/// Location → networkStatus: from the online nodes' reports (the freshest per location), then
/// the answering node's own live status over its location's entry.
async fn by_location(ctx: &Ctx<'_>) -> Result<BTreeMap<String, Value>, ApiError> {
    let mut nodes = ctx.st.api.backing.nodes().await.map_err(backing_error)?;
    // Oldest first, so the freshest report of a location is written last.
    nodes.sort_by_key(|n| std::cmp::Reverse(n.heartbeat_age));
    let mut out = BTreeMap::new();
    let own = ctx.st.api.node.network_status().await;
    let reports = nodes
        .iter()
        .filter(|n| n.heartbeat_age < ONLINE_WITHIN)
        .map(|n| &n.network_status)
        .chain(std::iter::once(&own));
    for report in reports {
        for entry in report.as_array().into_iter().flatten() {
            if let (Some(location), Some(status)) =
                (entry["location"].as_str(), entry.get("networkStatus"))
            {
                out.insert(location.to_string(), status.clone());
            }
        }
    }
    Ok(out)
}

/// `GET networkstatus`: `[{location, networkStatus}]`, one entry per location.
pub(crate) async fn network_status(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let list: Vec<Value> = by_location(ctx)
        .await?
        .into_iter()
        .map(|(location, status)| json!({"location": location, "networkStatus": status}))
        .collect();
    Ok(axum::Json(Value::Array(list)).into_response())
}

/// `GET locations/{location}/networkstatus`: that location's networkStatus
/// (`{dnsServers, connectivityStatus}`); 404 when no node serves it.
pub(crate) async fn network_status_of(ctx: &Ctx<'_>, location: &str) -> Result<Response, ApiError> {
    let mut all = by_location(ctx).await?;
    // Azure's location names compare without case ("West Europe" vs "westeurope" aside).
    let key = all
        .keys()
        .find(|k| k.eq_ignore_ascii_case(location))
        .cloned();
    match key.and_then(|k| all.remove(&k)) {
        Some(status) => Ok(axum::Json(status).into_response()),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!(
                "no node reports location {location:?}; known: {}",
                all.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ten_seconds_make_a_node_offline() {
        use std::time::Duration;
        assert_eq!(super::state(Duration::from_secs(3)), "online");
        assert_eq!(super::state(Duration::from_secs(10)), "offline");
    }
}
