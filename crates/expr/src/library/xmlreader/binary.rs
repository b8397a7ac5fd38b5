//! The `XmlReader` members that read a value or content in chunks into the caller's array:
//! `ReadValueChunk(char[], index, count)`, `ReadContentAsBase64`/`BinHex(byte[], index,
//! count)` and `ReadElementContentAsBase64`/`BinHex`.
//!
//! The first call of a binary read reads the whole content (as `ReadContentAsString` /
//! `ReadElementContentAsString` would, moving the cursor past it) and decodes it; it and the
//! following calls hand out the bytes, 0 once all are out. Moving the reader ends the read,
//! as in .NET. Decoding follows the reference source's `Base64Decoder` and `BinHexDecoder`:
//! whitespace is skipped, base64 stops at `=`, an invalid character is an `XmlException`.

use super::content::{Typed, read_content_as, read_element_content_as, value_here};
use super::*;

/// The `XmlNodeType`s that have a value (`XmlReader.HasValueInternal`).
fn has_value(kind: &str) -> bool {
    matches!(
        kind,
        "Attribute"
            | "Text"
            | "CDATA"
            | "ProcessingInstruction"
            | "Comment"
            | "Whitespace"
            | "SignificantWhitespace"
            | "XmlDeclaration"
            | "DocumentType"
    )
}

/// The reader's `(buffer, index, count)`, checked as `XmlTextReaderImpl` checks them.
fn range(args: &Args, at: usize) -> F<(Value, usize, usize)> {
    let buffer = buffer_arg(args, at)?.clone();
    let len = match &buffer {
        Value::Array(a) => a.len(),
        Value::Bytes(b) => b.len(),
        _ => 0,
    } as i64;
    let index = as_int(arg(args, 1, at)?, at)?;
    let count = as_int(arg(args, 2, at)?, at)?;
    let out = |p: &str| {
        rt(
            "ArgumentOutOfRangeException",
            format!("Specified argument was out of the range of valid values. (Parameter '{p}')"),
            at,
        )
    };
    if count < 0 {
        return Err(out("count"));
    }
    if index < 0 {
        return Err(out("index"));
    }
    if len - index < count {
        return Err(out("count"));
    }
    Ok((buffer, index as usize, count as usize))
}

/// `ReadValueChunk(buffer, index, count)`: the next characters of the current node's value.
fn read_value_chunk(s: &mut XmlReaderState, args: &Args, at: usize) -> F<(Value, Option<Value>)> {
    let (buffer, index, count) = range(args, at)?;
    let kind = kind_of(s);
    if !has_value(kind) {
        return Err(rt(
            "InvalidOperationException",
            format!("The ReadValueAsChunk method is not supported on node type {kind}."),
            at,
        ));
    }
    let Value::Array(mut buffer) = buffer else {
        return Err(cast_err(&buffer, "System.Char[]", at));
    };
    let key = (s.pos, s.attr, s.attr_text);
    let done = match s.chunk {
        Some((k, n)) if k == key => n,
        _ => 0,
    };
    let value = value_here(s);
    let mut n = 0;
    let mut offset = done;
    for c in value.get(done..).unwrap_or_default().chars().take(count) {
        buffer[index + n] = Value::Char(c);
        offset += c.len_utf8();
        n += 1;
    }
    s.chunk = Some((key, offset));
    Ok((Value::Int(n as i64), Some(Value::Array(buffer))))
}

/// Decodes base64 as the reference source's `Base64Decoder`: whitespace skipped, `=` ends.
fn base64(text: &str, s: &XmlReaderState, at: usize) -> F<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut bits, mut n) = (0u32, 0u32);
    for c in text.chars() {
        let v = match c {
            'A'..='Z' => c as u32 - 'A' as u32,
            'a'..='z' => c as u32 - 'a' as u32 + 26,
            '0'..='9' => c as u32 - '0' as u32 + 52,
            '+' => 62,
            '/' => 63,
            ' ' | '\t' | '\r' | '\n' => continue,
            '=' => break,
            _ => {
                return Err(xml_err(
                    s,
                    format!("'{c}' is not a valid Base64 text sequence."),
                    at,
                ));
            }
        };
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    Ok(out)
}

/// Decodes BinHex (hexadecimal pairs) as the reference source's `BinHexDecoder`.
fn bin_hex(text: &str, s: &XmlReaderState, at: usize) -> F<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 2);
    let mut high: Option<u8> = None;
    for c in text.chars() {
        let v = match c.to_digit(16) {
            Some(v) => v as u8,
            None if matches!(c, ' ' | '\t' | '\r' | '\n') => continue,
            None => {
                return Err(xml_err(
                    s,
                    format!("'{c}' is not a valid BinHex text sequence."),
                    at,
                ));
            }
        };
        match high.take() {
            Some(h) => out.push(h << 4 | v),
            None => high = Some(v),
        }
    }
    // An odd last digit is dropped, as the incremental decoder leaves it unread.
    Ok(out)
}

/// `ReadContentAsBase64`, `ReadContentAsBinHex`, `ReadElementContentAsBase64`,
/// `ReadElementContentAsBinHex`.
fn read_binary(
    it: &mut Interp,
    s: &mut XmlReaderState,
    method: &'static str,
    args: &Args,
    at: usize,
) -> F<(Value, Option<Value>)> {
    let (buffer, index, count) = range(args, at)?;
    let Value::Bytes(mut buffer) = buffer else {
        return Err(cast_err(&buffer, "System.Byte[]", at));
    };
    let element = method.starts_with("ReadElement");
    match &s.binary {
        Some((m, ..)) if *m == method => {}
        Some(_) => {
            return Err(rt(
                "InvalidOperationException",
                "ReadContentAsBase64 and ReadContentAsBinHex method calls cannot be mixed with calls to ReadElementContentAsBase64 and ReadElementContentAsBinHex.",
                at,
            ));
        }
        None => {
            // Not interactive (before the first Read, at the end, closed): nothing to read.
            if current(s).is_none() {
                return Ok((Value::Int(0), Some(Value::Bytes(buffer))));
            }
            let text = if element {
                read_element_content_as(it, s, method, Typed::String, &Vec::new(), at)?
            } else {
                read_content_as(it, s, method, Typed::String, at)?
            };
            let text = as_str(&text, at)?;
            let bytes = if method.ends_with("Base64") {
                base64(&text, s, at)?
            } else {
                bin_hex(&text, s, at)?
            };
            it.charge(bytes.len(), at)?;
            s.binary = Some((method, bytes, 0));
        }
    }
    let Some((_, bytes, served)) = &mut s.binary else {
        return Ok((Value::Int(0), Some(Value::Bytes(buffer))));
    };
    let n = count.min(bytes.len() - *served);
    buffer[index..index + n].copy_from_slice(&bytes[*served..*served + n]);
    *served += n;
    if n == 0 {
        s.binary = None;
    }
    Ok((Value::Int(n as i64), Some(Value::Bytes(buffer))))
}

/// The chunked readers, which fill a caller's `(buffer, index, count)` (and their `…Async`
/// forms, crates/expr/src/library/xmlreader/asynchronous.rs).
pub(crate) const CHUNK_READERS: &[&str] = &[
    "ReadValueChunk",
    "ReadContentAsBase64",
    "ReadContentAsBinHex",
    "ReadElementContentAsBase64",
    "ReadElementContentAsBinHex",
];

/// The chunked readers: their result and the filled array; `None` for another method.
pub(crate) fn xml_reader_fill(
    it: &mut Interp,
    s: &mut XmlReaderState,
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<(Value, Option<Value>)>> {
    if s.node_reader && CHUNK_READERS.contains(&name) {
        // `XNodeReader` does not override them: the base class refuses.
        let message = if name == "ReadValueChunk" {
            "ReadValueChunk method is not supported on this XmlReader. Use CanReadValueChunk property to find out if an XmlReader implements it.".to_string()
        } else {
            format!(
                "{name} method is not supported on this XmlReader. Use CanReadBinaryContent property to find out if a reader implements it."
            )
        };
        return Some(Err(rt("NotSupportedException", message, at)));
    }
    Some(match name {
        "ReadValueChunk" => read_value_chunk(s, args, at),
        "ReadContentAsBase64" => read_binary(it, s, "ReadContentAsBase64", args, at),
        "ReadContentAsBinHex" => read_binary(it, s, "ReadContentAsBinHex", args, at),
        "ReadElementContentAsBase64" => read_binary(it, s, "ReadElementContentAsBase64", args, at),
        "ReadElementContentAsBinHex" => read_binary(it, s, "ReadElementContentAsBinHex", args, at),
        _ => return None,
    })
}
