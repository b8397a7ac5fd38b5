//! What a request names: the ARM prefix stripped (both forms share one handler set), the
//! `api-version` checked, and the rest of the path as segments.

use crate::error::ApiError;
use http::StatusCode;

/// API versions accepted: APIM's releases from 2021-08-01 through 2024-05-01, stable and
/// preview, as Azure's specification lists them (specification/apimanagement/resource-manager/
/// Microsoft.ApiManagement/{stable,preview}/ in Azure/azure-rest-api-specs). A date that is not
/// a release is refused, as ARM refuses it.
pub const API_VERSIONS: &[&str] = &[
    "2021-08-01",
    "2021-12-01-preview",
    "2022-04-01-preview",
    "2022-08-01",
    "2022-09-01-preview",
    "2023-03-01-preview",
    "2023-05-01-preview",
    "2023-09-01-preview",
    "2024-05-01",
];

/// The request's target below the service.
#[derive(Debug)]
pub struct Target {
    /// `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.ApiManagement/service/{name}`.
    pub service_id: String,
    pub segments: Vec<String>,
}

/// Splits the path; an ARM path must name this service (else 404).
pub fn target(path: &str, service_name: &str) -> Result<Target, ApiError> {
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let is_arm = segs.len() >= 8
        && segs[0].eq_ignore_ascii_case("subscriptions")
        && segs[2].eq_ignore_ascii_case("resourceGroups")
        && segs[4].eq_ignore_ascii_case("providers")
        && segs[5].eq_ignore_ascii_case("Microsoft.ApiManagement")
        && segs[6].eq_ignore_ascii_case("service");
    if is_arm {
        if segs[7] != service_name {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                format!("The API Management service '{}' is not found.", segs[7]),
            ));
        }
        let service_id = format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ApiManagement/service/{service_name}",
            segs[1], segs[3]
        );
        return Ok(Target {
            service_id,
            segments: segs[8..].to_vec(),
        });
    }
    Ok(Target {
        service_id: short_service_id(service_name),
        segments: segs,
    })
}

/// The ids answered on the short form name a fixed subscription and resource group.
pub fn short_service_id(service_name: &str) -> String {
    format!(
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/gatehouse/providers/Microsoft.ApiManagement/service/{service_name}"
    )
}

// Hand-written: percent-decoding one path segment is a few lines, and resource ids are
// restricted to URL-safe characters by validation anyway.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(hex) = std::str::from_utf8(&b[i + 1..i + 3])
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The query's `api-version`, `$filter`, `$top`, `$skip`.
#[derive(Debug, Default)]
pub struct Query {
    pub filter: Option<String>,
    pub top: Option<usize>,
    pub skip: usize,
    /// The caller's `api-version`, carried into `nextLink`.
    pub api_version: String,
    /// `GET apis/{a}?export=true&format=…`: the API as an OpenAPI document.
    pub export: bool,
    pub format: Option<String>,
}

pub fn query(raw: Option<&str>) -> Result<Query, ApiError> {
    let mut version = None;
    let mut q = Query::default();
    for pair in raw.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_decode(&v.replace('+', " "));
        match percent_decode(k).as_str() {
            "api-version" => version = Some(v),
            "$filter" => q.filter = Some(v),
            "$top" => q.top = Some(number("$top", &v)?),
            "$skip" => q.skip = number("$skip", &v)?,
            "export" => q.export = v.eq_ignore_ascii_case("true"),
            "format" => q.format = Some(v),
            _ => {}
        }
    }
    let Some(version) = version else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        ));
    };
    if !API_VERSIONS.contains(&version.as_str()) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "InvalidApiVersionParameter",
            format!(
                "The api-version '{version}' is invalid. The supported versions are '{}'.",
                API_VERSIONS.join("', '")
            ),
        ));
    }
    q.api_version = version;
    Ok(q)
}

/// `$top`/`$skip`: 0 ..= 2^31-1 (ARM's int32 query parameters).
fn number(name: &str, v: &str) -> Result<usize, ApiError> {
    v.parse::<u32>()
        .ok()
        .filter(|n| *n <= i32::MAX as u32)
        .map(|n| n as usize)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "InvalidParameter",
                format!("{name} must be an integer from 0 to {}", i32::MAX),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert!(query(Some("api-version=2022-08-01")).is_ok());
        assert!(query(Some("api-version=2023-09-01-preview")).is_ok());
        assert_eq!(query(None).unwrap_err().code, "MissingApiVersionParameter");
        assert_eq!(
            query(Some("api-version=2019-01-01")).unwrap_err().code,
            "InvalidApiVersionParameter"
        );
        assert_eq!(
            query(Some("api-version=bad")).unwrap_err().code,
            "InvalidApiVersionParameter"
        );
    }

    #[test]
    fn arm_prefix() {
        let t = target("/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ApiManagement/service/svc/apis/a", "svc").unwrap();
        assert_eq!(t.segments, vec!["apis", "a"]);
        assert!(t.service_id.ends_with("/service/svc"));
        assert_eq!(target("/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ApiManagement/service/other/apis", "svc").unwrap_err().status, 404);
        assert_eq!(
            target("/subscriptions/sub1", "svc").unwrap().segments,
            vec!["subscriptions", "sub1"]
        );
    }
}
