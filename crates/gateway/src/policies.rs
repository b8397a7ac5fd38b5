//! The policy documents of a config, loaded when a snapshot is compiled: every scope's XML is
//! parsed (named values substituted) and every operation's composition checked, so a document
//! that APIM would refuse refuses the whole config change, with the error's place in the file.
//! Each composition a request can meet (API, operation, product or none) that holds at least
//! one document is compiled once into a [`Pipeline`]; requests without policies pay nothing.

use crate::error::CompileError;
use gatehouse_model::Validated;
use gatehouse_policy::document::{
    Fragment, NamedValue, NamedValues, PolicyDocument, compose, parse_fragment, parse_policies,
    redact_named, resolve_fragments,
};
use gatehouse_policy::pipeline::Pipeline;
use std::collections::HashMap;
use std::sync::Arc;

/// (API index, operation index in the config, product index when the request came through a
/// product's subscription).
pub type PipelineKey = (usize, usize, Option<usize>);

/// The parsed documents by scope.
#[derive(Debug, Default)]
pub struct PolicySet {
    pub global: Option<PolicyDocument>,
    pub products: HashMap<String, PolicyDocument>,
    /// Per API (by index).
    pub apis: Vec<Option<PolicyDocument>>,
    /// Per API, per operation.
    pub operations: Vec<Vec<Option<PolicyDocument>>>,
    /// The compiled pipelines, only for compositions with at least one document.
    pub pipelines: HashMap<PipelineKey, Arc<Pipeline>>,
    /// The values of the secret named values: a request's policies keep them out of error
    /// messages, logs and traces.
    pub secrets: Arc<[String]>,
}

impl PolicySet {
    /// The pipeline a request runs, if any scope of its composition has a document.
    pub fn pipeline(
        &self,
        api: usize,
        operation: usize,
        product: Option<usize>,
    ) -> Option<&Arc<Pipeline>> {
        if self.pipelines.is_empty() {
            return None;
        }
        self.pipelines.get(&(api, operation, product))
    }
}

/// A config error about policies, with secret named values shown as `{{name}}`: the reload
/// report and the log print it.
fn compile_error(path: String, message: String, named: &NamedValues) -> CompileError {
    CompileError {
        path,
        message: redact_named(message, named),
    }
}

fn parse(
    path: &str,
    xml: Option<&String>,
    named: &NamedValues,
    fragments: &HashMap<String, Fragment>,
) -> Result<Option<PolicyDocument>, CompileError> {
    let Some(xml) = xml else { return Ok(None) };
    let doc = parse_policies(path, xml, Some(named)).map_err(|errors| {
        let message = errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("; ");
        compile_error(path.to_string(), message, named)
    })?;
    // Fragments are expanded where they are included, once per document.
    resolve_fragments(&doc, fragments)
        .map(Some)
        .map_err(|e| compile_error(path.to_string(), e.to_string(), named))
}

/// The `policies.fragments` documents by id.
fn fragments(
    v: &Validated,
    named: &NamedValues,
) -> Result<HashMap<String, Fragment>, CompileError> {
    let mut out = HashMap::new();
    for (id, xml) in &v.config.policies.fragments {
        let path = format!("policies.fragments.{id}");
        let fragment = parse_fragment(&path, xml, Some(named)).map_err(|errors| {
            let message = errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ");
            compile_error(path.clone(), message, named)
        })?;
        out.insert(id.clone(), fragment);
    }
    Ok(out)
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
    let fragments = fragments(v, &named)?;
    let secrets: Arc<[String]> = named
        .values()
        .filter(|nv| nv.secret && !nv.value.is_empty())
        .map(|nv| nv.value.clone())
        .collect();
    let mut set = PolicySet {
        secrets,
        global: parse(
            "policies.global",
            cfg.policies.global.as_ref(),
            &named,
            &fragments,
        )?,
        ..PolicySet::default()
    };
    for (i, p) in cfg.products.iter().enumerate() {
        if let Some(doc) = parse(
            &format!("products[{i}].policies"),
            p.policies.as_ref(),
            &named,
            &fragments,
        )? {
            set.products.insert(p.id.clone(), doc);
        }
    }
    for (i, api) in cfg.apis.iter().enumerate() {
        set.apis.push(parse(
            &format!("apis[{i}].policies"),
            api.policies.as_ref(),
            &named,
            &fragments,
        )?);
        let mut ops = Vec::with_capacity(api.operations.len());
        for (j, op) in api.operations.iter().enumerate() {
            ops.push(parse(
                &format!("apis[{i}].operations[{j}].policies"),
                op.policies.as_ref(),
                &named,
                &fragments,
            )?);
        }
        set.operations.push(ops);
    }
    // Every composition a request could meet: without a product, and through each product
    // that includes the API.
    let mut pipelines = HashMap::new();
    for (i, api) in cfg.apis.iter().enumerate() {
        let products: Vec<(Option<usize>, Option<&PolicyDocument>)> = std::iter::once((None, None))
            .chain(
                cfg.products
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.apis.contains(&api.id))
                    .map(|(k, p)| (Some(k), set.products.get(&p.id))),
            )
            .collect();
        for (j, op) in set.operations[i].iter().enumerate() {
            for (k, product) in &products {
                let composed = compose(
                    set.global.as_ref(),
                    *product,
                    set.apis[i].as_ref(),
                    op.as_ref(),
                )
                .map_err(|e| {
                    compile_error(
                        format!("apis[{i}].operations[{j}].policies"),
                        e.to_string(),
                        &named,
                    )
                })?;
                let any = set.global.is_some()
                    || product.is_some()
                    || set.apis[i].is_some()
                    || op.is_some();
                if !any {
                    continue;
                }
                let pipeline = Pipeline::compile(&composed).map_err(|e| {
                    compile_error(
                        error_path(i, j, *k, &set, op.is_some()),
                        e.to_string(),
                        &named,
                    )
                })?;
                pipelines.insert((i, j, *k), Arc::new(pipeline));
            }
        }
    }
    set.pipelines = pipelines;
    Ok(set)
}

/// The config path to blame for a pipeline that does not compile: the most specific scope
/// with a document (the error message names the element's path inside the composition).
fn error_path(i: usize, j: usize, product: Option<usize>, set: &PolicySet, op: bool) -> String {
    if op {
        format!("apis[{i}].operations[{j}].policies")
    } else if set.apis[i].is_some() {
        format!("apis[{i}].policies")
    } else if let Some(k) = product {
        format!("products[{k}].policies")
    } else {
        "policies.global".to_string()
    }
}
