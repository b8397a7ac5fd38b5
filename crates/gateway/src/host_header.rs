//! The `Host` header rules of RFC 9112 §3.2: an HTTP/1.1 request carries exactly one, and it is
//! a valid authority (host and optional port, no user info). Anything else is answered 400 —
//! two `Host` lines, or none, mean the gateway and the backend may disagree on which site the
//! request is for.
//!
//! It also holds [`HostNames`]: the names a component answers in internal mode, where APIM
//! "only responds to requests to the hostname configured on its endpoints" (docs/network.md).

use gatehouse_model::hostnames::{self, Component};
use gatehouse_model::network::NetworkType;
use http::header::{self, HeaderMap};
use http::{Uri, Version};

/// Why a request's `Host` is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HostRejected {
    #[error("an HTTP/1.1 request without a Host header")]
    Missing,
    #[error("more than one Host header")]
    Repeated,
    #[error("a Host header that is not a host and port")]
    Invalid,
}

/// Checks the `Host` header lines of a request of `version`.
pub fn check(version: Version, headers: &HeaderMap) -> Result<(), HostRejected> {
    let mut lines = headers.get_all(header::HOST).iter();
    let Some(host) = lines.next() else {
        // HTTP/2 and HTTP/3 carry the authority in `:authority`; HTTP/1.0 may omit Host.
        return if version == Version::HTTP_11 {
            Err(HostRejected::Missing)
        } else {
            Ok(())
        };
    };
    if lines.next().is_some() {
        return Err(HostRejected::Repeated);
    }
    // RFC 9112 §3.2: an empty value is allowed when the target has no authority.
    if host.is_empty() {
        return Ok(());
    }
    // RFC 3986 §3.2.2 host (reg-name, IPv4, IP literal) and §3.2.3 port, byte by byte: no
    // user info (`@`), no spaces, slashes or other delimiters. (Checked here rather than with
    // `http::uri::Authority`, which copies the value on every request.)
    let valid = host.as_bytes().iter().all(|&b| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'%'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'['
                    | b']'
            )
    });
    if valid {
        Ok(())
    } else {
        Err(HostRejected::Invalid)
    }
}

/// The host names one component answers, precomputed per snapshot so that the request path
/// compares without locks or allocation. Only enforced in internal mode; external and none
/// answer any host (and IP literals) as before.
#[derive(Debug, Clone)]
pub struct HostNames {
    component: Component,
    enforced: bool,
    /// Lower case; wildcards as written (`*.contoso.com`). A handful per component: a linear
    /// scan with `eq_ignore_ascii_case` needs no lower-cased copy of the request's host.
    names: Box<[Box<str>]>,
}

impl HostNames {
    pub fn compile(config: &gatehouse_model::Config, component: Component) -> HostNames {
        HostNames {
            component,
            enforced: config.network.kind == NetworkType::Internal,
            names: hostnames::effective_host_names(config, component)
                .into_iter()
                .map(String::into_boxed_str)
                .collect(),
        }
    }

    /// Whether this component answers only its host names (internal mode).
    pub fn enforced(&self) -> bool {
        self.enforced
    }

    /// `Ok` when the request's host (see [`request_host`]) may be answered; else the message
    /// for the client's 404, naming the host and the component.
    pub fn admit(&self, host: Option<&str>) -> Result<(), String> {
        if !self.enforced {
            return Ok(());
        }
        if let Some(h) = host
            && self.names.iter().any(|n| hostnames::matches(n, h))
        {
            return Ok(());
        }
        let listed = self.names.join(", ");
        let what = match self.component {
            Component::Gateway => "the gateway",
            Component::Management => "the management API",
            Component::Portal => "the developer portal",
            Component::Git => "the Git endpoint",
        };
        Err(match host {
            Some(h) => format!("host '{h}' is not a host name of {what}; configured: {listed}"),
            None => format!(
                "a request without a host name: {what} answers only its host names; configured: {listed}"
            ),
        })
    }
}

/// The host a request is for, without port or trailing dot: the target's authority (HTTP/2's
/// `:authority`, an absolute-form target), else the `Host` header. `None` without either, or
/// when empty. IP literals come back as written (`[::1]`, `10.0.0.5`): no host name matches them.
pub fn request_host<'a>(uri: &'a Uri, headers: &'a HeaderMap) -> Option<&'a str> {
    let raw = match uri.authority() {
        Some(a) => a.as_str(),
        None => headers.get(header::HOST)?.to_str().ok()?,
    };
    let host = match raw.rfind(':') {
        // `[::1]:80` and `a.b:80` lose the port; a bare `[::1]` keeps its colons.
        Some(i) if !raw[i..].contains(']') => &raw[..i],
        _ => raw,
    };
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = host.strip_suffix('.').unwrap_or(host);
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_host_loses_its_port() {
        let uri: Uri = "/x".parse().unwrap();
        let got = |v: &[&str]| request_host(&uri, &hosts(v)).map(str::to_string);
        assert_eq!(got(&["a.example:8080"]).as_deref(), Some("a.example"));
        assert_eq!(got(&["A.example."]).as_deref(), Some("A.example"));
        assert_eq!(got(&["[::1]:80"]).as_deref(), Some("[::1]"));
        assert_eq!(got(&["[::1]"]).as_deref(), Some("[::1]"));
        assert_eq!(got(&["10.0.0.5"]).as_deref(), Some("10.0.0.5"));
        assert_eq!(got(&[""]), None);
        assert_eq!(got(&[]), None);
        let absolute: Uri = "https://b.example:443/x".parse().unwrap();
        assert_eq!(
            request_host(&absolute, &hosts(&["a.example"])),
            Some("b.example")
        );
    }

    #[test]
    fn internal_mode_answers_only_the_components_names() {
        let yaml = |kind: &str| {
            format!(
                "service: {{ name: contoso }}\nnetwork: {{ type: {kind} }}\nhostname_configurations: [ {{ type: Portal, host_name: '*.portal.contoso.com' }} ]\n"
            )
        };
        let config = |kind: &str| {
            gatehouse_model::from_str(
                &yaml(kind),
                gatehouse_model::Format::Yaml,
                std::path::Path::new("/"),
            )
            .unwrap()
        };
        let portal = HostNames::compile(&config("internal"), Component::Portal);
        assert!(portal.enforced());
        assert_eq!(portal.admit(Some("Contoso.Portal.Azure-Api.net")), Ok(()));
        assert_eq!(
            portal.admit(Some("contoso.developer.azure-api.net")),
            Ok(())
        );
        assert_eq!(portal.admit(Some("a.portal.contoso.com")), Ok(()));
        assert_eq!(
            portal.admit(Some("10.0.0.5")),
            Err("host '10.0.0.5' is not a host name of the developer portal; configured: *.portal.contoso.com, contoso.portal.azure-api.net, contoso.developer.azure-api.net".to_string())
        );
        assert!(portal.admit(None).is_err());
        let gateway = HostNames::compile(&config("internal"), Component::Gateway);
        assert!(gateway.admit(Some("contoso.portal.azure-api.net")).is_err());
        assert_eq!(gateway.admit(Some("contoso.azure-api.net")), Ok(()));
        let external = HostNames::compile(&config("external"), Component::Portal);
        assert_eq!(external.admit(Some("10.0.0.5")), Ok(()));
        assert_eq!(external.admit(None), Ok(()));
    }

    fn hosts(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::HOST, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn one_valid_host_on_http_1_1() {
        assert_eq!(check(Version::HTTP_11, &hosts(&["a.example:8080"])), Ok(()));
        assert_eq!(check(Version::HTTP_11, &hosts(&["[::1]:80"])), Ok(()));
        assert_eq!(check(Version::HTTP_11, &hosts(&[""])), Ok(()));
        assert_eq!(
            check(Version::HTTP_11, &hosts(&[])),
            Err(HostRejected::Missing)
        );
        assert_eq!(
            check(Version::HTTP_11, &hosts(&["a", "b"])),
            Err(HostRejected::Repeated)
        );
        assert_eq!(
            check(Version::HTTP_11, &hosts(&["u@a"])),
            Err(HostRejected::Invalid)
        );
        for bad in ["a b", "a/b", "a\\b", "a\"b", "a<b"] {
            assert_eq!(
                check(Version::HTTP_11, &hosts(&[bad])),
                Err(HostRejected::Invalid),
                "{bad}"
            );
        }
        assert_eq!(check(Version::HTTP_10, &hosts(&[])), Ok(()));
        assert_eq!(check(Version::HTTP_2, &hosts(&[])), Ok(()));
        assert_eq!(
            check(Version::HTTP_2, &hosts(&["a", "a"])),
            Err(HostRejected::Repeated)
        );
    }
}
