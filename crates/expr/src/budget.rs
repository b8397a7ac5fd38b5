//! How an evaluation accounts for what it spends against its [`Limits`](crate::Limits).
//!
//! A step budget alone does not bound a policy: one step can be a `ToUpper` over a megabyte,
//! and a string that doubles itself reaches gigabytes in thirty steps. So each evaluation also
//! gets a deadline, read cheaply (every [`CLOCK_EVERY`] steps and before any library call whose
//! cost grows with its input), and a memory budget that every operation able to grow a value
//! checks *before* it allocates. Memory is estimated, not measured: the bytes of the values the
//! evaluation holds (its locals and the temporaries of the expressions being evaluated) plus
//! what the next operation would build. Strings count their bytes, collections their elements
//! and each element's slot.

use super::value::{Object, Value};
use super::xml::{XData, XObject};

/// The clock is read once per this many steps (a read costs tens of nanoseconds; a step a few).
pub(crate) const CLOCK_EVERY: u64 = 256;

/// A value at least this large makes the library call that takes it read the clock first: such
/// calls cost time in proportion to their input.
pub(crate) const HEAVY_BYTES: usize = 4096;

/// What one element of a collection costs besides its content: the `Value` slot.
pub(crate) const SLOT: usize = std::mem::size_of::<Value>();

/// What one JSON node costs besides its content (the node, and a map entry's key and links).
pub(crate) const JSON_NODE: usize = 48;

/// The estimated bytes `v` holds, or any number above `cap` once it is known to exceed it, so
/// sizing a huge value costs no more than sizing `cap` bytes of it.
pub(crate) fn size_upto(v: &Value, cap: usize) -> usize {
    let mut total = 0usize;
    add_value(v, cap, &mut total);
    total
}

/// Cheap lower bound of a value's size (no walking): what decides whether a call is heavy.
pub(crate) fn shallow(v: &Value) -> usize {
    match v {
        Value::String(s) => s.len(),
        Value::Bytes(b) => b.len(),
        Value::Array(a) => a.len() * SLOT,
        Value::Json(j) => j
            .with_scalar(|s| s.as_str().map_or(0, str::len))
            .unwrap_or_else(|| j.len() * JSON_NODE),
        Value::Object(Object::Body(b)) => b.len(),
        _ => 0,
    }
}

fn add_value(v: &Value, cap: usize, total: &mut usize) {
    if *total > cap {
        return;
    }
    match v {
        Value::String(s) => *total += s.len(),
        Value::Bytes(b) => *total += b.len(),
        Value::Array(a) => {
            *total += a.len() * SLOT;
            for x in a {
                add_value(x, cap, total);
                if *total > cap {
                    return;
                }
            }
        }
        Value::Json(j) => add_json(j, cap, total),
        Value::Object(o) => match o {
            Object::Record(r) | Object::Dictionary(r) => {
                for (k, x) in r.iter() {
                    *total += k.len() + SLOT;
                    add_value(x, cap, total);
                    if *total > cap {
                        return;
                    }
                }
            }
            Object::Body(b) => *total += b.len(),
            Object::Hasher(_, k) => *total += k.size(),
            Object::Crypto(c) => *total += c.size(),
            Object::Net(n) => *total += n.size(),
            Object::Regex(r) => *total += r.pattern.len() + SLOT,
            Object::Random(_) => *total += crate::library::RANDOM_BYTES,
            // The zone rules are the bundled database's, shared; the id is the zone's own.
            Object::TimeZone(z) => *total += z.id.len() + SLOT,
            Object::Match(m) => {
                // The input NextMatch reads is shared with the string it came from.
                *total += m.value.len() + SLOT;
                for (n, g) in &m.groups {
                    *total += SLOT
                        + n.as_ref().map_or(0, String::len)
                        + g.as_ref().map_or(0, String::len);
                }
                for c in m.captures.iter().flatten() {
                    *total += SLOT + c.1.len();
                }
            }
            Object::XDocument(e)
            | Object::XElement(e)
            | Object::XAttribute(e)
            | Object::XNode(e) => add_xml(e, cap, total),
            Object::XName(n) => *total += n.local.len() + n.namespace.len(),
            Object::Exception(e) => {
                // The message (and the chain of inner exceptions) is text the policy built.
                let mut cur = Some(&**e);
                while let Some(x) = cur {
                    *total += x.message.len() + x.param.as_ref().map_or(0, String::len) + SLOT;
                    cur = x.inner.as_deref();
                }
            }
            Object::Tuple(t) => {
                *total += t.items.len() * SLOT;
                for x in &t.items {
                    add_value(x, cap, total);
                    if *total > cap {
                        return;
                    }
                }
            }
            Object::Map(m) => {
                for (k, x) in m.iter() {
                    *total += 2 * SLOT;
                    add_value(k, cap, total);
                    add_value(x, cap, total);
                    if *total > cap {
                        return;
                    }
                }
            }
            Object::Io(o) => *total += o.size(),
            Object::XNamespace(ns) => *total += ns.len(),
            Object::Context(_)
            | Object::Encoding(_)
            | Object::Comparer(_)
            | Object::JsonAux(_)
            | Object::XComparer(_) => {}
        },
        Value::Lambda(l) => *total += l.captured.len() * SLOT,
        _ => {}
    }
}

/// A token as serde_json's value was counted: a node for each value (its text for a string),
/// a property its name (crates/expr/src/jtree.rs walks the tree).
fn add_json(j: &crate::jtree::JToken, cap: usize, total: &mut usize) {
    *total = total.saturating_add(j.size_upto(JSON_NODE, cap.saturating_sub(*total)));
}

/// A node and its subtree (the whole subtree, whatever reference the value holds: a node
/// keeps its document alive only through the references to it, so this counts what the
/// reference itself holds).
fn add_xml(e: &XObject, cap: usize, total: &mut usize) {
    let children = {
        // Annotations count their slot and the outside of what they hold (they may hold the
        // node itself: no walking into them).
        *total += e
            .annotations()
            .iter()
            .map(|a| SLOT + shallow(a))
            .sum::<usize>();
        let d = e.data();
        *total += SLOT;
        match &*d {
            XData::Document { nodes, .. } => nodes.clone(),
            XData::Element {
                name,
                attributes,
                nodes,
            } => {
                *total += JSON_NODE + name.local.len() + name.namespace.len();
                attributes.iter().chain(nodes.iter()).cloned().collect()
            }
            XData::Attribute { name, value } => {
                *total += name.local.len() + name.namespace.len() + value.len();
                Vec::new()
            }
            XData::Text(t) | XData::CData(t) | XData::Comment(t) => {
                *total += t.len();
                Vec::new()
            }
            XData::Pi(a, b) => {
                *total += a.len() + b.len();
                Vec::new()
            }
            XData::DocumentType {
                name,
                public_id,
                system_id,
                internal_subset,
            } => {
                *total += name.len()
                    + [public_id, system_id, internal_subset]
                        .iter()
                        .map(|x| x.as_ref().map_or(0, String::len))
                        .sum::<usize>();
                Vec::new()
            }
        }
    };
    for n in &children {
        if *total > cap {
            return;
        }
        add_xml(n, cap, total);
    }
}

/// What parsing `text` as JSON may build, estimated before parsing it: the text's bytes (the
/// strings it holds) and a node per value separator or container.
pub(crate) fn json_parse_cost(text: &str) -> usize {
    let nodes = text
        .bytes()
        .filter(|b| matches!(b, b',' | b':' | b'[' | b'{'))
        .count()
        + 1;
    text.len().saturating_add(nodes.saturating_mul(JSON_NODE))
}

/// What parsing `text` as XML may build (roxmltree's nodes and ours), estimated before parsing.
pub(crate) fn xml_parse_cost(text: &str) -> usize {
    let nodes = text.bytes().filter(|b| matches!(b, b'<' | b'=')).count() + 1;
    text.len()
        .saturating_mul(2)
        .saturating_add(nodes.saturating_mul(4 * JSON_NODE))
}

/// Serialises JSON into at most `cap` bytes; `None` when the text would be longer (stopping
/// at the cap rather than building the text: crates/expr/src/library/json_write.rs).
pub(crate) fn json_text(j: &serde_json::Value, pretty: bool, cap: usize) -> Option<String> {
    // (The caller copies a token's tree out first: crates/expr/src/jtree.rs.)
    crate::library::json_write::text(j, pretty, cap)
}
