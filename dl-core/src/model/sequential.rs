//! `Sequential`: a list of layers plus `add`, and Keras's model calls — `compile`, `predict`,
//! `evaluate`, `get_weights`/`set_weights`. Training lives in `fit.rs`, the summary table in
//! `summary.rs`, saving in `save.rs`.

use super::data::{input_matrix, target_matrix, AsMatrix};
use super::progress::Progress;
use super::workspace::Workspace;
use crate::display;
use crate::error::{Error, Result};
use crate::layers::Dense;
use crate::loss::Loss;
use crate::metrics::Metric;
use crate::optim::{Optimizer, ParamState};
use crate::random::{next_seed, Rng};
use ndarray::{s, Array2, ArrayD, ArrayView2, Ix1, Ix2};
use std::collections::BTreeMap;
use std::sync::atomic::AtomicUsize;

pub(crate) static SEQUENTIAL_COUNT: AtomicUsize = AtomicUsize::new(0);

/// A stack of layers, Keras's `keras.Sequential`.
///
/// # Examples
/// ```
/// use dl_core::prelude::*;
/// let mut model = Sequential::new();
/// model.add(Dense::new(1).input_dim(1));
/// model.compile("sgd", "mse", &["mse"])?;
/// let x = array![[0.0f32], [1.0], [2.0], [3.0]];
/// let y = x.mapv(|v| 3.0 + 4.0 * v);
/// let history = model.fit_with(&x, &y, FitOptions { epochs: 2, batch_size: 2, verbose: 0, ..Default::default() })?;
/// assert_eq!(history.get("loss")?.len(), 2);
/// # Ok::<(), dl_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Sequential {
    pub(crate) name: String,
    pub(crate) layers: Vec<Dense>,
    pub(crate) compiled: Option<Compiled>,
    pub(crate) history: super::History,
}

/// What `compile` fixed: optimizer (with its state), loss and metrics.
#[derive(Clone, Debug)]
pub(crate) struct Compiled {
    pub(crate) optimizer: Optimizer,
    pub(crate) loss: Loss,
    pub(crate) metrics: Vec<Metric>,
    /// One state per parameter array, in `get_weights` order.
    pub(crate) state: Vec<ParamState>,
    /// Optimizer steps taken so far (Keras's `optimizer.iterations`).
    pub(crate) iterations: u64,
}

/// What `compile` accepts as an optimizer: `"sgd"`, `"rmsprop"`, `"adam"` or a typed value
/// such as `Sgd { learning_rate: 0.1, ..Default::default() }`.
pub trait IntoOptimizer {
    /// The optimizer, or why the name is not one.
    fn into_optimizer(self) -> Result<Optimizer>;
}
impl IntoOptimizer for &str {
    fn into_optimizer(self) -> Result<Optimizer> {
        self.parse()
    }
}
impl<T: Into<Optimizer>> IntoOptimizer for T {
    fn into_optimizer(self) -> Result<Optimizer> {
        Ok(self.into())
    }
}

/// What `compile` accepts as a loss: a Keras name (`"mse"`...) or a [`Loss`].
pub trait IntoLoss {
    /// The loss, or why the name is not one.
    fn into_loss(self) -> Result<Loss>;
}
impl IntoLoss for &str {
    fn into_loss(self) -> Result<Loss> {
        self.parse()
    }
}
impl IntoLoss for Loss {
    fn into_loss(self) -> Result<Loss> {
        Ok(self)
    }
}

impl Default for Sequential {
    fn default() -> Self {
        Self::new()
    }
}

impl From<Vec<Dense>> for Sequential {
    /// Keras's `Sequential([Dense(...), ...])`.
    fn from(layers: Vec<Dense>) -> Self {
        let mut m = Sequential::new();
        m.layers = layers;
        m
    }
}

impl Sequential {
    /// An empty model named `sequential`, `sequential_1`, ... in creation order.
    pub fn new() -> Self {
        let n = crate::session::next_count("sequential", &SEQUENTIAL_COUNT);
        Sequential {
            name: if n == 0 { "sequential".into() } else { format!("sequential_{n}") },
            layers: Vec::new(),
            compiled: None,
            history: Default::default(),
        }
    }

    /// Appends a layer (Keras's `model.add`). As in Keras, once the input size is known (the
    /// first layer's `input_dim`) the layers get their weights right away, so `summary` and
    /// `get_weights` work before `fit`. Invalid layer arguments are reported by the next call
    /// that needs the model (`compile`, `fit`...).
    pub fn add(&mut self, layer: Dense) -> &mut Self {
        self.layers.push(layer);
        if let Some(dim) = self.input_dim() {
            if self.check_layers("add").is_ok() {
                let _ = self.build(dim);
            }
        }
        self
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The layers, first to last.
    pub fn layers(&self) -> &[Dense] {
        &self.layers
    }

    /// The number of input features, once known.
    pub fn input_dim(&self) -> Option<usize> {
        self.layers.first().and_then(|l| l.input_dim)
    }

    /// Whether every layer has its weights.
    pub fn built(&self) -> bool {
        !self.layers.is_empty() && self.layers.iter().all(|l| l.built)
    }

    /// Total trainable parameters.
    pub fn count_params(&self) -> usize {
        self.layers.iter().map(Dense::param_count).sum()
    }

    /// Creates the weights for `input_dim` features (Keras's `model.build((None, input_dim))`).
    /// Layers that already have weights keep them.
    ///
    /// # Errors
    /// No layers, a layer with invalid arguments, or an input size that contradicts one given
    /// earlier.
    pub fn build(&mut self, input_dim: usize) -> Result<()> {
        self.check_layers("build")?;
        if let Some(d) = self.input_dim() {
            if d != input_dim && self.layers[0].built {
                return Err(Error::shape(
                    "build",
                    format!("the model was built for {d} input features, not {input_dim}"),
                    &[input_dim],
                    format!("{d}"),
                ));
            }
        }
        let mut rng = Rng::new(next_seed());
        let mut dim = input_dim;
        for (i, layer) in self.layers.iter_mut().enumerate() {
            if let Some(d) = layer.input_dim {
                if d != dim {
                    return Err(Error::shape(
                        "build",
                        format!("layer {} ({}) expects {d} inputs but receives {dim}", i, layer.name),
                        &[dim],
                        format!("{d}"),
                    ));
                }
            }
            if !layer.built {
                layer.build(dim, &mut rng);
            }
            dim = layer.units;
        }
        Ok(())
    }

    pub(crate) fn check_layers(&self, op: &'static str) -> Result<()> {
        if self.layers.is_empty() {
            return Err(Error::not_ready(op, "the model has no layers; add one with model.add(Dense::new(units))"));
        }
        self.layers.iter().try_for_each(Dense::check_valid)
    }

    /// Builds from the data's width if needed; checks the width otherwise.
    pub(crate) fn ensure_built(&mut self, features: usize) -> Result<()> {
        if !self.built() {
            let dim = self.input_dim().unwrap_or(features);
            self.build(dim)?;
        }
        Ok(())
    }

    /// Configures training (Keras's `compile(optimizer, loss, metrics)`). Recompiling resets
    /// the optimizer's state but keeps the weights.
    ///
    /// # Errors
    /// An unknown optimizer, loss or metric name, or an invalid learning rate.
    pub fn compile(&mut self, optimizer: impl IntoOptimizer, loss: impl IntoLoss, metrics: &[&str]) -> Result<()> {
        self.check_layers("compile")?;
        let optimizer = optimizer.into_optimizer()?;
        optimizer.validate()?;
        let loss = loss.into_loss()?;
        let metrics = metrics.iter().map(|m| Metric::parse(m)).collect::<Result<Vec<_>>>()?;
        self.compiled = Some(Compiled { optimizer, loss, metrics, state: Vec::new(), iterations: 0 });
        Ok(())
    }

    pub(crate) fn compiled(&self, op: &'static str) -> Result<&Compiled> {
        self.compiled.as_ref().ok_or_else(|| {
            Error::not_ready(op, "the model must be compiled first: model.compile(\"sgd\", \"mse\", &[\"mse\"])")
        })
    }

    /// Width of the output (units of the last layer).
    pub(crate) fn output_units(&self) -> usize {
        self.layers.last().map_or(0, |l| l.units)
    }

    /// Predictions for every row of `x`, in batches of 32, with Keras's progress line
    /// (Keras's `model.predict(x)`).
    ///
    /// # Errors
    /// No layers, `x` not 2-D, or `x` with the wrong number of features.
    pub fn predict<X: AsMatrix + ?Sized>(&mut self, x: &X) -> Result<Array2<f32>> {
        self.predict_with(x, 32, 1)
    }

    /// [`Sequential::predict`] with a batch size and `verbose` (0 silent, 1 bar, 2 one line).
    ///
    /// # Errors
    /// As [`Sequential::predict`], and a batch size of 0.
    pub fn predict_with<X: AsMatrix + ?Sized>(&mut self, x: &X, batch_size: usize, verbose: u8) -> Result<Array2<f32>> {
        self.predict_dyn(x.as_dyn(), batch_size, verbose)
    }

    fn predict_dyn(&mut self, x: &dyn AsMatrix, batch_size: usize, verbose: u8) -> Result<Array2<f32>> {
        self.check_layers("predict")?;
        check_batch_size("predict", batch_size)?;
        let xm = input_matrix("predict", x, self.input_dim())?;
        self.ensure_built(xm.ncols())?;
        let n = xm.nrows();
        let mut ws = Workspace::new(&self.layers, batch_size.min(n), xm.ncols(), 0);
        let mut out = Array2::zeros((n, self.output_units()));
        let steps = n.div_ceil(batch_size);
        let mut progress = Progress::new(verbose, steps);
        display::clear_interrupt();
        for (step, start) in (0..n).step_by(batch_size).enumerate() {
            let end = (start + batch_size).min(n);
            ws.forward(&self.layers, xm.slice(s![start..end, ..]));
            out.slice_mut(s![start..end, ..]).assign(&ws.output(end - start));
            if display::take_interrupt() {
                return Err(Error::Interrupted { op: "predict", epoch: 1, batch: step + 1 });
            }
            progress.update(step + 1, &[], step + 1 == steps);
        }
        Ok(out)
    }

    /// Loss and metrics on `x`, `y` in batches of 32, in compile order: `[loss, metric, ...]`
    /// (Keras's `model.evaluate(x, y)`).
    ///
    /// # Errors
    /// Not compiled, or shapes that do not fit the model.
    pub fn evaluate<X: AsMatrix + ?Sized, Y: AsMatrix + ?Sized>(&mut self, x: &X, y: &Y) -> Result<Vec<f64>> {
        let map = self.evaluate_with(x, y, 32, 1)?;
        let c = self.compiled("evaluate")?;
        let mut out = vec![map["loss"]];
        out.extend(c.metrics.iter().map(|m| map[&m.name]));
        Ok(out)
    }

    /// Loss and metrics as a map (Keras's `evaluate(return_dict=True)`), with a batch size and
    /// `verbose`.
    ///
    /// # Errors
    /// As [`Sequential::evaluate`].
    pub fn evaluate_with<X: AsMatrix + ?Sized, Y: AsMatrix + ?Sized>(
        &mut self,
        x: &X,
        y: &Y,
        batch_size: usize,
        verbose: u8,
    ) -> Result<BTreeMap<String, f64>> {
        self.evaluate_dyn(x.as_dyn(), y.as_dyn(), batch_size, verbose)
    }

    fn evaluate_dyn(
        &mut self,
        x: &dyn AsMatrix,
        y: &dyn AsMatrix,
        batch_size: usize,
        verbose: u8,
    ) -> Result<BTreeMap<String, f64>> {
        self.check_layers("evaluate")?;
        self.compiled("evaluate")?;
        check_batch_size("evaluate", batch_size)?;
        let xm = input_matrix("evaluate", x, self.input_dim())?;
        self.ensure_built(xm.ncols())?;
        let ym = self.targets("evaluate", y, xm.nrows())?;
        display::clear_interrupt();
        let mut progress = Progress::new(verbose, xm.nrows().div_ceil(batch_size));
        self.evaluate_views(xm.view(), ym.view(), batch_size, Some(&mut progress), "evaluate")
    }

    /// Targets checked against the output width and the loss.
    pub(crate) fn targets<'a>(
        &self,
        op: &'static str,
        y: &'a dyn AsMatrix,
        rows: usize,
    ) -> Result<ndarray::CowArray<'a, f32, Ix2>> {
        let c = self.compiled(op)?;
        let units = self.output_units();
        let width = c.loss.target_width(units);
        let what = format!("{} on a {units}-unit output", c.loss.name());
        let ym = target_matrix(op, y, rows, width, &what)?;
        c.loss.check_targets(ym.view(), units, op)?;
        Ok(ym)
    }

    /// Batched loss and metrics over views whose shapes were checked.
    pub(crate) fn evaluate_views(
        &self,
        x: ArrayView2<f32>,
        y: ArrayView2<f32>,
        batch_size: usize,
        mut progress: Option<&mut Progress>,
        op: &'static str,
    ) -> Result<BTreeMap<String, f64>> {
        let c = self.compiled(op)?;
        let n = x.nrows();
        let bs = batch_size.min(n);
        let mut ws = Workspace::new(&self.layers, bs, x.ncols(), 0);
        let units = self.output_units();
        let kinds: Vec<_> = c.metrics.iter().map(|m| m.resolve(units, y.ncols())).collect();
        let (mut loss_sum, mut metric_sums) = (0.0f64, vec![0.0f64; kinds.len()]);
        let steps = n.div_ceil(bs);
        let act = self.layers.last().map(|l| l.activation).unwrap_or_default();
        for (step, start) in (0..n).step_by(bs).enumerate() {
            let end = (start + bs).min(n);
            ws.forward(&self.layers, x.slice(s![start..end, ..]));
            let yb = y.slice(s![start..end, ..]);
            loss_sum += c.loss.compute(ws.logits(end - start), ws.output(end - start), yb, act, None);
            for (sum, k) in metric_sums.iter_mut().zip(&kinds) {
                *sum += k.sum(ws.output(end - start), yb);
            }
            if display::take_interrupt() {
                return Err(Error::Interrupted { op, epoch: 1, batch: step + 1 });
            }
            if let Some(p) = progress.as_deref_mut() {
                let rows = end as f64;
                let mut vals: Vec<(&str, f64)> = vec![("loss", loss_sum / rows)];
                vals.extend(c.metrics.iter().zip(&metric_sums).map(|(m, s)| (m.name.as_str(), s / rows)));
                vals.sort_by(|a, b| a.0.cmp(b.0));
                p.update(step + 1, &vals, step + 1 == steps);
            }
        }
        let mut out = BTreeMap::new();
        out.insert("loss".to_string(), loss_sum / n as f64);
        for (m, s) in c.metrics.iter().zip(metric_sums) {
            out.insert(m.name.clone(), s / n as f64);
        }
        Ok(out)
    }

    /// The weights in Keras's order: for each layer its kernel `(in, units)`, then its bias
    /// `(units,)` if it has one.
    pub fn get_weights(&self) -> Vec<ArrayD<f32>> {
        let mut out = Vec::new();
        for l in self.layers.iter().filter(|l| l.built) {
            out.push(l.kernel.clone().into_dyn());
            if l.use_bias {
                out.push(l.bias.clone().into_dyn());
            }
        }
        out
    }

    /// Replaces all weights (Keras's `set_weights`), in [`Sequential::get_weights`] order.
    /// Builds the model first if its input size is known.
    ///
    /// # Errors
    /// A model that cannot be built yet, the wrong number of arrays, or an array of the wrong
    /// shape (nothing is changed then).
    pub fn set_weights<W: AsRef<[ArrayD<f32>]>>(&mut self, weights: W) -> Result<()> {
        let weights = weights.as_ref();
        if !self.built() {
            let dim = self.input_dim().ok_or_else(|| {
                Error::not_ready(
                    "set_weights",
                    "the input size is unknown; give the first layer .input_dim(n) or call build(n)",
                )
            })?;
            self.build(dim)?;
        }
        let expected: Vec<Vec<usize>> = self.get_weights().iter().map(|w| w.shape().to_vec()).collect();
        if weights.len() != expected.len() {
            return Err(Error::invalid(
                "set_weights",
                format!("expected {} arrays (shapes {expected:?}), got {}", expected.len(), weights.len()),
            ));
        }
        for (i, (w, e)) in weights.iter().zip(&expected).enumerate() {
            if w.shape() != e.as_slice() {
                return Err(Error::shape(
                    "set_weights",
                    format!("array {i} has the wrong shape"),
                    w.shape(),
                    format!("{e:?}"),
                ));
            }
        }
        let mut it = weights.iter();
        for l in &mut self.layers {
            let k = it.next().expect("counted above");
            l.kernel.assign(&k.view().into_dimensionality::<Ix2>().expect("checked above"));
            if l.use_bias {
                let b = it.next().expect("counted above");
                l.bias.assign(&b.view().into_dimensionality::<Ix1>().expect("checked above"));
            }
        }
        Ok(())
    }
}

pub(crate) fn check_batch_size(op: &'static str, batch_size: usize) -> Result<()> {
    if batch_size == 0 {
        return Err(Error::invalid(op, "batch_size must be at least 1"));
    }
    Ok(())
}
