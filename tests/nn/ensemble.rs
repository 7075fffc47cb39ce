//! `nn::Ensemble`: every combination rule against hand-computed answers,
//! binary (one-unit) members, probability members, errors, modes, and one
//! checkpoint for the whole ensemble.

use neurite::nn::{Combine, Dropout, Ensemble, Forward, Linear, Module, ReLU, Sequential};
use neurite::{DType, Device, Result, Tensor};

/// A member that ignores its input and returns fixed scores: known answers
/// without depending on any initialisation.
struct Fixed(Tensor);

impl Module for Fixed {}

impl Forward for Fixed {
    fn forward(&self, _x: &Tensor) -> Result<Tensor> {
        Ok(self.0.clone())
    }
}

fn fixed(rows: &[&[f64]]) -> Fixed {
    let cols = rows[0].len();
    let flat: Vec<f64> = rows.iter().flat_map(|r| r.iter().copied()).collect();
    Fixed(Tensor::from_vec(flat, (rows.len(), cols), &Device::cpu()).unwrap())
}

fn softmax(row: &[f64]) -> Vec<f64> {
    let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = row.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

fn x() -> Tensor {
    Tensor::zeros((2, 4), DType::F64, &Device::cpu()).unwrap()
}

fn assert_close(got: &[Vec<f64>], want: &[Vec<f64>]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g.len(), w.len());
        for (a, b) in g.iter().zip(w) {
            assert!((a - b).abs() < 1e-12, "got {got:?}, want {want:?}");
        }
    }
}

const A: [&[f64]; 2] = [&[1.0, 2.0, 0.5], &[-1.0, 0.0, 3.0]];
const B: [&[f64]; 2] = [&[0.0, 0.0, 4.0], &[2.0, 1.0, 1.0]];

#[test]
fn mean_probabilities_averages_softmaxes() {
    let e = Ensemble::new(vec![fixed(&A), fixed(&B)], Combine::MeanProbabilities).unwrap();
    let got = e.forward(&x()).unwrap().to_vec2::<f64>().unwrap();
    let want: Vec<Vec<f64>> = (0..2)
        .map(|r| {
            let (pa, pb) = (softmax(A[r]), softmax(B[r]));
            pa.iter().zip(&pb).map(|(a, b)| (a + b) / 2.0).collect()
        })
        .collect();
    assert_close(&got, &want);
}

#[test]
fn weighted_mean_normalises_the_weights() {
    let e = Ensemble::new(vec![fixed(&A), fixed(&B)], Combine::WeightedMean(vec![1.0, 3.0])).unwrap();
    let got = e.forward(&x()).unwrap().to_vec2::<f64>().unwrap();
    let want: Vec<Vec<f64>> = (0..2)
        .map(|r| {
            let (pa, pb) = (softmax(A[r]), softmax(B[r]));
            pa.iter().zip(&pb).map(|(a, b)| 0.25 * a + 0.75 * b).collect()
        })
        .collect();
    assert_close(&got, &want);
    // A zero weight leaves that member out.
    let only_b = Ensemble::new(vec![fixed(&A), fixed(&B)], Combine::WeightedMean(vec![0.0, 2.0])).unwrap();
    let want_b: Vec<Vec<f64>> = (0..2).map(|r| softmax(B[r])).collect();
    assert_close(&only_b.forward(&x()).unwrap().to_vec2::<f64>().unwrap(), &want_b);
}

#[test]
fn weighted_mean_rejects_bad_weights() {
    let members = || vec![fixed(&A), fixed(&B)];
    let count = Ensemble::new(members(), Combine::WeightedMean(vec![1.0]))
        .err()
        .unwrap()
        .to_string();
    assert!(count.contains("1 weight(s) for 2 member(s)"), "{count}");
    let negative = Ensemble::new(members(), Combine::WeightedMean(vec![1.0, -0.5]))
        .err()
        .unwrap()
        .to_string();
    assert!(negative.contains("weight 1 is -0.5"), "{negative}");
    let zero = Ensemble::new(members(), Combine::WeightedMean(vec![0.0, 0.0]))
        .err()
        .unwrap()
        .to_string();
    assert!(zero.contains("all zero"), "{zero}");
    let nan = Ensemble::new(members(), Combine::WeightedMean(vec![f64::NAN, 1.0]))
        .err()
        .unwrap()
        .to_string();
    assert!(nan.contains("weight 0 is NaN"), "{nan}");
    // set_combine checks too and keeps the old rule on an error.
    let mut e = Ensemble::new(members(), Combine::MeanLogits).unwrap();
    assert!(e.set_combine(Combine::WeightedMean(vec![1.0, 2.0, 3.0])).is_err());
    assert_eq!(e.combine(), &Combine::MeanLogits);
    e.set_combine(Combine::WeightedMean(vec![1.0, 2.0])).unwrap();
    assert_eq!(e.combine(), &Combine::WeightedMean(vec![1.0, 2.0]));
}

#[test]
fn majority_vote_gives_vote_fractions_and_ties_go_low() {
    // Row 0: votes 1, 1, 2 -> [0, 2/3, 1/3].
    // Row 1: votes 2, 0, 1 (a three-way tie) -> thirds; argmax picks class 0.
    // Member c's row 1 ties classes 1 and 2 internally: it votes for 1, the first.
    let a = fixed(&[&[0.0, 5.0, 1.0], &[0.0, 0.0, 9.0]]);
    let b = fixed(&[&[0.0, 3.0, 2.9], &[7.0, 1.0, 1.0]]);
    let c = fixed(&[&[0.0, 0.0, 1.0], &[0.0, 4.0, 4.0]]);
    let e = Ensemble::new(vec![a, b, c], Combine::MajorityVote).unwrap();
    let out = e.forward(&x()).unwrap();
    let third = 1.0 / 3.0;
    assert_close(
        &out.to_vec2::<f64>().unwrap(),
        &[vec![0.0, 2.0 / 3.0, third], vec![third, third, third]],
    );
    assert_eq!(out.argmax(1usize, false).unwrap().to_vec1::<i64>().unwrap(), vec![1, 0]);
}

#[test]
fn mean_logits_averages_raw_outputs() {
    let e = Ensemble::new(vec![fixed(&A), fixed(&B)], Combine::MeanLogits).unwrap();
    let want: Vec<Vec<f64>> = (0..2)
        .map(|r| A[r].iter().zip(B[r]).map(|(a, b)| (a + b) / 2.0).collect())
        .collect();
    assert_close(&e.forward(&x()).unwrap().to_vec2::<f64>().unwrap(), &want);
}

#[test]
fn one_unit_members_use_a_sigmoid_and_probability_members_none() {
    let logits = || {
        vec![
            fixed(&[&[2.0], &[-1.0]]),
            fixed(&[&[-0.5], &[-3.0]]),
            fixed(&[&[1.0], &[0.5]]),
        ]
    };
    let mean = Ensemble::new(logits(), Combine::MeanProbabilities).unwrap();
    let want = |z: [f64; 3]| z.iter().map(|v| sigmoid(*v)).sum::<f64>() / 3.0;
    assert_close(
        &mean.forward(&x()).unwrap().to_vec2::<f64>().unwrap(),
        &[vec![want([2.0, -0.5, 1.0])], vec![want([-1.0, -3.0, 0.5])]],
    );
    // Votes: a logit above 0 is a positive vote (row 0: 2 of 3, row 1: 1 of 3).
    let vote = Ensemble::new(logits(), Combine::MajorityVote).unwrap();
    assert_close(
        &vote.forward(&x()).unwrap().to_vec2::<f64>().unwrap(),
        &[vec![2.0 / 3.0], vec![1.0 / 3.0]],
    );

    // Members that end in a softmax or sigmoid are averaged as they are.
    let probs = || vec![fixed(&[&[0.9], &[0.2]]), fixed(&[&[0.4], &[0.6]])];
    let mean = Ensemble::new(probs(), Combine::MeanProbabilities)
        .unwrap()
        .outputs_probabilities(true);
    assert!(mean.members_output_probabilities());
    assert_close(
        &mean.forward(&x()).unwrap().to_vec2::<f64>().unwrap(),
        &[vec![0.65], vec![0.4]],
    );
    let vote = Ensemble::new(probs(), Combine::MajorityVote)
        .unwrap()
        .outputs_probabilities(true);
    assert_close(
        &vote.forward(&x()).unwrap().to_vec2::<f64>().unwrap(),
        &[vec![0.5], vec![0.5]],
    );
    let softmaxed = vec![fixed(&[&[0.2, 0.8]]), fixed(&[&[0.6, 0.4]])];
    let mean = Ensemble::new(softmaxed, Combine::WeightedMean(vec![3.0, 1.0]))
        .unwrap()
        .outputs_probabilities(true);
    assert_close(
        &mean.forward(&x()).unwrap().to_vec2::<f64>().unwrap(),
        &[vec![0.3, 0.7]],
    );
}

#[test]
fn errors_name_the_problem() {
    let empty = Ensemble::<Fixed>::new(Vec::new(), Combine::MeanProbabilities)
        .err()
        .unwrap()
        .to_string();
    assert!(empty.contains("at least one member, got 0"), "{empty}");
    let e = Ensemble::new(vec![fixed(&A), fixed(&[&[1.0, 2.0]])], Combine::MeanLogits).unwrap();
    let msg = e.forward(&x()).unwrap_err().to_string();
    assert!(
        msg.contains("member 1 returned shape [1, 2] but member 0 returned [2, 3]"),
        "{msg}"
    );
    let scalar = Fixed(Tensor::from_vec(vec![1.0f64], (), &Device::cpu()).unwrap());
    let e = Ensemble::new(vec![scalar], Combine::MeanProbabilities).unwrap();
    let msg = e.forward(&x()).unwrap_err().to_string();
    assert!(msg.contains("scalars"), "{msg}");
}

fn mlp() -> Box<dyn Forward> {
    Box::new(
        Sequential::new()
            .add(Linear::new(4, 6))
            .add(ReLU)
            .add(Dropout::new(0.3))
            .add(Linear::new(6, 3)),
    )
}

#[test]
fn modes_reach_every_member() {
    let _rng = crate::rng_lock();
    let mut e = Ensemble::new(vec![mlp(), mlp(), Box::new(Linear::new(4, 3))], Combine::MeanLogits).unwrap();
    assert!(e.is_training());
    e.eval();
    assert!(!e.is_training());
    assert!(e.members().iter().all(|m| !m.is_training()));
    // In eval mode dropout is off, so two calls agree.
    let x = Tensor::randn((5, 4), DType::F32, &Device::cpu()).unwrap();
    let (a, b) = (e.forward(&x).unwrap(), e.forward(&x).unwrap());
    assert_eq!(a.to_vec2::<f32>().unwrap(), b.to_vec2::<f32>().unwrap());
    e.train();
    assert!(e.members()[0].is_training() && e.members()[1].is_training());
}

#[test]
fn the_whole_ensemble_is_one_checkpoint() {
    let _rng = crate::rng_lock();
    neurite::manual_seed(11);
    let mut saved = Ensemble::new(vec![mlp(), mlp(), mlp()], Combine::MeanProbabilities).unwrap();
    saved.eval();
    let names: Vec<String> = saved.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names.len(), 12);
    assert_eq!(names[..2], ["0.0.weight", "0.0.bias"]);
    assert_eq!(names[8..10], ["2.0.weight", "2.0.bias"]);

    let dir = std::env::temp_dir().join(format!("neurite-nn-ensemble-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ensemble.ckpt");
    neurite::checkpoint::save_model(&saved, &path, &Default::default()).unwrap();

    let mut fresh = Ensemble::new(vec![mlp(), mlp(), mlp()], Combine::MeanProbabilities).unwrap();
    fresh.eval();
    let x = Tensor::randn((7, 4), DType::F32, &Device::cpu()).unwrap();
    let want = saved.forward(&x).unwrap().to_vec2::<f32>().unwrap();
    assert_ne!(fresh.forward(&x).unwrap().to_vec2::<f32>().unwrap(), want);
    fresh.load_weights(&path).unwrap();
    assert_eq!(fresh.forward(&x).unwrap().to_vec2::<f32>().unwrap(), want);

    // An ensemble of another size does not fit the checkpoint: every key is listed.
    let mut two = Ensemble::new(vec![mlp(), mlp()], Combine::MeanProbabilities).unwrap();
    let msg = two.load_weights(&path).unwrap_err().to_string();
    assert!(msg.contains("2.0.weight"), "{msg}");
    std::fs::remove_dir_all(&dir).unwrap();
}
