//! MNIST-layout directories (MNIST, Fashion-MNIST, the bundled subset).

use super::{Dataset, IdxArray, IdxType};
use crate::{Device, Error, Result, Tensor};
use std::path::{Path, PathBuf};

/// How image tensors are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ImageLayout {
    /// `(N, 1, rows, cols)`, for convolutional networks.
    #[default]
    Nchw,
    /// `(N, rows * cols)`, for multi-layer perceptrons.
    Flat,
}

/// Which half of an MNIST directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MnistSplit {
    /// The `train-*` files (60,000 digits in full MNIST).
    Train,
    /// The `t10k-*` files (10,000 digits in full MNIST).
    Test,
}

impl MnistSplit {
    /// The file-name prefix: `"train"` or `"t10k"`.
    pub fn prefix(self) -> &'static str {
        match self {
            MnistSplit::Train => "train",
            MnistSplit::Test => "t10k",
        }
    }
}

/// The four tensors of an MNIST-layout directory, on the CPU: images as `F32`
/// scaled to `[0, 1]` (pixel / 255, as torchvision's `ToTensor`), labels as
/// `I64` `(N,)`.
///
/// The directory holds `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
/// `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each raw or with a
/// `.gz` suffix, exactly as MNIST and Fashion-MNIST are distributed.
///
/// ```no_run
/// use neurite::data::{ImageLayout, Mnist};
/// # fn main() -> neurite::Result<()> {
/// let mnist = Mnist::load_with(Mnist::BUNDLED_DIR, ImageLayout::Flat)?;
/// assert_eq!(mnist.train_images.dims(), &[6000, 784]);
/// let train = mnist.train_dataset()?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Mnist {
    /// Training images, `(N, 1, 28, 28)` or `(N, 784)`.
    pub train_images: Tensor,
    /// Training labels, `I64` `(N,)`.
    pub train_labels: Tensor,
    /// Test images.
    pub test_images: Tensor,
    /// Test labels.
    pub test_labels: Tensor,
}

impl Mnist {
    /// Where the repository keeps its 8,000-digit subset, relative to the
    /// repository root (the working directory of `cargo run` and `cargo test`).
    pub const BUNDLED_DIR: &'static str = "data/mnist";

    /// Loads both splits with images as `(N, 1, rows, cols)`.
    pub fn load(dir: impl AsRef<Path>) -> Result<Mnist> {
        Mnist::load_with(dir, ImageLayout::Nchw)
    }

    /// Loads both splits with images in `layout`.
    pub fn load_with(dir: impl AsRef<Path>, layout: ImageLayout) -> Result<Mnist> {
        let dir = dir.as_ref();
        let (train_images, train_labels) = Mnist::load_split(dir, MnistSplit::Train, layout)?;
        let (test_images, test_labels) = Mnist::load_split(dir, MnistSplit::Test, layout)?;
        if train_images.dims()[1..] != test_images.dims()[1..] {
            return Err(Error::Format {
                path: dir.display().to_string(),
                msg: format!(
                    "train images are {:?} but test images are {:?} per sample",
                    &train_images.dims()[1..],
                    &test_images.dims()[1..]
                ),
            });
        }
        Ok(Mnist {
            train_images,
            train_labels,
            test_images,
            test_labels,
        })
    }

    /// Loads one split as `(images, labels)`, checking that the two files hold
    /// the same number of samples and that every label is a class in `0..=9`
    /// (the error names the labels file and the first offending index).
    pub fn load_split(dir: impl AsRef<Path>, split: MnistSplit, layout: ImageLayout) -> Result<(Tensor, Tensor)> {
        let dir = dir.as_ref();
        let p = split.prefix();
        let images_path = find(
            dir,
            &format!("{p}-images-idx3-ubyte"),
            &format!("{p}-images.idx3-ubyte"),
        )?;
        let labels_path = find(
            dir,
            &format!("{p}-labels-idx1-ubyte"),
            &format!("{p}-labels.idx1-ubyte"),
        )?;
        let images = IdxArray::read(&images_path)?;
        let labels = IdxArray::read(&labels_path)?;
        let (img_name, lab_name) = (images_path.display().to_string(), labels_path.display().to_string());
        let (Some(pixels), 3) = (images.as_u8(), images.dims().len()) else {
            return Err(Error::Format {
                path: img_name,
                msg: format!(
                    "expected u8 images of rank 3 (count, rows, cols), found {} data with dims {:?}",
                    images.elem_type().name(),
                    images.dims()
                ),
            });
        };
        if labels.elem_type() != IdxType::U8 || labels.dims().len() != 1 {
            return Err(Error::Format {
                path: lab_name,
                msg: format!(
                    "expected u8 labels of rank 1 (count), found {} data with dims {:?}",
                    labels.elem_type().name(),
                    labels.dims()
                ),
            });
        }
        let (n, rows, cols) = (images.dims()[0], images.dims()[1], images.dims()[2]);
        if labels.dims()[0] != n {
            return Err(Error::Format {
                path: lab_name,
                msg: format!("holds {} labels but {img_name} holds {n} images", labels.dims()[0]),
            });
        }
        // A label past 9 would only fail much later, inside a loss or a
        // one-hot encoding, far from the file that holds it.
        let bad = labels.as_u8().and_then(|v| v.iter().enumerate().find(|(_, l)| **l > 9));
        if let Some((i, l)) = bad {
            return Err(Error::Format {
                path: lab_name,
                msg: format!("label {l} at index {i} is not a class in 0..=9"),
            });
        }
        let cpu = Device::cpu();
        let x: Vec<f32> = pixels.iter().map(|&b| b as f32 / 255.0).collect();
        let x = match layout {
            ImageLayout::Nchw => Tensor::from_vec(x, (n, 1, rows, cols), &cpu)?,
            ImageLayout::Flat => Tensor::from_vec(x, (n, rows * cols), &cpu)?,
        };
        let y = labels.to_tensor(crate::DType::I64, &cpu)?;
        Ok((x, y))
    }

    /// The training split as a [`Dataset`].
    pub fn train_dataset(&self) -> Result<Dataset> {
        Dataset::new(self.train_images.clone(), self.train_labels.clone())
    }

    /// The test split as a [`Dataset`].
    pub fn test_dataset(&self) -> Result<Dataset> {
        Dataset::new(self.test_images.clone(), self.test_labels.clone())
    }
}

/// The first of `stem`, `stem.gz`, `alt`, `alt.gz` that exists in `dir`.
fn find(dir: &Path, stem: &str, alt: &str) -> Result<PathBuf> {
    let candidates = [
        stem.to_string(),
        format!("{stem}.gz"),
        alt.to_string(),
        format!("{alt}.gz"),
    ];
    candidates
        .iter()
        .map(|c| dir.join(c))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            Error::io(
                format!(
                    "MNIST: none of {} found in directory {}",
                    candidates.join(", "),
                    dir.display()
                ),
                std::io::Error::from(std::io::ErrorKind::NotFound),
            )
        })
}
