//! Python's key semantics for dicts and sets: which items are equal, and which hash.
//!
//! CPython builds real dicts and sets, so `{1: 'a', 1.0: 'b', True: 'c'}` loads as one key
//! and a list used as a key fails. The loader dedupes with these rules once the pickle is
//! read: numbers compare by value across int, float and bool; str and bytes by content;
//! tuples and frozensets by their items; globals by name; reduced objects by identity.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use num_bigint::BigInt;
use num_traits::{FromPrimitive, ToPrimitive};

use super::graph::{Graph, Item, Obj};
use crate::error::{Error, Result};

/// Keys nested deeper than this (tuples of tuples of ...) are refused.
const MAX_KEY_DEPTH: usize = 200;

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

/// Python's `hash(item)` up to consistency with [`equal`], or the `TypeError` of an
/// unhashable item.
fn hash(graph: &Graph, item: Item, depth: usize) -> Result<u64> {
    if depth > MAX_KEY_DEPTH {
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
                Obj::Tuple(items) => {
                    7u8.hash(&mut h);
                    for &it in items {
                        hash(graph, it, depth + 1)?.hash(&mut h);
                    }
                }
                Obj::FrozenSet(items) => {
                    // Order-independent, as sets are.
                    let mut acc = 0u64;
                    for &it in items {
                        acc = acc.wrapping_add(hash(graph, it, depth + 1)?);
                    }
                    (8u8, acc).hash(&mut h);
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

/// `Ok` when `item` can be a key; the `TypeError` CPython raises when it cannot. The same
/// rules as [`hash`], without computing one.
fn check_hashable(graph: &Graph, item: Item, depth: usize) -> Result<()> {
    if depth > MAX_KEY_DEPTH {
        return Err(Error::unpickling("dict key or set item nested too deeply"));
    }
    let Item::Obj(i) = item else { return Ok(()) };
    match graph.get(i) {
        Obj::Tuple(items) | Obj::FrozenSet(items) => {
            items.iter().try_for_each(|&it| check_hashable(graph, it, depth + 1))
        }
        Obj::BigInt(_) | Obj::Str(_) | Obj::Bytes(_) | Obj::Global(_) | Obj::Object(_) | Obj::PersistentId(_) => Ok(()),
        other => Err(Error::unpickling(format!("unhashable type: '{}'", other.type_name()))),
    }
}

/// Python's `a == b` for hashable items.
fn equal(graph: &Graph, a: Item, b: Item, depth: usize) -> bool {
    if depth > MAX_KEY_DEPTH {
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
        (Obj::Tuple(p), Obj::Tuple(q)) => {
            p.len() == q.len() && p.iter().zip(q).all(|(&i, &j)| equal(graph, i, j, depth + 1))
        }
        (Obj::FrozenSet(p), Obj::FrozenSet(q)) => {
            p.len() == q.len() && p.iter().all(|&i| q.iter().any(|&j| equal(graph, i, j, depth + 1)))
        }
        (Obj::Global(p), Obj::Global(q)) => (&p.module, &p.name) == (&q.module, &q.name),
        _ => false,
    }
}

/// Removes later duplicates of keys, as a dict built by these SETITEMs would: the first
/// key and its position stay, the last value wins.
pub(crate) fn dedupe_pairs(graph: &Graph, pairs: &mut Vec<(Item, Item)>) -> Result<()> {
    let Some(firsts) = first_occurrences(graph, pairs.len(), |i| pairs[i].0)? else {
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
pub(crate) fn dedupe_items(graph: &Graph, items: &mut Vec<Item>) -> Result<()> {
    let Some(firsts) = first_occurrences(graph, items.len(), |i| items[i])? else {
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
fn first_occurrences(graph: &Graph, len: usize, key: impl Fn(usize) -> Item) -> Result<Option<Vec<usize>>> {
    if len <= LINEAR_LIMIT {
        let mut firsts = [0; LINEAR_LIMIT];
        let mut prints = [None; LINEAR_LIMIT];
        let mut any = false;
        for i in 0..len {
            let k = key(i);
            check_hashable(graph, k, 0)?;
            firsts[i] = i;
            prints[i] = fingerprint(graph, k);
            let may_equal = |j: usize| match (prints[j], prints[i]) {
                (Some(p), Some(q)) => p == q,
                (None, None) => true,
                // A str equals only a str.
                _ => false,
            };
            if let Some(j) = (0..i).find(|&j| firsts[j] == j && may_equal(j) && equal(graph, key(j), k, 0)) {
                firsts[i] = j;
                any = true;
            }
        }
        return Ok(any.then(|| firsts[..len].to_vec()));
    }
    let mut firsts: Vec<usize> = (0..len).collect();
    let mut any = false;
    let mut seen: HashMap<u64, Vec<usize>> = HashMap::with_capacity(len);
    for i in 0..len {
        let k = key(i);
        let bucket = seen.entry(hash(graph, k, 0)?).or_default();
        match bucket.iter().find(|&&j| equal(graph, key(j), k, 0)) {
            Some(&j) => {
                firsts[i] = j;
                any = true;
            }
            None => bucket.push(i),
        }
    }
    Ok(any.then_some(firsts))
}
