//! `System.Net.IPAddress`: `std::net` addresses with .NET's parsing (IPv4 in the `inet_aton`
//! forms .NET accepts: `1.2.3` is 1.2.0.3, `0x7f.1` is 127.0.0.1), formatting and members.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::*;

pub(super) fn display(a: &IpAddr) -> String {
    match a {
        IpAddr::V4(v) => v.to_string(),
        // .NET writes an IPv4-mapped address with its dotted tail (`::ffff:1.2.3.4`).
        IpAddr::V6(v) => match v.to_ipv4_mapped() {
            Some(m) => format!("::ffff:{m}"),
            None => v.to_string(),
        },
    }
}

pub(super) fn static_field(name: &str) -> Option<IpAddr> {
    Some(match name {
        "Any" => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        "Loopback" => IpAddr::V4(Ipv4Addr::LOCALHOST),
        "Broadcast" | "None" => IpAddr::V4(Ipv4Addr::BROADCAST),
        "IPv6Any" | "IPv6None" => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        "IPv6Loopback" => IpAddr::V6(Ipv6Addr::LOCALHOST),
        _ => return None,
    })
}

fn ip_value(a: IpAddr) -> Value {
    net_value(Net::Ip(a))
}

/// One part of a dotted IPv4 address: decimal, octal (`0` prefix) or hex (`0x`).
fn ipv4_part(p: &str) -> Option<u64> {
    if p.is_empty() || p.len() > 12 {
        return None;
    }
    let (digits, radix) = match p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
        Some(h) => (h, 16),
        None if p.len() > 1 && p.starts_with('0') => (&p[1..], 8),
        None => (p, 10),
    };
    if digits.is_empty() && radix == 16 {
        return Some(0);
    }
    u64::from_str_radix(digits, radix).ok()
}

/// IPv4 as `inet_aton` reads it: up to four parts, the last filling the remaining bytes.
fn parse_ipv4(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<u64> = s.split('.').map(ipv4_part).collect::<Option<_>>()?;
    let (last, lead) = parts.split_last()?;
    if lead.len() > 3 || lead.iter().any(|p| *p > 255) {
        return None;
    }
    let room = 8 * (4 - lead.len() as u32);
    if room < 64 && *last >= 1u64 << room {
        return None;
    }
    let mut v: u64 = 0;
    for (i, p) in lead.iter().enumerate() {
        v |= p << (24 - 8 * i);
    }
    Some(Ipv4Addr::from((v | last) as u32))
}

pub(super) fn parse(s: &str) -> Option<IpAddr> {
    if s.contains(':') {
        let bare = s
            .strip_prefix('[')
            .and_then(|r| r.split_once(']'))
            .map_or(s, |(h, _)| h);
        // A scope (`fe80::1%4`) is accepted and not kept.
        let bare = bare.split('%').next().unwrap_or(bare);
        return bare.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    parse_ipv4(s).map(IpAddr::V4)
}

pub(super) fn call_static(name: &str, args: &Args, at: usize) -> F<Value> {
    let a = arg(args, 0, at)?;
    match name {
        "Parse" => {
            let s = match a {
                Value::Null => {
                    return Err(rt(
                        "ArgumentNullException",
                        "Value cannot be null.\nParameter name: ipString",
                        at,
                    ));
                }
                v => as_str(v, at)?,
            };
            parse(&s).map(ip_value).ok_or_else(|| {
                rt(
                    "FormatException",
                    "An invalid IP address was specified.",
                    at,
                )
            })
        }
        // The hosts are little-endian: network order is the bytes reversed, in the same type.
        "HostToNetworkOrder" | "NetworkToHostOrder" => match a {
            Value::Short(x) => Ok(Value::Short(x.swap_bytes())),
            Value::Int(x) => Ok(Value::Int(i64::from((*x as i32).swap_bytes()))),
            Value::Long(x) => Ok(Value::Long(x.swap_bytes())),
            other => Err(cast_err(other, "System.Int64", at)),
        },
        "IsLoopback" => match a {
            Value::Object(Object::Net(Net::Ip(ip))) => Ok(Value::Bool(is_loopback(ip))),
            other => Err(cast_err(other, "System.Net.IPAddress", at)),
        },
        _ => Err(rt(
            "RuntimeBinderException",
            format!("'IPAddress' does not contain a definition for '{name}'"),
            at,
        )),
    }
}

fn is_loopback(a: &IpAddr) -> bool {
    match a {
        IpAddr::V4(v) => v.is_loopback(),
        IpAddr::V6(v) => v.is_loopback(),
    }
}

/// `new IPAddress(byte[])`: four bytes for IPv4, sixteen for IPv6; `new IPAddress(long)`.
pub(super) fn construct(args: &Args, at: usize) -> F<Value> {
    // `new IPAddress(long)` takes any integer (3232235777 is a uint literal, 1L a long).
    let first = match arg(args, 0, at)? {
        v if v.is_number() && int_of(v).is_some() => &Value::Int(int_of(v).unwrap_or(-1)),
        v => v,
    };
    Ok(ip_value(match first {
        Value::Bytes(b) if b.len() == 4 => IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3])),
        Value::Bytes(b) if b.len() == 16 => {
            let mut o = [0u8; 16];
            o.copy_from_slice(b);
            IpAddr::V6(Ipv6Addr::from(o))
        }
        Value::Bytes(_) => {
            return Err(rt(
                "ArgumentException",
                "An invalid IP address was specified.\nParameter name: address",
                at,
            ));
        }
        // The address as .NET stores it: the first octet in the low byte.
        Value::Int(i) if (0..=u32::MAX as i64).contains(i) => {
            IpAddr::V4(Ipv4Addr::from((*i as u32).to_le_bytes()))
        }
        Value::Int(_) => {
            return Err(rt(
                "ArgumentOutOfRangeException",
                "Specified argument was out of the range of valid values.\nParameter name: newAddress",
                at,
            ));
        }
        Value::Null => {
            return Err(rt(
                "ArgumentNullException",
                "Value cannot be null.\nParameter name: address",
                at,
            ));
        }
        other => return Err(cast_err(other, "System.Byte[]", at)),
    }))
}

fn v6_segments(v: &Ipv6Addr) -> [u16; 8] {
    v.segments()
}

pub(super) fn member(a: &IpAddr, name: &str, at: usize) -> F<Value> {
    let v6 = |f: fn(&Ipv6Addr) -> bool| match a {
        IpAddr::V6(v) => f(v),
        IpAddr::V4(_) => false,
    };
    Ok(match name {
        "AddressFamily" => Value::Enum(
            "AddressFamily",
            match a {
                IpAddr::V4(_) => 2,
                IpAddr::V6(_) => 23,
            },
        ),
        "IsIPv4MappedToIPv6" => Value::Bool(v6(|v| v.to_ipv4_mapped().is_some())),
        "IsIPv6LinkLocal" => Value::Bool(v6(|v| v6_segments(v)[0] & 0xffc0 == 0xfe80)),
        "IsIPv6SiteLocal" => Value::Bool(v6(|v| v6_segments(v)[0] & 0xffc0 == 0xfec0)),
        "IsIPv6Multicast" => Value::Bool(v6(|v| v.is_multicast())),
        "IsIPv6Teredo" => Value::Bool(v6(|v| {
            v6_segments(v)[0] == 0x2001 && v6_segments(v)[1] == 0
        })),
        // Obsolete: an IPv4 address's bytes read as a little-endian integer.
        "Address" => match a {
            IpAddr::V4(v) => Value::Long(i64::from(u32::from_le_bytes(v.octets()))),
            IpAddr::V6(_) => {
                return Err(rt(
                    "SocketException",
                    "The attempted operation is not supported for the type of object referenced",
                    at,
                ));
            }
        },
        "ScopeId" => match a {
            IpAddr::V6(_) => Value::Int(0),
            IpAddr::V4(_) => {
                return Err(rt(
                    "SocketException",
                    "The attempted operation is not supported for the type of object referenced",
                    at,
                ));
            }
        },
        _ => {
            return Err(rt(
                "RuntimeBinderException",
                format!("'System.Net.IPAddress' does not contain a definition for '{name}'"),
                at,
            ));
        }
    })
}

pub(super) fn call_method(a: &IpAddr, name: &str, args: &Args, at: usize) -> F<Value> {
    Ok(match name {
        "ToString" => Value::str(display(a)),
        "GetAddressBytes" => Value::Bytes(match a {
            IpAddr::V4(v) => v.octets().to_vec(),
            IpAddr::V6(v) => v.octets().to_vec(),
        }),
        "MapToIPv4" => ip_value(match a {
            IpAddr::V4(v) => IpAddr::V4(*v),
            // .NET takes the last four bytes, mapped or not.
            IpAddr::V6(v) => {
                let o = v.octets();
                IpAddr::V4(Ipv4Addr::new(o[12], o[13], o[14], o[15]))
            }
        }),
        "MapToIPv6" => ip_value(match a {
            IpAddr::V4(v) => IpAddr::V6(v.to_ipv6_mapped()),
            IpAddr::V6(v) => IpAddr::V6(*v),
        }),
        "Equals" => Value::Bool(match arg(args, 0, at)? {
            Value::Object(Object::Net(Net::Ip(b))) => a == b,
            _ => false,
        }),
        _ => {
            return Err(rt(
                "RuntimeBinderException",
                format!("'System.Net.IPAddress' does not contain a definition for '{name}'"),
                at,
            ));
        }
    })
}
