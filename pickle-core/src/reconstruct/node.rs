//! [`Node`]: a borrowed view of one object of an unpickled graph, what [`Reconstruct`]
//! implementations read.
//!
//! The view reads the unpickler's arena directly, so a typed load builds no [`Value`] on
//! the way, and every object knows the byte offset of the opcode that made it: errors point
//! into the pickle.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

use num_bigint::BigInt;

use super::{Instance, Reconstruct};
use crate::error::{Error, ErrorKind, Result};
use crate::graph::{Graph, Item, Obj, Shares};
use crate::value::Atom;
use crate::value::{Global, PyString, Value};

/// A shared object's Rust value of one type, once built (`None` while it is being built).
type SharedSlot = Option<Box<dyn Any>>;

/// An unpickled object graph, read by [`Node`]s.
#[doc(hidden)]
pub struct Tree {
    graph: Graph,
    root: Item,
    protocol: u8,
    max_depth: usize,
    /// What each `Rc`/`Arc` node has become, by object and type; `None` while it is built.
    shared: RefCell<HashMap<(u32, TypeId), SharedSlot>>,
    /// The shared nodes of the `Value`s built from the graph so far.
    values: RefCell<Option<Shares>>,
}

impl Tree {
    pub(crate) fn new(graph: Graph, root: Item, protocol: u8, max_depth: usize) -> Tree {
        Tree { graph, root, protocol, max_depth, shared: RefCell::default(), values: RefCell::default() }
    }

    /// The object the pickle's STOP returned.
    pub(crate) fn root(&self) -> Node<'_> {
        let offset = match self.root {
            Item::Obj(i) => self.graph.offset_of(i),
            _ => None,
        };
        Node { tree: self, item: self.root, offset, depth: 0 }
    }

    /// The value of the whole graph, consuming it (no copies).
    pub(crate) fn into_value(self) -> Result<Value> {
        self.graph.into_value(self.root, self.max_depth)
    }
}

/// One object of an unpickled graph, as [`Reconstruct::reconstruct`] receives it.
///
/// A node is a cheap copyable view. Read it with the `as_*` methods, its children with
/// [`items`](Node::items), [`pairs`](Node::pairs) and [`instance`](Node::instance), and turn
/// a child into a Rust value with [`get`](Node::get), which also keeps deep input off the
/// native stack and records where an error happened.
#[derive(Clone, Copy)]
pub struct Node<'a> {
    tree: &'a Tree,
    item: Item,
    /// Where the object was made; an atom (int, float, ...) has its container's offset.
    offset: Option<u64>,
    depth: usize,
}

/// The Python type of a [`Node`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// `None`.
    None,
    /// `bool`.
    Bool,
    /// `int`, of any size.
    Int,
    /// `float`.
    Float,
    /// `str`.
    Str,
    /// `bytes`.
    Bytes,
    /// `bytearray`.
    ByteArray,
    /// `tuple`.
    Tuple,
    /// `list`.
    List,
    /// `dict`.
    Dict,
    /// `set`.
    Set,
    /// `frozenset`.
    FrozenSet,
    /// A global: a class or function named by module and qualname.
    Global,
    /// An object a reduction built (see [`Node::instance`]).
    Object,
    /// A persistent id kept as data.
    PersistentId,
}

impl<'a> Node<'a> {
    fn obj(&self) -> Option<&'a Obj> {
        match self.item {
            Item::Obj(i) => Some(self.tree.graph.get(i)),
            _ => None,
        }
    }

    pub(crate) fn graph(&self) -> &'a Graph {
        &self.tree.graph
    }

    /// The node of `item`, a child of this one.
    #[inline]
    pub(crate) fn child(&self, item: Item) -> Node<'a> {
        let offset = match item {
            Item::Obj(i) => self.tree.graph.offset_of(i).or(self.offset),
            _ => self.offset,
        };
        Node { tree: self.tree, item, offset, depth: self.depth + 1 }
    }

    pub(crate) fn items_of(&self, items: &'a [Item]) -> Items<'a> {
        Items { parent: *self, iter: items.iter() }
    }

    pub(crate) fn pairs_of(&self, pairs: &'a [(Item, Item)]) -> Pairs<'a> {
        Pairs { parent: *self, iter: pairs.iter() }
    }

    /// The byte offset of the opcode that made this object (for an int or a float, its
    /// container's), when it was read from a pickle.
    pub fn offset(&self) -> Option<u64> {
        self.offset
    }

    /// The protocol of the pickle: its PROTO, or the highest protocol of its opcodes.
    pub fn protocol(&self) -> u8 {
        self.tree.protocol
    }

    /// The Python type.
    pub fn kind(&self) -> Kind {
        match self.item {
            Item::None => Kind::None,
            Item::Bool(_) => Kind::Bool,
            Item::Int(_) => Kind::Int,
            Item::Float(_) => Kind::Float,
            Item::Obj(i) => match self.tree.graph.get(i) {
                Obj::BigInt(_) => Kind::Int,
                Obj::Str(_) => Kind::Str,
                Obj::Bytes(_) => Kind::Bytes,
                Obj::ByteArray(_) => Kind::ByteArray,
                Obj::Tuple(_) => Kind::Tuple,
                Obj::List(_) => Kind::List,
                Obj::Dict(_) => Kind::Dict,
                Obj::Set(_) => Kind::Set,
                Obj::FrozenSet(_) => Kind::FrozenSet,
                Obj::Global(_) => Kind::Global,
                Obj::Object(_) | Obj::Taken => Kind::Object,
                Obj::PersistentId(_) => Kind::PersistentId,
            },
        }
    }

    /// Rebuilds the Rust value of this node: `T::reconstruct`, with a depth limit, on a
    /// stack that grows as deep input needs, and with this node's offset on errors.
    #[inline]
    pub fn get<T: Reconstruct>(self) -> Result<T> {
        if let Some(atom) = as_atom(self.item) {
            if let Some(result) = T::from_atom(atom) {
                return result.map_err(|e| self.at(e));
            }
        }
        self.within_depth()?;
        let result = match self.item {
            // Only an object can lead deeper; an int or a float is rebuilt on the spot.
            Item::Obj(_) => crate::stack::grow(|| T::reconstruct(self)),
            _ => T::reconstruct(self),
        };
        result.map_err(|e| self.at(e))
    }

    /// The error for a node nested past the depth limit.
    pub(crate) fn within_depth(&self) -> Result<()> {
        if self.depth > self.tree.max_depth {
            let limit = self.tree.max_depth as u64;
            return Err(self.at(Error::new(ErrorKind::LimitExceeded { what: "nesting depth", limit })));
        }
        Ok(())
    }

    /// The index of the object in the graph, for an object (not an atom): how the serde
    /// bridge tells a cycle.
    #[cfg(feature = "serde")]
    pub(crate) fn object_index(&self) -> Option<u32> {
        match self.item {
            Item::Obj(i) => Some(i),
            _ => None,
        }
    }

    /// The error with this node's offset, unless it has one.
    pub(crate) fn at(&self, error: Error) -> Error {
        match self.offset {
            Some(offset) => error.at_offset(offset),
            None => error,
        }
    }

    /// Whether this is `None`.
    #[inline]
    pub fn is_none(&self) -> bool {
        self.item == Item::None
    }

    /// The value of a `bool`.
    #[inline]
    pub fn as_bool(&self) -> Option<bool> {
        match self.item {
            Item::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The value of an `int` that fits in an `i64`.
    #[inline]
    pub fn as_i64(&self) -> Option<i64> {
        match self.item {
            Item::Int(i) => Some(i),
            _ => None,
        }
    }

    /// The value of an `int` of any size.
    pub fn as_bigint(&self) -> Option<Cow<'a, BigInt>> {
        match (self.item, self.obj()) {
            (Item::Int(i), _) => Some(Cow::Owned(BigInt::from(i))),
            (_, Some(Obj::BigInt(b))) => Some(Cow::Borrowed(b)),
            _ => None,
        }
    }

    /// The value of a `float`.
    #[inline]
    pub fn as_f64(&self) -> Option<f64> {
        match self.item {
            Item::Float(f) => Some(f),
            _ => None,
        }
    }

    /// The value of a `str`.
    pub fn as_str(&self) -> Option<&'a PyString> {
        match self.obj()? {
            Obj::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The contents of a `bytes`.
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match self.obj()? {
            Obj::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The contents of a `bytearray`.
    pub fn as_bytearray(&self) -> Option<&'a [u8]> {
        match self.obj()? {
            Obj::ByteArray(b) => Some(b),
            _ => None,
        }
    }

    /// The items of a tuple, list, set or frozenset.
    pub fn items(&self) -> Option<Items<'a>> {
        match self.obj()? {
            Obj::Tuple(v) | Obj::List(v) | Obj::Set(v) | Obj::FrozenSet(v) => Some(self.items_of(v)),
            _ => None,
        }
    }

    /// The pairs of a dict, in order.
    pub fn pairs(&self) -> Option<Pairs<'a>> {
        match self.obj()? {
            Obj::Dict(pairs) => Some(self.pairs_of(pairs)),
            _ => None,
        }
    }

    /// The name of a global.
    pub fn global(&self) -> Option<&'a Global> {
        match self.obj()? {
            Obj::Global(g) => Some(&**g),
            _ => None,
        }
    }

    /// An object built by a reduction, read as a class instance: which class, with what
    /// arguments, state and items, whichever of CPython's shapes wrote it.
    pub fn instance(&self) -> Option<Instance<'a>> {
        match self.obj()? {
            Obj::Object(o) => Some(Instance::new(*self, o)),
            _ => None,
        }
    }

    /// The id of a persistent id kept as data.
    pub fn persistent_id(&self) -> Option<Node<'a>> {
        match self.obj()? {
            Obj::PersistentId(id) => Some(self.child(*id)),
            _ => None,
        }
    }

    /// The Rust object a typed `persistent_load` ([`PersistentLoad::Typed`](crate::PersistentLoad::Typed))
    /// gave for this persistent id, if it is a `T`.
    pub fn persistent<T: Clone + 'static>(&self) -> Option<T> {
        match self.item {
            Item::Obj(i) => self.tree.graph.attached(i)?.downcast_ref::<T>().cloned(),
            _ => None,
        }
    }

    /// The node as a [`Value`]. Objects the pickle shares become one [`Shared`](crate::Shared)
    /// node, however many values are taken from one graph.
    pub fn to_value(&self) -> Result<Value> {
        let mut values = self.tree.values.borrow_mut();
        let shares = values.get_or_insert_with(|| Shares::new(&self.tree.graph, self.tree.root));
        self.tree.graph.value_of(self.item, shares, self.tree.max_depth).map_err(|e| self.at(e))
    }

    /// What the object is, for error messages: `int`, `` `shapes.Circle` ``, ...
    pub fn describe(&self) -> String {
        match self.kind() {
            Kind::None => "None".to_owned(),
            Kind::Global => match self.global() {
                Some(g) => format!("the global `{}.{}`", g.module, g.name),
                None => "a global".to_owned(),
            },
            Kind::Object => match self.instance().and_then(|i| i.class()) {
                Some(class) => format!("`{}.{}`", class.module, class.name),
                None => "an object built by a reduction".to_owned(),
            },
            Kind::PersistentId => "a persistent id".to_owned(),
            kind => python_type_name(kind).to_owned(),
        }
    }

    /// The error for a node that is not what the Rust type expects: "expected int, found str".
    pub fn mismatch(&self, expected: impl fmt::Display) -> Error {
        self.at(Error::new(ErrorKind::Mismatch { expected: expected.to_string(), found: self.describe() }))
    }

    /// [`mismatch`](Node::mismatch) with what was found said by the caller.
    pub(crate) fn mismatch_found(&self, expected: impl fmt::Display, found: String) -> Error {
        self.at(Error::new(ErrorKind::Mismatch { expected: expected.to_string(), found }))
    }

    /// An error about this node, such as a missing attribute.
    pub fn error(&self, message: impl fmt::Display) -> Error {
        self.at(Error::new(ErrorKind::Reconstruct(message.to_string())))
    }

    /// Builds the value of a shared object once per Rust type and clones it after: an `Rc`
    /// or `Arc` built here is one allocation however often the pickle refers to the object,
    /// as the Python object is one. A cycle back to a node being built is an error: a Rust
    /// `Rc` cannot contain itself.
    pub fn shared<T: Clone + 'static>(self, build: impl FnOnce(Node<'a>) -> Result<T>) -> Result<T> {
        let Item::Obj(index) = self.item else { return build(self) };
        let key = (index, TypeId::of::<T>());
        match self.tree.shared.borrow().get(&key) {
            Some(Some(done)) => return Ok(done.downcast_ref::<T>().expect("entries are keyed by type").clone()),
            Some(None) => {
                return Err(self.error(format!(
                    "this object contains itself, and a `{}` cannot: hold the link back as a `Weak<RefCell<_>>` \
                     (the objects in `Rc<RefCell<_>>`), or load the cycle as a `Value`",
                    short_type_name(std::any::type_name::<T>())
                )))
            }
            None => {}
        }
        self.tree.shared.borrow_mut().insert(key, None);
        match build(self) {
            Ok(value) => {
                self.tree.shared.borrow_mut().insert(key, Some(Box::new(value.clone())));
                Ok(value)
            }
            Err(e) => {
                self.tree.shared.borrow_mut().remove(&key);
                Err(e)
            }
        }
    }
}

impl<'a> Node<'a> {
    /// [`shared`](Node::shared) for an `Rc<RefCell<T>>` that its own contents may point back
    /// at through `Weak` ([`being_built`](Node::being_built)): the `Rc` is made first with
    /// `T::default()`, and the value built by `build` is put in it.
    pub(crate) fn shared_cyclic<T: Default + 'static>(
        self,
        build: impl FnOnce(Node<'a>) -> Result<T>,
    ) -> Result<Rc<RefCell<T>>> {
        let Item::Obj(index) = self.item else { return build(self).map(|v| Rc::new(RefCell::new(v))) };
        let placeholder = Rc::new(RefCell::new(T::default()));
        let weak_key = (index, TypeId::of::<std::rc::Weak<RefCell<T>>>());
        let result = self.shared(|node| {
            node.tree.shared.borrow_mut().insert(weak_key, Some(Box::new(Rc::downgrade(&placeholder))));
            let value = build(node);
            node.tree.shared.borrow_mut().remove(&weak_key);
            *placeholder.borrow_mut() = value?;
            Ok(Rc::clone(&placeholder))
        });
        result
    }

    /// A `Weak` to the `Rc<RefCell<T>>` of this object while it is being built: the back
    /// link of a child to its parent.
    pub(crate) fn being_built<T: 'static>(&self) -> Option<std::rc::Weak<T>> {
        let Item::Obj(index) = self.item else { return None };
        let key = (index, TypeId::of::<std::rc::Weak<T>>());
        let shared = self.tree.shared.borrow();
        shared.get(&key)?.as_ref()?.downcast_ref::<std::rc::Weak<T>>().cloned()
    }
}

impl fmt::Debug for Node<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node").field("kind", &self.kind()).field("offset", &self.offset).finish()
    }
}

/// A Rust type's name as its user writes it: `Rc<Node>`, not `alloc::rc::Rc<app::Node>`.
fn short_type_name(full: &str) -> String {
    let mut short = String::with_capacity(full.len());
    let mut word = String::new();
    for c in full.chars().chain(std::iter::once(' ')) {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            word.push(c);
            continue;
        }
        short.push_str(word.rsplit("::").next().unwrap_or(&word));
        word.clear();
        short.push(c);
    }
    short.pop();
    short
}

fn python_type_name(kind: Kind) -> &'static str {
    match kind {
        Kind::None => "None",
        Kind::Bool => "bool",
        Kind::Int => "int",
        Kind::Float => "float",
        Kind::Str => "str",
        Kind::Bytes => "bytes",
        Kind::ByteArray => "bytearray",
        Kind::Tuple => "tuple",
        Kind::List => "list",
        Kind::Dict => "dict",
        Kind::Set => "set",
        Kind::FrozenSet => "frozenset",
        Kind::Global => "global",
        Kind::Object => "object",
        Kind::PersistentId => "persistent id",
    }
}

/// An item that is no object, as an atom.
#[inline]
fn as_atom(item: Item) -> Option<Atom> {
    match item {
        Item::None => Some(Atom::None),
        Item::Bool(b) => Some(Atom::Bool(b)),
        Item::Int(i) => Some(Atom::Int(i)),
        Item::Float(f) => Some(Atom::Float(f)),
        Item::Obj(_) => None,
    }
}

/// The items of a sequence, as [`Node`]s.
#[derive(Clone)]
pub struct Items<'a> {
    parent: Node<'a>,
    iter: std::slice::Iter<'a, Item>,
}

impl<'a> Iterator for Items<'a> {
    type Item = Node<'a>;

    #[inline]
    fn next(&mut self) -> Option<Node<'a>> {
        self.iter.next().map(|&item| self.parent.child(item))
    }

    fn nth(&mut self, n: usize) -> Option<Node<'a>> {
        self.iter.nth(n).map(|&item| self.parent.child(item))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.iter.size_hint()
    }
}

impl ExactSizeIterator for Items<'_> {}

impl Items<'_> {
    /// Rebuilds the item at `index` of what is left: an atom straight from the arena, without
    /// a [`Node`], when `T` can take one ([`Reconstruct::from_atom`]).
    #[inline]
    pub(crate) fn get<T: Reconstruct>(&self, index: usize) -> Result<T> {
        let item = self.iter.as_slice()[index];
        if let Some(atom) = as_atom(item) {
            if let Some(result) = T::from_atom(atom) {
                return result.map_err(|e| self.parent.at(e));
            }
        }
        self.parent.child(item).get()
    }
}

/// The pairs of a dict, as [`Node`]s.
#[derive(Clone)]
pub struct Pairs<'a> {
    parent: Node<'a>,
    iter: std::slice::Iter<'a, (Item, Item)>,
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (Node<'a>, Node<'a>);

    fn next(&mut self) -> Option<(Node<'a>, Node<'a>)> {
        self.iter.next().map(|&(k, v)| (self.parent.child(k), self.parent.child(v)))
    }

    fn nth(&mut self, n: usize) -> Option<(Node<'a>, Node<'a>)> {
        self.iter.nth(n).map(|&(k, v)| (self.parent.child(k), self.parent.child(v)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.iter.size_hint()
    }
}

impl ExactSizeIterator for Pairs<'_> {}

impl<'a> Pairs<'a> {
    /// The value of the first pair whose key is the `str` `key`.
    pub fn get(&self, key: &str) -> Option<Node<'a>> {
        self.clone().find(|(k, _)| k.as_str().and_then(PyString::as_str) == Some(key)).map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::short_type_name;

    #[test]
    fn type_names_lose_their_paths() {
        assert_eq!(short_type_name("alloc::rc::Rc<app::tree::Node>"), "Rc<Node>");
        assert_eq!(short_type_name("(i64, alloc::string::String)"), "(i64, String)");
        assert_eq!(short_type_name("core::option::Option<&[u8]>"), "Option<&[u8]>");
    }
}
