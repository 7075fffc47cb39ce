//! Recurrent layers with PyTorch's semantics, gate layouts and parameter
//! names: [`RNN`], [`LSTM`], [`GRU`] over whole sequences and the
//! single-step [`RNNCell`], [`LSTMCell`], [`GRUCell`].
//!
//! Every step is composed from tensor ops (two fused linear products, the
//! gate activations and element-wise arithmetic), so the layers run on every
//! device and differentiate through autograd. Weights load from a PyTorch
//! `state_dict` by name (`weight_ih_l0`, `bias_hh_l1_reverse`, ...), for
//! example through [`crate::nn::Module::load_safetensors`].

mod cell;
mod gru;
mod lstm;
#[allow(clippy::module_inception)]
mod rnn;
mod sequence;
mod step;
mod weights;

pub use cell::{GRUCell, LSTMCell, RNNCell};
pub use gru::GRU;
pub use lstm::LSTM;
pub use rnn::RNN;
pub use sequence::RecurrentConfig;
pub use step::RnnNonlinearity;

/// The builders, accessors and `Module` structure shared by the three
/// sequence layers (each wraps a [`sequence::Recurrent`] in field `inner`).
macro_rules! sequence_layer_common {
    ($ty:ident) => {
        impl $ty {
            /// Sets `num_layers` (re-initialises the parameters).
            pub fn with_num_layers(self, num_layers: usize) -> $ty {
                let cfg = self.inner.cfg.clone().with_num_layers(num_layers);
                $ty {
                    inner: self.inner.rebuilt(cfg),
                }
            }

            /// With (the default) or without `bias_ih` / `bias_hh` (re-initialises the parameters).
            pub fn with_bias(self, bias: bool) -> $ty {
                let cfg = self.inner.cfg.clone().with_bias(bias);
                $ty {
                    inner: self.inner.rebuilt(cfg),
                }
            }

            /// Inputs and outputs `(N, L, *)` instead of `(L, N, *)`; the states keep `(S, N, H)`.
            pub fn with_batch_first(mut self, batch_first: bool) -> $ty {
                self.inner.cfg.batch_first = batch_first;
                self
            }

            /// Dropout probability on every layer's outputs but the last's, in training mode.
            pub fn with_dropout(mut self, dropout: f64) -> $ty {
                self.inner.cfg.dropout = dropout;
                self
            }

            /// Adds (or removes) the backward direction (re-initialises the parameters).
            pub fn with_bidirectional(self, bidirectional: bool) -> $ty {
                let cfg = self.inner.cfg.clone().with_bidirectional(bidirectional);
                $ty {
                    inner: self.inner.rebuilt(cfg),
                }
            }

            /// Checks the hyperparameters and that the parameters were created.
            pub fn validate(&self) -> crate::Result<()> {
                self.inner.validate()
            }

            /// The hyperparameters.
            pub fn recurrent_config(&self) -> &RecurrentConfig {
                &self.inner.cfg
            }

            /// Features of each input step.
            pub fn input_size(&self) -> usize {
                self.inner.cfg.input_size
            }

            /// Features of the hidden state.
            pub fn hidden_size(&self) -> usize {
                self.inner.cfg.hidden_size
            }

            /// Stacked layers.
            pub fn num_layers(&self) -> usize {
                self.inner.cfg.num_layers
            }

            /// Whether the layer also reads the sequence backwards.
            pub fn bidirectional(&self) -> bool {
                self.inner.cfg.bidirectional
            }

            /// Whether inputs and outputs are `(N, L, *)`.
            pub fn batch_first(&self) -> bool {
                self.inner.cfg.batch_first
            }
        }

        impl crate::nn::Module for $ty {
            fn own_parameters(&self) -> Vec<(String, crate::Tensor)> {
                self.inner.named()
            }

            fn map_own_tensors(
                &mut self,
                f: &mut dyn FnMut(&crate::Tensor) -> crate::Result<crate::Tensor>,
            ) -> crate::Result<()> {
                self.inner.map(f)
            }

            fn set_training(&mut self, training: bool) {
                self.inner.training = training;
            }

            fn is_training(&self) -> bool {
                self.inner.training
            }

            fn config(&self) -> crate::Result<crate::nn::LayerConfig> {
                self.inner.validate()?;
                Ok(self.layer_config())
            }
        }
    };
}
use sequence_layer_common;
