//! What `#[pickle(...)]` says, as darling reads it: one receiver per kind of item.

use darling::util::{Flag, SpannedValue};
use darling::{ast, FromDeriveInput, FromField, FromVariant};

use crate::attr::{DefaultValue, Range};

/// A struct or enum with `#[derive(Reduce)]` or `#[derive(Reconstruct)]`.
#[derive(FromDeriveInput)]
#[darling(attributes(pickle), supports(struct_any, enum_any))]
pub struct Container {
    pub ident: syn::Ident,
    pub generics: syn::Generics,
    pub data: ast::Data<Variant, Field>,
    /// `module = "pkg.mod"`: the Python module of the class.
    #[darling(default)]
    pub module: Option<SpannedValue<String>>,
    /// `name = "Outer.Inner"`: the qualname; the Rust type's name by default.
    #[darling(default)]
    pub name: Option<SpannedValue<String>>,
    /// `global = "SPAM"`: `__reduce__` returns a string; the value is the global `module.SPAM`.
    #[darling(default)]
    pub global: Option<SpannedValue<String>>,
    /// `reconstructor = "pkg.mod.func"`: the callable is this function, not the class.
    #[darling(default)]
    pub reconstructor: Option<SpannedValue<String>>,
    /// `classmethod = "from_cents"`: the callable is a classmethod, `cls.from_cents`, written
    /// as CPython writes a bound method: `getattr(cls, 'from_cents')`.
    #[darling(default)]
    pub classmethod: Option<SpannedValue<String>>,
    /// `newobj`: like `__getnewargs(_ex)__`: from protocol 2 the args go to `cls.__new__`.
    #[darling(default)]
    pub newobj: Flag,
    /// `slots`: fields are `__slots__` by default; refused below protocol 2, as CPython does.
    #[darling(default)]
    pub slots: Flag,
    /// `state_setter = "pkg.mod.func"`: called as `func(obj, state)` instead of BUILD.
    #[darling(default)]
    pub state_setter: Option<SpannedValue<String>>,
    /// `base = "tuple"`, `"list"` or `"dict"`: the builtin the class derives from, the `base`
    /// of `copyreg._reconstructor(cls, base, state)` below protocol 2.
    #[darling(default)]
    pub base: Option<SpannedValue<String>>,
    /// `args = <expr>`: the whole argument tuple, an expression that may use `self`.
    #[darling(default)]
    pub args: Option<syn::Expr>,
    /// `state = <expr>`: the whole state (what `__getstate__` returns), may use `self`.
    #[darling(default)]
    pub state: Option<syn::Expr>,
    /// `dict`: the value is a plain Python dict of its fields, not a class instance (a struct
    /// then implements `Mapping` too).
    #[darling(default)]
    pub dict: Flag,
    /// `constructor = path`: the Rust function that plays the callable on load.
    #[darling(default)]
    pub constructor: Option<syn::Path>,
    /// `from_state = path`: load side, the inverse of `state = <expr>`: a function from the
    /// state as Python wrote it to `Self`, `fn(S) -> Self` (or `Result<Self, E>`).
    #[darling(default)]
    pub from_state: Option<syn::Path>,
    /// `setstate = path`: load side, what `__setstate__` does after the state is in place:
    /// `fn(&mut Self)` (or `-> Result<(), E>`), to recompute skipped fields or check the value.
    #[darling(default)]
    pub setstate: Option<syn::Path>,
    /// `ignore_unknown`: attributes the type does not know are ignored on load.
    #[darling(default)]
    pub ignore_unknown: Flag,
    /// `crate = "path"`: where `pickle_core` is, for crates that re-export it.
    #[darling(default, rename = "crate")]
    pub krate: Option<syn::Path>,
}

/// A variant of an enum: a unit variant is an `enum.Enum` member, a data variant a class.
#[derive(FromVariant)]
#[darling(attributes(pickle))]
pub struct Variant {
    pub ident: syn::Ident,
    pub fields: ast::Fields<Field>,
    pub discriminant: Option<syn::Expr>,
    /// `name = "Circle"`: the class of a data variant; the variant's name by default.
    #[darling(default)]
    pub name: Option<SpannedValue<String>>,
    /// `value = <literal>`: the value of a unit variant's `enum.Enum` member.
    #[darling(default)]
    pub value: Option<syn::Lit>,
    /// `newobj`, as on a struct.
    #[darling(default)]
    pub newobj: Flag,
    /// `slots`, as on a struct.
    #[darling(default)]
    pub slots: Flag,
    /// `reconstructor = "pkg.mod.func"`, as on a struct.
    #[darling(default)]
    pub reconstructor: Option<SpannedValue<String>>,
    /// `state_setter = "pkg.mod.func"`, as on a struct.
    #[darling(default)]
    pub state_setter: Option<SpannedValue<String>>,
}

/// A field, with its roles.
#[derive(FromField)]
#[darling(attributes(pickle))]
pub struct Field {
    pub ident: Option<syn::Ident>,
    pub ty: syn::Type,
    /// `arg`: a positional argument of the callable, in declaration order.
    #[darling(multiple)]
    pub arg: Vec<SpannedValue<Range>>,
    /// `kwarg`: a keyword argument of `cls.__new__` (with `newobj`).
    #[darling(multiple)]
    pub kwarg: Vec<SpannedValue<Range>>,
    /// `state`: an entry of the state dict, keyed by the field's name.
    #[darling(multiple)]
    pub state: Vec<SpannedValue<Range>>,
    /// `slot`: an entry of the `__slots__` state dict.
    #[darling(multiple)]
    pub slot: Vec<SpannedValue<Range>>,
    /// `list_items`: iterated; its items are appended after construction.
    #[darling(multiple)]
    pub list_items: Vec<SpannedValue<Range>>,
    /// `dict_items`: a map; its pairs are set after construction.
    #[darling(multiple)]
    pub dict_items: Vec<SpannedValue<Range>>,
    /// `skip`: never pickled; rebuilt with `Default` or `default = path` on load.
    #[darling(default)]
    pub skip: Flag,
    /// `absent_if_none`: an `Option` field whose `None` is an attribute the instance does not
    /// have (a lazily cached one): left out of the state, and `None` when the state lacks it.
    #[darling(default)]
    pub absent_if_none: Flag,
    /// `rename = "py_name"`: the Python attribute name.
    #[darling(default)]
    pub rename: Option<SpannedValue<String>>,
    /// `with = path`: a module with `reduce(&T) -> impl Reduce` (and `reconstruct`).
    #[darling(default, rename = "with")]
    pub with_module: Option<syn::Path>,
    /// `default` or `default = path`: the value on load when the field is absent.
    #[darling(default)]
    pub default: Option<DefaultValue>,
}
