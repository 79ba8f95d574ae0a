//! What a figure costs in a notebook as SVG and as PNG: bytes stored (PNG as the base64 text
//! a notebook holds) and time to draw, for the course's three kinds of plot (a 2000-point
//! scatter, a 40-epoch loss curve, a 28x28 digit). README's choice of PNG is based on it:
//! `cargo run --release -p dl-core --example plot_sizes`.
use dl_core::prelude::*;
fn main() -> Result<()> {
    set_random_seed(1);
    let x = uniform(0.0, 1.0, 2000);
    let y = x.mapv(|v| 3.0 + 4.0 * v) + normal(0.0, 0.2, 2000);
    let mut scatter = Figure::new();
    scatter.plot(&x, &y, "b.")?;
    let mut curve = Figure::new();
    let loss: Vec<f64> = (0..40).map(|i| 0.26 + 2.0 / (1.0 + i as f64)).collect();
    curve.plot_y(&loss, "-")?;
    let img = Array2::from_shape_fn((28, 28), |(i, j)| ((i * j) % 255) as f64);
    let mut digit = Figure::new();
    digit.imshow(&img, Colormap::Binary)?;
    for (name, f) in [("scatter", &scatter), ("curve", &curve), ("digit", &digit)] {
        let t = std::time::Instant::now();
        let svg = f.to_svg()?;
        let ts = t.elapsed();
        let t = std::time::Instant::now();
        let png = f.to_png()?;
        let tp = t.elapsed();
        println!(
            "{name:8} svg {:>7} bytes {:>6.1} ms   png {:>7} bytes (base64 {:>7}) {:>6.1} ms",
            svg.len(),
            ts.as_secs_f64() * 1e3,
            png.len(),
            png.len().div_ceil(3) * 4,
            tp.as_secs_f64() * 1e3
        );
    }
    Ok(())
}
