//! Keras 3's `RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False)`.
//!
//! `v = ρ·v + (1−ρ)·g²`; centred: `ḡ = ρ·ḡ + (1−ρ)·g` and the denominator is `√(v − ḡ² + ε)`,
//! otherwise `√(v + ε)` — ε sits *inside* the square root. `inc = lr·g / denominator`; with
//! momentum `μ`: `mom = μ·mom + inc; w −= mom`, otherwise `w −= inc`.

use super::StateView;

/// RMSprop, optionally centred and with momentum.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct RmsProp {
    /// Step size (default 0.001).
    pub learning_rate: f32,
    /// Decay of the squared-gradient average (default 0.9).
    pub rho: f32,
    /// Momentum factor (default 0).
    pub momentum: f32,
    /// Added inside the square root (default 1e-7).
    pub epsilon: f32,
    /// Divide by the variance rather than the second moment (default false).
    pub centered: bool,
}

impl Default for RmsProp {
    fn default() -> Self {
        RmsProp { learning_rate: 0.001, rho: 0.9, momentum: 0.0, epsilon: 1e-7, centered: false }
    }
}

impl RmsProp {
    /// One step on one parameter.
    #[inline(always)]
    pub fn update(&self, value: &mut [f32], grad: &[f32], state: StateView<'_>) {
        let (lr, rho, mu, eps) = (self.learning_rate, self.rho, self.momentum, self.epsilon);
        let StateView { s0: v, s1: gbar, s2: mom } = state;
        // Separate loops per variant keep each one branch-free, so it vectorises.
        match (self.centered, mu > 0.0) {
            (false, false) => {
                for ((w, &g), v) in value.iter_mut().zip(grad).zip(v.iter_mut()) {
                    *v = rho * *v + (1.0 - rho) * g * g;
                    *w -= lr * g / (*v + eps).sqrt();
                }
            }
            (centered, momentum) => {
                for i in 0..value.len() {
                    let g = grad[i];
                    v[i] = rho * v[i] + (1.0 - rho) * g * g;
                    let denom = if centered {
                        gbar[i] = rho * gbar[i] + (1.0 - rho) * g;
                        v[i] - gbar[i] * gbar[i] + eps
                    } else {
                        v[i] + eps
                    };
                    let inc = lr * g / denom.sqrt();
                    if momentum {
                        mom[i] = mu * mom[i] + inc;
                        value[i] -= mom[i];
                    } else {
                        value[i] -= inc;
                    }
                }
            }
        }
    }
}
