//! The checked model of one derive input: the classes, their fields and each field's role
//! at every protocol, made by `check` and read by `expand`. It keeps the parsed attributes
//! it came from (`input`, `field`), so expansion can still point at what the user wrote.

use darling::ast;
use proc_macro2::TokenStream;

use crate::ast::{Container, Field};
use crate::attr::{Base, Role, PROTOCOL_COUNT};

/// A checked type, ready to expand.
pub struct Model<'a> {
    pub input: &'a Container,
    pub krate: syn::Path,
    pub shape: Shape<'a>,
}

pub enum Shape<'a> {
    Struct(Box<Class<'a>>),
    Enum(Vec<Case<'a>>),
}

/// One variant of an enum.
pub enum Case<'a> {
    /// A unit variant: an `enum.Enum` member with this value.
    Member { ident: &'a syn::Ident, value: TokenStream },
    /// A data variant: a class of its own.
    Class { ident: &'a syn::Ident, style: ast::Style, class: Box<Class<'a>> },
}

/// How a class instance reduces.
pub struct Class<'a> {
    pub module: String,
    pub name: String,
    pub kind: ClassKind,
    pub newobj: bool,
    /// `base = "..."`: the builtin named by `copyreg._reconstructor` below protocol 2.
    pub base: Base,
    pub state_setter: Option<(String, String)>,
    pub args_expr: Option<&'a syn::Expr>,
    pub state_expr: Option<&'a syn::Expr>,
    /// `constructor = path`: the Rust function that plays the callable on load.
    pub constructor: Option<&'a syn::Path>,
    /// `from_state = path`: the function that makes the value from the whole state on load.
    pub from_state: Option<&'a syn::Path>,
    /// `setstate = path`: the function run on the loaded value, as `__setstate__` runs.
    pub setstate: Option<&'a syn::Path>,
    /// How many arguments `args = (...)` has: what the constructor takes then.
    pub args_arity: Option<usize>,
    /// `ignore_unknown`: what no field takes is dropped on load.
    pub ignore_unknown: bool,
    /// Protocols below this are refused (2 for `slots`).
    pub lowest: u8,
    /// Whether the type's own `__reduce__` names the call (`arg` or `kwarg` fields at some
    /// protocol, or `args = ...`): then a protocol without arguments calls `cls()`. Otherwise
    /// the type reduces as `object.__reduce_ex__` reduces a plain class.
    pub custom_call: bool,
    pub fields: Vec<FieldModel<'a>>,
    /// Consecutive protocols where nothing changes, each one `match` arm.
    pub segments: Vec<(u8, u8)>,
}

pub enum ClassKind {
    /// `cls(*args)`, or `object.__reduce_ex__`'s shape when there are no args.
    Class,
    /// `reconstructor = "pkg.mod.func"` or `classmethod = "from_cents"`.
    Reconstructor(Callable),
    /// `global = "SPAM"`: the value is a global name.
    Global(String, String),
    /// `dict`: the value is a plain dict of its fields.
    Dict,
}

/// A callable other than the class: a function, or a classmethod.
pub struct Callable {
    pub module: String,
    /// The qualname in the module: `func`, `Money.make`, `Money.from_cents`.
    pub qualname: String,
    /// A classmethod: a bound method, which CPython writes as `getattr(cls, name)` at every
    /// protocol (a function with a dotted qualname is STACK_GLOBAL from protocol 4).
    pub bound_method: bool,
}

impl Callable {
    /// The class and method of a bound method: `Money` and `from_cents`.
    pub fn class_and_method(&self) -> (&str, &str) {
        self.qualname.rsplit_once('.').unwrap_or(("", &self.qualname))
    }
}

pub struct FieldModel<'a> {
    pub field: &'a Field,
    /// The name that refers to the field in generated code: `__field0`, ...
    pub binding: syn::Ident,
    /// `self.x` or `self.0` for structs.
    pub member: syn::Member,
    pub py_name: String,
    pub roles: [Option<Role>; PROTOCOL_COUNT],
    /// At each protocol, whether an `arg` (or `kwarg`) field is also an entry of the state
    /// dict, as Python keeps an argument in `__dict__` too.
    pub also_state: [bool; PROTOCOL_COUNT],
}

impl<'a> Class<'a> {
    /// The role of each field at `protocol`.
    pub fn fields_with(&self, protocol: u8, role: Role) -> impl Iterator<Item = &FieldModel<'a>> {
        self.fields.iter().filter(move |f| f.roles[protocol as usize] == Some(role))
    }

    /// The entries of the state dict at `protocol`, in declaration order: `state` fields,
    /// and arguments Python keeps in `__dict__` too.
    pub fn state_entries(&self, protocol: u8) -> impl Iterator<Item = &FieldModel<'a>> {
        let p = protocol as usize;
        self.fields.iter().filter(move |f| f.roles[p] == Some(Role::State) || f.also_state[p])
    }

    /// Whether the struct has a state at `protocol`.
    pub fn has_state(&self, protocol: u8) -> bool {
        self.state_expr.is_some()
            || self.state_entries(protocol).next().is_some()
            || self.fields_with(protocol, Role::Slot).next().is_some()
    }
}
