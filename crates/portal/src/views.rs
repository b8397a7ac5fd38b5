//! What templates show of the model: plain structs of strings, so templates hold no logic beyond
//! loops and conditions.

use crate::session::Visitor;
use gatehouse_model::{Api, Config, Operation, Product, Representation, SubscriptionState};

pub struct ProductView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub subscription_required: bool,
    pub approval_required: bool,
    pub limit: Option<u32>,
    pub api_count: usize,
    /// The signed-in user's live subscriptions to it (not cancelled, rejected or expired).
    pub mine: usize,
}

pub fn product(p: &Product, v: &Visitor) -> ProductView {
    ProductView {
        id: p.id.clone(),
        name: p.display_name.clone().unwrap_or_else(|| p.id.clone()),
        description: p.description.clone().unwrap_or_default(),
        subscription_required: p.subscription_required,
        approval_required: p.approval_required,
        limit: p.subscriptions_limit,
        api_count: p.apis.len(),
        mine: v
            .user_id()
            .map(|uid| live_subscriptions(&v.config, uid, &p.id))
            .unwrap_or(0),
    }
}

/// The user's subscriptions to product `product` that count against its limit.
pub fn live_subscriptions(config: &Config, uid: &str, product: &str) -> usize {
    let scope = format!("product/{product}");
    config
        .subscriptions
        .iter()
        .filter(|s| s.owner.as_deref() == Some(uid))
        .filter(|s| {
            gatehouse_model::Scope::parse(&s.scope).ok()
                == gatehouse_model::Scope::parse(&scope).ok()
        })
        .filter(|s| {
            matches!(
                s.state,
                SubscriptionState::Active
                    | SubscriptionState::Submitted
                    | SubscriptionState::Suspended
            )
        })
        .count()
}

pub struct ApiView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub path: String,
    pub tags: Vec<String>,
    pub operation_count: usize,
}

pub fn api_summary(a: &Api, _config: &Config) -> ApiView {
    ApiView {
        id: a.id.clone(),
        name: a.display_name.clone().unwrap_or_else(|| a.id.clone()),
        description: a.description.clone().unwrap_or_default(),
        path: format!("/{}", a.path.trim_matches('/')),
        tags: a.tags.clone(),
        operation_count: a.operations.len(),
    }
}

pub struct OperationView {
    pub id: String,
    pub name: String,
    pub method: String,
    pub url_template: String,
    pub description: String,
    pub parameters: Vec<ParameterView>,
    pub request: Option<BodyView>,
    pub responses: Vec<BodyView>,
}

pub struct ParameterView {
    pub name: String,
    pub location: String,
    pub required: bool,
    pub description: String,
    pub schema_type: String,
}

/// A request body or one response: its title (status), description and representations.
pub struct BodyView {
    pub status: String,
    pub description: String,
    pub content: Vec<RepresentationView>,
}

pub struct RepresentationView {
    pub content_type: String,
    /// Pretty JSON of the schema.
    pub schema: String,
    /// (name, pretty JSON) per example.
    pub examples: Vec<(String, String)>,
}

pub fn operation(o: &Operation, schemas: Option<&serde_json::Value>) -> OperationView {
    OperationView {
        id: o.id.clone(),
        name: o.display_name.clone().unwrap_or_else(|| o.id.clone()),
        method: o.method.clone(),
        url_template: o.url_template.clone(),
        description: o.description.clone().unwrap_or_default(),
        parameters: o
            .parameters
            .iter()
            .map(|p| ParameterView {
                name: p.name.clone(),
                location: format!("{:?}", p.location).to_lowercase(),
                required: p.required,
                description: p.description.clone().unwrap_or_default(),
                schema_type: p
                    .schema
                    .as_ref()
                    .map(|s| crate::refs::expand(s, schemas))
                    .as_ref()
                    .and_then(|s| s.get("type"))
                    .and_then(|t| t.as_str())
                    .unwrap_or("")
                    .to_string(),
            })
            .collect(),
        request: o.request.as_ref().map(|r| BodyView {
            status: if r.required {
                "required".into()
            } else {
                "optional".into()
            },
            description: r.description.clone().unwrap_or_default(),
            content: r
                .content
                .iter()
                .map(|c| representation(c, schemas))
                .collect(),
        }),
        responses: o
            .responses
            .iter()
            .map(|r| BodyView {
                status: r.status.clone(),
                description: r.description.clone().unwrap_or_default(),
                content: r
                    .content
                    .iter()
                    .map(|c| representation(c, schemas))
                    .collect(),
            })
            .collect(),
    }
}

/// Shown JSON is bounded: a huge schema would make a page nobody can read.
const MAX_SHOWN: usize = 16 * 1024;

fn pretty(v: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    if s.len() > MAX_SHOWN {
        let mut cut = MAX_SHOWN;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("\n… (cut; download the OpenAPI document for all of it)");
    }
    s
}

fn representation(r: &Representation, schemas: Option<&serde_json::Value>) -> RepresentationView {
    let examples = match &r.examples {
        Some(serde_json::Value::Object(map)) => {
            map.iter().map(|(k, v)| (k.clone(), pretty(v))).collect()
        }
        Some(other) => vec![("default".to_string(), pretty(other))],
        None => Vec::new(),
    };
    RepresentationView {
        content_type: r.content_type.clone(),
        schema: r
            .schema
            .as_ref()
            .map(|s| pretty(&crate::refs::expand(s, schemas)))
            .unwrap_or_default(),
        examples,
    }
}
