//! The bundled MNIST subset, read gzip-compressed and raw. Reference numbers
//! were computed once with Python's gzip module on the files in data/mnist/.

use crate::{gunzip, manifest_dir, scratch_dir};
use neurite::data::{IdxArray, IdxData, ImageLayout, Mnist, MnistSplit, class_counts};
use neurite::{DType, Error, Tensor};

const TRAIN_HIST: [usize; 10] = [582, 675, 583, 630, 597, 523, 630, 627, 563, 590];
const TEST_HIST: [usize; 10] = [206, 224, 202, 216, 182, 163, 193, 227, 201, 186];
const TRAIN_FIRST_LABELS: [i64; 10] = [3, 2, 0, 8, 6, 2, 5, 8, 0, 3];
const TEST_FIRST_LABELS: [i64; 10] = [2, 0, 6, 2, 9, 5, 2, 1, 3, 7];
/// Sum of all pixel bytes, and sum of `byte * (i % 7919 + 1)` over the flat
/// pixel index `i` (which also checks the order of the pixels).
const TRAIN_PIXEL_SUM: u64 = 157_094_468;
const TRAIN_PIXEL_WSUM: u64 = 623_199_413_904;
const TEST_PIXEL_SUM: u64 = 52_507_325;
const TEST_PIXEL_WSUM: u64 = 208_831_611_036;

fn bundled() -> std::path::PathBuf {
    manifest_dir().join(Mnist::BUNDLED_DIR)
}

/// Pixel bytes back from `[0, 1]` floats, checking each is an exact k/255.
fn bytes_of(images: &Tensor) -> Vec<u8> {
    images
        .to_vec::<f32>()
        .unwrap()
        .iter()
        .map(|&v| {
            assert!((0.0..=1.0).contains(&v), "pixel {v} outside [0, 1]");
            let b = (v * 255.0).round();
            assert_eq!(b as u8 as f32 / 255.0, v, "pixel {v} is not byte / 255");
            b as u8
        })
        .collect()
}

fn sums(px: &[u8]) -> (u64, u64) {
    let plain = px.iter().map(|&b| b as u64).sum();
    let weighted = px
        .iter()
        .enumerate()
        .map(|(i, &b)| b as u64 * ((i % 7919) as u64 + 1))
        .sum();
    (plain, weighted)
}

fn check_bundled(m: &Mnist) {
    assert_eq!(m.train_images.dims(), &[6000, 1, 28, 28]);
    assert_eq!(m.test_images.dims(), &[2000, 1, 28, 28]);
    assert_eq!(
        (m.train_labels.dtype(), m.train_labels.dims()),
        (DType::I64, &[6000][..])
    );
    assert_eq!((m.test_labels.dtype(), m.test_labels.dims()), (DType::I64, &[2000][..]));
    assert_eq!(class_counts(&m.train_labels, 10).unwrap(), TRAIN_HIST);
    assert_eq!(class_counts(&m.test_labels, 10).unwrap(), TEST_HIST);
    assert_eq!(m.train_labels.to_vec::<i64>().unwrap()[..10], TRAIN_FIRST_LABELS);
    assert_eq!(m.test_labels.to_vec::<i64>().unwrap()[..10], TEST_FIRST_LABELS);
    assert_eq!(sums(&bytes_of(&m.train_images)), (TRAIN_PIXEL_SUM, TRAIN_PIXEL_WSUM));
    assert_eq!(sums(&bytes_of(&m.test_images)), (TEST_PIXEL_SUM, TEST_PIXEL_WSUM));
}

#[test]
fn bundled_gzip_counts_histogram_and_checksum() {
    check_bundled(&Mnist::load(bundled()).unwrap());
}

#[test]
fn bundled_raw_copies_read_the_same() {
    let dir = scratch_dir("mnist-raw");
    for f in [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ] {
        let gz = std::fs::read(bundled().join(format!("{f}.gz"))).unwrap();
        std::fs::write(dir.join(f), gunzip(&gz)).unwrap();
    }
    check_bundled(&Mnist::load(&dir).unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn flat_layout_holds_the_same_pixels() {
    let (flat, y) = Mnist::load_split(bundled(), MnistSplit::Test, ImageLayout::Flat).unwrap();
    assert_eq!(flat.dims(), &[2000, 784]);
    assert_eq!(sums(&bytes_of(&flat)), (TEST_PIXEL_SUM, TEST_PIXEL_WSUM));
    assert_eq!(y.to_vec::<i64>().unwrap()[..10], TEST_FIRST_LABELS);
    let ds = Mnist::load_with(bundled(), ImageLayout::Flat)
        .unwrap()
        .test_dataset()
        .unwrap();
    assert_eq!(ds.len(), 2000);
    assert_eq!(ds.features().dims(), &[2000, 784]);
}

#[test]
fn idx_reader_reports_header_fields() {
    let labels = IdxArray::read(bundled().join("train-labels-idx1-ubyte.gz")).unwrap();
    assert_eq!(labels.dims(), &[6000]);
    assert_eq!(labels.as_u8().unwrap()[..3], [3, 2, 0]);
    let images = IdxArray::read(bundled().join("t10k-images-idx3-ubyte.gz")).unwrap();
    assert_eq!(images.dims(), &[2000, 28, 28]);
    // image 0, row 14, col 14 and image 5, row 10, col 12, as read by Python
    let px = images.as_u8().unwrap();
    assert_eq!((px[14 * 28 + 14], px[5 * 784 + 10 * 28 + 12]), (180, 254));
}

#[test]
fn missing_files_name_what_was_looked_for() {
    let dir = scratch_dir("mnist-missing");
    let e = Mnist::load(&dir).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Io { .. }), "{msg}");
    assert!(msg.contains("train-images-idx3-ubyte.gz"), "{msg}");
    assert!(msg.contains(&dir.display().to_string()), "{msg}");
}

#[test]
fn image_and_label_counts_must_agree() {
    let dir = scratch_dir("mnist-count");
    let images = IdxArray::new(vec![3, 2, 2], IdxData::U8(vec![0, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).unwrap();
    let labels = IdxArray::new(vec![2], IdxData::U8(vec![1, 2])).unwrap();
    for p in ["train", "t10k"] {
        std::fs::write(dir.join(format!("{p}-images-idx3-ubyte")), images.to_bytes()).unwrap();
        std::fs::write(dir.join(format!("{p}-labels-idx1-ubyte")), labels.to_bytes()).unwrap();
    }
    let e = Mnist::load(&dir).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Format { .. }), "{msg}");
    assert!(
        msg.contains("train-labels-idx1-ubyte") && msg.contains("2 labels") && msg.contains("3 images"),
        "{msg}"
    );

    // Small well-formed files load, scaled by 1/255.
    let labels = IdxArray::new(vec![3], IdxData::U8(vec![1, 2, 9])).unwrap();
    std::fs::write(dir.join("train-labels-idx1-ubyte"), labels.to_bytes()).unwrap();
    std::fs::write(dir.join("t10k-labels-idx1-ubyte"), labels.to_bytes()).unwrap();
    let m = Mnist::load(&dir).unwrap();
    assert_eq!(m.train_images.dims(), &[3, 1, 2, 2]);
    assert_eq!(m.train_images.to_vec::<f32>().unwrap()[..2], [0.0, 1.0]);
    assert_eq!(m.train_labels.to_vec::<i64>().unwrap(), vec![1, 2, 9]);
}

#[test]
fn images_must_be_u8_rank_3() {
    let dir = scratch_dir("mnist-rank");
    let images = IdxArray::new(vec![2, 4], IdxData::U8(vec![0; 8])).unwrap();
    let labels = IdxArray::new(vec![2], IdxData::U8(vec![0, 1])).unwrap();
    std::fs::write(dir.join("train-images-idx3-ubyte"), images.to_bytes()).unwrap();
    std::fs::write(dir.join("train-labels-idx1-ubyte"), labels.to_bytes()).unwrap();
    let msg = Mnist::load_split(&dir, MnistSplit::Train, ImageLayout::Nchw)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("train-images-idx3-ubyte") && msg.contains("rank 3") && msg.contains("[2, 4]"),
        "{msg}"
    );
}
