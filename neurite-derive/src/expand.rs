//! The `impl ::neurite::nn::Module` generated for a struct.

use crate::attrs::{Role, field_attrs, struct_attrs};
use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned};
use std::collections::HashMap;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Ident, Index, Member, Type};

/// A registered (not skipped) field.
struct Field {
    /// `self.<member>`.
    member: Member,
    /// The PyTorch name (field name, `rename`, or the tuple index).
    name: String,
    ty: Type,
    role: Role,
}

/// The whole expansion, or every error found (attributes of all fields are
/// checked before giving up, so one build shows them all).
pub(crate) fn expand(input: DeriveInput) -> syn::Result<TokenStream> {
    let fields = match &input.data {
        Data::Struct(s) => &s.fields,
        Data::Enum(e) => {
            return Err(syn::Error::new(
                e.enum_token.span(),
                "#[derive(Module)] works on structs only: an enum has no fixed set of submodules and \
                 tensors. Hold the alternatives in a `Box<dyn Forward>` field, or implement \
                 neurite::nn::Module by hand (match on the variant in `children` and `own_parameters`)",
            ));
        }
        Data::Union(u) => {
            return Err(syn::Error::new(
                u.union_token.span(),
                "#[derive(Module)] works on structs only, not on unions",
            ));
        }
    };

    let mut errors: Option<syn::Error> = None;
    let mut push_error = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    let options = struct_attrs(&input.attrs).unwrap_or_else(|e| {
        push_error(e);
        Default::default()
    });

    let mut registered = Vec::new();
    let mut seen: HashMap<String, Span> = HashMap::new();
    for (i, f) in fields.iter().enumerate() {
        let attrs = match field_attrs(&f.attrs) {
            Ok(a) => a,
            Err(e) => {
                push_error(e);
                continue;
            }
        };
        if attrs.role == Role::Skip {
            continue;
        }
        let (member, default_name, name_span) = match &f.ident {
            Some(id) => (Member::Named(id.clone()), id.unraw().to_string(), id.span()),
            None => {
                let span = f.ty.span();
                (Member::Unnamed(Index { index: i as u32, span }), i.to_string(), span)
            }
        };
        let (name, name_span) = match &attrs.rename {
            Some(lit) => (lit.value(), lit.span()),
            None => (default_name, name_span),
        };
        if seen.contains_key(&name) {
            push_error(syn::Error::new(
                name_span,
                format!(
                    "two fields are both named {name:?} in the module; give one another name with #[module(rename = \"...\")]"
                ),
            ));
            continue;
        }
        seen.insert(name.clone(), name_span);
        registered.push(Field {
            member,
            name,
            ty: f.ty.clone(),
            role: attrs.role,
        });
    }
    if let Some(e) = errors {
        return Err(e);
    }

    let ident = &input.ident;
    let mut generics = input.generics.clone();
    let params: Vec<Ident> = generics.type_params().map(|p| p.ident.clone()).collect();
    {
        // A field whose type involves a type parameter is a module or tensor
        // only for some arguments: require it where the impl applies, with the
        // Send + Sync that Module needs, so that an unbounded `W<M>` works.
        let where_clause = generics.make_where_clause();
        for f in registered.iter().filter(|f| mentions_any(&f.ty, &params)) {
            let ty = &f.ty;
            where_clause
                .predicates
                .push(syn::parse_quote_spanned!(ty.span()=> #ty: ::neurite::nn::ModuleField + ::std::marker::Send + ::std::marker::Sync));
        }
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();

    let mut body = TokenStream::new();
    if !registered.is_empty() {
        let children = calls(
            &registered,
            |_| true,
            |m, n, ty| quote_spanned!(ty.span()=> ::neurite::nn::ModuleField::collect_children(&self.#m, #n, &mut out);),
        );
        let children_mut = calls(
            &registered,
            |_| true,
            |m, n, ty| quote_spanned!(ty.span()=> ::neurite::nn::ModuleField::collect_children_mut(&mut self.#m, #n, &mut out);),
        );
        let maps = calls(
            &registered,
            |_| true,
            |m, _, ty| quote_spanned!(ty.span()=> ::neurite::nn::ModuleField::map_field_tensors(&mut self.#m, f)?;),
        );
        body.extend(quote! {
            fn children(&self) -> ::std::vec::Vec<(::std::string::String, &dyn ::neurite::nn::Module)> {
                let mut out = ::std::vec::Vec::new();
                #children
                out
            }

            fn children_mut(&mut self) -> ::std::vec::Vec<(::std::string::String, &mut dyn ::neurite::nn::Module)> {
                let mut out = ::std::vec::Vec::new();
                #children_mut
                out
            }

            fn map_own_tensors(
                &mut self,
                f: &mut dyn FnMut(&::neurite::Tensor) -> ::neurite::Result<::neurite::Tensor>,
            ) -> ::neurite::Result<()> {
                #maps
                ::std::result::Result::Ok(())
            }
        });
    }
    for (role, method) in [(Role::Param, "own_parameters"), (Role::Buffer, "own_buffers")] {
        if !registered.iter().any(|f| f.role == role) {
            continue;
        }
        let method = Ident::new(method, Span::call_site());
        let pushes = calls(
            &registered,
            |f| f.role == role,
            |m, n, ty| quote_spanned!(ty.span()=> ::neurite::nn::ModuleField::collect_tensors(&self.#m, #n, &mut out);),
        );
        body.extend(quote! {
            fn #method(&self) -> ::std::vec::Vec<(::std::string::String, ::neurite::Tensor)> {
                let mut out = ::std::vec::Vec::new();
                #pushes
                out
            }
        });
    }
    if let Some(span) = options.config {
        body.extend(quote_spanned! {span=>
            fn config(&self) -> ::neurite::Result<::neurite::nn::LayerConfig> {
                ::neurite::nn::layer_config_of(self)
            }
        });
    }

    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics ::neurite::nn::Module for #ident #ty_generics #where_clause {
            #body
        }
    })
}

/// One statement per field that `keep` selects, made by `make(member, name, type)`.
fn calls(
    fields: &[Field],
    keep: impl Fn(&Field) -> bool,
    make: impl Fn(&Member, &str, &Type) -> TokenStream,
) -> TokenStream {
    fields
        .iter()
        .filter(|f| keep(f))
        .map(|f| make(&f.member, &f.name, &f.ty))
        .collect()
}

/// Whether `ty` names one of the struct's type parameters anywhere (`M`,
/// `Vec<M>`, `Option<Box<M>>`, `M::Output`).
fn mentions_any(ty: &Type, params: &[Ident]) -> bool {
    fn walk(tokens: TokenStream, params: &[Ident]) -> bool {
        tokens.into_iter().any(|t| match t {
            TokenTree::Ident(id) => params.contains(&id),
            TokenTree::Group(g) => walk(g.stream(), params),
            _ => false,
        })
    }
    !params.is_empty() && walk(quote!(#ty), params)
}
