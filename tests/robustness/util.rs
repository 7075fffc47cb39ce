//! Strategies and the "never panics" harness shared by every module.

use neurite::{DType, Device, Tensor};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::cell::Cell;
use std::fmt::Debug;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

/// Sizes every op must handle exactly.
pub const SMALL: [usize; 5] = [0, 1, 2, 3, 5];
/// Sizes whose products overflow or cannot be allocated.
pub const HOSTILE: [usize; 4] = [1 << 31, 1 << 40, 1 << 62, usize::MAX];
/// Every dtype.
pub const DTYPES: [DType; 5] = [DType::F32, DType::F64, DType::F16, DType::BF16, DType::I64];
/// The float dtypes.
pub const FLOAT_DTYPES: [DType; 4] = [DType::F32, DType::F64, DType::F16, DType::BF16];
/// The most elements a generated, really allocated tensor may have.
pub const MAX_ELEMS: u128 = 4096;
/// Element counts above this are out of memory on any machine the suite runs on.
pub const HUGE_ELEMS: u128 = 1 << 40;

pub fn cpu() -> Device {
    Device::cpu()
}

/// A test configuration: `cases` cases, no regression files written into the
/// source tree, and a bounded shrink so a failure is reported quickly.
pub fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        max_shrink_iters: 256,
        ..ProptestConfig::default()
    }
}

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Installs (once) a panic hook that stays silent inside [`no_panic`], whose
/// caller reports the panic with its input, and prints as usual elsewhere
/// (assertion failures of the plain tests).
fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                default(info);
            }
        }));
    });
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_string()
    }
}

/// Runs `f`; a panic becomes a test failure naming `input` and the panic message.
pub fn no_panic<T>(input: impl Debug, f: impl FnOnce() -> T) -> Result<T, TestCaseError> {
    install_hook();
    QUIET.with(|q| q.set(true));
    let r = catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(false));
    r.map_err(|p| TestCaseError::fail(format!("panicked on {input:?}: {}", panic_message(&*p))))
}

/// [`no_panic`] for plain `#[test]`s: panics (failing the test) with the input
/// and the original message.
pub fn must_not_panic<T>(input: impl Debug, f: impl FnOnce() -> T) -> T {
    match no_panic(input, f) {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}

/// The exact element count of `dims`, without overflow.
pub fn count(dims: &[usize]) -> u128 {
    if dims.contains(&0) {
        return 0;
    }
    dims.iter().fold(1u128, |acc, &d| acc.saturating_mul(d as u128))
}

/// The product of the non-zero dims: how large the shape's strides get. A
/// shape with a zero may still be refused when this overflows (its strides
/// would), so the rules below treat such a shape as huge.
pub fn span(dims: &[usize]) -> u128 {
    dims.iter()
        .filter(|&&d| d > 0)
        .fold(1u128, |acc, &d| acc.saturating_mul(d as u128))
}

/// A size: mostly small, sometimes hostile.
pub fn dim() -> BoxedStrategy<usize> {
    prop_oneof![
        4 => prop::sample::select(SMALL.to_vec()),
        1 => prop::sample::select(HOSTILE.to_vec()),
    ]
    .boxed()
}

/// A size that is always small.
pub fn small_dim() -> BoxedStrategy<usize> {
    prop::sample::select(SMALL.to_vec()).boxed()
}

/// A hostile shape: its element count is at most [`MAX_ELEMS`] (possibly 0
/// with hostile dims beside the zero) or above [`HUGE_ELEMS`], never in
/// between, so that whatever it asks for is either small or refused.
pub fn shape(max_rank: usize) -> BoxedStrategy<Vec<usize>> {
    prop::collection::vec(dim(), 0..=max_rank)
        .prop_map(|mut d| {
            let n = count(&d);
            if n > MAX_ELEMS && n <= HUGE_ELEMS {
                for x in d.iter_mut().filter(|x| **x >= 1 << 31) {
                    *x = 1 << 62;
                }
            }
            d
        })
        .boxed()
}

/// A shape whose tensor can be created: at most [`MAX_ELEMS`] elements and
/// a small [`span`].
pub fn input_shape(max_rank: usize) -> BoxedStrategy<Vec<usize>> {
    (prop::collection::vec((dim(), small_dim()), 0..=max_rank))
        .prop_map(|pairs| {
            let d: Vec<usize> = pairs.iter().map(|p| p.0).collect();
            if span(&d) <= MAX_ELEMS {
                d
            } else {
                pairs.iter().map(|p| if p.0 > 5 { p.1 } else { p.0 }).collect()
            }
        })
        .boxed()
}

/// A dim index: in range, negative, out of range, or extreme.
pub fn axis() -> BoxedStrategy<i64> {
    prop_oneof![
        4 => -5i64..5,
        1 => prop::sample::select(vec![i64::MIN, i64::MIN + 1, -(1 << 40), 1 << 40, i64::MAX]),
    ]
    .boxed()
}

/// A dim index as `usize`, possibly far out of range.
pub fn axis_usize() -> BoxedStrategy<usize> {
    prop_oneof![4 => 0usize..5, 1 => prop::sample::select(HOSTILE.to_vec())].boxed()
}

pub fn dtype() -> BoxedStrategy<DType> {
    prop::sample::select(DTYPES.to_vec()).boxed()
}

pub fn float_dtype() -> BoxedStrategy<DType> {
    prop::sample::select(FLOAT_DTYPES.to_vec()).boxed()
}

/// A value: ordinary, zero, signed zero, NaN, infinite or extreme.
pub fn value() -> BoxedStrategy<f64> {
    prop_oneof![
        6 => -10.0f64..10.0,
        1 => prop::sample::select(vec![
            0.0,
            -0.0,
            1.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            1e300,
            -1e-300,
        ]),
    ]
    .boxed()
}

/// A scalar argument that may be anything, including NaN and huge values.
pub fn scalar() -> BoxedStrategy<f64> {
    value()
}

/// Description of a generated tensor, kept so a failure prints its input.
#[derive(Clone, Debug)]
pub struct Spec {
    pub dims: Vec<usize>,
    pub dtype: DType,
    pub values: Vec<f64>,
}

impl Spec {
    /// Builds the tensor; creation of a small tensor must succeed.
    pub fn build(&self) -> Tensor {
        let t = must_not_panic(("from_vec", self), || {
            Tensor::from_vec(self.values.clone(), self.dims.clone(), &cpu())
        })
        .unwrap_or_else(|e| panic!("from_vec of {self:?}: {e}"));
        t.to_dtype(self.dtype)
            .unwrap_or_else(|e| panic!("to_dtype of {self:?}: {e}"))
    }
}

/// A tensor of a shape from [`input_shape`], one of `dtypes`, with values from [`value`].
pub fn tensor_of(max_rank: usize, dtypes: BoxedStrategy<DType>) -> BoxedStrategy<Spec> {
    (input_shape(max_rank), dtypes)
        .prop_flat_map(|(dims, dtype)| {
            let n = count(&dims) as usize;
            prop::collection::vec(value(), n).prop_map(move |values| Spec {
                dims: dims.clone(),
                dtype,
                values,
            })
        })
        .boxed()
}

/// A tensor of any dtype.
pub fn tensor(max_rank: usize) -> BoxedStrategy<Spec> {
    tensor_of(max_rank, dtype())
}

/// A float tensor.
pub fn float_tensor(max_rank: usize) -> BoxedStrategy<Spec> {
    tensor_of(max_rank, float_dtype())
}

/// A float tensor of exactly these dims (which must be small).
pub fn tensor_with_dims(dims: Vec<usize>, dtype: DType) -> BoxedStrategy<Spec> {
    let n = count(&dims) as usize;
    prop::collection::vec(value(), n)
        .prop_map(move |values| Spec {
            dims: dims.clone(),
            dtype,
            values,
        })
        .boxed()
}

/// The dims and values of an `I64` index tensor.
pub type Ids = (Vec<usize>, Vec<i64>);

/// An `I64` index tensor of `dims` with indices in range, negative or huge.
pub fn ids(dims: Vec<usize>) -> BoxedStrategy<Ids> {
    let n = count(&dims) as usize;
    let id = prop_oneof![
        6 => -1i64..6,
        1 => prop::sample::select(vec![i64::MIN, -(1 << 40), 1 << 31, 1 << 40, i64::MAX]),
    ];
    prop::collection::vec(id, n)
        .prop_map(move |v| (dims.clone(), v))
        .boxed()
}

/// Builds an index tensor from [`ids`] output.
pub fn ids_tensor(ids: &Ids) -> Tensor {
    Tensor::from_vec(ids.1.clone(), ids.0.clone(), &cpu()).expect("small i64 tensor")
}

/// The NumPy broadcast of two shapes, if they broadcast.
pub fn broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let r = a.len().max(b.len());
    let get = |s: &[usize], i: usize| if i < r - s.len() { 1 } else { s[i - (r - s.len())] };
    (0..r)
        .map(|i| match (get(a, i), get(b, i)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

/// Resolves a PyTorch dim index against `rank`.
pub fn resolve(dim: i64, rank: usize) -> Option<usize> {
    let r = rank as i64;
    let d = if dim < 0 { dim.checked_add(r)? } else { dim };
    (0..r).contains(&d).then_some(d as usize)
}

/// Exactly `n` sizes of a layer: their product is small, zero or beyond
/// [`HUGE_ELEMS`], and so is each size alone (a bias has one of them as its
/// length), so 2^31 is raised to 2^40.
pub fn sizes(n: usize) -> BoxedStrategy<Vec<usize>> {
    prop::collection::vec(dim(), n)
        .prop_map(|mut d| {
            for x in d.iter_mut().filter(|x| **x == 1 << 31) {
                *x = 1 << 40;
            }
            let c = count(&d);
            if c > MAX_ELEMS && c <= HUGE_ELEMS {
                for x in d.iter_mut().filter(|x| **x >= 1 << 31) {
                    *x = 1 << 62;
                }
            }
            d
        })
        .boxed()
}
