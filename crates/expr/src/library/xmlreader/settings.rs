//! `XmlReaderSettings` and the enums it takes (`DtdProcessing`, `ConformanceLevel`): built
//! with `new XmlReaderSettings { IgnoreWhitespace = true }` or set property by property, and
//! passed to `XmlReader.Create(textReader, settings)`, which copies them (as .NET does).
//!
//! What the reader does with them (crates/expr/src/library/xmlreader/flatten.rs): whitespace
//! between elements (`Whitespace`, not the `SignificantWhitespace` under
//! `xml:space="preserve"`), comments and processing instructions are skipped as .NET skips
//! them. A DTD is refused under the default `DtdProcessing.Prohibit`; under `Ignore` or
//! `Parse` a document with a DTD is refused with NotSupportedException (roxmltree would
//! expand its entities, which `Ignore` does not), and one without behaves the same. Only
//! `ConformanceLevel.Document` is implemented: `XmlReader.Create` refuses the others.

use super::*;
use crate::io::ReaderSettings;

const DTD_PROCESSING: &[&str] = &["Prohibit", "Ignore", "Parse"];
const CONFORMANCE_LEVELS: &[&str] = &["Auto", "Fragment", "Document"];

/// The member names of `DtdProcessing` and `ConformanceLevel` (their values are enum values,
/// crates/expr/src/library/enums.rs, which answers `DtdProcessing.X` before this does).
pub(crate) fn reader_static_property(ty: &str, name: &str) -> Option<Value> {
    let listed = match ty {
        "DtdProcessing" => DTD_PROCESSING,
        "ConformanceLevel" => CONFORMANCE_LEVELS,
        _ => return None,
    };
    listed.contains(&name).then(|| Value::str(name))
}

/// Whether `ty.name` is one of [`reader_static_property`]'s (for `policy check`).
pub(crate) fn reader_static_exists(ty: &str, name: &str) -> bool {
    reader_static_property(ty, name).is_some()
}

/// `new XmlReaderSettings()` with its initializer's properties; `None` for another type.
pub(crate) fn construct_settings(ty: &str, args: &Args, at: usize) -> Option<F<Value>> {
    if ty == "XmlWriterSettings" {
        return Some(construct_writer_settings(args, at));
    }
    if ty != "XmlReaderSettings" {
        return None;
    }
    Some((|| {
        let mut s = ReaderSettings::default();
        for (name, v) in args {
            match name {
                Some(n) => set(&mut s, n, v, at)?,
                None => {
                    return Err(rt(
                        "CompilationError",
                        "'XmlReaderSettings' does not contain a constructor that takes arguments",
                        at,
                    ));
                }
            }
        }
        Ok(io_value(IoState::XmlReaderSettings(s)))
    })())
}

fn enum_arg(v: &Value, listed: &[&'static str], ty: &str, at: usize) -> F<&'static str> {
    // The members are listed in the order of their underlying values (0, 1, 2).
    match v {
        Value::Enum(t, x) if ty.ends_with(t) => usize::try_from(*x)
            .ok()
            .and_then(|i| listed.get(i))
            .copied()
            .ok_or_else(|| cast_err(v, ty, at)),
        v => Err(cast_err(v, ty, at)),
    }
}

fn flag(v: &Value, at: usize) -> F<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        v => Err(cast_err(v, "System.Boolean", at)),
    }
}

fn set(s: &mut ReaderSettings, name: &str, v: &Value, at: usize) -> F<()> {
    match name {
        "IgnoreWhitespace" => s.ignore_whitespace = flag(v, at)?,
        "IgnoreComments" => s.ignore_comments = flag(v, at)?,
        "IgnoreProcessingInstructions" => s.ignore_pis = flag(v, at)?,
        "CloseInput" => s.close_input = flag(v, at)?,
        "CheckCharacters" => s.check_characters = flag(v, at)?,
        "Async" => s.asynchronous = flag(v, at)?,
        "DtdProcessing" => {
            s.dtd_processing = enum_arg(v, DTD_PROCESSING, "System.Xml.DtdProcessing", at)?;
        }
        "ConformanceLevel" => {
            s.conformance_level =
                enum_arg(v, CONFORMANCE_LEVELS, "System.Xml.ConformanceLevel", at)?;
        }
        _ => {
            return Err(rt(
                "RuntimeBinderException",
                format!(
                    "'System.Xml.XmlReaderSettings' does not contain a definition for '{name}'"
                ),
                at,
            ));
        }
    }
    Ok(())
}

/// `settings.Prop = v`; `None` when `o` is not an XmlReaderSettings.
pub(crate) fn settings_set(o: &Value, name: &str, v: &Value, at: usize) -> Option<F<()>> {
    let Value::Object(Object::Io(io)) = o else {
        return None;
    };
    match &mut *io.state() {
        IoState::XmlReaderSettings(s) => Some(set(s, name, v, at)),
        // `writer.NewLine = s` (crates/expr/src/library/stringwriter.rs).
        IoState::StringWriter(w) => Some(writer_set(w, name, v, at)),
        IoState::XmlWriterSettings(s) => Some(writer_settings_set(s, name, v, at)),
        _ => None,
    }
}

/// The settings' properties; `None` for a name they do not have.
pub(crate) fn settings_member(s: &ReaderSettings, name: &str) -> Option<Value> {
    Some(match name {
        "IgnoreWhitespace" => Value::Bool(s.ignore_whitespace),
        "IgnoreComments" => Value::Bool(s.ignore_comments),
        "IgnoreProcessingInstructions" => Value::Bool(s.ignore_pis),
        "CloseInput" => Value::Bool(s.close_input),
        "CheckCharacters" => Value::Bool(s.check_characters),
        "Async" => Value::Bool(s.asynchronous),
        "DtdProcessing" => enum_member("DtdProcessing", s.dtd_processing).unwrap_or(Value::Null),
        "ConformanceLevel" => {
            enum_member("ConformanceLevel", s.conformance_level).unwrap_or(Value::Null)
        }
        _ => return None,
    })
}

/// The settings `XmlReader.Create` was given (a copy), checked for what is implemented.
pub(super) fn settings_arg(v: Option<&Value>, at: usize) -> F<ReaderSettings> {
    let s = match v {
        None | Some(Value::Null) => ReaderSettings::default(),
        Some(Value::Object(Object::Io(io))) => match &*io.state() {
            IoState::XmlReaderSettings(s) => s.clone(),
            _ => {
                return Err(cast_err(
                    v.unwrap_or(&Value::Null),
                    "System.Xml.XmlReaderSettings",
                    at,
                ));
            }
        },
        Some(v) => return Err(cast_err(v, "System.Xml.XmlReaderSettings", at)),
    };
    if s.conformance_level != "Document" {
        return Err(rt(
            "NotSupportedException",
            format!(
                "ConformanceLevel.{} is not supported; readers read whole documents",
                s.conformance_level
            ),
            at,
        ));
    }
    Ok(s)
}
