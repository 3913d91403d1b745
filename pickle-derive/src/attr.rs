//! The small values attributes hold: protocol ranges, roles, Python names.

use darling::ast::NestedMeta;
use darling::util::SpannedValue;
use darling::FromMeta;

/// The highest pickle protocol, and how many there are: `pickle-core` reads the same.
pub use pickle_protocol::{HIGHEST_PROTOCOL, PROTOCOL_COUNT};

/// A role's protocol range: `state`, `state(since = 2)`, `arg(until = 1)`,
/// `list_items(since = 2, until = 3)`. Both ends are inclusive.
#[derive(Clone, Debug, Default)]
pub struct Range {
    pub since: Option<SpannedValue<u8>>,
    pub until: Option<SpannedValue<u8>>,
}

impl FromMeta for Range {
    fn from_word() -> darling::Result<Self> {
        Ok(Range::default())
    }

    fn from_list(items: &[NestedMeta]) -> darling::Result<Self> {
        #[derive(FromMeta)]
        struct Bounds {
            #[darling(default)]
            since: Option<SpannedValue<u8>>,
            #[darling(default)]
            until: Option<SpannedValue<u8>>,
        }
        let Bounds { since, until } = Bounds::from_list(items)?;
        Ok(Range { since, until })
    }
}

impl Range {
    /// The protocols the range covers, or the error that makes it no range.
    pub fn protocols(&self) -> Result<std::ops::RangeInclusive<u8>, darling::Error> {
        for bound in [&self.since, &self.until].into_iter().flatten() {
            if **bound > HIGHEST_PROTOCOL {
                return Err(darling::Error::custom(format!(
                    "protocol {} does not exist: pickle protocols are 0 to {HIGHEST_PROTOCOL}",
                    **bound
                ))
                .with_span(&bound.span()));
            }
        }
        let lo = self.since.as_deref().copied().unwrap_or(0);
        let hi = self.until.as_deref().copied().unwrap_or(HIGHEST_PROTOCOL);
        if lo > hi {
            let span = self.until.as_ref().map(|u| u.span()).or(self.since.as_ref().map(|s| s.span()));
            let mut err = darling::Error::custom(format!(
                "this range is empty: `since = {lo}` comes after `until = {hi}`; both ends are inclusive"
            ));
            if let Some(span) = span {
                err = err.with_span(&span);
            }
            return Err(err);
        }
        Ok(lo..=hi)
    }
}

/// What a field is to the Python object at one protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Arg,
    Kwarg,
    State,
    Slot,
    ListItems,
    DictItems,
}

impl Role {
    pub fn attribute(self) -> &'static str {
        match self {
            Role::Arg => "arg",
            Role::Kwarg => "kwarg",
            Role::State => "state",
            Role::Slot => "slot",
            Role::ListItems => "list_items",
            Role::DictItems => "dict_items",
        }
    }
}

/// The builtin a class derives from: what `copyreg._reconstructor(cls, base, state)` names
/// below protocol 2, where `object.__reduce_ex__` keeps the builtin's data in `state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    /// A plain class: `_reconstructor(cls, object, None)`.
    Object,
    /// A namedtuple or tuple subclass: the `arg` fields are the tuple.
    Tuple,
    /// A list subclass: the `list_items` field is the list.
    List,
    /// A dict subclass: the `dict_items` field is the dict.
    Dict,
}

impl Base {
    /// The base `base = "..."` names, if it is one the derive knows.
    pub fn named(name: &str) -> Option<Base> {
        match name {
            "object" => Some(Base::Object),
            "tuple" => Some(Base::Tuple),
            "list" => Some(Base::List),
            "dict" => Some(Base::Dict),
            _ => None,
        }
    }

    /// Its name in `builtins`.
    pub fn python_name(self) -> &'static str {
        match self {
            Base::Object => "object",
            Base::Tuple => "tuple",
            Base::List => "list",
            Base::Dict => "dict",
        }
    }
}

/// Why a Python name is not one, if it is not: `module = "pkg.mod"`, `name = "Outer.Inner"`.
pub fn dotted_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name.contains('\n') || name.contains('\r') {
        Some("contains a newline")
    } else if name.chars().any(char::is_whitespace) {
        Some("contains a space")
    } else if name.split('.').any(str::is_empty) {
        Some("has an empty part between dots")
    } else if name.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        Some("starts with a digit")
    } else {
        None
    }
}

/// `default` (the type's `Default`) or `default = path` (a function returning the value).
#[derive(Clone, Debug)]
pub enum DefaultValue {
    Trait,
    Function(syn::Path),
}

impl FromMeta for DefaultValue {
    fn from_word() -> darling::Result<Self> {
        Ok(DefaultValue::Trait)
    }

    fn from_expr(expr: &syn::Expr) -> darling::Result<Self> {
        match expr {
            syn::Expr::Path(p) => Ok(DefaultValue::Function(p.path.clone())),
            syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => s.parse().map(DefaultValue::Function).map_err(Into::into),
            _ => Err(darling::Error::custom(
                "write `default` for the type's `Default`, or `default = path::to::function` for a function returning the value",
            )
            .with_span(expr)),
        }
    }
}
