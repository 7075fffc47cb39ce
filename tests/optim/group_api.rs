//! Parameter groups: construction errors, per-group accessors, the
//! decay/no-decay split, and saved group states that do not fit or were
//! tampered with.

use neurite::nn::{BatchNorm1d, Embedding, LayerNorm, Linear, Module, Sequential};
use neurite::optim::lr_scheduler::{LrScheduler, OneCycleConfig, OneCycleLr, SchedulerState, StepLr};
use neurite::optim::{
    Adam, AdamConfig, AdamW, AdamWConfig, Optimizer, OptimizerConfig, OptimizerState, ParamGroup, RmsProp,
    RmsPropConfig, Sgd, SgdConfig, decay_groups,
};
use neurite::{DType, Device, GradStore, Result, Tensor};

fn p(n: usize) -> Tensor {
    Tensor::ones(n, DType::F64, &Device::cpu()).unwrap().requires_grad()
}

fn invalid<T>(r: Result<T>, needle: &str) {
    match r {
        Ok(_) => panic!("expected an error mentioning {needle:?}"),
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains(needle), "message {msg:?} does not mention {needle:?}");
        }
    }
}

fn two_groups() -> (Sgd, Tensor, Tensor) {
    let (a, b) = (p(2), p(3));
    let opt = Sgd::with_groups(
        vec![
            ParamGroup::new(vec![a.clone()]),
            ParamGroup::new(vec![b.clone()]).lr(0.5).momentum(0.5),
        ],
        SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            ..Default::default()
        },
    )
    .unwrap();
    (opt, a, b)
}

#[test]
fn construction_errors_name_the_problem() {
    let (a, b) = (p(2), p(2));
    invalid(
        Sgd::with_groups(
            vec![
                ParamGroup::new(vec![a.clone()]),
                ParamGroup::new(vec![b.clone(), a.clone()]),
            ],
            SgdConfig::new(0.1),
        ),
        "some parameters appear in more than one parameter group",
    );
    invalid(
        Adam::with_groups(vec![ParamGroup::new(vec![a.clone(), a.clone()])], AdamConfig::default()),
        "more than once",
    );
    invalid(
        Sgd::with_groups(
            vec![
                ParamGroup::new(vec![a.clone()]),
                ParamGroup::new(vec![b.clone()]).betas((0.9, 0.99)),
            ],
            SgdConfig::new(0.1),
        ),
        "parameter group 1 sets [\"betas\"], which SGD does not have",
    );
    invalid(
        RmsProp::with_groups(
            vec![ParamGroup::new(vec![a.clone()]).amsgrad(true)],
            RmsPropConfig::default(),
        ),
        "amsgrad",
    );
    invalid(
        AdamW::with_groups(
            vec![
                ParamGroup::new(vec![a.clone()]),
                ParamGroup::new(vec![b.clone()]).lr(-1.0),
            ],
            AdamWConfig::default(),
        ),
        "parameter group 1: Invalid learning rate: -1",
    );
    invalid(
        Sgd::with_groups(
            vec![ParamGroup::new(vec![a.clone()]).nesterov(true)],
            SgdConfig::new(0.1),
        ),
        "Nesterov",
    );
    invalid(Sgd::with_groups(vec![], SgdConfig::new(0.1)), "empty parameter list");
    invalid(
        Sgd::with_groups(
            vec![ParamGroup::new(vec![]), ParamGroup::new(vec![])],
            SgdConfig::new(0.1),
        ),
        "empty parameter list",
    );
    invalid(
        Sgd::with_groups(
            vec![
                ParamGroup::named(vec![("w".into(), a.clone())]),
                ParamGroup::named(vec![("w".into(), b.clone())]),
            ],
            SgdConfig::new(0.1),
        ),
        "\"w\" appears more than once",
    );
    let ids = Tensor::zeros(2, DType::I64, &Device::cpu()).unwrap();
    invalid(
        Sgd::with_groups(
            vec![ParamGroup::new(vec![a]), ParamGroup::new(vec![ids])],
            SgdConfig::new(0.1),
        ),
        "parameter 0 of group 1 has dtype i64",
    );
    // An empty group next to a full one is allowed, as in PyTorch.
    let opt = Sgd::with_groups(
        vec![ParamGroup::new(vec![b]), ParamGroup::new(vec![])],
        SgdConfig::new(0.1),
    )
    .unwrap();
    assert_eq!(opt.num_groups(), 2);
    assert!(opt.group_params(1).unwrap().is_empty());
}

#[test]
fn per_group_accessors() {
    let (mut opt, a, b) = two_groups();
    assert_eq!(opt.num_groups(), 2);
    assert_eq!(opt.group_lrs(), vec![0.1, 0.5]);
    assert_eq!(opt.lr(), 0.1, "lr() is group 0's");
    assert_eq!(
        (opt.group_momentum(0).unwrap(), opt.group_momentum(1).unwrap()),
        (Some(0.9), Some(0.5))
    );
    assert_eq!(opt.params().len(), 2);
    assert_eq!(opt.group_params(1).unwrap()[0].id(), b.id());
    assert_eq!(opt.group_params(0).unwrap()[0].id(), a.id());
    let OptimizerConfig::Sgd(c) = opt.group_config(1).unwrap() else {
        panic!("an SGD config")
    };
    assert_eq!((c.lr, c.momentum, c.dampening), (0.5, 0.5, 0.0));
    assert_eq!(opt.defaults().lr, 0.1);

    opt.set_group_lr(1, 0.25).unwrap();
    assert_eq!(opt.group_lrs(), vec![0.1, 0.25]);
    opt.set_lr(0.3).unwrap();
    assert_eq!(opt.group_lrs(), vec![0.3, 0.3], "set_lr sets every group");
    opt.set_group_momentum(0, 0.8).unwrap();
    assert_eq!(opt.group_momentum(0).unwrap(), Some(0.8));
    invalid(opt.set_group_momentum(1, 1.5), "momentum");
    opt.set_group_initial_lr(1, Some(0.7)).unwrap();
    assert_eq!((opt.initial_lr(), opt.group_initial_lr(1).unwrap()), (None, Some(0.7)));

    invalid(opt.group_lr(2), "SGD has 2 parameter group(s), there is no group 2");
    invalid(opt.set_group_lr(2, 0.1), "no group 2");
    invalid(opt.group_params(9), "no group 9");
    invalid(opt.group_config(2), "no group 2");
    invalid(opt.group_momentum(2), "no group 2");
    invalid(opt.set_group_initial_lr(3, None), "no group 3");
    assert_eq!(opt.group_lrs(), vec![0.3, 0.3], "failed calls change nothing");
}

#[test]
fn each_group_steps_with_its_own_hyperparameters() {
    // Plain SGD, gradient 1 everywhere: w -= lr, and L2 decay adds wd * w.
    let (a, b) = (p(2), p(2));
    let mut opt = Sgd::with_groups(
        vec![
            ParamGroup::new(vec![a.clone()]).weight_decay(0.5),
            ParamGroup::new(vec![b.clone()]).lr(0.2),
        ],
        SgdConfig::new(0.1),
    )
    .unwrap();
    let loss = a.sum_all().unwrap().add(&b.sum_all().unwrap()).unwrap();
    opt.step(&loss.backward().unwrap()).unwrap();
    assert_eq!(a.to_vec::<f64>().unwrap(), vec![1.0 - 0.1 * 1.5; 2]);
    assert_eq!(b.to_vec::<f64>().unwrap(), vec![1.0 - 0.2; 2]);
    assert_eq!(opt.step_count(), 1);
}

#[test]
fn decay_groups_split_weights_from_biases_and_norms() {
    let model = Sequential::new()
        .add(Embedding::new(10, 4))
        .add(Linear::new(4, 6))
        .add(LayerNorm::new(vec![6]))
        .add(Linear::new(6, 3))
        .add(BatchNorm1d::new(3));
    let groups = decay_groups(model.named_parameters(), 0.1);
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].names().unwrap(), ["0.weight", "1.weight", "3.weight"]);
    assert_eq!(
        groups[1].names().unwrap(),
        ["1.bias", "2.weight", "2.bias", "3.bias", "4.weight", "4.bias"]
    );
    assert_eq!(groups[0].options().weight_decay, Some(0.1));
    assert_eq!(groups[1].options().weight_decay, Some(0.0));
    assert_eq!(groups[1].options().lr, None, "other hyperparameters stay the defaults'");

    // AdamW with zero gradients: only the decoupled decay acts, on group 0 only.
    let before: Vec<Vec<f32>> = model.parameters().iter().map(|t| t.to_vec::<f32>().unwrap()).collect();
    let mut opt = AdamW::with_groups(groups, AdamWConfig::new(0.5)).unwrap();
    let mut grads = GradStore::new();
    for t in opt.params() {
        grads.insert(t, t.zeros_like().unwrap());
    }
    opt.step(&grads).unwrap();
    for ((name, t), old) in model.named_parameters().iter().zip(&before) {
        let factor = if t.rank() >= 2 { 1.0 - 0.5 * 0.1 } else { 1.0 };
        let want: Vec<f32> = old.iter().map(|v| v * factor as f32).collect();
        assert_eq!(t.to_vec::<f32>().unwrap(), want, "{name}");
    }

    // A model without biases or norms still gets two groups, the second empty.
    let bare = Sequential::new().add(Linear::new(2, 2).with_bias(false));
    let groups = decay_groups(bare.named_parameters(), 0.1);
    assert_eq!((groups[0].params().len(), groups[1].params().len()), (1, 0));
    assert_eq!(Sgd::with_groups(groups, SgdConfig::new(0.1)).unwrap().num_groups(), 2);
}

#[test]
fn schedulers_attach_to_every_group() {
    let (mut opt, _, _) = two_groups();
    let mut sched = StepLr::new(&mut opt, 1, 0.5).unwrap();
    assert_eq!(
        (opt.group_initial_lr(0).unwrap(), opt.group_initial_lr(1).unwrap()),
        (Some(0.1), Some(0.5))
    );
    sched.step(&mut opt).unwrap();
    assert_eq!(opt.group_lrs(), vec![0.05, 0.25]);
    assert_eq!(sched.get_last_lrs(), vec![0.05, 0.25]);
    assert_eq!(sched.get_last_lr(), 0.05);

    // A schedule built for two groups refuses an optimizer with one.
    let mut single = Sgd::new(vec![p(2)], SgdConfig::new(0.1)).unwrap();
    let before = sched.state();
    invalid(sched.step(&mut single), "built for 2 parameter group(s), SGD has 1");
    assert_eq!(sched.state(), before, "a refused step changes nothing");
    assert_eq!(single.lr(), 0.1);

    let (mut opt, _, _) = two_groups();
    let mut config = OneCycleConfig::new(1.0, 10);
    config.group_max_lrs = Some(vec![1.0, 2.0, 3.0]);
    invalid(
        OneCycleLr::new(&mut opt, config.clone()),
        "group_max_lrs has 3 values, SGD has 2",
    );
    config.group_max_lrs = Some(vec![1.0, f64::NAN]);
    invalid(OneCycleLr::new(&mut opt, config), "group_max_lrs");
}

#[test]
fn group_structure_mismatches_are_refused_on_load() {
    let (opt, _, _) = two_groups();
    let saved = opt.state().unwrap();

    // One group of two parameters against two groups of one.
    let mut one = Sgd::new(vec![p(2), p(3)], SgdConfig::new(0.1)).unwrap();
    let before = one.state().unwrap();
    invalid(
        one.load_state(&saved),
        "the state has 2 parameter group(s), this optimizer has 1",
    );
    assert_eq!(one.state().unwrap(), before);

    // The same sizes split differently.
    let (x, y, z) = (p(2), p(2), p(2));
    let a = Sgd::with_groups(
        vec![
            ParamGroup::new(vec![x.clone()]),
            ParamGroup::new(vec![y.clone(), z.clone()]),
        ],
        SgdConfig::new(0.1),
    )
    .unwrap();
    let mut b = Sgd::with_groups(
        vec![
            ParamGroup::new(vec![x.clone(), y.clone()]),
            ParamGroup::new(vec![z.clone()]),
        ],
        SgdConfig::new(0.1),
    )
    .unwrap();
    invalid(
        b.load_state(&a.state().unwrap()),
        "group 0 of the state has 1 parameters, this optimizer's has 2",
    );

    // Names that differ.
    let named = |n: &str| {
        Sgd::with_groups(
            vec![ParamGroup::named(vec![(n.to_string(), x.clone())])],
            SgdConfig::new(0.1),
        )
        .unwrap()
    };
    invalid(
        named("w").load_state(&named("v").state().unwrap()),
        "holds parameter \"v\" where this optimizer's holds \"w\"",
    );
}

/// A valid two-group state with buffers, to tamper with.
fn saved_state() -> (Sgd, OptimizerState) {
    let (mut opt, a, b) = two_groups();
    let loss = a.sum_all().unwrap().add(&b.sqr().unwrap().sum_all().unwrap()).unwrap();
    opt.step(&loss.backward().unwrap()).unwrap();
    let _ = StepLr::new(&mut opt, 2, 0.5).unwrap();
    let s = opt.state().unwrap();
    (opt, s)
}

#[test]
fn tampered_group_states_are_refused() {
    let (mut opt, good) = saved_state();
    good.validate().unwrap();
    let before = opt.state().unwrap();
    let mut cases: Vec<(OptimizerState, &str)> = Vec::new();
    let mut s = good.clone();
    s.groups[1].params = vec![0];
    cases.push((s, "group 1 lists parameter 0 where parameter 1 was expected"));
    let mut s = good.clone();
    s.groups.clear();
    cases.push((s, "no parameter groups"));
    let mut s = good.clone();
    s.groups[1].config = OptimizerConfig::Adam(AdamConfig::default());
    cases.push((s, "group 1 holds Adam hyperparameters in a SGD state"));
    let mut s = good.clone();
    s.groups[0].initial_lr = Some(f64::NAN);
    cases.push((s, "initial_lr NaN"));
    let mut s = good.clone();
    if let OptimizerConfig::Sgd(c) = &mut s.groups[1].config {
        c.momentum = -0.5;
    }
    cases.push((s, "momentum"));
    let mut s = good.clone();
    s.groups[1].params.push(2);
    cases.push((s, "the groups hold 3 parameters, but the state is for 2"));
    let mut s = good.clone();
    s.groups[0].names = Some(vec!["a".into(), "b".into()]);
    cases.push((s, "group 0 has 1 parameters but 2 names"));
    let mut s = good.clone();
    s.groups[0].names = Some(vec!["a".into()]);
    s.groups[1].names = Some(vec!["a".into()]);
    cases.push((s, "\"a\" appears more than once"));
    let mut s = good.clone();
    let buf = s
        .params
        .get_mut(&1)
        .unwrap()
        .buffers
        .get_mut("momentum_buffer")
        .unwrap();
    buf.shape = vec![usize::MAX, 3];
    cases.push((s, "shape"));
    for (state, needle) in cases {
        invalid(state.validate(), needle);
        invalid(opt.load_state(&state), needle);
        assert_eq!(
            opt.state().unwrap(),
            before,
            "a refused load changes nothing ({needle})"
        );
    }
}

#[test]
fn building_from_a_state_needs_names_for_several_groups() {
    let (_, state) = saved_state();
    invalid(
        state.build_optimizer(vec![("a".into(), p(2)), ("b".into(), p(3))]),
        "not all of them name their parameters",
    );
    // One unnamed group is matched by position.
    let w = p(2);
    let mut one = Sgd::new(vec![w.clone()], SgdConfig::new(0.1)).unwrap();
    one.set_lr(0.05).unwrap();
    let rebuilt = one
        .state()
        .unwrap()
        .build_optimizer(vec![("x".into(), w.clone())])
        .unwrap();
    assert_eq!(rebuilt.lr(), 0.05);
    invalid(
        one.state().unwrap().build_optimizer(vec![]),
        "the state is for 1 parameters, the model has 0",
    );
    // Named groups are matched by name, whatever the model's order.
    let model = Sequential::new().add(Linear::new(2, 3));
    let opt = Sgd::with_groups(decay_groups(model.named_parameters(), 0.1), SgdConfig::new(0.1)).unwrap();
    let mut reversed = model.named_parameters();
    reversed.reverse();
    let rebuilt = opt.state().unwrap().build_optimizer(reversed).unwrap();
    assert_eq!(rebuilt.group_params(0).unwrap()[0].dims(), [3, 2]);
    invalid(
        opt.state().unwrap().build_optimizer(vec![("0.weight".into(), p(6))]),
        "holds parameter \"0.bias\", which the model does not have",
    );
    let custom = OptimizerState::new(
        OptimizerConfig::Custom {
            name: "Lion".into(),
            values: Default::default(),
        },
        1,
    );
    custom.validate().unwrap();
    invalid(
        custom.build_optimizer(vec![("w".into(), w)]),
        "\"Lion\" is a custom optimizer",
    );
}

/// xorshift64*: deterministic bytes without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn corrupted_bincode_states_are_decoded_or_refused_without_panicking() {
    let cfg = bincode::config::standard();
    let (opt, state) = saved_state();
    let (mut adam, mut sched) = {
        let mut o = Adam::with_groups(
            vec![ParamGroup::new(vec![p(2)]), ParamGroup::new(vec![p(3)]).lr(0.1)],
            AdamConfig::default(),
        )
        .unwrap();
        let s = OneCycleLr::new(&mut o, OneCycleConfig::new(1.0, 50)).unwrap();
        (o, s)
    };
    sched.step(&mut adam).unwrap();
    let opt_bytes = bincode::serde::encode_to_vec(&state, cfg).unwrap();
    let sched_bytes = bincode::serde::encode_to_vec(sched.state(), cfg).unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut decoded, mut loaded) = (0, 0);
    for round in 0..3000u32 {
        let (mut bytes, is_opt) = if round.is_multiple_of(2) {
            (opt_bytes.clone(), true)
        } else {
            (sched_bytes.clone(), false)
        };
        for _ in 0..1 + rng.next() % 4 {
            let i = (rng.next() as usize) % bytes.len();
            bytes[i] = rng.next() as u8;
        }
        if rng.next().is_multiple_of(8) {
            bytes.truncate((rng.next() as usize) % bytes.len());
        }
        if is_opt {
            let Ok((s, _)) = bincode::serde::decode_from_slice::<OptimizerState, _>(&bytes, cfg) else {
                continue;
            };
            decoded += 1;
            let mut target = Sgd::with_groups(
                vec![ParamGroup::new(vec![p(2)]), ParamGroup::new(vec![p(3)])],
                SgdConfig::new(0.1),
            )
            .unwrap();
            if s.validate().is_ok() && target.load_state(&s).is_ok() {
                loaded += 1;
                let g = target.params()[0].sum_all().unwrap().backward().unwrap();
                let _ = target.step(&g);
            }
            let _ = s.build_optimizer(vec![("a".into(), p(2)), ("b".into(), p(3))]);
        } else {
            let Ok((s, _)) = bincode::serde::decode_from_slice::<SchedulerState, _>(&bytes, cfg) else {
                continue;
            };
            decoded += 1;
            if let Ok(mut rebuilt) = s.into_scheduler() {
                loaded += 1;
                for _ in 0..3 {
                    let _ = rebuilt.step(&mut adam);
                }
                let _ = rebuilt.get_last_lrs();
            }
        }
    }
    // The damage must reach the checks, not only the decoder.
    assert!(decoded > 300 && loaded > 30, "decoded {decoded}, loaded {loaded}");
    assert_eq!(opt.num_groups(), 2);
}
