//! .NET exceptions as values: the types a policy can throw and catch, their place in the .NET
//! hierarchy (so `catch (ArgumentException)` also catches an `ArgumentNullException`), their
//! default messages and `ToString()` form. Every run-time error the library raises names its
//! .NET type in `RuntimeError::kind`; a `catch` turns that error into an [`Exception`] value and
//! `throw` turns the value back into an error.

use crate::error::RuntimeError;

/// One exception type: full name, base type (short name), default message (the text `new T()`
/// carries, as Mono prints it).
struct Kind {
    full: &'static str,
    base: Option<&'static str>,
    default: &'static str,
}

const fn k(full: &'static str, base: &'static str, default: &'static str) -> Kind {
    Kind {
        full,
        base: Some(base),
        default,
    }
}

/// The exception types policies meet: those the library raises and those APIM's allowed types
/// document. A kind missing here (e.g. a parse-time `CompilationError`) is a plain `Exception`.
const KINDS: &[Kind] = &[
    Kind {
        full: "System.Exception",
        base: None,
        default: "Exception of type 'System.Exception' was thrown.",
    },
    k("System.SystemException", "Exception", "System error."),
    k(
        "System.ApplicationException",
        "Exception",
        "Error in the application.",
    ),
    k(
        "System.ArgumentException",
        "SystemException",
        "Value does not fall within the expected range.",
    ),
    k(
        "System.ArgumentNullException",
        "ArgumentException",
        "Value cannot be null.",
    ),
    k(
        "System.ArgumentOutOfRangeException",
        "ArgumentException",
        "Specified argument was out of the range of valid values.",
    ),
    k(
        "System.ArithmeticException",
        "SystemException",
        "Overflow or underflow in the arithmetic operation.",
    ),
    k(
        "System.DivideByZeroException",
        "ArithmeticException",
        "Attempted to divide by zero.",
    ),
    k(
        "System.OverflowException",
        "ArithmeticException",
        "Arithmetic operation resulted in an overflow.",
    ),
    k(
        "System.FormatException",
        "SystemException",
        "One of the identified items was in an invalid format.",
    ),
    k(
        "System.UriFormatException",
        "FormatException",
        "Invalid URI: The format of the URI could not be determined.",
    ),
    k(
        "System.IndexOutOfRangeException",
        "SystemException",
        "Index was outside the bounds of the array.",
    ),
    k(
        "System.InvalidCastException",
        "SystemException",
        "Specified cast is not valid.",
    ),
    k(
        "System.InvalidOperationException",
        "SystemException",
        "Operation is not valid due to the current state of the object.",
    ),
    k(
        "System.Collections.Generic.KeyNotFoundException",
        "SystemException",
        "The given key was not present in the dictionary.",
    ),
    k(
        "System.NotSupportedException",
        "SystemException",
        "Specified method is not supported.",
    ),
    k(
        "System.PlatformNotSupportedException",
        "NotSupportedException",
        "Operation is not supported on this platform.",
    ),
    k(
        "System.ObjectDisposedException",
        "InvalidOperationException",
        "Cannot access a disposed object.",
    ),
    k(
        "System.AggregateException",
        "Exception",
        "One or more errors occurred.",
    ),
    k(
        "System.NotImplementedException",
        "SystemException",
        "The method or operation is not implemented.",
    ),
    k(
        "System.NullReferenceException",
        "SystemException",
        "Object reference not set to an instance of an object.",
    ),
    k(
        "System.TimeoutException",
        "SystemException",
        "The operation has timed out.",
    ),
    k(
        "System.UnauthorizedAccessException",
        "SystemException",
        "Attempted to perform an unauthorized operation.",
    ),
    k(
        "System.OutOfMemoryException",
        "SystemException",
        "Insufficient memory to continue the execution of the program.",
    ),
    k(
        "System.Xml.XmlException",
        "SystemException",
        "An XML error has occurred.",
    ),
    k(
        "System.Text.RegularExpressions.RegexMatchTimeoutException",
        "TimeoutException",
        "The RegEx engine has timed out while trying to match a pattern to an input string.",
    ),
    k(
        "System.Security.Cryptography.CryptographicException",
        "SystemException",
        "Error occurred during a cryptographic operation.",
    ),
    k(
        "Newtonsoft.Json.JsonException",
        "Exception",
        "Exception of type 'Newtonsoft.Json.JsonException' was thrown.",
    ),
    k(
        "Newtonsoft.Json.JsonReaderException",
        "JsonException",
        "Exception of type 'Newtonsoft.Json.JsonReaderException' was thrown.",
    ),
    k(
        "Newtonsoft.Json.JsonSerializationException",
        "JsonException",
        "Exception of type 'Newtonsoft.Json.JsonSerializationException' was thrown.",
    ),
    k(
        "Newtonsoft.Json.JsonWriterException",
        "JsonException",
        "Exception of type 'Newtonsoft.Json.JsonWriterException' was thrown.",
    ),
    k(
        "Microsoft.CSharp.RuntimeBinder.RuntimeBinderException",
        "Exception",
        "Exception of type 'Microsoft.CSharp.RuntimeBinder.RuntimeBinderException' was thrown.",
    ),
];

impl Kind {
    fn name(&self) -> &'static str {
        short(self.full)
    }
}

/// `System.FormatException` and `FormatException` name the same type.
fn short(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

fn find(name: &str) -> Option<&'static Kind> {
    let short = short(name);
    KINDS.iter().find(|k| k.name() == short)
}

/// The interned name of an exception type, if `name` is one.
pub(crate) fn kind_of(name: &str) -> Option<&'static str> {
    find(name).map(Kind::name)
}

/// Whether an exception of type `kind` is a `ty` (`ty` itself or a type derived from it).
/// Kinds outside the table derive from `Exception` directly.
pub(crate) fn is_a(kind: &str, ty: &str) -> bool {
    let ty = short(ty);
    if ty == "Exception" || kind == ty {
        return true;
    }
    let mut cur = find(kind);
    // The table is a tree of bounded depth; the bound only guards against a cycle typo.
    for _ in 0..KINDS.len() {
        match cur.and_then(|k| k.base) {
            Some(b) if b == ty => return true,
            Some(b) => cur = find(b),
            None => return false,
        }
    }
    false
}

/// `System.FormatException`: the full name `GetType().FullName` and `ToString()` show.
pub(crate) fn full_name(kind: &str) -> &'static str {
    find(kind).map_or("System.Exception", |k| k.full)
}

/// An exception object: what `catch (Exception ex)` binds and `new T(…)` creates.
#[derive(Debug, Clone, PartialEq)]
pub struct Exception {
    /// The type's short name (`FormatException`), as in [`RuntimeError::kind`].
    pub kind: &'static str,
    pub message: String,
    /// `ParamName` of the argument exceptions.
    pub param: Option<String>,
    pub inner: Option<Box<Exception>>,
    /// `Data`: made when first read, shared by every copy (crates/expr/src/library/misc_state.rs).
    pub(crate) data: crate::library::DataSlot,
}

impl Exception {
    pub(crate) fn from_error(e: &RuntimeError) -> Self {
        Exception {
            kind: e.kind,
            message: e.message.clone(),
            param: None,
            inner: None,
            data: Default::default(),
        }
    }

    /// `throw ex;`: the error that ends the evaluation unless caught.
    pub(crate) fn to_error(&self, offset: usize) -> RuntimeError {
        RuntimeError {
            message: self.message(),
            kind: self.kind,
            offset,
            budget: None,
        }
    }

    /// `new T(args)` for an exception type: `(message)`, `(message, inner)`, and the argument
    /// exceptions' own orders (`ArgumentNullException(paramName[, message])`,
    /// `ArgumentException(message, paramName)`). `None` when `ty` is not an exception type.
    pub(crate) fn construct(
        ty: &str,
        strings: &[Option<String>],
        inner: Option<Exception>,
    ) -> Option<Self> {
        let k = find(ty)?;
        let s = |i: usize| strings.get(i).cloned().flatten();
        let param_first = matches!(
            k.name(),
            "ArgumentNullException" | "ArgumentOutOfRangeException"
        );
        let (message, param) = if param_first {
            (s(1), s(0))
        } else if k.name() == "ArgumentException" {
            (s(0), s(1))
        } else {
            (s(0), None)
        };
        Some(Exception {
            kind: k.name(),
            message: message.unwrap_or_else(|| k.default.to_string()),
            param,
            inner: inner.map(Box::new),
            data: Default::default(),
        })
    }

    /// `Message`: the argument exceptions append the parameter name (Mono's, i.e. .NET
    /// Framework's, wording).
    pub fn message(&self) -> String {
        match &self.param {
            Some(p) if !p.is_empty() => format!("{}\nParameter name: {p}", self.message),
            _ => self.message.clone(),
        }
    }

    /// `ToString()`: `System.FormatException: message`, inner exceptions chained as .NET does
    /// (without a stack trace: an expression has none to show).
    pub fn to_display(&self) -> String {
        let mut s = format!("{}: {}", full_name(self.kind), self.message());
        if let Some(i) = &self.inner {
            s.push_str(" ---> ");
            s.push_str(&i.to_display());
            s.push_str("\n   --- End of inner exception stack trace ---");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hierarchy() {
        assert!(is_a("ArgumentNullException", "ArgumentException"));
        assert!(is_a("ArgumentNullException", "SystemException"));
        assert!(is_a("FormatException", "System.Exception"));
        assert!(is_a("JsonReaderException", "JsonException"));
        assert!(is_a("CompilationError", "Exception"));
        assert!(!is_a("FormatException", "ArgumentException"));
        assert!(!is_a("JsonReaderException", "SystemException"));
        assert!(is_a("OverflowException", "ArithmeticException"));
        assert_eq!(
            full_name("KeyNotFoundException"),
            "System.Collections.Generic.KeyNotFoundException"
        );
    }

    #[test]
    fn construct_and_print() {
        let e = Exception::construct("ArgumentNullException", &[Some("p".into())], None)
            .expect("an exception type");
        assert_eq!(e.message(), "Value cannot be null.\nParameter name: p");
        let outer = Exception::construct(
            "System.Exception",
            &[Some("outer".into())],
            Exception::construct("Exception", &[Some("inner".into())], None),
        )
        .expect("an exception type");
        assert_eq!(
            outer.to_display(),
            "System.Exception: outer ---> System.Exception: inner\n   --- End of inner exception stack trace ---"
        );
        assert!(Exception::construct("JObject", &[], None).is_none());
    }
}
