//! Reverse-mode automatic differentiation: graph nodes, the backward walk,
//! gradient stores and the no-grad scope.

use crate::tensor::TensorId;
use crate::{Error, Result, Tensor};
use std::cell::Cell;
use std::collections::{HashMap, HashSet};

/// Computes the gradients of an op's inputs from the gradient of its output.
/// Receives `(grad_output, output)`; returns one entry per input, `None` where
/// an input takes no gradient.
pub(crate) type BackwardFn = Box<dyn Fn(&Tensor, &Tensor) -> Result<Vec<Option<Tensor>>> + Send + Sync>;

/// How a tensor was computed: the op, its inputs and its backward rule.
pub(crate) struct Node {
    op: &'static str,
    inputs: Vec<Tensor>,
    backward: BackwardFn,
}

impl Node {
    pub(crate) fn new(
        op: &'static str,
        inputs: Vec<Tensor>,
        backward: impl Fn(&Tensor, &Tensor) -> Result<Vec<Option<Tensor>>> + Send + Sync + 'static,
    ) -> Node {
        Node {
            op,
            inputs,
            backward: Box::new(backward),
        }
    }

    pub(crate) fn inputs(&self) -> &[Tensor] {
        &self.inputs
    }

    /// Drops the backward rule now, so that the clones of inputs it captured
    /// are released before the inputs themselves are walked.
    fn release_backward(&mut self) {
        // A zero-sized closure: boxing it does not allocate.
        self.backward = Box::new(|_, _| Ok(Vec::new()));
    }
}

/// Dropping a graph walks it with an explicit stack. The derived drop would
/// recurse once per op (tensor -> node -> input tensor -> ...), and a graph
/// a few hundred thousand ops deep (a running loss kept as a tensor over a
/// long loop) would overflow the thread's stack and abort the process.
impl Drop for Node {
    fn drop(&mut self) {
        self.release_backward();
        let mut stack = std::mem::take(&mut self.inputs);
        while let Some(t) = stack.pop() {
            // Only the last owner of a tensor frees it; its node's inputs move
            // onto the stack, so the node drops with nothing left to recurse into.
            if let Some(mut node) = t.into_node_if_unique() {
                node.release_backward();
                stack.append(&mut node.inputs);
            }
        }
    }
}

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// True unless inside a [`no_grad`] scope on this thread.
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

/// Disables graph recording on this thread until dropped (evaluation,
/// optimizer updates). Restores the previous state, so scopes nest.
pub struct NoGradGuard {
    previous: bool,
}

impl NoGradGuard {
    /// Enters a no-grad scope.
    pub fn new() -> Self {
        let previous = GRAD_ENABLED.with(|g| g.replace(false));
        NoGradGuard { previous }
    }
}

impl Default for NoGradGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for NoGradGuard {
    fn drop(&mut self) {
        GRAD_ENABLED.with(|g| g.set(self.previous));
    }
}

/// Runs `f` without recording a graph, like `with torch.no_grad():`.
///
/// ```
/// use neurite::{no_grad, DType, Device, Tensor};
/// let w = Tensor::ones(3, DType::F32, &Device::cpu()).unwrap().requires_grad();
/// let y = no_grad(|| w.exp()).unwrap();
/// assert!(!y.tracks_grad());
/// ```
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    let _guard = NoGradGuard::new();
    f()
}

/// Gradients of a backward pass, keyed by tensor.
///
/// [`Tensor::backward`] returns a fresh store, the counterpart of PyTorch's
/// `optimizer.zero_grad(); loss.backward()`. To accumulate gradients over
/// several backward passes, as PyTorch does when `loss.backward()` runs twice
/// without `zero_grad()` in between, pass one store to
/// [`Tensor::backward_into`] for each (or merge stores with
/// [`GradStore::accumulate`]), and [`GradStore::clear`] it after the step.
///
/// ```
/// use neurite::{DType, Device, GradStore, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let w = Tensor::from_vec(vec![1f64, 2.0], 2, &Device::cpu())?.requires_grad();
/// let mut grads = GradStore::new();
/// for k in 1..=3 {
///     // d/dw (k * sum(w)) = k: the store sums 1 + 2 + 3.
///     w.sum_all()?.mul_scalar(k as f64)?.backward_into(&mut grads)?;
/// }
/// grads.scale(0.5)?;
/// assert_eq!(grads.get(&w).unwrap().to_vec::<f64>()?, vec![3.0, 3.0]);
/// grads.clear();
/// assert!(grads.is_empty());
/// # Ok(()) }
/// ```
#[derive(Default)]
pub struct GradStore {
    grads: HashMap<TensorId, Tensor>,
}

impl GradStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The gradient of `t`, if it received one.
    pub fn get(&self, t: &Tensor) -> Option<&Tensor> {
        self.grads.get(&t.id())
    }

    /// Looks up by id.
    pub fn get_id(&self, id: TensorId) -> Option<&Tensor> {
        self.grads.get(&id)
    }

    /// Takes the gradient of `t` out of the store.
    pub fn remove(&mut self, t: &Tensor) -> Option<Tensor> {
        self.grads.remove(&t.id())
    }

    /// Sets the gradient of `t` (for clipping or custom updates).
    pub fn insert(&mut self, t: &Tensor, grad: Tensor) {
        self.grads.insert(t.id(), grad);
    }

    /// Number of gradients held.
    pub fn len(&self) -> usize {
        self.grads.len()
    }

    /// True when no gradient is held.
    pub fn is_empty(&self) -> bool {
        self.grads.is_empty()
    }

    /// All `(id, gradient)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&TensorId, &Tensor)> {
        self.grads.iter()
    }

    /// Adds the gradients of `other` to this store's: a tensor in both gets
    /// the sum, one in `other` only gets `other`'s gradient. Errors, leaving
    /// this store unchanged, when two gradients of one tensor differ in shape,
    /// dtype or device.
    pub fn accumulate(&mut self, other: GradStore) -> Result<()> {
        for (id, g) in &other.grads {
            if let Some(prev) = self.grads.get(id) {
                prev.same_layout(g, "GradStore::accumulate")?;
            }
        }
        let _guard = NoGradGuard::new();
        let mut sums = Vec::with_capacity(other.grads.len());
        for (id, g) in other.grads {
            let sum = match self.grads.get(&id) {
                Some(prev) => prev.add(&g)?,
                None => g,
            };
            sums.push((id, sum));
        }
        self.grads.extend(sums);
        Ok(())
    }

    /// Multiplies every gradient by `factor` (to average accumulated
    /// gradients, for instance). Errors, leaving the store unchanged, unless
    /// `factor` is finite.
    pub fn scale(&mut self, factor: f64) -> Result<()> {
        if !factor.is_finite() {
            return Err(Error::invalid(
                "GradStore::scale",
                format!("the factor must be finite, got {factor}"),
            ));
        }
        let _guard = NoGradGuard::new();
        let scaled = self
            .grads
            .iter()
            .map(|(id, g)| Ok((*id, g.mul_scalar(factor)?)))
            .collect::<Result<Vec<_>>>()?;
        self.grads.extend(scaled);
        Ok(())
    }

    /// Removes every gradient (PyTorch's `optimizer.zero_grad()`).
    pub fn clear(&mut self) {
        self.grads.clear();
    }
}

/// Tensors reachable from `root` through graph nodes, inputs before outputs.
fn topological_order(root: &Tensor) -> Vec<Tensor> {
    let mut order = Vec::new();
    let mut seen = HashSet::new();
    // Iterative DFS: deep graphs (long RNN unrolls) must not overflow the stack.
    let mut stack: Vec<(Tensor, bool)> = vec![(root.clone(), false)];
    while let Some((t, expanded)) = stack.pop() {
        if expanded {
            order.push(t);
            continue;
        }
        if !seen.insert(t.id()) {
            continue;
        }
        stack.push((t.clone(), true));
        if let Some(node) = t.node() {
            for i in node.inputs() {
                if i.tracks_grad() && !seen.contains(&i.id()) {
                    stack.push((i.clone(), false));
                }
            }
        }
    }
    order
}

impl Tensor {
    /// Back-propagates from this scalar and returns the gradient of every
    /// trainable leaf ([`Tensor::requires_grad`]) it depends on.
    pub fn backward(&self) -> Result<GradStore> {
        if self.elem_count() != 1 {
            return Err(Error::Backward(format!(
                "can only start from a scalar (one element), got shape {}; reduce it first, e.g. with mean_all()",
                self.shape()
            )));
        }
        if !self.tracks_grad() {
            return Err(Error::Backward(
                "this tensor does not depend on any tensor that requires grad (or was computed under no_grad)".into(),
            ));
        }
        let seed = self.ones_like()?;
        self.backward_with(seed)
    }

    /// Back-propagates from this scalar and adds the gradients to those
    /// already in `grads` (PyTorch's `loss.backward()` without a `zero_grad()`
    /// since the last step). Errors as [`Tensor::backward`] does, or as
    /// [`GradStore::accumulate`] does; `grads` is unchanged on error.
    ///
    /// Accumulating `k` micro-batches whose mean losses are each scaled by
    /// `1/k` (by `n_i / N` for unequal sizes) gives the gradient of the mean
    /// loss over the whole batch.
    pub fn backward_into(&self, grads: &mut GradStore) -> Result<()> {
        let fresh = self.backward()?;
        grads.accumulate(fresh)
    }

    /// Back-propagates with an explicit gradient for this tensor (same shape).
    pub fn backward_with(&self, grad: Tensor) -> Result<GradStore> {
        self.same_layout(&grad, "backward")?;
        let _guard = NoGradGuard::new();
        let order = topological_order(self);
        let mut pending: HashMap<TensorId, Tensor> = HashMap::new();
        pending.insert(self.id(), grad);
        let mut store = GradStore::new();
        for t in order.iter().rev() {
            let Some(g) = pending.remove(&t.id()) else {
                continue;
            };
            if let Some(node) = t.node() {
                let input_grads = (node.backward)(&g, t)?;
                for (input, ig) in node.inputs().iter().zip(input_grads) {
                    let Some(ig) = ig else { continue };
                    if !input.tracks_grad() {
                        continue;
                    }
                    if ig.shape() != input.shape() {
                        return Err(Error::Backward(format!(
                            "internal: {} produced a gradient of shape {} for an input of shape {}",
                            node.op,
                            ig.shape(),
                            input.shape()
                        )));
                    }
                    let acc = match pending.remove(&input.id()) {
                        Some(prev) => prev.add(&ig)?,
                        None => ig,
                    };
                    pending.insert(input.id(), acc);
                }
            }
            if t.is_requires_grad() {
                store.grads.insert(t.id(), g);
            }
        }
        Ok(store)
    }
}
