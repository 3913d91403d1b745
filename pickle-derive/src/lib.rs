//! `#[derive(Reduce)]` and `#[derive(Reconstruct)]` for `pickle-core`.
//!
//! One attribute language, `#[pickle(...)]`, describes the Python class a Rust type
//! mirrors; see `pickle-core`'s documentation of the derives. The entry points are thin:
//! parse (`ast`, darling receivers), check (`check`, all errors at once) into a `model`,
//! expand (`expand`);
//! on errors, unknown attribute names get the closest known one (`unknown`), and a stand-in
//! impl (`fallback`) keeps them from cascading.

mod ast;
mod attr;
mod check;
mod expand;
mod fallback;
mod model;
mod unknown;

use check::Side;
use darling::FromDeriveInput;
use proc_macro::TokenStream;

/// Implements `pickle_core::Reduce` from `#[pickle(...)]` attributes.
#[proc_macro_derive(Reduce, attributes(pickle))]
pub fn derive_reduce(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    if let syn::Data::Union(u) = &input.data {
        return syn::Error::new_spanned(u.union_token, "a union cannot be pickled: use a struct or an enum")
            .to_compile_error()
            .into();
    }
    ast::Container::from_derive_input(&input)
        .and_then(|container| check::check(&container, Side::Save).map(|model| expand::reduce::reduce(&model)))
        .unwrap_or_else(|errors| fallback::reduce(&input, unknown::explain(&input, errors)))
        .into()
}

/// Implements `pickle_core::Reconstruct` from `#[pickle(...)]` attributes.
#[proc_macro_derive(Reconstruct, attributes(pickle))]
pub fn derive_reconstruct(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    if let syn::Data::Union(u) = &input.data {
        return syn::Error::new_spanned(u.union_token, "a union cannot be unpickled: use a struct or an enum")
            .to_compile_error()
            .into();
    }
    ast::Container::from_derive_input(&input)
        .and_then(|container| {
            check::check(&container, Side::Load).map(|model| expand::reconstruct::reconstruct(&model))
        })
        .unwrap_or_else(|errors| fallback::reconstruct(&input, unknown::explain(&input, errors)))
        .into()
}
