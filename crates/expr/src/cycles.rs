//! Reference cycles among mutable collections, broken when the evaluation that could have made
//! them ends.
//!
//! Why: values are reference counted (`Arc`), and .NET's are traced. A `Queue<object>` that
//! holds itself — directly, or through an array, a tuple, a lambda's captures, an enumerator
//! over it, a `Task`'s result or an exception's `Data` — is never freed by counting, so a
//! policy that builds one would leak memory on every request. A cycle needs an edge made by
//! putting a value into a collection (crates/expr/src/io.rs: `Queue`, `Stack`, `HashSet`,
//! `Exception.Data`), so the collections an evaluation touched are the only places a new cycle
//! can pass through: when it ends, those that reach themselves are emptied. (The other
//! shared, mutable places that hold values — JSON and XML annotations, event handlers — end
//! with their evaluation: crates/expr/src/jtree.rs, xml.rs, interp/events.rs.)
//!
//! The walk is Tarjan's strongly connected components over the collections reachable from the
//! touched ones, iterative (a deep value cannot overflow the stack), each value seen once.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Weak};

use crate::io::{IoObject, IoState};
use crate::library::MiscState;
use crate::value::{Object, Value};

#[derive(Default)]
struct Touched {
    /// An evaluation runs on this thread (outside one nothing is recorded).
    active: bool,
    seen: HashSet<usize>,
    objects: Vec<Weak<IoObject>>,
}

thread_local! {
    static TOUCHED: RefCell<Touched> = RefCell::new(Touched::default());
}

/// Whether a state holds values that may lead back to its object.
fn holds_values(s: &IoState) -> bool {
    matches!(
        s,
        IoState::Queue(_)
            | IoState::Stack(_)
            | IoState::HashSet(..)
            | IoState::Misc(MiscState::Data(_))
    )
}

/// Records that the running evaluation reached a collection's contents (and so may have put a
/// value into it). Called by [`IoObject::state`].
pub(crate) fn touch(io: &Arc<IoObject>, state: &IoState) {
    if !holds_values(state) {
        return;
    }
    TOUCHED.with(|t| {
        let mut t = t.borrow_mut();
        if t.active && t.seen.insert(Arc::as_ptr(io) as usize) {
            t.objects.push(Arc::downgrade(io));
        }
    });
}

/// One evaluation's record (crates/expr/src/lib.rs's `eval_with`); dropping it breaks the
/// cycles through what the evaluation touched and brings back the enclosing one's record.
pub(crate) struct CycleScope(Touched);

impl CycleScope {
    pub(crate) fn begin() -> CycleScope {
        let fresh = Touched {
            active: true,
            ..Touched::default()
        };
        CycleScope(TOUCHED.with(|t| t.replace(fresh)))
    }
}

impl Drop for CycleScope {
    fn drop(&mut self) {
        let mine = TOUCHED.with(|t| t.replace(std::mem::take(&mut self.0)));
        let roots: Vec<Arc<IoObject>> = mine.objects.iter().filter_map(Weak::upgrade).collect();
        if !roots.is_empty() {
            break_cycles(&roots, &mine.seen);
        }
    }
}

/// The collections `io`'s contents refer to without passing through another collection.
fn edges(io: &IoObject) -> Vec<Arc<IoObject>> {
    let state = io.unwatched_state();
    let mut stack: Vec<&Value> = Vec::new();
    match &*state {
        IoState::Queue(q) => stack.extend(q.iter()),
        IoState::Stack(s) | IoState::HashSet(s, _) => stack.extend(s.iter()),
        IoState::Misc(MiscState::Data(d)) => stack.extend(d.iter().flat_map(|(k, v)| [k, v])),
        IoState::Enumerator(e) => {
            stack.extend(e.items.iter());
            stack.push(&e.default);
        }
        IoState::Task(t) => stack.extend(t.outcome.as_ref().ok()),
        _ => {}
    }
    let mut out = Vec::new();
    if let IoState::Enumerator(e) = &*state {
        out.extend(e.source.iter().cloned());
    }
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(a) => stack.extend(a.iter()),
            Value::Lambda(l) => stack.extend(l.captured.iter().map(|(_, v)| v)),
            Value::Object(o) => match o {
                Object::Io(x) => out.push(x.clone()),
                Object::Tuple(t) => stack.extend(t.items.iter()),
                Object::Record(r) | Object::Dictionary(r) => stack.extend(r.values()),
                Object::Map(m) => stack.extend(m.iter().flat_map(|(k, v)| [k, v])),
                Object::Exception(e) => {
                    let mut cur = Some(&**e);
                    while let Some(x) = cur {
                        stack.extend(x.data.made());
                        cur = x.inner.as_deref();
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
    out
}

/// Tarjan's algorithm from every root; each collection on a cycle that the evaluation touched
/// is emptied (a component none of whose members was touched cannot be new: all of it is).
fn break_cycles(roots: &[Arc<IoObject>], touched: &HashSet<usize>) {
    struct Node {
        io: Arc<IoObject>,
        next: Vec<Arc<IoObject>>,
        index: usize,
        low: usize,
        on_stack: bool,
    }
    let key = |io: &Arc<IoObject>| Arc::as_ptr(io) as usize;
    let mut nodes: HashMap<usize, Node> = HashMap::new();
    let mut order = 0usize;
    let mut scc_stack: Vec<usize> = Vec::new();
    let mut to_clear: Vec<Arc<IoObject>> = Vec::new();
    fn visit(
        io: &Arc<IoObject>,
        nodes: &mut HashMap<usize, Node>,
        order: &mut usize,
        scc_stack: &mut Vec<usize>,
    ) -> usize {
        let k = Arc::as_ptr(io) as usize;
        nodes.insert(
            k,
            Node {
                io: io.clone(),
                next: edges(io),
                index: *order,
                low: *order,
                on_stack: true,
            },
        );
        *order += 1;
        scc_stack.push(k);
        k
    }
    for root in roots {
        if nodes.contains_key(&key(root)) {
            continue;
        }
        // (node, index of the next edge to follow)
        let mut work: Vec<(usize, usize)> = Vec::new();
        let k = visit(root, &mut nodes, &mut order, &mut scc_stack);
        work.push((k, 0));
        while let Some(&mut (k, ref mut i)) = work.last_mut() {
            let next = nodes.get(&k).and_then(|n| n.next.get(*i).cloned());
            if let Some(child) = next {
                *i += 1;
                let c = key(&child);
                match nodes.get(&c) {
                    None => {
                        let c = visit(&child, &mut nodes, &mut order, &mut scc_stack);
                        work.push((c, 0));
                    }
                    Some(n) if n.on_stack => {
                        let idx = n.index;
                        if let Some(me) = nodes.get_mut(&k) {
                            me.low = me.low.min(idx);
                        }
                    }
                    Some(_) => {}
                }
                continue;
            }
            work.pop();
            let (low, index) = nodes.get(&k).map_or((0, 0), |n| (n.low, n.index));
            if let Some(&(parent, _)) = work.last()
                && let Some(p) = nodes.get_mut(&parent)
            {
                p.low = p.low.min(low);
            }
            if low != index {
                continue;
            }
            // `k` roots a component: pop it.
            let mut members = Vec::new();
            while let Some(m) = scc_stack.pop() {
                if let Some(n) = nodes.get_mut(&m) {
                    n.on_stack = false;
                }
                members.push(m);
                if m == k {
                    break;
                }
            }
            let cyclic = members.len() > 1
                || nodes
                    .get(&k)
                    .is_some_and(|n| n.next.iter().any(|c| key(c) == k));
            if !cyclic {
                continue;
            }
            let any_touched = members.iter().any(|m| touched.contains(m));
            for m in members {
                if let Some(n) = nodes.get(&m)
                    && (!any_touched || touched.contains(&m))
                {
                    to_clear.push(n.io.clone());
                }
            }
        }
    }
    // The walk's own references go first; the contents are dropped with no lock held, as
    // dropping them may free other collections.
    drop(nodes);
    for io in to_clear {
        let contents = io.unwatched_state().take_values();
        drop(contents);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ExprKind, MapContext, eval, parse};

    /// Runs a block and gives back its result, the evaluation ended.
    fn run(src: &str, ctx: &mut MapContext) -> Value {
        let p = parse(src, ExprKind::Block).expect("parses");
        eval(&p, ctx).expect("runs")
    }

    fn io(v: &Value) -> Arc<IoObject> {
        match v {
            Value::Object(Object::Io(o)) => o.clone(),
            other => panic!("not a collection: {other:?}"),
        }
    }

    /// The collection a block returns is freed once the result is dropped.
    fn freed(src: &str) -> bool {
        let v = run(src, &mut MapContext::new());
        let weak = Arc::downgrade(&io(&v));
        drop(v);
        weak.upgrade().is_none()
    }

    #[test]
    fn a_collection_holding_itself_is_freed() {
        for src in [
            "var q = new Queue<object>(); q.Enqueue(q); return q;",
            "var s = new Stack<object>(); s.Push(new object[] { 1, s }); return s;",
            "var h = new HashSet<object>(); h.Add((1, h)); return h;",
            "var q = new Queue<object>(); q.Enqueue(1); var e = q.GetEnumerator(); q.Enqueue(e); return q;",
            "var a = new Queue<object>(); var b = new Stack<object>(); a.Enqueue(new object[] { b }); b.Push(Tuple.Create(a)); return a;",
            "var e = new Exception(\"x\"); var q = new Queue<object>(); e.Data[\"q\"] = q; q.Enqueue(e); return q;",
            "var q = new Queue<object>(); q.Enqueue(new Dictionary<string, object> { [\"k\"] = q }); return q;",
        ] {
            assert!(freed(src), "leaked: {src}");
        }
    }

    #[test]
    fn collections_without_a_cycle_keep_their_contents() {
        let v = run(
            "var q = new Queue<object>(); var r = new Queue<object>(); q.Enqueue(r); r.Enqueue(1); q.Enqueue(r); return q;",
            &mut MapContext::new(),
        );
        let q = io(&v);
        let IoState::Queue(items) = &*q.unwatched_state() else {
            panic!("a queue")
        };
        assert_eq!(items.len(), 2);
        let r = io(&items[0]);
        assert!(matches!(&*r.unwatched_state(), IoState::Queue(x) if x.len() == 1));
    }

    #[test]
    fn a_cycle_closed_in_a_later_evaluation_is_broken_then() {
        let mut ctx = MapContext::new();
        let q = run("return new Queue<object>();", &mut ctx);
        let weak = Arc::downgrade(&io(&q));
        ctx.variable("q", q);
        let n = run(
            "var q = (Queue<object>)context.Variables[\"q\"]; q.Enqueue(q); return q.Count;",
            &mut ctx,
        );
        assert_eq!(n, Value::Int(1));
        // Still in the context, but emptied: the cycle is gone.
        let q = weak.upgrade().expect("held by the context");
        assert!(matches!(&*q.unwatched_state(), IoState::Queue(x) if x.is_empty()));
        drop(q);
        drop(ctx);
        assert!(weak.upgrade().is_none(), "the queue outlived its context");
    }
}
