//! Two-dimensional sizes (kernel, stride, padding) given as one number or a pair.

/// A `(height, width)` size: `3` means `(3, 3)`, `(3, 5)` and `[3, 5]` are taken as is.
pub trait IntoSize2: Copy {
    /// The `[height, width]` pair.
    fn into_size2(self) -> [usize; 2];
}

impl IntoSize2 for usize {
    fn into_size2(self) -> [usize; 2] {
        [self, self]
    }
}

impl IntoSize2 for (usize, usize) {
    fn into_size2(self) -> [usize; 2] {
        [self.0, self.1]
    }
}

impl IntoSize2 for [usize; 2] {
    fn into_size2(self) -> [usize; 2] {
        self
    }
}
