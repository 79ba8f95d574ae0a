//! `History`, what `fit` returns: per-epoch loss and metrics under Keras's keys (`loss`, the
//! metric names as given, `val_` versions), sorted by name as Keras sorts them.

use crate::display::{self, MimeBundle};
use crate::error::{Error, Result};
use crate::plot::{fmt::CYCLE, Figure};
use std::collections::BTreeMap;
use std::fmt;

/// Per-epoch values recorded by `fit` (Keras's `History`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// 0-based epoch numbers, as Keras's `history.epoch`.
    pub epoch: Vec<usize>,
    /// `history.history`: one value per epoch for each key, keys in Keras's sorted order.
    pub history: BTreeMap<String, Vec<f64>>,
}

impl History {
    /// The values for `key` (e.g. `"loss"`, `"val_mse"`).
    ///
    /// # Errors
    /// When there is no such key; the message lists the keys present.
    pub fn get(&self, key: &str) -> Result<&[f64]> {
        self.history
            .get(key)
            .map(Vec::as_slice)
            .ok_or_else(|| Error::invalid("History::get", format!("no key {key:?}; the keys are {:?}", self.keys())))
    }

    /// The last value of `key` (Keras's `history.history["val_mae"][-1]`).
    ///
    /// ```
    /// # use dl_core::History;
    /// let mut h = History::default();
    /// h.history.insert("loss".into(), vec![0.9, 0.4]);
    /// assert_eq!(h.last("loss")?, 0.4);
    /// assert!(h.last("val_loss").is_err());
    /// # Ok::<(), dl_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// When there is no such key (the message lists the keys present), or no epoch yet.
    pub fn last(&self, key: &str) -> Result<f64> {
        self.get(key)?
            .last()
            .copied()
            .ok_or_else(|| Error::invalid("History::last", format!("{key:?} has no epochs yet")))
    }

    /// The keys, in order.
    pub fn keys(&self) -> Vec<&str> {
        self.history.keys().map(String::as_str).collect()
    }

    /// Appends the values of one epoch.
    pub(crate) fn push(&mut self, epoch: usize, values: impl IntoIterator<Item = (String, f64)>) {
        self.epoch.push(epoch);
        for (k, v) in values {
            self.history.entry(k).or_default().push(v);
        }
    }

    /// A text table: one row per epoch, one column per key.
    pub fn to_table(&self) -> String {
        let keys = self.keys();
        let mut out = String::from("epoch");
        for k in &keys {
            out.push_str(&format!("  {k:>12}"));
        }
        for (row, e) in self.epoch.iter().enumerate() {
            out.push_str(&format!("\n{:>5}", e + 1));
            for k in &keys {
                out.push_str(&format!("  {:>12.6}", self.history[*k][row]));
            }
        }
        out
    }

    /// Shows the history as a cell's value in evcxr/dl-kernel: its table and a plot of every
    /// curve (`val_*` dashed beside its training curve).
    pub fn evcxr_display(&self) {
        display::evcxr_send(&self.bundle());
    }

    /// The history as rich output: the plot (in the session's figure format), the table as its
    /// text fallback.
    pub(crate) fn bundle(&self) -> MimeBundle {
        let mut data = MimeBundle::new();
        data.insert("text/plain".into(), self.to_table());
        if let Ok(figure) = self.plot().and_then(|f| f.mime_bundle()) {
            data.extend(figure.into_iter().filter(|(mime, _)| mime != "text/plain"));
        }
        data
    }
}

impl History {
    /// Loss and metrics per epoch as a figure: one subplot per quantity, each `val_` curve dashed
    /// beside its training curve in the same colour.
    ///
    /// # Errors
    /// An empty history.
    pub fn plot(&self) -> Result<Figure> {
        let bases: Vec<&str> = self.history.keys().filter(|k| !k.starts_with("val_")).map(String::as_str).collect();
        if bases.is_empty() || self.epoch.is_empty() {
            return Err(Error::plot("History::plot", "the history is empty; fit the model first"));
        }
        let mut fig = Figure::new();
        let n = bases.len();
        fig.figsize(5.0 * n as f64, 3.8);
        let epochs: Vec<f64> = self.epoch.iter().map(|e| (e + 1) as f64).collect();
        for (i, base) in bases.iter().enumerate() {
            fig.subplot(1, n, i + 1)?;
            let color = CYCLE[i % CYCLE.len()];
            fig.plot(&epochs, self.get(base)?, "-")?.color(color).label(format!("train {base}"));
            if let Ok(v) = self.get(&format!("val_{base}")) {
                fig.plot(&epochs, v, "--")?.color(color).label(format!("val {base}"));
            }
            fig.title(*base).xlabel("epoch").legend();
        }
        fig.subplot(1, n, 1)?;
        Ok(fig)
    }
}

impl std::ops::Index<&str> for History {
    type Output = [f64];
    /// `history["loss"]`.
    ///
    /// # Panics
    /// When the key is missing (use [`History::get`] for a `Result`).
    fn index(&self, key: &str) -> &[f64] {
        match self.get(key) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }
}

impl fmt::Display for History {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_table())
    }
}
