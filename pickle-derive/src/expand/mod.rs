//! Code generation: [`reduce`] writes `Reduce::reduce_ex`, [`reconstruct`] writes
//! `Reconstruct::reconstruct`, both from one checked [`Model`](crate::model::Model).

pub mod reconstruct;
pub mod reduce;

use quote::ToTokens;

use crate::model::{Case, Class, FieldModel, Model, Shape};

/// The generics with bounds for the fields whose types use a type parameter, as serde
/// infers them: `bounds` says what one such field needs (fields converted by a `with`
/// module need nothing).
pub fn with_bounds(model: &Model<'_>, bounds: impl Fn(&FieldModel<'_>) -> Vec<syn::WherePredicate>) -> syn::Generics {
    let mut generics = model.input.generics.clone();
    let params: Vec<syn::Ident> = generics.type_params().map(|p| p.ident.clone()).collect();
    if params.is_empty() {
        return generics;
    }
    let classes: Vec<&Class<'_>> = match &model.shape {
        Shape::Struct(class) => vec![&**class],
        Shape::Enum(cases) => cases
            .iter()
            .filter_map(|c| match c {
                Case::Class { class, .. } => Some(&**class),
                Case::Member { .. } => None,
            })
            .collect(),
    };
    let predicates: Vec<syn::WherePredicate> = classes
        .iter()
        .flat_map(|c| c.fields.iter())
        .filter(|f| f.field.with_module.is_none() && mentions_any(f.field.ty.to_token_stream(), &params))
        .flat_map(bounds)
        .collect();
    generics.make_where_clause().predicates.extend(predicates);
    generics
}

/// Whether the tokens mention any of the type parameters.
fn mentions_any(tokens: proc_macro2::TokenStream, params: &[syn::Ident]) -> bool {
    tokens.into_iter().any(|tt| match tt {
        proc_macro2::TokenTree::Ident(i) => params.contains(&i),
        proc_macro2::TokenTree::Group(g) => mentions_any(g.stream(), params),
        _ => false,
    })
}
