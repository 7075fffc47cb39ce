//! Element-wise maps, broadcasting binary ops and the mask select
//! (kernels/unary.cu and kernels/binary.cu).

use super::launch::{Arg, BinaryArg, MAX_DIMS, bytes_sfx, for_each_leading, launch, sfx};
use super::storage::CudaStorage;
use crate::backend::{BackendStorage, BinaryLayout, BinaryOp, CmpOp, UnaryOp};
use crate::{DType, Error, Result};

/// Offset of the comparison codes in unary.cu's `UnaryCode` (U_CMP_EQ).
const UNARY_CMP_BASE: i32 = 17;
/// Offset of the comparison codes in binary.cu's `BinaryCode` (B_EQ).
const BINARY_CMP_BASE: i32 = 6;

fn cmp_index(c: CmpOp) -> i32 {
    match c {
        CmpOp::Eq => 0,
        CmpOp::Ne => 1,
        CmpOp::Lt => 2,
        CmpOp::Le => 3,
        CmpOp::Gt => 4,
        CmpOp::Ge => 5,
    }
}

/// The kernel's op code and its two parameters.
fn unary_code(op: UnaryOp) -> (i32, f64, f64) {
    match op {
        UnaryOp::Neg => (0, 0.0, 0.0),
        UnaryOp::Exp => (1, 0.0, 0.0),
        UnaryOp::Log => (2, 0.0, 0.0),
        UnaryOp::Sqrt => (3, 0.0, 0.0),
        UnaryOp::Abs => (4, 0.0, 0.0),
        UnaryOp::Sign => (5, 0.0, 0.0),
        UnaryOp::Recip => (6, 0.0, 0.0),
        UnaryOp::Sqr => (7, 0.0, 0.0),
        UnaryOp::Relu => (8, 0.0, 0.0),
        UnaryOp::Sigmoid => (9, 0.0, 0.0),
        UnaryOp::Tanh => (10, 0.0, 0.0),
        UnaryOp::Gelu => (11, 0.0, 0.0),
        UnaryOp::GeluGrad => (12, 0.0, 0.0),
        UnaryOp::Affine { mul, add } => (13, mul, add),
        UnaryOp::Powf(p) => (14, p, 0.0),
        UnaryOp::LeakyRelu(s) => (15, s, 0.0),
        UnaryOp::Clamp { min, max } => (16, min, max),
        UnaryOp::CmpScalar(c, s) => (UNARY_CMP_BASE + cmp_index(c), s, 0.0),
        UnaryOp::Erf => (32, 0.0, 0.0),
        UnaryOp::Sin => (33, 0.0, 0.0),
        UnaryOp::Cos => (34, 0.0, 0.0),
        UnaryOp::Silu => (35, 0.0, 0.0),
        UnaryOp::SiluGrad => (36, 0.0, 0.0),
        UnaryOp::GeluTanh => (37, 0.0, 0.0),
        UnaryOp::GeluTanhGrad => (38, 0.0, 0.0),
    }
}

pub(crate) fn unary(x: &CudaStorage, op: UnaryOp) -> Result<CudaStorage> {
    let dev = x.dev();
    let n = x.len() as u64;
    let (code, p0, p1) = unary_code(op);
    if let UnaryOp::CmpScalar(..) = op {
        // Every dtype compares (in f64, as on the CPU) into a bool mask.
        let out = CudaStorage::uninit(dev, x.len(), DType::Bool)?;
        let name = format!("cmp_scalar_{}", sfx(x.dtype()));
        launch(dev, "unary", &name, x.len(), &[&out.ptr(), &x.ptr(), &n, &code, &p0])?;
        return Ok(out);
    }
    if x.dtype().is_int() {
        // The integer maps (unary.cu `apply_unary_int`), as on the CPU.
        let (lo, hi) = match op {
            UnaryOp::Clamp { min, max } => crate::backend::cpu::int::clamp_bounds(x.dtype(), min, max),
            UnaryOp::Neg | UnaryOp::Abs | UnaryOp::Sign | UnaryOp::Sqr | UnaryOp::Relu => (0, 0),
            _ => return Err(crate::backend::cpu::not_float("unary", x.dtype())),
        };
        let out = CudaStorage::uninit(dev, x.len(), x.dtype())?;
        let name = format!("unary_{}", sfx(x.dtype()));
        launch(
            dev,
            "unary",
            &name,
            x.len(),
            &[&out.ptr(), &x.ptr(), &n, &code, &lo, &hi],
        )?;
        return Ok(out);
    }
    x.require_float("unary")?;
    let out = CudaStorage::uninit(dev, x.len(), x.dtype())?;
    {
        let name = format!("unary_{}", sfx(x.dtype()));
        launch(
            dev,
            "unary",
            &name,
            x.len(),
            &[&out.ptr(), &x.ptr(), &n, &code, &p0, &p1],
        )?;
    }
    Ok(out)
}

fn binary_code(op: BinaryOp) -> i32 {
    match op {
        BinaryOp::Add => 0,
        BinaryOp::Sub => 1,
        BinaryOp::Mul => 2,
        BinaryOp::Div => 3,
        BinaryOp::Maximum => 4,
        BinaryOp::Minimum => 5,
        BinaryOp::Cmp(c) => BINARY_CMP_BASE + cmp_index(c),
        BinaryOp::Pow => 32,
        BinaryOp::FloorDivide => 12,
        BinaryOp::Remainder => 13,
    }
}

/// Checks that every element the layout reads lies inside the operand.
fn check_reach(len: usize, dims: &[usize], strides: &[usize], op: &'static str) -> Result<()> {
    if dims.contains(&0) {
        return Ok(());
    }
    let last: usize = dims.iter().zip(strides).map(|(&d, &s)| (d - 1) * s).sum();
    if last < len {
        Ok(())
    } else {
        Err(Error::invalid(
            op,
            format!("layout dims {dims:?} strides {strides:?} read element {last} of a buffer of {len}"),
        ))
    }
}

pub(crate) fn binary(a: &CudaStorage, b: &CudaStorage, op: BinaryOp, l: &BinaryLayout) -> Result<CudaStorage> {
    let name = "binary";
    a.same_device(b, name)?;
    a.same_dtype(b, name)?;
    let cmp = matches!(op, BinaryOp::Cmp(_));
    if a.dtype().is_int() && op == BinaryOp::Div {
        return Err(crate::Error::UnsupportedDType {
            op: "div",
            dtype: a.dtype(),
            hint: " (true division of integers is computed in float: the tensor op casts first)",
        });
    }
    if !cmp && !a.dtype().is_int() {
        a.require_float(name)?;
    }
    // Comparisons run for every dtype and write a bool mask.
    let kernel = if cmp {
        format!("cmp_{}", sfx(a.dtype()))
    } else {
        format!("binary_{}", sfx(a.dtype()))
    };
    if l.lhs_strides.len() != l.dims.len() || l.rhs_strides.len() != l.dims.len() {
        return Err(Error::invalid(name, format!("malformed layout {l:?}")));
    }
    // A rank-0 layout is one element read at offset 0 of each operand.
    let scalar = BinaryLayout {
        dims: vec![1],
        lhs_strides: vec![0],
        rhs_strides: vec![0],
    };
    let l = if l.dims.is_empty() { &scalar } else { l };
    let rank = l.dims.len();
    check_reach(a.len(), &l.dims, &l.lhs_strides, name)?;
    check_reach(b.len(), &l.dims, &l.rhs_strides, name)?;
    let n = l.elem_count();
    let dev = a.dev();
    let out = CudaStorage::uninit(dev, n, if cmp { DType::Bool } else { a.dtype() })?;
    let code = binary_code(op);
    // Ranks above MAX_DIMS: one launch per index of the leading dims.
    let tail = rank.saturating_sub(MAX_DIMS);
    let per_launch: usize = l.dims[tail..].iter().product();
    let mut arg = BinaryArg {
        rank: (rank - tail) as u32,
        ..Default::default()
    };
    for (i, d) in (tail..rank).enumerate() {
        arg.dims[i] = l.dims[d] as u64;
        arg.lhs[i] = l.lhs_strides[d] as u64;
        arg.rhs[i] = l.rhs_strides[d] as u64;
    }
    for_each_leading(&l.dims, |i, lead| {
        let lo: usize = lead.iter().zip(&l.lhs_strides).map(|(&k, &s)| k * s).sum();
        let ro: usize = lead.iter().zip(&l.rhs_strides).map(|(&k, &s)| k * s).sum();
        let args: [&dyn Arg; 6] = [
            &out.ptr_at(i * per_launch),
            &a.ptr_at(lo),
            &b.ptr_at(ro),
            &(per_launch as u64),
            &arg,
            &code,
        ];
        launch(dev, "binary", &kernel, per_launch, &args)
    })?;
    Ok(out)
}

/// The bits of a mask element that make it nonzero (floats ignore the sign bit).
fn magnitude_mask(dtype: DType) -> u64 {
    match dtype {
        DType::F16 | DType::BF16 => 0x7fff,
        DType::F32 => 0x7fff_ffff,
        DType::F64 => 0x7fff_ffff_ffff_ffff,
        DType::Bool | DType::U8 | DType::I8 => 0xff,
        DType::I32 => 0xffff_ffff,
        DType::I64 => u64::MAX,
    }
}

pub(crate) fn where_cond(mask: &CudaStorage, t: &CudaStorage, f: &CudaStorage) -> Result<CudaStorage> {
    let op = "where_cond";
    mask.same_device(t, op)?;
    mask.same_device(f, op)?;
    t.same_dtype(f, op)?;
    t.expect_len(mask.len(), op)?;
    f.expect_len(mask.len(), op)?;
    let dev = mask.dev();
    let out = CudaStorage::uninit(dev, mask.len(), t.dtype())?;
    let mask_sfx = match mask.dtype().size_in_bytes() {
        1 => "m1",
        2 => "m2",
        4 => "m4",
        _ => "m8",
    };
    let name = format!("where_{mask_sfx}_{}", bytes_sfx(t.dtype()));
    let args: [&dyn Arg; 6] = [
        &out.ptr(),
        &mask.ptr(),
        &t.ptr(),
        &f.ptr(),
        &(mask.len() as u64),
        &magnitude_mask(mask.dtype()),
    ];
    launch(dev, "binary", &name, mask.len(), &args)?;
    Ok(out)
}
