//! `network.service_tags_file`: Azure's published "Service Tags" JSON file (the weekly
//! download, or `az network list-service-tags`), so that Azure's documented NSG rules
//! (`ApiManagement`, `Storage`, `Sql`, `AzureKeyVault`, `AzureMonitor`, regional forms such as
//! `Storage.WestEurope` …) paste in unchanged (docs/network.md "Azure service tags").
//!
//! Only `values[].name` and `values[].properties.addressPrefixes` are read; every other field of
//! Azure's format (`id`, `changeNumber`, `region`, `systemService`, …) is accepted and ignored.
//! Names are matched case-insensitively, as Azure does. Also here: which tag names a rule may use
//! (built-in, custom, from the file), checked with the rule's path by validation.

use crate::network::{Network, parse_prefix};
use crate::validate::Checker;
use ipnet::IpNet;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The Azure service tags an API Management NSG names (docs/network.md), for messages: a rule
/// naming one of them without a tags file is told where its prefixes come from.
pub const AZURE_TAGS: [&str; 11] = [
    "ApiManagement",
    "Storage",
    "Sql",
    "AzureKeyVault",
    "AzureMonitor",
    "AzureCloud",
    "AzureActiveDirectory",
    "EventHub",
    "AzureConnectors",
    "AzureTrafficManager",
    "GatewayManager",
];

/// Tags gatehouse resolves from the `network` section itself; a file's entry with one of these
/// names is ignored (the section says what they mean here, crates/net/src/tags.rs).
const BUILTIN: [&str; 5] = [
    "virtualnetwork",
    "azureloadbalancer",
    "loadbalancer",
    "internet",
    "any",
];

/// Why a service tags file could not be used; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ServiceTagsFileError {
    #[error("service tags file {}: {source}", file.display())]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    /// Not Azure's format; `path` is the JSON path (`values[3].properties.addressPrefixes`).
    #[error("service tags file {}: at {path}: {source}", file.display())]
    Parse {
        file: PathBuf,
        path: String,
        source: serde_json::Error,
    },
    #[error("service tags file {}: at {path}: {message}", file.display())]
    Prefix {
        file: PathBuf,
        path: String,
        message: String,
    },
    #[error("service tags file {}: at {path}: tag '{name}' is listed twice", file.display())]
    Duplicate {
        file: PathBuf,
        path: String,
        name: String,
    },
}

#[derive(Deserialize)]
struct FileJson {
    values: Vec<TagJson>,
}

#[derive(Deserialize)]
struct TagJson {
    name: String,
    properties: PropertiesJson,
}

#[derive(Deserialize)]
struct PropertiesJson {
    #[serde(rename = "addressPrefixes")]
    address_prefixes: Vec<String>,
}

/// The tags of one file: lowercase name → (name as written, prefixes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishedTags {
    file: PathBuf,
    tags: BTreeMap<String, (String, Vec<IpNet>)>,
}

impl PublishedTags {
    /// Reads and parses `file`.
    pub fn load(file: &Path) -> Result<Self, ServiceTagsFileError> {
        let text = std::fs::read_to_string(file).map_err(|source| ServiceTagsFileError::Read {
            file: file.to_path_buf(),
            source,
        })?;
        Self::from_json(&text, file)
    }

    /// Parses the file's text; `file` names it in errors.
    pub fn from_json(text: &str, file: &Path) -> Result<Self, ServiceTagsFileError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let parsed: FileJson =
            serde_path_to_error::deserialize(&mut de).map_err(|e| ServiceTagsFileError::Parse {
                file: file.to_path_buf(),
                path: e.path().to_string(),
                source: e.into_inner(),
            })?;
        let mut tags = BTreeMap::new();
        for (i, tag) in parsed.values.into_iter().enumerate() {
            let key = tag.name.trim().to_ascii_lowercase();
            if BUILTIN.contains(&key.as_str()) {
                continue;
            }
            let mut prefixes = Vec::with_capacity(tag.properties.address_prefixes.len());
            for (j, p) in tag.properties.address_prefixes.iter().enumerate() {
                let net = parse_prefix(p).map_err(|message| ServiceTagsFileError::Prefix {
                    file: file.to_path_buf(),
                    path: format!("values[{i}].properties.addressPrefixes[{j}]"),
                    message,
                })?;
                prefixes.push(net);
            }
            if tags.contains_key(&key) {
                return Err(ServiceTagsFileError::Duplicate {
                    file: file.to_path_buf(),
                    path: format!("values[{i}].name"),
                    name: tag.name,
                });
            }
            tags.insert(key, (tag.name, prefixes));
        }
        Ok(PublishedTags {
            file: file.to_path_buf(),
            tags,
        })
    }

    /// The file the tags were read from.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// A tag's prefixes, by case-insensitive name (`storage.westeurope`).
    pub fn get(&self, name: &str) -> Option<&[IpNet]> {
        self.tags
            .get(&name.trim().to_ascii_lowercase())
            .map(|(_, p)| p.as_slice())
    }

    /// The tags as written in the file, with their prefixes, sorted by lowercase name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[IpNet])> {
        self.tags.values().map(|(n, p)| (n.as_str(), p.as_slice()))
    }

    pub fn len(&self) -> usize {
        self.tags.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }
}

/// The tag names one network section's rules may use.
pub(crate) struct KnownTags {
    custom: Vec<String>,
    published: Option<PublishedTags>,
    /// The file as configured, for messages.
    file: Option<String>,
}

impl KnownTags {
    pub(crate) fn contains(&self, name: &str) -> bool {
        crate::validate_network::BUILTIN_TAGS
            .iter()
            .any(|b| b.eq_ignore_ascii_case(name))
            || self.custom.iter().any(|c| c.eq_ignore_ascii_case(name))
            || self
                .published
                .as_ref()
                .is_some_and(|p| p.get(name).is_some())
    }

    /// Why `name` (used in rule `rule`) is not a tag: the message validation reports.
    pub(crate) fn unknown(&self, name: &str, rule: &str) -> String {
        let head = format!("unknown service tag '{name}' in rule '{rule}'");
        let base = name.split('.').next().unwrap_or(name);
        match &self.file {
            Some(f) => format!(
                "{head}: not in the service tags file {f} (network.service_tags_file) nor in network.service_tags"
            ),
            None if AZURE_TAGS.iter().any(|t| t.eq_ignore_ascii_case(base)) => format!(
                "{head}: an Azure service tag needs its prefixes: set network.service_tags_file to Azure's Service Tags JSON file, or define it under network.service_tags"
            ),
            None => format!(
                "{head}: use VirtualNetwork, AzureLoadBalancer, Internet, '*', a tag of network.service_tags or of network.service_tags_file"
            ),
        }
    }
}

/// Checks `network.service_tags` and `network.service_tags_file` (reading the file) and returns
/// the names the rules may use. A name defined both ways is an error: which prefixes win would
/// otherwise be a guess.
pub(crate) fn check(c: &mut Checker, n: &Network, valid_name: fn(&str) -> bool) -> KnownTags {
    for (name, list) in &n.service_tags {
        let path = format!("network.service_tags.{name}");
        if BUILTIN.iter().any(|b| b.eq_ignore_ascii_case(name)) || name == "*" {
            c.error(&path, format!("'{name}' is a built-in service tag"));
        }
        if !valid_name(name) {
            c.error(&path, format!("invalid tag name '{name}'"));
        }
        for (i, p) in list.iter().enumerate() {
            if let Err(e) = parse_prefix(p) {
                c.error(format!("{path}[{i}]"), e);
            }
        }
    }
    let published =
        n.service_tags_file
            .as_deref()
            .and_then(|f| match PublishedTags::load(Path::new(f)) {
                Ok(p) => Some(p),
                Err(e) => {
                    c.error("network.service_tags_file", e.to_string());
                    None
                }
            });
    if let Some(p) = &published {
        for name in n.service_tags.keys() {
            if p.get(name).is_some() {
                c.error(
                    format!("network.service_tags.{name}"),
                    format!(
                        "service tag '{name}' is defined both here and in the service tags file {}: keep one",
                        p.file().display()
                    ),
                );
            }
        }
    }
    KnownTags {
        custom: n.service_tags.keys().cloned().collect(),
        published,
        file: n.service_tags_file.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mimics Azure's published format (documentation and private ranges, not Azure's).
    const FILE: &str = r#"{
  "changeNumber": 1, "cloud": "Public",
  "values": [
    { "name": "ApiManagement", "id": "ApiManagement",
      "properties": { "changeNumber": 1, "region": "", "systemService": "AzureApiManagement",
                      "addressPrefixes": ["192.0.2.0/28", "2001:db8:1::/48"], "networkFeatures": ["NSG"] } },
    { "name": "Storage.WestEurope", "id": "Storage.WestEurope",
      "properties": { "region": "westeurope", "addressPrefixes": ["198.51.100.0/26"] } },
    { "name": "AzureLoadBalancer", "id": "AzureLoadBalancer",
      "properties": { "addressPrefixes": ["168.63.129.16/32"] } }
  ]
}"#;

    #[test]
    fn azure_format_is_read_case_insensitively() {
        let t = PublishedTags::from_json(FILE, Path::new("tags.json")).unwrap();
        assert_eq!(
            t.len(),
            2,
            "AzureLoadBalancer is the network section's, not the file's"
        );
        assert_eq!(
            t.get("storage.westeurope").unwrap(),
            &["198.51.100.0/26".parse::<IpNet>().unwrap()]
        );
        assert_eq!(t.get("APIMANAGEMENT").unwrap().len(), 2);
        assert!(t.get("AzureLoadBalancer").is_none());
        let names: Vec<&str> = t.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["ApiManagement", "Storage.WestEurope"]);
    }

    #[test]
    fn bad_files_name_the_file_and_the_json_path() {
        let f = Path::new("tags.json");
        let e = PublishedTags::from_json(
            r#"{"values":[{"name":"A","properties":{"addressPrefixes":"10.0.0.0/8"}}]}"#,
            f,
        )
        .unwrap_err();
        assert!(
            e.to_string().starts_with(
                "service tags file tags.json: at values[0].properties.addressPrefixes: invalid type"
            ),
            "{e}"
        );
        let e = PublishedTags::from_json(
            r#"{"values":[{"name":"A","properties":{"addressPrefixes":["10.0.0.0/8","10.0.0.300"]}}]}"#,
            f,
        )
        .unwrap_err();
        assert!(
            e.to_string().starts_with(
                "service tags file tags.json: at values[0].properties.addressPrefixes[1]: invalid prefix '10.0.0.300'"
            ),
            "{e}"
        );
        let two = r#"{"values":[{"name":"Sql","properties":{"addressPrefixes":[]}},{"name":"SQL","properties":{"addressPrefixes":[]}}]}"#;
        assert_eq!(
            PublishedTags::from_json(two, f).unwrap_err().to_string(),
            "service tags file tags.json: at values[1].name: tag 'SQL' is listed twice"
        );
        let e = PublishedTags::load(Path::new("/nonexistent/tags.json")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("service tags file /nonexistent/tags.json: "),
            "{e}"
        );
        assert!(
            std::error::Error::source(&e).is_some(),
            "the io error is kept"
        );
    }

    fn errors(yaml: &str) -> Vec<String> {
        let config =
            crate::from_str(yaml, crate::Format::Yaml, Path::new("t.yaml")).expect("parses");
        match crate::validate(config) {
            Ok(_) => Vec::new(),
            Err(issues) => issues
                .into_iter()
                .map(|i| format!("{}: {}", i.path, i.message))
                .collect(),
        }
    }

    #[test]
    fn rules_use_the_files_tags_and_name_what_is_missing() {
        let file = std::env::temp_dir().join(format!("gatehouse-tags-{}.json", std::process::id()));
        std::fs::write(&file, FILE).unwrap();
        let yaml = |source: &str, custom: &str| {
            format!(
                "service: {{ name: t, sku: premium }}\nnetwork:\n  type: external\n  service_tags_file: {}\n  service_tags: {{ {custom} }}\n  virtual_network: {{ address_space: [10.0.0.0/16], subnet: {{ prefix: 10.0.1.0/24, nsg: n }} }}\n  network_security_groups:\n    n: {{ security_rules: [ {{ name: mgmt, priority: 100, direction: inbound, access: allow, source: {source}, destination: VirtualNetwork, destination_ports: \"3443\" }} ] }}\n",
                file.display()
            )
        };
        assert_eq!(errors(&yaml("ApiManagement", "")), Vec::<String>::new());
        assert_eq!(
            errors(&yaml("storage.WESTEUROPE", "")),
            Vec::<String>::new()
        );
        let e = errors(&yaml("Sql.WestEurope", ""));
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(
            e[0],
            format!(
                "network.network_security_groups.n.security_rules[0].source: unknown service tag 'Sql.WestEurope' in rule 'mgmt': not in the service tags file {} (network.service_tags_file) nor in network.service_tags",
                file.display()
            )
        );
        let e = errors(&yaml("ApiManagement", "apimanagement: [203.0.113.0/24]"));
        assert!(
            e.iter().any(|e| e.starts_with("network.service_tags.apimanagement: service tag 'apimanagement' is defined both here and in the service tags file")),
            "{e:?}"
        );
        assert_eq!(
            errors(&yaml("Partners", "Partners: [203.0.113.0/24]")),
            Vec::<String>::new()
        );
        std::fs::remove_file(&file).unwrap();
        let e = errors(&yaml("ApiManagement", ""));
        assert!(
            e.iter().any(|e| e.starts_with(&format!(
                "network.service_tags_file: service tags file {}: ",
                file.display()
            ))),
            "{e:?}"
        );
        let without =
            yaml("Storage", "").replace(&format!("  service_tags_file: {}\n", file.display()), "");
        assert!(
            errors(&without).iter().any(|e| e.contains("unknown service tag 'Storage' in rule 'mgmt': an Azure service tag needs its prefixes: set network.service_tags_file")),
            "{:?}", errors(&without)
        );
    }
}
