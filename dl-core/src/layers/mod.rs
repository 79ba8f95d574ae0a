//! Layers. The course needs one kind, [`Dense`]; its activations live in [`activation`].

pub mod activation;
pub mod dense;

pub use activation::Activation;
pub use dense::Dense;
