//! The policy documents of a config, loaded when a snapshot is compiled: every scope's XML is
//! parsed (named values substituted) and every operation's composition checked, so a document
//! that APIM would refuse refuses the whole config change, with the error's place in the file.
//! The pipeline that runs them per request is the policy engine's next step.

use crate::error::CompileError;
use gatehouse_model::Validated;
use gatehouse_policy::document::{
    NamedValue, NamedValues, PolicyDocument, compose, parse_policies,
};
use std::collections::HashMap;

/// The parsed documents by scope.
#[derive(Debug, Default)]
pub struct PolicySet {
    pub global: Option<PolicyDocument>,
    pub products: HashMap<String, PolicyDocument>,
    /// Per API (by index).
    pub apis: Vec<Option<PolicyDocument>>,
    /// Per API, per operation.
    pub operations: Vec<Vec<Option<PolicyDocument>>>,
}

fn parse(
    path: &str,
    xml: Option<&String>,
    named: &NamedValues,
) -> Result<Option<PolicyDocument>, CompileError> {
    let Some(xml) = xml else { return Ok(None) };
    parse_policies(path, xml, Some(named))
        .map(Some)
        .map_err(|errors| CompileError {
            path: path.to_string(),
            message: errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        })
}

pub fn load(v: &Validated) -> Result<PolicySet, CompileError> {
    let cfg = &v.config;
    let named: NamedValues = cfg
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
    let mut set = PolicySet {
        global: parse("policies.global", cfg.policies.global.as_ref(), &named)?,
        ..PolicySet::default()
    };
    for (i, p) in cfg.products.iter().enumerate() {
        if let Some(doc) = parse(
            &format!("products[{i}].policies"),
            p.policies.as_ref(),
            &named,
        )? {
            set.products.insert(p.id.clone(), doc);
        }
    }
    for (i, api) in cfg.apis.iter().enumerate() {
        set.apis.push(parse(
            &format!("apis[{i}].policies"),
            api.policies.as_ref(),
            &named,
        )?);
        let mut ops = Vec::with_capacity(api.operations.len());
        for (j, op) in api.operations.iter().enumerate() {
            ops.push(parse(
                &format!("apis[{i}].operations[{j}].policies"),
                op.policies.as_ref(),
                &named,
            )?);
        }
        set.operations.push(ops);
    }
    // Every composition a request could meet: without a product, and through each product
    // that includes the API.
    for (i, api) in cfg.apis.iter().enumerate() {
        let products: Vec<Option<&PolicyDocument>> = std::iter::once(None)
            .chain(
                cfg.products
                    .iter()
                    .filter(|p| p.apis.contains(&api.id))
                    .map(|p| set.products.get(&p.id)),
            )
            .collect();
        for (j, op) in set.operations[i].iter().enumerate() {
            for product in &products {
                compose(
                    set.global.as_ref(),
                    *product,
                    set.apis[i].as_ref(),
                    op.as_ref(),
                )
                .map_err(|e| CompileError {
                    path: format!("apis[{i}].operations[{j}].policies"),
                    message: e.to_string(),
                })?;
            }
        }
    }
    Ok(set)
}
