//! Python's key semantics for dicts and sets: which items are equal, and which hash.
//!
//! CPython builds real dicts and sets, so `{1: 'a', 1.0: 'b', True: 'c'}` loads as one key
//! and a list used as a key fails. The loader dedupes with these rules once the pickle is
//! read: numbers compare by value across int, float and bool; str and bytes by content;
//! tuples and frozensets by their items; globals by name; reduced objects by identity.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

use num_bigint::BigInt;
use num_traits::{FromPrimitive, ToPrimitive};

use crate::error::{Error, Result};
use crate::graph::{Graph, Item, Obj};

/// Dicts and sets up to this size dedupe by comparing pairs; larger ones hash.
const LINEAR_LIMIT: usize = 8;

/// The canonical form of a number, so equal numbers of any type hash alike.
#[derive(PartialEq)]
enum Number<'a> {
    Int(i64),
    Float(u64),
    Big(&'a BigInt),
    Nan,
}

fn number(graph: &Graph, item: Item) -> Option<Number<'_>> {
    Some(match item {
        Item::Bool(b) => Number::Int(b as i64),
        Item::Int(i) => Number::Int(i),
        Item::Float(f) if f.is_nan() => Number::Nan,
        Item::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Number::Int(f as i64),
        Item::Float(f) => Number::Float(f.to_bits()),
        Item::Obj(i) => match graph.get(i) {
            Obj::BigInt(b) => match b.to_f64().filter(|f| f.is_finite() && BigInt::from_f64(*f).as_ref() == Some(b)) {
                Some(f) => Number::Float(f.to_bits()),
                None => Number::Big(b),
            },
            _ => return None,
        },
        Item::None => return None,
    })
}

/// Python's key semantics over one graph, remembering what it learnt of tuples and
/// frozensets: a key graph may share its parts (DUP, GET), so a tuple holding the same tuple
/// three times, a hundred levels deep, is one object per level, and each is hashed, checked
/// and compared once, not once per path to it.
pub(crate) struct Keys {
    /// How deeply a key may nest (tuples of tuples of ...): the loaded value's own limit,
    /// which a key, part of the value, cannot pass without the value passing it. A lower
    /// one would depend on the order keys are hashed in, as a part hashed once is known
    /// after, at any depth: a pickle would load and its re-encoding, hashed in another
    /// order, not.
    max_depth: usize,
    /// Hashes of tuples and frozensets, by object.
    hashes: HashMap<u32, u64>,
    /// Tuples and frozensets whose items are all hashable.
    hashable: HashSet<u32>,
    /// Whether two tuples or two frozensets are equal, by their objects.
    compared: HashMap<(u32, u32), bool>,
}

impl Keys {
    /// Key semantics for a value nested at most `max_depth` deep.
    pub(crate) fn new(max_depth: usize) -> Keys {
        Keys { max_depth, hashes: HashMap::new(), hashable: HashSet::new(), compared: HashMap::new() }
    }

    /// Python's `hash(item)` up to consistency with [`Keys::equal`], or the `TypeError` of
    /// an unhashable item.
    fn hash(&mut self, graph: &Graph, item: Item, depth: usize) -> Result<u64> {
        if depth > self.max_depth {
            return Err(Error::unpickling("dict key or set item nested too deeply"));
        }
        let mut h = std::collections::hash_map::DefaultHasher::new();
        match number(graph, item) {
            Some(Number::Int(i)) => (0u8, i).hash(&mut h),
            Some(Number::Float(bits)) => (1u8, bits).hash(&mut h),
            Some(Number::Big(b)) => (2u8, b).hash(&mut h),
            Some(Number::Nan) => 3u8.hash(&mut h),
            None => match item {
                Item::None => 4u8.hash(&mut h),
                Item::Obj(i) => match graph.get(i) {
                    Obj::Str(s) => (5u8, s.as_surrogatepass_bytes()).hash(&mut h),
                    Obj::Bytes(b) => (6u8, b).hash(&mut h),
                    Obj::Tuple(items) | Obj::FrozenSet(items) => {
                        if let Some(&known) = self.hashes.get(&i) {
                            return Ok(known);
                        }
                        let frozen = matches!(graph.get(i), Obj::FrozenSet(_));
                        // A frozenset's hash does not depend on its order, as sets do not.
                        let mut acc = 0u64;
                        for &it in items {
                            let part = crate::stack::grow_every_few(depth, || self.hash(graph, it, depth + 1))?;
                            acc = if frozen { acc.wrapping_add(part) } else { acc.wrapping_mul(1_000_003) ^ part };
                        }
                        (7u8 + u8::from(frozen), acc).hash(&mut h);
                        let hash = h.finish();
                        self.hashes.insert(i, hash);
                        return Ok(hash);
                    }
                    Obj::Global(g) => (9u8, &g.module, &g.name).hash(&mut h),
                    Obj::Object(_) | Obj::PersistentId(_) => (10u8, i).hash(&mut h),
                    other => return Err(Error::unpickling(format!("unhashable type: '{}'", other.type_name()))),
                },
                _ => unreachable!("numbers are handled above"),
            },
        }
        Ok(h.finish())
    }

    /// `Ok` when `item` can be a key; the `TypeError` CPython raises when it cannot. The
    /// same rules as [`Keys::hash`], without computing one.
    fn check_hashable(&mut self, graph: &Graph, item: Item, depth: usize) -> Result<()> {
        if depth > self.max_depth {
            return Err(Error::unpickling("dict key or set item nested too deeply"));
        }
        let Item::Obj(i) = item else { return Ok(()) };
        match graph.get(i) {
            Obj::Tuple(items) | Obj::FrozenSet(items) => {
                if self.hashable.contains(&i) {
                    return Ok(());
                }
                let check = |it| crate::stack::grow_every_few(depth, || self.check_hashable(graph, it, depth + 1));
                items.iter().copied().try_for_each(check)?;
                self.hashable.insert(i);
                Ok(())
            }
            Obj::BigInt(_) | Obj::Str(_) | Obj::Bytes(_) | Obj::Global(_) | Obj::Object(_) | Obj::PersistentId(_) => {
                Ok(())
            }
            other => Err(Error::unpickling(format!("unhashable type: '{}'", other.type_name()))),
        }
    }

    /// Python's `a == b` for hashable items.
    fn equal(&mut self, graph: &Graph, a: Item, b: Item, depth: usize) -> bool {
        if depth > self.max_depth {
            return false;
        }
        if let (Item::Obj(x), Item::Obj(y)) = (a, b) {
            if x == y {
                return true;
            }
            // The common keys, strings, without classifying them as numbers first.
            if let (Obj::Str(p), Obj::Str(q)) = (graph.get(x), graph.get(y)) {
                return p == q;
            }
        }
        match (number(graph, a), number(graph, b)) {
            (Some(Number::Nan), _) | (_, Some(Number::Nan)) => return false,
            (Some(x), Some(y)) => return x == y,
            (Some(_), None) | (None, Some(_)) => return false,
            (None, None) => {}
        }
        let (Item::Obj(x), Item::Obj(y)) = (a, b) else {
            return a == Item::None && b == Item::None;
        };
        match (graph.get(x), graph.get(y)) {
            (Obj::Str(p), Obj::Str(q)) => p == q,
            (Obj::Bytes(p), Obj::Bytes(q)) => p == q,
            (Obj::Tuple(p), Obj::Tuple(q)) => self.equal_parts(x, y, |keys| {
                let equal = |(&i, &j)| crate::stack::grow_every_few(depth, || keys.equal(graph, i, j, depth + 1));
                p.len() == q.len() && p.iter().zip(q).all(equal)
            }),
            (Obj::FrozenSet(p), Obj::FrozenSet(q)) => {
                self.equal_parts(x, y, |keys| p.len() == q.len() && keys.same_items(graph, p, q, depth + 1))
            }
            (Obj::Global(p), Obj::Global(q)) => (&p.module, &p.name) == (&q.module, &q.name),
            _ => false,
        }
    }

    /// Whether the tuples or frozensets `x` and `y` are equal, by `compare` the first time.
    fn equal_parts(&mut self, x: u32, y: u32, compare: impl FnOnce(&mut Self) -> bool) -> bool {
        let pair = (x.min(y), x.max(y));
        if let Some(&known) = self.compared.get(&pair) {
            return known;
        }
        let equal = compare(self);
        self.compared.insert(pair, equal);
        equal
    }

    /// Whether every item of `p` equals an item of `q` (frozensets of one length, whose
    /// items are distinct), found by hash rather than by trying every pair.
    fn same_items(&mut self, graph: &Graph, p: &[Item], q: &[Item], depth: usize) -> bool {
        let mut by_hash: HashMap<u64, Vec<Item>> = HashMap::with_capacity(q.len());
        for &j in q {
            match self.hash(graph, j, depth) {
                Ok(h) => by_hash.entry(h).or_default().push(j),
                Err(_) => return false,
            }
        }
        p.iter().all(|&i| {
            let Ok(h) = self.hash(graph, i, depth) else { return false };
            by_hash.get(&h).is_some_and(|candidates| candidates.iter().any(|&j| self.equal(graph, i, j, depth)))
        })
    }
}

/// Removes later duplicates of keys, as a dict built by these SETITEMs would: the first
/// key and its position stay, the last value wins.
pub(crate) fn dedupe_pairs(keys: &mut Keys, graph: &Graph, pairs: &mut Vec<(Item, Item)>) -> Result<()> {
    let Some(firsts) = first_occurrences(keys, graph, pairs.len(), |i| pairs[i].0)? else {
        return Ok(());
    };
    let mut merged: Vec<(Item, Item)> = Vec::with_capacity(pairs.len());
    let mut slot = vec![usize::MAX; pairs.len()];
    for (i, &(k, v)) in pairs.iter().enumerate() {
        let first = firsts[i];
        if first == i {
            slot[i] = merged.len();
            merged.push((k, v));
        } else {
            merged[slot[first]].1 = v;
        }
    }
    *pairs = merged;
    Ok(())
}

/// Removes later duplicates of set items.
pub(crate) fn dedupe_items(keys: &mut Keys, graph: &Graph, items: &mut Vec<Item>) -> Result<()> {
    let Some(firsts) = first_occurrences(keys, graph, items.len(), |i| items[i])? else {
        return Ok(());
    };
    let mut i = 0;
    items.retain(|_| {
        let keep = firsts[i] == i;
        i += 1;
        keep
    });
    Ok(())
}

/// For a str key, its length and first bytes: strs whose fingerprints differ are unequal,
/// and a str equals nothing else. `None` for any other key.
fn fingerprint(graph: &Graph, item: Item) -> Option<u64> {
    let Item::Obj(i) = item else { return None };
    let Obj::Str(s) = graph.get(i) else { return None };
    let bytes = s.as_surrogatepass_bytes();
    let head = bytes.iter().take(7).fold(0u64, |h, &b| h << 8 | u64::from(b));
    Some((bytes.len() as u64) << 56 ^ head)
}

/// For each of the `len` keys `key` gives, the index of the first key equal to it; `None`
/// when all are distinct. Every key is checked to be hashable. A small dict or set, the
/// common case, allocates nothing unless a key repeats.
fn first_occurrences(
    keys: &mut Keys,
    graph: &Graph,
    len: usize,
    key: impl Fn(usize) -> Item,
) -> Result<Option<Vec<usize>>> {
    if len <= LINEAR_LIMIT {
        let mut firsts = [0; LINEAR_LIMIT];
        let mut prints = [None; LINEAR_LIMIT];
        let mut any = false;
        for i in 0..len {
            let k = key(i);
            keys.check_hashable(graph, k, 0)?;
            firsts[i] = i;
            prints[i] = fingerprint(graph, k);
            let may_equal = |j: usize| match (prints[j], prints[i]) {
                (Some(p), Some(q)) => p == q,
                (None, None) => true,
                // A str equals only a str.
                _ => false,
            };
            if let Some(j) = (0..i).find(|&j| firsts[j] == j && may_equal(j) && keys.equal(graph, key(j), k, 0)) {
                firsts[i] = j;
                any = true;
            }
        }
        return Ok(any.then(|| firsts[..len].to_vec()));
    }
    let mut firsts: Vec<usize> = (0..len).collect();
    let mut any = false;
    let mut seen: HashMap<u64, Vec<usize>> = HashMap::with_capacity(len);
    for (i, first) in firsts.iter_mut().enumerate() {
        let k = key(i);
        let bucket = seen.entry(keys.hash(graph, k, 0)?).or_default();
        match bucket.iter().find(|&&j| keys.equal(graph, key(j), k, 0)) {
            Some(&j) => {
                *first = j;
                any = true;
            }
            None => bucket.push(i),
        }
    }
    Ok(any.then_some(firsts))
}

#[cfg(test)]
mod tests {
    use crate::{dumps, loads, Value};

    /// A key nested as deeply as the value may be loads at every protocol, whichever order
    /// its parts are hashed in (found by fuzzing: a pickle loaded, and its protocol 0
    /// re-encoding, hashed in another order, did not, past 200 levels).
    #[test]
    fn a_deep_key_loads_at_every_protocol() {
        let key = (0..300).fold(Value::Tuple(vec![]), |inner, _| Value::Tuple(vec![inner]));
        let dict = Value::Dict(vec![(key, Value::Int(1)), (Value::Int(2), Value::Int(3))]);
        for protocol in 0..=5 {
            let loaded: Value = loads(&dumps(&dict, protocol).unwrap()).unwrap();
            assert!(loaded == dict, "protocol {protocol}");
        }
    }
}
