//! Config → files (see [`super`] for the layout).

use super::paths;
use super::text::pretty;
use super::{Files, LayoutError, spec};
use gatehouse_admin::resources::{apis, others};
use gatehouse_model::Config;
use serde_json::{Value, json};

/// Every file of the layout for `config`; the same config gives byte-identical files.
pub fn export(config: &Config) -> Result<Files, LayoutError> {
    let mut out = Out(Files::new());
    if let Some(g) = &config.policies.global {
        out.text(paths::GLOBAL_POLICY.to_string(), g);
    }
    for api in &config.apis {
        dir_name("API", &api.id)?;
        out.info(paths::api_info(&api.id), apis::api_props(api))?;
        out.0.insert(paths::api_spec(&api.id), spec::write(api)?);
        if let Some(p) = &api.policies {
            out.text(paths::api_policy(&api.id), p);
        }
        for o in &api.operations {
            if let Some(p) = &o.policies {
                dir_name("operation", &o.id)?;
                out.text(paths::operation_policy(&api.id, &o.id), p);
            }
        }
    }
    for p in &config.products {
        dir_name("product", &p.id)?;
        out.info(paths::product_info(&p.id), apis::product_props(p))?;
        // APIOps' `[{"name": …}]`, in the product's own order.
        let names = |ids: &[String]| Value::Array(ids.iter().map(|i| json!({"name": i})).collect());
        out.json(paths::product_apis(&p.id), &names(&p.apis))?;
        out.json(paths::product_groups(&p.id), &names(&p.groups))?;
        if let Some(x) = &p.policies {
            out.text(paths::product_policy(&p.id), x);
        }
    }
    for n in &config.named_values {
        dir_name("named value", &n.id)?;
        // named_value_props leaves a secret's value out: it never reaches the repository.
        out.info(paths::named_value(&n.id), others::named_value_props(n))?;
    }
    for (id, b) in &config.backends {
        dir_name("backend", id)?;
        let mut props = others::backend_props(b);
        // The extra CA file is gatehouse's (crates/model/src/config.rs BackendTls::ca_file).
        if let Some(ca) = &b.tls.ca_file {
            props["tls"]["caFile"] = json!(ca);
        }
        out.info(paths::backend(id), props)?;
    }
    for (id, xml) in &config.policies.fragments {
        dir_name("policy fragment", id)?;
        let mut props = others::fragment_props(xml);
        // The document is policy.xml beside it, as APIOps keeps it.
        if let Some(m) = props.as_object_mut() {
            m.remove("value");
        }
        out.info(paths::fragment_info(id), props)?;
        out.text(paths::fragment_policy(id), xml);
    }
    out.yaml(paths::NETWORK, &config.network)?;
    out.yaml(paths::GATEWAY, &config.gateway)?;
    Ok(out.0)
}

struct Out(Files);

impl Out {
    fn text(&mut self, file: String, s: &str) {
        self.0.insert(file, s.as_bytes().to_vec());
    }
    fn json(&mut self, file: String, v: &Value) -> Result<(), LayoutError> {
        let bytes = pretty(v).map_err(|source| LayoutError::Json {
            file: file.clone(),
            source,
        })?;
        self.0.insert(file, bytes);
        Ok(())
    }
    fn info(&mut self, file: String, props: Value) -> Result<(), LayoutError> {
        self.json(file, &json!({ "properties": props }))
    }
    fn yaml<T: serde::Serialize>(&mut self, file: &str, v: &T) -> Result<(), LayoutError> {
        let text = yaml_serde::to_string(v).map_err(|source| LayoutError::Yaml {
            file: file.to_string(),
            source,
        })?;
        self.0.insert(file.to_string(), text.into_bytes());
        Ok(())
    }
}

fn dir_name(kind: &'static str, id: &str) -> Result<(), LayoutError> {
    if id.is_empty() || id == "." || id == ".." || id.contains(['/', '\\']) {
        return Err(LayoutError::Name {
            kind,
            id: id.to_string(),
        });
    }
    Ok(())
}
