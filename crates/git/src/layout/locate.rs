//! Where a whole-config validation problem lives in the files: `products[1].apis[0]` (a
//! gatehouse_model `Issue` or gatehouse_admin `Problem` path, indices into the candidate
//! config) → `products/p/apis.json` and the line of `"name": "missing-api"`.

use super::Files;
use super::paths;
use super::text::{json_key_line, line_from, line_in_message, line_of, yaml_path_line};
use gatehouse_admin::resources::{apis, others};
use gatehouse_model::Config;

/// The file (and line, when it can be found) behind `path`. A policy problem whose message
/// names a line (`line 7`) is placed on that line of the policy file. A path outside the
/// layout's sections (service, users, subscriptions …) has no file: the path itself is
/// returned, without a line.
pub fn locate(
    path: &str,
    message: &str,
    candidate: &Config,
    files: &Files,
) -> (String, Option<u32>) {
    let (head, rest) = split_index(path);
    let found = match head {
        "apis" => rest.and_then(|(i, rest)| api(candidate, i, rest, message, files)),
        "products" => rest.and_then(|(i, rest)| product(candidate, i, rest, message, files)),
        "named_values" => rest.and_then(|(i, rest)| {
            let n = candidate.named_values.get(i)?;
            Some(info(
                files,
                &paths::named_value(&n.id),
                rest,
                others::NAMED_VALUE_FIELDS,
            ))
        }),
        _ => None,
    };
    if let Some(f) = found {
        return f;
    }
    if let Some(rest) = path.strip_prefix("backends.") {
        // Backend ids may hold dots: the longest id the path starts with.
        let id = candidate
            .backends
            .keys()
            .filter(|k| rest == k.as_str() || rest.starts_with(&format!("{k}.")))
            .max_by_key(|k| k.len());
        if let Some(id) = id {
            let field = rest[id.len()..].trim_start_matches('.');
            return info(files, &paths::backend(id), field, others::BACKEND_FIELDS);
        }
    }
    if path == "policies.global" || path.starts_with("policies.global.") {
        return policy_file(files, paths::GLOBAL_POLICY.to_string(), message);
    }
    if let Some(rest) = path.strip_prefix("policies.fragments.") {
        let id = candidate
            .policies
            .fragments
            .keys()
            .filter(|k| rest == k.as_str() || rest.starts_with(&format!("{k}.")))
            .max_by_key(|k| k.len());
        if let Some(id) = id {
            return policy_file(files, paths::fragment_policy(id), message);
        }
    }
    for (prefix, file) in [("network", paths::NETWORK), ("gateway", paths::GATEWAY)] {
        if path == prefix
            || path.starts_with(&format!("{prefix}."))
            || path.starts_with(&format!("{prefix}["))
        {
            let inner = path[prefix.len()..].trim_start_matches('.');
            let line = files
                .get(file)
                .and_then(|b| std::str::from_utf8(b).ok())
                .and_then(|t| yaml_path_line(t, inner));
            return (file.to_string(), line);
        }
    }
    (path.to_string(), None)
}

/// `apis[2].operations[0]` → (`apis`, Some((2, `operations[0]`))).
fn split_index(path: &str) -> (&str, Option<(usize, &str)>) {
    let Some(open) = path.find('[') else {
        return (path, None);
    };
    let head = &path[..open];
    let Some(close) = path[open..].find(']').map(|c| c + open) else {
        return (head, None);
    };
    let Ok(i) = path[open + 1..close].parse::<usize>() else {
        return (head, None);
    };
    (head, Some((i, path[close + 1..].trim_start_matches('.'))))
}

/// The spelling of `canonical` the files have (`namedValues/…` or `named values/…`).
fn present(files: &Files, canonical: &str) -> String {
    paths::spellings(canonical)
        .into_iter()
        .find(|f| files.contains_key(f))
        .unwrap_or_else(|| canonical.to_string())
}

fn text<'a>(files: &'a Files, file: &str) -> Option<&'a str> {
    files.get(file).and_then(|b| std::str::from_utf8(b).ok())
}

fn policy_file(files: &Files, canonical: String, message: &str) -> (String, Option<u32>) {
    (present(files, &canonical), line_in_message(message))
}

/// An information file and the line of the ARM property the model field maps to.
fn info(
    files: &Files,
    canonical: &str,
    field: &str,
    fields: &[(&str, &str)],
) -> (String, Option<u32>) {
    let file = present(files, canonical);
    let model_field = field.split(['.', '[']).next().unwrap_or(field);
    let line = fields
        .iter()
        .find(|(m, _)| *m == model_field)
        .and_then(|(_, arm)| text(files, &file).and_then(|t| json_key_line(t, arm)));
    (file, line)
}

fn api(
    c: &Config,
    i: usize,
    rest: &str,
    message: &str,
    files: &Files,
) -> Option<(String, Option<u32>)> {
    let a = c.apis.get(i)?;
    let (head, inner) = split_index(rest);
    Some(match (head, inner) {
        ("operations", Some((j, field))) => {
            let o = a.operations.get(j)?;
            if field == "policies" {
                return Some(policy_file(
                    files,
                    paths::operation_policy(&a.id, &o.id),
                    message,
                ));
            }
            let file = present(files, &paths::api_spec(&a.id));
            let line = text(files, &file).and_then(|t| {
                line_of(t, &format!("operationId: {}", o.id))
                    .or_else(|| line_of(t, &format!("operationId: '{}'", o.id)))
                    .or_else(|| line_of(t, &format!("\"operationId\": \"{}\"", o.id)))
                    .or_else(|| line_of(t, &format!("id: {}", o.id)))
            });
            (file, line)
        }
        ("policies", _) => policy_file(files, paths::api_policy(&a.id), message),
        ("tags" | "schemas", _) => (present(files, &paths::api_spec(&a.id)), None),
        ("backend", _) => {
            let file = present(files, &paths::api_info(&a.id));
            let line = text(files, &file)
                .and_then(|t| line_of(t, "\"serviceUrl\"").or_else(|| line_of(t, "\"backendId\"")));
            (file, line)
        }
        _ => info(files, &paths::api_info(&a.id), rest, apis::API_FIELDS),
    })
}

fn product(
    c: &Config,
    i: usize,
    rest: &str,
    message: &str,
    files: &Files,
) -> Option<(String, Option<u32>)> {
    let p = c.products.get(i)?;
    let (head, inner) = split_index(rest);
    Some(match (head, inner) {
        ("apis" | "groups", Some((j, _))) => {
            let (ids, list) = if head == "apis" {
                (&p.apis, paths::product_apis(&p.id))
            } else {
                (&p.groups, paths::product_groups(&p.id))
            };
            let id = ids.get(j)?;
            if let Some(t) = text(files, &list) {
                // The line of the j-th mention of the id (an id may be listed twice).
                let needle = format!("\"{id}\"");
                let nth = ids[..j].iter().filter(|x| *x == id).count();
                let mut line = line_of(t, &needle);
                for _ in 0..nth {
                    line = line.and_then(|l| line_from(t, l + 1, &needle));
                }
                return Some((list, line));
            }
            let kind = if head == "apis" {
                "productApiInformation.json"
            } else {
                "productGroupInformation.json"
            };
            (format!("products/{}/{head}/{id}/{kind}", p.id), None)
        }
        ("policies", _) => policy_file(files, paths::product_policy(&p.id), message),
        _ => info(
            files,
            &paths::product_info(&p.id),
            rest,
            apis::PRODUCT_FIELDS,
        ),
    })
}
