//! Embedding lookup table.

use super::init::Init;
use super::params::{Unbuilt, check_size, placeholder};
use super::{Forward, LayerConfig, Module};
use crate::{DType, Device, Error, Result, Tensor};

/// A table of `num_embeddings` vectors of size `embedding_dim`, looked up by
/// `I64` ids, PyTorch's `nn.Embedding` (weights drawn from `N(0, 1)`).
///
/// The gradient of the table is dense: rows that were looked up several times
/// accumulate, the others get zero. Ids out of range are reported as errors.
/// A table too large to create is an error from [`Embedding::try_new`];
/// [`Embedding::new`] reports it from [`Embedding::validate`] and `forward`.
///
/// # Shapes
/// - input: `I64` ids of any shape `(*)`
/// - output: `(*, embedding_dim)`
///
/// # Parameters
/// `weight` `[num_embeddings, embedding_dim]`.
///
/// ```
/// use neurite::nn::{Embedding, Forward, Module};
/// use neurite::{Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let emb = Embedding::new(10, 4);
/// let ids = Tensor::from_vec(vec![1i64, 7, 7], (1, 3), &Device::cpu())?;
/// assert_eq!(emb.forward(&ids)?.dims(), &[1, 3, 4]);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Embedding {
    weight: Tensor,
    unbuilt: Unbuilt,
}

impl Embedding {
    /// A table initialised from `N(0, 1)`. Never fails: a table that cannot
    /// be created gives a layer holding an empty placeholder that reports the
    /// failure from [`Embedding::validate`] and `forward`.
    pub fn new(num_embeddings: usize, embedding_dim: usize) -> Embedding {
        Embedding::try_new(num_embeddings, embedding_dim).unwrap_or_else(|e| Embedding {
            weight: placeholder(2),
            unbuilt: Unbuilt::because(&e),
        })
    }

    /// A table initialised from `N(0, 1)`, or an error when it cannot be
    /// created (sizes whose product overflows, or more memory than there is).
    ///
    /// ```
    /// use neurite::nn::Embedding;
    /// assert_eq!(Embedding::try_new(10, 4).unwrap().embedding_dim(), 4);
    /// assert!(Embedding::try_new(usize::MAX, 4).is_err());
    /// ```
    pub fn try_new(num_embeddings: usize, embedding_dim: usize) -> Result<Embedding> {
        let dims = [num_embeddings, embedding_dim];
        check_size("Embedding", "table", &dims)?;
        let w = Init::Normal { mean: 0.0, std: 1.0 }.tensor(dims, DType::F32, &Device::cpu())?;
        Ok(Embedding {
            weight: w.requires_grad(),
            unbuilt: Unbuilt::none(),
        })
    }

    /// Checks that the table was created (see [`Embedding::new`]).
    pub fn validate(&self) -> Result<()> {
        self.unbuilt.check("Embedding")
    }

    /// A table holding `weight` `[num_embeddings, embedding_dim]` (PyTorch's
    /// `Embedding.from_pretrained` with `freeze=False`; call
    /// [`Module::freeze`] to keep it fixed). The table shares storage with `weight`.
    ///
    /// ```
    /// use neurite::nn::{Embedding, Forward};
    /// use neurite::{Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let dev = Device::cpu();
    /// let table = Tensor::from_vec(vec![0f32, 0., 1., 1., 2., 2.], (3, 2), &dev)?;
    /// let emb = Embedding::from_pretrained(table)?;
    /// let ids = Tensor::from_vec(vec![2i64, 0], 2, &dev)?;
    /// assert_eq!(emb.forward(&ids)?.to_vec::<f32>()?, vec![2., 2., 0., 0.]);
    /// # Ok(()) }
    /// ```
    pub fn from_pretrained(weight: Tensor) -> Result<Embedding> {
        let weight = super::given::parameter("Embedding::from_pretrained", "weight", &weight, 2)?;
        Ok(Embedding {
            weight,
            unbuilt: Unbuilt::none(),
        })
    }

    /// Number of rows.
    pub fn num_embeddings(&self) -> usize {
        self.weight.dims()[0]
    }

    /// Size of each vector.
    pub fn embedding_dim(&self) -> usize {
        self.weight.dims()[1]
    }

    /// The table, `[num_embeddings, embedding_dim]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }
}

impl Module for Embedding {
    fn own_parameters(&self) -> Vec<(String, Tensor)> {
        vec![("weight".to_string(), self.weight.clone())]
    }

    fn map_own_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        self.weight = f(&self.weight)?;
        Ok(())
    }

    fn config(&self) -> Result<LayerConfig> {
        self.validate()?;
        Ok(LayerConfig::Embedding {
            num_embeddings: self.num_embeddings(),
            embedding_dim: self.embedding_dim(),
        })
    }

    fn input_dtype(&self) -> Option<DType> {
        Some(DType::I64)
    }
}

impl Forward for Embedding {
    fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        self.validate()?;
        if !ids.dtype().is_index() {
            return Err(Error::invalid(
                "Embedding",
                format!(
                    "ids must have dtype i64 or i32, got {} (shape {}); cast with to_dtype(DType::I64)",
                    ids.dtype(),
                    ids.shape()
                ),
            ));
        }
        let mut dims = ids.dims().to_vec();
        dims.push(self.embedding_dim());
        self.weight.index_select(0usize, &ids.flatten_all()?)?.reshape(dims)
    }
}
