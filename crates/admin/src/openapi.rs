//! The OpenAPI document of `/openapi.json`, built with utoipa's builders from the same table
//! of paths the dispatcher serves (crates/admin/src/dispatch.rs): each path in the short form
//! and in the ARM form, every operation with its success answers and the error answers
//! (400/401/404/405/409/412/413) in the error schema.

use serde_json::Value;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItemBuilder, PathsBuilder,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApiBuilder, Ref, Required, ResponseBuilder,
    ResponsesBuilder,
};

/// A method with its success answers (status, schema name; empty: no body).
type Method = (&'static str, &'static [(&'static str, &'static str)]);

/// Each path below the service with its methods.
const PATHS: &[(&str, &[Method])] = &[
    (
        "",
        &[
            ("get", &[("200", "Resource")]),
            ("patch", &[("200", "Resource")]),
        ],
    ),
    (
        "/gatehouse/network",
        &[
            ("get", &[("200", "Resource")]),
            ("put", &[("200", "Resource")]),
            ("patch", &[("200", "Resource")]),
        ],
    ),
    ("/networkstatus", &[("get", &[("200", "Any")])]),
    (
        "/applynetworkconfigurationupdates",
        &[("post", &[("200", "Any")])],
    ),
    ("/tenant/access", &[("get", &[("200", "Resource")])]),
    ("/tenant/access/listSecrets", &[("post", &[("200", "Any")])]),
    (
        "/tenant/access/regeneratePrimaryKey",
        &[("post", &[("204", "")])],
    ),
    (
        "/tenant/access/regenerateSecondaryKey",
        &[("post", &[("204", "")])],
    ),
    (
        "/subscriptions/{sid}/listSecrets",
        &[("post", &[("200", "Any")])],
    ),
    (
        "/subscriptions/{sid}/regeneratePrimaryKey",
        &[("post", &[("204", "")])],
    ),
    (
        "/subscriptions/{sid}/regenerateSecondaryKey",
        &[("post", &[("204", "")])],
    ),
    (
        "/namedValues/{namedValueId}/listValue",
        &[("post", &[("200", "Any")])],
    ),
    ("/products/{productId}/apis/{apiId}", LINK),
    ("/groups/{groupId}/users/{userId}", LINK),
    ("/apis", LIST),
    ("/apis/{apiId}", ITEM),
    ("/apis/{apiId}/operations", LIST),
    ("/apis/{apiId}/operations/{operationId}", ITEM),
    ("/apis/{apiId}/policies", LIST),
    ("/apis/{apiId}/policies/policy", ITEM),
    ("/apis/{apiId}/operations/{operationId}/policies", LIST),
    (
        "/apis/{apiId}/operations/{operationId}/policies/policy",
        ITEM,
    ),
    ("/products", LIST),
    ("/products/{productId}", ITEM),
    ("/products/{productId}/apis", LIST),
    ("/products/{productId}/policies", LIST),
    ("/products/{productId}/policies/policy", ITEM),
    ("/subscriptions", LIST),
    ("/subscriptions/{sid}", ITEM),
    ("/users", LIST),
    ("/users/{userId}", ITEM),
    ("/groups", LIST),
    ("/groups/{groupId}", ITEM),
    ("/groups/{groupId}/users", LIST),
    ("/namedValues", LIST),
    ("/namedValues/{namedValueId}", ITEM),
    ("/backends", LIST),
    ("/backends/{backendId}", ITEM),
    ("/policies", LIST),
    ("/policies/policy", ITEM),
    ("/policyFragments", LIST),
    ("/policyFragments/{id}", ITEM),
    ("/privateEndpointConnections", LIST),
    (
        "/privateEndpointConnections/{privateEndpointConnectionName}",
        ITEM,
    ),
];

const LIST: &[Method] = &[("get", &[("200", "List")])];
const ITEM: &[Method] = &[
    ("get", &[("200", "Resource")]),
    ("put", &[("200", "Resource"), ("201", "Resource")]),
    ("patch", &[("200", "Resource")]),
    ("delete", &[("200", ""), ("204", "")]),
];
const LINK: &[Method] = &[
    ("get", &[("200", "Resource")]),
    ("put", &[("200", "Resource"), ("201", "Resource")]),
    ("delete", &[("200", ""), ("204", "")]),
];

const ARM_PREFIX: &str = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ApiManagement/service/{serviceName}";

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn path_param(name: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .schema(Some(string()))
        .build()
}

fn query_param(name: &str, required: bool, integer: bool) -> utoipa::openapi::path::Parameter {
    let schema = if integer {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(0))
    } else {
        string()
    };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(if required {
            Required::True
        } else {
            Required::False
        })
        .schema(Some(schema))
        .build()
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

fn schemas() -> Vec<(&'static str, Schema)> {
    let any = ObjectBuilder::new().build();
    let detail = ObjectBuilder::new()
        .property("code", string())
        .property("target", string())
        .property("message", string());
    let error = ObjectBuilder::new()
        .property(
            "error",
            ObjectBuilder::new()
                .property("code", string())
                .property("message", string())
                .property("details", ArrayBuilder::new().items(detail))
                .required("code")
                .required("message"),
        )
        .required("error")
        .build();
    let resource = ObjectBuilder::new()
        .property("id", string())
        .property("type", string())
        .property("name", string())
        .property("properties", ObjectBuilder::new())
        .required("id")
        .required("type")
        .required("name")
        .build();
    let list = ObjectBuilder::new()
        .property(
            "value",
            ArrayBuilder::new().items(Ref::from_schema_name("Resource")),
        )
        .property("count", ObjectBuilder::new().schema_type(Type::Integer))
        .property(
            "nextLink",
            ObjectBuilder::new().schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                Type::String,
                Type::Null,
            ])),
        )
        .required("value")
        .required("count")
        .build();
    vec![
        ("Any", Schema::Object(any)),
        ("Error", Schema::Object(error)),
        ("Resource", Schema::Object(resource)),
        ("List", Schema::Object(list)),
    ]
}

pub fn document() -> Value {
    let mut paths = PathsBuilder::new();
    for arm in [false, true] {
        for (rel, methods) in PATHS {
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
            for (method, answers) in methods.iter() {
                let mut responses = ResponsesBuilder::new();
                for (status, schema) in answers.iter() {
                    responses = responses.response(*status, json_response("success", schema));
                }
                for status in ["400", "401", "404", "405", "409", "412", "413"] {
                    responses = responses.response(status, json_response("error", "Error"));
                }
                let mut op = OperationBuilder::new().responses(responses.build());
                for n in &names {
                    op = op.parameter(path_param(n));
                }
                op = op.parameter(query_param("api-version", true, false));
                if answers.iter().any(|(_, s)| *s == "List") {
                    op = op
                        .parameter(query_param("$filter", false, false))
                        .parameter(query_param("$top", false, true))
                        .parameter(query_param("$skip", false, true));
                }
                if matches!(*method, "put" | "patch") {
                    op = op.request_body(Some(
                        RequestBodyBuilder::new()
                            .content(
                                "application/json",
                                ContentBuilder::new()
                                    .schema(Some(Ref::from_schema_name("Any")))
                                    .build(),
                            )
                            .build(),
                    ));
                }
                let m = match *method {
                    "get" => HttpMethod::Get,
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
    for (name, schema) in schemas() {
        components = components.schema(name, schema);
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
    serde_json::to_value(&doc).unwrap_or(Value::Null)
}
