//! `Dense(units)`: a fully connected layer, Keras's `keras.layers.Dense`.
//!
//! Forward, for a batch `x` of shape `(n, in)`:
//! `z = x·W + b` with `W: (in, units)`, `b: (units,)`, then `a = f(z)`, both `(n, units)`.
//! Backward, from `dz = ∂L/∂z` of shape `(n, units)`:
//! `∂L/∂W = xᵀ·dz` `(in, units)`, `∂L/∂b = Σ_rows dz` `(units,)`, `∂L/∂x = dz·Wᵀ` `(n, in)`.
//!
//! The kernel is initialised with `glorot_uniform` and the bias with `zeros` (Keras's defaults)
//! when the input size becomes known: up front with [`Dense::input_dim`], or on the first
//! `fit`/`predict`.

use super::activation::Activation;
use crate::error::Result;
use crate::init::Initializer;
use crate::linalg::gemm_unchecked;
use crate::random::Rng;
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, Ix1, Ix2};
use std::sync::atomic::AtomicUsize;

pub(crate) static DENSE_COUNT: AtomicUsize = AtomicUsize::new(0);

/// A fully connected layer.
#[derive(Clone, Debug)]
pub struct Dense {
    pub(crate) name: String,
    pub(crate) units: usize,
    pub(crate) activation: Activation,
    pub(crate) use_bias: bool,
    pub(crate) input_dim: Option<usize>,
    pub(crate) kernel_initializer: Initializer,
    pub(crate) bias_initializer: Initializer,
    /// An argument that failed to parse (e.g. an unknown activation name); reported by `compile`,
    /// `fit`, `predict` and `summary` rather than panicking inside a builder chain.
    pub(crate) invalid: Option<String>,
    pub(crate) kernel: Array2<f32>,
    pub(crate) bias: Array1<f32>,
    pub(crate) kernel_grad: Array2<f32>,
    pub(crate) bias_grad: Array1<f32>,
    pub(crate) built: bool,
}

impl Dense {
    /// `Dense(units)` with a linear activation and a bias, named `dense`, `dense_1`, ... in
    /// creation order, as Keras names them.
    pub fn new(units: usize) -> Self {
        let n = crate::session::next_count("dense", &DENSE_COUNT);
        Dense {
            name: if n == 0 { "dense".into() } else { format!("dense_{n}") },
            units,
            activation: Activation::Linear,
            use_bias: true,
            input_dim: None,
            kernel_initializer: Initializer::GlorotUniform,
            bias_initializer: Initializer::Zeros,
            invalid: (units == 0).then(|| "Dense: units must be at least 1".to_string()),
            kernel: Array2::zeros((0, 0)),
            bias: Array1::zeros(0),
            kernel_grad: Array2::zeros((0, 0)),
            bias_grad: Array1::zeros(0),
            built: false,
        }
    }

    /// Sets the activation: `"relu"`, `"sigmoid"`, `"tanh"`, `"softmax"`, `"linear"` or an
    /// [`Activation`]. An unknown name is reported by the next model call.
    pub fn activation(mut self, activation: impl Into<ActivationArg>) -> Self {
        match activation.into().0 {
            Ok(a) => self.activation = a,
            Err(e) => self.invalid = Some(e),
        }
        self
    }

    /// Whether the layer adds a bias vector (Keras's `use_bias`, default true).
    pub fn use_bias(mut self, use_bias: bool) -> Self {
        self.use_bias = use_bias;
        self
    }

    /// The number of input features, Keras's `input_shape=(n,)` / `input_dim=n`.
    pub fn input_dim(mut self, n: usize) -> Self {
        if n == 0 {
            self.invalid = Some("Dense: input_dim must be at least 1".into());
        }
        self.input_dim = Some(n);
        self
    }

    /// Keras's `input_shape=(n,)`; only 1-D shapes make sense for Dense.
    pub fn input_shape(self, shape: impl AsRef<[usize]>) -> Self {
        match *shape.as_ref() {
            [n] => self.input_dim(n),
            ref other => {
                let mut d = self;
                d.invalid =
                    Some(format!("Dense: input_shape must have one dimension, got {other:?}; flatten the input first"));
                d
            }
        }
    }

    /// The kernel initialiser (default `glorot_uniform`).
    pub fn kernel_initializer(mut self, init: Initializer) -> Self {
        self.kernel_initializer = init;
        self
    }

    /// The bias initialiser (default `zeros`).
    pub fn bias_initializer(mut self, init: Initializer) -> Self {
        self.bias_initializer = init;
        self
    }

    /// Overrides the automatic name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The layer's name (`dense`, `dense_1`, ...).
    pub fn layer_name(&self) -> &str {
        &self.name
    }

    /// The number of output units.
    pub fn units(&self) -> usize {
        self.units
    }

    /// Trainable parameters: `in·units (+ units)`; 0 before the input size is known.
    pub fn param_count(&self) -> usize {
        self.kernel.len() + self.bias.len()
    }

    /// Creates the weights for `input_dim` features with `rng` (Keras's `build`).
    pub(crate) fn build(&mut self, input_dim: usize, rng: &mut Rng) {
        let (i, u) = (input_dim, self.units);
        self.input_dim = Some(i);
        self.kernel = self.kernel_initializer.init(&[i, u], i, u, rng).into_dimensionality::<Ix2>().expect("2-d init");
        self.bias = if self.use_bias {
            self.bias_initializer.init(&[u], i, u, rng).into_dimensionality::<Ix1>().expect("1-d init")
        } else {
            Array1::zeros(0)
        };
        self.kernel_grad = Array2::zeros((i, u));
        self.bias_grad = Array1::zeros(self.bias.len());
        self.built = true;
    }

    /// `z = x·W + b; a = f(z)` for the `n` rows of `x`; `z` and `a` are `(n, units)`.
    pub(crate) fn forward(&self, x: ArrayView2<f32>, mut z: ArrayViewMut2<f32>, a: ArrayViewMut2<f32>) {
        gemm_unchecked(1.0, x, self.kernel.view(), 0.0, z.view_mut());
        let bias = self.use_bias.then(|| self.bias.view());
        self.activation.forward_with_bias(z, bias, a);
    }

    /// From `dz` (already through the activation), accumulates nothing: overwrites the kernel
    /// and bias gradients, and writes `dx = dz·Wᵀ` when the previous layer needs it.
    pub(crate) fn backward(&mut self, x: ArrayView2<f32>, dz: ArrayView2<f32>, dx: Option<ArrayViewMut2<f32>>) {
        gemm_unchecked(1.0, x.t(), dz, 0.0, self.kernel_grad.view_mut());
        if self.use_bias {
            // Row by row, so each step is a contiguous vector add (at the widest SIMD level).
            self.bias_grad.fill(0.0);
            let bg = self.bias_grad.as_slice_mut().expect("an owned 1-d array is contiguous");
            for row in dz.rows() {
                match row.to_slice() {
                    Some(r) => crate::linalg::elementwise::axpy(1.0, r, bg),
                    None => bg.iter_mut().zip(row).for_each(|(g, v)| *g += v),
                }
            }
        }
        if let Some(dx) = dx {
            gemm_unchecked(1.0, dz, self.kernel.t(), 0.0, dx);
        }
    }

    pub(crate) fn check_valid(&self) -> Result<()> {
        match &self.invalid {
            Some(msg) => Err(crate::Error::invalid("Dense", msg.clone())),
            None => Ok(()),
        }
    }
}

/// What [`Dense::activation`] accepts: a Keras name or an [`Activation`].
pub struct ActivationArg(std::result::Result<Activation, String>);

impl From<Activation> for ActivationArg {
    fn from(a: Activation) -> Self {
        ActivationArg(Ok(a))
    }
}

impl From<&str> for ActivationArg {
    fn from(s: &str) -> Self {
        ActivationArg(s.parse().map_err(|e: crate::Error| e.to_string()))
    }
}

impl From<String> for ActivationArg {
    fn from(s: String) -> Self {
        s.as_str().into()
    }
}
