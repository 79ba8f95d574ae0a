//! `fit`: the training loop, with Keras's semantics.
//!
//! - Each epoch visits the training rows in batches of `batch_size` (the last one may be
//!   partial and is averaged over its own rows), in a fresh random order when `shuffle` is on.
//! - A batch's loss and metrics come from its forward pass *before* its update; the epoch's
//!   values are means over all rows seen (Keras's running means, weighted by batch size).
//! - `validation_split` keeps the **last** share of the rows for validation, split off before
//!   any shuffling; validation runs after each epoch's updates and adds `val_` keys.
//! - A non-finite loss stops training before that batch's update; an interrupt (Jupyter's stop
//!   button) stops it after the current batch. Either way the model keeps its weights and
//!   [`Sequential::history`] holds the finished epochs.

use super::data::{input_matrix, AsMatrix};
use super::history::History;
use super::live_plot::LivePlot;
use super::progress::Progress;
use super::sequential::{check_batch_size, Sequential};
use super::workspace::Workspace;
use crate::display;
use crate::error::{Error, Result};
use crate::loss::Loss;
use crate::metrics::{Metric, MetricKind};
use crate::optim::ParamState;
use crate::random::{next_seed, Rng};
use ndarray::{s, ArrayView2, Axis};

/// Keras's `fit` arguments, with Keras's defaults.
///
/// ```
/// use dl_core::prelude::*;
/// let opts = FitOptions { epochs: 10, batch_size: 64, validation_split: 0.2, ..Default::default() };
/// assert!(opts.shuffle && opts.verbose == 1);
/// ```
#[derive(Clone, Copy)]
pub struct FitOptions<'a> {
    /// Passes over the training data (default 1).
    pub epochs: usize,
    /// Rows per gradient step (default 32).
    pub batch_size: usize,
    /// 0 silent, 1 progress bar (default), 2 one line per epoch.
    pub verbose: u8,
    /// Visit the rows in a new random order each epoch (default true).
    pub shuffle: bool,
    /// Seed of the shuffling order; `None` draws one from the global generator.
    pub seed: Option<u64>,
    /// Share of rows, taken from the end, held out for validation (default 0).
    pub validation_split: f64,
    /// Explicit validation `(x, y)`; takes precedence over `validation_split`.
    pub validation_data: Option<(&'a dyn AsMatrix, &'a dyn AsMatrix)>,
    /// Batch size for validation (default: `batch_size`).
    pub validation_batch_size: Option<usize>,
    /// In dl-kernel, a plot of the loss and metrics per epoch that redraws in place while
    /// training runs (default false; Keras has no such option).
    pub live_plot: bool,
}

impl Default for FitOptions<'_> {
    fn default() -> Self {
        FitOptions {
            epochs: 1,
            batch_size: 32,
            verbose: 1,
            shuffle: true,
            seed: None,
            validation_split: 0.0,
            validation_data: None,
            validation_batch_size: None,
            live_plot: false,
        }
    }
}

impl Sequential {
    /// Trains for `epochs` passes in batches of `batch_size` (Keras's
    /// `model.fit(x, y, epochs=..., batch_size=...)`), with a progress bar; other options keep
    /// Keras's defaults (see [`Sequential::fit_with`]).
    ///
    /// # Errors
    /// Not compiled; `x` or `y` of shapes that do not fit the model (the message names both);
    /// labels out of range; a non-finite loss; an interrupt.
    pub fn fit<X: AsMatrix + ?Sized, Y: AsMatrix + ?Sized>(
        &mut self,
        x: &X,
        y: &Y,
        epochs: usize,
        batch_size: usize,
    ) -> Result<History> {
        self.fit_with(x, y, FitOptions { epochs, batch_size, ..Default::default() })
    }

    /// The history of the last `fit`, including the epochs finished before an interrupt or error.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// [`Sequential::fit`] with every option.
    ///
    /// # Errors
    /// As [`Sequential::fit`], and a `validation_split` outside `[0, 1)` or one that leaves no
    /// training or no validation rows.
    pub fn fit_with<X: AsMatrix + ?Sized, Y: AsMatrix + ?Sized>(
        &mut self,
        x: &X,
        y: &Y,
        opts: FitOptions<'_>,
    ) -> Result<History> {
        self.fit_dyn(x.as_dyn(), y.as_dyn(), opts)
    }

    fn fit_dyn(&mut self, x: &dyn AsMatrix, y: &dyn AsMatrix, opts: FitOptions<'_>) -> Result<History> {
        self.check_layers("fit")?;
        self.compiled("fit")?;
        check_batch_size("fit", opts.batch_size)?;
        let xm = input_matrix("fit", x, self.input_dim())?;
        self.ensure_built(xm.ncols())?;
        let ym = self.targets("fit", y, xm.nrows())?;
        let n_all = xm.nrows();

        // Validation data: explicit, or the last rows before any shuffling.
        let (val_owned, n_train) = match opts.validation_data {
            Some((vx, vy)) => {
                let vxm = input_matrix("fit (validation_data)", vx, self.input_dim())?;
                let vym = self.targets("fit (validation_data)", vy, vxm.nrows())?;
                (Some((vxm, vym)), n_all)
            }
            None if opts.validation_split != 0.0 => {
                let split = opts.validation_split;
                if !(0.0..1.0).contains(&split) {
                    return Err(Error::invalid("fit", format!("validation_split must be in [0, 1), got {split}")));
                }
                let at = (n_all as f64 * (1.0 - split)).floor() as usize;
                if at == 0 || at == n_all {
                    return Err(Error::invalid(
                        "fit",
                        format!(
                            "validation_split {split} of {n_all} rows leaves {at} for training and {} for validation",
                            n_all - at
                        ),
                    ));
                }
                (None, at)
            }
            None => (None, n_all),
        };
        let (train_x, train_y) = (xm.slice(s![..n_train, ..]), ym.slice(s![..n_train, ..]));
        let val: Option<(ArrayView2<f32>, ArrayView2<f32>)> = match &val_owned {
            Some((vx, vy)) => Some((vx.view(), vy.view())),
            None if n_train < n_all => Some((xm.slice(s![n_train.., ..]), ym.slice(s![n_train.., ..]))),
            None => None,
        };
        let val_bs = opts.validation_batch_size.unwrap_or(opts.batch_size);
        check_batch_size("fit", val_bs)?;

        let bs = opts.batch_size.min(n_train);
        let steps = n_train.div_ceil(bs);
        let units = self.output_units();
        let (loss, metrics) = {
            let c = self.compiled("fit")?;
            (c.loss, c.metrics.clone())
        };
        let kinds: Vec<_> = metrics.iter().map(|m| m.resolve(units, ym.ncols())).collect();

        // The loop runs on a rayon worker, so that the products' fork/joins go to that worker's
        // own deque (joined from outside the pool, each would pass through the global queue,
        // which allocates as it grows), and the other worker stays awake for them.
        let schedule = (opts.epochs, opts.verbose, opts.shuffle, opts.seed);
        let mut live = LivePlot::new(opts.live_plot);
        // Only when a step forks: the batch gather, or a product large enough to split.
        let forks = gathers_in_parallel(bs, xm.ncols())
            || self.layers.iter().any(|l| bs * l.kernel.len() >= crate::linalg::params::PARALLEL_MIN_MACS);
        let result = crate::linalg::awake::with_worker_awake(forks, || {
            self.train(
                (train_x, train_y, val, val_bs),
                (bs, steps, loss, &metrics, &kinds),
                schedule,
                Workspace::new(&self.layers, bs, xm.ncols(), ym.ncols()),
                &mut live,
            )
        });
        if let Some(live) = &mut live {
            live.finish(&self.history);
        }
        result
    }

    /// The epochs of `fit_with`, on checked and split data.
    #[allow(clippy::type_complexity)]
    fn train(
        &mut self,
        (train_x, train_y, val, val_bs): (
            ArrayView2<f32>,
            ArrayView2<f32>,
            Option<(ArrayView2<f32>, ArrayView2<f32>)>,
            usize,
        ),
        (bs, steps, loss, metrics, kinds): (usize, usize, Loss, &[Metric], &[MetricKind]),
        (epochs, verbose, shuffle, seed): (usize, u8, bool, Option<u64>),
        mut ws: Workspace,
        live: &mut Option<LivePlot>,
    ) -> Result<History> {
        let n_train = train_x.nrows();
        let mut metric_sums = vec![0.0f64; kinds.len()];
        // Names shown on the progress bar, in Keras's sorted order.
        let mut shown: Vec<(String, Option<usize>)> = std::iter::once(("loss".to_string(), None))
            .chain(metrics.iter().enumerate().map(|(i, m)| (m.name.clone(), Some(i))))
            .collect();
        shown.sort();
        let mut values: Vec<(&str, f64)> = Vec::with_capacity(2 * shown.len() + 2);

        let mut order: Vec<usize> = (0..n_train).collect();
        let mut rng = Rng::new(seed.unwrap_or_else(next_seed));
        let mut progress = Progress::new(verbose, steps);
        self.history = History::default();
        let mut history = History::default();
        display::clear_interrupt();

        for epoch in 0..epochs {
            progress.epoch_begin(epoch + 1, epochs);
            if shuffle {
                rng.shuffle(&mut order);
            }
            let mut loss_sum = 0.0f64;
            metric_sums.iter_mut().for_each(|m| *m = 0.0);
            for step in 0..steps {
                let rows = &order[step * bs..((step + 1) * bs).min(n_train)];
                let n = rows.len();
                gather(train_x, rows, &mut ws.x);
                gather(train_y, rows, &mut ws.y);
                ws.forward_gathered(&self.layers, n);
                let batch_loss = ws.backward(&mut self.layers, loss, n);
                let mean = (batch_loss / n as f64) as f32;
                if !mean.is_finite() {
                    return Err(Error::NonFinite { epoch: epoch + 1, batch: step + 1, value: mean });
                }
                loss_sum += batch_loss;
                for (sum, k) in metric_sums.iter_mut().zip(kinds) {
                    *sum += k.sum(ws.output(n), ws.y.slice(s![..n, ..]));
                }
                self.apply_gradients();
                if display::take_interrupt() {
                    return Err(Error::Interrupted { op: "fit", epoch: epoch + 1, batch: step + 1 });
                }
                if verbose > 0 {
                    let seen = (step * bs + n) as f64;
                    values.clear();
                    for (name, idx) in &shown {
                        values.push((name, idx.map_or(loss_sum, |i| metric_sums[i]) / seen));
                    }
                    if step + 1 < steps {
                        progress.update(step + 1, &values, false);
                    }
                }
            }
            let mut logs: Vec<(String, f64)> = vec![("loss".into(), loss_sum / n_train as f64)];
            logs.extend(metrics.iter().zip(&metric_sums).map(|(m, s)| (m.name.clone(), s / n_train as f64)));
            if let Some((vx, vy)) = val {
                let v = self.evaluate_views(vx, vy, val_bs.min(vx.nrows()), None, "fit (validation)")?;
                logs.extend(v.into_iter().map(|(k, v)| (format!("val_{k}"), v)));
            }
            logs.sort_by(|a, b| a.0.cmp(&b.0));
            if verbose > 0 {
                let shown: Vec<(&str, f64)> = logs.iter().map(|(k, v)| (k.as_str(), *v)).collect();
                progress.update(steps, &shown, true);
            }
            history.push(epoch, logs.iter().cloned());
            self.history.push(epoch, logs);
            if let Some(live) = live {
                live.epoch_end(&history);
            }
        }
        Ok(history)
    }

    /// One optimizer step on every parameter, from the gradients left by the backward pass.
    fn apply_gradients(&mut self) {
        let Sequential { layers, compiled, .. } = self;
        let c = compiled.as_mut().expect("fit checked compile");
        c.iterations += 1;
        let t = c.iterations;
        let n_params: usize = layers.iter().map(|l| 1 + l.use_bias as usize).sum();
        if c.state.len() != n_params {
            c.state = vec![ParamState::default(); n_params];
        }
        let mut states = c.state.iter_mut();
        for l in layers.iter_mut() {
            let (k, kg) =
                (l.kernel.as_slice_mut().expect("owned, standard layout"), l.kernel_grad.as_slice().expect("owned"));
            c.optimizer.update(k, kg, states.next().expect("sized above"), t);
            if l.use_bias {
                let (b, bg) = (l.bias.as_slice_mut().expect("owned"), l.bias_grad.as_slice().expect("owned"));
                c.optimizer.update(b, bg, states.next().expect("sized above"), t);
            }
        }
    }
}

/// Batches of more values than this are gathered by two threads (see [`gather`]).
const PARALLEL_GATHER: usize = 1 << 15;

/// Whether [`gather`] splits a batch of `rows` rows of `cols` values between two threads.
fn gathers_in_parallel(rows: usize, cols: usize) -> bool {
    rows * cols > PARALLEL_GATHER && rows > 1 && rayon::current_num_threads() > 1
}

/// Copies rows `rows` of `src` into the first rows of `dst`.
///
/// Rows chosen at random from a large training set come from memory, not cache: a batch of 128
/// MNIST rows (400 KB) took about 0.1 ms on one thread, 6 % of an MLP step on two cores, so a
/// batch of more than `PARALLEL_GATHER` values is copied by two threads, each its own rows.
fn gather(src: ArrayView2<f32>, rows: &[usize], dst: &mut ndarray::Array2<f32>) {
    fn copy(src: ArrayView2<f32>, rows: &[usize], mut dst: ndarray::ArrayViewMut2<f32>) {
        for (i, &r) in rows.iter().enumerate() {
            dst.row_mut(i).assign(&src.row(r));
        }
    }
    let dst = dst.slice_mut(s![..rows.len(), ..]);
    if gathers_in_parallel(rows.len(), src.ncols()) {
        let half = rows.len() / 2;
        let (top, bottom) = dst.split_at(Axis(0), half);
        rayon::join(|| copy(src, &rows[..half], top), || copy(src, &rows[half..], bottom));
    } else {
        copy(src, rows, dst);
    }
}
