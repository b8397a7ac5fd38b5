//! The two ways an expression fails: it does not parse ([`ExprError`], reported by `policy
//! check` with its offset) or it fails while running ([`RuntimeError`], which becomes
//! `context.LastError`).

use crate::limits::Budget;

/// A parse error. `offset` is a byte offset into the parsed text so `policy check` can point at
/// it; `unsupported` names a C# feature we deliberately do not support yet, so authors can tell
/// "you made a typo" from "gatehouse cannot run this".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at offset {offset})")]
pub struct ExprError {
    pub offset: usize,
    pub message: String,
    pub unsupported: Option<String>,
}

impl ExprError {
    pub(crate) fn new(offset: usize, message: impl Into<String>) -> Self {
        ExprError {
            offset,
            message: message.into(),
            unsupported: None,
        }
    }

    pub(crate) fn unsupported(mut self, feature: impl Into<String>) -> Self {
        self.unsupported = Some(feature.into());
        self
    }
}

/// An error raised while running an expression. It becomes `context.LastError` in `on-error`,
/// so the message follows the wording of the .NET exception the same code raises in APIM.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RuntimeError {
    pub message: String,
    /// The .NET exception type, e.g. `NullReferenceException`, `InvalidCastException`.
    pub kind: &'static str,
    /// Byte offset of the failing node in the source.
    pub offset: usize,
    /// Set when the evaluation ran out of one of its budgets (not an error of the program's
    /// own logic): the gateway logs these.
    pub budget: Option<Budget>,
}
