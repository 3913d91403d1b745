//! Code generation: [`reduce`] writes `Reduce::reduce_ex`, [`reconstruct`] writes
//! `Reconstruct::reconstruct`, both from one checked [`Model`](crate::check::Model).

pub mod reconstruct;
pub mod reduce;

/// Whether the tokens mention any of the type parameters.
pub fn mentions_any(tokens: proc_macro2::TokenStream, params: &[syn::Ident]) -> bool {
    tokens.into_iter().any(|tt| match tt {
        proc_macro2::TokenTree::Ident(i) => params.contains(&i),
        proc_macro2::TokenTree::Group(g) => mentions_any(g.stream(), params),
        _ => false,
    })
}
