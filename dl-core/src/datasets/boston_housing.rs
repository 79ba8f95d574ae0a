//! `keras.datasets.boston_housing.load_data(test_split=0.2, seed=113)`: 506 rows of 13
//! features and the median house value, shuffled with numpy's legacy `RandomState(113)` and cut
//! at `int(506 · 0.8) = 404`, as float64 — so `x_train[78]` is the row the course prints.

use super::cache::{get_file, RemoteFile};
use crate::error::{Error, Result};
use crate::io::npz::Npz;
use crate::random::mt19937::legacy_permutation;
use ndarray::{Array1, Array2, Axis, Ix1, Ix2};

/// Keras's file and hash.
pub const FILE: RemoteFile = RemoteFile {
    name: "boston_housing.npz",
    sha256: "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5",
};

/// `((x_train, y_train), (x_test, y_test))` as Keras's `load_data()` returns them.
pub type Split = ((Array2<f64>, Array1<f64>), (Array2<f64>, Array1<f64>));

/// Keras's `boston_housing.load_data()`: 404 training and 102 test rows.
///
/// # Errors
/// When the file cannot be found, downloaded or read (see [`get_file`]).
pub fn load_data() -> Result<Split> {
    load_data_with(0.2, 113)
}

/// `load_data(test_split=..., seed=...)`.
///
/// # Errors
/// As [`load_data`], and a `test_split` outside `[0, 1)`.
pub fn load_data_with(test_split: f64, seed: u32) -> Result<Split> {
    if !(0.0..1.0).contains(&test_split) {
        return Err(Error::invalid(
            "boston_housing::load_data",
            format!("test_split must be in [0, 1), got {test_split}"),
        ));
    }
    let npz = Npz::load(get_file(&FILE)?)?;
    let x = npz.array::<f64, Ix2>("x")?;
    let y = npz.array::<f64, Ix1>("y")?;
    if x.nrows() != y.len() {
        return Err(Error::shape(
            "boston_housing::load_data",
            "x and y differ in rows",
            x.shape(),
            format!("{} rows", y.len()),
        ));
    }
    let p = legacy_permutation(x.nrows(), seed);
    let (x, y) = (x.select(Axis(0), &p), y.select(Axis(0), &p));
    let cut = (x.nrows() as f64 * (1.0 - test_split)) as usize;
    let (xtr, xte) = x.view().split_at(Axis(0), cut);
    let (ytr, yte) = y.view().split_at(Axis(0), cut);
    Ok(((xtr.to_owned(), ytr.to_owned()), (xte.to_owned(), yte.to_owned())))
}
