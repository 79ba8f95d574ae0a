//! The course's first example: fit `y = 3 + 4x + noise` with one Dense unit.
//!
//! `cargo run --release -p dl-core --example linregr`

use dl_core::prelude::*;

fn main() -> Result<()> {
    set_random_seed(42);
    // 2000 points, x uniform in [0, 1), noise N(0, 0.5²) — as on the course's slide.
    let x = uniform(0.0, 1.0, 2000);
    let y = x.mapv(|v| 3.0 + 4.0 * v) + normal(0.0, 0.5, 2000);

    let mut model = Sequential::new();
    model.add(Dense::new(1).input_shape([1]));
    model.compile("sgd", "mse", &["mse"])?;
    model.summary();
    let history = model.fit(&x, &y, 40, 16)?;

    let w = model.get_weights();
    println!("w0 (bias) = {:.3}, w1 (slope) = {:.3}", w[1][[0]], w[0][[0, 0]]);
    println!("final loss {:.4}", history.get("loss")?.last().copied().unwrap_or(f64::NAN));
    let preds = model.predict(&array![[0.0f32], [1.0]])?;
    println!("predictions at x = 0 and 1: {:.3}, {:.3}", preds[[0, 0]], preds[[1, 0]]);
    Ok(())
}
