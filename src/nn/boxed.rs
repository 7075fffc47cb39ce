//! `Box<M>` is the module it holds: `Box<dyn Forward>` layers chosen at run
//! time sit in containers and derived structs like any other module.

use super::{Forward, LayerConfig, LoadReport, Module};
use crate::{DType, Device, Result, Tensor};
use std::collections::HashMap;

/// Every method forwards to the boxed module, so its overrides are honoured.
impl<M: Module + ?Sized> Module for Box<M> {
    fn name(&self) -> String {
        (**self).name()
    }
    fn children(&self) -> Vec<(String, &dyn Module)> {
        (**self).children()
    }
    fn children_mut(&mut self) -> Vec<(String, &mut dyn Module)> {
        (**self).children_mut()
    }
    fn own_parameters(&self) -> Vec<(String, Tensor)> {
        (**self).own_parameters()
    }
    fn own_buffers(&self) -> Vec<(String, Tensor)> {
        (**self).own_buffers()
    }
    fn map_own_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        (**self).map_own_tensors(f)
    }
    fn set_training(&mut self, training: bool) {
        (**self).set_training(training)
    }
    fn is_training(&self) -> bool {
        (**self).is_training()
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        (**self).named_parameters()
    }
    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        (**self).named_buffers()
    }
    fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        (**self).map_tensors(f)
    }
    fn to_device(&mut self, device: &Device) -> Result<()> {
        (**self).to_device(device)
    }
    fn to_dtype(&mut self, dtype: DType) -> Result<()> {
        (**self).to_dtype(dtype)
    }
    fn assign_named(&mut self, name: &str, value: &Tensor) -> Result<()> {
        (**self).assign_named(name, value)
    }
    fn load_named_tensors_with(&mut self, map: &HashMap<String, Tensor>, strict: bool) -> Result<LoadReport> {
        (**self).load_named_tensors_with(map, strict)
    }
    fn config(&self) -> Result<LayerConfig> {
        (**self).config()
    }
    fn input_dtype(&self) -> Option<DType> {
        (**self).input_dtype()
    }
}

impl<M: Forward + ?Sized> Forward for Box<M> {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        (**self).forward(x)
    }
}
