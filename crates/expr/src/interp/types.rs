//! `System.Type` members on `x.GetType()` and `typeof(T)`: `Name`, `FullName`, `Namespace`.
//! A type is held as its name (a string, so `GetType().ToString()` and comparisons keep
//! working); only a member read straight off `GetType()` or `typeof` is resolved here.

use super::*;

/// The .NET full name of a C# type keyword or a type name as written.
fn full_name(written: &str) -> String {
    let known = match written {
        "string" => "System.String",
        "int" => "System.Int32",
        "long" => "System.Int64",
        "short" => "System.Int16",
        "byte" => "System.Byte",
        "sbyte" => "System.SByte",
        "uint" => "System.UInt32",
        "ulong" => "System.UInt64",
        "ushort" => "System.UInt16",
        "double" => "System.Double",
        "float" => "System.Single",
        "decimal" => "System.Decimal",
        "bool" => "System.Boolean",
        "char" => "System.Char",
        "object" => "System.Object",
        "DateTime" | "TimeSpan" | "DateTimeOffset" | "Guid" | "Uri" | "Math" | "Convert" => {
            return format!("System.{written}");
        }
        "JObject" | "JArray" | "JToken" | "JValue" | "JProperty" => {
            return format!("Newtonsoft.Json.Linq.{written}");
        }
        "XElement" | "XDocument" | "XAttribute" => return format!("System.Xml.Linq.{written}"),
        other => other,
    };
    known.to_string()
}

impl<'c> Interp<'c> {
    /// `Name`/`FullName`/`Namespace` of `typeof(T)` or `x.GetType()`; `None` for other targets.
    pub(super) fn type_member(&mut self, target: &Expr, name: &str, at: usize) -> Option<F<Value>> {
        if !matches!(name, "Name" | "FullName" | "Namespace") {
            return None;
        }
        let full = match &target.kind {
            E::TypeOf(t) => Ok(full_name(&t.name)),
            E::Call { callee, args, .. } => match &callee.kind {
                // An exception's GetType() is already a type object with these members.
                E::Member { name: m, .. }
                    if (m == "GetType" && args.is_empty()) || m == "GetUnderlyingType" =>
                {
                    match self.ev(target) {
                        Ok(Value::String(s)) => Ok(s.to_string()),
                        Ok(other) => return Some(lib::member(self, other, name, at)),
                        Err(e) => Err(e),
                    }
                }
                _ => return None,
            },
            _ => return None,
        };
        Some(full.map(|full| {
            let (ns, short) = full.rsplit_once('.').unwrap_or(("", &full));
            Value::str(match name {
                "Name" => short,
                "Namespace" => ns,
                _ => &full,
            })
        }))
    }
}
