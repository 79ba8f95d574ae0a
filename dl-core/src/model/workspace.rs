//! Buffers for one forward/backward pass, sized once for the largest batch and reused for every
//! batch (a partial last batch uses their first rows), so training allocates nothing per step.
//!
//! For layer `i` with `u_i` units and a batch of `n` rows:
//! `z[i]`, `a[i]`, `grad[i]`: `(n, u_i)` — pre-activation, output, and `∂L/∂a` turned in place
//! into `∂L/∂z`. `x`, `y`: the gathered batch, `(n, features)` and `(n, target width)`.

use crate::layers::Dense;
use crate::loss::Loss;
use ndarray::{s, Array2, ArrayView2, ArrayViewMut2};

pub(crate) struct Workspace {
    pub(crate) x: Array2<f32>,
    pub(crate) y: Array2<f32>,
    z: Vec<Array2<f32>>,
    a: Vec<Array2<f32>>,
    grad: Vec<Array2<f32>>,
}

impl Workspace {
    /// Buffers for batches of up to `rows`; `target_width` 0 when no targets are gathered.
    pub(crate) fn new(layers: &[Dense], rows: usize, features: usize, target_width: usize) -> Self {
        let per_layer = || layers.iter().map(|l| Array2::zeros((rows, l.units))).collect::<Vec<_>>();
        Workspace {
            x: Array2::zeros((rows, features)),
            y: Array2::zeros((rows, target_width)),
            z: per_layer(),
            a: per_layer(),
            grad: per_layer(),
        }
    }

    /// Forward pass of the first `x.nrows()` rows through every layer.
    pub(crate) fn forward(&mut self, layers: &[Dense], x: ArrayView2<f32>) {
        let n = x.nrows();
        for (i, layer) in layers.iter().enumerate() {
            let (before, after) = self.a.split_at_mut(i);
            let input = if i == 0 { x } else { before[i - 1].slice(s![..n, ..]) };
            layer.forward(input, self.z[i].slice_mut(s![..n, ..]), after[0].slice_mut(s![..n, ..]));
        }
    }

    /// Forward pass on the gathered batch in `self.x`.
    pub(crate) fn forward_gathered(&mut self, layers: &[Dense], n: usize) {
        let x = std::mem::take(&mut self.x);
        self.forward(layers, x.slice(s![..n, ..]));
        self.x = x;
    }

    /// The last layer's output for the first `n` rows.
    pub(crate) fn output(&self, n: usize) -> ArrayView2<'_, f32> {
        self.a.last().expect("at least one layer").slice(s![..n, ..])
    }

    /// The last layer's pre-activation for the first `n` rows.
    pub(crate) fn logits(&self, n: usize) -> ArrayView2<'_, f32> {
        self.z.last().expect("at least one layer").slice(s![..n, ..])
    }

    /// Loss (sum over the `n` gathered rows) and backward pass: fills every layer's gradients.
    pub(crate) fn backward(&mut self, layers: &mut [Dense], loss: Loss, n: usize) -> f64 {
        let last = layers.len() - 1;
        let act = layers[last].activation;
        let total = loss.compute(
            self.z[last].slice(s![..n, ..]),
            self.a[last].slice(s![..n, ..]),
            self.y.slice(s![..n, ..]),
            act,
            Some(self.grad[last].slice_mut(s![..n, ..])),
        );
        for i in (0..=last).rev() {
            let input = if i == 0 { self.x.slice(s![..n, ..]) } else { self.a[i - 1].slice(s![..n, ..]) };
            let (before, after) = self.grad.split_at_mut(i);
            let dz = after[0].slice(s![..n, ..]);
            let dx: Option<ArrayViewMut2<f32>> = before.last_mut().map(|g| g.slice_mut(s![..n, ..]));
            layers[i].backward(input, dz, dx);
            if i > 0 {
                layers[i - 1]
                    .activation
                    .backward(self.a[i - 1].slice(s![..n, ..]), self.grad[i - 1].slice_mut(s![..n, ..]));
            }
        }
        total
    }
}
