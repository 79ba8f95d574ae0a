//! pyplot-style plots on `plotters` (SVG backend, no system fonts), shown inline in notebooks.
//!
//! ```
//! use dl_core::prelude::*;
//! let y_test = array![12.0, 24.5, 31.0, 45.2];
//! let preds = array![14.1, 22.0, 33.3, 41.0];
//! let mut fig = Figure::new();
//! fig.plot(&y_test, &preds, "ro")?;               // plt.plot(y_test, preds, 'ro')
//! fig.plot(&[0.0, 50.0], &[0.0, 50.0], "b")?;     // plt.plot([0, 50], [0, 50], 'b')
//! fig.xlabel("true value").ylabel("prediction");
//! let svg = fig.to_svg()?;
//! assert!(svg.contains("<svg"));
//! # Ok::<(), dl_core::Error>(())
//! ```
//!
//! A [`Figure`] that is a cell's value shows itself as a PNG image (with a `text/plain`
//! fallback), as matplotlib's inline backend does; [`Figure::show`] displays one in the middle of
//! a cell. [`set_figure_format`] switches to SVG (IPython's `InlineBackend.figure_format`). The
//! [`plt`] module keeps a current figure, for code that follows matplotlib's slides line by line.
//!
//! Why PNG by default: JupyterLab does not render SVG from a notebook it does not trust (every
//! notebook opened from disk, a student's submission too), where PNG always shows, as it does on
//! GitHub and in exported HTML. Measured on the course's figures (`examples/plot_sizes.rs`):
//! a 2000-point scatter is 187 KB as SVG and 22 KB as PNG (base64), a 28 x 28 image 71 KB and
//! 6 KB, a loss curve 3 KB and 9 KB; PNG takes 5-10 ms to draw, SVG 0.1-2 ms, both small beside
//! a cell's compile (about 0.3 s).

pub mod colormap;
pub mod fmt;
pub mod plt;
mod render;
mod values;

pub use colormap::Colormap;
pub use fmt::{LineStyle, Marker, Rgb};
pub use values::Values;

use crate::display::{self, MimeBundle};
use crate::error::{Error, Result};
use ndarray::{Array2, ArrayBase, Data, Dimension};
use std::path::Path;

/// One plotted thing.
#[derive(Clone, Debug)]
pub(crate) enum Series {
    Line {
        x: Vec<f64>,
        y: Vec<f64>,
        color: Rgb,
        line: Option<LineStyle>,
        marker: Option<Marker>,
        label: Option<String>,
    },
    Scatter {
        x: Vec<f64>,
        y: Vec<f64>,
        color: Rgb,
        c: Option<(Vec<f64>, Colormap)>,
        label: Option<String>,
    },
    Hist {
        edges: Vec<f64>,
        counts: Vec<f64>,
        color: Rgb,
        label: Option<String>,
    },
}

/// An image drawn by `imshow`.
#[derive(Clone, Debug)]
pub(crate) struct Image {
    pub(crate) data: Array2<f64>,
    pub(crate) cmap: Colormap,
    pub(crate) vmin: f64,
    pub(crate) vmax: f64,
}

/// One set of axes (one subplot).
#[derive(Clone, Debug, Default)]
pub struct Axes {
    pub(crate) series: Vec<Series>,
    pub(crate) image: Option<Image>,
    pub(crate) title: Option<String>,
    pub(crate) xlabel: Option<String>,
    pub(crate) ylabel: Option<String>,
    pub(crate) xticks: Option<(Vec<f64>, Option<Vec<String>>)>,
    pub(crate) xlim: Option<(f64, f64)>,
    pub(crate) ylim: Option<(f64, f64)>,
    /// `yscale("log")`: y drawn on a logarithmic axis.
    pub(crate) ylog: bool,
    pub(crate) legend: bool,
    pub(crate) grid: bool,
}

/// A figure: a grid of [`Axes`] and a size in pixels (matplotlib's 6.4 × 4.8 inches at 100 dpi).
#[derive(Clone, Debug)]
pub struct Figure {
    pub(crate) size: (u32, u32),
    pub(crate) grid: (usize, usize),
    pub(crate) axes: Vec<Axes>,
    pub(crate) current: usize,
}

impl Default for Figure {
    fn default() -> Self {
        Self::new()
    }
}

impl Figure {
    /// An empty 640 × 480 figure with one set of axes (`plt.figure()`).
    pub fn new() -> Self {
        Figure { size: (640, 480), grid: (1, 1), axes: vec![Axes::default()], current: 0 }
    }

    /// The size in inches at 100 dpi (`plt.figure(figsize=(w, h))`).
    pub fn figsize(&mut self, width: f64, height: f64) -> &mut Self {
        self.size = ((width * 100.0).clamp(50.0, 4000.0) as u32, (height * 100.0).clamp(50.0, 4000.0) as u32);
        self
    }

    /// Selects subplot `index` (1-based, row by row) of a `rows × cols` grid, creating the grid
    /// (`plt.subplot(rows, cols, index)`). Plots made so far stay in the first subplot.
    ///
    /// # Errors
    /// An empty grid or an index outside `1..=rows·cols`.
    pub fn subplot(&mut self, rows: usize, cols: usize, index: usize) -> Result<&mut Self> {
        if rows == 0 || cols == 0 || index == 0 || index > rows * cols {
            return Err(Error::plot(
                "subplot",
                format!("index {index} is not in 1..={} of a {rows}x{cols} grid", rows * cols),
            ));
        }
        if self.grid != (rows, cols) {
            self.grid = (rows, cols);
            self.axes.resize_with(rows * cols, Axes::default);
        }
        self.current = index - 1;
        Ok(self)
    }

    fn ax(&mut self) -> &mut Axes {
        &mut self.axes[self.current]
    }

    fn next_color(&self) -> Rgb {
        let n = self.axes[self.current].series.len();
        fmt::CYCLE[n % fmt::CYCLE.len()]
    }

    /// Draws `y` against `x` with a matplotlib format string (`plt.plot(x, y, "ro")`).
    ///
    /// # Errors
    /// Different lengths, no points, a NaN or infinite value, or a bad format string.
    pub fn plot<X: Values + ?Sized, Y: Values + ?Sized>(&mut self, x: &X, y: &Y, fmt: &str) -> Result<&mut Self> {
        let f = fmt::parse(fmt)?;
        let (x, y) = (x.values("plot", "x")?, y.values("plot", "y")?);
        check_pair("plot", &x, &y)?;
        let color = f.color.unwrap_or_else(|| self.next_color());
        self.ax().series.push(Series::Line { x, y, color, line: f.line, marker: f.marker, label: None });
        Ok(self)
    }

    /// Draws `y` against `0, 1, 2, ...` (`plt.plot(y)`).
    ///
    /// # Errors
    /// As [`Figure::plot`].
    pub fn plot_y<Y: Values + ?Sized>(&mut self, y: &Y, fmt: &str) -> Result<&mut Self> {
        let y = y.values("plot", "y")?;
        let x: Vec<f64> = (0..y.len()).map(|i| i as f64).collect();
        self.plot(&x, &y, fmt)
    }

    /// Names the last series for the legend (matplotlib's `label=`).
    pub fn label(&mut self, label: impl Into<String>) -> &mut Self {
        let label = Some(label.into());
        match self.ax().series.last_mut() {
            Some(Series::Line { label: l, .. } | Series::Scatter { label: l, .. } | Series::Hist { label: l, .. }) => {
                *l = label
            }
            None => {}
        }
        self
    }

    /// Colours the last series (matplotlib's `color=`), e.g. to draw a validation curve dashed
    /// in its training curve's colour.
    pub fn color(&mut self, rgb: Rgb) -> &mut Self {
        match self.ax().series.last_mut() {
            Some(Series::Line { color, .. } | Series::Scatter { color, .. } | Series::Hist { color, .. }) => {
                *color = rgb
            }
            None => {}
        }
        self
    }

    /// Points at `(x, y)` (`plt.scatter(x, y)`).
    ///
    /// # Errors
    /// As [`Figure::plot`].
    pub fn scatter<X: Values + ?Sized, Y: Values + ?Sized>(&mut self, x: &X, y: &Y) -> Result<&mut Self> {
        let (x, y) = (x.values("scatter", "x")?, y.values("scatter", "y")?);
        check_pair("scatter", &x, &y)?;
        let color = self.next_color();
        self.ax().series.push(Series::Scatter { x, y, color, c: None, label: None });
        Ok(self)
    }

    /// Points coloured by `c` through `cmap` (`plt.scatter(x, y, c=c, cmap=cmap)`).
    ///
    /// # Errors
    /// As [`Figure::plot`], and `c` of another length.
    pub fn scatter_c<X: Values + ?Sized, Y: Values + ?Sized, C: Values + ?Sized>(
        &mut self,
        x: &X,
        y: &Y,
        c: &C,
        cmap: Colormap,
    ) -> Result<&mut Self> {
        let (x, y, c) = (x.values("scatter", "x")?, y.values("scatter", "y")?, c.values("scatter", "c")?);
        check_pair("scatter", &x, &y)?;
        if c.len() != x.len() {
            return Err(Error::plot("scatter", format!("c has {} values but x has {}", c.len(), x.len())));
        }
        let color = self.next_color();
        self.ax().series.push(Series::Scatter { x, y, color, c: Some((c, cmap)), label: None });
        Ok(self)
    }

    /// A histogram of `data` in `bins` equal bins (`plt.hist(data, bins)`).
    ///
    /// # Errors
    /// No values, a NaN or infinite value, or 0 bins.
    pub fn hist<V: Values + ?Sized>(&mut self, data: &V, bins: usize) -> Result<&mut Self> {
        let v = data.values("hist", "data")?;
        if v.is_empty() || bins == 0 {
            return Err(Error::plot("hist", "needs at least one value and one bin"));
        }
        let (lo, hi) = v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
        let (lo, hi) = if lo == hi { (lo - 0.5, hi + 0.5) } else { (lo, hi) };
        let w = (hi - lo) / bins as f64;
        let edges: Vec<f64> = (0..=bins).map(|i| lo + w * i as f64).collect();
        let mut counts = vec![0.0; bins];
        for x in v {
            counts[(((x - lo) / w) as usize).min(bins - 1)] += 1.0;
        }
        let color = self.next_color();
        self.ax().series.push(Series::Hist { edges, counts, color, label: None });
        Ok(self)
    }

    /// Shows a 2-D array as an image with square pixels, row 0 at the top
    /// (`plt.imshow(a, cmap=plt.cm.binary)`).
    ///
    /// # Errors
    /// An array that is not 2-D, is empty, or holds NaN.
    pub fn imshow<S, D>(&mut self, a: &ArrayBase<S, D>, cmap: Colormap) -> Result<&mut Self>
    where
        S: Data,
        S::Elem: crate::numpy::Scalar,
        D: Dimension,
    {
        if a.ndim() != 2 || a.is_empty() {
            return Err(Error::plot(
                "imshow",
                format!(
                    "needs a non-empty 2-D array, got shape {:?} (show one image, e.g. x_train.index_axis(Axis(0), 0))",
                    a.shape()
                ),
            ));
        }
        let data = a.mapv(crate::numpy::Scalar::to_f64).into_dimensionality::<ndarray::Ix2>().expect("checked 2-D");
        if data.iter().any(|v| !v.is_finite()) {
            return Err(Error::plot("imshow", "the array holds NaN or infinite values"));
        }
        let (vmin, vmax) = data.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
        self.ax().image = Some(Image { data, cmap, vmin, vmax });
        Ok(self)
    }

    /// The axes' title.
    pub fn title(&mut self, t: impl Into<String>) -> &mut Self {
        self.ax().title = Some(t.into());
        self
    }

    /// The x axis label.
    pub fn xlabel(&mut self, t: impl Into<String>) -> &mut Self {
        self.ax().xlabel = Some(t.into());
        self
    }

    /// The y axis label.
    pub fn ylabel(&mut self, t: impl Into<String>) -> &mut Self {
        self.ax().ylabel = Some(t.into());
        self
    }

    /// Tick positions on the x axis, optionally with their labels (`plt.xticks(pos, labels)`).
    ///
    /// # Errors
    /// No positions, or a different number of labels.
    pub fn xticks(&mut self, positions: &[f64], labels: Option<&[&str]>) -> Result<&mut Self> {
        if positions.is_empty()
            || positions.iter().any(|p| !p.is_finite())
            || labels.is_some_and(|l| l.len() != positions.len())
        {
            return Err(Error::plot("xticks", "needs finite positions and, if given, one label per position"));
        }
        self.ax().xticks = Some((positions.to_vec(), labels.map(|l| l.iter().map(|s| s.to_string()).collect())));
        Ok(self)
    }

    /// The x range shown.
    pub fn xlim(&mut self, lo: f64, hi: f64) -> &mut Self {
        self.ax().xlim = Some((lo, hi));
        self
    }

    /// The y range shown.
    pub fn ylim(&mut self, lo: f64, hi: f64) -> &mut Self {
        self.ax().ylim = Some((lo, hi));
        self
    }

    /// The y axis scale, `"linear"` or `"log"` (`plt.yscale("log")`), as for a loss that falls
    /// by orders of magnitude or levels off near its floor.
    ///
    /// ```
    /// use dl_core::prelude::*;
    /// let loss = [3.9, 0.9, 0.31, 0.27, 0.265];
    /// let mut fig = Figure::new();
    /// fig.plot_y(&loss, "-")?.yscale("log")?;
    /// assert!(fig.to_svg()?.contains("0.5"));
    /// assert!(fig.yscale("cubic").is_err());
    /// # Ok::<(), dl_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// A scale other than `"linear"` or `"log"`; values of zero or less show as an error when the
    /// figure is drawn.
    pub fn yscale(&mut self, scale: &str) -> Result<&mut Self> {
        self.ax().ylog = match scale {
            "linear" => false,
            "log" => true,
            other => return Err(Error::plot("yscale", format!("unknown scale {other:?}: use \"linear\" or \"log\""))),
        };
        Ok(self)
    }

    /// Shows a legend of the labelled series (`plt.legend()`).
    pub fn legend(&mut self) -> &mut Self {
        self.ax().legend = true;
        self
    }

    /// Grid lines on or off (`plt.grid(True)`).
    pub fn grid(&mut self, on: bool) -> &mut Self {
        self.ax().grid = on;
        self
    }

    /// The figure as an SVG document.
    ///
    /// # Errors
    /// When plotters cannot draw it (e.g. a range that collapses to a point after `xlim`).
    pub fn to_svg(&self) -> Result<String> {
        render::svg(self)
    }

    /// The figure as a PNG image of its pixel size, drawn with a font embedded in dl-core (no
    /// system fonts needed).
    ///
    /// # Errors
    /// As [`Figure::to_svg`].
    pub fn to_png(&self) -> Result<Vec<u8>> {
        render::png(self)
    }

    /// Saves to `.svg` or `.png`, by the file's extension (`plt.savefig(path)`).
    ///
    /// # Errors
    /// Another extension, or the file cannot be written.
    pub fn savefig(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let bytes = match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("svg") => self.to_svg()?.into_bytes(),
            Some("png") => self.to_png()?,
            _ => return Err(Error::plot("savefig", format!("{}: use a .svg or .png file name", path.display()))),
        };
        crate::io::atomic::write_atomically(path, "savefig", |f| std::io::Write::write_all(f, &bytes))
    }

    /// The image in the session's [`figure_format`] (`image/png`, base64, or `image/svg+xml`)
    /// plus a `text/plain` description.
    ///
    /// # Errors
    /// As [`Figure::to_svg`].
    pub fn mime_bundle(&self) -> Result<MimeBundle> {
        use base64::Engine as _;
        let mut b = MimeBundle::new();
        match figure_format() {
            FigureFormat::Png => {
                b.insert("image/png".into(), base64::engine::general_purpose::STANDARD.encode(self.to_png()?));
            }
            FigureFormat::Svg => {
                b.insert("image/svg+xml".into(), self.to_svg()?);
            }
        }
        b.insert(
            "text/plain".into(),
            format!("<Figure size {}x{} with {} Axes>", self.size.0, self.size.1, self.axes.len()),
        );
        Ok(b)
    }

    /// Displays the figure below the running cell now (`plt.show()`); in a terminal, prints its
    /// description.
    ///
    /// # Errors
    /// As [`Figure::to_svg`].
    pub fn show(&self) -> Result<()> {
        display::display(&self.mime_bundle()?, None);
        Ok(())
    }

    /// How a figure shows itself as a cell's value in evcxr / dl-kernel.
    pub fn evcxr_display(&self) {
        match self.mime_bundle() {
            Ok(b) => display::evcxr_send(&b),
            Err(e) => display::evcxr_send(&[("text/plain".to_string(), format!("cannot draw the figure: {e}"))].into()),
        }
    }
}

/// How figures show in a notebook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FigureFormat {
    /// A PNG image (the default, as matplotlib's inline backend): shows everywhere.
    Png,
    /// SVG: sharp at any zoom, but JupyterLab does not render it in untrusted notebooks.
    Svg,
}

/// Sets how figures show from now on, in this and later cells (IPython's
/// `%config InlineBackend.figure_format = 'svg'`).
///
/// ```
/// use dl_core::plot::{figure_format, set_figure_format, FigureFormat};
/// set_figure_format(FigureFormat::Svg);
/// assert_eq!(figure_format(), FigureFormat::Svg);
/// set_figure_format(FigureFormat::Png);
/// ```
pub fn set_figure_format(format: FigureFormat) {
    let name = match format {
        FigureFormat::Png => "png",
        FigureFormat::Svg => "svg",
    };
    crate::session::with_state("figure_format", &LOCAL_FORMAT, |s| *s = Some(name.to_string()));
}

/// The figure format outside a kernel session.
static LOCAL_FORMAT: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// How figures show now (see [`set_figure_format`]).
pub fn figure_format() -> FigureFormat {
    match crate::session::with_state("figure_format", &LOCAL_FORMAT, |s| s.clone()).as_deref() {
        Some("svg") => FigureFormat::Svg,
        _ => FigureFormat::Png,
    }
}

fn check_pair(op: &'static str, x: &[f64], y: &[f64]) -> Result<()> {
    if x.len() != y.len() {
        return Err(Error::plot(op, format!("x has {} values but y has {}", x.len(), y.len())));
    }
    if x.is_empty() {
        return Err(Error::plot(op, "nothing to plot: x and y are empty"));
    }
    Ok(())
}
