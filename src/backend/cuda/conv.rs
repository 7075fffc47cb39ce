//! Patch extraction for convolution and pooling, and its adjoint (kernels/conv.cu).

use super::launch::{Arg, ConvGeom, launch, sfx};
use super::storage::CudaStorage;
use crate::Result;
use crate::backend::{BackendStorage, Im2ColSpec};

/// The kernels' geometry; `ph`/`pw` are the top/left paddings (the bottom and
/// right ones only set `oh`/`ow`). Call after [`Im2ColSpec::validate`].
fn geometry(s: &Im2ColSpec) -> ConvGeom {
    ConvGeom {
        n: s.n as u64,
        c: s.c as u64,
        h: s.h as u64,
        w: s.w as u64,
        kh: s.kh as u64,
        kw: s.kw as u64,
        sh: s.stride.0 as u64,
        sw: s.stride.1 as u64,
        ph: s.pad_top as u64,
        pw: s.pad_left as u64,
        oh: s.out_h() as u64,
        ow: s.out_w() as u64,
        dh: s.dilation.0 as u64,
        dw: s.dilation.1 as u64,
    }
}

pub(crate) fn im2col(x: &CudaStorage, s: &Im2ColSpec, pad_value: f64) -> Result<CudaStorage> {
    let op = "im2col";
    x.require_float(op)?;
    s.validate(op)?;
    // validate checked both products.
    x.expect_len(s.n * s.c * s.h * s.w, op)?;
    let n = s.n * s.c * s.kh * s.kw * s.out_h() * s.out_w();
    let dev = x.dev();
    let out = CudaStorage::uninit(dev, n, x.dtype())?;
    let g = geometry(s);
    let args: [&dyn Arg; 4] = [&out.ptr(), &x.ptr(), &g, &pad_value];
    launch(dev, "conv", &format!("im2col_{}", sfx(x.dtype())), n, &args)?;
    Ok(out)
}

pub(crate) fn col2im(cols: &CudaStorage, s: &Im2ColSpec) -> Result<CudaStorage> {
    let op = "col2im";
    cols.require_float(op)?;
    s.validate(op)?;
    // validate checked both products.
    cols.expect_len(s.n * s.c * s.kh * s.kw * s.out_h() * s.out_w(), op)?;
    let n = s.n * s.c * s.h * s.w;
    let dev = cols.dev();
    let out = CudaStorage::uninit(dev, n, cols.dtype())?;
    let g = geometry(s);
    let args: [&dyn Arg; 3] = [&out.ptr(), &cols.ptr(), &g];
    launch(dev, "conv", &format!("col2im_{}", sfx(cols.dtype())), n, &args)?;
    Ok(out)
}
