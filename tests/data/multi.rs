//! Datasets of several tensors: two feature tensors of different shapes and
//! dtypes plus i64 labels, where every row encodes its sample id, so each test
//! can check that a batch's rows stay aligned across the tensors (under
//! shuffling, drop_last, resume, splits), and the errors for tensors that do
//! not fit together.

use neurite::data::{Batch, DataLoader, Dataset, random_split, random_split_lengths, train_val_test_split};
use neurite::{DType, Device, Tensor};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Sample i: image `(2, 3)` f32 with `[j][k] = 100 i + 10 j + k`, side
/// features `(4,)` f64 with `[j] = -i - j / 4`, label i64 `i`.
fn three(n: usize) -> Dataset {
    let dev = Device::cpu();
    let image: Vec<f32> = (0..n)
        .flat_map(|i| (0..2).flat_map(move |j| (0..3).map(move |k| (100 * i + 10 * j + k) as f32)))
        .collect();
    let side: Vec<f64> = (0..n)
        .flat_map(|i| (0..4).map(move |j| -(i as f64) - j as f64 / 4.0))
        .collect();
    let image = Tensor::from_vec(image, (n, 2, 3), &dev).unwrap();
    let side = Tensor::from_vec(side, (n, 4), &dev).unwrap();
    let label = Tensor::from_vec((0..n as i64).collect(), n, &dev).unwrap();
    Dataset::from_tensors(vec![image, side, label]).unwrap()
}

/// The sample ids of image rows, checking each row is a whole encoded sample.
fn image_ids(t: &Tensor) -> Vec<usize> {
    assert_eq!((t.dtype(), &t.dims()[1..]), (DType::F32, &[2, 3][..]));
    let v = t.to_vec::<f32>().unwrap();
    v.chunks(6)
        .map(|row| {
            let i = row[0] as usize / 100;
            let want: Vec<f32> = (0..2)
                .flat_map(|j| (0..3).map(move |k| (100 * i + 10 * j + k) as f32))
                .collect();
            assert_eq!(row, &want[..], "image row of sample {i}");
            i
        })
        .collect()
}

/// The sample ids of side-feature rows, checking each row.
fn side_ids(t: &Tensor) -> Vec<usize> {
    assert_eq!((t.dtype(), &t.dims()[1..]), (DType::F64, &[4][..]));
    t.to_vec2::<f64>()
        .unwrap()
        .iter()
        .map(|row| {
            let i = -row[0] as usize;
            let want: Vec<f64> = (0..4).map(|j| -(i as f64) - j as f64 / 4.0).collect();
            assert_eq!(row, &want, "side row of sample {i}");
            i
        })
        .collect()
}

fn label_ids(t: &Tensor) -> Vec<usize> {
    assert_eq!((t.dtype(), t.rank()), (DType::I64, 1));
    t.to_vec1::<i64>().unwrap().iter().map(|&v| v as usize).collect()
}

/// The sample ids of a three-tensor batch, asserting the tensors agree row by row.
fn ids(b: &Batch) -> Vec<usize> {
    assert_eq!(b.len(), 3);
    let [image, side, label] = b.tensors() else {
        panic!("three tensors expected")
    };
    let id = label_ids(label);
    assert_eq!(image_ids(image), id, "image rows aligned with labels");
    assert_eq!(side_ids(side), id, "side rows aligned with labels");
    assert_eq!(b.size(), id.len());
    id
}

fn ids_of(d: &Dataset) -> Vec<usize> {
    ids(&Batch::new(d.tensors().to_vec()).unwrap())
}

/// One epoch of `iter_batches` as lists of sample ids.
fn epoch(loader: &mut DataLoader) -> Vec<Vec<usize>> {
    loader.iter_batches().map(|b| ids(&b.unwrap())).collect()
}

/// The order `shuffle(seed)` must give in each of the first `epochs` epochs:
/// one draw per epoch from a ChaCha8 generator, as the loader always did.
fn expected_orders(n: usize, seed: u64, epochs: usize) -> Vec<Vec<usize>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..epochs)
        .map(|_| {
            let mut o: Vec<usize> = (0..n).collect();
            o.shuffle(&mut rng);
            o
        })
        .collect()
}

fn err(r: neurite::Result<impl std::fmt::Debug>) -> String {
    r.unwrap_err().to_string()
}

#[test]
fn accessors_indexing_and_replacing() {
    let d = three(6);
    assert_eq!((d.len(), d.num_tensors(), d.tensors().len()), (6, 3, 3));
    assert_eq!(d.features().dims(), &[6, 2, 3]);
    assert_eq!(d.targets().dims(), &[6]);
    assert_eq!(d.tensor(1).unwrap().dims(), &[6, 4]);
    let e = err(d.tensor(3));
    assert!(e.contains("tensor 3") && e.contains("3 tensors"), "{e}");

    // get/range: (first, last).
    let (x, y) = d.get(&[5, 2, 2]).unwrap();
    assert_eq!((image_ids(&x), label_ids(&y)), (vec![5, 2, 2], vec![5, 2, 2]));
    let (x, y) = d.range(1, 3).unwrap();
    assert_eq!((image_ids(&x), label_ids(&y)), (vec![1, 2, 3], vec![1, 2, 3]));
    // batch/batch_range: every tensor.
    assert_eq!(ids(&d.batch(&[4, 0, 4]).unwrap()), vec![4, 0, 4]);
    assert_eq!(ids(&d.batch_range(2, 4).unwrap()), vec![2, 3, 4, 5]);
    assert_eq!(d.batch(&[]).unwrap().size(), 0);
    let e = err(d.batch(&[1, 6]));
    assert!(
        e.contains("Dataset::batch") && e.contains("index 6") && e.contains("6 samples"),
        "{e}"
    );
    let e = err(d.batch_range(5, 2));
    assert!(e.contains("Dataset::batch_range") && e.contains("5..7"), "{e}");
    assert!(d.batch_range(usize::MAX, 2).is_err());

    let s = d.subset(&[3, 1]).unwrap();
    assert_eq!(s.num_tensors(), 3);
    assert_eq!(ids_of(&s), vec![3, 1]);
    assert_eq!(
        ids_of(&d.to_device(&Device::cpu()).unwrap()),
        (0..6).collect::<Vec<_>>()
    );

    // with_features / with_targets replace the first / last tensor only.
    let dev = Device::cpu();
    let w = d
        .with_features(Tensor::ones((6, 5), DType::F32, &dev).unwrap())
        .unwrap();
    assert_eq!(w.num_tensors(), 3);
    assert_eq!(w.features().dims(), &[6, 5]);
    assert_eq!(side_ids(w.tensor(1).unwrap()), (0..6).collect::<Vec<_>>());
    let w = d
        .with_targets(Tensor::zeros((6, 2), DType::F32, &dev).unwrap())
        .unwrap();
    assert_eq!((w.targets().dims(), w.features().dims()), (&[6, 2][..], &[6, 2, 3][..]));
    let w = d.with_tensor(1, Tensor::zeros(6, DType::F64, &dev).unwrap()).unwrap();
    assert_eq!(w.tensor(1).unwrap().dims(), &[6]);
    assert_eq!(label_ids(w.targets()), (0..6).collect::<Vec<_>>());
    let e = err(d.with_tensor(1, Tensor::zeros(5, DType::F64, &dev).unwrap()));
    assert!(
        e.contains("Dataset::with_tensor") && e.contains("tensor 1") && e.contains("[5]"),
        "{e}"
    );
    let e = err(d.with_tensor(3, Tensor::zeros(6, DType::F64, &dev).unwrap()));
    assert!(e.contains("tensor 3") && e.contains("3 tensors"), "{e}");
    let e = err(d.with_targets(Tensor::zeros(7, DType::I64, &dev).unwrap()));
    assert!(e.contains("Dataset::with_targets") && e.contains("tensor 2"), "{e}");
}

#[test]
fn tensors_that_do_not_fit_together_are_rejected() {
    let dev = Device::cpu();
    let d = three(5);
    let t = d.tensors().to_vec();

    let e = err(Dataset::from_tensors(vec![]));
    assert!(
        e.contains("Dataset::from_tensors") && e.contains("at least one tensor"),
        "{e}"
    );
    let short = Tensor::zeros(4, DType::I64, &dev).unwrap();
    let e = err(Dataset::from_tensors(vec![t[0].clone(), t[1].clone(), short.clone()]));
    assert!(
        e.contains("tensor 2") && e.contains("[5, 2, 3]") && e.contains("[4]") && e.contains("4 samples"),
        "{e}"
    );
    let e = err(Dataset::from_tensors(vec![t[0].clone(), short, t[2].clone()]));
    assert!(e.contains("tensor 1") && e.contains("[4]"), "{e}");
    let scalar = Tensor::scalar(1.0, DType::F32, &dev).unwrap();
    let e = err(Dataset::from_tensors(vec![t[0].clone(), scalar.clone()]));
    assert!(e.contains("tensor 1") && e.contains("first (sample) dimension"), "{e}");
    let e = err(Dataset::new(t[0].clone(), Tensor::zeros(3, DType::I64, &dev).unwrap()));
    assert!(e.contains("Dataset::new") && e.contains("tensor 1"), "{e}");

    // Batches check the same things.
    let e = err(Batch::new(vec![]));
    assert!(e.contains("Batch::new") && e.contains("at least one tensor"), "{e}");
    let e = err(Batch::new(vec![t[0].clone(), t[1].narrow(0, 0, 2).unwrap()]));
    assert!(
        e.contains("tensor 1") && e.contains("[2, 4]") && e.contains("[5, 2, 3]"),
        "{e}"
    );
    assert!(Batch::new(vec![scalar]).is_err());
    let e = err(Batch::try_from((t[0].clone(), t[2].narrow(0, 1, 4).unwrap())));
    assert!(e.contains("Batch::try_from") && e.contains("[4]"), "{e}");
    let pair = Batch::try_from((t[0].clone(), t[2].clone())).unwrap();
    assert_eq!((pair.len(), pair.size(), pair.inputs().len()), (2, 5, 1));
    let b = Batch::new(t).unwrap();
    let e = err(b.get(3));
    assert!(
        e.contains("Batch::get") && e.contains("tensor 3") && e.contains("3 tensors"),
        "{e}"
    );
    assert_eq!(b.inputs().len(), 2);
    assert_eq!(side_ids(&b.inputs()[1]), vec![0, 1, 2, 3, 4]);
    let (first, last) = b.clone().into_pair();
    assert_eq!(
        (image_ids(&first), label_ids(&last)),
        (vec![0, 1, 2, 3, 4], vec![0, 1, 2, 3, 4])
    );
    assert_eq!(b.into_tensors().len(), 3);
}

/// Tensors on two devices need a GPU; without one this prints why it skipped,
/// and with `NEURITE_REQUIRE_GPU=1` it fails instead.
#[test]
fn tensors_on_different_devices_are_rejected() {
    crate::cuda_emu::install_if_requested("multi::tensors_on_different_devices_are_rejected");
    let gpu = match Device::cuda(0) {
        Ok(d) => d,
        Err(e) => {
            assert_ne!(
                std::env::var("NEURITE_REQUIRE_GPU").as_deref(),
                Ok("1"),
                "NEURITE_REQUIRE_GPU=1 but the GPU is unavailable: {e}"
            );
            eprintln!("tensors_on_different_devices_are_rejected: skipped: {e}");
            return;
        }
    };
    let d = three(4);
    let t = d.tensors().to_vec();
    let moved = t[1].to_device(&gpu).unwrap();
    let e = err(Dataset::from_tensors(vec![t[0].clone(), moved.clone(), t[2].clone()]));
    assert!(
        e.contains("tensor 1") && e.contains(&gpu.to_string()) && e.contains("cpu"),
        "{e}"
    );
    assert!(Batch::new(vec![t[0].clone(), moved]).is_err());
    assert!(d.with_targets(t[2].to_device(&gpu).unwrap()).is_err());

    // A whole dataset on the GPU, and a CPU dataset's batches delivered there.
    let on_gpu = d.to_device(&gpu).unwrap();
    assert_eq!(on_gpu.device(), gpu);
    assert_eq!(ids(&on_gpu.batch(&[3, 0]).unwrap()), vec![3, 0]);
    let mut l = DataLoader::new(d, 3).unwrap().shuffle(2).on_device(&gpu);
    let mut seen = Vec::new();
    for b in l.iter_batches() {
        let b = b.unwrap();
        assert!(b.tensors().iter().all(|t| t.device() == gpu));
        seen.extend(ids(&b.to_device(&Device::cpu()).unwrap()));
    }
    assert_eq!(seen, expected_orders(4, 2, 1)[0]);
}

#[test]
fn batches_stay_aligned_under_shuffling_and_drop_last() {
    let n = 23;
    let mut l = DataLoader::new(three(n), 5).unwrap().shuffle(17);
    let want = expected_orders(n, 17, 3);
    for order in &want {
        let e = epoch(&mut l);
        assert_eq!(e.iter().map(Vec::len).collect::<Vec<_>>(), vec![5, 5, 5, 5, 3]);
        assert_eq!(&e.concat(), order, "the loader's permutation, shared by every tensor");
    }
    assert_ne!(want[0], want[1]);

    let mut l = DataLoader::new(three(n), 5).unwrap().shuffle(17).drop_last(true);
    assert_eq!(l.len(), 4);
    for order in &want {
        let e = epoch(&mut l);
        assert_eq!(e.iter().map(Vec::len).collect::<Vec<_>>(), vec![5, 5, 5, 5]);
        assert_eq!(e.concat(), order[..20], "drop_last drops the permutation's tail");
    }

    // Unshuffled: in order, last short batch kept.
    let mut l = DataLoader::new(three(n), 10).unwrap();
    let e = epoch(&mut l);
    assert_eq!(e.iter().map(Vec::len).collect::<Vec<_>>(), vec![10, 10, 3]);
    assert_eq!(e.concat(), (0..n).collect::<Vec<_>>());
}

#[test]
fn iter_and_iter_batches_share_the_order_and_the_epoch_count() {
    let n = 19;
    let want = expected_orders(n, 4, 4);
    let mut l = DataLoader::new(three(n), 6).unwrap().shuffle(4);
    // Alternating the two iterators continues one sequence of epochs.
    for (k, order) in want.iter().enumerate() {
        let got: Vec<usize> = if k % 2 == 0 {
            l.iter()
                .flat_map(|b| {
                    let (x, y) = b.unwrap();
                    let id = label_ids(&y);
                    assert_eq!(image_ids(&x), id);
                    id
                })
                .collect()
        } else {
            epoch(&mut l).concat()
        };
        assert_eq!(&got, order, "epoch {k}");
        assert_eq!(l.epoch(), k as u64 + 1);
    }

    // A two-tensor dataset of the same first and last tensor is shuffled the same way.
    let d = three(n);
    let pair = Dataset::new(d.features().clone(), d.targets().clone()).unwrap();
    let mut p = DataLoader::new(pair, 6).unwrap().shuffle(4);
    for order in &want {
        let got: Vec<usize> = p.iter_batches().flat_map(|b| label_ids(b.unwrap().targets())).collect();
        assert_eq!(&got, order);
    }
}

#[test]
fn resume_from_state_continues_every_tensor_exactly() {
    let n = 30;
    let mut a = DataLoader::new(three(n), 7).unwrap().shuffle(99).drop_last(true);
    epoch(&mut a);
    epoch(&mut a);
    let json = serde_json::to_string(&a.state()).unwrap();
    let next_a: Vec<_> = (0..2).map(|_| epoch(&mut a)).collect();
    let want = expected_orders(n, 99, 4);
    assert_eq!(next_a[0].concat(), want[2][..28]);
    assert_eq!(next_a[1].concat(), want[3][..28]);

    let mut b = DataLoader::new(three(n), 7).unwrap().shuffle(5).drop_last(true);
    b.set_state(&serde_json::from_str(&json).unwrap()).unwrap();
    assert_eq!(b.epoch(), 2);
    let next_b: Vec<_> = (0..2).map(|_| epoch(&mut b)).collect();
    assert_eq!(next_a, next_b);
}

#[test]
fn prefetching_gives_identical_batches() {
    let mut a = DataLoader::new(three(41), 5).unwrap().shuffle(3);
    let mut b = DataLoader::new(three(41), 5).unwrap().shuffle(3).prefetch(false);
    for _ in 0..2 {
        let (ea, eb): (Vec<Batch>, Vec<Batch>) = (
            a.iter_batches().map(Result::unwrap).collect(),
            b.iter_batches().map(Result::unwrap).collect(),
        );
        assert_eq!(ea.len(), 9);
        for (x, y) in ea.iter().zip(&eb) {
            assert_eq!(ids(x), ids(y));
            assert_eq!(
                x.get(0).unwrap().to_vec::<f32>().unwrap(),
                y.get(0).unwrap().to_vec::<f32>().unwrap()
            );
        }
    }
    // Dropping an epoch early stops the producer; the next epoch is the next permutation.
    let mut c = DataLoader::new(three(41), 5).unwrap().shuffle(3);
    let mut it = c.iter_batches();
    assert_eq!(it.len(), 9);
    let first = ids(&it.next().unwrap().unwrap());
    assert_eq!(it.len(), 8);
    drop(it);
    let want = expected_orders(41, 3, 2);
    assert_eq!(first, want[0][..5]);
    assert_eq!(epoch(&mut c).concat(), want[1]);
}

#[test]
fn one_tensor_datasets_are_their_own_targets() {
    let dev = Device::cpu();
    let x = Tensor::from_vec((0..8).map(|v| v as f32).collect(), (4, 2), &dev).unwrap();
    let d = Dataset::from_tensors(vec![x]).unwrap();
    assert_eq!(d.num_tensors(), 1);
    assert_eq!(
        d.features().to_vec::<f32>().unwrap(),
        d.targets().to_vec::<f32>().unwrap()
    );
    let (a, b) = d.get(&[3, 1]).unwrap();
    assert_eq!(a.to_vec2::<f32>().unwrap(), vec![vec![6., 7.], vec![2., 3.]]);
    assert_eq!(a.to_vec::<f32>().unwrap(), b.to_vec::<f32>().unwrap());
    let batch = d.batch_range(1, 2).unwrap();
    assert_eq!((batch.len(), batch.size(), batch.inputs().len()), (1, 2, 1));
    assert_eq!(
        batch.targets().to_vec2::<f32>().unwrap(),
        vec![vec![2., 3.], vec![4., 5.]]
    );
    // Replacing the features replaces the only tensor.
    let w = d
        .with_features(Tensor::zeros((4, 3), DType::F32, &dev).unwrap())
        .unwrap();
    assert_eq!((w.num_tensors(), w.targets().dims()), (1, &[4, 3][..]));

    let mut l = DataLoader::new(d, 3).unwrap().shuffle(8);
    let want = expected_orders(4, 8, 2);
    for order in &want {
        let mut got = Vec::new();
        for b in l.iter() {
            let (x, y) = b.unwrap();
            assert_eq!(x.to_vec::<f32>().unwrap(), y.to_vec::<f32>().unwrap());
            got.extend(x.to_vec2::<f32>().unwrap().iter().map(|r| r[0] as usize / 2));
        }
        assert_eq!(&got, order);
    }
}

#[test]
fn splits_keep_every_tensor_aligned() {
    let n = 60;
    let d = three(n);
    let check = |parts: &[&Dataset]| {
        let mut all: Vec<usize> = parts
            .iter()
            .flat_map(|p| {
                assert_eq!(p.num_tensors(), 3);
                ids_of(p)
            })
            .collect();
        all.sort();
        assert_eq!(all, (0..n).collect::<Vec<_>>(), "disjoint and covering");
    };

    let parts = random_split(&d, &[0.5, 0.3, 0.2], 1).unwrap();
    assert_eq!(parts.iter().map(Dataset::len).collect::<Vec<_>>(), vec![30, 18, 12]);
    check(&parts.iter().collect::<Vec<_>>());
    let parts = random_split_lengths(&d, &[10, 50], 2).unwrap();
    check(&parts.iter().collect::<Vec<_>>());

    let (a, b, c) = train_val_test_split(&d, (0.6, 0.2, 0.2), 3, None).unwrap();
    assert_eq!((a.len(), b.len(), c.len()), (36, 12, 12));
    check(&[&a, &b, &c]);

    // Stratified by a class derived from the id (20 samples per class).
    let classes = Tensor::from_vec((0..n).map(|i| (i % 3) as i64).collect(), n, &Device::cpu()).unwrap();
    let (a, b, c) = train_val_test_split(&d, (0.6, 0.2, 0.2), 3, Some(&classes)).unwrap();
    check(&[&a, &b, &c]);
    for (part, per_class) in [(&a, 12), (&b, 4), (&c, 4)] {
        let mut counts = [0; 3];
        for i in ids_of(part) {
            counts[i % 3] += 1;
        }
        assert_eq!(counts, [per_class; 3]);
    }
}
