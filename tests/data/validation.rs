//! Inputs that used to overflow, wrap, saturate or read without bound are
//! refused with an error naming the op (or the file) and the offending value.

use crate::scratch_dir;
use neurite::data::{
    CsvOptions, DataLoader, Dataset, IdxArray, IdxData, ImageLayout, LoaderState, Mnist, MnistSplit, parse_csv,
    random_split_lengths,
};
use neurite::{Device, Error, Tensor};

fn ds(n: usize) -> Dataset {
    let dev = Device::cpu();
    let x = Tensor::from_vec((0..n).map(|i| i as f32).collect(), (n, 1), &dev).unwrap();
    let y = Tensor::from_vec((0..n as i64).collect(), n, &dev).unwrap();
    Dataset::new(x, y).unwrap()
}

#[track_caller]
fn invalid_arg<T>(r: neurite::Result<T>, needles: &[&str]) {
    match r {
        Err(e @ Error::InvalidArgument { .. }) => {
            let msg = e.to_string();
            for n in needles {
                assert!(msg.contains(n), "{msg:?} does not mention {n:?}");
            }
        }
        Err(e) => panic!("expected InvalidArgument, got {e}"),
        Ok(_) => panic!("expected an error mentioning {needles:?}"),
    }
}

#[track_caller]
fn format_err<T>(r: neurite::Result<T>, path_part: &str, needles: &[&str]) {
    match r {
        Err(Error::Format { path, msg }) => {
            assert!(path.contains(path_part), "path {path:?} does not name {path_part:?}");
            for n in needles {
                assert!(msg.contains(n), "{msg:?} does not mention {n:?}");
            }
        }
        Err(e) => panic!("expected a Format error, got {e}"),
        Ok(_) => panic!("expected a Format error mentioning {needles:?}"),
    }
}

#[test]
fn split_lengths_whose_sum_overflows_are_an_error() {
    let d = ds(10);
    // usize::MAX + 11 wraps to 10, the dataset's length.
    for lengths in [
        vec![usize::MAX, 11],
        vec![usize::MAX, 1],
        vec![usize::MAX, usize::MAX, 12],
    ] {
        invalid_arg(
            random_split_lengths(&d, &lengths, 0),
            &[
                "random_split_lengths",
                "Sum of input lengths does not equal the length of the input dataset",
                "10",
            ],
        );
    }
    invalid_arg(random_split_lengths(&d, &[3, 3], 0), &["sum to 6"]);
    let parts = random_split_lengths(&d, &[0, 10], 0).unwrap();
    assert_eq!((parts[0].len(), parts[1].len()), (0, 10));
}

/// Writes a 3-image MNIST-layout training split with `labels`.
fn mnist_dir(name: &str, labels: &[u8]) -> std::path::PathBuf {
    let dir = scratch_dir(name);
    let n = labels.len();
    let images = IdxArray::new(vec![n, 2, 2], IdxData::U8(vec![128; n * 4])).unwrap();
    std::fs::write(dir.join("train-images-idx3-ubyte"), images.to_bytes()).unwrap();
    let labels = IdxArray::new(vec![n], IdxData::U8(labels.to_vec())).unwrap();
    std::fs::write(dir.join("train-labels-idx1-ubyte"), labels.to_bytes()).unwrap();
    dir
}

#[test]
fn mnist_labels_outside_0_to_9_name_the_file_and_index() {
    let dir = mnist_dir("bad-label", &[1, 200, 3]);
    format_err(
        Mnist::load_split(&dir, MnistSplit::Train, ImageLayout::Flat),
        "train-labels-idx1-ubyte",
        &["label 200 at index 1", "0..=9"],
    );
    let dir = mnist_dir("label-10", &[9, 0, 10]);
    format_err(
        Mnist::load_split(&dir, MnistSplit::Train, ImageLayout::Flat),
        "train-labels-idx1-ubyte",
        &["label 10 at index 2"],
    );
    let dir = mnist_dir("good-labels", &[0, 9, 5]);
    let (x, y) = Mnist::load_split(&dir, MnistSplit::Train, ImageLayout::Flat).unwrap();
    assert_eq!(x.dims(), &[3, 4]);
    assert_eq!(y.to_vec::<i64>().unwrap(), vec![0, 9, 5]);
}

#[cfg(unix)]
#[test]
fn idx_reader_refuses_devices_and_pipes() {
    format_err(
        IdxArray::read("/dev/zero"),
        "/dev/zero",
        &["not a regular file", "a device"],
    );
    let dir = scratch_dir("fifo");
    let fifo = dir.join("labels.idx");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("running mkfifo");
    assert!(made.success(), "mkfifo failed");
    // Opening a FIFO for reading blocks until a writer appears: run the read
    // on a thread so that a regression fails the test instead of hanging it.
    let (tx, rx) = std::sync::mpsc::channel();
    let path = fifo.clone();
    std::thread::spawn(move || {
        let _ = tx.send(IdxArray::read(&path));
    });
    let r = rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("IdxArray::read on a FIFO did not return");
    format_err(r, "labels.idx", &["not a regular file", "a named pipe"]);
    format_err(IdxArray::read(&dir), "fifo", &["a directory"]);
}

#[test]
fn idx_header_declaring_more_than_the_file_holds() {
    // Four dims of 2^32 - 1 f64s: far more than 64 bits of bytes.
    let mut bytes = vec![0, 0, 0x0E, 4];
    for _ in 0..4 {
        bytes.extend_from_slice(&u32::MAX.to_be_bytes());
    }
    format_err(
        IdxArray::from_bytes(&bytes, "huge.idx"),
        "huge.idx",
        &["more bytes than fit in 64 bits"],
    );
    // 2^32 - 1 bytes declared in a 12-byte file: refused before reading or allocating.
    let mut bytes = vec![0, 0, 0x08, 1];
    bytes.extend_from_slice(&u32::MAX.to_be_bytes());
    bytes.extend_from_slice(&[1, 2, 3, 4]);
    let dir = scratch_dir("declares-huge");
    let path = dir.join("big.idx");
    std::fs::write(&path, &bytes).unwrap();
    format_err(IdxArray::read(&path), "big.idx", &["truncated", "4294967295"]);
}

fn csv_labels(column: &str) -> neurite::Result<Vec<i64>> {
    let text = format!("x,label\n0.5,{column}\n");
    let data = parse_csv(&text, "labels.csv", &CsvOptions::default())?;
    data.labels.unwrap().to_vec::<i64>()
}

#[test]
fn csv_class_labels_must_be_exact_non_negative_integers() {
    for bad in [
        "9223372036854775808",
        "9.3e18",
        "1e300",
        "NaN",
        "1.5",
        "-1",
        "-3.0",
        "inf",
    ] {
        format_err(csv_labels(bad), "labels.csv", &["line 2", &format!("{bad:?}")]);
    }
    // Written as an integer, every i64 is exact, even past 2^53.
    assert_eq!(csv_labels("9007199254740993").unwrap(), vec![9_007_199_254_740_993]);
    assert_eq!(csv_labels("9223372036854775807").unwrap(), vec![i64::MAX]);
    // Decimal notation is accepted for whole numbers below 2^53.
    assert_eq!(csv_labels("3.0").unwrap(), vec![3]);
    assert_eq!(csv_labels("4e0").unwrap(), vec![4]);
    format_err(csv_labels("9007199254740993.0"), "labels.csv", &["2^53"]);
}

#[test]
fn csv_values_must_fit_in_f32() {
    let r = parse_csv("x,label\n1e39,1\n", "wide.csv", &CsvOptions::default());
    format_err(r, "wide.csv", &["line 2", "\"1e39\"", "range of f32"]);
    let r = parse_csv("x,y\n1,-1e39\n", "wide.csv", &CsvOptions::default().regression());
    format_err(r, "wide.csv", &["column 2", "range of f32"]);
    let ok = parse_csv("x,y\n3e38,-3e38\n", "wide.csv", &CsvOptions::default().regression()).unwrap();
    assert!(ok.features.to_vec::<f32>().unwrap()[0].is_finite());
}

#[test]
fn loader_state_only_restores_into_a_matching_loader() {
    let saved = DataLoader::new(ds(10), 4).unwrap().shuffle(3).state();
    let mut other_len = DataLoader::new(ds(12), 4).unwrap().shuffle(3);
    invalid_arg(
        other_len.set_state(&saved),
        &["DataLoader::set_state", "10 samples", "12"],
    );
    let mut other_batch = DataLoader::new(ds(10), 5).unwrap().shuffle(3);
    invalid_arg(other_batch.set_state(&saved), &["batch size 4", "5"]);
    assert_eq!(other_batch.epoch(), 0, "a refused state changes nothing");

    let mut same = DataLoader::new(ds(10), 4).unwrap().shuffle(9);
    same.set_state(&saved).unwrap();
    let mut original = DataLoader::new(ds(10), 4).unwrap().shuffle(3);
    let order =
        |l: &mut DataLoader| -> Vec<i64> { l.iter().flat_map(|b| b.unwrap().1.to_vec::<i64>().unwrap()).collect() };
    assert_eq!(order(&mut same), order(&mut original));

    // A state saved before the sizes were recorded still restores.
    let mut json = serde_json::to_value(&saved).unwrap();
    let obj = json.as_object_mut().unwrap();
    obj.remove("dataset_len");
    obj.remove("batch_size");
    let old: LoaderState = serde_json::from_value(json).unwrap();
    assert_eq!((old.dataset_len, old.batch_size), (None, None));
    other_len.set_state(&old).unwrap();
}

#[test]
fn loader_epoch_counter_saturates() {
    let mut json = serde_json::to_value(DataLoader::new(ds(4), 2).unwrap().state()).unwrap();
    json["epoch"] = serde_json::json!(u64::MAX);
    let state: LoaderState = serde_json::from_value(json).unwrap();
    let mut loader = DataLoader::new(ds(4), 2).unwrap();
    loader.set_state(&state).unwrap();
    assert_eq!(loader.iter().count(), 2);
    assert_eq!(loader.epoch(), u64::MAX);
}
