//! The table of APIM policy elements gatehouse knows: their attributes (required, allowed,
//! with a value type checked at load) and what they may contain. APIM itself refuses unknown
//! elements and attributes, so we do too — a typo must not silently disable a policy.

/// What type a literal attribute value must have (expressions and unresolved named values
/// are checked at run time instead).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ty {
    Str,
    Int,
    Bool,
    Enum(&'static [&'static str]),
}

/// What an element may contain.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Content {
    /// Nothing but whitespace and comments.
    Empty,
    /// Text (literal and/or expressions).
    Text,
    /// Policy elements (looked up in the policy table).
    Policies,
    /// Only these child elements (looked up in the sub-element table first, then policies).
    Children(&'static [&'static str]),
    /// Text or these child elements (`trace` had text before `<message>` existed).
    TextOrChildren(&'static [&'static str]),
    /// Anything: the body of `set-body` may be an XML or Liquid template.
    Any,
}

/// Whether gatehouse can run an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Support {
    Yes,
    /// Bound to Azure services; gatehouse deliberately cannot run it.
    AzureOnly,
    /// A real APIM policy gatehouse does not implement yet.
    NotYet,
}

#[derive(Debug)]
pub(crate) struct Spec {
    pub name: &'static str,
    pub required: &'static [(&'static str, Ty)],
    pub optional: &'static [(&'static str, Ty)],
    /// Attributes of which at least one must be present.
    pub one_of: &'static [&'static str],
    pub content: Content,
    pub support: Support,
}

use Content::*;
use Support::*;
use Ty::*;

const BOOL: Ty = Bool;
const EXISTS_ACTION: Ty = Enum(&["override", "skip", "append", "delete"]);
const CACHING_TYPE: Ty = Enum(&["prefer-external", "external", "internal"]);
const MODE: Ty = Enum(&["new", "copy"]);
const SEND_CHILDREN: &[&str] = &[
    "set-url",
    "set-method",
    "set-header",
    "set-body",
    "authentication-certificate",
    "authentication-managed-identity",
    "authentication-basic",
    "proxy",
];

macro_rules! spec {
    ($name:expr, req [$($r:expr),*], opt [$($o:expr),*], one_of [$($x:expr),*], $content:expr, $support:expr) => {
        Spec {
            name: $name,
            required: &[$($r),*],
            optional: &[$($o),*],
            one_of: &[$($x),*],
            content: $content,
            support: $support,
        }
    };
    ($name:expr, req [$($r:expr),*], opt [$($o:expr),*], $content:expr, $support:expr) => {
        spec!($name, req [$($r),*], opt [$($o),*], one_of [], $content, $support)
    };
    ($name:expr, req [$($r:expr),*], opt [$($o:expr),*], $content:expr) => {
        spec!($name, req [$($r),*], opt [$($o),*], one_of [], $content, Yes)
    };
}

/// Policy elements: what may stand in a section, a fragment or a policy container.
pub(crate) static POLICIES: &[Spec] = &[
    spec!("base", req [], opt [], Empty),
    // Control flow.
    spec!("choose", req [], opt [], Children(&["when", "otherwise"])),
    spec!("set-variable", req [("name", Str), ("value", Str)], opt [], Empty),
    spec!("return-response", req [], opt [("response-variable-name", Str)],
        Children(&["set-status", "set-header", "set-body"])),
    spec!("mock-response", req [], opt [("status-code", Int), ("content-type", Str), ("index", Int)], Empty),
    spec!("retry", req [("condition", Str), ("count", Int), ("interval", Int)],
        opt [("max-interval", Int), ("delta", Int), ("first-fast-retry", BOOL)], Policies),
    spec!("wait", req [], opt [("for", Enum(&["all", "any"]))], Policies),
    spec!("include-fragment", req [("fragment-id", Str)], opt [], Empty),
    spec!(
        "trace",
        req[("source", Str)],
        opt[("severity", Enum(&["verbose", "information", "error"]))],
        TextOrChildren(&["message", "metadata"])
    ),
    spec!("limit-concurrency", req [("key", Str), ("max-count", Int)], opt [], Policies),
    // Routing.
    spec!("set-backend-service", req [],
        opt [("base-url", Str), ("backend-id", Str), ("sf-resolve-condition", Str),
             ("sf-service-instance-name", Str), ("sf-partition-key", Str), ("sf-listener-name", Str),
             ("sf-replica-type", Str)],
        one_of ["base-url", "backend-id"], Empty, Yes),
    spec!(
        "rewrite-uri",
        req[("template", Str)],
        opt[("copy-unmatched-params", BOOL)],
        Empty
    ),
    spec!("forward-request", req [],
        opt [("timeout", Int), ("timeout-ms", Int), ("continue-timeout", Int), ("follow-redirects", BOOL),
             ("buffer-request-body", BOOL), ("buffer-response", BOOL),
             ("fail-on-error-status-code", BOOL), ("http-version", Enum(&["1", "2", "2or1"]))], Empty),
    spec!("set-method", req [], opt [], Text),
    // Transformation.
    spec!(
        "set-header",
        req[("name", Str)],
        opt[("exists-action", EXISTS_ACTION)],
        Children(&["value"])
    ),
    spec!(
        "set-query-parameter",
        req[("name", Str)],
        opt[("exists-action", EXISTS_ACTION)],
        Children(&["value"])
    ),
    spec!("set-body", req [],
        opt [("template", Enum(&["liquid", "none"])), ("xsi-nil", Enum(&["blank", "null"])), ("parse-date", BOOL)], Any),
    spec!(
        "set-status",
        req[("code", Int)],
        opt[("reason", Str)],
        Empty
    ),
    spec!("find-and-replace", req [("from", Str), ("to", Str)], opt [], Empty),
    spec!("json-to-xml", req [("apply", Enum(&["always", "content-type-json"]))],
        opt [("consider-accept-header", BOOL), ("parse-date", BOOL), ("namespace-separator", Str),
             ("namespace-prefix", Str), ("attribute-block-name", Str)], Empty),
    spec!("xml-to-json", req [("kind", Enum(&["javascript-friendly", "direct"])), ("apply", Enum(&["always", "content-type-xml"]))],
        opt [("consider-accept-header", BOOL), ("always-array-child-elements", BOOL)], Empty),
    // Access restriction and authentication.
    spec!("ip-filter", req [("action", Enum(&["allow", "forbid"]))], opt [], Children(&["address", "address-range"])),
    spec!("check-header", req [("name", Str), ("failed-check-httpcode", Int), ("failed-check-error-message", Str), ("ignore-case", BOOL)],
        opt [], Children(&["value"])),
    spec!("validate-jwt", req [],
        opt [("header-name", Str), ("query-parameter-name", Str), ("token-value", Str),
             ("failed-validation-httpcode", Int), ("failed-validation-error-message", Str),
             ("require-expiration-time", BOOL), ("require-scheme", Str), ("require-signed-tokens", BOOL),
             ("clock-skew", Int), ("output-token-variable-name", Str)],
        one_of ["header-name", "query-parameter-name", "token-value"],
        Children(&["openid-config", "issuer-signing-keys", "decryption-keys", "audiences", "issuers", "required-claims"]), Yes),
    // validate-jwt against Microsoft Entra ID's OpenID configuration for the tenant.
    spec!("validate-azure-ad-token", req [("tenant-id", Str)],
        opt [("header-name", Str), ("query-parameter-name", Str), ("token-value", Str),
             ("authentication-endpoint", Str), ("failed-validation-httpcode", Int),
             ("failed-validation-error-message", Str), ("output-token-variable-name", Str)],
        Children(&["client-application-ids", "backend-application-ids", "audiences", "required-claims",
                   "decryption-keys"])),
    spec!("authentication-basic", req [("username", Str), ("password", Str)], opt [], Empty),
    spec!("authentication-certificate", req [],
        opt [("thumbprint", Str), ("certificate-id", Str), ("body", Str), ("password", Str)],
        one_of ["thumbprint", "certificate-id", "body"], Empty, Yes),
    spec!("cors", req [], opt [("allow-credentials", BOOL), ("terminate-unmatched-request", BOOL)],
        Children(&["allowed-origins", "allowed-methods", "allowed-headers", "expose-headers"])),
    // Limits.
    spec!("rate-limit", req [("calls", Int), ("renewal-period", Int)],
        opt [("retry-after-header-name", Str), ("retry-after-variable-name", Str), ("remaining-calls-header-name", Str),
             ("remaining-calls-variable-name", Str), ("total-calls-header-name", Str)], Children(&["api"])),
    spec!("rate-limit-by-key", req [("calls", Int), ("renewal-period", Int), ("counter-key", Str)],
        opt [("increment-condition", BOOL), ("increment-count", Int), ("retry-after-header-name", Str),
             ("retry-after-variable-name", Str), ("remaining-calls-header-name", Str),
             ("remaining-calls-variable-name", Str), ("total-calls-header-name", Str)], Empty),
    spec!("quota", req [("renewal-period", Int)], opt [("calls", Int), ("bandwidth", Int)],
        one_of ["calls", "bandwidth"], Children(&["api"]), Yes),
    spec!("quota-by-key", req [("renewal-period", Int), ("counter-key", Str)],
        opt [("calls", Int), ("bandwidth", Int), ("increment-condition", BOOL), ("increment-count", Int),
             ("first-period-start", Str)],
        one_of ["calls", "bandwidth"], Empty, Yes),
    // Caching.
    spec!("cache-lookup", req [("vary-by-developer", BOOL), ("vary-by-developer-groups", BOOL)],
        opt [("caching-type", CACHING_TYPE), ("downstream-caching-type", Enum(&["none", "private", "public"])),
             ("must-revalidate", BOOL), ("allow-private-response-caching", BOOL)],
        Children(&["vary-by-header", "vary-by-query-parameter"])),
    spec!("cache-store", req [], opt [("duration", Int), ("cache-response", BOOL)], Empty),
    spec!("cache-lookup-value", req [("key", Str), ("variable-name", Str)],
        opt [("default-value", Str), ("caching-type", CACHING_TYPE)], Empty),
    spec!("cache-store-value", req [("key", Str), ("value", Str), ("duration", Int)], opt [("caching-type", CACHING_TYPE)], Empty),
    spec!(
        "cache-remove-value",
        req[("key", Str)],
        opt[("caching-type", CACHING_TYPE)],
        Empty
    ),
    // Calls.
    spec!("send-request", req [("response-variable-name", Str)],
        opt [("mode", MODE), ("timeout", Int), ("ignore-error", BOOL)], Children(SEND_CHILDREN)),
    spec!("send-one-way-request", req [], opt [("mode", MODE), ("timeout", Int)], Children(SEND_CHILDREN)),
    // Azure-only: gatehouse deliberately cannot run these.
    spec!("authentication-managed-identity", req [("resource", Str)],
        opt [("client-id", Str), ("output-token-variable-name", Str), ("ignore-error", BOOL)], Empty, AzureOnly),
    spec!("log-to-eventhub", req [("logger-id", Str)], opt [("partition-id", Str), ("partition-key", Str)], Text, AzureOnly),
    spec!("emit-metric", req [("name", Str)], opt [("namespace", Str), ("value", Str)], Children(&["dimension"]), AzureOnly),
    spec!("publish-to-dapr", req [], opt [("pubsub-name", Str), ("topic", Str), ("ignore-error", BOOL),
        ("response-variable-name", Str), ("timeout", Int), ("template", Str), ("content-type", Str)], Any, AzureOnly),
    spec!("invoke-dapr-binding", req [], opt [("name", Str), ("operation", Str), ("ignore-error", BOOL),
        ("response-variable-name", Str), ("timeout", Int), ("template", Str), ("content-type", Str)], Any, AzureOnly),
    spec!("get-authorization-context", req [], opt [("provider-id", Str), ("authorization-id", Str),
        ("context-variable-name", Str), ("identity-type", Str), ("identity", Str), ("ignore-error", BOOL)], Empty, AzureOnly),
    spec!("cosmosdb-data-source", req [], opt [], Any, AzureOnly),
    // Real APIM policies not implemented yet.
    spec!("jsonp", req [("callback-parameter-name", Str)], opt [], Empty, NotYet),
    spec!("redirect-content-urls", req [], opt [], Empty, NotYet),
    spec!("xsl-transform", req [], opt [], Any, NotYet),
    spec!("validate-content", req [], opt [], Any, NotYet),
    spec!("validate-parameters", req [], opt [], Any, NotYet),
    spec!("validate-headers", req [], opt [], Any, NotYet),
    spec!("validate-status-code", req [], opt [], Any, NotYet),
    spec!("validate-client-certificate", req [], opt [], Any, NotYet),
    spec!("validate-graphql-request", req [], opt [], Any, NotYet),
    spec!("set-graphql-resolver", req [], opt [], Any, NotYet),
    spec!("http-data-source", req [], opt [], Any, NotYet),
    spec!("sql-data-source", req [], opt [], Any, NotYet),
];

/// Sub-elements, valid only under the listed parents.
pub(crate) static SUB_ELEMENTS: &[(&[&str], Spec)] = &[
    (
        &["choose"],
        spec!("when", req [("condition", BOOL)], opt [], Policies),
    ),
    (&["choose"], spec!("otherwise", req [], opt [], Policies)),
    (
        &["set-header", "set-query-parameter", "check-header", "claim"],
        spec!("value", req [], opt [], Text),
    ),
    (&["trace"], spec!("message", req [], opt [], Text)),
    (
        &["trace"],
        spec!("metadata", req [("name", Str), ("value", Str)], opt [], Empty),
    ),
    (&["ip-filter"], spec!("address", req [], opt [], Text)),
    (
        &["ip-filter"],
        spec!("address-range", req [("from", Str), ("to", Str)], opt [], Empty),
    ),
    (
        &["validate-jwt"],
        spec!("openid-config", req [("url", Str)], opt [], Empty),
    ),
    (
        &["validate-jwt"],
        spec!("issuer-signing-keys", req [], opt [], Children(&["key"])),
    ),
    (
        &["validate-jwt", "validate-azure-ad-token"],
        spec!("decryption-keys", req [], opt [], Children(&["key"])),
    ),
    (
        &["issuer-signing-keys", "decryption-keys"],
        spec!("key", req [],
        opt [("id", Str), ("certificate-id", Str), ("n", Str), ("e", Str), ("alg", Str)], Text),
    ),
    (
        &["validate-jwt", "validate-azure-ad-token"],
        spec!("audiences", req [], opt [], Children(&["audience"])),
    ),
    (&["audiences"], spec!("audience", req [], opt [], Text)),
    (
        &["validate-azure-ad-token"],
        spec!("client-application-ids", req [], opt [], Children(&["application-id"])),
    ),
    (
        &["validate-azure-ad-token"],
        spec!("backend-application-ids", req [], opt [], Children(&["application-id"])),
    ),
    (
        &["client-application-ids", "backend-application-ids"],
        spec!("application-id", req [], opt [], Text),
    ),
    (
        &["validate-jwt"],
        spec!("issuers", req [], opt [], Children(&["issuer"])),
    ),
    (&["issuers"], spec!("issuer", req [], opt [], Text)),
    (
        &["validate-jwt", "validate-azure-ad-token"],
        spec!("required-claims", req [], opt [], Children(&["claim"])),
    ),
    (
        &["required-claims"],
        spec!("claim", req [("name", Str)],
        opt [("match", Enum(&["all", "any"])), ("separator", Str)], Children(&["value"])),
    ),
    (
        &["cors"],
        spec!("allowed-origins", req [], opt [], Children(&["origin"])),
    ),
    (&["allowed-origins"], spec!("origin", req [], opt [], Text)),
    (
        &["cors"],
        spec!("allowed-methods", req [], opt [("preflight-result-max-age", Int)], Children(&["method"])),
    ),
    (&["allowed-methods"], spec!("method", req [], opt [], Text)),
    (
        &["cors"],
        spec!("allowed-headers", req [], opt [], Children(&["header"])),
    ),
    (
        &["cors"],
        spec!("expose-headers", req [], opt [], Children(&["header"])),
    ),
    (
        &["allowed-headers", "expose-headers"],
        spec!("header", req [], opt [], Text),
    ),
    (
        &["rate-limit", "quota"],
        spec!("api", req [], opt [("name", Str), ("id", Str), ("calls", Int),
        ("renewal-period", Int), ("bandwidth", Int)], Children(&["operation"])),
    ),
    (
        &["api"],
        spec!("operation", req [], opt [("name", Str), ("id", Str), ("calls", Int),
        ("renewal-period", Int), ("bandwidth", Int)], Empty),
    ),
    (
        &["cache-lookup"],
        spec!("vary-by-header", req [], opt [], Text),
    ),
    (
        &["cache-lookup"],
        spec!("vary-by-query-parameter", req [], opt [], Text),
    ),
    (
        &["send-request", "send-one-way-request"],
        spec!("set-url", req [], opt [], Text),
    ),
    (
        &["send-request", "send-one-way-request"],
        spec!("proxy", req [("url", Str)],
        opt [("username", Str), ("password", Str)], Empty),
    ),
    (
        &["emit-metric"],
        spec!("dimension", req[("name", Str)], opt[("value", Str)], Empty),
    ),
];

/// A top-level policy by name.
pub(crate) fn policy(name: &str) -> Option<&'static Spec> {
    POLICIES.iter().find(|s| s.name == name)
}

/// The spec of `child` under `parent`: sub-elements first, then policies if the parent
/// accepts them.
pub(crate) fn child(parent: &Spec, child: &str) -> Option<&'static Spec> {
    let listed = match parent.content {
        Policies => return policy(child).filter(|s| s.name != "base"),
        Children(names) | TextOrChildren(names) => names.contains(&child),
        Empty | Text | Any => false,
    };
    if !listed {
        return None;
    }
    SUB_ELEMENTS
        .iter()
        .find(|(parents, s)| s.name == child && parents.contains(&parent.name))
        .map(|(_, s)| s)
        .or_else(|| policy(child))
}

/// Is `name` an Azure-only policy family (matched by prefix for the AI gateway policies)?
pub(crate) fn azure_only_family(name: &str) -> bool {
    name.starts_with("azure-openai-") || name.starts_with("llm-")
}
