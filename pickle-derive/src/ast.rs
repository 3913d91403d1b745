//! What `#[pickle(...)]` says, as darling reads it: one receiver per kind of item.

use darling::util::{Flag, SpannedValue};
use darling::{ast, FromDeriveInput, FromField, FromMeta, FromVariant};

use crate::attr::{DefaultValue, Range};

/// A struct or enum with `#[derive(Reduce)]` or `#[derive(Reconstruct)]`.
#[derive(FromDeriveInput)]
#[darling(attributes(pickle), supports(struct_any, enum_any))]
pub struct Container {
    pub ident: syn::Ident,
    pub generics: syn::Generics,
    pub data: ast::Data<Variant, Field>,
    /// What describes the class: on an enum, `name` is the enum's class and the rest are
    /// refused (they are the data variants').
    #[darling(flatten)]
    pub class: ClassOptions,
    /// `module = "pkg.mod"`: the Python module of the class.
    pub module: Option<SpannedValue<String>>,
    /// `global = "SPAM"`: `__reduce__` returns a string; the value is the global `module.SPAM`.
    pub global: Option<SpannedValue<String>>,
    /// `args = <expr>`: the whole argument tuple, an expression that may use `self`.
    pub args: Option<syn::Expr>,
    /// `state = <expr>`: the whole state (what `__getstate__` returns), may use `self`.
    pub state: Option<syn::Expr>,
    /// `dict`: the value is a plain Python dict of its fields, not a class instance (a struct
    /// then implements `Mapping` too).
    pub dict: Flag,
    /// `constructor = path`: the Rust function that plays the callable on load.
    pub constructor: Option<syn::Path>,
    /// `from_state = path`: load side, the inverse of `state = <expr>`: a function from the
    /// state as Python wrote it to `Self`, `fn(S) -> Self` (or `Result<Self, E>`).
    pub from_state: Option<syn::Path>,
    /// `setstate = path`: load side, what `__setstate__` does after the state is in place:
    /// `fn(&mut Self)` (or `-> Result<(), E>`), to recompute skipped fields or check the value.
    pub setstate: Option<syn::Path>,
    /// `ignore_unknown`: attributes the type does not know are ignored on load.
    pub ignore_unknown: Flag,
    /// `crate = "path"`: where `pickle_core` is, for crates that re-export it.
    #[darling(rename = "crate")]
    pub krate: Option<syn::Path>,
}

/// A variant of an enum: a unit variant is an `enum.Enum` member, a data variant a class.
#[derive(FromVariant)]
#[darling(attributes(pickle))]
pub struct Variant {
    pub ident: syn::Ident,
    pub fields: ast::Fields<Field>,
    pub discriminant: Option<syn::Expr>,
    /// What describes a data variant's class, as on a struct (`name` is the variant's name
    /// by default).
    #[darling(flatten)]
    pub class: ClassOptions,
    /// `value = <literal>`: the value of a unit variant's `enum.Enum` member.
    pub value: Option<syn::Lit>,
}

/// The attributes that describe one Python class, on a struct and on a data variant alike.
#[derive(FromMeta)]
pub struct ClassOptions {
    /// `name = "Outer.Inner"`: the qualname; the Rust type's (or variant's) name by default.
    pub name: Option<SpannedValue<String>>,
    /// `reconstructor = "pkg.mod.func"`: the callable is this function, not the class.
    pub reconstructor: Option<SpannedValue<String>>,
    /// `newobj`: like `__getnewargs(_ex)__`: from protocol 2 the args go to `cls.__new__`.
    pub newobj: Flag,
    /// `slots`: fields are `__slots__` by default; refused below protocol 2, as CPython does.
    pub slots: Flag,
    /// `state_setter = "pkg.mod.func"`: called as `func(obj, state)` instead of BUILD.
    pub state_setter: Option<SpannedValue<String>>,
    /// `classmethod = "from_cents"`: the callable is a classmethod, `cls.from_cents`, written
    /// as CPython writes a bound method: `getattr(cls, 'from_cents')`.
    pub classmethod: Option<SpannedValue<String>>,
    /// `base = "tuple"`, `"list"` or `"dict"`: the builtin the class derives from, the `base`
    /// of `copyreg._reconstructor(cls, base, state)` below protocol 2.
    pub base: Option<SpannedValue<String>>,
}

impl ClassOptions {
    /// Each option written, with where it is written.
    pub fn written(&self) -> Vec<(&'static str, proc_macro2::Span)> {
        let flag = |f: &Flag| f.is_present().then(|| f.span());
        let all = [
            ("name", self.name.as_ref().map(|n| n.span())),
            ("reconstructor", self.reconstructor.as_ref().map(|r| r.span())),
            ("newobj", flag(&self.newobj)),
            ("slots", flag(&self.slots)),
            ("state_setter", self.state_setter.as_ref().map(|s| s.span())),
            ("classmethod", self.classmethod.as_ref().map(|c| c.span())),
            ("base", self.base.as_ref().map(|b| b.span())),
        ];
        all.into_iter().filter_map(|(what, span)| span.map(|s| (what, s))).collect()
    }
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
    pub skip: Flag,
    /// `absent_if_none`: an `Option` field whose `None` is an attribute the instance does not
    /// have (a lazily cached one): left out of the state, and `None` when the state lacks it.
    pub absent_if_none: Flag,
    /// `rename = "py_name"`: the Python attribute name.
    pub rename: Option<SpannedValue<String>>,
    /// `with = path`: a module with `reduce(&T) -> impl Reduce` (and `reconstruct`).
    #[darling(rename = "with")]
    pub with_module: Option<syn::Path>,
    /// `default` or `default = path`: the value on load when the field is absent.
    pub default: Option<DefaultValue>,
}
