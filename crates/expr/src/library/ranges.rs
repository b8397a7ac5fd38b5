//! The `(index, count)` pair of a method working on part of an array, list or buffer
//! (`Sort(index, count, comparer)`, `RemoveRange`, `GetRange`, `BinarySearch(array, index,
//! length, value)`, `ComputeHash(buffer, offset, count)` …), checked as .NET checks it.

use super::*;

/// `start..start + count` of a sequence of `len` items, or .NET's exception: a negative
/// start or count names its parameter (`names`: the start's, the count's), a range past the
/// end is an `ArgumentException`.
pub(crate) fn sub_range(
    len: usize,
    start: i64,
    count: i64,
    names: (&str, &str),
    at: usize,
) -> F<std::ops::Range<usize>> {
    if start < 0 || count < 0 {
        let name = if start < 0 { names.0 } else { names.1 };
        return Err(arg_range(
            &format!("Non-negative number required. (Parameter '{name}')"),
            at,
        ));
    }
    if (len as i64).saturating_sub(start) < count {
        return Err(rt(
            "ArgumentException",
            "Offset and length were out of bounds for the array or count is greater than the number of elements from index to the end of the source collection.",
            at,
        ));
    }
    Ok(start as usize..(start + count) as usize)
}
