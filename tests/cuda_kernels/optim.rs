//! kernels/optim.cu against PyTorch's update formulas (the ones optim.rs
//! documents) evaluated in f64, three steps each, with the reference restarted
//! from the kernel's state before every step so that each comparison covers one
//! step. Arguments are built as src/backend/cuda/optim.rs builds them (bias
//! corrections on the host in f64, null pointers for unused state).
//!
//! Tolerance, per element of every buffer written: a first-order bound on the
//! rounding error of the kernel's operations in its compute type (eps of f32 for
//! f32/f16/bf16, of f64 for f64), propagated through the formula: each operation
//! contributes K = 8 eps times the magnitude of its operands (so that the
//! cancellation in `g + wd * p` or `sq - ga^2` is covered), and errors of inputs
//! carry through with their derivatives. For f16 and bf16 add one ulp of the
//! stored value (2^-10 or 2^-7 relative, and f16's smallest subnormal).

use crate::{Rng, grid_for, launch, sfx, sptr_mut, storage};
use neurite::DType;
use neurite::backend::CpuStorage;

const FLOATS: [DType; 4] = [DType::F32, DType::F64, DType::F16, DType::BF16];
const N: usize = 1000;

fn widen(s: &CpuStorage) -> Vec<f64> {
    s.to_vec::<f64>().unwrap()
}

/// Rounding-error multiplier per operation (in units of the compute type's eps).
const K: f64 = 8.0;

fn eps_of(dtype: DType) -> f64 {
    if dtype == DType::F64 {
        f64::EPSILON
    } else {
        f32::EPSILON as f64
    }
}

/// Error bound of a square root of `w` known to within `w_err`.
fn sqrt_err(w: f64, w_err: f64) -> f64 {
    if w > 0.0 {
        (w_err / (2.0 * w.sqrt())).min(w_err.sqrt())
    } else {
        w_err.sqrt()
    }
}

#[track_caller]
fn check(dtype: DType, what: &str, old: &[f64], got: &[f64], want: &[f64], err: &[f64]) {
    for i in 0..got.len() {
        let tol = err[i]
            + match dtype {
                DType::F16 => want[i].abs() * 2f64.powi(-10) + 2f64.powi(-24),
                DType::BF16 => want[i].abs() * 2f64.powi(-7),
                _ => 0.0,
            };
        assert!(
            (got[i] - want[i]).abs() <= tol,
            "{what} {dtype} element {i}: kernel {}, f64 formula {}, old {}, tolerance {tol}",
            got[i],
            want[i],
            old[i]
        );
    }
}

fn lerp(start: f64, end: f64, w: f64) -> f64 {
    start + w * (end - start)
}

#[test]
fn sgd_matches_the_f64_formula() {
    if !crate::ready() {
        return;
    }
    // (lr, momentum, dampening, weight_decay, nesterov)
    let configs = [
        (0.1, 0.0, 0.0, 0.0, false),
        (0.1, 0.0, 0.0, 0.05, false),
        (0.05, 0.9, 0.0, 1e-2, true),
        (0.1, 0.9, 0.1, 0.0, false),
    ];
    for dtype in FLOATS {
        for &(lr, momentum, dampening, wd, nesterov) in &configs {
            let mut rng = Rng(0x56d);
            let mut p = storage(dtype, &(0..N).map(|_| rng.uniform(-1.0, 1.0)).collect::<Vec<_>>());
            let mut buf = storage(dtype, &vec![0.0; N]);
            for step in 0..3 {
                let g = storage(dtype, &(0..N).map(|_| rng.uniform(-1.0, 1.0)).collect::<Vec<_>>());
                let (p0, g0, b0) = (widen(&p), widen(&g), widen(&buf));
                let first = (step == 0) as i32;
                let bp = if momentum != 0.0 { sptr_mut(&mut buf) } else { 0 };
                let (pp, gp, n, nest) = (sptr_mut(&mut p), crate::sptr(&g), N as u64, nesterov as i32);
                // SAFETY: sgd_<T>(T* p, const T* g, T* buf, u64 n, double lr, double momentum,
                // double dampening, double wd, int nesterov, int first): p, g and buf hold N
                // elements (buf is null and unread without momentum); all live.
                unsafe {
                    launch(
                        &format!("sgd_{}", sfx(dtype)),
                        grid_for(N, 2),
                        &[&pp, &gp, &bp, &n, &lr, &momentum, &dampening, &wd, &nest, &first],
                        false,
                    )
                };
                let e = eps_of(dtype);
                let (mut wp, mut wb, mut ep, mut eb) = (p0.clone(), b0.clone(), vec![0.0; N], vec![0.0; N]);
                for i in 0..N {
                    let mut d = g0[i] + wd * p0[i];
                    let mut d_err = K * e * (g0[i].abs() + (wd * p0[i]).abs());
                    if momentum != 0.0 {
                        if step == 0 {
                            wb[i] = d;
                            eb[i] = d_err;
                        } else {
                            wb[i] = momentum * b0[i] + (1.0 - dampening) * d;
                            eb[i] = K * e * (momentum * b0[i].abs() + (1.0 - dampening) * d.abs())
                                + (1.0 - dampening) * d_err;
                        }
                        if nesterov {
                            d_err += momentum * eb[i] + K * e * (d.abs() + (momentum * wb[i]).abs());
                            d += momentum * wb[i];
                        } else {
                            d = wb[i];
                            d_err = eb[i];
                        }
                    }
                    wp[i] = p0[i] - lr * d;
                    ep[i] = K * e * (p0[i].abs() + (lr * d).abs()) + lr * d_err;
                }
                let what = format!(
                    "sgd lr {lr} momentum {momentum} dampening {dampening} wd {wd} nesterov {nesterov} step {step}"
                );
                check(dtype, &format!("{what}: p"), &p0, &widen(&p), &wp, &ep);
                if momentum != 0.0 {
                    check(dtype, &format!("{what}: buf"), &b0, &widen(&buf), &wb, &eb);
                }
            }
        }
    }
}

#[test]
fn adam_and_adamw_match_the_f64_formula() {
    if !crate::ready() {
        return;
    }
    // (lr, beta1, beta2, eps, weight_decay, decoupled (AdamW), amsgrad)
    let configs: [(f64, f64, f64, f64, f64, bool, bool); 4] = [
        (1e-3, 0.9, 0.999, 1e-8, 0.0, false, false),
        (1e-3, 0.9, 0.999, 1e-8, 1e-2, false, true),
        (1e-3, 0.9, 0.99, 1e-6, 0.1, true, false),
        (2e-3, 0.8, 0.95, 1e-8, 0.05, true, true),
    ];
    for dtype in FLOATS {
        for &(lr, beta1, beta2, eps, wd, decoupled, amsgrad) in &configs {
            let mut rng = Rng(0xada);
            let zeros = vec![0.0; N];
            let mut p = storage(dtype, &(0..N).map(|_| rng.uniform(-1.0, 1.0)).collect::<Vec<_>>());
            let (mut m, mut v, mut vmax) = (storage(dtype, &zeros), storage(dtype, &zeros), storage(dtype, &zeros));
            for step in 1..=3u64 {
                let g = storage(dtype, &(0..N).map(|_| rng.uniform(-1.0, 1.0)).collect::<Vec<_>>());
                let (p0, g0, m0, v0, x0) = (widen(&p), widen(&g), widen(&m), widen(&v), widen(&vmax));
                // As optim.rs: `powf` of the step, in f64.
                let t = step as f64;
                let step_size = lr / (1.0 - beta1.powf(t));
                let bc2_sqrt = (1.0 - beta2.powf(t)).sqrt();
                let xp = if amsgrad { sptr_mut(&mut vmax) } else { 0 };
                let (pp, gp, mp, vp, n) = (
                    sptr_mut(&mut p),
                    crate::sptr(&g),
                    sptr_mut(&mut m),
                    sptr_mut(&mut v),
                    N as u64,
                );
                let (dec, ams) = (decoupled as i32, amsgrad as i32);
                // SAFETY: adam_<T>(p, g, m, v, vmax, u64 n, double lr, beta1, beta2, eps, wd,
                // int decoupled, double step_size, double bc2_sqrt, int amsgrad): p, g, m, v
                // (and vmax with amsgrad; null and unread otherwise) hold N elements; all live.
                unsafe {
                    launch(
                        &format!("adam_{}", sfx(dtype)),
                        grid_for(N, 3),
                        &[
                            &pp, &gp, &mp, &vp, &xp, &n, &lr, &beta1, &beta2, &eps, &wd, &dec, &step_size, &bc2_sqrt,
                            &ams,
                        ],
                        false,
                    )
                };
                let e = eps_of(dtype);
                let (mut wp, mut wm, mut wv, mut wx) = (p0.clone(), m0.clone(), v0.clone(), x0.clone());
                let (mut ep, mut em, mut ev) = (vec![0.0; N], vec![0.0; N], vec![0.0; N]);
                for i in 0..N {
                    let (mut pi, mut gi) = (p0[i], g0[i]);
                    let (mut gabs, mut pi_err) = (g0[i].abs(), 0.0);
                    if wd != 0.0 {
                        if decoupled {
                            pi *= 1.0 - lr * wd;
                            pi_err = K * e * p0[i].abs();
                        } else {
                            gi += wd * pi;
                            gabs += (wd * pi).abs();
                        }
                    }
                    let g_err = K * e * gabs;
                    wm[i] = lerp(m0[i], gi, 1.0 - beta1);
                    em[i] = K * e * (m0[i].abs() + gi.abs()) + (1.0 - beta1) * g_err;
                    wv[i] = beta2 * v0[i] + (1.0 - beta2) * gi * gi;
                    ev[i] =
                        K * e * (beta2 * v0[i] + (1.0 - beta2) * gabs * gabs) + (1.0 - beta2) * 2.0 * gi.abs() * g_err;
                    let mut second = wv[i];
                    if amsgrad {
                        second = x0[i].max(wv[i]);
                        wx[i] = second;
                    }
                    let denom = second.sqrt() / bc2_sqrt + eps;
                    let den_err = sqrt_err(second, ev[i]) / bc2_sqrt + K * e * denom;
                    let upd = step_size * wm[i] / denom;
                    let upd_err =
                        step_size * (em[i] / denom + wm[i].abs() * den_err / (denom * denom)) + K * e * upd.abs();
                    wp[i] = pi - upd;
                    ep[i] = pi_err + upd_err + K * e * (pi.abs() + upd.abs());
                }
                let what = format!(
                    "adam lr {lr} betas ({beta1}, {beta2}) wd {wd} decoupled {decoupled} amsgrad {amsgrad} step {step}"
                );
                check(dtype, &format!("{what}: p"), &p0, &widen(&p), &wp, &ep);
                check(dtype, &format!("{what}: exp_avg"), &m0, &widen(&m), &wm, &em);
                check(dtype, &format!("{what}: exp_avg_sq"), &v0, &widen(&v), &wv, &ev);
                if amsgrad {
                    check(dtype, &format!("{what}: max_exp_avg_sq"), &x0, &widen(&vmax), &wx, &ev);
                }
            }
        }
    }
}

#[test]
fn rmsprop_matches_the_f64_formula() {
    if !crate::ready() {
        return;
    }
    // (lr, alpha, eps, weight_decay, momentum, centered)
    let configs = [
        (1e-2, 0.99, 1e-8, 0.0, 0.0, false),
        (1e-2, 0.9, 1e-6, 1e-3, 0.9, true),
        (5e-3, 0.95, 1e-8, 0.0, 0.5, false),
        (1e-2, 0.99, 1e-8, 1e-2, 0.0, true),
    ];
    for dtype in FLOATS {
        for &(lr, alpha, eps, wd, momentum, centered) in &configs {
            let mut rng = Rng(0x515);
            let zeros = vec![0.0; N];
            let mut p = storage(dtype, &(0..N).map(|_| rng.uniform(-1.0, 1.0)).collect::<Vec<_>>());
            let (mut sq, mut ga, mut buf) = (storage(dtype, &zeros), storage(dtype, &zeros), storage(dtype, &zeros));
            for step in 0..3 {
                let g = storage(dtype, &(0..N).map(|_| rng.uniform(-1.0, 1.0)).collect::<Vec<_>>());
                let (p0, g0, s0, a0, b0) = (widen(&p), widen(&g), widen(&sq), widen(&ga), widen(&buf));
                let gap = if centered { sptr_mut(&mut ga) } else { 0 };
                let bp = if momentum > 0.0 { sptr_mut(&mut buf) } else { 0 };
                let (pp, gp, sp, n, cen) = (
                    sptr_mut(&mut p),
                    crate::sptr(&g),
                    sptr_mut(&mut sq),
                    N as u64,
                    centered as i32,
                );
                // SAFETY: rmsprop_<T>(p, g, sq, gavg, buf, u64 n, double lr, alpha, eps, wd,
                // momentum, int centered): p, g, sq (and gavg when centered, buf with
                // momentum; null and unread otherwise) hold N elements; all live.
                unsafe {
                    launch(
                        &format!("rmsprop_{}", sfx(dtype)),
                        grid_for(N, 3),
                        &[&pp, &gp, &sp, &gap, &bp, &n, &lr, &alpha, &eps, &wd, &momentum, &cen],
                        false,
                    )
                };
                let e = eps_of(dtype);
                let (mut wp, mut ws, mut wa, mut wb) = (p0.clone(), s0.clone(), a0.clone(), b0.clone());
                let (mut ep, mut es, mut ea, mut eb) = (vec![0.0; N], vec![0.0; N], vec![0.0; N], vec![0.0; N]);
                for i in 0..N {
                    let gi = g0[i] + wd * p0[i];
                    let gabs = g0[i].abs() + (wd * p0[i]).abs();
                    let g_err = K * e * gabs;
                    ws[i] = alpha * s0[i] + (1.0 - alpha) * gi * gi;
                    es[i] =
                        K * e * (alpha * s0[i] + (1.0 - alpha) * gabs * gabs) + (1.0 - alpha) * 2.0 * gi.abs() * g_err;
                    let (w, w_err) = if centered {
                        wa[i] = lerp(a0[i], gi, 1.0 - alpha);
                        ea[i] = K * e * (a0[i].abs() + gi.abs()) + (1.0 - alpha) * g_err;
                        let w = ws[i] - wa[i] * wa[i];
                        (w, es[i] + 2.0 * wa[i].abs() * ea[i] + K * e * (ws[i] + wa[i] * wa[i]))
                    } else {
                        (ws[i], es[i])
                    };
                    let avg = w.sqrt() + eps;
                    let avg_err = sqrt_err(w, w_err) + K * e * avg;
                    let upd = gi / avg;
                    let upd_err = g_err / avg + gi.abs() * avg_err / (avg * avg) + K * e * upd.abs();
                    if momentum > 0.0 {
                        wb[i] = momentum * b0[i] + upd;
                        eb[i] = K * e * (momentum * b0[i].abs() + upd.abs()) + upd_err;
                        wp[i] = p0[i] - lr * wb[i];
                        ep[i] = K * e * (p0[i].abs() + (lr * wb[i]).abs()) + lr * eb[i];
                    } else {
                        wp[i] = p0[i] - lr * upd;
                        ep[i] = K * e * (p0[i].abs() + (lr * upd).abs()) + lr * upd_err;
                    }
                }
                let what = format!(
                    "rmsprop lr {lr} alpha {alpha} wd {wd} momentum {momentum} centered {centered} step {step}"
                );
                check(dtype, &format!("{what}: p"), &p0, &widen(&p), &wp, &ep);
                check(dtype, &format!("{what}: square_avg"), &s0, &widen(&sq), &ws, &es);
                if centered {
                    check(dtype, &format!("{what}: grad_avg"), &a0, &widen(&ga), &wa, &ea);
                }
                if momentum > 0.0 {
                    check(dtype, &format!("{what}: momentum_buffer"), &b0, &widen(&buf), &wb, &eb);
                }
            }
        }
    }
}
