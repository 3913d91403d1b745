//! Validation: everything CPython would only find out at run time, refused here at compile
//! time. Every mistake of one input is collected in one accumulator, each spanned on the
//! smallest offending tokens, with a hint of what to write instead.

use darling::util::SpannedValue;
use darling::{ast, Error};
use proc_macro2::Span;
use quote::quote;
use syn::spanned::Spanned;

mod absent;
mod across;
mod base;
mod field;
mod names;

use across::check_across_fields;
use field::{check_field, FieldRules};
use names::{checked_classmethod, checked_name, checked_path};

use crate::ast::{ClassOptions, Container, Field, Variant};
use crate::attr::{Base, Role, HIGHEST_PROTOCOL};
use crate::model::{Callable, Case, Class, ClassKind, FieldModel, Model, Shape};

/// Which derive is checking: some attributes only make sense one way.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `#[derive(Reduce)]`.
    Save,
    /// `#[derive(Reconstruct)]`.
    Load,
}

pub fn check(input: &Container, side: Side) -> darling::Result<Model<'_>> {
    let mut errors = Error::accumulator();
    let krate = input.krate.clone().unwrap_or_else(|| syn::parse_quote!(::pickle_core));
    let module = input.module.as_ref().and_then(|m| errors.handle(checked_name(m, "module")));
    let shape = match &input.data {
        ast::Data::Struct(fields) => {
            let class = check_class(
                &mut errors,
                ClassAttrs {
                    ident: &input.ident,
                    module: module.clone(),
                    class: &input.class,
                    own: Some(input),
                    ignore_unknown: input.ignore_unknown.is_present(),
                    side,
                },
                fields,
            );
            class.map(|c| Shape::Struct(Box::new(c)))
        }
        ast::Data::Enum(variants) => {
            check_enum_level(&mut errors, input);
            if variants.is_empty() {
                errors.push(
                    Error::custom("an enum without variants has no value to pickle: add a variant")
                        .with_span(&input.ident),
                );
            }
            let cases: Vec<Case<'_>> = variants
                .iter()
                .enumerate()
                .filter_map(|(i, v)| check_variant(&mut errors, input, &module, v, i, side))
                .collect();
            check_member_values(&mut errors, &cases);
            (cases.len() == variants.len()).then_some(Shape::Enum(cases))
        }
    };
    let named_elsewhere = global_is_full_path(input) || reconstructor_has_module(input) || input.dict.is_present();
    if module.is_none() && input.module.is_none() && !named_elsewhere {
        errors.push(
            Error::custom("the Python module is missing: add `#[pickle(module = \"pkg.mod\")]`")
                .with_span(&input.ident),
        );
    }
    errors.finish()?;
    Ok(Model { input, krate, shape: shape.expect("no errors means a shape") })
}

/// Two members with one value would be one member in Python (the second an alias).
fn check_member_values(errors: &mut darling::error::Accumulator, cases: &[Case<'_>]) {
    let members: Vec<(&syn::Ident, String)> = cases
        .iter()
        .filter_map(|c| match c {
            Case::Member { ident, value } => Some((*ident, value.to_string())),
            Case::Class { .. } => None,
        })
        .collect();
    for (i, (ident, value)) in members.iter().enumerate() {
        if let Some((first, _)) = members[..i].iter().find(|(_, v)| v == value) {
            errors.push(
                Error::custom(format!(
                    "`{ident}` has the same value as `{first}`: in Python it would be an alias of `{first}`; \
                     give it a value of its own with `#[pickle(value = ...)]`"
                ))
                .with_span(ident),
            );
        }
    }
}

/// `reconstructor = "pkg.mod.func"` on a struct: the class is taken to be in `pkg.mod` too.
fn reconstructor_has_module(input: &Container) -> bool {
    matches!(input.data, ast::Data::Struct(_))
        && input.class.reconstructor.as_ref().is_some_and(|r| r.contains('.') || r.contains(':'))
}

fn global_is_full_path(input: &Container) -> bool {
    input.global.as_ref().is_some_and(|g| g.contains('.'))
}

fn check_enum_level(errors: &mut darling::error::Accumulator, input: &Container) {
    if let Some(constructor) = &input.constructor {
        errors.push(
            Error::custom(
                "`constructor` builds one struct; an enum loads each variant from its own class or member: \
                 remove it, or implement `Reconstruct` by hand",
            )
            .with_span(&constructor.span()),
        );
    }
    let struct_only = [
        ("dict", flag_span(&input.dict)),
        ("global", input.global.as_ref().map(|g| g.span())),
        ("args", input.args.as_ref().map(|a| a.span())),
    ];
    // `name` names the enum's class; the other class options are the data variants'.
    let variant_options = input.class.written().into_iter().filter(|(what, _)| *what != "name");
    for (what, span) in struct_only.into_iter().filter_map(|(w, s)| s.map(|s| (w, s))).chain(variant_options) {
        errors.push(
            Error::custom(format!("`{what}` describes one class; on an enum, put it on the data variant it is about"))
                .with_span(&span),
        );
    }
    let load_hooks = [("from_state", &input.from_state), ("setstate", &input.setstate)];
    for (what, path) in load_hooks.into_iter().filter_map(|(w, p)| p.as_ref().map(|p| (w, p))) {
        errors.push(
            Error::custom(format!(
                "`{what}` loads one struct; an enum loads each variant from its own class or member: remove it, or \
                 implement `Reconstruct` by hand"
            ))
            .with_span(&path.span()),
        );
    }
    if let Some(state) = &input.state {
        errors.push(
            Error::custom("`state = ...` is for structs: give the data variants' fields the role `state`")
                .with_span(&state.span()),
        );
    }
}

/// What one class is told by its attributes: a struct's, or a data variant's (which has
/// only the class options).
struct ClassAttrs<'a> {
    ident: &'a syn::Ident,
    module: Option<String>,
    /// The options every class has.
    class: &'a ClassOptions,
    /// The struct, for the options only a struct has; `None` for a data variant.
    own: Option<&'a Container>,
    ignore_unknown: bool,
    side: Side,
}

impl<'a> ClassAttrs<'a> {
    fn name(&self) -> Option<&'a SpannedValue<String>> {
        self.class.name.as_ref()
    }
    fn reconstructor(&self) -> Option<&'a SpannedValue<String>> {
        self.class.reconstructor.as_ref()
    }
    fn classmethod(&self) -> Option<&'a SpannedValue<String>> {
        self.class.classmethod.as_ref()
    }
    fn state_setter(&self) -> Option<&'a SpannedValue<String>> {
        self.class.state_setter.as_ref()
    }
    fn base(&self) -> Option<&'a SpannedValue<String>> {
        self.class.base.as_ref()
    }
    /// Where `newobj` is written, if it is.
    fn newobj(&self) -> Option<Span> {
        flag_span(&self.class.newobj)
    }
    /// Where `slots` is written, if it is.
    fn slots(&self) -> Option<Span> {
        flag_span(&self.class.slots)
    }
    fn global(&self) -> Option<&'a SpannedValue<String>> {
        self.own.and_then(|c| c.global.as_ref())
    }
    fn args(&self) -> Option<&'a syn::Expr> {
        self.own.and_then(|c| c.args.as_ref())
    }
    fn state(&self) -> Option<&'a syn::Expr> {
        self.own.and_then(|c| c.state.as_ref())
    }
    fn constructor(&self) -> Option<&'a syn::Path> {
        self.own.and_then(|c| c.constructor.as_ref())
    }
    /// `from_state = path`, the inverse of `state = <expr>`.
    fn inverse_of_state(&self) -> Option<&'a syn::Path> {
        self.own.and_then(|c| c.from_state.as_ref())
    }
    fn setstate(&self) -> Option<&'a syn::Path> {
        self.own.and_then(|c| c.setstate.as_ref())
    }
    /// Where `dict` is written, if it is.
    fn dict(&self) -> Option<Span> {
        self.own.and_then(|c| flag_span(&c.dict))
    }
    /// Where `module = ...` is written, for errors about it.
    fn module_span(&self) -> Option<Span> {
        self.own.and_then(|c| c.module.as_ref()).map(|m| m.span())
    }
}

impl ClassAttrs<'_> {
    /// The attributes written that say how the object is made and filled, which neither a
    /// `global` nor a `dict` value has: each with where it is written.
    fn making_attributes(&self) -> Vec<(&'static str, Span)> {
        let all = [
            ("reconstructor", self.reconstructor().map(|r| r.span())),
            ("classmethod", self.classmethod().map(|c| c.span())),
            ("state_setter", self.state_setter().map(|s| s.span())),
            ("args", self.args().map(|a| a.span())),
            ("state", self.state().map(|s| s.span())),
            ("constructor", self.constructor().map(|c| c.span())),
            ("from_state", self.inverse_of_state().map(|f| f.span())),
        ];
        all.into_iter().filter_map(|(what, span)| span.map(|s| (what, s))).collect()
    }
}

fn check_variant<'a>(
    errors: &mut darling::error::Accumulator,
    input: &'a Container,
    module: &Option<String>,
    v: &'a Variant,
    index: usize,
    side: Side,
) -> Option<Case<'a>> {
    if v.fields.is_empty() && v.fields.style != ast::Style::Struct {
        for (what, span) in v.class.written() {
            errors.push(
                Error::custom(format!(
                    "`{what}` is for data variants, which are classes; a unit variant is an `enum.Enum` member of the \
                     enum's class: remove it, or give the variant fields"
                ))
                .with_span(&span),
            );
        }
        let value = match (&v.value, &v.discriminant) {
            (Some(lit), _) => quote!(#lit),
            (None, Some(expr)) => quote!((#expr) as i64),
            (None, None) => {
                let index = index as i64;
                quote!(#index)
            }
        };
        return Some(Case::Member { ident: &v.ident, value });
    }
    if let Some(value) = &v.value {
        errors.push(
            Error::custom(
                "`value` is for unit variants, which are enum members: remove it, or make the variant a unit",
            )
            .with_span(&value.span()),
        );
    }
    let class = check_class(
        errors,
        ClassAttrs {
            ident: &v.ident,
            module: module.clone().or_else(|| input.global.as_ref().map(|_| String::new())),
            class: &v.class,
            own: None,
            ignore_unknown: input.ignore_unknown.is_present(),
            side,
        },
        &v.fields,
    )?;
    Some(Case::Class { ident: &v.ident, style: v.fields.style, class: Box::new(class) })
}

/// Where a flag such as `newobj` is written, if it is: errors about it point there.
fn flag_span(flag: &darling::util::Flag) -> Option<Span> {
    flag.is_present().then(|| flag.span())
}

fn check_class<'a>(
    errors: &mut darling::error::Accumulator,
    attrs: ClassAttrs<'a>,
    fields: &'a ast::Fields<Field>,
) -> Option<Class<'a>> {
    let name = match attrs.name() {
        Some(n) => errors.handle(checked_name(n, "name")),
        None => Some(attrs.ident.to_string()),
    };
    let reconstructor = match (attrs.reconstructor(), attrs.classmethod()) {
        (Some(r), None) => errors.handle(checked_path(r, "reconstructor")).map(|(module, qualname)| Callable {
            module,
            qualname,
            bound_method: false,
        }),
        (None, Some(c)) => {
            let class = (attrs.module.clone().unwrap_or_default(), name.clone().unwrap_or_default());
            errors.handle(checked_classmethod(c, class))
        }
        (Some(_), Some(c)) => {
            errors.push(
                Error::custom("`reconstructor` names a function and `classmethod` a method: choose one")
                    .with_span(&c.span()),
            );
            None
        }
        (None, None) => None,
    };
    let state_setter = attrs.state_setter().and_then(|s| errors.handle(checked_path(s, "state_setter")));
    let global = attrs.global().and_then(|g| match &attrs.module {
        Some(m) if !m.is_empty() => errors.handle(checked_name(g, "global")).map(|n| (m.clone(), n)),
        _ => errors.handle(checked_path(g, "global")),
    });
    if attrs.global().is_some() {
        for (what, span) in attrs.making_attributes() {
            errors.push(
                Error::custom(format!("`global` pickles the value as a name; `{what}` would be ignored"))
                    .with_span(&span),
            );
        }
    }
    if let (Some(_), Some(args)) = (attrs.newobj(), attrs.args()) {
        errors.push(
            Error::custom(
                "`newobj` builds `(cls, *args)` from `arg` fields; it cannot take `args = ...`: use `arg` fields",
            )
            .with_span(&args.span()),
        );
    }
    if let (Some(_), Some(r)) = (attrs.newobj(), attrs.reconstructor().or(attrs.classmethod())) {
        errors.push(
            Error::custom("`newobj` calls `cls.__new__`, `reconstructor` calls a function: choose one")
                .with_span(&r.span()),
        );
    }
    if let (Some(slots), ast::Style::Tuple) = (attrs.slots(), fields.style) {
        errors.push(
            Error::custom(
                "`slots` name each field in Python, and a tuple struct's fields have no names: use named fields",
            )
            .with_span(&slots),
        );
    }
    if attrs.dict().is_some() {
        check_dict(errors, &attrs, fields);
    }
    let base = base::checked_base(errors, &attrs);
    let args_arity = if attrs.side == Side::Load { check_load_side(errors, &attrs) } else { None };
    let lowest = if attrs.slots().is_some() { 2 } else { 0 };
    let tuple_struct = fields.style == ast::Style::Tuple;
    // A field without a role is an entry of the state dict, a slot with `slots`, an argument
    // in a tuple struct; with `state = ...` it is part of that expression and has no role.
    let default_role = if attrs.state().is_some() {
        None
    } else if attrs.slots().is_some() {
        Some(Role::Slot)
    } else if tuple_struct || base == Base::Tuple {
        Some(Role::Arg)
    } else {
        Some(Role::State)
    };
    let models: Vec<FieldModel<'_>> = fields
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let rules = FieldRules {
                default_role,
                lowest,
                global: attrs.global().is_some(),
                // A tuple base keeps the arguments below 2: they are its items.
                newobj_without_state: attrs.newobj().is_some() && attrs.state().is_none() && base != Base::Tuple,
            };
            let model = check_field(errors, f, i, rules);
            absent::check_absent(errors, f, &model.roles);
            model
        })
        .collect();

    check_across_fields(errors, &attrs, &models, lowest);

    let segments = segments(&models, lowest);
    let kind = match (global, reconstructor) {
        _ if attrs.dict().is_some() => ClassKind::Dict,
        (Some((m, n)), _) => ClassKind::Global(m, n),
        (None, Some(callable)) => ClassKind::Reconstructor(callable),
        (None, None) => ClassKind::Class,
    };
    let custom_call = attrs.args().is_some()
        || models.iter().any(|f| f.roles.iter().any(|r| matches!(r, Some(Role::Arg | Role::Kwarg))));
    base::check_base_fields(errors, &attrs, base, custom_call, &models);
    let class = Class {
        custom_call,
        // Without `module`, the class is in its reconstructor's module.
        module: match (attrs.module.clone(), &kind) {
            (Some(module), _) => module,
            (None, ClassKind::Reconstructor(callable)) => callable.module.clone(),
            (None, _) => String::new(),
        },
        name: name?,
        kind,
        newobj: attrs.newobj().is_some(),
        base,
        state_setter,
        args_expr: attrs.args(),
        state_expr: attrs.state(),
        constructor: attrs.constructor(),
        from_state: attrs.inverse_of_state(),
        setstate: attrs.setstate(),
        args_arity,
        ignore_unknown: attrs.ignore_unknown,
        lowest,
        fields: models,
        segments,
    };
    if let Some(setter) = attrs.state_setter() {
        for p in class.lowest..=HIGHEST_PROTOCOL {
            if !class.has_state(p) {
                errors.push(
                    Error::custom(format!(
                        "a state setter needs a state, and there is none at protocol {p}: give a field the role `state`"
                    ))
                    .with_span(&setter.span()),
                );
                break;
            }
        }
    }
    Some(class)
}

/// `dict` makes the value a plain dict: nothing that describes a class applies, and every
/// field is an entry.
fn check_dict(errors: &mut darling::error::Accumulator, attrs: &ClassAttrs<'_>, fields: &ast::Fields<Field>) {
    let naming = [
        ("module", attrs.module_span()),
        ("name", attrs.name().map(|n| n.span())),
        ("global", attrs.global().map(|g| g.span())),
        ("newobj", attrs.newobj()),
        ("slots", attrs.slots()),
    ];
    let named = naming.into_iter().filter_map(|(w, s)| s.map(|s| (w, s)));
    for (what, span) in named.chain(attrs.making_attributes()) {
        errors.push(
            Error::custom(format!(
                "`{what}` describes a class, and `dict` pickles the value as a plain dict: remove one of them"
            ))
            .with_span(&span),
        );
    }
    if let (ast::Style::Tuple, Some(dict)) = (fields.style, attrs.dict()) {
        errors.push(
            Error::custom(
                "`dict` keys each field by its name, and a tuple struct's fields have none: use named fields",
            )
            .with_span(&dict),
        );
    }
    for f in &fields.fields {
        let roles = [
            ("arg", &f.arg),
            ("kwarg", &f.kwarg),
            ("state", &f.state),
            ("slot", &f.slot),
            ("list_items", &f.list_items),
            ("dict_items", &f.dict_items),
        ];
        for (role, ranges) in roles {
            for range in ranges {
                errors.push(
                    Error::custom(format!(
                        "with `dict`, every field is an entry of the dict at every protocol: remove `{role}`"
                    ))
                    .with_span(&range.span()),
                );
            }
        }
    }
}

/// What only `#[derive(Reconstruct)]` refuses: expressions it cannot run backwards. Returns
/// the arity of `args = (...)` when a constructor takes it.
fn check_load_side(errors: &mut darling::error::Accumulator, attrs: &ClassAttrs<'_>) -> Option<usize> {
    check_from_state(errors, attrs);
    let (Some(args), Some(_)) = (attrs.args(), attrs.constructor()) else { return None };
    match args {
        syn::Expr::Tuple(tuple) => Some(tuple.elems.len()),
        _ => {
            errors.push(
                Error::custom(
                    "the `constructor` takes the arguments of `args = ...` one by one, so they must be a tuple \
                     written out, like `args = (&self.a, &self.b)`",
                )
                .with_span(&args.span()),
            );
            None
        }
    }
}

/// `state = <expr>` needs its inverse, `from_state = path`, to load; and `from_state` needs
/// a whole state to read, which it does not share with `constructor`.
fn check_from_state(errors: &mut darling::error::Accumulator, attrs: &ClassAttrs<'_>) {
    match (attrs.state(), attrs.inverse_of_state()) {
        (Some(state), None) => errors.push(
            Error::custom(
                "`state = ...` computes the state when pickling, and loading cannot run an expression backwards: \
                 add its inverse, `from_state = path::to::function` taking the state and returning `Self`, or give \
                 the fields the roles `state` or `slot`",
            )
            .with_span(&state.span()),
        ),
        (None, Some(from_state)) => errors.push(
            Error::custom(
                "`from_state` is the inverse of `state = <expr>`, which this type does not have: add \
                 `state = <expr>`, or use `setstate = path` to adjust the fields loaded from the state dict",
            )
            .with_span(&from_state.span()),
        ),
        _ => {}
    }
    if let (Some(_), Some(from_state)) = (attrs.constructor(), attrs.inverse_of_state()) {
        errors.push(
            Error::custom(
                "`constructor` and `from_state` both make the value: choose one, or put the work in one \
                 function",
            )
            .with_span(&from_state.span()),
        );
    }
}

/// Splits `lowest..=5` where a field's role changes, and at protocol 2 (where
/// `object.__reduce_ex__` changes its shape).
fn segments(fields: &[FieldModel<'_>], lowest: u8) -> Vec<(u8, u8)> {
    let key = |p: u8| (p >= 2, fields.iter().map(|f| f.roles[p as usize]).collect::<Vec<_>>());
    let mut out: Vec<(u8, u8)> = Vec::new();
    for p in lowest..=HIGHEST_PROTOCOL {
        match out.last_mut() {
            Some(last) if key(last.0) == key(p) => last.1 = p,
            _ => out.push((p, p)),
        }
    }
    out
}
