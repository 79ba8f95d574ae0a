//! Matrix products, written here rather than borrowed: everything in dl-core multiplies
//! through [`gemm`], which picks a path by shape —
//!
//! - `n = 1` or `m = 1` (matrix × vector; a Dense(1) output and every linear regression of the
//!   course): dot products or column updates in memory order, no packing ([`small`]);
//! - at most `TINY_MACS` multiply-adds (batch 16 × 1 × 1): plain loops;
//! - otherwise the BLIS-style blocked product ([`blocked`]) with the best micro-kernel the CPU
//!   has ([`microkernel`]), narrower tiles for narrow outputs, blocks sized from the caches
//!   ([`machine`], [`params`]), threads only above `PARALLEL_MIN_MACS`.
//!
//! The CPU is read at run time ([`cpu`], [`machine`]); a training loop keeps the pool's other
//! worker awake between its products ([`awake`]); SIMD code lives in [`simd`], the only module of
//! dl-core allowed `unsafe`, behind proofs that the CPU has the instructions. Element-wise passes
//! of the training step run vectorised through [`elementwise`].

pub(crate) mod awake;
pub mod blocked;
pub mod cpu;
pub mod elementwise;
pub mod machine;
pub(crate) mod microkernel;
pub(crate) mod pack;
pub mod params;
pub(crate) mod simd;
pub mod small;

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
    let (m, k) = a.dim();
    let n = b.ncols();
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        return small::scale(beta, c);
    }
    if n == 1 {
        return small::gemv(alpha, a, b, beta, c);
    }
    if m == 1 {
        return small::gevm(alpha, a, b, beta, c);
    }
    if m * n * k <= params::TINY_MACS {
        small::scale(beta, c.view_mut());
        return small::naive(alpha, a, b, c);
    }
    blocked::gemm_auto(rayon::current_num_threads(), alpha, a, b, beta, c);
}
