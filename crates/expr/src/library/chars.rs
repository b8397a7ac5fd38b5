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

/// `char`'s UTF-16 statics: the surrogate tests, `ConvertFromUtf32`, `ConvertToUtf32`, and
/// `GetUnicodeCategory`. A `char` value here is a Unicode scalar value, never a lone surrogate,
/// so the `(char)` overloads answer for every char a policy can hold; the `(string, index)`
/// overloads look at the string's UTF-16 units.
pub(crate) const CHAR_UNICODE_METHODS: &[&str] = &[
    "IsSurrogate",
    "IsHighSurrogate",
    "IsLowSurrogate",
    "IsSurrogatePair",
    "ConvertFromUtf32",
    "ConvertToUtf32",
    "GetUnicodeCategory",
];

/// The UTF-16 unit a `(char)` or `(string, index)` argument pair names.
fn the_unit(args: &Args, at: usize) -> F<u32> {
    match (arg(args, 0, at)?, args.get(1)) {
        (Value::String(s), Some((_, i))) => {
            let i = as_int(i, at)?;
            usize::try_from(i)
                .ok()
                .and_then(|i| s.encode_utf16().nth(i))
                .map(u32::from)
                .ok_or_else(|| {
                    arg_range(
                        "Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'index')",
                        at,
                    )
                })
        }
        _ => the_char(args, at).map(|c| c as u32),
    }
}

/// A string's UTF-16 units and the index argument into them (`char.IsSurrogatePair(s, i)`,
/// `char.ConvertToUtf32(s, i)`), out of range an ArgumentOutOfRangeException.
fn utf16_at(s: &str, index: &Value, at: usize) -> F<(Vec<u16>, usize)> {
    let i = as_int(index, at)?;
    let units: Vec<u16> = s.encode_utf16().collect();
    match usize::try_from(i).ok().filter(|i| *i < units.len()) {
        Some(i) => Ok((units, i)),
        None => Err(arg_range(
            "Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'index')",
            at,
        )),
    }
}

fn is_high(u: u32) -> bool {
    (0xD800..=0xDBFF).contains(&u)
}

fn is_low(u: u32) -> bool {
    (0xDC00..=0xDFFF).contains(&u)
}

/// .NET's `UnicodeCategory` name of a general category.
fn category_name(g: G) -> &'static str {
    match g {
        G::UppercaseLetter => "UppercaseLetter",
        G::LowercaseLetter => "LowercaseLetter",
        G::TitlecaseLetter => "TitlecaseLetter",
        G::ModifierLetter => "ModifierLetter",
        G::OtherLetter => "OtherLetter",
        G::NonspacingMark => "NonSpacingMark",
        G::SpacingMark => "SpacingCombiningMark",
        G::EnclosingMark => "EnclosingMark",
        G::DecimalNumber => "DecimalDigitNumber",
        G::LetterNumber => "LetterNumber",
        G::OtherNumber => "OtherNumber",
        G::SpaceSeparator => "SpaceSeparator",
        G::LineSeparator => "LineSeparator",
        G::ParagraphSeparator => "ParagraphSeparator",
        G::Control => "Control",
        G::Format => "Format",
        G::Surrogate => "Surrogate",
        G::PrivateUse => "PrivateUse",
        G::ConnectorPunctuation => "ConnectorPunctuation",
        G::DashPunctuation => "DashPunctuation",
        G::OpenPunctuation => "OpenPunctuation",
        G::ClosePunctuation => "ClosePunctuation",
        G::InitialPunctuation => "InitialQuotePunctuation",
        G::FinalPunctuation => "FinalQuotePunctuation",
        G::OtherPunctuation => "OtherPunctuation",
        G::MathSymbol => "MathSymbol",
        G::CurrencySymbol => "CurrencySymbol",
        G::ModifierSymbol => "ModifierSymbol",
        G::OtherSymbol => "OtherSymbol",
        G::Unassigned => "OtherNotAssigned",
    }
}

pub(crate) fn char_unicode_static(name: &str, args: &Args, at: usize) -> F<Option<Value>> {
    Ok(Some(match name {
        "IsSurrogate" => Value::Bool(matches!(the_unit(args, at)?, 0xD800..=0xDFFF)),
        "IsHighSurrogate" => Value::Bool(is_high(the_unit(args, at)?)),
        "IsLowSurrogate" => Value::Bool(is_low(the_unit(args, at)?)),
        "IsSurrogatePair" => Value::Bool(match (arg(args, 0, at)?, args.get(1)) {
            (Value::String(s), Some((_, i))) => {
                let (units, i) = utf16_at(s, i, at)?;
                is_high(u32::from(units[i]))
                    && units.get(i + 1).is_some_and(|u| is_low(u32::from(*u)))
            }
            // Two chars: neither can be a surrogate here.
            (Value::Char(_), Some((_, Value::Char(_)))) => false,
            (v, _) => return Err(cast_err(v, "System.Char", at)),
        }),
        "ConvertFromUtf32" => {
            let v = as_int(arg(args, 0, at)?, at)?;
            match u32::try_from(v).ok().and_then(char::from_u32) {
                Some(c) => Value::str(c.to_string()),
                None => {
                    return Err(arg_range(
                        "A valid UTF32 value is between 0x000000 and 0x10ffff, inclusive, and should not include surrogate codepoint values (0x00d800 ~ 0x00dfff). (Parameter 'utf32')",
                        at,
                    ));
                }
            }
        }
        "ConvertToUtf32" => match (arg(args, 0, at)?, args.get(1)) {
            (Value::String(s), Some((_, i))) => {
                let (units, i) = utf16_at(s, i, at)?;
                let u = u32::from(units[i]);
                if is_high(u) {
                    match units
                        .get(i + 1)
                        .map(|l| u32::from(*l))
                        .filter(|l| is_low(*l))
                    {
                        Some(l) => {
                            Value::Int(i64::from(0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00)))
                        }
                        None => {
                            return Err(rt(
                                "ArgumentException",
                                format!(
                                    "Found a high surrogate char without a following low surrogate at index: {i}. The input may not be in this encoding, or may not contain valid Unicode (UTF-16) characters. (Parameter 's')"
                                ),
                                at,
                            ));
                        }
                    }
                } else if is_low(u) {
                    return Err(rt(
                        "ArgumentException",
                        format!(
                            "Found a low surrogate char without a preceding high surrogate at index: {i}. The input may not be in this encoding, or may not contain valid Unicode (UTF-16) characters. (Parameter 's')"
                        ),
                        at,
                    ));
                } else {
                    Value::Int(i64::from(u))
                }
            }
            // (high, low): a char here is never a high surrogate.
            (Value::Char(_), Some((_, Value::Char(_)))) => {
                return Err(arg_range(
                    "A valid high surrogate character is between 0xd800 and 0xdbff, inclusive. (Parameter 'highSurrogate')",
                    at,
                ));
            }
            (Value::Null, _) => {
                return Err(rt(
                    "ArgumentNullException",
                    "Value cannot be null. (Parameter 's')",
                    at,
                ));
            }
            (v, _) => return Err(cast_err(v, "System.String", at)),
        },
        // In a string, a surrogate pair is the one character it encodes.
        "GetUnicodeCategory" => {
            let u = the_unit(args, at)?;
            let paired = match (arg(args, 0, at)?, args.get(1)) {
                (Value::String(s), Some((_, i))) if is_high(u) => {
                    let next = usize::try_from(as_int(i, at)?)
                        .ok()
                        .and_then(|i| s.encode_utf16().nth(i + 1))
                        .map(u32::from)
                        .filter(|l| is_low(*l));
                    next.map(|l| 0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00))
                }
                _ => None,
            };
            let name = match char::from_u32(paired.unwrap_or(u)) {
                Some(c) => category_name(c.general_category()),
                None => "Surrogate",
            };
            enum_member("UnicodeCategory", name).unwrap_or(Value::Null)
        }
        _ => return Ok(None),
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
