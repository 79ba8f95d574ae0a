//! Element-wise activations and their derivatives, as Keras defines them (float32):
//!
//! | name      | forward `a = f(z)`              | backward `dz = da · f'(z)`, written with `a` |
//! |-----------|---------------------------------|------------------------------------------------|
//! | `linear`  | `z`                             | `da`                                           |
//! | `relu`    | `max(z, 0)`                     | `da · [a > 0]`                                 |
//! | `sigmoid` | `1 / (1 + e^-z)`                | `da · a (1 − a)`                               |
//! | `tanh`    | `tanh z`                        | `da · (1 − a²)`                                |
//! | `softmax` | `e^(z−max z) / Σ e^(z−max z)` per row | `a ⊙ (da − Σⱼ daⱼ aⱼ)` per row          |
//!
//! Shapes: `z`, `a`, `da`, `dz` are all `(batch, units)`.

use crate::error::{Error, Result};
use crate::linalg::elementwise::{vectorized, Vectorizable};
use ndarray::{ArrayView1, ArrayView2, ArrayViewMut2, Zip};
use std::fmt;
use std::str::FromStr;

/// The activation of a [`Dense`](crate::Dense) layer. `Linear` is Keras's default (`None`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// Identity.
    #[default]
    Linear,
    /// Rectified linear unit.
    Relu,
    /// Logistic sigmoid.
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
    /// Softmax over each row.
    Softmax,
}

impl Activation {
    /// Keras's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Linear => "linear",
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Softmax => "softmax",
        }
    }

    /// Adds the bias to `z` in place, then writes `a = f(z)`, in one sweep over each row.
    pub(crate) fn forward_with_bias(self, z: ArrayViewMut2<f32>, bias: Option<ArrayView1<f32>>, a: ArrayViewMut2<f32>) {
        vectorized(Forward { act: self, z, bias, a })
    }

    /// Turns `da` (gradient with respect to the output `a`) into `dz` in place.
    pub(crate) fn backward(self, a: ArrayView2<f32>, grad: ArrayViewMut2<f32>) {
        vectorized(Backward { act: self, a, grad })
    }
}

/// The forward sweep, as a loop for [`vectorized`].
struct Forward<'a> {
    act: Activation,
    z: ArrayViewMut2<'a, f32>,
    bias: Option<ArrayView1<'a, f32>>,
    a: ArrayViewMut2<'a, f32>,
}

impl Vectorizable for Forward<'_> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let Forward { act, mut z, bias, mut a } = self;
        for (mut zr, mut ar) in z.rows_mut().into_iter().zip(a.rows_mut()) {
            if let Some(b) = &bias {
                each(zr.view_mut(), b.view(), |z, &b| *z += b);
            }
            match act {
                Activation::Linear => ar.assign(&zr),
                Activation::Relu => each(ar.view_mut(), zr.view(), |a, &z| *a = z.max(0.0)),
                Activation::Sigmoid => each(ar.view_mut(), zr.view(), |a, &z| *a = sigmoid(z)),
                Activation::Tanh => each(ar.view_mut(), zr.view(), |a, &z| *a = z.tanh()),
                Activation::Softmax => {
                    let max = zr.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
                    let mut sum = 0.0f32;
                    Zip::from(&mut ar).and(&zr).for_each(|a, &z| {
                        *a = (z - max).exp();
                        sum += *a;
                    });
                    ar.mapv_inplace(|v| v / sum);
                }
            }
        }
    }
}

/// The backward sweep, as a loop for [`vectorized`].
struct Backward<'a> {
    act: Activation,
    a: ArrayView2<'a, f32>,
    grad: ArrayViewMut2<'a, f32>,
}

impl Vectorizable for Backward<'_> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let Backward { act, a, mut grad } = self;
        match act {
            Activation::Linear => {}
            Activation::Relu => each(grad, a, |g, &a| {
                if a <= 0.0 {
                    *g = 0.0
                }
            }),
            Activation::Sigmoid => each(grad, a, |g, &a| *g *= a * (1.0 - a)),
            Activation::Tanh => each(grad, a, |g, &a| *g *= 1.0 - a * a),
            Activation::Softmax => {
                for (ar, mut gr) in a.rows().into_iter().zip(grad.rows_mut()) {
                    let dot: f32 = ar.iter().zip(gr.iter()).map(|(a, g)| a * g).sum();
                    Zip::from(&mut gr).and(&ar).for_each(|g, &a| *g = a * (*g - dot));
                }
            }
        }
    }
}

/// `f(x, y)` for each pair of elements of two arrays of the same shape: over plain slices when
/// both are contiguous in the same order (always, for the training buffers), so the loop is
/// inlined into the [`vectorized`] caller and compiled for its instruction set; otherwise
/// through ndarray's `Zip`.
#[inline(always)]
fn each<D: ndarray::Dimension>(
    mut x: ndarray::ArrayViewMut<f32, D>,
    y: ndarray::ArrayView<f32, D>,
    f: impl Fn(&mut f32, &f32),
) {
    match (x.as_slice_mut(), y.as_slice()) {
        (Some(xs), Some(ys)) => xs.iter_mut().zip(ys).for_each(|(x, y)| f(x, y)),
        _ => Zip::from(x).and(y).for_each(f),
    }
}

/// The logistic function, as TensorFlow computes it in float32.
pub(crate) fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

impl FromStr for Activation {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "linear" | "" | "none" | "None" => Activation::Linear,
            "relu" => Activation::Relu,
            "sigmoid" => Activation::Sigmoid,
            "tanh" => Activation::Tanh,
            "softmax" => Activation::Softmax,
            other => {
                return Err(Error::invalid(
                    "Dense::activation",
                    format!("unknown activation {other:?}; use linear, relu, sigmoid, tanh or softmax"),
                ))
            }
        })
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
