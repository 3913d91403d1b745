//! [`Reconstruct`] for Rust's builtin types, from the Python builtins they pickle as.
//!
//! Each accepts what its [`Reduce`](crate::Reduce) writes, and what Python code commonly
//! puts where that type is expected: an `f64` takes an `int` (as Python's `float()` would
//! widen it), a `Vec` takes a tuple as well as a list. Everything else is a
//! [`Mismatch`](crate::ErrorKind::Mismatch) naming both types.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, Hash};
use std::rc::Rc;
use std::sync::Arc;

use num_bigint::BigInt;
use num_traits::ToPrimitive;

use super::{Node, Reconstruct, Stream, Tree};
use crate::error::Result;
use crate::reduce::{ByteArray, Bytes, FrozenSet};
use crate::value::{Atom, Global, PyString, Value};

macro_rules! integers {
    ($($ty:ty => $to:ident),* $(,)?) => {$(
        impl Reconstruct for $ty {
            #[inline]
            fn from_atom(atom: Atom) -> Option<Result<$ty>> {
                match atom {
                    Atom::Int(i) => Some(<$ty>::try_from(i).map_err(|_| atom_out_of_range(i, stringify!($ty)))),
                    _ => None,
                }
            }
            #[inline]
            fn reconstruct(node: Node<'_>) -> Result<$ty> {
                if let Some(i) = node.as_i64() {
                    return <$ty>::try_from(i).map_err(|_| out_of_range(&node, &i, stringify!($ty)));
                }
                let big = node.as_bigint().ok_or_else(|| node.mismatch("int"))?;
                big.$to().ok_or_else(|| out_of_range(&node, &big, stringify!($ty)))
            }
        }
    )*};
}

integers!(
    i8 => to_i8, i16 => to_i16, i32 => to_i32, i64 => to_i64, i128 => to_i128, isize => to_isize,
    u8 => to_u8, u16 => to_u16, u32 => to_u32, u64 => to_u64, u128 => to_u128, usize => to_usize,
);

fn out_of_range(node: &Node<'_>, value: &dyn std::fmt::Display, ty: &str) -> crate::Error {
    node.error(format!("the int {value} does not fit in a `{ty}`"))
}

#[cold]
fn atom_out_of_range(value: i64, ty: &str) -> crate::Error {
    crate::Error::new(crate::ErrorKind::Reconstruct(format!("the int {value} does not fit in a `{ty}`")))
}

impl Reconstruct for BigInt {
    fn reconstruct(node: Node<'_>) -> Result<BigInt> {
        node.as_bigint().map(|b| b.into_owned()).ok_or_else(|| node.mismatch("int"))
    }
}

impl Reconstruct for f64 {
    #[inline]
    fn from_atom(atom: Atom) -> Option<Result<f64>> {
        match atom {
            Atom::Float(f) => Some(Ok(f)),
            Atom::Int(i) => Some(Ok(i as f64)),
            _ => None,
        }
    }
    #[inline]
    fn reconstruct(node: Node<'_>) -> Result<f64> {
        if let Some(f) = node.as_f64() {
            return Ok(f);
        }
        // An int where a float is expected, as Python code often writes (`score = 3`).
        match node.as_bigint() {
            Some(i) => {
                i.to_f64().filter(|f| f.is_finite()).ok_or_else(|| node.error("int too large to convert to float"))
            }
            None => Err(node.mismatch("float")),
        }
    }
}

impl Reconstruct for f32 {
    fn reconstruct(node: Node<'_>) -> Result<f32> {
        f64::reconstruct(node).map(|f| f as f32)
    }
}

impl Reconstruct for bool {
    #[inline]
    fn from_atom(atom: Atom) -> Option<Result<bool>> {
        match atom {
            Atom::Bool(b) => Some(Ok(b)),
            _ => None,
        }
    }
    #[inline]
    fn reconstruct(node: Node<'_>) -> Result<bool> {
        node.as_bool().ok_or_else(|| node.mismatch("bool"))
    }
}

impl Reconstruct for () {
    fn reconstruct(node: Node<'_>) -> Result<()> {
        if node.is_none() {
            return Ok(());
        }
        match node.items() {
            Some(items) if items.len() == 0 && node.kind() == super::Kind::Tuple => Ok(()),
            _ => Err(node.mismatch("None or ()")),
        }
    }
}

impl Reconstruct for String {
    #[inline]
    fn from_text(text: &str) -> Option<Result<String>> {
        Some(Ok(text.to_owned()))
    }
    fn reconstruct(node: Node<'_>) -> Result<String> {
        let s = node.as_str().ok_or_else(|| node.mismatch("str"))?;
        match s.as_str() {
            Some(s) => Ok(s.to_owned()),
            None => {
                Err(node.error("the str holds a lone surrogate, which a Rust `String` cannot: load it as a `PyString`"))
            }
        }
    }
}

impl Reconstruct for PyString {
    #[inline]
    fn from_text(text: &str) -> Option<Result<PyString>> {
        Some(Ok(PyString::from(text)))
    }
    fn reconstruct(node: Node<'_>) -> Result<PyString> {
        node.as_str().cloned().ok_or_else(|| node.mismatch("str"))
    }
}

impl Reconstruct for char {
    fn reconstruct(node: Node<'_>) -> Result<char> {
        let s = String::reconstruct(node)?;
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Ok(c),
            _ => Err(node.error(format!("expected a str of one character, found one of {}", s.chars().count()))),
        }
    }
}

impl Reconstruct for Bytes {
    fn reconstruct(node: Node<'_>) -> Result<Bytes> {
        node.as_bytes().map(|b| Bytes(b.to_vec())).ok_or_else(|| node.mismatch("bytes"))
    }
}

impl Reconstruct for ByteArray {
    fn reconstruct(node: Node<'_>) -> Result<ByteArray> {
        node.as_bytearray()
            .or_else(|| node.as_bytes())
            .map(|b| ByteArray(b.to_vec()))
            .ok_or_else(|| node.mismatch("bytearray"))
    }
}

/// A `frozenset` (or a `set`), as the set type inside.
impl<S: Reconstruct> Reconstruct for FrozenSet<S> {
    fn reconstruct(node: Node<'_>) -> Result<FrozenSet<S>> {
        S::reconstruct(node).map(FrozenSet)
    }
}

impl Reconstruct for Global {
    fn reconstruct(node: Node<'_>) -> Result<Global> {
        node.global().cloned().ok_or_else(|| node.mismatch("a global"))
    }
}

impl Reconstruct for Value {
    fn reconstruct(node: Node<'_>) -> Result<Value> {
        node.to_value()
    }

    fn from_tree(tree: Tree) -> Result<Value> {
        tree.into_value()
    }

    const IS_VALUE: bool = true;

    #[inline]
    fn from_value(value: Value) -> Option<Value> {
        Some(value)
    }
}

impl<T: Reconstruct> Reconstruct for Option<T> {
    #[inline]
    fn from_atom(atom: Atom) -> Option<Result<Option<T>>> {
        match atom {
            Atom::None => Some(Ok(None)),
            atom => T::from_atom(atom).map(|r| r.map(Some)),
        }
    }
    #[inline]
    fn from_text(text: &str) -> Option<Result<Option<T>>> {
        T::from_text(text).map(|r| r.map(Some))
    }
    fn stream<R: Stream>(stream: &mut R) -> Option<Option<T>> {
        stream.option()
    }
    fn reconstruct(node: Node<'_>) -> Result<Option<T>> {
        if node.is_none() {
            return Ok(None);
        }
        T::reconstruct(node).map(Some)
    }
}

impl<T: Reconstruct> Reconstruct for Box<T> {
    fn reconstruct(node: Node<'_>) -> Result<Box<T>> {
        T::reconstruct(node).map(Box::new)
    }

    fn stream<R: Stream>(stream: &mut R) -> Option<Box<T>> {
        T::stream(stream).map(Box::new)
    }
}

impl<T: Reconstruct + 'static> Reconstruct for Rc<T> {
    fn reconstruct(node: Node<'_>) -> Result<Rc<T>> {
        node.shared(|node| T::reconstruct(node).map(Rc::new))
    }

    fn stream<R: Stream>(stream: &mut R) -> Option<Rc<T>> {
        stream.shared(|stream| T::stream(stream).map(Rc::new))
    }
}

impl<T: Reconstruct + 'static> Reconstruct for Arc<T> {
    fn reconstruct(node: Node<'_>) -> Result<Arc<T>> {
        node.shared(|node| T::reconstruct(node).map(Arc::new))
    }

    fn stream<R: Stream>(stream: &mut R) -> Option<Arc<T>> {
        stream.shared(|stream| T::stream(stream).map(Arc::new))
    }
}

/// The items of a list or tuple, each rebuilt, with the index of a failing one in the error.
fn sequence<T: Reconstruct, C: FromIterator<T>>(node: Node<'_>, expected: &str, sets: bool) -> Result<C> {
    use super::Kind::{FrozenSet, List, Set, Tuple};
    let fits = match node.kind() {
        List | Tuple => !sets,
        Set | FrozenSet => true,
        _ => false,
    };
    let items = node.items().filter(|_| fits).ok_or_else(|| node.mismatch(expected))?;
    collect_items(items)
}

/// Rebuilds every item, with the index of a failing one in the error. Collected through a
/// `Vec` of the exact length: collecting `Result`s directly loses the size hint, and the
/// vector would grow by doubling.
pub(crate) fn collect_items<T: Reconstruct, C: FromIterator<T>>(items: super::Items<'_>) -> Result<C> {
    let mut out = Vec::with_capacity(items.len());
    for i in 0..items.len() {
        out.push(items.get(i).map_err(|e| e.at_index(i))?);
    }
    Ok(out.into_iter().collect())
}

impl<T: Reconstruct> Reconstruct for Vec<T> {
    fn reconstruct(node: Node<'_>) -> Result<Vec<T>> {
        sequence(node, "list", false)
    }

    fn stream<R: Stream>(stream: &mut R) -> Option<Vec<T>> {
        stream.list()
    }
}

impl<T: Reconstruct> Reconstruct for VecDeque<T> {
    fn reconstruct(node: Node<'_>) -> Result<VecDeque<T>> {
        sequence(node, "list", false)
    }

    fn stream<R: Stream>(stream: &mut R) -> Option<VecDeque<T>> {
        stream.list().map(VecDeque::from)
    }
}

impl<T: Reconstruct, const N: usize> Reconstruct for [T; N] {
    fn reconstruct(node: Node<'_>) -> Result<[T; N]> {
        let items: Vec<T> = sequence(node, format_args!("list of {N}").to_string().as_str(), false)?;
        let len = items.len();
        items.try_into().map_err(|_| node.error(format!("expected {N} items, found {len}")))
    }

    /// A list of another length is left to the general loader, which says so.
    fn stream<R: Stream>(stream: &mut R) -> Option<[T; N]> {
        stream.list().and_then(|items: Vec<T>| items.try_into().ok())
    }
}

impl<T: Reconstruct + Eq + Hash, S: BuildHasher + Default> Reconstruct for HashSet<T, S> {
    fn reconstruct(node: Node<'_>) -> Result<HashSet<T, S>> {
        sequence(node, "set", true)
    }

    fn stream<R: Stream>(stream: &mut R) -> Option<HashSet<T, S>> {
        let mut set = HashSet::default();
        stream.set(|item| {
            set.insert(item);
        })?;
        Some(set)
    }
}

impl<T: Reconstruct + Ord> Reconstruct for BTreeSet<T> {
    fn reconstruct(node: Node<'_>) -> Result<BTreeSet<T>> {
        sequence(node, "set", true)
    }

    fn stream<R: Stream>(stream: &mut R) -> Option<BTreeSet<T>> {
        let mut set = BTreeSet::new();
        stream.set(|item| {
            set.insert(item);
        })?;
        Some(set)
    }
}

/// The pairs of a dict, each rebuilt, with the failing key in the error.
fn mapping<K: Reconstruct, V: Reconstruct, C: FromIterator<(K, V)>>(node: Node<'_>) -> Result<C> {
    let pairs = node.pairs().ok_or_else(|| node.mismatch("dict"))?;
    collect_pairs(pairs)
}

/// Rebuilds every pair, with the failing key in the error (see [`collect_items`]).
pub(crate) fn collect_pairs<K: Reconstruct, V: Reconstruct, C: FromIterator<(K, V)>>(
    pairs: super::Pairs<'_>,
) -> Result<C> {
    let mut out = Vec::with_capacity(pairs.len());
    for (k, v) in pairs {
        let key = k.get().map_err(|e| e.at_key(k.describe()))?;
        let value = v.get().map_err(|e| match k.as_str().and_then(PyString::as_str) {
            Some(name) => e.at_key(format_args!("{name:?}")),
            None => e.at_key(k.describe()),
        })?;
        out.push((key, value));
    }
    Ok(out.into_iter().collect())
}

impl<K: Reconstruct + Eq + Hash, V: Reconstruct, S: BuildHasher + Default> Reconstruct for HashMap<K, V, S> {
    fn reconstruct(node: Node<'_>) -> Result<HashMap<K, V, S>> {
        mapping(node)
    }

    fn stream<R: Stream>(stream: &mut R) -> Option<HashMap<K, V, S>> {
        let mut map = HashMap::default();
        stream.pairs(|key, value| map.insert(key, value).is_none())?;
        Some(map)
    }
}

impl<K: Reconstruct + Ord, V: Reconstruct> Reconstruct for BTreeMap<K, V> {
    fn reconstruct(node: Node<'_>) -> Result<BTreeMap<K, V>> {
        mapping(node)
    }

    fn stream<R: Stream>(stream: &mut R) -> Option<BTreeMap<K, V>> {
        let mut map = BTreeMap::new();
        stream.pairs(|key, value| map.insert(key, value).is_none())?;
        Some(map)
    }
}

macro_rules! tuples {
    ($($len:literal => ($($name:ident),+);)*) => {$(
        impl<$($name: Reconstruct),+> Reconstruct for ($($name,)+) {
            fn reconstruct(node: Node<'_>) -> Result<($($name,)+)> {
                let kind = node.kind();
                let mut items = node
                    .items()
                    .filter(|items| items.len() == $len && matches!(kind, super::Kind::Tuple | super::Kind::List))
                    .ok_or_else(|| node.mismatch(concat!("tuple of ", $len)))?
                    .enumerate();
                Ok(($({
                    let (i, item) = items.next().expect("the length was checked");
                    item.get::<$name>().map_err(|e| e.at_index(i))?
                },)+))
            }

            fn stream<R: Stream>(stream: &mut R) -> Option<($($name,)+)> {
                stream.tuple($len, |stream| Some(($($name::stream(stream)?,)+)))
            }
        }
    )*};
}

tuples! {
    1 => (A);
    2 => (A, B);
    3 => (A, B, C);
    4 => (A, B, C, D);
    5 => (A, B, C, D, E);
    6 => (A, B, C, D, E, F);
    7 => (A, B, C, D, E, F, G);
    8 => (A, B, C, D, E, F, G, H);
    9 => (A, B, C, D, E, F, G, H, I);
    10 => (A, B, C, D, E, F, G, H, I, J);
    11 => (A, B, C, D, E, F, G, H, I, J, K);
    12 => (A, B, C, D, E, F, G, H, I, J, K, L);
}

/// An object outside the pickle, referred to by a persistent id and given by a typed
/// `persistent_load` ([`PersistentLoad::Typed`](crate::PersistentLoad::Typed)).
#[derive(Clone, Debug, PartialEq)]
pub struct Persistent<T>(pub T);

impl<T: Clone + 'static> Reconstruct for Persistent<T> {
    fn reconstruct(node: Node<'_>) -> Result<Persistent<T>> {
        node.persistent()
            .map(Persistent)
            .ok_or_else(|| node.mismatch(format_args!("a persistent object of type `{}`", std::any::type_name::<T>())))
    }
}
