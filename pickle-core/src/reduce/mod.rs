//! The save side of Python's reduce protocol: [`Reduce`] and what it returns.
//!
//! CPython's pickler writes builtin types (`int`, `str`, `list`, ...) with code of its own,
//! and asks every other object `__reduce_ex__(protocol)` how to rebuild it. [`Reduce`] is
//! both: a builtin Rust type answers with a [`Builtin`] view of itself, a class with a
//! global name ([`Reduction::Global`]) or a [`Call`] (the tuple form). Reductions borrow
//! from the value, so pickling never clones fields.

mod cyclic;
mod impls;

use std::borrow::Cow;
use std::fmt;

use num_bigint::BigInt;

use crate::error::{Error, Result};
use crate::ser::{ItemSink, PairSink};
#[doc(hidden)]
pub use crate::value::Atom;
use crate::value::{PyString, Value};

pub use impls::{ByteArray, Bytes, FrozenSet};

/// A value that can be pickled: the Rust form of `__reduce_ex__`.
///
/// Implemented here for Rust's builtin types (they pickle as the matching Python builtins),
/// for [`Value`], and by `#[derive(Reduce)]` for your own types.
///
/// ```
/// use pickle_core::{dumps, Call, Reduce, Reduction, Result};
///
/// struct Point { x: i64, y: i64 }
///
/// impl Reduce for Point {
///     fn reduce_ex(&self, _protocol: u8) -> Result<Reduction<'_>> {
///         // Python: `def __reduce__(self): return (Point, (self.x, self.y))`
///         Ok(Call::new(Reduction::global("shapes", "Point"), (&self.x, &self.y)).into())
///     }
/// }
///
/// let bytes = dumps(&Point { x: 1, y: 2 }, 2)?;
/// // What CPython 3.11 writes for the Python class with that `__reduce__`:
/// assert_eq!(bytes, b"\x80\x02cshapes\nPoint\nq\x00K\x01K\x02\x86q\x01Rq\x02.");
/// # Ok::<(), pickle_core::Error>(())
/// ```
pub trait Reduce {
    /// How to rebuild this value at `protocol`: `__reduce_ex__(protocol)`.
    fn reduce_ex(&self, protocol: u8) -> Result<Reduction<'_>>;

    /// This value as `Any`, so that hooks can recognize its type: the pickler's dispatch
    /// table and `persistent_id` ([`Pickler`](crate::Pickler)). `None`, the default, keeps
    /// the value out of their reach; derived types return `Some(self)`.
    #[inline]
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }

    /// The class this value is an instance of, when it is one: the pickler checks that a
    /// `copyreg.__newobj__` reduction names it, as CPython's `save_reduce` checks
    /// `args[0] is obj.__class__`.
    #[inline]
    fn python_class(&self) -> Option<GlobalName<'_>> {
        None
    }

    /// How the pickler may write this value without asking for its reduction: as an atom
    /// or a str without identity (as CPython's `save` writes exact builtins before it looks
    /// at reducers), or, when no hook can have a say, as a [`Value`](crate::Value) or an
    /// interned name. One call answers what were five: through a `&dyn Reduce` (a derived
    /// struct's fields) each was a virtual call. Implementations must agree with
    /// `reduce_ex`.
    #[doc(hidden)]
    #[inline]
    fn fast(&self) -> Fast<'_> {
        Fast::Reduce
    }

    /// The identity of a shared value (`Rc`, `Arc`, [`Shared`](crate::Shared)): values with
    /// the same identity are one Python object, written once and then fetched from the memo.
    /// `None`, the default, makes every occurrence a separate object.
    #[inline]
    fn identity(&self) -> Option<usize> {
        None
    }
}

/// What [`Reduce::reduce_ex`] returns.
pub enum Reduction<'a> {
    /// A Python builtin object, written by the pickler's own code for its type, as CPython's
    /// pickler does without calling `__reduce_ex__`.
    Builtin(Builtin<'a>),
    /// `__reduce__` returned a string: the object is the global `module.name`.
    Global(GlobalName<'a>),
    /// `__reduce__` returned a tuple: call, args, and what to apply after.
    Call(Box<Call<'a>>),
    /// Pickle this other value in place of this one (keeping this one's identity): for a
    /// value that must first be converted, like a `u128` into a `BigInt`.
    As(Box<dyn Reduce + 'a>),
}

/// How the pickler may write a value without its reduction ([`Reduce::fast`]).
#[doc(hidden)]
#[derive(Clone, Copy)]
pub enum Fast<'a> {
    /// By its reduction.
    Reduce,
    /// An atom, written on the spot.
    Atom(Atom),
    /// A `str` without identity, as UTF-8 with surrogates passed through.
    Str(&'a [u8]),
    /// A `str` that is a new object even where CPython would share it (empty, or one
    /// Latin-1 character), as the strs C code builds with `PyUnicode_New` are: `str(d)` of
    /// a `decimal.Decimal`. Its reduction, for hooks to see, is a plain [`Builtin::Str`].
    UnsharedStr(&'a str),
    /// A [`Value`], written by matching on it.
    Value(&'a Value),
    /// An interned name ([`Name`]).
    Name(&'a str),
    /// An interned name that is `'static` (a derived type's field name): the pickler knows
    /// it again by its address.
    StaticName(&'static str),
}

/// The Python builtin objects the pickler writes directly.
pub enum Builtin<'a> {
    /// `None`.
    None,
    /// `True`/`False`.
    Bool(bool),
    /// An `int` that fits in 64 bits.
    Int(i64),
    /// An `int` of any size.
    BigInt(Cow<'a, BigInt>),
    /// A `float`.
    Float(f64),
    /// A `str`.
    Str(Cow<'a, str>),
    /// A `str` that may hold lone surrogates.
    PyStr(&'a PyString),
    /// An interned `str`: an identifier such as an attribute name. CPython keeps one object
    /// per interned string, so every occurrence after the first is a memo `GET`.
    Name(&'a str),
    /// `bytes`.
    Bytes(&'a [u8]),
    /// A `bytearray`.
    ByteArray(&'a [u8]),
    /// `bytes` that are a new object even when CPython would share them (one byte, or
    /// empty), as `bytes(bytearray(b'a'))` is. Used by the pickler's own reductions.
    #[doc(hidden)]
    UnsharedBytes(&'a [u8]),
    /// A `tuple`.
    Tuple(&'a dyn Sequence),
    /// A `list`.
    List(&'a dyn Sequence),
    /// A `dict`.
    Dict(&'a dyn Mapping),
    /// A `set`.
    Set(&'a dyn Sequence),
    /// A `frozenset`.
    FrozenSet(&'a dyn Sequence),
    /// A persistent id: the pickle refers to an object outside it by this id.
    PersistentId(&'a Value),
}

/// The name of a global: a module and a qualname within it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalName<'a> {
    /// The module, such as `collections`.
    pub module: Cow<'a, str>,
    /// The qualified name, such as `OrderedDict` or `Outer.Inner`.
    pub name: Cow<'a, str>,
    /// Whether the global is implemented in C, with new name strings on every access (see
    /// [`Global::fresh_names`](crate::Global::fresh_names)).
    pub fresh_names: bool,
    /// With `fresh_names`, whether the module name is nevertheless one interned str: a static
    /// C type's is (`type.__module__` interns it), so `datetime.datetime` and
    /// `datetime.timezone` share `'datetime'` while each qualname is a new str.
    pub interned_module: bool,
}

impl<'a> GlobalName<'a> {
    /// The global `module.name` of a Python-defined class or function.
    pub fn new(module: impl Into<Cow<'a, str>>, name: impl Into<Cow<'a, str>>) -> GlobalName<'a> {
        GlobalName { module: module.into(), name: name.into(), fresh_names: false, interned_module: false }
    }

    /// The global `module.name` of a class or function implemented in C.
    pub fn native(module: impl Into<Cow<'a, str>>, name: impl Into<Cow<'a, str>>) -> GlobalName<'a> {
        GlobalName { fresh_names: true, ..GlobalName::new(module, name) }
    }

    /// The global `module.name` of a class CPython implements as a static C type
    /// (`datetime.datetime`, `decimal.Decimal`, `complex`): a new qualname str on every
    /// access, under an interned module name.
    pub fn static_type(module: impl Into<Cow<'a, str>>, name: impl Into<Cow<'a, str>>) -> GlobalName<'a> {
        GlobalName { interned_module: true, ..GlobalName::native(module, name) }
    }

    /// The same name, borrowed.
    pub fn borrowed(&self) -> GlobalName<'_> {
        GlobalName {
            module: Cow::Borrowed(&self.module),
            name: Cow::Borrowed(&self.name),
            fresh_names: self.fresh_names,
            interned_module: self.interned_module,
        }
    }
}

impl Reduce for GlobalName<'_> {
    fn reduce_ex(&self, _protocol: u8) -> Result<Reduction<'_>> {
        Ok(Reduction::Global(self.borrowed()))
    }
}

/// An interned string (an identifier): memoized by content, as CPython's interned strings
/// are one object however often they occur. Used for attribute names in state dicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Name<'a>(pub &'a str);

impl Reduce for Name<'_> {
    fn reduce_ex(&self, _protocol: u8) -> Result<Reduction<'_>> {
        Ok(Reduction::Builtin(Builtin::Name(self.0)))
    }
    #[inline]
    fn fast(&self) -> Fast<'_> {
        Fast::Name(self.0)
    }
}

/// An instance's attributes, as `__dict__` holds them: interned names and values, in order.
/// Pickles as a dict; the usual state of a reduction.
///
/// ```
/// use pickle_core::{Attrs, Call, Reduce, Reduction, Result};
///
/// struct Account { owner: String, balance: i64 }
///
/// impl Reduce for Account {
///     fn reduce_ex(&self, _protocol: u8) -> Result<Reduction<'_>> {
///         let state = Attrs::new().with("owner", &self.owner).with("balance", &self.balance);
///         Ok(Call::new(Reduction::global("bank", "Account"), ()).state(state).into())
///     }
/// }
/// ```
#[derive(Default)]
pub struct Attrs<'a>(Vec<(AttrName<'a>, Arg<'a>)>);

/// A field name of a derived type (not a public API): an interned name (as [`Name`](crate::Name)) whose text
/// is `'static`, so the pickler may know it again by its address.
#[doc(hidden)]
pub struct StaticName(pub &'static str);

impl Reduce for StaticName {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        Ok(Reduction::Builtin(Builtin::Name(self.0)))
    }
    #[inline]
    fn fast(&self) -> Fast<'_> {
        Fast::StaticName(self.0)
    }
}

/// An attribute's name: borrowed, or `'static` (a derived type's, which the pickler knows
/// again by its address).
enum AttrName<'a> {
    Borrowed(Name<'a>),
    Static(StaticName),
}

impl<'a> Attrs<'a> {
    /// No attributes.
    pub fn new() -> Attrs<'a> {
        Attrs(Vec::new())
    }

    /// No attributes yet, with room for `n`: what derived code uses, as it knows `n`.
    pub fn with_capacity(n: usize) -> Attrs<'a> {
        Attrs(Vec::with_capacity(n))
    }

    /// With one more attribute.
    pub fn with(mut self, name: &'a str, value: impl Into<Arg<'a>>) -> Attrs<'a> {
        self.0.push((AttrName::Borrowed(Name(name)), value.into()));
        self
    }

    /// With one more attribute whose name is `'static`: what derived code uses.
    #[doc(hidden)]
    pub fn with_static(mut self, name: &'static str, value: impl Into<Arg<'a>>) -> Attrs<'a> {
        self.0.push((AttrName::Static(StaticName(name)), value.into()));
        self
    }

    /// Adds an attribute.
    pub fn push(&mut self, name: &'a str, value: impl Into<Arg<'a>>) {
        self.0.push((AttrName::Borrowed(Name(name)), value.into()));
    }

    /// How many attributes there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Reduce for Attrs<'_> {
    fn reduce_ex(&self, _protocol: u8) -> Result<Reduction<'_>> {
        Ok(Reduction::Builtin(Builtin::Dict(self)))
    }
}

impl Mapping for Attrs<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn save_pairs(&self, sink: &mut PairSink<'_, '_>) -> Result<()> {
        sink.save_all(self.0.iter().map(|(name, value)| {
            let name: &dyn Reduce = match name {
                AttrName::Borrowed(name) => name,
                AttrName::Static(name) => name,
            };
            (name, value.get() as &dyn Reduce)
        }))
    }
}

impl<'a> From<Attrs<'a>> for Arg<'a> {
    fn from(attrs: Attrs<'a>) -> Arg<'a> {
        Arg::owned(attrs)
    }
}

/// An object in a reduction: borrowed from the value, or made for the occasion (a constant
/// argument, a tuple of borrowed fields).
pub enum Arg<'a> {
    /// Borrowed from the value being pickled.
    Ref(&'a dyn Reduce),
    /// Made by `reduce_ex`.
    Owned(Box<dyn Reduce + 'a>),
}

impl<'a> Arg<'a> {
    /// An owned object.
    pub fn owned(value: impl Reduce + 'a) -> Arg<'a> {
        Arg::Owned(Box::new(value))
    }

    /// The object.
    pub fn get(&self) -> &(dyn Reduce + 'a) {
        match self {
            Arg::Ref(r) => *r,
            Arg::Owned(b) => &**b,
        }
    }
}

impl<'a, T: Reduce + 'a> From<&'a T> for Arg<'a> {
    fn from(r: &'a T) -> Arg<'a> {
        Arg::Ref(r)
    }
}

impl<'a> From<GlobalName<'a>> for Arg<'a> {
    fn from(g: GlobalName<'a>) -> Arg<'a> {
        Arg::owned(g)
    }
}

/// The tuple form of a reduction: `(callable, args, state, list_items, dict_items, state_setter)`.
///
/// The pickler writes it as CPython's `save_reduce` does: `REDUCE`, or `NEWOBJ` when the
/// callable is named `__newobj__` (protocol 2+), or `NEWOBJ_EX` when it is named
/// `__newobj_ex__` (protocol 4+); then the object is memoized, list items appended, dict
/// items set and the state applied with `BUILD` or the state setter.
pub struct Call<'a> {
    /// What is called: usually a [`GlobalName`].
    pub callable: Arg<'a>,
    /// The arguments: must pickle as a tuple.
    pub args: Arg<'a>,
    /// Given to `__setstate__` (or the state setter) after the call, unless `None`.
    pub state: Option<Arg<'a>>,
    /// Appended after the call.
    pub list_items: Option<Box<dyn Iterator<Item = Arg<'a>> + 'a>>,
    /// Set after the call (`obj[key] = value`).
    pub dict_items: Option<Box<dyn Iterator<Item = (Arg<'a>, Arg<'a>)> + 'a>>,
    /// Called as `state_setter(obj, state)` instead of `obj.__setstate__(state)`.
    pub state_setter: Option<Arg<'a>>,
}

impl<'a> Call<'a> {
    /// `callable(*args)`, with nothing applied after.
    pub fn new(callable: impl Into<Arg<'a>>, args: impl Reduce + 'a) -> Call<'a> {
        Call {
            callable: callable.into(),
            args: Arg::owned(args),
            state: None,
            list_items: None,
            dict_items: None,
            state_setter: None,
        }
    }

    /// With a state for `__setstate__`.
    pub fn state(mut self, state: impl Into<Arg<'a>>) -> Call<'a> {
        self.state = Some(state.into());
        self
    }

    /// With items to append.
    pub fn list_items<I: Iterator<Item = Arg<'a>> + 'a>(mut self, items: I) -> Call<'a> {
        self.list_items = Some(Box::new(items));
        self
    }

    /// With pairs to set.
    pub fn dict_items<I: Iterator<Item = (Arg<'a>, Arg<'a>)> + 'a>(mut self, items: I) -> Call<'a> {
        self.dict_items = Some(Box::new(items));
        self
    }

    /// With a state setter.
    pub fn state_setter(mut self, setter: impl Into<Arg<'a>>) -> Call<'a> {
        self.state_setter = Some(setter.into());
        self
    }
}

impl<'a> From<Call<'a>> for Reduction<'a> {
    fn from(call: Call<'a>) -> Reduction<'a> {
        Reduction::Call(Box::new(call))
    }
}

impl<'a> Reduction<'a> {
    /// A global name, for [`Call::new`]'s callable or a string return.
    pub fn global(module: &'a str, name: &'a str) -> GlobalName<'a> {
        GlobalName::new(module, name)
    }
}

/// The items of a tuple, list, set or frozenset, with a known length.
///
/// [`save_items`](Sequence::save_items) hands them to the pickler in one call, so a
/// `Vec<i64>` is written by one loop compiled for `i64`.
pub trait Sequence {
    /// How many items there are.
    fn len(&self) -> usize;
    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The item at `index`, for the pickler's own use of argument tuples.
    fn get(&self, index: usize) -> Option<&dyn Reduce>;
    /// Gives every item to the sink, in order (`sink.save_all(self.iter())`).
    fn save_items(&self, sink: &mut ItemSink<'_, '_>) -> Result<()>;
}

/// The pairs of a dict, with a known length.
pub trait Mapping {
    /// How many pairs there are.
    fn len(&self) -> usize;
    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Gives every pair to the sink, in order (`sink.save_all(self.iter())`).
    fn save_pairs(&self, sink: &mut PairSink<'_, '_>) -> Result<()>;
}

impl fmt::Debug for Reduction<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reduction::Builtin(_) => f.write_str("Reduction::Builtin(..)"),
            Reduction::Global(g) => write!(f, "Reduction::Global({}.{})", g.module, g.name),
            Reduction::Call(_) => f.write_str("Reduction::Call(..)"),
            Reduction::As(_) => f.write_str("Reduction::As(..)"),
        }
    }
}

/// An error for an unset [`Shared`](crate::Shared) node or a dangling [`Cycle`](crate::Cycle).
pub(crate) fn dangling_reference() -> Error {
    Error::pickling("a shared reference points to an object that is unset or no longer alive")
}
