//! The `#[module(...)]` options, on the struct and on its fields.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Attribute, LitStr};

/// What a field contributes to the module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// Submodules and trainable tensors (the default, or `#[module(param)]`).
    Param,
    /// Submodules and non-trainable state (`#[module(buffer)]`).
    Buffer,
    /// Nothing: configuration or other data (`#[module(skip)]`).
    Skip,
}

/// The options of one field.
pub(crate) struct FieldAttrs {
    pub role: Role,
    /// The PyTorch name, when it differs from the Rust field name.
    pub rename: Option<LitStr>,
}

/// The options of the struct itself.
#[derive(Default)]
pub(crate) struct StructAttrs {
    /// `#[module(config)]`: where it was written, so that a missing
    /// `Configurable` impl is reported there.
    pub config: Option<Span>,
}

const FIELD_OPTIONS: &str = "expected `skip`, `buffer`, `param` or `rename = \"name\"`";

/// Reads every `#[module(...)]` attribute of the struct.
pub(crate) fn struct_attrs(attrs: &[Attribute]) -> syn::Result<StructAttrs> {
    let mut out = StructAttrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("module")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("config") {
                if out.config.is_some() {
                    return Err(meta.error("duplicate #[module] option `config`"));
                }
                out.config = Some(meta.path.span());
                Ok(())
            } else if ["skip", "buffer", "param", "rename"]
                .iter()
                .any(|k| meta.path.is_ident(k))
            {
                Err(meta.error(format!(
                    "`{}` is a field option: put it on a field, not on the struct",
                    path_text(&meta.path)
                )))
            } else {
                Err(meta.error(format!(
                    "unknown #[module] struct option `{}`; expected `config`",
                    path_text(&meta.path)
                )))
            }
        })?;
    }
    Ok(out)
}

/// Reads every `#[module(...)]` attribute of a field and checks that the
/// options fit together.
pub(crate) fn field_attrs(attrs: &[Attribute]) -> syn::Result<FieldAttrs> {
    // Each role keyword with the span it was written at, to point at conflicts.
    let mut roles: Vec<(Role, Span)> = Vec::new();
    let mut rename: Option<LitStr> = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("module")) {
        attr.parse_nested_meta(|meta| {
            let role = if meta.path.is_ident("skip") {
                Some(Role::Skip)
            } else if meta.path.is_ident("buffer") {
                Some(Role::Buffer)
            } else if meta.path.is_ident("param") {
                Some(Role::Param)
            } else {
                None
            };
            if let Some(role) = role {
                if let Some((first, _)) = roles.first() {
                    return Err(meta.error(if *first == role {
                        format!("duplicate #[module] option `{}`", path_text(&meta.path))
                    } else {
                        format!(
                            "`{}` conflicts with `{}`: a field is a parameter, a buffer, or skipped",
                            path_text(&meta.path),
                            role_word(*first)
                        )
                    }));
                }
                roles.push((role, meta.path.span()));
                return Ok(());
            }
            if meta.path.is_ident("rename") {
                if rename.is_some() {
                    return Err(meta.error("duplicate #[module] option `rename`"));
                }
                let name: LitStr = meta.value()?.parse()?;
                check_name(&name)?;
                rename = Some(name);
                return Ok(());
            }
            if meta.path.is_ident("config") {
                return Err(meta.error("`config` is a struct option: put #[module(config)] on the struct"));
            }
            Err(meta.error(format!(
                "unknown #[module] field option `{}`; {FIELD_OPTIONS}",
                path_text(&meta.path)
            )))
        })?;
    }
    let role = roles.first().map_or(Role::Param, |(r, _)| *r);
    if let (Role::Skip, Some(name)) = (role, &rename) {
        return Err(syn::Error::new(
            name.span(),
            "a skipped field has no name to rename: remove `rename` or `skip`",
        ));
    }
    Ok(FieldAttrs { role, rename })
}

/// A tensor or submodule name must be usable as one segment of a dotted name.
fn check_name(name: &LitStr) -> syn::Result<()> {
    let v = name.value();
    if v.is_empty() || v.contains('.') {
        return Err(syn::Error::new(
            name.span(),
            format!("a module or tensor name must be non-empty and contain no '.', got {v:?}"),
        ));
    }
    Ok(())
}

fn role_word(role: Role) -> &'static str {
    match role {
        Role::Param => "param",
        Role::Buffer => "buffer",
        Role::Skip => "skip",
    }
}

fn path_text(path: &syn::Path) -> String {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    segments.join("::")
}
