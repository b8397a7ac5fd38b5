//! `System.Text.StringBuilder`, `Queue<T>` and `Stack<T>`: .NET reference types changed by
//! their methods, kept as shared state (crates/expr/src/io.rs) so that `sb.Append(x)` on any
//! copy — and the `sb.Append(a).Append(b)` chain, which returns the same builder — changes the
//! one object. `List<T>`'s search methods (`Exists`, `Find`, …) share `Array`'s
//! (crates/expr/src/library/arrays.rs).
//!
//! Positions (`Insert`, `Remove`, `Length`) count characters; .NET counts UTF-16 code units,
//! the same outside the astral planes. `AppendLine` ends lines with "\r\n", as on the Windows
//! hosts APIM runs on.
//!
//! Checked against Mono (mcs/mono):
//! ```csharp
//! var sb = new StringBuilder("ab");
//! sb.Append(1).Append('c').Append(true).AppendFormat("{0}-{1}", 2, "x");
//! Console.WriteLine(sb + " " + sb.Length);                   // ab1cTrue2-x 11
//! sb.Insert(0, "<").Remove(1, 2).Replace("True", "T");
//! Console.WriteLine(sb.ToString());                           // <1cT2-x
//! var q = new Queue<int>(); q.Enqueue(1); q.Enqueue(2);
//! Console.WriteLine(q.Peek() + " " + q.Dequeue() + " " + q.Count);   // 1 1 1
//! var s = new Stack<string>(); s.Push("a"); s.Push("b");
//! Console.WriteLine(string.Join(",", s) + " " + s.Pop() + " " + s.Count); // b,a b 1
//! new Queue<int>().Dequeue();   // InvalidOperationException: Queue empty.
//! ```

use std::collections::VecDeque;

use super::*;
use crate::io::IoState;

/// `new StringBuilder([text])`, `new Queue<T>([items])`, `new Stack<T>([items])`,
/// `new HashSet<T>([items]) { more }`.
pub(crate) fn construct_builder(
    it: &mut Interp,
    ty: &str,
    vals: &[Value],
    init: Option<&[Value]>,
    comparer: Option<StringComparerKind>,
    at: usize,
) -> Option<F<Value>> {
    let from = |it: &mut Interp| -> F<Vec<Value>> {
        let mut items = match vals.first() {
            // A capacity, not contents.
            None | Some(Value::Int(_)) => Vec::new(),
            Some(v) => {
                it.charge(it.size_of(v), at)?;
                iterate(it, v.clone(), at)?
            }
        };
        // A collection initializer's items are added after, as `Add` calls would.
        for v in init.unwrap_or_default() {
            it.charge(it.size_of(v).saturating_add(SLOT), at)?;
            items.push(v.clone());
        }
        Ok(items)
    };
    Some(match ty {
        "StringBuilder" => match vals.first() {
            None | Some(Value::Int(_)) => Ok(io_value(IoState::StringBuilder(String::new()))),
            Some(v) => it
                .text(v, at)
                .map(|s| io_value(IoState::StringBuilder(s.into_owned()))),
        }
        .and_then(|sb| builder_initial_capacity(&sb, vals, at).map(|()| sb)),
        "Queue" => from(it).map(|v| io_value(IoState::Queue(v.into()))),
        "Stack" => from(it).map(|v| io_value(IoState::Stack(v))),
        "HashSet" => from(it).map(|v| {
            let mut set = Vec::new();
            for x in v {
                if !set.iter().any(|y| keys_equal(comparer, y, &x)) {
                    set.push(x);
                }
            }
            io_value(IoState::HashSet(set, comparer))
        }),
        _ => return None,
    })
}

fn empty(what: &str, at: usize) -> Flow {
    rt("InvalidOperationException", format!("{what} empty."), at)
}

/// Methods of a builder, queue or stack; `None` when `state` is none of them. `me` is the
/// object itself, which `Append` and friends return.
pub(crate) fn builder_call(
    it: &mut Interp,
    me: &Value,
    state: &mut IoState,
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    Some(match state {
        IoState::StringBuilder(_) if name == "EnsureCapacity" => {
            builder_ensure_capacity(me, args, at)?
        }
        IoState::StringBuilder(buf) => {
            let r = string_builder(it, me, buf, name, args, at);
            builder_grew(me, buf);
            r
        }
        IoState::Queue(q) => queue(it, q, name, args, at),
        IoState::Stack(s) => stack(it, s, name, args, at),
        IoState::HashSet(s, c) => hash_set(it, me, s, *c, name, args, at),
        IoState::Misc(m) => return misc_call(it, m, name, args, at),
        _ => return None,
    })
}

/// Properties: `Length` of a builder, `Count` of a queue or stack.
pub(crate) fn builder_member(state: &IoState, name: &str) -> Option<Value> {
    Some(match (state, name) {
        (IoState::StringBuilder(b), "Length") => Value::Int(b.encode_utf16().count() as i64),
        (IoState::StringBuilder(_), "MaxCapacity") => Value::Int(i64::from(i32::MAX)),
        (IoState::Queue(q), "Count") => Value::Int(q.len() as i64),
        (IoState::Stack(s) | IoState::HashSet(s, _), "Count") => Value::Int(s.len() as i64),
        _ => return None,
    })
}

/// What `foreach` and LINQ see: a queue front first, a stack top first, as .NET enumerates.
pub(crate) fn builder_items(state: &IoState) -> Option<Vec<Value>> {
    match state {
        IoState::Queue(q) => Some(q.iter().cloned().collect()),
        IoState::Stack(s) => Some(s.iter().rev().cloned().collect()),
        IoState::HashSet(s, _) => Some(s.clone()),
        _ => None,
    }
}

/// The methods a queue, stack or set answers itself; any other goes to LINQ over its items.
pub(crate) fn builder_own_method(name: &str) -> bool {
    matches!(
        name,
        "Enqueue"
            | "Dequeue"
            | "Peek"
            | "Push"
            | "Pop"
            | "Clear"
            | "ToArray"
            | "Add"
            | "Remove"
            | "UnionWith"
            | "IntersectWith"
            | "ExceptWith"
            | "IsSubsetOf"
            | "IsSupersetOf"
            | "Overlaps"
            | "SetEquals"
            | "IsProperSubsetOf"
            | "IsProperSupersetOf"
            | "SymmetricExceptWith"
            | "TrimExcess"
    )
}

/// The byte offset of the `i`-th character, or an ArgumentOutOfRangeException.
fn char_offset(s: &str, i: i64, at: usize) -> F<usize> {
    let bad = || {
        arg_range(
            "Index was out of range. Must be non-negative and less than or equal to the size of the collection.",
            at,
        )
    };
    let i = usize::try_from(i).map_err(|_| bad())?;
    if i == 0 {
        return Ok(0);
    }
    s.char_indices()
        .map(|(o, _)| o)
        .chain(std::iter::once(s.len()))
        .nth(i)
        .ok_or_else(bad)
}

fn string_builder(
    it: &mut Interp,
    me: &Value,
    buf: &mut String,
    name: &str,
    args: &Args,
    at: usize,
) -> F<Value> {
    let a = |i: usize| arg(args, i, at);
    let grow =
        |it: &mut Interp, buf: &String, add: usize| it.charge(buf.len().saturating_add(add), at);
    match name {
        "Append" | "AppendLine" => {
            let text = match args.first() {
                None => String::new(),
                Some((_, v)) => it.text(v, at)?.into_owned(),
            };
            let newline = if name == "AppendLine" { NEW_LINE } else { "" };
            grow(it, buf, text.len() + newline.len())?;
            buf.push_str(&text);
            buf.push_str(newline);
        }
        "AppendFormat" => {
            let fmt = as_str(a(0)?, at)?;
            let rest: Vec<Value> = match args.get(1..) {
                Some([(_, Value::Array(arr))]) => arr.clone(),
                Some(r) => r.iter().map(|(_, v)| v.clone()).collect(),
                None => Vec::new(),
            };
            let text = string_format(it, &fmt, &rest, at)?;
            grow(it, buf, text.len())?;
            buf.push_str(&text);
        }
        "Insert" => {
            let at_char = as_int(a(0)?, at)?;
            let text = it.text(a(1)?, at)?.into_owned();
            let o = char_offset(buf, at_char, at)?;
            grow(it, buf, text.len())?;
            buf.insert_str(o, &text);
        }
        "Remove" => {
            let start = as_int(a(0)?, at)?;
            let len = as_int(a(1)?, at)?;
            if len < 0 {
                return Err(arg_range("Length cannot be less than zero.", at));
            }
            let from = char_offset(buf, start, at)?;
            let to = char_offset(buf, start.saturating_add(len), at)?;
            buf.replace_range(from..to, "");
        }
        "Replace" => {
            let (old, new) = (
                it.text(a(0)?, at)?.into_owned(),
                it.text(a(1)?, at)?.into_owned(),
            );
            if old.is_empty() {
                return Err(rt(
                    "ArgumentException",
                    "String cannot be of zero length.\nParameter name: oldValue",
                    at,
                ));
            }
            let count = buf.matches(old.as_str()).count();
            grow(it, buf, count.saturating_mul(new.len()))?;
            *buf = buf.replace(old.as_str(), &new);
        }
        "Clear" => buf.clear(),
        "ToString" => {
            it.charge(buf.len(), at)?;
            return Ok(match args.as_slice() {
                [] => Value::str(buf.as_str()),
                [(_, s), (_, n), ..] => {
                    let start = as_int(s, at)?;
                    let from = char_offset(buf, start, at)?;
                    let to = char_offset(buf, start.saturating_add(as_int(n, at)?), at)?;
                    Value::str(&buf[from..to])
                }
                [_] => return Err(no_member(me, "ToString", at)),
            });
        }
        // `Equals(StringBuilder)`: the same object, or (modern .NET) the same text.
        "Equals" => {
            return Ok(Value::Bool(match a(0)? {
                Value::Object(Object::Io(o)) => {
                    matches!(me, Value::Object(Object::Io(m)) if Arc::ptr_eq(o, m))
                        || matches!(&*o.state(), IoState::StringBuilder(other) if other == buf)
                }
                _ => false,
            }));
        }
        // (separator, values…) or (separator, sequence): the values' text joined.
        "AppendJoin" => {
            let sep = it.text(a(0)?, at)?.into_owned();
            let items: Vec<Value> = match args.get(1..) {
                Some([(_, v @ (Value::Array(_) | Value::Object(Object::Io(_))))]) => {
                    iterate(it, v.clone(), at)?
                }
                Some(r) => r.iter().map(|(_, v)| v.clone()).collect(),
                None => Vec::new(),
            };
            let text = join_texts(it, &items, &sep, at)?;
            grow(it, buf, text.len())?;
            buf.push_str(&text);
        }
        _ => return Err(no_member(me, name, at)),
    }
    Ok(me.clone())
}

fn queue(it: &mut Interp, q: &mut VecDeque<Value>, name: &str, args: &Args, at: usize) -> F<Value> {
    Ok(match name {
        "Enqueue" => {
            let v = arg(args, 0, at)?.clone();
            it.charge(it.size_of(&v) + SLOT, at)?;
            q.push_back(v);
            Value::Null
        }
        "Dequeue" => q.pop_front().ok_or_else(|| empty("Queue", at))?,
        "Peek" => q.front().cloned().ok_or_else(|| empty("Queue", at))?,
        "Clear" => {
            q.clear();
            Value::Null
        }
        "ToArray" => Value::Array(q.iter().cloned().collect()),
        _ => {
            let items: Vec<Value> = q.iter().cloned().collect();
            return linq(it, Value::Array(items), name, args.clone(), at);
        }
    })
}

fn hash_set(
    it: &mut Interp,
    me: &Value,
    s: &mut Vec<Value>,
    comparer: Option<StringComparerKind>,
    name: &str,
    args: &Args,
    at: usize,
) -> F<Value> {
    // Items compare through the set's comparer (crates/expr/src/library/dictionary.rs).
    let values_equal = |a: &Value, b: &Value| keys_equal(comparer, a, b);
    let has = |s: &[Value], x: &Value| s.iter().any(|y| values_equal(y, x));
    // `set.UnionWith(set)`: the set is locked while its method runs, so its own items are
    // taken from here rather than by enumerating it again.
    let other = |it: &mut Interp, s: &[Value]| -> F<Vec<Value>> {
        match (arg(args, 0, at)?, me) {
            (Value::Object(Object::Io(o)), Value::Object(Object::Io(m))) if Arc::ptr_eq(o, m) => {
                Ok(s.to_vec())
            }
            (v, _) => iterate(it, v.clone(), at),
        }
    };
    Ok(match name {
        "Add" => {
            let v = arg(args, 0, at)?.clone();
            if has(s, &v) {
                return Ok(Value::Bool(false));
            }
            it.charge(it.size_of(&v) + SLOT, at)?;
            s.push(v);
            Value::Bool(true)
        }
        "Remove" => {
            let v = arg(args, 0, at)?;
            match s.iter().position(|y| values_equal(y, v)) {
                Some(i) => {
                    s.remove(i);
                    Value::Bool(true)
                }
                None => Value::Bool(false),
            }
        }
        "Clear" => {
            s.clear();
            Value::Null
        }
        "ToArray" => Value::Array(s.clone()),
        "UnionWith" => {
            let o = other(it, s)?;
            for x in o {
                if !has(s, &x) {
                    it.charge(it.size_of(&x) + SLOT, at)?;
                    s.push(x);
                }
            }
            Value::Null
        }
        "IntersectWith" | "ExceptWith" => {
            let o = other(it, s)?;
            let keep = name == "IntersectWith";
            s.retain(|x| has(&o, x) == keep);
            Value::Null
        }
        "IsSubsetOf" | "IsSupersetOf" | "Overlaps" | "SetEquals" => {
            let o = other(it, s)?;
            Value::Bool(match name {
                "IsSubsetOf" => s.iter().all(|x| has(&o, x)),
                "IsSupersetOf" => o.iter().all(|x| has(s, x)),
                "Overlaps" => o.iter().any(|x| has(s, x)),
                _ => s.iter().all(|x| has(&o, x)) && o.iter().all(|x| has(s, x)),
            })
        }
        // Proper: a subset (superset) with fewer (more) distinct elements than the other.
        "IsProperSubsetOf" | "IsProperSupersetOf" => {
            let o = other(it, s)?;
            let o = distinct(it, o, comparer, at)?;
            Value::Bool(if name == "IsProperSubsetOf" {
                s.len() < o.len() && s.iter().all(|x| has(&o, x))
            } else {
                o.len() < s.len() && o.iter().all(|x| has(s, x))
            })
        }
        // The elements in exactly one of the two: the other's distinct elements toggle.
        "SymmetricExceptWith" => {
            let o = other(it, s)?;
            let o = distinct(it, o, comparer, at)?;
            for x in o {
                match s.iter().position(|y| values_equal(y, &x)) {
                    Some(i) => {
                        s.remove(i);
                    }
                    None => {
                        it.charge(it.size_of(&x) + SLOT, at)?;
                        s.push(x);
                    }
                }
            }
            Value::Null
        }
        // Capacity is not observable here: nothing to trim.
        "TrimExcess" if args.is_empty() => Value::Null,
        _ => return Err(no_member(&Value::Array(Vec::new()), name, at)),
    })
}

/// The distinct elements of `items` (a set's view of another collection), first occurrence
/// kept; quadratic, so the clock is read as it goes.
fn distinct(
    it: &mut Interp,
    items: Vec<Value>,
    comparer: Option<StringComparerKind>,
    at: usize,
) -> F<Vec<Value>> {
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    for v in items {
        if out.len() % 64 == 63 {
            it.check_time(at)?;
        }
        if !out.iter().any(|o| keys_equal(comparer, o, &v)) {
            out.push(v);
        }
    }
    Ok(out)
}

/// `set.RemoveWhere(p)`: the predicate runs over a copy of the items with the set unlocked
/// (it may look at the set), then the matching items go; the count removed.
pub(crate) fn hash_set_remove_where(
    it: &mut Interp,
    me: &Value,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    let Value::Object(Object::Io(io)) = me else {
        return None;
    };
    let items = match &*io.state() {
        IoState::HashSet(s, _) => s.clone(),
        _ => return None,
    };
    Some((|| {
        let f = Some(match_arg(args, at)?);
        let mut gone = Vec::new();
        for v in items {
            if predicate(it, &f, &v, at)? {
                gone.push(v);
            }
        }
        let mut state = io.state();
        let IoState::HashSet(s, _) = &mut *state else {
            return Ok(Value::Int(0));
        };
        let before = s.len();
        s.retain(|x| !gone.iter().any(|g| values_equal(g, x)));
        Ok(Value::Int((before - s.len()) as i64))
    })())
}

/// `queue.TryDequeue(out v)`, `TryPeek(out v)`, `stack.TryPop(out v)`, `TryPeek(out v)`,
/// `set.TryGetValue(x, out actual)`: whether there was one, and it (else null: `default(T)`
/// once the out variable's declared type converts it). `None` for another object or name.
pub(crate) fn builder_try(
    t: &Value,
    name: &str,
    inputs: &[Value],
    at: usize,
) -> Option<F<(bool, Value)>> {
    let Value::Object(Object::Io(io)) = t else {
        return None;
    };
    let mut state = io.state();
    let found = match (&mut *state, name, inputs) {
        (IoState::Queue(q), "TryDequeue", []) => q.pop_front(),
        (IoState::Queue(q), "TryPeek", []) => q.front().cloned(),
        (IoState::Stack(s), "TryPop", []) => s.pop(),
        (IoState::Stack(s), "TryPeek", []) => s.last().cloned(),
        (IoState::HashSet(s, c), "TryGetValue", [x]) => {
            s.iter().find(|y| keys_equal(*c, y, x)).cloned()
        }
        (IoState::Queue(_) | IoState::Stack(_) | IoState::HashSet(..), _, _) => {
            let _ = at;
            return None;
        }
        _ => return None,
    };
    Some(Ok(match found {
        Some(v) => (true, v),
        None => (false, Value::Null),
    }))
}

fn stack(it: &mut Interp, s: &mut Vec<Value>, name: &str, args: &Args, at: usize) -> F<Value> {
    Ok(match name {
        "Push" => {
            let v = arg(args, 0, at)?.clone();
            it.charge(it.size_of(&v) + SLOT, at)?;
            s.push(v);
            Value::Null
        }
        "Pop" => s.pop().ok_or_else(|| empty("Stack", at))?,
        "Peek" => s.last().cloned().ok_or_else(|| empty("Stack", at))?,
        "Clear" => {
            s.clear();
            Value::Null
        }
        "ToArray" => Value::Array(s.iter().rev().cloned().collect()),
        _ => {
            let items: Vec<Value> = s.iter().rev().cloned().collect();
            return linq(it, Value::Array(items), name, args.clone(), at);
        }
    })
}

/// `list.Exists(p)`, `list.Find(p)`, `list.ForEach(a)` …: `List<T>`'s own search methods, the
/// same as `Array`'s with the list as first argument. `None` for another name.
pub(crate) fn list_call(
    it: &mut Interp,
    list: &Value,
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    if name == "ForEach" {
        return Some((|| {
            let f = lambda_arg(args, 0, at)?.ok_or_else(|| null_ref(at))?;
            for v in iterate_plain(list.clone(), at)? {
                it.call_lambda(&f, vec![v], at)?;
            }
            Ok(Value::Null)
        })());
    }
    if !matches!(
        name,
        "Exists"
            | "Find"
            | "FindAll"
            | "FindIndex"
            | "FindLast"
            | "FindLastIndex"
            | "TrueForAll"
            | "ConvertAll"
            | "LastIndexOf"
    ) {
        return None;
    }
    let mut all: Args = vec![(None, list.clone())];
    all.extend(args.iter().cloned());
    Some(array_static(it, name, &[], &all, at).map(|v| v.unwrap_or(Value::Null)))
}
