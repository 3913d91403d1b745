//! `base = "tuple" | "list" | "dict"`: below protocol 2, `object.__reduce_ex__` writes an
//! instance of a builtin's subclass as `copyreg._reconstructor(cls, base, base(self))`, and
//! `object.__new__(cls)` is refused for such a class on load. These checks keep `base` to
//! the classes that pickle that way, with the fields that hold the builtin's data.

use darling::util::SpannedValue;
use darling::Error;

use super::ClassAttrs;
use crate::attr::{Base, Role};
use crate::model::FieldModel;

/// The base `base = "..."` names (`object` when there is none), with its conflicts reported.
pub(super) fn checked_base(errors: &mut darling::error::Accumulator, attrs: &ClassAttrs<'_>) -> Base {
    let Some(written) = attrs.base() else { return Base::Object };
    let Some(base) = Base::named(written) else {
        errors.push(
            Error::custom(format!(
                "`{}` is no base the derive knows: `base` names the builtin the class derives from, as \
                 `copyreg._reconstructor` names it below protocol 2: write `base = \"tuple\"` (a namedtuple), \
                 `base = \"list\"` or `base = \"dict\"`",
                **written
            ))
            .with_span(&written.span()),
        );
        return Base::Object;
    };
    for (what, why) in conflicts(attrs) {
        errors.push(
            Error::custom(format!(
                "`base` is what `object.__reduce_ex__` writes below protocol 2, and with `{what}` {why}: remove one \
                 of them"
            ))
            .with_span(&written.span()),
        );
    }
    if base == Base::Tuple && attrs.newobj().is_none() {
        errors.push(
            Error::custom(
                "a namedtuple is rebuilt by `cls.__new__(cls, *items)` from protocol 2 (its `__getnewargs__`): add \
                 `newobj` to the type; its fields are then the tuple's items, at every protocol",
            )
            .with_span(&written.span()),
        );
    }
    base
}

/// The attributes that make `base` meaningless, and why.
fn conflicts(attrs: &ClassAttrs<'_>) -> Vec<(&'static str, &'static str)> {
    let present = [
        ("global", attrs.global().is_some(), "the value is a name"),
        ("dict", attrs.dict().is_some(), "the value is a plain dict"),
        ("reconstructor", attrs.reconstructor().is_some(), "a function of yours makes the object"),
        ("classmethod", attrs.classmethod().is_some(), "a classmethod makes the object"),
        ("args", attrs.args().is_some(), "the class's own `__reduce__` names the call"),
        ("slots", attrs.slots().is_some(), "the class is refused below protocol 2"),
    ];
    present.into_iter().filter(|(_, on, _)| *on).map(|(what, _, why)| (what, why)).collect()
}

/// A list or dict base needs the field that holds its items at protocols 0 and 1; a class
/// whose own `__reduce__` calls it (`arg` fields without `newobj`) never writes a base.
pub(super) fn check_base_fields(
    errors: &mut darling::error::Accumulator,
    attrs: &ClassAttrs<'_>,
    base: Base,
    custom_call: bool,
    fields: &[FieldModel<'_>],
) {
    let Some(written) = attrs.base() else { return };
    if base != Base::Tuple && custom_call && attrs.newobj().is_none() {
        errors.push(
            Error::custom(
                "with `arg` fields and no `newobj`, the class's own `__reduce__` calls it at every protocol, and \
                 `copyreg._reconstructor` is never written: remove `base`, or add `newobj` if the arguments go to \
                 `cls.__new__`",
            )
            .with_span(&written.span()),
        );
        return;
    }
    let (role, shape) = match base {
        Base::List => (
            Role::ListItems,
            "list` subclass's items are its base state below protocol 2, as in \
                                          `copyreg._reconstructor(cls, list, [items])`",
        ),
        Base::Dict => (
            Role::DictItems,
            "dict` subclass's pairs are its base state below protocol 2, as in \
                                          `copyreg._reconstructor(cls, dict, {pairs})`",
        ),
        Base::Object | Base::Tuple => return,
    };
    let missing = (0..2u8).find(|&p| !fields.iter().any(|f| f.roles[p as usize] == Some(role)));
    if let Some(p) = missing {
        errors.push(base_items_missing(written, role, shape, p));
    }
}

fn base_items_missing(written: &SpannedValue<String>, role: Role, shape: &str, protocol: u8) -> Error {
    Error::custom(format!(
        "a `{shape}, and no field is `{}` at protocol {protocol}: mark the field that holds them `#[pickle({})]`",
        role.attribute(),
        role.attribute()
    ))
    .with_span(&written.span())
}
