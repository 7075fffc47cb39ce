//! `#[derive(Module)]` for [neurite](https://docs.rs/neurite): implements
//! `neurite::nn::Module` for a struct from its fields, so that a model's
//! parameters, buffers and submodules are found, named as PyTorch names them,
//! moved, cast, frozen, switched between train and eval mode, and loaded from
//! checkpoints with no hand-written code.
//!
//! Use it through neurite, which re-exports it next to the trait:
//! `use neurite::nn::Module;` brings both. See [`derive_module`] for the options.

mod attrs;
mod expand;

use proc_macro::TokenStream;

/// Derives `neurite::nn::Module` for a struct.
///
/// Every field not marked `#[module(skip)]` is registered, in declaration
/// order, under its field name (`"0"`, `"1"`, ... in a tuple struct), through
/// the `neurite::nn::ModuleField` trait:
///
/// | field type | registers |
/// | --- | --- |
/// | any module (`Linear`, your own derived struct, `Box<dyn Forward>`, `Sequential`) | a child `name` (`name.weight`, ...) |
/// | `Vec<M>` or `ModuleList<M>` of modules | a child `name` with children `0`, `1`, ... (`name.0.weight`) |
/// | `ModuleDict<M>` | a child `name` with its keys (`name.key.weight`) |
/// | `Tensor` | a parameter `name` (or a buffer with `#[module(buffer)]`) |
/// | `Vec<Tensor>` | tensors `name.0`, `name.1`, ... |
/// | `Option<T>` of any of these | the same when `Some`, nothing when `None` |
///
/// A field of any other type is a compile error that names `#[module(skip)]`.
///
/// # Field options
/// - `#[module(skip)]`: not part of the module (hyperparameters, counters, caches).
/// - `#[module(buffer)]`: the field's tensors are buffers (`named_buffers`,
///   checkpoints, device and dtype moves; never trained, never frozen or
///   unfrozen), as BatchNorm's running statistics. Create them without
///   `requires_grad`.
/// - `#[module(param)]`: the field's tensors are parameters (the default, for
///   emphasis).
/// - `#[module(rename = "name")]`: register the field under another name, to
///   match a PyTorch model whose attribute is called differently (or is a
///   Rust keyword).
///
/// `buffer` and `param` say what the field's *own tensors* are; a submodule
/// keeps its own parameters and buffers whatever its field is marked.
///
/// # Struct options
/// - `#[module(config)]`: `Module::config` returns
///   `neurite::nn::layer_config_of(self)`, the configuration of the struct's
///   `neurite::nn::Configurable` impl (which must exist), so that the model
///   can be rebuilt from a checkpoint with no code.
///
/// # Generics
/// Generic structs work: the impl keeps the struct's bounds and adds
/// `FieldType: ModuleField + Send + Sync` for each registered field whose type
/// uses a type parameter, so that a `Wrapper<M>` with `inner: M` is a module
/// whenever `M` is, with or without a bound on `M` (parameters used only by
/// skipped fields need `Send + Sync` bounds of their own).
///
/// # What is not generated
/// The call itself: implement `neurite::nn::Forward` (one tensor in, one out)
/// or give the struct an ordinary `forward` method with any signature. The
/// train/eval mode comes from the children (`Dropout`, `BatchNorm`), so a
/// derived struct needs no flag of its own.
///
/// # Example
/// ```
/// use neurite::nn::{BatchNorm2d, Conv2d, Dropout, Forward, Linear, Module};
/// use neurite::{DType, Device, Result, Tensor};
///
/// #[derive(Module)]
/// struct Block {
///     conv: Conv2d,
///     bn: BatchNorm2d,
///     #[module(skip)]
///     channels: usize,
/// }
///
/// #[derive(Module)]
/// struct Net {
///     blocks: Vec<Block>,
///     drop: Dropout,
///     head: Option<Linear>,
///     /// A learned per-output scale, registered as the parameter `scale`.
///     scale: Tensor,
/// }
///
/// // The call is written by hand; everything structural was derived.
/// impl Forward for Net {
///     fn forward(&self, x: &Tensor) -> Result<Tensor> {
///         let mut x = x.clone();
///         for b in &self.blocks {
///             x = b.bn.forward(&b.conv.forward(&x)?)?.relu()?;
///         }
///         let x = self.drop.forward(&x.flatten(1, -1)?)?;
///         let x = match &self.head {
///             Some(h) => h.forward(&x)?,
///             None => x,
///         };
///         x.mul(&self.scale)
///     }
/// }
///
/// # fn main() -> Result<()> {
/// let block = |c_in, c_out| Block { conv: Conv2d::new(c_in, c_out, 3), bn: BatchNorm2d::new(c_out), channels: c_out };
/// let mut net = Net {
///     blocks: vec![block(1, 4), block(4, 4)],
///     drop: Dropout::new(0.5),
///     head: Some(Linear::new(4 * 4 * 4, 3)),
///     scale: Tensor::ones(3, DType::F32, &Device::cpu())?.requires_grad(),
/// };
/// let names: Vec<String> = net.named_parameters().into_iter().map(|(n, _)| n).collect();
/// // As in PyTorch, a module's own tensors come before its children's.
/// assert_eq!(names[..3], ["scale", "blocks.0.conv.weight", "blocks.0.conv.bias"]);
/// assert_eq!(names.last().unwrap(), "head.bias");
/// assert_eq!(net.named_buffers()[0].0, "blocks.0.bn.running_mean");
///
/// net.eval(); // reaches every BatchNorm and the Dropout
/// assert!(!net.is_training());
/// let y = net.forward(&Tensor::randn((2, 1, 8, 8), DType::F32, &Device::cpu())?)?;
/// assert_eq!(y.dims(), &[2, 3]);
/// # Ok(()) }
/// ```
#[proc_macro_derive(Module, attributes(module))]
pub fn derive_module(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::expand(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

#[cfg(test)]
mod tests;
