//! Optimizer updates fused into one pass over each parameter, written in
//! place: PyTorch's `fused=True` path. The tensor-op form of the same update
//! reads and writes every parameter-sized buffer four to eight times and
//! allocates as many temporaries; these loops touch each element once.
//!
//! The arithmetic is the tensor-op form's, step for step (same operations,
//! same order, scalars rounded to the element type first), so both paths give
//! the same values.

use super::CpuStorage;
use super::float::CpuFloat;
use super::parallel::{PAR_CHUNK, PAR_MIN_ELEMS};
use crate::backend::{BackendStorage, Storage};
use rayon::prelude::*;

/// The buffer of `s` when it is a host `T` buffer of `len` elements.
trait HostFloat: CpuFloat {
    fn of(s: &Storage, len: usize) -> Option<&[Self]>;
    fn of_mut(s: &mut Storage, len: usize) -> Option<&mut [Self]>;
}

macro_rules! host_float {
    ($t:ty, $variant:ident) => {
        impl HostFloat for $t {
            fn of(s: &Storage, len: usize) -> Option<&[Self]> {
                match s {
                    Storage::Cpu(CpuStorage::$variant(v)) if v.len() == len => Some(v),
                    _ => None,
                }
            }
            fn of_mut(s: &mut Storage, len: usize) -> Option<&mut [Self]> {
                match s {
                    Storage::Cpu(CpuStorage::$variant(v)) if v.len() == len => Some(v),
                    _ => None,
                }
            }
        }
    };
}
host_float!(f32, F32);
host_float!(f64, F64);

/// `d += alpha * s` over matching chunks, in parallel when large.
fn axpy<T: Copy + Send + Sync>(d: &mut [T], s: &[T], f: impl Fn(T, T) -> T + Sync) {
    let chunk = if d.len() >= PAR_MIN_ELEMS {
        PAR_CHUNK
    } else {
        d.len().max(1)
    };
    d.par_chunks_mut(chunk).zip(s.par_chunks(chunk)).for_each(|(d, s)| {
        for (d, &s) in d.iter_mut().zip(s) {
            *d = f(*d, s);
        }
    });
}

impl CpuStorage {
    /// `self += alpha * src` element by element, in place, computed in the
    /// element type (`f32` for the 16-bit ones, rounded once, as PyTorch's
    /// `add_(src, alpha=alpha)`). Float buffers of one dtype and length only.
    pub(crate) fn add_scaled_in_place(&mut self, src: &CpuStorage, alpha: f64) -> crate::Result<()> {
        let (a32, a64) = (alpha as f32, alpha);
        match (self, src) {
            (CpuStorage::F32(d), CpuStorage::F32(s)) if d.len() == s.len() => axpy::<f32>(d, s, |d, s| d + s * a32),
            (CpuStorage::F64(d), CpuStorage::F64(s)) if d.len() == s.len() => axpy::<f64>(d, s, |d, s| d + s * a64),
            (CpuStorage::F16(d), CpuStorage::F16(s)) if d.len() == s.len() => {
                axpy::<half::f16>(d, s, |d, s| half::f16::from_f32(d.to_f32() + s.to_f32() * a32))
            }
            (CpuStorage::BF16(d), CpuStorage::BF16(s)) if d.len() == s.len() => {
                axpy::<half::bf16>(d, s, |d, s| half::bf16::from_f32(d.to_f32() + s.to_f32() * a32))
            }
            (d, s) => {
                return Err(crate::Error::invalid(
                    "add_scaled_",
                    format!(
                        "internal: expected two float buffers of one dtype and length, got {} ({}) and {} ({})",
                        d.dtype(),
                        d.len(),
                        s.dtype(),
                        s.len()
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// [`sgd`] on storages; `false` (nothing written) unless all are host f32 or
/// all host f64 buffers of one length: other dtypes and devices take the
/// tensor-op path.
pub(crate) fn sgd_storage(p: &mut Storage, g: &Storage, buf: Option<&mut Storage>, c: &SgdStep) -> bool {
    fn run<T: HostFloat>(p: &mut Storage, g: &Storage, buf: Option<&mut Storage>, c: &SgdStep) -> bool {
        let n = p.len();
        let (Some(p), Some(g)) = (T::of_mut(p, n), T::of(g, n)) else {
            return false;
        };
        match buf {
            None => sgd(p, g, None, c),
            Some(b) => match T::of_mut(b, n) {
                Some(b) => sgd(p, g, Some(b), c),
                None => return false,
            },
        }
        true
    }
    match p.dtype() {
        crate::DType::F32 => run::<f32>(p, g, buf, c),
        crate::DType::F64 => run::<f64>(p, g, buf, c),
        _ => false,
    }
}

/// [`adam`] on storages; `false` (nothing written) unless all are host f32
/// or all host f64 buffers of one length.
pub(crate) fn adam_storage(
    p: &mut Storage,
    g: &Storage,
    m: &mut Storage,
    v: &mut Storage,
    vmax: Option<&mut Storage>,
    c: &AdamStep,
) -> bool {
    fn run<T: HostFloat>(
        p: &mut Storage,
        g: &Storage,
        m: &mut Storage,
        v: &mut Storage,
        vmax: Option<&mut Storage>,
        c: &AdamStep,
    ) -> bool {
        let n = p.len();
        let (Some(p), Some(g), Some(m), Some(v)) = (T::of_mut(p, n), T::of(g, n), T::of_mut(m, n), T::of_mut(v, n))
        else {
            return false;
        };
        match vmax {
            None => adam(p, g, m, v, None, c),
            Some(x) => match T::of_mut(x, n) {
                Some(x) => adam(p, g, m, v, Some(x), c),
                None => return false,
            },
        }
        true
    }
    match p.dtype() {
        crate::DType::F32 => run::<f32>(p, g, m, v, vmax, c),
        crate::DType::F64 => run::<f64>(p, g, m, v, vmax, c),
        _ => false,
    }
}

/// The SGD hyperparameters one update needs (see `optim::SgdConfig`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SgdStep {
    pub lr: f64,
    pub momentum: f64,
    pub dampening: f64,
    pub weight_decay: f64,
    pub nesterov: bool,
    /// The momentum buffer holds nothing yet: it starts as the gradient.
    pub first: bool,
}

/// The Adam/AdamW quantities of one update (see `optim::AdamConfig`), with
/// the bias corrections already computed in `f64` as PyTorch does.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AdamStep {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    /// AdamW: decay the parameter, not the gradient.
    pub decoupled: bool,
    /// `lr / (1 - beta1^t)`.
    pub step_size: f64,
    /// `sqrt(1 - beta2^t)`.
    pub bias_correction2_sqrt: f64,
}

/// Runs `f` over matching chunks of the buffers, in parallel when they are large.
fn chunked<T: Send + Sync>(
    n: usize,
    p: &mut [T],
    g: &[T],
    states: Vec<&mut [T]>,
    f: impl Fn(&mut [T], &[T], &mut [&mut [T]]) + Sync,
) {
    let chunk = if n >= PAR_MIN_ELEMS { PAR_CHUNK } else { n.max(1) };
    // Each state buffer split into the same chunks as `p`, so chunk `i` of all
    // of them covers the same elements.
    let mut split: Vec<Vec<&mut [T]>> = (0..n.div_ceil(chunk)).map(|_| Vec::new()).collect();
    for s in states {
        for (i, c) in s.chunks_mut(chunk).enumerate() {
            split[i].push(c);
        }
    }
    p.par_chunks_mut(chunk)
        .zip(g.par_chunks(chunk))
        .zip(split.par_iter_mut())
        .for_each(|((p, g), s)| f(p, g, s));
}

/// One SGD step over `p` with gradient `g` and, when momentum is on, the
/// momentum buffer `buf` (all the same length).
fn sgd<T: CpuFloat>(p: &mut [T], g: &[T], buf: Option<&mut [T]>, c: &SgdStep) {
    let t = |v: f64| T::from(v).unwrap_or_else(T::nan);
    let (lr, wd, m, damp) = (t(-c.lr), t(c.weight_decay), t(c.momentum), t(1.0 - c.dampening));
    let (use_wd, first, nesterov) = (c.weight_decay != 0.0, c.first, c.nesterov);
    let n = p.len();
    let states: Vec<&mut [T]> = buf.into_iter().collect();
    let with_momentum = !states.is_empty();
    chunked(n, p, g, states, |p, g, s| {
        let grad = |p: T, g: T| if use_wd { g + p * wd } else { g };
        if with_momentum {
            for ((p, &g), b) in p.iter_mut().zip(g).zip(s[0].iter_mut()) {
                let g = grad(*p, g);
                *b = if first { g } else { *b * m + g * damp };
                let d = if nesterov { g + *b * m } else { *b };
                *p += d * lr;
            }
        } else {
            for (p, &g) in p.iter_mut().zip(g) {
                *p = *p + grad(*p, g) * lr;
            }
        }
    });
}

/// One Adam/AdamW step over `p` with gradient `g`, moments `m` and `v`, and
/// the running maximum of `v` when AMSGrad is on (all the same length).
fn adam<T: CpuFloat>(p: &mut [T], g: &[T], m: &mut [T], v: &mut [T], vmax: Option<&mut [T]>, c: &AdamStep) {
    let t = |v: f64| T::from(v).unwrap_or_else(T::nan);
    // `lerp`'s weight is rounded to the element type before it picks a branch.
    let w = t(1.0 - c.beta1);
    let w64 = num_traits::ToPrimitive::to_f64(&w).unwrap_or(f64::NAN);
    let (from_start, w_end) = (w64.abs() < 0.5, t(1.0 - w64));
    let (beta2, one_minus_beta2) = (t(c.beta2), t(1.0 - c.beta2));
    let (wd, decay) = (t(c.weight_decay), t(1.0 - c.lr * c.weight_decay));
    let (inv_bc2, eps, neg_step) = (t(1.0 / c.bias_correction2_sqrt), t(c.eps), t(-c.step_size));
    let (use_wd, decoupled) = (c.weight_decay != 0.0, c.decoupled);
    let n = p.len();
    let mut states: Vec<&mut [T]> = vec![m, v];
    let amsgrad = vmax.is_some();
    states.extend(vmax);
    chunked(n, p, g, states, |p, g, s| {
        let (ms, rest) = s.split_at_mut(1);
        let (vs, maxes) = rest.split_at_mut(1);
        let (ms, vs) = (&mut *ms[0], &mut *vs[0]);
        for i in 0..p.len() {
            let (mut param, mut grad) = (p[i], g[i]);
            if use_wd {
                if decoupled {
                    param = param * decay;
                } else {
                    grad += param * wd;
                }
            }
            let diff = grad - ms[i];
            ms[i] = if from_start {
                ms[i] + diff * w
            } else {
                grad - diff * w_end
            };
            vs[i] = vs[i] * beta2 + grad * one_minus_beta2 * grad;
            let second = if amsgrad {
                let prev = maxes[0][i];
                let top = if prev >= vs[i] || prev.is_nan() { prev } else { vs[i] };
                maxes[0][i] = top;
                top
            } else {
                vs[i]
            };
            let denom = second.sqrt() * inv_bc2 + eps;
            p[i] = param + ms[i] * neg_step / denom;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small and large (parallel, several chunks with a ragged last one)
    /// buffers give the element-by-element answer.
    #[test]
    fn sgd_with_momentum_matches_the_formula() {
        for n in [0usize, 1, 7, PAR_MIN_ELEMS + 3 * PAR_CHUNK + 5] {
            let p0: Vec<f64> = (0..n).map(|i| (i % 13) as f64 - 6.0).collect();
            let g: Vec<f64> = (0..n).map(|i| (i % 7) as f64 * 0.5 - 1.0).collect();
            let b0: Vec<f64> = (0..n).map(|i| (i % 5) as f64).collect();
            let (mut p, mut b) = (p0.clone(), b0.clone());
            let c = SgdStep {
                lr: 0.1,
                momentum: 0.9,
                dampening: 0.25,
                weight_decay: 0.01,
                nesterov: false,
                first: false,
            };
            sgd(&mut p, &g, Some(&mut b), &c);
            for i in 0..n {
                let gi = g[i] + p0[i] * 0.01;
                let bi = b0[i] * 0.9 + gi * 0.75;
                assert_eq!(b[i], bi, "{n} {i}");
                assert_eq!(p[i], p0[i] + bi * -0.1, "{n} {i}");
            }
        }
    }

    #[test]
    fn adam_first_step_moves_by_lr() {
        let mut p = vec![1.0f32, -2.0, 0.5];
        let g = [0.3f32, -4.0, 1e-3];
        let (mut m, mut v, mut vmax) = (vec![0.0; 3], vec![0.0; 3], vec![0.0; 3]);
        let c = AdamStep {
            lr: 0.1,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
            step_size: 0.1 / (1.0 - 0.9),
            bias_correction2_sqrt: (1.0f64 - 0.999).sqrt(),
        };
        adam(&mut p, &g, &mut m, &mut v, Some(&mut vmax), &c);
        for (got, want) in p.iter().zip([0.9f32, -1.9, 0.4]) {
            assert!((got - want).abs() < 1e-5, "{got} {want}");
        }
        assert_eq!(v, vmax);
    }
}
