//! The link resources: `products/{p}/apis/{a}`, `products/{p}/groups/{g}` and
//! `groups/{g}/users/{u}`. PUT answers the linked resource (API, group, user), 201 when the
//! link is new and 200 when it existed; GET/HEAD 200 when linked, 404 when not; DELETE 200, or
//! 204 when there was no link.

use crate::dispatch::{Ctx, current_envelope, deleted, method_not_allowed, with_etag, written};
use crate::error::ApiError;
use crate::resources::{Item, groups};
use crate::write::backing_error;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use gatehouse_model::groups::{ADMINISTRATORS, DEVELOPERS, GUESTS};
use gatehouse_model::{Config, Group};
use std::sync::Arc;

pub enum Link {
    ProductApi(String, String),
    ProductGroup(String, String),
    GroupUser(String, String),
}

impl Link {
    /// The linked resource and the link's path.
    fn target(&self) -> (Item, String) {
        match self {
            Link::ProductApi(p, a) => (Item::Api(a.clone()), format!("products/{p}/apis/{a}")),
            Link::ProductGroup(p, g) => {
                (Item::Group(g.clone()), format!("products/{p}/groups/{g}"))
            }
            Link::GroupUser(g, u) => (Item::User(u.clone()), format!("groups/{g}/users/{u}")),
        }
    }

    fn member(&self) -> &str {
        match self {
            Link::ProductApi(_, m) | Link::ProductGroup(_, m) | Link::GroupUser(_, m) => m,
        }
    }

    /// Whether the link exists; 404 when its parent (product, group) does not.
    fn linked(&self, c: &Config) -> Result<bool, ApiError> {
        let product = |p: &str| {
            c.products
                .iter()
                .find(|x| x.id == p)
                .ok_or_else(|| ApiError::not_found(format!("Product '{p}'")))
        };
        Ok(match self {
            Link::ProductApi(p, a) => product(p)?.apis.contains(a),
            Link::ProductGroup(p, g) => product(p)?.groups.contains(g),
            Link::GroupUser(g, u) => groups::member_ids(c, g)?.contains(u),
        })
    }

    /// The list a PUT or DELETE edits. Membership of `developers` (every user) and `guests`
    /// (anonymous visitors) is implicit and cannot be edited (400); `administrators` may list
    /// users, kept as a `groups` entry of that id (created by the first PUT: `create`).
    fn members<'c>(
        &self,
        c: &'c mut Config,
        create: bool,
    ) -> Result<Option<&'c mut Vec<String>>, ApiError> {
        match self {
            Link::ProductApi(p, _) | Link::ProductGroup(p, _) => {
                let product = c
                    .products
                    .iter_mut()
                    .find(|x| &x.id == p)
                    .ok_or_else(|| ApiError::not_found(format!("Product '{p}'")))?;
                Ok(Some(match self {
                    Link::ProductApi(..) => &mut product.apis,
                    _ => &mut product.groups,
                }))
            }
            Link::GroupUser(g, _) if g == DEVELOPERS || g == GUESTS => Err(ApiError::property(
                "name",
                format!(
                    "membership of the built-in group '{g}' is implicit: every user is a developer, \
                     anonymous visitors are guests"
                ),
            )),
            Link::GroupUser(g, _) => {
                if g == ADMINISTRATORS && !c.groups.iter().any(|x| &x.id == g) {
                    if !create {
                        return Ok(None);
                    }
                    c.groups.push(Group {
                        id: g.clone(),
                        display_name: None,
                        users: Vec::new(),
                    });
                }
                c.groups
                    .iter_mut()
                    .find(|x| &x.id == g)
                    .map(|x| Some(&mut x.users))
                    .ok_or_else(|| ApiError::not_found(format!("Group '{g}'")))
            }
        }
    }
}

pub async fn link(ctx: &Ctx<'_>, m: &Method, link: Link) -> Result<Response, ApiError> {
    let sid = ctx.target.service_id.clone();
    let (target_item, rel) = link.target();
    let member = link.member().to_string();
    let link = Arc::new(link);
    match *m {
        Method::GET | Method::HEAD => {
            let cur = ctx.st.api.backing.current().await.map_err(backing_error)?;
            let linked = link.linked(&cur.config)?;
            match (linked, current_envelope(&cur.config, &sid, &target_item)?) {
                (true, Some(env)) => Ok(with_etag(StatusCode::OK, env)),
                _ => Err(ApiError::not_found(rel)),
            }
        }
        Method::PUT => {
            let (l, mem, it, s2) = (
                link.clone(),
                member.clone(),
                target_item.clone(),
                sid.clone(),
            );
            let change = move |c: &mut Config| {
                if it.get(c, &s2)?.is_none() {
                    return Err(ApiError::not_found(it.relative().0));
                }
                let list = l
                    .members(c, true)?
                    .ok_or_else(|| ApiError::internal("link list not created"))?;
                let created = !list.contains(&mem);
                if created {
                    list.push(mem.clone());
                }
                Ok(created)
            };
            let (cfg, created) = ctx
                .st
                .write(
                    &ctx.actor,
                    &format!("PUT {rel}"),
                    None,
                    &|_| Ok(()),
                    &change,
                )
                .await?;
            let env = current_envelope(&cfg, &sid, &target_item)?
                .ok_or_else(|| ApiError::not_found(rel.clone()))?;
            Ok(written(created, env))
        }
        Method::DELETE => {
            let (l, mem) = (link.clone(), member.clone());
            let change = move |c: &mut Config| {
                // No list (administrators never listed anyone): nothing to remove.
                let Some(list) = l.members(c, false)? else {
                    return Ok(false);
                };
                let before = list.len();
                list.retain(|x| x != &mem);
                Ok(list.len() != before)
            };
            let (_, removed) = ctx
                .st
                .write(
                    &ctx.actor,
                    &format!("DELETE {rel}"),
                    None,
                    &|_| Ok(()),
                    &change,
                )
                .await?;
            Ok(deleted(removed))
        }
        _ => Err(method_not_allowed(m, &rel)),
    }
}
