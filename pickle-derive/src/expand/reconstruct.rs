//! Code generation for `#[derive(Reconstruct)]`: check the class, find each field where its
//! role puts it (at the pickle's protocol first), rebuild it, refuse what no field took.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;

use super::with_bounds;
use crate::attr::{DefaultValue, Role, HIGHEST_PROTOCOL};
use crate::model::{Case, Class, ClassKind, FieldModel, Model, Shape};

pub fn reconstruct(model: &Model<'_>) -> TokenStream {
    let input = model.input;
    let krate = &model.krate;
    let ident = &input.ident;
    let rust_name = ident.to_string();
    let generics = with_bounds(model, |f| {
        let ty = &f.field.ty;
        if f.field.skip.is_present() {
            return match f.field.default {
                None => vec![syn::parse_quote!(#ty: ::core::default::Default)],
                Some(_) => Vec::new(),
            };
        }
        let roles: Vec<Role> = f.roles.iter().flatten().copied().collect();
        let mut bounds: Vec<syn::WherePredicate> = Vec::new();
        if roles.iter().any(|r| matches!(r, Role::Arg | Role::Kwarg | Role::State | Role::Slot)) {
            bounds.push(syn::parse_quote!(#ty: __pickle::Reconstruct));
        }
        if roles.contains(&Role::ListItems) {
            bounds.push(syn::parse_quote!(#ty: __pickle::__private::LoadListItems));
        }
        if roles.contains(&Role::DictItems) {
            bounds.push(syn::parse_quote!(#ty: __pickle::__private::LoadDictItems));
        }
        bounds
    });
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let body = match &model.shape {
        Shape::Struct(class) => class_body(class, &rust_name, quote!(Self)),
        Shape::Enum(cases) => enum_body(model, cases, &rust_name),
    };
    let stream = match &model.shape {
        Shape::Struct(class) => dict_stream(class, &rust_name).or_else(|| call_stream(class)),
        Shape::Enum(_) => None,
    };
    quote! {
        const _: () = {
            use #krate as __pickle;

            #[automatically_derived]
            impl #impl_generics __pickle::Reconstruct for #ident #ty_generics #where_clause {
                #[allow(unused_mut, unused_variables, clippy::match_single_binding)]
                fn reconstruct(__node: __pickle::Node<'_>) -> __pickle::Result<Self> {
                    #body
                }
                #stream
            }
        };
    }
}

/// Unit variants are `enum.Enum` members, matched by value; data variants are classes of
/// their own, matched by class.
fn enum_body(model: &Model<'_>, cases: &[Case<'_>], rust_name: &str) -> TokenStream {
    let input = model.input;
    let module = cases
        .iter()
        .find_map(|c| match c {
            Case::Class { class, .. } => Some(class.module.clone()),
            Case::Member { .. } => None,
        })
        .or_else(|| input.module.as_ref().map(|m| (**m).clone()))
        .unwrap_or_default();
    let enum_name = input.class.name.as_ref().map_or_else(|| input.ident.to_string(), |n| (**n).clone());
    let mut expected = Vec::new();
    let members: Vec<TokenStream> = cases
        .iter()
        .filter_map(|c| match c {
            Case::Member { ident, value } => Some(quote! {
                if __pickle::__private::is_member(__value, #value) {
                    return ::core::result::Result::Ok(Self::#ident);
                }
            }),
            Case::Class { .. } => None,
        })
        .collect();
    let members = (!members.is_empty()).then(|| {
        expected.push(format!("`{module}.{enum_name}`"));
        quote! {
            if let ::core::option::Option::Some(__value) = __pickle::__private::member_value(__node, #module, #enum_name) {
                #(#members)*
                return ::core::result::Result::Err(
                    __value.error(::core::format_args!("{} is no member of `{}` that `{}` knows", __value.describe(), #enum_name, #rust_name))
                );
            }
        }
    });
    let classes = cases.iter().filter_map(|c| match c {
        Case::Class { ident, class, .. } => {
            let (module, name) = match &class.kind {
                ClassKind::Reconstructor(c) => (c.module.clone(), c.qualname.clone()),
                ClassKind::Global(m, n) => (m.clone(), n.clone()),
                ClassKind::Class | ClassKind::Dict => (class.module.clone(), class.name.clone()),
            };
            expected.push(format!("`{module}.{name}`"));
            let variant_name = format!("{rust_name}::{ident}");
            let body = class_body(class, &variant_name, quote!(Self::#ident));
            Some(match &class.kind {
                ClassKind::Global(..) => quote! {
                    if __pickle::__private::expect_global(__node, #module, #name, #variant_name).is_ok() {
                        return { #body };
                    }
                },
                _ => quote! {
                    if __pickle::__private::is_class(__node, #module, #name) {
                        return { #body };
                    }
                },
            })
        }
        Case::Member { .. } => None,
    });
    let classes: Vec<TokenStream> = classes.collect();
    let expected = format!("{} for `{rust_name}`", expected.join(" or "));
    quote! {
        #members
        #(#classes)*
        ::core::result::Result::Err(__node.mismatch(#expected))
    }
}

/// The body that rebuilds one class instance as `path` (`Self` or `Self::Variant`).
fn class_body(class: &Class<'_>, rust_name: &str, path: TokenStream) -> TokenStream {
    if let ClassKind::Global(module, name) = &class.kind {
        let fields = class.fields.iter().map(|f| {
            let member = &f.member;
            let value = default_value(f);
            quote!(#member: #value)
        });
        return quote! {
            __pickle::__private::expect_global(__node, #module, #name, #rust_name)?;
            ::core::result::Result::Ok(#path { #(#fields),* })
        };
    }
    let fields = match &class.kind {
        ClassKind::Dict => quote!(__pickle::__private::DictFields::of_dict(__node, #rust_name)?),
        ClassKind::Reconstructor(callable) => {
            let (module, qualname) = (&callable.module, &callable.qualname);
            quote!(__pickle::__private::Fields::of_class(__node, #module, #qualname, #rust_name)?)
        }
        _ if class.from_state.is_some() => {
            let (module, name) = (&class.module, &class.name);
            quote!(__pickle::__private::Fields::of_class_with_state(__node, #module, #name, #rust_name)?)
        }
        _ => {
            let (module, name) = (&class.module, &class.name);
            quote!(__pickle::__private::Fields::of_class(__node, #module, #name, #rust_name)?)
        }
    };
    // With `from_state`, the fields without a role are made by it.
    let loaded = |f: &&FieldModel<'_>| class.from_state.is_none() || f.roles.iter().any(Option::is_some);
    let lets = class.fields.iter().filter(loaded).map(|f| {
        let binding = &f.binding;
        let value = field_value(class, f, rust_name);
        quote!(let #binding = #value;)
    });
    let build = construct(class, &path);
    quote! {
        let mut __fields = #fields;
        #(#lets)*
        #build
    }
}

/// For a `#[pickle(dict)]` struct, or a plain class pickled as `object.__reduce_ex__` does
/// (no arguments, no custom state), whose fields are entries of the dict (no `with`
/// module): the fast path that reads it straight from the pickle (`Reconstruct::stream`),
/// each key's value into its field's slot, then the struct; or `None` for the general
/// loader to decide (a missing field without `default`, a repeated or unknown key, anything
/// else).
fn dict_stream(class: &Class<'_>, rust_name: &str) -> Option<TokenStream> {
    let plain_class = matches!(class.kind, ClassKind::Class)
        && !class.custom_call
        && class.state_setter.is_none()
        && class.args_expr.is_none()
        && class.state_expr.is_none();
    if !(matches!(class.kind, ClassKind::Dict) || plain_class)
        || class.constructor.is_some()
        || class.setstate.is_some()
    {
        return None;
    }
    let streamed: Vec<&FieldModel<'_>> = class.fields.iter().filter(|f| !f.field.skip.is_present()).collect();
    let plain = |f: &&FieldModel<'_>| {
        f.field.with_module.is_none() && f.roles.iter().flatten().all(|role| matches!(role, Role::State))
    };
    if !streamed.iter().all(plain) {
        return None;
    }
    let names = streamed.iter().map(|f| &f.py_name);
    let slots = streamed.iter().map(|f| {
        let (binding, ty) = (&f.binding, &f.field.ty);
        quote!(let mut #binding: ::core::option::Option<#ty> = ::core::option::Option::None;)
    });
    let arms = streamed.iter().enumerate().map(|(index, f)| {
        let binding = &f.binding;
        // Through the function `reconstruct` reads fields with, spanned alike: a field type
        // without `Reconstruct` is then one error at the field.
        let (ty, span) = (&f.field.ty, f.field.ty.span());
        let (rust_name, shown) = (rust_name, field_label(f));
        quote_spanned!(span=> #index => __pickle::__private::field::<#ty, _>((&mut *__stream, &mut #binding), #rust_name, #shown),)
    });
    let values = class.fields.iter().map(|f| {
        let (member, binding) = (&f.member, &f.binding);
        let value = match (f.field.skip.is_present(), may_be_missing(f)) {
            (true, _) => default_value(f),
            (false, true) => {
                let default = default_value(f);
                quote!(match #binding { ::core::option::Option::Some(__v) => __v, ::core::option::Option::None => #default })
            }
            (false, false) => quote!(#binding?),
        };
        quote!(#member: #value)
    });
    let names = quote!(&[#(#names),*]);
    let fill = quote! {
        |__stream, __index| match __index {
            #(#arms)*
            _ => ::core::option::Option::None,
        }
    };
    let read = if plain_class {
        let (module, name) = (&class.module, &class.name);
        quote!(__stream.instance((#module, #name), #names, #fill)?;)
    } else {
        quote!(__stream.dict(#names, #fill)?;)
    };
    Some(quote! {
        fn stream<__S: __pickle::__private::Stream>(__stream: &mut __S) -> ::core::option::Option<Self> {
            #(#slots)*
            #read
            ::core::option::Option::Some(Self { #(#values),* })
        }
    })
}

/// For a class whose own `__reduce__` is `(cls, (args...))` at every protocol (every field
/// not skipped is an `arg`, no state, no NEWOBJ, no `with` module): the fast path that reads
/// the call straight from the pickle (`Stream::call`), each argument into its field in
/// order; or `None` for the general loader to decide.
fn call_stream(class: &Class<'_>) -> Option<TokenStream> {
    let plain_call = matches!(class.kind, ClassKind::Class)
        && class.custom_call
        && !class.newobj
        && class.lowest == 0
        && class.state_setter.is_none()
        && class.args_expr.is_none()
        && class.state_expr.is_none()
        && class.constructor.is_none()
        && class.setstate.is_none()
        && !class.name.contains('.');
    let args: Vec<&FieldModel<'_>> = class.fields.iter().filter(|f| !f.field.skip.is_present()).collect();
    let arg_only = |f: &&FieldModel<'_>| {
        f.field.with_module.is_none() && f.roles.iter().all(|r| *r == Some(Role::Arg)) && !f.also_state.contains(&true)
    };
    if !plain_call || args.is_empty() || !args.iter().all(arg_only) {
        return None;
    }
    let reads = args.iter().map(|f| {
        let (binding, ty) = (&f.binding, &f.field.ty);
        quote_spanned!(ty.span()=> let #binding = <#ty as __pickle::Reconstruct>::stream(__stream)?;)
    });
    let values = class.fields.iter().map(|f| {
        let (member, binding) = (&f.member, &f.binding);
        let value = if f.field.skip.is_present() { default_value(f) } else { quote!(#binding) };
        quote!(#member: #value)
    });
    let (module, name, len) = (&class.module, &class.name, args.len());
    Some(quote! {
        fn stream<__S: __pickle::__private::Stream>(__stream: &mut __S) -> ::core::option::Option<Self> {
            __stream.call(&[(#module, #name)], |__stream, _| {
                __stream.tuple(#len, |__stream| {
                    #(#reads)*
                    ::core::option::Option::Some(Self { #(#values),* })
                })
            })
        }
    })
}

/// Makes the value from the field bindings, then runs `setstate`.
fn construct(class: &Class<'_>, path: &TokenStream) -> TokenStream {
    let ignore_unknown = class.ignore_unknown;
    let ignore_args = class.args_expr.is_some() && class.constructor.is_none();
    let finish = quote!(__fields.finish(#ignore_unknown, #ignore_args)?;);
    let make = make_value(class, path);
    let setstate =
        class.setstate.map(|hook| quote_spanned!(hook.span()=> __pickle::__private::set_state(&mut __this, #hook)?;));
    quote! {
        #make
        #finish
        #setstate
        ::core::result::Result::Ok(__this)
    }
}

/// Binds `__this`: a struct expression, or the constructor's (or `from_state`'s) answer
/// with the fields it does not take assigned after.
fn make_value(class: &Class<'_>, path: &TokenStream) -> TokenStream {
    if let Some(from_state) = class.from_state {
        let assigned = class.fields.iter().filter(|f| f.roles.iter().any(Option::is_some));
        let assignments = assigned.map(|f| {
            let (member, binding) = (&f.member, &f.binding);
            quote!(__this.#member = #binding;)
        });
        return quote! {
            let mut __this: Self = __pickle::__private::constructed(#from_state(__fields.state()?))?;
            #(#assignments)*
        };
    }
    let Some(constructor) = class.constructor else {
        let fields = class.fields.iter().map(|f| {
            let (member, binding) = (&f.member, &f.binding);
            quote!(#member: #binding)
        });
        return quote!(let mut __this = #path { #(#fields),* };);
    };
    let (args, assigned): (Vec<TokenStream>, Vec<&FieldModel<'_>>) = match class.args_arity {
        Some(arity) => {
            let args = (0..arity).map(|i| quote!(__fields.arg(#i)?)).collect();
            (args, class.fields.iter().filter(|f| !f.field.skip.is_present()).collect())
        }
        None => {
            let is_arg = |f: &&FieldModel<'_>| f.roles.iter().any(|r| matches!(r, Some(Role::Arg | Role::Kwarg)));
            let args = class.fields.iter().filter(is_arg).map(|f| f.binding.to_token_stream()).collect();
            let rest = class.fields.iter().filter(|f| !is_arg(f) && !f.field.skip.is_present()).collect();
            (args, rest)
        }
    };
    let assignments = assigned.iter().map(|f| {
        let (member, binding) = (&f.member, &f.binding);
        quote!(__this.#member = #binding;)
    });
    quote! {
        let mut __this: Self = __pickle::__private::constructed(#constructor(#(#args),*))?;
        #(#assignments)*
    }
}

/// A skipped field's value, or a missing one's when it has `default`.
fn default_value(f: &FieldModel<'_>) -> TokenStream {
    let ty = &f.field.ty;
    if f.field.absent_if_none.is_present() {
        return quote_spanned!(ty.span()=> __pickle::__private::absent::<#ty>());
    }
    match &f.field.default {
        Some(DefaultValue::Function(path)) => quote_spanned!(path.span()=> #path()),
        Some(DefaultValue::Trait) => {
            quote_spanned!(ty.span()=> <#ty as ::core::default::Default>::default())
        }
        None => quote_spanned!(ty.span()=> __pickle::__private::skipped::<#ty>()),
    }
}

/// Whether a field the pickle lacks has a value: `default`, or `absent_if_none`'s `None`.
fn may_be_missing(f: &FieldModel<'_>) -> bool {
    f.field.default.is_some() || f.field.absent_if_none.is_present()
}

/// The expression that finds and rebuilds one field.
fn field_value(class: &Class<'_>, f: &FieldModel<'_>, rust_name: &str) -> TokenStream {
    if f.field.skip.is_present() {
        return default_value(f);
    }
    let ty = &f.field.ty;
    let span = ty.span();
    let shown = field_label(f);
    let sources = (0..=HIGHEST_PROTOCOL).map(|p| source(class, f, p));
    // A field that is only list or dict items is never one object: no `Reconstruct` needed.
    let one_object = f.roles.iter().flatten().any(|r| matches!(r, Role::Arg | Role::Kwarg | Role::State | Role::Slot));
    let node_arm = match &f.field.with_module {
        _ if !one_object => quote!(),
        Some(module) => quote_spanned! {span=>
            __pickle::__private::Found::Node(__n) =>
                __pickle::__private::field_with(#module::reconstruct(__n), #rust_name, #shown)?,
        },
        None => quote_spanned! {span=>
            __pickle::__private::Found::Node(__n) => __pickle::__private::field::<#ty, _>(__n, #rust_name, #shown)?,
        },
    };
    let has = |role: Role| f.roles.contains(&Some(role));
    let items_arm = has(Role::ListItems).then(|| {
        quote_spanned! {span=>
            __pickle::__private::Found::Items(__i) =>
                __pickle::__private::list_items_field::<#ty>(__i, #rust_name, #shown)?,
        }
    });
    let pairs_arm = has(Role::DictItems).then(|| {
        quote_spanned! {span=>
            __pickle::__private::Found::Pairs(__p) =>
                __pickle::__private::dict_items_field::<#ty>(__p, #rust_name, #shown)?,
        }
    });
    let missing = match may_be_missing(f) {
        true => default_value(f),
        false => quote!(return ::core::result::Result::Err(__fields.missing(#shown))),
    };
    let value = quote! {
        match __fields.find(&[#(#sources),*]) {
            #node_arm
            #items_arm
            #pairs_arm
            _ => #missing,
        }
    };
    if !f.also_state.contains(&true) {
        return value;
    }
    // The argument is the value; its copy in `__dict__` is the field's too.
    let name = &f.py_name;
    quote!({
        let __value = #value;
        __fields.also_in_state(#name);
        __value
    })
}

/// The field's name in errors: its identifier, or its index.
fn field_label(f: &FieldModel<'_>) -> String {
    match &f.member {
        syn::Member::Named(ident) => syn::ext::IdentExt::unraw(ident).to_string(),
        syn::Member::Unnamed(index) => index.index.to_string(),
    }
}

/// Where the field is at `protocol`, as a `Source`.
fn source(class: &Class<'_>, f: &FieldModel<'_>, protocol: u8) -> TokenStream {
    let name = &f.py_name;
    let source = match f.roles[protocol as usize] {
        None => return quote!(::core::option::Option::None),
        Some(Role::Arg) => {
            let index = class.fields_with(protocol, Role::Arg).position(|g| g.binding == f.binding).unwrap_or(0);
            quote!(Arg(#index))
        }
        Some(Role::Kwarg) => quote!(Kwarg(#name)),
        Some(Role::State) => quote!(State(#name)),
        Some(Role::Slot) => quote!(Slot(#name)),
        Some(Role::ListItems) => quote!(ListItems),
        Some(Role::DictItems) => quote!(DictItems),
    };
    quote!(::core::option::Option::Some(__pickle::__private::Source::#source))
}
