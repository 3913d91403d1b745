//! Python names in attributes: a module, a qualname, a `pkg.mod.func` path (or
//! `pkg.mod:Class.func`, split at the colon), a classmethod; each checked, or refused with
//! the form to write.

use darling::util::SpannedValue;
use darling::Error;

use crate::attr::dotted_name_problem;
use crate::model::Callable;

/// A checked dotted name.
pub(super) fn checked_name(value: &SpannedValue<String>, what: &str) -> darling::Result<String> {
    let example = match what {
        "module" => "`pkg.mod`",
        "name" | "global" => "`Outer.Inner`",
        _ => "`pkg.mod.function`",
    };
    match dotted_name_problem(value) {
        None => Ok((**value).clone()),
        Some(problem) => Err(Error::custom(format!("the {what} {problem}: write a dotted Python name like {example}"))
            .with_span(&value.span())),
    }
}

/// A checked `pkg.mod.func` split into module and name; `pkg.mod:Class.func` (the form of
/// `pkgutil.resolve_name`) splits at the colon, for a qualname with dots.
pub(super) fn checked_path(value: &SpannedValue<String>, what: &str) -> darling::Result<(String, String)> {
    if let Some((module, qualname)) = value.split_once(':') {
        let part = |text: &str, of: &str| {
            checked_name(&SpannedValue::new(text.to_owned(), value.span()), &format!("{of} of the {what}"))
        };
        return Ok((part(module, "module")?, part(qualname, "qualname")?));
    }
    let path = checked_name(value, what)?;
    match path.rsplit_once('.') {
        Some((module, name)) => Ok((module.to_owned(), name.to_owned())),
        None => Err(Error::custom(format!(
            "the {what} needs its module: write the full path, like `{what} = \"pkg.mod.{path}\"`"
        ))
        .with_span(&value.span())),
    }
}

/// A checked `classmethod = "..."`: `from_cents` (a method of the class itself),
/// `Factory.create` (of another class of the module), or `pkg.mod:Factory.create`.
pub(super) fn checked_classmethod(value: &SpannedValue<String>, class: (String, String)) -> darling::Result<Callable> {
    let (module, qualname) = match value.split_once(':') {
        Some(_) => checked_path(value, "classmethod")?,
        None => {
            let name = checked_name(value, "classmethod")?;
            let qualname = if name.contains('.') { name } else { format!("{}.{name}", class.1) };
            (class.0, qualname)
        }
    };
    if !qualname.contains('.') {
        return Err(Error::custom(format!(
            "a classmethod is an attribute of a class, and `{qualname}` names no class: write `classmethod = \"{module}:Class.{qualname}\"`, or `reconstructor = ...` for a plain function"
        ))
        .with_span(&value.span()));
    }
    Ok(Callable { module, qualname, bound_method: true })
}
