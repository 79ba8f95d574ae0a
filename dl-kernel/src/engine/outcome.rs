//! How a cell ended, decided from three signals:
//! - a compile error: evcxr returns it;
//! - a panic: dl-core's panic hook (installed by the preload through `kernel_init`) sends a
//!   `CellMessage::Panic`, because evcxr catches the panic and reports success;
//! - an error returned through `?`: evcxr prints it to stderr and drops the variables the cell
//!   defined. The engine adds `let __dl_ok: u8 = 0;` in front of the cell's first line of code;
//!   when that variable is missing afterwards, the cell ended early. Columns on that line are
//!   shifted back in error messages, so users never see it.

use super::diagnostic::{self, BLUE, RED, RESET};
use super::panic_site::PanicSite;
use dl_core::kernel_protocol::{MimeBundle, INTERRUPT_KEEPS_WEIGHTS};
use std::time::{Duration, Instant};

const SENTINEL: &str = "let __dl_ok: u8 = 0; ";
/// How many columns the sentinel shifts its line by.
pub(super) const SENTINEL_WIDTH: usize = SENTINEL.len();
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

    /// A dying process's last words start a burst that nothing ends: the backtrace after them
    /// can take longer than the gap to be symbolised, and the death is read from the first line.
    pub(super) fn push(&mut self, line: String) {
        let now = Instant::now();
        let dying = self.lines.first().is_some_and(|l| super::death::is_last_words(l));
        if !dying
            && (self.last.is_some_and(|t| now.duration_since(t) > Self::GAP) || super::death::is_last_words(&line))
        {
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

/// Where the errors of a failed compile point: the line and column of each error's primary span
/// in the compiled code (warnings left out).
pub(super) fn error_spans(result: &Result<evcxr::EvalOutputs, evcxr::Error>) -> Vec<(usize, usize)> {
    let Err(evcxr::Error::CompilationErrors(errors)) = result else { return Vec::new() };
    errors
        .iter()
        .filter(|e| e.level() == "error")
        .filter_map(|e| e.primary_spanned_message()?.span.as_ref().map(|s| (s.start_line, s.start_column)))
        .collect()
}

/// The outcome and value of a cell from what evcxr returned, the panic dl-core reported, and the
/// line the sentinel was put on (see [`with_sentinel`]).
pub(super) fn classify(
    result: Result<evcxr::EvalOutputs, evcxr::Error>,
    panic: Option<(String, String, Option<PanicSite>)>,
    sentinel: Option<usize>,
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
                Some((msg, loc, site)) => {
                    let ename = if msg.starts_with("KeyboardInterrupt") { "KeyboardInterrupt" } else { "panic" };
                    let evalue = msg.strip_prefix("KeyboardInterrupt: ").unwrap_or(&msg).to_string();
                    error(ename, evalue.clone(), panic_traceback(ename, &evalue, &loc, site, sentinel))
                }
                None => Outcome::Ok,
            };
            CellResult { outcome, value }
        }
        Err(evcxr::Error::CompilationErrors(all)) => {
            let inserted = sentinel.map(|line| diagnostic::Inserted { line, text: SENTINEL });
            let errors = diagnostic::errors(&all);
            let (evalue, shown): (String, Vec<&evcxr::CompilationError>) = match errors.first() {
                Some(first) if errors.len() > 1 => {
                    (format!("{} (and {} more errors)", first.message(), errors.len() - 1), errors.clone())
                }
                Some(first) => (first.message(), errors.clone()),
                None => (diagnostic::warnings_only_reason(&all), all.iter().collect()),
            };
            let mut traceback = Vec::new();
            if errors.is_empty() {
                traceback.push(format!("CompileError: {evalue}"));
            }
            for e in shown {
                traceback.extend(diagnostic::render(e, inserted));
            }
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

/// A panic's traceback: the message, then where it happened in the cell (the line, a caret
/// under the column), or the line of an earlier cell's function, or the place in a library.
fn panic_traceback(
    ename: &str,
    evalue: &str,
    at: &str,
    site: Option<PanicSite>,
    sentinel: Option<usize>,
) -> Vec<String> {
    let mut out = vec![format!("{RED}{ename}{RESET}: {evalue}")];
    match site {
        Some(PanicSite::Cell { line, mut column, mut text }) => {
            if Some(line) == sentinel && text.contains(SENTINEL) {
                text = text.replacen(SENTINEL, "", 1);
                column = column.saturating_sub(SENTINEL_WIDTH).max(1);
            }
            let width = line.to_string().len();
            let pad = " ".repeat(width);
            out.push(format!("{pad}{BLUE}-->{RESET} cell:{line}:{column}"));
            out.push(format!("{pad} {BLUE}|{RESET}"));
            out.push(format!("{BLUE}{line} |{RESET} {text}"));
            out.push(format!("{pad} {BLUE}|{RESET} {}{RED}^{RESET}", " ".repeat(column - 1)));
        }
        Some(PanicSite::EarlierCell { text }) => {
            out.push(format!("  {BLUE}-->{RESET} in a function of an earlier cell: {text}"))
        }
        // `src/lib.rs` is the crate evcxr generates from the cell: no use to the reader.
        None if at.starts_with("src/lib.rs") || at.is_empty() => {}
        None => out.push(format!("  {BLUE}-->{RESET} {at}")),
    }
    out
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

/// An interrupted `fit` says the model keeps what it learned, which holds for a model of an
/// earlier cell; a cell that ends early keeps none of its own `let`s, so when it had some the
/// message says which ended with it.
pub(crate) fn say_what_an_interrupt_kept(outcome: &mut Outcome, code: &str, kept: &[(String, String)]) {
    let Outcome::Error { ename, evalue, traceback } = outcome else { return };
    if ename != "KeyboardInterrupt" || !evalue.contains(INTERRUPT_KEEPS_WEIGHTS) {
        return;
    }
    let mut gone: Vec<&str> = code.lines().filter_map(let_name).filter(|n| !kept.iter().any(|(k, _)| k == n)).collect();
    gone.dedup();
    if gone.is_empty() {
        return;
    }
    let said = format!(
        "variables of earlier cells are kept (a model among them keeps the weights learned so far), but this \
         cell's own variables ended with it: {}",
        gone.join(", ")
    );
    *evalue = evalue.replace(INTERRUPT_KEEPS_WEIGHTS, &said);
    for line in traceback.iter_mut() {
        *line = line.replace(INTERRUPT_KEEPS_WEIGHTS, &said);
    }
}

/// The name a top-level `let` line binds (`let mut model = ...` -> `model`), if it binds one.
fn let_name(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("let ")?.trim_start();
    let rest = rest.strip_prefix("mut ").unwrap_or(rest).trim_start();
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
    (end > 0 && rest[..end] != *"_").then(|| &rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dying_processs_last_words_stay_first_however_slow_its_backtrace() {
        let mut b = StderrBurst::default();
        b.push("printed by the cell".into());
        b.push("Segmentation fault.".into());
        b.last = Some(Instant::now() - Duration::from_secs(2));
        b.push("   0: evcxr::runtime::segfault_handler".into());
        assert_eq!(b.lines, ["Segmentation fault.", "   0: evcxr::runtime::segfault_handler"]);
    }

    #[test]
    fn an_interrupt_names_the_variables_that_ended_with_the_cell() {
        let said = |code: &str, kept: &[&str]| {
            let mut o = Outcome::Error {
                ename: "KeyboardInterrupt".into(),
                evalue: format!("fit stopped at epoch 2, batch 3; {INTERRUPT_KEEPS_WEIGHTS}"),
                traceback: vec![],
            };
            let kept: Vec<(String, String)> = kept.iter().map(|k| (k.to_string(), "i32".into())).collect();
            say_what_an_interrupt_kept(&mut o, code, &kept);
            match o {
                Outcome::Error { evalue, .. } => evalue,
                Outcome::Ok => unreachable!(),
            }
        };
        let fresh = said(
            "let mut m = Sequential::new();\nm.compile(\"sgd\", \"mse\", &[])?;\nlet h = m.fit(&x, &y, 9, 1)?;",
            &["x"],
        );
        assert!(fresh.ends_with("this cell's own variables ended with it: m, h"), "{fresh}");
        let earlier = said("m.fit(&x, &y, 9, 1)?;", &["m", "x"]);
        assert!(earlier.ends_with(INTERRUPT_KEEPS_WEIGHTS), "{earlier}");
    }

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
