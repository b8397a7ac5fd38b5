//! Newtonsoft's LINQ to JSON tree: tokens with identity and a parent link, as `JObject`,
//! `JArray`, `JProperty` and `JValue` are in .NET (reference types in one tree).
//!
//! A policy relies on that: `var items = (JArray)body["items"]; items.Add(x);` changes `body`,
//! `token.Parent.Remove()` removes a property found by `SelectToken`. So a [`JToken`] is a
//! handle to a shared [`Node`]; nodes own their children (strong links down) and know their
//! parent through a weak link up, so no two nodes own each other and dropping a tree frees it.
//! In .NET a token keeps its whole tree alive (its parent is a strong reference); a handle here
//! does the same by holding, besides its node, the root of the tree it was taken from (its
//! anchor), so `JObject.Parse(s)["a"].Parent` still finds the object after the temporary is
//! gone. Nothing owns a handle, so handles make no cycles either.
//!
//! Rules kept from Newtonsoft (checked against its source, `JContainer.EnsureParentToken`, and
//! under Mono's Newtonsoft.Json with crates/expr/tests/oracle):
//! - a token that already has a parent, or that is the container itself or the container's
//!   root, is deep-cloned when added: the structure is always a tree, never a cycle;
//! - a `JObject` holds `JProperty` children only, each with a name (fixed when it is created)
//!   and exactly one value; a `JArray` cannot hold a `JProperty`;
//! - removing a token clears its parent; a removed token is a root of its own.
//!
//! Trees are kept no deeper than [`MAX_DEPTH`] tokens (parsing already stops far below that):
//! dropping, cloning and printing recurse once per level and must not exhaust the stack.
//! Scalars are serde_json's (`Null`, `Bool`, `Number`, `String`), which is what parsing and
//! printing (Newtonsoft's formatting, crates/expr/src/budget.rs's capped writer) work on.
//! Locks are taken one at a time (a node's children are cloned out before any child is
//! locked), so no two threads sharing a cached copy can deadlock.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use serde_json::Value as J;

/// The deepest a tree may be, in tokens from its root (a property and its value are two). A
/// parsed document is at most serde_json's 128 containers deep, so 256 tokens; building goes
/// a little further before [`TreeError::TooDeep`].
pub const MAX_DEPTH: usize = 512;

/// What a node holds.
pub(crate) enum Data {
    /// A `JObject`'s properties, in order.
    Object(Vec<Arc<Node>>),
    /// A `JArray`'s items.
    Array(Vec<Arc<Node>>),
    /// A `JProperty`'s value (its name is [`Node::name`]).
    Property(Arc<Node>),
    /// A `JValue`'s scalar.
    Value(J),
}

/// Which Newtonsoft class or JValue type a node of [`Data::Array`] or [`Data::Value`] stands
/// for beyond the plain ones (crates/expr/src/library/json_special.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// A `JObject`, `JArray`, `JProperty` or a `JValue` typed by its scalar.
    Plain,
    /// A `JConstructor` (`new Date(1)`): held as an array, its name in [`Node::label`].
    Constructor,
    /// A `JRaw`: its text verbatim (a string scalar, or null).
    Raw,
    /// `JValue.CreateComment(text)`: `/*text*/` (a string scalar, or null).
    Comment,
    /// `JValue.CreateUndefined()`: `undefined` (a null scalar).
    Undefined,
}

/// Keys of the one-key (two for a constructor) objects that stand for the non-plain flavours
/// where a tree is copied out as serde_json's value ([`JToken::to_serde`]), and that
/// [`JToken::from_serde`] turns back into the same tokens. They carry a nonce chosen when the
/// process starts: text a client sends can hold any key, and must never be read as a raw
/// token (written verbatim: JSON injection) or a constructor.
pub(crate) struct Marks {
    pub(crate) new: String,
    pub(crate) args: String,
    pub(crate) raw: String,
    pub(crate) comment: String,
    pub(crate) undefined: String,
}

pub(crate) fn marks() -> &'static Marks {
    static MARKS: std::sync::LazyLock<Marks> = std::sync::LazyLock::new(|| {
        use std::hash::{BuildHasher, Hasher};
        // RandomState's keys come from the OS's random source.
        let random = || {
            std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish()
        };
        let nonce = format!("\u{0}{:016x}{:016x}", random(), random());
        Marks {
            new: format!("{nonce}new"),
            args: format!("{nonce}args"),
            raw: format!("{nonce}raw"),
            comment: format!("{nonce}comment"),
            undefined: format!("{nonce}undefined"),
        }
    });
    &MARKS
}

/// The flavour a serde_json object stands for, when it is one of the markers above.
pub(crate) fn marker(m: &serde_json::Map<String, J>) -> Option<Flavor> {
    let k = marks();
    let scalar = |key: &str| m.get(key).is_some_and(|v| !v.is_object() && !v.is_array());
    match m.len() {
        2 if m.get(&k.new).is_some_and(J::is_string) && m.get(&k.args).is_some_and(J::is_array) => {
            Some(Flavor::Constructor)
        }
        1 if scalar(&k.raw) => Some(Flavor::Raw),
        1 if scalar(&k.comment) => Some(Flavor::Comment),
        1 if m.contains_key(&k.undefined) => Some(Flavor::Undefined),
        _ => None,
    }
}

/// One token of a tree.
pub struct Node {
    /// A `JProperty`'s name: fixed for its life, as Newtonsoft's `Name` has no setter.
    name: Option<Arc<str>>,
    /// A `JConstructor`'s name, which may change (`Name = …`, `Merge`).
    label: Mutex<Option<Arc<str>>>,
    flavor: Flavor,
    /// `AddAnnotation`'s objects, by identity; not copied by `DeepClone`, not serialised.
    annotations: Mutex<Vec<Annotation>>,
    /// Handlers of the container's events (`CollectionChanged` …); not copied either.
    events: crate::interp::events::EventHandlers,
    /// Set while the container's collection-change handlers run: Newtonsoft refuses changes
    /// to it then (`JContainer.CheckReentrancy`).
    busy: std::sync::atomic::AtomicBool,
    parent: Mutex<Weak<Node>>,
    data: Mutex<Data>,
    /// Levels of tokens from this node down (1 for a leaf), or more: raised as tokens are
    /// added below, never lowered when they are removed, so checking the depth bound costs a
    /// walk up the tree rather than a walk of what is added. (A copy is exact again.)
    height: AtomicUsize,
}

/// An annotation. A token of the annotated token's own tree is held weakly: the tree holding
/// itself through an annotation would be a cycle of strong links, which nothing would free
/// (.NET's collector frees such cycles; reference counts do not), and the tree is alive as long
/// as the annotated token is. Other cycles (two trees annotated with each other) are broken
/// when the evaluation ends ([`AnnotationScope`]).
enum Annotation {
    Value(crate::value::Value),
    Token(Weak<Node>, Weak<Node>),
}

thread_local! {
    /// The tokens annotated during the running evaluation (`None` outside one).
    static ANNOTATED: std::cell::RefCell<Option<Vec<Weak<Node>>>> =
        const { std::cell::RefCell::new(None) };
}

/// Annotations live as long as the evaluation that added them, as LINQ to XML's do
/// (crates/expr/src/xml.rs): an annotation can hold a value that holds the annotated token
/// (two trees annotated with each other, a list holding the token), a cycle of strong links
/// that reference counting would never free, so a policy could leak memory at every request.
/// When the evaluation ends, the annotations it added are dropped (a token kept in a variable
/// for a later policy keeps its content, not its annotations).
pub(crate) struct AnnotationScope {
    outer: Option<Vec<Weak<Node>>>,
}

impl AnnotationScope {
    pub(crate) fn begin() -> AnnotationScope {
        AnnotationScope {
            outer: ANNOTATED.with(|a| a.replace(Some(Vec::new()))),
        }
    }
}

impl Drop for AnnotationScope {
    fn drop(&mut self) {
        let annotated = ANNOTATED.with(|a| a.replace(self.outer.take()));
        for node in annotated
            .unwrap_or_default()
            .iter()
            .filter_map(Weak::upgrade)
        {
            let dropped = std::mem::take(&mut *lock(&node.annotations));
            // Dropped with no lock held: freeing a value may reach this node again.
            drop(dropped);
        }
    }
}

/// Which class a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Object,
    Array,
    Property,
    Value,
}

/// Why a change to a tree was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeError {
    /// The tree would grow deeper than [`MAX_DEPTH`].
    TooDeep,
    /// What Newtonsoft throws: the exception's type and message.
    Refused(&'static str, String),
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn refused(kind: &'static str, msg: impl Into<String>) -> TreeError {
    TreeError::Refused(kind, msg.into())
}

fn node(name: Option<Arc<str>>, data: Data) -> Arc<Node> {
    flavored(name, data, Flavor::Plain)
}

fn flavored(name: Option<Arc<str>>, data: Data, flavor: Flavor) -> Arc<Node> {
    let height = 1 + match &data {
        Data::Object(c) | Data::Array(c) => c.iter().map(|n| height(n)).max().unwrap_or(0),
        Data::Property(v) => height(v),
        Data::Value(_) => 0,
    };
    Arc::new(Node {
        name,
        label: Mutex::new(None),
        flavor,
        annotations: Mutex::new(Vec::new()),
        events: Default::default(),
        busy: std::sync::atomic::AtomicBool::new(false),
        parent: Mutex::new(Weak::new()),
        data: Mutex::new(data),
        height: AtomicUsize::new(height),
    })
}

fn height(n: &Node) -> usize {
    n.height.load(Ordering::Relaxed)
}

/// Raises the recorded heights above `n`, which now holds `child`.
fn raise(n: &Arc<Node>, child: &Node) {
    let mut need = height(child) + 1;
    let mut cur = n.clone();
    loop {
        if cur.height.fetch_max(need, Ordering::Relaxed) >= need {
            return;
        }
        need += 1;
        match parent_of(&cur) {
            Some(p) => cur = p,
            None => return,
        }
    }
}

fn parent_of(n: &Arc<Node>) -> Option<Arc<Node>> {
    lock(&n.parent).upgrade()
}

fn set_parent(child: &Arc<Node>, parent: Option<&Arc<Node>>) {
    *lock(&child.parent) = parent.map(Arc::downgrade).unwrap_or_default();
}

/// The root above `n` (`n` itself when it has no parent).
fn top(n: &Arc<Node>) -> Arc<Node> {
    let mut cur = n.clone();
    while let Some(p) = parent_of(&cur) {
        cur = p;
    }
    cur
}

/// Tokens from `n` up to its root.
fn depth_of(n: &Arc<Node>) -> usize {
    let mut d = 1;
    let mut cur = n.clone();
    while let Some(p) = parent_of(&cur) {
        d += 1;
        cur = p;
    }
    d
}

fn child_nodes(n: &Arc<Node>) -> Vec<Arc<Node>> {
    match &*lock(&n.data) {
        Data::Object(c) | Data::Array(c) => c.clone(),
        Data::Property(v) => vec![v.clone()],
        Data::Value(_) => Vec::new(),
    }
}

fn kind_of(n: &Node) -> Kind {
    match &*lock(&n.data) {
        Data::Object(_) => Kind::Object,
        Data::Array(_) => Kind::Array,
        Data::Property(_) => Kind::Property,
        Data::Value(_) => Kind::Value,
    }
}

fn build(j: &J) -> Arc<Node> {
    match j {
        J::Object(m) if let Some(flavor) = marker(m) => build_marked(m, flavor),
        J::Object(m) => {
            let obj = node(None, Data::Object(Vec::new()));
            let props: Vec<Arc<Node>> = m
                .iter()
                .map(|(k, v)| {
                    let value = build(v);
                    let p = node(Some(k.as_str().into()), Data::Property(value.clone()));
                    // (`node` measured the property from its value.)
                    set_parent(&value, Some(&p));
                    set_parent(&p, Some(&obj));
                    p
                })
                .collect();
            obj.height.store(
                1 + props.iter().map(|p| height(p)).max().unwrap_or(0),
                Ordering::Relaxed,
            );
            *lock(&obj.data) = Data::Object(props);
            obj
        }
        J::Array(a) => {
            let arr = node(None, Data::Array(Vec::new()));
            let items: Vec<Arc<Node>> = a
                .iter()
                .map(|v| {
                    let c = build(v);
                    set_parent(&c, Some(&arr));
                    c
                })
                .collect();
            arr.height.store(
                1 + items.iter().map(|c| height(c)).max().unwrap_or(0),
                Ordering::Relaxed,
            );
            *lock(&arr.data) = Data::Array(items);
            arr
        }
        scalar => node(None, Data::Value(scalar.clone())),
    }
}

/// A node for a marker object ([`marker`]).
fn build_marked(m: &serde_json::Map<String, J>, flavor: Flavor) -> Arc<Node> {
    let scalar = |k: &str| m.get(k).cloned().unwrap_or(J::Null);
    match flavor {
        Flavor::Constructor => {
            let name = m.get(&marks().new).and_then(J::as_str).unwrap_or("");
            let c = flavored(None, Data::Array(Vec::new()), flavor);
            *lock(&c.label) = Some(name.into());
            let items: Vec<Arc<Node>> = m
                .get(&marks().args)
                .and_then(J::as_array)
                .map(|a| a.iter().map(build).collect())
                .unwrap_or_default();
            for i in &items {
                set_parent(i, Some(&c));
            }
            c.height.store(
                1 + items.iter().map(|i| height(i)).max().unwrap_or(0),
                Ordering::Relaxed,
            );
            *lock(&c.data) = Data::Array(items);
            c
        }
        Flavor::Raw => flavored(None, Data::Value(scalar(&marks().raw)), flavor),
        Flavor::Comment => flavored(None, Data::Value(scalar(&marks().comment)), flavor),
        Flavor::Undefined | Flavor::Plain => flavored(None, Data::Value(J::Null), flavor),
    }
}

/// The marker object for a non-plain scalar.
fn marked_scalar(flavor: Flavor, j: &J) -> J {
    let key = match flavor {
        Flavor::Raw => &marks().raw,
        Flavor::Comment => &marks().comment,
        Flavor::Undefined => &marks().undefined,
        Flavor::Plain | Flavor::Constructor => return j.clone(),
    };
    let mut m = serde_json::Map::new();
    m.insert(key.to_string(), j.clone());
    J::Object(m)
}

fn snapshot(n: &Node) -> J {
    let children = match &*lock(&n.data) {
        Data::Value(j) => return marked_scalar(n.flavor, j),
        Data::Property(v) => {
            let mut m = serde_json::Map::new();
            m.insert(n.name.as_deref().unwrap_or("").to_string(), snapshot(v));
            return J::Object(m);
        }
        Data::Object(c) => Ok(c.clone()),
        Data::Array(c) => Err(c.clone()),
    };
    match children {
        Ok(props) => {
            let mut m = serde_json::Map::new();
            for p in props {
                let v = match &*lock(&p.data) {
                    Data::Property(v) => v.clone(),
                    _ => continue,
                };
                m.insert(p.name.as_deref().unwrap_or("").to_string(), snapshot(&v));
            }
            J::Object(m)
        }
        Err(items) if n.flavor == Flavor::Constructor => {
            let mut m = serde_json::Map::new();
            m.insert(
                marks().new.clone(),
                J::String(lock(&n.label).as_deref().unwrap_or("").to_string()),
            );
            m.insert(
                marks().args.clone(),
                J::Array(items.iter().map(|c| snapshot(c)).collect()),
            );
            J::Object(m)
        }
        Err(items) => J::Array(items.iter().map(|c| snapshot(c)).collect()),
    }
}

/// What the memory budget counts for `n` and below (crates/expr/src/budget.rs): `per_node` for
/// each value, a string's bytes, a property's name; no further than past `cap`. Locks are
/// taken top-down while the walk holds its ancestors' (every other path takes one at a time).
fn size_of_node(n: &Node, per_node: usize, cap: usize, total: &mut usize) {
    // Annotations and event handlers are held by the token too (an annotation's value by its
    // size; a token annotation is weak, see [`Annotation`]).
    let held: Vec<crate::value::Value> = lock(&n.annotations)
        .iter()
        .filter_map(|a| match a {
            Annotation::Value(v) => Some(v.clone()),
            Annotation::Token(..) => None,
        })
        .collect();
    let attached = lock(&n.annotations).len() + n.events.len();
    *total = total.saturating_add(attached.saturating_mul(per_node));
    // (No walk into what an annotation holds: it may hold tokens of this very tree, whose
    // locks this walk may hold.)
    for v in &held {
        let size = match v {
            crate::value::Value::String(s) => s.len(),
            crate::value::Value::Bytes(b) => b.len(),
            crate::value::Value::Array(items) => items.len().saturating_mul(per_node),
            _ => 0,
        };
        *total = total.saturating_add(size);
    }
    match &*lock(&n.data) {
        Data::Value(j) => *total += per_node + j.as_str().map_or(0, str::len),
        Data::Property(v) => {
            *total += n.name.as_deref().map_or(0, str::len);
            size_of_node(v, per_node, cap, total);
        }
        Data::Object(c) | Data::Array(c) => {
            *total += per_node;
            for x in c {
                size_of_node(x, per_node, cap, total);
                if *total > cap {
                    return;
                }
            }
        }
    }
}

fn clone_node(n: &Node) -> Arc<Node> {
    let data = match &*lock(&n.data) {
        Data::Value(j) => return flavored(n.name.clone(), Data::Value(j.clone()), n.flavor),
        Data::Object(c) => Data::Object(c.clone()),
        Data::Array(c) => Data::Array(c.clone()),
        Data::Property(v) => Data::Property(v.clone()),
    };
    let copy = flavored(n.name.clone(), Data::Value(J::Null), n.flavor);
    *lock(&copy.label) = lock(&n.label).clone();
    let adopt = |c: &Arc<Node>| {
        let c = clone_node(c);
        set_parent(&c, Some(&copy));
        c
    };
    let data = match data {
        Data::Object(c) => Data::Object(c.iter().map(adopt).collect()),
        Data::Array(c) => Data::Array(c.iter().map(adopt).collect()),
        Data::Property(v) => Data::Property(adopt(&v)),
        Data::Value(j) => Data::Value(j),
    };
    let h = 1 + match &data {
        Data::Object(c) | Data::Array(c) => c.iter().map(|n| height(n)).max().unwrap_or(0),
        Data::Property(v) => height(v),
        Data::Value(_) => 0,
    };
    copy.height.store(h, Ordering::Relaxed);
    *lock(&copy.data) = data;
    copy
}

/// A change to a container that has event handlers, queued for the interpreter to raise
/// (crates/expr/src/interp/events.rs; crates/expr/src/library/json_special.rs makes the
/// EventArgs).
pub struct Raised {
    pub source: JToken,
    pub change: Change,
}

/// What changed, as Newtonsoft's `JContainer`/`JObject` report it.
pub enum Change {
    /// An item inserted at an index.
    Added(usize, JToken),
    /// An item removed from an index.
    Removed(usize, JToken),
    /// The item at an index replaced: the new one, the old one.
    Replaced(usize, JToken, JToken),
    /// Every item removed.
    Reset,
    /// A JObject's property is about to get a value (or to be added by the indexer).
    PropertyChanging(Arc<str>),
    /// A JObject's property (at an index) got a new value.
    PropertyValueChanged(Arc<str>, usize, JToken),
    /// A JObject's indexer added the property.
    PropertyAdded(Arc<str>),
}

/// Queues `change` of `n` when anything listens to `n`.
fn notify(n: &Arc<Node>, change: impl FnOnce() -> Change) {
    if !n.events.is_empty() {
        crate::interp::events::queue(crate::interp::events::Pending::Json(Raised {
            source: JToken::handle(n.clone()),
            change: change(),
        }));
    }
}

/// A handle to a token: its node, and the root that keeps its tree alive.
#[derive(Clone)]
pub struct JToken {
    node: Arc<Node>,
    anchor: Arc<Node>,
}

impl fmt::Debug for JToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "JProperty({n:?}: {:?})", self.to_serde()),
            None => write!(f, "JToken({:?})", self.to_serde()),
        }
    }
}

/// Structural equality (what Rust code comparing values wants); C#'s reference equality is
/// [`JToken::same`].
impl PartialEq for JToken {
    fn eq(&self, other: &Self) -> bool {
        self.same(other) || (self.name() == other.name() && self.to_serde() == other.to_serde())
    }
}

impl JToken {
    fn handle(node: Arc<Node>) -> JToken {
        let anchor = top(&node);
        JToken { node, anchor }
    }

    /// A handle to `node`, a node of this handle's tree.
    fn within(&self, node: Arc<Node>) -> JToken {
        JToken {
            node,
            anchor: top(&self.node),
        }
    }

    /// A new tree holding `j` (JSON parsed, or a value converted to JSON).
    pub fn from_serde(j: &J) -> JToken {
        JToken::handle(build(j))
    }

    /// A new `JValue`.
    pub fn scalar_value(j: J) -> JToken {
        let j = match j {
            J::Object(_) | J::Array(_) => return JToken::from_serde(&j),
            s => s,
        };
        JToken::handle(node(None, Data::Value(j)))
    }

    pub fn new_object() -> JToken {
        JToken::handle(node(None, Data::Object(Vec::new())))
    }

    pub fn new_array() -> JToken {
        JToken::handle(node(None, Data::Array(Vec::new())))
    }

    /// `new JProperty(name, value)`: the value as [`JToken::prepare`] makes it.
    pub fn new_property(name: &str, value: JToken) -> Result<JToken, TreeError> {
        let value = value.adoptable(None);
        if kind_of(&value.node) == Kind::Property {
            return Err(refused(
                "ArgumentException",
                "Can not add Newtonsoft.Json.Linq.JProperty to Newtonsoft.Json.Linq.JProperty.",
            ));
        }
        if height(&value.node) >= MAX_DEPTH {
            return Err(TreeError::TooDeep);
        }
        let p = node(Some(name.into()), Data::Property(value.node.clone()));
        set_parent(&value.node, Some(&p));
        Ok(JToken::handle(p))
    }

    /// The JSON this token holds, copied out (a property as a one-member object).
    pub fn to_serde(&self) -> J {
        snapshot(&self.node)
    }

    /// The JSON text Newtonsoft writes for this token (`ToString(Formatting.None)` or
    /// `Indented`), constructors, raw text and comments included
    /// (crates/expr/src/library/json_write.rs). A property writes as `"name":value`.
    pub fn to_json_text(&self, pretty: bool) -> String {
        use crate::library::json_write;
        match (self.name(), self.property_value()) {
            (Some(n), Some(v)) => json_write::property_text(&n, &v.to_serde(), pretty, usize::MAX),
            _ => json_write::text(&self.to_serde(), pretty, usize::MAX),
        }
        .unwrap_or_default()
    }

    /// The bytes the memory budget counts for this token and what is below it, or any number
    /// above `cap` once past it.
    pub fn size_upto(&self, per_node: usize, cap: usize) -> usize {
        let mut total = 0;
        size_of_node(&self.node, per_node, cap, &mut total);
        total
    }

    /// The same token (C#'s `==` and `ReferenceEquals` on tokens).
    pub fn same(&self, other: &JToken) -> bool {
        Arc::ptr_eq(&self.node, &other.node)
    }

    pub fn kind(&self) -> Kind {
        kind_of(&self.node)
    }

    pub fn is_object(&self) -> bool {
        self.kind() == Kind::Object
    }

    pub fn is_array(&self) -> bool {
        self.kind() == Kind::Array
    }

    pub fn is_property(&self) -> bool {
        self.kind() == Kind::Property
    }

    /// A container (`JObject`, `JArray`, `JProperty`): what has children.
    pub fn is_container(&self) -> bool {
        self.kind() != Kind::Value
    }

    /// A `JValue` holding null (a plain one: undefined and an empty comment are not null).
    pub fn is_null(&self) -> bool {
        self.node.flavor == Flavor::Plain && matches!(&*lock(&self.node.data), Data::Value(J::Null))
    }

    /// A `JValue`'s scalar.
    pub fn scalar(&self) -> Option<J> {
        match &*lock(&self.node.data) {
            Data::Value(j) => Some(j.clone()),
            _ => None,
        }
    }

    /// `f` over a `JValue`'s scalar, without copying it.
    pub fn with_scalar<R>(&self, f: impl FnOnce(&J) -> R) -> Option<R> {
        match &*lock(&self.node.data) {
            Data::Value(j) => Some(f(j)),
            _ => None,
        }
    }

    /// A `JProperty`'s name.
    pub fn name(&self) -> Option<Arc<str>> {
        self.node.name.clone()
    }

    /// Which Newtonsoft class or JValue type beyond the plain ones this token is.
    pub fn flavor(&self) -> Flavor {
        self.node.flavor
    }

    pub fn is_constructor(&self) -> bool {
        self.node.flavor == Flavor::Constructor
    }

    /// A `JConstructor`'s name.
    pub fn constructor_name(&self) -> Option<Arc<str>> {
        match self.node.flavor {
            Flavor::Constructor => lock(&self.node.label).clone(),
            _ => None,
        }
    }

    /// `JConstructor.Name = name`.
    pub fn set_constructor_name(&self, name: &str) {
        if self.node.flavor == Flavor::Constructor {
            *lock(&self.node.label) = Some(name.into());
        }
    }

    /// `new JConstructor(name)`: empty (its content is added as a JArray's is).
    pub fn new_constructor(name: &str) -> JToken {
        let c = flavored(None, Data::Array(Vec::new()), Flavor::Constructor);
        *lock(&c.label) = Some(name.into());
        JToken::handle(c)
    }

    /// A `JValue` of a non-plain type (`JRaw`, a comment, undefined) holding `j`.
    pub fn special_value(flavor: Flavor, j: J) -> JToken {
        JToken::handle(flavored(None, Data::Value(j), flavor))
    }

    /// `AddAnnotation(o)`. The annotation lives until the evaluation ends ([`AnnotationScope`]).
    pub fn add_annotation(&self, v: crate::value::Value) {
        let a = match v {
            crate::value::Value::Json(t) if Arc::ptr_eq(&top(&t.node), &top(&self.node)) => {
                Annotation::Token(Arc::downgrade(&t.node), Arc::downgrade(&t.anchor))
            }
            v => Annotation::Value(v),
        };
        lock(&self.node.annotations).push(a);
        ANNOTATED.with(|list| {
            if let Some(list) = list.borrow_mut().as_mut() {
                list.push(Arc::downgrade(&self.node));
            }
        });
    }

    /// The annotations, oldest first (a token annotation no longer held elsewhere is gone).
    pub fn annotations(&self) -> Vec<crate::value::Value> {
        lock(&self.node.annotations)
            .iter()
            .filter_map(annotation_value)
            .collect()
    }

    /// Keeps the annotations for which `keep` holds (`RemoveAnnotations<T>()`).
    pub fn retain_annotations(&self, keep: &mut dyn FnMut(&crate::value::Value) -> bool) {
        lock(&self.node.annotations).retain(|a| annotation_value(a).is_some_and(|v| keep(&v)));
    }

    pub fn parent(&self) -> Option<JToken> {
        parent_of(&self.node).map(|p| self.within(p))
    }

    pub fn root(&self) -> JToken {
        self.within(top(&self.node))
    }

    /// Child tokens: a JObject's properties, a JArray's items, a JProperty's value.
    pub fn children(&self) -> Vec<JToken> {
        let kids = child_nodes(&self.node);
        if kids.is_empty() {
            return Vec::new();
        }
        // The handle's anchor, not a walk to the root: this is called for every token of a
        // walk. (A token moved to another tree keeps its old anchor; its new tree is held by
        // whoever added it.)
        let anchor = match parent_of(&self.node) {
            None => self.node.clone(),
            Some(_) => self.anchor.clone(),
        };
        kids.into_iter()
            .map(|node| JToken {
                node,
                anchor: anchor.clone(),
            })
            .collect()
    }

    /// How many children.
    pub fn len(&self) -> usize {
        match &*lock(&self.node.data) {
            Data::Object(c) | Data::Array(c) => c.len(),
            Data::Property(_) => 1,
            Data::Value(_) => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A JObject's property named `name` (exactly).
    pub fn property(&self, name: &str) -> Option<JToken> {
        let found = match &*lock(&self.node.data) {
            Data::Object(c) => c.iter().find(|p| p.name.as_deref() == Some(name)).cloned(),
            _ => None,
        };
        found.map(|p| self.within(p))
    }

    /// A JProperty's value.
    pub fn property_value(&self) -> Option<JToken> {
        let v = match &*lock(&self.node.data) {
            Data::Property(v) => v.clone(),
            _ => return None,
        };
        Some(self.within(v))
    }

    /// A JObject's value of the property `name`.
    pub fn get(&self, name: &str) -> Option<JToken> {
        self.property(name).and_then(|p| p.property_value())
    }

    /// A JArray's item `i` (any container's child `i`).
    pub fn at(&self, i: usize) -> Option<JToken> {
        let c = match &*lock(&self.node.data) {
            Data::Object(c) | Data::Array(c) => c.get(i).cloned(),
            Data::Property(v) if i == 0 => Some(v.clone()),
            _ => None,
        };
        c.map(|n| self.within(n))
    }

    /// Where this token is among its parent's children.
    pub fn index_in_parent(&self) -> Option<usize> {
        let p = parent_of(&self.node)?;
        let data = lock(&p.data);
        match &*data {
            Data::Object(c) | Data::Array(c) => c.iter().position(|n| Arc::ptr_eq(n, &self.node)),
            Data::Property(_) => Some(0),
            Data::Value(_) => None,
        }
    }

    /// `DeepClone()`: a new tree with the same content.
    pub fn deep_clone(&self) -> JToken {
        JToken::handle(clone_node(&self.node))
    }

    /// Newtonsoft's `EnsureParentToken`: the token itself, or a deep clone when it already has
    /// a parent, is the container `into` itself, or is `into`'s root.
    fn adoptable(self, into: Option<&Arc<Node>>) -> JToken {
        let parented = parent_of(&self.node).is_some();
        let own = into.is_some_and(|c| {
            Arc::ptr_eq(c, &self.node)
                || (kind_of(&self.node) != Kind::Value && Arc::ptr_eq(&top(c), &self.node))
        });
        if parented || own {
            self.deep_clone()
        } else {
            self
        }
    }

    /// `item` made ready to go under this container: cloned if Newtonsoft would, refused if the
    /// tree would grow too deep.
    fn prepare(&self, item: JToken) -> Result<Arc<Node>, TreeError> {
        let item = item.adoptable(Some(&self.node));
        let room = MAX_DEPTH.saturating_sub(depth_of(&self.node));
        if height(&item.node) >= room {
            return Err(TreeError::TooDeep);
        }
        Ok(item.node)
    }

    /// Newtonsoft's `ValidateToken`: a JObject takes properties (of new names), a JArray
    /// anything but a property.
    fn validate(&self, item: &Arc<Node>, replacing: Option<&Arc<Node>>) -> Result<(), TreeError> {
        let item_kind = kind_of(item);
        match self.kind() {
            Kind::Object => {
                if item_kind != Kind::Property {
                    return Err(refused(
                        "ArgumentException",
                        format!(
                            "Can not add {} to Newtonsoft.Json.Linq.JObject.",
                            type_name_of(item_kind, item)
                        ),
                    ));
                }
                let name = item.name.as_deref().unwrap_or("");
                let clash = match &*lock(&self.node.data) {
                    Data::Object(c) => c.iter().any(|p| {
                        p.name.as_deref() == Some(name)
                            && !replacing.is_some_and(|r| Arc::ptr_eq(r, p))
                    }),
                    _ => false,
                };
                if clash {
                    return Err(refused(
                        "ArgumentException",
                        format!(
                            "Can not add property {name} to Newtonsoft.Json.Linq.JObject. Property with the same name already exists on object."
                        ),
                    ));
                }
                Ok(())
            }
            Kind::Array | Kind::Property if item_kind == Kind::Property => Err(refused(
                "ArgumentException",
                format!(
                    "Can not add Newtonsoft.Json.Linq.JProperty to {}.",
                    type_name_of(self.kind(), &self.node)
                ),
            )),
            _ => Ok(()),
        }
    }

    /// `JContainer.Insert`/`Add`: `item` at `index` (the end when `None`).
    pub fn insert(&self, index: Option<usize>, item: JToken) -> Result<(), TreeError> {
        if self.kind() == Kind::Property {
            // A property has exactly one value: Add on a JProperty fails as Newtonsoft's
            // JProperty.InsertItem does once it holds one.
            return Err(refused(
                "JsonException",
                "Newtonsoft.Json.Linq.JProperty cannot have multiple values.",
            ));
        }
        if self.kind() == Kind::Value {
            return Err(refused(
                "InvalidOperationException",
                "Cannot add to a Newtonsoft.Json.Linq.JValue.",
            ));
        }
        self.check_not_busy()?;
        let item = self.prepare(item)?;
        self.validate(&item, None)?;
        set_parent(&item, Some(&self.node));
        raise(&self.node, &item);
        let added = item.clone();
        let mut data = lock(&self.node.data);
        if let Data::Object(c) | Data::Array(c) = &mut *data {
            let i = index.unwrap_or(c.len());
            if i > c.len() {
                drop(data);
                set_parent(&item, None);
                return Err(refused(
                    "ArgumentOutOfRangeException",
                    "Index must be within the bounds of the List. (Parameter 'index')",
                ));
            }
            c.insert(i, item);
            drop(data);
            notify(&self.node, || Change::Added(i, self.within(added)));
        }
        Ok(())
    }

    /// Replaces child `i` of this container with `item` (`JArray[i] = v`, `Replace`).
    pub fn set_child(&self, i: usize, item: JToken) -> Result<(), TreeError> {
        let old = match &*lock(&self.node.data) {
            Data::Object(c) | Data::Array(c) => c.get(i).cloned(),
            Data::Property(v) if i == 0 => Some(v.clone()),
            _ => None,
        };
        let Some(old) = old else {
            return Err(refused(
                "ArgumentOutOfRangeException",
                "Index is equal to or greater than Count. (Parameter 'index')",
            ));
        };
        // Setting a token in its own place changes nothing (Newtonsoft's `IsTokenUnchanged`
        // for containers is reference identity).
        if Arc::ptr_eq(&old, &item.node) {
            return Ok(());
        }
        // Newtonsoft's `IsTokenUnchanged`: a value replaced by an equal value stays.
        if old.flavor == item.node.flavor && kind_of(&old) == Kind::Value {
            let same = match (&*lock(&old.data), &*lock(&item.node.data)) {
                (Data::Value(a), Data::Value(b)) => a == b,
                _ => false,
            };
            if same {
                return Ok(());
            }
        }
        self.check_not_busy()?;
        let owner = match parent_of(&self.node) {
            Some(p) if self.kind() == Kind::Property && kind_of(&p) == Kind::Object => Some(p),
            _ => None,
        };
        let name = self.node.name.clone().unwrap_or_default();
        if let Some(o) = &owner {
            notify(o, || Change::PropertyChanging(name.clone()));
        }
        let item = self.prepare(item)?;
        self.validate(&item, Some(&old))?;
        set_parent(&item, Some(&self.node));
        raise(&self.node, &item);
        match &mut *lock(&self.node.data) {
            Data::Object(c) | Data::Array(c) => {
                if let Some(slot) = c.get_mut(i) {
                    *slot = item.clone();
                }
            }
            Data::Property(v) => *v = item.clone(),
            Data::Value(_) => {}
        }
        set_parent(&old, None);
        notify(&self.node, || {
            Change::Replaced(i, self.within(item), JToken::handle(old.clone()))
        });
        if let Some(o) = &owner {
            let at = self.index_in_parent().unwrap_or(0);
            notify(o, || Change::PropertyValueChanged(name, at, self.clone()));
        }
        Ok(())
    }

    /// `JObject[name] = value`: the existing property's value replaced, or a new property.
    pub fn set_property(&self, name: &str, value: JToken) -> Result<(), TreeError> {
        match self.property(name) {
            Some(p) => p.set_child(0, value),
            None => {
                // The value is prepared for the object's depth plus the property's level.
                let p = JToken::new_property(name, value)?;
                self.check_not_busy()?;
                notify(&self.node, || Change::PropertyChanging(name.into()));
                self.insert(None, p)?;
                notify(&self.node, || Change::PropertyAdded(name.into()));
                Ok(())
            }
        }
    }

    /// Removes child `i`; the removed token, now a root of its own.
    pub fn remove_at(&self, i: usize) -> Option<JToken> {
        let removed = match &mut *lock(&self.node.data) {
            Data::Object(c) | Data::Array(c) if i < c.len() => c.remove(i),
            _ => return None,
        };
        set_parent(&removed, None);
        let removed = JToken::handle(removed);
        notify(&self.node, || Change::Removed(i, removed.clone()));
        Some(removed)
    }

    /// `JToken.Remove()`: out of its parent (`false` when it has none). A JProperty's value
    /// cannot leave it (Newtonsoft throws; the caller reports it).
    pub fn remove(&self) -> Result<bool, TreeError> {
        let Some(p) = parent_of(&self.node) else {
            return Ok(false);
        };
        if kind_of(&p) == Kind::Property {
            return Err(refused(
                "JsonException",
                "Cannot add or remove items from Newtonsoft.Json.Linq.JProperty.",
            ));
        }
        let parent = JToken::handle(p);
        parent.check_not_busy()?;
        if let Some(i) = self.index_in_parent() {
            parent.remove_at(i);
        }
        Ok(true)
    }

    /// Removes every child.
    pub fn clear(&self) {
        let gone = match &mut *lock(&self.node.data) {
            Data::Object(c) | Data::Array(c) => std::mem::take(c),
            _ => Vec::new(),
        };
        for g in &gone {
            set_parent(g, None);
        }
        if matches!(self.kind(), Kind::Object | Kind::Array) {
            notify(&self.node, || Change::Reset);
        }
    }

    /// Refused while this container's collection-change handlers run.
    pub fn check_not_busy(&self) -> Result<(), TreeError> {
        if self.node.busy.load(Ordering::Relaxed) {
            return Err(refused(
                "InvalidOperationException",
                format!(
                    "Cannot change {} during a collection change event.",
                    self.type_name()
                ),
            ));
        }
        Ok(())
    }

    /// Marks this container busy (its collection-change handlers are running) or not.
    pub fn set_busy(&self, busy: bool) {
        self.node.busy.store(busy, Ordering::Relaxed);
    }

    /// The handlers of this token's events.
    pub fn events(&self) -> &crate::interp::events::EventHandlers {
        &self.node.events
    }

    /// `JValue.Value = v`: a new scalar.
    pub fn set_scalar(&self, j: J) {
        if let Data::Value(s) = &mut *lock(&self.node.data) {
            *s = j;
        }
    }

    /// Tokens from this one down to its root's child (not including the root): each level's
    /// container, nearest first.
    pub fn ancestors(&self) -> Vec<JToken> {
        let anchor = top(&self.node);
        let mut out = Vec::new();
        let mut cur = self.node.clone();
        while let Some(p) = parent_of(&cur) {
            out.push(JToken {
                node: p.clone(),
                anchor: anchor.clone(),
            });
            cur = p;
        }
        out
    }
}

fn annotation_value(a: &Annotation) -> Option<crate::value::Value> {
    match a {
        Annotation::Value(v) => Some(v.clone()),
        Annotation::Token(node, anchor) => {
            let node = node.upgrade()?;
            let anchor = anchor.upgrade().unwrap_or_else(|| top(&node));
            Some(crate::value::Value::Json(JToken { node, anchor }))
        }
    }
}

/// The .NET type name of a node of `kind`.
fn type_name_of(kind: Kind, n: &Node) -> &'static str {
    match n.flavor {
        Flavor::Constructor => return "Newtonsoft.Json.Linq.JConstructor",
        Flavor::Raw => return "Newtonsoft.Json.Linq.JRaw",
        _ => {}
    }
    match kind {
        Kind::Object => "Newtonsoft.Json.Linq.JObject",
        Kind::Array => "Newtonsoft.Json.Linq.JArray",
        Kind::Property => "Newtonsoft.Json.Linq.JProperty",
        Kind::Value => "Newtonsoft.Json.Linq.JValue",
    }
}

impl JToken {
    /// The .NET type name of this token.
    pub fn type_name(&self) -> &'static str {
        type_name_of(self.kind(), &self.node)
    }

    /// Visits every token below this one (not itself), depth first in document order, until
    /// `f` returns `false`.
    pub fn walk(&self, f: &mut dyn FnMut(&JToken) -> bool) -> bool {
        for c in self.children() {
            if !f(&c) || !c.walk(f) {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn children_share_the_tree() {
        let body = JToken::from_serde(&json!({"items": [1, 2], "meta": {}}));
        let items = body.get("items").expect("items");
        items
            .insert(None, JToken::scalar_value(json!(3)))
            .expect("adds");
        assert_eq!(body.to_serde(), json!({"items": [1, 2, 3], "meta": {}}));
        assert!(
            items
                .parent()
                .expect("property")
                .same(&body.property("items").expect("p"))
        );
        assert!(items.root().same(&body));
    }

    #[test]
    fn adding_a_parented_token_adds_a_copy() {
        let a = JToken::from_serde(&json!({"x": {"y": 1}}));
        let x = a.get("x").expect("x");
        let b = JToken::new_array();
        b.insert(None, x.clone()).expect("adds");
        let copy = b.at(0).expect("item");
        assert!(!copy.same(&x));
        // Adding an object to itself copies it too: no cycle.
        a.set_property("self", a.clone()).expect("adds");
        assert_eq!(
            a.get("self").expect("self").to_serde(),
            json!({"x": {"y": 1}})
        );
    }

    #[test]
    fn a_child_keeps_its_tree_alive() {
        let child = JToken::from_serde(&json!({"a": {"b": 1}}))
            .get("a")
            .expect("a");
        let parent = child.parent().expect("the property");
        assert_eq!(parent.name().as_deref(), Some("a"));
        assert!(parent.parent().expect("the object").is_object());
    }

    #[test]
    fn depth_is_bounded() {
        let mut cur = JToken::new_array();
        let mut refused = false;
        for _ in 0..MAX_DEPTH + 2 {
            let next = JToken::new_array();
            match next.insert(None, cur) {
                Ok(()) => cur = next,
                Err(e) => {
                    assert_eq!(e, TreeError::TooDeep);
                    refused = true;
                    break;
                }
            }
        }
        assert!(refused);
    }

    #[test]
    fn removing_makes_a_root() {
        let o = JToken::from_serde(&json!({"a": 1, "b": 2}));
        let p = o.property("a").expect("a");
        assert_eq!(p.remove(), Ok(true));
        assert!(p.parent().is_none());
        assert_eq!(o.to_serde(), json!({"b": 2}));
        assert_eq!(p.remove(), Ok(false));
    }
}
