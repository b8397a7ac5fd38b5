//! XML name rules and .NET's `XmlConvert.EncodeLocalName`, which Json.NET (and so APIM) uses
//! to turn JSON property names into element names.

/// XML 1.0 (5th edition) NameStartChar, without `:` (names here are NCNames; the prefix
/// colon is handled by the caller).
pub(crate) fn is_name_start(c: char) -> bool {
    matches!(c,
        'A'..='Z' | '_' | 'a'..='z'
        | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}'
        | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}'
        | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}')
}

/// XML 1.0 NameChar, without `:`.
pub(crate) fn is_name_char(c: char) -> bool {
    is_name_start(c)
        || matches!(c,
            '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

/// A name without a colon that XML accepts as is.
pub(crate) fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(is_name_start) && chars.all(is_name_char)
}

/// A character XML 1.0 can carry in text or attribute values.
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c,
        '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}'
        | '\u{10000}'..='\u{10FFFF}')
}

/// `XmlConvert.EncodeLocalName`: each character that cannot stand where it is becomes
/// `_xHHHH_` (upper-case hex; `_xHHHHHHHH_` beyond the BMP, which .NET always escapes as a
/// surrogate pair), and an `_` that would read as such an escape becomes `_x005F_` so the
/// encoding round-trips. `:` is escaped too: a local name has no colon.
pub(crate) fn encode_local_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, c) in name.char_indices() {
        let ok = if i == 0 {
            is_name_start(c)
        } else {
            is_name_char(c)
        };
        if c == '_' && looks_like_escape(&name[i..]) {
            out.push_str("_x005F_");
        } else if ok && (c as u32) < 0x10000 {
            out.push(c);
        } else if (c as u32) < 0x10000 {
            out.push_str(&format!("_x{:04X}_", c as u32));
        } else {
            out.push_str(&format!("_x{:08X}_", c as u32));
        }
    }
    out
}

/// `_x` or `_X`, four hex digits, then `_` (or four more hex digits and `_`).
fn looks_like_escape(s: &str) -> bool {
    let b = s.as_bytes();
    let hex = |r: std::ops::Range<usize>| {
        b.get(r)
            .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
    };
    b.len() >= 7
        && (b[1] == b'x' || b[1] == b'X')
        && hex(2..6)
        && (b[6] == b'_' || (hex(6..10) && b.get(10) == Some(&b'_')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_xmlconvert() {
        assert_eq!(encode_local_name("first name"), "first_x0020_name");
        assert_eq!(encode_local_name("name!1"), "name_x0021_1");
        assert_eq!(encode_local_name("1abc"), "_x0031_abc");
        assert_eq!(encode_local_name("a:b"), "a_x003A_b");
        assert_eq!(encode_local_name("$"), "_x0024_");
        assert_eq!(encode_local_name("@id"), "_x0040_id");
        assert_eq!(encode_local_name("_x0020_"), "_x005F_x0020_");
        assert_eq!(encode_local_name("snake_case"), "snake_case");
        assert_eq!(encode_local_name("ünïcödé"), "ünïcödé");
        assert_eq!(encode_local_name("a😀"), "a_x0001F600_");
        assert_eq!(encode_local_name("-x"), "_x002D_x");
    }
}
