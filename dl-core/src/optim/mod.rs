//! Optimizers with Keras 3's update rules and defaults. Each one updates a single parameter
//! from `(value, grad, state)` at step `t` (counting from 1); state starts at zero.

pub mod adam;
pub mod rmsprop;
pub mod sgd;

pub use adam::Adam;
pub use rmsprop::RmsProp;
pub use sgd::Sgd;

use crate::error::{Error, Result};

/// Per-parameter optimizer state: up to three buffers of the parameter's size (velocity,
/// momentum, mean gradient...), allocated on the first update and reused afterwards.
#[derive(Clone, Debug, Default)]
pub struct ParamState {
    pub(crate) slots: [Vec<f32>; 3],
}

impl ParamState {
    /// The first `k` slots, each sized to `len` (zero-filled the first time).
    pub(crate) fn slots(&mut self, k: usize, len: usize) -> &mut [Vec<f32>] {
        for s in &mut self.slots[..k] {
            if s.len() != len {
                *s = vec![0.0; len];
            }
        }
        &mut self.slots[..k]
    }
}

/// One of the optimizers, as `compile` takes it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "name", rename_all = "lowercase")]
pub enum Optimizer {
    /// Stochastic gradient descent.
    Sgd(Sgd),
    /// RMSprop.
    RmsProp(RmsProp),
    /// Adam.
    Adam(Adam),
}

impl Optimizer {
    /// Keras's name.
    pub fn name(&self) -> &'static str {
        match self {
            Optimizer::Sgd(_) => "sgd",
            Optimizer::RmsProp(_) => "rmsprop",
            Optimizer::Adam(_) => "adam",
        }
    }

    /// Updates `value` in place from `grad` at step `t >= 1`.
    pub fn update(&self, value: &mut [f32], grad: &[f32], state: &mut ParamState, t: u64) {
        debug_assert_eq!(value.len(), grad.len());
        match self {
            Optimizer::Sgd(o) => o.update(value, grad, state),
            Optimizer::RmsProp(o) => o.update(value, grad, state),
            Optimizer::Adam(o) => o.update(value, grad, state, t),
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let lr = match self {
            Optimizer::Sgd(o) => o.learning_rate,
            Optimizer::RmsProp(o) => o.learning_rate,
            Optimizer::Adam(o) => o.learning_rate,
        };
        if !(lr.is_finite() && lr >= 0.0) {
            return Err(Error::invalid("compile", format!("learning_rate must be a finite number >= 0, got {lr}")));
        }
        Ok(())
    }
}

impl std::str::FromStr for Optimizer {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "sgd" => Optimizer::Sgd(Sgd::default()),
            "rmsprop" => Optimizer::RmsProp(RmsProp::default()),
            "adam" => Optimizer::Adam(Adam::default()),
            _ => return Err(Error::invalid("compile", format!("unknown optimizer {s:?}; use sgd, rmsprop or adam"))),
        })
    }
}

impl From<Sgd> for Optimizer {
    fn from(o: Sgd) -> Self {
        Optimizer::Sgd(o)
    }
}
impl From<RmsProp> for Optimizer {
    fn from(o: RmsProp) -> Self {
        Optimizer::RmsProp(o)
    }
}
impl From<Adam> for Optimizer {
    fn from(o: Adam) -> Self {
        Optimizer::Adam(o)
    }
}
