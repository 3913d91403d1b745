//! Validation: everything CPython would only find out at run time, refused here at compile
//! time. Every mistake of one input is collected in one accumulator, each spanned on the
//! smallest offending tokens, with a hint of what to write instead.

use darling::util::SpannedValue;
use darling::{ast, Error};
use proc_macro2::Span;
use quote::{format_ident, quote};
use syn::spanned::Spanned;

mod absent;
mod base;

use crate::ast::{Container, Field, Variant};
use crate::attr::{dotted_name_problem, Base, Role, HIGHEST_PROTOCOL, PROTOCOL_COUNT};
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
                    span: input.ident.span(),
                    module: module.clone(),
                    name: input.class.name.as_ref(),
                    global: input.global.as_ref(),
                    reconstructor: input.class.reconstructor.as_ref(),
                    classmethod: input.classmethod.as_ref(),
                    state_setter: input.class.state_setter.as_ref(),
                    base: input.base.as_ref(),
                    newobj: flag_span(&input.class.newobj),
                    slots: flag_span(&input.class.slots),
                    args: input.args.as_ref(),
                    state: input.state.as_ref(),
                    constructor: input.constructor.as_ref(),
                    from_state: input.from_state.as_ref(),
                    setstate: input.setstate.as_ref(),
                    ignore_unknown: input.ignore_unknown.is_present(),
                    dict: input.dict.is_present().then(|| input.dict.span()),
                    module_span: input.module.as_ref().map(|m| m.span()),
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
    if module.is_none() && input.module.is_none() && !global_is_full_path(input) && !input.dict.is_present() {
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
        ("base", input.base.as_ref().map(|b| b.span())),
        ("classmethod", input.classmethod.as_ref().map(|c| c.span())),
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

struct ClassAttrs<'a> {
    ident: &'a syn::Ident,
    span: Span,
    module: Option<String>,
    name: Option<&'a SpannedValue<String>>,
    global: Option<&'a SpannedValue<String>>,
    reconstructor: Option<&'a SpannedValue<String>>,
    classmethod: Option<&'a SpannedValue<String>>,
    state_setter: Option<&'a SpannedValue<String>>,
    base: Option<&'a SpannedValue<String>>,
    /// Where `newobj` is written, if it is.
    newobj: Option<Span>,
    /// Where `slots` is written, if it is.
    slots: Option<Span>,
    args: Option<&'a syn::Expr>,
    state: Option<&'a syn::Expr>,
    constructor: Option<&'a syn::Path>,
    from_state: Option<&'a syn::Path>,
    setstate: Option<&'a syn::Path>,
    ignore_unknown: bool,
    dict: Option<Span>,
    /// Where `module = ...` is, for errors about it.
    module_span: Option<Span>,
    side: Side,
}

impl ClassAttrs<'_> {
    /// The attributes written that say how the object is made and filled, which neither a
    /// `global` nor a `dict` value has: each with where it is written.
    fn making_attributes(&self) -> Vec<(&'static str, Span)> {
        let all = [
            ("reconstructor", self.reconstructor.map(|r| r.span())),
            ("classmethod", self.classmethod.map(|c| c.span())),
            ("state_setter", self.state_setter.map(|s| s.span())),
            ("args", self.args.map(|a| a.span())),
            ("state", self.state.map(|s| s.span())),
            ("constructor", self.constructor.map(|c| c.span())),
            ("from_state", self.from_state.map(|f| f.span())),
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
            span: v.ident.span(),
            module: module.clone().or_else(|| input.global.as_ref().map(|_| String::new())),
            name: v.class.name.as_ref(),
            global: None,
            reconstructor: v.class.reconstructor.as_ref(),
            classmethod: None,
            state_setter: v.class.state_setter.as_ref(),
            base: None,
            newobj: flag_span(&v.class.newobj),
            slots: flag_span(&v.class.slots),
            args: None,
            state: None,
            constructor: None,
            from_state: None,
            setstate: None,
            ignore_unknown: input.ignore_unknown.is_present(),
            dict: None,
            module_span: None,
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

/// A checked dotted name.
fn checked_name(value: &SpannedValue<String>, what: &str) -> darling::Result<String> {
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
fn checked_path(value: &SpannedValue<String>, what: &str) -> darling::Result<(String, String)> {
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
fn checked_classmethod(value: &SpannedValue<String>, class: (String, String)) -> darling::Result<Callable> {
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

fn check_class<'a>(
    errors: &mut darling::error::Accumulator,
    attrs: ClassAttrs<'a>,
    fields: &'a ast::Fields<Field>,
) -> Option<Class<'a>> {
    let name = match attrs.name {
        Some(n) => errors.handle(checked_name(n, "name")),
        None => Some(attrs.ident.to_string()),
    };
    let reconstructor = match (attrs.reconstructor, attrs.classmethod) {
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
    let state_setter = attrs.state_setter.and_then(|s| errors.handle(checked_path(s, "state_setter")));
    let global = attrs.global.and_then(|g| match &attrs.module {
        Some(m) if !m.is_empty() => errors.handle(checked_name(g, "global")).map(|n| (m.clone(), n)),
        _ => errors.handle(checked_path(g, "global")),
    });
    if attrs.global.is_some() {
        for (what, span) in attrs.making_attributes() {
            errors.push(
                Error::custom(format!("`global` pickles the value as a name; `{what}` would be ignored"))
                    .with_span(&span),
            );
        }
    }
    if let (Some(_), Some(args)) = (attrs.newobj, attrs.args) {
        errors.push(
            Error::custom(
                "`newobj` builds `(cls, *args)` from `arg` fields; it cannot take `args = ...`: use `arg` fields",
            )
            .with_span(&args.span()),
        );
    }
    if let (Some(_), Some(r)) = (attrs.newobj, attrs.reconstructor.or(attrs.classmethod)) {
        errors.push(
            Error::custom("`newobj` calls `cls.__new__`, `reconstructor` calls a function: choose one")
                .with_span(&r.span()),
        );
    }
    if let (Some(slots), ast::Style::Tuple) = (attrs.slots, fields.style) {
        errors.push(
            Error::custom(
                "`slots` name each field in Python, and a tuple struct's fields have no names: use named fields",
            )
            .with_span(&slots),
        );
    }
    if attrs.dict.is_some() {
        check_dict(errors, &attrs, fields);
    }
    let base = base::checked_base(errors, &attrs);
    let args_arity = if attrs.side == Side::Load { check_load_side(errors, &attrs) } else { None };
    let lowest = if attrs.slots.is_some() { 2 } else { 0 };
    let tuple_struct = fields.style == ast::Style::Tuple;
    // A field without a role is an entry of the state dict, a slot with `slots`, an argument
    // in a tuple struct; with `state = ...` it is part of that expression and has no role.
    let default_role = if attrs.state.is_some() {
        None
    } else if attrs.slots.is_some() {
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
                global: attrs.global.is_some(),
                // A tuple base keeps the arguments below 2: they are its items.
                newobj_without_state: attrs.newobj.is_some() && attrs.state.is_none() && base != Base::Tuple,
            };
            let model = check_field(errors, f, i, rules);
            absent::check_absent(errors, &attrs, f, &model.roles);
            model
        })
        .collect();

    check_across_fields(errors, &attrs, &models, lowest);

    let segments = segments(&models, lowest);
    let kind = match (global, reconstructor) {
        _ if attrs.dict.is_some() => ClassKind::Dict,
        (Some((m, n)), _) => ClassKind::Global(m, n),
        (None, Some(callable)) => ClassKind::Reconstructor(callable),
        (None, None) => ClassKind::Class,
    };
    let custom_call = attrs.args.is_some()
        || models.iter().any(|f| f.roles.iter().any(|r| matches!(r, Some(Role::Arg | Role::Kwarg))));
    base::check_base_fields(errors, &attrs, base, custom_call, &models);
    let class = Class {
        custom_call,
        module: attrs.module.unwrap_or_default(),
        name: name?,
        kind,
        newobj: attrs.newobj.is_some(),
        base,
        state_setter,
        args_expr: attrs.args,
        state_expr: attrs.state,
        constructor: attrs.constructor,
        from_state: attrs.from_state,
        setstate: attrs.setstate,
        args_arity,
        ignore_unknown: attrs.ignore_unknown,
        lowest,
        fields: models,
        segments,
    };
    if let Some(setter) = attrs.state_setter {
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
        ("module", attrs.module_span),
        ("name", attrs.name.map(|n| n.span())),
        ("global", attrs.global.map(|g| g.span())),
        ("newobj", attrs.newobj),
        ("slots", attrs.slots),
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
    if fields.style == ast::Style::Tuple {
        errors.push(
            Error::custom(
                "`dict` keys each field by its name, and a tuple struct's fields have none: use named fields",
            )
            .with_span(&attrs.span),
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
    let (Some(args), Some(_)) = (attrs.args, attrs.constructor) else { return None };
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
    match (attrs.state, attrs.from_state) {
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
    if let (Some(_), Some(from_state)) = (attrs.constructor, attrs.from_state) {
        errors.push(
            Error::custom(
                "`constructor` and `from_state` both make the value: choose one, or put the work in one \
                 function",
            )
            .with_span(&from_state.span()),
        );
    }
}

/// What the container decides about every field.
struct FieldRules {
    default_role: Option<Role>,
    lowest: u8,
    global: bool,
    /// `newobj` without `state = ...`: arguments below protocol 2 would be lost.
    newobj_without_state: bool,
}

/// One field's roles at each protocol, with every conflict and gap reported.
fn check_field<'a>(
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
            for p in protocols {
                match roles[p as usize] {
                    Some(other) => {
                        field_error = true;
                        errors.push(
                            Error::custom(format!(
                                "field `{shown}` is already `{}` at protocol {p}; a field has one role per protocol: \
                                 give each role its own range, like `arg(until = 1)` and `state(since = 2)`",
                                other.attribute()
                            ))
                            .with_span(&range.span()),
                        );
                        break;
                    }
                    None => roles[p as usize] = Some(role),
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
    FieldModel { field: f, binding, member, py_name, roles }
}

/// A `slot` field on a type without `slots`. A class with `__slots__` (and no `__getstate__`)
/// cannot be pickled below protocol 2, at any range: CPython refuses it, and a dict state
/// written there instead loads into an object whose slot is unset. The fix CPython agrees
/// with is `slots` on the type, written out.
fn slot_without_slots(field: &str) -> Error {
    Error::custom(format!(
        "field `{field}` is a slot, and a class with `__slots__` cannot be pickled below protocol 2 (CPython \
         refuses it; a `state` role there instead loads into an object whose slot is unset): put `slots` on the \
         type, as in `#[pickle(module = \"pkg.mod\", slots)]`, which makes every field a slot and refuses \
         protocols 0 and 1 as CPython does, then mark the fields the instance's `__dict__` holds \
         `#[pickle(state)]`"
    ))
}

/// The first run of protocols without a role.
fn first_gap(roles: &[Option<Role>; PROTOCOL_COUNT], lowest: u8) -> Option<(u8, u8)> {
    let first = (lowest..=HIGHEST_PROTOCOL).find(|&p| roles[p as usize].is_none())?;
    let last = (first..=HIGHEST_PROTOCOL).take_while(|&p| roles[p as usize].is_none()).last().unwrap_or(first);
    Some((first, last))
}

fn field_span(f: &Field) -> Span {
    f.ident.as_ref().map_or_else(|| f.ty.span(), |i| i.span())
}

/// Rules across fields: one list_items and one dict_items per protocol, unique Python names
/// per dict, kwargs only with `newobj`, no field args beside `args = ...`.
fn check_across_fields(
    errors: &mut darling::error::Accumulator,
    attrs: &ClassAttrs<'_>,
    fields: &[FieldModel<'_>],
    lowest: u8,
) {
    for f in fields {
        if attrs.newobj.is_none() {
            for range in &f.field.kwarg {
                errors.push(
                    Error::custom(
                        "`kwarg` is a keyword argument of `cls.__new__`: add `#[pickle(newobj)]` to the type",
                    )
                    .with_span(&range.span()),
                );
            }
        }
        if attrs.args.is_some() {
            for range in &f.field.arg {
                errors.push(
                    Error::custom("`args = ...` gives the whole argument tuple; a field cannot also be an `arg`")
                        .with_span(&range.span()),
                );
            }
        }
        if attrs.state.is_some() {
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

trait MemberName {
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
