//! `absent_if_none`: an `Option` field whose `None` is an attribute the instance does not
//! have. Only an entry of the state (or slot) dict can be absent; these checks refuse the
//! roles and attributes that would make it mean something else.

use darling::Error;

use crate::ast::Field;
use crate::attr::{Role, PROTOCOL_COUNT};

/// Reports every attribute or role of `f` that `absent_if_none` cannot go with.
pub(super) fn check_absent(
    errors: &mut darling::error::Accumulator,
    f: &Field,
    roles: &[Option<Role>; PROTOCOL_COUNT],
) {
    if !f.absent_if_none.is_present() {
        return;
    }
    let span = f.absent_if_none.span();
    let mut refuse = |why: String| errors.push(Error::custom(why).with_span(&span));
    if f.skip.is_present() {
        refuse("`skip` never pickles the field, and `absent_if_none` pickles it when it is `Some`: keep one".into());
    }
    if f.default.is_some() {
        refuse("`absent_if_none` already loads `None` when the attribute is absent: remove `default`".into());
    }
    if f.with_module.is_some() {
        refuse("`absent_if_none` writes the value inside the `Option` itself: remove `with`".into());
    }
    let other = roles.iter().flatten().find(|r| !matches!(r, Role::State | Role::Slot));
    if let Some(role) = other {
        refuse(format!(
            "only an attribute can be absent, and this field is `{}` at some protocol: give it the role `state` or \
             `slot`, or remove `absent_if_none`",
            role.attribute()
        ));
    }
}
