//! Keras 3's `SGD(learning_rate=0.01, momentum=0.0, nesterov=False)`.
//!
//! Without momentum: `w −= lr·g`. With momentum `μ`, velocity `m` (starting at 0):
//! `m = μ·m − lr·g`, then `w += m`, or with Nesterov `w += μ·m − lr·g`.

use super::StateView;

/// Stochastic gradient descent, optionally with (Nesterov) momentum.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Sgd {
    /// Step size (default 0.01).
    pub learning_rate: f32,
    /// Momentum factor μ (default 0).
    pub momentum: f32,
    /// Nesterov momentum (default false).
    pub nesterov: bool,
}

impl Default for Sgd {
    fn default() -> Self {
        Sgd { learning_rate: 0.01, momentum: 0.0, nesterov: false }
    }
}

impl Sgd {
    /// One step on one parameter.
    #[inline(always)]
    pub fn update(&self, value: &mut [f32], grad: &[f32], state: StateView<'_>) {
        let lr = self.learning_rate;
        if self.momentum == 0.0 {
            value.iter_mut().zip(grad).for_each(|(w, g)| *w -= lr * g);
            return;
        }
        let mu = self.momentum;
        for ((w, &g), m) in value.iter_mut().zip(grad).zip(state.s0.iter_mut()) {
            *m = mu * *m - lr * g;
            *w += if self.nesterov { mu * *m - lr * g } else { *m };
        }
    }
}
