//! A loss curve that redraws in place while `fit` runs: `FitOptions { live_plot: true, .. }`.
//!
//! In dl-kernel the curve is one output, shown after the first epoch and updated in place
//! (`update_display_data`) at most twice a second, and once more when `fit` ends (also when it
//! is interrupted), so a saved notebook holds the final curve only. It shows the history of the
//! epochs so far as a cell's `History` value shows it ([`History::plot`], one subplot per
//! quantity, `val_` dashed, the table as text fallback). Outside a kernel there is nowhere to
//! draw, and the option does nothing.

use super::history::History;
use crate::display;
use std::time::{Duration, Instant};

const REFRESH: Duration = Duration::from_millis(500);

pub(crate) struct LivePlot {
    id: String,
    /// Epochs in the last drawing (0: nothing shown yet).
    drawn: usize,
    last_draw: Option<Instant>,
}

impl LivePlot {
    /// A live plot if asked for and in dl-kernel.
    pub(crate) fn new(wanted: bool) -> Option<LivePlot> {
        (wanted && display::in_kernel()).then(|| LivePlot { id: display::new_display_id(), drawn: 0, last_draw: None })
    }

    /// After an epoch: redraws unless it drew less than [`REFRESH`] ago.
    pub(crate) fn epoch_end(&mut self, history: &History) {
        if self.last_draw.is_none_or(|t| t.elapsed() >= REFRESH) {
            self.draw(history);
        }
    }

    /// When `fit` returns, however it ends: draws the epochs not drawn yet.
    pub(crate) fn finish(&mut self, history: &History) {
        if history.epoch.len() > self.drawn {
            self.draw(history);
        }
    }

    fn draw(&mut self, history: &History) {
        self.last_draw = Some(Instant::now());
        let data = history.bundle();
        if self.drawn == 0 {
            display::display(&data, Some(&self.id));
        } else {
            display::update_display(&data, &self.id);
        }
        self.drawn = history.epoch.len();
    }
}
