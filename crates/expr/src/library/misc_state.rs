//! Small .NET objects whose methods change them, kept as shared state (crates/expr/src/io.rs)
//! so every copy sees the change: `Exception.Data` (a ListDictionaryInternal), the `Decoder`
//! and `Encoder` of an encoding (a UTF-8 sequence split across two `GetChars` calls is decoded
//! whole, as .NET's decoders keep the incomplete tail), and `string.GetEnumerator()`'s
//! `CharEnumerator`.

use std::sync::{Arc, OnceLock};

use super::*;
use crate::io::IoState;

#[derive(Debug, Clone, PartialEq)]
pub enum MiscState {
    /// `Exception.Data`: entries in insertion order, keys compared with `Equals`.
    Data(Vec<(Value, Value)>),
    /// `encoding.GetDecoder()`: the bytes of an incomplete char kept for the next call.
    Decoder { enc: TextEncoding, pending: Vec<u8> },
    /// `encoding.GetEncoder()`: chars here are whole code points, so nothing is kept.
    Encoder { enc: TextEncoding },
    /// `encoding.Clone()`: a writable copy of an encoding (`IsReadOnly` false).
    EncodingCopy { enc: TextEncoding },
    /// `s.GetEnumerator()`: the text and the position (None before `MoveNext`).
    Chars {
        text: Arc<str>,
        pos: Option<usize>,
        count: usize,
    },
}

impl MiscState {
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            MiscState::Data(_) => "System.Collections.ListDictionaryInternal",
            MiscState::Decoder { enc, .. } => enc.decoder_type(),
            MiscState::Encoder { enc } => enc.encoder_type(),
            MiscState::Chars { .. } => "System.CharEnumerator",
            MiscState::EncodingCopy { .. } => "System.Text.Encoding",
        }
    }

    /// Bytes held, for the memory budget.
    pub(crate) fn size(&self) -> usize {
        match self {
            MiscState::Data(d) => d
                .iter()
                .map(|(k, v)| {
                    2 * SLOT
                        + crate::budget::size_upto(k, usize::MAX)
                        + crate::budget::size_upto(v, usize::MAX)
                })
                .sum(),
            MiscState::Decoder { pending, .. } => pending.len(),
            MiscState::Encoder { .. } | MiscState::EncodingCopy { .. } => 0,
            MiscState::Chars { text, .. } => text.len(),
        }
    }
}

/// An exception's `Data` dictionary, made when first read and shared by every copy of the
/// exception value (it is not part of the exception's equality).
#[derive(Clone, Default)]
pub struct DataSlot(Arc<OnceLock<Value>>);

impl PartialEq for DataSlot {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for DataSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Data")
    }
}

impl DataSlot {
    /// The dictionary if it was ever read (what a walk over the exception's references sees).
    pub(crate) fn made(&self) -> Option<&Value> {
        self.0.get()
    }

    pub(crate) fn get(&self) -> Value {
        self.0
            .get_or_init(|| io_value(IoState::Misc(MiscState::Data(Vec::new()))))
            .clone()
    }
}

pub(crate) fn new_decoder(enc: TextEncoding) -> Value {
    io_value(IoState::Misc(MiscState::Decoder {
        enc,
        pending: Vec::new(),
    }))
}

pub(crate) fn new_encoder(enc: TextEncoding) -> Value {
    io_value(IoState::Misc(MiscState::Encoder { enc }))
}

pub(crate) fn char_enumerator(text: Arc<str>) -> Value {
    let count = text.chars().count();
    io_value(IoState::Misc(MiscState::Chars {
        text,
        pos: None,
        count,
    }))
}

/// Whether `v` is a decoder, an encoder or a copy of an encoding.
pub(crate) fn is_codec_object(v: &Value) -> bool {
    matches!(v, Value::Object(Object::Io(o))
        if matches!(&*o.state(), IoState::Misc(MiscState::Decoder { .. } | MiscState::Encoder { .. } | MiscState::EncodingCopy { .. })))
}

/// `encoding.Clone()`.
pub(crate) fn encoding_copy(enc: TextEncoding) -> Value {
    io_value(IoState::Misc(MiscState::EncodingCopy { enc }))
}

/// The encoding `v` is: `Encoding.X` or a copy of one.
pub(crate) fn encoding_of(v: &Value) -> Option<TextEncoding> {
    match v {
        Value::Object(Object::Encoding(e)) => Some(*e),
        Value::Object(Object::Io(o)) => match &*o.state() {
            IoState::Misc(MiscState::EncodingCopy { enc }) => Some(*enc),
            _ => None,
        },
        _ => None,
    }
}

fn null_key(at: usize) -> Flow {
    rt(
        "ArgumentNullException",
        "Value cannot be null. (Parameter 'key')",
        at,
    )
}

/// The methods of these objects; `None` for a name they do not have.
pub(crate) fn misc_call(
    it: &mut Interp,
    state: &mut MiscState,
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    match misc_method(it, state, name, args, at) {
        Ok(Some(v)) => Some(Ok(v)),
        Ok(None) => None,
        Err(e) => Some(Err(e)),
    }
}

fn misc_method(
    it: &mut Interp,
    state: &mut MiscState,
    name: &str,
    args: &Args,
    at: usize,
) -> F<Option<Value>> {
    let a = |i: usize| arg(args, i, at);
    Ok(Some(match (state, name) {
        (MiscState::Data(d), "Add") => {
            let (k, v) = (a(0)?, a(1)?);
            if k.is_null() {
                return Err(null_key(at));
            }
            if let Some((old, _)) = d.iter().find(|(x, _)| values_equal(x, k)) {
                return Err(rt(
                    "ArgumentException",
                    format!(
                        "Item has already been added. Key in dictionary: '{}'  Key being added: '{}'",
                        old.to_display(),
                        k.to_display()
                    ),
                    at,
                ));
            }
            it.charge(it.size_of(k) + it.size_of(v) + 2 * SLOT, at)?;
            d.push((k.clone(), v.clone()));
            Value::Null
        }
        (MiscState::Data(d), "Contains") => {
            let k = a(0)?;
            if k.is_null() {
                return Err(null_key(at));
            }
            Value::Bool(d.iter().any(|(x, _)| values_equal(x, k)))
        }
        (MiscState::Data(d), "Remove") => {
            let k = a(0)?;
            if k.is_null() {
                return Err(null_key(at));
            }
            d.retain(|(x, _)| !values_equal(x, k));
            Value::Null
        }
        (MiscState::Data(d), "Clear") => {
            d.clear();
            Value::Null
        }
        (MiscState::Decoder { pending, .. }, "Reset") => {
            pending.clear();
            Value::Null
        }
        (MiscState::Encoder { .. }, "Reset") => Value::Null,
        (MiscState::Decoder { enc, pending }, "GetCharCount") => {
            let bytes = codec_range(a(0)?, args.get(1), args.get(2), "bytes", at)?;
            let flush = matches!(args.get(3), Some((_, Value::Bool(true))));
            // Counting does not change the decoder.
            let mut copy = pending.clone();
            let s = decode_step(*enc, &mut copy, &bytes, flush);
            Value::Int(s.encode_utf16().count() as i64)
        }
        (MiscState::Encoder { enc }, "GetByteCount") => {
            let chars = a(0)?;
            let text: String = match (args.get(1), args.get(2)) {
                (Some((_, i)), Some((_, n))) => {
                    let all: Vec<char> = spans::span_text(chars, at)?.chars().collect();
                    let (i, n) = (as_int(i, at)?, as_int(n, at)?);
                    if i < 0 || n < 0 || i > all.len() as i64 - n {
                        return Err(arg_range(
                            "Index and count must refer to a location within the buffer. (Parameter 'chars')",
                            at,
                        ));
                    }
                    all[i as usize..(i + n) as usize].iter().collect()
                }
                _ => spans::span_text(chars, at)?,
            };
            Value::Int(enc.encode(&text).len() as i64)
        }
        (MiscState::Chars { pos, count, .. }, "MoveNext") => {
            let next = pos.map_or(0, |p| (p + 1).min(*count));
            *pos = Some(next);
            Value::Bool(next < *count)
        }
        (MiscState::Chars { pos, .. }, "Reset") => {
            *pos = None;
            Value::Null
        }
        (MiscState::Chars { text, pos, count }, "Clone") => {
            io_value(IoState::Misc(MiscState::Chars {
                text: text.clone(),
                pos: *pos,
                count: *count,
            }))
        }
        (MiscState::Chars { .. }, "Dispose") => Value::Null,
        // A copy answers as the encoding it copies.
        (MiscState::EncodingCopy { enc }, _) => {
            return encoding_method(it, *enc, name, args, at);
        }
        _ => return Ok(None),
    }))
}

/// Properties: `Data.Count`, `Keys`, `Values`, `IsReadOnly`…, `CharEnumerator.Current`.
pub(crate) fn misc_member(state: &MiscState, name: &str, at: usize) -> Option<F<Value>> {
    Some(Ok(match (state, name) {
        (MiscState::Data(d), "Count") => Value::Int(d.len() as i64),
        (MiscState::Data(d), "Keys") => Value::Array(d.iter().map(|(k, _)| k.clone()).collect()),
        (MiscState::Data(d), "Values") => Value::Array(d.iter().map(|(_, v)| v.clone()).collect()),
        (MiscState::Data(_), "IsReadOnly" | "IsFixedSize" | "IsSynchronized") => Value::Bool(false),
        (MiscState::Chars { text, pos, count }, "Current") => match pos {
            None => {
                return Some(Err(rt(
                    "InvalidOperationException",
                    "Enumeration has not started. Call MoveNext.",
                    at,
                )));
            }
            Some(p) if p >= count => {
                return Some(Err(rt(
                    "InvalidOperationException",
                    "Enumeration already finished.",
                    at,
                )));
            }
            Some(p) => text.chars().nth(*p).map_or(Value::Null, Value::Char),
        },
        (MiscState::EncodingCopy { .. }, "IsReadOnly") => Value::Bool(false),
        (MiscState::EncodingCopy { enc }, _) => return encoding_member(*enc, name).map(Ok),
        (MiscState::Decoder { enc, .. } | MiscState::Encoder { enc }, "Fallback") => {
            enc.fallback(matches!(state, MiscState::Decoder { .. }))
        }
        _ => return None,
    }))
}

/// What `foreach` sees: Data's entries as DictionaryEntry (Key, Value).
pub(crate) fn misc_items(state: &MiscState) -> Option<Vec<Value>> {
    match state {
        MiscState::Data(d) => Some(
            d.iter()
                .map(|(k, v)| {
                    let mut r = std::collections::BTreeMap::new();
                    r.insert("Key".to_string(), k.clone());
                    r.insert("Value".to_string(), v.clone());
                    Value::Object(Object::Record(Arc::new(r)))
                })
                .collect(),
        ),
        _ => None,
    }
}

/// `data[key]`: null for a key not there (IDictionary's indexer does not throw).
pub(crate) fn misc_index(state: &MiscState, k: &Value, at: usize) -> Option<F<Value>> {
    let MiscState::Data(d) = state else {
        return None;
    };
    if k.is_null() {
        return Some(Err(null_key(at)));
    }
    Some(Ok(d
        .iter()
        .find(|(x, _)| values_equal(x, k))
        .map_or(Value::Null, |(_, v)| v.clone())))
}

/// `data[key] = v`: replaces or adds.
pub(crate) fn misc_set_index(
    state: &mut MiscState,
    k: &Value,
    v: Value,
    at: usize,
) -> Option<F<()>> {
    let MiscState::Data(d) = state else {
        return None;
    };
    if k.is_null() {
        return Some(Err(null_key(at)));
    }
    match d.iter_mut().find(|(x, _)| values_equal(x, k)) {
        Some((_, slot)) => *slot = v,
        None => d.push((k.clone(), v)),
    }
    Some(Ok(()))
}

/// `bytes[index..index+count]` of a decoder call, checked as .NET checks it.
fn codec_range(
    v: &Value,
    index: Option<&(Option<String>, Value)>,
    count: Option<&(Option<String>, Value)>,
    param: &str,
    at: usize,
) -> F<Vec<u8>> {
    let all = match v {
        Value::Null => {
            return Err(rt(
                "ArgumentNullException",
                format!("Value cannot be null. (Parameter '{param}')"),
                at,
            ));
        }
        v => spans::span_bytes(v, at)?,
    };
    let (Some((_, i)), Some((_, n))) = (index, count) else {
        return Ok(all);
    };
    let (i, n) = (as_int(i, at)?, as_int(n, at)?);
    if i < 0 || n < 0 {
        return Err(arg_range(
            "Non-negative number required. (Parameter 'index')",
            at,
        ));
    }
    if i > all.len() as i64 - n {
        return Err(arg_range(
            "Index and count must refer to a location within the buffer. (Parameter 'bytes')",
            at,
        ));
    }
    Ok(all[i as usize..(i + n) as usize].to_vec())
}

/// Decodes `input` after the bytes the decoder kept; keeps an incomplete tail unless `flush`.
fn decode_step(enc: TextEncoding, pending: &mut Vec<u8>, input: &[u8], flush: bool) -> String {
    let mut all = std::mem::take(pending);
    all.extend_from_slice(input);
    let keep = if flush { 0 } else { enc.incomplete_tail(&all) };
    let rest = all.split_off(all.len() - keep);
    *pending = rest;
    enc.decode(&all)
}

/// `decoder.GetChars(bytes, byteIndex, byteCount, chars, charIndex[, flush])` (the span path,
/// crates/expr/src/library/spans.rs, writes the result): the decoded text.
pub(crate) fn decoder_chars(me: &Value, args: &[Value], at: usize) -> Option<F<String>> {
    let Value::Object(Object::Io(o)) = me else {
        return None;
    };
    let mut state = o.state();
    let IoState::Misc(MiscState::Decoder { enc, pending }) = &mut *state else {
        return None;
    };
    let with = |i: usize| args.get(i).map(|v| (None, v.clone()));
    Some((|| {
        let first = args.first().unwrap_or(&Value::Null);
        let (bytes, flush) = if args.len() == 2 {
            (spans::span_bytes(first, at)?, false)
        } else {
            (
                codec_range(first, with(1).as_ref(), with(2).as_ref(), "bytes", at)?,
                matches!(args.get(5), Some(Value::Bool(true))),
            )
        };
        Ok(decode_step(*enc, pending, &bytes, flush))
    })())
}

/// The encoding an encoder object encodes with.
pub(crate) fn encoder_encoding(me: &Value) -> Option<TextEncoding> {
    let Value::Object(Object::Io(o)) = me else {
        return None;
    };
    match &*o.state() {
        IoState::Misc(MiscState::Encoder { enc }) => Some(*enc),
        _ => None,
    }
}
