//! Helpers for class labels (`I64` tensors): counts, class number, one-hot.

use crate::{DType, Error, Result, Tensor};

/// Reads labels after checking that they are `I64` and in `0..limit` (when given).
fn label_values(labels: &Tensor, op: &'static str, limit: Option<usize>) -> Result<Vec<i64>> {
    if !labels.dtype().is_index() {
        return Err(Error::invalid(
            op,
            format!("class labels must have dtype i64 or i32, got {}", labels.dtype()),
        ));
    }
    let v = labels.to_vec::<i64>()?;
    let bad = v
        .iter()
        .enumerate()
        .find(|(_, c)| **c < 0 || limit.is_some_and(|l| **c as u64 >= l as u64));
    if let Some((i, c)) = bad {
        let range = limit.map_or("0 or more".to_string(), |l| format!("in 0..{l}"));
        return Err(Error::invalid(
            op,
            format!("label {c} at position {i} is not a class index {range}"),
        ));
    }
    Ok(v)
}

/// The number of classes implied by labels: the largest label plus one (0 when empty).
pub fn num_classes(labels: &Tensor) -> Result<usize> {
    let v = label_values(labels, "num_classes", None)?;
    Ok(v.iter().max().map_or(0, |&m| m as usize + 1))
}

/// How many samples each class `0..num_classes` has.
///
/// ```
/// use neurite::{data::class_counts, Device, Tensor};
/// let y = Tensor::from_vec(vec![2i64, 0, 2], 3, &Device::cpu()).unwrap();
/// assert_eq!(class_counts(&y, 4).unwrap(), vec![1, 0, 2, 0]);
/// ```
pub fn class_counts(labels: &Tensor, num_classes: usize) -> Result<Vec<usize>> {
    let v = label_values(labels, "class_counts", Some(num_classes))?;
    let mut counts = vec![0; num_classes];
    v.iter().for_each(|&c| counts[c as usize] += 1);
    Ok(counts)
}

/// One-hot `F32` rows `(..., num_classes)` for `I64` labels, after checking
/// every label is in `0..num_classes` (the error names the first that is not).
///
/// ```
/// use neurite::{data::one_hot, Device, Tensor};
/// let y = Tensor::from_vec(vec![1i64, 0], 2, &Device::cpu()).unwrap();
/// assert_eq!(one_hot(&y, 3).unwrap().to_vec2::<f32>().unwrap(), vec![vec![0., 1., 0.], vec![1., 0., 0.]]);
/// ```
pub fn one_hot(labels: &Tensor, num_classes: usize) -> Result<Tensor> {
    label_values(labels, "one_hot", Some(num_classes))?;
    labels.one_hot(num_classes, DType::F32)
}
