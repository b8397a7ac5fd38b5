//! Routing: the API by longest path prefix (on segment boundaries), then the operation by method
//! and URL template, most specific first. Built once per snapshot; matching allocates only the
//! captured template values.

use crate::error::ErrorKind;
use gatehouse_model::Validated;
use gatehouse_model::template::UrlTemplate;
use http::Method;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug)]
pub struct OperationRoute {
    /// Index of the operation in its API's config list (routes are sorted differently).
    pub index: usize,
    pub id: Arc<str>,
    /// `None` for the wildcard method `*`.
    pub method: Option<Method>,
    pub template: UrlTemplate,
}

#[derive(Debug)]
pub struct ApiRoute {
    /// Index of the API in the config (and in per-API tables of the snapshot).
    pub index: usize,
    pub id: Arc<str>,
    /// Operations ordered most specific first.
    pub operations: Vec<OperationRoute>,
}

/// What routing found for a request.
#[derive(Debug)]
pub struct RouteMatch<'r, 'p> {
    pub api: &'r ApiRoute,
    pub operation: &'r OperationRoute,
    /// The path after the API's prefix (`/42` for `/orders/42` under API path `orders`).
    pub rest: &'p str,
    /// Captured template values, in the order of `operation.template.param_names()`.
    pub params: Vec<&'p str>,
}

#[derive(Debug, Default)]
pub struct Router {
    /// API path (no leading or trailing '/') → index into `apis`.
    by_path: HashMap<Box<str>, usize>,
    /// The most segments any API path has: longer prefixes of a request path need no lookup.
    max_segments: usize,
    apis: Vec<ApiRoute>,
}

impl Router {
    pub fn build(v: &Validated) -> Router {
        let mut router = Router::default();
        for (i, api) in v.config.apis.iter().enumerate() {
            let path = gatehouse_model::normalize_api_path(&api.path);
            let segments = if path.is_empty() {
                0
            } else {
                path.split('/').count()
            };
            router.max_segments = router.max_segments.max(segments);
            router.by_path.insert(path.into(), i);
            let mut operations: Vec<OperationRoute> = api
                .operations
                .iter()
                .zip(&v.templates[i])
                .enumerate()
                .map(|(j, (op, t))| OperationRoute {
                    index: j,
                    id: op.id.as_str().into(),
                    method: if op.method == "*" {
                        None
                    } else {
                        Method::from_bytes(op.method.to_ascii_uppercase().as_bytes()).ok()
                    },
                    template: t.clone(),
                })
                .collect();
            // Most specific template first; for equal templates a named method before `*`.
            operations.sort_by(|a, b| {
                a.template
                    .specificity_cmp(&b.template)
                    .then_with(|| a.method.is_none().cmp(&b.method.is_none()))
            });
            router.apis.push(ApiRoute {
                index: i,
                id: api.id.as_str().into(),
                operations,
            });
        }
        router
    }

    pub fn apis(&self) -> &[ApiRoute] {
        &self.apis
    }

    /// Finds the API serving `path`: the longest API path that is a whole-segment prefix.
    pub fn find_api<'p>(&self, path: &'p str) -> Option<(&ApiRoute, &'p str)> {
        let p = path.strip_prefix('/').unwrap_or(path);
        // Candidate prefix ends: after each of the first `max_segments` segments.
        let mut ends: [usize; 16] = [0; 16];
        let mut n = 0;
        let limit = self.max_segments.min(ends.len());
        for (i, b) in p.bytes().enumerate() {
            if n >= limit {
                break;
            }
            if b == b'/' {
                ends[n] = i;
                n += 1;
            }
        }
        if n < limit && !p.is_empty() && !p.ends_with('/') {
            ends[n] = p.len();
            n += 1;
        }
        for &end in ends[..n].iter().rev() {
            if let Some(&i) = self.by_path.get(&p[..end]) {
                let rest = &p[end..];
                return Some((&self.apis[i], rest));
            }
        }
        // A deeper API path than 16 segments is looked up whole.
        if self.max_segments > ends.len()
            && let Some(&i) = self.by_path.get(p.trim_end_matches('/'))
        {
            return Some((&self.apis[i], ""));
        }
        self.by_path.get("").map(|&i| (&self.apis[i], path))
    }

    /// Routes a request to its API and operation, or says which was not found.
    pub fn route<'r, 'p>(
        &'r self,
        method: &Method,
        path: &'p str,
        query: Option<&'p str>,
    ) -> Result<RouteMatch<'r, 'p>, ErrorKind> {
        let (api, rest) = self.find_api(path).ok_or(ErrorKind::ApiNotFound)?;
        for op in &api.operations {
            if op.method.as_ref().is_some_and(|m| m != method) {
                continue;
            }
            if let Some(params) = op.template.matches(rest, query) {
                return Ok(RouteMatch {
                    api,
                    operation: op,
                    rest,
                    params,
                });
            }
        }
        Err(ErrorKind::OperationNotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_model::{Format, from_str, validate};
    use std::path::Path;

    fn router(yaml: &str) -> Router {
        let cfg = from_str(yaml, Format::Yaml, Path::new("t.yaml")).unwrap();
        Router::build(&validate(cfg).unwrap())
    }

    const CFG: &str = r#"
service: { name: t }
apis:
  - id: orders
    path: orders
    backend: "http://127.0.0.1:1"
    operations:
      - { id: get-order, method: GET, url_template: "/{id}" }
      - { id: recent, method: GET, url_template: "/recent" }
      - { id: any-order, method: "*", url_template: "/{id}" }
  - id: orders-v2
    path: orders/v2
    backend: "http://127.0.0.1:1"
    operations: [ { id: all, method: "*", url_template: "/*" } ]
  - id: root
    path: ""
    backend: "http://127.0.0.1:1"
    operations: [ { id: home, method: GET, url_template: "/" } ]
"#;

    #[test]
    fn longest_prefix_on_segment_boundaries() {
        let r = router(CFG);
        let m = r.route(&Method::GET, "/orders/v2/x/y", None).unwrap();
        assert_eq!(
            (&*m.api.id, &*m.operation.id, m.rest),
            ("orders-v2", "all", "/x/y")
        );
        let m = r.route(&Method::GET, "/orders/42", None).unwrap();
        assert_eq!(
            (&*m.api.id, &*m.operation.id, m.params.as_slice()),
            ("orders", "get-order", &["42"][..])
        );
        // `/ordersX` is not under `orders`: it falls to the root API, which has no such operation.
        assert_eq!(
            r.route(&Method::GET, "/ordersX/1", None).unwrap_err(),
            ErrorKind::OperationNotFound
        );
        let m = r.route(&Method::GET, "/", None).unwrap();
        assert_eq!(&*m.api.id, "root");
    }

    #[test]
    fn operation_by_method_and_specificity() {
        let r = router(CFG);
        assert_eq!(
            &*r.route(&Method::GET, "/orders/recent", None)
                .unwrap()
                .operation
                .id,
            "recent"
        );
        assert_eq!(
            &*r.route(&Method::DELETE, "/orders/recent", None)
                .unwrap()
                .operation
                .id,
            "any-order"
        );
        assert_eq!(
            &*r.route(&Method::POST, "/orders/7", None)
                .unwrap()
                .operation
                .id,
            "any-order"
        );
        assert_eq!(
            r.route(&Method::GET, "/orders/7/items", None).unwrap_err(),
            ErrorKind::OperationNotFound
        );
    }

    #[test]
    fn no_api_without_root() {
        let r = router(&CFG.replace("path: \"\"", "path: home"));
        assert_eq!(
            r.route(&Method::GET, "/nothing", None).unwrap_err(),
            ErrorKind::ApiNotFound
        );
        assert_eq!(
            r.route(&Method::GET, "/", None).unwrap_err(),
            ErrorKind::ApiNotFound
        );
        assert_eq!(
            &*r.route(&Method::GET, "/home", None).unwrap().api.id,
            "root"
        );
    }
}
