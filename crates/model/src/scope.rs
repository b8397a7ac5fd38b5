//! A subscription's scope: which APIs its keys open.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Every API of the service (Azure: `/apis`).
    All,
    Product(String),
    Api(String),
}

impl Scope {
    /// Reads our short form (`all`, `product/x`, `api/x`) and Azure's (`/apis`, `/products/x`,
    /// `/apis/x`, or a full resource id ending in one of those).
    pub fn parse(text: &str) -> Result<Scope, String> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("all") {
            return Ok(Scope::All);
        }
        let t = match t.rfind("/products/").or_else(|| t.rfind("/apis")) {
            // A full ARM id: keep only the tail that names the scope.
            Some(i) if i > 0 => &t[i..],
            _ => t,
        };
        let t = t.trim_start_matches('/');
        let (kind, id) = match t.split_once('/') {
            Some((k, id)) => (k, id),
            None => (t, ""),
        };
        match (kind, id) {
            ("apis", "") => Ok(Scope::All),
            ("product" | "products", id) if valid_id(id) => Ok(Scope::Product(id.to_string())),
            ("api" | "apis", id) if valid_id(id) => Ok(Scope::Api(id.to_string())),
            _ => Err(format!(
                "invalid scope '{text}': expected 'all', 'product/<id>' or 'api/<id>'"
            )),
        }
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && !id.contains('/')
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::All => f.write_str("all"),
            Scope::Product(p) => write!(f, "product/{p}"),
            Scope::Api(a) => write!(f, "api/{a}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_azure_forms() {
        assert_eq!(Scope::parse("all"), Ok(Scope::All));
        assert_eq!(Scope::parse("/apis"), Ok(Scope::All));
        assert_eq!(
            Scope::parse("product/starter"),
            Ok(Scope::Product("starter".into()))
        );
        assert_eq!(
            Scope::parse("/products/starter"),
            Ok(Scope::Product("starter".into()))
        );
        assert_eq!(Scope::parse("api/orders"), Ok(Scope::Api("orders".into())));
        assert_eq!(
            Scope::parse("/apis/orders"),
            Ok(Scope::Api("orders".into()))
        );
        assert_eq!(
            Scope::parse(
                "/subscriptions/x/resourceGroups/rg/providers/Microsoft.ApiManagement/service/s/products/gold"
            ),
            Ok(Scope::Product("gold".into()))
        );
    }

    #[test]
    fn bad_scopes_are_explained() {
        for bad in ["", "product/", "team/x", "api/a/b"] {
            let err = Scope::parse(bad).unwrap_err();
            assert!(err.contains("expected 'all'"), "{bad}: {err}");
        }
    }
}
