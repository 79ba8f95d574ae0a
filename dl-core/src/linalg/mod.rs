//! Matrix products. Everything in dl-core multiplies through [`gemm`], so the kernel behind it
//! can change without touching layers.

use crate::error::{Error, Result};
use ndarray::{Array2, ArrayView2, ArrayViewMut2};

/// `C = alpha · A·B + beta · C` for f32 views of any strides (pass `a.t()` for `Aᵀ`).
///
/// # Errors
/// When the shapes do not chain: `A` is `(m, k)`, `B` must be `(k, n)` and `C` `(m, n)`.
pub fn gemm(alpha: f32, a: ArrayView2<f32>, b: ArrayView2<f32>, beta: f32, c: ArrayViewMut2<f32>) -> Result<()> {
    let ((m, k), (k2, n)) = (a.dim(), b.dim());
    if k != k2 || c.dim() != (m, n) {
        return Err(Error::shape(
            "gemm",
            format!("A is {m}x{k} and B is {k2}x{n}"),
            c.shape(),
            format!("A's columns equal B's rows, and C of shape [{m}, {n}]"),
        ));
    }
    gemm_unchecked(alpha, a, b, beta, c);
    Ok(())
}

/// `A·B` as a new array.
///
/// # Errors
/// When `A`'s columns differ from `B`'s rows.
pub fn matmul(a: ArrayView2<f32>, b: ArrayView2<f32>) -> Result<Array2<f32>> {
    let mut c = Array2::zeros((a.nrows(), b.ncols()));
    gemm(1.0, a, b, 0.0, c.view_mut())?;
    Ok(c)
}

/// [`gemm`] for callers that have already checked the shapes.
pub(crate) fn gemm_unchecked(alpha: f32, a: ArrayView2<f32>, b: ArrayView2<f32>, beta: f32, mut c: ArrayViewMut2<f32>) {
    debug_assert_eq!(a.ncols(), b.nrows());
    ndarray::linalg::general_mat_mul(alpha, &a, &b, beta, &mut c);
}
