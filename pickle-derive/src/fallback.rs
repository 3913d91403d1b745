//! What a derive emits beside its errors: an impl of the trait whose body is never run, as
//! thiserror does, so that a mistake in `#[pickle(...)]` is reported once, at the attribute,
//! and not again at every `dumps(&value, ...)` or `loads::<T>(...)` that needs the impl.

use proc_macro2::TokenStream;
use quote::quote;

/// The errors, and a `Reduce` impl that stands in for the one the derive could not write.
pub fn reduce(input: &syn::DeriveInput, errors: darling::Error) -> TokenStream {
    let body = quote! {
        fn reduce_ex(&self, _: u8) -> __pickle::Result<__pickle::Reduction<'_>> {
            ::core::unreachable!("the derive reported an error")
        }
    };
    stand_in(input, errors, quote!(__pickle::Reduce), body)
}

/// The errors, and a `Reconstruct` impl that stands in for the one the derive could not write.
pub fn reconstruct(input: &syn::DeriveInput, errors: darling::Error) -> TokenStream {
    let body = quote! {
        fn reconstruct(_: __pickle::Node<'_>) -> __pickle::Result<Self> {
            ::core::unreachable!("the derive reported an error")
        }
    };
    stand_in(input, errors, quote!(__pickle::Reconstruct), body)
}

fn stand_in(
    input: &syn::DeriveInput,
    errors: darling::Error,
    trait_path: TokenStream,
    body: TokenStream,
) -> TokenStream {
    let (ident, krate) = (&input.ident, crate_path(input));
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let errors = errors.write_errors();
    quote! {
        #errors
        const _: () = {
            use #krate as __pickle;

            #[automatically_derived]
            impl #impl_generics #trait_path for #ident #ty_generics #where_clause {
                #body
            }
        };
    }
}

/// `#[pickle(crate = "...")]` if the input says it (read alone, since the attributes as a
/// whole did not parse), or `::pickle_core`.
fn crate_path(input: &syn::DeriveInput) -> syn::Path {
    let mut found = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("pickle")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                let value: syn::LitStr = meta.value()?.parse()?;
                found = value.parse().ok();
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            } else if meta.input.peek(syn::token::Paren) {
                let _group: proc_macro2::TokenTree = meta.input.parse()?;
            }
            Ok(())
        });
    }
    found.unwrap_or_else(|| syn::parse_quote!(::pickle_core))
}
