//! The policy documents of a config, compiled when a snapshot is compiled: this module only
//! fills the policy crate's input from the config and keeps what comes back. Parsing,
//! composition and compilation — and the errors, with their place in the file — belong to
//! `gatehouse_policy::config` (crates/policy/src/config.rs).

use gatehouse_model::Validated;
use gatehouse_policy::config::{
    ApiPolicies, ConfigPolicies, ConfigPolicyError, ProductPolicies, compile_config,
};
use gatehouse_policy::document::{NamedValue, NamedValues};

/// The parsed documents by scope and the compiled pipelines of a snapshot.
pub type PolicySet = gatehouse_policy::config::CompiledPolicies;

/// Compiles the policies of `v`; a document APIM would refuse refuses the whole config change.
pub fn load(v: &Validated) -> Result<PolicySet, ConfigPolicyError> {
    let cfg = &v.config;
    let named_values: NamedValues = cfg
        .named_values
        .iter()
        .map(|n| {
            (
                n.id.clone(),
                NamedValue {
                    value: n.value.expose().to_string(),
                    secret: n.secret,
                },
            )
        })
        .collect();
    let input = ConfigPolicies {
        global: cfg.policies.global.as_deref(),
        fragments: cfg
            .policies
            .fragments
            .iter()
            .map(|(id, xml)| (id.as_str(), xml.as_str()))
            .collect(),
        products: cfg
            .products
            .iter()
            .map(|p| ProductPolicies {
                id: &p.id,
                policies: p.policies.as_deref(),
                apis: p.apis.iter().map(String::as_str).collect(),
            })
            .collect(),
        apis: cfg
            .apis
            .iter()
            .map(|api| ApiPolicies {
                id: &api.id,
                policies: api.policies.as_deref(),
                operations: api
                    .operations
                    .iter()
                    .map(|op| op.policies.as_deref())
                    .collect(),
            })
            .collect(),
        named_values,
    };
    compile_config(&input)
}
