//! One field's roles: its role at every protocol, each range checked, every conflict and
//! gap reported with the attribute to write instead.

use darling::Error;
use proc_macro2::Span;
use quote::format_ident;
use syn::spanned::Spanned;

use crate::ast::Field;
use crate::attr::{dotted_name_problem, Role, HIGHEST_PROTOCOL, PROTOCOL_COUNT};
use crate::model::FieldModel;

/// What the container decides about every field.
pub(super) struct FieldRules {
    pub default_role: Option<Role>,
    pub lowest: u8,
    pub global: bool,
    /// `newobj` without `state = ...`: arguments below protocol 2 would be lost.
    pub newobj_without_state: bool,
}

/// One field's roles at each protocol, with every conflict and gap reported.
pub(super) fn check_field<'a>(
    errors: &mut darling::error::Accumulator,
    f: &'a Field,
    index: usize,
    rules: FieldRules,
) -> FieldModel<'a> {
    let FieldRules { default_role, lowest, global, newobj_without_state } = rules;
    let (member, shown) = match &f.ident {
        Some(ident) => (syn::Member::Named(ident.clone()), syn::ext::IdentExt::unraw(ident).to_string()),
        None => (syn::Member::Unnamed(syn::Index::from(index)), index.to_string()),
    };
    let py_name = match &f.rename {
        Some(r) => match dotted_name_problem(r) {
            Some(problem) if r.contains('.') || problem != "has an empty part between dots" => {
                errors.push(
                    Error::custom(format!("the Python name {problem}: write an attribute name like `py_name`"))
                        .with_span(&r.span()),
                );
                (**r).clone()
            }
            _ => (**r).clone(),
        },
        None => shown.clone(),
    };
    let mut roles: [Option<Role>; PROTOCOL_COUNT] = [None; PROTOCOL_COUNT];
    let mut also_state = [false; PROTOCOL_COUNT];
    // The range that gave each protocol its role, to tell a field kept twice from a mistake.
    let mut placed_by = [None; PROTOCOL_COUNT];
    let declared = [
        (Role::Arg, &f.arg),
        (Role::Kwarg, &f.kwarg),
        (Role::State, &f.state),
        (Role::Slot, &f.slot),
        (Role::ListItems, &f.list_items),
        (Role::DictItems, &f.dict_items),
    ];
    let mut any_role = false;
    // After an error in this field's roles, its coverage is not reported too.
    let mut field_error = false;
    for (role, ranges) in declared {
        for range in ranges {
            any_role = true;
            if f.skip.is_present() {
                field_error = true;
                errors.push(
                    Error::custom(format!(
                        "`skip` conflicts with `{}`: a skipped field is never pickled; keep one of them",
                        role.attribute()
                    ))
                    .with_span(&range.span()),
                );
                continue;
            }
            let Some(protocols) = errors.handle(range.protocols().map_err(|e| e.with_span(&range.span()))) else {
                field_error = true;
                continue;
            };
            if role == Role::Slot && lowest < 2 {
                field_error = true;
                errors.push(slot_without_slots(&shown).with_span(&range.span()));
                continue;
            }
            if newobj_without_state && matches!(role, Role::Arg | Role::Kwarg) && *protocols.start() < 2 && lowest < 2 {
                field_error = true;
                errors.push(
                    Error::custom(format!(
                        "with `newobj`, protocols 0 and 1 pickle the object as `object.__reduce_ex__` does, without \
                         arguments, so this field would be lost there: write `{}(since = 2)` and `state(until = 1)`, \
                         give the whole state with `state = ...`, or, for a namedtuple, add `base = \"tuple\"`, \
                         which keeps the arguments in the tuple",
                        role.attribute()
                    ))
                    .with_span(&range.span()),
                );
                continue;
            }
            let bounds = (*protocols.start(), *protocols.end());
            for p in protocols {
                if let Err(other) = place_role(&mut roles, &mut also_state, &mut placed_by, p, (role, bounds)) {
                    field_error = true;
                    errors.push(
                        Error::custom(format!(
                            "field `{shown}` is already `{}` at protocol {p}; a field has one role per protocol: give \
                             each role its own range, like `arg(until = 1)` and `state(since = 2)` (an argument Python \
                             also keeps in `__dict__` is `arg` and `state` with one range inside the other, like \
                             `arg, state`)",
                            other.attribute()
                        ))
                        .with_span(&range.span()),
                    );
                    break;
                }
            }
        }
    }
    if f.skip.is_present() || global {
        if global && !f.skip.is_present() {
            errors.push(
                Error::custom(format!(
                    "a `global` value pickles as a name, so field `{shown}` would be lost: mark it `#[pickle(skip)]`"
                ))
                .with_span(&field_span(f)),
            );
        }
        roles = [None; PROTOCOL_COUNT];
        also_state = [false; PROTOCOL_COUNT];
    } else if !any_role {
        if newobj_without_state && default_role == Some(Role::Arg) && lowest < 2 {
            // A tuple struct's fields are arguments by default; `newobj` has none below 2.
            errors.push(
                Error::custom(format!(
                    "with `newobj`, protocols 0 and 1 pickle the object as `object.__reduce_ex__` does, without \
                     arguments, so field `{shown}` would be lost there: give it \
                     `#[pickle(arg(since = 2), state(until = 1), rename = \"attr\")]` with the attribute Python keeps \
                     it in, give the whole state with `state = ...`, or, for a namedtuple, add \
                     `base = \"tuple\"`, which keeps them in the tuple"
                ))
                .with_span(&field_span(f)),
            );
        }
        for p in lowest..=HIGHEST_PROTOCOL {
            roles[p as usize] = default_role;
        }
    } else if !field_error {
        if let Some((first, last)) = first_gap(&roles, lowest) {
            let which =
                if first == last { format!("protocol {first}") } else { format!("protocols {first} to {last}") };
            let range = match (first, last) {
                (0, HIGHEST_PROTOCOL) => String::new(),
                (0, last) => format!("(until = {last})"),
                (first, HIGHEST_PROTOCOL) => format!("(since = {first})"),
                (first, last) => format!("(since = {first}, until = {last})"),
            };
            errors.push(
                Error::custom(format!(
                    "field `{shown}` has no role at {which}: every pickled field needs exactly one role at every \
                     protocol; widen a range, add one such as `state{range}`, or mark the field `skip`"
                ))
                .with_span(&field_span(f)),
            );
        }
    }
    if f.with_module.is_some() && roles.iter().any(|r| matches!(r, Some(Role::ListItems | Role::DictItems))) {
        errors.push(
            Error::custom(
                "`with` converts one value, and a `list_items` or `dict_items` field is iterated: remove `with`, or give \
                 the field the role `state` or `arg`",
            )
            .with_span(&field_span(f)),
        );
    }
    // The binding carries the field type's span, so a trait error on it points at the field.
    let binding = format_ident!("__field{}", index, span = f.ty.span());
    FieldModel { field: f, binding, member, py_name, roles, also_state }
}

/// Gives the field `role` (from the range `range`) at protocol `p`, or says which role it
/// has there already. An argument that is also `state` is both, as Python keeps an argument
/// of `__new__` (or of the class) in `__dict__` too, when one range lies within the other
/// (`arg, state`, `arg(since = 2), state`): its role is the argument's, and `also_state` says
/// the state dict has it as well. Ranges that only overlap (`arg(until = 2), state(since =
/// 2)`) are a mistake.
fn place_role(
    roles: &mut [Option<Role>; PROTOCOL_COUNT],
    also_state: &mut [bool; PROTOCOL_COUNT],
    placed_by: &mut [Option<(u8, u8)>; PROTOCOL_COUNT],
    p: u8,
    (role, range): (Role, (u8, u8)),
) -> Result<(), Role> {
    let p = p as usize;
    let nested = |(a, b): (u8, u8), (c, d): (u8, u8)| (a <= c && d <= b) || (c <= a && b <= d);
    match (roles[p], placed_by[p]) {
        (None, _) => (roles[p], placed_by[p]) = (Some(role), Some(range)),
        (Some(Role::Arg | Role::Kwarg), Some(arg_range))
            if role == Role::State && !also_state[p] && nested(arg_range, range) =>
        {
            also_state[p] = true
        }
        (Some(other), _) => return Err(other),
    }
    Ok(())
}

/// A `slot` field on a type without `slots`. A class with `__slots__` (and no `__getstate__`)
/// cannot be pickled below protocol 2, at any range: CPython refuses it, and a dict state
/// written there instead loads into an object whose slot is unset. The fix CPython agrees
/// with is `slots` on the type, written out.
pub(super) fn slot_without_slots(field: &str) -> Error {
    Error::custom(format!(
        "field `{field}` is a slot, and a class with `__slots__` cannot be pickled below protocol 2 (CPython \
         refuses it; a `state` role there instead loads into an object whose slot is unset): put `slots` on the \
         type, as in `#[pickle(module = \"pkg.mod\", slots)]`, which makes every field a slot and refuses \
         protocols 0 and 1 as CPython does, then mark the fields the instance's `__dict__` holds \
         `#[pickle(state)]`"
    ))
}

/// The first run of protocols without a role.
pub(super) fn first_gap(roles: &[Option<Role>; PROTOCOL_COUNT], lowest: u8) -> Option<(u8, u8)> {
    let first = (lowest..=HIGHEST_PROTOCOL).find(|&p| roles[p as usize].is_none())?;
    let last = (first..=HIGHEST_PROTOCOL).take_while(|&p| roles[p as usize].is_none()).last().unwrap_or(first);
    Some((first, last))
}

pub(super) fn field_span(f: &Field) -> Span {
    f.ident.as_ref().map_or_else(|| f.ty.span(), |i| i.span())
}
