//! `System.Uri`, `System.UriPartial`/`UriKind`/`UriHostNameType` and `System.Net.IPAddress`:
//! values APIM policies build to inspect URLs and check client addresses. The `url` crate parses;
//! the modules here give .NET's observable behaviour on top (uri.rs, ip.rs).

use std::net::IpAddr;
use std::sync::Arc;

use super::*;

mod hex_unescape;
mod ip;
mod uri;
mod uri_parts;

pub(crate) use hex_unescape::hex_unescape;
pub use uri::DotnetUri;

/// A `Uri` or an `IPAddress` (one variant of [`Object`], so the shared value enum only grows by
/// one line for both).
#[derive(Debug, Clone, PartialEq)]
pub enum Net {
    Uri(Arc<DotnetUri>),
    Ip(IpAddr),
}

impl Net {
    pub fn type_name(&self) -> &'static str {
        match self {
            Net::Uri(_) => "System.Uri",
            Net::Ip(_) => "System.Net.IPAddress",
        }
    }

    /// Bytes held, for the memory budget (crates/expr/src/budget.rs): the string and its parse.
    pub fn size(&self) -> usize {
        match self {
            Net::Uri(u) => u.size(),
            Net::Ip(_) => 16,
        }
    }

    /// `ToString()`.
    pub fn display(&self) -> String {
        match self {
            Net::Uri(u) => u.display(),
            Net::Ip(a) => ip::display(a),
        }
    }
}

/// Types whose static members this module owns.
pub(crate) fn is_net_type(name: &str) -> bool {
    matches!(
        name,
        "IPAddress" | "UriPartial" | "UriKind" | "UriHostNameType" | "AddressFamily"
    )
}

/// Whether `ty.name` (a call when `call`) is a static member implemented here; `None` when
/// the type is not one of this module's.
pub(crate) fn static_exists(ty: &str, name: &str, call: bool) -> Option<bool> {
    Some(match (ty, call) {
        ("Uri", true) => uri::STATIC_METHODS.contains(&name),
        ("Uri", false) => uri::static_field(name).is_some(),
        ("IPAddress", true) => matches!(
            name,
            "Parse" | "TryParse" | "IsLoopback" | "HostToNetworkOrder" | "NetworkToHostOrder"
        ),
        ("IPAddress", false) => ip::static_field(name).is_some(),
        ("UriPartial", false) => uri::URI_PARTIAL.contains(&name),
        ("UriKind", false) => matches!(name, "Absolute" | "Relative" | "RelativeOrAbsolute"),
        ("UriHostNameType", false) => {
            matches!(name, "Unknown" | "Basic" | "Dns" | "IPv4" | "IPv6")
        }
        ("AddressFamily", false) => matches!(name, "InterNetwork" | "InterNetworkV6"),
        _ => return None,
    })
}

/// `Uri.UriSchemeHttp`, `IPAddress.Loopback`, `UriPartial.Path` (enums as their names).
pub(crate) fn static_property(ty: &str, name: &str) -> Option<Value> {
    match ty {
        "Uri" => uri::static_field(name).map(Value::str),
        "IPAddress" => ip::static_field(name).map(|a| Value::Object(Object::Net(Net::Ip(a)))),
        _ if static_exists(ty, name, false) == Some(true) => Some(Value::str(name)),
        _ => None,
    }
}

/// `Uri.X(…)` / `IPAddress.X(…)`; `None` for another type.
pub(crate) fn call_static(
    it: &mut Interp,
    ty: &str,
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    match ty {
        "Uri" => uri::call_static(it, name, args, at),
        "IPAddress" => Some(ip::call_static(name, args, at)),
        _ => None,
    }
}

/// `new Uri(…)`, `new IPAddress(bytes)`.
pub(crate) fn construct(it: &mut Interp, ty: &str, args: &Args, at: usize) -> Option<F<Value>> {
    match ty {
        "Uri" => Some(uri::construct(it, args, at)),
        "IPAddress" => Some(ip::construct(args, at)),
        _ => None,
    }
}

/// An instance property of a `Uri` or `IPAddress`; `None` for other receivers.
pub(crate) fn member(it: &mut Interp, t: &Value, name: &str, at: usize) -> Option<F<Value>> {
    match t {
        Value::Object(Object::Net(Net::Uri(u))) => Some(uri::member(it, u, name, at)),
        Value::Object(Object::Net(Net::Ip(a))) => Some(ip::member(a, name, at)),
        _ => None,
    }
}

/// An instance method of a `Uri` or `IPAddress`; `None` for other receivers.
pub(crate) fn call_method(
    it: &mut Interp,
    t: &Value,
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    match t {
        Value::Object(Object::Net(Net::Uri(u))) => Some(uri::call_method(it, u, name, args, at)),
        Value::Object(Object::Net(Net::Ip(a))) => Some(ip::call_method(a, name, args, at)),
        _ => None,
    }
}

/// `Uri.TryCreate(s, kind, out Uri u)` / `IPAddress.TryParse(s, out IPAddress a)`: the
/// constructor or `Parse`, with a failure turned into `(false, null)`.
pub(crate) fn try_create(
    it: &mut Interp,
    ty: &str,
    name: &str,
    inputs: &[Value],
    at: usize,
) -> Option<F<(bool, Value)>> {
    let args: Args = inputs.iter().map(|v| (None, v.clone())).collect();
    let r = match (ty, name) {
        ("Uri", "TryCreate") => uri::construct(it, &args, at),
        ("IPAddress", "TryParse") => ip::call_static("Parse", &args, at),
        _ => return None,
    };
    Some(match r {
        Ok(v) => Ok((true, v)),
        Err(Flow::Err(e)) if e.budget.is_none() => Ok((false, Value::Null)),
        Err(f) => Err(f),
    })
}

fn net_value(n: Net) -> Value {
    Value::Object(Object::Net(n))
}
