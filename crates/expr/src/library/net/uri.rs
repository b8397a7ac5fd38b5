//! `System.Uri`: the `url` crate parses (WHATWG rules: lowercased scheme and host, dot segments
//! removed, default ports dropped); this module gives .NET's view on top: `AbsoluteUri` with
//! escapes of unreserved characters decoded, `ToString()` unescaped, `Port` -1 for an unknown
//! scheme, relative URIs that only know their original string.

use super::*;

/// A `Uri`: the string it was made from, and its parse when absolute.
#[derive(Debug, Clone, PartialEq)]
pub struct DotnetUri {
    pub(super) original: String,
    pub(super) url: Option<url::Url>,
}

pub(super) const URI_PARTIAL: &[&str] = &["Scheme", "Authority", "Path", "Query"];

pub(super) const STATIC_METHODS: &[&str] = &[
    "EscapeDataString",
    "EscapeUriString",
    "UnescapeDataString",
    "IsWellFormedUriString",
    "CheckHostName",
    "CheckSchemeName",
    "IsHexDigit",
    "IsHexEncoding",
    "HexEscape",
    "FromHex",
    "TryCreate",
    "Compare",
    "HexUnescape",
];

pub(super) fn static_field(name: &str) -> Option<&'static str> {
    Some(match name {
        "UriSchemeHttp" => "http",
        "UriSchemeHttps" => "https",
        "UriSchemeFile" => "file",
        "UriSchemeFtp" => "ftp",
        "UriSchemeGopher" => "gopher",
        "UriSchemeMailto" => "mailto",
        "UriSchemeNews" => "news",
        "UriSchemeNntp" => "nntp",
        "UriSchemeNetTcp" => "net.tcp",
        "UriSchemeNetPipe" => "net.pipe",
        "SchemeDelimiter" => "://",
        _ => return None,
    })
}

fn format_error(at: usize) -> Flow {
    rt(
        "UriFormatException",
        "Invalid URI: The format of the URI could not be determined.",
        at,
    )
}

fn relative_error(at: usize) -> Flow {
    rt(
        "InvalidOperationException",
        "This operation is not supported for a relative URI.",
        at,
    )
}

fn uri_value(u: DotnetUri) -> Value {
    net_value(Net::Uri(Arc::new(u)))
}

/// An absolute URI, as .NET accepts one: `scheme:` then something (a bare word is relative).
fn parse_absolute(s: &str) -> Option<url::Url> {
    url::Url::parse(s.trim()).ok()
}

fn uri_kind(v: Option<&Value>) -> &'static str {
    match v {
        Some(Value::Enum("UriKind", 0)) => "RelativeOrAbsolute",
        Some(Value::Enum("UriKind", 2)) => "Relative",
        _ => "Absolute",
    }
}

/// `new Uri(s)`, `new Uri(s, UriKind)`, `new Uri(baseUri, relative)`.
pub(super) fn construct(it: &mut Interp, args: &Args, at: usize) -> F<Value> {
    let first = arg(args, 0, at)?;
    let second = args.get(1).map(|(_, v)| v);
    if let Value::Object(Object::Net(Net::Uri(base))) = first {
        let rel = match second {
            Some(Value::Object(Object::Net(Net::Uri(r)))) => r.original.clone(),
            Some(v @ Value::String(_)) => as_str(v, at)?,
            Some(Value::Null) | None => return Err(null_arg("relativeUri", at)),
            Some(other) => return Err(cast_err(other, "System.Uri", at)),
        };
        let Some(b) = &base.url else {
            return Err(relative_error(at));
        };
        it.charge(b.as_str().len().saturating_add(rel.len()), at)?;
        let joined = b.join(&rel).map_err(|_| format_error(at))?;
        return Ok(uri_value(DotnetUri {
            original: joined.as_str().to_string(),
            url: Some(joined),
        }));
    }
    let s = match first {
        Value::Null => return Err(null_arg("uriString", at)),
        v => as_str(v, at)?,
    };
    it.charge(s.len().saturating_mul(2), at)?;
    let parsed = parse_absolute(&s);
    let url = match (uri_kind(second), parsed) {
        ("Relative", Some(_)) => {
            return Err(rt(
                "UriFormatException",
                "Invalid URI: The format of the URI could not be determined.",
                at,
            ));
        }
        ("Relative" | "RelativeOrAbsolute", None) => None,
        (_, Some(u)) => Some(u),
        (_, None) => return Err(format_error(at)),
    };
    Ok(uri_value(DotnetUri { original: s, url }))
}

fn null_arg(name: &str, at: usize) -> Flow {
    rt(
        "ArgumentNullException",
        format!("Value cannot be null.\nParameter name: {name}"),
        at,
    )
}

impl DotnetUri {
    pub(super) fn size(&self) -> usize {
        self.original.len() + self.url.as_ref().map_or(0, |u| u.as_str().len() + 64)
    }

    /// `AbsoluteUri`: the parse, with escapes of unreserved characters decoded and hex digits
    /// uppercased, as .NET canonicalises (`%41` is `A`).
    fn absolute(&self) -> Option<String> {
        self.url.as_ref().map(|u| normalize_escapes(u.as_str()))
    }

    pub(super) fn display(&self) -> String {
        match self.absolute() {
            Some(a) => unescape_display(&a),
            None => self.original.clone(),
        }
    }

    /// Host with the port when it is not the scheme's default (`Authority`).
    fn authority(u: &url::Url) -> String {
        let host = u.host_str().unwrap_or("");
        match u.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        }
    }

    fn user_info(u: &url::Url) -> String {
        match u.password() {
            Some(p) => format!("{}:{p}", u.username()),
            None => u.username().to_string(),
        }
    }

    /// `GetLeftPart(part)`.
    fn left_part(&self, part: &str) -> Option<String> {
        let u = self.url.as_ref()?;
        let abs = self.absolute()?;
        let scheme_end = u.scheme().len() + if u.has_host() { 3 } else { 1 };
        let path_start = match u.has_host() {
            true => abs[scheme_end..]
                .find('/')
                .map_or(abs.len(), |i| i + scheme_end),
            false => scheme_end,
        };
        let end_of = |stop: &[char]| {
            abs[path_start..]
                .find(stop)
                .map_or(abs.len(), |i| i + path_start)
        };
        Some(match part {
            "Scheme" => abs[..scheme_end].to_string(),
            "Authority" if u.has_host() => abs[..path_start].to_string(),
            "Authority" => String::new(),
            "Path" => abs[..end_of(&['?', '#'])].to_string(),
            _ => abs[..end_of(&['#'])].to_string(),
        })
    }
}

/// `%xx` of an unreserved character decoded, other escapes uppercased.
fn normalize_escapes(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            if v.is_ascii_alphanumeric() || matches!(v, b'-' | b'.' | b'_' | b'~') {
                out.push(v as char);
            } else {
                out.push_str(&format!("%{v:02X}"));
            }
            i += 3;
            continue;
        }
        let c = s[i..].chars().next().unwrap_or('\u{fffd}');
        out.push(c);
        i += c.len_utf8().max(1);
    }
    out
}

/// `ToString()`: escapes decoded except those of characters with a meaning in a URI (`%2F`
/// stays, `%20` is a space, UTF-8 sequences become their characters).
fn unescape_display(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let hex = |j: usize| {
        s.get(j + 1..j + 3)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
    };
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = hex(i)
        {
            if v < 0x80 {
                if v == b' ' || !(v.is_ascii_control() || b"%;/?:@&=+$,#[]\"<>\\^`{|}".contains(&v))
                {
                    out.push(v as char);
                } else {
                    out.push_str(&s[i..i + 3]);
                }
                i += 3;
                continue;
            }
            // A run of escaped bytes: decoded when it is UTF-8.
            let mut bytes = Vec::new();
            let mut j = i;
            while j < b.len() && b[j] == b'%' {
                match hex(j) {
                    Some(x) if x >= 0x80 => bytes.push(x),
                    _ => break,
                }
                j += 3;
            }
            match std::str::from_utf8(&bytes) {
                Ok(text) => out.push_str(text),
                Err(_) => out.push_str(&s[i..j]),
            }
            i = j;
            continue;
        }
        let c = s[i..].chars().next().unwrap_or('\u{fffd}');
        out.push(c);
        i += c.len_utf8().max(1);
    }
    out
}

fn host_type(u: &url::Url) -> &'static str {
    match u.host() {
        Some(url::Host::Domain(_)) => "Dns",
        Some(url::Host::Ipv4(_)) => "IPv4",
        Some(url::Host::Ipv6(_)) => "IPv6",
        None => "Basic",
    }
}

fn is_loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        None => false,
    }
}

/// `Segments`: the path cut after each `/`.
fn segments(path: &str) -> Vec<Value> {
    path.split_inclusive('/').map(Value::str).collect()
}

pub(super) fn member(it: &mut Interp, u: &DotnetUri, name: &str, at: usize) -> F<Value> {
    match name {
        "OriginalString" => return Ok(Value::str(&u.original)),
        "IsAbsoluteUri" => return Ok(Value::Bool(u.url.is_some())),
        "UserEscaped" => return Ok(Value::Bool(false)),
        _ => {}
    }
    let Some(url) = &u.url else {
        return Err(if is_member(name) {
            relative_error(at)
        } else {
            no_member(&uri_value(u.clone()), name, at)
        });
    };
    let abs = normalize_escapes(url.as_str());
    it.charge(abs.len().saturating_mul(2), at)?;
    let path = match u.left_part("Path") {
        Some(p) => {
            let start = u.left_part("Authority").map_or(0, |a| a.len());
            let start = if url.has_host() {
                start
            } else {
                url.scheme().len() + 1
            };
            p.get(start..).unwrap_or("").to_string()
        }
        None => String::new(),
    };
    let query = url
        .query()
        .map(|q| format!("?{}", normalize_escapes(q)))
        .unwrap_or_default();
    let host = url.host_str().unwrap_or("").to_string();
    let bare_host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    Ok(match name {
        "AbsoluteUri" => Value::str(abs),
        "Scheme" => Value::str(url.scheme()),
        "Host" => Value::str(host),
        "DnsSafeHost" | "IdnHost" => Value::str(bare_host),
        "Port" => Value::Int(url.port_or_known_default().map_or(-1, i64::from)),
        "IsDefaultPort" => Value::Bool(url.port().is_none()),
        "Authority" => Value::str(DotnetUri::authority(url)),
        "UserInfo" => Value::str(DotnetUri::user_info(url)),
        "AbsolutePath" => Value::str(&path),
        "LocalPath" => Value::str(unescape_display(&path)),
        "PathAndQuery" => Value::str(format!("{path}{query}")),
        "Query" => Value::str(query),
        "Fragment" => Value::str(
            url.fragment()
                .map(|f| format!("#{}", normalize_escapes(f)))
                .unwrap_or_default(),
        ),
        "Segments" => Value::Array(segments(&path)),
        "HostNameType" => enum_member("UriHostNameType", host_type(url)).unwrap_or(Value::Null),
        "IsLoopback" => Value::Bool(is_loopback(url)),
        "IsFile" => Value::Bool(url.scheme() == "file"),
        "IsUnc" => Value::Bool(false),
        _ => return Err(no_member(&uri_value(u.clone()), name, at)),
    })
}

fn is_member(name: &str) -> bool {
    matches!(
        name,
        "AbsoluteUri"
            | "Scheme"
            | "Host"
            | "DnsSafeHost"
            | "IdnHost"
            | "Port"
            | "IsDefaultPort"
            | "Authority"
            | "UserInfo"
            | "AbsolutePath"
            | "LocalPath"
            | "PathAndQuery"
            | "Query"
            | "Fragment"
            | "Segments"
            | "HostNameType"
            | "IsLoopback"
            | "IsFile"
            | "IsUnc"
    )
}

/// The other side of `Equals`/`MakeRelativeUri`/`IsBaseOf`: a `Uri`, or a string made one.
pub(super) fn other_uri(v: &Value) -> Option<DotnetUri> {
    match v {
        Value::Object(Object::Net(Net::Uri(u))) => Some(u.as_ref().clone()),
        Value::String(s) => Some(DotnetUri {
            original: s.to_string(),
            url: parse_absolute(s),
        }),
        _ => None,
    }
}

pub(super) fn call_method(
    it: &mut Interp,
    u: &DotnetUri,
    name: &str,
    args: &Args,
    at: usize,
) -> F<Value> {
    let a = |i: usize| arg(args, i, at);
    it.charge(u.original.len().saturating_mul(2), at)?;
    Ok(match name {
        "ToString" => Value::str(u.display()),
        // .NET compares URIs without their fragments.
        "Equals" => Value::Bool(match other_uri(a(0)?) {
            Some(o) => match (&u.url, &o.url) {
                (Some(x), Some(y)) => {
                    let (mut x, mut y) = (x.clone(), y.clone());
                    x.set_fragment(None);
                    y.set_fragment(None);
                    normalize_escapes(x.as_str()) == normalize_escapes(y.as_str())
                }
                (None, None) => u.original == o.original,
                _ => false,
            },
            None => false,
        }),
        "GetHashCode" => return Err(no_member(&uri_value(u.clone()), name, at)),
        "GetComponents" => return super::uri_parts::get_components(it, u, args, at),
        "IsWellFormedOriginalString" => return super::uri_parts::well_formed_original(it, u, at),
        "MakeRelative" => return super::uri_parts::make_relative(it, u, args, at),
        "GetLeftPart" => {
            let part = as_str(a(0)?, at)?;
            if !URI_PARTIAL.contains(&part.as_str()) {
                return Err(rt(
                    "ArgumentException",
                    "The value of the UriPartial argument is invalid.",
                    at,
                ));
            }
            Value::str(u.left_part(&part).ok_or_else(|| relative_error(at))?)
        }
        "MakeRelativeUri" => {
            let other = other_uri(a(0)?).ok_or_else(|| null_arg("uri", at))?;
            let (Some(base), Some(target)) = (&u.url, &other.url) else {
                return Err(relative_error(at));
            };
            let rel = match base.make_relative(target) {
                Some(r) if base.scheme() == target.scheme() && base.port() == target.port() => r,
                _ => return Ok(uri_value(other)),
            };
            uri_value(DotnetUri {
                original: normalize_escapes(&rel),
                url: None,
            })
        }
        "IsBaseOf" => {
            let other = other_uri(a(0)?).ok_or_else(|| null_arg("uri", at))?;
            let (Some(base), Some(target)) = (&u.url, &other.url) else {
                return Err(relative_error(at));
            };
            let dir = &base.path()[..base.path().rfind('/').map_or(0, |i| i + 1)];
            Value::Bool(
                base.scheme() == target.scheme()
                    && base.host() == target.host()
                    && base.port_or_known_default() == target.port_or_known_default()
                    && target.path().starts_with(dir),
            )
        }
        _ => return Err(no_member(&uri_value(u.clone()), name, at)),
    })
}

/// Whether `s` is a DNS host name .NET's `CheckHostName` accepts: labels of letters, digits,
/// `-` and `_`, none empty or longer than 63.
fn is_dns_name(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    !s.is_empty()
        && s.len() <= 255
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars()
                    .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        })
}

pub(super) fn call_static(it: &mut Interp, name: &str, args: &Args, at: usize) -> Option<F<Value>> {
    const OWN: &[&str] = &[
        "CheckSchemeName",
        "CheckHostName",
        "IsHexDigit",
        "FromHex",
        "HexEscape",
        "IsHexEncoding",
        "IsWellFormedUriString",
        "Compare",
    ];
    if !OWN.contains(&name) {
        return None;
    }
    if name == "Compare" {
        return Some(super::uri_parts::compare(it, args, at));
    }
    let a = |i: usize| arg(args, i, at);
    Some((|| -> F<Value> {
        Ok(match name {
            "CheckSchemeName" => Value::Bool(match a(0)? {
                Value::Null => false,
                v => {
                    let s = as_str(v, at)?;
                    let mut cs = s.chars();
                    cs.next().is_some_and(|c| c.is_ascii_alphabetic())
                        && cs.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
                }
            }),
            "CheckHostName" => Value::str(match a(0)? {
                Value::Null => "Unknown",
                v => {
                    let s = as_str(v, at)?;
                    let bare = s.trim_start_matches('[').trim_end_matches(']');
                    if s.parse::<std::net::Ipv4Addr>().is_ok() {
                        "IPv4"
                    } else if bare.parse::<std::net::Ipv6Addr>().is_ok() {
                        "IPv6"
                    } else if is_dns_name(&s) {
                        "Dns"
                    } else {
                        "Unknown"
                    }
                }
            }),
            "IsHexDigit" => Value::Bool(as_char(a(0)?, at)?.is_ascii_hexdigit()),
            "FromHex" => {
                let c = as_char(a(0)?, at)?;
                Value::Int(
                    c.to_digit(16)
                        .filter(|_| c.is_ascii())
                        .ok_or_else(|| rt("ArgumentException", "digit", at))?
                        as i64,
                )
            }
            "HexEscape" => {
                let c = as_char(a(0)?, at)?;
                if c as u32 > 255 {
                    return Err(rt(
                        "ArgumentOutOfRangeException",
                        "Specified argument was out of the range of valid values.\nParameter name: character",
                        at,
                    ));
                }
                Value::str(format!("%{:02X}", c as u32))
            }
            "IsHexEncoding" => {
                let s = as_str(a(0)?, at)?;
                let i = as_int(a(1)?, at)?;
                let b = s.as_bytes();
                Value::Bool(usize::try_from(i).ok().is_some_and(|i| {
                    b.get(i) == Some(&b'%')
                        && b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                        && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
                }))
            }
            "IsWellFormedUriString" => Value::Bool(match a(0)? {
                Value::Null => false,
                v => {
                    let s = as_str(v, at)?;
                    it.charge(s.len(), at)?;
                    well_formed(&s, uri_kind(args.get(1).map(|(_, v)| v)))
                }
            }),
            _ => return Err(no_member(&Value::Null, name, at)),
        })
    })())
}

fn as_char(v: &Value, at: usize) -> F<char> {
    match v {
        Value::Char(c) => Ok(*c),
        other => Err(cast_err(other, "System.Char", at)),
    }
}

/// `Uri.IsWellFormedUriString`: parses as the kind asks and needs no escaping (no spaces,
/// no non-ASCII, every `%` an escape).
fn well_formed(s: &str, kind: &str) -> bool {
    let b = s.as_bytes();
    let clean = b.iter().enumerate().all(|(i, c)| {
        c.is_ascii_graphic()
            && !matches!(
                c,
                b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}'
            )
            && (*c != b'%'
                || (b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)))
    });
    let absolute = parse_absolute(s).filter(|u| !u.cannot_be_a_base() || u.scheme() == "mailto");
    clean
        && match kind {
            "Relative" => absolute.is_none(),
            "RelativeOrAbsolute" => true,
            _ => absolute.is_some(),
        }
}
