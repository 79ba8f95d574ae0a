//! Keras's progress output for `fit`, `evaluate` and `predict`:
//!
//! ```text
//! Epoch 3/10
//! 938/938 ━━━━━━━━━━━━━━━━━━━━ 1s 1ms/step - loss: 0.1234 - mse: 0.1234
//! ```
//!
//! `verbose = 1` shows a bar that moves during the epoch: in dl-kernel one output that is
//! updated in place (at most ten times a second, and the notebook keeps only its final text),
//! in a terminal a line redrawn with `\r`, elsewhere just the final line of each epoch.
//! `verbose = 2` prints one line per epoch: `938/938 - 1s - 1ms/step - loss: 0.1234`.
//! Lines are written into reused buffers, so a running bar does not allocate per batch.

use crate::display::{self, MimeBundle};
use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::time::{Duration, Instant};

const WIDTH: usize = 20;
const REFRESH: Duration = Duration::from_millis(100);

enum Mode {
    Kernel { id: String, bundle: MimeBundle },
    Terminal,
    Plain,
}

/// A progress display for one `fit` (several epochs) or one `evaluate`/`predict` call.
pub(crate) struct Progress {
    verbose: u8,
    mode: Mode,
    steps: usize,
    start: Instant,
    last_draw: Option<Instant>,
    /// Finished lines (kernel mode shows them all in one output).
    log: String,
    line: String,
}

impl Progress {
    /// `verbose`: 0 silent, 1 bar, 2 one line per epoch.
    pub(crate) fn new(verbose: u8, steps: usize) -> Self {
        let mode = if display::in_kernel() && verbose == 1 {
            Mode::Kernel { id: display::new_display_id(), bundle: MimeBundle::new() }
        } else if std::io::stdout().is_terminal() {
            Mode::Terminal
        } else {
            Mode::Plain
        };
        Progress {
            verbose,
            mode,
            steps,
            start: Instant::now(),
            last_draw: None,
            log: String::with_capacity(4096),
            line: String::with_capacity(256),
        }
    }

    /// `Epoch i/n` before an epoch's bar.
    pub(crate) fn epoch_begin(&mut self, epoch: usize, epochs: usize) {
        self.start = Instant::now();
        self.last_draw = None;
        if self.verbose == 0 {
            return;
        }
        let header = format!("Epoch {epoch}/{epochs}");
        match &self.mode {
            Mode::Kernel { .. } => {
                self.log.push_str(&header);
                self.log.push('\n');
            }
            _ => println!("{header}"),
        }
    }

    /// After `step` of `steps` batches, with the running values. `last` draws the final line.
    pub(crate) fn update(&mut self, step: usize, values: &[(&str, f64)], last: bool) {
        if self.verbose == 0 || (self.verbose == 2 && !last) {
            return;
        }
        let now = Instant::now();
        if !last && self.last_draw.is_some_and(|t| now - t < REFRESH) {
            return;
        }
        if !last && matches!(self.mode, Mode::Plain) {
            return;
        }
        self.last_draw = Some(now);
        self.format_line(step, values, last, now - self.start);
        match &mut self.mode {
            Mode::Kernel { id, bundle } => {
                let first = bundle.is_empty();
                let text = bundle.entry("text/plain".to_string()).or_default();
                text.clear();
                text.push_str(&self.log);
                text.push_str(&self.line);
                if first {
                    display::display(bundle, Some(id));
                } else {
                    display::update_display(bundle, id);
                }
                if last {
                    self.log.push_str(&self.line);
                    self.log.push('\n');
                }
            }
            Mode::Terminal => {
                let mut out = std::io::stdout().lock();
                let _ = write!(out, "\r{}\x1b[K{}", self.line, if last { "\n" } else { "" });
                let _ = out.flush();
            }
            Mode::Plain => println!("{}", self.line),
        }
    }

    fn format_line(&mut self, step: usize, values: &[(&str, f64)], last: bool, elapsed: Duration) {
        let l = &mut self.line;
        l.clear();
        let digits = self.steps.max(1).ilog10() as usize + 1;
        let per_step = elapsed.as_secs_f64() / step.max(1) as f64;
        if self.verbose == 2 {
            let _ = write!(
                l,
                "{step:>digits$}/{} - {:.0}s - {}/step",
                self.steps,
                elapsed.as_secs_f64(),
                fmt_unit(per_step)
            );
        } else {
            let filled = (WIDTH * step) / self.steps.max(1);
            let _ = write!(l, "{step:>digits$}/{} ", self.steps);
            (0..WIDTH).for_each(|i| l.push(if i < filled { '━' } else { '─' }));
            if last {
                let _ = write!(l, " {:.0}s {}/step", elapsed.as_secs_f64(), fmt_unit(per_step));
            } else {
                let eta = per_step * (self.steps - step) as f64;
                l.push(' ');
                fmt_eta(l, eta);
                let _ = write!(l, " {}/step", fmt_unit(per_step));
            }
        }
        for (name, v) in values {
            let _ = write!(l, " - {name}: ");
            fmt_value(l, *v);
        }
    }
}

/// Keras: `{:.4f}` when `abs(v) > 1e-3`, else `{:.4e}` with a two-digit signed exponent.
pub(crate) fn fmt_value(out: &mut String, v: f64) {
    if v.abs() > 1e-3 || !v.is_finite() {
        let _ = write!(out, "{v:.4}");
    } else {
        let s = format!("{v:.4e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let e: i32 = exp.parse().unwrap_or(0);
        let _ = write!(out, "{mant}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
    }
}

struct Unit(f64);

fn fmt_unit(seconds: f64) -> Unit {
    Unit(seconds)
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.0;
        if s >= 1.0 || s == 0.0 {
            write!(f, "{s:.0}s")
        } else if s >= 1e-3 {
            write!(f, "{:.0}ms", s * 1e3)
        } else {
            write!(f, "{:.0}us", s * 1e6)
        }
    }
}

fn fmt_eta(out: &mut String, eta: f64) {
    let e = eta.max(0.0) as u64;
    let _ = if e > 3600 {
        write!(out, "{}:{:02}:{:02}", e / 3600, (e % 3600) / 60, e % 60)
    } else if e > 60 {
        write!(out, "{}:{:02}", e / 60, e % 60)
    } else {
        write!(out, "{e}s")
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_formatted_like_keras() {
        let mut s = String::new();
        fmt_value(&mut s, 0.12345);
        s.push(' ');
        fmt_value(&mut s, 0.000123456);
        s.push(' ');
        fmt_value(&mut s, 0.0);
        assert_eq!(s, "0.1235 1.2346e-04 0.0000e+00");
    }

    #[test]
    fn final_line_has_the_keras_layout() {
        let mut p = Progress::new(1, 938);
        p.format_line(938, &[("loss", 0.1234), ("mse", 0.1234)], true, Duration::from_millis(1200));
        assert_eq!(p.line, format!("938/938 {} 1s 1ms/step - loss: 0.1234 - mse: 0.1234", "━".repeat(20)));
        p.format_line(469, &[], false, Duration::from_secs(94));
        assert!(
            p.line.starts_with(&format!("469/938 {}{} 1:34 200ms/step", "━".repeat(10), "─".repeat(10))),
            "{}",
            p.line
        );
    }
}
