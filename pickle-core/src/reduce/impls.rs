//! `Reduce` for Rust's own types, which pickle as the matching Python builtins.
//!
//! | Rust | Python |
//! |---|---|
//! | `bool`, integers, `BigInt` | `bool`, `int` |
//! | `f32`, `f64` | `float` |
//! | `str`, `String`, `char`, [`PyString`] | `str` |
//! | [`Bytes`], [`ByteArray`] | `bytes`, `bytearray` |
//! | `Vec`, `VecDeque`, arrays, slices | `list` |
//! | tuples up to 12, `()` | `tuple` |
//! | `HashMap`, `BTreeMap` | `dict` |
//! | `HashSet`, `BTreeSet` | `set` |
//! | `FrozenSet(set)` | `frozenset` |
//! | `Option<T>` | `None` or `T` |
//! | `Box`, `&`, `Cow` | the value itself |
//! | `Rc`, `Arc` | the value, as one shared object |

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::rc::Rc;
use std::sync::Arc;

use num_bigint::BigInt;

use super::{dangling_reference, Arg, Atom, Builtin, Call, Fast, Mapping, Reduce, Reduction, Sequence};
use crate::error::Result;
use crate::ser::{ItemSink, PairSink};
use crate::value::{PyString, Shared, Value};

#[inline]
fn builtin(b: Builtin<'_>) -> Result<Reduction<'_>> {
    Ok(Reduction::Builtin(b))
}

// ----- atoms -----

impl Reduce for bool {
    #[inline]
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        builtin(Builtin::Bool(*self))
    }
    #[inline]
    fn fast(&self) -> Fast<'_> {
        Fast::Atom(Atom::Bool(*self))
    }
    #[inline]
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

macro_rules! small_ints {
    ($($t:ty),*) => {$(
        impl Reduce for $t {
            #[inline]
            fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
                builtin(Builtin::Int(i64::from(*self)))
            }
            #[inline]
            fn fast(&self) -> Fast<'_> {
                Fast::Atom(Atom::Int(i64::from(*self)))
            }
            #[inline]
            fn as_any(&self) -> Option<&dyn std::any::Any> {
                Some(self)
            }
        }
    )*};
}
small_ints!(i8, i16, i32, i64, u8, u16, u32);

macro_rules! wide_ints {
    ($($t:ty),*) => {$(
        impl Reduce for $t {
            #[inline]
            fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
                match i64::try_from(*self) {
                    Ok(i) => builtin(Builtin::Int(i)),
                    Err(_) => builtin(Builtin::BigInt(Cow::Owned(BigInt::from(*self)))),
                }
            }
            #[inline]
            fn fast(&self) -> Fast<'_> {
                i64::try_from(*self).map_or(Fast::Reduce, |i| Fast::Atom(Atom::Int(i)))
            }
            #[inline]
            fn as_any(&self) -> Option<&dyn std::any::Any> {
                Some(self)
            }
        }
    )*};
}
wide_ints!(u64, i128, u128, isize, usize);

impl Reduce for BigInt {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        builtin(Builtin::BigInt(Cow::Borrowed(self)))
    }
    #[inline]
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

impl Reduce for f64 {
    #[inline]
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        builtin(Builtin::Float(*self))
    }
    #[inline]
    fn fast(&self) -> Fast<'_> {
        Fast::Atom(Atom::Float(*self))
    }
    #[inline]
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

impl Reduce for f32 {
    #[inline]
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        builtin(Builtin::Float(f64::from(*self)))
    }
    #[inline]
    fn fast(&self) -> Fast<'_> {
        Fast::Atom(Atom::Float(f64::from(*self)))
    }
    #[inline]
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

impl Reduce for str {
    #[inline]
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        builtin(Builtin::Str(Cow::Borrowed(self)))
    }
    #[inline]
    fn fast(&self) -> Fast<'_> {
        Fast::Str(self.as_bytes())
    }
}

impl Reduce for String {
    #[inline]
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        builtin(Builtin::Str(Cow::Borrowed(self)))
    }
    #[inline]
    fn fast(&self) -> Fast<'_> {
        Fast::Str(self.as_bytes())
    }
    #[inline]
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

impl Reduce for char {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        builtin(Builtin::Str(Cow::Owned(self.to_string())))
    }
    #[inline]
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

impl Reduce for PyString {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        builtin(Builtin::PyStr(self))
    }
    #[inline]
    fn fast(&self) -> Fast<'_> {
        Fast::Str(self.as_surrogatepass_bytes())
    }
    #[inline]
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

impl Reduce for () {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        builtin(Builtin::Tuple(self))
    }
}

impl Sequence for () {
    fn len(&self) -> usize {
        0
    }
    fn get(&self, _: usize) -> Option<&dyn Reduce> {
        None
    }
    fn save_items(&self, sink: &mut ItemSink<'_, '_>) -> Result<()> {
        sink.save_all(std::iter::empty::<&()>())
    }
}

/// Python `bytes`: `Bytes(vec)`, `Bytes(&slice[..])`, anything that is `AsRef<[u8]>`.
///
/// A bare `Vec<u8>` pickles as a `list` of ints, as a sequence does; wrap it to get `bytes`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bytes<B = Vec<u8>>(pub B);

/// Python `bytearray`: `ByteArray(vec)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ByteArray<B = Vec<u8>>(pub B);

impl<B: AsRef<[u8]>> Reduce for Bytes<B> {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        builtin(Builtin::Bytes(self.0.as_ref()))
    }
}

impl<B: AsRef<[u8]>> Reduce for ByteArray<B> {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        builtin(Builtin::ByteArray(self.0.as_ref()))
    }
}

/// Python `frozenset`: `FrozenSet(set)` of a `HashSet` or `BTreeSet` (or an `IndexSet`),
/// which alone pickle as `set`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FrozenSet<S>(pub S);

impl<S: Reduce> Reduce for FrozenSet<S> {
    fn reduce_ex(&self, protocol: u8) -> Result<Reduction<'_>> {
        match self.0.reduce_ex(protocol)? {
            Reduction::Builtin(Builtin::Set(items)) => builtin(Builtin::FrozenSet(items)),
            _ => Err(crate::Error::pickling("a FrozenSet holds a set: a HashSet, a BTreeSet or an IndexSet")),
        }
    }
}

// ----- wrappers -----

impl<T: Reduce> Reduce for Option<T> {
    #[inline]
    fn reduce_ex(&self, protocol: u8) -> Result<Reduction<'_>> {
        match self {
            Some(v) => v.reduce_ex(protocol),
            None => builtin(Builtin::None),
        }
    }
    #[inline]
    fn identity(&self) -> Option<usize> {
        self.as_ref().and_then(T::identity)
    }
    #[inline]
    fn fast(&self) -> Fast<'_> {
        match self {
            Some(v) => match v.fast() {
                // What `Some` holds, written as its atom; anything else has its reduction.
                Fast::Atom(atom) => Fast::Atom(atom),
                _ => Fast::Reduce,
            },
            None => Fast::Atom(Atom::None),
        }
    }
    #[inline]
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        self.as_ref().and_then(T::as_any)
    }
}

/// `Reduce` for a pointer or wrapper that pickles as what it points to. Only its identity
/// is its own: a `Box` or a reference has none of its own, clones of an `Rc`/`Arc` are one
/// object.
macro_rules! forward_to_target {
    ($([$($generics:tt)*] $ty:ty, |$this:ident| $identity:expr;)*) => {$(
        impl<$($generics)*> Reduce for $ty {
            #[inline]
            fn reduce_ex(&self, protocol: u8) -> Result<Reduction<'_>> {
                (**self).reduce_ex(protocol)
            }
            #[inline]
            fn identity(&self) -> Option<usize> {
                let $this = self;
                $identity
            }
            #[inline]
            fn as_any(&self) -> Option<&dyn std::any::Any> {
                (**self).as_any()
            }
            #[inline]
            fn python_class(&self) -> Option<super::GlobalName<'_>> {
                (**self).python_class()
            }
            #[inline]
            fn fast(&self) -> Fast<'_> {
                match (**self).fast() {
                    // Atoms have no identity; a str or a name would lose this one's.
                    Fast::Atom(atom) => Fast::Atom(atom),
                    _ => Fast::Reduce,
                }
            }
        }
    )*};
}
forward_to_target! {
    [T: Reduce + ?Sized] &T, |this| (**this).identity();
    [T: Reduce + ?Sized] &mut T, |this| (**this).identity();
    [T: Reduce + ?Sized] Box<T>, |this| (**this).identity();
    [T: Reduce + ToOwned + ?Sized] Cow<'_, T>, |this| (**this).identity();
    [T: Reduce + ?Sized] Rc<T>, |this| Some(Rc::as_ptr(this) as *const () as usize);
    [T: Reduce + ?Sized] Arc<T>, |this| Some(Arc::as_ptr(this) as *const () as usize);
}

// ----- sequences -----

macro_rules! list_like {
    ($($ty:ty => [$($generics:tt)*] $get:expr),*) => {$(
        impl<$($generics)*> Reduce for $ty {
            #[inline]
            fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
                builtin(Builtin::List(self))
            }
        }
        impl<$($generics)*> Sequence for $ty {
            #[inline]
            fn len(&self) -> usize {
                self.iter().len()
            }
            fn get(&self, index: usize) -> Option<&dyn Reduce> {
                $get(self, index).map(|v| v as &dyn Reduce)
            }
            #[inline]
            fn save_items(&self, sink: &mut ItemSink<'_, '_>) -> Result<()> {
                sink.save_all(self.iter())
            }
        }
    )*};
}
list_like!(
    Vec<T> => [T: Reduce] <[T]>::get,
    VecDeque<T> => [T: Reduce] VecDeque::get,
    [T; N] => [T: Reduce, const N: usize] <[T]>::get
);

/// A borrowed slice, given to the pickler as a list.
struct SliceList<'a, T>(&'a [T]);

impl<T: Reduce> Reduce for SliceList<'_, T> {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        builtin(Builtin::List(self))
    }
}

impl<T: Reduce> Sequence for SliceList<'_, T> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn get(&self, index: usize) -> Option<&dyn Reduce> {
        self.0.get(index).map(|v| v as &dyn Reduce)
    }
    fn save_items(&self, sink: &mut ItemSink<'_, '_>) -> Result<()> {
        sink.save_all(self.0.iter())
    }
}

impl<T: Reduce> Reduce for [T] {
    /// A slice is unsized, so it cannot be handed over as `&dyn Sequence` directly; it goes
    /// through a small boxed adapter. `Vec` and arrays need none.
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        Ok(Reduction::As(Box::new(SliceList(self))))
    }
}

macro_rules! tuples {
    ($($len:literal => ($($idx:tt $T:ident),+);)+) => {$(
        impl<$($T: Reduce),+> Reduce for ($($T,)+) {
            #[inline]
            fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
                builtin(Builtin::Tuple(self))
            }
        }
        impl<$($T: Reduce),+> Sequence for ($($T,)+) {
            fn len(&self) -> usize {
                $len
            }
            fn get(&self, index: usize) -> Option<&dyn Reduce> {
                match index {
                    $($idx => Some(&self.$idx),)+
                    _ => None,
                }
            }
            fn save_items(&self, sink: &mut ItemSink<'_, '_>) -> Result<()> {
                sink.save_all([$(&self.$idx as &dyn Reduce),+])
            }
        }
    )+};
}
tuples! {
    1 => (0 A);
    2 => (0 A, 1 B);
    3 => (0 A, 1 B, 2 C);
    4 => (0 A, 1 B, 2 C, 3 D);
    5 => (0 A, 1 B, 2 C, 3 D, 4 E);
    6 => (0 A, 1 B, 2 C, 3 D, 4 E, 5 F);
    7 => (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G);
    8 => (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H);
    9 => (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I);
    10 => (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J);
    11 => (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K);
    12 => (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K, 11 L);
}

// ----- sets and maps -----

impl<T: Reduce, S> Reduce for HashSet<T, S> {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        builtin(Builtin::Set(self))
    }
}

impl<T: Reduce, S> Sequence for HashSet<T, S> {
    fn len(&self) -> usize {
        HashSet::len(self)
    }
    fn get(&self, index: usize) -> Option<&dyn Reduce> {
        self.iter().nth(index).map(|v| v as &dyn Reduce)
    }
    fn save_items(&self, sink: &mut ItemSink<'_, '_>) -> Result<()> {
        sink.save_all(self.iter())
    }
}

impl<T: Reduce> Reduce for BTreeSet<T> {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        builtin(Builtin::Set(self))
    }
}

impl<T: Reduce> Sequence for BTreeSet<T> {
    fn len(&self) -> usize {
        BTreeSet::len(self)
    }
    fn get(&self, index: usize) -> Option<&dyn Reduce> {
        self.iter().nth(index).map(|v| v as &dyn Reduce)
    }
    fn save_items(&self, sink: &mut ItemSink<'_, '_>) -> Result<()> {
        sink.save_all(self.iter())
    }
}

impl<K: Reduce, V: Reduce, S> Reduce for HashMap<K, V, S> {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        builtin(Builtin::Dict(self))
    }
}

impl<K: Reduce, V: Reduce, S> Mapping for HashMap<K, V, S> {
    fn len(&self) -> usize {
        HashMap::len(self)
    }
    fn save_pairs(&self, sink: &mut PairSink<'_, '_>) -> Result<()> {
        sink.save_all(self.iter())
    }
}

impl<K: Reduce, V: Reduce> Reduce for BTreeMap<K, V> {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        builtin(Builtin::Dict(self))
    }
}

impl<K: Reduce, V: Reduce> Mapping for BTreeMap<K, V> {
    fn len(&self) -> usize {
        BTreeMap::len(self)
    }
    fn save_pairs(&self, sink: &mut PairSink<'_, '_>) -> Result<()> {
        sink.save_all(self.iter())
    }
}

/// A vector of pairs as a dict, in order ([`Value::Dict`]'s representation).
impl<K: Reduce, V: Reduce> Mapping for Vec<(K, V)> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn save_pairs(&self, sink: &mut PairSink<'_, '_>) -> Result<()> {
        sink.save_all(self.iter().map(|(k, v)| (k, v)))
    }
}

// ----- Value -----

impl Reduce for Shared {
    fn reduce_ex(&self, protocol: u8) -> Result<Reduction<'_>> {
        self.get().ok_or_else(dangling_reference)?.reduce_ex(protocol)
    }
    fn identity(&self) -> Option<usize> {
        Some(self.id())
    }
}

impl Reduce for Value {
    fn reduce_ex(&self, protocol: u8) -> Result<Reduction<'_>> {
        let b = match self {
            Value::None => Builtin::None,
            Value::Bool(b) => Builtin::Bool(*b),
            Value::Int(i) => Builtin::Int(*i),
            Value::BigInt(i) => Builtin::BigInt(Cow::Borrowed(i)),
            Value::Float(f) => Builtin::Float(*f),
            Value::Str(s) => Builtin::PyStr(s),
            Value::Bytes(b) => Builtin::Bytes(b),
            Value::ByteArray(b) => Builtin::ByteArray(b),
            Value::Tuple(v) => Builtin::Tuple(v),
            Value::List(v) => Builtin::List(v),
            Value::Dict(v) => Builtin::Dict(v),
            Value::Set(v) => Builtin::Set(v),
            Value::FrozenSet(v) => Builtin::FrozenSet(v),
            Value::PersistentId(id) => Builtin::PersistentId(id),
            Value::Global(g) => {
                let name =
                    super::GlobalName { fresh_names: g.fresh_names, ..super::GlobalName::new(&*g.module, &*g.name) };
                return Ok(Reduction::Global(name));
            }
            Value::Object(o) => {
                let call = Call {
                    callable: Arg::Ref(&o.callable),
                    args: Arg::Ref(&o.args),
                    state: o.state.as_ref().map(|s| Arg::Ref(s)),
                    list_items: (!o.list_items.is_empty())
                        .then(|| Box::new(o.list_items.iter().map(|v| Arg::Ref(v))) as Box<dyn Iterator<Item = _>>),
                    dict_items: (!o.dict_items.is_empty()).then(|| {
                        Box::new(o.dict_items.iter().map(|(k, v)| (Arg::Ref(k), Arg::Ref(v))))
                            as Box<dyn Iterator<Item = _>>
                    }),
                    state_setter: o.state_setter.as_ref().map(|s| Arg::Ref(s)),
                };
                return Ok(call.into());
            }
            Value::Shared(s) => return s.reduce_ex(protocol),
            Value::Cycle(c) => return Ok(Reduction::As(Box::new(c.upgrade().ok_or_else(dangling_reference)?))),
        };
        Ok(Reduction::Builtin(b))
    }

    fn identity(&self) -> Option<usize> {
        match self {
            Value::Shared(s) => Some(s.id()),
            Value::Cycle(c) => Some(c.id()),
            _ => None,
        }
    }

    #[inline]
    fn fast(&self) -> Fast<'_> {
        match self {
            Value::None => Fast::Atom(Atom::None),
            Value::Bool(b) => Fast::Atom(Atom::Bool(*b)),
            Value::Int(i) => Fast::Atom(Atom::Int(*i)),
            Value::Float(f) => Fast::Atom(Atom::Float(*f)),
            Value::Str(s) => Fast::Str(s.as_surrogatepass_bytes()),
            _ => Fast::Value(self),
        }
    }
    #[inline]
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}
