//! What the two pooling layers share: hyperparameters, checks and unbatched inputs.

use crate::{Error, Result, Tensor};

/// Kernel, stride and padding of a pooling window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
}

impl Window {
    /// Positive kernel and stride, and padding at most half the kernel (PyTorch's rule).
    pub fn validate(&self, op: &'static str) -> Result<()> {
        let Window {
            kernel,
            stride,
            padding,
        } = *self;
        if kernel.contains(&0) || stride.contains(&0) {
            return Err(Error::invalid(
                op,
                format!("kernel {kernel:?} and stride {stride:?} must be positive"),
            ));
        }
        if padding[0] > kernel[0] / 2 || padding[1] > kernel[1] / 2 {
            return Err(Error::invalid(
                op,
                format!("padding {padding:?} must be at most half the kernel {kernel:?}"),
            ));
        }
        Ok(())
    }

    /// Applies `pool` to `(N, C, H, W)`, or to `(C, H, W)` as a batch of one.
    pub fn apply(
        &self,
        x: &Tensor,
        op: &'static str,
        pool: impl Fn(&Tensor, (usize, usize), (usize, usize), (usize, usize)) -> Result<Tensor>,
    ) -> Result<Tensor> {
        self.validate(op)?;
        let k = (self.kernel[0], self.kernel[1]);
        let s = (self.stride[0], self.stride[1]);
        let p = (self.padding[0], self.padding[1]);
        match x.rank() {
            3 => pool(&x.unsqueeze(0)?, k, s, p)?.squeeze(0usize),
            4 => pool(x, k, s, p),
            _ => Err(Error::invalid(
                op,
                format!("expected an (N, C, H, W) or (C, H, W) input, got shape {}", x.shape()),
            )),
        }
    }
}
