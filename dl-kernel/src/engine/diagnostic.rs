//! A compile error as rustc prints it, in the cell's own lines and columns: the header, one
//! `--> cell:L:C` for the primary span, each spanned source line once with every label under it
//! (`^^^` for the primary span, `---` for the others), then the notes and the help with its
//! suggestion, in rustc's colours (Jupyter renders ANSI colour in tracebacks, as IPython's are
//! coloured). Warnings are not errors: they are left out, and counted apart.

use evcxr::CompilationError;
use std::collections::BTreeMap;

pub(super) const RED: &str = "\u{1b}[1;31m";
pub(super) const BLUE: &str = "\u{1b}[1;34m";
pub(super) const BOLD: &str = "\u{1b}[1m";
pub(super) const RESET: &str = "\u{1b}[0m";

/// A label under a source line: its columns, its text, and whether it marks the primary span.
struct Label {
    start: usize,
    end: usize,
    text: String,
    primary: bool,
}

/// Code the engine put on one line of the cell (the early-return sentinel): its text and where.
#[derive(Clone, Copy)]
pub struct Inserted<'a> {
    pub line: usize,
    pub text: &'a str,
}

impl Inserted<'_> {
    /// A column as the user sees it on `line`.
    fn column(&self, line: usize, col: usize) -> usize {
        if line == self.line && col > self.text.len() {
            col - self.text.len()
        } else {
            col
        }
    }
}

/// The errors among evcxr's messages (rustc's warnings come along when a cell fails).
pub fn errors(all: &[CompilationError]) -> Vec<&CompilationError> {
    all.iter().filter(|e| e.level() == "error").collect()
}

/// The traceback lines of one error.
pub fn render(e: &CompilationError, inserted: Option<Inserted<'_>>) -> Vec<String> {
    let header = match e.code() {
        Some(code) => format!("{RED}error[{code}]{RESET}{BOLD}: {}{RESET}", e.message()),
        None => format!("{RED}error{RESET}{BOLD}: {}{RESET}", e.message()),
    };
    let mut out = vec![header];
    if !e.is_from_user_code() {
        out.extend(e.rendered().lines().map(str::to_string));
        return out;
    }
    let col = |line: usize, c: usize| inserted.map_or(c, |i| i.column(line, c));
    // Source lines by number, and the labels under each.
    let mut lines: BTreeMap<usize, (String, Vec<Label>)> = BTreeMap::new();
    let mut notes = Vec::new();
    for m in e.spanned_messages() {
        let Some(span) = &m.span else {
            if !m.label.is_empty() {
                notes.push(m.label.clone());
            }
            continue;
        };
        let start = col(span.start_line, span.start_column);
        let end = if span.end_line == span.start_line { col(span.end_line, span.end_column) } else { start + 1 };
        let mut source = m.lines.first().cloned().unwrap_or_default();
        if let Some(i) = inserted.filter(|i| i.line == span.start_line) {
            source = source.replacen(i.text, "", 1);
        }
        let entry = lines.entry(span.start_line).or_insert_with(|| (source, Vec::new()));
        entry.1.push(Label { start, end: end.max(start + 1), text: m.label.clone(), primary: m.is_primary });
    }
    if let Some(p) = e.primary_spanned_message().and_then(|m| m.span.as_ref()) {
        let width = lines.keys().last().map_or(1, |n| n.to_string().len());
        let pad = " ".repeat(width);
        out.push(format!("{pad}{BLUE}-->{RESET} cell:{}:{}", p.start_line, col(p.start_line, p.start_column)));
        out.push(format!("{pad} {BLUE}|{RESET}"));
        for (num, (source, mut labels)) in lines {
            out.push(format!("{BLUE}{num:>width$} |{RESET} {source}"));
            labels.sort_by_key(|l| (!l.primary, l.start));
            for l in labels {
                let (colour, mark) = if l.primary { (RED, "^") } else { (BLUE, "-") };
                let marks = mark.repeat(l.end - l.start);
                out.push(format!("{pad} {BLUE}|{RESET} {}{colour}{marks} {}{RESET}", " ".repeat(l.start - 1), l.text));
            }
        }
    }
    for n in notes.into_iter().chain(children(e, "note")) {
        out.push(format!("  {BLUE}={RESET} {BOLD}note{RESET}: {n}"));
    }
    for h in children(e, "help") {
        out.push(format!("  {BLUE}={RESET} {BOLD}help{RESET}: {h}"));
    }
    out
}

/// rustc's child messages of a level (`note`, `help`), each with its suggested code, if any.
fn children(e: &CompilationError, level: &str) -> Vec<String> {
    let Some(children) = e.json["children"].as_array() else { return Vec::new() };
    children
        .iter()
        .filter(|c| c["level"] == level)
        .filter_map(|c| {
            let message = c["message"].as_str()?.to_string();
            let suggestion =
                c["spans"].as_array().and_then(|s| s.first()).and_then(|s| s["suggested_replacement"].as_str());
            Some(match suggestion {
                Some(code) if !code.trim().is_empty() => format!("{message}: `{}`", code.trim_end()),
                _ => message,
            })
        })
        .collect()
}

/// Why a cell failed that rustc gave only warnings for: evcxr drops its own errors (in the code
/// it generates around the cell) when the user's code has messages of its own.
pub fn warnings_only_reason(all: &[CompilationError]) -> String {
    if all.iter().any(|e| e.code() == Some("unreachable_code")) {
        "a variable's value never exists (it comes from `todo!()`, `panic!()`, `loop {}` or `return`), so the \
         variable cannot be kept for later cells; give it a type (`let z: f64 = todo!();`) or leave the `let` out"
            .to_string()
    } else {
        "the cell does not compile, and rustc said no more than the warnings below".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_on_the_inserted_line_moves_back_by_its_width() {
        let i = Inserted { line: 1, text: "let s = 0; " };
        assert_eq!(i.column(1, 12), 1);
        assert_eq!(i.column(1, 20), 9);
        assert_eq!(i.column(2, 20), 20);
    }
}
