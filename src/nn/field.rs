//! [`ModuleField`]: how `#[derive(Module)]` sees the fields of a struct.
//!
//! The derive calls these methods on every field that is not
//! `#[module(skip)]`, so one trait covers every kind of field: a module (any
//! type implementing [`Module`], including `Vec`s of modules, `Box<dyn Forward>`,
//! [`super::ModuleList`] and [`super::ModuleDict`]), a tensor, and `Option`s of
//! either. A field of any other type fails to compile with a message that
//! names `#[module(skip)]`.

use super::Module;
use crate::{Result, Tensor};

/// A field that `#[derive(Module)]` can register: its submodules and its tensors.
/// Implemented for every [`Module`], for [`Tensor`], `Vec<Tensor>` and for
/// `Option`s of those; not meant to be implemented by hand.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a module, a tensor, or an Option of them, so #[derive(Module)] cannot register it",
    label = "not a module or tensor field",
    note = "mark fields that hold configuration or other data with #[module(skip)]"
)]
pub trait ModuleField {
    /// Pushes the submodules this field holds, named `name` (or `name.i`).
    fn collect_children<'a>(&'a self, name: &str, out: &mut Vec<(String, &'a dyn Module)>) {
        let _ = (name, out);
    }

    /// [`ModuleField::collect_children`], mutably.
    fn collect_children_mut<'a>(&'a mut self, name: &str, out: &mut Vec<(String, &'a mut dyn Module)>) {
        let _ = (name, out);
    }

    /// Pushes the tensors this field holds, named `name` (or `name.i`).
    fn collect_tensors(&self, name: &str, out: &mut Vec<(String, Tensor)>) {
        let _ = (name, out);
    }

    /// Replaces each tensor this field holds by `f(tensor)`.
    fn map_field_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        let _ = f;
        Ok(())
    }
}

impl<M: Module> ModuleField for M {
    fn collect_children<'a>(&'a self, name: &str, out: &mut Vec<(String, &'a dyn Module)>) {
        out.push((name.to_string(), self));
    }

    fn collect_children_mut<'a>(&'a mut self, name: &str, out: &mut Vec<(String, &'a mut dyn Module)>) {
        out.push((name.to_string(), self));
    }
}

impl ModuleField for Tensor {
    fn collect_tensors(&self, name: &str, out: &mut Vec<(String, Tensor)>) {
        out.push((name.to_string(), self.clone()));
    }

    fn map_field_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        *self = f(self)?;
        Ok(())
    }
}

/// A list of tensors, named `name.0`, `name.1`, ... (PyTorch's `ParameterList`).
impl ModuleField for Vec<Tensor> {
    fn collect_tensors(&self, name: &str, out: &mut Vec<(String, Tensor)>) {
        for (i, t) in self.iter().enumerate() {
            out.push((format!("{name}.{i}"), t.clone()));
        }
    }

    fn map_field_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        for t in self.iter_mut() {
            *t = f(t)?;
        }
        Ok(())
    }
}

/// An optional module or tensor: registered when present, absent from names when `None`.
impl<T: ModuleField> ModuleField for Option<T> {
    fn collect_children<'a>(&'a self, name: &str, out: &mut Vec<(String, &'a dyn Module)>) {
        if let Some(v) = self {
            v.collect_children(name, out);
        }
    }

    fn collect_children_mut<'a>(&'a mut self, name: &str, out: &mut Vec<(String, &'a mut dyn Module)>) {
        if let Some(v) = self {
            v.collect_children_mut(name, out);
        }
    }

    fn collect_tensors(&self, name: &str, out: &mut Vec<(String, Tensor)>) {
        if let Some(v) = self {
            v.collect_tensors(name, out);
        }
    }

    fn map_field_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        match self {
            Some(v) => v.map_field_tensors(f),
            None => Ok(()),
        }
    }
}
