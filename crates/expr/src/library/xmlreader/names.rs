//! `XmlReader.NameTable`: the names the reader has read (atomised: `Add`/`Get` give the
//! table's one copy of a string), brought up to date as the reader moves.

use super::*;

/// `reader.NameTable` (brought up to date as the reader moves): the table of the names the reader has read so far (and those every
/// table starts with), each added once, as .NET's reader atomises names as it reads them.
pub(crate) fn name_table(s: &XmlReaderState) -> Value {
    if let IoState::NameTable(t) = &mut *s.names.state() {
        let mut add = |n: &str| {
            if !t.names.contains(n) {
                t.names.insert(Arc::from(n));
            }
        };
        if t.seen == 0 {
            for n in [
                "",
                "xmlns",
                "xml",
                "http://www.w3.org/2000/xmlns/",
                "http://www.w3.org/XML/1998/namespace",
            ] {
                add(n);
            }
        }
        // Only the nodes read since the last look: each node is added once.
        let upto = s.pos.map_or(0, |p| p.saturating_add(1));
        let from = t.seen;
        for n in s.nodes.iter().flatten().take(upto).skip(from) {
            for name in [&n.name, &n.local, &n.namespace] {
                add(name);
            }
            if let Some((p, _)) = n.name.split_once(':') {
                add(p);
            }
            for a in &n.attributes {
                for name in [&a.name, &a.local, &a.namespace] {
                    add(name);
                }
            }
        }
        t.seen = t.seen.max(upto.min(s.nodes.as_ref().map_or(0, Vec::len)));
    }
    Value::Object(Object::Io(s.names.clone()))
}

/// `XmlReader.NameTable`'s `Add(s)` (the table's copy of `s`, added if new) and `Get(s)` (the
/// copy, or null); `Add(char[], start, length)` / `Get(char[], start, length)` take the
/// string from a range of a `char[]`.
pub(crate) fn name_table_call(
    it: &mut Interp,
    table: &mut std::collections::HashSet<Arc<str>>,
    name: &str,
    args: &Args,
    at: usize,
) -> F<Value> {
    let key: String = match args.as_slice() {
        [(_, Value::Null), ..] => {
            return Err(rt(
                "ArgumentNullException",
                "Value cannot be null. (Parameter 'key')",
                at,
            ));
        }
        [(_, v)] => as_str(v, at)?,
        [_, _, _] => {
            let start = as_int(arg(args, 1, at)?, at)?;
            let len = as_int(arg(args, 2, at)?, at)?;
            let Value::Array(chars) = arg(args, 0, at)? else {
                return Err(cast_err(arg(args, 0, at)?, "System.Char[]", at));
            };
            if len == 0 {
                return Ok(Value::str(""));
            }
            if start < 0 || len < 0 || start as usize + len as usize > chars.len() {
                return Err(rt(
                    "IndexOutOfRangeException",
                    "Index was outside the bounds of the array.",
                    at,
                ));
            }
            chars[start as usize..(start + len) as usize]
                .iter()
                .map(|c| match c {
                    Value::Char(c) => Ok(*c),
                    other => Err(cast_err(other, "System.Char", at)),
                })
                .collect::<F<String>>()?
        }
        _ => {
            return Err(rt(
                "RuntimeBinderException",
                format!("'System.Xml.NameTable' does not contain a definition for '{name}'"),
                at,
            ));
        }
    };
    let found = table.get(key.as_str()).cloned();
    Ok(match (name, found) {
        (_, Some(s)) => Value::String(s),
        ("Get", None) => Value::Null,
        ("Add", None) => {
            it.charge(key.len() + budget::SLOT, at)?;
            let s: Arc<str> = Arc::from(key);
            table.insert(s.clone());
            Value::String(s)
        }
        _ => {
            return Err(rt(
                "RuntimeBinderException",
                format!("'System.Xml.NameTable' does not contain a definition for '{name}'"),
                at,
            ));
        }
    })
}
