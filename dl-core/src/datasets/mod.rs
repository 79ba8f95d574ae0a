//! Keras's datasets: the same files, the same arrays, the same order.
//!
//! ```no_run
//! use dl_core::prelude::*;
//! let ((x_train, y_train), (x_test, y_test)) = boston_housing::load_data()?;
//! assert_eq!(x_train.shape(), &[404, 13]);
//! let ((images, labels), _) = mnist::load_data()?;
//! assert_eq!(images.shape(), &[60000, 28, 28]);
//! # Ok::<(), dl_core::Error>(())
//! ```

pub mod boston_housing;
pub mod cache;
pub mod grading;
pub mod mnist;

pub use cache::{cache_dir, get_file};
