//! Unknown attribute names, told in the derive's words: darling says "Unknown field", and
//! suggests a name only when the spelling is close. Here the closest known attribute of the
//! same place (type, variant, field, protocol range) is named, Python's words for the same
//! thing count as close (`qualname` is `name`, `getnewargs` is `newobj`), and the known
//! attributes of that place are listed.

use darling::Error;

/// The attributes of a struct or enum.
const CONTAINER: &[&str] = &[
    "module",
    "name",
    "global",
    "reconstructor",
    "classmethod",
    "newobj",
    "slots",
    "state_setter",
    "base",
    "args",
    "state",
    "dict",
    "constructor",
    "from_state",
    "setstate",
    "ignore_unknown",
    "crate",
];

/// The attributes of an enum variant.
const VARIANT: &[&str] = &["name", "value", "newobj", "slots", "reconstructor", "state_setter", "classmethod", "base"];

/// The attributes of a field.
const FIELD: &[&str] = &[
    "arg",
    "kwarg",
    "state",
    "slot",
    "list_items",
    "dict_items",
    "skip",
    "absent_if_none",
    "rename",
    "with",
    "default",
];

/// The bounds of a role's protocol range.
const RANGE: &[&str] = &["since", "until"];

/// Python's (or serde's) words for what an attribute does.
const ALIASES: &[(&str, &str)] = &[
    ("qualname", "name"),
    ("class", "name"),
    ("getnewargs", "newobj"),
    ("getnewargs_ex", "newobj"),
    ("getstate", "state"),
    ("reduce", "reconstructor"),
    ("listitems", "list_items"),
    ("dictitems", "dict_items"),
    ("items", "list_items"),
    ("positional", "arg"),
    ("keyword", "kwarg"),
    ("optional", "absent_if_none"),
    ("skip_if_none", "absent_if_none"),
    ("skip_serializing_if", "absent_if_none"),
    ("init", "constructor"),
    ("from", "since"),
    ("to", "until"),
    ("max", "until"),
    ("min", "since"),
];

/// `errors` with every "Unknown field" rewritten to name the closest known attribute.
pub fn explain(input: &syn::DeriveInput, errors: Error) -> Error {
    let explained: Vec<Error> = errors.flatten().into_iter().map(|e| explain_one(input, e)).collect();
    Error::multiple(explained)
}

fn explain_one(input: &syn::DeriveInput, error: Error) -> Error {
    let text = error.to_string();
    let Some(name) = text.strip_prefix("Unknown field: `").and_then(|rest| rest.split('`').next()) else {
        return error;
    };
    let (place, known) = place_of(input, name);
    let hint = match closest(name, known) {
        Some(close) => format!("did you mean `{close}`? The attributes"),
        None => "the attributes".to_owned(),
    };
    let list = known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
    Error::custom(format!("unknown attribute `{name}`: {hint} of {place} are {list}")).with_span(&error.span())
}

/// The known attribute nearest `name`: an alias, or a spelling at most a third wrong.
fn closest(name: &str, known: &[&str]) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let alias = ALIASES.iter().find(|(alias, _)| *alias == lower).map(|(_, attr)| *attr);
    if let Some(attr) = alias.filter(|a| known.contains(a)) {
        return Some(attr);
    }
    let all = [CONTAINER, VARIANT, FIELD, RANGE];
    let (distance, best) = all
        .iter()
        .flat_map(|names| names.iter())
        .filter(|k| known.contains(k))
        .map(|k| (edit_distance(&lower, k), *k))
        .min()?;
    (distance <= (name.len() / 3).max(1)).then_some(best)
}

/// Levenshtein distance, over bytes (attribute names are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.as_bytes().iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != cb)).min(row[j] + 1).min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Where `name` is written in the input, and the attributes known there.
fn place_of(input: &syn::DeriveInput, name: &str) -> (&'static str, &'static [&'static str]) {
    let container = if matches!(input.data, syn::Data::Enum(_)) { "an enum" } else { "a struct" };
    if let Some(nested) = written_in(&input.attrs, name) {
        return if nested { ("a protocol range", RANGE) } else { (container, CONTAINER) };
    }
    let fields: Vec<&syn::Field> = match &input.data {
        syn::Data::Struct(s) => s.fields.iter().collect(),
        syn::Data::Enum(e) => {
            if e.variants.iter().any(|v| written_in(&v.attrs, name) == Some(false)) {
                return ("a variant", VARIANT);
            }
            e.variants.iter().flat_map(|v| v.fields.iter()).collect()
        }
        syn::Data::Union(_) => Vec::new(),
    };
    match fields.iter().find_map(|f| written_in(&f.attrs, name)) {
        Some(true) => ("a protocol range", RANGE),
        _ => ("a field", FIELD),
    }
}

/// Whether `#[pickle(...)]` among `attrs` has `name`: `Some(false)` at the top level,
/// `Some(true)` inside a role's parentheses, `None` nowhere.
fn written_in(attrs: &[syn::Attribute], name: &str) -> Option<bool> {
    let mut found = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("pickle")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident(name) {
                found = found.or(Some(false));
            }
            if meta.input.peek(syn::token::Paren) {
                meta.parse_nested_meta(|inner| {
                    if inner.path.is_ident(name) {
                        found = found.or(Some(true));
                    }
                    skip_value(&inner)
                })?;
            } else {
                skip_value(&meta)?;
            }
            Ok(())
        });
    }
    found
}

/// Steps over `= value` after a name, if there is one.
fn skip_value(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        let _: syn::Expr = meta.value()?.parse()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use darling::FromDeriveInput;

    use super::{closest, CONTAINER, FIELD, RANGE, VARIANT};
    use crate::ast::Container;

    /// Whether darling's receivers call `name` unknown where `item` puts it.
    fn unknown_in(item: syn::DeriveInput, name: &str) -> bool {
        match Container::from_derive_input(&item) {
            Ok(_) => false,
            Err(e) => e.flatten().into_iter().any(|e| e.to_string().starts_with(&format!("Unknown field: `{name}`"))),
        }
    }

    fn item(source: String) -> syn::DeriveInput {
        syn::parse_str(&source).expect("the test's item parses")
    }

    #[test]
    fn the_lists_are_the_attributes_the_receivers_know() {
        for &name in CONTAINER {
            assert!(!unknown_in(item(format!("#[pickle({name})] struct S;")), name), "{name}");
        }
        for &name in VARIANT {
            assert!(!unknown_in(item(format!("enum E {{ #[pickle({name})] V }}")), name), "{name}");
        }
        for &name in FIELD {
            assert!(!unknown_in(item(format!("struct S {{ #[pickle({name})] x: i64 }}")), name), "{name}");
        }
        for &name in RANGE {
            assert!(!unknown_in(item(format!("struct S {{ #[pickle(state({name} = 1))] x: i64 }}")), name), "{name}");
        }
        assert!(unknown_in(item("#[pickle(qualname)] struct S;".into()), "qualname"));
    }

    #[test]
    fn the_closest_name_is_an_alias_or_a_near_spelling() {
        assert_eq!(closest("qualname", CONTAINER), Some("name"));
        assert_eq!(closest("modul", CONTAINER), Some("module"));
        assert_eq!(closest("skip_if_none", FIELD), Some("absent_if_none"));
        assert_eq!(closest("frobnicate", CONTAINER), None);
    }
}
