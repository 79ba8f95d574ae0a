//! Renders the three course plots to `target/plots/` as SVG and PNG: Boston predictions against
//! the truth with the diagonal, an MNIST-like digit with the `binary` colormap, and a training
//! history with its validation curve.
//!
//! `cargo run --release -p dl-core --example course_plots [OUT_DIR]`

use dl_core::prelude::*;

fn main() -> Result<()> {
    let out = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "target/plots".into()));
    std::fs::create_dir_all(&out).map_err(|e| Error::Dataset(e.to_string()))?;
    set_random_seed(3);

    // 1. Predictions against the truth, as on the Boston slide.
    let truth = uniform(5.0, 50.0, 102);
    let preds = truth.mapv(|v| 0.8 * v + 4.0) + normal(0.0, 3.5, 102);
    let mut fig = Figure::new();
    fig.plot(&truth, &preds, "ro")?.label("test houses");
    fig.plot(&[0.0, 50.0], &[0.0, 50.0], "b")?.label("perfect prediction");
    fig.title("Boston housing: predictions vs truth")
        .xlabel("true median value (k$)")
        .ylabel("predicted (k$)")
        .legend();
    fig.savefig(out.join("boston_pred_vs_truth.svg"))?;
    fig.savefig(out.join("boston_pred_vs_truth.png"))?;

    // 2. A digit: a hand-drawn "7" on a 28 × 28 grid.
    let mut digit = Array2::<u8>::zeros((28, 28));
    for c in 6..22 {
        digit[[6, c]] = 255;
        digit[[7, c]] = 200;
    }
    for r in 7..23 {
        let c = 21 - (r - 7) * 9 / 16;
        digit[[r, c]] = 255;
        digit[[r, c - 1]] = 180;
    }
    let mut fig = Figure::new();
    fig.figsize(4.0, 4.0).imshow(&digit, Colormap::Binary)?.title("label: 7");
    fig.savefig(out.join("digit.svg"))?;
    fig.savefig(out.join("digit.png"))?;

    // 3. A loss history with validation.
    let mut model = Sequential::new();
    model.add(Dense::new(8).activation("relu").input_dim(3));
    model.add(Dense::new(1));
    model.compile("adam", "mse", &["mae"])?;
    let x = Array2::from_shape_fn((400, 3), |(i, j)| ((i * 7 + j * 13) % 17) as f32 / 17.0);
    let y = x.map_axis(Axis(1), |r| 2.0 * r[0] - r[1] + 0.5 * r[2]);
    let h = model.fit_with(
        &x,
        &y,
        FitOptions { epochs: 30, batch_size: 16, validation_split: 0.2, verbose: 0, ..Default::default() },
    )?;
    let fig = h.plot()?;
    fig.savefig(out.join("history.svg"))?;
    fig.savefig(out.join("history.png"))?;
    println!("wrote the course plots to {}", out.display());
    Ok(())
}
