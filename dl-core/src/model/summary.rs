//! `model.summary()` laid out exactly as Keras 3 prints it through `rich`:
//!
//! ```text
//! Model: "sequential"
//! ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
//! ┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
//! ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
//! │ dense (Dense)                   │ (None, 1)              │            14 │
//! └─────────────────────────────────┴────────────────────────┴───────────────┘
//!  Total params: 14 (56.00 B)
//!  Trainable params: 14 (56.00 B)
//!  Non-trainable params: 0 (0.00 B)
//! ```
//!
//! Column widths follow Keras (`positions = [0.45, 0.80, 1.0]` of `line_length`, plus one space
//! of padding each side) and rich's last-resort shrinking (`ratio_reduce` with equal ratios and
//! Python's half-to-even rounding) down to `line_length − 4` for the borders. The default
//! `line_length` is `min(88, columns − 4)`, i.e. 76 without a terminal, as in a notebook.

use super::sequential::Sequential;
use crate::optim::Optimizer;

impl Sequential {
    /// Prints the summary table (Keras's `model.summary()`).
    pub fn summary(&self) {
        println!("{}", self.summary_string(None));
    }

    /// The summary text for `line_length` columns (`None`: Keras's default for this terminal).
    pub fn summary_string(&self, line_length: Option<usize>) -> String {
        let columns = std::env::var("COLUMNS").ok().and_then(|c| c.parse::<usize>().ok()).unwrap_or(80);
        let width = line_length.unwrap_or_else(|| 88.min(columns.saturating_sub(4))).max(20);
        let widths = column_widths(width);
        let mut out = format!("Model: \"{}\"\n", self.name);
        let rule = |l: char, m: char, r: char, h: char| {
            let mut s = String::new();
            s.push(l);
            for (i, w) in widths.iter().enumerate() {
                s.extend(std::iter::repeat_n(h, *w));
                s.push(if i + 1 < widths.len() { m } else { r });
            }
            s.push('\n');
            s
        };
        let row = |cells: [&str; 3], bar: char| {
            let mut s = String::new();
            s.push(bar);
            for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
                let inner = w - 2;
                let text: String = if cell.chars().count() > inner {
                    cell.chars().take(inner.saturating_sub(1)).chain(std::iter::once('…')).collect()
                } else {
                    cell.to_string()
                };
                if i == 2 {
                    s.push_str(&format!(" {text:>inner$} "));
                } else {
                    s.push_str(&format!(" {text:<inner$} "));
                }
                s.push(bar);
            }
            s.push('\n');
            s
        };
        out += &rule('┏', '┳', '┓', '━');
        out += &row(["Layer (type)", "Output Shape", "Param #"], '┃');
        out += &rule('┡', '╇', '┩', '━');
        for (i, l) in self.layers.iter().enumerate() {
            if i > 0 {
                out += &rule('├', '┼', '┤', '─');
            }
            let name = format!("{} (Dense)", l.name);
            let (shape, params) = if l.built {
                (format!("(None, {})", l.units), thousands(l.param_count()))
            } else {
                ("?".to_string(), "0 (unbuilt)".to_string())
            };
            out += &row([&name, &shape, &params], '│');
        }
        out += &rule('└', '┴', '┘', '─');
        let total = self.count_params();
        out += &format!(" Total params: {} ({})\n", thousands(total), memory(total * 4));
        out += &format!(" Trainable params: {} ({})\n", thousands(total), memory(total * 4));
        out += " Non-trainable params: 0 (0.00 B)\n";
        if let Some(c) = self.compiled.as_ref().filter(|c| !c.state.is_empty()) {
            // Keras counts `iterations` (int64) and `learning_rate` (float32) plus slot variables.
            let slots = match &c.optimizer {
                Optimizer::Sgd(o) => (o.momentum != 0.0) as usize,
                Optimizer::RmsProp(o) => 1 + (o.momentum > 0.0) as usize + o.centered as usize,
                Optimizer::Adam(o) => 2 + o.amsgrad as usize,
            };
            let n = 2 + slots * total;
            out += &format!(" Optimizer params: {} ({})\n", thousands(n), memory(12 + slots * total * 4));
        }
        out
    }
}

/// Widths of the three columns including their padding.
fn column_widths(line_length: usize) -> Vec<usize> {
    let positions = [0.45, 0.80, 1.0];
    let mut widths = Vec::new();
    let mut current = 0usize;
    for p in positions {
        let w = (p * line_length as f64) as usize - current;
        widths.push(w + 2);
        current += w;
    }
    // rich: reduce evenly (ratios 1, 1, 1) until the table fits between its 4 border characters.
    let mut excess = widths.iter().sum::<usize>().saturating_sub(line_length - 4) as f64;
    let mut total_ratio = widths.len() as f64;
    for w in &mut widths {
        let d = (excess / total_ratio).round_ties_even().min(*w as f64);
        *w -= d as usize;
        excess -= d;
        total_ratio -= 1.0;
    }
    widths
}

/// `407050` → `"407,050"`.
pub(crate) fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Keras's `readable_memory_size`: powers of 1024, two decimals.
fn memory(bytes: usize) -> String {
    let mut v = bytes as f64;
    for unit in ["B", "KB", "MB", "GB", "TB"] {
        if v / 1024.0 < 1.0 {
            return format!("{v:.2} {unit}");
        }
        v /= 1024.0;
    }
    format!("{v:.2} PB")
}
