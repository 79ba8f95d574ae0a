//! # dl-core: Keras-style deep learning in Rust, for teaching
//!
//! The names and defaults of Keras (`Sequential`, `Dense`, `compile`, `fit`, `evaluate`,
//! `predict`, `summary`, `get_weights`), numpy-style helpers on [`ndarray`], Keras's datasets,
//! `.npz` files and pyplot-style plots, so that a course written for Keras can be followed
//! line by line — with the same numbers Keras gives, to float32 precision.
//!
//! ```
//! use dl_core::prelude::*;
//!
//! set_random_seed(1);
//! // y = 3 + 4x + noise, the course's first example.
//! let x = uniform(0.0, 1.0, 2000);
//! let y = x.mapv(|v| 3.0 + 4.0 * v) + normal(0.0, 0.2, 2000);
//!
//! let mut model = Sequential::new();
//! model.add(Dense::new(1).input_dim(1));
//! model.compile("sgd", "mse", &["mse"])?;
//! let fit = FitOptions { epochs: 40, batch_size: 16, verbose: 0, ..Default::default() };
//! let history = model.fit_with(&x, &y, fit)?;
//!
//! let w = model.get_weights();
//! assert!((w[0][[0, 0]] - 4.0).abs() < 0.2 && (w[1][[0]] - 3.0).abs() < 0.1);
//! assert!(history.get("loss")?.last() < history.get("loss")?.first());
//! # Ok::<(), dl_core::Error>(())
//! ```

#![deny(unsafe_code)] // the one exception is `linalg::simd`, which allows it for itself

pub mod datasets;
pub mod display;
pub mod error;
pub mod init;
pub mod io;
pub mod kernel_protocol;
pub mod layers;
pub mod linalg;
pub mod loss;
pub mod metrics;
pub mod model;
pub mod numpy;
pub mod optim;
pub mod plot;
pub mod random;
pub mod session;

pub use error::{Error, Result};
pub use layers::{Activation, Dense};
pub use loss::Loss;
pub use model::{FitOptions, History, Sequential};
pub use ndarray;
pub use optim::{Adam, Optimizer, RmsProp, Sgd};
pub use random::set_random_seed;

/// Forgets the automatic names given so far, so the next model is `sequential` with layers
/// `dense`, `dense_1`... again (Keras's `keras.backend.clear_session()`).
pub fn clear_session() {
    session::reset_count("sequential", &model::sequential::SEQUENTIAL_COUNT);
    session::reset_count("dense", &layers::dense::DENSE_COUNT);
}

/// Everything a course notebook uses, in one `use dl_core::prelude::*;`.
pub mod prelude {
    pub use crate::clear_session;
    pub use crate::datasets::{boston_housing, grading, mnist};
    pub use crate::display::DebugDisplay as _;
    pub use crate::error::{Error, Result};
    pub use crate::init::Initializer;
    pub use crate::io::{load_npy, save_npy, NpArray, Npz, NpzWriter};
    pub use crate::layers::{Activation, Dense};
    pub use crate::loss::Loss;
    pub use crate::model::{AsMatrix, FitOptions, History, Sequential};
    pub use crate::numpy::{
        argmax, argmin, count_equal, dtype_name, flatten, fraction_equal, max, mean_std, min, round, scale_u8,
        standardize, take_rows, to_categorical, to_f32, to_f64,
    };
    pub use crate::optim::{Adam, Optimizer, RmsProp, Sgd};
    pub use crate::plot::{plt, set_figure_format, Colormap, Figure, FigureFormat};
    pub use crate::random::{normal, rand, randn, set_random_seed, shuffle, train_test_split, uniform};
    pub use ndarray::{
        array, concatenate, s, stack, Array, Array1, Array2, Array3, ArrayD, ArrayView1, ArrayView2, Axis, Ix1, Ix2,
        Ix3, IxDyn,
    };
}
