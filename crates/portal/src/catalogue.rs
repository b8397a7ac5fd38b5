//! What visitors browse: the home page, the APIs (searchable by name and tag), one API with its
//! operations and its OpenAPI document, the products, one product with its subscribe form.
//! Everything shown is filtered by the visitor's groups (crates/model/src/groups.rs): an API is
//! visible when a product the visitor may see contains it.

use crate::page::{Layout, PageError, render};
use crate::session::Visitor;
use crate::state::Portal;
use crate::views::{self, ApiView, ProductView};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use gatehouse_model::{Api, Config, Product};
use http::header;
use serde::Deserialize;
use std::sync::Arc;

pub fn routes() -> axum::Router<Arc<Portal>> {
    axum::Router::new()
        .route("/", get(home))
        .route("/apis", get(apis))
        .route("/apis/{id}", get(api))
        .route("/apis/{id}/openapi.json", get(download))
        .route("/products", get(products))
        .route("/products/{id}", get(product))
        .route(
            "/products/{id}/subscribe",
            post(crate::subscribe::subscribe),
        )
}

/// The products the visitor may see, in config order.
pub fn visible_products<'c>(config: &'c Config, groups: &[String]) -> Vec<&'c Product> {
    config
        .products
        .iter()
        .filter(|p| gatehouse_model::groups::product_visible(p, groups))
        .collect()
}

/// The APIs of the visible products, in config order.
pub fn visible_apis<'c>(config: &'c Config, groups: &[String]) -> Vec<&'c Api> {
    let products = visible_products(config, groups);
    config
        .apis
        .iter()
        .filter(|a| products.iter().any(|p| p.apis.contains(&a.id)))
        .collect()
}

/// The API `id` if the visitor may see it; 404 otherwise (as if it did not exist).
pub fn visible_api<'c>(v: &'c Visitor, id: &str) -> Result<&'c Api, PageError> {
    visible_apis(&v.config, &v.groups)
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(|| PageError::NotFound(format!("The API '{id}'")))
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    l: Layout,
    description: Option<String>,
    products: Vec<ProductView>,
    api_count: usize,
    signed_in: bool,
}

async fn home(v: Visitor) -> Response {
    let products = visible_products(&v.config, &v.groups)
        .into_iter()
        .map(|p| views::product(p, &v))
        .collect();
    let l = Layout::new(&v, crate::page::site_title(&v.config), "home");
    render(&HomePage {
        description: v.config.portal.description.clone(),
        api_count: visible_apis(&v.config, &v.groups).len(),
        signed_in: v.user.is_some(),
        products,
        l,
    })
}

#[derive(Deserialize, Default)]
struct Search {
    #[serde(default)]
    q: String,
    #[serde(default)]
    tag: String,
}

#[derive(Template)]
#[template(path = "apis.html")]
struct ApisPage {
    l: Layout,
    q: String,
    tag: String,
    tags: Vec<String>,
    apis: Vec<ApiView>,
}

async fn apis(v: Visitor, Query(s): Query<Search>) -> Response {
    let all = visible_apis(&v.config, &v.groups);
    let mut tags: Vec<String> = all.iter().flat_map(|a| a.tags.iter().cloned()).collect();
    tags.sort();
    tags.dedup();
    let q = s.q.trim().to_lowercase();
    let found = all
        .into_iter()
        .filter(|a| q.is_empty() || matches_query(a, &q))
        .filter(|a| s.tag.is_empty() || a.tags.contains(&s.tag))
        .map(|a| views::api_summary(a, &v.config))
        .collect();
    render(&ApisPage {
        l: Layout::new(&v, "APIs", "apis"),
        q: s.q,
        tag: s.tag,
        tags,
        apis: found,
    })
}

/// Name, id, description or a tag contains the (lower-cased) query.
fn matches_query(a: &Api, q: &str) -> bool {
    let hit = |s: &str| s.to_lowercase().contains(q);
    hit(&a.id)
        || a.display_name.as_deref().is_some_and(hit)
        || a.description.as_deref().is_some_and(hit)
        || a.tags.iter().any(|t| hit(t))
}

async fn api(
    State(portal): State<Arc<Portal>>,
    v: Visitor,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let api = visible_api(&v, &id)?;
    Ok(crate::console::api_page(&portal, &v, api, None))
}

async fn download(v: Visitor, Path(id): Path<String>) -> Result<Response, PageError> {
    let api = visible_api(&v, &id)?;
    let doc = gatehouse_admin::oas::export::openapi(api);
    let body =
        serde_json::to_string_pretty(&doc).map_err(|e| PageError::Internal(e.to_string()))?;
    let disposition = format!("attachment; filename=\"{}.openapi.json\"", api.id);
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "products.html")]
struct ProductsPage {
    l: Layout,
    products: Vec<ProductView>,
}

async fn products(v: Visitor) -> Response {
    let products = visible_products(&v.config, &v.groups)
        .into_iter()
        .map(|p| views::product(p, &v))
        .collect();
    render(&ProductsPage {
        l: Layout::new(&v, "Products", "products"),
        products,
    })
}

#[derive(Template)]
#[template(path = "product.html")]
pub struct ProductPage {
    pub l: Layout,
    pub p: ProductView,
    pub apis: Vec<ApiView>,
    pub signed_in: bool,
    pub notice: Option<crate::page::Notice>,
    /// What the subscribe form had (kept after an error).
    pub name: String,
}

async fn product(v: Visitor, Path(id): Path<String>) -> Result<Response, PageError> {
    product_page(&v, &id, None, String::new())
}

/// The product page, with `notice` on top (after a refused subscription).
pub fn product_page(
    v: &Visitor,
    id: &str,
    notice: Option<crate::page::Notice>,
    name: String,
) -> Result<Response, PageError> {
    let p = visible_products(&v.config, &v.groups)
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(|| PageError::NotFound(format!("The product '{id}'")))?;
    let visible = visible_apis(&v.config, &v.groups);
    let apis = visible
        .into_iter()
        .filter(|a| p.apis.contains(&a.id))
        .map(|a| views::api_summary(a, &v.config))
        .collect();
    let view = views::product(p, v);
    let status = if notice.as_ref().is_some_and(|n| !n.ok) {
        http::StatusCode::BAD_REQUEST
    } else {
        http::StatusCode::OK
    };
    let page = ProductPage {
        l: Layout::new(v, view.name.clone(), "products"),
        p: view,
        apis,
        signed_in: v.user.is_some(),
        notice,
        name,
    };
    Ok((status, render(&page)).into_response())
}
