//! `data::bootstrap_sample`: seeded draws with replacement, rows kept together.

use neurite::data::{Dataset, bootstrap_indices, bootstrap_sample};
use neurite::{Device, Tensor};
use std::collections::HashSet;

/// Row `i` holds feature `i` and target `10 * i`, so a drawn row names itself.
fn numbered(n: usize) -> Dataset {
    let x: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let y: Vec<i64> = (0..n).map(|i| 10 * i as i64).collect();
    Dataset::new(
        Tensor::from_vec(x, (n, 1), &Device::cpu()).unwrap(),
        Tensor::from_vec(y, n, &Device::cpu()).unwrap(),
    )
    .unwrap()
}

fn rows(ds: &Dataset) -> Vec<usize> {
    ds.features()
        .flatten_all()
        .unwrap()
        .to_vec1::<f64>()
        .unwrap()
        .into_iter()
        .map(|v| v as usize)
        .collect()
}

#[test]
fn same_seed_same_rows_other_seed_other_rows() {
    let ds = numbered(200);
    let a = bootstrap_sample(&ds, 3).unwrap();
    let b = bootstrap_sample(&ds, 3).unwrap();
    let c = bootstrap_sample(&ds, 4).unwrap();
    assert_eq!(a.len(), 200);
    assert_eq!(rows(&a), rows(&b));
    assert_ne!(rows(&a), rows(&c));
    // The drawn rows are the indices, and each row keeps its own target.
    assert_eq!(rows(&a), bootstrap_indices(200, 3).unwrap());
    let targets = a.targets().to_vec1::<i64>().unwrap();
    for (r, t) in rows(&a).iter().zip(&targets) {
        assert_eq!(*t, 10 * *r as i64);
    }
}

#[test]
fn about_sixty_three_percent_of_rows_are_drawn() {
    let ds = numbered(2000);
    for seed in 0..5 {
        let drawn = rows(&bootstrap_sample(&ds, seed).unwrap());
        assert!(drawn.iter().all(|&r| r < 2000));
        let unique: HashSet<usize> = drawn.into_iter().collect();
        let fraction = unique.len() as f64 / 2000.0;
        // 1 - (1 - 1/n)^n = 0.6322; its standard deviation at n = 2000 is about 0.006.
        assert!((fraction - 0.6322).abs() < 0.03, "seed {seed}: {fraction}");
    }
}

#[test]
fn an_empty_dataset_is_an_error() {
    let empty = Dataset::new(
        Tensor::zeros((0, 2), neurite::DType::F32, &Device::cpu()).unwrap(),
        Tensor::zeros(0, neurite::DType::I64, &Device::cpu()).unwrap(),
    )
    .unwrap();
    let msg = bootstrap_sample(&empty, 0).unwrap_err().to_string();
    assert!(msg.contains("bootstrap_sample") && msg.contains("empty"), "{msg}");
    assert!(bootstrap_indices(0, 0).is_err());
}
