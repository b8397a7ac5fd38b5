//! The `XmlReader` `…Async` methods. A reader made with `XmlReaderSettings.Async = true` does
//! the work of the synchronous method at once and returns a completed task
//! (crates/expr/src/library/tasks.rs); without it, .NET throws `InvalidOperationException`
//! at the call, as here. What .NET checks before its async work starts (arguments, the node
//! type a method needs) is thrown at the call; what the reading itself raises (malformed XML,
//! content that does not convert) faults the task, so `.Result` throws `AggregateException`
//! and `GetAwaiter().GetResult()` the `XmlException`. A reader over LINQ to XML nodes
//! (`CreateReader()`) has only the base class's async members, which are not implemented.

use super::binary::xml_reader_fill;
use super::*;

/// The methods that have an `…Async` form (`GetValue` stands for the `Value` property).
const ASYNC: &[&str] = &[
    "GetValue",
    "Read",
    "MoveToContent",
    "ReadContentAs",
    "ReadContentAsObject",
    "ReadContentAsString",
    "ReadElementContentAs",
    "ReadElementContentAsObject",
    "ReadElementContentAsString",
    "ReadInnerXml",
    "ReadOuterXml",
    "Skip",
    "ReadValueChunk",
    "ReadContentAsBase64",
    "ReadContentAsBinHex",
    "ReadElementContentAsBase64",
    "ReadElementContentAsBinHex",
];

/// The async methods `XmlTextReaderImpl` overrides: without `Async`, refused at the call.
/// The others are the base class's `async` methods, which reach the reader through
/// `ReadAsync`/`GetValueAsync`: their task faults instead (checked against Mono, whose
/// System.Xml is the reference source).
const CHECKED_AT_CALL: &[&str] = &[
    "GetValue",
    "Read",
    "ReadContentAsBase64",
    "ReadElementContentAsBase64",
];

/// The synchronous method an async one stands for, checked against the reader's settings;
/// `None` when `name` is not an async method. A method refused in its task is `Ok` with the
/// faulted task as `Err`.
fn sync_name<'n>(
    s: &XmlReaderState,
    name: &'n str,
    at: usize,
) -> Option<F<Result<&'n str, Value>>> {
    let sync = name.strip_suffix("Async").filter(|n| ASYNC.contains(n))?;
    if s.settings.asynchronous && !s.node_reader {
        return Some(Ok(Ok(sync)));
    }
    // A reader over nodes (`XNodeReader`) has only the base class's async members, which
    // throw NotImplementedException (the reference source's `NotImplemented.ByDesign`).
    let refused = if s.node_reader {
        rt(
            "NotImplementedException",
            "The method or operation is not implemented.",
            at,
        )
    } else {
        rt(
            "InvalidOperationException",
            "Set XmlReaderSettings.Async to true if you want to use Async Methods.",
            at,
        )
    };
    // `MoveToContentAsync` reads (and so fails) only when not on content already.
    if sync == "MoveToContent" && current(s).is_some_and(|n| is_content(n.kind)) && s.attr.is_none()
    {
        return Some(Ok(Ok(sync)));
    }
    Some(if CHECKED_AT_CALL.contains(&sync) {
        Err(refused)
    } else {
        task_from(Err(refused), sync != "Skip").map(Err)
    })
}

/// The task of the work: errors of the reading fault it, the others are thrown.
fn task_of_work(work: F<Value>, generic: bool) -> F<Value> {
    match work {
        Err(Flow::Err(e))
            if !matches!(
                e.kind,
                "XmlException" | "FormatException" | "OverflowException"
            ) =>
        {
            Err(Flow::Err(e))
        }
        w => task_from(w, generic),
    }
}

/// An async method that does not fill an array; `None` for another name.
pub(super) fn async_call(
    it: &mut Interp,
    s: &mut XmlReaderState,
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    let sync = match sync_name(s, name, at)? {
        Ok(Ok(n)) => n,
        Ok(Err(faulted)) => return Some(Ok(faulted)),
        Err(e) => return Some(Err(e)),
    };
    if let Some(r) = async_fill(it, s, name, args, at) {
        return Some(r.map(|(v, _)| v));
    }
    let work = match sync {
        "GetValue" => Ok(xml_reader_member(s, "Value").unwrap_or(Value::Null)),
        _ => xml_reader_call(it, s, sync, args, at),
    };
    Some(task_of_work(work, sync != "Skip"))
}

/// `ReadValueChunkAsync`, `ReadContentAsBase64Async` …: the task of the count read, and the
/// filled array; `None` for another name.
pub(crate) fn async_fill(
    it: &mut Interp,
    s: &mut XmlReaderState,
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<(Value, Option<Value>)>> {
    let sync = name.strip_suffix("Async")?;
    if !CHUNK_READERS.contains(&sync) {
        return None;
    }
    match sync_name(s, name, at)? {
        Ok(Ok(_)) => {}
        Ok(Err(faulted)) => return Some(Ok((faulted, None))),
        Err(e) => return Some(Err(e)),
    }
    let filled = xml_reader_fill(it, s, sync, args, at)?;
    Some(match filled {
        Ok((v, buffer)) => task_of_work(Ok(v), true).map(|t| (t, buffer)),
        Err(e) => task_of_work(Err(e), true).map(|t| (t, None)),
    })
}
