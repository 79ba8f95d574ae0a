//! Files: numpy's `.npz`/`.npy`.

pub mod npz;
