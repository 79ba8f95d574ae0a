//! The course's first example end to end: 2000 points of `y = 3 + 4x + noise`, `Dense(1)` on
//! input shape `(1,)`, `sgd`, `mse`, 40 epochs of batch 16. The course reports `w0 = 3.012`,
//! `w1 = 3.986`; with other noise the estimate moves by about the noise's standard error
//! (0.5 / √2000 · a few ≈ 0.05), so each weight must land within 0.1 of the truth, for several
//! seeds.

use dl_core::prelude::*;

#[test]
fn linear_regression_recovers_intercept_3_and_slope_4() {
    for seed in [1, 2, 3] {
        set_random_seed(seed);
        let x = uniform(0.0, 1.0, 2000);
        let y = x.mapv(|v| 3.0 + 4.0 * v) + normal(0.0, 0.5, 2000);
        let mut model = Sequential::new();
        model.add(Dense::new(1).input_shape([1]));
        model.compile("sgd", "mse", &["mse"]).unwrap();
        let h = model
            .fit_with(&x, &y, FitOptions { epochs: 40, batch_size: 16, verbose: 0, ..Default::default() })
            .unwrap();
        let w = model.get_weights();
        let (w0, w1) = (w[1][[0]], w[0][[0, 0]]);
        assert!((w0 - 3.0).abs() < 0.1 && (w1 - 4.0).abs() < 0.1, "seed {seed}: w0 = {w0}, w1 = {w1}");
        // The final mse approaches the noise variance 0.25.
        let last = *h.get("loss").unwrap().last().unwrap();
        assert!((last - 0.25).abs() < 0.05, "seed {seed}: final loss {last}");
        assert_eq!(h.get("loss").unwrap().len(), 40);
    }
}
