//! `System.IO.StringReader` (state in crates/expr/src/io.rs); the writer is in
//! crates/expr/src/library/stringwriter.rs.
//!
//! Characters are Unicode scalar values; .NET reads UTF-16 code units, so `Read()`/`Peek()`
//! differ from .NET only on characters outside the Basic Multilingual Plane (one value here,
//! two surrogates there). `WriteLine` ends lines with "\r\n", `Environment.NewLine` on the
//! Windows hosts APIM runs on (Mono on Linux writes "\n").
//!
//! The async members (`ReadAsync`, `ReadBlockAsync`, `ReadLineAsync`, `ReadToEndAsync`) read
//! at once and return a completed task (crates/expr/src/library/tasks.rs); as .NET's
//! `StringReader` does, they throw argument errors at the call rather than in the task.
//! `Read(buffer, index, count)`, `ReadBlock` and their async forms fill the caller's `char[]`
//! (crates/expr/src/library/destinations.rs has it written back into the variable).
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

/// `new StringReader(s)`, `new StringWriter(…)`; `None` for another type.
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
                    closed: false,
                })
            }),
        },
        "StringWriter" => construct_writer(vals, at),
        _ => return None,
    })
}

/// The methods of a `StringReader`, `StringWriter`, task or name table; `None` when `state`
/// is none of them.
pub(crate) fn textio_call(
    it: &mut Interp,
    state: &mut IoState,
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    if let Some(e) = remoting(name, args.len(), at) {
        return Some(Err(e));
    }
    match state {
        IoState::StringReader { text, pos, closed } => {
            Some(reader_call(text, pos, closed, name, args, at).map(|(v, _)| v))
        }
        IoState::StringWriter(w) => Some(writer_call(it, w, name, args, at)),
        IoState::Task(t) => Some(task_call(t, name, args, at)),
        IoState::NameTable(t) => Some(name_table_call(it, &mut t.names, name, args, at)),
        IoState::XmlWriter(w) => Some(xml_writer_call(it, w, name, args, at)),
        _ => None,
    }
}

/// The properties of a `StringWriter`, task or name table; `None` when it has no such member
/// (or is another object).
pub(crate) fn textio_member(state: &IoState, name: &str, at: usize) -> Option<F<Value>> {
    match state {
        IoState::StringWriter(w) => writer_member(w, name).map(Ok),
        IoState::Task(t) => task_member(t, name, at),
        IoState::XmlWriterSettings(s) => writer_settings_member(s, name).map(Ok),
        _ => None,
    }
}

/// `CreateObjRef(type)`, `GetLifetimeService()`, `InitializeLifetimeService()`: .NET Remoting,
/// which .NET Core (and so APIM) does not have: `PlatformNotSupportedException`.
fn remoting(name: &str, argc: usize, at: usize) -> Option<Flow> {
    matches!(
        (name, argc),
        ("CreateObjRef", 1) | ("GetLifetimeService" | "InitializeLifetimeService", 0)
    )
    .then(|| {
        rt(
            "PlatformNotSupportedException",
            "Remoting is not supported on this platform.",
            at,
        )
    })
}

/// Whether `StringReader`/`StringWriter` (or `TextReader`/`TextWriter`) has the static member.
pub(crate) fn textio_static_exists(ty: &str, name: &str) -> bool {
    matches!(
        ty,
        "StringReader" | "StringWriter" | "TextReader" | "TextWriter"
    ) && matches!(name, "Null" | "Synchronized")
}

/// `TextReader.Null` (a reader of nothing) and `TextWriter.Null` (a writer that keeps
/// nothing), inherited by `StringReader` and `StringWriter`.
pub(crate) fn textio_static_property(ty: &str, name: &str) -> Option<Value> {
    if (ty, name) == ("CancellationToken", "None") {
        return Some(cancellation_none());
    }
    if name != "Null" {
        return None;
    }
    Some(match ty {
        "StringReader" | "TextReader" => Value::Object(Object::Io(IoObject::named(
            IoState::StringReader {
                text: Arc::from(""),
                pos: 0,
                closed: false,
            },
            "System.IO.TextReader+NullTextReader",
        ))),
        "StringWriter" | "TextWriter" => {
            let mut w =
                crate::io::WriterState::new(IoObject::new(IoState::StringBuilder(String::new())));
            w.discard = true;
            Value::Object(Object::Io(IoObject::named(
                IoState::StringWriter(w),
                "System.IO.TextWriter+NullTextWriter",
            )))
        }
        _ => return None,
    })
}

/// `TextReader.Synchronized(reader)` / `TextWriter.Synchronized(writer)`: a thread-safe
/// wrapper in .NET. An evaluation runs on one thread, so the wrapper is the object itself
/// (every call through it reaches the same reader or writer, as through .NET's).
pub(crate) fn textio_static(ty: &str, name: &str, args: &Args, at: usize) -> Option<F<Value>> {
    if name != "Synchronized" || !textio_static_exists(ty, name) {
        return None;
    }
    let reader = matches!(ty, "StringReader" | "TextReader");
    Some(match arg(args, 0, at) {
        Err(e) => Err(e),
        Ok(Value::Null) => Err(rt(
            "ArgumentNullException",
            format!(
                "Value cannot be null. (Parameter '{}')",
                if reader { "reader" } else { "writer" }
            ),
            at,
        )),
        Ok(v @ Value::Object(Object::Io(io)))
            if matches!(
                (&*io.state(), reader),
                (IoState::StringReader { .. }, true) | (IoState::StringWriter(_), false)
            ) =>
        {
            Ok(v.clone())
        }
        Ok(other) => Err(cast_err(
            other,
            if reader {
                "System.IO.TextReader"
            } else {
                "System.IO.TextWriter"
            },
            at,
        )),
    })
}

/// A reader's method: its result and, for the methods that fill the caller's `char[]`
/// (`Read(buffer, index, count)`, `ReadBlock`, `ReadAsync`, `ReadBlockAsync`), the filled
/// array.
pub(crate) fn reader_call(
    text: &str,
    pos: &mut usize,
    closed: &mut bool,
    name: &str,
    args: &Args,
    at: usize,
) -> F<(Value, Option<Value>)> {
    match name {
        "Close" | "Dispose" if args.is_empty() => {
            *closed = true;
            return Ok((Value::Null, None));
        }
        "ToString" | "Equals" | "GetHashCode" | "GetType" => {}
        _ if *closed => {
            return Err(rt(
                "ObjectDisposedException",
                "Cannot read from a closed TextReader.",
                at,
            ));
        }
        _ => {}
    }
    let rest = text.get(*pos..).unwrap_or_default();
    Ok((
        match (name, args.len()) {
            ("Peek", 0) => Value::Int(rest.chars().next().map_or(-1, |c| c as i64)),
            ("Read", 0) => match rest.chars().next() {
                Some(c) => {
                    *pos += c.len_utf8();
                    Value::Int(c as i64)
                }
                None => Value::Int(-1),
            },
            // A string has all its characters at hand: `Read` fills as much as `ReadBlock`.
            ("Read" | "ReadBlock" | "ReadAsync" | "ReadBlockAsync", 3) => {
                let (mut buffer, index, count) = buffer_range(args, at)?;
                let mut n = 0;
                for c in rest.chars().take(count) {
                    buffer[index + n] = Value::Char(c);
                    *pos += c.len_utf8();
                    n += 1;
                }
                let read = Value::Int(n as i64);
                let read = if name.ends_with("Async") {
                    task_of(read)
                } else {
                    read
                };
                return Ok((read, Some(Value::Array(buffer))));
            }
            ("ReadToEnd" | "ReadToEndAsync", 0) => {
                *pos = text.len();
                let v = Value::str(rest);
                if name == "ReadToEndAsync" {
                    task_of(v)
                } else {
                    v
                }
            }
            ("ReadLine" | "ReadLineAsync", 0) => {
                let v = read_line(rest, pos);
                if name == "ReadLineAsync" {
                    task_of(v)
                } else {
                    v
                }
            }
            ("ToString", 0) => Value::str("System.IO.StringReader"),
            _ => {
                return Err(rt(
                    "RuntimeBinderException",
                    format!(
                        "'System.IO.StringReader' does not contain a definition for '{name}' \
                         taking {} arguments",
                        args.len()
                    ),
                    at,
                ));
            }
        },
        None,
    ))
}

/// `ReadLine()`: the text up to "\r\n", "\r" or "\n" (null at the end), the position moved
/// past the line break.
fn read_line(rest: &str, pos: &mut usize) -> Value {
    if rest.is_empty() {
        return Value::Null;
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

/// `CancellationToken.None`, what the async members take: a token that is never cancelled
/// (nothing here runs long enough to be cancelled; the members take any token as given).
fn cancellation_none() -> Value {
    let mut r = std::collections::BTreeMap::new();
    r.insert("IsCancellationRequested".to_string(), Value::Bool(false));
    r.insert("CanBeCanceled".to_string(), Value::Bool(false));
    Value::Object(Object::Record(Arc::new(r)))
}
