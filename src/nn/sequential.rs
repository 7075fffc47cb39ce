//! The `Sequential` container.

use super::{Forward, LayerConfig, Module, SequentialConfig};
use crate::{Device, Error, Result, Tensor};

/// Layers applied one after another, PyTorch's `nn.Sequential`.
///
/// Built fluently; layers are created on the CPU in `f32`, and the finished
/// model is moved with [`Sequential::into_device`] (or [`Module::to_device`]).
/// Move the model before creating its optimizer: moving replaces the
/// parameter tensors. Parameters and buffers are named as in PyTorch:
/// `"0.weight"`, `"2.running_mean"`, `"1.0.bias"` for nested containers.
///
/// Any [`Module`] can be added, including user-defined ones ([`Sequential::add`]
/// takes a value, [`Sequential::add_module`] a `Box<dyn Module>`). A layer joins
/// in the container's current mode.
///
/// # Shapes
/// The input shape of the first layer to the output shape of the last.
///
/// ```
/// use neurite::nn::{Forward, Linear, Module, ReLU, Sequential};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let model = Sequential::new()
///     .add(Linear::new(784, 256))
///     .add(ReLU)
///     .add(Linear::new(256, 10))
///     .into_device(&Device::best())?;
/// let names: Vec<String> = model.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
/// assert_eq!(model.num_parameters(), 784 * 256 + 256 + 256 * 10 + 10);
/// let x = Tensor::zeros((32, 784), DType::F32, &model.device().unwrap())?;
/// assert_eq!(model.forward(&x)?.dims(), &[32, 10]);
/// # Ok(()) }
/// ```
pub struct Sequential {
    layers: Vec<Box<dyn Forward>>,
    training: bool,
}

impl Default for Sequential {
    fn default() -> Self {
        Sequential::new()
    }
}

impl std::fmt::Debug for Sequential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.layers.iter().map(|l| l.name()).collect();
        f.debug_struct("Sequential")
            .field("layers", &names)
            .field("training", &self.training)
            .finish()
    }
}

impl Sequential {
    /// An empty container in training mode.
    pub fn new() -> Sequential {
        Sequential {
            layers: Vec::new(),
            training: true,
        }
    }

    /// Appends a layer (builder style).
    // `add` is the name Keras and PyTorch users expect for building a model;
    // `Sequential` is not a number and never implements `std::ops::Add`.
    #[allow(clippy::should_implement_trait)]
    pub fn add<M: Forward + 'static>(self, layer: M) -> Sequential {
        self.add_module(Box::new(layer))
    }

    /// Appends a boxed layer (builder style), for modules chosen at run time.
    pub fn add_module(mut self, layer: Box<dyn Forward>) -> Sequential {
        self.push(layer);
        self
    }

    /// Appends a boxed layer in place.
    pub fn push(&mut self, mut layer: Box<dyn Forward>) {
        layer.set_training(self.training);
        self.layers.push(layer);
    }

    /// Moves every parameter and buffer to `device` (builder style).
    pub fn into_device(mut self, device: &Device) -> Result<Sequential> {
        self.to_device(device)?;
        Ok(self)
    }

    /// Splits into the first `at` layers and the rest, PyTorch's `model[:at]`
    /// and `model[at:]` (for example a frozen trunk and a head to train on
    /// its cached features, [`cache_features`](crate::data::cache_features)).
    /// Both keep this container's mode; `at` may be `0` or `len()`. The parts
    /// name their layers from `"0"` again; [`Sequential::append`] joins them
    /// back with the original names.
    ///
    /// ```
    /// use neurite::nn::{Linear, ReLU, Sequential};
    /// # fn main() -> neurite::Result<()> {
    /// let model = Sequential::new().add(Linear::new(4, 8)).add(ReLU).add(Linear::new(8, 2));
    /// let (trunk, head) = model.split_at(2)?;
    /// assert_eq!((trunk.len(), head.len()), (2, 1));
    /// assert_eq!(trunk.append(head).len(), 3);
    /// assert!(Sequential::new().split_at(1).is_err());
    /// # Ok(()) }
    /// ```
    pub fn split_at(mut self, at: usize) -> Result<(Sequential, Sequential)> {
        if at > self.layers.len() {
            return Err(Error::invalid(
                "Sequential::split_at",
                format!(
                    "cannot split {} layers at {at}; expected at most {}",
                    self.layers.len(),
                    self.layers.len()
                ),
            ));
        }
        let rest = self.layers.split_off(at);
        let tail = Sequential {
            layers: rest,
            training: self.training,
        };
        Ok((self, tail))
    }

    /// Appends every layer of `other` after this container's own (builder
    /// style); they join in this container's mode.
    pub fn append(mut self, other: Sequential) -> Sequential {
        for layer in other.layers {
            self.push(layer);
        }
        self
    }

    /// Number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// True when there is no layer.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The layers, in order.
    pub fn layers(&self) -> &[Box<dyn Forward>] {
        &self.layers
    }

    /// Layer `i`.
    pub fn layer(&self, i: usize) -> Option<&dyn Forward> {
        self.layers.get(i).map(|l| &**l)
    }

    /// Layer `i`, mutably.
    pub fn layer_mut(&mut self, i: usize) -> Option<&mut (dyn Forward + 'static)> {
        self.layers.get_mut(i).map(|l| &mut **l)
    }

    /// The configuration of every layer, to rebuild the model with
    /// [`Sequential::from_config`]. Fails naming the first layer that has no
    /// configuration (a custom module that does not implement [`Module::config`]).
    pub fn to_config(&self) -> Result<SequentialConfig> {
        let layers = self
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| {
                l.config()
                    .map_err(|e| Error::invalid("Sequential::to_config", format!("layer {i} ({}): {e}", l.name())))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(SequentialConfig { layers })
    }

    /// Rebuilds a model from its configuration on `device`, freshly initialised
    /// and in training mode; load weights with [`Module::load_named_tensors`].
    pub fn from_config(config: &SequentialConfig, device: &Device) -> Result<Sequential> {
        let mut s = Sequential::new();
        for (i, c) in config.layers.iter().enumerate() {
            let layer = c
                .build(device)
                .map_err(|e| Error::invalid("Sequential::from_config", format!("layer {i}: {e}")))?;
            s.push(layer);
        }
        Ok(s)
    }

    /// A Keras-style table of the layers: name, output shape for an input of
    /// `input_shape` (batch dim included) and parameter count, with totals.
    ///
    /// Shapes come from running zeros through the layers under no_grad in
    /// evaluation mode (so batch-norm statistics and the random generator are
    /// left untouched); the previous mode is restored afterwards. The input is
    /// `f32` on the model's device, or `I64` ids when the first layer is an
    /// embedding.
    pub fn summary(&mut self, input_shape: &[usize]) -> Result<String> {
        let was_training = self.training;
        self.set_training(false);
        let rows = self.summary_rows(input_shape);
        self.set_training(was_training);
        Ok(super::summary::format_table(input_shape, &rows?, self))
    }

    fn summary_rows(&self, input_shape: &[usize]) -> Result<Vec<(String, Vec<usize>, usize)>> {
        let device = self.device().unwrap_or(Device::Cpu);
        let dtype = self
            .input_dtype()
            .or_else(|| self.named_parameters().first().map(|(_, t)| t.dtype()))
            .unwrap_or(crate::DType::F32);
        // An input whose size overflows is refused before the zeros are made.
        super::params::check_size("Sequential::summary", "input", input_shape)?;
        crate::no_grad(|| {
            let mut x = Tensor::zeros(input_shape, dtype, &device)?;
            let mut rows = Vec::with_capacity(self.layers.len());
            for (i, l) in self.layers.iter().enumerate() {
                x = l
                    .forward(&x)
                    .map_err(|e| Error::invalid("Sequential::summary", format!("layer {i} ({}): {e}", l.name())))?;
                rows.push((format!("{i} ({})", l.name()), x.dims().to_vec(), l.num_parameters()));
            }
            Ok(rows)
        })
    }
}

impl Module for Sequential {
    fn children(&self) -> Vec<(String, &dyn Module)> {
        self.layers
            .iter()
            .enumerate()
            .map(|(i, l)| (i.to_string(), &**l as &dyn Module))
            .collect()
    }

    fn children_mut(&mut self) -> Vec<(String, &mut dyn Module)> {
        self.layers
            .iter_mut()
            .enumerate()
            .map(|(i, l)| (i.to_string(), &mut **l as &mut dyn Module))
            .collect()
    }

    /// Keeps its own flag too: a layer added later joins in the container's mode.
    fn set_training(&mut self, training: bool) {
        self.training = training;
        for l in &mut self.layers {
            l.set_training(training);
        }
    }

    fn is_training(&self) -> bool {
        self.training
    }

    fn config(&self) -> Result<LayerConfig> {
        Ok(LayerConfig::Sequential(self.to_config()?))
    }

    fn input_dtype(&self) -> Option<crate::DType> {
        self.layers.first().and_then(|l| l.input_dtype())
    }
}

impl Forward for Sequential {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = x.clone();
        for l in &self.layers {
            h = l.forward(&h)?;
        }
        Ok(h)
    }
}
