//! Every kernel this CPU runs against the integer definition, exactly.

use super::*;

/// The definition in `i64`, so that it cannot overflow itself.
fn reference(a: &[i8], w: &[i8], m: usize, n: usize, k: usize) -> Vec<i32> {
    let mut out = vec![0i32; m * n];
    for i in 0..m {
        for j in 0..n {
            let s: i64 = (0..k).map(|kk| a[i * k + kk] as i64 * w[j * k + kk] as i64).sum();
            out[i * n + j] = i32::try_from(s).expect("reference sum fits i32");
        }
    }
    out
}

/// A deterministic stream of bytes covering the whole int8 range.
fn bytes(len: usize, seed: u64) -> Vec<i8> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 24) as u8 as i8
        })
        .collect()
}

fn kernels() -> Vec<Int8Kernel> {
    Int8Kernel::ALL.into_iter().filter(|k| k.is_available()).collect()
}

#[test]
fn every_kernel_equals_the_integer_definition() {
    // Sizes off every vector width and row block, k not a multiple of 2 or 4.
    let shapes = [
        (1, 1, 1),
        (1, 10, 784),
        (3, 17, 5),
        (4, 16, 4),
        (5, 33, 63),
        (7, 8, 2),
        (9, 31, 129),
        (64, 512, 784),
        (13, 70, 1),
    ];
    for kernel in kernels() {
        for (si, &(m, n, k)) in shapes.iter().enumerate() {
            let (a, w) = (bytes(m * k, si as u64 + 1), bytes(n * k, si as u64 + 100));
            let packed = PackedInt8Matrix::with_kernel(&w, n, k, kernel).unwrap();
            assert_eq!(
                packed.matmul(&a, m).unwrap(),
                reference(&a, &w, m, n, k),
                "{} {m}x{n}x{k}",
                kernel.name()
            );
        }
    }
}

#[test]
fn extreme_values_accumulate_exactly() {
    // -128 * -128 over the deepest allowed k is 2^31 - 16384: just inside i32.
    for kernel in kernels() {
        for (value_a, value_w, k) in [
            (-128i8, -128i8, 1000),
            (-128, 127, 777),
            (127, 127, 1023),
            (-128, -128, MAX_INT8_DEPTH),
        ] {
            let (m, n) = (5, 19);
            let (a, w) = (vec![value_a; m * k], vec![value_w; n * k]);
            let got = PackedInt8Matrix::with_kernel(&w, n, k, kernel)
                .unwrap()
                .matmul(&a, m)
                .unwrap();
            let expected = (value_a as i64 * value_w as i64 * k as i64) as i32;
            assert!(
                got.iter().all(|&v| v == expected),
                "{}: {value_a} * {value_w} * {k}",
                kernel.name()
            );
        }
        // Alternating extremes: sums that rise and fall inside each group.
        let (m, n, k) = (6, 21, 37);
        let a: Vec<i8> = (0..m * k).map(|i| if i % 3 == 0 { -128 } else { 127 }).collect();
        let w: Vec<i8> = (0..n * k).map(|i| if i % 2 == 0 { -128 } else { 127 }).collect();
        let got = PackedInt8Matrix::with_kernel(&w, n, k, kernel)
            .unwrap()
            .matmul(&a, m)
            .unwrap();
        assert_eq!(got, reference(&a, &w, m, n, k), "{}", kernel.name());
    }
}

#[test]
fn threaded_products_equal_serial_ones() {
    // Above PAR_MIN_MACS with a row count that leaves a partial last block.
    let (m, n, k) = (37, 300, 200);
    let (a, w) = (bytes(m * k, 7), bytes(n * k, 8));
    for kernel in kernels() {
        let got = PackedInt8Matrix::with_kernel(&w, n, k, kernel)
            .unwrap()
            .matmul(&a, m)
            .unwrap();
        assert_eq!(got, reference(&a, &w, m, n, k), "{}", kernel.name());
    }
}

#[test]
fn empty_and_wrong_operands() {
    for kernel in kernels() {
        let p = PackedInt8Matrix::with_kernel(&[], 0, 5, kernel).unwrap();
        assert_eq!(p.matmul(&[0; 10], 2).unwrap(), Vec::<i32>::new());
        let p = PackedInt8Matrix::with_kernel(&[], 3, 0, kernel).unwrap();
        assert_eq!(p.matmul(&[], 2).unwrap(), vec![0; 6]);
        let p = PackedInt8Matrix::with_kernel(&[1, 2, 3, 4], 2, 2, kernel).unwrap();
        assert_eq!(p.matmul(&[], 0).unwrap(), Vec::<i32>::new());
        let e = p.matmul(&[1, 2, 3], 2).unwrap_err().to_string();
        assert!(e.contains("3 values") && e.contains("m * k"), "{e}");
    }
    let e = PackedInt8Matrix::new(&[1, 2, 3], 2, 2).unwrap_err().to_string();
    assert!(e.contains("3 values"), "{e}");
    let e = PackedInt8Matrix::new(&[], 0, MAX_INT8_DEPTH + 1)
        .unwrap_err()
        .to_string();
    assert!(e.contains("overflow i32"), "{e}");
    assert!(PackedInt8Matrix::new(&[], usize::MAX, 2).is_err());
}
