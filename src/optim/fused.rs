//! The optimizers' fused host path: one pass per parameter over the
//! parameter, its gradient and its state, written in place (PyTorch's
//! `fused=True`). Each function returns `false`, having changed nothing, when
//! the tensors are not all host f32 or all host f64 buffers (or two of them
//! share a buffer); the caller then takes the tensor-op path, which works on
//! every device and dtype.

use crate::Tensor;
use crate::backend::cpu::fused_update::{self, AdamStep, SgdStep};

/// True when no two of `tensors` read the same buffer (each is locked once).
fn distinct(tensors: &[&Tensor]) -> bool {
    tensors
        .iter()
        .enumerate()
        .all(|(i, a)| tensors[i + 1..].iter().all(|b| !a.shares_storage(b)))
}

/// One fused SGD step of `p` (see [`fused_update::sgd_storage`]).
pub(crate) fn sgd(p: &Tensor, g: &Tensor, buf: Option<&Tensor>, c: &SgdStep) -> bool {
    let all: Vec<&Tensor> = [Some(p), Some(g), buf].into_iter().flatten().collect();
    if !distinct(&all) {
        return false;
    }
    let grad = g.storage();
    let mut param = p.storage_mut();
    let mut state = buf.map(Tensor::storage_mut);
    fused_update::sgd_storage(&mut param, &grad, state.as_deref_mut(), c)
}

/// One fused Adam/AdamW step of `p` (see [`fused_update::adam_storage`]).
pub(crate) fn adam(p: &Tensor, g: &Tensor, m: &Tensor, v: &Tensor, vmax: Option<&Tensor>, c: &AdamStep) -> bool {
    let all: Vec<&Tensor> = [Some(p), Some(g), Some(m), Some(v), vmax]
        .into_iter()
        .flatten()
        .collect();
    if !distinct(&all) {
        return false;
    }
    let grad = g.storage();
    let mut param = p.storage_mut();
    let (mut m, mut v) = (m.storage_mut(), v.storage_mut());
    let mut vmax = vmax.map(Tensor::storage_mut);
    fused_update::adam_storage(&mut param, &grad, &mut m, &mut v, vmax.as_deref_mut(), c)
}
