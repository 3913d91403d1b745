//! Helpers for the code `#[derive(Reduce)]` and `#[derive(Reconstruct)]` generate. Not a public API: names and
//! signatures change without notice.

mod load;

use std::any::Any;

pub use crate::compat::tables as compat_tables;
use crate::de::handoff::FastLoad;
use crate::error::{Error, Result};
pub use crate::reconstruct::Stream;
pub use crate::reduce::StaticName;
use crate::reduce::{Arg, Attrs, Builtin, GlobalName, Reduce, Reduction, Sequence};
use crate::ser::ItemSink;
pub use load::*;

/// The typed fast path alone (`de::stream`): the value, or `None` where it leaves the pickle
/// to the general loader. For tests that check the two agree, and that the path is taken.
pub fn load_streamed<T: crate::Reconstruct>(bytes: &[u8], options: &crate::UnpicklerOptions) -> Option<T> {
    crate::de::stream::load(bytes, options).map(|(value, _)| value)
}

/// The direct path to a `Value` alone (`de::direct`): the value, or `None` where it hands
/// the pickle, or part of it, to the general loader. For tests that check the path is
/// taken.
pub fn load_direct(bytes: &[u8], options: &crate::UnpicklerOptions) -> Option<crate::Value> {
    match crate::de::direct::load(bytes, options) {
        FastLoad::Done(value, _) => Some(value),
        FastLoad::Held(_) | FastLoad::Declined => None,
    }
}

/// Whether the direct path to a `Value` (`de::direct`) hands the pickle to the general
/// loader part way, rather than decoding it whole or leaving it whole: for tests that
/// check the handoff is taken.
pub fn direct_hands_over(bytes: &[u8], options: &crate::UnpicklerOptions) -> bool {
    matches!(crate::de::direct::load(bytes, options), FastLoad::Held(_))
}

/// A tuple of arguments of any length, each borrowed or owned.
pub struct Args<'a>(pub Vec<Arg<'a>>);

impl Reduce for Args<'_> {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        Ok(Reduction::Builtin(Builtin::Tuple(self)))
    }
}

impl Sequence for Args<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn get(&self, index: usize) -> Option<&dyn Reduce> {
        self.0.get(index).map(|a| a.get() as &dyn Reduce)
    }
    fn save_items(&self, sink: &mut ItemSink<'_, '_>) -> Result<()> {
        sink.save_all(self.0.iter().map(|a| a.get() as &dyn Reduce))
    }
}

/// The items of a `list_items` field as one list: the base state of a list subclass, which
/// `copyreg._reconstructor(cls, list, [items])` takes below protocol 2.
pub struct BaseList<'a>(Args<'a>);

/// The items of a `list_items` field, gathered for [`BaseList`].
pub fn base_list<'a>(items: Box<dyn Iterator<Item = Arg<'a>> + 'a>) -> BaseList<'a> {
    BaseList(Args(items.collect()))
}

impl Reduce for BaseList<'_> {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        Ok(Reduction::Builtin(Builtin::List(&self.0)))
    }
}

/// The pairs of a `dict_items` field as one dict: the base state of a dict subclass, which
/// `copyreg._reconstructor(cls, dict, {pairs})` takes below protocol 2.
pub struct BaseDict<'a>(Vec<(Arg<'a>, Arg<'a>)>);

/// The pairs of a `dict_items` field, gathered for [`BaseDict`].
pub fn base_dict<'a>(pairs: Box<dyn Iterator<Item = (Arg<'a>, Arg<'a>)> + 'a>) -> BaseDict<'a> {
    BaseDict(pairs.collect())
}

impl Reduce for BaseDict<'_> {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        Ok(Reduction::Builtin(Builtin::Dict(self)))
    }
}

impl crate::reduce::Mapping for BaseDict<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn save_pairs(&self, sink: &mut crate::ser::PairSink<'_, '_>) -> Result<()> {
        sink.save_all(self.0.iter().map(|(k, v)| (k.get() as &dyn Reduce, v.get() as &dyn Reduce)))
    }
}

/// A classmethod as a callable: the bound method `cls.name`, which CPython pickles as
/// `getattr(cls, 'name')` at every protocol (`method.__reduce__`).
pub struct ClassAttribute {
    class: GlobalName<'static>,
    name: &'static str,
}

/// The classmethod `name` of `class` (module and qualname), as a callable.
pub fn class_attribute(module: &'static str, class: &'static str, name: &'static str) -> Arg<'static> {
    Arg::owned(ClassAttribute { class: GlobalName::new(module, class), name })
}

impl Reduce for ClassAttribute {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        let class = GlobalName::new(&*self.class.module, &*self.class.name);
        Ok(crate::Call::new(GlobalName::new("builtins", "getattr"), (class, StaticName(self.name))).into())
    }
}

/// `copyreg.__newobj__`, `copyreg.__newobj_ex__`, `copyreg._reconstructor`, `builtins.object`.
pub fn copyreg(name: &'static str) -> GlobalName<'static> {
    GlobalName::new("copyreg", name)
}

/// The state of a reduction: the attribute dict, or `(dict or None, slots)` with slots.
/// With `none_when_empty`, an empty dict (and no slots) is no state at all and an empty
/// slots dict is no slots, as `object.__getstate__` returns them.
pub fn state<'a>(dict: Attrs<'a>, slots: Option<Attrs<'a>>, none_when_empty: bool) -> Option<Arg<'a>> {
    let slots = slots.filter(|s| !(none_when_empty && s.is_empty()));
    match slots {
        Some(slots) => {
            let dict = if dict.is_empty() { None } else { Some(dict) };
            Some(Arg::owned((dict, slots)))
        }
        None if dict.is_empty() && none_when_empty => None,
        None => Some(dict.into()),
    }
}

/// CPython 3.11's refusal of `__slots__` below protocol 2, naming the class and protocol.
pub fn slots_below_2(class: &GlobalName<'_>, protocol: u8) -> Error {
    Error::pickling(format!(
        "a class that defines __slots__ without defining __getstate__ cannot be pickled \
         ('{}.{}' at protocol {protocol})",
        class.module, class.name
    ))
}

/// The items of a `list_items` field, to append after the call.
pub fn list_items<'a, C: ?Sized>(collection: &'a C) -> Box<dyn Iterator<Item = Arg<'a>> + 'a>
where
    &'a C: ListItems<'a>,
{
    collection.items()
}

/// The pairs of a `dict_items` field, to set after the call.
pub fn dict_items<'a, C: ?Sized>(collection: &'a C) -> Box<dyn Iterator<Item = (Arg<'a>, Arg<'a>)> + 'a>
where
    &'a C: DictItems<'a>,
{
    collection.pairs()
}

/// A collection whose items can be appended to a Python object after its creation.
#[diagnostic::on_unimplemented(
    message = "a `list_items` field must be a collection of picklable items; `{Self}` is not",
    label = "iterating this field does not yield items that implement `Reduce`",
    note = "use a `Vec`, `VecDeque`, slice or set of `Reduce` items, or give the field another role"
)]
pub trait ListItems<'a> {
    /// The items.
    fn items(self) -> Box<dyn Iterator<Item = Arg<'a>> + 'a>;
}

impl<'a, C: ?Sized, T> ListItems<'a> for &'a C
where
    &'a C: IntoIterator<Item = &'a T>,
    <&'a C as IntoIterator>::IntoIter: 'a,
    T: Reduce + 'a,
{
    fn items(self) -> Box<dyn Iterator<Item = Arg<'a>> + 'a> {
        Box::new(self.into_iter().map(|item| Arg::Ref(item)))
    }
}

/// A map whose pairs can be set on a Python object after its creation.
#[diagnostic::on_unimplemented(
    message = "a `dict_items` field must be a map of picklable keys and values; `{Self}` is not",
    label = "iterating this field does not yield `(key, value)` pairs that implement `Reduce`",
    note = "use a `HashMap`, `BTreeMap` or `Vec<(K, V)>`, or give the field another role"
)]
pub trait DictItems<'a> {
    /// The pairs.
    fn pairs(self) -> Box<dyn Iterator<Item = (Arg<'a>, Arg<'a>)> + 'a>;
}

impl<'a, C: ?Sized, I> DictItems<'a> for &'a C
where
    &'a C: IntoIterator<Item = I>,
    <&'a C as IntoIterator>::IntoIter: 'a,
    I: PairRef<'a>,
{
    fn pairs(self) -> Box<dyn Iterator<Item = (Arg<'a>, Arg<'a>)> + 'a> {
        Box::new(self.into_iter().map(|pair| {
            let (k, v) = pair.split();
            (Arg::Ref(k), Arg::Ref(v))
        }))
    }
}

/// A borrowed pair, as maps (`(&K, &V)`) and vectors of tuples (`&(K, V)`) yield them.
#[diagnostic::on_unimplemented(
    message = "a `dict_items` field must yield (key, value) pairs of picklable values; it yields `{Self}`",
    label = "iterating this field does not yield pairs",
    note = "use a `HashMap`, `BTreeMap` or `Vec<(K, V)>`, or give the field another role"
)]
pub trait PairRef<'a> {
    /// The key type.
    type K: Reduce + 'a;
    /// The value type.
    type V: Reduce + 'a;
    /// The key and the value.
    fn split(self) -> (&'a Self::K, &'a Self::V);
}

impl<'a, K: Reduce + 'a, V: Reduce + 'a> PairRef<'a> for (&'a K, &'a V) {
    type K = K;
    type V = V;
    fn split(self) -> (&'a K, &'a V) {
        self
    }
}

impl<'a, K: Reduce + 'a, V: Reduce + 'a> PairRef<'a> for &'a (K, V) {
    type K = K;
    type V = V;
    fn split(self) -> (&'a K, &'a V) {
        (&self.0, &self.1)
    }
}

/// An `absent_if_none` field: `None` is an attribute the instance does not have.
#[diagnostic::on_unimplemented(
    message = "an `absent_if_none` field must be an `Option`, whose `None` is the absent attribute; `{Self}` is not",
    label = "this field is not an `Option`",
    note = "make the field `Option<T>`, or remove `absent_if_none`"
)]
pub trait MaybeAbsent {
    /// The attribute's type when present.
    type Present: Reduce;
    /// The attribute, if the instance has it.
    fn present(&self) -> Option<&Self::Present>;
}

impl<T: Reduce> MaybeAbsent for Option<T> {
    type Present = T;
    fn present(&self) -> Option<&T> {
        self.as_ref()
    }
}

/// `attrs` with the field's attribute when it is present.
pub fn with_present<'a, F: MaybeAbsent>(attrs: Attrs<'a>, name: &'static str, field: &'a F) -> Attrs<'a> {
    match field.present() {
        Some(value) => attrs.with_static(name, Arg::Ref(value)),
        None => attrs,
    }
}

/// A field written twice, as an argument and as an entry of the state dict, which Python
/// writes as one object (the second time a memo GET): known to the memo by its address.
/// The address is tagged with the top bit and the type's size, so that no `Rc`, enum member
/// or enclosing value at the same address (a struct's first field shares the struct's) is
/// taken for it.
pub struct Kept<'a, T: ?Sized>(&'a T);

/// A field kept twice (see [`Kept`]).
pub fn kept<'a, T: Reduce + 'a>(value: &'a T) -> Arg<'a> {
    Arg::owned(Kept(value))
}

impl<T: Reduce + ?Sized> Reduce for Kept<'_, T> {
    fn reduce_ex(&self, protocol: u8) -> Result<Reduction<'_>> {
        self.0.reduce_ex(protocol)
    }
    fn identity(&self) -> Option<usize> {
        let address = self.0 as *const T as *const () as usize;
        let tag = (1usize << (usize::BITS - 1)) | (std::mem::size_of_val(self.0) << (usize::BITS - 16));
        self.0.identity().or(Some(address ^ tag))
    }
    fn as_any(&self) -> Option<&dyn Any> {
        self.0.as_any()
    }
    fn python_class(&self) -> Option<GlobalName<'_>> {
        self.0.python_class()
    }
    fn fast(&self) -> crate::reduce::Fast<'_> {
        match self.0.fast() {
            // An atom has no identity; a str written fast would lose this one.
            crate::reduce::Fast::Atom(atom) => crate::reduce::Fast::Atom(atom),
            _ => crate::reduce::Fast::Reduce,
        }
    }
}

/// A borrowed field as an argument.
pub fn arg<'a, T: Reduce + 'a>(value: &'a T) -> Arg<'a> {
    Arg::Ref(value)
}

/// What a `with` module's `reduce` returns: a value that pickles as the field's Python object.
#[diagnostic::on_unimplemented(
    message = "a `with` module's `reduce` must return a value that implements `Reduce`; it returns `{Self}`",
    label = "the field's `with` module returns this",
    note = "write `pub fn reduce(value: &T) -> impl Reduce` (a builtin such as `f64`, `String`, a tuple, or a type that \
            implements `Reduce`), not a `Reduction` or a `Result`; `pub fn reconstruct(node: Node<'_>) -> Result<T>` \
            loads it back"
)]
pub trait WithReduced {
    /// The answer as an argument.
    fn into_arg<'a>(self) -> Arg<'a>
    where
        Self: 'a;
}

impl<T: Reduce> WithReduced for T {
    fn into_arg<'a>(self) -> Arg<'a>
    where
        Self: 'a,
    {
        Arg::owned(self)
    }
}

/// A `with` module's answer as an argument.
pub fn with_reduced<'a, T: WithReduced + 'a>(value: T) -> Arg<'a> {
    value.into_arg()
}

/// A `with` module's answer as an argument.
pub fn owned<'a, T: Reduce + 'a>(value: T) -> Arg<'a> {
    Arg::owned(value)
}

/// `Some(self)` as `Any`, for derived types without lifetimes or type parameters.
pub fn as_any<T: Any>(value: &T) -> Option<&dyn Any> {
    Some(value)
}

/// A protocol above the highest: the generated `match` sends it here.
pub fn unsupported_protocol(protocol: u8) -> Error {
    crate::error::ErrorKind::UnsupportedProtocol(protocol).into()
}
