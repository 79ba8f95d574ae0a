//! The Keras-style model: [`Sequential`] and everything `fit` needs.

pub mod data;
pub mod fit;
#[cfg(test)]
mod gradcheck;
pub mod history;
pub(crate) mod live_plot;
pub(crate) mod progress;
pub mod save;
pub mod sequential;
pub mod summary;
pub(crate) mod workspace;

pub use data::AsMatrix;
pub use fit::FitOptions;
pub use history::History;
pub use sequential::{IntoLoss, IntoOptimizer, Sequential};
