//! Reading a config file (YAML or JSON) into a [`Config`], and the file's JSON Schema.

use crate::config::Config;
use crate::error::ConfigError;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

impl Format {
    /// JSON for `.json` files, YAML (a superset of JSON) for everything else.
    pub fn of(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("json") => Format::Json,
            _ => Format::Yaml,
        }
    }
}

/// Reads and parses `path`. Relative file paths inside (certificates, CA files) are made
/// relative to the file's directory. This does not validate: call [`crate::validate()`].
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        file: path.to_path_buf(),
        source,
    })?;
    let mut config = from_str(&text, Format::of(path), path)?;
    if let Some(dir) = path.parent() {
        resolve_relative_paths(&mut config, dir);
    }
    Ok(config)
}

/// Parses config text; `file` only names the source in errors.
pub fn from_str(text: &str, format: Format, file: &Path) -> Result<Config, ConfigError> {
    let file = file.to_path_buf();
    match format {
        Format::Yaml => {
            let de = yaml_serde::Deserializer::from_str(text);
            serde_path_to_error::deserialize(de).map_err(|e| {
                let (line, column) = match e.inner().location() {
                    Some(l) => (Some(l.line()), Some(l.column())),
                    None => (None, None),
                };
                parse_error(
                    file,
                    line,
                    column,
                    e.path().to_string(),
                    e.inner().to_string(),
                )
            })
        }
        Format::Json => {
            let mut de = serde_json::Deserializer::from_str(text);
            serde_path_to_error::deserialize(&mut de).map_err(|e| {
                let (line, column) = (e.inner().line(), e.inner().column());
                parse_error(
                    file,
                    Some(line),
                    Some(column),
                    e.path().to_string(),
                    e.inner().to_string(),
                )
            })
        }
    }
}

fn parse_error(
    file: PathBuf,
    line: Option<usize>,
    column: Option<usize>,
    path: String,
    message: String,
) -> ConfigError {
    // The parsers append their own " at line X column Y"; we report the location separately.
    let message = match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    };
    // yaml_serde starts its message with the path too; it is reported once, separately.
    let message = match message
        .strip_prefix(path.as_str())
        .and_then(|m| m.strip_prefix(": "))
    {
        Some(rest) if !path.is_empty() => rest.to_string(),
        _ => message,
    };
    ConfigError::Parse {
        file,
        line,
        column,
        path,
        message,
    }
}

fn resolve_relative_paths(config: &mut Config, dir: &Path) {
    let fix = |p: &mut String| {
        let path = Path::new(p.as_str());
        if path.is_relative() && !p.is_empty() {
            *p = dir.join(path).to_string_lossy().into_owned();
        }
    };
    for h in &mut config.gateway.hostnames {
        fix(&mut h.certificate.cert_file);
        fix(&mut h.certificate.key_file);
    }
    // Each network section's Azure service tags file (crates/model/src/service_tags_file.rs).
    if let Some(f) = config.network.service_tags_file.as_mut() {
        fix(f);
    }
    for loc in &mut config.service.additional_locations {
        if let Some(f) = loc.network.service_tags_file.as_mut() {
            fix(f);
        }
    }
    for h in &mut config.hostname_configurations {
        if let Some(cert) = h.certificate.as_mut() {
            fix(&mut cert.cert_file);
            fix(&mut cert.key_file);
        }
    }
    for b in config.backends.values_mut() {
        if let Some(ca) = b.tls.ca_file.as_mut() {
            fix(ca);
        }
    }
}

/// The JSON Schema of the config file (draft 2020-12), for editors.
pub fn schema_json() -> serde_json::Value {
    let schema = schemars::schema_for!(Config);
    let mut value = serde_json::to_value(&schema).unwrap_or_default();
    if let Some(obj) = value.as_object_mut() {
        obj.insert("title".into(), "gatehouse.yaml".into());
    }
    value
}

/// Reads, parses and validates `path`: the one call a server or tool needs.
pub fn load_validated(path: &Path) -> Result<crate::Validated, ConfigError> {
    let config = load(path)?;
    crate::validate(config).map_err(|issues| ConfigError::Invalid {
        file: path.to_path_buf(),
        issues,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_errors_carry_path_and_line() {
        let text = "service: { name: s }\napis:\n  - id: a\n    path: a\n    backend: http://x\n    operations:\n      - { id: o, method: GET, url_templat: / }\n";
        let err = from_str(text, Format::Yaml, Path::new("g.yaml")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("g.yaml:7:"), "{msg}");
        assert!(msg.contains("apis[0].operations[0]"), "{msg}");
        assert!(msg.contains("unknown field `url_templat`"), "{msg}");
    }

    #[test]
    fn json_is_read_too() {
        let cfg = from_str(
            r#"{"service": {"name": "s"}, "apis": []}"#,
            Format::Json,
            Path::new("g.json"),
        )
        .unwrap();
        assert_eq!(cfg.service.name, "s");
    }

    #[test]
    fn schema_names_the_fields() {
        let s = schema_json().to_string();
        for field in [
            "subscription_required",
            "url_template",
            "primary_key",
            "named_values",
            "max_connections",
        ] {
            assert!(s.contains(field), "{field} missing from schema");
        }
    }
}
