//! `XmlWriterSettings`: what policies set on a writer (indenting, the XML declaration, the
//! conformance level).

use super::*;

/// `new XmlWriterSettings { … }` (its initializer's properties as named arguments).
pub(crate) fn construct_writer_settings(args: &Args, at: usize) -> F<Value> {
    let mut s = WriterSettings::default();
    for (name, v) in args {
        match name {
            Some(n) => writer_settings_set(&mut s, n, v, at)?,
            None => {
                return Err(rt(
                    "CompilationError",
                    "'XmlWriterSettings' does not contain a constructor that takes arguments",
                    at,
                ));
            }
        }
    }
    Ok(io_value(IoState::XmlWriterSettings(s)))
}

pub(crate) fn writer_settings_member(s: &WriterSettings, name: &str) -> Option<Value> {
    Some(match name {
        "Indent" => Value::Bool(s.indent),
        "OmitXmlDeclaration" => Value::Bool(s.omit_declaration),
        "ConformanceLevel" => enum_member("ConformanceLevel", s.conformance).unwrap_or(Value::Null),
        "IndentChars" => Value::str("  "),
        _ => return None,
    })
}

pub(crate) fn writer_settings_set(
    s: &mut WriterSettings,
    name: &str,
    v: &Value,
    at: usize,
) -> F<()> {
    let flag = |v: &Value| match v {
        Value::Bool(b) => Ok(*b),
        other => Err(cast_err(other, "System.Boolean", at)),
    };
    match (name, v) {
        ("Indent", v) => s.indent = flag(v)?,
        ("OmitXmlDeclaration", v) => s.omit_declaration = flag(v)?,
        ("ConformanceLevel", Value::Enum("ConformanceLevel", n)) => {
            s.conformance = match n {
                0 => "Auto",
                1 => "Fragment",
                _ => "Document",
            }
        }
        _ => {
            return Err(rt(
                "NotSupportedException",
                format!("XmlWriterSettings.{name} cannot be set here"),
                at,
            ));
        }
    }
    Ok(())
}
