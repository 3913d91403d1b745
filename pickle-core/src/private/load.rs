//! Helpers for the code `#[derive(Reconstruct)]` generates.
//!
//! A derived `reconstruct` checks the class ([`Fields::of_class`]), asks [`Fields::find`]
//! for each field where its value is (a table of its role at every protocol), rebuilds it,
//! and lets [`Fields::finish`] refuse whatever the pickle held that no field took.

use crate::error::{Error, Result};
use crate::reconstruct::{Instance, Items, Node, Pairs, Reconstruct};
use crate::value::PyString;
use pickle_protocol::PROTOCOL_COUNT;

/// Where a field's value is at one protocol: its role there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The positional argument at this index.
    Arg(usize),
    /// The keyword argument of this name.
    Kwarg(&'static str),
    /// The attribute of this name in the state dict.
    State(&'static str),
    /// The attribute of this name in the slot-state dict.
    Slot(&'static str),
    /// The list items.
    ListItems,
    /// The dict items.
    DictItems,
}

/// What [`Fields::find`] found for a field.
pub enum Found<'a> {
    /// One object: an argument or an attribute.
    Node(Node<'a>),
    /// The list items.
    Items(Items<'a>),
    /// The dict items.
    Pairs(Pairs<'a>),
    /// Nothing.
    Missing,
}

/// The parts of an instance, as fields take them.
pub struct Fields<'a> {
    instance: Instance<'a>,
    /// The Rust type, for errors.
    ty: &'static str,
    args: Vec<bool>,
    kwargs: Vec<bool>,
    attributes: Vec<bool>,
    slots: Vec<bool>,
    list_items: bool,
    dict_items: bool,
}

/// Whether `node` is an instance of `module.name` (or built by that function).
pub fn is_class(node: Node<'_>, module: &str, name: &str) -> bool {
    node.instance().is_some_and(|i| i.is(module, name))
}

/// The error for an object that is not an instance of `module.name`. When the two names read
/// as the same dotted text (`m.Money.from_cents` split after `m` or after `Money`), both are
/// written `module:qualname`, as `pkgutil.resolve_name` reads them, so they differ.
fn class_mismatch(node: Node<'_>, module: &str, name: &str, ty: &str) -> Error {
    let found = node.instance().and_then(|i| i.class());
    match found {
        Some(g) if format!("{}.{}", g.module, g.name) == format!("{module}.{name}") => {
            let found = format!("`{}:{}`", g.module, g.name);
            node.mismatch_found(format_args!("`{module}:{name}` for `{ty}`"), found)
        }
        _ => node.mismatch(format_args!("`{module}.{name}` for `{ty}`")),
    }
}

impl<'a> Fields<'a> {
    /// The instance `node` must be: of the class `module.name`, or built by the function
    /// `module.name` (a custom reconstructor).
    pub fn of_class(node: Node<'a>, module: &str, name: &str, ty: &'static str) -> Result<Fields<'a>> {
        let instance =
            node.instance().filter(|i| i.is(module, name)).ok_or_else(|| class_mismatch(node, module, name, ty))?;
        if instance.has_custom_state() {
            let found = instance.state().map(|s| s.describe()).unwrap_or_default();
            return Err(node.error(format_args!(
                "the state of `{module}.{name}` is {found}, not a dict of attributes: `{ty}` takes its fields from \
                 a dict (or `(dict, slots)`); implement `Reconstruct` by hand for a custom `__getstate__`"
            )));
        }
        Ok(Fields {
            instance,
            ty,
            args: vec![false; instance.args().len()],
            kwargs: vec![false; instance.kwargs().len()],
            attributes: vec![false; instance.attributes().len()],
            slots: vec![false; instance.slots().len()],
            list_items: instance.list_items().len() == 0,
            dict_items: instance.dict_items().len() == 0,
        })
    }

    /// The instance `node` must be, for a type that takes the whole state (`from_state`):
    /// the state may be anything a `__getstate__` returns, and is read by [`Fields::state`].
    pub fn of_class_with_state(node: Node<'a>, module: &str, name: &str, ty: &'static str) -> Result<Fields<'a>> {
        let instance =
            node.instance().filter(|i| i.is(module, name)).ok_or_else(|| class_mismatch(node, module, name, ty))?;
        Ok(Fields {
            instance,
            ty,
            args: vec![false; instance.args().len()],
            kwargs: vec![false; instance.kwargs().len()],
            // The state is read whole: its entries are no field's to take.
            attributes: vec![true; instance.attributes().len()],
            slots: vec![true; instance.slots().len()],
            list_items: instance.list_items().len() == 0,
            dict_items: instance.dict_items().len() == 0,
        })
    }

    /// The whole state, as `__setstate__` receives it, for `from_state`.
    pub fn state<S: Reconstruct>(&self) -> Result<S> {
        let node = self.instance.node();
        let state = self.instance.state().ok_or_else(|| {
            node.error(format_args!("{} has no state, and `{}` is made from its state", self.class_name(), self.ty))
        })?;
        state.get().map_err(|e| e.in_field(self.ty, "(state)"))
    }

    /// Where the field is: its role at the pickle's protocol first, then its roles at the
    /// other protocols, nearest first, so that a pickle written at a protocol that is not
    /// the one it says (a hand-written `__reduce_ex__`) still loads.
    pub fn find(&mut self, roles: &[Option<Source>; PROTOCOL_COUNT]) -> Found<'a> {
        let protocol = usize::from(self.instance.node().protocol().min(pickle_protocol::HIGHEST_PROTOCOL));
        let mut order: [usize; PROTOCOL_COUNT] = std::array::from_fn(|p| p);
        order.sort_by_key(|&p| p.abs_diff(protocol));
        for (k, &p) in order.iter().enumerate() {
            let Some(source) = roles[p] else { continue };
            if order[..k].iter().any(|&q| roles[q] == Some(source)) {
                continue;
            }
            let primary = p == protocol;
            if let Some(found) = self.take(source, primary) {
                return found;
            }
        }
        Found::Missing
    }

    fn take(&mut self, source: Source, primary: bool) -> Option<Found<'a>> {
        let i = &self.instance;
        match source {
            Source::Arg(index) => {
                let used = self.args.get_mut(index).filter(|used| !**used)?;
                *used = true;
                i.args().nth(index).map(Found::Node)
            }
            Source::Kwarg(name) => take_named(i.kwargs(), &mut self.kwargs, name),
            Source::State(name) => take_named(i.attributes(), &mut self.attributes, name),
            Source::Slot(name) => take_named(i.slots(), &mut self.slots, name),
            Source::ListItems => {
                let items = i.list_items();
                (primary || items.len() > 0).then(|| {
                    self.list_items = true;
                    Found::Items(items)
                })
            }
            Source::DictItems => {
                let pairs = i.dict_items();
                (primary || pairs.len() > 0).then(|| {
                    self.dict_items = true;
                    Found::Pairs(pairs)
                })
            }
        }
    }

    /// Takes the state entry `name` if the pickle has it: an argument Python keeps in
    /// `__dict__` too, whose value the field has from the argument.
    pub fn also_in_state(&mut self, name: &str) {
        let _ = take_named(self.instance.attributes(), &mut self.attributes, name);
    }

    /// The positional argument `index`, for a `constructor` that takes `args = ...`.
    pub fn arg<T: Reconstruct>(&mut self, index: usize) -> Result<T> {
        match self.take(Source::Arg(index), true) {
            Some(Found::Node(node)) => node.get().map_err(|e| e.in_field(self.ty, &format!("args[{index}]"))),
            _ => Err(self.missing(&format!("args[{index}]"))),
        }
    }

    /// The error for a field the pickle does not have.
    pub fn missing(&self, field: &str) -> Error {
        let class = self.class_name();
        self.instance
            .node()
            .error(format_args!("missing: {class} has no attribute or argument for it; give the field `default`"))
            .in_field(self.ty, field)
    }

    fn class_name(&self) -> String {
        match self.instance.class() {
            Some(g) => format!("`{}.{}`", g.module, g.name),
            None => "the object".to_owned(),
        }
    }

    /// Refuses what no field took, unless the type ignores it: attributes, arguments and
    /// items the Rust type does not know would be lost.
    pub fn finish(self, ignore_unknown: bool, ignore_args: bool) -> Result<()> {
        if ignore_unknown {
            return Ok(());
        }
        let node = self.instance.node();
        let class = self.class_name();
        let ty = self.ty;
        let unknown = |pairs: Pairs<'a>, used: &[bool], what: &str| -> Result<()> {
            match pairs.zip(used).find(|(_, used)| !**used) {
                Some(((key, _), _)) => {
                    let name = key.as_str().map_or_else(|| key.describe(), |s| format!("'{}'", s.to_string_lossy()));
                    Err(node.error(format_args!(
                        "{class} has {what} {name}, which `{ty}` has no field for: add a field for it, or \
                         `#[pickle(ignore_unknown)]` to drop it"
                    )))
                }
                None => Ok(()),
            }
        };
        unknown(self.instance.attributes(), &self.attributes, "the attribute")?;
        unknown(self.instance.slots(), &self.slots, "the slot")?;
        unknown(self.instance.kwargs(), &self.kwargs, "the keyword argument")?;
        if !ignore_args {
            if let Some(index) = self.args.iter().position(|used| !used) {
                return Err(node.error(format_args!(
                    "{class} was called with {} positional arguments, and `{ty}` has no field for argument {index}: \
                     add an `arg` field, or `#[pickle(ignore_unknown)]` to drop it",
                    self.args.len()
                )));
            }
        }
        let items = [(self.list_items, "list items"), (self.dict_items, "dict items")];
        if let Some((_, what)) = items.iter().find(|(taken, _)| !taken) {
            return Err(node.error(format_args!(
                "{class} has {what}, and `{ty}` has no `{}` field for them: add one, or `#[pickle(ignore_unknown)]` to \
                 drop them",
                what.replace(' ', "_")
            )));
        }
        Ok(())
    }
}

/// The entries of a plain dict, as the fields of a `#[pickle(dict)]` type take them: the same
/// interface as [`Fields`], every field an entry keyed by its Python name.
pub struct DictFields<'a> {
    node: Node<'a>,
    pairs: Pairs<'a>,
    used: Vec<bool>,
    ty: &'static str,
}

impl<'a> DictFields<'a> {
    /// The dict `node` must be.
    pub fn of_dict(node: Node<'a>, ty: &'static str) -> Result<DictFields<'a>> {
        let pairs = node.pairs().ok_or_else(|| node.mismatch(format_args!("dict for `{ty}`")))?;
        Ok(DictFields { node, used: vec![false; pairs.len()], pairs, ty })
    }

    /// The entry of the field: its key is its Python name at every protocol.
    pub fn find(&mut self, roles: &[Option<Source>; PROTOCOL_COUNT]) -> Found<'a> {
        let Some(Source::State(name)) = roles.iter().flatten().next() else { return Found::Missing };
        take_named(self.pairs.clone(), &mut self.used, name).unwrap_or(Found::Missing)
    }

    /// The error for a field the dict does not have.
    pub fn missing(&self, field: &str) -> Error {
        self.node.error("missing: the dict has no such key; give the field `default`").in_field(self.ty, field)
    }

    /// Refuses keys no field took, unless the type ignores them.
    pub fn finish(self, ignore_unknown: bool, _ignore_args: bool) -> Result<()> {
        if ignore_unknown {
            return Ok(());
        }
        match self.pairs.zip(&self.used).find(|(_, used)| !**used) {
            Some(((key, _), _)) => Err(self.node.error(format_args!(
                "the dict has the key {}, which `{}` has no field for: add a field for it, or \
                 `#[pickle(ignore_unknown)]` to drop it",
                key.as_str().map_or_else(|| key.describe(), |s| format!("'{}'", s.to_string_lossy())),
                self.ty
            ))),
            None => Ok(()),
        }
    }
}

fn take_named<'a>(pairs: Pairs<'a>, used: &mut [bool], name: &str) -> Option<Found<'a>> {
    let (index, (_, value)) =
        pairs.enumerate().find(|(i, (key, _))| !used[*i] && key.as_str().and_then(PyString::as_str) == Some(name))?;
    used[index] = true;
    Some(Found::Node(value))
}

/// A field's value, read from `source`: a node of the graph (the value, with the field
/// named in errors), or the typed fast path (into the field's slot). One function for both,
/// so that a field type without `Reconstruct` is one error, not one per path.
pub fn field<T: Reconstruct, S: FieldSource<T>>(source: S, ty: &str, field: &str) -> S::Output {
    source.read(ty, field)
}

/// Where [`field`] reads a field from.
pub trait FieldSource<T> {
    /// What reading gives.
    type Output;
    /// Reads the field `field` of the Rust type `ty`.
    fn read(self, ty: &str, field: &str) -> Self::Output
    where
        T: Reconstruct;
}

impl<T> FieldSource<T> for Node<'_> {
    type Output = Result<T>;
    fn read(self, ty: &str, field: &str) -> Result<T>
    where
        T: Reconstruct,
    {
        self.get().map_err(|e| e.in_field(ty, field))
    }
}

/// The stream and the field's slot: `None` where the fast path gives up (see
/// [`Stream::field`](crate::__private::Stream::field)).
impl<T, S: crate::__private::Stream> FieldSource<T> for (&mut S, &mut Option<T>) {
    type Output = Option<()>;
    fn read(self, _: &str, _: &str) -> Option<()>
    where
        T: Reconstruct,
    {
        self.0.field(self.1)
    }
}

/// A field's value from its `with` module's `reconstruct`.
pub fn field_with<T>(result: Result<T>, ty: &str, field: &str) -> Result<T> {
    result.map_err(|e| e.in_field(ty, field))
}

/// A `list_items` field, built from the items appended after the call.
pub fn list_items_field<C: LoadListItems>(items: Items<'_>, ty: &str, field: &str) -> Result<C> {
    C::load_items(items).map_err(|e| e.in_field(ty, field))
}

/// A `dict_items` field, built from the pairs set after the call.
pub fn dict_items_field<C: LoadDictItems>(pairs: Pairs<'_>, ty: &str, field: &str) -> Result<C> {
    C::load_pairs(pairs).map_err(|e| e.in_field(ty, field))
}

/// A collection that `list_items` can fill.
#[diagnostic::on_unimplemented(
    message = "a `list_items` field must be a collection that loaded items can fill; `{Self}` is not",
    label = "this type cannot be collected from items that implement `Reconstruct`",
    note = "use a `Vec`, `VecDeque` or set of `Reconstruct` items, or give the field another role"
)]
pub trait LoadListItems: Sized {
    /// The collection of the items.
    fn load_items(items: Items<'_>) -> Result<Self>;
}

impl<C, T> LoadListItems for C
where
    C: FromIterator<T> + IntoIterator<Item = T>,
    T: Reconstruct,
{
    fn load_items(items: Items<'_>) -> Result<C> {
        crate::reconstruct::collect_items(items)
    }
}

/// A map that `dict_items` can fill.
#[diagnostic::on_unimplemented(
    message = "a `dict_items` field must be a map that loaded pairs can fill; `{Self}` is not",
    label = "this type cannot be collected from pairs that implement `Reconstruct`",
    note = "use a `HashMap`, `BTreeMap` or `Vec<(K, V)>` of `Reconstruct` keys and values, or give the field another role"
)]
pub trait LoadDictItems: Sized {
    /// The map of the pairs.
    fn load_pairs(pairs: Pairs<'_>) -> Result<Self>;
}

impl<C, K, V> LoadDictItems for C
where
    C: FromIterator<(K, V)> + IntoIterator<Item = (K, V)>,
    K: Reconstruct,
    V: Reconstruct,
{
    fn load_pairs(pairs: Pairs<'_>) -> Result<C> {
        crate::reconstruct::collect_pairs(pairs)
    }
}

/// Runs a `setstate` hook on the loaded value: `fn(&mut T)` or `fn(&mut T) -> Result<(), E>`
/// (what it returns is [`Constructed`], as a constructor's answer is).
pub fn set_state<T, R: Constructed<()>>(value: &mut T, hook: impl FnOnce(&mut T) -> R) -> Result<()> {
    hook(value).constructed()
}

/// The value of an `absent_if_none` field whose attribute the pickle does not have: `None`.
pub fn absent<T: Absent>() -> T {
    T::absent()
}

/// A type whose value can say "the attribute is absent" (`absent_if_none`).
#[diagnostic::on_unimplemented(
    message = "an `absent_if_none` field must be an `Option`, whose `None` is the absent attribute; `{Self}` is not",
    label = "this field is not an `Option`",
    note = "make the field `Option<T>`, or remove `absent_if_none`"
)]
pub trait Absent {
    /// The value.
    fn absent() -> Self;
}

impl<T> Absent for Option<T> {
    fn absent() -> Self {
        None
    }
}

/// The value of a `skip` field without `default = path`.
pub fn skipped<T: SkippedDefault>() -> T {
    T::skipped()
}

/// A type a `skip` field can be rebuilt with on load.
#[diagnostic::on_unimplemented(
    message = "a `skip` field is rebuilt with `Default` on load, and `{Self}` does not implement `Default`",
    label = "this field is never pickled, so loading needs a value for it",
    note = "implement `Default` for it, or write `#[pickle(skip, default = path::to::function)]`"
)]
pub trait SkippedDefault {
    /// The value.
    fn skipped() -> Self;
}

impl<T: Default> SkippedDefault for T {
    fn skipped() -> T {
        T::default()
    }
}

/// What a `constructor` returns: the value, or a `Result` of it.
pub trait Constructed<T> {
    /// The value, or the constructor's error.
    fn constructed(self) -> Result<T>;
}

impl<T> Constructed<T> for T {
    fn constructed(self) -> Result<T> {
        Ok(self)
    }
}

impl<T, E: std::fmt::Display> Constructed<T> for std::result::Result<T, E> {
    fn constructed(self) -> Result<T> {
        self.map_err(Error::custom)
    }
}

/// The value of a constructor's answer.
pub fn constructed<T, C: Constructed<T>>(value: C) -> Result<T> {
    value.constructed()
}

/// The node must be the global `module.name`, what a `global = "..."` type pickles as.
pub fn expect_global(node: Node<'_>, module: &str, name: &str, ty: &str) -> Result<()> {
    match node.global() {
        Some(g) if g.module == module && g.name == name => Ok(()),
        _ => Err(node.mismatch(format_args!("the global `{module}.{name}` for `{ty}`"))),
    }
}

/// The value of an `enum.Enum` member of `module.name`: the argument of `Color(value)`.
pub fn member_value<'a>(node: Node<'a>, module: &str, name: &str) -> Option<Node<'a>> {
    let instance = node.instance().filter(|i| i.is(module, name))?;
    let mut args = instance.args();
    match (args.next(), args.next()) {
        (Some(value), None) => Some(value),
        _ => None,
    }
}

/// Whether a member's value is `value`.
pub fn is_member<V: MemberValue>(node: Node<'_>, value: V) -> bool {
    value.matches(node)
}

/// A literal an `enum.Enum` member can have as its value.
pub trait MemberValue {
    /// Whether the loaded value is this one.
    fn matches(&self, node: Node<'_>) -> bool;
}

macro_rules! int_member_values {
    ($($ty:ty),*) => {$(
        impl MemberValue for $ty {
            fn matches(&self, node: Node<'_>) -> bool {
                node.as_bigint().is_some_and(|i| *i == num_bigint::BigInt::from(*self))
            }
        }
    )*};
}

int_member_values!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

impl MemberValue for &str {
    fn matches(&self, node: Node<'_>) -> bool {
        node.as_str().and_then(PyString::as_str) == Some(*self)
    }
}

impl MemberValue for bool {
    fn matches(&self, node: Node<'_>) -> bool {
        node.as_bool() == Some(*self)
    }
}

impl MemberValue for f64 {
    fn matches(&self, node: Node<'_>) -> bool {
        node.as_f64() == Some(*self)
    }
}
