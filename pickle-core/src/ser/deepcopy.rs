//! `copy.deepcopy` for Rust values: through `reduce_ex` and [`Reconstruct`], without bytes.
//!
//! Python's `copy.deepcopy` asks an object for `__reduce_ex__(4)` and rebuilds it from the
//! parts (`copy._reconstruct`), copying each part in turn and keeping a memo by identity
//! so that shared parts stay shared. [`Copier`] does the same: it turns a value's
//! reductions into the unpickler's object graph (the form a pickle is read into), and the
//! target type reconstructs itself from that graph as from a loaded pickle.

use std::collections::HashMap;

use super::saver::{ItemSink, PairSink, SinkTarget};
use crate::error::{Error, ErrorKind, Result};
use crate::graph::{Graph, Item, Obj, ObjectNode};
use crate::reconstruct::{Reconstruct, Tree};
use crate::reduce::{Builtin, Call, Reduce, Reduction};
use crate::value::{Global, PyString};

/// The protocol `copy.deepcopy` asks reductions for.
const DEEPCOPY_PROTOCOL: u8 = 4;
/// How deep a copied value may nest: CPython's recursion limit, as the pickler's.
const MAX_DEPTH: usize = 1000;

/// A deep copy made the way Python's `copy.deepcopy` makes one: from the value's reduction
/// at protocol 4, rebuilt by [`Reconstruct`], with no pickle in between. Sharing survives:
/// two `Rc`s of one value in `x` are two `Rc`s of one new value in the copy.
///
/// ```
/// use std::rc::Rc;
/// use pickle_core::{deepcopy, Reconstruct, Reduce};
///
/// #[derive(Reduce, Reconstruct, Debug, PartialEq)]
/// #[pickle(module = "shapes")]
/// struct Point { x: i64, y: i64 }
///
/// let p = Rc::new(Point { x: 1, y: 2 });
/// let pair = (Rc::clone(&p), p);
/// let copy = deepcopy(&pair)?;
/// assert_eq!(*copy.0, Point { x: 1, y: 2 });
/// assert!(Rc::ptr_eq(&copy.0, &copy.1));
/// assert!(!Rc::ptr_eq(&copy.0, &pair.0));
/// # Ok::<(), pickle_core::Error>(())
/// ```
pub fn deepcopy<T: Reduce + Reconstruct>(x: &T) -> Result<T> {
    let mut graph = Graph::default();
    graph.maybe_shared = true;
    let mut copier = Copier { graph, memo: HashMap::new(), depth: 0 };
    let root = copier.copy(x)?;
    T::from_tree(Tree::new(copier.graph, root, DEEPCOPY_PROTOCOL, MAX_DEPTH))
}

/// Builds the unpickler's object graph from reductions.
pub(crate) struct Copier {
    graph: Graph,
    /// The object made for each identity seen: `copy.deepcopy`'s memo.
    memo: HashMap<usize, Item>,
    depth: usize,
}

impl Copier {
    /// The item for `obj`: its copy, or the copy already made for its identity.
    pub(crate) fn copy<T: Reduce + ?Sized>(&mut self, obj: &T) -> Result<Item> {
        let identity = obj.identity();
        if let Some(&item) = identity.and_then(|id| self.memo.get(&id)) {
            return Ok(item);
        }
        let reduction = obj.reduce_ex(DEEPCOPY_PROTOCOL)?;
        if self.depth >= MAX_DEPTH {
            return Err(ErrorKind::RecursionLimit(MAX_DEPTH).into());
        }
        self.depth += 1;
        let item = crate::stack::grow(|| self.copy_reduction(reduction, identity));
        self.depth -= 1;
        item
    }

    /// Copies each element `copy_one` is given, appending the items it makes to `out`;
    /// returns how many elements there were.
    pub(crate) fn copy_all<I: Iterator, const N: usize>(
        &mut self,
        elements: I,
        out: &mut Vec<Item>,
        mut copy_one: impl FnMut(&mut Copier, I::Item) -> Result<[Item; N]>,
    ) -> Result<usize> {
        let mut count = 0;
        for element in elements {
            out.extend(copy_one(self, element)?);
            count += 1;
        }
        Ok(count)
    }

    fn remember(&mut self, identity: Option<usize>, item: Item) {
        if let Some(id) = identity {
            self.memo.insert(id, item);
        }
    }

    fn copy_reduction(&mut self, reduction: Reduction<'_>, identity: Option<usize>) -> Result<Item> {
        let item = match reduction {
            Reduction::Builtin(builtin) => return self.copy_builtin(builtin, identity),
            Reduction::Global(g) => self.graph.add(Obj::Global(Box::new(Global {
                module: g.module.into_owned(),
                name: g.name.into_owned(),
                fresh_names: g.fresh_names,
            })))?,
            Reduction::Call(call) => return self.copy_call(*call, identity),
            Reduction::As(other) => {
                let inner = other.identity();
                if let Some(&item) = inner.and_then(|id| self.memo.get(&id)) {
                    return Ok(item);
                }
                let reduction = other.reduce_ex(DEEPCOPY_PROTOCOL)?;
                return self.copy_reduction(reduction, identity.or(inner));
            }
        };
        self.remember(identity, item);
        Ok(item)
    }

    fn copy_builtin(&mut self, builtin: Builtin<'_>, identity: Option<usize>) -> Result<Item> {
        let obj = match builtin {
            Builtin::None => return Ok(Item::None),
            Builtin::Bool(b) => return Ok(Item::Bool(b)),
            Builtin::Int(i) => return Ok(Item::Int(i)),
            Builtin::Float(f) => return Ok(Item::Float(f)),
            Builtin::BigInt(b) => Obj::BigInt(b.into_owned()),
            Builtin::Str(s) => Obj::Str(PyString::from(&*s)),
            Builtin::PyStr(s) => Obj::Str(s.clone()),
            Builtin::Name(s) => Obj::Str(PyString::from(s)),
            Builtin::Bytes(b) | Builtin::UnsharedBytes(b) => Obj::Bytes(b.to_vec()),
            Builtin::ByteArray(b) => Obj::ByteArray(b.to_vec()),
            Builtin::PersistentId(id) => {
                let id = self.graph.insert(id, &mut HashMap::new(), 0)?;
                Obj::PersistentId(id)
            }
            Builtin::Tuple(items) => {
                // A tuple is made from its items, so it cannot contain itself (as in Python).
                let mut out = Vec::with_capacity(items.len());
                items.save_items(&mut ItemSink { target: SinkTarget::Copy(self, &mut out), len: items.len() })?;
                // But an item may: a list holding the tuple made its copy on the way, which is
                // the copy (`copy._deepcopy_tuple` checks the memo here, as `save_tuple` does).
                if let Some(&made) = identity.and_then(|id| self.memo.get(&id)) {
                    return Ok(made);
                }
                Obj::Tuple(out)
            }
            Builtin::List(items) | Builtin::Set(items) | Builtin::FrozenSet(items) => {
                let kind: fn(Vec<Item>) -> Obj = match builtin {
                    Builtin::List(_) => Obj::List,
                    Builtin::Set(_) => Obj::Set,
                    _ => Obj::FrozenSet,
                };
                // Made first and remembered, so an item referring back finds it.
                let item = self.reserve(identity)?;
                let mut out = Vec::with_capacity(items.len());
                items.save_items(&mut ItemSink { target: SinkTarget::Copy(self, &mut out), len: items.len() })?;
                return self.fill(item, kind(out));
            }
            Builtin::Dict(pairs) => {
                let item = self.reserve(identity)?;
                let mut out = Vec::with_capacity(2 * pairs.len());
                pairs.save_pairs(&mut PairSink { target: SinkTarget::Copy(self, &mut out), len: pairs.len() })?;
                let pairs = out.chunks_exact(2).map(|kv| (kv[0], kv[1])).collect();
                return self.fill(item, Obj::Dict(pairs));
            }
        };
        let item = self.graph.add(obj)?;
        self.remember(identity, item);
        Ok(item)
    }

    /// An object that will be filled in later, remembered under `identity` now.
    fn reserve(&mut self, identity: Option<usize>) -> Result<Item> {
        let item = self.graph.add(Obj::Taken)?;
        self.remember(identity, item);
        Ok(item)
    }

    fn fill(&mut self, item: Item, obj: Obj) -> Result<Item> {
        let Item::Obj(index) = item else { unreachable!("reserved items are objects") };
        *self.graph.get_mut(index) = obj;
        Ok(item)
    }

    /// `copy._reconstruct`: the callable and args first, then the object is remembered, then
    /// its state and items, which may refer back to it.
    fn copy_call(&mut self, call: Call<'_>, identity: Option<usize>) -> Result<Item> {
        let callable = self.copy(call.callable.get())?;
        let args = self.copy(call.args.get())?;
        if !matches!(args, Item::Obj(i) if matches!(self.graph.get(i), Obj::Tuple(_))) {
            return Err(Error::pickling("the args of a reduction must be a tuple"));
        }
        let item = self.reserve(identity)?;
        let state = call.state.map(|s| self.copy(s.get())).transpose()?;
        let list_items = match call.list_items {
            Some(items) => items.map(|i| self.copy(i.get())).collect::<Result<Vec<_>>>()?,
            None => Vec::new(),
        };
        let dict_items = match call.dict_items {
            Some(pairs) => pairs.map(|(k, v)| Ok((self.copy(k.get())?, self.copy(v.get())?))).collect::<Result<_>>()?,
            None => Vec::new(),
        };
        let state_setter = call.state_setter.map(|s| self.copy(s.get())).transpose()?;
        let node = ObjectNode { callable, args, state, list_items, dict_items, state_setter };
        self.fill(item, Obj::Object(Box::new(node)))
    }
}
