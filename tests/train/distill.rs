//! `DistillationStep`: the loss it trains on is the distillation loss of the
//! student against the frozen teacher, the teacher never changes, validation
//! scores the student alone, and bad teachers or datasets are errors.

use crate::common::{serial, weights};
use neurite::data::{Batch, Dataset};
use neurite::loss::{DistillationLoss, cross_entropy, distillation_loss};
use neurite::nn::{Dropout, Forward, Linear, Module, ReLU, Sequential};
use neurite::optim::{Adam, AdamConfig};
use neurite::train::{DistillationStep, TrainStep, Trainer};
use neurite::{DType, Device, Tensor};

fn labelled(n: usize, features: usize, classes: i64) -> (Tensor, Tensor) {
    let dev = Device::cpu();
    let x = Tensor::randn((n, features), DType::F32, &dev).unwrap();
    let y = Tensor::from_vec(
        (0..n as i64).map(|i| (i * 7 + 3) % classes).collect::<Vec<_>>(),
        n,
        &dev,
    )
    .unwrap();
    (x, y)
}

fn scalar(t: &Tensor) -> f64 {
    t.to_vec::<f64>().unwrap()[0]
}

#[test]
fn train_step_is_the_distillation_loss_and_validation_the_students_cross_entropy() {
    let _g = serial();
    neurite::manual_seed(3);
    // Dropout in the teacher: the step must run it in evaluation mode.
    let mut teacher = Sequential::new()
        .add(Linear::new(6, 16))
        .add(ReLU)
        .add(Dropout::new(0.5))
        .add(Linear::new(16, 4));
    let student = Sequential::new().add(Linear::new(6, 4));
    let (x, y) = labelled(10, 6, 4);
    let batch = Batch::new(vec![x.clone(), y.clone()]).unwrap();
    let mut step = DistillationStep::new(&mut teacher, DistillationLoss::new(3.0).with_alpha(0.25));
    let out = step.train_step(&student, &batch).unwrap();
    let t = neurite::no_grad(|| teacher.forward(&x)).unwrap();
    let s = student.forward(&x).unwrap();
    let want = distillation_loss(&s, &t, &y, 3.0, 0.25).unwrap();
    assert!((scalar(out.loss()) - scalar(&want)).abs() < 1e-6);
    let soft = distillation_loss(&s, &t, &y, 3.0, 1.0).unwrap();
    assert_eq!(out.logged()[0].0, "distill_soft");
    assert!((scalar(&out.logged()[0].1) - scalar(&soft)).abs() < 1e-6);
    // The gradient reaches the student only.
    let grads = out.loss().backward().unwrap();
    assert!(grads.get(&student.parameters()[0]).is_some());
    assert!(teacher.parameters().iter().all(|p| grads.get(p).is_none()));

    let mut step = DistillationStep::new(&mut teacher, DistillationLoss::new(3.0));
    let val = step.validation_step(&student, &batch).unwrap();
    let ce = cross_entropy(&s, &y).unwrap();
    assert!((scalar(val.loss()) - scalar(&ce)).abs() < 1e-6);
}

#[test]
fn fit_step_trains_the_student_and_leaves_the_teacher_alone() {
    let _g = serial();
    neurite::manual_seed(5);
    let (x, y) = labelled(96, 5, 3);
    let data = Dataset::new(x, y).unwrap();
    let mut teacher = Sequential::new()
        .add(Linear::new(5, 12))
        .add(ReLU)
        .add(Linear::new(12, 3));
    let before = weights(&teacher);
    let mut student = Sequential::new().add(Linear::new(5, 3));
    let student_before = weights(&student);
    let mut opt = Adam::new(student.parameters(), AdamConfig::new(1e-2)).unwrap();
    let step = DistillationStep::new(&mut teacher, DistillationLoss::new(2.0).with_alpha(0.5));
    let history = Trainer::custom()
        .epochs(3)
        .batch_size(16)
        .validation_split(0.25)
        .quiet()
        .fit_step(&mut student, step, &mut opt, &data)
        .unwrap();
    assert_eq!(history.loss.len(), 3);
    assert!(history.get("distill_soft").is_some_and(|v| v.len() == 3));
    assert!(history.get("val_loss").is_some_and(|v| v.len() == 3));
    assert_eq!(weights(&teacher), before, "the teacher must not be trained");
    assert_ne!(weights(&student), student_before);
}

#[test]
fn mismatched_teachers_and_datasets_are_errors() {
    let _g = serial();
    let mut teacher = Sequential::new().add(Linear::new(5, 4));
    let student = Sequential::new().add(Linear::new(5, 3));
    let (x, y) = labelled(8, 5, 3);
    let mut step = DistillationStep::new(&mut teacher, DistillationLoss::new(2.0));
    let e = step
        .train_step(&student, &Batch::new(vec![x.clone(), y.clone()]).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("DistillationStep") && e.contains("[8, 4]") && e.contains("[8, 3]"),
        "{e}"
    );
    let e = step
        .train_step(&student, &Batch::new(vec![x.clone(), x, y]).unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("got 3 tensors per sample"), "{e}");
}
