//! `System.IO.StringWriter` (state in crates/expr/src/io.rs): a writer into a `StringBuilder`
//! that is an object of its own — `new StringWriter(sb)` writes into `sb`, and
//! `GetStringBuilder()` hands the builder out, so edits through it show in the writer.
//!
//! `NewLine` is "\r\n" by default (`Environment.NewLine` on the Windows hosts APIM runs on)
//! and can be set (null restores the default). `Encoding` is UTF-16 ("utf-16", what an XML
//! declaration written through the writer names). `FormatProvider` is the culture, which here
//! is always the invariant one (`CultureInfo.InvariantCulture`).
//!
//! The async members (`WriteAsync`, `WriteLineAsync`, `FlushAsync`, `DisposeAsync`) write at
//! once and return a completed task (crates/expr/src/library/tasks.rs), as .NET's
//! `StringWriter` does.

use super::*;
use crate::io::{IoObject, IoState, WriterState};

/// `new StringWriter()`, `new StringWriter(formatProvider)`, `new StringWriter(sb)`,
/// `new StringWriter(sb, formatProvider)`.
pub(crate) fn construct_writer(vals: &[Value], at: usize) -> F<Value> {
    let builder = match vals.first() {
        Some(Value::Object(Object::Io(io)))
            if matches!(&*io.state(), IoState::StringBuilder(_)) =>
        {
            io.clone()
        }
        Some(Value::Null) if vals.len() == 2 => {
            return Err(rt(
                "ArgumentNullException",
                "Value cannot be null. (Parameter 'sb')",
                at,
            ));
        }
        // `new StringWriter(formatProvider)`: the invariant culture (null) is the only one.
        Some(Value::Null) | None => IoObject::new(IoState::StringBuilder(String::new())),
        Some(other) => return Err(cast_err(other, "System.Text.StringBuilder", at)),
    };
    Ok(io_value(IoState::StringWriter(WriterState::new(builder))))
}

/// The writer's properties; `None` for a name it does not have.
pub(crate) fn writer_member(w: &WriterState, name: &str) -> Option<Value> {
    Some(match name {
        // .NET's `new UnicodeEncoding(false, false)`: UTF-16, little endian.
        "Encoding" => Value::Object(Object::Encoding(TextEncoding::Unicode)),
        // `CultureInfo.InvariantCulture`, as crates/expr/src/library/members.rs gives it.
        "FormatProvider" => Value::Null,
        "NewLine" => Value::str(&w.new_line),
        _ => return None,
    })
}

/// `writer.NewLine = s`; null restores the default.
pub(crate) fn writer_set(w: &mut WriterState, name: &str, v: &Value, at: usize) -> F<()> {
    match name {
        "NewLine" => {
            w.new_line = match v {
                Value::Null => NEW_LINE.to_string(),
                v => as_str(v, at)?,
            };
            Ok(())
        }
        _ => Err(rt(
            "RuntimeBinderException",
            format!("Property or indexer 'System.IO.StringWriter.{name}' cannot be assigned to"),
            at,
        )),
    }
}

/// The text `Write(…)`/`WriteLine(…)` writes for its arguments: one value as its text (a
/// `char[]` as its characters), `(buffer, index, count)` as that range of a `char[]`, and
/// `(format, args…)` formatted.
fn written(it: &mut Interp, args: &Args, at: usize) -> F<String> {
    let chars = |items: &[Value]| -> F<String> {
        items
            .iter()
            .map(|c| match c {
                Value::Char(c) => Ok(*c),
                other => Err(cast_err(other, "System.Char", at)),
            })
            .collect()
    };
    Ok(match args.as_slice() {
        [] => String::new(),
        [(_, Value::Array(items))] if items.iter().all(|v| matches!(v, Value::Char(_))) => {
            chars(items)?
        }
        [(_, v)] => it.text(v, at)?.into_owned(),
        [
            (_, Value::Array(_) | Value::Null),
            (_, Value::Int(_)),
            (_, Value::Int(_)),
        ] => {
            let (buffer, index, count) = buffer_range(args, at)?;
            chars(&buffer[index..index + count])?
        }
        // `Write(format, args…)`.
        [(_, f), rest @ ..] => {
            let fmt = as_str(f, at)?;
            let rest: Vec<Value> = rest.iter().map(|(_, v)| v.clone()).collect();
            string_format(it, &fmt, &rest, at)?
        }
    })
}

pub(crate) fn writer_call(
    it: &mut Interp,
    w: &mut WriterState,
    name: &str,
    args: &Args,
    at: usize,
) -> F<Value> {
    Ok(match name {
        "Write" | "WriteLine" | "WriteAsync" | "WriteLineAsync" => {
            // TextWriter.Null ignores Close.
            if w.closed && !w.discard {
                return Err(rt(
                    "ObjectDisposedException",
                    "Cannot write to a closed TextWriter.",
                    at,
                ));
            }
            let mut text = written(it, args, at)?;
            if name.starts_with("WriteLine") {
                text.push_str(&w.new_line);
            }
            if !w.discard {
                it.charge(w.len().saturating_add(text.len()), at)?;
            }
            w.push(&text);
            if name.ends_with("Async") {
                task_done()
            } else {
                Value::Null
            }
        }
        "ToString" if args.is_empty() => {
            if w.discard {
                return Ok(Value::str("System.IO.TextWriter+NullTextWriter"));
            }
            it.charge(w.len(), at)?;
            Value::str(w.text())
        }
        "GetStringBuilder" if args.is_empty() => Value::Object(Object::Io(w.builder.clone())),
        "Close" | "Dispose" if args.is_empty() => {
            w.closed = true;
            Value::Null
        }
        "Flush" if args.is_empty() => Value::Null,
        "FlushAsync" if args.len() <= 1 => task_done(),
        "DisposeAsync" if args.is_empty() => {
            w.closed = true;
            value_task_done()
        }
        _ => {
            return Err(rt(
                "RuntimeBinderException",
                format!("'System.IO.StringWriter' does not contain a definition for '{name}'"),
                at,
            ));
        }
    })
}

/// Appends `text` to a `StringWriter` value (what `XDocument.Save(writer)` writes); `None`
/// when `v` is not a writer.
pub(crate) fn write_to_writer(it: &mut Interp, v: &Value, text: &str, at: usize) -> Option<F<()>> {
    let Value::Object(Object::Io(io)) = v else {
        return None;
    };
    let state = io.state();
    let IoState::StringWriter(w) = &*state else {
        return None;
    };
    Some((|| {
        if w.closed && !w.discard {
            return Err(rt(
                "ObjectDisposedException",
                "Cannot write to a closed TextWriter.",
                at,
            ));
        }
        if !w.discard {
            it.charge(w.len().saturating_add(text.len()), at)?;
        }
        w.push(text);
        Ok(())
    })())
}
