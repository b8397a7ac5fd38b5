//! Groups as APIM has them: the built-in (system) groups `administrators`, `developers` and
//! `guests` always exist (crates/model/src/groups.rs) next to the custom `groups` of the config,
//! and a user's contract lists the groups the user belongs to.

use super::props::Props;
use crate::error::ApiError;
use gatehouse_model::groups::{self, ADMINISTRATORS, DEVELOPERS, GUESTS};
use gatehouse_model::{Config, Group};
use http::StatusCode;
use serde_json::{Value, json};

/// Display name and description of a built-in group, as APIM's examples answer them
/// (ApiManagementListGroups.json in Azure/azure-rest-api-specs, apimanagement 2022-08-01).
fn builtin(id: &str) -> Option<(&'static str, &'static str)> {
    Some(match id {
        ADMINISTRATORS => (
            "Administrators",
            "Administrators is a built-in group. Its membership is managed by the system. Microsoft Azure subscription administrators fall into this group.",
        ),
        DEVELOPERS => (
            "Developers",
            "Developers is a built-in group. Its membership is managed by the system. Signed-in users fall into this group.",
        ),
        GUESTS => (
            "Guests",
            "Guests is a built-in group. Its membership is managed by the system. Unauthenticated users visiting the developer portal fall into this group.",
        ),
        _ => return None,
    })
}

/// The GroupContract `properties` of a custom group.
pub fn group_props(g: &Group) -> Value {
    json!({
        "displayName": g.display_name.clone().unwrap_or_else(|| g.id.clone()),
        "description": null,
        "builtIn": false,
        "type": "custom",
    })
}

/// The GroupContract `properties` of group `id`, built-in or custom; `None` when there is none.
/// A config may list `administrators` in `groups` (to name its members): it stays built-in.
pub fn props_of(c: &Config, id: &str) -> Option<Value> {
    if let Some((name, description)) = builtin(id) {
        return Some(json!({
            "displayName": name,
            "description": description,
            "builtIn": true,
            "type": "system",
        }));
    }
    c.groups.iter().find(|g| g.id == id).map(group_props)
}

/// Every group id in APIM's order: the built-in ones, then the custom ones.
pub fn all_ids(c: &Config) -> Vec<String> {
    groups::BUILTIN
        .iter()
        .map(|g| g.to_string())
        .chain(
            c.groups
                .iter()
                .filter(|g| !groups::is_builtin(&g.id))
                .map(|g| g.id.clone()),
        )
        .collect()
}

/// The members of group `g` (404 when there is no such group): every user is a developer,
/// guests are anonymous visitors (no user is one), the others list their users.
pub fn member_ids(c: &Config, g: &str) -> Result<Vec<String>, ApiError> {
    match g {
        DEVELOPERS => Ok(c.users.iter().map(|u| u.id.clone()).collect()),
        GUESTS => Ok(Vec::new()),
        _ => match c.groups.iter().find(|x| x.id == g) {
            Some(grp) => Ok(grp.users.clone()),
            None if g == ADMINISTRATORS => Ok(Vec::new()),
            None => Err(ApiError::not_found(format!("Group '{g}'"))),
        },
    }
}

/// The `groups` of a UserContract: GroupContractProperties of each group the user is in.
pub fn of_user(c: &Config, uid: &str) -> Vec<Value> {
    groups::of_visitor(c, Some(uid))
        .iter()
        .filter_map(|g| props_of(c, g))
        .collect()
}

/// A write to a built-in group. APIM's system groups are immutable: an update names a group
/// that cannot take one, so the request is invalid (400 ValidationError on `name`), while a
/// DELETE asks for a method the resource does not support (405 MethodNotAllowed, `Allow`
/// naming what remains: GET and HEAD).
pub fn builtin_refused(id: &str, delete: bool) -> ApiError {
    if delete {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("'{id}' is a built-in group: it cannot be deleted"),
        )
        .with_allow("GET, HEAD".into())
    } else {
        ApiError::property(
            "name",
            format!("'{id}' is a built-in group: it cannot be created or changed"),
        )
    }
}

pub fn group_from(id: &str, p: &Props, old: Option<&Group>) -> Result<Group, ApiError> {
    if groups::is_builtin(id) {
        return Err(builtin_refused(id, false));
    }
    Ok(Group {
        id: id.to_string(),
        display_name: p.str_or("displayName", old.map(|o| &o.display_name))?,
        users: old.map(|o| o.users.clone()).unwrap_or_default(),
    })
}

/// Removes custom group `id` and its links to products (as APIM does); `false` when absent.
pub fn delete(c: &mut Config, id: &str) -> Result<bool, ApiError> {
    if groups::is_builtin(id) {
        return Err(builtin_refused(id, true));
    }
    let Some(i) = c.groups.iter().position(|g| g.id == id) else {
        return Ok(false);
    };
    c.groups.remove(i);
    for p in &mut c.products {
        p.groups.retain(|g| g != id);
    }
    Ok(true)
}

pub const GROUP_FIELDS: &[(&str, &str)] = &[
    ("id", "name"),
    ("display_name", "properties.displayName"),
    ("users", "users"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        gatehouse_model::from_str(
            r#"
service: { name: t }
users:
  - { id: ann, email: ann@example.com }
groups:
  - { id: partners, users: [ann] }
  - { id: administrators, users: [ann] }
products:
  - { id: p, groups: [partners, guests] }
"#,
            gatehouse_model::Format::Yaml,
            std::path::Path::new("t.yaml"),
        )
        .expect("parses")
    }

    #[test]
    fn builtin_groups_always_exist_and_stay_system() {
        let c = config();
        assert_eq!(
            all_ids(&c),
            ["administrators", "developers", "guests", "partners"]
        );
        let admin = props_of(&c, "administrators").expect("exists");
        assert_eq!(admin["builtIn"], true);
        assert_eq!(admin["type"], "system");
        assert_eq!(props_of(&c, "partners").expect("exists")["type"], "custom");
        assert!(props_of(&c, "nope").is_none());
        assert_eq!(member_ids(&c, "developers").expect("ok"), ["ann"]);
        assert!(member_ids(&c, "guests").expect("ok").is_empty());
        let names: Vec<_> = of_user(&c, "ann")
            .iter()
            .map(|g| g["displayName"].clone())
            .collect();
        assert_eq!(names, ["Developers", "partners", "Administrators"]);
    }

    #[test]
    fn deleting_a_custom_group_unlinks_it_and_builtins_refuse() {
        let mut c = config();
        assert!(delete(&mut c, "partners").expect("deleted"));
        assert_eq!(c.products[0].groups, ["guests"]);
        assert_eq!(
            delete(&mut c, "guests").map_err(|e| e.status),
            Err(StatusCode::METHOD_NOT_ALLOWED)
        );
    }
}
