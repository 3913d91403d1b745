//! The rules between fields of one class: one `list_items` and one `dict_items` per
//! protocol, one Python name per entry, `kwarg` only with `newobj`, no field in a whole
//! argument tuple or state given by an expression.

use darling::Error;

use super::field::field_span;
use super::ClassAttrs;
use crate::attr::{Role, HIGHEST_PROTOCOL};
use crate::model::FieldModel;

/// Rules across fields: one list_items and one dict_items per protocol, unique Python names
/// per dict, kwargs only with `newobj`, no field args beside `args = ...`.
pub(super) fn check_across_fields(
    errors: &mut darling::error::Accumulator,
    attrs: &ClassAttrs<'_>,
    fields: &[FieldModel<'_>],
    lowest: u8,
) {
    for f in fields {
        if attrs.newobj().is_none() {
            for range in &f.field.kwarg {
                errors.push(
                    Error::custom(
                        "`kwarg` is a keyword argument of `cls.__new__`: add `#[pickle(newobj)]` to the type",
                    )
                    .with_span(&range.span()),
                );
            }
        }
        if attrs.args().is_some() {
            for range in &f.field.arg {
                errors.push(
                    Error::custom("`args = ...` gives the whole argument tuple; a field cannot also be an `arg`")
                        .with_span(&range.span()),
                );
            }
        }
        if attrs.state().is_some() {
            for range in f.field.state.iter().chain(&f.field.slot) {
                errors.push(
                    Error::custom("`state = ...` gives the whole state; a field cannot also be `state` or `slot`")
                        .with_span(&range.span()),
                );
            }
        }
    }
    // Each problem once, however many protocols it spans.
    let mut reported: Vec<(usize, Role)> = Vec::new();
    for p in lowest..=HIGHEST_PROTOCOL {
        for role in [Role::ListItems, Role::DictItems] {
            let with_role: Vec<(usize, &FieldModel<'_>)> =
                fields.iter().enumerate().filter(|(_, f)| f.roles[p as usize] == Some(role)).collect();
            for &(i, second) in with_role.iter().skip(1) {
                if reported.contains(&(i, role)) {
                    continue;
                }
                reported.push((i, role));
                errors.push(
                    Error::custom(format!(
                        "`{}` and `{}` are both `{}` at protocol {p}: a reduction has one such iterator; give one of \
                         them another role, or a protocol range of its own",
                        with_role[0].1.member.to_token_stream_string(),
                        second.member.to_token_stream_string(),
                        role.attribute()
                    ))
                    .with_span(&field_span(second.field)),
                );
            }
        }
        for role in [Role::State, Role::Slot, Role::Kwarg] {
            let named: Vec<(usize, &FieldModel<'_>)> =
                fields.iter().enumerate().filter(|(_, f)| f.roles[p as usize] == Some(role)).collect();
            for (k, &(i, f)) in named.iter().enumerate() {
                let Some((_, first)) = named[..k].iter().find(|(_, g)| g.py_name == f.py_name) else { continue };
                if reported.contains(&(i, role)) {
                    continue;
                }
                reported.push((i, role));
                let span = f.field.rename.as_ref().map_or_else(|| field_span(f.field), |r| r.span());
                errors.push(
                    Error::custom(format!(
                        "fields `{}` and `{}` are both named `{}` in Python: give one of them another `rename`",
                        first.member.to_token_stream_string(),
                        f.member.to_token_stream_string(),
                        f.py_name
                    ))
                    .with_span(&span),
                );
            }
        }
    }
}

pub(super) trait MemberName {
    fn to_token_stream_string(&self) -> String;
}

impl MemberName for syn::Member {
    fn to_token_stream_string(&self) -> String {
        match self {
            syn::Member::Named(i) => i.to_string(),
            syn::Member::Unnamed(i) => i.index.to_string(),
        }
    }
}
