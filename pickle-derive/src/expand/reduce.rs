//! Code generation for `#[derive(Reduce)]`: a `reduce_ex` that is one `match` on the
//! protocol, an arm per run of protocols where every field keeps its role.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::with_bounds;
use crate::attr::{Base, Role};
use crate::model::{Callable, Case, Class, ClassKind, FieldModel, Model, Shape};

pub fn reduce(model: &Model<'_>) -> TokenStream {
    let input = model.input;
    let krate = &model.krate;
    let ident = &input.ident;
    let generics = with_bounds(model, |f| {
        let ty = &f.field.ty;
        let roles: Vec<Role> = f.roles.iter().flatten().copied().collect();
        let mut bounds: Vec<syn::WherePredicate> = Vec::new();
        if roles.iter().any(|r| matches!(r, Role::Arg | Role::Kwarg | Role::State | Role::Slot)) {
            bounds.push(syn::parse_quote!(#ty: __pickle::Reduce));
        }
        if roles.contains(&Role::ListItems) {
            bounds.push(syn::parse_quote!(for<'__a> &'__a #ty: __pickle::__private::ListItems<'__a>));
        }
        if roles.contains(&Role::DictItems) {
            bounds.push(syn::parse_quote!(for<'__a> &'__a #ty: __pickle::__private::DictItems<'__a>));
        }
        bounds
    });
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let mut identity = None;
    let mut mapping = None;
    let (body, class) = match &model.shape {
        // A dict struct is its own dict: no reduction to build per value.
        Shape::Struct(class) if matches!(class.kind, ClassKind::Dict) => {
            let fields = class.fields_with(0, Role::State).collect();
            mapping = Some(dict_mapping(class, fields, &impl_generics, ident, &ty_generics, where_clause));
            let dict = quote! {
                ::core::result::Result::Ok(__pickle::Reduction::Builtin(__pickle::Builtin::Dict(self)))
            };
            (dict, python_class(class))
        }
        Shape::Struct(class) => {
            let bindings = class.fields.iter().map(|f| {
                let (binding, member) = (&f.binding, &f.member);
                quote!(let #binding = &self.#member;)
            });
            let reduce = class_reduction(class);
            let python_class = python_class(class);
            (quote! { #(#bindings)* #reduce }, quote! { #python_class })
        }
        Shape::Enum(cases) => {
            let enum_class = {
                let module = cases.iter().find_map(|c| match c {
                    Case::Class { class, .. } => Some(class.module.clone()),
                    Case::Member { .. } => None,
                });
                let module = module.or_else(|| input.module.as_ref().map(|m| (**m).clone())).unwrap_or_default();
                let name = input.class.name.as_ref().map_or_else(|| ident.to_string(), |n| (**n).clone());
                quote!(__pickle::GlobalName::new(#module, #name))
            };
            let reduce_arms = cases.iter().map(|case| match case {
                Case::Member { ident, value } => quote! {
                    Self::#ident => ::core::result::Result::Ok(
                        __pickle::Call::new(#enum_class, (#value,)).into()
                    ),
                },
                Case::Class { ident, style, class } => {
                    let pattern = variant_pattern(ident, *style, class);
                    let reduce = class_reduction(class);
                    quote!(#pattern => { #reduce })
                }
            });
            let class_arms = cases.iter().map(|case| match case {
                Case::Member { ident, .. } => quote!(Self::#ident => ::core::option::Option::Some(#enum_class),),
                Case::Class { ident, style, class } => {
                    let pattern = variant_pattern(ident, *style, class);
                    let python_class = python_class(class);
                    quote!(#[allow(unused_variables)] #pattern => #python_class,)
                }
            });
            // An enum member is a singleton in Python: every occurrence is one object, which the
            // memo keys on the address of a static made for the member.
            let identity_arms = cases.iter().map(|case| match case {
                Case::Member { ident, .. } => quote! {
                    Self::#ident => {
                        static __MEMBER: u8 = 0;
                        ::core::option::Option::Some(&__MEMBER as *const u8 as usize)
                    }
                },
                Case::Class { ident, style, class } => {
                    let pattern = variant_pattern(ident, *style, class);
                    quote!(#[allow(unused_variables)] #pattern => ::core::option::Option::None,)
                }
            });
            identity = Some(quote! {
                fn identity(&self) -> ::core::option::Option<usize> {
                    match self { #(#identity_arms)* }
                }
            });
            (quote!(match self { #(#reduce_arms)* }), quote!(match self { #(#class_arms)* }))
        }
    };
    let as_any = input.generics.params.is_empty().then(|| {
        quote! {
            fn as_any(&self) -> ::core::option::Option<&dyn ::core::any::Any> {
                __pickle::__private::as_any(self)
            }
        }
    });
    quote! {
        const _: () = {
            use #krate as __pickle;

            #[automatically_derived]
            impl #impl_generics __pickle::Reduce for #ident #ty_generics #where_clause {
                #[allow(unused_variables, unreachable_patterns, clippy::match_single_binding)]
                fn reduce_ex(&self, __protocol: u8) -> __pickle::Result<__pickle::Reduction<'_>> {
                    #body
                }

                #[allow(unused_variables)]
                fn python_class(&self) -> ::core::option::Option<__pickle::GlobalName<'_>> {
                    #class
                }

                #as_any
                #identity
            }

            #mapping
        };
    }
}

/// `Mapping` for a dict struct: its fields as the dict's pairs, in order, each keyed by its
/// Python name, without a vector or a box per value.
fn dict_mapping(
    class: &Class<'_>,
    fields: Vec<&FieldModel<'_>>,
    impl_generics: &syn::ImplGenerics<'_>,
    ident: &syn::Ident,
    ty_generics: &syn::TypeGenerics<'_>,
    where_clause: Option<&syn::WhereClause>,
) -> TokenStream {
    if fields.iter().any(|f| f.field.absent_if_none.is_present()) {
        let (len, save) = (mapping_len(&fields), save_present_pairs(class, &fields));
        return quote! {
            #[automatically_derived]
            impl #impl_generics __pickle::Mapping for #ident #ty_generics #where_clause {
                #len
                #save
            }
        };
    }
    let n = fields.len();
    let bindings = class.fields.iter().map(|f| {
        let (binding, member) = (&f.binding, &f.member);
        quote!(let #binding = &self.#member;)
    });
    let args = fields.iter().enumerate().map(|(i, f)| {
        let (arg, value) = (quote::format_ident!("__arg{}", i), field_arg(f));
        quote!(let #arg = #value;)
    });
    let pairs = fields.iter().enumerate().map(|(i, f)| {
        let (arg, name) = (quote::format_ident!("__arg{}", i), &f.py_name);
        quote!((&__pickle::__private::StaticName(#name) as &dyn __pickle::Reduce, #arg.get()))
    });
    quote! {
        #[automatically_derived]
        impl #impl_generics __pickle::Mapping for #ident #ty_generics #where_clause {
            fn len(&self) -> usize {
                #n
            }

            #[allow(unused_variables)]
            fn save_pairs(&self, __sink: &mut __pickle::ser::PairSink<'_, '_>) -> __pickle::Result<()> {
                #(#bindings)*
                #(#args)*
                let __pairs: [(&dyn __pickle::Reduce, &dyn __pickle::Reduce); #n] = [#(#pairs),*];
                __sink.save_all(__pairs)
            }
        }
    }
}

/// `Mapping::len` of a dict struct with `absent_if_none` fields: the keys present.
fn mapping_len(fields: &[&FieldModel<'_>]) -> TokenStream {
    let (absent, always): (Vec<&&FieldModel<'_>>, Vec<_>) =
        fields.iter().partition(|f| f.field.absent_if_none.is_present());
    let always = always.len();
    let counted = absent.iter().map(|f| {
        let member = &f.member;
        quote!(usize::from(__pickle::__private::MaybeAbsent::present(&self.#member).is_some()))
    });
    quote! {
        fn len(&self) -> usize {
            #always #(+ #counted)*
        }
    }
}

/// `Mapping::save_pairs` of a dict struct with `absent_if_none` fields: a key only for a
/// field that holds a value, in declaration order.
fn save_present_pairs(class: &Class<'_>, fields: &[&FieldModel<'_>]) -> TokenStream {
    let bindings = class.fields.iter().map(|f| {
        let (binding, member) = (&f.binding, &f.member);
        quote!(let #binding = &self.#member;)
    });
    let n = fields.len();
    let args = fields.iter().enumerate().filter(|(_, f)| !f.field.absent_if_none.is_present()).map(|(i, f)| {
        let (arg, value) = (quote::format_ident!("__arg{}", i), field_arg(f));
        quote!(let #arg = #value;)
    });
    let pushes = fields.iter().enumerate().map(|(i, f)| {
        let (binding, name) = (&f.binding, &f.py_name);
        let key = quote!(&__pickle::__private::StaticName(#name) as &dyn __pickle::Reduce);
        if f.field.absent_if_none.is_present() {
            return quote! {
                if let ::core::option::Option::Some(__value) = __pickle::__private::MaybeAbsent::present(#binding) {
                    __pairs.push((#key, __value as &dyn __pickle::Reduce));
                }
            };
        }
        let arg = quote::format_ident!("__arg{}", i);
        quote!(__pairs.push((#key, #arg.get()));)
    });
    quote! {
        #[allow(unused_variables)]
        fn save_pairs(&self, __sink: &mut __pickle::ser::PairSink<'_, '_>) -> __pickle::Result<()> {
            #(#bindings)*
            #(#args)*
            let mut __pairs: ::std::vec::Vec<(&dyn __pickle::Reduce, &dyn __pickle::Reduce)> =
                ::std::vec::Vec::with_capacity(#n);
            #(#pushes)*
            __sink.save_all(__pairs)
        }
    }
}

fn variant_pattern(ident: &syn::Ident, style: darling::ast::Style, class: &Class<'_>) -> TokenStream {
    let bindings = class.fields.iter().map(|f| &f.binding);
    match style {
        darling::ast::Style::Struct => {
            let members = class.fields.iter().map(|f| &f.member);
            quote!(Self::#ident { #(#members: #bindings),* })
        }
        darling::ast::Style::Tuple => quote!(Self::#ident(#(#bindings),*)),
        darling::ast::Style::Unit => quote!(Self::#ident),
    }
}

fn class_name(class: &Class<'_>) -> TokenStream {
    let (module, name) = (&class.module, &class.name);
    quote!(__pickle::GlobalName::new(#module, #name))
}

fn python_class(class: &Class<'_>) -> TokenStream {
    match class.kind {
        ClassKind::Global(..) | ClassKind::Dict => quote!(::core::option::Option::None),
        _ => {
            let name = class_name(class);
            quote!(::core::option::Option::Some(#name))
        }
    }
}

/// The body that returns the reduction of one class instance.
fn class_reduction(class: &Class<'_>) -> TokenStream {
    if let ClassKind::Dict = class.kind {
        let dict = attrs(class.fields_with(0, Role::State).collect());
        return quote! {
            ::core::result::Result::Ok(__pickle::Reduction::As(::std::boxed::Box::new(#dict)))
        };
    }
    if let ClassKind::Global(module, name) = &class.kind {
        return quote! {
            ::core::result::Result::Ok(__pickle::Reduction::Global(__pickle::GlobalName::new(#module, #name)))
        };
    }
    let arms = class.segments.iter().map(|&(lo, hi)| {
        let call = segment_call(class, lo);
        quote!(#lo..=#hi => { #call })
    });
    let refused = (class.lowest > 0).then(|| {
        let below = class.lowest - 1;
        let name = class_name(class);
        quote!(0..=#below => ::core::result::Result::Err(__pickle::__private::slots_below_2(&#name, __protocol)),)
    });
    quote! {
        match __protocol {
            #refused
            #(#arms)*
            _ => ::core::result::Result::Err(__pickle::__private::unsupported_protocol(__protocol)),
        }
    }
}

/// A field as an argument: borrowed, or converted by its `with` module; one object in the
/// memo when it is written twice (an argument kept in `__dict__` too).
fn field_arg(f: &FieldModel<'_>) -> TokenStream {
    let binding = &f.binding;
    let span = f.field.ty.span();
    match &f.field.with_module {
        Some(module) => quote_spanned!(span=> __pickle::__private::with_reduced(#module::reduce(#binding))),
        None if f.also_state.contains(&true) => quote_spanned!(span=> __pickle::__private::kept(#binding)),
        None => quote_spanned!(span=> __pickle::__private::arg(#binding)),
    }
}

/// The attributes of `fields`, each under its Python name; an `absent_if_none` field only
/// when it holds a value.
fn attrs(fields: Vec<&FieldModel<'_>>) -> TokenStream {
    let pushes = fields.iter().map(|f| {
        let name = &f.py_name;
        if f.field.absent_if_none.is_present() {
            let (binding, span) = (&f.binding, f.field.ty.span());
            return quote_spanned!(span=> let __attrs = __pickle::__private::with_present(__attrs, #name, #binding););
        }
        let arg = field_arg(f);
        quote!(let __attrs = __attrs.with_static(#name, #arg);)
    });
    let n = fields.len();
    quote!({
        let __attrs = __pickle::Attrs::with_capacity(#n);
        #(#pushes)*
        __attrs
    })
}

/// A function by its global name; a classmethod as the bound method CPython writes.
fn callable_name(callable: &Callable) -> TokenStream {
    let (module, qualname) = (&callable.module, &callable.qualname);
    if !callable.bound_method {
        return quote!(__pickle::GlobalName::new(#module, #qualname));
    }
    let (class, method) = callable.class_and_method();
    quote!(__pickle::__private::class_attribute(#module, #class, #method))
}

/// `copyreg._reconstructor(cls, base, state)`, `object.__reduce_ex__`'s call below protocol
/// 2: the base's state is `None` for `object`, else the builtin's data (`base(self)`).
fn reconstructor_call(class: &Class<'_>, protocol: u8, arg_exprs: &[TokenStream]) -> TokenStream {
    let name = class_name(class);
    let base = class.base.python_name();
    let base_state = match class.base {
        Base::Object => quote!(::core::option::Option::None::<i32>),
        Base::Tuple => quote!(__pickle::__private::Args(::std::vec![#(#arg_exprs),*])),
        Base::List => items_of(class, protocol, Role::ListItems, quote!(base_list), quote!(list_items)),
        Base::Dict => items_of(class, protocol, Role::DictItems, quote!(base_dict), quote!(dict_items)),
    };
    quote! {
        __pickle::Call::new(
            __pickle::__private::copyreg("_reconstructor"),
            (#name, __pickle::GlobalName::new("builtins", #base), #base_state),
        )
    }
}

/// The items (or pairs) of the field with `role` at `protocol`, gathered as one builtin.
fn items_of(class: &Class<'_>, protocol: u8, role: Role, gather: TokenStream, iterate: TokenStream) -> TokenStream {
    let Some(f) = class.fields_with(protocol, role).next() else {
        return quote!(::core::option::Option::None::<i32>);
    };
    let binding = &f.binding;
    quote_spanned!(f.field.ty.span()=> __pickle::__private::#gather(__pickle::__private::#iterate(#binding)))
}

/// The reduction at protocols where the fields' roles are those of `protocol`.
fn segment_call(class: &Class<'_>, protocol: u8) -> TokenStream {
    let name = class_name(class);
    let args: Vec<&FieldModel<'_>> = class.fields_with(protocol, Role::Arg).collect();
    let kwargs: Vec<&FieldModel<'_>> = class.fields_with(protocol, Role::Kwarg).collect();
    let arg_exprs: Vec<TokenStream> = args.iter().map(|f| field_arg(f)).collect();
    let args_tuple = match class.args_expr {
        Some(expr) => quote!(#expr),
        None => quote!(__pickle::__private::Args(::std::vec![#(#arg_exprs),*])),
    };
    let call = match &class.kind {
        ClassKind::Reconstructor(callable) => {
            let callable = callable_name(callable);
            quote!(__pickle::Call::new(#callable, #args_tuple))
        }
        // Below protocol 2, object.__reduce_ex__ ignores __getnewargs__: _reconstructor.
        _ if class.newobj && protocol < 2 => reconstructor_call(class, protocol, &arg_exprs),
        _ if class.newobj && !kwargs.is_empty() => {
            let kwargs = attrs(kwargs);
            quote! {
                __pickle::Call::new(
                    __pickle::__private::copyreg("__newobj_ex__"),
                    (#name, __pickle::__private::Args(::std::vec![#(#arg_exprs),*]), #kwargs),
                )
            }
        }
        _ if class.newobj => quote! {
            __pickle::Call::new(
                __pickle::__private::copyreg("__newobj__"),
                __pickle::__private::Args(::std::vec![__pickle::__private::owned(#name) #(, #arg_exprs)*]),
            )
        },
        _ if class.custom_call => quote!(__pickle::Call::new(#name, #args_tuple)),
        // No arguments: object.__reduce_ex__'s shape for a plain class.
        _ if protocol < 2 => reconstructor_call(class, protocol, &arg_exprs),
        _ => quote!(__pickle::Call::new(__pickle::__private::copyreg("__newobj__"), (#name,))),
    };
    let state_fields: Vec<&FieldModel<'_>> = class.state_entries(protocol).collect();
    let slot_fields: Vec<&FieldModel<'_>> = class.fields_with(protocol, Role::Slot).collect();
    // `object.__reduce_ex__` writes no state for an empty `__dict__`; a class's own
    // `__reduce__` writes what it returns.
    let object_state = class.newobj || !class.custom_call;
    let state = if let Some(expr) = class.state_expr {
        quote!(let __call = __call.state(__pickle::__private::owned(#expr));)
    } else if !state_fields.is_empty() || !slot_fields.is_empty() {
        let dict = attrs(state_fields);
        let slots = if slot_fields.is_empty() {
            quote!(::core::option::Option::None)
        } else {
            let slots = attrs(slot_fields);
            quote!(::core::option::Option::Some(#slots))
        };
        quote! {
            let __call = match __pickle::__private::state(#dict, #slots, #object_state) {
                ::core::option::Option::Some(__state) => __call.state(__state),
                ::core::option::Option::None => __call,
            };
        }
    } else {
        quote!()
    };
    // Below protocol 2 a list or dict base holds the items: nothing is appended after.
    let in_base = |base: Base| protocol < 2 && class.base == base;
    let items = class.fields_with(protocol, Role::ListItems).filter(|_| !in_base(Base::List)).map(|f| {
        let binding = &f.binding;
        let span = f.field.ty.span();
        quote_spanned!(span=> let __call = __call.list_items(__pickle::__private::list_items(#binding));)
    });
    let pairs = class.fields_with(protocol, Role::DictItems).filter(|_| !in_base(Base::Dict)).map(|f| {
        let binding = &f.binding;
        let span = f.field.ty.span();
        quote_spanned!(span=> let __call = __call.dict_items(__pickle::__private::dict_items(#binding));)
    });
    let setter = class.state_setter.as_ref().map(
        |(module, function)| quote!(let __call = __call.state_setter(__pickle::GlobalName::new(#module, #function));),
    );
    quote! {
        let __call = #call;
        #state
        #(#items)*
        #(#pairs)*
        #setter
        ::core::result::Result::Ok(__call.into())
    }
}
