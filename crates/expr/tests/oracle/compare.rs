//! Judging one expression: what C# gave (from the harness's output line), what gatehouse gave,
//! and whether they agree, differ in a known class, or differ.

use gatehouse_expr::Value;

use super::render::{family_of_dotnet, family_of_value, render};

/// What the C# side gave for one expression.
#[derive(Debug, Clone)]
pub enum CSharp {
    /// mcs rejected it (the first error message).
    Rejected(String),
    Ok {
        ty: String,
        text: String,
    },
    Exception {
        ty: String,
        message: String,
    },
}

/// What gatehouse gave.
#[derive(Debug, Clone)]
pub enum Gatehouse {
    Rejected(String),
    Ok(Value),
    Exception { kind: String, message: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Agree,
    /// Both reject it at compile/parse time.
    BothReject,
    /// Differs only in a known class.
    KnownClass(&'static str),
    Differ(String),
}

pub fn judge(cs: &CSharp, gh: &Gatehouse) -> Verdict {
    match (cs, gh) {
        (CSharp::Rejected(_), Gatehouse::Rejected(_)) => Verdict::BothReject,
        (CSharp::Rejected(e), _) => Verdict::Differ(format!(
            "mcs rejects it ({e}) but gatehouse parses it ({})",
            show_gh(gh)
        )),
        (_, Gatehouse::Rejected(e)) => Verdict::Differ(format!(
            "gatehouse rejects it at parse time ({e}); C# gives {}",
            show_cs(cs)
        )),
        (CSharp::Exception { ty, .. }, Gatehouse::Exception { kind, .. }) if ty == kind => {
            Verdict::Agree
        }
        (CSharp::Ok { ty, text }, Gatehouse::Ok(v)) => judge_values(ty, text, v),
        _ => Verdict::Differ(format!(
            "C# gives {}, gatehouse {}",
            show_cs(cs),
            show_gh(gh)
        )),
    }
}

fn judge_values(ty: &str, text: &str, v: &Value) -> Verdict {
    let ours = render(v);
    let (cs_family, gh_family) = (family_of_dotnet(ty), family_of_value(v));
    let differ = || {
        Verdict::Differ(format!(
            "C# gives {ty} {text:?}, gatehouse {} {ours:?}",
            v.type_name()
        ))
    };
    if cs_family != gh_family {
        return differ();
    }
    let same = match cs_family.as_str() {
        "int" => {
            text.parse::<i128>().ok() == ours.parse::<i128>().ok() && text.parse::<i128>().is_ok()
        }
        "float" => match (text.parse::<f64>(), ours.parse::<f64>()) {
            (Ok(a), Ok(b)) => a == b || (a.is_nan() && b.is_nan()),
            _ => text == ours,
        },
        _ => text == ours,
    };
    // A number agrees only in its exact .NET type (Int64 is not Int32, Decimal not Double).
    let numeric = cs_family == "int" || cs_family == "float";
    if same && (!numeric || ty == v.type_name()) {
        return Verdict::Agree;
    }
    if fifteen_digits(text, &ours) {
        return Verdict::KnownClass("double-tostring-15-digits");
    }
    differ()
}

/// Whether two texts differ only in numbers where C# (Mono, .NET Framework) printed a double
/// with 15 significant digits and gatehouse printed the shortest round-trip form (.NET Core 3+,
/// what APIM runs): `0.1 + 0.2` is "0.3" on Mono, "0.30000000000000004" on .NET.
pub fn fifteen_digits(cs: &str, gh: &str) -> bool {
    let (a, b) = (split_numbers(cs), split_numbers(gh));
    if a.len() != b.len() || a == b {
        return false;
    }
    a.iter().zip(&b).all(|(x, y)| match (x, y) {
        (Piece::Text(x), Piece::Text(y)) => x == y,
        (Piece::Number(x), Piece::Number(y)) => {
            x == y
                || match (x.parse::<f64>(), y.parse::<f64>()) {
                    (Ok(p), Ok(q)) => {
                        let digits = x
                            .chars()
                            .take_while(|c| *c != 'E')
                            .filter(char::is_ascii_digit)
                            .count();
                        digits >= 15 && format!("{q:.14e}") == format!("{p:.14e}")
                            || (p - q).abs() <= 1e-14 * p.abs().max(q.abs())
                    }
                    _ => false,
                }
        }
        _ => false,
    })
}

#[derive(Debug, PartialEq)]
enum Piece<'a> {
    Text(&'a str),
    Number(&'a str),
}

fn split_numbers(s: &str) -> Vec<Piece<'_>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut text_start) = (0, 0);
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            // An exponent: E+21, E-07.
            if i + 1 < b.len() && b[i] == b'E' && (b[i + 1] == b'+' || b[i + 1] == b'-') {
                i += 2;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
            }
            if text_start < start {
                out.push(Piece::Text(&s[text_start..start]));
            }
            out.push(Piece::Number(&s[start..i]));
            text_start = i;
        } else {
            i += 1;
        }
    }
    if text_start < b.len() {
        out.push(Piece::Text(&s[text_start..]));
    }
    out
}

pub fn show_cs(cs: &CSharp) -> String {
    match cs {
        CSharp::Rejected(e) => format!("compile error {e}"),
        CSharp::Ok { ty, text } => format!("{ty} {text:?}"),
        CSharp::Exception { ty, message } => format!("{ty} ({message})"),
    }
}

pub fn show_gh(gh: &Gatehouse) -> String {
    match gh {
        Gatehouse::Rejected(e) => format!("parse error {e}"),
        Gatehouse::Ok(v) => format!("{} {:?}", v.type_name(), render(v)),
        Gatehouse::Exception { kind, message } => format!("{kind} ({message})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifteen_digit_class() {
        assert!(fifteen_digits("a0.333333333333333", "a0.3333333333333333"));
        assert!(fifteen_digits("0.3", "0.30000000000000004"));
        assert!(!fifteen_digits("0.3", "0.4"));
        assert!(!fifteen_digits("x1", "y1"));
    }
}
