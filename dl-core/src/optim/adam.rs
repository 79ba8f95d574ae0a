//! Keras 3's `Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False)`.
//!
//! At step `t` (from 1): `m += (g − m)(1 − β₁)`, `v += (g² − v)(1 − β₂)`,
//! `α = lr·√(1 − β₂ᵗ) / (1 − β₁ᵗ)`, `w −= α·m / (√v + ε)` — ε sits *outside* the square root.
//! With AMSGrad, `v̂ = max(v̂, v)` replaces `v` in the denominator.

use super::StateView;

/// Adam, optionally AMSGrad.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Adam {
    /// Step size (default 0.001).
    pub learning_rate: f32,
    /// First-moment decay (default 0.9).
    pub beta_1: f32,
    /// Second-moment decay (default 0.999).
    pub beta_2: f32,
    /// Added to `√v` (default 1e-7).
    pub epsilon: f32,
    /// Use the running maximum of `v` (default false).
    pub amsgrad: bool,
}

impl Default for Adam {
    fn default() -> Self {
        Adam { learning_rate: 0.001, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, amsgrad: false }
    }
}

impl Adam {
    /// One step on one parameter at step `t >= 1`.
    #[inline(always)]
    pub fn update(&self, value: &mut [f32], grad: &[f32], state: StateView<'_>, t: u64) {
        let (b1, b2, eps) = (self.beta_1, self.beta_2, self.epsilon);
        let t = t as i32;
        let alpha = self.learning_rate * (1.0 - b2.powi(t)).sqrt() / (1.0 - b1.powi(t));
        let StateView { s0: m, s1: v, s2: vhat } = state;
        if !self.amsgrad {
            for (((w, &g), m), v) in value.iter_mut().zip(grad).zip(m.iter_mut()).zip(v.iter_mut()) {
                *m += (g - *m) * (1.0 - b1);
                *v += (g * g - *v) * (1.0 - b2);
                *w -= *m * alpha / (v.sqrt() + eps);
            }
            return;
        }
        for i in 0..value.len() {
            let g = grad[i];
            m[i] += (g - m[i]) * (1.0 - b1);
            v[i] += (g * g - v[i]) * (1.0 - b2);
            vhat[i] = vhat[i].max(v[i]);
            value[i] -= m[i] * alpha / (vhat[i].sqrt() + eps);
        }
    }
}
