//! .NET numeric format strings (invariant culture) for `ToString(fmt)`, `{x:fmt}` and
//! `string.Format`: the standard ones (`F`, `N`, `P`, `E`, `C`, `G`, `R`, `D`, `X`) and custom ones
//! (`0`, `#`, `.`, `,`, `%`, `‰`, `E+0`, `;` sections, quoted and escaped literals).
//!
//! Rounding follows modern .NET (Core 3.0+, what APIM runs): a standard format of a double is
//! correctly rounded from its exact binary value, ties to even (`2.5.ToString("F0")` is "2",
//! `0.25.ToString("F1")` is "0.2"), which is what Rust's `{:.N}`/`{:.Ne}` give. A custom format
//! first takes the double's 15 significant digits and then rounds half away from zero on them, as
//! .NET's `NumberToStringFormat` still does (`2.5.ToString("0")` is "3").

use super::*;

/// The widest precision accepted: bounds the text one call can allocate (.NET takes up to
/// 999,999,999, far beyond any evaluation's memory budget).
const MAX_PRECISION: usize = 1000;

/// A number as decimal digits: `0.d₁d₂… × 10^exp`, without leading zeros (empty for zero).
struct Digits {
    neg: bool,
    digits: Vec<u8>,
    exp: i32,
}

impl Digits {
    /// 15 significant digits of a double (the custom-format digits), or every digit of an integer.
    fn of(d: f64, int: Option<i128>) -> Digits {
        Digits::significant(d, int, 15)
    }

    /// `sig` significant digits of a double (15) or a float (7), or every digit of an integer.
    fn significant(d: f64, int: Option<i128>, sig: usize) -> Digits {
        let (neg, text, exp) = match int {
            Some(i) => {
                let s = i.unsigned_abs().to_string();
                let n = s.len() as i32;
                (i < 0, s, n)
            }
            None => {
                let s = format!("{:.*e}", sig.saturating_sub(1), d.abs());
                let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
                (
                    d < 0.0,
                    m.replace('.', ""),
                    e.parse::<i32>().unwrap_or(0) + 1,
                )
            }
        };
        let mut digits: Vec<u8> = text.bytes().map(|b| b - b'0').collect();
        while digits.last() == Some(&0) {
            digits.pop();
        }
        if digits.is_empty() {
            return Digits {
                neg,
                digits,
                exp: 0,
            };
        }
        Digits { neg, digits, exp }
    }

    /// Rounds half away from zero to `decimals` digits after the point.
    fn round(&mut self, decimals: i32) {
        let keep = self.exp + decimals;
        if keep < 0 {
            self.digits.clear();
        } else if (keep as usize) < self.digits.len() {
            let up = self.digits[keep as usize] >= 5;
            self.digits.truncate(keep as usize);
            if up {
                let mut i = self.digits.len();
                loop {
                    if i == 0 {
                        self.digits.insert(0, 1);
                        self.exp += 1;
                        break;
                    }
                    i -= 1;
                    if self.digits[i] == 9 {
                        self.digits[i] = 0;
                    } else {
                        self.digits[i] += 1;
                        break;
                    }
                }
            }
        }
        while self.digits.last() == Some(&0) {
            self.digits.pop();
        }
        if self.digits.is_empty() {
            self.exp = 0;
        }
    }

    fn digit(&self, i: i32) -> char {
        match usize::try_from(i).ok().and_then(|i| self.digits.get(i)) {
            Some(d) => (b'0' + d) as char,
            None => '0',
        }
    }
}

/// `d.ToString(fmt)` / `i.ToString(fmt)` for a standard or custom numeric format.
pub(super) fn format_number(d: f64, int: Option<i128>, fmt: &str, at: usize) -> F<String> {
    let mut chars = fmt.chars();
    let kind = chars.next().unwrap_or('G');
    let rest = chars.as_str();
    let standard = kind.is_ascii_alphabetic() && rest.bytes().all(|b| b.is_ascii_digit());
    if !standard {
        return Ok(custom(d, int, fmt));
    }
    let prec: Option<usize> = if rest.is_empty() {
        None
    } else {
        Some(rest.parse().map_err(|_| format_err(at))?)
    };
    if prec.is_some_and(|p| p > MAX_PRECISION) {
        return Err(format_err(at));
    }
    if int.is_none() && !d.is_finite() {
        return Ok(match kind {
            'D' | 'd' | 'X' | 'x' => return Err(format_err(at)),
            _ => format_double(d),
        });
    }
    let neg = if int.is_some() {
        d < 0.0
    } else {
        d.is_sign_negative() && d != 0.0
    };
    let sign = if neg { "-" } else { "" };
    let a = d.abs();
    Ok(match kind {
        'D' | 'd' => {
            let i = int.ok_or_else(|| format_err(at))?;
            format!("{sign}{:0w$}", i.unsigned_abs(), w = prec.unwrap_or(0))
        }
        'X' | 'x' => {
            let i = int.ok_or_else(|| format_err(at))?;
            let w = prec.unwrap_or(0);
            if kind == 'X' {
                format!("{i:0w$X}")
            } else {
                format!("{i:0w$x}")
            }
        }
        'F' | 'f' => format!("{sign}{}", fixed(a, int, prec.unwrap_or(2))),
        'N' | 'n' => format!(
            "{sign}{}",
            group_thousands(&fixed(a, int, prec.unwrap_or(2)))
        ),
        'C' | 'c' => {
            // Invariant culture: symbol ¤, negative pattern 0 "(¤n)".
            let n = group_thousands(&fixed(a, int, prec.unwrap_or(2)));
            if neg {
                format!("(¤{n})")
            } else {
                format!("¤{n}")
            }
        }
        'P' | 'p' => {
            // Invariant culture: "n %" and "-n %"; the value times 100, shifted in its digits.
            let p = prec.unwrap_or(2);
            let s = fixed(a, int, p + 2);
            let (i, f) = s.split_once('.').unwrap_or((&s, ""));
            let all = format!("{i}{f}");
            let cut = all.len() - p;
            let whole = all[..cut].trim_start_matches('0');
            let whole = if whole.is_empty() { "0" } else { whole };
            let body = if p == 0 {
                whole.to_string()
            } else {
                format!("{whole}.{}", &all[cut..])
            };
            format!("{sign}{} %", group_thousands(&body))
        }
        'E' | 'e' => {
            let s = format!("{:.p$e}", a, p = prec.unwrap_or(6));
            format!("{sign}{}", exponent_form(&s, kind == 'E', 3))
        }
        'G' | 'g' => match prec.filter(|p| *p > 0) {
            None => match int {
                Some(i) => i.to_string(),
                None => format_double(d),
            },
            Some(p) => general(neg, a, p, kind == 'G'),
        },
        'R' | 'r' if int.is_none() => format_double(d),
        _ => return Err(format_err(at)),
    })
}

/// `f.ToString(fmt)` for a float: the shortest float text for `G`/`R`, the float's 7
/// significant digits for a custom format (.NET's SinglePrecisionCustomFormat), and the exact
/// value (a float widens to a double exactly) for the others.
pub(super) fn format_float_as(f: f32, fmt: &str, at: usize) -> F<String> {
    let mut chars = fmt.chars();
    let kind = chars.next().unwrap_or('G');
    let rest = chars.as_str();
    let standard = kind.is_ascii_alphabetic() && rest.bytes().all(|b| b.is_ascii_digit());
    if !f.is_finite() {
        return format_number(f as f64, None, fmt, at).map(|_| crate::numeric::format_float(f));
    }
    if !standard {
        return Ok(custom_digits(Digits::significant(f as f64, None, 7), fmt));
    }
    match (kind, rest) {
        ('G' | 'g', "" | "0") | ('R' | 'r', _) => Ok(crate::numeric::format_float(f)),
        _ => format_number(f as f64, None, fmt, at),
    }
}

/// `m.ToString(fmt)` for a decimal: its exact digits, rounded half away from zero as .NET
/// rounds a decimal's digits; `G` without a precision keeps the scale ("1.50").
pub(super) fn format_decimal_as(m: rust_decimal::Decimal, fmt: &str, at: usize) -> F<String> {
    use rust_decimal::RoundingStrategy::MidpointAwayFromZero;
    let mut chars = fmt.chars();
    let kind = chars.next().unwrap_or('G');
    let rest = chars.as_str();
    let standard = kind.is_ascii_alphabetic() && rest.bytes().all(|b| b.is_ascii_digit());
    if !standard {
        let mant = m.mantissa().unsigned_abs().to_string();
        let exp = mant.len() as i32 - m.scale() as i32;
        let mut digits: Vec<u8> = mant.bytes().map(|b| b - b'0').collect();
        while digits.last() == Some(&0) {
            digits.pop();
        }
        let exp = if digits.is_empty() { 0 } else { exp };
        let num = Digits {
            neg: m.is_sign_negative() && !m.is_zero(),
            digits,
            exp,
        };
        return Ok(custom_digits(num, fmt));
    }
    let prec: Option<usize> = if rest.is_empty() {
        None
    } else {
        Some(rest.parse().map_err(|_| format_err(at))?)
    };
    if prec.is_some_and(|p| p > MAX_PRECISION) {
        return Err(format_err(at));
    }
    let neg = m.is_sign_negative() && !m.is_zero();
    let sign = if neg { "-" } else { "" };
    // Digits after the point, rounded (decimal holds at most 28; more are zeros).
    let fixed_dec = |p: usize| {
        let r = m
            .abs()
            .round_dp_with_strategy(p.min(28) as u32, MidpointAwayFromZero);
        let s = r.to_string();
        let have = s.split_once('.').map_or(0, |(_, f)| f.len());
        let mut s = s;
        if p > 0 && have == 0 {
            s.push('.');
        }
        s.push_str(&"0".repeat(p.saturating_sub(have)));
        s
    };
    Ok(match kind {
        'F' | 'f' => {
            let s = fixed_dec(prec.unwrap_or(2));
            let zero = s.bytes().all(|b| b == b'0' || b == b'.');
            format!("{}{s}", if zero { "" } else { sign })
        }
        'N' | 'n' => {
            let s = fixed_dec(prec.unwrap_or(2));
            let zero = s.bytes().all(|b| b == b'0' || b == b'.');
            format!("{}{}", if zero { "" } else { sign }, group_thousands(&s))
        }
        'C' | 'c' => {
            let n = group_thousands(&fixed_dec(prec.unwrap_or(2)));
            if neg {
                format!("(¤{n})")
            } else {
                format!("¤{n}")
            }
        }
        'P' | 'p' => {
            let p = prec.unwrap_or(2);
            let hundred = m
                .abs()
                .checked_mul(rust_decimal::Decimal::ONE_HUNDRED)
                .ok_or_else(|| format_err(at))?;
            let r = hundred.round_dp_with_strategy(p.min(28) as u32, MidpointAwayFromZero);
            let s = format!("{r:.p$}");
            format!("{sign}{} %", group_thousands(&s))
        }
        'G' | 'g' if prec.is_none_or(|p| p == 0) => crate::numeric::format_decimal(m),
        'D' | 'd' | 'X' | 'x' | 'R' | 'r' => return Err(format_err(at)),
        _ => {
            use rust_decimal::prelude::ToPrimitive;
            format_number(m.to_f64().unwrap_or(0.0), None, fmt, at)?
        }
    })
}

/// `n.ToString(fmt)` for an integer of `bits` bits: `X` prints the type's two's complement
/// ((-1).ToString("X") is "FFFFFFFF" for an int, sixteen F's for a long).
pub(super) fn format_integer_as(i: i128, bits: u32, fmt: &str, at: usize) -> F<String> {
    let mut chars = fmt.chars();
    let kind = chars.next().unwrap_or('G');
    let rest = chars.as_str();
    if matches!(kind, 'X' | 'x') && rest.bytes().all(|b| b.is_ascii_digit()) && i < 0 {
        let w: usize = if rest.is_empty() {
            0
        } else {
            rest.parse().map_err(|_| format_err(at))?
        };
        if w > MAX_PRECISION {
            return Err(format_err(at));
        }
        let pattern = (i as u128) & ((1u128 << bits) - 1);
        return Ok(if kind == 'X' {
            format!("{pattern:0w$X}")
        } else {
            format!("{pattern:0w$x}")
        });
    }
    format_number(i as f64, Some(i), fmt, at)
}

/// `a` (not negative) with `p` digits after the point, correctly rounded, ties to even.
fn fixed(a: f64, int: Option<i128>, p: usize) -> String {
    match int {
        Some(i) if p == 0 => i.unsigned_abs().to_string(),
        Some(i) => format!("{}.{}", i.unsigned_abs(), "0".repeat(p)),
        None => format!("{a:.p$}"),
    }
}

/// Rust's `1.2345e3` as .NET's `1.2345E+003`: signed exponent of at least `min` digits.
fn exponent_form(s: &str, upper: bool, min: usize) -> String {
    let (m, e) = s.split_once('e').unwrap_or((s, "0"));
    let (esign, edigits) = match e.strip_prefix('-') {
        Some(r) => ('-', r),
        None => ('+', e),
    };
    let letter = if upper { 'E' } else { 'e' };
    format!("{m}{letter}{esign}{edigits:0>min$}")
}

/// `G<p>`: `p` significant digits, fixed notation when the exponent is in (-5, p), else
/// scientific with at least two exponent digits; trailing zeros dropped.
fn general(neg: bool, a: f64, p: usize, upper: bool) -> String {
    let s = format!("{:.prec$e}", a, prec = p - 1);
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i64 = e.parse().unwrap_or(0);
    let sign = if neg { "-" } else { "" };
    let digits: String = m.chars().filter(|c| *c != '.').collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    if exp > -5 && exp < p as i64 {
        let body = if exp < 0 {
            format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
        } else {
            let k = exp as usize + 1;
            if digits.len() > k {
                format!("{}.{}", &digits[..k], &digits[k..])
            } else {
                format!("{digits}{}", "0".repeat(k - digits.len()))
            }
        };
        format!("{sign}{body}")
    } else {
        let mant = if digits.len() > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits.to_string()
        };
        format!(
            "{sign}{}",
            exponent_form(&format!("{mant}e{exp}"), upper, 2)
        )
    }
}

/// One item of a custom format section.
#[derive(Clone, PartialEq)]
enum Item {
    Zero,
    Hash,
    Point,
    Comma,
    Percent,
    Permille,
    Exp { upper: bool, plus: bool, min: usize },
    Lit(String),
}

/// Splits a custom format into its `;` sections, each as items.
fn sections(fmt: &str) -> Vec<Vec<Item>> {
    let mut out = vec![Vec::new()];
    let chars: Vec<char> = fmt.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        let item = match c {
            '0' => Item::Zero,
            '#' => Item::Hash,
            '.' => Item::Point,
            ',' => Item::Comma,
            '%' => Item::Percent,
            '‰' => Item::Permille,
            ';' => {
                out.push(Vec::new());
                continue;
            }
            '\\' => match chars.get(i) {
                Some(n) => {
                    i += 1;
                    Item::Lit(n.to_string())
                }
                None => continue,
            },
            '\'' | '"' => {
                let mut s = String::new();
                while let Some(&n) = chars.get(i) {
                    i += 1;
                    if n == c {
                        break;
                    }
                    s.push(n);
                }
                Item::Lit(s)
            }
            'E' | 'e' => {
                let mut j = i;
                let plus = chars.get(j) == Some(&'+');
                if matches!(chars.get(j), Some('+' | '-')) {
                    j += 1;
                }
                let mut min = 0;
                while chars.get(j) == Some(&'0') {
                    j += 1;
                    min += 1;
                }
                if min == 0 {
                    Item::Lit(c.to_string())
                } else {
                    i = j;
                    Item::Exp {
                        upper: c == 'E',
                        plus,
                        min,
                    }
                }
            }
            c => Item::Lit(c.to_string()),
        };
        if let Some(last) = out.last_mut() {
            last.push(item);
        }
    }
    out
}

/// A custom numeric format (anything that is not a letter and a precision).
fn custom(d: f64, int: Option<i128>, fmt: &str) -> String {
    if int.is_none() && !d.is_finite() {
        return format_double(d);
    }
    custom_digits(Digits::of(d, int), fmt)
}

/// A custom format applied to a number's digits.
fn custom_digits(mut num: Digits, fmt: &str) -> String {
    let secs = sections(fmt);
    let (items, signed) = match secs.as_slice() {
        [one] => (one, true),
        [_, neg, ..] if num.neg && !neg.is_empty() => (neg, false),
        [_, _, zero, ..] if num.digits.is_empty() && !zero.is_empty() => (zero, false),
        [pos, ..] => (pos, true),
        [] => return String::new(),
    };
    render(&mut num, items, signed)
}

fn render(num: &mut Digits, items: &[Item], signed: bool) -> String {
    let point = items.iter().position(|i| *i == Item::Point);
    let exp_at = items.iter().position(|i| matches!(i, Item::Exp { .. }));
    let int_end = point.or(exp_at).unwrap_or(items.len());
    let is_ph = |i: &Item| matches!(i, Item::Zero | Item::Hash);
    let int_items = &items[..int_end];
    let int_ph = int_items.iter().filter(|i| is_ph(i)).count();
    let frac_items: &[Item] = match point {
        Some(p) => &items[p + 1..exp_at.filter(|e| *e > p).unwrap_or(items.len())],
        None => &[],
    };
    let frac_phs: Vec<&Item> = frac_items.iter().filter(|i| is_ph(i)).collect();
    let frac_ph = frac_phs.len();
    let frac_min = frac_phs
        .iter()
        .rposition(|i| **i == Item::Zero)
        .map_or(0, |p| p + 1);
    let int_min = int_items
        .iter()
        .filter(|i| is_ph(i))
        .position(|i| *i == Item::Zero)
        .map_or(0, |p| int_ph - p);
    // Commas between integer placeholders group; commas right after the last one scale by 1000.
    let last_ph = int_items.iter().rposition(is_ph);
    let first_ph = int_items.iter().position(is_ph);
    let group = match (first_ph, last_ph) {
        (Some(f), Some(l)) => int_items[f..l].contains(&Item::Comma),
        _ => false,
    };
    let scale_commas = match last_ph {
        Some(l) => int_items[l + 1..]
            .iter()
            .take_while(|i| **i == Item::Comma)
            .count(),
        None => 0,
    };
    let pct = items.iter().filter(|i| **i == Item::Percent).count() as i32;
    let pml = items.iter().filter(|i| **i == Item::Permille).count() as i32;
    if !num.digits.is_empty() {
        num.exp += 2 * pct + 3 * pml - 3 * scale_commas as i32;
    }
    let mut exponent = 0i32;
    if exp_at.is_some() && !num.digits.is_empty() {
        exponent = num.exp - int_ph.max(1) as i32;
        num.exp -= exponent;
    }
    num.round(frac_ph as i32);
    if exp_at.is_some() && num.exp > int_ph.max(1) as i32 {
        // Rounding carried into a new digit (9.96 → 10.0): one more power of ten.
        num.exp -= 1;
        exponent += 1;
    }
    let mut whole: String = (0..num.exp.max(0)).map(|i| num.digit(i)).collect();
    if whole.len() < int_min {
        whole = format!("{}{whole}", "0".repeat(int_min - whole.len()));
    }
    if group {
        whole = group_thousands(&whole);
    }
    let mut frac: String = (0..frac_ph as i32)
        .map(|i| num.digit(num.exp + i))
        .collect();
    while frac.len() > frac_min && frac.ends_with('0') {
        frac.pop();
    }
    let mut out = String::new();
    if signed && num.neg && !num.digits.is_empty() {
        out.push('-');
    }
    // Integer digits fill the placeholders from the right; the first takes any excess, so that
    // literals between placeholders stay in place ("(###) ###-####").
    let whole: Vec<char> = whole.chars().collect();
    let excess = whole.len() as i64 - int_ph as i64;
    let mut int_k = 0i64;
    let mut seen_int = false;
    let mut frac_it = frac.chars();
    let mut in_frac = false;
    for (k, item) in items.iter().enumerate() {
        match item {
            Item::Zero | Item::Hash if !in_frac => {
                if group {
                    if !seen_int {
                        out.extend(whole.iter());
                    }
                } else if int_k == 0 {
                    out.extend(whole.iter().take((excess + 1).max(0) as usize));
                } else if let Some(c) = usize::try_from(excess + int_k)
                    .ok()
                    .and_then(|x| whole.get(x))
                {
                    out.push(*c);
                }
                seen_int = true;
                int_k += 1;
            }
            Item::Zero | Item::Hash => {
                if let Some(c) = frac_it.next() {
                    out.push(c);
                }
            }
            Item::Point if Some(k) == point => {
                in_frac = true;
                if !seen_int {
                    seen_int = true;
                    out.extend(whole.iter());
                }
                if !frac.is_empty() {
                    out.push('.');
                }
            }
            Item::Point | Item::Comma => {}
            Item::Percent => out.push('%'),
            Item::Permille => out.push('‰'),
            Item::Exp { upper, plus, min } => {
                in_frac = true;
                out.push(if *upper { 'E' } else { 'e' });
                if exponent < 0 {
                    out.push('-');
                } else if *plus {
                    out.push('+');
                }
                out.push_str(&format!("{:0>min$}", exponent.unsigned_abs(), min = *min));
            }
            Item::Lit(s) => out.push_str(s),
        }
    }
    out
}

/// Inserts `,` every three digits of the integer part of a plain decimal text.
pub(super) fn group_thousands(s: &str) -> String {
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", s),
    };
    let (int, frac) = match rest.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (rest, None),
    };
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(d: f64, fmt: &str) -> String {
        format_number(d, None, fmt, 0).unwrap_or_else(|_| "<error>".to_string())
    }

    fn i(v: i64, fmt: &str) -> String {
        format_number(v as f64, Some(v.into()), fmt, 0).unwrap_or_else(|_| "<error>".to_string())
    }

    /// Expected texts are what C# prints (Mono, checked; modern .NET where they differ).
    #[test]
    fn standard_formats() {
        assert_eq!(f(0.5, "P"), "50.00 %");
        assert_eq!(f(0.125, "P1"), "12.5 %");
        assert_eq!(f(-0.125, "P1"), "-12.5 %");
        assert_eq!(i(123, "P0"), "12,300 %");
        assert_eq!(f(1234.5, "E2"), "1.23E+003");
        assert_eq!(f(1234.5, "E"), "1.234500E+003");
        assert_eq!(f(0.0, "E2"), "0.00E+000");
        assert_eq!(i(5, "E1"), "5.0E+000");
        assert_eq!(f(12.3456, "G3"), "12.3");
        assert_eq!(f(12345.0, "G3"), "1.23E+04");
        assert_eq!(i(12345, "G3"), "1.23E+04");
        assert_eq!(f(0.0001234, "G2"), "0.00012");
        assert_eq!(f(1e-5, "G3"), "1E-05");
        assert_eq!(f(123456789.0, "G5"), "1.2346E+08");
        assert_eq!(i(100, "C"), "¤100.00");
        assert_eq!(i(-100, "C"), "(¤100.00)");
        assert_eq!(f(1234.567, "C1"), "¤1,234.6");
        assert_eq!(i(1234567, "N0"), "1,234,567");
        assert_eq!(f(1234.5678, "N"), "1,234.57");
        assert_eq!(i(255, "X4"), "00FF");
        assert_eq!(i(-5, "D3"), "-005");
        assert_eq!(f(f64::NAN, "F2"), "NaN");
        assert_eq!(f(1e16, "F0"), "10000000000000000");
        assert_eq!(i(123, "F1"), "123.0");
        // Modern .NET: exact value, ties to even (Mono/.NET Framework rounds these away).
        assert_eq!(f(2.5, "F0"), "2");
        assert_eq!(f(0.25, "F1"), "0.2");
        assert_eq!(f(0.45, "F1"), "0.5");
        assert_eq!(f(1234.5, "e3"), "1.234e+003");
        assert_eq!(f(1234.6, "e3"), "1.235e+003");
        assert!(format_number(1.0, None, "F1001", 0).is_err());
        assert!(format_number(1.0, None, "D2", 0).is_err());
    }

    #[test]
    fn custom_formats() {
        assert_eq!(f(1234.5, "#,##0.0"), "1,234.5");
        assert_eq!(f(3.75, "0.#"), "3.8");
        assert_eq!(f(2.5, "0"), "3");
        assert_eq!(f(0.0, "0.##"), "0");
        assert_eq!(f(-1.5, "#,##0.00;(#,##0.00);zero"), "(1.50)");
        assert_eq!(f(0.0, "#,##0.00;(#,##0.00);zero"), "zero");
        assert_eq!(f(0.123, "0.0%"), "12.3%");
        assert_eq!(i(5, "'x'0\\#"), "x5#");
        assert_eq!(i(1234, "#"), "1234");
        assert_eq!(i(0, "#"), "");
        assert_eq!(i(12, "000"), "012");
        assert_eq!(i(-12, "000"), "-012");
        assert_eq!(f(0.5, "#.##"), ".5");
        assert_eq!(f(1234567.891, "#,#"), "1,234,568");
        assert_eq!(i(42, "0.00"), "42.00");
        assert_eq!(f(123.456, "00.0000"), "123.4560");
        assert_eq!(f(1e20, "0"), "100000000000000000000");
        assert_eq!(f(1.5e-7, "0.0"), "0.0");
        assert_eq!(f(1234.5, "0.0E+0"), "1.2E+3");
        assert_eq!(f(1234.5, "0.##E-00"), "1.23E03");
        assert_eq!(i(1234567, "#,##0,"), "1,235");
        assert_eq!(i(1234567890, "(###) ###-####"), "(123) 456-7890");
    }
}
