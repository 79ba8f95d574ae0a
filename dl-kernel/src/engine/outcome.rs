//! How a cell ended, decided from three signals:
//! - a compile error: evcxr returns it;
//! - a panic: dl-core's panic hook (installed by the preload through `kernel_init`) sends a
//!   `CellMessage::Panic`, because evcxr catches the panic and reports success;
//! - an error returned through `?`: evcxr prints it to stderr and drops the variables the cell
//!   defined. The engine adds `let __dl_ok: u8 = 0;` in front of the cell's first line of code;
//!   when that variable is missing afterwards, the cell ended early. Columns on that line are
//!   shifted back in error messages, so users never see it.

use dl_core::kernel_protocol::MimeBundle;
use std::time::{Duration, Instant};

const SENTINEL: &str = "let __dl_ok: u8 = 0; ";
/// The variable whose absence after a cell says that the cell ended early.
pub(crate) const SENTINEL_VAR: &str = "__dl_ok";

/// How a cell ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Ran to the end.
    Ok,
    /// Failed: Jupyter's `ename`, `evalue`, `traceback`.
    Error { ename: String, evalue: String, traceback: Vec<String> },
}

/// What a cell produced besides its streamed events.
#[derive(Debug, Clone)]
pub struct CellResult {
    pub outcome: Outcome,
    /// The cell's value, if it had one (`execute_result`).
    pub value: MimeBundle,
}

/// The last burst of stderr lines: lines that arrive within [`StderrBurst::GAP`] of each other.
/// A `?` error is printed at once, after anything the cell printed earlier. Lines on stdout are
/// no boundary: they come through another pipe and thread, and arrive before or after the
/// stderr lines printed around them.
#[derive(Default)]
pub(super) struct StderrBurst {
    pub(super) lines: Vec<String>,
    last: Option<Instant>,
    /// The fence came through: the cell's stderr has all arrived.
    pub(super) complete: bool,
}

impl StderrBurst {
    const GAP: Duration = Duration::from_millis(250);

    pub(super) fn push(&mut self, line: String) {
        let now = Instant::now();
        if self.last.is_some_and(|t| now.duration_since(t) > Self::GAP) {
            self.lines.clear();
        }
        self.last = Some(now);
        self.lines.push(line);
    }
}

/// The cell with the sentinel in front of its first line of code (not a command, comment or
/// blank line), and that line's 1-based number. A cell can only end early through `?`, `return`
/// or a macro that expands to one (`bail!`, `ensure!`); a cell with none of these words is left
/// as it is, because the sentinel is a variable that evcxr stores and rust-analyzer types in
/// every cell: about 0.1 s on a cell like `y * 2` (measured with `dl-kernel run`).
pub(super) fn with_sentinel(code: &str) -> (String, Option<usize>) {
    if !["?", "return", "bail!", "ensure!"].iter().any(|w| code.contains(w)) {
        return (code.to_string(), None);
    }
    let mut out = String::with_capacity(code.len() + SENTINEL.len());
    let mut placed = None;
    for (i, line) in code.split_inclusive('\n').enumerate() {
        let t = line.trim_start();
        if placed.is_none() && !t.is_empty() && !t.starts_with(':') && !t.starts_with("//") && !t.starts_with("#!") {
            let indent = line.len() - t.len();
            out.push_str(&line[..indent]);
            out.push_str(SENTINEL);
            out.push_str(t);
            placed = Some(i + 1);
        } else {
            out.push_str(line);
        }
    }
    (out, placed)
}

/// Removes the sentinel's width from `line:col` positions on its line, and the sentinel's text
/// from quoted source, in a rendered message.
pub(super) fn unshift_columns(text: &str, line: usize) -> String {
    let w = SENTINEL.len();
    let text = text.replace(SENTINEL, "");
    let key = format!("cell:{line}:");
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find(&key) {
        out.push_str(&rest[..i + key.len()]);
        rest = &rest[i + key.len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(col) = digits.parse::<usize>() {
            out.push_str(&col.saturating_sub(w).max(1).to_string());
            rest = &rest[digits.len()..];
        }
    }
    out.push_str(rest);
    out
}

pub(super) fn classify(
    result: Result<evcxr::EvalOutputs, evcxr::Error>,
    panic: Option<(String, String)>,
) -> CellResult {
    let error = |ename: &str, evalue: String, traceback: Vec<String>| Outcome::Error {
        ename: ename.to_string(),
        evalue,
        traceback,
    };
    match result {
        Ok(out) => {
            let value: MimeBundle = out.content_by_mime_type.into_iter().collect();
            let outcome = match panic {
                Some((msg, loc)) => {
                    let ename = if msg.starts_with("KeyboardInterrupt") { "KeyboardInterrupt" } else { "panic" };
                    let evalue = msg.strip_prefix("KeyboardInterrupt: ").unwrap_or(&msg).to_string();
                    // `src/lib.rs` is the crate evcxr generates from the cell: no use to the reader.
                    let at = if loc.starts_with("src/lib.rs") { "the cell".to_string() } else { loc };
                    error(ename, evalue, vec![format!("thread 'main' panicked in {at}:"), msg])
                }
                None => Outcome::Ok,
            };
            CellResult { outcome, value }
        }
        Err(evcxr::Error::CompilationErrors(errors)) => {
            let mut traceback = Vec::new();
            for e in &errors {
                traceback.extend(render_compile_error(e));
            }
            let first = errors.first().map(|e| e.message()).unwrap_or_else(|| "compilation failed".into());
            let evalue =
                if errors.len() > 1 { format!("{first} (and {} more errors)", errors.len() - 1) } else { first };
            CellResult { outcome: error("CompileError", evalue, traceback), value: MimeBundle::new() }
        }
        Err(e) => {
            let msg = e.to_string();
            CellResult {
                outcome: error("EvcxrError", msg.clone(), msg.lines().map(str::to_string).collect()),
                value: MimeBundle::new(),
            }
        }
    }
}

/// The outcome of a cell that returned early through `?`: the error evcxr printed.
pub(crate) fn early_return(stderr_tail: &[String]) -> Outcome {
    let text = stderr_tail.join("\n");
    let (ename, evalue) = match text.strip_prefix("KeyboardInterrupt: ") {
        Some(rest) => ("KeyboardInterrupt", rest.to_string()),
        None => {
            ("Error", if text.is_empty() { "the cell returned an error through `?`".to_string() } else { text.clone() })
        }
    };
    Outcome::Error { ename: ename.into(), evalue, traceback: stderr_tail.to_vec() }
}

/// A compile error as rustc shows it: `error[E0425]: ...`, ` --> cell:2:5`, the source line and
/// a caret under the span, then help notes.
fn render_compile_error(e: &evcxr::CompilationError) -> Vec<String> {
    let mut out = vec![match e.code() {
        Some(code) => format!("error[{code}]: {}", e.message()),
        None => format!("error: {}", e.message()),
    }];
    if !e.is_from_user_code() {
        out.extend(e.rendered().lines().map(str::to_string));
        return out;
    }
    for m in e.spanned_messages() {
        let Some(span) = &m.span else {
            if !m.label.is_empty() {
                out.push(format!("  = note: {}", m.label));
            }
            continue;
        };
        let num = span.start_line.to_string();
        let pad = " ".repeat(num.len());
        out.push(format!("{pad}--> cell:{}:{}", span.start_line, span.start_column));
        out.push(format!("{pad} |"));
        if let Some(src) = m.lines.first() {
            out.push(format!("{num} | {src}"));
            let width = if span.end_line == span.start_line {
                span.end_column.saturating_sub(span.start_column).max(1)
            } else {
                1
            };
            out.push(format!(
                "{pad} | {}{} {}",
                " ".repeat(span.start_column.saturating_sub(1)),
                "^".repeat(width),
                m.label
            ));
        }
    }
    for h in e.help() {
        out.push(format!("  = help: {h}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_cells_that_can_end_early_get_the_sentinel() {
        assert_eq!(with_sentinel("y * 2"), ("y * 2".to_string(), None));
        assert_eq!(with_sentinel("let v = vec![1, 2];\nprintln!(\"{v:?}\");").1, Some(1));
        assert_eq!(
            with_sentinel(":dep foo = \"1\"\n// load\nlet x = f()?;"),
            (":dep foo = \"1\"\n// load\nlet __dl_ok: u8 = 0; let x = f()?;".to_string(), Some(3))
        );
        assert_eq!(with_sentinel("if bad { return Err(e.into()); }").1, Some(1));
        assert_eq!(with_sentinel("    anyhow::bail!(\"no\")").0, "    let __dl_ok: u8 = 0; anyhow::bail!(\"no\")");
    }
}
