//! `examples/common`'s option parser: defaults, both value forms, and a
//! message (never a panic) for every kind of bad input.

use crate::common::{Options, Program, parse, usage};

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn train(list: &[&str]) -> Result<Options, String> {
    parse(Program::Train("mnist_mlp"), &args(list)).map(|o| o.expect("not a help request"))
}

#[test]
fn training_defaults_are_the_recipe() {
    let o = train(&[]).unwrap();
    assert_eq!((o.epochs, o.batch_size, o.lr, o.seed), (10, 64, 1e-3, 0));
    assert_eq!(o.device, "best");
    assert_eq!(o.val_fraction, 0.0);
    assert!(!o.quiet);
    assert_eq!(o.limit, None);
    assert!(o.data.ends_with("data/mnist"), "{}", o.data.display());
    assert!(o.out.ends_with("target/mnist_mlp"), "{}", o.out.display());
    // Through cargo the default data directory is the repository's, whatever the working directory.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    assert_eq!(o.data, std::path::Path::new(&manifest).join("data/mnist"));
    assert!(o.data.join("train-images-idx3-ubyte.gz").exists());
}

#[test]
fn both_value_forms_and_every_option() {
    let o = train(&[
        "--epochs",
        "3",
        "--batch-size=128",
        "--lr",
        "0.01",
        "--device",
        "cpu",
        "--data",
        "/d",
        "--out=/o",
        "--seed",
        "42",
        "--val-fraction",
        "0.25",
        "--quiet",
        "--limit=100",
    ])
    .unwrap();
    assert_eq!(o.limit, Some(100));
    assert_eq!((o.epochs, o.batch_size, o.lr, o.seed), (3, 128, 0.01, 42));
    assert_eq!(o.device, "cpu");
    assert_eq!(o.data, std::path::PathBuf::from("/d"));
    assert_eq!(o.out, std::path::PathBuf::from("/o"));
    assert_eq!(o.val_fraction, 0.25);
    assert!(o.quiet);
    assert_eq!(train(&["--device", "cuda:1"]).unwrap().device, "cuda:1");
}

#[test]
fn bad_input_is_a_message() {
    let cases: &[(&[&str], &str)] = &[
        (&["--epochs", "0"], "--epochs needs a positive integer"),
        (&["--epochs", "-1"], "--epochs needs a positive integer"),
        (&["--batch-size", "x"], "--batch-size needs a positive integer"),
        (&["--lr", "0"], "--lr needs a positive number"),
        (&["--lr", "nan"], "--lr needs a positive number"),
        (&["--lr", "inf"], "--lr needs a positive number"),
        (&["--seed", "-3"], "--seed needs a non-negative integer"),
        (&["--val-fraction", "1"], "--val-fraction needs a number in [0, 1)"),
        (&["--device", "tpu"], "--device needs cpu, cuda, cuda:N or best"),
        (&["--device", "cuda:x"], "--device needs cpu, cuda, cuda:N or best"),
        (&["--epochs"], "--epochs needs a value"),
        (&["--limit", "0"], "--limit needs a positive integer"),
        (&["--quiet=yes"], "--quiet takes no value"),
        (&["--frobnicate"], "unknown option \"--frobnicate\""),
        (&["stray"], "unknown option \"stray\""),
        // Evaluation-only options are not training options.
        (&["--checkpoint", "m.ckpt"], "unknown option \"--checkpoint\""),
    ];
    for (list, want) in cases {
        let err = train(list).expect_err(&format!("{list:?} should fail"));
        assert!(err.contains(want), "{list:?}: got {err:?}, want {want:?}");
    }
}

#[test]
fn evaluation_options() {
    let eval = |list: &[&str]| parse(Program::Eval, &args(list));
    let err = eval(&[]).unwrap_err();
    assert!(err.contains("--checkpoint PATH is required"), "{err}");
    let o = eval(&["--checkpoint", "m.ckpt", "--device", "cpu"]).unwrap().unwrap();
    assert_eq!(o.checkpoint.as_deref(), Some(std::path::Path::new("m.ckpt")));
    assert_eq!(o.batch_size, 500);
    let err = eval(&["--checkpoint", "m.ckpt", "--epochs", "2"]).unwrap_err();
    assert!(err.contains("unknown option \"--epochs\""), "{err}");
}

#[test]
fn help_is_not_an_error() {
    assert!(parse(Program::Eval, &args(&["--help"])).unwrap().is_none());
    assert!(
        parse(Program::Train("mnist_cnn"), &args(&["--epochs", "2", "-h"]))
            .unwrap()
            .is_none()
    );
    let text = usage(Program::Train("mnist_cnn"));
    for opt in [
        "--epochs",
        "--batch-size",
        "--lr",
        "--device",
        "--data",
        "--out",
        "--seed",
        "--quiet",
    ] {
        assert!(text.contains(opt), "usage lacks {opt}:\n{text}");
    }
    assert!(text.contains("mnist_cnn.ckpt"));
    assert!(usage(Program::Eval).contains("--checkpoint PATH"));
}
