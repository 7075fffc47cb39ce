//! [`ModuleList`]: an indexed list of submodules (PyTorch's `nn.ModuleList`),
//! and the [`Module`] impl of `Vec<M>` it shares.

use super::{Forward, Module};

/// A `Vec` of modules is a module whose children are named `"0"`, `"1"`, ...,
/// so a `blocks: Vec<Block>` field names its tensors `blocks.0.conv1.weight`.
impl<M: Module> Module for Vec<M> {
    fn name(&self) -> String {
        "ModuleList".into()
    }

    fn children(&self) -> Vec<(String, &dyn Module)> {
        self.iter()
            .enumerate()
            .map(|(i, m)| (i.to_string(), m as &dyn Module))
            .collect()
    }

    fn children_mut(&mut self) -> Vec<(String, &mut dyn Module)> {
        self.iter_mut()
            .enumerate()
            .map(|(i, m)| (i.to_string(), m as &mut dyn Module))
            .collect()
    }
}

/// Submodules held in a list and named by position, PyTorch's `nn.ModuleList`.
/// Unlike [`super::Sequential`] it has no forward of its own: the owner decides
/// how to call its items. By default it holds `Box<dyn Forward>` (layers of
/// different types); `ModuleList<Block>` holds one type (a plain `Vec<Block>`
/// field works the same way).
///
/// ```
/// use neurite::nn::{Forward, Linear, Module, ModuleList, ReLU};
/// let mut heads = ModuleList::new();
/// heads.push(Linear::new(4, 2));
/// heads.push(ReLU);
/// heads.push(Linear::new(4, 3));
/// let names: Vec<String> = heads.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
/// assert_eq!(heads.len(), 3);
/// ```
pub struct ModuleList<M: Module = Box<dyn Forward>> {
    items: Vec<M>,
}

impl<M: Module> Default for ModuleList<M> {
    fn default() -> Self {
        ModuleList { items: Vec::new() }
    }
}

impl<M: Module> From<Vec<M>> for ModuleList<M> {
    fn from(items: Vec<M>) -> Self {
        ModuleList { items }
    }
}

impl ModuleList {
    /// An empty list of boxed layers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a layer of any [`Forward`] type.
    pub fn push<L: Forward + 'static>(&mut self, layer: L) {
        self.items.push(Box::new(layer));
    }
}

impl<M: Module> ModuleList<M> {
    /// A list holding `items` (same as `ModuleList::from`).
    pub fn from_vec(items: Vec<M>) -> Self {
        ModuleList { items }
    }

    /// Appends an item of the list's type.
    pub fn push_item(&mut self, item: M) {
        self.items.push(item);
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when there is no item.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Item `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<&M> {
        self.items.get(i)
    }

    /// Item `i`, mutably.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut M> {
        self.items.get_mut(i)
    }

    /// The items in order.
    pub fn iter(&self) -> std::slice::Iter<'_, M> {
        self.items.iter()
    }

    /// The items in order, mutably.
    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, M> {
        self.items.iter_mut()
    }
}

impl<'a, M: Module> IntoIterator for &'a ModuleList<M> {
    type Item = &'a M;
    type IntoIter = std::slice::Iter<'a, M>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl<M: Module> Module for ModuleList<M> {
    fn name(&self) -> String {
        "ModuleList".into()
    }

    fn children(&self) -> Vec<(String, &dyn Module)> {
        self.items.children()
    }

    fn children_mut(&mut self) -> Vec<(String, &mut dyn Module)> {
        self.items.children_mut()
    }
}
