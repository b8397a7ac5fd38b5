//! A config's policies, from documents to pipelines, in one call: every scope's XML is parsed
//! (named values substituted, fragments expanded), every composition a request can meet (API,
//! operation, product or none) is composed and, when it holds at least one document, compiled
//! once into a [`Pipeline`]; requests without policies pay nothing. The gateway fills a
//! [`ConfigPolicies`] from its config (crates/gateway/src/policies.rs) and stores the
//! [`CompiledPolicies`]; this crate knows nothing of the config model.
//!
//! An error keeps every field of the policy error (file, line, column, policy, element path)
//! next to the config path it belongs to, so `gatehouse config validate --json` and the reload
//! report can show them apart (crates/cli/src/main.rs, crates/cli/src/reload.rs).

use crate::document::{
    Fragment, NamedValues, PolicyDocument, PolicyError, compose, parse_fragment, parse_policies,
    redact_named, resolve_fragments,
};
use crate::pipeline::{self, Pipeline};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// The policy documents of a config, as plain text by scope.
#[derive(Debug, Default)]
pub struct ConfigPolicies<'a> {
    /// `policies.global`.
    pub global: Option<&'a str>,
    /// `policies.fragments`, by id, in the config's order.
    pub fragments: Vec<(&'a str, &'a str)>,
    /// `products[k]`, in the config's order.
    pub products: Vec<ProductPolicies<'a>>,
    /// `apis[i]`, in the config's order.
    pub apis: Vec<ApiPolicies<'a>>,
    /// `named_values`, substituted into every document.
    pub named_values: NamedValues,
}

/// One product: its document and the ids of the APIs it includes.
#[derive(Debug, Default)]
pub struct ProductPolicies<'a> {
    pub id: &'a str,
    pub policies: Option<&'a str>,
    pub apis: Vec<&'a str>,
}

/// One API: its document and its operations' documents (by index).
#[derive(Debug, Default)]
pub struct ApiPolicies<'a> {
    pub id: &'a str,
    pub policies: Option<&'a str>,
    pub operations: Vec<Option<&'a str>>,
}

/// (API index, operation index in the config, product index when the request came through a
/// product's subscription).
pub type PipelineKey = (usize, usize, Option<usize>);

/// The parsed documents by scope and the compiled pipelines.
#[derive(Debug, Default)]
pub struct CompiledPolicies {
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

impl CompiledPolicies {
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

/// One problem with a config's policies: a document's (parse, fragment, composition) or a
/// pipeline's (compile). Each keeps its own display text; the accessors give the fields.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyProblem {
    #[error(transparent)]
    Document(PolicyError),
    #[error(transparent)]
    Pipeline(pipeline::CompileError),
}

impl PolicyProblem {
    /// The document's name (the config path it was read from); `None` for a pipeline error,
    /// whose elements may come from several scopes.
    pub fn file(&self) -> Option<&str> {
        match self {
            PolicyProblem::Document(e) => Some(&e.file),
            PolicyProblem::Pipeline(_) => None,
        }
    }

    /// 1-based line in the document.
    pub fn line(&self) -> u32 {
        match self {
            PolicyProblem::Document(e) => e.line,
            PolicyProblem::Pipeline(e) => e.line,
        }
    }

    /// 1-based column (in characters) in the document.
    pub fn column(&self) -> u32 {
        match self {
            PolicyProblem::Document(e) => e.column,
            PolicyProblem::Pipeline(e) => e.column,
        }
    }

    /// `syntax`, `attribute`, `expression` or `unsupported`.
    pub fn kind(&self) -> String {
        match self {
            PolicyProblem::Document(e) => e.kind.to_string(),
            PolicyProblem::Pipeline(e) => e.kind.to_string(),
        }
    }

    /// The policy (element) concerned, when known.
    pub fn policy(&self) -> Option<&str> {
        match self {
            PolicyProblem::Document(e) => e.policy.as_deref(),
            PolicyProblem::Pipeline(e) => Some(&e.policy),
        }
    }

    /// e.g. `policies/inbound/choose/when[2]`; empty when the XML itself did not parse.
    pub fn element_path(&self) -> &str {
        match self {
            PolicyProblem::Document(e) => &e.element_path,
            PolicyProblem::Pipeline(e) => &e.path,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            PolicyProblem::Document(e) => &e.message,
            PolicyProblem::Pipeline(e) => &e.message,
        }
    }

    /// The fields as one JSON object, for machine-readable reports.
    pub fn to_json(&self, config_path: &str) -> serde_json::Value {
        serde_json::json!({
            "path": config_path,
            "file": self.file(),
            "line": self.line(),
            "column": self.column(),
            "kind": self.kind(),
            "policy": self.policy(),
            "element_path": self.element_path(),
            "message": self.message(),
        })
    }

    /// The same problem with every secret named value shown as `{{name}}`.
    fn redacted(self, named: &NamedValues) -> PolicyProblem {
        let r = |s: String| redact_named(s, named);
        match self {
            PolicyProblem::Document(mut e) => {
                e.message = r(e.message);
                e.element_path = r(e.element_path);
                e.policy = e.policy.map(r);
                PolicyProblem::Document(e)
            }
            PolicyProblem::Pipeline(mut e) => {
                e.message = r(e.message);
                e.path = r(e.path);
                e.policy = r(e.policy);
                PolicyProblem::Pipeline(e)
            }
        }
    }
}

/// A config whose policies do not compile: the config path to blame (`apis[2].policies`) and
/// every problem found there (a document that does not parse reports all its errors). The
/// display is `{path}: {problem}; {problem}…`; no message holds a secret named value's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {}", Joined(.problems))]
pub struct ConfigPolicyError {
    pub path: String,
    pub problems: Vec<PolicyProblem>,
}

impl ConfigPolicyError {
    fn new(path: String, problems: Vec<PolicyProblem>, named: &NamedValues) -> Self {
        ConfigPolicyError {
            path,
            problems: problems.into_iter().map(|p| p.redacted(named)).collect(),
        }
    }

    /// One JSON object per problem, each with the config path.
    pub fn to_json(&self) -> Vec<serde_json::Value> {
        self.problems
            .iter()
            .map(|p| p.to_json(&self.path))
            .collect()
    }
}

struct Joined<'a>(&'a [PolicyProblem]);

impl fmt::Display for Joined<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

fn document_errors(errors: Vec<PolicyError>) -> Vec<PolicyProblem> {
    errors.into_iter().map(PolicyProblem::Document).collect()
}

fn parse(
    path: &str,
    xml: Option<&str>,
    named: &NamedValues,
    fragments: &HashMap<String, Fragment>,
) -> Result<Option<PolicyDocument>, ConfigPolicyError> {
    let Some(xml) = xml else { return Ok(None) };
    let doc = parse_policies(path, xml, Some(named))
        .map_err(|errors| ConfigPolicyError::new(path.into(), document_errors(errors), named))?;
    // Fragments are expanded where they are included, once per document.
    resolve_fragments(&doc, fragments)
        .map(Some)
        .map_err(|e| ConfigPolicyError::new(path.into(), vec![PolicyProblem::Document(e)], named))
}

/// The `policies.fragments` documents by id.
fn fragments(input: &ConfigPolicies<'_>) -> Result<HashMap<String, Fragment>, ConfigPolicyError> {
    let named = &input.named_values;
    let mut out = HashMap::new();
    for (id, xml) in &input.fragments {
        let path = format!("policies.fragments.{id}");
        let fragment = parse_fragment(&path, xml, Some(named)).map_err(|errors| {
            ConfigPolicyError::new(path.clone(), document_errors(errors), named)
        })?;
        out.insert(id.to_string(), fragment);
    }
    Ok(out)
}

/// Parses, composes and compiles every policy document of a config. The first scope in
/// error refuses the whole config (a config change is all or nothing).
pub fn compile_config(input: &ConfigPolicies<'_>) -> Result<CompiledPolicies, ConfigPolicyError> {
    let named = &input.named_values;
    let fragments = fragments(input)?;
    let secrets: Arc<[String]> = named
        .values()
        .filter(|nv| nv.secret && !nv.value.is_empty())
        .map(|nv| nv.value.clone())
        .collect();
    let mut set = CompiledPolicies {
        secrets,
        global: parse("policies.global", input.global, named, &fragments)?,
        ..CompiledPolicies::default()
    };
    for (k, p) in input.products.iter().enumerate() {
        if let Some(doc) = parse(
            &format!("products[{k}].policies"),
            p.policies,
            named,
            &fragments,
        )? {
            set.products.insert(p.id.to_string(), doc);
        }
    }
    for (i, api) in input.apis.iter().enumerate() {
        set.apis.push(parse(
            &format!("apis[{i}].policies"),
            api.policies,
            named,
            &fragments,
        )?);
        let mut ops = Vec::with_capacity(api.operations.len());
        for (j, op) in api.operations.iter().enumerate() {
            ops.push(parse(
                &format!("apis[{i}].operations[{j}].policies"),
                *op,
                named,
                &fragments,
            )?);
        }
        set.operations.push(ops);
    }
    set.pipelines = pipelines(input, &set)?;
    Ok(set)
}

/// Every composition a request could meet: without a product, and through each product that
/// includes the API.
fn pipelines(
    input: &ConfigPolicies<'_>,
    set: &CompiledPolicies,
) -> Result<HashMap<PipelineKey, Arc<Pipeline>>, ConfigPolicyError> {
    let named = &input.named_values;
    let mut pipelines = HashMap::new();
    for (i, api) in input.apis.iter().enumerate() {
        let products: Vec<(Option<usize>, Option<&PolicyDocument>)> = std::iter::once((None, None))
            .chain(
                input
                    .products
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.apis.contains(&api.id))
                    .map(|(k, p)| (Some(k), set.products.get(p.id))),
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
                    ConfigPolicyError::new(
                        format!("apis[{i}].operations[{j}].policies"),
                        vec![PolicyProblem::Document(e)],
                        named,
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
                    ConfigPolicyError::new(
                        error_path(i, j, *k, set, op.is_some()),
                        vec![PolicyProblem::Pipeline(e)],
                        named,
                    )
                })?;
                pipelines.insert((i, j, *k), Arc::new(pipeline));
            }
        }
    }
    Ok(pipelines)
}

/// The config path to blame for a pipeline that does not compile: the most specific scope
/// with a document (the error message names the element's path inside the composition).
fn error_path(
    i: usize,
    j: usize,
    product: Option<usize>,
    set: &CompiledPolicies,
    op: bool,
) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::NamedValue;

    fn one_api(policies: &str) -> ConfigPolicies<'_> {
        ConfigPolicies {
            apis: vec![ApiPolicies {
                id: "a",
                policies: Some(policies),
                operations: vec![None],
            }],
            ..ConfigPolicies::default()
        }
    }

    #[test]
    fn no_documents_no_pipelines() {
        let input = ConfigPolicies {
            apis: vec![ApiPolicies {
                id: "a",
                policies: None,
                operations: vec![None, None],
            }],
            ..ConfigPolicies::default()
        };
        let set = compile_config(&input).expect("compiles");
        assert!(set.pipelines.is_empty());
        assert!(set.pipeline(0, 0, None).is_none());
    }

    #[test]
    fn product_compositions_are_compiled() {
        let mut input = one_api("<policies><inbound><base /></inbound></policies>");
        input.products.push(ProductPolicies {
            id: "p",
            policies: None,
            apis: vec!["a"],
        });
        let set = compile_config(&input).expect("compiles");
        assert!(set.pipeline(0, 0, None).is_some());
        assert!(set.pipeline(0, 0, Some(0)).is_some());
    }

    #[test]
    fn a_parse_error_keeps_its_place_and_hides_secrets() {
        let mut input = one_api(
            "<policies>\n  <inbound>\n    <set-header name=\"{{s}}\" exists-action=\"nope\" />\n  </inbound>\n</policies>",
        );
        input.named_values.insert(
            "s".into(),
            NamedValue {
                value: "hidden-value".into(),
                secret: true,
            },
        );
        let err = compile_config(&input).expect_err("refused");
        assert_eq!(err.path, "apis[0].policies");
        let p = &err.problems[0];
        assert_eq!(p.file(), Some("apis[0].policies"));
        assert_eq!((p.line(), p.column()), (3, 30));
        assert_eq!(p.policy(), Some("set-header"));
        let shown = err.to_string();
        assert!(
            shown.starts_with("apis[0].policies: apis[0].policies:3:30: "),
            "{shown}"
        );
        assert!(!shown.contains("hidden-value"), "{shown}");
        let json = err.to_json();
        assert_eq!(json[0]["line"], 3);
        assert_eq!(json[0]["column"], 30);
    }
}
