//! Metrics, reported by `fit` and `evaluate` as the mean of per-sample values over all rows seen
//! (Keras's running `Mean`). Per sample, for an output row `a` of width `u` and target `y`:
//!
//! | metric | per-sample value |
//! |---|---|
//! | `mse` | `mean_j (a_j − y_j)²` |
//! | `mae` | `mean_j abs(a_j − y_j)` |
//! | `binary_accuracy` | `mean_j [(a_j > 0.5) == y_j]` (strictly greater: 0.5 counts as class 0) |
//! | `sparse_categorical_accuracy` | `[argmax a == y]` for an integer label `y` |
//! | `categorical_accuracy` | `[argmax a == argmax y]` |
//!
//! `"accuracy"`/`"acc"` pick one of the three accuracies from the shapes, as Keras does: binary
//! for a 1-wide output, sparse when the target has one column and the output more, categorical
//! otherwise. The history key stays the name the user gave.

use crate::error::{Error, Result};
use ndarray::ArrayView2;

/// What a metric computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// Mean squared error.
    MeanSquaredError,
    /// Mean absolute error.
    MeanAbsoluteError,
    /// `"accuracy"`: one of the accuracies below, chosen from the shapes.
    Accuracy,
    /// Threshold 0.5.
    BinaryAccuracy,
    /// argmax against an integer label.
    SparseCategoricalAccuracy,
    /// argmax against argmax of a one-hot target.
    CategoricalAccuracy,
}

/// A metric with the name it is reported under.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Metric {
    /// The history key: exactly the string given to `compile`.
    pub name: String,
    /// What it computes.
    pub kind: MetricKind,
}

impl Metric {
    /// Parses a Keras metric name.
    ///
    /// # Errors
    /// For a name Keras would not know (or dl-core does not implement).
    pub fn parse(name: &str) -> Result<Metric> {
        let kind = match name {
            "mse" | "mean_squared_error" => MetricKind::MeanSquaredError,
            "mae" | "mean_absolute_error" => MetricKind::MeanAbsoluteError,
            "accuracy" | "acc" => MetricKind::Accuracy,
            "binary_accuracy" => MetricKind::BinaryAccuracy,
            "sparse_categorical_accuracy" => MetricKind::SparseCategoricalAccuracy,
            "categorical_accuracy" => MetricKind::CategoricalAccuracy,
            other => {
                return Err(Error::invalid(
                    "compile",
                    format!(
                        "unknown metric {other:?}; use mse, mae, accuracy (acc), binary_accuracy, \
                         categorical_accuracy or sparse_categorical_accuracy"
                    ),
                ))
            }
        };
        Ok(Metric { name: name.to_string(), kind })
    }

    /// The concrete computation for an output of `units` and targets of `target_width` columns.
    pub(crate) fn resolve(&self, units: usize, target_width: usize) -> MetricKind {
        match self.kind {
            MetricKind::Accuracy if units == 1 => MetricKind::BinaryAccuracy,
            MetricKind::Accuracy if target_width == 1 => MetricKind::SparseCategoricalAccuracy,
            MetricKind::Accuracy => MetricKind::CategoricalAccuracy,
            k => k,
        }
    }
}

impl MetricKind {
    /// Sum of per-sample values over the rows of `a` (outputs) and `y` (targets).
    pub(crate) fn sum(self, a: ArrayView2<f32>, y: ArrayView2<f32>) -> f64 {
        let u = a.ncols() as f64;
        a.rows()
            .into_iter()
            .zip(y.rows())
            .map(|(ar, yr)| match self {
                MetricKind::MeanSquaredError => {
                    ar.iter().zip(&yr).map(|(a, y)| ((a - y) * (a - y)) as f64).sum::<f64>() / u
                }
                MetricKind::MeanAbsoluteError => ar.iter().zip(&yr).map(|(a, y)| (a - y).abs() as f64).sum::<f64>() / u,
                MetricKind::BinaryAccuracy => {
                    ar.iter().zip(&yr).filter(|(&a, &y)| (if a > 0.5 { 1.0 } else { 0.0 }) == y).count() as f64 / u
                }
                MetricKind::SparseCategoricalAccuracy => (argmax(ar.iter()) as f32 == yr[0]) as u8 as f64,
                MetricKind::CategoricalAccuracy => (argmax(ar.iter()) == argmax(yr.iter())) as u8 as f64,
                MetricKind::Accuracy => unreachable!("resolved before use"),
            })
            .sum()
    }
}

fn argmax<'a>(v: impl Iterator<Item = &'a f32>) -> usize {
    let mut best = (0, f32::NEG_INFINITY);
    for (i, &x) in v.enumerate() {
        if x > best.1 {
            best = (i, x);
        }
    }
    best.0
}
