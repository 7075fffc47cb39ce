//! Loading the PyTorch fixture files and building optimizers and schedulers
//! from their descriptions.

use neurite::optim::lr_scheduler::{
    AnnealStrategy, ChainedScheduler, ConstantLr, CosineAnnealingLr, CosineAnnealingWarmRestarts, ExponentialLr,
    LinearLr, LrScheduler, MultiStepLr, OneCycleConfig, OneCycleLr, PlateauConfig, PlateauMode, ReduceLrOnPlateau,
    SequentialLr, StepLr, ThresholdMode,
};
use neurite::optim::{
    Adam, AdamConfig, AdamW, AdamWConfig, Optimizer, ParamGroup, RmsProp, RmsPropConfig, Sgd, SgdConfig,
};
use neurite::{DType, Device, Result, Tensor};
use serde_json::Value;

/// Parses `tests/fixtures/<name>`.
pub fn load(name: &str) -> Value {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let path = std::path::Path::new(&dir).join("tests/fixtures").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("fixture JSON")
}

pub fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

pub fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_u64().expect("integer") as usize)
        .collect()
}

/// A tensor of `dtype` from fixture numbers.
pub fn tensor(data: &[f64], shape: &[usize], dtype: DType) -> Tensor {
    Tensor::from_slice(data, shape.to_vec(), &Device::cpu())
        .and_then(|t| t.to_dtype(dtype))
        .expect("fixture tensor")
}

pub fn num(h: &Value, key: &str, default: f64) -> f64 {
    h.get(key).and_then(Value::as_f64).unwrap_or(default)
}

pub fn flag(h: &Value, key: &str) -> bool {
    h.get(key).and_then(Value::as_bool).unwrap_or(false)
}

pub fn betas(h: &Value, default: (f64, f64)) -> (f64, f64) {
    h.get("betas")
        .map_or(default, |b| (b[0].as_f64().unwrap(), b[1].as_f64().unwrap()))
}

/// The optimizer a fixture case describes, over `params`, with PyTorch's
/// defaults for the hyperparameters the case leaves out.
pub fn optimizer(kind: &str, h: &Value, params: Vec<Tensor>) -> Box<dyn Optimizer> {
    grouped_optimizer(kind, h, vec![ParamGroup::new(params)]).expect("fixture optimizer")
}

/// The optimizer of kind `kind` over `groups`, whose defaults config is `h`
/// over PyTorch's defaults.
pub fn grouped_optimizer(kind: &str, h: &Value, groups: Vec<ParamGroup>) -> Result<Box<dyn Optimizer>> {
    Ok(match kind {
        "sgd" => {
            let d = SgdConfig::default();
            let c = SgdConfig {
                lr: num(h, "lr", d.lr),
                momentum: num(h, "momentum", d.momentum),
                dampening: num(h, "dampening", d.dampening),
                weight_decay: num(h, "weight_decay", d.weight_decay),
                nesterov: flag(h, "nesterov"),
            };
            Box::new(Sgd::with_groups(groups, c)?)
        }
        "adam" => {
            let d = AdamConfig::default();
            let c = AdamConfig {
                lr: num(h, "lr", d.lr),
                betas: betas(h, d.betas),
                eps: num(h, "eps", d.eps),
                weight_decay: num(h, "weight_decay", d.weight_decay),
                amsgrad: flag(h, "amsgrad"),
            };
            Box::new(Adam::with_groups(groups, c)?)
        }
        "adamw" => {
            let d = AdamWConfig::default();
            let c = AdamWConfig {
                lr: num(h, "lr", d.lr),
                betas: betas(h, d.betas),
                eps: num(h, "eps", d.eps),
                weight_decay: num(h, "weight_decay", d.weight_decay),
                amsgrad: flag(h, "amsgrad"),
            };
            Box::new(AdamW::with_groups(groups, c)?)
        }
        "rmsprop" => {
            let d = RmsPropConfig::default();
            let c = RmsPropConfig {
                lr: num(h, "lr", d.lr),
                alpha: num(h, "alpha", d.alpha),
                eps: num(h, "eps", d.eps),
                weight_decay: num(h, "weight_decay", d.weight_decay),
                momentum: num(h, "momentum", d.momentum),
                centered: flag(h, "centered"),
            };
            Box::new(RmsProp::with_groups(groups, c)?)
        }
        other => panic!("unknown optimizer {other}"),
    })
}

/// `group` with the options of a fixture's group description.
pub fn with_options(mut group: ParamGroup, options: &Value) -> ParamGroup {
    for (key, v) in options.as_object().expect("options object") {
        group = match key.as_str() {
            "lr" => group.lr(v.as_f64().unwrap()),
            "weight_decay" => group.weight_decay(v.as_f64().unwrap()),
            "momentum" => group.momentum(v.as_f64().unwrap()),
            "dampening" => group.dampening(v.as_f64().unwrap()),
            "nesterov" => group.nesterov(v.as_bool().unwrap()),
            "betas" => group.betas((v[0].as_f64().unwrap(), v[1].as_f64().unwrap())),
            "eps" => group.eps(v.as_f64().unwrap()),
            "alpha" => group.alpha(v.as_f64().unwrap()),
            "amsgrad" => group.amsgrad(v.as_bool().unwrap()),
            "centered" => group.centered(v.as_bool().unwrap()),
            other => panic!("unknown group option {other}"),
        };
    }
    group
}

/// The optimizer of a scheduler case: SGD with momentum 0.9 or default Adam.
pub fn sched_optimizer(kind: &str, lr: f64) -> Box<dyn Optimizer> {
    let p = Tensor::zeros(2, DType::F32, &Device::cpu()).unwrap().requires_grad();
    match kind {
        "sgd" => Box::new(
            Sgd::new(
                vec![p],
                SgdConfig {
                    lr,
                    momentum: 0.9,
                    ..Default::default()
                },
            )
            .unwrap(),
        ),
        "adam" => Box::new(Adam::new(vec![p], AdamConfig::new(lr)).unwrap()),
        other => panic!("unknown optimizer {other}"),
    }
}

/// The scheduler a fixture case describes, built on `opt`.
pub fn scheduler(spec: &Value, opt: &mut dyn Optimizer) -> Box<dyn LrScheduler> {
    let a = &spec["args"];
    let n = |key: &str, default: f64| num(a, key, default);
    let u = |key: &str, default: usize| a.get(key).and_then(Value::as_u64).map_or(default, |v| v as usize);
    match spec["type"].as_str().unwrap() {
        "StepLR" => Box::new(StepLr::new(opt, u("step_size", 0), n("gamma", 0.1)).unwrap()),
        "MultiStepLR" => Box::new(MultiStepLr::new(opt, usizes(&a["milestones"]), n("gamma", 0.1)).unwrap()),
        "ExponentialLR" => Box::new(ExponentialLr::new(opt, n("gamma", f64::NAN)).unwrap()),
        "CosineAnnealingLR" => Box::new(CosineAnnealingLr::new(opt, u("T_max", 0), n("eta_min", 0.0)).unwrap()),
        "CosineAnnealingWarmRestarts" => Box::new(
            CosineAnnealingWarmRestarts::new(opt, u("T_0", 0) as u64, u("T_mult", 1) as u64, n("eta_min", 0.0))
                .unwrap(),
        ),
        "LinearLR" => Box::new(
            LinearLr::new(
                opt,
                n("start_factor", 1.0 / 3.0),
                n("end_factor", 1.0),
                u("total_iters", 5),
            )
            .unwrap(),
        ),
        "ConstantLR" => Box::new(ConstantLr::new(opt, n("factor", 1.0 / 3.0), u("total_iters", 5)).unwrap()),
        "OneCycleLR" => {
            let mut c = OneCycleConfig::new(n("max_lr", f64::NAN), u("total_steps", 0));
            c.pct_start = n("pct_start", c.pct_start);
            c.div_factor = n("div_factor", c.div_factor);
            c.final_div_factor = n("final_div_factor", c.final_div_factor);
            c.base_momentum = n("base_momentum", c.base_momentum);
            c.max_momentum = n("max_momentum", c.max_momentum);
            c.three_phase = flag(a, "three_phase");
            c.group_max_lrs = a.get("max_lrs").map(f64s);
            c.cycle_momentum = a.get("cycle_momentum").and_then(Value::as_bool).unwrap_or(true);
            c.anneal_strategy = match a.get("anneal_strategy").and_then(Value::as_str) {
                Some("linear") => AnnealStrategy::Linear,
                _ => AnnealStrategy::Cos,
            };
            Box::new(OneCycleLr::new(opt, c).unwrap())
        }
        "ReduceLROnPlateau" => {
            let d = PlateauConfig::default();
            let c = PlateauConfig {
                mode: if a.get("mode").and_then(Value::as_str) == Some("max") {
                    PlateauMode::Max
                } else {
                    PlateauMode::Min
                },
                factor: n("factor", d.factor),
                patience: u("patience", d.patience),
                threshold: n("threshold", d.threshold),
                threshold_mode: if a.get("threshold_mode").and_then(Value::as_str) == Some("abs") {
                    ThresholdMode::Abs
                } else {
                    ThresholdMode::Rel
                },
                cooldown: u("cooldown", d.cooldown),
                min_lr: n("min_lr", d.min_lr),
                eps: n("eps", d.eps),
            };
            match a.get("min_lrs") {
                Some(m) => Box::new(ReduceLrOnPlateau::with_min_lrs(opt, c, f64s(m)).unwrap()),
                None => Box::new(ReduceLrOnPlateau::new(opt, c).unwrap()),
            }
        }
        "SequentialLR" => {
            let children = spec["children"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| scheduler(c, opt))
                .collect();
            Box::new(SequentialLr::new(opt, children, usizes(&a["milestones"])).unwrap())
        }
        "ChainedScheduler" => {
            let children = spec["children"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| scheduler(c, opt))
                .collect();
            Box::new(ChainedScheduler::new(opt, children).unwrap())
        }
        other => panic!("unknown scheduler {other}"),
    }
}
