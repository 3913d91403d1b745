//! The handoff: what a fast path holds when it meets an opcode it does not decode, in the
//! form the general loader goes on from.
//!
//! The direct path to a `Value` builds values on its stack; the general loader builds an
//! arena of objects. When the direct path cannot go on (a reduction, a persistent id, an
//! out-of-band buffer, a cycle), it stops before that opcode and gives its stack, marks, the
//! memo entries a later GET fetches, its allocation budget and the globals' names as a
//! [`Held`]. The general loader moves those values into its arena, each shared node once
//! (so a GET after the handoff finds the very object put before it), and reads on from the
//! opcode the direct path stopped at. No byte is read twice, and no payload is copied again.

use std::collections::HashMap;

use super::args::Budget;
use super::globals::GlobalNames;
use crate::error::{Error, Result};
use crate::graph::{Graph, Item, Obj, ObjectNode};
use crate::value::{Shared, Value};

/// What a fast path decoded, for the general loader to go on from. Opaque outside the
/// decoder.
pub struct Held {
    /// Where the opcode the loader reads first is, from the start of the pickle.
    pub(crate) at: usize,
    /// What the last PROTO said.
    pub(crate) proto: u8,
    /// The highest protocol among the opcodes before `at`.
    pub(crate) highest: u8,
    pub(crate) stack: Vec<Value>,
    pub(crate) marks: Vec<usize>,
    /// The memo entries put so far that a later GET fetches, by memo index. An entry of a
    /// list or dict still on the stack is its node, still empty: see `open`.
    pub(crate) memo: Vec<(u64, Value)>,
    /// Lists and dicts on the stack that a GET fetches: their stack positions, and the
    /// identities of the (still empty) nodes that stand for them elsewhere.
    pub(crate) open: Vec<(usize, usize)>,
    /// Entries put so far, fetched or not: CPython's `memo_len`.
    pub(crate) memo_len: u64,
    pub(crate) budget: Budget,
    /// The globals' names so far, each with its str's identity (a node's, or a fresh one).
    pub(crate) global_names: GlobalNames,
    /// The identity of the `copyreg.__newobj__` node NEWOBJ's objects share, if any.
    pub(crate) newobj: Option<usize>,
}

/// What a fast path made of a pickle in memory.
pub enum FastLoad<T> {
    /// The value, and the length of the pickle.
    Done(T, usize),
    /// What it decoded before an opcode it does not, for the general loader to go on from.
    Held(Box<Held>),
    /// Nothing: the general loader reads the pickle from its start (an error, a limit, a
    /// case only the general loader decides).
    Declined,
}

/// The held state in the loader's terms.
pub(crate) struct Resumed {
    pub(crate) stack: Vec<Item>,
    pub(crate) marks: Vec<usize>,
    pub(crate) memo: Vec<(u64, Item)>,
    pub(crate) global_names: GlobalNames,
    pub(crate) newobj: Option<Item>,
}

impl Held {
    /// Moves the held values into `graph`.
    pub(crate) fn adopt(self, graph: &mut Graph) -> Result<Resumed> {
        let Held { stack, marks, memo, open, mut global_names, newobj, .. } = self;
        let mut adopter = Adopter {
            graph,
            nodes: HashMap::new(),
            pending: Vec::new(),
            tasks: Vec::new(),
            waiting: HashMap::new(),
            retry: Vec::new(),
        };
        let mut open = open.into_iter().peekable();
        let mut items = Vec::with_capacity(stack.len());
        for (pos, value) in stack.into_iter().enumerate() {
            let item = adopter.adopt(value)?;
            while let Some((_, node)) = open.next_if(|&(at, _)| at == pos) {
                adopter.nodes.insert(node, item);
            }
            items.push(item);
        }
        let memo = memo.into_iter().map(|(index, value)| Ok((index, adopter.adopt(value)?))).collect::<Result<_>>()?;
        adopter.fill_shared()?;
        let nodes = adopter.nodes;
        let newobj = newobj.and_then(|id| nodes.get(&id).copied());
        global_names.reidentify(|id| match nodes.get(&id) {
            Some(&Item::Obj(index)) => Some(index as usize),
            _ => None,
        });
        if !nodes.is_empty() {
            graph.maybe_shared = true;
        }
        Ok(Resumed { stack: items, marks, memo, global_names, newobj })
    }
}

/// Where an adopted child goes in its parent object.
#[derive(Clone, Copy)]
enum Place {
    /// An item of a tuple, list or set.
    Item(usize),
    Key(usize),
    Value(usize),
    Callable,
    Args,
    State,
    StateSetter,
    ListItem(usize),
    DictKey(usize),
    DictValue(usize),
    PersistentId,
}

/// Moves values into the arena without copying their payloads, iteratively (values may be
/// as deep as `max_depth`).
struct Adopter<'g> {
    graph: &'g mut Graph,
    /// The object each shared node became, by the node's identity.
    nodes: HashMap<usize, Item>,
    /// Shared nodes met, each with the object reserved for it, filled once every other
    /// reference to the node is gone and its value can be moved out.
    pending: Vec<(u32, Shared)>,
    /// Children not yet adopted: their parent object, their place in it, the value.
    tasks: Vec<(u32, Place, Value)>,
    /// Pending nodes that something else still referred to, by identity.
    waiting: HashMap<usize, (u32, Shared)>,
    /// Waiting nodes a reference to which was just adopted: they may be free now.
    retry: Vec<usize>,
}

impl Adopter<'_> {
    fn adopt(&mut self, value: Value) -> Result<Item> {
        let item = self.shallow(value, None)?;
        self.drain()?;
        Ok(item)
    }

    /// Adopts the children queued so far, and theirs.
    fn drain(&mut self) -> Result<()> {
        while let Some((parent, place, value)) = self.tasks.pop() {
            let item = self.shallow(value, None)?;
            self.place(parent, place, item);
        }
        Ok(())
    }

    /// Fills the objects reserved for shared nodes, each once nothing else refers to it, so
    /// that its value is moved, not copied. A node that a value still to be adopted refers
    /// to waits until that reference is adopted (and dropped).
    fn fill_shared(&mut self) -> Result<()> {
        loop {
            while let Some((slot, node)) = self.pending.pop() {
                match node.into_value() {
                    Ok(Some(value)) => {
                        self.shallow(value, Some(slot))?;
                        self.drain()?;
                    }
                    Ok(None) => return Err(unset_node()),
                    Err(node) => {
                        self.waiting.insert(node.id(), (slot, node));
                    }
                }
                for id in std::mem::take(&mut self.retry) {
                    self.pending.extend(self.waiting.remove(&id));
                }
            }
            // Referred to from outside what was held (which the direct path never does):
            // copied, as `Graph::insert` copies.
            let Some(&id) = self.waiting.keys().next() else { return Ok(()) };
            let (slot, node) = self.waiting.remove(&id).expect("a key just seen");
            let value = node.get().cloned().ok_or_else(unset_node)?;
            self.shallow(value, Some(slot))?;
            self.drain()?;
        }
    }

    /// The item for `value`: an atom, a shared node's object, or a new object (into `slot`
    /// where one is reserved) whose children are queued.
    fn shallow(&mut self, mut value: Value, slot: Option<u32>) -> Result<Item> {
        match &value {
            Value::None => return Ok(Item::None),
            Value::Bool(b) => return Ok(Item::Bool(*b)),
            Value::Int(i) => return Ok(Item::Int(*i)),
            Value::Float(f) => return Ok(Item::Float(*f)),
            Value::Shared(node) => return self.shared(node),
            Value::Cycle(link) => return self.nodes.get(&link.id()).copied().ok_or_else(unset_node),
            _ => {}
        }
        let index = slot.unwrap_or_else(|| self.graph.len());
        let tasks = &mut self.tasks;
        let mut queue = |place: Place, value: Value| tasks.push((index, place, value));
        let placeholders = |n: usize| vec![Item::None; n];
        let obj = match &mut value {
            Value::BigInt(b) => Obj::BigInt(std::mem::take(&mut **b)),
            Value::Str(s) => Obj::Str(std::mem::take(s)),
            Value::Bytes(b) => Obj::Bytes(std::mem::take(b)),
            Value::ByteArray(b) => Obj::ByteArray(std::mem::take(b)),
            Value::Global(g) => Obj::Global(g.clone()),
            Value::Tuple(v) | Value::List(v) | Value::Set(v) | Value::FrozenSet(v) => {
                let items = std::mem::take(v);
                let n = items.len();
                items.into_iter().enumerate().for_each(|(k, item)| queue(Place::Item(k), item));
                match &value {
                    Value::Tuple(_) => Obj::Tuple(placeholders(n)),
                    Value::List(_) => Obj::List(placeholders(n)),
                    Value::Set(_) => Obj::Set(placeholders(n)),
                    _ => Obj::FrozenSet(placeholders(n)),
                }
            }
            Value::Dict(pairs) => {
                let pairs = std::mem::take(pairs);
                let n = pairs.len();
                for (k, (key, value)) in pairs.into_iter().enumerate() {
                    queue(Place::Key(k), key);
                    queue(Place::Value(k), value);
                }
                Obj::Dict(vec![(Item::None, Item::None); n])
            }
            Value::PersistentId(id) => {
                queue(Place::PersistentId, std::mem::take(&mut **id));
                Obj::PersistentId(Item::None)
            }
            Value::Object(o) => {
                let o = &mut **o;
                queue(Place::Callable, std::mem::take(&mut o.callable));
                queue(Place::Args, std::mem::take(&mut o.args));
                let state = o.state.take().map(|state| queue(Place::State, state)).is_some();
                let setter = o.state_setter.take().map(|setter| queue(Place::StateSetter, setter)).is_some();
                let (list, dict) = (o.list_items.len(), o.dict_items.len());
                std::mem::take(&mut o.list_items)
                    .into_iter()
                    .enumerate()
                    .for_each(|(k, v)| queue(Place::ListItem(k), v));
                for (k, (key, value)) in std::mem::take(&mut o.dict_items).into_iter().enumerate() {
                    queue(Place::DictKey(k), key);
                    queue(Place::DictValue(k), value);
                }
                Obj::Object(Box::new(ObjectNode {
                    callable: Item::None,
                    args: Item::None,
                    state: state.then_some(Item::None),
                    state_setter: setter.then_some(Item::None),
                    list_items: placeholders(list),
                    dict_items: vec![(Item::None, Item::None); dict],
                }))
            }
            Value::None | Value::Bool(_) | Value::Int(_) | Value::Float(_) | Value::Shared(_) | Value::Cycle(_) => {
                unreachable!("taken above")
            }
        };
        match slot {
            Some(slot) => {
                self.graph.fill(slot, obj);
                Ok(Item::Obj(slot))
            }
            None => self.graph.add(obj),
        }
    }

    /// A shared node's object: the one it became, or one reserved for it now.
    fn shared(&mut self, node: &Shared) -> Result<Item> {
        if let Some(&item) = self.nodes.get(&node.id()) {
            if self.waiting.contains_key(&node.id()) {
                self.retry.push(node.id());
            }
            return Ok(item);
        }
        let item = self.graph.add(Obj::Taken)?;
        let Item::Obj(slot) = item else { unreachable!("the arena gives objects") };
        self.nodes.insert(node.id(), item);
        self.pending.push((slot, node.clone()));
        Ok(item)
    }

    /// Puts an adopted child in its place in `parent`.
    fn place(&mut self, parent: u32, place: Place, item: Item) {
        match (self.graph.get_mut(parent), place) {
            (Obj::Tuple(v) | Obj::List(v) | Obj::Set(v) | Obj::FrozenSet(v), Place::Item(k)) => v[k] = item,
            (Obj::Dict(pairs), Place::Key(k)) => pairs[k].0 = item,
            (Obj::Dict(pairs), Place::Value(k)) => pairs[k].1 = item,
            (Obj::PersistentId(id), Place::PersistentId) => *id = item,
            (Obj::Object(o), place) => match place {
                Place::Callable => o.callable = item,
                Place::Args => o.args = item,
                Place::State => o.state = Some(item),
                Place::StateSetter => o.state_setter = Some(item),
                Place::ListItem(k) => o.list_items[k] = item,
                Place::DictKey(k) => o.dict_items[k].0 = item,
                Place::DictValue(k) => o.dict_items[k].1 = item,
                _ => unreachable!("an object's children have an object's places"),
            },
            _ => unreachable!("each child is queued with a place its parent has"),
        }
    }
}

fn unset_node() -> Error {
    Error::unpickling("a fast path handed over a reference to an object it had not finished")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(stack: Vec<Value>, memo: Vec<(u64, Value)>) -> Held {
        Held {
            at: 0,
            proto: 2,
            highest: 2,
            stack,
            marks: Vec::new(),
            memo,
            open: Vec::new(),
            memo_len: 0,
            budget: Budget::new(u64::MAX),
            global_names: GlobalNames::default(),
            newobj: None,
        }
    }

    /// A payload inside a shared node that another shared node holds, both in the memo: the
    /// inner node waits until the outer one is adopted, then its payload is moved, not
    /// copied, and every reference to either node is one object.
    #[test]
    fn shared_payloads_are_moved_once_every_reference_is_adopted() {
        let payload = vec![7u8; 1000];
        let address = payload.as_ptr();
        let inner = Shared::new(Value::Bytes(payload));
        let outer = Shared::new(Value::Tuple(vec![Value::Shared(inner.clone()), Value::Int(1)]));
        let stack = vec![Value::List(vec![Value::Shared(outer.clone()), Value::Shared(inner.clone())])];
        let memo = vec![(0, Value::Shared(inner)), (1, Value::Shared(outer))];
        let mut graph = Graph::default();
        let resumed = held(stack, memo).adopt(&mut graph).unwrap();
        let (inner_item, outer_item) = (resumed.memo[0].1, resumed.memo[1].1);
        let Item::Obj(inner_index) = inner_item else { panic!("{inner_item:?}") };
        let Obj::Bytes(bytes) = graph.get(inner_index) else { panic!("not bytes") };
        assert_eq!(bytes.as_ptr(), address, "the payload was copied");
        let Item::Obj(list) = resumed.stack[0] else { panic!() };
        let Obj::List(items) = graph.get(list) else { panic!("not a list") };
        assert_eq!(items, &[outer_item, inner_item]);
        let Item::Obj(outer_index) = outer_item else { panic!() };
        let Obj::Tuple(fields) = graph.get(outer_index) else { panic!("not a tuple") };
        assert_eq!(fields, &[inner_item, Item::Int(1)]);
        assert!(graph.maybe_shared);
    }

    /// A list still on the stack that a GET fetched: its node, empty, stands for it in the
    /// memo and above it on the stack, and becomes the list's object.
    #[test]
    fn an_open_list_is_the_object_its_node_stands_for() {
        let node = Shared::empty();
        let stack = vec![Value::List(vec![Value::Int(1)]), Value::Shared(node.clone())];
        let mut held = held(stack, vec![(3, Value::Shared(node.clone()))]);
        held.open = vec![(0, node.id())];
        let mut graph = Graph::default();
        let resumed = held.adopt(&mut graph).unwrap();
        assert_eq!(resumed.stack[0], resumed.stack[1]);
        assert_eq!(resumed.memo, vec![(3, resumed.stack[0])]);
    }
}
