//! Gradients of every layer, activation and loss against central finite differences.
//!
//! For a two-layer model `Dense(4, hidden) → Dense(u, output)` and each loss, the analytic
//! gradient of the batch loss with respect to every weight (from one backward pass) is compared
//! with `(L(w + h) − L(w − h)) / 2h`, the loss evaluated in f64 on the same f32 forward pass.
//! With `h = 1e-3` on O(1) values, the difference quotient's truncation error is O(h²) ≈ 1e-6
//! relative and f32 rounding of the loss adds ~1e-7 / h ≈ 1e-4, so the check uses `|g − fd| <= 2e-3 · max(1, |fd|)`.

use super::workspace::Workspace;
use crate::layers::{Activation, Dense};
use crate::loss::Loss;
use crate::random::Rng;
use ndarray::{s, Array2};

fn model(hidden: Activation, out: Activation, units: usize, rng: &mut Rng) -> Vec<Dense> {
    let mut l1 = Dense::new(4).activation(hidden);
    let mut l2 = Dense::new(units).activation(out);
    l1.build(3, rng);
    l2.build(4, rng);
    // Non-zero biases, so that their gradients are exercised away from zero.
    l1.bias.mapv_inplace(|_| rng.uniform(-0.5, 0.5) as f32);
    l2.bias.mapv_inplace(|_| rng.uniform(-0.5, 0.5) as f32);
    vec![l1, l2]
}

fn loss_of(layers: &[Dense], ws: &mut Workspace, loss: Loss, n: usize) -> f64 {
    ws.forward_gathered(layers, n);
    let act = layers.last().unwrap().activation;
    loss.compute(ws.logits(n), ws.output(n), ws.y.slice(s![..n, ..]), act, None) / n as f64
}

fn check(hidden: Activation, out: Activation, loss: Loss, units: usize) {
    let mut rng = Rng::new(42);
    let mut layers = model(hidden, out, units, &mut rng);
    let n = 5;
    let tw = loss.target_width(units);
    let mut ws = Workspace::new(&layers, n, 3, tw);
    ws.x.assign(&Array2::from_shape_simple_fn((n, 3), || rng.uniform(-1.0, 1.0) as f32));
    let y = match loss {
        Loss::SparseCategoricalCrossentropy => Array2::from_shape_simple_fn((n, 1), || rng.below(units) as f32),
        Loss::CategoricalCrossentropy => {
            let mut y = Array2::zeros((n, units));
            (0..n).for_each(|r| y[[r, rng.below(units)]] = 1.0);
            y
        }
        Loss::BinaryCrossentropy => Array2::from_shape_simple_fn((n, units), || rng.below(2) as f32),
        // MAE has a kink at a = y; targets well away from every output keep the difference
        // quotient on one side of it.
        Loss::MeanAbsoluteError => Array2::from_shape_simple_fn((n, units), || rng.uniform(3.0, 4.0) as f32),
        _ => Array2::from_shape_simple_fn((n, units), || rng.uniform(-1.0, 1.0) as f32),
    };
    ws.y.assign(&y);
    ws.forward_gathered(&layers, n);
    ws.backward(&mut layers, loss, n);
    let label = format!("{hidden:?} → {out:?}, {loss:?}");
    let h = 1e-3f32;
    for li in 0..layers.len() {
        for param in 0..2 {
            let grads: Vec<f32> = if param == 0 {
                layers[li].kernel_grad.iter().copied().collect()
            } else {
                layers[li].bias_grad.to_vec()
            };
            for (i, &g) in grads.iter().enumerate() {
                let at = |delta: f32, layers: &mut Vec<Dense>| {
                    let p = if param == 0 {
                        &mut layers[li].kernel.as_slice_mut().unwrap()[i]
                    } else {
                        &mut layers[li].bias.as_slice_mut().unwrap()[i]
                    };
                    *p += delta;
                };
                at(h, &mut layers);
                let up = loss_of(&layers, &mut ws, loss, n);
                at(-2.0 * h, &mut layers);
                let down = loss_of(&layers, &mut ws, loss, n);
                at(h, &mut layers);
                let fd = (up - down) / (2.0 * h as f64);
                assert!(
                    (g as f64 - fd).abs() <= 2e-3 * fd.abs().max(1.0),
                    "{label}: layer {li} {} [{i}]: backprop {g}, finite difference {fd}",
                    if param == 0 { "kernel" } else { "bias" }
                );
            }
        }
    }
}

const HIDDEN: [Activation; 5] =
    [Activation::Linear, Activation::Relu, Activation::Sigmoid, Activation::Tanh, Activation::Softmax];

#[test]
fn mse_and_mae_gradients_match_finite_differences_for_every_activation() {
    for hidden in HIDDEN {
        for out in [Activation::Linear, Activation::Tanh, Activation::Sigmoid, Activation::Softmax, Activation::Relu] {
            check(hidden, out, Loss::MeanSquaredError, 3);
            check(hidden, out, Loss::MeanAbsoluteError, 3);
        }
    }
}

#[test]
fn crossentropy_gradients_from_logits_match_finite_differences() {
    for hidden in HIDDEN {
        check(hidden, Activation::Sigmoid, Loss::BinaryCrossentropy, 2);
        check(hidden, Activation::Softmax, Loss::CategoricalCrossentropy, 3);
        check(hidden, Activation::Softmax, Loss::SparseCategoricalCrossentropy, 3);
    }
}

#[test]
fn crossentropy_gradients_from_probabilities_match_finite_differences() {
    // Outputs that are probabilities but not the matching logits form: clipped-probability paths.
    for hidden in [Activation::Tanh, Activation::Relu] {
        check(hidden, Activation::Softmax, Loss::BinaryCrossentropy, 3);
        check(hidden, Activation::Sigmoid, Loss::CategoricalCrossentropy, 3);
        check(hidden, Activation::Sigmoid, Loss::SparseCategoricalCrossentropy, 3);
    }
}
