//! matplotlib's stateful interface: a current figure per thread that `plt::plot` and friends
//! draw on, `plt::show()` displays and clears, `plt::savefig` writes.
//!
//! ```
//! use dl_core::prelude::*;
//! plt::plot(&[1.0, 2.0, 3.0], &[2.0, 4.0, 5.0], "ro")?;
//! plt::title("points");
//! let svg = plt::gcf().to_svg()?;
//! assert!(svg.contains("points"));
//! plt::clf();
//! # Ok::<(), dl_core::Error>(())
//! ```

use super::{Colormap, Figure, Values};
use crate::error::Result;
use ndarray::{ArrayBase, Data, Dimension};
use std::cell::RefCell;
use std::path::Path;

thread_local! {
    static CURRENT: RefCell<Figure> = RefCell::new(Figure::new());
}

fn with<R>(f: impl FnOnce(&mut Figure) -> R) -> R {
    CURRENT.with(|c| f(&mut c.borrow_mut()))
}

/// Starts a new current figure (`plt.figure()`).
pub fn figure() {
    with(|f| *f = Figure::new());
}

/// Starts a new current figure of `width × height` inches (`plt.figure(figsize=...)`).
pub fn figsize(width: f64, height: f64) {
    with(|f| {
        *f = Figure::new();
        f.figsize(width, height);
    });
}

/// `plt.plot(x, y, fmt)`.
///
/// # Errors
/// As [`Figure::plot`].
pub fn plot<X: Values + ?Sized, Y: Values + ?Sized>(x: &X, y: &Y, fmt: &str) -> Result<()> {
    with(|f| f.plot(x, y, fmt).map(|_| ()))
}

/// `plt.plot(x, y, fmt, label=label)`.
///
/// # Errors
/// As [`Figure::plot`].
pub fn plot_label<X: Values + ?Sized, Y: Values + ?Sized>(x: &X, y: &Y, fmt: &str, label: &str) -> Result<()> {
    with(|f| {
        f.plot(x, y, fmt).map(|f| {
            f.label(label);
        })
    })
}

/// `plt.scatter(x, y)`.
///
/// # Errors
/// As [`Figure::scatter`].
pub fn scatter<X: Values + ?Sized, Y: Values + ?Sized>(x: &X, y: &Y) -> Result<()> {
    with(|f| f.scatter(x, y).map(|_| ()))
}

/// `plt.hist(data, bins)`.
///
/// # Errors
/// As [`Figure::hist`].
pub fn hist<V: Values + ?Sized>(data: &V, bins: usize) -> Result<()> {
    with(|f| f.hist(data, bins).map(|_| ()))
}

/// `plt.imshow(a, cmap=...)`.
///
/// # Errors
/// As [`Figure::imshow`].
pub fn imshow<S, D>(a: &ArrayBase<S, D>, cmap: Colormap) -> Result<()>
where
    S: Data,
    S::Elem: crate::numpy::Scalar,
    D: Dimension,
{
    with(|f| f.imshow(a, cmap).map(|_| ()))
}

/// `plt.subplot(rows, cols, index)`.
///
/// # Errors
/// As [`Figure::subplot`].
pub fn subplot(rows: usize, cols: usize, index: usize) -> Result<()> {
    with(|f| f.subplot(rows, cols, index).map(|_| ()))
}

/// `plt.title(t)`.
pub fn title(t: &str) {
    with(|f| {
        f.title(t);
    });
}

/// `plt.xlabel(t)`.
pub fn xlabel(t: &str) {
    with(|f| {
        f.xlabel(t);
    });
}

/// `plt.ylabel(t)`.
pub fn ylabel(t: &str) {
    with(|f| {
        f.ylabel(t);
    });
}

/// `plt.yscale("log")`.
///
/// # Errors
/// A scale other than `"linear"` or `"log"`.
pub fn yscale(scale: &str) -> Result<()> {
    with(|f| f.yscale(scale).map(|_| ()))
}

/// `plt.legend()`.
pub fn legend() {
    with(|f| {
        f.legend();
    });
}

/// `plt.grid(on)`.
pub fn grid(on: bool) {
    with(|f| {
        f.grid(on);
    });
}

/// `plt.xticks(positions, labels)`.
///
/// # Errors
/// As [`Figure::xticks`].
pub fn xticks(positions: &[f64], labels: Option<&[&str]>) -> Result<()> {
    with(|f| f.xticks(positions, labels).map(|_| ()))
}

/// A copy of the current figure (`plt.gcf()`).
pub fn gcf() -> Figure {
    with(|f| f.clone())
}

/// Clears the current figure (`plt.clf()`).
pub fn clf() {
    figure();
}

/// Displays the current figure and starts a new one (`plt.show()`).
///
/// # Errors
/// As [`Figure::show`].
pub fn show() -> Result<()> {
    let fig = with(std::mem::take);
    fig.show()
}

/// Saves the current figure (`plt.savefig(path)`).
///
/// # Errors
/// As [`Figure::savefig`].
pub fn savefig(path: impl AsRef<Path>) -> Result<()> {
    with(|f| f.savefig(path))
}
