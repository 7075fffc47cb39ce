//! Splits: sizes, disjointness, reproducibility, and stratification that
//! preserves class proportions.

use neurite::data::{Dataset, class_counts, random_split, random_split_lengths, train_val_test_split};
use neurite::{Device, Tensor};

/// n samples whose feature is the sample id; labels from `label(i)`.
fn ds(n: usize, label: impl Fn(usize) -> i64) -> Dataset {
    let dev = Device::cpu();
    let x = Tensor::from_vec((0..n).map(|i| i as f32).collect(), (n, 1), &dev).unwrap();
    let y = Tensor::from_vec((0..n).map(label).collect(), n, &dev).unwrap();
    Dataset::new(x, y).unwrap()
}

fn ids(d: &Dataset) -> Vec<usize> {
    d.features()
        .to_vec::<f32>()
        .unwrap()
        .iter()
        .map(|&v| v as usize)
        .collect()
}

fn assert_partition(parts: &[&Dataset], n: usize) {
    let mut all: Vec<usize> = parts.iter().flat_map(|d| ids(d)).collect();
    all.sort();
    assert_eq!(all, (0..n).collect::<Vec<_>>(), "disjoint and covering");
}

#[test]
fn plain_split_sizes_and_reproducibility() {
    let d = ds(101, |i| (i % 3) as i64);
    let (a, b, c) = train_val_test_split(&d, (0.6, 0.2, 0.2), 5, None).unwrap();
    // floor: 60, 20, 20 = 100; the leftover goes to the first part, as torch does.
    assert_eq!((a.len(), b.len(), c.len()), (61, 20, 20));
    assert_partition(&[&a, &b, &c], 101);
    let (a2, b2, c2) = train_val_test_split(&d, (0.6, 0.2, 0.2), 5, None).unwrap();
    assert_eq!((ids(&a), ids(&b), ids(&c)), (ids(&a2), ids(&b2), ids(&c2)));
    let (a3, ..) = train_val_test_split(&d, (0.6, 0.2, 0.2), 6, None).unwrap();
    assert_ne!(ids(&a), ids(&a3));
    // Targets travel with their features.
    let y = a.targets().to_vec1::<i64>().unwrap();
    assert!(ids(&a).iter().zip(&y).all(|(i, &l)| (i % 3) as i64 == l));
}

#[test]
fn stratified_split_preserves_class_proportions() {
    // Imbalanced: class 0 has 500, class 1 has 300, class 2 has 150, class 3 has 50.
    let label = |i: usize| match i {
        0..500 => 0,
        500..800 => 1,
        800..950 => 2,
        _ => 3,
    };
    let d = ds(1000, label);
    let (a, b, c) = train_val_test_split(&d, (0.6, 0.2, 0.2), 11, Some(d.targets())).unwrap();
    assert_eq!((a.len(), b.len(), c.len()), (600, 200, 200));
    assert_partition(&[&a, &b, &c], 1000);
    assert_eq!(class_counts(a.targets(), 4).unwrap(), vec![300, 180, 90, 30]);
    assert_eq!(class_counts(b.targets(), 4).unwrap(), vec![100, 60, 30, 10]);
    assert_eq!(class_counts(c.targets(), 4).unwrap(), vec![100, 60, 30, 10]);
    // Parts are shuffled, not grouped by class.
    let y = a.targets().to_vec1::<i64>().unwrap();
    assert!(y.windows(2).any(|w| w[0] > w[1]));

    // Uneven counts: each class within one sample of its ideal share per part.
    let d = ds(997, |i| (i * 7 % 5) as i64 + if i % 11 == 0 { 5 } else { 0 });
    let counts = class_counts(d.targets(), 10).unwrap();
    let (a, b, c) = train_val_test_split(&d, (0.7, 0.15, 0.15), 2, Some(d.targets())).unwrap();
    let plain = train_val_test_split(&d, (0.7, 0.15, 0.15), 2, None).unwrap();
    assert_eq!(
        (a.len(), b.len(), c.len()),
        (plain.0.len(), plain.1.len(), plain.2.len())
    );
    assert_partition(&[&a, &b, &c], 997);
    for (part, frac) in [(&a, 0.7), (&b, 0.15), (&c, 0.15)] {
        let got = class_counts(part.targets(), 10).unwrap();
        for (k, (&g, &n)) in got.iter().zip(&counts).enumerate() {
            let ideal = n as f64 * frac;
            assert!(
                (g as f64 - ideal).abs() <= 1.0 + 1e-9,
                "class {k}: {g} vs ideal {ideal}"
            );
        }
    }
}

#[test]
fn random_split_by_fractions_and_lengths() {
    let d = ds(10, |_| 0);
    let parts = random_split(&d, &[0.5, 0.3, 0.2], 1).unwrap();
    assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), vec![5, 3, 2]);
    assert_partition(&parts.iter().collect::<Vec<_>>(), 10);
    // torch's rounding: floor(3.33) each = 9, one left over to the first.
    let parts = random_split(&d, &[1.0 / 3.0; 3], 1).unwrap();
    assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), vec![4, 3, 3]);
    let parts = random_split_lengths(&d, &[7, 0, 3], 9).unwrap();
    assert_eq!(parts[1].len(), 0);
    assert_partition(&parts.iter().collect::<Vec<_>>(), 10);
    assert!(
        random_split_lengths(&d, &[7, 2], 9)
            .unwrap_err()
            .to_string()
            .contains("sum to 9")
    );
    assert!(random_split(&d, &[0.5, 0.6], 0).is_err());
    assert!(random_split(&d, &[1.5, -0.5], 0).is_err());
    let bad = Tensor::from_vec(vec![0i64; 3], 3, &Device::cpu()).unwrap();
    let e = train_val_test_split(&d, (0.6, 0.2, 0.2), 0, Some(&bad))
        .unwrap_err()
        .to_string();
    assert!(e.contains("[10]") && e.contains("[3]"), "{e}");
}
