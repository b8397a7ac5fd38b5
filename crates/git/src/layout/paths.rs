//! Where each file of the layout lives: the APIOps artifact names (as Azure/apiops's extractor
//! writes them, `src/common/*.cs` there) and the few names gatehouse adds under `gatehouse/`.
//!
//! Export writes the names in the first column of [`LAYOUT`]; import also reads the forms
//! APIOps writes or wrote (`named values/`, `policy fragments/`, the per-link
//! `products/{p}/apis/{a}/productApiInformation.json`), so an extracted repository imports
//! unchanged whichever APIOps version wrote it.

/// The directory of named values: the management API's spelling, which the issue that built
/// this layout names; APIOps' extractor writes `named values` (with a space), read too.
pub const NAMED_VALUES: &str = "namedValues";
/// The directory of policy fragments (APIOps writes `policy fragments`, read too).
pub const FRAGMENTS: &str = "policyFragments";
/// The same directories as APIOps' extractor spells them.
const NAMED_VALUES_ALT: &str = "named values";
const FRAGMENTS_ALT: &str = "policy fragments";

pub const GLOBAL_POLICY: &str = "policy.xml";
pub const NETWORK: &str = "gatehouse/network.yaml";
pub const GATEWAY: &str = "gatehouse/gateway.yaml";

/// The layout, for the message that refuses a file in an unknown place.
pub const LAYOUT: &str = "policy.xml, apis/{a}/apiInformation.json, apis/{a}/specification.yaml \
(or .json), apis/{a}/policy.xml, apis/{a}/operations/{o}/policy.xml, \
products/{p}/productInformation.json, products/{p}/apis.json (or apis/{a}/productApiInformation.json), \
products/{p}/groups.json (or groups/{g}/productGroupInformation.json), products/{p}/policy.xml, \
namedValues/{n}/namedValueInformation.json, backends/{b}/backendInformation.json, \
policyFragments/{f}/policyFragmentInformation.json, policyFragments/{f}/policy.xml, \
gatehouse/network.yaml, gatehouse/gateway.yaml";

/// A file's place in the layout, with the names (ids) its directories give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place<'a> {
    GlobalPolicy,
    ApiInfo(&'a str),
    ApiSpec(&'a str),
    ApiPolicy(&'a str),
    OperationPolicy(&'a str, &'a str),
    ProductInfo(&'a str),
    ProductApis(&'a str),
    ProductApi(&'a str, &'a str),
    ProductGroups(&'a str),
    ProductGroup(&'a str, &'a str),
    ProductPolicy(&'a str),
    NamedValue(&'a str),
    Backend(&'a str),
    FragmentInfo(&'a str),
    FragmentPolicy(&'a str),
    Network,
    Gateway,
}

/// A directory name usable as an id: not empty, not `.`/`..`, no backslash.
fn name(s: &str) -> Option<&str> {
    (!s.is_empty() && s != "." && s != ".." && !s.contains('\\')).then_some(s)
}

/// The place of `path` ('/'-separated, relative to the repository root), or `None` when the
/// layout has no such file.
pub fn classify(path: &str) -> Option<Place<'_>> {
    let parts: Vec<&str> = path.split('/').collect();
    Some(match parts.as_slice() {
        ["policy.xml"] => Place::GlobalPolicy,
        ["gatehouse", "network.yaml"] => Place::Network,
        ["gatehouse", "gateway.yaml"] => Place::Gateway,
        ["apis", a, "apiInformation.json"] => Place::ApiInfo(name(a)?),
        [
            "apis",
            a,
            "specification.yaml" | "specification.yml" | "specification.json",
        ] => Place::ApiSpec(name(a)?),
        ["apis", a, "policy.xml"] => Place::ApiPolicy(name(a)?),
        ["apis", a, "operations", o, "policy.xml"] => Place::OperationPolicy(name(a)?, name(o)?),
        ["products", p, "productInformation.json"] => Place::ProductInfo(name(p)?),
        ["products", p, "apis.json"] => Place::ProductApis(name(p)?),
        ["products", p, "apis", a, "productApiInformation.json"] => {
            Place::ProductApi(name(p)?, name(a)?)
        }
        ["products", p, "groups.json"] => Place::ProductGroups(name(p)?),
        ["products", p, "groups", g, "productGroupInformation.json"] => {
            Place::ProductGroup(name(p)?, name(g)?)
        }
        ["products", p, "policy.xml"] => Place::ProductPolicy(name(p)?),
        [
            NAMED_VALUES | NAMED_VALUES_ALT,
            n,
            "namedValueInformation.json",
        ] => Place::NamedValue(name(n)?),
        ["backends", b, "backendInformation.json"] => Place::Backend(name(b)?),
        [
            FRAGMENTS | FRAGMENTS_ALT,
            f,
            "policyFragmentInformation.json",
        ] => Place::FragmentInfo(name(f)?),
        [FRAGMENTS | FRAGMENTS_ALT, f, "policy.xml"] => Place::FragmentPolicy(name(f)?),
        _ => return None,
    })
}

pub fn api_info(a: &str) -> String {
    format!("apis/{a}/apiInformation.json")
}
pub fn api_spec(a: &str) -> String {
    format!("apis/{a}/specification.yaml")
}
pub fn api_policy(a: &str) -> String {
    format!("apis/{a}/policy.xml")
}
pub fn operation_policy(a: &str, o: &str) -> String {
    format!("apis/{a}/operations/{o}/policy.xml")
}
pub fn product_info(p: &str) -> String {
    format!("products/{p}/productInformation.json")
}
pub fn product_apis(p: &str) -> String {
    format!("products/{p}/apis.json")
}
pub fn product_groups(p: &str) -> String {
    format!("products/{p}/groups.json")
}
pub fn product_policy(p: &str) -> String {
    format!("products/{p}/policy.xml")
}
pub fn named_value(n: &str) -> String {
    format!("{NAMED_VALUES}/{n}/namedValueInformation.json")
}
pub fn backend(b: &str) -> String {
    format!("backends/{b}/backendInformation.json")
}
pub fn fragment_info(f: &str) -> String {
    format!("{FRAGMENTS}/{f}/policyFragmentInformation.json")
}
pub fn fragment_policy(f: &str) -> String {
    format!("{FRAGMENTS}/{f}/policy.xml")
}

/// Every spelling import accepts for a file export writes at `canonical` (for [`super::locate`]
/// to find the one a pushed tree actually has).
pub fn spellings(canonical: &str) -> Vec<String> {
    let mut out = vec![canonical.to_string()];
    for (a, b) in [(NAMED_VALUES, NAMED_VALUES_ALT), (FRAGMENTS, FRAGMENTS_ALT)] {
        if let Some(rest) = canonical.strip_prefix(a) {
            out.push(format!("{b}{rest}"));
        }
    }
    if let Some(stem) = canonical.strip_suffix("specification.yaml") {
        out.push(format!("{stem}specification.yml"));
        out.push(format!("{stem}specification.json"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apiops_names_and_camel_case_forms_both_classify() {
        assert_eq!(
            classify("named values/env/namedValueInformation.json"),
            Some(Place::NamedValue("env"))
        );
        assert_eq!(
            classify("namedValues/env/namedValueInformation.json"),
            Some(Place::NamedValue("env"))
        );
        assert_eq!(
            classify("apis/a/operations/get/policy.xml"),
            Some(Place::OperationPolicy("a", "get"))
        );
        assert_eq!(
            classify("products/p/apis/a/productApiInformation.json"),
            Some(Place::ProductApi("p", "a"))
        );
        assert_eq!(classify("apis/../apiInformation.json"), None);
        assert_eq!(classify("apis/a/readme.md"), None);
        assert_eq!(classify("README.md"), None);
    }

    #[test]
    fn spellings_cover_what_import_accepts() {
        let s = spellings(&named_value("x"));
        assert!(s.contains(&"namedValues/x/namedValueInformation.json".to_string()));
        assert!(spellings(&api_spec("a")).contains(&"apis/a/specification.json".to_string()));
        for f in spellings(&fragment_policy("f")) {
            assert_eq!(classify(&f), Some(Place::FragmentPolicy("f")));
        }
    }
}
