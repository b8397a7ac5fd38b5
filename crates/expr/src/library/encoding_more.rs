//! The rest of `System.Text.Encoding`: the MIME flags (`IsBrowserDisplay` …, .NET's encoding
//! table), the replacement fallbacks, `GetEncodings()`, `RegisterProvider`, the decoder and
//! encoder type names, and where a decoder must stop so that a char split across two calls is
//! decoded whole (crates/expr/src/library/misc_state.rs).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::*;

/// The encodings .NET's table lists, in its order: code page, web name, English name.
const TABLE: &[(i64, &str, &str)] = &[
    (1200, "utf-16", "Unicode"),
    (1201, "utf-16BE", "Unicode (Big-Endian)"),
    (12000, "utf-32", "Unicode (UTF-32)"),
    (12001, "utf-32BE", "Unicode (UTF-32 Big-Endian)"),
    (20127, "us-ascii", "US-ASCII"),
    (28591, "iso-8859-1", "Western European (ISO)"),
    (65000, "utf-7", "Unicode (UTF-7)"),
    (65001, "utf-8", "Unicode (UTF-8)"),
];

const MAILNEWS: u32 = 0x1;
const BROWSER: u32 = 0x2;
const SAVABLE_MAILNEWS: u32 = 0x100;
const SAVABLE_BROWSER: u32 = 0x200;

impl TextEncoding {
    /// The MIME flags of .NET's encoding table (EncodingTable.Data's s_flags).
    fn mime_flags(self) -> u32 {
        match self.code_page() {
            1200 => SAVABLE_BROWSER,
            20127 | 65000 => MAILNEWS | SAVABLE_MAILNEWS,
            28591 | 65001 => MAILNEWS | BROWSER | SAVABLE_MAILNEWS | SAVABLE_BROWSER,
            _ => 0,
        }
    }

    /// The replacement fallback's string: '?' for the single-byte encodings' encoders and
    /// ASCII's decoder, U+FFFD for the Unicode ones.
    fn replacement(self, decoder: bool) -> &'static str {
        match self {
            TextEncoding::Ascii => "?",
            TextEncoding::Latin1 if !decoder => "?",
            TextEncoding::Latin1 => "?",
            _ => "\u{fffd}",
        }
    }

    /// `EncoderFallback` / `DecoderFallback` (and a decoder's `Fallback`): a replacement
    /// fallback, its `DefaultString` and `MaxCharCount`.
    pub(crate) fn fallback(self, decoder: bool) -> Value {
        let s = self.replacement(decoder);
        let mut r = BTreeMap::new();
        r.insert("DefaultString".to_string(), Value::str(s));
        r.insert("MaxCharCount".to_string(), Value::Int(1));
        r.insert(FALLBACK_KIND.to_string(), Value::Bool(decoder));
        Value::Object(Object::Record(Arc::new(r)))
    }

    pub(crate) fn decoder_type(self) -> &'static str {
        match self {
            TextEncoding::Unicode | TextEncoding::BigEndianUnicode => {
                "System.Text.UnicodeEncoding+Decoder"
            }
            TextEncoding::Utf32 => "System.Text.UTF32Encoding+UTF32Decoder",
            TextEncoding::Utf7 => "System.Text.UTF7Encoding+Decoder",
            _ => "System.Text.DecoderNLS",
        }
    }

    pub(crate) fn encoder_type(self) -> &'static str {
        match self {
            TextEncoding::Utf7 => "System.Text.UTF7Encoding+Encoder",
            _ => "System.Text.EncoderNLS",
        }
    }

    /// How many bytes at the end of `b` start a char that is not complete yet: what a
    /// decoder keeps for its next call.
    pub(crate) fn incomplete_tail(self, b: &[u8]) -> usize {
        match self {
            TextEncoding::Utf8 => {
                // The last lead byte within three bytes of the end, if its sequence is cut.
                for back in 1..=b.len().min(3) {
                    let x = b[b.len() - back];
                    if x & 0xC0 == 0x80 {
                        continue;
                    }
                    let need = match x {
                        0xC2..=0xDF => 2,
                        0xE0..=0xEF => 3,
                        0xF0..=0xF4 => 4,
                        _ => 1,
                    };
                    return if need > back { back } else { 0 };
                }
                0
            }
            TextEncoding::Unicode | TextEncoding::BigEndianUnicode => {
                let odd = b.len() % 2;
                let whole = &b[..b.len() - odd];
                let last = whole.len().checked_sub(2).map(|i| match self {
                    TextEncoding::Unicode => u16::from_le_bytes([whole[i], whole[i + 1]]),
                    _ => u16::from_be_bytes([whole[i], whole[i + 1]]),
                });
                // A high surrogate waits for its low half.
                odd + if last.is_some_and(|u| (0xD800..0xDC00).contains(&u)) {
                    2
                } else {
                    0
                }
            }
            TextEncoding::Utf32 => b.len() % 4,
            _ => 0,
        }
    }
}

/// The key that tells a decoder fallback from an encoder fallback (crates/expr/src/value.rs
/// names their types by it).
pub(crate) const FALLBACK_KIND: &str = "\u{0}decoder";

/// `IsBrowserDisplay`, `IsBrowserSave`, `IsMailNewsDisplay`, `IsMailNewsSave`,
/// `EncoderFallback`, `DecoderFallback`.
pub(super) fn encoding_more_member(e: TextEncoding, name: &str) -> Option<Value> {
    let flag = |f: u32| Value::Bool(e.mime_flags() & f != 0);
    Some(match name {
        "IsBrowserDisplay" => flag(BROWSER),
        "IsBrowserSave" => flag(SAVABLE_BROWSER),
        "IsMailNewsDisplay" => flag(MAILNEWS),
        "IsMailNewsSave" => flag(SAVABLE_MAILNEWS),
        "EncoderFallback" => e.fallback(false),
        "DecoderFallback" => e.fallback(true),
        _ => return None,
    })
}

/// `Encoding.GetEncodings()` (EncodingInfo: CodePage, Name, DisplayName) and
/// `Encoding.RegisterProvider(provider)`: no EncodingProvider can be made in an expression,
/// so only null reaches it, which .NET refuses.
pub(super) fn encoding_more_static(name: &str, args: &Args, at: usize) -> F<Option<Value>> {
    Ok(Some(match name {
        "GetEncodings" => Value::Array(
            TABLE
                .iter()
                .map(|(cp, web, display)| {
                    let mut r = BTreeMap::new();
                    r.insert("CodePage".to_string(), Value::Int(*cp));
                    r.insert("Name".to_string(), Value::str(web));
                    r.insert("DisplayName".to_string(), Value::str(display));
                    Value::Object(Object::Record(Arc::new(r)))
                })
                .collect(),
        ),
        "RegisterProvider" => {
            return Err(match args.first() {
                None | Some((_, Value::Null)) => rt(
                    "ArgumentNullException",
                    "Value cannot be null. (Parameter 'provider')",
                    at,
                ),
                Some((_, v)) => cast_err(v, "System.Text.EncodingProvider", at),
            });
        }
        _ => return Ok(None),
    }))
}
