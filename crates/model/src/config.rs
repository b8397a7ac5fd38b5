//! The typed form of `gatehouse.yaml`. Field names are the file's interface (docs/config.md);
//! Azure ARM property names are accepted as aliases so exported resources paste in.

use crate::secret::Secret;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The whole configuration file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The API Management service itself.
    pub service: Service,
    /// Node-level settings of the gateway: listeners, TLS hostnames, limits, logging.
    #[serde(default)]
    pub gateway: GatewaySettings,
    /// Backends by id; an API names one (or gives a URL directly).
    #[serde(default)]
    pub backends: BTreeMap<String, Backend>,
    #[serde(default)]
    pub apis: Vec<Api>,
    #[serde(default)]
    pub products: Vec<Product>,
    #[serde(default)]
    pub subscriptions: Vec<Subscription>,
    #[serde(default, alias = "namedValues")]
    pub named_values: Vec<NamedValue>,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub groups: Vec<Group>,
    /// Global-scope policy document.
    #[serde(default)]
    pub policies: GlobalPolicies,
    /// Network isolation (docs/network.md).
    #[serde(default)]
    pub network: crate::network::Network,
    /// The developer portal's look and sign-up rules (docs/portal.md).
    #[serde(default, skip_serializing_if = "crate::portal::Portal::is_default")]
    pub portal: crate::portal::Portal,
    /// Host names of every component and their certificates (APIM's service property
    /// `hostnameConfigurations`); crates/model/src/hostnames.rs. `gateway.hostnames` are Proxy
    /// entries.
    #[serde(
        default,
        alias = "hostnameConfigurations",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub hostname_configurations: Vec<crate::hostnames::HostnameConfiguration>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Service name, as in `contoso.azure-api.net`.
    pub name: String,
    #[serde(default)]
    pub sku: Sku,
    #[serde(default = "default_location")]
    pub location: String,
    /// Scale units (Azure's `sku.capacity`).
    #[serde(default = "one")]
    pub capacity: u32,
    /// More locations of the service, each with its own capacity and network section
    /// (crates/model/src/locations.rs).
    #[serde(
        default,
        alias = "additionalLocations",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub additional_locations: Vec<crate::locations::AdditionalLocation>,
}

impl Default for Service {
    fn default() -> Self {
        Service {
            name: String::new(),
            sku: Sku::default(),
            location: default_location(),
            capacity: 1,
            additional_locations: Vec::new(),
        }
    }
}

fn default_location() -> String {
    "local".to_string()
}
fn one() -> u32 {
    1
}
fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Sku {
    #[default]
    #[serde(alias = "Developer")]
    Developer,
    #[serde(alias = "Basic")]
    Basic,
    #[serde(alias = "Standard")]
    Standard,
    #[serde(alias = "Premium")]
    Premium,
    #[serde(alias = "Consumption")]
    Consumption,
    #[serde(alias = "BasicV2", alias = "basic_v2")]
    Basicv2,
    #[serde(alias = "StandardV2", alias = "standard_v2")]
    Standardv2,
    #[serde(alias = "PremiumV2", alias = "premium_v2")]
    Premiumv2,
}

/// Where and how this gateway node serves traffic.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GatewaySettings {
    /// Addresses the gateway listens on. Default: one plain-HTTP listener on 127.0.0.1:8080.
    #[serde(default = "default_listeners")]
    pub listeners: Vec<Listener>,
    /// Host names and their TLS certificates (APIM's `hostnameConfigurations`), chosen by SNI.
    #[serde(default, alias = "hostnameConfigurations")]
    pub hostnames: Vec<Hostname>,
    #[serde(default)]
    pub limits: Limits,
    /// Write one structured access log line per request.
    #[serde(default = "yes")]
    pub access_log: bool,
    /// Microsoft Entra ID's authority for validate-azure-ad-token: a tenant's OpenID
    /// configuration is `{entra_authority}/{tenant}/v2.0/.well-known/openid-configuration`.
    /// Default (absent): `https://login.microsoftonline.com`. A sovereign cloud's, or a local
    /// stand-in for tests.
    #[serde(
        default,
        alias = "entraAuthority",
        skip_serializing_if = "Option::is_none"
    )]
    pub entra_authority: Option<String>,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        GatewaySettings {
            listeners: default_listeners(),
            hostnames: Vec::new(),
            limits: Limits::default(),
            access_log: true,
            entra_authority: None,
        }
    }
}

fn default_listeners() -> Vec<Listener> {
    vec![Listener {
        address: "127.0.0.1:8080".to_string(),
        tls: false,
    }]
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Listener {
    /// `IP:PORT`, e.g. `0.0.0.0:8443` or `[::1]:8080`.
    pub address: String,
    /// Serve TLS (certificates from `gateway.hostnames`, chosen by SNI; ALPN h2 and http/1.1).
    /// A plain listener serves HTTP/1.1 and HTTP/2 with prior knowledge (h2c).
    #[serde(default)]
    pub tls: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Hostname {
    /// `api.contoso.com` or a wildcard `*.contoso.com`.
    #[serde(alias = "hostName")]
    pub host_name: String,
    pub certificate: CertificateFiles,
    /// Served to clients that send no SNI or an unknown name.
    #[serde(default, alias = "defaultSslBinding")]
    pub default_ssl_binding: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateFiles {
    /// PEM file with the certificate chain, leaf first. Relative paths are relative to the config file.
    pub cert_file: String,
    /// PEM file with the private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: String,
}

/// Limits against abuse. Every one has a safe default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Connections served at once; further ones are closed at accept.
    #[serde(default = "d_max_connections")]
    pub max_connections: u32,
    /// Bytes of request line plus headers (HTTP/1.1) or header list (HTTP/2).
    #[serde(default = "d_max_header_bytes")]
    pub max_header_bytes: u32,
    /// Number of request headers.
    #[serde(default = "d_max_headers")]
    pub max_headers: u32,
    /// Length of the request target (path and query) in bytes; longer gets 414.
    #[serde(default = "d_max_request_line_bytes")]
    pub max_request_line_bytes: u32,
    /// Time allowed to receive a whole request head once it started (slowloris guard), and
    /// for a new connection to send its first request head.
    #[serde(default = "d_header_read_timeout_ms")]
    pub header_read_timeout_ms: u64,
    /// A connection with no request in flight for this long is closed.
    #[serde(default = "d_idle_timeout_ms")]
    pub idle_timeout_ms: u64,
    /// Time allowed for a TLS handshake.
    #[serde(default = "d_tls_handshake_timeout_ms")]
    pub tls_handshake_timeout_ms: u64,
    /// Concurrent streams per HTTP/2 connection.
    #[serde(default = "d_max_concurrent_streams")]
    pub max_concurrent_streams: u32,
    /// Time a trusted proxy has to send its whole PROXY protocol header.
    #[serde(default = "d_proxy_header_timeout_ms")]
    pub proxy_header_timeout_ms: u64,
    /// Longest wait for the next bytes of a request body (nginx's `client_body_timeout`): a
    /// client that stops sending its body for this long gets 408 and its connection closed.
    #[serde(default = "d_body_read_timeout_ms")]
    pub body_read_timeout_ms: u64,
    /// Requests in flight at once across all connections (each HTTP/2 stream counts); further
    /// ones are answered 503.
    #[serde(default = "d_max_requests_in_flight")]
    pub max_requests_in_flight: u32,
    /// Open connections to one backend origin (scheme, host, port); requests beyond wait in a
    /// queue for a free connection.
    #[serde(default = "d_max_connections_per_backend")]
    pub max_connections_per_backend: u32,
    /// Longest a request waits in that queue before it is answered 503.
    #[serde(default = "d_backend_queue_timeout_ms")]
    pub backend_queue_timeout_ms: u64,
    /// Largest body the gateway holds whole: a body read for policies, or one a policy
    /// produces (set-body, find-and-replace, json-to-xml ...). Larger ones fail the request.
    #[serde(default = "d_max_buffered_body_bytes")]
    pub max_buffered_body_bytes: u64,
    /// Memory all buffered bodies may hold at once; a request whose body would go beyond is
    /// answered 503.
    #[serde(default = "d_max_buffered_total_bytes")]
    pub max_buffered_total_bytes: u64,
    /// Wall-clock time one policy expression may run; beyond, the request fails through
    /// `on-error`.
    #[serde(default = "d_expression_timeout_ms")]
    pub expression_timeout_ms: u64,
    /// Memory one policy expression may allocate for strings and collections.
    #[serde(default = "d_expression_memory_bytes")]
    pub expression_memory_bytes: u64,
}

fn d_max_connections() -> u32 {
    10_000
}
fn d_max_header_bytes() -> u32 {
    32 * 1024
}
fn d_max_headers() -> u32 {
    100
}
fn d_max_request_line_bytes() -> u32 {
    8 * 1024
}
fn d_header_read_timeout_ms() -> u64 {
    10_000
}
fn d_idle_timeout_ms() -> u64 {
    // Azure's load balancer drops idle flows after 4 minutes; we do the same.
    240_000
}
fn d_tls_handshake_timeout_ms() -> u64 {
    10_000
}
fn d_max_concurrent_streams() -> u32 {
    200
}
fn d_proxy_header_timeout_ms() -> u64 {
    3_000
}
fn d_body_read_timeout_ms() -> u64 {
    30_000
}
fn d_max_requests_in_flight() -> u32 {
    10_000
}
fn d_max_connections_per_backend() -> u32 {
    256
}
fn d_backend_queue_timeout_ms() -> u64 {
    5_000
}
fn d_max_buffered_body_bytes() -> u64 {
    16 * 1024 * 1024
}
fn d_max_buffered_total_bytes() -> u64 {
    512 * 1024 * 1024
}
fn d_expression_timeout_ms() -> u64 {
    100
}
fn d_expression_memory_bytes() -> u64 {
    16 * 1024 * 1024
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: d_max_connections(),
            max_header_bytes: d_max_header_bytes(),
            max_headers: d_max_headers(),
            max_request_line_bytes: d_max_request_line_bytes(),
            header_read_timeout_ms: d_header_read_timeout_ms(),
            idle_timeout_ms: d_idle_timeout_ms(),
            tls_handshake_timeout_ms: d_tls_handshake_timeout_ms(),
            max_concurrent_streams: d_max_concurrent_streams(),
            proxy_header_timeout_ms: d_proxy_header_timeout_ms(),
            body_read_timeout_ms: d_body_read_timeout_ms(),
            max_requests_in_flight: d_max_requests_in_flight(),
            max_connections_per_backend: d_max_connections_per_backend(),
            backend_queue_timeout_ms: d_backend_queue_timeout_ms(),
            max_buffered_body_bytes: d_max_buffered_body_bytes(),
            max_buffered_total_bytes: d_max_buffered_total_bytes(),
            expression_timeout_ms: d_expression_timeout_ms(),
            expression_memory_bytes: d_expression_memory_bytes(),
        }
    }
}

/// A backend service (APIM's `backends`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Backend {
    /// `http://host:port/base/path` or `https://...`; the API's path prefix is replaced by this path.
    pub url: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Time to wait for the backend's response headers (APIM's forward-request default: 300 s).
    #[serde(default = "d_backend_timeout_ms")]
    pub timeout_ms: u64,
    /// Time to establish the TCP (and TLS) connection; past it the backend counts as unreachable.
    #[serde(default = "d_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    #[serde(default)]
    pub tls: BackendTls,
}

pub(crate) fn d_backend_timeout_ms() -> u64 {
    300_000
}
pub(crate) fn d_connect_timeout_ms() -> u64 {
    10_000
}

/// TLS towards an `https` backend (ARM `properties.tls`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackendTls {
    #[serde(default = "yes", alias = "validateCertificateChain")]
    pub validate_certificate_chain: bool,
    #[serde(default = "yes", alias = "validateCertificateName")]
    pub validate_certificate_name: bool,
    /// Extra trusted CA certificates (PEM), beside the system's roots.
    #[serde(default)]
    pub ca_file: Option<String>,
}

impl Default for BackendTls {
    fn default() -> Self {
        BackendTls {
            validate_certificate_chain: true,
            validate_certificate_name: true,
            ca_file: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Api {
    pub id: String,
    #[serde(default, alias = "displayName")]
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// URL prefix the API is served under (`orders` → `/orders/...`); empty for the root.
    pub path: String,
    /// A `backends` id, or a URL (ARM `serviceUrl`).
    #[serde(alias = "serviceUrl")]
    pub backend: String,
    #[serde(default = "default_protocols")]
    pub protocols: Vec<Protocol>,
    #[serde(default = "yes", alias = "subscriptionRequired")]
    pub subscription_required: bool,
    #[serde(default, alias = "subscriptionKeyParameterNames")]
    pub subscription_key: SubscriptionKeyNames,
    #[serde(default)]
    pub operations: Vec<Operation>,
    /// API-scope policy document (APIM policy XML).
    #[serde(default)]
    pub policies: Option<String>,
    /// Tags (from an imported document's operations or set by hand); the portal searches them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// An imported document's reusable schemas by name (OpenAPI `components.schemas`, Swagger
    /// `definitions`), kept once per API: operation schemas refer to them as
    /// `{"$ref": "#/components/schemas/NAME"}` (NAME JSON-pointer escaped) instead of carrying
    /// copies, and export writes them back (crates/admin/src/oas/).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schemas: Option<serde_json::Value>,
}

fn default_protocols() -> Vec<Protocol> {
    vec![Protocol::Http, Protocol::Https]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Http,
    Https,
    Ws,
    Wss,
}

/// Where the subscription key is looked for (ARM `subscriptionKeyParameterNames`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionKeyNames {
    #[serde(default = "default_key_header")]
    pub header: String,
    #[serde(default = "default_key_query")]
    pub query: String,
}

fn default_key_header() -> String {
    "Ocp-Apim-Subscription-Key".to_string()
}
fn default_key_query() -> String {
    "subscription-key".to_string()
}

impl Default for SubscriptionKeyNames {
    fn default() -> Self {
        SubscriptionKeyNames {
            header: default_key_header(),
            query: default_key_query(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    pub id: String,
    #[serde(default, alias = "displayName")]
    pub display_name: Option<String>,
    /// HTTP method, or `*` for any.
    pub method: String,
    /// `/orders/{id}`, `/search?q={q}`, or the wildcard `/*`.
    #[serde(alias = "urlTemplate")]
    pub url_template: String,
    /// Operation-scope policy document.
    #[serde(default)]
    pub policies: Option<String>,
    /// What an imported OpenAPI document says of the operation (shown by the portal and written
    /// back by export); absent in hand-written configs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<OperationParameter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<OperationRequest>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responses: Vec<OperationResponse>,
}

/// Where a parameter is carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ParameterLocation {
    Path,
    Query,
    Header,
}

/// One parameter of an operation (OpenAPI's Parameter Object, kept as the portal needs it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OperationParameter {
    pub name: String,
    #[serde(rename = "in")]
    pub location: ParameterLocation,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the value, as the document gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<serde_json::Value>,
}

/// One representation (content type) of a request or response body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Representation {
    #[serde(alias = "contentType")]
    pub content_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<serde_json::Value>,
    /// Named examples (`{name: value}`), or a single one under `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub examples: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OperationRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content: Vec<Representation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OperationResponse {
    /// `200`, `4XX` or `default`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content: Vec<Representation>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub id: String,
    #[serde(default, alias = "displayName")]
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Ids of the APIs in this product.
    #[serde(default)]
    pub apis: Vec<String>,
    /// `false` makes an open product: no subscriptions can be made to it.
    #[serde(default = "yes", alias = "subscriptionRequired")]
    pub subscription_required: bool,
    #[serde(default, alias = "approvalRequired")]
    pub approval_required: bool,
    #[serde(default, alias = "subscriptionsLimit")]
    pub subscriptions_limit: Option<u32>,
    #[serde(default)]
    pub state: ProductState,
    #[serde(default)]
    pub policies: Option<String>,
    /// The groups whose members see the product in the developer portal (APIM's product–group
    /// links): `administrators`, `developers`, `guests` or a `groups` id. None: administrators only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProductState {
    /// Differs from Azure's default (`notPublished`): a product written in the file is meant to be used.
    #[default]
    Published,
    #[serde(alias = "notPublished")]
    NotPublished,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Subscription {
    pub id: String,
    #[serde(default, alias = "displayName")]
    pub display_name: Option<String>,
    /// `all`, `product/<id>` or `api/<id>`; Azure's `/apis`, `/products/<id>`, `/apis/<id>` also read.
    pub scope: String,
    /// A `users` id.
    #[serde(default, alias = "ownerId")]
    pub owner: Option<String>,
    #[serde(alias = "primaryKey")]
    pub primary_key: Secret,
    #[serde(default, alias = "secondaryKey")]
    pub secondary_key: Option<Secret>,
    #[serde(default)]
    pub state: SubscriptionState,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SubscriptionState {
    #[default]
    Active,
    Suspended,
    Cancelled,
    Expired,
    Submitted,
    Rejected,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NamedValue {
    pub id: String,
    #[serde(default, alias = "displayName")]
    pub display_name: Option<String>,
    pub value: Secret,
    /// Secret values are never printed or logged.
    #[serde(default)]
    pub secret: bool,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub id: String,
    pub email: String,
    #[serde(default, alias = "firstName")]
    pub first_name: Option<String>,
    #[serde(default, alias = "lastName")]
    pub last_name: Option<String>,
    #[serde(default)]
    pub state: UserState,
    /// The developer portal password as an argon2id PHC string (never the password itself).
    #[serde(
        default,
        alias = "passwordHash",
        skip_serializing_if = "Option::is_none"
    )]
    pub password_hash: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UserState {
    #[default]
    Active,
    Blocked,
    Pending,
    Deleted,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub id: String,
    #[serde(default, alias = "displayName")]
    pub display_name: Option<String>,
    /// `users` ids.
    #[serde(default)]
    pub users: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GlobalPolicies {
    /// Global-scope policy document (APIM policy XML).
    #[serde(default)]
    pub global: Option<String>,
    /// Policy fragments by id (`<fragment>` documents), for `<include-fragment fragment-id="…"/>`
    /// in any scope (APIM's `policyFragments`).
    #[serde(default, alias = "policyFragments")]
    pub fragments: std::collections::BTreeMap<String, String>,
}

#[cfg(test)]
mod imported_operation_tests {
    use super::*;

    #[test]
    fn imported_fields_round_trip_and_stay_absent_when_empty() {
        let yaml = r#"
id: get
method: GET
url_template: "/pets/{id}"
description: one pet
parameters:
  - { name: id, in: path, required: true, schema: { type: integer } }
responses:
  - status: "200"
    description: the pet
    content: [ { content_type: application/json, examples: { default: { id: 1 } } } ]
"#;
        let op: Operation = yaml_serde::from_str(yaml).expect("parses");
        assert_eq!(op.parameters[0].location, ParameterLocation::Path);
        assert_eq!(op.responses[0].content[0].content_type, "application/json");
        let back: Operation =
            serde_json::from_value(serde_json::to_value(&op).expect("ser")).expect("de");
        assert_eq!(back.parameters, op.parameters);
        assert_eq!(back.responses, op.responses);
        let plain: Operation =
            yaml_serde::from_str("{ id: a, method: GET, url_template: / }").expect("parses");
        let v = serde_json::to_value(&plain).expect("ser");
        assert!(v.get("parameters").is_none() && v.get("responses").is_none());
    }

    #[test]
    fn api_schemas_round_trip_and_stay_absent_when_none() {
        let yaml = r##"
id: pets
path: pets
backend: https://pets.test
schemas:
  Pet: { type: object, properties: { owner: { $ref: "#/components/schemas/Owner" } } }
  Owner: { type: string }
"##;
        let api: Api = yaml_serde::from_str(yaml).expect("parses");
        let schemas = api.schemas.as_ref().expect("schemas");
        assert_eq!(
            schemas["Pet"]["properties"]["owner"]["$ref"],
            "#/components/schemas/Owner"
        );
        let back: Api =
            serde_json::from_value(serde_json::to_value(&api).expect("ser")).expect("de");
        assert_eq!(back.schemas, api.schemas);
        let plain: Api =
            yaml_serde::from_str("{ id: a, path: a, backend: https://a.test }").expect("parses");
        assert!(plain.schemas.is_none());
        let v = serde_json::to_value(&plain).expect("ser");
        assert!(v.get("schemas").is_none());
    }
}
