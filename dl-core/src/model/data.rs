//! What `fit`, `evaluate` and `predict` accept as `x` and `y`: any ndarray array of a numeric
//! type (f32, f64, u8, integer labels...), 1-D (one value per row) or 2-D `(rows, columns)`,
//! cast to f32 as Keras casts numpy arrays. f32 arrays in standard layout are used without a
//! copy.

use crate::error::{Error, Result};
use crate::numpy::Scalar;
use ndarray::{ArrayBase, Axis, CowArray, Data, Dimension, Ix1, Ix2};

/// An array usable as model input or target.
pub trait AsMatrix {
    /// The array's shape, for error messages.
    fn shape_of(&self) -> Vec<usize>;
    /// The data as `(rows, columns)` f32; `None` if the array is not 1-D or 2-D.
    fn to_matrix(&self) -> Option<CowArray<'_, f32, Ix2>>;
    /// The array as a trait object, so that `fit`, `evaluate` and `predict` are compiled once in
    /// dl-core rather than again in every notebook cell that calls them.
    #[doc(hidden)]
    fn as_dyn(&self) -> &dyn AsMatrix;
}

impl<S, D> AsMatrix for ArrayBase<S, D>
where
    S: Data,
    S::Elem: Scalar,
    D: Dimension,
{
    fn shape_of(&self) -> Vec<usize> {
        self.shape().to_vec()
    }

    fn to_matrix(&self) -> Option<CowArray<'_, f32, Ix2>> {
        let view = self.view();
        let v2 = match self.ndim() {
            1 => view.into_dimensionality::<Ix1>().ok()?.insert_axis(Axis(1)),
            2 => view.into_dimensionality::<Ix2>().ok()?,
            _ => return None,
        };
        if let Some(f) = <S::Elem as Scalar>::as_f32_view(v2) {
            if f.is_standard_layout() {
                return Some(CowArray::from(f));
            }
        }
        Some(CowArray::from(v2.mapv(Scalar::to_f32)))
    }

    fn as_dyn(&self) -> &dyn AsMatrix {
        self
    }
}

/// `x` as a matrix with `features` columns (if known), with an error that says what to do.
pub(crate) fn input_matrix<'a>(
    op: &'static str,
    x: &'a dyn AsMatrix,
    features: Option<usize>,
) -> Result<CowArray<'a, f32, Ix2>> {
    let shape = x.shape_of();
    let m = x.to_matrix().ok_or_else(|| {
        Error::shape(
            op,
            format!(
                "x has {} dimensions, but Dense layers take (rows, features); flatten it first, e.g. flatten(&x)",
                shape.len()
            ),
            &shape,
            "(rows, features)",
        )
    })?;
    if m.nrows() == 0 {
        return Err(Error::shape(op, "x has no rows", &shape, "at least one row"));
    }
    if let Some(f) = features {
        if m.ncols() != f {
            return Err(Error::shape(
                op,
                format!("x has {} features but the model's first layer expects {f}", m.ncols()),
                &shape,
                format!("(rows, {f})"),
            ));
        }
    }
    if !all_finite(&m.view()) {
        let v = m.iter().find(|v| !v.is_finite()).copied().unwrap_or(f32::NAN);
        return Err(Error::invalid(op, format!("x contains {v}; remove or replace non-finite values first")));
    }
    Ok(m)
}

/// `y` as a matrix with the rows of `x` and `width` columns.
pub(crate) fn target_matrix<'a>(
    op: &'static str,
    y: &'a dyn AsMatrix,
    rows: usize,
    width: usize,
    what: &str,
) -> Result<CowArray<'a, f32, Ix2>> {
    let shape = y.shape_of();
    let m = y.to_matrix().ok_or_else(|| {
        Error::shape(op, format!("y has {} dimensions", shape.len()), &shape, format!("({rows}, {width})"))
    })?;
    if m.nrows() != rows {
        return Err(Error::shape(
            op,
            format!("y has {} rows but x has {rows}", m.nrows()),
            &shape,
            format!("({rows}, {width})"),
        ));
    }
    if m.ncols() != width {
        return Err(Error::shape(
            op,
            format!("y has {} columns but {what} needs {width}", m.ncols()),
            &shape,
            format!("({rows}, {width})"),
        ));
    }
    Ok(m)
}

/// Whether every value is finite, in one vectorised pass (this runs over all of `x` on every
/// `fit`, 188 MB for MNIST): `v · 0` is 0 for finite `v` and NaN otherwise.
pub(crate) fn all_finite(m: &ndarray::ArrayView2<'_, f32>) -> bool {
    struct Check<'a>(&'a [f32]);
    impl crate::linalg::elementwise::Vectorizable for Check<'_> {
        type Output = bool;
        #[inline(always)]
        fn run(self) -> bool {
            let mut acc = [0.0f32; 16];
            let chunks = self.0.chunks_exact(16);
            let tail = chunks.remainder().iter().fold(0.0f32, |a, v| a + v * 0.0);
            for c in chunks {
                for j in 0..16 {
                    acc[j] += c[j] * 0.0;
                }
            }
            (acc.iter().sum::<f32>() + tail) == 0.0
        }
    }
    match m.as_slice_memory_order() {
        Some(s) => crate::linalg::elementwise::vectorized(Check(s)),
        None => m.iter().all(|v| v.is_finite()),
    }
}
