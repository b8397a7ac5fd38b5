//! `char` statics (`char.IsDigit`, `char.ToUpper`, `char.GetNumericValue` …) and .NET's
//! char-by-char invariant case mapping, which `string.ToUpper`/`ToLower` use too. .NET classifies
//! a char by its Unicode general category; so does this module.

use unicode_properties::{GeneralCategory as G, UnicodeGeneralCategory};

use super::*;

/// The `char` static methods [`char_static`] implements (also usable as method groups,
/// `"a1".Where(char.IsDigit)`).
pub(crate) const CHAR_METHODS: &[&str] = &[
    "IsDigit",
    "IsLetter",
    "IsLetterOrDigit",
    "IsWhiteSpace",
    "IsUpper",
    "IsLower",
    "IsPunctuation",
    "IsSymbol",
    "IsSeparator",
    "IsControl",
    "IsNumber",
    "IsAscii",
    "ToUpper",
    "ToLower",
    "ToUpperInvariant",
    "ToLowerInvariant",
    "GetNumericValue",
    "Parse",
    "ToString",
];

fn is_letter(c: char) -> bool {
    matches!(
        c.general_category(),
        G::UppercaseLetter
            | G::LowercaseLetter
            | G::TitlecaseLetter
            | G::ModifierLetter
            | G::OtherLetter
    )
}

fn is_digit(c: char) -> bool {
    c.general_category() == G::DecimalNumber
}

/// .NET's invariant upper case of one char: the simple mapping, so a char whose full mapping is
/// several chars (ß → SS) stays as it is; so does the Turkish dotless ı (U+0131), as İ does
/// in [`lower_char`].
pub(crate) fn upper_char(c: char) -> char {
    if c == '\u{131}' {
        return c;
    }
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// .NET's invariant lower case of one char: the simple mapping. Invariant casing leaves the
/// Turkish dotted capital İ (U+0130) as it is (its mapping to i is Turkish-culture only).
pub(crate) fn lower_char(c: char) -> char {
    let mut low = c.to_lowercase();
    match (low.next(), low.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// `char.GetNumericValue`: a decimal digit's value (digits come in runs of ten from 0), the
/// common other numbers, or -1.
fn numeric_value(c: char) -> f64 {
    if is_digit(c) {
        let mut zero = c as u32;
        while zero > 0
            && char::from_u32(zero - 1).is_some_and(is_digit)
            && (c as u32 - (zero - 1)) < 10
        {
            zero -= 1;
        }
        return ((c as u32 - zero) % 10) as f64;
    }
    match c {
        '¼' => 0.25,
        '½' => 0.5,
        '¾' => 0.75,
        '²' => 2.0,
        '³' => 3.0,
        '¹' => 1.0,
        'Ⅰ'..='Ⅸ' => (c as u32 - 'Ⅰ' as u32 + 1) as f64,
        _ => -1.0,
    }
}

/// The char argument(s): `(char c)` or `(string s, int index)`.
fn the_char(args: &Args, at: usize) -> F<char> {
    match (arg(args, 0, at)?, args.get(1)) {
        (Value::Char(c), None) => Ok(*c),
        (Value::String(s), Some((_, i))) => {
            let i = as_int(i, at)?;
            let units: Vec<u16> = s.encode_utf16().collect();
            let u = usize::try_from(i)
                .ok()
                .and_then(|i| units.get(i))
                .ok_or_else(|| {
                    arg_range(
                        "Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'index')",
                        at,
                    )
                })?;
            Ok(char::from_u32(*u as u32).unwrap_or('\u{fffd}'))
        }
        (Value::Null, _) => Err(rt(
            "ArgumentNullException",
            "Value cannot be null. (Parameter 's')",
            at,
        )),
        (Value::Int(i), None) => Ok(char::from_u32(*i as u32).unwrap_or('\u{fffd}')),
        (v, _) => Err(cast_err(v, "System.Char", at)),
    }
}

pub(super) fn char_static(name: &str, args: &Args, at: usize) -> F<Option<Value>> {
    if name == "Parse" {
        let s = match arg(args, 0, at)? {
            Value::Null => {
                return Err(rt(
                    "ArgumentNullException",
                    "Value cannot be null. (Parameter 's')",
                    at,
                ));
            }
            v => as_str(v, at)?,
        };
        let mut cs = s.chars();
        return match (cs.next(), cs.next()) {
            (Some(c), None) => Ok(Some(Value::Char(c))),
            _ => Err(rt(
                "FormatException",
                "String must be exactly one character long.",
                at,
            )),
        };
    }
    if !CHAR_METHODS.contains(&name) {
        return Ok(None);
    }
    let c = the_char(args, at)?;
    Ok(Some(match name {
        "IsDigit" => Value::Bool(is_digit(c)),
        "IsLetter" => Value::Bool(is_letter(c)),
        "IsLetterOrDigit" => Value::Bool(is_letter(c) || is_digit(c)),
        "IsWhiteSpace" => Value::Bool(c.is_whitespace()),
        "IsUpper" => Value::Bool(c.general_category() == G::UppercaseLetter),
        "IsLower" => Value::Bool(c.general_category() == G::LowercaseLetter),
        "IsPunctuation" => Value::Bool(matches!(
            c.general_category(),
            G::ConnectorPunctuation
                | G::DashPunctuation
                | G::OpenPunctuation
                | G::ClosePunctuation
                | G::InitialPunctuation
                | G::FinalPunctuation
                | G::OtherPunctuation
        )),
        "IsSymbol" => Value::Bool(matches!(
            c.general_category(),
            G::MathSymbol | G::CurrencySymbol | G::ModifierSymbol | G::OtherSymbol
        )),
        "IsSeparator" => Value::Bool(matches!(
            c.general_category(),
            G::SpaceSeparator | G::LineSeparator | G::ParagraphSeparator
        )),
        "IsControl" => Value::Bool(c.general_category() == G::Control),
        "IsNumber" => Value::Bool(matches!(
            c.general_category(),
            G::DecimalNumber | G::LetterNumber | G::OtherNumber
        )),
        "IsAscii" => Value::Bool(c.is_ascii()),
        "ToUpper" | "ToUpperInvariant" => Value::Char(upper_char(c)),
        "ToLower" | "ToLowerInvariant" => Value::Char(lower_char(c)),
        "GetNumericValue" => Value::Double(numeric_value(c)),
        _ => Value::str(c.to_string()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, c: char) -> String {
        char_static(name, &vec![(None, Value::Char(c))], 0)
            .ok()
            .flatten()
            .map_or("<error>".into(), |v| v.to_display())
    }

    #[test]
    fn chars_as_dotnet_classifies_them() {
        assert_eq!(call("IsDigit", '5'), "True");
        assert_eq!(call("IsDigit", '٣'), "True");
        assert_eq!(call("IsDigit", '½'), "False");
        assert_eq!(call("IsNumber", '½'), "True");
        assert_eq!(call("IsLetter", 'x'), "True");
        assert_eq!(call("IsLetter", '_'), "False");
        assert_eq!(call("IsWhiteSpace", '\u{a0}'), "True");
        assert_eq!(call("IsPunctuation", '!'), "True");
        assert_eq!(call("IsPunctuation", '+'), "False");
        assert_eq!(call("IsSymbol", '+'), "True");
        assert_eq!(call("IsUpper", 'Q'), "True");
        assert_eq!(call("IsLower", 'Q'), "False");
        assert_eq!(call("ToUpper", 'q'), "Q");
        assert_eq!(call("ToUpper", 'ß'), "ß");
        assert_eq!(call("ToLower", 'İ'), "İ");
        assert_eq!(call("ToUpper", 'ı'), "ı");
        assert_eq!(call("ToLower", 'Σ'), "σ");
        assert_eq!(call("GetNumericValue", '7'), "7");
        assert_eq!(call("GetNumericValue", '٣'), "3");
        assert_eq!(call("GetNumericValue", 'x'), "-1");
        let indexed = vec![(None, Value::str("a1")), (None, Value::Int(1))];
        assert_eq!(
            char_static("IsDigit", &indexed, 0)
                .ok()
                .flatten()
                .map(|v| v.to_display()),
            Some("True".into())
        );
    }
}
