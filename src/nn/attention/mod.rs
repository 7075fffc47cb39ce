//! Attention and Transformer encoders with PyTorch's semantics and parameter
//! names: [`scaled_dot_product_attention`], [`MultiheadAttention`],
//! [`TransformerEncoderLayer`] and [`TransformerEncoder`].
//!
//! Everything is composed of tensor ops (matmul, softmax, where_cond,
//! reshape), so it runs on every device and has autograd.

mod encoder;
mod encoder_layer;
mod mask;
mod multihead;
mod sdpa;

pub use encoder::{EncoderNormConfig, TransformerEncoder, TransformerEncoderConfig};
pub use encoder_layer::{TransformerActivation, TransformerEncoderLayer, TransformerEncoderLayerConfig};
pub use multihead::{MultiheadAttention, MultiheadAttentionConfig};
pub use sdpa::scaled_dot_product_attention;
