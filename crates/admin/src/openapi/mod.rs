//! The OpenAPI document of `/openapi.json`, built with utoipa from the same table of paths the
//! dispatcher serves (crates/admin/src/dispatch.rs): each path in the short form and in the ARM
//! form, every operation with its success answers in the schema of its resource (envelope and
//! `properties` as crates/admin/src/resources/ writes them), its request body schema (required
//! fields as the handlers require them), and the error answers in the error schema.
//!
//! The schemas are written as JSON and read into utoipa's types: a table of fields per resource
//! is shorter and easier to compare with Azure's spec than the builder calls would be.

mod schemas;

use crate::route::API_VERSIONS;
use schemas::{RESOURCES, network_schemas, schemas};
use serde_json::{Value, json};
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItemBuilder, PathsBuilder,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApiBuilder, Ref, RefOr, Required,
    ResponseBuilder, ResponsesBuilder,
};

/// One operation: method, success answers (status, response schema; empty: no body), and the
/// request body schema (empty: none).
type Method = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
);

/// What a path serves.
enum Serves {
    /// GET/HEAD/PUT/PATCH/DELETE of one resource of this schema (`{name}Create` is the PUT
    /// body, `{name}Update` the PATCH body).
    Item(&'static str),
    /// GET of a list `{name}Collection`.
    List(&'static str),
    /// `products/{p}/apis/{a}`, `groups/{g}/users/{u}`: GET/HEAD/PUT/DELETE answering the
    /// linked resource.
    Link(&'static str),
    Custom(&'static [Method]),
}
use Serves::{Custom, Item, Link, List};

/// Each path below the service. HEAD is served wherever GET answers one resource (items,
/// links, the service, the network section, tenant access): the same status and ETag, no body.
const PATHS: &[(&str, Serves)] = &[
    (
        "",
        Custom(&[
            ("get", &[("200", "Service")], ""),
            ("head", &[("200", "")], ""),
            ("patch", &[("200", "Service")], "ServiceUpdate"),
        ]),
    ),
    (
        "/gatehouse/network",
        Custom(&[
            ("get", &[("200", "Network")], ""),
            ("head", &[("200", "")], ""),
            ("put", &[("200", "Network")], "NetworkUpdate"),
            ("patch", &[("200", "Network")], "NetworkPatch"),
        ]),
    ),
    (
        "/networkstatus",
        Custom(&[("get", &[("200", "NetworkStatus")], "")]),
    ),
    (
        "/locations/{locationName}/networkstatus",
        Custom(&[("get", &[("200", "NetworkStatusContract")], "")]),
    ),
    (
        "/gatehouse/nodes",
        Custom(&[("get", &[("200", "NodeCollection")], "")]),
    ),
    (
        "/applynetworkconfigurationupdates",
        Custom(&[("post", &[("200", "ApplyNetworkReport")], "")]),
    ),
    (
        "/tenant",
        Custom(&[("get", &[("200", "TenantAccessCollection")], "")]),
    ),
    (
        "/tenant/access",
        Custom(&[
            ("get", &[("200", "TenantAccess")], ""),
            ("head", &[("200", "")], ""),
        ]),
    ),
    (
        "/tenant/access/listSecrets",
        Custom(&[("post", &[("200", "TenantAccessSecrets")], "")]),
    ),
    (
        "/tenant/access/regeneratePrimaryKey",
        Custom(&[("post", &[("204", "")], "")]),
    ),
    (
        "/tenant/access/regenerateSecondaryKey",
        Custom(&[("post", &[("204", "")], "")]),
    ),
    (
        "/subscriptions/{sid}/listSecrets",
        Custom(&[("post", &[("200", "SubscriptionKeys")], "")]),
    ),
    (
        "/subscriptions/{sid}/regeneratePrimaryKey",
        Custom(&[("post", &[("204", "")], "")]),
    ),
    (
        "/subscriptions/{sid}/regenerateSecondaryKey",
        Custom(&[("post", &[("204", "")], "")]),
    ),
    (
        "/namedValues/{namedValueId}/listValue",
        Custom(&[("post", &[("200", "NamedValueSecret")], "")]),
    ),
    ("/products/{productId}/apis/{apiId}", Link("Api")),
    ("/groups/{groupId}/users/{userId}", Link("User")),
    ("/products/{productId}/groups/{groupId}", Link("Group")),
    ("/products/{productId}/groups", List("Group")),
    (
        "/portalsettings",
        Custom(&[("get", &[("200", "PortalSettingsCollection")], "")]),
    ),
    (
        "/portalsettings/signin",
        Custom(&[
            ("get", &[("200", "PortalSignin")], ""),
            ("head", &[("200", "")], ""),
            ("put", &[("200", "PortalSignin")], "PortalSigninUpdate"),
            ("patch", &[("200", "PortalSignin")], "PortalSigninUpdate"),
        ]),
    ),
    (
        "/portalsettings/signup",
        Custom(&[
            ("get", &[("200", "PortalSignup")], ""),
            ("head", &[("200", "")], ""),
            ("put", &[("200", "PortalSignup")], "PortalSignupUpdate"),
            ("patch", &[("200", "PortalSignup")], "PortalSignupUpdate"),
        ]),
    ),
    (
        "/gatehouse/portal",
        Custom(&[
            ("get", &[("200", "Portal")], ""),
            ("head", &[("200", "")], ""),
            ("put", &[("200", "Portal")], "PortalUpdate"),
            ("patch", &[("200", "Portal")], "PortalUpdate"),
        ]),
    ),
    ("/apis", List("Api")),
    ("/apis/{apiId}", Item("Api")),
    ("/apis/{apiId}/operations", List("Operation")),
    ("/apis/{apiId}/operations/{operationId}", Item("Operation")),
    ("/apis/{apiId}/policies", List("Policy")),
    ("/apis/{apiId}/policies/policy", Item("Policy")),
    (
        "/apis/{apiId}/operations/{operationId}/policies",
        List("Policy"),
    ),
    (
        "/apis/{apiId}/operations/{operationId}/policies/policy",
        Item("Policy"),
    ),
    ("/products", List("Product")),
    ("/products/{productId}", Item("Product")),
    ("/products/{productId}/apis", List("Api")),
    ("/products/{productId}/policies", List("Policy")),
    ("/products/{productId}/policies/policy", Item("Policy")),
    ("/subscriptions", List("Subscription")),
    ("/subscriptions/{sid}", Item("Subscription")),
    ("/users", List("User")),
    ("/users/{userId}", Item("User")),
    (
        "/users/{userId}/token",
        Custom(&[("post", &[("200", "UserTokenResult")], "UserTokenParameters")]),
    ),
    ("/groups", List("Group")),
    ("/groups/{groupId}", Item("Group")),
    ("/groups/{groupId}/users", List("User")),
    ("/namedValues", List("NamedValue")),
    ("/namedValues/{namedValueId}", Item("NamedValue")),
    ("/backends", List("Backend")),
    ("/backends/{backendId}", Item("Backend")),
    ("/policies", List("Policy")),
    ("/policies/policy", Item("Policy")),
    ("/policyFragments", List("PolicyFragment")),
    ("/policyFragments/{id}", Item("PolicyFragment")),
    (
        "/privateEndpointConnections",
        List("PrivateEndpointConnection"),
    ),
    (
        "/privateEndpointConnections/{privateEndpointConnectionName}",
        Item("PrivateEndpointConnection"),
    ),
];

/// The methods of a path with their answers and request bodies.
/// A method with its answers (status, schema) and its request body schema.
type Served = (&'static str, Vec<(&'static str, String)>, String);

fn methods(serves: &Serves) -> Vec<Served> {
    let custom = |m: &[Method]| {
        m.iter()
            .map(|(m, a, b)| {
                (
                    *m,
                    a.iter().map(|(s, n)| (*s, n.to_string())).collect(),
                    b.to_string(),
                )
            })
            .collect()
    };
    match serves {
        Custom(m) => custom(m),
        List(n) => vec![(
            "get",
            vec![("200", format!("{n}Collection"))],
            String::new(),
        )],
        Item(n) => vec![
            ("get", vec![("200", n.to_string())], String::new()),
            ("head", vec![("200", String::new())], String::new()),
            (
                "put",
                vec![("200", n.to_string()), ("201", n.to_string())],
                format!("{n}Create"),
            ),
            ("patch", vec![("200", n.to_string())], format!("{n}Update")),
            (
                "delete",
                vec![("200", String::new()), ("204", String::new())],
                String::new(),
            ),
        ],
        Link(n) => vec![
            ("get", vec![("200", n.to_string())], String::new()),
            ("head", vec![("200", String::new())], String::new()),
            (
                "put",
                vec![("200", n.to_string()), ("201", n.to_string())],
                String::new(),
            ),
            (
                "delete",
                vec![("200", String::new()), ("204", String::new())],
                String::new(),
            ),
        ],
    }
}

/// The `properties` a PUT of the resource named `schema` requires (`Api`, `Policy`, …).
/// Properties of which a PUT must carry at least one (the first names the error's target): an
/// API's backend is `serviceUrl` or gatehouse's `backendId`. The document cannot say "either".
pub(crate) fn one_required_on_put(schema: &str) -> &'static [&'static str] {
    match schema {
        "Api" => &["serviceUrl", "backendId"],
        _ => &[],
    }
}

pub(crate) fn required_on_put(schema: &str) -> Vec<&'static str> {
    RESOURCES
        .iter()
        .find(|(n, ..)| *n == schema)
        .map(|(_, _, _, written)| {
            written
                .iter()
                .filter_map(|(n, _)| n.strip_suffix('*'))
                .collect()
        })
        .unwrap_or_default()
}

/// The first resource name in the path that model validation would refuse (1-80 letters,
/// digits, '-', '_', '.'; crates/model/src/validate.rs): the dispatcher answers 400.
pub(crate) fn bad_name(segments: &[String]) -> Option<String> {
    PATHS.iter().find_map(|(rel, _)| {
        let pattern: Vec<&str> = rel.split('/').filter(|s| !s.is_empty()).collect();
        if pattern.len() != segments.len()
            || !pattern
                .iter()
                .zip(segments)
                .all(|(p, s)| p.starts_with('{') || p == s)
        {
            return None;
        }
        pattern
            .iter()
            .zip(segments)
            .filter(|(p, _)| p.starts_with('{'))
            .map(|(_, s)| s)
            .find(|s| {
                s.is_empty()
                    || s.len() > 80
                    || !s
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            })
            .cloned()
    })
}

/// The methods served on a path below the service (segments), upper case; `None` when no
/// path of the table matches. The dispatcher answers 405 with `Allow` for the others.
pub(crate) fn allowed(segments: &[String]) -> Option<Vec<&'static str>> {
    PATHS.iter().find_map(|(rel, serves)| {
        let pattern: Vec<&str> = rel.split('/').filter(|s| !s.is_empty()).collect();
        let matches = pattern.len() == segments.len()
            && pattern
                .iter()
                .zip(segments)
                .all(|(p, s)| p.starts_with('{') || p == s);
        matches.then(|| {
            methods(serves)
                .into_iter()
                .map(|(m, _, _)| match m {
                    "get" => "GET",
                    "head" => "HEAD",
                    "put" => "PUT",
                    "patch" => "PATCH",
                    "delete" => "DELETE",
                    _ => "POST",
                })
                .collect()
        })
    })
}

const ARM_PREFIX: &str = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ApiManagement/service/{serviceName}";

/// Resource names as model validation accepts them (crates/model/src/validate.rs `valid_id`);
/// the ARM prefix's own parameters are free text.
fn path_param(name: &str) -> utoipa::openapi::path::Parameter {
    let schema = if matches!(name, "subscriptionId" | "resourceGroupName" | "serviceName") {
        schemas::pattern("^[^/]+$")
    } else {
        schemas::pattern("^[A-Za-z0-9._-]{1,80}$")
    };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .schema(to_schema(schema))
        .build()
}

fn query_param(name: &str, required: bool, schema: Value) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(if required {
            Required::True
        } else {
            Required::False
        })
        .schema(to_schema(schema))
        .build()
}

/// A JSON schema written above, read into utoipa's type (the literals are ours: a failure is
/// a bug that the unit test below catches).
fn to_schema(v: Value) -> Option<RefOr<Schema>> {
    serde_json::from_value(v).ok()
}

fn json_response(desc: &str, schema: &str) -> utoipa::openapi::Response {
    let b = ResponseBuilder::new().description(desc);
    if schema.is_empty() {
        return b.build();
    }
    b.content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(schema)))
            .build(),
    )
    .build()
}

/// Error answers every operation can give: api-version or body (400), token (401), unknown
/// resource or service (404), method (405), store read-only or conflict (409), If-Match (412),
/// body size (413), the store failing (500).
const ERRORS: &[&str] = &["400", "401", "404", "405", "409", "412", "413", "500"];

/// What `$filter` reads (crates/admin/src/query.rs): clauses `field eq|ne 'v'` or
/// `contains|startswith|endswith(field,'v')` joined with ` and `.
const FILTER_PATTERN: &str = concat!(
    "^(((name|displayName|path) (eq|ne) '[^']*')|((contains|startswith|endswith)\\((name|displayName|path), ?'[^']*'\\)))",
    "( and (((name|displayName|path) (eq|ne) '[^']*')|((contains|startswith|endswith)\\((name|displayName|path), ?'[^']*'\\))))*$"
);

pub fn document() -> Value {
    let all = schemas();
    let mut paths = PathsBuilder::new();
    for arm in [false, true] {
        for (rel, serves) in PATHS {
            let full = if arm {
                format!("{ARM_PREFIX}{rel}")
            } else if rel.is_empty() {
                "/".to_string()
            } else {
                rel.to_string()
            };
            let names: Vec<String> = full
                .split('/')
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .map(str::to_string)
                .collect();
            let mut item = PathItemBuilder::new();
            for (method, answers, body) in methods(serves) {
                let mut responses = ResponsesBuilder::new();
                for (status, schema) in &answers {
                    responses = responses.response(*status, json_response("success", schema));
                }
                for status in ERRORS {
                    // A HEAD answer has no body.
                    let schema = if method == "head" { "" } else { "Error" };
                    responses = responses.response(*status, json_response("error", schema));
                }
                let mut op = OperationBuilder::new().responses(responses.build());
                for n in &names {
                    op = op.parameter(path_param(n));
                }
                op = op.parameter(query_param(
                    "api-version",
                    true,
                    json!({"type": "string", "enum": API_VERSIONS}),
                ));
                if matches!(serves, List(_)) {
                    op = op
                        .parameter(query_param(
                            "$filter",
                            false,
                            schemas::pattern(FILTER_PATTERN),
                        ))
                        .parameter(query_param(
                            "$top",
                            false,
                            json!({"type": "integer", "minimum": 0, "maximum": i32::MAX}),
                        ))
                        .parameter(query_param(
                            "$skip",
                            false,
                            json!({"type": "integer", "minimum": 0, "maximum": i32::MAX}),
                        ));
                }
                if !body.is_empty() {
                    // Required when its schema requires something; otherwise an absent body
                    // is an empty `properties`.
                    let required = all
                        .iter()
                        .any(|(n, s)| *n == body && s.get("required").is_some());
                    op = op.request_body(Some(
                        RequestBodyBuilder::new()
                            .required(Some(if required {
                                Required::True
                            } else {
                                Required::False
                            }))
                            .content(
                                "application/json",
                                ContentBuilder::new()
                                    .schema(Some(Ref::from_schema_name(&body)))
                                    .build(),
                            )
                            .build(),
                    ));
                }
                let m = match method {
                    "get" => HttpMethod::Get,
                    "head" => HttpMethod::Head,
                    "put" => HttpMethod::Put,
                    "patch" => HttpMethod::Patch,
                    "delete" => HttpMethod::Delete,
                    _ => HttpMethod::Post,
                };
                item = item.operation(m, op.build());
            }
            paths = paths.path(full, item.build());
        }
    }
    let mut components = ComponentsBuilder::new().security_scheme(
        "sas",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "Authorization",
            "SharedAccessSignature uid=…&ex=…&sn=… (gatehouse admin token)",
        ))),
    );
    for (name, schema) in all {
        if let Some(s) = to_schema(schema) {
            components = components.schema(name, s);
        }
    }
    let doc = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("gatehouse management API")
                .version("2022-08-01")
                .build(),
        )
        .paths(paths.build())
        .components(Some(components.build()))
        .security(Some(vec![SecurityRequirement::new(
            "sas",
            Vec::<String>::new(),
        )]))
        .build();
    let mut doc = serde_json::to_value(&doc).unwrap_or(Value::Null);
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        network_schemas(schemas);
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_reads_into_utoipa() {
        for (name, s) in schemas() {
            assert!(to_schema(s).is_some(), "schema {name} does not read");
        }
    }

    #[test]
    fn every_referenced_schema_exists() {
        let doc = document().to_string();
        let names: Vec<String> = document()["components"]["schemas"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        for part in doc.split("#/components/schemas/").skip(1) {
            let name: String = part.chars().take_while(|c| *c != '"').collect();
            assert!(
                names.contains(&name),
                "{name} is referenced but not defined"
            );
        }
    }

    #[test]
    fn allowed_methods() {
        let s = |p: &str| p.split('/').map(str::to_string).collect::<Vec<_>>();
        assert_eq!(allowed(&s("apis")), Some(vec!["GET"]));
        assert_eq!(
            allowed(&s("apis/a")),
            Some(vec!["GET", "HEAD", "PUT", "PATCH", "DELETE"])
        );
        assert_eq!(allowed(&s("nothing/here")), None);
    }
}
