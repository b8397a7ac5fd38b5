//! `System.Text.Encoding`: UTF-8, ASCII, UTF-16 (little and big endian), UTF-32 and Latin-1,
//! with .NET's replacement behaviour (a char an encoding cannot hold becomes `?`; bytes that
//! do not decode become U+FFFD, or `?` for ASCII).

use super::*;

/// The encodings `Encoding.X` gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Ascii,
    Unicode,
    BigEndianUnicode,
    Utf32,
    Latin1,
    /// `Encoding.UTF7` (obsolete in .NET 5+, still working; crates/expr/src/library/utf7.rs).
    Utf7,
}

impl TextEncoding {
    pub(crate) fn named(name: &str) -> Option<TextEncoding> {
        Some(match name {
            // .NET Core's Encoding.Default is UTF-8 on every platform.
            "UTF8" | "Default" => TextEncoding::Utf8,
            "ASCII" => TextEncoding::Ascii,
            "Unicode" => TextEncoding::Unicode,
            "BigEndianUnicode" => TextEncoding::BigEndianUnicode,
            "UTF32" => TextEncoding::Utf32,
            "Latin1" => TextEncoding::Latin1,
            "UTF7" => TextEncoding::Utf7,
            _ => return None,
        })
    }

    pub(super) fn web_name(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "utf-8",
            TextEncoding::Ascii => "us-ascii",
            TextEncoding::Unicode => "utf-16",
            TextEncoding::BigEndianUnicode => "utf-16BE",
            TextEncoding::Utf32 => "utf-32",
            TextEncoding::Latin1 => "iso-8859-1",
            TextEncoding::Utf7 => "utf-7",
        }
    }

    /// `EncodingName`.
    pub(super) fn encoding_name(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "Unicode (UTF-8)",
            TextEncoding::Ascii => "US-ASCII",
            TextEncoding::Unicode => "Unicode",
            TextEncoding::BigEndianUnicode => "Unicode (Big-Endian)",
            TextEncoding::Utf32 => "Unicode (UTF-32)",
            TextEncoding::Latin1 => "Western European (ISO)",
            TextEncoding::Utf7 => "Unicode (UTF-7)",
        }
    }

    /// `GetPreamble()`: the byte order mark the encoding writes (`Encoding.UTF8` writes one).
    fn preamble(self) -> &'static [u8] {
        match self {
            TextEncoding::Utf8 => &[0xEF, 0xBB, 0xBF],
            TextEncoding::Unicode => &[0xFF, 0xFE],
            TextEncoding::BigEndianUnicode => &[0xFE, 0xFF],
            TextEncoding::Utf32 => &[0xFF, 0xFE, 0, 0],
            TextEncoding::Ascii | TextEncoding::Latin1 | TextEncoding::Utf7 => &[],
        }
    }

    pub(super) fn code_page(self) -> i64 {
        match self {
            TextEncoding::Utf8 => 65001,
            TextEncoding::Ascii => 20127,
            TextEncoding::Unicode => 1200,
            TextEncoding::BigEndianUnicode => 1201,
            TextEncoding::Utf32 => 12000,
            TextEncoding::Latin1 => 28591,
            TextEncoding::Utf7 => 65000,
        }
    }

    /// `GetMaxByteCount(n)` (the replacement fallback is one char): bytes per char times n + 1.
    fn max_bytes_per_char(self) -> i64 {
        match self {
            TextEncoding::Utf8 => 3,
            TextEncoding::Ascii | TextEncoding::Latin1 => 1,
            TextEncoding::Unicode | TextEncoding::BigEndianUnicode => 2,
            TextEncoding::Utf32 => 4,
            TextEncoding::Utf7 => 3,
        }
    }

    /// `GetMaxCharCount(n)`, as each encoding class computes it.
    fn max_char_count(self, n: i64) -> i64 {
        match self {
            TextEncoding::Utf8 => n + 1,
            TextEncoding::Ascii | TextEncoding::Latin1 => n,
            TextEncoding::Unicode | TextEncoding::BigEndianUnicode => (n >> 1) + (n & 1) + 1,
            TextEncoding::Utf32 => n / 2 + 2,
            TextEncoding::Utf7 => n.max(1),
        }
    }

    /// `Encoding.GetEncoding(name)`: the names and aliases .NET's encoding table gives the
    /// encodings held here (case-insensitive).
    fn by_name(name: &str) -> Option<TextEncoding> {
        let n = name.to_ascii_lowercase();
        Some(match n.as_str() {
            "utf-8" | "unicode-1-1-utf-8" | "unicode-2-0-utf-8" | "x-unicode20utf8" => {
                TextEncoding::Utf8
            }
            "us-ascii" | "ascii" | "ansi_x3.4-1968" | "ansi_x3.4-1986" | "cp367" | "csascii"
            | "ibm367" | "iso-ir-6" | "iso646-us" | "iso_646.irv:1991" | "us" => {
                TextEncoding::Ascii
            }
            "utf-16" | "utf-16le" | "unicode" | "ucs-2" | "iso-10646-ucs-2" => {
                TextEncoding::Unicode
            }
            "utf-16be" | "unicodefffe" => TextEncoding::BigEndianUnicode,
            "utf-32" | "utf-32le" => TextEncoding::Utf32,
            "iso-8859-1" | "latin1" | "cp819" | "csisolatin1" | "ibm819" | "iso-ir-100"
            | "iso8859-1" | "iso_8859-1" | "iso_8859-1:1987" | "l1" => TextEncoding::Latin1,
            _ => return None,
        })
    }

    fn by_code_page(cp: i64) -> Option<TextEncoding> {
        Some(match cp {
            // Code page 0 is the default encoding: UTF-8 in .NET Core.
            0 | 65001 => TextEncoding::Utf8,
            20127 => TextEncoding::Ascii,
            1200 => TextEncoding::Unicode,
            1201 => TextEncoding::BigEndianUnicode,
            12000 => TextEncoding::Utf32,
            28591 => TextEncoding::Latin1,
            _ => return None,
        })
    }

    /// The most bytes one UTF-8 byte of input can become (what is charged before encoding).
    fn growth(self) -> usize {
        match self {
            TextEncoding::Utf32 => 4,
            TextEncoding::Unicode | TextEncoding::BigEndianUnicode => 2,
            TextEncoding::Utf7 => 3,
            _ => 1,
        }
    }

    pub(super) fn encode(self, s: &str) -> Vec<u8> {
        match self {
            TextEncoding::Utf7 => super::utf7::encode(s),
            TextEncoding::Utf8 => s.as_bytes().to_vec(),
            TextEncoding::Ascii => s
                .chars()
                .map(|c| if c.is_ascii() { c as u8 } else { b'?' })
                .collect(),
            TextEncoding::Latin1 => s
                .chars()
                .map(|c| u8::try_from(c as u32).unwrap_or(b'?'))
                .collect(),
            TextEncoding::Unicode => s.encode_utf16().flat_map(u16::to_le_bytes).collect(),
            TextEncoding::BigEndianUnicode => s.encode_utf16().flat_map(u16::to_be_bytes).collect(),
            TextEncoding::Utf32 => s.chars().flat_map(|c| (c as u32).to_le_bytes()).collect(),
        }
    }

    pub(super) fn decode(self, b: &[u8]) -> String {
        match self {
            TextEncoding::Utf7 => super::utf7::decode(b),
            TextEncoding::Utf8 => String::from_utf8_lossy(b).into_owned(),
            TextEncoding::Ascii => b
                .iter()
                .map(|x| if x.is_ascii() { *x as char } else { '?' })
                .collect(),
            TextEncoding::Latin1 => b.iter().map(|x| *x as char).collect(),
            TextEncoding::Unicode | TextEncoding::BigEndianUnicode => {
                let units = b.chunks(2).map(|p| match (p, self) {
                    ([x, y], TextEncoding::Unicode) => u16::from_le_bytes([*x, *y]),
                    ([x, y], _) => u16::from_be_bytes([*x, *y]),
                    // A lone trailing byte is not a char.
                    _ => 0xFFFD,
                });
                char::decode_utf16(units)
                    .map(|r| r.unwrap_or('\u{fffd}'))
                    .collect()
            }
            TextEncoding::Utf32 => {
                b.chunks(4)
                    .map(|p| match p {
                        [a, b, c, d] => char::from_u32(u32::from_le_bytes([*a, *b, *c, *d]))
                            .unwrap_or('\u{fffd}'),
                        _ => '\u{fffd}',
                    })
                    .collect()
            }
        }
    }
}

/// `encoding.WebName` and the other properties.
pub(super) fn encoding_member(e: TextEncoding, name: &str) -> Option<Value> {
    Some(match name {
        "WebName" | "BodyName" | "HeaderName" => Value::str(e.web_name()),
        "IsSingleByte" => Value::Bool(matches!(e, TextEncoding::Ascii | TextEncoding::Latin1)),
        "CodePage" => Value::Int(e.code_page()),
        "EncodingName" => Value::str(e.encoding_name()),
        // The Windows code page of the encoding's family: 1252 for the Western single-byte
        // ones, 1200 (Unicode) for the rest.
        "WindowsCodePage" => Value::Int(match e {
            TextEncoding::Ascii | TextEncoding::Latin1 => 1252,
            _ => 1200,
        }),
        // The instances `Encoding.X` and `GetEncoding` give are shared, read-only ones.
        "IsReadOnly" => Value::Bool(true),
        "Preamble" => Value::Bytes(e.preamble().to_vec()),
        _ => return encoding_more_member(e, name),
    })
}

/// `encoding.GetBytes(s)`, `GetString(bytes[, index, count])`, `GetByteCount(s)`,
/// `GetCharCount(bytes)`.
pub(super) fn encoding_method(
    it: &mut Interp,
    e: TextEncoding,
    name: &str,
    args: &Args,
    at: usize,
) -> F<Option<Value>> {
    let a = |i: usize| arg(args, i, at);
    let null = |p: &str| {
        rt(
            "ArgumentNullException",
            format!("Value cannot be null. (Parameter '{p}')"),
            at,
        )
    };
    Ok(Some(match name {
        "GetBytes" | "GetByteCount" => {
            let s = match a(0)? {
                Value::Null => return Err(null("s")),
                Value::Array(cs) => cs
                    .iter()
                    .map(|c| match c {
                        Value::Char(c) => Ok(*c),
                        v => Err(cast_err(v, "System.Char", at)),
                    })
                    .collect::<F<String>>()?,
                v => as_str(v, at)?,
            };
            it.charge(s.len().saturating_mul(e.growth()), at)?;
            let bytes = e.encode(&s);
            if name == "GetByteCount" {
                Value::Int(bytes.len() as i64)
            } else {
                Value::Bytes(bytes)
            }
        }
        "GetPreamble" if args.is_empty() => Value::Bytes(e.preamble().to_vec()),
        "Clone" if args.is_empty() => encoding_copy(e),
        // Encodings with the default fallbacks are equal when their code pages are.
        "Equals" if args.len() == 1 => Value::Bool(encoding_of(a(0)?) == Some(e)),
        "GetDecoder" if args.is_empty() => new_decoder(e),
        "GetEncoder" if args.is_empty() => new_encoder(e),
        "GetMaxByteCount" | "GetMaxCharCount" => {
            let n = as_int(a(0)?, at)?;
            let param = if name == "GetMaxByteCount" {
                "charCount"
            } else {
                "byteCount"
            };
            if n < 0 {
                return Err(arg_range(
                    &format!("Non-negative number required. (Parameter '{param}')"),
                    at,
                ));
            }
            let max = if name == "GetMaxByteCount" && e == TextEncoding::Utf7 {
                // UTF7Encoding's own bound: three bytes a char, and the shift in and out.
                n.saturating_mul(3).saturating_add(2)
            } else if name == "GetMaxByteCount" {
                (n + 1).saturating_mul(e.max_bytes_per_char())
            } else {
                e.max_char_count(n)
            };
            if max > i64::from(i32::MAX) {
                return Err(arg_range(
                    &format!(
                        "Too many {}. The resulting number of {} is larger than what can be returned as an int. (Parameter '{param}')",
                        if name == "GetMaxByteCount" {
                            "characters"
                        } else {
                            "bytes"
                        },
                        if name == "GetMaxByteCount" {
                            "bytes"
                        } else {
                            "chars"
                        },
                    ),
                    at,
                ));
            }
            Value::Int(max)
        }
        // Latin-1's override: its text is normalized in form C. The other encodings keep
        // Encoding's answer, false (as the C# oracle shows for ASCII too).
        "IsAlwaysNormalized" => {
            let form = match args.first() {
                Some((_, v)) => v.to_display(),
                None => "FormC".to_string(),
            };
            Value::Bool(e == TextEncoding::Latin1 && form == "FormC")
        }
        "GetString" | "GetCharCount" | "GetChars" => {
            let b = match a(0)? {
                Value::Null => return Err(null("bytes")),
                v => as_bytes(v, at)?,
            };
            let b = match (args.get(1), args.get(2)) {
                (Some((_, i)), Some((_, n))) => {
                    let (i, n) = (as_int(i, at)?, as_int(n, at)?);
                    let range = usize::try_from(i)
                        .ok()
                        .zip(usize::try_from(n).ok())
                        .and_then(|(i, n)| b.get(i..i.checked_add(n)?));
                    range
                        .ok_or_else(|| {
                            arg_range(
                                "Index and count must refer to a location within the buffer.",
                                at,
                            )
                        })?
                        .to_vec()
                }
                _ => b,
            };
            // Each byte can become U+FFFD: three bytes of text.
            it.charge(b.len().saturating_mul(3), at)?;
            let s = e.decode(&b);
            match name {
                "GetCharCount" => Value::Int(s.encode_utf16().count() as i64),
                "GetChars" => {
                    it.charge(s.len().saturating_mul(SLOT), at)?;
                    Value::Array(s.chars().map(Value::Char).collect())
                }
                _ => Value::str(s),
            }
        }
        _ => return Ok(None),
    }))
}

/// `Encoding.GetEncoding(name | codePage)`, `Encoding.Convert(from, to, bytes[, index,
/// count])`.
pub(crate) fn encoding_static(
    it: &mut Interp,
    name: &str,
    args: &Args,
    at: usize,
) -> F<Option<Value>> {
    let a = |i: usize| arg(args, i, at);
    const PROVIDER: &str = "For information on defining a custom encoding, see the documentation for the Encoding.RegisterProvider method.";
    Ok(Some(match name {
        "GetEncoding" => {
            Value::Object(Object::Encoding(match a(0)? {
                Value::Int(cp) => {
                    if !(0..=65535).contains(cp) {
                        return Err(arg_range(
                            "Valid values are between 0 and 65535, inclusive. (Parameter 'codepage')",
                            at,
                        ));
                    }
                    TextEncoding::by_code_page(*cp).ok_or_else(|| {
                        rt(
                            "NotSupportedException",
                            format!("No data is available for encoding {cp}. {PROVIDER}"),
                            at,
                        )
                    })?
                }
                Value::Null => {
                    return Err(rt(
                        "ArgumentNullException",
                        "Value cannot be null. (Parameter 'name')",
                        at,
                    ));
                }
                v => {
                    let n = as_str(v, at)?;
                    TextEncoding::by_name(&n).ok_or_else(|| {
                    rt(
                        "ArgumentException",
                        format!("'{n}' is not a supported encoding name. {PROVIDER} (Parameter 'name')"),
                        at,
                    )
                })?
                }
            }))
        }
        "GetEncodings" | "RegisterProvider" => return encoding_more_static(name, args, at),
        "Convert" => {
            let enc = |v: &Value, p: &str| match v {
                v if let Some(e) = encoding_of(v) => Ok(e),
                Value::Null => Err(rt(
                    "ArgumentNullException",
                    format!("Value cannot be null. (Parameter '{p}')"),
                    at,
                )),
                other => Err(cast_err(other, "System.Text.Encoding", at)),
            };
            let from = enc(a(0)?, "srcEncoding")?;
            let to = enc(a(1)?, "dstEncoding")?;
            // The bytes (and range) as `GetString` reads them, then `GetBytes`.
            let rest: Args = args.iter().skip(2).cloned().collect();
            let Some(Value::String(text)) = encoding_method(it, from, "GetString", &rest, at)?
            else {
                return Ok(None);
            };
            let with = vec![(None, Value::String(text))];
            return encoding_method(it, to, "GetBytes", &with, at);
        }
        _ => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_as_dotnet() {
        assert_eq!(TextEncoding::Unicode.encode("a"), vec![0x61, 0]);
        assert_eq!(TextEncoding::BigEndianUnicode.encode("a"), vec![0, 0x61]);
        assert_eq!(TextEncoding::Ascii.encode("aé"), vec![0x61, b'?']);
        assert_eq!(TextEncoding::Latin1.encode("é€"), vec![0xE9, b'?']);
        assert_eq!(TextEncoding::Utf32.encode("a"), vec![0x61, 0, 0, 0]);
        assert_eq!(TextEncoding::Utf8.encode("日本").len(), 6);
        assert_eq!(TextEncoding::Ascii.decode(&[0x61, 0xE9]), "a?");
        assert_eq!(TextEncoding::Unicode.decode(&[0x61, 0, 0x62]), "a\u{fffd}");
        assert_eq!(
            TextEncoding::Unicode.decode(&TextEncoding::Unicode.encode("😀")),
            "😀"
        );
    }
}
