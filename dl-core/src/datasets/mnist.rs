//! `keras.datasets.mnist.load_data()`: 60000 training and 10000 test images of 28 × 28 uint8
//! pixels with their uint8 labels, from Keras's `mnist.npz`.

use super::cache::{get_file, RemoteFile};
use crate::error::{Error, Result};
use crate::io::npz::Npz;
use ndarray::{Array1, Array3, Ix1, Ix3};

/// Keras's file and hash.
pub const FILE: RemoteFile =
    RemoteFile { name: "mnist.npz", sha256: "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1" };

/// `((x_train, y_train), (x_test, y_test))`: images `(n, 28, 28)` and labels `(n,)`, uint8.
pub type Split = ((Array3<u8>, Array1<u8>), (Array3<u8>, Array1<u8>));

/// Keras's `mnist.load_data()`.
///
/// # Errors
/// When the file cannot be found, downloaded or read (see [`get_file`]).
pub fn load_data() -> Result<Split> {
    let mut npz = Npz::load(get_file(&FILE)?)?;
    let mut take3 = |k: &str| npz.take(k).and_then(|a| a.into_array::<u8, Ix3>());
    let (xtr, xte) = (take3("x_train")?, take3("x_test")?);
    let mut take1 = |k: &str| npz.take(k).and_then(|a| a.into_array::<u8, Ix1>());
    let (ytr, yte) = (take1("y_train")?, take1("y_test")?);
    if xtr.shape()[0] != ytr.len() || xte.shape()[0] != yte.len() {
        return Err(Error::Dataset("mnist.npz: images and labels differ in count".into()));
    }
    Ok(((xtr, ytr), (xte, yte)))
}
