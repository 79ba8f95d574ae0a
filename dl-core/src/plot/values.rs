//! What plotting calls accept as data: ndarray arrays (1-D, or 2-D with one row or column, such
//! as `predict`'s `(n, 1)` output), slices, vectors and arrays of any numeric type.

use crate::error::{Error, Result};
use crate::numpy::Scalar;
use ndarray::{ArrayBase, Data, Dimension};

/// A sequence of numbers to plot.
pub trait Values {
    /// The numbers as f64.
    ///
    /// # Errors
    /// A shape that is not a sequence, or a NaN/infinite value.
    fn values(&self, op: &'static str, what: &str) -> Result<Vec<f64>>;
}

fn finite(op: &'static str, what: &str, v: Vec<f64>) -> Result<Vec<f64>> {
    match v.iter().position(|x| !x.is_finite()) {
        Some(i) => Err(Error::plot(op, format!("{what}[{i}] is {}; remove or replace non-finite values first", v[i]))),
        None => Ok(v),
    }
}

impl<S, D> Values for ArrayBase<S, D>
where
    S: Data,
    S::Elem: Scalar,
    D: Dimension,
{
    fn values(&self, op: &'static str, what: &str) -> Result<Vec<f64>> {
        let sh = self.shape();
        let ok = match sh.len() {
            1 => true,
            2 => sh[0] == 1 || sh[1] == 1,
            _ => false,
        };
        if !ok {
            return Err(Error::plot(
                op,
                format!("{what} has shape {sh:?}; pass one sequence, e.g. a column with .column(0) (imshow draws 2-D arrays)"),
            ));
        }
        finite(op, what, self.iter().map(|v| v.to_f64()).collect())
    }
}

impl<T: Scalar> Values for [T] {
    fn values(&self, op: &'static str, what: &str) -> Result<Vec<f64>> {
        finite(op, what, self.iter().map(|v| v.to_f64()).collect())
    }
}

impl<T: Scalar> Values for Vec<T> {
    fn values(&self, op: &'static str, what: &str) -> Result<Vec<f64>> {
        self.as_slice().values(op, what)
    }
}

impl<T: Scalar, const N: usize> Values for [T; N] {
    fn values(&self, op: &'static str, what: &str) -> Result<Vec<f64>> {
        self.as_slice().values(op, what)
    }
}
