//! The loader: batch sizes with and without drop_last, reproducible shuffling
//! that differs across epochs, every sample once per epoch, resume from state,
//! and identical batches with and without the background thread.

use neurite::data::{DataLoader, Dataset, LoaderState};
use neurite::{Device, Tensor};

/// Features row i = [i, 10 i], target i = i: a batch reveals which samples it holds.
fn numbered(n: usize) -> Dataset {
    let dev = Device::cpu();
    let x: Vec<f32> = (0..n).flat_map(|i| [i as f32, 10.0 * i as f32]).collect();
    let x = Tensor::from_vec(x, (n, 2), &dev).unwrap();
    let y = Tensor::from_vec((0..n as i64).collect(), n, &dev).unwrap();
    Dataset::new(x, y).unwrap()
}

/// One epoch as lists of sample ids, checking x and y agree row by row.
fn epoch(loader: &mut DataLoader) -> Vec<Vec<i64>> {
    loader
        .iter()
        .map(|b| {
            let (x, y) = b.unwrap();
            let ids = y.to_vec1::<i64>().unwrap();
            let rows = x.to_vec2::<f32>().unwrap();
            for (id, row) in ids.iter().zip(&rows) {
                assert_eq!(row, &vec![*id as f32, 10.0 * *id as f32]);
            }
            ids
        })
        .collect()
}

fn sizes(batches: &[Vec<i64>]) -> Vec<usize> {
    batches.iter().map(|b| b.len()).collect()
}

#[test]
fn batch_sizes_with_and_without_drop_last() {
    let mut l = DataLoader::new(numbered(10), 4).unwrap();
    assert_eq!(l.len(), 3);
    let b = epoch(&mut l);
    assert_eq!(sizes(&b), vec![4, 4, 2]);
    assert_eq!(b.concat(), (0..10).collect::<Vec<i64>>(), "unshuffled keeps order");
    let mut l = DataLoader::new(numbered(10), 4).unwrap().drop_last(true);
    assert_eq!(l.len(), 2);
    assert_eq!(sizes(&epoch(&mut l)), vec![4, 4]);
    let mut l = DataLoader::new(numbered(8), 4).unwrap().drop_last(true);
    assert_eq!(sizes(&epoch(&mut l)), vec![4, 4]);
    let mut l = DataLoader::new(numbered(3), 4).unwrap().drop_last(true);
    assert!(l.is_empty());
    assert_eq!(l.iter().count(), 0);
    let mut l = DataLoader::new(numbered(3), 4).unwrap();
    assert_eq!(sizes(&epoch(&mut l)), vec![3]);
    assert!(DataLoader::new(numbered(3), 0).is_err());
    let it = DataLoader::new(numbered(10), 3).unwrap().iter();
    assert_eq!(it.len(), 4);
}

#[test]
fn shuffling_is_reproducible_and_differs_across_epochs() {
    let run = |seed| {
        let mut l = DataLoader::new(numbered(50), 8).unwrap().shuffle(seed);
        (0..3).map(|_| epoch(&mut l)).collect::<Vec<_>>()
    };
    let a = run(7);
    assert_eq!(a, run(7), "same seed, same epochs");
    assert_ne!(a, run(8), "another seed, another order");
    assert_ne!(a[0], a[1]);
    assert_ne!(a[1], a[2]);
    for e in &a {
        assert_eq!(sizes(e), vec![8, 8, 8, 8, 8, 8, 2]);
        let mut seen = e.concat();
        assert_ne!(seen, (0..50).collect::<Vec<i64>>(), "shuffled");
        seen.sort();
        assert_eq!(seen, (0..50).collect::<Vec<i64>>(), "every sample exactly once");
    }
}

#[test]
fn drop_last_with_shuffle_drops_a_different_remainder_each_epoch() {
    let mut l = DataLoader::new(numbered(10), 3).unwrap().shuffle(1).drop_last(true);
    let mut dropped = Vec::new();
    for _ in 0..4 {
        let mut seen = epoch(&mut l).concat();
        assert_eq!(seen.len(), 9);
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 9, "no repeats");
        dropped.push((0..10).find(|i| !seen.contains(i)).unwrap());
    }
    assert!(dropped.iter().any(|&d| d != dropped[0]), "{dropped:?}");
}

#[test]
fn state_resumes_the_exact_sequence() {
    let mut a = DataLoader::new(numbered(30), 7).unwrap().shuffle(99);
    epoch(&mut a);
    epoch(&mut a);
    let state = a.state();
    assert_eq!(state.epoch, 2);
    let json = serde_json::to_string(&state).unwrap();
    let next_a: Vec<_> = (0..2).map(|_| epoch(&mut a)).collect();

    let restored: LoaderState = serde_json::from_str(&json).unwrap();
    let mut b = DataLoader::new(numbered(30), 7).unwrap().shuffle(12345);
    b.set_state(&restored).unwrap();
    assert_eq!(b.epoch(), 2);
    let next_b: Vec<_> = (0..2).map(|_| epoch(&mut b)).collect();
    assert_eq!(next_a, next_b);
}

#[test]
fn background_thread_gives_identical_batches() {
    let mut a = DataLoader::new(numbered(41), 5).unwrap().shuffle(3);
    let mut b = DataLoader::new(numbered(41), 5).unwrap().shuffle(3).prefetch(false);
    for _ in 0..3 {
        assert_eq!(epoch(&mut a), epoch(&mut b));
    }
    // Dropping an epoch early stops the producer and the next epoch goes on normally.
    let mut c = DataLoader::new(numbered(41), 5).unwrap().shuffle(3);
    let first = c.iter().next().unwrap().unwrap().1.to_vec1::<i64>().unwrap();
    let mut d = DataLoader::new(numbered(41), 5).unwrap().shuffle(3);
    assert_eq!(first, epoch(&mut d)[0]);
    assert_eq!(epoch(&mut c), epoch(&mut d));
    // `for batch in &mut loader` works too.
    let mut n = 0;
    for batch in &mut c {
        batch.unwrap();
        n += 1;
    }
    assert_eq!(n, 9);
}

#[test]
fn batches_go_to_the_target_device() {
    let mut l = DataLoader::new(numbered(6), 4).unwrap().on_device(&Device::best());
    for b in l.iter() {
        let (x, y) = b.unwrap();
        assert_eq!(x.device(), Device::best());
        assert_eq!(y.device(), Device::best());
    }
    assert_eq!(l.target_device(), Device::best());
}
