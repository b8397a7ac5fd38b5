//! The C# side: writes every expression as a method of one C# file (into the harness
//! template crates/expr/tests/oracle/harness.cs), compiles it with `mcs` — dropping the methods
//! mcs rejects, found from its line numbers, and compiling again — and runs it once with `mono`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::compare::CSharp;
use super::corpus::Entry;

/// Newtonsoft.Json as Debian's libnewtonsoft-json5.0-cil installs it.
const NEWTONSOFT: &str = "/usr/lib/cli/Newtonsoft.Json-5.0/Newtonsoft.Json.dll";

/// Rounds of "compile, drop what failed": mcs stops after a syntax error and reports semantic
/// errors only once the syntax is clean, so it takes several rounds; each drops at least one
/// method, and a syntax-error round is quick.
const COMPILE_ROUNDS: usize = 60;

#[derive(Debug, thiserror::Error)]
pub enum MonoError {
    #[error("{0} not found on PATH")]
    Missing(&'static str),
    #[error("I/O on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("mcs failed outside the expressions:\n{0}")]
    Harness(String),
    #[error("mono failed: {0}")]
    Run(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> MonoError + '_ {
    move |source| MonoError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Whether `mcs` and `mono` are installed (why not, when not).
pub fn available() -> Result<(), MonoError> {
    for tool in ["mcs", "mono"] {
        let found = Command::new(tool)
            .arg("--version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !found {
            return Err(MonoError::Missing(tool));
        }
    }
    if !Path::new(NEWTONSOFT).exists() {
        return Err(MonoError::Missing(
            "Newtonsoft.Json.dll (libnewtonsoft-json5.0-cil)",
        ));
    }
    Ok(())
}

/// One method per entry; returns the source and, per entry, its first and last line.
fn write_methods(entries: &[Entry], keep: &[bool]) -> (String, Vec<(usize, usize)>) {
    let template = include_str!("harness.cs");
    let marker = "//@@METHODS@@";
    let before = template.split(marker).next().unwrap_or_default();
    let mut line = before.lines().count() + 1;
    let mut methods = String::new();
    let mut spans = vec![(0, 0); entries.len()];
    for (i, e) in entries.iter().enumerate() {
        if !keep[i] {
            continue;
        }
        let text = if e.block {
            format!(
                "public static object E{i}(Ctx context) {{\n{}\n}}\n",
                e.source
            )
        } else {
            format!(
                "public static object E{i}(Ctx context) {{ return (object)(\n{}\n); }}\n",
                e.source
            )
        };
        let lines = text.lines().count();
        spans[i] = (line, line + lines - 1);
        line += lines;
        methods.push_str(&text);
    }
    (template.replacen(marker, &methods, 1), spans)
}

/// `exprs.cs(123,45): error CS1002: ; expected` → (123, "CS1002: ; expected").
fn error_lines(output: &str) -> Vec<(usize, String)> {
    output
        .lines()
        .filter_map(|l| {
            let rest = l.split_once("exprs.cs(")?.1;
            let (pos, msg) = rest.split_once("): error ")?;
            let line = pos.split(',').next()?.parse().ok()?;
            Some((line, msg.to_string()))
        })
        .collect()
}

/// Compiles and runs every entry; the result per entry, in order.
pub fn run_all(entries: &[Entry], dir: &Path) -> Result<Vec<CSharp>, MonoError> {
    let mut keep = vec![true; entries.len()];
    let mut rejected: BTreeMap<usize, String> = BTreeMap::new();
    let source = dir.join("exprs.cs");
    let exe = dir.join("exprs.exe");
    let context = dir.join("context.cs");
    std::fs::write(&context, include_str!("context.cs")).map_err(io(&context))?;
    let dll = dir.join("Newtonsoft.Json.dll");
    std::fs::copy(NEWTONSOFT, &dll).map_err(io(&dll))?;
    let mut compiled = false;
    for _ in 0..COMPILE_ROUNDS {
        let (text, spans) = write_methods(entries, &keep);
        std::fs::write(&source, text).map_err(io(&source))?;
        let out = Command::new("mcs")
            .current_dir(dir)
            .args([
                "-nologo",
                "-warn:0",
                "-out:exprs.exe",
                "-r:System.Xml.Linq.dll",
                "-r:System.Xml.dll",
                "-r:System.Core.dll",
                "-r:System.Numerics.dll",
                "-r:Newtonsoft.Json.dll",
                "exprs.cs",
                "context.cs",
            ])
            .output()
            .map_err(io(&source))?;
        if out.status.success() {
            compiled = true;
            break;
        }
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let errors = error_lines(&all);
        let mut dropped = 0;
        for (line, msg) in &errors {
            let mut owner = spans
                .iter()
                .enumerate()
                .position(|(i, (a, b))| keep[i] && (*a..=*b).contains(line));
            // A method that does not close (an unbalanced expression) shows as an unexpected
            // `public` on the next method's first line: blame the one before.
            if let Some(i) = owner
                && msg.contains("`public'")
                && spans[i].0 == *line
            {
                owner = (0..i).rev().find(|j| keep[*j]);
            }
            if let Some(i) = owner {
                keep[i] = false;
                rejected.entry(i).or_insert_with(|| msg.clone());
                dropped += 1;
            }
        }
        if dropped == 0 {
            return Err(MonoError::Harness(all));
        }
    }
    if !compiled {
        return Err(MonoError::Harness(format!(
            "still failing after {COMPILE_ROUNDS} rounds"
        )));
    }
    let out = Command::new("timeout")
        .current_dir(dir)
        .args(["120", "mono"])
        .arg(&exe)
        .arg(entries.len().to_string())
        .output()
        .map_err(io(&exe))?;
    if !out.status.success() {
        return Err(MonoError::Run(String::from_utf8_lossy(&out.stderr).into()));
    }
    let mut results: Vec<Option<CSharp>> = vec![None; entries.len()];
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut f = line.splitn(4, '\t');
        let (Some(i), Some(status), Some(ty), text) = (f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        let Ok(i) = i.parse::<usize>() else { continue };
        let text = text.unwrap_or_default().to_string();
        let r = if status == "ok" {
            CSharp::Ok {
                ty: ty.into(),
                text,
            }
        } else {
            CSharp::Exception {
                ty: ty.into(),
                message: text,
            }
        };
        if let Some(slot) = results.get_mut(i) {
            *slot = Some(r);
        }
    }
    Ok(results
        .into_iter()
        .enumerate()
        .map(|(i, r)| match (r, rejected.remove(&i)) {
            (_, Some(e)) => CSharp::Rejected(e),
            (Some(r), None) => r,
            (None, None) => CSharp::Exception {
                ty: "NoOutput".into(),
                message: "the harness printed nothing for it".into(),
            },
        })
        .collect())
}
