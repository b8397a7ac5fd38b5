//! Every write: the change applied to a clone of the current config, the WHOLE candidate
//! checked, problems mapped onto ARM property paths, then committed with the revision read.
//! On a conflict the current config is re-read and the precondition (If-Match) re-checked,
//! so of two writers holding the same ETag exactly one wins and the other gets 412.

use crate::backing::{BackingError, Problem};
use crate::dispatch::State;
use crate::error::{ApiError, Detail};
use crate::resources::Item;
use gatehouse_model::Config;
use http::StatusCode;

/// Attempts before a write gives up on a store that keeps moving.
const ATTEMPTS: usize = 5;

pub fn backing_error(e: BackingError) -> ApiError {
    match e {
        BackingError::Conflict { current } => ApiError::new(
            StatusCode::CONFLICT,
            "Conflict",
            format!("another change was committed first (revision {current}); retry"),
        ),
        BackingError::ReadOnly(msg) => {
            ApiError::new(StatusCode::CONFLICT, "ConfigurationReadOnly", msg)
        }
        BackingError::Store(e) => {
            tracing::error!(error = %e, "management API: store failed");
            ApiError::internal("the configuration store failed; see the node's log")
        }
    }
}

/// `apis[2].operations[0].url_template` → `properties.urlTemplate` when it lies in the written
/// resource; any other path is kept as the config path.
pub fn target_for(
    problem: &Problem,
    location: Option<&(String, &'static [(&'static str, &'static str)])>,
) -> String {
    if let Some((prefix, fields)) = location
        && let Some(rest) = problem.path.strip_prefix(prefix.as_str())
    {
        let rest = rest.strip_prefix('.').unwrap_or(rest);
        for (field, arm) in fields.iter() {
            let hit = if field.is_empty() {
                rest.is_empty() || rest.starts_with('[')
            } else {
                rest == *field
                    || rest.starts_with(&format!("{field}."))
                    || rest.starts_with(&format!("{field}["))
            };
            if hit && (field.is_empty() || !rest.is_empty()) {
                return (*arm).to_string();
            }
        }
    }
    problem.path.clone()
}

impl State {
    /// Applies `change` (which may refuse with its own error) after `precondition` holds on
    /// the current config, checks, commits; returns the committed candidate and the change's value.
    pub async fn write<R>(
        &self,
        actor: &str,
        summary: &str,
        item: Option<&Item>,
        precondition: &(dyn Fn(&Config) -> Result<(), ApiError> + Send + Sync),
        change: &(dyn Fn(&mut Config) -> Result<R, ApiError> + Send + Sync),
    ) -> Result<(Config, R), ApiError> {
        let _guard = self.write_lock.lock().await;
        let mut last = None;
        for _ in 0..ATTEMPTS {
            let current = self.api.backing.current().await.map_err(backing_error)?;
            precondition(&current.config)?;
            let mut candidate = (*current.config).clone();
            let value = change(&mut candidate)?;
            if let Err(problems) = (self.api.checker)(&candidate) {
                let location = item.and_then(|i| i.config_location(&candidate));
                let mut e = ApiError::bad_request("One or more fields contain incorrect values:");
                e.details = problems
                    .iter()
                    .map(|p| Detail {
                        code: "ValidationError".into(),
                        target: target_for(p, location.as_ref()),
                        message: p.message.clone(),
                    })
                    .collect();
                return Err(e);
            }
            match self
                .api
                .backing
                .commit(candidate.clone(), current.revision, actor, summary)
                .await
            {
                Ok(revision) => {
                    tracing::info!(actor, summary, revision, "management API: committed");
                    return Ok((candidate, value));
                }
                Err(BackingError::Conflict { current }) => {
                    tracing::debug!(current, "management API: conflict, retrying");
                    last = Some(BackingError::Conflict { current });
                }
                Err(e) => return Err(backing_error(e)),
            }
        }
        Err(backing_error(
            last.unwrap_or(BackingError::Conflict { current: 0 }),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_inside_the_resource_only() {
        let loc = (
            "apis[2].operations[0]".to_string(),
            crate::resources::apis::OP_FIELDS,
        );
        let p = |s: &str| Problem {
            path: s.into(),
            message: String::new(),
        };
        assert_eq!(
            target_for(&p("apis[2].operations[0].url_template"), Some(&loc)),
            "properties.urlTemplate"
        );
        assert_eq!(
            target_for(&p("apis[2].operations[1].url_template"), Some(&loc)),
            "apis[2].operations[1].url_template"
        );
        assert_eq!(
            target_for(&p("subscriptions[0].scope"), Some(&loc)),
            "subscriptions[0].scope"
        );
        let pol = (
            "apis[0].policies".to_string(),
            &[("", "properties.value")] as &[(&str, &str)],
        );
        assert_eq!(
            target_for(&p("apis[0].policies"), Some(&pol)),
            "properties.value"
        );
    }
}
