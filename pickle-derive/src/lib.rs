//! `#[derive(Reduce)]` and `#[derive(Reconstruct)]` for `pickle-core`.
//!
//! The derives are being built (see the project's issues); today they are declared so that
//! `pickle-core` can re-export them, and using one reports that it is not implemented yet.

use proc_macro::TokenStream;

/// Implements `pickle_core::Reduce` from `#[pickle(...)]` attributes.
#[proc_macro_derive(Reduce, attributes(pickle))]
pub fn derive_reduce(input: TokenStream) -> TokenStream {
    not_yet(input, "Reduce")
}

/// Implements `pickle_core::Reconstruct` from `#[pickle(...)]` attributes.
#[proc_macro_derive(Reconstruct, attributes(pickle))]
pub fn derive_reconstruct(input: TokenStream) -> TokenStream {
    not_yet(input, "Reconstruct")
}

fn not_yet(input: TokenStream, name: &str) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    syn::Error::new_spanned(&input.ident, format!("#[derive({name})] is not implemented yet")).to_compile_error().into()
}
