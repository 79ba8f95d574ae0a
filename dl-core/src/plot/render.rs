//! Drawing a [`Figure`] with plotters: the SVG backend for notebooks and `.svg` files, the
//! bitmap backend for `.png` (the same drawing code for both).
//!
//! Axes get matplotlib's look: 5% margins around the data, ticks at round numbers (1, 2, 2.5 or
//! 5 × 10ᵏ, about six per axis), label areas sized for their text, square pixels for images.

use super::fmt::{LineStyle, Marker, Rgb};
use super::{Axes, Figure, Image, Series};
use crate::error::{Error, Result};
use plotters::chart::SeriesAnno;
use plotters::coord::Shift;
use plotters::element::{Drawable, PointCollection};
use plotters::prelude::*;
use plotters_backend::{BackendCoord, DrawingErrorKind};

fn draw_err<E: std::fmt::Debug>(e: E) -> Error {
    Error::plot("draw", format!("{e:?}"))
}

/// The figure as an SVG document.
pub(crate) fn svg(fig: &Figure) -> Result<String> {
    fonts();
    let mut out = String::new();
    draw(fig, SVGBackend::with_string(&mut out, fig.size).into_drawing_area())?;
    Ok(out)
}

/// The figure as PNG bytes, drawn by plotters' bitmap backend with the embedded font.
pub(crate) fn png(fig: &Figure) -> Result<Vec<u8>> {
    fonts();
    let (w, h) = fig.size;
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    draw(fig, BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area())?;
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let encoded = enc.write_header().and_then(|mut wr| wr.write_image_data(&rgb));
    encoded.map_err(|e| Error::plot("savefig", format!("PNG: {e}")))?;
    Ok(out)
}

fn draw<DB: DrawingBackend>(fig: &Figure, root: DrawingArea<DB, Shift>) -> Result<()> {
    root.fill(&WHITE).map_err(draw_err)?;
    let areas = root.split_evenly(fig.grid);
    for (ax, area) in fig.axes.iter().zip(&areas) {
        match &ax.image {
            Some(img) => draw_image(ax, img, area)?,
            None if ax.series.is_empty() => {}
            None => draw_axes(ax, area)?,
        }
    }
    root.present().map_err(draw_err)?;
    Ok(())
}

/// Text is measured and (for PNG) drawn with Ubuntu Light, embedded through
/// `epaint_default_fonts`, so no system fonts are needed. Registered once per copy of dl-core
/// (each notebook cell links its own).
fn fonts() {
    static DONE: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    DONE.get_or_init(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            let _ = plotters::style::register_font("sans-serif", style, epaint_default_fonts::UBUNTU_LIGHT);
        }
    });
}

fn rgb(c: Rgb) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

/// Round-number ticks covering `[lo, hi]`, about `target` of them, and the decimals to print.
pub(crate) fn nice_ticks(lo: f64, hi: f64, target: usize) -> (Vec<f64>, usize) {
    let span = (hi - lo).abs().max(f64::MIN_POSITIVE);
    let raw = span / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step =
        [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw * (1.0 - 1e-9)).unwrap_or(10.0 * mag);
    let first = (lo.min(hi) / step).ceil() * step;
    let ticks: Vec<f64> = (0..)
        .map(|i| first + step * i as f64)
        .take_while(|t| *t <= lo.max(hi) + step * 1e-9)
        .map(|t| if t.abs() < step * 1e-9 { 0.0 } else { t })
        .collect();
    let decimals = (-(step.log10().floor()) as i64).max(0) as usize + usize::from((step / mag - 2.5).abs() < 1e-9);
    (ticks, decimals)
}

/// The data range of the axes on each side, with matplotlib's 5% margins (or the limits set).
fn ranges(ax: &Axes) -> ((f64, f64), (f64, f64)) {
    let (mut x, mut y) = ((f64::INFINITY, f64::NEG_INFINITY), (f64::INFINITY, f64::NEG_INFINITY));
    let mut add = |px: f64, py: f64| {
        x = (x.0.min(px), x.1.max(px));
        y = (y.0.min(py), y.1.max(py));
    };
    for s in &ax.series {
        match s {
            Series::Line { x, y, .. } | Series::Scatter { x, y, .. } => x.iter().zip(y).for_each(|(a, b)| add(*a, *b)),
            Series::Hist { edges, counts, .. } => {
                add(edges[0], 0.0);
                add(*edges.last().expect("bins"), counts.iter().cloned().fold(0.0, f64::max));
            }
        }
    }
    let pad = |(lo, hi): (f64, f64)| {
        if lo == hi {
            let d = if lo == 0.0 { 0.5 } else { lo.abs() * 0.05 };
            (lo - d, hi + d)
        } else {
            let d = 0.05 * (hi - lo);
            (lo - d, hi + d)
        }
    };
    (ax.xlim.unwrap_or_else(|| pad(x)), ax.ylim.unwrap_or_else(|| pad(y)))
}

/// A linear axis from `lo` to `hi` (either order) whose tick marks are exactly `ticks`.
#[derive(Clone)]
struct Ticked {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ticked {
    fn new(lo: f64, hi: f64, ticks: Vec<f64>) -> Self {
        Ticked { lo, hi, ticks }
    }
}

impl Ranged for Ticked {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;
    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let t = (v - self.lo) / (self.hi - self.lo);
        (limit.0 as f64 + t * (limit.1 - limit.0) as f64).round() as i32
    }
    fn key_points<Hint: plotters::coord::ranged1d::KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        self.ticks.clone()
    }
    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

fn label_for(v: f64, decimals: usize, custom: Option<&(Vec<f64>, Vec<String>)>) -> String {
    if let Some((pos, labels)) = custom {
        return pos
            .iter()
            .zip(labels)
            .find(|(p, _)| (**p - v).abs() < 1e-9 * (1.0 + v.abs()))
            .map(|(_, l)| l.clone())
            .unwrap_or_default();
    }
    format!("{v:.decimals$}")
}

/// The axes with every y value as its base-10 logarithm, for `yscale("log")`: the drawing stays
/// linear, the tick labels give the values back.
fn log_y(ax: &Axes) -> Result<Axes> {
    let mut ax = ax.clone();
    let log = |v: &mut f64| {
        if *v > 0.0 {
            *v = v.log10();
            Ok(())
        } else {
            Err(Error::plot("yscale", format!("a log scale needs values above 0, got {v}")))
        }
    };
    for s in &mut ax.series {
        match s {
            Series::Line { y, .. } | Series::Scatter { y, .. } => y.iter_mut().try_for_each(log)?,
            Series::Hist { .. } => return Err(Error::plot("yscale", "a histogram on a log scale is not supported")),
        }
    }
    if let Some((lo, hi)) = &mut ax.ylim {
        log(lo)?;
        log(hi)?;
    }
    Ok(ax)
}

/// Ticks of a log axis, given in log10 units: every power of ten, and 2 and 5 times them
/// where the axis spans less than two decades (as matplotlib labels its minor ticks then).
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let steps: &[f64] = if hi - lo < 2.0 { &[1.0, 2.0, 5.0] } else { &[1.0] };
    let mut ticks = Vec::new();
    for k in (lo.floor() as i32)..=(hi.ceil() as i32) {
        for m in steps {
            let t = m.log10() + k as f64;
            if t >= lo - 1e-9 && t <= hi + 1e-9 {
                ticks.push(t);
            }
        }
    }
    ticks
}

/// A tick label of a log axis (`t` in log10 units): `0.01`, `0.2`, `1`, `50`, `1e+06`.
fn log_label(t: f64) -> String {
    let v = 10f64.powf(t);
    let rounded = format!("{:.1e}", v).parse::<f64>().unwrap_or(v);
    if (1e-4..1e5).contains(&rounded) {
        format!("{rounded}")
    } else {
        format!("{rounded:e}")
    }
}

fn draw_axes<DB: DrawingBackend>(ax: &Axes, area: &DrawingArea<DB, Shift>) -> Result<()> {
    let logged;
    let ax = if ax.ylog {
        logged = log_y(ax)?;
        &logged
    } else {
        ax
    };
    let ((x0, x1), (y0, y1)) = ranges(ax);
    if !(x0 < x1 && y0 < y1) {
        return Err(Error::plot("draw", format!("empty range: x {x0}..{x1}, y {y0}..{y1}")));
    }
    let (mut xt, xd) = nice_ticks(x0, x1, 6);
    let (yt, yd) = if ax.ylog { (log_ticks(y0, y1), 0) } else { nice_ticks(y0, y1, 6) };
    let custom = ax.xticks.as_ref().map(|(p, l)| {
        let labels = l.clone().unwrap_or_else(|| p.iter().map(|v| format!("{v}")).collect());
        (p.clone(), labels)
    });
    if let Some((p, _)) = &custom {
        xt = p.clone();
    }
    let ylog = ax.ylog;
    let yfmt = move |v: &f64| if ylog { log_label(*v) } else { format!("{v:.yd$}") };
    let ylabel_width = yt.iter().map(|v| yfmt(v).len()).max().unwrap_or(1) as u32 * 8 + 16;
    let mut builder = ChartBuilder::on(area);
    builder
        .margin(12)
        .x_label_area_size(if ax.xlabel.is_some() { 48 } else { 30 })
        .y_label_area_size(ylabel_width + if ax.ylabel.is_some() { 22 } else { 0 });
    if let Some(t) = &ax.title {
        builder.caption(t, ("sans-serif", 18));
    }
    let mut chart = builder.build_cartesian_2d(Ticked::new(x0, x1, xt), Ticked::new(y0, y1, yt)).map_err(draw_err)?;
    let xfmt = |v: &f64| label_for(*v, xd, custom.as_ref());
    let mut mesh = chart.configure_mesh();
    mesh.x_label_formatter(&xfmt)
        .y_label_formatter(&yfmt)
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 15));
    if ax.grid {
        mesh.bold_line_style(RGBColor(200, 200, 200).stroke_width(1)).light_line_style(TRANSPARENT);
    } else {
        mesh.disable_mesh();
    }
    if let Some(l) = &ax.xlabel {
        mesh.x_desc(l);
    }
    if let Some(l) = &ax.ylabel {
        mesh.y_desc(l);
    }
    mesh.draw().map_err(draw_err)?;
    frame(&mut chart, (x0, x1), (y0, y1))?;

    let mut labelled = false;
    for s in &ax.series {
        match s {
            Series::Line { x, y, color, line, marker, label } => {
                let c = rgb(*color);
                let pts: Vec<(f64, f64)> = x.iter().copied().zip(y.iter().copied()).collect();
                let style = c.stroke_width(2);
                let mut anno = match line {
                    Some(LineStyle::Solid) => {
                        Some(chart.draw_series(LineSeries::new(pts.clone(), style)).map_err(draw_err)?)
                    }
                    Some(l) => {
                        let (dash, gap) = match l {
                            LineStyle::Dashed => (8, 5),
                            LineStyle::Dotted => (2, 4),
                            _ => (10, 4),
                        };
                        Some(
                            chart
                                .draw_series(DashedLineSeries::new(pts.clone(), dash, gap, style))
                                .map_err(draw_err)?,
                        )
                    }
                    None => None,
                };
                if let Some(m) = marker {
                    anno = Some(draw_markers(&mut chart, &pts, *m, c)?);
                }
                if let (Some(a), Some(l)) = (anno, label) {
                    labelled = true;
                    let mark = legend_mark(*line, *marker, c, (0, 0));
                    a.label(l).legend(move |p| MultiPath(mark(p)));
                }
            }
            Series::Scatter { x, y, color, c: values, label, .. } => {
                let norm = values.as_ref().map(|(v, cmap)| {
                    let (lo, hi) = v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
                    (v, *cmap, lo, if hi > lo { hi - lo } else { 1.0 })
                });
                let a = chart
                    .draw_series(x.iter().zip(y).enumerate().map(|(i, (&px, &py))| {
                        let col = match &norm {
                            Some((v, cmap, lo, span)) => rgb(cmap.color((v[i] - lo) / span)),
                            None => rgb(*color),
                        };
                        Circle::new((px, py), 4, col.filled())
                    }))
                    .map_err(draw_err)?;
                if let Some(l) = label {
                    labelled = true;
                    let c = rgb(*color);
                    a.label(l).legend(move |(px, py)| Circle::new((px + 10, py), 4, c.filled()));
                }
            }
            Series::Hist { edges, counts, color, label } => {
                let c = rgb(*color);
                let a = chart
                    .draw_series(
                        edges
                            .windows(2)
                            .zip(counts)
                            .map(|(e, &n)| Rectangle::new([(e[0], 0.0), (e[1], n)], c.filled())),
                    )
                    .map_err(draw_err)?;
                if let Some(l) = label {
                    labelled = true;
                    a.label(l).legend(move |(px, py)| Rectangle::new([(px, py - 5), (px + 16, py + 5)], c.filled()));
                }
            }
        }
    }
    if ax.legend && labelled {
        chart
            .configure_series_labels()
            .position(legend_corner(ax, (x0, x1), (y0, y1)))
            .label_font(("sans-serif", 13))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .draw()
            .map_err(draw_err)?;
    }
    Ok(())
}

/// The axes' full box (plotters draws only the left and bottom lines; matplotlib all four).
fn frame<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<Ticked, Ticked>>,
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
) -> Result<()> {
    let edge = BLACK.stroke_width(1);
    chart.draw_series(std::iter::once(Rectangle::new([(x0, y0), (x1, y1)], edge))).map_err(draw_err)?;
    Ok(())
}

/// matplotlib's `loc="best"`, simplified: the corner whose box (40% × 30% of the axes) holds
/// the fewest data points.
fn legend_corner(ax: &Axes, (x0, x1): (f64, f64), (y0, y1): (f64, f64)) -> SeriesLabelPosition {
    let mut counts = [0usize; 4]; // upper left, upper right, lower left, lower right
    for s in &ax.series {
        let (xs, ys): (&[f64], &[f64]) = match s {
            Series::Line { x, y, .. } | Series::Scatter { x, y, .. } => (x, y),
            Series::Hist { edges, counts: c, .. } => (&edges[..c.len()], c),
        };
        for (&x, &y) in xs.iter().zip(ys) {
            let (fx, fy) = ((x - x0) / (x1 - x0), (y - y0) / (y1 - y0));
            let (left, right, top, bottom) = (fx < 0.4, fx > 0.6, fy > 0.7, fy < 0.3);
            for (i, hit) in [left && top, right && top, left && bottom, right && bottom].into_iter().enumerate() {
                counts[i] += hit as usize;
            }
        }
    }
    let best = (0..4).min_by_key(|&i| counts[i]).unwrap_or(0);
    match best {
        0 => SeriesLabelPosition::UpperLeft,
        1 => SeriesLabelPosition::UpperRight,
        2 => SeriesLabelPosition::LowerLeft,
        _ => SeriesLabelPosition::LowerRight,
    }
}

/// Markers of one shape at every point (each shape is its own element type, so each gets its
/// own `draw_series` call).
fn draw_markers<'c, 'b, DB: DrawingBackend>(
    chart: &'c mut ChartContext<'b, DB, Cartesian2d<Ticked, Ticked>>,
    pts: &[(f64, f64)],
    m: Marker,
    c: RGBColor,
) -> Result<&'c mut SeriesAnno<'b, DB>> {
    let (f, s) = (c.filled(), c.stroke_width(2));
    let poly = |v: Vec<(i32, i32)>| move |&p: &(f64, f64)| EmptyElement::at(p) + Polygon::new(v.clone(), f);
    let star: Vec<(i32, i32)> = (0..10)
        .map(|i| {
            let r = if i % 2 == 0 { 6.0 } else { 2.5 };
            let a = std::f64::consts::PI * (i as f64 / 5.0 - 0.5);
            ((r * a.cos()).round() as i32, (r * a.sin()).round() as i32)
        })
        .collect();
    let r = match m {
        Marker::Point => chart.draw_series(pts.iter().map(|&p| Circle::new(p, 2, f))),
        Marker::Circle => chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, f))),
        Marker::Square => {
            chart.draw_series(pts.iter().map(|&p| EmptyElement::at(p) + Rectangle::new([(-4, -4), (4, 4)], f)))
        }
        Marker::TriangleUp => chart.draw_series(pts.iter().map(poly(vec![(0, -5), (-5, 4), (5, 4)]))),
        Marker::TriangleDown => chart.draw_series(pts.iter().map(poly(vec![(0, 5), (-5, -4), (5, -4)]))),
        Marker::Diamond => chart.draw_series(pts.iter().map(poly(vec![(0, -5), (4, 0), (0, 5), (-4, 0)]))),
        Marker::Star => chart.draw_series(pts.iter().map(poly(star))),
        Marker::X => chart.draw_series(pts.iter().map(|&p| {
            EmptyElement::at(p)
                + PathElement::new(vec![(-4, -4), (4, 4)], s)
                + PathElement::new(vec![(-4, 4), (4, -4)], s)
        })),
        Marker::Plus => chart.draw_series(pts.iter().map(|&p| {
            EmptyElement::at(p)
                + PathElement::new(vec![(0, -5), (0, 5)], s)
                + PathElement::new(vec![(-5, 0), (5, 0)], s)
        })),
    };
    r.map_err(draw_err)
}

fn legend_mark(
    line: Option<LineStyle>,
    marker: Option<Marker>,
    c: RGBColor,
    (x, y): (i32, i32),
) -> impl Fn((i32, i32)) -> Vec<PathElement<(i32, i32)>> {
    let _ = (x, y);
    move |(x, y)| {
        let st = c.stroke_width(2);
        let mut v = Vec::new();
        match line {
            Some(LineStyle::Solid) => v.push(PathElement::new(vec![(x, y), (x + 20, y)], st)),
            Some(_) => {
                v.push(PathElement::new(vec![(x, y), (x + 7, y)], st));
                v.push(PathElement::new(vec![(x + 13, y), (x + 20, y)], st));
            }
            None => {}
        }
        if marker.is_some() {
            // A small filled disc (rows of a circle of radius 4) stands for any marker.
            for dy in -4i32..=4 {
                let half = ((16 - dy * dy) as f64).sqrt().round() as i32;
                v.push(PathElement::new(vec![(x + 10 - half, y + dy), (x + 10 + half, y + dy)], c.stroke_width(1)));
            }
        }
        v
    }
}

/// Several path elements drawn as one legend mark.
struct MultiPath(Vec<PathElement<(i32, i32)>>);

impl<'a> PointCollection<'a, (i32, i32)> for &'a MultiPath {
    type Point = &'a (i32, i32);
    type IntoIter = Vec<&'a (i32, i32)>;
    fn point_iter(self) -> Vec<&'a (i32, i32)> {
        self.0.iter().flat_map(|p| p.point_iter()).collect()
    }
}

impl<DB: DrawingBackend> Drawable<DB> for MultiPath {
    fn draw<I: Iterator<Item = BackendCoord>>(
        &self,
        mut pos: I,
        backend: &mut DB,
        size: (u32, u32),
    ) -> std::result::Result<(), DrawingErrorKind<DB::ErrorType>> {
        for p in &self.0 {
            let n = p.point_iter().iter().count();
            p.draw((&mut pos).take(n), backend, size)?;
        }
        Ok(())
    }
}

/// `imshow`: one rectangle per pixel, square pixels, row 0 at the top.
fn draw_image<DB: DrawingBackend>(ax: &Axes, img: &Image, area: &DrawingArea<DB, Shift>) -> Result<()> {
    let (rows, cols) = img.data.dim();
    let (w, h) = area.dim_in_pixel();
    let (margin, xlab, ylab) = (12i64, 30i64, 40i64);
    let title = if ax.title.is_some() { 30 } else { 0 };
    let (pw, ph) = (w as i64 - ylab - 2 * margin, h as i64 - xlab - title - 2 * margin);
    if pw < 10 || ph < 10 {
        return Err(Error::plot("imshow", "the figure is too small for the image"));
    }
    let scale = (pw as f64 / cols as f64).min(ph as f64 / rows as f64);
    let (extra_w, extra_h) = (pw - (scale * cols as f64) as i64, ph - (scale * rows as f64) as i64);
    let inner = area.margin(
        (extra_h / 2) as i32,
        (extra_h - extra_h / 2) as i32,
        (extra_w / 2) as i32,
        (extra_w - extra_w / 2) as i32,
    );
    let mut builder = ChartBuilder::on(&inner);
    builder.margin(margin as i32).x_label_area_size(xlab as i32).y_label_area_size(ylab as i32);
    if let Some(t) = &ax.title {
        builder.caption(t, ("sans-serif", 18));
    }
    // matplotlib's spacing: 0, 5, ..., 25 on a 28-pixel side.
    let (xt, _) = nice_ticks(0.0, cols as f64 - 1.0, 6);
    let (yt, _) = nice_ticks(0.0, rows as f64 - 1.0, 6);
    // Ticks mark pixel centres, as in matplotlib.
    let xt: Vec<f64> = xt.into_iter().map(|v| v + 0.5).collect();
    let yt: Vec<f64> = yt.into_iter().map(|v| v + 0.5).collect();
    let mut chart = builder
        .build_cartesian_2d(Ticked::new(0.0, cols as f64, xt), Ticked::new(rows as f64, 0.0, yt))
        .map_err(draw_err)?;
    let fmt = |v: &f64| format!("{:.0}", v - 0.5);
    chart
        .configure_mesh()
        .disable_mesh()
        .x_label_formatter(&fmt)
        .y_label_formatter(&fmt)
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(draw_err)?;
    let span = if img.vmax > img.vmin { img.vmax - img.vmin } else { 1.0 };
    chart
        .draw_series(img.data.indexed_iter().map(|((r, c), &v)| {
            let col = rgb(img.cmap.color((v - img.vmin) / span));
            Rectangle::new([(c as f64, r as f64), (c as f64 + 1.0, r as f64 + 1.0)], col.filled())
        }))
        .map_err(draw_err)?;
    // Drawn last, so that white edge pixels still show where the image ends.
    frame(&mut chart, (0.0, cols as f64), (rows as f64, 0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_axis_has_round_ticks_and_plain_labels() {
        // 0.26 .. 3.9, less than two decades: 1, 2 and 5 times the powers of ten.
        let t = log_ticks(0.26f64.log10(), 3.9f64.log10());
        let labels: Vec<String> = t.iter().map(|&v| log_label(v)).collect();
        assert_eq!(labels, ["0.5", "1", "2"]);
        let labels: Vec<String> = log_ticks(-3.2, 1.5).iter().map(|&v| log_label(v)).collect();
        assert_eq!(labels, ["0.001", "0.01", "0.1", "1", "10"]);
        assert_eq!(log_label(6.0), "1e6");
    }

    #[test]
    fn ticks_are_round_numbers_covering_the_range() {
        assert_eq!(nice_ticks(0.0, 50.0, 6), (vec![0.0, 10.0, 20.0, 30.0, 40.0, 50.0], 0));
        let (t, d) = nice_ticks(-0.13, 1.07, 6);
        assert_eq!(t, vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]);
        assert_eq!(d, 1);
        let (t, d) = nice_ticks(2.6, 3.4, 4);
        assert_eq!((t, d), (vec![2.6, 2.8000000000000003, 3.0, 3.2, 3.4000000000000004], 1));
    }
}
