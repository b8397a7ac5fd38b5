//! The developer portal's settings: its look (title, logo, colours) and APIM's portal settings
//! for sign-up and sign-in. Served by crates/portal; written through the management API
//! (`gatehouse/portal`, `portalsettings/signup`, `portalsettings/signin`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Portal {
    /// The site's title; the service name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A line or two under the title on the home page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// An `https://` or `http://` URL, or a path on the portal, of the logo image.
    #[serde(default, alias = "logoUrl", skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    #[serde(default, skip_serializing_if = "Colors::is_default")]
    pub colors: Colors,
    /// APIM's `portalsettings/signup`.
    #[serde(default, skip_serializing_if = "Signup::is_default")]
    pub signup: Signup,
    /// APIM's `portalsettings/signin`: `enabled` sends anonymous visitors to the sign-in page.
    #[serde(default, skip_serializing_if = "Signin::is_default")]
    pub signin: Signin,
}

/// CSS colours as `#rgb` or `#rrggbb` (checked: they are written into the portal's style sheet).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Colors {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Signup {
    /// Visitors may create accounts (APIM's default).
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(
        default,
        alias = "termsOfService",
        skip_serializing_if = "TermsOfService::is_default"
    )]
    pub terms_of_service: TermsOfService,
}

impl Default for Signup {
    fn default() -> Self {
        Signup {
            enabled: true,
            terms_of_service: TermsOfService::default(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TermsOfService {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Show the terms on the sign-up page.
    #[serde(default)]
    pub enabled: bool,
    /// The visitor must tick "I agree" to sign up.
    #[serde(default, alias = "consentRequired")]
    pub consent_required: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Signin {
    #[serde(default)]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

impl Portal {
    pub fn is_default(&self) -> bool {
        *self == Portal::default()
    }
}
impl Colors {
    pub fn is_default(&self) -> bool {
        *self == Colors::default()
    }
}
impl Signup {
    pub fn is_default(&self) -> bool {
        *self == Signup::default()
    }
}
impl TermsOfService {
    pub fn is_default(&self) -> bool {
        *self == TermsOfService::default()
    }
}
impl Signin {
    pub fn is_default(&self) -> bool {
        *self == Signin::default()
    }
}

/// `#rgb` or `#rrggbb`.
pub fn is_css_color(s: &str) -> bool {
    let Some(hex) = s.strip_prefix('#') else {
        return false;
    };
    matches!(hex.len(), 3 | 6) && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// An absolute http(s) URL or a path on the portal (`/logo.png`): nothing a browser would run.
pub fn is_logo_url(s: &str) -> bool {
    let ok_chars = !s
        .chars()
        .any(|c| c.is_whitespace() || c == '"' || c == '<' || c == '>');
    ok_chars
        && (s.starts_with("https://")
            || s.starts_with("http://")
            || (s.starts_with('/') && !s.starts_with("//")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_and_logos_are_checked() {
        assert!(is_css_color("#0a5") && is_css_color("#00AA55"));
        assert!(!is_css_color("red") && !is_css_color("#12345") && !is_css_color("#12;}x"));
        assert!(is_logo_url("https://example.com/l.png") && is_logo_url("/logo.svg"));
        assert!(!is_logo_url("javascript:alert(1)") && !is_logo_url("//evil.example/x"));
        assert!(!is_logo_url("https://x/\"onerror=1"));
    }

    #[test]
    fn defaults_are_omitted_and_azure_names_read() {
        let p: Portal = serde_json::from_value(serde_json::json!({
            "title": "Contoso APIs",
            "signup": {"enabled": false, "termsOfService": {"text": "Be nice", "enabled": true, "consentRequired": true}}
        }))
        .expect("parses");
        assert!(!p.signup.enabled && p.signup.terms_of_service.consent_required);
        assert!(Portal::default().is_default());
        let back = serde_json::to_value(Portal::default()).expect("serializes");
        assert_eq!(back, serde_json::json!({}));
    }
}
