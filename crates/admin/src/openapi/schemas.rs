//! The schemas of the OpenAPI document: per resource its envelope, list, PUT and PATCH bodies
//! (field tables that follow crates/admin/src/resources/), the shared helpers, and the network
//! section's schema from the model.

use serde_json::{Map, Value, json};

/// A field's schema from a short type: `s` string (`s1` not empty, `k` a subscription key, `m` an e-mail address, `pw` a password), `u` http(s) URL, `p`
/// positive integer up to 600,000 (`t`: 14,400,000; timeouts in ms), `s?` string or null, `b` boolean, `i`
/// non-negative integer (`i?` or null), `[s]` array of strings, `[o]` array of objects, `o`
/// object (`o?` or null), `e:a|b` one of the strings, `h:Name` a schema of `helpers()`.
pub(super) fn ty(t: &str) -> Value {
    let (base, nullable) = match t.strip_suffix('?') {
        Some(b) => (b, true),
        None => (t, false),
    };
    let mut v = match base {
        "s" => json!({"type": "string"}),
        "s1" => json!({"type": "string", "minLength": 1}),
        "k" => json!({"type": "string", "minLength": 16, "maxLength": 256}),
        "m" => json!({"type": "string", "format": "email", "minLength": 3}),
        "pw" => json!({"type": "string", "minLength": 1, "maxLength": 1024}),
        "u" => json!({"type": "string", "format": "uri", "pattern": "^https?://[^/?#\\s]+"}),
        "p" => json!({"type": "integer", "minimum": 1, "maximum": 600000}),
        "t" => json!({"type": "integer", "minimum": 1, "maximum": 14400000}),
        "b" => json!({"type": "boolean"}),
        "i" => json!({"type": "integer", "minimum": 0, "maximum": 4294967295u64}),
        "[s]" => json!({"type": "array", "items": {"type": "string"}}),
        "[o]" => json!({"type": "array", "items": {"type": "object"}}),
        "o" => json!({"type": "object"}),
        other => match (other.strip_prefix("e:"), other.strip_prefix("h:")) {
            (Some(e), _) => json!({"type": "string", "enum": e.split('|').collect::<Vec<_>>()}),
            (_, Some(h)) => json!({"$ref": format!("#/components/schemas/{h}")}),
            _ => json!({}),
        },
    };
    if nullable {
        if let Some(Value::Array(e)) = v.get_mut("enum") {
            e.push(Value::Null);
        }
        if let Some(Value::String(s)) = v.get("type").cloned() {
            v["type"] = json!([s, "null"]);
        } else {
            v = json!({"oneOf": [v, {"type": "null"}]});
        }
    }
    v
}

/// `v` or null.
fn nullable(mut v: Value) -> Value {
    v["type"] = json!(["object", "null"]);
    v
}

/// A string matching `pattern`.
pub(super) fn pattern(pattern: &str) -> Value {
    json!({"type": "string", "pattern": pattern})
}

/// An ARM resource: `id`, `type`, `name` and its `properties`.
fn envelope(props: Value) -> Value {
    json!({"type": "object", "required": ["id", "type", "name", "properties"],
           "properties": {"id": ty("s"), "type": ty("s"), "name": ty("s"), "properties": props}})
}

/// An object schema from `(name, type)` fields; names ending in `*` are required.
fn object<T: AsRef<str>>(fields: &[(&str, T)]) -> Value {
    let mut props = Map::new();
    let mut required = Vec::new();
    for (name, t) in fields {
        let name = match name.strip_suffix('*') {
            Some(n) => {
                required.push(n.to_string());
                n
            }
            None => name,
        };
        props.insert(name.to_string(), ty(t.as_ref()));
    }
    let mut o = json!({"type": "object", "properties": props});
    if !required.is_empty() {
        o["required"] = json!(required);
    }
    o
}

/// Each resource: its schema name, ARM `type`, the `properties` answered, and the
/// `properties` a PUT reads (required as the handler requires them; a PATCH reads the same
/// with none required). Field lists follow crates/admin/src/resources/.
#[allow(clippy::type_complexity)]
pub(super) const RESOURCES: &[(&str, &str, &[(&str, &str)], &[(&str, &str)])] = &[
    (
        "Api",
        "Microsoft.ApiManagement/service/apis",
        &[
            ("displayName*", "s"),
            ("description", "s?"),
            ("path*", "s"),
            ("protocols*", "[s]"),
            ("subscriptionRequired*", "b"),
            (
                "subscriptionKeyParameterNames*",
                "h:SubscriptionKeyParameterNames",
            ),
            ("apiRevision*", "s"),
            ("isCurrent*", "b"),
            ("type*", "s"),
            ("serviceUrl", "s"),
            ("backendId", "s"),
        ],
        &[
            ("path*", "s"),
            // One of the two is required (crates/admin/src/resources/apis.rs checks it): a JSON
            // Schema `required` cannot say "either".
            ("serviceUrl", "u"),
            ("backendId", "s"),
            ("displayName", "s"),
            ("description", "s"),
            ("protocols", "h:Protocols"),
            ("subscriptionRequired", "b"),
            (
                "subscriptionKeyParameterNames",
                "h:SubscriptionKeyParameterNames",
            ),
        ],
    ),
    (
        "Operation",
        "Microsoft.ApiManagement/service/apis/operations",
        &[
            ("displayName*", "s"),
            ("method*", "s"),
            ("urlTemplate*", "s"),
            ("templateParameters*", "[o]"),
            ("responses*", "[o]"),
        ],
        &[
            ("method*", "h:HttpMethod"),
            ("urlTemplate*", "h:UrlTemplate"),
            ("displayName", "s"),
        ],
    ),
    (
        "Policy",
        "Microsoft.ApiManagement/service/policies",
        &[("format*", "e:xml|rawxml"), ("value*", "s")],
        &[("value*", "s"), ("format", "e:xml|rawxml")],
    ),
    (
        "Product",
        "Microsoft.ApiManagement/service/products",
        &[
            ("displayName*", "s"),
            ("description", "s?"),
            ("subscriptionRequired*", "b"),
            ("approvalRequired*", "b"),
            ("subscriptionsLimit", "i?"),
            ("state*", "e:published|notPublished"),
        ],
        &[
            ("displayName", "s"),
            ("description", "s"),
            ("subscriptionRequired", "b"),
            ("approvalRequired", "b"),
            ("subscriptionsLimit", "i"),
            ("state", "e:published|notPublished"),
        ],
    ),
    (
        "Subscription",
        "Microsoft.ApiManagement/service/subscriptions",
        &[
            ("displayName*", "s"),
            ("scope*", "s"),
            ("ownerId", "s?"),
            (
                "state*",
                "e:active|suspended|submitted|rejected|cancelled|expired",
            ),
            ("allowTracing*", "b"),
        ],
        &[
            ("scope*", "s"),
            ("displayName", "s"),
            ("ownerId", "s"),
            ("primaryKey", "k"),
            ("secondaryKey", "k"),
            (
                "state",
                "e:active|suspended|submitted|rejected|cancelled|expired",
            ),
        ],
    ),
    (
        "User",
        "Microsoft.ApiManagement/service/users",
        &[
            ("email*", "s"),
            ("firstName", "s?"),
            ("lastName", "s?"),
            ("state*", "e:active|blocked|pending|deleted"),
            ("identities*", "[o]"),
            ("groups*", "[o]"),
        ],
        &[
            ("email*", "m"),
            ("firstName", "s"),
            ("lastName", "s"),
            ("state", "e:active|blocked|pending|deleted"),
            // Write-only (crates/admin/src/password.rs): hashed, never answered.
            ("password", "pw"),
        ],
    ),
    (
        "Group",
        "Microsoft.ApiManagement/service/groups",
        &[
            ("displayName*", "s"),
            ("description", "s?"),
            ("builtIn*", "b"),
            ("type*", "e:custom|system|external"),
        ],
        &[("displayName", "s")],
    ),
    (
        "NamedValue",
        "Microsoft.ApiManagement/service/namedValues",
        &[
            ("displayName*", "s"),
            ("secret*", "b"),
            ("tags*", "[s]"),
            ("value", "s"),
        ],
        &[
            ("value*", "s"),
            ("displayName", "s"),
            ("secret", "b"),
            ("tags", "[s]"),
        ],
    ),
    (
        "Backend",
        "Microsoft.ApiManagement/service/backends",
        &[
            ("url*", "s"),
            ("protocol*", "e:http|soap"),
            ("description", "s?"),
            ("tls*", "h:BackendTls"),
            ("timeoutMs*", "i"),
            ("connectTimeoutMs*", "i"),
        ],
        &[
            ("url*", "u"),
            ("protocol", "e:http"),
            ("description", "s"),
            ("tls", "h:BackendTls"),
            ("timeoutMs", "t"),
            ("connectTimeoutMs", "p"),
        ],
    ),
    (
        "PolicyFragment",
        "Microsoft.ApiManagement/service/policyFragments",
        &[
            ("format*", "e:xml|rawxml"),
            ("value*", "s"),
            ("description", "s?"),
        ],
        &[("value*", "s"), ("format", "e:xml|rawxml")],
    ),
    (
        "PrivateEndpointConnection",
        "Microsoft.ApiManagement/service/privateEndpointConnections",
        &[
            ("privateEndpoint*", "o"),
            ("privateLinkServiceConnectionState*", "h:ConnectionState"),
            ("provisioningState*", "s"),
            ("groupIds*", "[s]"),
            ("linkId*", "i"),
            ("listen", "h:Net_ListenSpec?"),
        ],
        &[
            ("linkId", "i"),
            (
                "privateLinkServiceConnectionState",
                "h:ConnectionStateUpdate",
            ),
            ("listen", "h:Net_ListenSpec"),
        ],
    ),
];

/// Schemas that resources share, and the answers that are not resources.
fn helpers() -> Vec<(String, Value)> {
    let status = "e:Pending|Approved|Rejected|Disconnected";
    [
        (
            "Error".into(),
            json!({"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"], "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"},
                    "details": {"type": "array", "items": object(&[("code*", "s"), ("target", "s?"), ("message*", "s")])}}}}}),
        ),
        (
            "SubscriptionKeyParameterNames".into(),
            // Fields nullable: a PATCH's null resets one to its default.
            object(&[("header", "h:HeaderName?"), ("query", "h:QueryName?")]),
        ),
        ("HttpMethod".into(), pattern("^([A-Z]{1,16}|\\*)$")),
        (
            "HeaderName".into(),
            pattern("^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$"),
        ),
        ("QueryName".into(), pattern("^[A-Za-z0-9._~-]{1,64}$")),
        (
            "UrlTemplate".into(),
            pattern("^/([A-Za-z0-9._~-]+/?)*\\*?$"),
        ),
        (
            "Protocols".into(),
            json!({"type": "array", "minItems": 1, "items": ty("e:http|https|ws|wss")}),
        ),
        (
            "BackendTls".into(),
            object(&[
                ("validateCertificateChain", "b?"),
                ("validateCertificateName", "b?"),
            ]),
        ),
        (
            "ConnectionState".into(),
            object(&[
                ("status*", status),
                ("description", "s"),
                ("actionsRequired", "s"),
            ]),
        ),
        (
            "ConnectionStateUpdate".into(),
            // `status` may be left out: the connection keeps its state (a new one is Pending).
            object(&[
                ("status", "e:Pending|Approved|Rejected|Disconnected?"),
                ("description", "s?"),
            ]),
        ),
        (
            "Service".into(),
            json!({"type": "object", "required": ["id", "type", "name", "properties", "sku"],
            "properties": {"id": ty("s"), "type": ty("s"), "name": ty("s"), "location": ty("s?"),
                "sku": object(&[("name*", "s"), ("capacity*", "i")]),
                "properties": object(&[
                    ("provisioningState*", "s"),
                    ("virtualNetworkType*", "e:None|External|Internal"),
                    ("publicNetworkAccess*", "e:Enabled|Disabled"),
                    ("virtualNetworkConfiguration", "h:Net_VirtualNetwork?"),
                    ("hostnameConfigurations*", "[o]"),
                    ("additionalLocations*", "[o]"),
                ])}}),
        ),
        (
            "ServiceUpdate".into(),
            json!({"type": "object", "properties": {
            "sku": nullable(object(&[("name", "e:developer|basic|standard|premium|consumption"), ("capacity", "p")])),
            "properties": object(&[
                ("virtualNetworkType", "e:None|External|Internal?"),
                ("publicNetworkAccess", "e:Enabled|Disabled?"),
                ("virtualNetworkConfiguration", "h:Net_VirtualNetwork?"),
                ("hostnameConfigurations", "h:HostnameConfigurations?"),
                ("additionalLocations", "[o]"),
            ])}}),
        ),
        (
            "HostnameConfigurations".into(),
            json!({"type": "array", "items": object(&[
                ("hostName*", "s"),
                ("defaultSslBinding", "b"),
                ("certificate*", "h:CertificateFiles"),
            ])}),
        ),
        (
            "CertificateFiles".into(),
            object(&[("certFile*", "s"), ("keyFile*", "s")]),
        ),
        (
            "Network".into(),
            envelope(
                json!({"type": "object", "description": "the `network` section of the config file, in its own field names (docs/config.md)"}),
            ),
        ),
        (
            "NetworkUpdate".into(),
            json!({"type": "object", "required": ["properties"], "properties": {"properties": {"type": "object"}}}),
        ),
        (
            "NetworkPatch".into(),
            json!({"type": "object", "properties": {"properties": {"type": "object"}}}),
        ),
        (
            "NetworkStatus".into(),
            json!({"type": "array", "items": object(&[("location*", "s"), ("networkStatus*", "o")])}),
        ),
        (
            "NetworkStatusContract".into(),
            object(&[("dnsServers*", "[s]"), ("connectivityStatus*", "[o]")]),
        ),
        (
            "NodeCollection".into(),
            json!({"type": "object", "required": ["value", "count"], "properties": {
                "value": {"type": "array", "items": object(&[
                    ("name*", "s"),
                    ("location*", "s"),
                    ("appliedRevision*", "i"),
                    ("lastHeartbeat*", "s"),
                    ("state*", "s"),
                ])},
                "count": ty("i"), "nextLink": ty("s?")}}),
        ),
        ("ApplyNetworkReport".into(), json!({"type": "object"})),
        (
            "TenantAccess".into(),
            envelope(object(&[
                ("id*", "s"),
                ("principalId*", "s"),
                ("enabled*", "b"),
            ])),
        ),
        (
            "TenantAccessCollection".into(),
            json!({"type": "object", "required": ["value", "count"], "properties": {
                "value": {"type": "array", "items": ty("h:TenantAccess")},
                "count": ty("i"), "nextLink": ty("s?")}}),
        ),
        (
            "TenantAccessSecrets".into(),
            object(&[
                ("id*", "s"),
                ("principalId*", "s"),
                ("primaryKey*", "s"),
                ("secondaryKey*", "s"),
                ("enabled*", "b"),
            ]),
        ),
        (
            "SubscriptionKeys".into(),
            object(&[("primaryKey*", "s"), ("secondaryKey", "s?")]),
        ),
        ("NamedValueSecret".into(), object(&[("value*", "s")])),
        (
            "UserTokenParameters".into(),
            json!({"type": "object", "required": ["properties"], "properties": {"properties": {
                "type": "object", "required": ["keyType", "expiry"], "properties": {
                    "keyType": {"type": "string", "enum": ["primary", "secondary"]},
                    "expiry": {"type": "string", "format": "date-time"}}}}}),
        ),
        ("UserTokenResult".into(), object(&[("value*", "s")])),
    ]
    .into_iter()
    .chain(portal_schemas())
    .collect()
}

/// An object schema that refuses other members (the portal section's readers deny unknown
/// fields: crates/model/src/portal.rs).
fn closed(mut v: Value) -> Value {
    v["additionalProperties"] = json!(false);
    v
}

/// A request body `{"properties": …}` with `props` optional.
fn body(props: Value) -> Value {
    json!({"type": "object", "properties": {"properties": props}})
}

/// APIM's PortalSigninSettings and PortalSignupSettings, their list, and gatehouse's whole
/// portal section (crates/admin/src/portal_settings.rs).
fn portal_schemas() -> Vec<(String, Value)> {
    // As crates/model/src/portal.rs checks them: `#rgb`/`#rrggbb`; an http(s) URL or a path.
    let colour = pattern("^#([0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$");
    let logo = pattern("^(https?://[^\\s\"<>]*|/([^/\\s\"<>][^\\s\"<>]*)?)$");
    let nullable_of = |v: Value| json!({"oneOf": [v, {"type": "null"}]});
    let signin = object(&[("enabled*", "b")]);
    let signup = object(&[("enabled*", "b"), ("termsOfService*", "h:TermsOfService")]);
    let terms_in = closed(object(&[
        ("text", "s?"),
        ("enabled", "b?"),
        ("consentRequired", "b?"),
    ]));
    let signin_in = closed(object(&[("enabled", "b?")]));
    let signup_in = closed(object(&[
        ("enabled", "b?"),
        ("termsOfService", "h:TermsOfServiceUpdate?"),
    ]));
    let colors_in = closed(json!({"type": "object", "properties": {
        "primary": nullable_of(colour.clone()),
        "background": nullable_of(colour.clone()),
        "text": nullable_of(colour),
    }}));
    let mut portal_in = closed(object(&[
        ("title", "s?"),
        ("description", "s?"),
        ("colors", "h:PortalColorsUpdate?"),
        ("signup", "h:PortalSignupProperties?"),
        ("signin", "h:PortalSigninProperties?"),
    ]));
    portal_in["properties"]["logoUrl"] = nullable_of(logo);
    vec![
        (
            "TermsOfService".into(),
            object(&[("text", "s?"), ("enabled*", "b"), ("consentRequired*", "b")]),
        ),
        ("TermsOfServiceUpdate".into(), terms_in),
        ("PortalSignin".into(), envelope(signin.clone())),
        ("PortalSignup".into(), envelope(signup.clone())),
        ("PortalSigninProperties".into(), signin_in.clone()),
        ("PortalSignupProperties".into(), signup_in.clone()),
        ("PortalSigninUpdate".into(), body(signin_in)),
        ("PortalSignupUpdate".into(), body(signup_in)),
        ("PortalColorsUpdate".into(), colors_in),
        (
            "PortalSettingsCollection".into(),
            json!({"type": "object", "required": ["value", "count"], "properties": {
                "value": {"type": "array", "items": {"anyOf": [ty("h:PortalSignin"), ty("h:PortalSignup")]}},
                "count": ty("i"), "nextLink": ty("s?")}}),
        ),
        (
            "Portal".into(),
            envelope(object(&[
                ("title", "s?"),
                ("description", "s?"),
                ("logoUrl", "s?"),
                ("colors*", "o"),
                ("signup*", "o"),
                ("signin*", "o"),
            ])),
        ),
        ("PortalUpdate".into(), body(portal_in)),
    ]
}

/// Every schema of the document: the helpers, and per resource its envelope, its list, and
/// its PUT and PATCH bodies.
pub(super) fn schemas() -> Vec<(String, Value)> {
    let mut out = helpers();
    for (name, arm_type, answered, written) in RESOURCES {
        out.push(((*name).to_string(), {
            let mut e = envelope(object(answered));
            e["properties"]["type"]["example"] = json!(arm_type);
            e
        }));
        out.push((
            format!("{name}Collection"),
            json!({"type": "object", "required": ["value", "count"], "properties": {
                "value": {"type": "array", "items": {"$ref": format!("#/components/schemas/{name}")}},
                "count": ty("i"), "nextLink": ty("s?")}}),
        ));
        // In a request, `null` for an optional field means "not given" (a PATCH removes it).
        let nullable_optional: Vec<(&str, String)> = written
            .iter()
            .map(|(n, t)| {
                let t = if n.ends_with('*') || t.ends_with('?') || t.is_empty() {
                    t.to_string()
                } else {
                    format!("{t}?")
                };
                (*n, t)
            })
            .collect();
        let create = object(&nullable_optional);
        // A body whose `properties` has no required field may leave `properties` out.
        let mut body = json!({"type": "object", "properties": {"properties": create}});
        if create.get("required").is_some() {
            body["required"] = json!(["properties"]);
        }
        out.push((format!("{name}Create"), body));
        // PATCH: every field optional and nullable (RFC 7396: null removes it).
        let optional: Vec<(&str, String)> = written
            .iter()
            .map(|(n, t)| {
                let t = if t.ends_with('?') {
                    t.to_string()
                } else {
                    format!("{t}?")
                };
                (n.trim_end_matches('*'), t)
            })
            .collect();
        out.push((
            format!("{name}Update"),
            json!({"type": "object", "properties": {"properties": object(&optional)}}),
        ));
    }
    out
}

/// `NetworkProperties`: the `network` section in the config file's field names, as the model
/// describes it (crates/model/src/network.rs derives `JsonSchema`), with its definitions
/// moved under `components/schemas` as `Net_<name>`. Inserted as JSON: schemars writes JSON
/// Schema 2020-12, which OpenAPI 3.1 reads as is.
pub(super) fn network_schemas(schemas: &mut Map<String, Value>) {
    let root = serde_json::to_value(schemars::schema_for!(gatehouse_model::network::Network))
        .unwrap_or(Value::Null);
    let text = root
        .to_string()
        .replace("\"#/$defs/", "\"#/components/schemas/Net_");
    let Ok(Value::Object(mut root)) = serde_json::from_str::<Value>(&text) else {
        return;
    };
    if let Some(Value::Object(defs)) = root.remove("$defs") {
        for (name, def) in defs {
            schemas.insert(format!("Net_{name}"), def);
        }
    }
    root.remove("$schema");
    schemas.insert("NetworkProperties".into(), Value::Object(root));
}
