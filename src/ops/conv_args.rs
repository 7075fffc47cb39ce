//! The hyperparameters of the convolution ops, with PyTorch's names and defaults.

use crate::nn::IntoSize2;

/// A convolution's `padding` argument, as in PyTorch: explicit zero padding
/// per side, or `"same"` / `"valid"`.
///
/// `From` a number or a `(h, w)` pair gives symmetric padding, as PyTorch's
/// integer and tuple forms do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvPadding {
    /// Zero rows above and below, zero columns left and right of the input.
    Sides {
        top: usize,
        bottom: usize,
        left: usize,
        right: usize,
    },
    /// `padding="same"`: the output is as large as the input (stride 1 only);
    /// `dilation * (k - 1)` zeros split evenly, the odd one at the bottom/right.
    Same,
    /// `padding="valid"`: no padding.
    Valid,
}

impl ConvPadding {
    /// `padding` rows above and below, `padding` columns either side: `(h, w)`.
    pub fn symmetric(padding: impl IntoSize2) -> ConvPadding {
        let [h, w] = padding.into_size2();
        ConvPadding::Sides {
            top: h,
            bottom: h,
            left: w,
            right: w,
        }
    }

    /// `[top, bottom, left, right]` for a kernel `kernel` with `dilation`;
    /// `None` when a size overflows.
    pub(crate) fn sides(&self, kernel: [usize; 2], dilation: [usize; 2]) -> Option<[usize; 4]> {
        match *self {
            ConvPadding::Sides {
                top,
                bottom,
                left,
                right,
            } => Some([top, bottom, left, right]),
            ConvPadding::Valid => Some([0; 4]),
            ConvPadding::Same => {
                let total_h = dilation[0].checked_mul(kernel[0].checked_sub(1)?)?;
                let total_w = dilation[1].checked_mul(kernel[1].checked_sub(1)?)?;
                Some([total_h / 2, total_h - total_h / 2, total_w / 2, total_w - total_w / 2])
            }
        }
    }
}

impl Default for ConvPadding {
    fn default() -> ConvPadding {
        ConvPadding::Sides {
            top: 0,
            bottom: 0,
            left: 0,
            right: 0,
        }
    }
}

impl From<usize> for ConvPadding {
    fn from(p: usize) -> ConvPadding {
        ConvPadding::symmetric(p)
    }
}

impl From<(usize, usize)> for ConvPadding {
    fn from(p: (usize, usize)) -> ConvPadding {
        ConvPadding::symmetric(p)
    }
}

impl From<[usize; 2]> for ConvPadding {
    fn from(p: [usize; 2]) -> ConvPadding {
        ConvPadding::symmetric(p)
    }
}

/// `[top, bottom, left, right]`.
impl From<[usize; 4]> for ConvPadding {
    fn from([top, bottom, left, right]: [usize; 4]) -> ConvPadding {
        ConvPadding::Sides {
            top,
            bottom,
            left,
            right,
        }
    }
}

/// The arguments of [`crate::Tensor::conv2d_with`], `torch.nn.functional.conv2d`'s
/// `stride`, `padding`, `dilation` and `groups` (defaults 1, 0, 1, 1).
///
/// ```
/// use neurite::{Conv2dArgs, ConvPadding};
/// let depthwise = Conv2dArgs::default().padding(ConvPadding::Same).dilation(2).groups(8);
/// assert_eq!(depthwise.groups, 8);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dArgs {
    /// `[sh, sw]`.
    pub stride: [usize; 2],
    /// Zero padding.
    pub padding: ConvPadding,
    /// `[dh, dw]`: spacing between kernel taps.
    pub dilation: [usize; 2],
    /// Channel groups: input and output channels split into `groups` independent convolutions.
    pub groups: usize,
}

impl Default for Conv2dArgs {
    fn default() -> Conv2dArgs {
        Conv2dArgs {
            stride: [1, 1],
            padding: ConvPadding::default(),
            dilation: [1, 1],
            groups: 1,
        }
    }
}

impl Conv2dArgs {
    /// Sets the stride.
    pub fn stride(mut self, stride: impl IntoSize2) -> Conv2dArgs {
        self.stride = stride.into_size2();
        self
    }
    /// Sets the padding (a number, a `(h, w)` pair, `[top, bottom, left, right]` or a [`ConvPadding`]).
    pub fn padding(mut self, padding: impl Into<ConvPadding>) -> Conv2dArgs {
        self.padding = padding.into();
        self
    }
    /// Sets the dilation.
    pub fn dilation(mut self, dilation: impl IntoSize2) -> Conv2dArgs {
        self.dilation = dilation.into_size2();
        self
    }
    /// Sets the number of groups.
    pub fn groups(mut self, groups: usize) -> Conv2dArgs {
        self.groups = groups;
        self
    }
}

/// A 1-D convolution's `padding`: explicit zeros per side, `"same"` or `"valid"`.
/// `From` a number gives the same padding on both sides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvPadding1d {
    /// Zeros before and after the sequence.
    Sides { left: usize, right: usize },
    /// `padding="same"` (stride 1 only).
    Same,
    /// `padding="valid"`: no padding.
    Valid,
}

impl Default for ConvPadding1d {
    fn default() -> ConvPadding1d {
        ConvPadding1d::Sides { left: 0, right: 0 }
    }
}

impl From<usize> for ConvPadding1d {
    fn from(p: usize) -> ConvPadding1d {
        ConvPadding1d::Sides { left: p, right: p }
    }
}

impl From<ConvPadding1d> for ConvPadding {
    fn from(p: ConvPadding1d) -> ConvPadding {
        match p {
            ConvPadding1d::Sides { left, right } => ConvPadding::Sides {
                top: 0,
                bottom: 0,
                left,
                right,
            },
            ConvPadding1d::Same => ConvPadding::Same,
            ConvPadding1d::Valid => ConvPadding::Valid,
        }
    }
}

/// The arguments of [`crate::Tensor::conv1d`], `torch.nn.functional.conv1d`'s
/// `stride`, `padding`, `dilation` and `groups` (defaults 1, 0, 1, 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv1dArgs {
    /// Step between output positions.
    pub stride: usize,
    /// Zero padding.
    pub padding: ConvPadding1d,
    /// Spacing between kernel taps.
    pub dilation: usize,
    /// Channel groups.
    pub groups: usize,
}

impl Default for Conv1dArgs {
    fn default() -> Conv1dArgs {
        Conv1dArgs {
            stride: 1,
            padding: ConvPadding1d::default(),
            dilation: 1,
            groups: 1,
        }
    }
}

impl Conv1dArgs {
    /// Sets the stride.
    pub fn stride(mut self, stride: usize) -> Conv1dArgs {
        self.stride = stride;
        self
    }
    /// Sets the padding (a number or a [`ConvPadding1d`]).
    pub fn padding(mut self, padding: impl Into<ConvPadding1d>) -> Conv1dArgs {
        self.padding = padding.into();
        self
    }
    /// Sets the dilation.
    pub fn dilation(mut self, dilation: usize) -> Conv1dArgs {
        self.dilation = dilation;
        self
    }
    /// Sets the number of groups.
    pub fn groups(mut self, groups: usize) -> Conv1dArgs {
        self.groups = groups;
        self
    }

    /// The same convolution over `(N, C, 1, L)` images.
    pub(crate) fn to_2d(self) -> Conv2dArgs {
        Conv2dArgs {
            stride: [1, self.stride],
            padding: self.padding.into(),
            dilation: [1, self.dilation],
            groups: self.groups,
        }
    }
}

/// The arguments of [`crate::Tensor::conv_transpose2d`],
/// `torch.nn.functional.conv_transpose2d`'s `stride`, `padding`,
/// `output_padding`, `groups` and `dilation` (defaults 1, 0, 0, 1, 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvTranspose2dArgs {
    /// `[sh, sw]`.
    pub stride: [usize; 2],
    /// `[ph, pw]`: rows/columns cropped from each side of the full output.
    pub padding: [usize; 2],
    /// `[oph, opw]`: extra rows/columns at the bottom/right; each below the stride or the dilation.
    pub output_padding: [usize; 2],
    /// Channel groups.
    pub groups: usize,
    /// `[dh, dw]`.
    pub dilation: [usize; 2],
}

impl Default for ConvTranspose2dArgs {
    fn default() -> ConvTranspose2dArgs {
        ConvTranspose2dArgs {
            stride: [1, 1],
            padding: [0, 0],
            output_padding: [0, 0],
            groups: 1,
            dilation: [1, 1],
        }
    }
}

impl ConvTranspose2dArgs {
    /// Sets the stride.
    pub fn stride(mut self, stride: impl IntoSize2) -> ConvTranspose2dArgs {
        self.stride = stride.into_size2();
        self
    }
    /// Sets the padding.
    pub fn padding(mut self, padding: impl IntoSize2) -> ConvTranspose2dArgs {
        self.padding = padding.into_size2();
        self
    }
    /// Sets the output padding.
    pub fn output_padding(mut self, output_padding: impl IntoSize2) -> ConvTranspose2dArgs {
        self.output_padding = output_padding.into_size2();
        self
    }
    /// Sets the number of groups.
    pub fn groups(mut self, groups: usize) -> ConvTranspose2dArgs {
        self.groups = groups;
        self
    }
    /// Sets the dilation.
    pub fn dilation(mut self, dilation: impl IntoSize2) -> ConvTranspose2dArgs {
        self.dilation = dilation.into_size2();
        self
    }
}
