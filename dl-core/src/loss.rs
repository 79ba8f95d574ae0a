//! Losses, as Keras 3 on TensorFlow computes them (float32, `epsilon = 1e-7`), with their
//! gradients. A batch's loss is the mean of the per-sample losses over its own rows
//! (`sum_over_batch_size`), so a partial last batch is divided by its own size.
//!
//! Per sample, with output `a = f(z)` of width `u`, target `y`:
//!
//! | loss | per-sample value | gradient used |
//! |---|---|---|
//! | `mse` | `mean_j (a_j − y_j)²` | `∂/∂a = 2(a − y)/u` |
//! | `mae` | `mean_j abs(a_j − y_j)` | `∂/∂a = sign(a − y)/u` |
//! | `binary_crossentropy`, sigmoid output | `mean_j max(z,0) − z·y + log(1 + e^−abs(z))` (from logits) | `∂/∂z = (σ(z) − y)/u` |
//! | `binary_crossentropy`, other output | `mean_j −y log p − (1−y) log(1−p)`, `p = clip(a, ε, 1−ε)` | through `p` |
//! | `categorical_crossentropy`, softmax output | `Σ_j y_j (logsumexp z − z_j)` (from logits) | `∂/∂z = softmax(z)·Σy − y` |
//! | `categorical_crossentropy`, other output | `−Σ_j y_j log clip(a_j / Σa, ε, 1−ε)` | through `p` |
//! | `sparse_categorical_crossentropy`, softmax output | `logsumexp z − z_label` | `∂/∂z = softmax(z) − onehot` |
//! | `sparse_categorical_crossentropy`, other output | the same on `log clip(a, ε, 1−ε)` | through `p` |
//!
//! Keras uses the logits form whenever the output layer's activation is the matching sigmoid or
//! softmax, with no clipping, so saturated outputs give large finite losses (30, not 8.06).
//! Shapes: `z`, `a`, gradient `(n, u)`; `y` is `(n, u)`, or `(n, 1)` integer labels for sparse.

use crate::error::{Error, Result};
use crate::layers::activation::sigmoid;
use crate::layers::Activation;
use ndarray::{ArrayView2, ArrayViewMut2, Zip};
use std::str::FromStr;

/// Keras's `epsilon()`.
pub const EPSILON: f32 = 1e-7;

/// A loss function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// `"mse"`, `"mean_squared_error"`.
    MeanSquaredError,
    /// `"mae"`, `"mean_absolute_error"`.
    MeanAbsoluteError,
    /// `"binary_crossentropy"`.
    BinaryCrossentropy,
    /// `"categorical_crossentropy"` with one-hot (or probability) targets.
    CategoricalCrossentropy,
    /// `"sparse_categorical_crossentropy"` with integer labels.
    SparseCategoricalCrossentropy,
}

impl Loss {
    /// Keras's name.
    pub fn name(self) -> &'static str {
        match self {
            Loss::MeanSquaredError => "mean_squared_error",
            Loss::MeanAbsoluteError => "mean_absolute_error",
            Loss::BinaryCrossentropy => "binary_crossentropy",
            Loss::CategoricalCrossentropy => "categorical_crossentropy",
            Loss::SparseCategoricalCrossentropy => "sparse_categorical_crossentropy",
        }
    }

    /// The number of target columns this loss needs for an output of `units`.
    pub(crate) fn target_width(self, units: usize) -> usize {
        if self == Loss::SparseCategoricalCrossentropy {
            1
        } else {
            units
        }
    }

    /// Checks every target value: labels for the sparse loss must be integers in `0..units`.
    pub(crate) fn check_targets(self, y: ArrayView2<f32>, units: usize, op: &'static str) -> Result<()> {
        if self == Loss::SparseCategoricalCrossentropy {
            if let Some((i, &v)) =
                y.iter().enumerate().find(|(_, &v)| !(v >= 0.0 && v.fract() == 0.0 && (v as usize) < units))
            {
                return Err(Error::invalid(
                    op,
                    format!("label {v} at row {i} is outside the valid range [0, {units}) of sparse_categorical_crossentropy"),
                ));
            }
        }
        if let Some(v) = y.iter().find(|v| !v.is_finite()) {
            return Err(Error::invalid(op, format!("y contains {v}; remove or replace non-finite targets")));
        }
        Ok(())
    }

    /// Sum of per-sample losses over the `n` rows. With `grad`, also writes `∂L/∂z` of the
    /// batch loss `L = sum / n`, through the output activation `act`.
    pub(crate) fn compute(
        self,
        z: ArrayView2<f32>,
        a: ArrayView2<f32>,
        y: ArrayView2<f32>,
        act: Activation,
        mut grad: Option<ArrayViewMut2<f32>>,
    ) -> f64 {
        let (n, u) = a.dim();
        let (inv_n, inv_u) = (1.0 / n as f32, 1.0 / u as f32);
        let mut total = 0.0f64;
        let logits = matches!(
            (self, act),
            (Loss::BinaryCrossentropy, Activation::Sigmoid)
                | (Loss::CategoricalCrossentropy | Loss::SparseCategoricalCrossentropy, Activation::Softmax)
        );
        for r in 0..n {
            let (zr, ar, yr) = (z.row(r), a.row(r), y.row(r));
            let mut gr = grad.as_mut().map(|g| g.row_mut(r));
            let sample: f32 = match (self, logits) {
                (Loss::MeanSquaredError, _) => {
                    if let Some(g) = gr.as_mut() {
                        Zip::from(g).and(&ar).and(&yr).for_each(|g, &a, &y| *g = 2.0 * (a - y) * inv_u * inv_n);
                    }
                    ar.iter().zip(&yr).map(|(a, y)| (a - y) * (a - y)).sum::<f32>() * inv_u
                }
                (Loss::MeanAbsoluteError, _) => {
                    if let Some(g) = gr.as_mut() {
                        Zip::from(g).and(&ar).and(&yr).for_each(|g, &a, &y| *g = sign(a - y) * inv_u * inv_n);
                    }
                    ar.iter().zip(&yr).map(|(a, y)| (a - y).abs()).sum::<f32>() * inv_u
                }
                (Loss::BinaryCrossentropy, true) => {
                    if let Some(g) = gr.as_mut() {
                        Zip::from(g).and(&zr).and(&yr).for_each(|g, &z, &y| *g = (sigmoid(z) - y) * inv_u * inv_n);
                    }
                    zr.iter().zip(&yr).map(|(&z, &y)| z.max(0.0) - z * y + (-z.abs()).exp().ln_1p()).sum::<f32>()
                        * inv_u
                }
                (Loss::BinaryCrossentropy, false) => {
                    let mut s = 0.0;
                    for j in 0..u {
                        let (p, y) = (clip(ar[j]), yr[j]);
                        s -= y * p.ln() + (1.0 - y) * (1.0 - p).ln();
                        if let Some(g) = gr.as_mut() {
                            let inside = ar[j] >= EPSILON && ar[j] <= 1.0 - EPSILON;
                            g[j] = if inside { (-y / p + (1.0 - y) / (1.0 - p)) * inv_u * inv_n } else { 0.0 };
                        }
                    }
                    s * inv_u
                }
                (Loss::CategoricalCrossentropy, true) => {
                    let lse = logsumexp(zr.iter().copied());
                    let ysum: f32 = yr.sum();
                    if let Some(g) = gr.as_mut() {
                        Zip::from(g).and(&ar).and(&yr).for_each(|g, &p, &y| *g = (p * ysum - y) * inv_n);
                    }
                    zr.iter().zip(&yr).map(|(&z, &y)| y * (lse - z)).sum()
                }
                (Loss::CategoricalCrossentropy, false) => {
                    let s: f32 = ar.sum();
                    let inside = |j: usize| (EPSILON..=1.0 - EPSILON).contains(&(ar[j] / s));
                    // d/da_j of −Σ_k y_k log(a_k / S) over the unclipped k: −y_j / a_j + Σ_k y_k / S.
                    let ysum_inside: f32 = (0..u).filter(|&k| inside(k)).map(|k| yr[k]).sum();
                    if let Some(g) = gr.as_mut() {
                        for j in 0..u {
                            let own = if inside(j) { -yr[j] / ar[j] } else { 0.0 };
                            g[j] = (own + ysum_inside / s) * inv_n;
                        }
                    }
                    -(0..u).map(|j| yr[j] * clip(ar[j] / s).ln()).sum::<f32>()
                }
                (Loss::SparseCategoricalCrossentropy, true) => {
                    let label = yr[0] as usize;
                    if let Some(g) = gr.as_mut() {
                        g.assign(&ar);
                        g[label] -= 1.0;
                        g.mapv_inplace(|v| v * inv_n);
                    }
                    logsumexp(zr.iter().copied()) - zr[label]
                }
                (Loss::SparseCategoricalCrossentropy, false) => {
                    // TensorFlow: logits = log(clip(p)), then softmax crossentropy on them.
                    let label = yr[0] as usize;
                    let s: f32 = ar.iter().map(|&p| clip(p)).sum();
                    if let Some(g) = gr.as_mut() {
                        for j in 0..u {
                            let p = ar[j];
                            let inside = (EPSILON..=1.0 - EPSILON).contains(&p);
                            let dlogit = clip(p) / s - if j == label { 1.0 } else { 0.0 };
                            g[j] = if inside { dlogit / p * inv_n } else { 0.0 };
                        }
                    }
                    s.ln() - clip(ar[label]).ln()
                }
            };
            total += sample as f64;
        }
        if let Some(g) = grad {
            if !logits {
                act.backward(a, g);
            }
        }
        total
    }
}

fn clip(p: f32) -> f32 {
    p.clamp(EPSILON, 1.0 - EPSILON)
}

/// TensorFlow's `sign`: 0 at 0.
fn sign(v: f32) -> f32 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else {
        0.0
    }
}

fn logsumexp(z: impl Iterator<Item = f32> + Clone) -> f32 {
    let max = z.clone().fold(f32::NEG_INFINITY, f32::max);
    max + z.map(|v| (v - max).exp()).sum::<f32>().ln()
}

impl FromStr for Loss {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "mse" | "mean_squared_error" | "MeanSquaredError" => Loss::MeanSquaredError,
            "mae" | "mean_absolute_error" | "MeanAbsoluteError" => Loss::MeanAbsoluteError,
            "binary_crossentropy" | "BinaryCrossentropy" => Loss::BinaryCrossentropy,
            "categorical_crossentropy" | "CategoricalCrossentropy" => Loss::CategoricalCrossentropy,
            "sparse_categorical_crossentropy" | "SparseCategoricalCrossentropy" => Loss::SparseCategoricalCrossentropy,
            other => {
                return Err(Error::invalid(
                    "compile",
                    format!(
                        "unknown loss {other:?}; use mse, mae, binary_crossentropy, categorical_crossentropy \
                         or sparse_categorical_crossentropy"
                    ),
                ))
            }
        })
    }
}
