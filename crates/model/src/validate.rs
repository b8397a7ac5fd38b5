//! Validation: every cross-reference and value of a [`Config`], each problem reported with its
//! path inside the file. Nothing here stops at the first error.

use crate::config::*;
use crate::error::{Issue, Severity};
use crate::scope::Scope;
use crate::template::UrlTemplate;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;

/// A config that passed validation, with what validation already parsed (so nothing is parsed twice).
#[derive(Debug, Clone)]
pub struct Validated {
    pub config: Config,
    /// Findings that do not block the config.
    pub warnings: Vec<Issue>,
    /// `templates[api][op]`: each operation's parsed URL template.
    pub templates: Vec<Vec<UrlTemplate>>,
    /// `scopes[sub]`: each subscription's parsed scope.
    pub scopes: Vec<Scope>,
    /// Each `gateway.listeners` address, in order.
    pub listen_addrs: Vec<SocketAddr>,
    /// Where the gateway listens, with each listener's exposure: `gateway.listeners`, or
    /// `network.endpoints.gateway` and the private endpoints' dedicated listeners.
    pub listeners: Vec<ListenerPlan>,
}

/// How a listener is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exposure {
    /// From anywhere (subject to the NSG when injected).
    Public,
    /// The private VIP inside the subnet.
    Private,
    /// The dedicated listener of `network.private_endpoints[i]`.
    PrivateEndpoint(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenerPlan {
    pub addr: SocketAddr,
    pub tls: bool,
    pub exposure: Exposure,
}

/// Minimum length of a subscription key: shorter keys can be guessed.
pub const MIN_KEY_LEN: usize = 16;
const MAX_KEY_LEN: usize = 256;

pub(crate) struct Checker {
    pub(crate) issues: Vec<Issue>,
}

impl Checker {
    pub(crate) fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.issues.push(Issue {
            severity: Severity::Error,
            path: path.into(),
            message: message.into(),
        });
    }
    pub(crate) fn warn(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.issues.push(Issue {
            severity: Severity::Warning,
            path: path.into(),
            message: message.into(),
        });
    }
    /// Reports ids that are empty, badly formed or repeated.
    fn ids<'a>(&mut self, kind: &str, items: impl Iterator<Item = (String, &'a str)>) {
        let mut seen: HashMap<String, String> = HashMap::new();
        for (path, id) in items {
            if !valid_id(id) {
                self.error(
                    format!("{path}.id"),
                    format!("invalid {kind} id '{id}': use 1-80 letters, digits, '-', '_' or '.'"),
                );
            }
            if let Some(first) = seen.insert(id.to_ascii_lowercase(), path.clone()) {
                self.error(
                    format!("{path}.id"),
                    format!("duplicate {kind} id '{id}' (first at {first})"),
                );
            }
        }
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 80
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Validates `config`. On success the warnings are in [`Validated::warnings`]; on failure every
/// issue (errors and warnings) is returned.
pub fn validate(config: Config) -> Result<Validated, Vec<Issue>> {
    let mut c = Checker { issues: Vec::new() };
    service(&mut c, &config.service);
    let listen_addrs = gateway(&mut c, &config);
    backends(&mut c, &config.backends);
    let templates = apis(&mut c, &config);
    products(&mut c, &config);
    let scopes = subscriptions(&mut c, &config);
    named_values(&mut c, &config.named_values);
    users_and_groups(&mut c, &config);
    portal(&mut c, &config.portal);
    crate::hostnames::check(&mut c, &config);
    let listeners = crate::validate_network::network(&mut c, &config, &listen_addrs);
    crate::locations::check(&mut c, &config, &listen_addrs);
    crate::subnet_plan::check_capacity(&mut c, &config);
    if c.issues.iter().any(|i| i.severity == Severity::Error) {
        return Err(c.issues);
    }
    Ok(Validated {
        config,
        warnings: c.issues,
        templates,
        scopes,
        listen_addrs,
        listeners,
    })
}

fn service(c: &mut Checker, s: &Service) {
    let n = &s.name;
    let ok = (1..=50).contains(&n.len())
        && n.starts_with(|ch: char| ch.is_ascii_alphabetic())
        && n.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
        && !n.ends_with('-');
    if !ok {
        c.error(
            "service.name",
            format!(
                "invalid service name '{n}': 1-50 letters, digits and '-', starting with a letter"
            ),
        );
    }
    if s.capacity == 0 {
        c.error("service.capacity", "must be at least 1");
    }
    if s.sku == Sku::Developer && s.capacity > 1 {
        c.error("service.capacity", "the developer sku has exactly one unit");
    }
}

fn gateway(c: &mut Checker, config: &Config) -> Vec<SocketAddr> {
    let g = &config.gateway;
    let proxy_certificate = crate::hostnames::entries(config)
        .any(|e| e.kind == crate::hostnames::HostnameType::Proxy && e.certificate.is_some());
    let mut addrs = Vec::new();
    if g.listeners.is_empty() {
        c.error("gateway.listeners", "at least one listener is needed");
    }
    let mut seen = HashSet::new();
    for (i, l) in g.listeners.iter().enumerate() {
        let path = format!("gateway.listeners[{i}].address");
        match l.address.parse::<SocketAddr>() {
            Ok(a) => {
                if !seen.insert(a) {
                    c.error(&path, format!("listener {a} is given twice"));
                }
                addrs.push(a);
            }
            Err(_) => c.error(
                &path,
                format!(
                    "invalid address '{}': expected IP:PORT such as 127.0.0.1:8080 or [::1]:8443",
                    l.address
                ),
            ),
        }
        if l.tls && !proxy_certificate {
            c.error(
                format!("gateway.listeners[{i}].tls"),
                "a TLS listener needs at least one certificate in gateway.hostnames (or a Proxy entry of hostname_configurations)",
            );
        }
    }
    let mut names = HashSet::new();
    let mut defaults = 0;
    for (i, h) in g.hostnames.iter().enumerate() {
        let path = format!("gateway.hostnames[{i}]");
        let name = h.host_name.to_ascii_lowercase();
        if !crate::hostnames::well_formed(&name) {
            c.error(
                format!("{path}.host_name"),
                format!("invalid host name '{}'", h.host_name),
            );
        }
        if !names.insert(name) {
            c.error(
                format!("{path}.host_name"),
                format!("host name '{}' is given twice", h.host_name),
            );
        }
        defaults += usize::from(h.default_ssl_binding);
        for (field, file) in [
            ("cert_file", &h.certificate.cert_file),
            ("key_file", &h.certificate.key_file),
        ] {
            if let Err(e) = std::fs::metadata(file) {
                c.error(
                    format!("{path}.certificate.{field}"),
                    format!("cannot read '{file}': {e}"),
                );
            }
        }
    }
    if defaults > 1 {
        c.error(
            "gateway.hostnames",
            "only one host name may have default_ssl_binding: true",
        );
    }
    limits(c, &g.limits);
    if let Some(a) = &g.entra_authority {
        entra_authority(c, a);
    }
    addrs
}

/// `gateway.entra_authority`: an absolute http(s) URL with a host and no query, fragment or
/// credentials — the base every tenant's OpenID configuration URL is built on.
fn entra_authority(c: &mut Checker, a: &str) {
    let rest = a
        .strip_prefix("https://")
        .or_else(|| a.strip_prefix("http://"));
    let host = rest.and_then(|r| r.split('/').next()).unwrap_or_default();
    if rest.is_none()
        || host.is_empty()
        || a.contains(['?', '#', '@'])
        || a.chars().any(|ch| ch.is_whitespace() || ch.is_control())
    {
        c.error(
            "gateway.entra_authority",
            format!(
                "'{a}' must be an absolute http(s) URL such as https://login.microsoftonline.com"
            ),
        );
    }
}

fn limits(c: &mut Checker, l: &Limits) {
    let mut range = |field: &str, v: u64, lo: u64, hi: u64, why: &str| {
        if v < lo || v > hi {
            c.error(
                format!("gateway.limits.{field}"),
                format!("{v} is out of range {lo}..={hi}{why}"),
            );
        }
    };
    range(
        "max_connections",
        l.max_connections.into(),
        1,
        1_000_000,
        "",
    );
    // hyper reads a request head into one buffer of at least 8 KiB.
    range(
        "max_header_bytes",
        l.max_header_bytes.into(),
        8192,
        1 << 20,
        " (the HTTP parser needs at least 8192)",
    );
    range("max_headers", l.max_headers.into(), 1, 1000, "");
    range(
        "max_request_line_bytes",
        l.max_request_line_bytes.into(),
        64,
        l.max_header_bytes.into(),
        " (at most max_header_bytes)",
    );
    range(
        "header_read_timeout_ms",
        l.header_read_timeout_ms,
        100,
        600_000,
        "",
    );
    range("idle_timeout_ms", l.idle_timeout_ms, 100, 86_400_000, "");
    range(
        "tls_handshake_timeout_ms",
        l.tls_handshake_timeout_ms,
        100,
        600_000,
        "",
    );
    range(
        "proxy_header_timeout_ms",
        l.proxy_header_timeout_ms,
        100,
        60_000,
        "",
    );
    range(
        "max_concurrent_streams",
        l.max_concurrent_streams.into(),
        1,
        10_000,
        "",
    );
    range(
        "body_read_timeout_ms",
        l.body_read_timeout_ms,
        100,
        600_000,
        "",
    );
    range(
        "max_requests_in_flight",
        l.max_requests_in_flight.into(),
        1,
        10_000_000,
        "",
    );
    range(
        "max_connections_per_backend",
        l.max_connections_per_backend.into(),
        1,
        100_000,
        "",
    );
    range(
        "backend_queue_timeout_ms",
        l.backend_queue_timeout_ms,
        0,
        600_000,
        "",
    );
    range(
        "max_buffered_body_bytes",
        l.max_buffered_body_bytes,
        1024,
        1 << 30,
        "",
    );
    range(
        "max_buffered_total_bytes",
        l.max_buffered_total_bytes,
        l.max_buffered_body_bytes,
        1 << 40,
        " (at least max_buffered_body_bytes)",
    );
    range(
        "expression_timeout_ms",
        l.expression_timeout_ms,
        1,
        60_000,
        "",
    );
    range(
        "expression_memory_bytes",
        l.expression_memory_bytes,
        64 * 1024,
        1 << 30,
        "",
    );
}

/// Checks a backend URL; the message says what is wrong.
pub(crate) fn check_backend_url(text: &str) -> Result<(), String> {
    let url = url::Url::parse(text).map_err(|e| format!("invalid URL '{text}': {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "unsupported scheme '{}' in '{text}': use http or https",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("URL '{text}' has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "credentials in a backend URL would be logged: use backend credentials instead"
                .to_string(),
        );
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("URL '{text}' must not have a query or fragment"));
    }
    Ok(())
}

fn backends(c: &mut Checker, backends: &BTreeMap<String, Backend>) {
    c.ids(
        "backend",
        backends
            .keys()
            .map(|k| (format!("backends.{k}"), k.as_str())),
    );
    for (id, b) in backends {
        let path = format!("backends.{id}");
        if let Err(e) = check_backend_url(&b.url) {
            c.error(format!("{path}.url"), e);
        }
        if !(1..=14_400_000).contains(&b.timeout_ms) {
            c.error(
                format!("{path}.timeout_ms"),
                format!("{} is out of range 1..=14400000", b.timeout_ms),
            );
        }
        if !(1..=600_000).contains(&b.connect_timeout_ms) {
            c.error(
                format!("{path}.connect_timeout_ms"),
                format!("{} is out of range 1..=600000", b.connect_timeout_ms),
            );
        }
        if let Some(ca) = &b.tls.ca_file
            && let Err(e) = std::fs::metadata(ca)
        {
            c.error(
                format!("{path}.tls.ca_file"),
                format!("cannot read '{ca}': {e}"),
            );
        }
    }
}

/// An API path as the router compares it: no leading or trailing '/'.
pub fn normalize_api_path(path: &str) -> &str {
    path.trim_matches('/')
}

fn valid_method(m: &str) -> bool {
    m == "*" || (!m.is_empty() && m.len() <= 32 && m.chars().all(|ch| ch.is_ascii_alphabetic()))
}

fn valid_header_name(h: &str) -> bool {
    !h.is_empty()
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn apis(c: &mut Checker, cfg: &Config) -> Vec<Vec<UrlTemplate>> {
    c.ids(
        "api",
        cfg.apis
            .iter()
            .enumerate()
            .map(|(i, a)| (format!("apis[{i}]"), a.id.as_str())),
    );
    let mut paths: HashMap<String, usize> = HashMap::new();
    let mut all = Vec::with_capacity(cfg.apis.len());
    for (i, api) in cfg.apis.iter().enumerate() {
        let path = format!("apis[{i}]");
        let p = normalize_api_path(&api.path);
        if p.contains(['?', '#', '{', '}', '*'])
            || p.contains("//")
            || p.contains(char::is_whitespace)
        {
            c.error(
                format!("{path}.path"),
                format!(
                    "invalid API path '{}': plain segments such as 'orders' or 'v1/orders'",
                    api.path
                ),
            );
        }
        if let Some(first) = paths.insert(p.to_ascii_lowercase(), i) {
            c.error(
                format!("{path}.path"),
                format!("path '{p}' is already served by apis[{first}]"),
            );
        }
        if api.backend.contains("://") {
            if let Err(e) = check_backend_url(&api.backend) {
                c.error(format!("{path}.backend"), e);
            }
        } else if !cfg.backends.contains_key(&api.backend) {
            c.error(
                format!("{path}.backend"),
                format!("no backend with id '{}' (and not a URL)", api.backend),
            );
        }
        if !valid_header_name(&api.subscription_key.header) {
            c.error(
                format!("{path}.subscription_key.header"),
                format!("invalid header name '{}'", api.subscription_key.header),
            );
        }
        if api.subscription_key.query.is_empty()
            || api.subscription_key.query.contains(['&', '=', '#', ' '])
        {
            c.error(
                format!("{path}.subscription_key.query"),
                format!(
                    "invalid query parameter name '{}'",
                    api.subscription_key.query
                ),
            );
        }
        if api.protocols.is_empty() {
            c.error(
                format!("{path}.protocols"),
                "at least one protocol is needed",
            );
        }
        c.ids(
            "operation",
            api.operations
                .iter()
                .enumerate()
                .map(|(j, o)| (format!("{path}.operations[{j}]"), o.id.as_str())),
        );
        let mut templates = Vec::with_capacity(api.operations.len());
        let mut seen: HashMap<(String, String), usize> = HashMap::new();
        for (j, op) in api.operations.iter().enumerate() {
            let opath = format!("{path}.operations[{j}]");
            if !valid_method(&op.method) {
                c.error(
                    format!("{opath}.method"),
                    format!(
                        "invalid method '{}': an HTTP method such as GET, or '*'",
                        op.method
                    ),
                );
            }
            match UrlTemplate::parse(&op.url_template) {
                Ok(t) => {
                    let key = (
                        op.method.to_ascii_uppercase(),
                        t.as_str().trim_end_matches('/').to_string(),
                    );
                    if let Some(first) = seen.insert(key, j) {
                        c.error(
                            &opath,
                            format!(
                                "{} {} is already defined by operations[{first}]",
                                op.method, op.url_template
                            ),
                        );
                    }
                    templates.push(t);
                }
                Err(e) => {
                    c.error(format!("{opath}.url_template"), e);
                    templates.push(
                        UrlTemplate::parse("/*")
                            .unwrap_or_else(|_| unreachable!("'/*' is a valid template")),
                    );
                }
            }
        }
        if api.operations.is_empty() {
            c.warn(format!("{path}.operations"), "no operations: every request to this API gets 404 (add { id: any, method: '*', url_template: '/*' } to pass everything)");
        }
        all.push(templates);
    }
    all
}

fn products(c: &mut Checker, cfg: &Config) {
    c.ids(
        "product",
        cfg.products
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("products[{i}]"), p.id.as_str())),
    );
    let api_ids: HashSet<&str> = cfg.apis.iter().map(|a| a.id.as_str()).collect();
    for (i, p) in cfg.products.iter().enumerate() {
        for (j, g) in p.groups.iter().enumerate() {
            if !crate::groups::exists(cfg, g) {
                c.error(
                    format!("products[{i}].groups[{j}]"),
                    format!(
                        "no group with id '{g}' (the built-in groups are administrators, developers, guests)"
                    ),
                );
            }
        }
        let mut seen = HashSet::new();
        for (j, a) in p.apis.iter().enumerate() {
            if !api_ids.contains(a.as_str()) {
                c.error(
                    format!("products[{i}].apis[{j}]"),
                    format!("no API with id '{a}'"),
                );
            }
            if !seen.insert(a) {
                c.error(
                    format!("products[{i}].apis[{j}]"),
                    format!("API '{a}' is listed twice"),
                );
            }
        }
    }
}

fn subscriptions(c: &mut Checker, cfg: &Config) -> Vec<Scope> {
    c.ids(
        "subscription",
        cfg.subscriptions
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("subscriptions[{i}]"), s.id.as_str())),
    );
    let users: HashSet<&str> = cfg.users.iter().map(|u| u.id.as_str()).collect();
    // Keys are compared by position only, so no message ever contains a key.
    let mut keys: HashMap<&str, String> = HashMap::new();
    let mut per_owner_product: HashMap<(String, String), u32> = HashMap::new();
    let mut scopes = Vec::with_capacity(cfg.subscriptions.len());
    for (i, s) in cfg.subscriptions.iter().enumerate() {
        let path = format!("subscriptions[{i}]");
        let scope = match Scope::parse(&s.scope) {
            Ok(scope) => {
                match &scope {
                    Scope::All => {}
                    Scope::Api(a) => {
                        if !cfg.apis.iter().any(|x| &x.id == a) {
                            c.error(format!("{path}.scope"), format!("no API with id '{a}'"));
                        }
                    }
                    Scope::Product(p) => match cfg.products.iter().find(|x| &x.id == p) {
                        None => c.error(format!("{path}.scope"), format!("no product with id '{p}'")),
                        Some(prod) if !prod.subscription_required => c.error(
                            format!("{path}.scope"),
                            format!("product '{p}' is open (subscription_required: false): it takes no subscriptions"),
                        ),
                        Some(prod) => {
                            if let (Some(owner), Some(limit)) = (s.owner.as_deref(), prod.subscriptions_limit) {
                                let n = per_owner_product.entry((owner.to_string(), p.clone())).or_default();
                                *n += 1;
                                if *n > limit {
                                    c.error(&path, format!("user '{owner}' has more than {limit} subscription(s) to product '{p}' (subscriptions_limit)"));
                                }
                            }
                        }
                    },
                }
                scope
            }
            Err(e) => {
                c.error(format!("{path}.scope"), e);
                Scope::All
            }
        };
        scopes.push(scope);
        if let Some(owner) = &s.owner
            && !users.contains(owner.as_str())
        {
            c.error(
                format!("{path}.owner"),
                format!("no user with id '{owner}'"),
            );
        }
        let named = [
            ("primary_key", Some(&s.primary_key)),
            ("secondary_key", s.secondary_key.as_ref()),
        ];
        for (field, key) in named {
            let Some(key) = key else { continue };
            let k = key.expose();
            let kpath = format!("{path}.{field}");
            if k.len() < MIN_KEY_LEN || k.len() > MAX_KEY_LEN {
                c.error(&kpath, format!("a key must be {MIN_KEY_LEN} to {MAX_KEY_LEN} characters long (this one has {})", k.len()));
            }
            if !k.bytes().all(|b| b.is_ascii_graphic()) {
                c.error(&kpath, "a key may only contain visible ASCII characters (no spaces or control characters)");
            }
            if let Some(first) = keys.insert(k, kpath.clone()) {
                c.error(&kpath, format!("this key is already used by {first}"));
            }
        }
    }
    scopes
}

fn named_values(c: &mut Checker, nvs: &[NamedValue]) {
    c.ids(
        "named value",
        nvs.iter()
            .enumerate()
            .map(|(i, n)| (format!("named_values[{i}]"), n.id.as_str())),
    );
    for (i, nv) in nvs.iter().enumerate() {
        if nv.value.expose().len() > 4096 {
            c.error(
                format!("named_values[{i}].value"),
                "a named value holds at most 4096 characters",
            );
        }
    }
}

fn users_and_groups(c: &mut Checker, cfg: &Config) {
    c.ids(
        "user",
        cfg.users
            .iter()
            .enumerate()
            .map(|(i, u)| (format!("users[{i}]"), u.id.as_str())),
    );
    for (i, u) in cfg.users.iter().enumerate() {
        let ok = u
            .email
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'));
        if !ok {
            c.error(
                format!("users[{i}].email"),
                format!("invalid e-mail address '{}'", u.email),
            );
        }
    }
    c.ids(
        "group",
        cfg.groups
            .iter()
            .enumerate()
            .map(|(i, g)| (format!("groups[{i}]"), g.id.as_str())),
    );
    let users: HashSet<&str> = cfg.users.iter().map(|u| u.id.as_str()).collect();
    for (i, g) in cfg.groups.iter().enumerate() {
        for (j, u) in g.users.iter().enumerate() {
            if !users.contains(u.as_str()) {
                c.error(
                    format!("groups[{i}].users[{j}]"),
                    format!("no user with id '{u}'"),
                );
            }
        }
    }
}

fn portal(c: &mut Checker, p: &crate::portal::Portal) {
    for (name, v) in [
        ("primary", &p.colors.primary),
        ("background", &p.colors.background),
        ("text", &p.colors.text),
    ] {
        if let Some(v) = v
            && !crate::portal::is_css_color(v)
        {
            c.error(
                format!("portal.colors.{name}"),
                format!("'{v}' is not a colour as #rgb or #rrggbb"),
            );
        }
    }
    if let Some(url) = &p.logo_url
        && !crate::portal::is_logo_url(url)
    {
        c.error(
            "portal.logo_url",
            format!("'{url}' is not an http(s) URL or a path on the portal (/logo.png)"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{Format, from_str};
    use std::path::Path;

    fn check(yaml: &str) -> Result<Validated, Vec<Issue>> {
        validate(from_str(yaml, Format::Yaml, Path::new("t.yaml")).expect("parses"))
    }

    fn errors(yaml: &str) -> Vec<String> {
        match check(yaml) {
            Ok(_) => Vec::new(),
            Err(issues) => issues
                .into_iter()
                .filter(|i| i.severity == Severity::Error)
                .map(|i| format!("{}: {}", i.path, i.message))
                .collect(),
        }
    }

    const GOOD: &str = r#"
service: { name: contoso, sku: premium, capacity: 2 }
backends:
  orders: { url: "http://127.0.0.1:9001/v1", timeout_ms: 30000 }
apis:
  - id: orders
    path: orders
    backend: orders
    operations:
      - { id: get-order, method: GET, url_template: "/orders/{id}" }
      - { id: any, method: "*", url_template: "/*" }
  - id: echo
    path: /echo/
    serviceUrl: "http://127.0.0.1:9002"
    subscriptionRequired: false
    operations: [ { id: all, method: "*", urlTemplate: "/*" } ]
products:
  - { id: starter, apis: [orders], subscription_required: true, state: published }
users:
  - { id: ann, email: ann@example.com }
subscriptions:
  - { id: sub1, scope: product/starter, owner: ann, primary_key: "0123456789abcdef0", secondary_key: "fedcba98765432100", state: active }
  - { id: sub2, scope: "/apis", primaryKey: "another-key-000000001" }
"#;

    #[test]
    fn a_good_config_passes() {
        let v = check(GOOD).expect("valid");
        assert_eq!(v.templates[0].len(), 2);
        assert_eq!(v.scopes, vec![Scope::Product("starter".into()), Scope::All]);
        assert_eq!(
            v.listen_addrs,
            vec!["127.0.0.1:8080".parse::<SocketAddr>().unwrap()]
        );
        assert!(!v.config.apis[1].subscription_required);
    }

    #[test]
    fn entra_authority_must_be_an_http_url() {
        let with = |a: &str| {
            GOOD.replace(
                "service: { name: contoso, sku: premium, capacity: 2 }",
                &format!(
                    "service: {{ name: contoso, sku: premium, capacity: 2 }}\ngateway: {{ entra_authority: {a:?} }}"
                ),
            )
        };
        let v = check(&with("http://127.0.0.1:9000")).expect("loopback authority");
        assert_eq!(
            v.config.gateway.entra_authority.as_deref(),
            Some("http://127.0.0.1:9000")
        );
        for bad in [
            "login.microsoftonline.com",
            "https://",
            "https://a.test/?x=1",
            "ftp://a",
        ] {
            let errs = errors(&with(bad));
            assert!(
                errs.iter()
                    .any(|e| e.starts_with("gateway.entra_authority: ")),
                "{bad}: {errs:#?}"
            );
        }
    }

    #[test]
    fn every_error_is_reported_with_its_path() {
        let bad = GOOD
            .replace("/orders/{id}", "/orders/{id")
            .replace("apis: [orders]", "apis: [orders, nope]")
            .replace("product/starter", "product/gold")
            .replace("another-key-000000001", "short");
        let errs = errors(&bad);
        let want = [
            "apis[0].operations[0].url_template: unbalanced '{'",
            "products[0].apis[1]: no API with id 'nope'",
            "subscriptions[0].scope: no product with id 'gold'",
            "subscriptions[1].primary_key: a key must be 16 to 256 characters long (this one has 5)",
        ];
        for w in want {
            assert!(errs.iter().any(|e| e == w), "missing {w:?} in {errs:#?}");
        }
        assert_eq!(errs.len(), want.len(), "{errs:#?}");
    }

    #[test]
    fn duplicates_and_references() {
        let bad = GOOD
            .replace("id: echo", "id: orders")
            .replace("backend: orders", "backend: missing");
        let errs = errors(&bad);
        assert!(
            errs.iter()
                .any(|e| e == "apis[1].id: duplicate api id 'orders' (first at apis[0])"),
            "{errs:#?}"
        );
        assert!(
            errs.iter()
                .any(|e| e == "apis[0].backend: no backend with id 'missing' (and not a URL)"),
            "{errs:#?}"
        );
    }

    #[test]
    fn keys_are_never_in_messages() {
        let bad = GOOD.replace("another-key-000000001", "0123456789abcdef0");
        let errs = errors(&bad);
        assert_eq!(
            errs,
            vec![
                "subscriptions[1].primary_key: this key is already used by subscriptions[0].primary_key"
            ]
        );
        assert!(!errs.concat().contains("0123456789abcdef0"));
    }

    #[test]
    fn backend_urls_are_checked() {
        for (url, want) in [
            ("ftp://x", "unsupported scheme 'ftp'"),
            ("http://u:p@x", "credentials in a backend URL"),
            ("http://x/?a=1", "must not have a query"),
            ("not a url", "invalid URL"),
        ] {
            let bad = GOOD.replace("http://127.0.0.1:9001/v1", url);
            let errs = errors(&bad);
            assert!(
                errs.iter()
                    .any(|e| e.starts_with("backends.orders.url: ") && e.contains(want)),
                "{url}: {errs:#?}"
            );
        }
    }

    #[test]
    fn listeners_limits_and_service() {
        let bad = format!(
            "{GOOD}gateway:\n  listeners: [{{ address: 'localhost:80' }}, {{ address: '127.0.0.1:1', tls: true }}]\n  limits: {{ max_header_bytes: 100 }}\n"
        )
        .replace("capacity: 2", "capacity: 0");
        let errs = errors(&bad);
        for w in [
            "gateway.listeners[0].address: invalid address 'localhost:80'",
            "gateway.listeners[1].tls: a TLS listener needs at least one certificate",
            "gateway.limits.max_header_bytes: 100 is out of range 8192..=1048576",
            "service.capacity: must be at least 1",
        ] {
            assert!(
                errs.iter().any(|e| e.starts_with(w)),
                "missing {w:?} in {errs:#?}"
            );
        }
    }

    #[test]
    fn policies_are_accepted_without_a_warning() {
        let cfg = GOOD.replace(
            "operations: [ {",
            "policies: \"<policies/>\"\n    operations: [ {",
        );
        let v = check(&cfg).expect("valid");
        assert!(!v.warnings.iter().any(|w| w.path == "apis[1].policies"));
    }

    #[test]
    fn open_products_take_no_subscriptions() {
        let bad = GOOD.replace(
            "subscription_required: true, state",
            "subscription_required: false, state",
        );
        assert!(
            errors(&bad)
                .iter()
                .any(|e| e.contains("is open (subscription_required: false)"))
        );
    }
}
