//! Files: numpy's `.npy` and `.npz`, and writes that never leave a half-written file.

pub(crate) mod atomic;
pub mod npy;
pub mod npz;

pub use npy::{load_npy, save_npy, Element, NpArray};
pub use npz::{Npz, NpzWriter};
