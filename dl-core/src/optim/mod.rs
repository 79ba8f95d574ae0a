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

/// The state buffers of one parameter (or of the same range of several), each as long as the
/// parameter; unused slots are still sized so that ranges split alike.
pub struct StateView<'a> {
    /// First slot (SGD momentum, RMSprop velocity, Adam m).
    pub s0: &'a mut [f32],
    /// Second slot (RMSprop mean gradient, Adam v).
    pub s1: &'a mut [f32],
    /// Third slot (RMSprop momentum, Adam v̂).
    pub s2: &'a mut [f32],
}

impl<'a> StateView<'a> {
    fn split_at(self, mid: usize) -> (StateView<'a>, StateView<'a>) {
        let (a0, b0) = self.s0.split_at_mut(mid);
        let (a1, b1) = self.s1.split_at_mut(mid);
        let (a2, b2) = self.s2.split_at_mut(mid);
        (StateView { s0: a0, s1: a1, s2: a2 }, StateView { s0: b0, s1: b1, s2: b2 })
    }
}

impl ParamState {
    /// The slots, sized to `len` (zero-filled the first time).
    pub(crate) fn view(&mut self, len: usize) -> StateView<'_> {
        for s in &mut self.slots {
            if s.len() != len {
                *s = vec![0.0; len];
            }
        }
        let [s0, s1, s2] = &mut self.slots;
        StateView { s0, s1, s2 }
    }
}

/// Parameters at least this long are updated by two threads (an update reads and writes about
/// five arrays of this size: too little work to share below it).
///
/// The update is a pass of its own, after the backward pass, on purpose. RMSprop and Adam take a
/// square root and a division per weight, which the divider does at about 1.4 cycles per value
/// whatever the vector width (Golden Cove: `vsqrtps` and `vdivps` on 16 lanes take 12 and 10
/// cycles): 0.19 ms per step for the MLP's 401,408 kernel weights on one core, the same as the
/// whole pass took, so the pass is bound by the divider, not by memory. Run inside the kernel
/// gradient's product instead, on each block of the gradient while it was in L1 (tried on
/// 464456a, with an epilogue split along with C), the step took 0.1 ms longer on one thread and
/// the MLP epoch went from 0.56–0.60 s to 0.64–0.69 s on two; split by columns like the
/// products around it, to keep each half of the kernel on one core, 0.70–0.80 s.
const PARALLEL_MIN_LEN: usize = 1 << 16;

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

    /// Updates `value` in place from `grad` at step `t >= 1`, with the widest vectors the CPU
    /// has, and on two threads for large parameters.
    pub fn update(&self, value: &mut [f32], grad: &[f32], state: &mut ParamState, t: u64) {
        debug_assert_eq!(value.len(), grad.len());
        let view = state.view(value.len());
        self.update_range(value, grad, view, t, rayon::current_num_threads());
    }

    fn update_range(&self, value: &mut [f32], grad: &[f32], s: StateView<'_>, t: u64, threads: usize) {
        if threads > 1 && value.len() >= PARALLEL_MIN_LEN {
            let mid = value.len() / 2;
            let (v1, v2) = value.split_at_mut(mid);
            let (g1, g2) = grad.split_at(mid);
            let (s1, s2) = s.split_at(mid);
            rayon::join(
                || self.update_range(v1, g1, s1, t, threads / 2),
                || self.update_range(v2, g2, s2, t, threads - threads / 2),
            );
            return;
        }
        crate::linalg::elementwise::vectorized(Step { opt: self, value, grad, s, t })
    }
}

/// One optimizer step on one range, as a loop for [`crate::linalg::elementwise::vectorized`].
struct Step<'a> {
    opt: &'a Optimizer,
    value: &'a mut [f32],
    grad: &'a [f32],
    s: StateView<'a>,
    t: u64,
}

impl crate::linalg::elementwise::Vectorizable for Step<'_> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        match self.opt {
            Optimizer::Sgd(o) => o.update(self.value, self.grad, self.s),
            Optimizer::RmsProp(o) => o.update(self.value, self.grad, self.s),
            Optimizer::Adam(o) => o.update(self.value, self.grad, self.s, self.t),
        }
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
