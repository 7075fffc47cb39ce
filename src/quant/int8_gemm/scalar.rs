//! The portable int8 kernel: the definition, written so that the compiler
//! vectorises the inner sums.

/// `out[i, j] = sum_k a[i, k] * w[j, k]` for the rows of `a` (`[m, k]`), `w` `[n, k]`.
pub(super) fn rows(w: &[i8], n: usize, k: usize, a: &[i8], out: &mut [i32]) {
    for (a_row, o_row) in a.chunks_exact(k).zip(out.chunks_exact_mut(n)) {
        for (o, w_row) in o_row.iter_mut().zip(w.chunks_exact(k)) {
            *o = a_row.iter().zip(w_row).map(|(&x, &y)| x as i32 * y as i32).sum();
        }
    }
}
