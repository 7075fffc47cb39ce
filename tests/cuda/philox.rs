//! The host mirror of the GPU generator: Random123's known answers, and the
//! mapping of words to values (the GPU parity test compares the kernels to it).

use neurite::DType;
use neurite::backend::cuda::{dropout_mask_host, philox_blocks, philox4x32_10, rand_uniform_host};

#[test]
fn philox_matches_random123_known_answers() {
    assert_eq!(
        philox4x32_10([0; 4], [0; 2]),
        [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
    );
    assert_eq!(
        philox4x32_10([u32::MAX; 4], [u32::MAX; 2]),
        [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]
    );
    assert_eq!(
        philox4x32_10(
            [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
            [0xa4093822, 0x299f31d0]
        ),
        [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]
    );
}

#[test]
fn uniform_values_use_the_documented_words() {
    let seed = 0x1234_5678_9abc_def0u64;
    let v: Vec<f32> = rand_uniform_host(9, DType::F32, seed, 7).unwrap().to_vec().unwrap();
    let b = philox4x32_10([8, 0, 0, 0], [seed as u32, (seed >> 32) as u32]);
    // Element 5 is word 1 of block offset + 1.
    assert_eq!(v[5], (b[1] >> 8) as f32 / 16_777_216.0);
    let d: Vec<f64> = rand_uniform_host(4, DType::F64, seed, 7).unwrap().to_vec().unwrap();
    let expect = ((b[2] >> 5) as f64 * 67_108_864.0 + (b[3] >> 6) as f64) / 9_007_199_254_740_992.0;
    assert_eq!(d[3], expect, "f64 element 3 uses words 2 and 3 of block offset + 1");
    assert_eq!(philox_blocks(9, DType::F32), 3);
    assert_eq!(philox_blocks(3, DType::F64), 2);
    assert!(rand_uniform_host(4, DType::I64, 0, 0).is_err());
}

#[test]
fn uniform_values_are_in_range_and_uniform() {
    for dt in [DType::F32, DType::F64, DType::F16, DType::BF16] {
        let v: Vec<f64> = rand_uniform_host(20_000, dt, 42, 0).unwrap().to_vec().unwrap();
        assert!(v.iter().all(|&x| (0.0..1.0).contains(&x)), "{dt}: value outside [0, 1)");
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64;
        assert!((mean - 0.5).abs() < 0.01, "{dt}: mean {mean}");
        assert!((var - 1.0 / 12.0).abs() < 0.005, "{dt}: variance {var}");
    }
    // Offsets continue the stream: two halves equal one whole.
    let whole: Vec<f32> = rand_uniform_host(16, DType::F32, 9, 0).unwrap().to_vec().unwrap();
    let tail: Vec<f32> = rand_uniform_host(8, DType::F32, 9, philox_blocks(8, DType::F32))
        .unwrap()
        .to_vec()
        .unwrap();
    assert_eq!(&whole[8..], &tail[..]);
}

#[test]
fn dropout_mask_drops_about_p() {
    let m = dropout_mask_host(40_000, 0.25, 3, 0);
    let dropped = m.iter().filter(|&&x| x == 0.0).count() as f64 / m.len() as f64;
    assert!((dropped - 0.25).abs() < 0.01, "dropped fraction {dropped}");
    assert!(m.iter().all(|&x| x == 0.0 || x == (1.0f64 / 0.75) as f32));
}
