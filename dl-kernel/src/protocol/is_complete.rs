//! `is_complete_request`: whether a cell is ready to run, by its brackets, strings and comments
//! (what a console needs to decide between running the code and opening a new line).
//!
//! - `invalid`: a closing bracket that matches nothing;
//! - `incomplete`: an open bracket, string or block comment, or a trailing `=`/operator/comma
//!   (with the indent for the next line);
//! - `complete` otherwise.

/// The verdict and, when incomplete, the indent of the next line.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Complete,
    Incomplete(String),
    Invalid,
}

/// Scans `code` as Rust.
pub fn check(code: &str) -> Verdict {
    let c: Vec<char> = code.chars().collect();
    let mut stack: Vec<char> = Vec::new();
    let mut i = 0;
    while i < c.len() {
        match c[i] {
            '/' if c.get(i + 1) == Some(&'/') => {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
            }
            '/' if c.get(i + 1) == Some(&'*') => {
                let mut depth = 1;
                i += 2;
                while depth > 0 {
                    match (c.get(i), c.get(i + 1)) {
                        (None, _) => return incomplete(stack.len()),
                        (Some('/'), Some('*')) => (depth, i) = (depth + 1, i + 2),
                        (Some('*'), Some('/')) => (depth, i) = (depth - 1, i + 2),
                        _ => i += 1,
                    }
                }
                continue;
            }
            'r' if matches!(c.get(i + 1), Some('"') | Some('#')) && (i == 0 || !is_ident(c[i - 1])) => {
                let mut hashes = 0;
                let mut j = i + 1;
                while c.get(j) == Some(&'#') {
                    hashes += 1;
                    j += 1;
                }
                if c.get(j) != Some(&'"') {
                    i += 1;
                    continue;
                }
                j += 1;
                loop {
                    match c.get(j) {
                        None => return incomplete(stack.len()),
                        Some('"') if (1..=hashes).all(|k| c.get(j + k) == Some(&'#')) => break,
                        _ => j += 1,
                    }
                }
                i = j + 1 + hashes;
                continue;
            }
            '"' => {
                i += 1;
                loop {
                    match c.get(i) {
                        None => return incomplete(stack.len()),
                        Some('\\') => i += 2,
                        Some('"') => break,
                        _ => i += 1,
                    }
                }
            }
            '\'' => {
                // A char literal ('a', '\n', '\u{1F600}') or a lifetime ('a, 'static).
                if c.get(i + 1) == Some(&'\\') {
                    i += 2;
                    while i < c.len() && c[i] != '\'' {
                        i += 1;
                    }
                } else if c.get(i + 2) == Some(&'\'') {
                    i += 2;
                }
            }
            o @ ('(' | '[' | '{') => stack.push(o),
            close @ (')' | ']' | '}') => {
                let want = match close {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                if stack.pop() != Some(want) {
                    return Verdict::Invalid;
                }
            }
            _ => {}
        }
        i += 1;
    }
    if !stack.is_empty() {
        return incomplete(stack.len());
    }
    let trimmed = code.trim_end();
    let dangling = ["=", "+", "-", "*", "/", "&&", "||", ",", ".", "->", "=>", "|", "&"];
    if dangling.iter().any(|d| trimmed.ends_with(d)) && !trimmed.ends_with("..") {
        return incomplete(1);
    }
    Verdict::Complete
}

fn incomplete(depth: usize) -> Verdict {
    Verdict::Incomplete("    ".repeat(depth.max(1)))
}

fn is_ident(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_strings_and_comments_decide() {
        assert_eq!(check("let x = 1;"), Verdict::Complete);
        assert_eq!(check("fn f() {\n    1\n}"), Verdict::Complete);
        assert_eq!(check("fn f() {"), Verdict::Incomplete("    ".into()));
        assert_eq!(check("let v = vec![(1,"), Verdict::Incomplete("        ".into()));
        assert_eq!(check("let s = \"abc"), Verdict::Incomplete("    ".into()));
        assert_eq!(check("let s = \"a{b\";"), Verdict::Complete);
        assert_eq!(check("let s = r#\"a\"{\"#;"), Verdict::Complete);
        assert_eq!(check("/* open"), Verdict::Incomplete("    ".into()));
        assert_eq!(check("// a ( comment"), Verdict::Complete);
        assert_eq!(check("let c = '{';"), Verdict::Complete);
        assert_eq!(check("fn f<'a>(x: &'a str) -> &'a str { x }"), Verdict::Complete);
        assert_eq!(check("let x ="), Verdict::Incomplete("    ".into()));
        assert_eq!(check("let x = 1;)"), Verdict::Invalid);
        assert_eq!(check("(]"), Verdict::Invalid);
        assert_eq!(check("for i in 0.."), Verdict::Complete);
    }
}
