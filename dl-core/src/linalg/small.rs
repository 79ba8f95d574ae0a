//! Products too thin for packing: matrix × vector (`n = 1`: a Dense(1) output, the linear
//! regressions of the course), vector × matrix (`m = 1`), and tiny products. Each streams its
//! operands once in the order they lie in memory.

use super::elementwise::{axpy, dot};
use ndarray::{ArrayView2, ArrayViewMut2, Axis};

/// `C = α·A·b + β·C` with `b` a single column.
pub(crate) fn gemv(alpha: f32, a: ArrayView2<f32>, b: ArrayView2<f32>, beta: f32, mut c: ArrayViewMut2<f32>) {
    let bcol = b.column(0);
    scale(beta, c.view_mut());
    match (a.strides()[1] == 1, a.strides()[0] == 1, bcol.as_slice()) {
        // Rows of A are contiguous: one dot product per row.
        (true, _, Some(bs)) => {
            for (i, row) in a.rows().into_iter().enumerate() {
                c[[i, 0]] += alpha * dot(row.as_slice().expect("unit stride"), bs);
            }
        }
        // Columns of A are contiguous (A = xᵀ in backprop): accumulate columns, C += α·b[p]·A[:, p].
        (false, true, _) => match c.column_mut(0).into_slice() {
            Some(cs) => {
                for (p, col) in a.axis_iter(Axis(1)).enumerate() {
                    axpy(alpha * bcol[p], col.as_slice().expect("unit stride"), cs);
                }
            }
            None => naive(alpha, a, b, c),
        },
        _ => naive(alpha, a, b, c),
    }
}

/// `C = α·a·B + β·C` with `a` a single row.
pub(crate) fn gevm(alpha: f32, a: ArrayView2<f32>, b: ArrayView2<f32>, beta: f32, mut c: ArrayViewMut2<f32>) {
    scale(beta, c.view_mut());
    let arow = a.row(0);
    match (b.strides()[1] == 1, c.row_mut(0).into_slice()) {
        (true, Some(cs)) => {
            for (p, brow) in b.rows().into_iter().enumerate() {
                axpy(alpha * arow[p], brow.as_slice().expect("unit stride"), cs);
            }
        }
        _ => naive(alpha, a, b, c),
    }
}

/// Plain loops, `C += α·A·B` after scaling C by β, for products of a few thousand
/// multiply-adds or odd strides.
pub(crate) fn naive(alpha: f32, a: ArrayView2<f32>, b: ArrayView2<f32>, mut c: ArrayViewMut2<f32>) {
    for (i, arow) in a.rows().into_iter().enumerate() {
        let mut crow = c.row_mut(i);
        for (p, &aip) in arow.iter().enumerate() {
            let s = alpha * aip;
            crow.zip_mut_with(&b.row(p), |c, &b| *c += s * b);
        }
    }
}

/// `C = β·C`, with `β = 0` clearing C (so NaN in an output buffer is not propagated).
pub(crate) fn scale(beta: f32, mut c: ArrayViewMut2<f32>) {
    if beta == 0.0 {
        c.fill(0.0);
    } else if beta != 1.0 {
        c.mapv_inplace(|v| v * beta);
    }
}
