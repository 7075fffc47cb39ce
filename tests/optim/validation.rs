//! Every hyperparameter is checked wherever it is set (constructors, parameter
//! groups, setters, restored states), with PyTorch's wording where it has one,
//! and epoch arithmetic never overflows: an error names the op and the value.

use neurite::optim::lr_scheduler::{
    ConstantLr, CosineAnnealingLr, CosineAnnealingWarmRestarts, ExponentialLr, LinearLr, LrScheduler, MultiStepLr,
    OneCycleConfig, OneCycleLr, PlateauConfig, ReduceLrOnPlateau, SchedulerState, StepLr,
};
use neurite::optim::{
    Adam, AdamConfig, AdamW, AdamWConfig, Optimizer, OptimizerConfig, OptimizerState, ParamGroup, RmsProp,
    RmsPropConfig, Sgd, SgdConfig,
};
use neurite::{DType, Device, Error, GradStore, Result, Tensor};

fn param() -> Tensor {
    Tensor::zeros(2, DType::F32, &Device::cpu()).unwrap().requires_grad()
}

fn sgd(lr: f64) -> Sgd {
    Sgd::new(vec![param()], SgdConfig::new(lr)).unwrap()
}

/// Asserts an `InvalidArgument` whose message holds every needle.
#[track_caller]
fn invalid<T>(r: Result<T>, needles: &[&str]) {
    match r {
        Ok(_) => panic!("expected an error mentioning {needles:?}"),
        Err(e @ Error::InvalidArgument { .. }) => {
            let msg = e.to_string();
            for n in needles {
                assert!(msg.contains(n), "message {msg:?} does not mention {n:?}");
            }
        }
        Err(e) => panic!("expected InvalidArgument, got {e}"),
    }
}

/// The four built-in optimizers over one parameter, built with learning rate `lr`.
fn all_with_lr(lr: f64) -> Vec<(&'static str, Result<Box<dyn Optimizer>>)> {
    fn boxed<O: Optimizer + 'static>(r: Result<O>) -> Result<Box<dyn Optimizer>> {
        r.map(|o| Box::new(o) as Box<dyn Optimizer>)
    }
    vec![
        ("SGD", boxed(Sgd::new(vec![param()], SgdConfig::new(lr)))),
        ("Adam", boxed(Adam::new(vec![param()], AdamConfig::new(lr)))),
        ("AdamW", boxed(AdamW::new(vec![param()], AdamWConfig::new(lr)))),
        ("RMSprop", boxed(RmsProp::new(vec![param()], RmsPropConfig::new(lr)))),
    ]
}

#[test]
fn constructors_reject_every_invalid_learning_rate() {
    for (lr, shown) in [
        (-1.0, "-1"),
        (f64::NAN, "NaN"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
    ] {
        for (kind, r) in all_with_lr(lr) {
            invalid(r, &[kind, &format!("Invalid learning rate: {shown}")]);
        }
    }
    for (kind, r) in all_with_lr(0.0) {
        assert_eq!(r.unwrap_or_else(|e| panic!("{kind}: {e}")).lr(), 0.0);
    }
}

#[test]
fn set_lr_returns_an_error_and_changes_nothing() {
    for (kind, opt) in all_with_lr(0.1) {
        let mut opt = opt.unwrap();
        for bad in [-0.5, f64::NAN, f64::INFINITY] {
            invalid(opt.set_lr(bad), &[kind, "Invalid learning rate"]);
            invalid(opt.set_group_lr(0, bad), &["Invalid learning rate"]);
            invalid(opt.set_initial_lr(Some(bad)), &["initial_lr"]);
            invalid(opt.set_group_initial_lr(0, Some(bad)), &["initial_lr"]);
        }
        assert_eq!(opt.lr(), 0.1, "{kind}: a rejected lr is not applied");
        assert_eq!(opt.initial_lr(), None);
        opt.set_lr(0.25).unwrap();
        opt.set_initial_lr(Some(0.25)).unwrap();
        assert_eq!((opt.lr(), opt.initial_lr()), (0.25, Some(0.25)));
    }
}

#[test]
fn set_group_lr_checks_the_value_of_one_group() {
    let groups = vec![ParamGroup::new(vec![param()]), ParamGroup::new(vec![param()]).lr(0.5)];
    let mut opt = Sgd::with_groups(groups, SgdConfig::new(0.1)).unwrap();
    invalid(opt.set_group_lr(1, f64::NAN), &["SGD", "Invalid learning rate: NaN"]);
    invalid(opt.set_lr(-2.0), &["Invalid learning rate: -2"]);
    assert_eq!(opt.group_lrs(), vec![0.1, 0.5]);
    opt.set_group_lr(1, 0.0).unwrap();
    assert_eq!(opt.group_lrs(), vec![0.1, 0.0]);
}

#[test]
fn eps_must_be_finite_and_not_negative() {
    let p = || vec![param()];
    for eps in [-1e-8, f64::NAN, f64::INFINITY] {
        let adam = Adam::new(
            p(),
            AdamConfig {
                eps,
                ..Default::default()
            },
        );
        invalid(adam, &["Adam", "Invalid epsilon value"]);
        let adamw = AdamW::new(
            p(),
            AdamWConfig {
                eps,
                ..Default::default()
            },
        );
        invalid(adamw, &["AdamW", "Invalid epsilon value"]);
        let rms = RmsProp::new(
            p(),
            RmsPropConfig {
                eps,
                ..Default::default()
            },
        );
        invalid(rms, &["RMSprop", "eps"]);
    }
    Adam::new(
        p(),
        AdamConfig {
            eps: 1e-12,
            ..Default::default()
        },
    )
    .unwrap();
}

#[test]
fn betas_use_pytorchs_wording() {
    let p = || vec![param()];
    let r = Adam::new(
        p(),
        AdamConfig {
            betas: (0.9, f64::NAN),
            ..Default::default()
        },
    );
    invalid(r, &["Invalid beta parameter at index 1: NaN"]);
    let r = AdamW::new(
        p(),
        AdamWConfig {
            betas: (1.0, 0.999),
            ..Default::default()
        },
    );
    invalid(r, &["Invalid beta parameter at index 0: 1"]);
    Adam::new(
        p(),
        AdamConfig {
            betas: (0.0, 0.0),
            ..Default::default()
        },
    )
    .unwrap();
}

#[test]
fn sgd_momentum_dampening_and_nesterov() {
    let p = || vec![param()];
    let cfg = |momentum, dampening, nesterov| SgdConfig {
        lr: 0.1,
        momentum,
        dampening,
        nesterov,
        ..Default::default()
    };
    for d in [1.5, -0.1, f64::NAN] {
        invalid(Sgd::new(p(), cfg(0.9, d, false)), &["SGD", "dampening"]);
    }
    invalid(Sgd::new(p(), cfg(f64::INFINITY, 0.0, false)), &["momentum"]);
    invalid(
        Sgd::new(p(), cfg(0.0, 0.0, true)),
        &["Nesterov momentum requires a momentum and zero dampening"],
    );
    invalid(Sgd::new(p(), cfg(0.9, 0.5, true)), &["Nesterov", "dampening 0.5"]);
    let mut nesterov = Sgd::new(p(), cfg(0.9, 0.0, true)).unwrap();
    // Turning the momentum off would break the Nesterov rule: refused, unchanged.
    invalid(nesterov.set_momentum(0.0), &["Nesterov"]);
    invalid(nesterov.set_group_momentum(0, 0.0), &["Nesterov"]);
    assert_eq!(nesterov.momentum(), Some(0.9));
    nesterov.set_momentum(0.5).unwrap();
    assert_eq!(nesterov.momentum(), Some(0.5));
}

#[test]
fn rmsprop_alpha_momentum_and_weight_decay() {
    let p = || vec![param()];
    for alpha in [f64::NAN, -0.01, 1.01] {
        invalid(
            RmsProp::new(
                p(),
                RmsPropConfig {
                    alpha,
                    ..Default::default()
                },
            ),
            &["alpha"],
        );
    }
    let wd = RmsProp::new(
        p(),
        RmsPropConfig {
            weight_decay: f64::NAN,
            ..Default::default()
        },
    );
    invalid(wd, &["Invalid weight_decay value: NaN"]);
    RmsProp::new(
        p(),
        RmsPropConfig {
            alpha: 0.0,
            ..Default::default()
        },
    )
    .unwrap();
}

#[test]
fn group_options_are_checked_per_group() {
    let groups = || vec![ParamGroup::new(vec![param()]), ParamGroup::new(vec![param()])];
    let with = |g1: ParamGroup| vec![ParamGroup::new(vec![param()]), g1];
    invalid(
        Sgd::with_groups(with(ParamGroup::new(vec![param()]).lr(f64::NAN)), SgdConfig::new(0.1)),
        &["parameter group 1", "Invalid learning rate: NaN"],
    );
    invalid(
        Adam::with_groups(with(ParamGroup::new(vec![param()]).eps(-1.0)), AdamConfig::default()),
        &["parameter group 1", "epsilon"],
    );
    invalid(
        Sgd::with_groups(with(ParamGroup::new(vec![param()]).nesterov(true)), SgdConfig::new(0.1)),
        &["parameter group 1", "Nesterov"],
    );
    invalid(
        RmsProp::with_groups(
            with(ParamGroup::new(vec![param()]).alpha(2.0)),
            RmsPropConfig::default(),
        ),
        &["parameter group 1", "alpha"],
    );
    // Invalid defaults are reported even when every group overrides the value.
    invalid(
        Sgd::with_groups(groups(), SgdConfig::new(-1.0)),
        &["Invalid learning rate: -1"],
    );
    let ok = Sgd::with_groups(with(ParamGroup::new(vec![param()]).lr(0.0)), SgdConfig::new(0.1)).unwrap();
    assert_eq!(ok.group_lrs(), vec![0.1, 0.0]);
}

#[test]
fn loading_a_state_with_an_invalid_lr_is_refused() {
    let mut opt = sgd(0.1);
    let good = opt.state().unwrap();
    let mut bad = good.clone();
    if let OptimizerConfig::Sgd(c) = &mut bad.groups[0].config {
        c.lr = f64::NAN;
    }
    invalid(opt.load_state(&bad), &["Invalid learning rate: NaN"]);
    invalid(
        bad.build_optimizer(vec![("w".into(), param())]),
        &["Invalid learning rate: NaN"],
    );
    let mut bad = good.clone();
    bad.groups[0].initial_lr = Some(f64::INFINITY);
    invalid(opt.load_state(&bad), &["initial_lr"]);
    let mut bad = good.clone();
    if let OptimizerConfig::Sgd(c) = &mut bad.config {
        c.dampening = 1.5;
    }
    invalid(opt.load_state(&bad), &["dampening"]);
    assert_eq!(opt.state().unwrap(), good, "failed loads change nothing");
    opt.load_state(&good).unwrap();
}

/// An optimizer defined outside the crate, without a momentum hyperparameter.
struct Plain {
    params: Vec<Tensor>,
    lr: f64,
    initial_lr: Option<f64>,
}

impl Optimizer for Plain {
    fn name(&self) -> &'static str {
        "Plain"
    }
    fn step(&mut self, _grads: &GradStore) -> Result<()> {
        Ok(())
    }
    fn lr(&self) -> f64 {
        self.lr
    }
    fn set_lr(&mut self, lr: f64) -> Result<()> {
        if !(lr.is_finite() && lr >= 0.0) {
            return Err(Error::invalid("Plain", format!("Invalid learning rate: {lr}")));
        }
        self.lr = lr;
        Ok(())
    }
    fn initial_lr(&self) -> Option<f64> {
        self.initial_lr
    }
    fn set_initial_lr(&mut self, lr: Option<f64>) -> Result<()> {
        self.initial_lr = lr;
        Ok(())
    }
    fn params(&self) -> &[Tensor] {
        &self.params
    }
    fn step_count(&self) -> u64 {
        0
    }
    fn state(&self) -> Result<OptimizerState> {
        let values = [("lr".to_string(), self.lr)].into_iter().collect();
        Ok(OptimizerState::new(
            OptimizerConfig::Custom {
                name: "Plain".into(),
                values,
            },
            self.params.len(),
        ))
    }
    fn load_state(&mut self, _state: &OptimizerState) -> Result<()> {
        Ok(())
    }
}

#[test]
fn one_cycle_needs_momentum_to_cycle() {
    let mut plain = Plain {
        params: vec![param()],
        lr: 0.1,
        initial_lr: None,
    };
    invalid(
        OneCycleLr::new(&mut plain, OneCycleConfig::new(1.0, 10)),
        &[
            "OneCycleLR",
            "optimizer must support momentum or beta1 with `cycle_momentum` option enabled",
            "Plain",
        ],
    );
    assert_eq!((plain.lr, plain.initial_lr), (0.1, None), "nothing changed");
    let config = OneCycleConfig {
        cycle_momentum: false,
        ..OneCycleConfig::new(1.0, 10)
    };
    let mut sched = OneCycleLr::new(&mut plain, config).unwrap();
    assert!((plain.lr - 1.0 / 25.0).abs() < 1e-12);
    sched.step(&mut plain).unwrap();
    // Adam's beta1 is its momentum.
    let mut adam = Adam::new(vec![param()], AdamConfig::default()).unwrap();
    OneCycleLr::new(&mut adam, OneCycleConfig::new(1.0, 10)).unwrap();
    assert_eq!(adam.momentum(), Some(0.95));
}

#[test]
fn eta_min_must_be_finite_and_non_negative() {
    for eta in [-1e-3, f64::NAN, f64::INFINITY] {
        let mut o = sgd(0.1);
        invalid(
            CosineAnnealingLr::new(&mut o, 10, eta),
            &["CosineAnnealingLR", "Invalid eta_min"],
        );
        invalid(
            CosineAnnealingWarmRestarts::new(&mut o, 10, 2, eta),
            &["CosineAnnealingWarmRestarts", "Invalid eta_min"],
        );
        assert_eq!(o.lr(), 0.1);
    }
    let mut o = sgd(0.1);
    CosineAnnealingLr::new(&mut o, 10, 0.0).unwrap();
    CosineAnnealingWarmRestarts::new(&mut o, 10, 2, 1e-4).unwrap();
}

/// One of every scheduler that can jump to an epoch, each on its own optimizer.
fn jumpers() -> Vec<(Sgd, Box<dyn LrScheduler>)> {
    fn one(f: impl FnOnce(&mut Sgd) -> Box<dyn LrScheduler>) -> (Sgd, Box<dyn LrScheduler>) {
        let mut o = Sgd::new(
            vec![param()],
            SgdConfig {
                lr: 0.1,
                momentum: 0.9,
                ..Default::default()
            },
        )
        .unwrap();
        let s = f(&mut o);
        (o, s)
    }
    vec![
        one(|o| Box::new(StepLr::new(o, 3, 0.5).unwrap())),
        one(|o| Box::new(MultiStepLr::new(o, vec![2, 4], 0.5).unwrap())),
        one(|o| Box::new(ConstantLr::new(o, 0.5, 3).unwrap())),
        one(|o| Box::new(LinearLr::new(o, 0.5, 1.0, 3).unwrap())),
        one(|o| Box::new(ExponentialLr::new(o, 0.5).unwrap())),
        one(|o| Box::new(CosineAnnealingLr::new(o, 5, 0.0).unwrap())),
        one(|o| Box::new(CosineAnnealingWarmRestarts::new(o, 3, 2, 0.0).unwrap())),
        one(|o| Box::new(OneCycleLr::new(o, OneCycleConfig::new(1.0, 10)).unwrap())),
    ]
}

#[test]
fn step_to_epoch_outside_the_epoch_range_is_an_error() {
    for (mut o, mut s) in jumpers() {
        let (lr, epoch) = (o.lr(), s.last_epoch());
        for bad in [i64::MAX, i64::MIN, -1, (1i64 << 53) + 1] {
            match s.step_to_epoch(bad, &mut o) {
                Err(Error::InvalidArgument { msg, .. }) => {
                    assert!(msg.contains(&bad.to_string()), "{}: {msg}", s.name())
                }
                other => panic!("{}: step_to_epoch({bad}) gave {other:?}", s.name()),
            }
            assert_eq!((o.lr(), s.last_epoch()), (lr, epoch), "{}: nothing changed", s.name());
        }
        s.step_to_epoch(7, &mut o).unwrap();
        assert_eq!(s.last_epoch(), 7, "{}: a valid jump still works", s.name());
    }
}

#[test]
fn stepping_from_the_last_epoch_is_an_error_not_an_overflow() {
    let mut o = sgd(0.1);
    let mut s = StepLr::new(&mut o, 3, 0.5).unwrap();
    s.step_to_epoch(1 << 53, &mut o).unwrap();
    assert_eq!(o.lr(), 0.0, "0.1 * 0.5^(2^53 / 3) underflows to 0");
    invalid(s.step(&mut o), &["cannot step past epoch 9007199254740992"]);
    assert_eq!(s.last_epoch(), 1 << 53);

    let mut o = sgd(0.1);
    let mut w = CosineAnnealingWarmRestarts::new(&mut o, 3, 2, 0.0).unwrap();
    w.step_to_epoch(1 << 53, &mut o).unwrap();
    invalid(w.step(&mut o), &["cannot step past epoch"]);
}

#[test]
fn restored_counters_at_the_limits_do_not_overflow() {
    let mut o = sgd(0.1);
    let mut s = StepLr::new(&mut o, 3, 0.5).unwrap();
    let mut json = serde_json::to_value(s.state()).unwrap();
    json["StepLr"]["base"]["last_epoch"] = serde_json::json!(i64::MAX);
    let corrupt: SchedulerState = serde_json::from_value(json.clone()).unwrap();
    invalid(s.load_state(&corrupt), &["last_epoch 9223372036854775807"]);
    json["StepLr"]["base"]["last_epoch"] = serde_json::json!(1i64 << 53);
    json["StepLr"]["base"]["step_count"] = serde_json::json!(u64::MAX);
    s.load_state(&serde_json::from_value(json).unwrap()).unwrap();
    invalid(s.step(&mut o), &["cannot step past"]);

    let mut p = ReduceLrOnPlateau::new(
        &o,
        PlateauConfig {
            patience: usize::MAX,
            ..Default::default()
        },
    )
    .unwrap();
    p.step_with_metric(1.0, &mut o).unwrap();
    let mut json = serde_json::to_value(p.state()).unwrap();
    json["ReduceLrOnPlateau"]["num_bad_epochs"] = serde_json::json!(usize::MAX);
    p.load_state(&serde_json::from_value(json).unwrap()).unwrap();
    p.step_with_metric(2.0, &mut o).unwrap();
    assert_eq!(p.num_bad_epochs(), usize::MAX, "saturates instead of wrapping");
}

#[test]
fn huge_periods_and_milestones_mean_never() {
    // usize::MAX does not fit an epoch index; it must not wrap to -1 (which
    // made every epoch a multiple of the step size, or every epoch past the milestone).
    let mut o = sgd(0.1);
    let mut s = StepLr::new(&mut o, usize::MAX, 0.5).unwrap();
    for _ in 0..5 {
        s.step(&mut o).unwrap();
    }
    assert_eq!(o.lr(), 0.1);
    s.step_to_epoch(1000, &mut o).unwrap();
    assert_eq!(o.lr(), 0.1);

    let mut o = sgd(0.1);
    let mut m = MultiStepLr::new(&mut o, vec![1, usize::MAX], 0.5).unwrap();
    m.step_to_epoch(1000, &mut o).unwrap();
    assert_eq!(o.lr(), 0.05, "only the first milestone has passed");

    let mut o = sgd(0.1);
    let mut c = ConstantLr::new(&mut o, 0.5, usize::MAX).unwrap();
    c.step_to_epoch(1000, &mut o).unwrap();
    assert_eq!(o.lr(), 0.05, "the factor is never lifted");

    let mut o = sgd(0.1);
    let mut one = OneCycleLr::new(&mut o, OneCycleConfig::new(1.0, usize::MAX)).unwrap();
    one.step(&mut o).unwrap();
    assert!(o.lr() > 0.0 && o.lr() < 1.0);
}

#[test]
fn a_schedule_that_overflows_the_lr_is_stopped() {
    // gamma 2 doubles the lr each epoch; after ~1024 epochs it would be infinite.
    let mut o = sgd(1.0);
    let mut s = ExponentialLr::new(&mut o, 2.0).unwrap();
    let mut failed = None;
    for epoch in 1..2000 {
        if let Err(e) = s.step(&mut o) {
            failed = Some((epoch, e.to_string()));
            break;
        }
    }
    let (epoch, msg) = failed.expect("the lr overflowed without an error");
    assert!(msg.contains("invalid learning rate inf"), "{msg}");
    assert_eq!(s.last_epoch(), epoch - 1, "the failed step does not advance");
    assert!(o.lr().is_finite());
}

#[test]
fn a_linear_one_cycle_runs_to_its_last_step() {
    // PyTorch extrapolates the last step past the cycle: an lr below 0, and
    // here a momentum above 1. Both are held at the cycle's end values.
    let mut o = Sgd::new(
        vec![param()],
        SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            ..Default::default()
        },
    )
    .unwrap();
    let config = OneCycleConfig {
        anneal_strategy: neurite::optim::lr_scheduler::AnnealStrategy::Linear,
        max_momentum: 0.999,
        ..OneCycleConfig::new(0.5, 20)
    };
    let mut s = OneCycleLr::new(&mut o, config).unwrap();
    let mut lrs = vec![o.lr()];
    for _ in 0..20 {
        s.step(&mut o).unwrap();
        lrs.push(o.lr());
        assert!(o.momentum().unwrap() < 1.0);
    }
    assert!(lrs.iter().all(|&lr| lr >= 0.0), "{lrs:?}");
    assert_eq!(lrs[20], lrs[19], "held at the final lr");
    assert_eq!(o.momentum(), Some(0.999));
    invalid(s.step(&mut o), &["total steps is 20"]);
}
