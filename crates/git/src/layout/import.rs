//! Files → the candidate config (see [`super`] for the layout). Every problem is collected,
//! not just the first, each with its file and, where known, its line.

use super::paths::{self, Place};
use super::text::{json, json_key_line, line_of, problem, properties, utf8, yaml_line};
use super::{FileProblem, Files, MAX_FILE_BYTES, MAX_TREE_BYTES, spec};
use gatehouse_admin::error::ApiError;
use gatehouse_admin::resources::props::Props;
use gatehouse_admin::resources::{apis, others};
use gatehouse_model::{Api, Backend, Config, NamedValue, Product};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// One file: its path and contents.
type Entry<'a> = (&'a str, &'a [u8]);

#[derive(Default)]
struct ApiDir<'a> {
    info: Vec<Entry<'a>>,
    spec: Vec<Entry<'a>>,
    policy: Vec<Entry<'a>>,
    ops: BTreeMap<&'a str, Entry<'a>>,
}

#[derive(Default)]
struct ProductDir<'a> {
    info: Vec<Entry<'a>>,
    apis: Vec<Entry<'a>>,
    api_links: Vec<(&'a str, Entry<'a>)>,
    groups: Vec<Entry<'a>>,
    group_links: Vec<(&'a str, Entry<'a>)>,
    policy: Vec<Entry<'a>>,
}

#[derive(Default)]
struct FragmentDir<'a> {
    info: Vec<Entry<'a>>,
    policy: Vec<Entry<'a>>,
}

/// The files sorted by place.
#[derive(Default)]
struct Tree<'a> {
    global: Vec<Entry<'a>>,
    apis: BTreeMap<&'a str, ApiDir<'a>>,
    products: BTreeMap<&'a str, ProductDir<'a>>,
    named_values: BTreeMap<&'a str, Vec<Entry<'a>>>,
    backends: BTreeMap<&'a str, Vec<Entry<'a>>>,
    fragments: BTreeMap<&'a str, FragmentDir<'a>>,
    network: Vec<Entry<'a>>,
    gateway: Vec<Entry<'a>>,
}

impl<'a> Tree<'a> {
    fn sort(files: &'a Files, ps: &mut Vec<FileProblem>) -> Tree<'a> {
        let mut t = Tree::default();
        for (path, bytes) in files {
            let e: Entry<'a> = (path.as_str(), bytes.as_slice());
            if bytes.len() > MAX_FILE_BYTES {
                ps.push(problem(
                    path,
                    None,
                    format!(
                        "the file is {} bytes; the largest accepted is {MAX_FILE_BYTES}",
                        bytes.len()
                    ),
                ));
                continue;
            }
            let Some(place) = paths::classify(path) else {
                ps.push(problem(
                    path,
                    None,
                    format!("unknown file '{path}'; the layout is {}", paths::LAYOUT),
                ));
                continue;
            };
            match place {
                Place::GlobalPolicy => t.global.push(e),
                Place::Network => t.network.push(e),
                Place::Gateway => t.gateway.push(e),
                Place::ApiInfo(a) => t.apis.entry(a).or_default().info.push(e),
                Place::ApiSpec(a) => t.apis.entry(a).or_default().spec.push(e),
                Place::ApiPolicy(a) => t.apis.entry(a).or_default().policy.push(e),
                Place::OperationPolicy(a, o) => {
                    t.apis.entry(a).or_default().ops.insert(o, e);
                }
                Place::ProductInfo(p) => t.products.entry(p).or_default().info.push(e),
                Place::ProductApis(p) => t.products.entry(p).or_default().apis.push(e),
                Place::ProductApi(p, a) => t.products.entry(p).or_default().api_links.push((a, e)),
                Place::ProductGroups(p) => t.products.entry(p).or_default().groups.push(e),
                Place::ProductGroup(p, g) => {
                    t.products.entry(p).or_default().group_links.push((g, e))
                }
                Place::ProductPolicy(p) => t.products.entry(p).or_default().policy.push(e),
                Place::NamedValue(n) => t.named_values.entry(n).or_default().push(e),
                Place::Backend(b) => t.backends.entry(b).or_default().push(e),
                Place::FragmentInfo(f) => t.fragments.entry(f).or_default().info.push(e),
                Place::FragmentPolicy(f) => t.fragments.entry(f).or_default().policy.push(e),
            }
        }
        t
    }
}

/// The one file of a place that two spellings may both give (`named values/` and
/// `namedValues/`, `specification.yaml` and `.json`): a second one is a problem.
fn one<'a>(entries: &[Entry<'a>], ps: &mut Vec<FileProblem>) -> Option<Entry<'a>> {
    let first = *entries.first()?;
    for (path, _) in &entries[1..] {
        ps.push(problem(
            path,
            None,
            format!("the same resource is also defined by '{}'", first.0),
        ));
    }
    Some(first)
}

/// A policy document's text.
fn xml(e: Option<Entry<'_>>, ps: &mut Vec<FileProblem>) -> Option<String> {
    let (path, bytes) = e?;
    match utf8(path, bytes) {
        Ok(t) => Some(t.to_string()),
        Err(p) => {
            ps.push(p);
            None
        }
    }
}

/// A management API conversion error, placed on the line of the property it names.
fn refused(file: &str, text: &str, e: ApiError) -> FileProblem {
    match e.details.first() {
        Some(d) => problem(
            file,
            json_key_line(text, &d.target),
            format!("{}: {}", d.target, d.message),
        ),
        None => problem(file, None, e.message),
    }
}

/// The management API writes `displayName` = the id when there is none; read back, that is
/// none again (the portal and the API show the id either way).
fn own_name(display: Option<String>, id: &str) -> Option<String> {
    display.filter(|d| d != id)
}

/// Items keep their place in the current config; new ones follow in the files' order (a push
/// that changes one resource moves nothing else, in the model or in the management API's lists).
fn ordered<T>(mut items: Vec<T>, id: impl Fn(&T) -> &str, current: &[&str]) -> Vec<T> {
    items.sort_by_key(|x| {
        current
            .iter()
            .position(|c| *c == id(x))
            .unwrap_or(usize::MAX)
    });
    items
}

/// The config the files describe; see [`super`].
pub fn import(files: &Files, current: &Config) -> Result<Config, Vec<FileProblem>> {
    let total: usize = files.values().map(Vec::len).sum();
    if total > MAX_TREE_BYTES {
        return Err(vec![problem(
            "/",
            None,
            format!("the tree holds {total} bytes; the largest accepted is {MAX_TREE_BYTES}"),
        )]);
    }
    let mut ps = Vec::new();
    let tree = Tree::sort(files, &mut ps);
    let mut c = current.clone();
    c.policies.global = xml(one(&tree.global, &mut ps), &mut ps);
    c.apis = read_apis(&tree, current, &mut ps);
    c.products = read_products(&tree, current, &mut ps);
    c.named_values = read_named_values(&tree, current, &mut ps);
    c.backends = read_backends(&tree, &mut ps);
    c.policies.fragments = read_fragments(&tree, &mut ps);
    c.network = section(one(&tree.network, &mut ps), &mut ps);
    c.gateway = section(one(&tree.gateway, &mut ps), &mut ps);
    if ps.is_empty() {
        tracing::debug!(
            apis = c.apis.len(),
            products = c.products.len(),
            files = files.len(),
            "configuration read from files"
        );
        Ok(c)
    } else {
        Err(ps)
    }
}

/// A directory's first file, for a problem that concerns the whole directory.
fn missing(dir: &str, first: Option<&str>, what: &str, ps: &mut Vec<FileProblem>) {
    ps.push(problem(
        first.unwrap_or(dir),
        None,
        format!("{dir} has no {what}: every resource directory needs one"),
    ));
}

fn read_apis(t: &Tree<'_>, current: &Config, ps: &mut Vec<FileProblem>) -> Vec<Api> {
    let mut out = Vec::new();
    for (id, d) in &t.apis {
        let Some((file, bytes)) = one(&d.info, ps) else {
            let first = d
                .spec
                .first()
                .or(d.policy.first())
                .or(d.ops.values().next());
            missing(
                &format!("apis/{id}"),
                first.map(|e| e.0),
                "apiInformation.json",
                ps,
            );
            continue;
        };
        let (props, text) = match properties(file, bytes, id) {
            Ok(x) => x,
            Err(p) => {
                ps.push(p);
                continue;
            }
        };
        if let Some(kind) = props.get("type").and_then(Value::as_str)
            && kind != "http"
        {
            ps.push(problem(
                file,
                line_of(&text, "\"type\""),
                format!("only HTTP APIs are served; this one is of type '{kind}'"),
            ));
            continue;
        }
        let mut api = match apis::api_from(id, &Props(&props), None) {
            Ok(a) => a,
            Err(e) => {
                ps.push(refused(file, &text, e));
                continue;
            }
        };
        api.display_name = own_name(api.display_name, id);
        let spec = match one(&d.spec, ps) {
            None => spec::Spec::default(),
            Some((f, b)) => match spec::read(f, b) {
                Ok(s) => s,
                Err(p) => {
                    ps.push(p);
                    continue;
                }
            },
        };
        let old: Vec<&str> = current
            .apis
            .iter()
            .find(|a| a.id == *id)
            .map(|a| a.operations.iter().map(|o| o.id.as_str()).collect())
            .unwrap_or_default();
        api.operations = ordered(spec.operations, |o| o.id.as_str(), &old);
        api.tags = spec.tags;
        api.schemas = spec.schemas;
        api.policies = xml(one(&d.policy, ps), ps);
        for (op, entry) in &d.ops {
            let found = api.operations.iter().position(|o| o.id == *op).or_else(|| {
                api.operations
                    .iter()
                    .position(|o| o.id.eq_ignore_ascii_case(op))
            });
            match found {
                Some(i) => api.operations[i].policies = xml(Some(*entry), ps),
                None => ps.push(problem(
                    entry.0,
                    None,
                    format!(
                        "operation '{op}' is not in {}: an operation policy needs its operation (operationId '{op}')",
                        d.spec.first().map(|s| s.0.to_string()).unwrap_or_else(|| paths::api_spec(id))
                    ),
                )),
            }
        }
        out.push(api);
    }
    let old: Vec<&str> = current.apis.iter().map(|a| a.id.as_str()).collect();
    ordered(out, |a| a.id.as_str(), &old)
}

/// `[{"name": "id"}, …]` (APIOps' `apis.json` / `groups.json`); plain strings are read too.
fn names(entry: Entry<'_>, ps: &mut Vec<FileProblem>) -> Vec<String> {
    let (file, bytes) = entry;
    let v = match json(file, bytes) {
        Ok(v) => v,
        Err(p) => {
            ps.push(p);
            return Vec::new();
        }
    };
    let Value::Array(items) = v else {
        ps.push(problem(
            file,
            Some(1),
            "must be a JSON array: [{\"name\": \"id\"}, …]",
        ));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, x) in items.iter().enumerate() {
        match x.get("name").and_then(Value::as_str).or(x.as_str()) {
            Some(n) => out.push(n.to_string()),
            None => ps.push(problem(
                file,
                None,
                format!("item {i} must be {{\"name\": \"id\"}}, not {x}"),
            )),
        }
    }
    out
}

/// The ids of a product's links: the list file first, then the per-link directories.
fn links(list: &[Entry<'_>], dirs: &[(&str, Entry<'_>)], ps: &mut Vec<FileProblem>) -> Vec<String> {
    let mut out: Vec<String> = one(list, ps).map(|e| names(e, ps)).unwrap_or_default();
    for (id, (file, bytes)) in dirs {
        // The link file's contents are ARM's empty contract; it must still be JSON.
        if let Err(p) = json(file, bytes) {
            ps.push(p);
        }
        if !out.iter().any(|x| x == id) {
            out.push(id.to_string());
        }
    }
    out
}

fn read_products(t: &Tree<'_>, current: &Config, ps: &mut Vec<FileProblem>) -> Vec<Product> {
    let mut out = Vec::new();
    for (id, d) in &t.products {
        let Some((file, bytes)) = one(&d.info, ps) else {
            let first = d
                .apis
                .first()
                .or(d.groups.first())
                .or(d.policy.first())
                .or(d.api_links.first().map(|x| &x.1))
                .or(d.group_links.first().map(|x| &x.1));
            missing(
                &format!("products/{id}"),
                first.map(|e| e.0),
                "productInformation.json",
                ps,
            );
            continue;
        };
        let (props, text) = match properties(file, bytes, id) {
            Ok(x) => x,
            Err(p) => {
                ps.push(p);
                continue;
            }
        };
        let mut p = match apis::product_from(id, &Props(&props), None) {
            Ok(p) => p,
            Err(e) => {
                ps.push(refused(file, &text, e));
                continue;
            }
        };
        p.display_name = own_name(p.display_name, id);
        p.apis = links(&d.apis, &d.api_links, ps);
        p.groups = links(&d.groups, &d.group_links, ps);
        p.policies = xml(one(&d.policy, ps), ps);
        out.push(p);
    }
    let old: Vec<&str> = current.products.iter().map(|p| p.id.as_str()).collect();
    ordered(out, |p| p.id.as_str(), &old)
}

fn read_named_values(t: &Tree<'_>, current: &Config, ps: &mut Vec<FileProblem>) -> Vec<NamedValue> {
    let mut out = Vec::new();
    for (id, entries) in &t.named_values {
        let Some((file, bytes)) = one(entries, ps) else {
            continue;
        };
        let (mut props, text) = match properties(file, bytes, id) {
            Ok(x) => x,
            Err(p) => {
                ps.push(p);
                continue;
            }
        };
        let secret = props.get("secret").and_then(Value::as_bool) == Some(true);
        let has_value = !props.get("value").is_none_or(Value::is_null);
        if secret && has_value {
            // Accepting it would leave the value in the repository's history for good.
            ps.push(problem(
                file,
                line_of(&text, "\"value\""),
                format!(
                    "secret named value '{id}' must not hold its value in the repository (it would stay in the history): remove \"value\" and set it through the management API (PUT namedValues/{id}); the stored value is kept"
                ),
            ));
            continue;
        }
        if secret {
            // A secret's value never enters the repository: the current one stays. The value is
            // only held in memory here, on its way into the candidate config.
            match current.named_values.iter().find(|n| n.id == *id) {
                Some(n) => {
                    props.insert("value".into(), json!(n.value.expose()));
                }
                None => {
                    ps.push(problem(
                        file,
                        line_of(&text, "\"secret\""),
                        format!(
                            "secret named value '{id}' has no stored value: create it through the management API (PUT namedValues/{id}) first; a secret's value never enters the repository"
                        ),
                    ));
                    continue;
                }
            }
        }
        match others::named_value_from(id, &Props(&props), None) {
            Ok(mut n) => {
                n.display_name = own_name(n.display_name, id);
                out.push(n);
            }
            Err(e) => ps.push(refused(file, &text, e)),
        }
    }
    let old: Vec<&str> = current.named_values.iter().map(|n| n.id.as_str()).collect();
    ordered(out, |n| n.id.as_str(), &old)
}

fn read_backends(t: &Tree<'_>, ps: &mut Vec<FileProblem>) -> BTreeMap<String, Backend> {
    let mut out = BTreeMap::new();
    for (id, entries) in &t.backends {
        let Some((file, bytes)) = one(entries, ps) else {
            continue;
        };
        let (props, text) = match properties(file, bytes, id) {
            Ok(x) => x,
            Err(p) => {
                ps.push(p);
                continue;
            }
        };
        let mut b = match others::backend_from(&Props(&props), None) {
            Ok(b) => b,
            Err(e) => {
                ps.push(refused(file, &text, e));
                continue;
            }
        };
        match props.get("tls").and_then(|t| t.get("caFile")) {
            None | Some(Value::Null) => {}
            Some(Value::String(ca)) => b.tls.ca_file = Some(ca.clone()),
            Some(_) => {
                ps.push(problem(
                    file,
                    line_of(&text, "\"caFile\""),
                    "properties.tls.caFile: must be a string (a PEM file's path)",
                ));
                continue;
            }
        }
        out.insert(id.to_string(), b);
    }
    out
}

fn read_fragments(t: &Tree<'_>, ps: &mut Vec<FileProblem>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (id, d) in &t.fragments {
        let info = one(&d.info, ps);
        let mut props = Map::new();
        if let Some((file, bytes)) = info {
            match properties(file, bytes, id) {
                Ok((p, _)) => props = p,
                Err(p) => {
                    ps.push(p);
                    continue;
                }
            }
        }
        let doc = match one(&d.policy, ps) {
            Some(e) => xml(Some(e), ps),
            // An information file with the document inline (the management API's shape).
            None => match props.get("value").and_then(Value::as_str) {
                Some(v) => Some(v.to_string()),
                None => {
                    let first = info.map(|e| e.0);
                    missing(
                        &format!("{}/{id}", paths::FRAGMENTS),
                        first,
                        "policy.xml",
                        ps,
                    );
                    None
                }
            },
        };
        if let Some(doc) = doc {
            out.insert(id.to_string(), doc);
        }
    }
    out
}

/// `gatehouse/network.yaml` or `gatehouse/gateway.yaml`: the config file's own YAML for the
/// section; absent or empty is the section's default.
fn section<T: serde::de::DeserializeOwned + Default>(
    e: Option<Entry<'_>>,
    ps: &mut Vec<FileProblem>,
) -> T {
    let Some((file, bytes)) = e else {
        return T::default();
    };
    let text = match utf8(file, bytes) {
        Ok(t) => t,
        Err(p) => {
            ps.push(p);
            return T::default();
        }
    };
    if text.trim().is_empty() {
        return T::default();
    }
    yaml_serde::from_str(text).unwrap_or_else(|e| {
        ps.push(problem(file, yaml_line(&e), e.to_string()));
        T::default()
    })
}
