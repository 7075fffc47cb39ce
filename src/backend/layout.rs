//! Layout helpers shared by every backend.

/// Merges adjacent dims that are laid out contiguously with respect to each
/// other and drops size-1 dims, so that a strided copy runs over long rows
/// (most permutes and narrows become rank <= 3). Never returns an empty list.
pub(crate) fn coalesce(shape: &[usize], strides: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let mut dims: Vec<usize> = Vec::with_capacity(shape.len());
    let mut strs: Vec<usize> = Vec::with_capacity(shape.len());
    for (&d, &s) in shape.iter().zip(strides) {
        if d == 1 {
            continue;
        }
        if let (Some(ld), Some(ls)) = (dims.last_mut(), strs.last_mut())
            && *ls == s * d
        {
            *ld *= d;
            *ls = s;
            continue;
        }
        dims.push(d);
        strs.push(s);
    }
    if dims.is_empty() {
        dims.push(1);
        strs.push(1);
    }
    (dims, strs)
}

#[cfg(test)]
mod tests {
    use super::coalesce;

    #[test]
    fn merges_contiguous_runs_and_drops_unit_dims() {
        // A contiguous [2, 3, 4] is one row of 24.
        assert_eq!(coalesce(&[2, 3, 4], &[12, 4, 1]), (vec![24], vec![1]));
        // A transpose of the last two dims cannot merge them.
        assert_eq!(coalesce(&[2, 4, 3], &[12, 1, 4]), (vec![2, 4, 3], vec![12, 1, 4]));
        // Broadcast (stride 0) dims stay separate; unit dims vanish.
        assert_eq!(coalesce(&[5, 1, 3], &[0, 7, 1]), (vec![5, 3], vec![0, 1]));
        assert_eq!(coalesce(&[1, 1], &[1, 1]), (vec![1], vec![1]));
    }
}
