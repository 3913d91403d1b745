//! [`Value`]: any Python object graph, as data.
//!
//! A `Value` is what the unpickler produces when it executes nothing, and what the pickler
//! writes for data you build yourself. It keeps everything a pickle can say: Python's
//! builtin types, globals, objects built by a reduction (callable, args, state, items),
//! persistent ids, and identity: the same object reached twice is one [`Shared`] node, and
//! the reference that closes a cycle is a weak [`Cycle`] link, so a cyclic graph from an
//! untrusted pickle is freed like any other value.
//!
//! Dropping, comparing and printing a `Value` are iterative: a million nested lists do not
//! overflow the stack.

mod printable;
mod repr;
mod shared;
mod string;
mod walk;

use num_bigint::BigInt;
use num_traits::ToPrimitive;

pub use repr::{bytes_repr, float_repr, str_repr};
pub use shared::{Cycle, Shared};
pub(crate) use string::{is_latin1_codec, latin1, utf8};
pub use string::{CodePoints, InvalidUtf8, PyString};

/// A value without identity, written and read on the spot: what the pickler writes without
/// a reduction ([`Fast::Atom`](crate::reduce::Fast::Atom)) and what a typed load takes
/// without a [`Node`](crate::Node) (`Reconstruct::from_atom`).
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Atom {
    /// `None`.
    None,
    /// `True`/`False`.
    Bool(bool),
    /// An `int` that fits in 64 bits.
    Int(i64),
    /// A `float`.
    Float(f64),
}

/// A Python object graph.
///
/// Owned values are taken apart with the `into_*` methods (`Value` implements `Drop`, to
/// free deep graphs without recursion, so a `match` cannot move fields out of it); borrowed
/// ones with `match` or the `as_*` accessors, which look through [`Shared`] nodes.
#[non_exhaustive]
#[derive(Default)]
pub enum Value {
    /// `None`.
    #[default]
    None,
    /// `True` or `False`.
    Bool(bool),
    /// An `int` that fits in 64 bits.
    Int(i64),
    /// An `int` of any size (the pickler writes small ones as it writes [`Value::Int`]).
    BigInt(Box<BigInt>),
    /// A `float`.
    Float(f64),
    /// A `str`.
    Str(PyString),
    /// `bytes`.
    Bytes(Vec<u8>),
    /// A `bytearray`.
    ByteArray(Vec<u8>),
    /// A `tuple`.
    Tuple(Vec<Value>),
    /// A `list`.
    List(Vec<Value>),
    /// A `dict`, its pairs in insertion order. Keys may be any value.
    Dict(Vec<(Value, Value)>),
    /// A `set`, in iteration order.
    Set(Vec<Value>),
    /// A `frozenset`, in iteration order.
    FrozenSet(Vec<Value>),
    /// A module-level name: a class, a function, a singleton (`module.qualname`).
    Global(Box<Global>),
    /// An object rebuilt by calling a callable: what `__reduce_ex__` described.
    Object(Box<Object>),
    /// A reference the pickle leaves to the application (`persistent_id`/`persistent_load`).
    PersistentId(Box<Value>),
    /// An object that is reached more than once: every `Shared` with the same node is the
    /// same Python object.
    Shared(Shared),
    /// A reference back to an enclosing [`Shared`] node, closing a cycle (`a.append(a)`).
    Cycle(Cycle),
}

/// A global name: `module` and the dotted `name` within it (a qualname).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Global {
    /// The module, such as `collections`.
    pub module: String,
    /// The qualified name in the module, such as `OrderedDict` or `Outer.Inner`.
    pub name: String,
    /// Whether CPython makes new module and name strings each time it reads them from the
    /// object, as it does for classes and functions implemented in C (`datetime.datetime`,
    /// `array.array`). Then, at protocol 4+, an equal module and name are written twice
    /// where a Python-defined global's interned names would be shared. The unpickler sets
    /// it when a pickle shows it; [`Global::new`] leaves it off.
    pub fresh_names: bool,
}

/// An object described by a reduction, as `__reduce_ex__` returns it: call `callable(*args)`,
/// then apply `state` (`__setstate__`, or `state_setter(obj, state)` when given), append
/// `list_items` and set `dict_items`.
#[derive(Clone)]
pub struct Object {
    /// What is called to create the object, usually a [`Value::Global`].
    pub callable: Value,
    /// The arguments of the call, normally a [`Value::Tuple`].
    pub args: Value,
    /// The state given to `__setstate__` (or the `state_setter`), if any.
    pub state: Option<Value>,
    /// Items appended after creation.
    pub list_items: Vec<Value>,
    /// Pairs set after creation.
    pub dict_items: Vec<(Value, Value)>,
    /// A callable `(obj, state)` applying the state instead of `__setstate__`.
    pub state_setter: Option<Value>,
}

impl Object {
    /// `callable(*args)`, with nothing else.
    pub fn new(callable: Value, args: Value) -> Object {
        Object { callable, args, state: None, list_items: Vec::new(), dict_items: Vec::new(), state_setter: None }
    }
}

impl Global {
    /// A global from its module and qualname.
    pub fn new(module: impl Into<String>, name: impl Into<String>) -> Global {
        Global { module: module.into(), name: name.into(), fresh_names: false }
    }
}

// ----- constructors -----

impl Value {
    /// A `str` value.
    pub fn str(s: impl Into<PyString>) -> Value {
        Value::Str(s.into())
    }

    /// A `bytes` value.
    pub fn bytes(b: impl Into<Vec<u8>>) -> Value {
        Value::Bytes(b.into())
    }

    /// A `bytearray` value.
    pub fn bytearray(b: impl Into<Vec<u8>>) -> Value {
        Value::ByteArray(b.into())
    }

    /// A `tuple` of the items.
    pub fn tuple<I: IntoIterator<Item = V>, V: Into<Value>>(items: I) -> Value {
        Value::Tuple(items.into_iter().map(Into::into).collect())
    }

    /// A `list` of the items.
    pub fn list<I: IntoIterator<Item = V>, V: Into<Value>>(items: I) -> Value {
        Value::List(items.into_iter().map(Into::into).collect())
    }

    /// A `dict` of the pairs, in order.
    pub fn dict<I: IntoIterator<Item = (K, V)>, K: Into<Value>, V: Into<Value>>(pairs: I) -> Value {
        Value::Dict(pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }

    /// A `set` of the items, in the given iteration order.
    pub fn set<I: IntoIterator<Item = V>, V: Into<Value>>(items: I) -> Value {
        Value::Set(items.into_iter().map(Into::into).collect())
    }

    /// A `frozenset` of the items, in the given iteration order.
    pub fn frozenset<I: IntoIterator<Item = V>, V: Into<Value>>(items: I) -> Value {
        Value::FrozenSet(items.into_iter().map(Into::into).collect())
    }

    /// The global `module.name`.
    pub fn global(module: impl Into<String>, name: impl Into<String>) -> Value {
        Value::Global(Box::new(Global::new(module, name)))
    }

    /// An object built by calling `callable(*args)`.
    pub fn object(object: Object) -> Value {
        Value::Object(Box::new(object))
    }

    /// An `int` of any size, stored as [`Value::Int`] when it fits in 64 bits.
    pub fn int(i: impl Into<BigInt>) -> Value {
        let i = i.into();
        match i.to_i64() {
            Some(small) => Value::Int(small),
            None => Value::BigInt(Box::new(i)),
        }
    }

    /// This value behind a new [`Shared`] node: clones of the result are one Python object.
    pub fn shared(self) -> Value {
        Value::Shared(Shared::new(self))
    }
}

// ----- accessors -----

impl Value {
    /// The value itself, or the value inside a [`Shared`] node (followed through chains).
    /// A [`Cycle`] and an unset `Shared` node are returned as they are.
    pub fn resolve(&self) -> &Value {
        let mut v = self;
        while let Value::Shared(s) = v {
            match s.get() {
                Some(inner) => v = inner,
                None => break,
            }
        }
        v
    }

    /// The name of the Python type, as `type(x).__name__` (`"object"` for reduced objects).
    pub fn type_name(&self) -> &'static str {
        match self.resolve() {
            Value::None => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::BigInt(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::ByteArray(_) => "bytearray",
            Value::Tuple(_) => "tuple",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
            Value::Set(_) => "set",
            Value::FrozenSet(_) => "frozenset",
            Value::Global(_) => "global",
            Value::Object(_) => "object",
            Value::PersistentId(_) => "persistent id",
            Value::Shared(_) | Value::Cycle(_) => "reference",
        }
    }

    /// Whether this is `None`.
    pub fn is_none(&self) -> bool {
        matches!(self.resolve(), Value::None)
    }

    /// The bool, for `True`/`False`.
    pub fn as_bool(&self) -> Option<bool> {
        match self.resolve() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The int, when it is one and fits in `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self.resolve() {
            Value::Int(i) => Some(*i),
            Value::BigInt(i) => i.to_i64(),
            _ => None,
        }
    }

    /// The int as a `BigInt`, whatever its size.
    pub fn as_bigint(&self) -> Option<BigInt> {
        match self.resolve() {
            Value::Int(i) => Some(BigInt::from(*i)),
            Value::BigInt(i) => Some((**i).clone()),
            _ => None,
        }
    }

    /// The float.
    pub fn as_f64(&self) -> Option<f64> {
        match self.resolve() {
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The str as Rust `str`; `None` for other types and for strings with lone surrogates.
    pub fn as_str(&self) -> Option<&str> {
        self.as_py_str().and_then(PyString::as_str)
    }

    /// The str, lone surrogates included.
    pub fn as_py_str(&self) -> Option<&PyString> {
        match self.resolve() {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The contents of `bytes` or a `bytearray`.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self.resolve() {
            Value::Bytes(b) | Value::ByteArray(b) => Some(b),
            _ => None,
        }
    }

    /// The items of a tuple, list, set or frozenset.
    pub fn as_items(&self) -> Option<&[Value]> {
        match self.resolve() {
            Value::Tuple(v) | Value::List(v) | Value::Set(v) | Value::FrozenSet(v) => Some(v),
            _ => None,
        }
    }

    /// The items of a list.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self.resolve() {
            Value::List(v) => Some(v),
            _ => None,
        }
    }

    /// The items of a tuple.
    pub fn as_tuple(&self) -> Option<&[Value]> {
        match self.resolve() {
            Value::Tuple(v) => Some(v),
            _ => None,
        }
    }

    /// The pairs of a dict.
    pub fn as_dict(&self) -> Option<&[(Value, Value)]> {
        match self.resolve() {
            Value::Dict(v) => Some(v),
            _ => None,
        }
    }

    /// The global's module and name.
    pub fn as_global(&self) -> Option<&Global> {
        match self.resolve() {
            Value::Global(g) => Some(g),
            _ => None,
        }
    }

    /// The reduced object.
    pub fn as_object(&self) -> Option<&Object> {
        match self.resolve() {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The value of a dict's `str` key (the last one, as a dict keeps the last write).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_dict()?.iter().rev().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v)
    }

    /// The value of a dict's key, compared with `==` on values.
    pub fn get_item(&self, key: &Value) -> Option<&Value> {
        self.as_dict()?.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The items of a list, tuple, set or frozenset, taken out of the value.
    pub fn into_items(mut self) -> Option<Vec<Value>> {
        match &mut self {
            Value::Tuple(v) | Value::List(v) | Value::Set(v) | Value::FrozenSet(v) => Some(std::mem::take(v)),
            _ => None,
        }
    }

    /// The pairs of a dict, taken out of the value.
    pub fn into_pairs(mut self) -> Option<Vec<(Value, Value)>> {
        match &mut self {
            Value::Dict(v) => Some(std::mem::take(v)),
            _ => None,
        }
    }

    /// The str, taken out of the value.
    pub fn into_py_string(mut self) -> Option<PyString> {
        match &mut self {
            Value::Str(s) => Some(std::mem::take(s)),
            _ => None,
        }
    }

    /// The contents of `bytes` or a `bytearray`, taken out of the value.
    pub fn into_bytes(mut self) -> Option<Vec<u8>> {
        match &mut self {
            Value::Bytes(b) | Value::ByteArray(b) => Some(std::mem::take(b)),
            _ => None,
        }
    }

    /// The reduced object, taken out of the value.
    pub fn into_object(mut self) -> Option<Object> {
        match &mut self {
            Value::Object(o) => Some(std::mem::replace(&mut **o, Object::new(Value::None, Value::None))),
            _ => None,
        }
    }
}

// ----- conversions -----

macro_rules! from_small_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            #[inline]
            fn from(i: $t) -> Value {
                Value::Int(i64::from(i))
            }
        }
    )*};
}
from_small_int!(i8, i16, i32, i64, u8, u16, u32);

macro_rules! from_wide_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(i: $t) -> Value {
                match i64::try_from(i) {
                    Ok(small) => Value::Int(small),
                    Err(_) => Value::BigInt(Box::new(BigInt::from(i))),
                }
            }
        }
    )*};
}
from_wide_int!(u64, i128, u128, isize, usize);

impl From<BigInt> for Value {
    fn from(i: BigInt) -> Value {
        Value::int(i)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}

impl From<f32> for Value {
    fn from(f: f32) -> Value {
        Value::Float(f64::from(f))
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.into())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s.into())
    }
}

impl From<PyString> for Value {
    fn from(s: PyString) -> Value {
        Value::Str(s)
    }
}

impl From<Global> for Value {
    fn from(g: Global) -> Value {
        Value::Global(Box::new(g))
    }
}

impl From<Object> for Value {
    fn from(o: Object) -> Value {
        Value::Object(Box::new(o))
    }
}

impl From<Shared> for Value {
    fn from(s: Shared) -> Value {
        Value::Shared(s)
    }
}

impl From<()> for Value {
    fn from(_: ()) -> Value {
        Value::None
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Value {
        o.map_or(Value::None, Into::into)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    /// A `list`. (For `bytes`, use [`Value::bytes`].)
    fn from(items: Vec<T>) -> Value {
        Value::list(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_is_four_words() {
        assert_eq!(std::mem::size_of::<Value>(), 32);
    }

    #[test]
    fn accessors_look_through_shared() {
        let d = Value::dict([("a", Value::from(1)), ("b", Value::list([1, 2]))]).shared();
        assert_eq!(d.get("a").and_then(Value::as_i64), Some(1));
        assert_eq!(d.get("b").and_then(Value::as_list).map(<[Value]>::len), Some(2));
        assert_eq!(d.get("c"), None);
        assert_eq!(Value::from(u64::MAX).as_bigint(), Some(BigInt::from(u64::MAX)));
        assert_eq!(Value::int(BigInt::from(7)).as_i64(), Some(7));
        assert!(matches!(Value::int(BigInt::from(7)), Value::Int(7)));
    }
}
