//! Errors of loading and validating a config file.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One finding of validation, with the path inside the file (`apis[1].operations[0].url_template`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub severity: Severity,
    pub path: String,
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        if self.path.is_empty() {
            write!(f, "{sev}: {}", self.message)
        } else {
            write!(f, "{sev}: {}: {}", self.path, self.message)
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: cannot read: {source}")]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    /// The text is not a config of the right shape (syntax, type, unknown field).
    #[error("{file}:{location}{path}{message}", location = fmt_location(*.line, *.column), path = fmt_path(.path))]
    Parse {
        file: PathBuf,
        line: Option<usize>,
        column: Option<usize>,
        path: String,
        message: String,
    },
    /// The config parsed but is not valid; every error is listed.
    #[error("{file}: {} error(s):\n{}", .issues.iter().filter(|i| i.severity == Severity::Error).count(), fmt_issues(.issues))]
    Invalid { file: PathBuf, issues: Vec<Issue> },
}

impl ConfigError {
    /// Every finding of this error, as (path, message) issues.
    pub fn issues(&self) -> Vec<Issue> {
        match self {
            ConfigError::Read { source, .. } => {
                vec![Issue {
                    severity: Severity::Error,
                    path: String::new(),
                    message: format!("cannot read: {source}"),
                }]
            }
            ConfigError::Parse {
                path,
                message,
                line,
                column,
                ..
            } => vec![Issue {
                severity: Severity::Error,
                path: path.clone(),
                message: format!("{}{message}", fmt_location(*line, *column).trim_start()),
            }],
            ConfigError::Invalid { issues, .. } => issues.clone(),
        }
    }
}

fn fmt_location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("{l}:{c}: "),
        (Some(l), None) => format!("{l}: "),
        _ => " ".to_string(),
    }
}

fn fmt_path(path: &str) -> String {
    if path.is_empty() || path == "." {
        String::new()
    } else {
        format!("{path}: ")
    }
}

fn fmt_issues(issues: &[Issue]) -> String {
    issues
        .iter()
        .map(|i| format!("  {i}"))
        .collect::<Vec<_>>()
        .join("\n")
}
