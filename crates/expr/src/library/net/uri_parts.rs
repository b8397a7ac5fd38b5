//! `Uri.GetComponents(components, format)`, `Uri.Compare`, `IsWellFormedOriginalString` and the
//! obsolete `MakeRelative`, as .NET's `Uri.RecreateParts` and `PathDifference` build them: each
//! component from the URI's own properties, its delimiter kept unless it is the only part
//! asked for (`KeepDelimiter` keeps it then too).

use super::uri::{DotnetUri, member, other_uri};
use super::*;

const SCHEME: i64 = 0x1;
const USER_INFO: i64 = 0x2;
const HOST: i64 = 0x4;
const PORT: i64 = 0x8;
const PATH: i64 = 0x10;
const QUERY: i64 = 0x20;
const FRAGMENT: i64 = 0x40;
const STRONG_PORT: i64 = 0x80;
const NORMALIZED_HOST: i64 = 0x100;
const KEEP_DELIMITER: i64 = 0x4000_0000;
const SERIALIZATION: i64 = -0x8000_0000;
const ALL: i64 = 0x1FF | KEEP_DELIMITER | SERIALIZATION;

fn flags(v: &Value, at: usize) -> F<i64> {
    match v {
        Value::Enum(_, x) => Ok(*x),
        other => as_int(other, at),
    }
}

fn text(it: &mut Interp, u: &DotnetUri, name: &str, at: usize) -> F<String> {
    Ok(member(it, u, name, at)?.to_display())
}

/// The components `parts` of `u` in `format` (1 escaped, 2 unescaped, 3 safe-unescaped).
pub(super) fn components(
    it: &mut Interp,
    u: &DotnetUri,
    parts: i64,
    format: i64,
    at: usize,
) -> F<String> {
    if parts & !ALL != 0 && parts != SERIALIZATION {
        return Err(arg_range(
            "The specified value is not valid in the 'UriComponents' enumeration. (Parameter 'components')",
            at,
        ));
    }
    if !(1..=3).contains(&format) {
        return Err(arg_range(
            "The specified value is not valid in the 'UriFormat' enumeration. (Parameter 'format')",
            at,
        ));
    }
    let Some(url) = u.url.clone() else {
        return Err(rt(
            "InvalidOperationException",
            "This operation is not supported for a relative URI.",
            at,
        ));
    };
    let mut parts = parts;
    if parts & SERIALIZATION != 0 {
        parts |= 0x7F;
    }
    if parts & NORMALIZED_HOST != 0 {
        parts |= HOST;
    }
    let default_port = url.port().is_none();
    let port = url.port_or_known_default();
    // A port asked for alone is its digits (or nothing for the default one).
    if parts == PORT || parts == STRONG_PORT {
        return Ok(match port {
            Some(p) if !default_port || parts == STRONG_PORT => p.to_string(),
            _ => String::new(),
        });
    }
    if parts & STRONG_PORT != 0 {
        parts |= PORT;
    }
    let mut out = String::new();
    if parts & SCHEME != 0 {
        out.push_str(url.scheme());
        if parts != SCHEME {
            out.push(':');
            if url.has_authority() {
                out.push_str("//");
            }
        }
    }
    if parts & USER_INFO != 0 {
        let info = text(it, u, "UserInfo", at)?;
        if !info.is_empty() {
            out.push_str(&info);
            if parts != USER_INFO {
                out.push('@');
            }
        }
    }
    if parts & HOST != 0 {
        out.push_str(&text(it, u, "Host", at)?);
    }
    if parts & PORT != 0
        && let Some(p) = port
        && (!default_port || parts & STRONG_PORT != 0)
    {
        out.push(':');
        out.push_str(&p.to_string());
    }
    if parts & PATH != 0 {
        let path = text(it, u, "AbsolutePath", at)?;
        if parts == PATH {
            let path = if url.has_authority() {
                path.strip_prefix('/').unwrap_or(&path)
            } else {
                &path
            };
            return Ok(formatted(path, format));
        }
        out.push_str(&path);
    }
    if parts & QUERY != 0
        && let Some(q) = text(it, u, "Query", at)?.strip_prefix('?')
    {
        if parts != QUERY {
            out.push('?');
        }
        out.push_str(q);
    }
    if parts & FRAGMENT != 0
        && let Some(f) = text(it, u, "Fragment", at)?.strip_prefix('#')
    {
        if parts != FRAGMENT {
            out.push('#');
        }
        out.push_str(f);
    }
    Ok(formatted(&out, format))
}

/// The escaped text in `format`: as is, unescaped, or unescaped but for the characters that
/// would change its meaning.
fn formatted(s: &str, format: i64) -> String {
    match format {
        1 => s.to_string(),
        2 => {
            let bytes = percent_decode(s, |_| true);
            String::from_utf8_lossy(&bytes).into_owned()
        }
        _ => {
            let bytes = percent_decode(s, |b| {
                !matches!(b, b'%' | b'#' | b'?' | b'/' | b'\\' | b'@')
            });
            String::from_utf8_lossy(&bytes).into_owned()
        }
    }
}

/// Decodes the `%XX` escapes whose byte `keep` accepts.
fn percent_decode(s: &str, keep: impl Fn(u8) -> bool) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(x) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            && keep(x)
        {
            out.push(x);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// `uri.GetComponents(components, format)`.
pub(super) fn get_components(it: &mut Interp, u: &DotnetUri, args: &Args, at: usize) -> F<Value> {
    let parts = flags(arg(args, 0, at)?, at)?;
    let format = flags(arg(args, 1, at)?, at)?;
    components(it, u, parts, format, at).map(Value::str)
}

/// `Uri.Compare(uri1, uri2, partsToCompare, compareFormat, comparisonType)`.
pub(super) fn compare(it: &mut Interp, args: &Args, at: usize) -> F<Value> {
    let (a, b) = (arg(args, 0, at)?, arg(args, 1, at)?);
    let (x, y) = match (a, b) {
        (Value::Null, Value::Null) => return Ok(Value::Int(0)),
        (Value::Null, _) => return Ok(Value::Int(-1)),
        (_, Value::Null) => return Ok(Value::Int(1)),
        _ => (
            other_uri(a).ok_or_else(|| cast_err(a, "System.Uri", at))?,
            other_uri(b).ok_or_else(|| cast_err(b, "System.Uri", at))?,
        ),
    };
    let parts = flags(arg(args, 2, at)?, at)?;
    let format = flags(arg(args, 3, at)?, at)?;
    let how = arg(args, 4, at)?.clone();
    let (s, t) = match (x.url.is_some(), y.url.is_some()) {
        (true, true) => (
            components(it, &x, parts, format, at)?,
            components(it, &y, parts, format, at)?,
        ),
        (false, false) => (x.original.clone(), y.original.clone()),
        (false, true) => return Ok(Value::Int(-1)),
        (true, false) => return Ok(Value::Int(1)),
    };
    crate::library::call_static(
        it,
        "string",
        "Compare",
        &[],
        vec![(None, Value::str(s)), (None, Value::str(t)), (None, how)],
        at,
    )
}

/// `uri.IsWellFormedOriginalString()`: what `Uri.IsWellFormedUriString` says of the string
/// the URI was made from.
pub(super) fn well_formed_original(it: &mut Interp, u: &DotnetUri, at: usize) -> F<Value> {
    let kind = Value::Enum("UriKind", if u.url.is_some() { 1 } else { 2 });
    crate::library::call_static(
        it,
        "Uri",
        "IsWellFormedUriString",
        &[],
        vec![(None, Value::str(&u.original)), (None, kind)],
        at,
    )
}

/// `uri.MakeRelative(toUri)` (obsolete): the path from this URI's to the other's, when scheme,
/// host and port agree; else the other URI whole.
pub(super) fn make_relative(it: &mut Interp, u: &DotnetUri, args: &Args, at: usize) -> F<Value> {
    let other = match arg(args, 0, at)? {
        Value::Null => {
            return Err(rt(
                "ArgumentNullException",
                "Value cannot be null. (Parameter 'toUri')",
                at,
            ));
        }
        v => other_uri(v).ok_or_else(|| cast_err(v, "System.Uri", at))?,
    };
    if u.url.is_none() || other.url.is_none() {
        return Err(rt(
            "InvalidOperationException",
            "This operation is not supported for a relative URI.",
            at,
        ));
    }
    let same = ["Scheme", "Host", "Port"]
        .iter()
        .try_fold(true, |same, p| {
            Ok::<_, Flow>(same && member(it, u, p, at)? == member(it, &other, p, at)?)
        })?;
    if !same {
        return super::uri::call_method(it, &other, "ToString", &Vec::new(), at);
    }
    let from = text(it, u, "AbsolutePath", at)?;
    let to = text(it, &other, "AbsolutePath", at)?;
    Ok(Value::str(path_difference(&from, &to)))
}

/// .NET's `Uri.PathDifference` (case-sensitive): "../" for each directory of `from` after the
/// common part, then the rest of `to`.
fn path_difference(from: &str, to: &str) -> String {
    let (a, b) = (from.as_bytes(), to.as_bytes());
    let mut i = 0;
    let mut si: Option<usize> = None;
    while i < a.len() && i < b.len() && a[i] == b[i] {
        if a[i] == b'/' {
            si = Some(i);
        }
        i += 1;
    }
    if i == 0 {
        return to.to_string();
    }
    if i == a.len() && i == b.len() {
        return String::new();
    }
    let ups = a[i..].iter().filter(|&&c| c == b'/').count();
    let rest = to.get(si.map_or(0, |s| s + 1)..).unwrap_or("");
    if ups == 0 && si.map_or(b.is_empty(), |s| b.len() - 1 == s) {
        return "./".to_string();
    }
    format!("{}{rest}", "../".repeat(ups))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_differences_as_dotnet() {
        assert_eq!(path_difference("/a/b/c", "/a/d"), "../d");
        assert_eq!(path_difference("/a/b", "/a/b"), "");
        assert_eq!(path_difference("/a/", "/a/x/y"), "x/y");
        assert_eq!(path_difference("/a/b/", "/a/"), "../");
    }
}
