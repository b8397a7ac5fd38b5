//! `GetEnumerator()` and the enumerator it returns (`IEnumerator<T>`: `MoveNext`, `Current`,
//! `Reset`, `Dispose`), for lists and arrays, dictionaries, queues, stacks, sets and strings
//! (`CharEnumerator`).
//!
//! An enumerator is an object with its own position, shared by every copy of the value that
//! holds it (crates/expr/src/io.rs), as `var e = list.GetEnumerator(); while (e.MoveNext())
//! … e.Current …` needs. It walks the items the collection had when it was made. A queue,
//! stack or set is itself a shared object here, so a change to it is seen: the next
//! `MoveNext` (or `Reset`) throws InvalidOperationException as .NET's version check does. A
//! list or dictionary is a value here (copied on assignment), so its enumerator cannot see
//! later changes to the variable (listed in the oracle's known differences).
//!
//! What `Current` gives outside the items follows each .NET type: `List<T>`'s, `HashSet<T>`'s
//! and `Dictionary`'s enumerators answer `default(T)`; `Queue<T>`'s, `Stack<T>`'s and
//! `CharEnumerator` throw InvalidOperationException. Arrays and lists are one kind of value
//! here; an array's enumerator answers as a list's.

use super::*;
use crate::io::{IoObject, IoState};

/// Which collection an enumerator walks (its .NET type and its rules at the edges).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EnumKind {
    List,
    Dictionary,
    Queue,
    Stack,
    HashSet,
    Chars,
}

impl EnumKind {
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            EnumKind::List => "System.Collections.Generic.List`1+Enumerator",
            EnumKind::Dictionary => "System.Collections.Generic.Dictionary`2+Enumerator",
            EnumKind::Queue => "System.Collections.Generic.Queue`1+Enumerator",
            EnumKind::Stack => "System.Collections.Generic.Stack`1+Enumerator",
            EnumKind::HashSet => "System.Collections.Generic.HashSet`1+Enumerator",
            EnumKind::Chars => "System.CharEnumerator",
        }
    }

    /// Whether `Current` throws outside the items (else it is `default(T)`).
    fn strict(self) -> bool {
        matches!(self, EnumKind::Queue | EnumKind::Stack | EnumKind::Chars)
    }
}

/// An enumerator's state.
#[derive(Debug, Clone)]
pub(crate) struct EnumState {
    pub(crate) kind: EnumKind,
    pub(crate) items: Vec<Value>,
    /// -1 before the first item, `items.len()` after the last, -2 once disposed.
    pub(crate) pos: i64,
    /// The queue, stack or set walked, whose changes invalidate the enumerator.
    pub(crate) source: Option<Arc<IoObject>>,
    /// `default(T)`: what `Current` answers outside the items, for the lenient kinds.
    pub(crate) default: Value,
    /// A disposed `CharEnumerator` has dropped its string.
    pub(crate) disposed: bool,
}

impl PartialEq for EnumState {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.items == other.items && self.pos == other.pos
    }
}

impl EnumState {
    pub(crate) fn size(&self) -> usize {
        self.items
            .iter()
            .map(|v| SLOT + crate::budget::size_upto(v, usize::MAX))
            .sum()
    }
}

fn modified(at: usize) -> Flow {
    rt(
        "InvalidOperationException",
        "Collection was modified; enumeration operation may not execute.",
        at,
    )
}

/// `x.GetEnumerator()` for the collections of this module; `None` for another receiver.
fn get_enumerator(it: &mut Interp, t: &Value, at: usize) -> Option<F<Value>> {
    let (kind, items, source, default) = match t {
        Value::Array(a) => (EnumKind::List, a.clone(), None, default_like(a)),
        Value::Bytes(b) => (
            EnumKind::List,
            b.iter().map(|x| Value::Byte(*x)).collect(),
            None,
            Value::Byte(0),
        ),
        Value::String(s) => (
            EnumKind::Chars,
            s.encode_utf16()
                .map(|u| Value::Char(char::from_u32(u32::from(u)).unwrap_or('\u{fffd}')))
                .collect(),
            None,
            Value::Char('\0'),
        ),
        Value::Object(Object::Map(m)) => {
            let items: Vec<Value> = m.iter().map(|(k, v)| pair(k.clone(), v.clone())).collect();
            let default = match m.first() {
                Some((k, v)) => pair(
                    default_like(std::slice::from_ref(k)),
                    default_like(std::slice::from_ref(v)),
                ),
                None => pair(Value::Null, Value::Null),
            };
            (EnumKind::Dictionary, items, None, default)
        }
        Value::Object(Object::Io(io)) => {
            let state = io.state();
            let kind = match &*state {
                IoState::Queue(_) => EnumKind::Queue,
                IoState::Stack(_) => EnumKind::Stack,
                IoState::HashSet(..) => EnumKind::HashSet,
                _ => return None,
            };
            let items = builder_items(&state)?;
            drop(state);
            let d = default_like(&items);
            (kind, items, Some(io.clone()), d)
        }
        _ => return None,
    };
    Some((|| {
        it.hold_all(&items, at)?;
        Ok(io_value(IoState::Enumerator(EnumState {
            kind,
            items,
            pos: -1,
            source,
            default,
            disposed: false,
        })))
    })())
}

/// Whether the walked collection still holds what the enumerator took from it.
fn check_version(e: &EnumState, at: usize) -> F<()> {
    if let Some(src) = &e.source {
        // The source is another object than the enumerator: its lock is free here.
        let now = builder_items(&src.state());
        if now.as_deref() != Some(e.items.as_slice()) {
            return Err(modified(at));
        }
    }
    Ok(())
}

/// The hook of crates/expr/src/library/methods.rs: `GetEnumerator()` on a collection, and an
/// enumerator's `MoveNext`, `Reset`, `Dispose`; `None` for anything else.
pub(crate) fn enumerator_call(
    it: &mut Interp,
    t: &Value,
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    if name == "GetEnumerator" && args.is_empty() {
        return get_enumerator(it, t, at);
    }
    let Value::Object(Object::Io(io)) = t else {
        return None;
    };
    let mut state = io.state();
    let IoState::Enumerator(e) = &mut *state else {
        return None;
    };
    if !args.is_empty() || !matches!(name, "MoveNext" | "Reset" | "Dispose") {
        return None;
    }
    Some((|| {
        Ok(match name {
            "MoveNext" => {
                if e.disposed {
                    return Err(null_ref(at));
                }
                check_version(e, at)?;
                let len = e.items.len() as i64;
                if e.pos == -2 {
                    Value::Bool(false)
                } else if e.pos + 1 < len {
                    e.pos += 1;
                    Value::Bool(true)
                } else {
                    e.pos = len;
                    Value::Bool(false)
                }
            }
            "Reset" => {
                if e.disposed {
                    return Err(null_ref(at));
                }
                check_version(e, at)?;
                e.pos = -1;
                Value::Null
            }
            _ => {
                match e.kind {
                    EnumKind::Queue | EnumKind::Stack => e.pos = -2,
                    EnumKind::Chars => e.disposed = true,
                    _ => {}
                }
                Value::Null
            }
        })
    })())
}

/// An enumerator's `Current`; `None` when `t` is no enumerator.
pub(crate) fn enumerator_current(t: &Value, name: &str, at: usize) -> Option<F<Value>> {
    let Value::Object(Object::Io(io)) = t else {
        return None;
    };
    let state = io.state();
    let IoState::Enumerator(e) = &*state else {
        return None;
    };
    if name != "Current" {
        return None;
    }
    if e.disposed {
        // A disposed `CharEnumerator` has dropped its string.
        return Some(Err(null_ref(at)));
    }
    Some(
        match usize::try_from(e.pos).ok().and_then(|i| e.items.get(i)) {
            Some(v) => Ok(v.clone()),
            None if e.kind.strict() => Err(rt(
                "InvalidOperationException",
                if e.pos < 0 {
                    "Enumeration has not started. Call MoveNext."
                } else {
                    "Enumeration already finished."
                },
                at,
            )),
            None => Ok(e.default.clone()),
        },
    )
}
