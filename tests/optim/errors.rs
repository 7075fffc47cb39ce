//! Invalid hyperparameters and misuse give `Error::InvalidArgument` with a
//! message naming the problem; nothing panics.

use neurite::optim::lr_scheduler::{
    ChainedScheduler, ConstantLr, CosineAnnealingLr, CosineAnnealingWarmRestarts, ExponentialLr, LinearLr, LrScheduler,
    MultiStepLr, OneCycleConfig, OneCycleLr, PlateauConfig, ReduceLrOnPlateau, SequentialLr, StepLr,
};
use neurite::optim::{Adam, AdamConfig, AdamW, AdamWConfig, Optimizer, RmsProp, RmsPropConfig, Sgd, SgdConfig};
use neurite::{DType, Device, Error, Result, Tensor};

fn param() -> Tensor {
    Tensor::zeros(2, DType::F32, &Device::cpu()).unwrap().requires_grad()
}

fn sgd() -> Sgd {
    Sgd::new(
        vec![param()],
        SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            ..Default::default()
        },
    )
    .unwrap()
}

#[track_caller]
fn invalid<T>(r: Result<T>, needle: &str) {
    match r {
        Ok(_) => panic!("expected an error mentioning {needle:?}"),
        Err(e @ Error::InvalidArgument { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains(needle), "message {msg:?} does not mention {needle:?}");
        }
        Err(e) => panic!("expected InvalidArgument, got {e}"),
    }
}

#[test]
fn sgd_hyperparameters() {
    let p = || vec![param()];
    invalid(Sgd::new(p(), SgdConfig::new(-0.1)), "lr");
    invalid(Sgd::new(p(), SgdConfig::new(f64::NAN)), "lr");
    invalid(
        Sgd::new(
            p(),
            SgdConfig {
                momentum: -0.5,
                ..SgdConfig::new(0.1)
            },
        ),
        "momentum",
    );
    invalid(
        Sgd::new(
            p(),
            SgdConfig {
                weight_decay: -1e-4,
                ..SgdConfig::new(0.1)
            },
        ),
        "weight_decay",
    );
    invalid(
        Sgd::new(
            p(),
            SgdConfig {
                nesterov: true,
                ..SgdConfig::new(0.1)
            },
        ),
        "Nesterov",
    );
    invalid(
        Sgd::new(
            p(),
            SgdConfig {
                nesterov: true,
                momentum: 0.9,
                dampening: 0.1,
                ..SgdConfig::new(0.1)
            },
        ),
        "dampening",
    );
}

#[test]
fn adam_hyperparameters() {
    let p = || vec![param()];
    invalid(Adam::new(p(), AdamConfig::new(-1e-3)), "lr");
    invalid(
        Adam::new(
            p(),
            AdamConfig {
                eps: -1e-8,
                ..Default::default()
            },
        ),
        "eps",
    );
    invalid(
        Adam::new(
            p(),
            AdamConfig {
                betas: (1.0, 0.999),
                ..Default::default()
            },
        ),
        "betas.0",
    );
    invalid(
        Adam::new(
            p(),
            AdamConfig {
                betas: (-0.1, 0.999),
                ..Default::default()
            },
        ),
        "betas.0",
    );
    invalid(
        Adam::new(
            p(),
            AdamConfig {
                betas: (0.9, 1.5),
                ..Default::default()
            },
        ),
        "betas.1",
    );
    invalid(
        Adam::new(
            p(),
            AdamConfig {
                weight_decay: -0.1,
                ..Default::default()
            },
        ),
        "weight_decay",
    );
    invalid(
        AdamW::new(
            p(),
            AdamWConfig {
                betas: (0.9, 1.0),
                ..Default::default()
            },
        ),
        "AdamW",
    );
    invalid(
        AdamW::new(
            p(),
            AdamWConfig {
                weight_decay: f64::INFINITY,
                ..Default::default()
            },
        ),
        "weight_decay",
    );
    let mut a = Adam::new(p(), AdamConfig::default()).unwrap();
    invalid(a.set_momentum(1.0), "betas.0");
    assert_eq!(a.momentum(), Some(0.9));
}

#[test]
fn rmsprop_hyperparameters() {
    let p = || vec![param()];
    invalid(RmsProp::new(p(), RmsPropConfig::new(-0.01)), "lr");
    invalid(
        RmsProp::new(
            p(),
            RmsPropConfig {
                alpha: -0.1,
                ..Default::default()
            },
        ),
        "alpha",
    );
    invalid(
        RmsProp::new(
            p(),
            RmsPropConfig {
                alpha: 1.5,
                ..Default::default()
            },
        ),
        "alpha",
    );
    invalid(
        RmsProp::new(
            p(),
            RmsPropConfig {
                eps: -1.0,
                ..Default::default()
            },
        ),
        "eps",
    );
    invalid(
        RmsProp::new(
            p(),
            RmsPropConfig {
                momentum: -0.9,
                ..Default::default()
            },
        ),
        "momentum",
    );
}

#[test]
fn parameter_lists() {
    invalid(Sgd::new(vec![], SgdConfig::new(0.1)), "empty");
    let w = param();
    invalid(Adam::new(vec![w.clone(), w], AdamConfig::default()), "more than once");
    let ids = Tensor::zeros(2, DType::I64, &Device::cpu()).unwrap();
    invalid(RmsProp::new(vec![ids], RmsPropConfig::default()), "i64");
}

#[test]
fn optimizer_state_mismatches() {
    let mut a = sgd();
    let adam = Adam::new(vec![param()], AdamConfig::default()).unwrap();
    invalid(a.load_state(&adam.state().unwrap()), "Adam");
    let two = Sgd::new(vec![param(), param()], SgdConfig::new(0.1)).unwrap();
    invalid(a.load_state(&two.state().unwrap()), "2 parameters");
    // A buffer whose shape does not match its parameter.
    let w3 = Tensor::zeros(3, DType::F32, &Device::cpu()).unwrap().requires_grad();
    let mut three = Sgd::new(
        vec![w3.clone()],
        SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            ..Default::default()
        },
    )
    .unwrap();
    let mut g = neurite::GradStore::new();
    g.insert(&w3, Tensor::ones(3, DType::F32, &Device::cpu()).unwrap());
    three.step(&g).unwrap();
    let before = a.state().unwrap();
    invalid(a.load_state(&three.state().unwrap()), "shape");
    assert_eq!(a.state().unwrap(), before, "a failed load changes nothing");
    // Invalid hyperparameters inside a state are rejected too.
    let mut bad = before.clone();
    if let neurite::optim::OptimizerConfig::Sgd(c) = &mut bad.config {
        c.lr = -1.0;
    }
    invalid(a.load_state(&bad), "lr");
}

#[test]
fn scheduler_arguments() {
    let mut o = sgd();
    invalid(StepLr::new(&mut o, 0, 0.1), "step_size");
    invalid(StepLr::new(&mut o, 2, f64::NAN), "gamma");
    invalid(MultiStepLr::new(&mut o, vec![2], -0.5), "gamma");
    invalid(ExponentialLr::new(&mut o, f64::INFINITY), "gamma");
    invalid(CosineAnnealingLr::new(&mut o, 0, 0.0), "t_max");
    invalid(CosineAnnealingWarmRestarts::new(&mut o, 0, 1, 0.0), "t_0");
    invalid(CosineAnnealingWarmRestarts::new(&mut o, 3, 0, 0.0), "t_mult");
    invalid(LinearLr::new(&mut o, 0.0, 1.0, 5), "start_factor");
    invalid(LinearLr::new(&mut o, 1.5, 1.0, 5), "start_factor");
    invalid(LinearLr::new(&mut o, 0.5, 1.5, 5), "end_factor");
    invalid(LinearLr::new(&mut o, 0.5, 1.0, 0), "total_iters");
    invalid(ConstantLr::new(&mut o, 0.0, 5), "factor");
    invalid(OneCycleLr::new(&mut o, OneCycleConfig::new(1.0, 0)), "total_steps");
    invalid(
        OneCycleLr::new(
            &mut o,
            OneCycleConfig {
                pct_start: 1.5,
                ..OneCycleConfig::new(1.0, 10)
            },
        ),
        "pct_start",
    );
    invalid(OneCycleLr::new(&mut o, OneCycleConfig::new(-1.0, 10)), "max_lr");
    invalid(
        OneCycleLr::new(
            &mut o,
            OneCycleConfig {
                max_momentum: 1.2,
                ..OneCycleConfig::new(1.0, 10)
            },
        ),
        "max_momentum",
    );
    // A phase with no steps divides by zero in PyTorch; here it is an error.
    invalid(
        OneCycleLr::new(
            &mut o,
            OneCycleConfig {
                pct_start: 0.05,
                ..OneCycleConfig::new(1.0, 20)
            },
        ),
        "phase 0",
    );
    invalid(
        ReduceLrOnPlateau::new(
            &o,
            PlateauConfig {
                factor: 1.0,
                ..Default::default()
            },
        ),
        "factor",
    );
    invalid(
        ReduceLrOnPlateau::new(
            &o,
            PlateauConfig {
                threshold: -1.0,
                ..Default::default()
            },
        ),
        "threshold",
    );
    invalid(
        ReduceLrOnPlateau::new(
            &o,
            PlateauConfig {
                min_lr: -1.0,
                ..Default::default()
            },
        ),
        "min_lr",
    );
    // None of the failed constructions changed the lr.
    assert_eq!(o.lr(), 0.1);
}

#[test]
fn scheduler_misuse() {
    let mut o = sgd();
    let mut one = OneCycleLr::new(&mut o, OneCycleConfig::new(1.0, 3)).unwrap();
    for _ in 0..3 {
        one.step(&mut o).unwrap();
    }
    invalid(one.step(&mut o), "total steps is 3");
    assert_eq!(one.last_epoch(), 3, "a failed step does not advance");

    let mut o = sgd();
    let mut plateau = ReduceLrOnPlateau::new(&o, PlateauConfig::default()).unwrap();
    invalid(plateau.step(&mut o), "step_with_metric");
    assert!(plateau.needs_metric());

    let mut o = sgd();
    let a: Box<dyn LrScheduler> = Box::new(StepLr::new(&mut o, 2, 0.5).unwrap());
    let b: Box<dyn LrScheduler> = Box::new(ExponentialLr::new(&mut o, 0.9).unwrap());
    invalid(SequentialLr::new(&mut o, vec![a, b], vec![]), "milestone");
    let a: Box<dyn LrScheduler> = Box::new(StepLr::new(&mut o, 2, 0.5).unwrap());
    let b: Box<dyn LrScheduler> = Box::new(ExponentialLr::new(&mut o, 0.9).unwrap());
    let c: Box<dyn LrScheduler> = Box::new(ExponentialLr::new(&mut o, 0.8).unwrap());
    invalid(SequentialLr::new(&mut o, vec![a, b, c], vec![5, 2]), "non-decreasing");
    invalid(SequentialLr::new(&mut o, vec![], vec![]), "at least one");
    let p: Box<dyn LrScheduler> = Box::new(ReduceLrOnPlateau::new(&o, PlateauConfig::default()).unwrap());
    invalid(ChainedScheduler::new(&o, vec![p]), "needs a metric");
    invalid(ChainedScheduler::new(&o, vec![]), "at least one");

    let mut fresh = Sgd::new(vec![param()], SgdConfig::new(0.1)).unwrap();
    let s: Box<dyn LrScheduler> = Box::new(ReduceLrOnPlateau::new(&fresh, PlateauConfig::default()).unwrap());
    let _ = s;
    let e: Box<dyn LrScheduler> = Box::new(ExponentialLr::new(&mut fresh, 0.5).unwrap());
    fresh.set_initial_lr(None).unwrap();
    invalid(SequentialLr::new(&mut fresh, vec![e], vec![]), "initial_lr");
}

#[test]
fn scheduler_state_mismatches() {
    let mut o = sgd();
    let mut step = StepLr::new(&mut o, 2, 0.5).unwrap();
    let cosine = CosineAnnealingLr::new(&mut o, 10, 0.0).unwrap();
    let before = step.state();
    invalid(
        step.load_state(&cosine.state()),
        "cannot load a CosineAnnealingLR state into a StepLR",
    );
    assert_eq!(step.state(), before);

    // A corrupt state (step_size 0 would divide by zero) is rejected, not panicked on.
    let mut json = serde_json::to_value(step.state()).unwrap();
    json["StepLr"]["step_size"] = serde_json::json!(0);
    let corrupt: neurite::optim::SchedulerState = serde_json::from_value(json).unwrap();
    invalid(step.load_state(&corrupt), "step_size");
    invalid(corrupt.into_scheduler(), "step_size");

    let a: Box<dyn LrScheduler> = Box::new(LinearLr::new(&mut o, 0.5, 1.0, 3).unwrap());
    let b: Box<dyn LrScheduler> = Box::new(ExponentialLr::new(&mut o, 0.9).unwrap());
    let mut seq = SequentialLr::new(&mut o, vec![a, b], vec![3]).unwrap();
    let a: Box<dyn LrScheduler> = Box::new(LinearLr::new(&mut o, 0.5, 1.0, 3).unwrap());
    let b: Box<dyn LrScheduler> = Box::new(StepLr::new(&mut o, 2, 0.9).unwrap());
    let other = SequentialLr::new(&mut o, vec![a, b], vec![3]).unwrap();
    invalid(seq.load_state(&other.state()), "ExponentialLR");
}
