//! Grading a compiled language fairly: a mistake costs what it would cost in Python.
//!
//! In Python a function with a bug is still defined and fails only when it is called; the other
//! functions of its cell are unaffected, and an endless loop stopped by a timeout loses nothing
//! else. Rust compiles a cell as a whole, so one missing `.unwrap()` would leave every function
//! of the cell undefined and fail every later test that uses any of them; and a cell stopped by
//! force loses every variable. While grading (nbgrader sets `NBGRADER_EXECUTION` for the kernels
//! it starts; `dl-kernel run --grade` and `DL_KERNEL_GRADING=1` do the same), the engine
//! therefore follows these rules:
//!
//! 1. **A cell that does not compile keeps what does.** The cell shows its compile error, as
//!    always; then the engine runs, hidden, a *repair* of it: the cell's items (functions,
//!    types, impls, traits, uses, constants) as written, except that
//!    - a function whose body does not compile keeps its signature with a `todo!()` body, so it
//!      exists and panics when called (`not yet implemented: f does not compile`);
//!    - a method of an impl or trait block is treated the same way inside its block;
//!    - any other item that does not compile, or a function whose signature does not, is left
//!      out.
//!
//!    The cell's statements run up to the first one that does not compile, as a Python cell runs
//!    up to the line that raises: a `let` before the mistake is defined, one from it on is not.
//!    If the repair itself does not compile (an item or a statement that needed a left-out
//!    one), the new errors are repaired the same way, up to three times.
//! 2. **A cell stopped by force loses nothing else.** When a cell has to be stopped by
//!    restarting the process that runs cells (an endless loop, a timeout), the cells that had
//!    succeeded are run again, hidden and in order, before the next cell runs, so that their
//!    variables exist again. The stopped cell itself fails.
//! 3. **Nothing of the kernel's own goes under a cell.** Start-up progress (building dl-core)
//!    and the compiler's messages go to the kernel's log only: nbgrader scores any stderr output
//!    in a test cell as a failure.
//! 4. **Interrupts are quick.** A cell that does not stop within a second of an interrupt is
//!    stopped by force (three seconds otherwise), so that the kernel is idle again well within
//!    the four seconds nbclient waits after a timeout.

use ra_ap_syntax::ast::HasName;
use ra_ap_syntax::{ast, AstNode, Edition, SourceFile, SyntaxKind};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

static GRADING: AtomicBool = AtomicBool::new(false);

/// Whether the kernel grades (see the rules above).
pub fn grading() -> bool {
    GRADING.load(Ordering::Relaxed)
}

/// Turns grading on or off for this process.
pub fn set_grading(on: bool) {
    GRADING.store(on, Ordering::Relaxed);
}

/// Whether an environment asks for grading: nbgrader's `NBGRADER_EXECUTION` (`autograde`,
/// `validate`), or `DL_KERNEL_GRADING=1`.
pub fn requested_by(var: impl Fn(&str) -> Option<String>) -> bool {
    var("NBGRADER_EXECUTION").is_some_and(|v| !v.is_empty()) || var("DL_KERNEL_GRADING").is_some_and(|v| v == "1")
}

/// A top-level piece of a cell, as byte ranges into its code.
#[derive(Debug)]
enum Piece {
    /// A function, its name and its body.
    Fn { item: Range<usize>, name: String, body: Option<Range<usize>> },
    /// An impl or trait block and its functions (name, body).
    Block { item: Range<usize>, fns: Vec<(String, Range<usize>)> },
    /// Any other item.
    Item(Range<usize>),
    /// A statement or the cell's final expression.
    Statement(Range<usize>),
}

const PRELUDE: &str = "fn cell() {\n";

/// Splits a cell into its top-level pieces, parsed as the body of a function (as evcxr reads a
/// cell).
fn pieces(code: &str) -> Vec<Piece> {
    let wrapped = format!("{PRELUDE}{code}\n}}");
    let file = SourceFile::parse(&wrapped, Edition::Edition2024).tree();
    let Some(stmts) =
        file.syntax().children().find_map(ast::Fn::cast).and_then(|f| f.body()).and_then(|b| b.stmt_list())
    else {
        return Vec::new();
    };
    let at = |r: ra_ap_syntax::TextRange| -> Range<usize> {
        let (s, e) = (usize::from(r.start()), usize::from(r.end()));
        s.saturating_sub(PRELUDE.len()).min(code.len())..e.saturating_sub(PRELUDE.len()).min(code.len())
    };
    let fn_parts = |f: &ast::Fn| {
        let name = f.name().map(|n| n.text().to_string()).unwrap_or_default();
        (name, f.body().map(|b| at(b.syntax().text_range())))
    };
    let mut out = Vec::new();
    for node in stmts.syntax().children() {
        let range = at(node.text_range());
        if let Some(f) = ast::Fn::cast(node.clone()) {
            let (name, body) = fn_parts(&f);
            out.push(Piece::Fn { item: range, name, body });
        } else if matches!(node.kind(), SyntaxKind::IMPL | SyntaxKind::TRAIT) {
            let fns = node
                .descendants()
                .filter_map(ast::Fn::cast)
                .filter_map(|f| match fn_parts(&f) {
                    (name, Some(body)) => Some((name, body)),
                    _ => None,
                })
                .collect();
            out.push(Piece::Block { item: range, fns });
        } else if ast::Item::can_cast(node.kind()) {
            out.push(Piece::Item(range));
        } else {
            out.push(Piece::Statement(range));
        }
    }
    out
}

fn stub(name: &str) -> String {
    format!("{{ todo!(\"{name} does not compile\") }}")
}

/// The repair of a cell that did not compile (see rule 1): its items, with a `todo!()` body for
/// each function whose body holds one of the `errors` (byte offsets into `code`) and without
/// the other items that hold one, and its statements before the first that holds one. `None`
/// when nothing is left.
pub fn repair(code: &str, errors: &[usize]) -> Option<String> {
    let hit = |r: &Range<usize>| errors.iter().any(|&e| r.contains(&e));
    let mut kept = Vec::new();
    let mut statements_stopped = false;
    for piece in pieces(code) {
        match piece {
            Piece::Fn { item, name, body } => match body {
                Some(b) if hit(&b) && !errors.iter().any(|&e| item.contains(&e) && !b.contains(&e)) => {
                    kept.push(format!("{}{}", &code[item.start..b.start], stub(&name)));
                }
                _ if hit(&item) => {}
                _ => kept.push(code[item].to_string()),
            },
            Piece::Block { item, fns } => {
                let in_fns = |e: usize| fns.iter().any(|(_, b)| b.contains(&e));
                if errors.iter().any(|&e| item.contains(&e) && !in_fns(e)) {
                    continue;
                }
                let mut text = String::new();
                let mut from = item.start;
                for (name, b) in fns.iter().filter(|(_, b)| hit(b)) {
                    text.push_str(&code[from..b.start]);
                    text.push_str(&stub(name));
                    from = b.end;
                }
                text.push_str(&code[from..item.end]);
                kept.push(text);
            }
            Piece::Item(item) if !hit(&item) => kept.push(code[item].to_string()),
            Piece::Item(_) => {}
            Piece::Statement(range) => {
                statements_stopped |= hit(&range);
                if !statements_stopped {
                    kept.push(code[range].to_string());
                }
            }
        }
    }
    (!kept.is_empty()).then(|| kept.join("\n"))
}

/// The byte offset of a 1-based line and column (in characters) of `code`.
pub fn offset(code: &str, line: usize, column: usize) -> Option<usize> {
    let start: usize = code.split_inclusive('\n').take(line.checked_sub(1)?).map(str::len).sum();
    let text = code.get(start..)?;
    let col = text.char_indices().nth(column.saturating_sub(1)).map_or(text.len(), |(i, _)| i);
    Some(start + col)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(code: &str, needle: &str) -> usize {
        code.find(needle).unwrap()
    }

    #[test]
    fn a_function_whose_body_fails_keeps_its_signature_and_the_others_stay_as_written() {
        let code = "/// Doc.\nfn good(a: i32) -> i32 {\n    a + 1\n}\nfn bad(x: &[f32]) -> f32 {\n    x.iter().max()\n}\nlet v = bad(&[1.0]);";
        let fixed = repair(code, &[at(code, "x.iter")]).unwrap();
        assert_eq!(
            fixed,
            "/// Doc.\nfn good(a: i32) -> i32 {\n    a + 1\n}\nfn bad(x: &[f32]) -> f32 { todo!(\"bad does not compile\") }\nlet v = bad(&[1.0]);"
        );
    }

    #[test]
    fn failing_items_are_left_out_and_statements_run_up_to_the_first_failing_one() {
        let code =
            "use std::fmt;\nlet a = 1;\nstruct S { a: Missing }\nlet b = a.nope();\nconst N: usize = 3;\nlet c = 2;";
        let fixed = repair(code, &[at(code, "Missing"), at(code, "nope")]).unwrap();
        assert_eq!(fixed, "use std::fmt;\nlet a = 1;\nconst N: usize = 3;");
        assert_eq!(repair("let b = a.nope();\nlet c = 1;", &[8]), None);
    }

    #[test]
    fn an_error_in_a_signature_leaves_the_function_out() {
        let code = "fn f(x: Nope) -> i32 { 1 }\nfn g() -> i32 { 2 }";
        assert_eq!(repair(code, &[at(code, "Nope")]).unwrap(), "fn g() -> i32 { 2 }");
    }

    #[test]
    fn a_failing_method_is_stubbed_inside_its_impl() {
        let code = "struct P;\nimpl P {\n    fn ok(&self) -> u8 { 1 }\n    fn broken(&self) -> u8 { \"x\" }\n}";
        let fixed = repair(code, &[at(code, "\"x\"")]).unwrap();
        assert_eq!(
            fixed,
            "struct P;\nimpl P {\n    fn ok(&self) -> u8 { 1 }\n    fn broken(&self) -> u8 { todo!(\"broken does not compile\") }\n}"
        );
    }

    #[test]
    fn columns_count_characters_from_one() {
        let code = "let é = 1;\nlet b = é + x;";
        assert_eq!(offset(code, 2, 13), Some(code.find('x').unwrap()));
        assert_eq!(offset(code, 1, 1), Some(0));
    }

    #[test]
    fn grading_is_asked_for_by_nbgrader_or_our_variable() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        assert!(requested_by(env(&[("NBGRADER_EXECUTION", "autograde")])));
        assert!(requested_by(env(&[("DL_KERNEL_GRADING", "1")])));
        assert!(!requested_by(env(&[("DL_KERNEL_GRADING", "0")])));
        assert!(!requested_by(env(&[])));
    }
}
