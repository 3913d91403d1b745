//! The unpickler's object graph, and its conversion into a [`Value`].
//!
//! While a pickle is read, every object that can be referred to twice (everything but
//! None, bools, small ints and floats) lives in an arena and is named by its index. The
//! stack, the memo and the containers hold [`Item`]s, 16 bytes each, so a memo `GET` or
//! `DUP` shares an object instead of copying it, and a memo or DUP bomb costs O(input).
//!
//! When the pickle is done, one pass counts how often each reachable object is referred
//! to, and a second builds the `Value`: objects referred to once are moved in place,
//! others become one [`Shared`] node each, and a reference back to an object still being
//! built becomes a weak [`Cycle`](crate::Cycle) link. Both passes are iterative.
//!
//! It sits below the decoders and the traits, beside `value`: the general loader (`de`)
//! builds it, [`Node`](crate::Node)s (`reconstruct`) and the deep copier read it, and
//! neither has to name the other to share it.

use std::any::Any;
use std::collections::HashMap;
use std::rc::Rc;

use num_bigint::BigInt;

pub(crate) mod scratch;
use crate::error::{Error, ErrorKind, Result};
use crate::value::{Global, Object, PyString, Shared, Value};

/// Persistent ids are given to hooks as values at most this deep.
const SNAPSHOT_DEPTH: usize = 100;
/// Values given to the unpickler (hook answers, buffers) are inserted at most this deep.
const INSERT_DEPTH: usize = 1000;

/// A stack, memo or container slot: an atom, or an object of the arena.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Item {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Obj(u32),
}

/// An object of the arena.
#[derive(Clone)]
pub(crate) enum Obj {
    BigInt(BigInt),
    Str(PyString),
    Bytes(Vec<u8>),
    ByteArray(Vec<u8>),
    Tuple(Vec<Item>),
    List(Vec<Item>),
    Dict(Vec<(Item, Item)>),
    Set(Vec<Item>),
    FrozenSet(Vec<Item>),
    Global(Box<Global>),
    Object(Box<ObjectNode>),
    PersistentId(Item),
    /// Moved into the `Value` being built.
    Taken,
}

/// What a reduction built: the arena form of [`Object`].
#[derive(Clone)]
pub(crate) struct ObjectNode {
    pub(crate) callable: Item,
    pub(crate) args: Item,
    pub(crate) state: Option<Item>,
    pub(crate) list_items: Vec<Item>,
    pub(crate) dict_items: Vec<(Item, Item)>,
    pub(crate) state_setter: Option<Item>,
}

/// The offset of objects that were not read from a pickle.
pub(crate) const NO_OFFSET: u64 = u64::MAX;

pub(crate) struct Graph {
    objs: Vec<Obj>,
    /// The byte offset of the opcode that made each object, for typed errors.
    offsets: Vec<u64>,
    /// The offset objects added now are given: the loader's current opcode.
    pub(crate) offset: u64,
    /// The Rust objects a typed `persistent_load` gave for persistent ids, by object.
    attached: HashMap<u32, Rc<dyn Any>>,
    /// How many dicts and sets there are: without any, no keys need Python's semantics.
    pub(crate) keyed: usize,
    /// Whether an object may be referred to twice (a memo GET, a DUP, a value given to the
    /// unpickler): without it, every object has one reference and none need counting.
    pub(crate) maybe_shared: bool,
}

impl Default for Graph {
    fn default() -> Graph {
        Graph {
            objs: scratch::take(),
            offsets: scratch::take(),
            offset: NO_OFFSET,
            attached: HashMap::new(),
            keyed: 0,
            maybe_shared: false,
        }
    }
}

impl Drop for Graph {
    fn drop(&mut self) {
        scratch::give(std::mem::take(&mut self.objs));
        scratch::give(std::mem::take(&mut self.offsets));
    }
}

impl Graph {
    #[inline]
    pub(crate) fn add(&mut self, obj: Obj) -> Result<Item> {
        let index = u32::try_from(self.objs.len())
            .map_err(|_| Error::new(ErrorKind::LimitExceeded { what: "number of objects", limit: u32::MAX as u64 }))?;
        self.keyed += matches!(obj, Obj::Dict(_) | Obj::Set(_) | Obj::FrozenSet(_)) as usize;
        self.objs.push(obj);
        self.offsets.push(self.offset);
        Ok(Item::Obj(index))
    }

    /// Puts `obj` in the place [`Graph::add`] reserved with [`Obj::Taken`].
    pub(crate) fn fill(&mut self, index: u32, obj: Obj) {
        debug_assert!(matches!(self.objs[index as usize], Obj::Taken), "only a reserved place is filled");
        self.keyed += matches!(obj, Obj::Dict(_) | Obj::Set(_) | Obj::FrozenSet(_)) as usize;
        self.objs[index as usize] = obj;
    }

    /// Attaches a Rust object to a persistent id.
    pub(crate) fn attach(&mut self, item: Item, object: Rc<dyn Any>) {
        if let Item::Obj(index) = item {
            self.attached.insert(index, object);
        }
    }

    /// The Rust object attached to the persistent id at `index`.
    pub(crate) fn attached(&self, index: u32) -> Option<&Rc<dyn Any>> {
        self.attached.get(&index)
    }

    /// Where the object at `index` was made in the pickle, if it was read from one.
    pub(crate) fn offset_of(&self, index: u32) -> Option<u64> {
        Some(self.offsets[index as usize]).filter(|&o| o != NO_OFFSET)
    }

    pub(crate) fn len(&self) -> u32 {
        self.objs.len() as u32
    }

    #[inline]
    pub(crate) fn get(&self, index: u32) -> &Obj {
        &self.objs[index as usize]
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, index: u32) -> &mut Obj {
        &mut self.objs[index as usize]
    }

    /// Builds the `Value` of `root`, consuming the graph.
    pub(crate) fn into_value(mut self, root: Item, max_depth: usize) -> Result<Value> {
        let mut shares = Shares::new(&self, root);
        Builder { objs: Objs::Take(&mut self), shares: &mut shares, max_depth }.build(root)
    }

    /// Builds the `Value` of `item`, leaving the graph as it is. Objects `shares` counts
    /// as shared become one [`Shared`] node, however many values are built from the graph.
    pub(crate) fn value_of(&self, item: Item, shares: &mut Shares, max_depth: usize) -> Result<Value> {
        Builder { objs: Objs::Copy(self), shares, max_depth }.build(item)
    }

    /// A copy of the value of `item`, leaving the graph as it is: what a persistent-id hook
    /// is given while the pickle is still being read. Ids are small; deep ones are refused.
    pub(crate) fn snapshot(&self, item: Item, depth: usize) -> Result<Value> {
        if depth > SNAPSHOT_DEPTH {
            return Err(Error::unpickling("persistent id nested too deeply"));
        }
        let many = |items: &[Item]| items.iter().map(|&i| self.snapshot(i, depth + 1)).collect::<Result<Vec<_>>>();
        Ok(match item {
            Item::None => Value::None,
            Item::Bool(b) => Value::Bool(b),
            Item::Int(i) => Value::Int(i),
            Item::Float(f) => Value::Float(f),
            Item::Obj(i) => match self.get(i) {
                Obj::BigInt(b) => Value::BigInt(Box::new(b.clone())),
                Obj::Str(s) => Value::Str(s.clone()),
                Obj::Bytes(b) => Value::Bytes(b.clone()),
                Obj::ByteArray(b) => Value::ByteArray(b.clone()),
                Obj::Tuple(v) => Value::Tuple(many(v)?),
                Obj::List(v) => Value::List(many(v)?),
                Obj::Set(v) => Value::Set(many(v)?),
                Obj::FrozenSet(v) => Value::FrozenSet(many(v)?),
                Obj::Dict(pairs) => Value::Dict(
                    pairs
                        .iter()
                        .map(|&(k, v)| Ok((self.snapshot(k, depth + 1)?, self.snapshot(v, depth + 1)?)))
                        .collect::<Result<_>>()?,
                ),
                Obj::Global(g) => Value::Global(g.clone()),
                Obj::PersistentId(id) => Value::PersistentId(Box::new(self.snapshot(*id, depth + 1)?)),
                Obj::Object(_) | Obj::Taken => {
                    return Err(Error::unpickling("a persistent id must be data, not an object built by a reduction"))
                }
            },
        })
    }

    /// Adds a value made outside the pickle (a persistent-id hook's answer, an out-of-band
    /// buffer) to the graph. `nodes` maps the value's shared nodes to their objects.
    pub(crate) fn insert(&mut self, value: &Value, nodes: &mut HashMap<usize, Item>, depth: usize) -> Result<Item> {
        self.maybe_shared = true;
        if depth > INSERT_DEPTH {
            return Err(Error::unpickling("a value given to the unpickler is nested too deeply"));
        }
        let mut many = |graph: &mut Graph, items: &[Value]| {
            items.iter().map(|v| graph.insert(v, nodes, depth + 1)).collect::<Result<Vec<_>>>()
        };
        let obj = match value {
            Value::None => return Ok(Item::None),
            Value::Bool(b) => return Ok(Item::Bool(*b)),
            Value::Int(i) => return Ok(Item::Int(*i)),
            Value::Float(f) => return Ok(Item::Float(*f)),
            Value::BigInt(b) => Obj::BigInt((**b).clone()),
            Value::Str(s) => Obj::Str(s.clone()),
            Value::Bytes(b) => Obj::Bytes(b.clone()),
            Value::ByteArray(b) => Obj::ByteArray(b.clone()),
            Value::Global(g) => Obj::Global(g.clone()),
            Value::Tuple(v) => Obj::Tuple(many(self, v)?),
            Value::List(v) => Obj::List(many(self, v)?),
            Value::Set(v) => Obj::Set(many(self, v)?),
            Value::FrozenSet(v) => Obj::FrozenSet(many(self, v)?),
            Value::Dict(pairs) => {
                let mut out = Vec::with_capacity(pairs.len());
                for (k, v) in pairs {
                    out.push((self.insert(k, nodes, depth + 1)?, self.insert(v, nodes, depth + 1)?));
                }
                Obj::Dict(out)
            }
            Value::PersistentId(id) => Obj::PersistentId(self.insert(id, nodes, depth + 1)?),
            Value::Object(o) => {
                let mut item = |v: &Value| self.insert(v, nodes, depth + 1);
                let node = ObjectNode {
                    callable: item(&o.callable)?,
                    args: item(&o.args)?,
                    state: o.state.as_ref().map(&mut item).transpose()?,
                    state_setter: o.state_setter.as_ref().map(&mut item).transpose()?,
                    list_items: o.list_items.iter().map(&mut item).collect::<Result<_>>()?,
                    dict_items: o.dict_items.iter().map(|(k, v)| Ok((item(k)?, item(v)?))).collect::<Result<_>>()?,
                };
                Obj::Object(Box::new(node))
            }
            Value::Shared(s) => {
                if let Some(&item) = nodes.get(&s.id()) {
                    return Ok(item);
                }
                let inner =
                    s.get().ok_or_else(|| Error::unpickling("an unset shared node was given to the unpickler"))?;
                // Reserve the node's slot first, so a cycle back to it finds it.
                let slot = self.add(Obj::Taken)?;
                nodes.insert(s.id(), slot);
                let filled = self.insert(inner, nodes, depth + 1)?;
                if let (Item::Obj(slot), Item::Obj(filled)) = (slot, filled) {
                    let obj = std::mem::replace(self.get_mut(filled), Obj::Taken);
                    *self.get_mut(slot) = obj;
                    return Ok(Item::Obj(slot));
                }
                nodes.insert(s.id(), filled);
                return Ok(filled);
            }
            Value::Cycle(c) => {
                return nodes
                    .get(&c.id())
                    .copied()
                    .ok_or_else(|| Error::unpickling("a dangling cycle link was given to the unpickler"));
            }
        };
        self.add(obj)
    }

    /// How many references each object reachable from `root` has, root included.
    fn count_references(&self, root: Item) -> Vec<u32> {
        let mut counts = vec![0u32; self.objs.len()];
        let mut pending = vec![root];
        while let Some(item) = pending.pop() {
            let Item::Obj(i) = item else { continue };
            counts[i as usize] = counts[i as usize].saturating_add(1);
            if counts[i as usize] == 1 {
                self.get(i).for_each_child(|child| pending.push(child));
            }
        }
        counts
    }
}

impl Obj {
    /// Calls `f` on every item the object holds.
    pub(crate) fn for_each_child(&self, mut f: impl FnMut(Item)) {
        match self {
            Obj::Tuple(v) | Obj::List(v) | Obj::Set(v) | Obj::FrozenSet(v) => v.iter().copied().for_each(f),
            Obj::Dict(pairs) => pairs.iter().for_each(|&(k, v)| {
                f(k);
                f(v);
            }),
            Obj::Object(o) => {
                f(o.callable);
                f(o.args);
                o.state.into_iter().chain(o.state_setter).for_each(&mut f);
                o.list_items.iter().copied().for_each(&mut f);
                o.dict_items.iter().for_each(|&(k, v)| {
                    f(k);
                    f(v);
                });
            }
            Obj::PersistentId(id) => f(*id),
            _ => {}
        }
    }

    /// The Python type name, for error messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Obj::BigInt(_) => "int",
            Obj::Str(_) => "str",
            Obj::Bytes(_) => "bytes",
            Obj::ByteArray(_) => "bytearray",
            Obj::Tuple(_) => "tuple",
            Obj::List(_) => "list",
            Obj::Dict(_) => "dict",
            Obj::Set(_) => "set",
            Obj::FrozenSet(_) => "frozenset",
            Obj::Global(_) => "global",
            Obj::Object(_) => "object",
            Obj::PersistentId(_) => "persistent id",
            Obj::Taken => "object",
        }
    }
}

/// What a shared object has become while the value is built.
#[derive(Clone)]
enum Node {
    Unvisited,
    /// Being built: a reference to it now closes a cycle.
    Building(Shared),
    Done(Shared),
}

/// Which objects are shared, and the nodes they have become.
pub(crate) struct Shares {
    /// How many references each object has from the root; empty when none can have two.
    counts: Vec<u32>,
    nodes: Vec<Node>,
}

impl Shares {
    pub(crate) fn new(graph: &Graph, root: Item) -> Shares {
        if !graph.maybe_shared {
            return Shares { counts: Vec::new(), nodes: Vec::new() };
        }
        Shares { counts: graph.count_references(root), nodes: vec![Node::Unvisited; graph.objs.len()] }
    }

    fn is_shared(&self, index: u32) -> bool {
        self.counts.get(index as usize).is_some_and(|&c| c > 1)
    }
}

/// Where the builder gets the objects: taken out of a graph it consumes, or copied.
enum Objs<'g> {
    Take(&'g mut Graph),
    Copy(&'g Graph),
}

impl Objs<'_> {
    fn graph(&self) -> &Graph {
        match self {
            Objs::Take(graph) => graph,
            Objs::Copy(graph) => graph,
        }
    }

    fn take(&mut self, index: u32) -> Obj {
        match self {
            Objs::Take(graph) => std::mem::replace(graph.get_mut(index), Obj::Taken),
            Objs::Copy(graph) => graph.get(index).clone(),
        }
    }
}

/// The value of an item that is no object.
#[inline]
fn atom(item: Item) -> Value {
    match item {
        Item::None => Value::None,
        Item::Bool(b) => Value::Bool(b),
        Item::Int(i) => Value::Int(i),
        Item::Float(f) => Value::Float(f),
        Item::Obj(_) => unreachable!("objects are taken, not converted"),
    }
}

/// A container whose children are being built.
struct Frame {
    /// The object's index in the arena.
    index: u32,
    /// The object, taken out of the arena.
    obj: Obj,
    /// The shared node it will fill, if it is shared.
    node: Option<(u32, Shared)>,
    /// Its children in order, as built so far.
    built: Vec<Value>,
    /// How many children it has.
    total: usize,
}

struct Builder<'g> {
    objs: Objs<'g>,
    shares: &'g mut Shares,
    max_depth: usize,
}

impl Builder<'_> {
    /// Builds the children that come next and need no frame of their own in one go: atoms,
    /// and objects without children that only this container refers to (strings, bytes,
    /// big ints, globals). The common cases, a long list of numbers or of strings and a
    /// dict of them, need no trip through the builder's loop per item.
    #[inline]
    fn take_leaves(&mut self, frame: &mut Frame) {
        while frame.built.len() < frame.total {
            if let Obj::Tuple(items) | Obj::List(items) | Obj::Set(items) | Obj::FrozenSet(items) = &frame.obj {
                // A run of atoms in one `extend`, the common case of a list of numbers.
                let rest = &items[frame.built.len()..];
                let run = rest.iter().position(|item| matches!(item, Item::Obj(_))).unwrap_or(rest.len());
                frame.built.extend(rest[..run].iter().map(|&item| atom(item)));
                if run == rest.len() {
                    return;
                }
            }
            let value = match nth_child(&frame.obj, frame.built.len()) {
                Item::Obj(i) => {
                    if self.shares.is_shared(i) || child_count(self.objs.graph().get(i)) > 0 {
                        return;
                    }
                    assemble(self.objs.take(i), Vec::new())
                }
                item => atom(item),
            };
            frame.built.push(value);
        }
    }

    fn build(mut self, root: Item) -> Result<Value> {
        let mut frames: Vec<Frame> = Vec::new();
        // The value of the item just finished, to hand to the frame below.
        let mut finished = match self.enter(root, &mut frames)? {
            Some(v) => return Ok(v),
            None => None,
        };
        loop {
            let frame = frames.last_mut().expect("a frame is open while values are pending");
            if let Some(v) = finished.take() {
                frame.built.push(v);
            }
            self.take_leaves(frame);
            if frame.built.len() < frame.total {
                let next = nth_child(&frame.obj, frame.built.len());
                if let Some(v) = self.enter(next, &mut frames)? {
                    finished = Some(v);
                }
                continue;
            }
            let frame = frames.pop().expect("checked above");
            let value = assemble(frame.obj, frame.built);
            let value = match frame.node {
                Some((index, node)) => {
                    let _ = node.set(value);
                    self.shares.nodes[index as usize] = Node::Done(node.clone());
                    Value::Shared(node)
                }
                None => value,
            };
            if frames.is_empty() {
                return Ok(value);
            }
            finished = Some(value);
        }
    }

    /// Starts on an item: atoms and finished shared objects are returned at once; a
    /// container opens a frame and returns `None`.
    fn enter(&mut self, item: Item, frames: &mut Vec<Frame>) -> Result<Option<Value>> {
        let index = match item {
            Item::None => return Ok(Some(Value::None)),
            Item::Bool(b) => return Ok(Some(Value::Bool(b))),
            Item::Int(i) => return Ok(Some(Value::Int(i))),
            Item::Float(f) => return Ok(Some(Value::Float(f))),
            Item::Obj(i) => i,
        };
        let shared = self.shares.is_shared(index);
        if shared {
            match &self.shares.nodes[index as usize] {
                Node::Done(node) => return Ok(Some(Value::Shared(node.clone()))),
                Node::Building(node) => {
                    let link = Value::Cycle(node.downgrade());
                    share_cycle(frames, &mut self.shares.nodes, index);
                    return Ok(Some(link));
                }
                Node::Unvisited => {}
            }
        }
        let obj = self.objs.take(index);
        let total = child_count(&obj);
        if total == 0 {
            let value = assemble(obj, Vec::new());
            return Ok(Some(if shared {
                let node = Shared::new(value);
                self.shares.nodes[index as usize] = Node::Done(node.clone());
                Value::Shared(node)
            } else {
                value
            }));
        }
        if frames.len() >= self.max_depth {
            let error = Error::new(ErrorKind::LimitExceeded { what: "nesting depth", limit: self.max_depth as u64 });
            return Err(match self.objs.graph().offset_of(index) {
                Some(offset) => error.at_offset(offset),
                None => error,
            });
        }
        let node = shared.then(|| {
            let node = Shared::empty();
            self.shares.nodes[index as usize] = Node::Building(node.clone());
            (index, node)
        });
        // The children are in the arena already, paid for by the input: reserve them all.
        frames.push(Frame { index, obj, node, built: Vec::with_capacity(total), total });
        Ok(None)
    }
}

/// A cycle closes on the object of frame `target`: every object on it keeps its identity.
///
/// An object referred to once would be moved in place, but one on a cycle must stay one
/// object: re-pickling a tuple that contains itself (through a list) saves the tuple's items
/// twice, as CPython does, and only the memo stops the second pass.
fn share_cycle(frames: &mut [Frame], nodes: &mut [Node], target: u32) {
    for frame in frames.iter_mut().rev() {
        if frame.index == target {
            break;
        }
        if frame.node.is_none() {
            let node = Shared::empty();
            nodes[frame.index as usize] = Node::Building(node.clone());
            frame.node = Some((frame.index, node));
        }
    }
}

fn child_count(obj: &Obj) -> usize {
    match obj {
        Obj::Tuple(v) | Obj::List(v) | Obj::Set(v) | Obj::FrozenSet(v) => v.len(),
        Obj::Dict(pairs) => 2 * pairs.len(),
        Obj::Object(o) => {
            2 + o.state.is_some() as usize
                + o.state_setter.is_some() as usize
                + o.list_items.len()
                + 2 * o.dict_items.len()
        }
        Obj::PersistentId(_) => 1,
        _ => 0,
    }
}

/// The `n`th child in the order `child_count` counts them and `assemble` takes them.
fn nth_child(obj: &Obj, n: usize) -> Item {
    match obj {
        Obj::Tuple(v) | Obj::List(v) | Obj::Set(v) | Obj::FrozenSet(v) => v[n],
        Obj::Dict(pairs) => {
            let (k, v) = pairs[n / 2];
            if n % 2 == 0 {
                k
            } else {
                v
            }
        }
        Obj::Object(o) => {
            // The callable, the arguments, then the state and the state setter where there
            // are: counted out rather than through an iterator, as every child asks.
            let mut n = match n {
                0 => return o.callable,
                1 => return o.args,
                n => n - 2,
            };
            for part in [o.state, o.state_setter].into_iter().flatten() {
                if n == 0 {
                    return part;
                }
                n -= 1;
            }
            if n < o.list_items.len() {
                return o.list_items[n];
            }
            let n = n - o.list_items.len();
            let (k, v) = o.dict_items[n / 2];
            if n % 2 == 0 {
                k
            } else {
                v
            }
        }
        Obj::PersistentId(id) => *id,
        _ => unreachable!("atoms have no children"),
    }
}

/// Puts a container back together from its built children.
fn assemble(obj: Obj, built: Vec<Value>) -> Value {
    let mut built = built.into_iter();
    let mut pairs = |n: usize| -> Vec<(Value, Value)> {
        (0..n).map(|_| (built.next().unwrap_or_default(), built.next().unwrap_or_default())).collect()
    };
    match obj {
        Obj::BigInt(i) => Value::BigInt(Box::new(i)),
        Obj::Str(s) => Value::Str(s),
        Obj::Bytes(b) => Value::Bytes(b),
        Obj::ByteArray(b) => Value::ByteArray(b),
        Obj::Global(g) => Value::Global(g),
        Obj::Dict(p) => Value::Dict(pairs(p.len())),
        Obj::Tuple(_) => Value::Tuple(built.collect()),
        Obj::List(_) => Value::List(built.collect()),
        Obj::Set(_) => Value::Set(built.collect()),
        Obj::FrozenSet(_) => Value::FrozenSet(built.collect()),
        Obj::PersistentId(_) => Value::PersistentId(Box::new(built.next().unwrap_or_default())),
        Obj::Object(o) => {
            let callable = built.next().unwrap_or_default();
            let args = built.next().unwrap_or_default();
            let state = o.state.map(|_| built.next().unwrap_or_default());
            let state_setter = o.state_setter.map(|_| built.next().unwrap_or_default());
            let list_items = (0..o.list_items.len()).map(|_| built.next().unwrap_or_default()).collect();
            let dict_items = (0..o.dict_items.len())
                .map(|_| (built.next().unwrap_or_default(), built.next().unwrap_or_default()))
                .collect();
            Value::Object(Box::new(Object { callable, args, state, list_items, dict_items, state_setter }))
        }
        Obj::Taken => Value::None,
    }
}
