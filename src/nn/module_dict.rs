//! [`ModuleDict`]: submodules under names, in insertion order (PyTorch's `nn.ModuleDict`).

use super::{Forward, Module};
use crate::{Error, Result};

/// Submodules held under string keys, kept in insertion order and named by
/// their keys (`heads.digits.weight`), PyTorch's `nn.ModuleDict`. By default
/// it holds `Box<dyn Forward>`; `ModuleDict<Head>` holds one type.
///
/// ```
/// use neurite::nn::{Linear, Module, ModuleDict};
/// # fn main() -> neurite::Result<()> {
/// let mut heads = ModuleDict::new();
/// heads.insert("digits", Linear::new(8, 10))?;
/// heads.insert("parity", Linear::new(8, 2))?;
/// assert_eq!(heads.keys().collect::<Vec<_>>(), ["digits", "parity"]);
/// assert_eq!(heads.named_parameters()[2].0, "parity.weight");
/// assert!(heads.insert("a.b", Linear::new(1, 1)).is_err()); // dots would break names
/// # Ok(()) }
/// ```
pub struct ModuleDict<M: Module = Box<dyn Forward>> {
    items: Vec<(String, M)>,
}

impl<M: Module> Default for ModuleDict<M> {
    fn default() -> Self {
        ModuleDict { items: Vec::new() }
    }
}

impl ModuleDict {
    /// An empty dictionary of boxed layers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts a layer of any [`Forward`] type under `key` (see [`ModuleDict::insert_item`]).
    pub fn insert<L: Forward + 'static>(&mut self, key: &str, layer: L) -> Result<()> {
        self.insert_item(key, Box::new(layer))
    }
}

impl<M: Module> ModuleDict<M> {
    /// Inserts `item` under `key`; an existing key keeps its position and gets
    /// the new item, as in PyTorch. Errors on an empty key or one containing a
    /// `.` (it would make tensor names ambiguous).
    pub fn insert_item(&mut self, key: &str, item: M) -> Result<()> {
        if key.is_empty() || key.contains('.') {
            return Err(Error::invalid(
                "ModuleDict::insert",
                format!("a module name must be non-empty and contain no '.', got {key:?}"),
            ));
        }
        match self.items.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = item,
            None => self.items.push((key.to_string(), item)),
        }
        Ok(())
    }

    /// The item under `key`.
    pub fn get(&self, key: &str) -> Option<&M> {
        self.items.iter().find(|(k, _)| k == key).map(|(_, m)| m)
    }

    /// The item under `key`, mutably.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut M> {
        self.items.iter_mut().find(|(k, _)| k == key).map(|(_, m)| m)
    }

    /// Removes and returns the item under `key`.
    pub fn remove(&mut self, key: &str) -> Option<M> {
        let i = self.items.iter().position(|(k, _)| k == key)?;
        Some(self.items.remove(i).1)
    }

    /// The keys in insertion order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.items.iter().map(|(k, _)| k.as_str())
    }

    /// `(key, item)` pairs in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &M)> {
        self.items.iter().map(|(k, m)| (k.as_str(), m))
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when there is no item.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl<M: Module> Module for ModuleDict<M> {
    fn name(&self) -> String {
        "ModuleDict".into()
    }

    fn children(&self) -> Vec<(String, &dyn Module)> {
        self.items.iter().map(|(k, m)| (k.clone(), m as &dyn Module)).collect()
    }

    fn children_mut(&mut self) -> Vec<(String, &mut dyn Module)> {
        self.items
            .iter_mut()
            .map(|(k, m)| (k.clone(), m as &mut dyn Module))
            .collect()
    }
}
