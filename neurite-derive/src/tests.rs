//! The expansion on token streams: which calls are generated for which
//! fields, and the errors for what the derive refuses. The generated code is
//! compiled and run by neurite's `tests/derive` and `tests/derive_ui`.

use crate::expand::expand;
use syn::DeriveInput;

/// The expansion of `src` with all whitespace removed, so that assertions do
/// not depend on how `quote` spaces tokens.
fn expanded(src: &str) -> String {
    let input: DeriveInput = syn::parse_str(src).expect("test input parses");
    let out = expand(input).unwrap_or_else(|e| panic!("expansion of {src} failed: {e}"));
    squash(&out.to_string())
}

/// `s` without whitespace, to compare with [`expanded`].
fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Every error message of the expansion of `src`.
fn errors(src: &str) -> Vec<String> {
    let input: DeriveInput = syn::parse_str(src).expect("test input parses");
    match expand(input) {
        Ok(out) => panic!("expected an error for {src}, got {out}"),
        Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn fields_are_registered_by_role_in_declaration_order() {
    let out = expanded(
        "struct Net { conv: Conv2d, #[module(buffer)] running: Tensor, #[module(skip)] stride: usize, \
         #[module(param)] scale: Tensor, #[module(rename = \"fc\")] head: Option<Linear> }",
    );
    let children = "collect_children(&self.conv,\"conv\",&mut out);\
                    ::neurite::nn::ModuleField::collect_children(&self.running,\"running\",&mut out);\
                    ::neurite::nn::ModuleField::collect_children(&self.scale,\"scale\",&mut out);\
                    ::neurite::nn::ModuleField::collect_children(&self.head,\"fc\",&mut out);";
    assert!(out.contains(&squash(children)), "{out}");
    let params = "fnown_parameters(&self)->::std::vec::Vec<(::std::string::String,::neurite::Tensor)>{\
                  letmutout=::std::vec::Vec::new();\
                  ::neurite::nn::ModuleField::collect_tensors(&self.conv,\"conv\",&mut out);\
                  ::neurite::nn::ModuleField::collect_tensors(&self.scale,\"scale\",&mut out);\
                  ::neurite::nn::ModuleField::collect_tensors(&self.head,\"fc\",&mut out);out}";
    assert!(out.contains(&squash(params)), "{out}");
    let buffers = "fnown_buffers(&self)->::std::vec::Vec<(::std::string::String,::neurite::Tensor)>{\
                   letmutout=::std::vec::Vec::new();\
                   ::neurite::nn::ModuleField::collect_tensors(&self.running,\"running\",&mutout);out}";
    assert!(out.contains(&squash(buffers)), "{out}");
    assert_eq!(out.matches("map_field_tensors").count(), 4, "{out}");
    assert!(!out.contains("stride"), "a skipped field is never touched: {out}");
    assert!(!out.contains("fnconfig"), "{out}");
}

#[test]
fn tuple_fields_are_named_by_index() {
    let out = expanded("struct Pair(Linear, #[module(skip)] usize, Tensor);");
    assert!(out.contains("collect_children(&self.0,\"0\",&mutout)"), "{out}");
    assert!(out.contains("collect_tensors(&self.2,\"2\",&mutout)"), "{out}");
    assert!(!out.contains("self.1"), "{out}");
}

#[test]
fn raw_identifiers_lose_their_prefix() {
    let out = expanded("struct S { r#type: Linear }");
    assert!(out.contains("collect_children(&self.r#type,\"type\",&mutout)"), "{out}");
}

#[test]
fn methods_without_fields_keep_the_trait_defaults() {
    let out = expanded("struct Identity;");
    assert_eq!(out, "#[automatically_derived]impl::neurite::nn::ModuleforIdentity{}");
    let out = expanded("struct OnlyData { #[module(skip)] n: usize }");
    assert_eq!(out, "#[automatically_derived]impl::neurite::nn::ModuleforOnlyData{}");
    let out = expanded("struct NoBuffers { a: Linear }");
    assert!(!out.contains("own_buffers"), "{out}");
}

#[test]
fn config_option_generates_config() {
    let out = expanded("#[module(config)] struct Mlp { fc: Linear }");
    assert!(
        out.contains(
            "fnconfig(&self)->::neurite::Result<::neurite::nn::LayerConfig>{::neurite::nn::layer_config_of(self)}"
        ),
        "{out}"
    );
}

#[test]
fn generic_fields_get_module_field_bounds_and_user_bounds_stay() {
    let out = expanded(
        "struct Wrapper<M: Module, T> where T: Clone { inner: M, list: Vec<M>, plain: Linear, #[module(skip)] tag: T }",
    );
    assert!(
        out.contains(
            "impl<M:Module,T>::neurite::nn::ModuleforWrapper<M,T>whereT:Clone,\
             M:::neurite::nn::ModuleField+::std::marker::Send+::std::marker::Sync,\
             Vec<M>:::neurite::nn::ModuleField+::std::marker::Send+::std::marker::Sync{"
        ),
        "{out}"
    );
    assert!(
        !out.contains("Linear:::neurite"),
        "a concrete field needs no bound: {out}"
    );
    assert!(!out.contains("T:::neurite"), "a skipped field needs no bound: {out}");
}

#[test]
fn enums_and_unions_are_refused() {
    let e = errors("enum Choice { A(Linear), B(Conv2d) }");
    assert_eq!(e.len(), 1);
    assert!(e[0].starts_with("#[derive(Module)] works on structs only"), "{e:?}");
    assert!(e[0].contains("Box<dyn Forward>"), "{e:?}");
    let e = errors("union U { a: u32 }");
    assert_eq!(e, ["#[derive(Module)] works on structs only, not on unions"]);
}

#[test]
fn every_bad_option_is_reported_at_once() {
    let e = errors(
        "#[module(conifg)] struct S { #[module(bufer)] a: Tensor, #[module(skip, buffer)] b: Tensor, \
         #[module(param, param)] c: Tensor, #[module(rename = \"x.y\")] d: Tensor, #[module(config)] e: Linear }",
    );
    assert_eq!(
        e,
        [
            "unknown #[module] struct option `conifg`; expected `config`",
            "unknown #[module] field option `bufer`; expected `skip`, `buffer`, `param` or `rename = \"name\"`",
            "`buffer` conflicts with `skip`: a field is a parameter, a buffer, or skipped",
            "duplicate #[module] option `param`",
            "a module or tensor name must be non-empty and contain no '.', got \"x.y\"",
            "`config` is a struct option: put #[module(config)] on the struct",
        ]
    );
}

#[test]
fn misplaced_and_conflicting_options() {
    assert_eq!(
        errors("#[module(skip)] struct S { a: Tensor }"),
        ["`skip` is a field option: put it on a field, not on the struct"]
    );
    assert_eq!(
        errors("struct S { #[module(skip, rename = \"b\")] a: Tensor }"),
        ["a skipped field has no name to rename: remove `rename` or `skip`"]
    );
    assert_eq!(
        errors("struct S { #[module(rename = \"\")] a: Tensor }"),
        ["a module or tensor name must be non-empty and contain no '.', got \"\""]
    );
    assert_eq!(errors("struct S { #[module(rename)] a: Tensor }"), ["expected `=`"]);
}

#[test]
fn two_fields_with_one_name_are_refused() {
    assert_eq!(
        errors("struct S { fc: Linear, #[module(rename = \"fc\")] head: Linear }"),
        ["two fields are both named \"fc\" in the module; give one another name with #[module(rename = \"...\")]"]
    );
}
