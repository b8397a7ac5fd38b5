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
            _ => return None,
        })
    }

    fn web_name(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "utf-8",
            TextEncoding::Ascii => "us-ascii",
            TextEncoding::Unicode => "utf-16",
            TextEncoding::BigEndianUnicode => "utf-16BE",
            TextEncoding::Utf32 => "utf-32",
            TextEncoding::Latin1 => "iso-8859-1",
        }
    }

    /// The most bytes one UTF-8 byte of input can become (what is charged before encoding).
    fn growth(self) -> usize {
        match self {
            TextEncoding::Utf32 => 4,
            TextEncoding::Unicode | TextEncoding::BigEndianUnicode => 2,
            _ => 1,
        }
    }

    fn encode(self, s: &str) -> Vec<u8> {
        match self {
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

    fn decode(self, b: &[u8]) -> String {
        match self {
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
        "CodePage" => Value::Int(match e {
            TextEncoding::Utf8 => 65001,
            TextEncoding::Ascii => 20127,
            TextEncoding::Unicode => 1200,
            TextEncoding::BigEndianUnicode => 1201,
            TextEncoding::Utf32 => 12000,
            TextEncoding::Latin1 => 28591,
        }),
        _ => return None,
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
        "GetString" | "GetCharCount" => {
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
            if name == "GetCharCount" {
                Value::Int(s.encode_utf16().count() as i64)
            } else {
                Value::str(s)
            }
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
