//! The kernel's input history and `history_request` (tail, range, search), as IPython answers it.

use jupyter_protocol::HistoryRequest;
use serde_json::{json, Value};

/// The cells run in this session, with their execution counts.
#[derive(Default)]
pub struct History {
    entries: Vec<(usize, String)>,
}

impl History {
    /// Records the cell run as `In[count]`.
    pub fn push(&mut self, count: usize, code: &str) {
        self.entries.push((count, code.to_string()));
    }

    /// The `history` list of a `history_reply`: `[session, line, input]` entries (or
    /// `[session, line, [input, output]]` when outputs are asked for; outputs are not kept).
    pub fn reply(&self, req: &HistoryRequest) -> Value {
        let entry = |(n, code): &(usize, String), output: bool| {
            if output {
                json!([1, n, [code, null]])
            } else {
                json!([1, n, code])
            }
        };
        let h = &self.entries;
        let items: Vec<Value> = match req {
            HistoryRequest::Tail { n, output, .. } => {
                let n = (*n).max(0) as usize;
                h.iter().skip(h.len().saturating_sub(n)).map(|e| entry(e, *output)).collect()
            }
            HistoryRequest::Range { session, start, stop, output, .. } => {
                if session.is_some_and(|s| s != 0 && s != 1) {
                    Vec::new()
                } else {
                    h.iter()
                        .filter(|(n, _)| *n as i32 >= *start && (*stop <= 0 || (*n as i32) < *stop))
                        .map(|e| entry(e, *output))
                        .collect()
                }
            }
            HistoryRequest::Search { pattern, unique, output, n, .. } => {
                let pattern = glob(pattern);
                let mut seen = std::collections::HashSet::new();
                let mut found: Vec<Value> = h
                    .iter()
                    .rev()
                    .filter(|(_, code)| pattern.as_ref().is_some_and(|p| p.matches(code)))
                    .filter(|(_, code)| !*unique || seen.insert(code.clone()))
                    .take(if *n > 0 { *n as usize } else { usize::MAX })
                    .map(|e| entry(e, *output))
                    .collect();
                found.reverse();
                found
            }
        };
        Value::Array(items)
    }
}

/// A search pattern as IPython's history uses it (SQLite's `GLOB`: `*`, `?`, `[...]`), over
/// whole cells, `/` included. A pattern that does not parse matches nothing.
fn glob(pattern: &str) -> Option<glob::Pattern> {
    glob::Pattern::new(pattern).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, text: &str) -> bool {
        glob(pattern).is_some_and(|p| p.matches(text))
    }

    #[test]
    fn history_search_uses_globs() {
        assert!(matches("let*", "let x = 1;"));
        assert!(matches("*fit*", "model.fit(&x, &y, 1, 1)"));
        assert!(!matches("fit", "model.fit()"));
        assert!(matches("a?c", "abc"));
        assert!(matches("*x/2*", "let y = x/2;"));
    }

    #[test]
    fn a_star_in_the_code_does_not_stop_the_patterns_wildcard() {
        // The hand-written matcher took the pattern's `*` for a literal when the code had a `*`
        // at that place, and so missed `6 * 7` for `6 *` (IPython finds it).
        assert!(matches("6 *", "6 * 7"));
        assert!(matches("*6 * 7", "let x = 6 * 7"));
        assert!(matches("*[*]*", "6 * 7"));
        assert!(!matches("*[*]*", "6 + 7"));
    }
}
