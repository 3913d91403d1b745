//! `IndexMap` and `IndexSet` as Python `dict` and `set` (feature `indexmap`): unlike
//! `HashMap`, they keep the order, so a dict loaded from Python pickles back in its order;
//! an `IndexMap` also loads a `collections.OrderedDict`, whose order is its point.

use std::hash::{BuildHasher, Hash};

use ::indexmap::{IndexMap, IndexSet};

use crate::reconstruct::{collect_items, collect_pairs, Kind, Stream};
use crate::reduce::{Builtin, Mapping, Sequence};
use crate::ser::{ItemSink, PairSink};
use crate::{Node, Reconstruct, Reduce, Reduction, Result};

impl<K: Reduce, V: Reduce, S> Reduce for IndexMap<K, V, S> {
    fn reduce_ex(&self, _protocol: u8) -> Result<Reduction<'_>> {
        Ok(Reduction::Builtin(Builtin::Dict(self)))
    }
}

impl<K: Reduce, V: Reduce, S> Mapping for IndexMap<K, V, S> {
    fn len(&self) -> usize {
        IndexMap::len(self)
    }
    fn save_pairs(&self, sink: &mut PairSink<'_, '_>) -> Result<()> {
        sink.save_all(self.iter())
    }
}

impl<T: Reduce, S> Reduce for IndexSet<T, S> {
    fn reduce_ex(&self, _protocol: u8) -> Result<Reduction<'_>> {
        Ok(Reduction::Builtin(Builtin::Set(self)))
    }
}

impl<T: Reduce, S> Sequence for IndexSet<T, S> {
    fn len(&self) -> usize {
        IndexSet::len(self)
    }
    fn get(&self, index: usize) -> Option<&dyn Reduce> {
        self.get_index(index).map(|v| v as &dyn Reduce)
    }
    fn save_items(&self, sink: &mut ItemSink<'_, '_>) -> Result<()> {
        sink.save_all(self.iter())
    }
}

/// From a dict, or a `collections.OrderedDict` (its items set after the call, as its
/// `__reduce__` gives them), in the pickle's order.
impl<K, V, S> Reconstruct for IndexMap<K, V, S>
where
    K: Reconstruct + Eq + Hash,
    V: Reconstruct,
    S: BuildHasher + Default,
{
    fn reconstruct(node: Node<'_>) -> Result<IndexMap<K, V, S>> {
        let ordered = node.instance().filter(|i| i.is("collections", "OrderedDict") && i.args().len() == 0);
        let pairs = node.pairs().or_else(|| ordered.map(|i| i.dict_items()));
        collect_pairs(pairs.ok_or_else(|| node.mismatch("dict"))?)
    }

    /// A dict (an `OrderedDict` is the general loader's).
    fn stream<R: Stream>(stream: &mut R) -> Option<IndexMap<K, V, S>> {
        let mut map = IndexMap::default();
        stream.pairs(|key, value| map.insert(key, value).is_none())?;
        Some(map)
    }
}

/// From a set or a frozenset, in the pickle's order.
impl<T: Reconstruct + Eq + Hash, S: BuildHasher + Default> Reconstruct for IndexSet<T, S> {
    fn reconstruct(node: Node<'_>) -> Result<IndexSet<T, S>> {
        let items = node.items().filter(|_| matches!(node.kind(), Kind::Set | Kind::FrozenSet));
        collect_items(items.ok_or_else(|| node.mismatch("set"))?)
    }

    fn stream<R: Stream>(stream: &mut R) -> Option<IndexSet<T, S>> {
        let mut set = IndexSet::default();
        stream.set(|item| {
            set.insert(item);
        })?;
        Some(set)
    }
}
