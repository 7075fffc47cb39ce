//! `#[module(config)]`: a derived model rebuilt from its configuration.

use crate::models::{Block, Net, input};
use crate::values;
use neurite::nn::{Configurable, Forward, LayerConfig, Linear, Module, build_from_config};
use neurite::{Device, Error, Result, Tensor};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct TowerConfig {
    depth: usize,
    classes: Option<usize>,
}

/// A stem, `depth` blocks and an optional classifier, rebuilt from a `TowerConfig`.
#[derive(Module)]
#[module(config)]
struct Tower {
    stem: Block,
    blocks: Vec<Block>,
    classifier: Option<Linear>,
    #[module(skip)]
    cfg: TowerConfig,
}

impl Configurable for Tower {
    type Config = TowerConfig;

    fn module_config(&self) -> TowerConfig {
        self.cfg.clone()
    }

    fn from_module_config(c: &TowerConfig) -> Result<Tower> {
        if c.depth == 0 {
            return Err(Error::invalid("Tower", "depth must be at least 1, got 0"));
        }
        Ok(Tower {
            stem: Block::new(1, 4, 2),
            blocks: (0..c.depth).map(|_| Block::new(4, 4, 1)).collect(),
            classifier: c.classes.map(|k| Linear::new(64, k)),
            cfg: c.clone(),
        })
    }
}

impl Forward for Tower {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = self.stem.forward(x)?;
        for b in &self.blocks {
            h = b.forward(&h)?;
        }
        match &self.classifier {
            Some(c) => c.forward(&h.flatten(1, -1)?),
            None => Ok(h),
        }
    }
}

#[test]
fn config_round_trip_rebuilds_the_same_model() -> Result<()> {
    let cfg = TowerConfig {
        depth: 3,
        classes: Some(5),
    };
    let mut tower = Tower::from_module_config(&cfg)?;
    let config = tower.config()?;
    assert_eq!(
        config,
        LayerConfig::Custom {
            name: "Tower".into(),
            params: serde_json::json!({ "depth": 3, "classes": 5 }),
        }
    );
    // Through JSON, as a checkpoint stores it.
    let text = serde_json::to_string(&config).expect("serialise");
    let back: LayerConfig = serde_json::from_str(&text).expect("deserialise");
    let mut rebuilt = build_from_config::<Tower>(&back, &Device::cpu())?;
    assert_eq!(rebuilt.cfg, cfg);
    let shapes = |m: &Tower| -> Vec<(String, Vec<usize>)> {
        m.named_tensors()
            .into_iter()
            .map(|(n, t)| (n, t.dims().to_vec()))
            .collect()
    };
    assert_eq!(shapes(&rebuilt), shapes(&tower));
    assert_eq!(
        rebuilt.named_parameters().last().map(|(n, _)| n.clone()),
        Some("classifier.bias".into())
    );

    rebuilt.load_named_tensors(&tower.named_tensors().into_iter().collect())?;
    tower.eval();
    rebuilt.eval();
    let x = input(2);
    assert_eq!(values(&rebuilt.forward(&x)?), values(&tower.forward(&x)?));
    Ok(())
}

#[test]
fn bad_configurations_are_errors() -> Result<()> {
    let dev = Device::cpu();
    let wrong_type = LayerConfig::Custom {
        name: "Other".into(),
        params: serde_json::json!({}),
    };
    let err = build_from_config::<Tower>(&wrong_type, &dev)
        .err()
        .expect("another type's config");
    assert!(err.to_string().contains("\"Other\""), "{err}");
    let bad_params = LayerConfig::Custom {
        name: "Tower".into(),
        params: serde_json::json!({ "depth": "three" }),
    };
    let err = build_from_config::<Tower>(&bad_params, &dev)
        .err()
        .expect("undeserialisable params");
    assert!(err.to_string().contains("does not fit Tower"), "{err}");
    let zero = LayerConfig::Custom {
        name: "Tower".into(),
        params: serde_json::json!({ "depth": 0, "classes": null }),
    };
    let err = build_from_config::<Tower>(&zero, &dev).err().expect("invalid value");
    assert!(err.to_string().contains("depth must be at least 1"), "{err}");

    // Without #[module(config)] a derived model keeps the trait's default: an error that says what to do.
    let err = Net::new(true).config().expect_err("no configuration");
    assert!(err.to_string().contains("Net has no configuration"), "{err}");
    Ok(())
}
