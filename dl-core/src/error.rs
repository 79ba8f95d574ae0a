//! The one error type of dl-core.
//!
//! Every call fed by user data or files returns [`Result`], so a notebook cell can use `?` and
//! show a message that names the operation and the shapes involved, e.g.
//! `fit: x has 13 features but the model's first layer expects 1 (x shape [404, 13])`.

use std::path::PathBuf;

/// Errors returned by dl-core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Two shapes that must agree do not.
    #[error("{op}: {detail} (got shape {got:?}, expected {expected})")]
    Shape {
        /// The operation that checked the shapes, e.g. `"fit"`.
        op: &'static str,
        /// What was wrong, in words.
        detail: String,
        /// The offending shape.
        got: Vec<usize>,
        /// The shape (or rule) that was expected.
        expected: String,
    },
    /// An argument that is out of range or unknown (a bad activation name, a negative rate...).
    #[error("{op}: {msg}")]
    InvalidArgument {
        /// The operation that rejected the argument.
        op: &'static str,
        /// What was wrong and what would be accepted.
        msg: String,
    },
    /// The model is not ready for the call (not compiled, no layers, input size unknown).
    #[error("{op}: {msg}")]
    NotReady {
        /// The operation that was called too early.
        op: &'static str,
        /// What to do first.
        msg: String,
    },
    /// A loss or value became NaN or infinite during training.
    #[error(
        "fit: the loss became {value} at epoch {epoch}, batch {batch}; training stopped before \
         this batch's update (try a smaller learning rate or standardised inputs)"
    )]
    NonFinite {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based batch within the epoch.
        batch: usize,
        /// The offending value.
        value: f32,
    },
    /// The user interrupted a running loop (Jupyter's interrupt button, Ctrl-C).
    #[error(
        "KeyboardInterrupt: {op} stopped at epoch {epoch}, batch {batch}; {}",
        crate::kernel_protocol::INTERRUPT_KEEPS_WEIGHTS
    )]
    Interrupted {
        /// The loop that stopped (`fit`, `evaluate`, `predict`).
        op: &'static str,
        /// 1-based epoch (1 for evaluate/predict).
        epoch: usize,
        /// 1-based batch at which the loop stopped.
        batch: usize,
    },
    /// A file could not be read or written.
    #[error("{op}: {path}: {source}")]
    Io {
        /// The operation.
        op: &'static str,
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file's contents are not what they should be (corrupt, truncated, wrong format).
    #[error("{op}: {path}: {msg}")]
    Format {
        /// The operation.
        op: &'static str,
        /// The file involved.
        path: PathBuf,
        /// What is wrong with it.
        msg: String,
    },
    /// A dataset is missing, could not be downloaded, or does not match its hash.
    #[error("{0}")]
    Dataset(String),
    /// A plot could not be drawn from the given data.
    #[error("{op}: {msg}")]
    Plot {
        /// The plotting call.
        op: &'static str,
        /// What was wrong with its input.
        msg: String,
    },
}

/// `Result` with dl-core's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A shape error for `op`.
    pub(crate) fn shape(
        op: &'static str,
        detail: impl Into<String>,
        got: &[usize],
        expected: impl Into<String>,
    ) -> Self {
        Error::Shape { op, detail: detail.into(), got: got.to_vec(), expected: expected.into() }
    }

    /// An invalid-argument error for `op`.
    pub(crate) fn invalid(op: &'static str, msg: impl Into<String>) -> Self {
        Error::InvalidArgument { op, msg: msg.into() }
    }

    /// A not-ready error for `op`.
    pub(crate) fn not_ready(op: &'static str, msg: impl Into<String>) -> Self {
        Error::NotReady { op, msg: msg.into() }
    }

    /// An I/O error on `path` during `op`.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { op, path: path.into(), source }
    }

    /// A format error on `path` during `op`.
    pub(crate) fn format(op: &'static str, path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        Error::Format { op, path: path.into(), msg: msg.into() }
    }

    /// A plotting error.
    pub(crate) fn plot(op: &'static str, msg: impl Into<String>) -> Self {
        Error::Plot { op, msg: msg.into() }
    }
}
