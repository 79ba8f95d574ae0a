//! numpy's and scikit-learn's random helpers, drawn from the global generator (see
//! [`super::set_random_seed`]): `np.random.rand`/`randn`/`uniform`/`normal`, shuffling rows in
//! unison, and `train_test_split`.
//!
//! ```
//! use dl_core::prelude::*;
//! set_random_seed(3);
//! let a = uniform(0.0, 1.0, 5);
//! set_random_seed(3);
//! assert_eq!(a, uniform(0.0, 1.0, 5));
//! ```

use super::{next_seed, Rng};
use crate::error::{Error, Result};
use crate::numpy::take_rows;
use ndarray::{Array, Array1, ArrayBase, ArrayD, Data, Dimension, RemoveAxis};

/// Shuffles the rows of `x` and `y` with the same permutation. `seed: None` draws one from the
/// global generator (see [`crate::set_random_seed`]).
///
/// # Errors
/// When `x` and `y` have different numbers of rows.
#[allow(clippy::type_complexity)]
pub fn shuffle<A, B, S1, S2, D1, D2>(
    x: &ArrayBase<S1, D1>,
    y: &ArrayBase<S2, D2>,
    seed: Option<u64>,
) -> Result<(Array<A, D1>, Array<B, D2>)>
where
    A: Clone,
    B: Clone,
    S1: Data<Elem = A>,
    S2: Data<Elem = B>,
    D1: Dimension + RemoveAxis,
    D2: Dimension + RemoveAxis,
{
    let n = rows_agree("shuffle", x.shape(), y.shape())?;
    let p = Rng::new(seed.unwrap_or_else(next_seed)).permutation(n);
    Ok((take_rows(x, &p), take_rows(y, &p)))
}

/// Shuffles rows, then splits off the last `test_size` share as test data, like scikit-learn's
/// `train_test_split(x, y, test_size, random_state)`. Returns `((x_train, y_train), (x_test,
/// y_test))`, the shape Keras's `load_data` uses.
///
/// # Errors
/// When the row counts differ or `test_size` is not in `(0, 1)`.
#[allow(clippy::type_complexity)]
pub fn train_test_split<A, B, S1, S2, D1, D2>(
    x: &ArrayBase<S1, D1>,
    y: &ArrayBase<S2, D2>,
    test_size: f64,
    seed: Option<u64>,
) -> Result<((Array<A, D1>, Array<B, D2>), (Array<A, D1>, Array<B, D2>))>
where
    A: Clone,
    B: Clone,
    S1: Data<Elem = A>,
    S2: Data<Elem = B>,
    D1: Dimension + RemoveAxis,
    D2: Dimension + RemoveAxis,
{
    let n = rows_agree("train_test_split", x.shape(), y.shape())?;
    if !(test_size > 0.0 && test_size < 1.0) {
        return Err(Error::invalid("train_test_split", format!("test_size {test_size} is not in (0, 1)")));
    }
    let n_test = ((n as f64) * test_size).ceil() as usize;
    let p = Rng::new(seed.unwrap_or_else(next_seed)).permutation(n);
    let (train, test) = p.split_at(n - n_test);
    Ok(((take_rows(x, train), take_rows(y, train)), (take_rows(x, test), take_rows(y, test))))
}

fn rows_agree(op: &'static str, x: &[usize], y: &[usize]) -> Result<usize> {
    let (Some(&nx), Some(&ny)) = (x.first(), y.first()) else {
        return Err(Error::shape(op, "arrays need a first axis", x, "(n, ...)"));
    };
    if nx != ny {
        return Err(Error::shape(op, format!("x has {nx} rows but y has {ny}"), y, format!("{nx} rows")));
    }
    Ok(nx)
}

/// `np.random.rand(shape)`: uniform in `[0, 1)` from the global generator.
pub fn rand<Sh: ndarray::ShapeBuilder<Dim = ndarray::IxDyn>>(shape: Sh) -> ArrayD<f64> {
    let mut rng = Rng::new(next_seed());
    ArrayD::from_shape_simple_fn(shape, || rng.next_f64())
}

/// `np.random.randn(shape)`: standard normal values from the global generator.
pub fn randn<Sh: ndarray::ShapeBuilder<Dim = ndarray::IxDyn>>(shape: Sh) -> ArrayD<f64> {
    let mut rng = Rng::new(next_seed());
    ArrayD::from_shape_simple_fn(shape, || rng.normal())
}

/// `np.random.uniform(low, high, n)` as a 1-D array.
pub fn uniform(low: f64, high: f64, n: usize) -> Array1<f64> {
    let mut rng = Rng::new(next_seed());
    Array1::from_shape_simple_fn(n, || rng.uniform(low, high))
}

/// `np.random.normal(mean, std, n)` as a 1-D array.
pub fn normal(mean: f64, std: f64, n: usize) -> Array1<f64> {
    let mut rng = Rng::new(next_seed());
    Array1::from_shape_simple_fn(n, || mean + std * rng.normal())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn split_keeps_rows_paired_and_sizes_right() {
        let x = Array2::from_shape_fn((10, 2), |(i, j)| (i * 10 + j) as f32);
        let y = Array1::from_shape_fn(10, |i| i as f32);
        let ((xtr, ytr), (xte, yte)) = train_test_split(&x, &y, 0.3, Some(1)).unwrap();
        assert_eq!((xtr.nrows(), xte.nrows()), (7, 3));
        for (r, &l) in xtr.rows().into_iter().zip(&ytr).chain(xte.rows().into_iter().zip(&yte)) {
            assert_eq!(r[0], l * 10.0);
        }
        assert!(train_test_split(&x, &y.slice(ndarray::s![..9]), 0.3, None).is_err());
    }
}
