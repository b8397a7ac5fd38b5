//! `System.IO.StringReader` and `StringWriter` (state in crates/expr/src/io.rs).
//!
//! Characters are Unicode scalar values; .NET reads UTF-16 code units, so `Read()`/`Peek()`
//! differ from .NET only on characters outside the Basic Multilingual Plane (one value here,
//! two surrogates there). `WriteLine` ends lines with "\r\n", `Environment.NewLine` on the
//! Windows hosts APIM runs on (Mono on Linux writes "\n").
//!
//! Checked against Mono (mcs/mono):
//! ```csharp
//! var r = new StringReader("ab\r\ncd\nef");
//! Console.WriteLine(r.Peek());        // 97
//! Console.WriteLine(r.ReadLine());    // ab
//! Console.WriteLine(r.Read());        // 99
//! Console.WriteLine(r.ReadToEnd());   // d\nef
//! Console.WriteLine(r.ReadLine() == null); // True
//! Console.WriteLine(r.Read());        // -1
//! var w = new StringWriter(); w.Write(1); w.Write("x"); w.Write(true);
//! Console.WriteLine(w.ToString());    // 1xTrue
//! ```

use super::*;
use crate::io::{IoObject, IoState};

pub(crate) const NEW_LINE: &str = "\r\n";

pub(crate) fn io_value(state: IoState) -> Value {
    Value::Object(Object::Io(IoObject::new(state)))
}

/// `new StringReader(s)`, `new StringWriter()`; `None` for another type.
pub(crate) fn construct_textio(ty: &str, vals: &[Value], at: usize) -> Option<F<Value>> {
    Some(match ty {
        "StringReader" => match vals.first() {
            Some(Value::Null) | None => Err(rt(
                "ArgumentNullException",
                "Value cannot be null.\nParameter name: s",
                at,
            )),
            Some(v) => as_str(v, at).map(|s| {
                io_value(IoState::StringReader {
                    text: Arc::from(s),
                    pos: 0,
                })
            }),
        },
        "StringWriter" => Ok(io_value(IoState::StringWriter(String::new()))),
        _ => return None,
    })
}

/// The methods of a `StringReader` or `StringWriter`; `None` when `state` is neither.
pub(crate) fn textio_call(
    it: &mut Interp,
    state: &mut IoState,
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    match state {
        IoState::StringReader { text, pos } => Some(reader_call(text, pos, name, at)),
        IoState::StringWriter(buf) => Some(writer_call(it, buf, name, args, at)),
        _ => None,
    }
}

fn reader_call(text: &str, pos: &mut usize, name: &str, at: usize) -> F<Value> {
    let rest = text.get(*pos..).unwrap_or_default();
    Ok(match name {
        "Peek" => Value::Int(rest.chars().next().map_or(-1, |c| c as i64)),
        "Read" => match rest.chars().next() {
            Some(c) => {
                *pos += c.len_utf8();
                Value::Int(c as i64)
            }
            None => Value::Int(-1),
        },
        "ReadToEnd" => {
            *pos = text.len();
            Value::str(rest)
        }
        "ReadLine" => {
            if rest.is_empty() {
                return Ok(Value::Null);
            }
            let end = rest.find(['\r', '\n']).unwrap_or(rest.len());
            let line = &rest[..end];
            let skip = if rest[end..].starts_with("\r\n") {
                2
            } else if end < rest.len() {
                1
            } else {
                0
            };
            *pos += end + skip;
            Value::str(line)
        }
        "Close" | "Dispose" => Value::Null,
        "ToString" => Value::str("System.IO.StringReader"),
        _ => return Err(no_member(&Value::str(""), name, at)),
    })
}

fn writer_call(it: &mut Interp, buf: &mut String, name: &str, args: &Args, at: usize) -> F<Value> {
    Ok(match name {
        "Write" | "WriteLine" => {
            let text = match args.as_slice() {
                [] => String::new(),
                [(_, v)] => it.text(v, at)?.into_owned(),
                // `Write(format, args…)`.
                [(_, f), rest @ ..] => {
                    let fmt = as_str(f, at)?;
                    let rest: Vec<Value> = rest.iter().map(|(_, v)| v.clone()).collect();
                    string_format(it, &fmt, &rest, at)?
                }
            };
            let add = text.len() + if name == "WriteLine" { 2 } else { 0 };
            it.charge(buf.len().saturating_add(add), at)?;
            buf.push_str(&text);
            if name == "WriteLine" {
                buf.push_str(NEW_LINE);
            }
            Value::Null
        }
        "ToString" => {
            it.charge(buf.len(), at)?;
            Value::str(buf.as_str())
        }
        "Flush" | "Close" | "Dispose" => Value::Null,
        _ => {
            return Err(rt(
                "RuntimeBinderException",
                format!("'System.IO.StringWriter' does not contain a definition for '{name}'"),
                at,
            ));
        }
    })
}
