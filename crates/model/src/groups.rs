//! Who sees what in the developer portal, as APIM decides it: the built-in groups
//! `administrators`, `developers` and `guests` always exist; every registered user is a developer;
//! an anonymous visitor is a guest; a product is visible to the groups it is linked to (none:
//! administrators only, as a new product in APIM).

use crate::config::{Config, Product, ProductState};

pub const ADMINISTRATORS: &str = "administrators";
pub const DEVELOPERS: &str = "developers";
pub const GUESTS: &str = "guests";
/// The built-in groups, in APIM's order.
pub const BUILTIN: [&str; 3] = [ADMINISTRATORS, DEVELOPERS, GUESTS];

pub fn is_builtin(id: &str) -> bool {
    BUILTIN.contains(&id)
}

/// A group id names a built-in group or one of `config.groups`.
pub fn exists(config: &Config, id: &str) -> bool {
    is_builtin(id) || config.groups.iter().any(|g| g.id == id)
}

/// The groups a visitor belongs to: `None` is an anonymous visitor (guests); a user is a
/// developer plus every group (built-in `administrators` included) that lists them.
pub fn of_visitor(config: &Config, user: Option<&str>) -> Vec<String> {
    let Some(uid) = user else {
        return vec![GUESTS.to_string()];
    };
    let mut out = vec![DEVELOPERS.to_string()];
    for g in &config.groups {
        if g.users.iter().any(|u| u == uid) && !out.contains(&g.id) {
            out.push(g.id.clone());
        }
    }
    out
}

/// The product is published and shown to one of `groups` (administrators see every product).
pub fn product_visible(product: &Product, groups: &[String]) -> bool {
    if groups.iter().any(|g| g == ADMINISTRATORS) {
        return true;
    }
    product.state == ProductState::Published && product.groups.iter().any(|g| groups.contains(g))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        crate::from_str(
            r#"
service: { name: t }
products:
  - { id: open, groups: [developers, guests] }
  - { id: partners, groups: [partners] }
  - { id: hidden }
  - { id: draft, groups: [guests], state: notPublished }
users:
  - { id: ann, email: ann@example.com }
  - { id: bob, email: bob@example.com }
groups:
  - { id: partners, users: [ann] }
  - { id: administrators, users: [bob] }
"#,
            crate::Format::Yaml,
            std::path::Path::new("t.yaml"),
        )
        .expect("parses")
    }

    fn visible(c: &Config, user: Option<&str>) -> Vec<String> {
        let groups = of_visitor(c, user);
        c.products
            .iter()
            .filter(|p| product_visible(p, &groups))
            .map(|p| p.id.clone())
            .collect()
    }

    #[test]
    fn visibility_follows_groups() {
        let c = config();
        assert_eq!(visible(&c, None), ["open"]);
        assert_eq!(visible(&c, Some("ann")), ["open", "partners"]);
        assert_eq!(
            visible(&c, Some("bob")),
            ["open", "partners", "hidden", "draft"]
        );
        assert!(exists(&c, "guests") && exists(&c, "partners") && !exists(&c, "nope"));
    }
}
