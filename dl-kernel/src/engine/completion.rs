//! Completion and inspection for a student: what rust-analyzer (through evcxr) offers, filtered
//! and cleaned.
//!
//! evcxr puts every crate, the standard library's too, in one *local* source root, so
//! rust-analyzer offers what only the crate itself may use: private fields (`buf`, `len` after
//! `v.` on a `Vec`), unstable nightly-only methods (`into_raw_parts`, `push_mut`), and evcxr's
//! own `evcxr_display`. This module removes them:
//! - a field is kept when rust-analyzer's hover shows it `pub` (not `pub(crate)`), or when it
//!   belongs to the notebook's own types (the cell crate, `ctx`);
//! - a standard-library name is dropped when the library's sources (rust-src, which the kernel
//!   requires) declare it only under `#[unstable]` and never under `#[stable]` ([`StdStability`]);
//! - names of evcxr's and the kernel's own (`evcxr_*`, `__dl*`) are dropped;
//!
//! and gives each match a type for JupyterLab (`function`, `property`, `class`, `module`,
//! `keyword`, `instance`), inserting a function's name without rust-analyzer's argument
//! placeholders (`push`, not `push(value)`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// One completion as the client gets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The text to insert.
    pub text: String,
    /// Its kind, in JupyterLab's names.
    pub kind: &'static str,
}

/// A candidate from evcxr: its code, evcxr's Jupyter kind, and rust-analyzer's label.
pub struct Candidate<'a> {
    pub code: &'a str,
    pub kind: &'a str,
    pub label: &'a str,
}

/// The name a candidate stands for (`push` for `push(value)`).
fn name(code: &str) -> &str {
    code.split(['(', '<', '!', ' ']).next().unwrap_or(code)
}

/// Names of the standard library that exist only as unstable (nightly) items.
pub struct StdStability {
    unstable_only: HashSet<String>,
}

impl StdStability {
    /// Reads `library/{core,alloc,std}` under the toolchain's `rust-src` once (about 0.2 s).
    pub fn get() -> &'static StdStability {
        static INDEX: OnceLock<StdStability> = OnceLock::new();
        INDEX.get_or_init(|| {
            let root = super::toolchain::std_sources();
            let (mut stable, mut unstable) = (HashSet::new(), HashSet::new());
            for lib in ["core", "alloc", "std"] {
                if let Some(root) = &root {
                    scan(&root.join(lib).join("src"), &mut stable, &mut unstable);
                }
            }
            StdStability { unstable_only: unstable.difference(&stable).cloned().collect() }
        })
    }

    /// Whether `name` is an unstable-only standard-library item.
    pub fn is_unstable(&self, name: &str) -> bool {
        self.unstable_only.contains(name)
    }

    #[cfg(test)]
    fn from_sources(files: &[&str]) -> StdStability {
        let (mut stable, mut unstable) = (HashSet::new(), HashSet::new());
        for f in files {
            scan_text(f, &mut stable, &mut unstable);
        }
        StdStability { unstable_only: unstable.difference(&stable).cloned().collect() }
    }
}

fn scan(dir: &Path, stable: &mut HashSet<String>, unstable: &mut HashSet<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let path: PathBuf = e.path();
        if path.is_dir() {
            scan(&path, stable, unstable);
        } else if path.extension().is_some_and(|x| x == "rs") {
            if let Ok(text) = std::fs::read_to_string(&path) {
                scan_text(&text, stable, unstable);
            }
        }
    }
}

/// Records each `pub fn` (`const`, `unsafe`...) by the stability attribute above it. Doc
/// comments and other attributes may stand between; an attribute may span lines.
fn scan_text(text: &str, stable: &mut HashSet<String>, unstable: &mut HashSet<String>) {
    let (mut is_stable, mut is_unstable) = (false, false);
    let mut open = 0i32; // brackets of an attribute still open from earlier lines
    for line in text.lines() {
        let t = line.trim_start();
        if open > 0 || t.starts_with("#[") {
            is_stable |= t.starts_with("#[stable(");
            is_unstable |= t.starts_with("#[unstable(");
            open += t.matches(['[', '(']).count() as i32 - t.matches([']', ')']).count() as i32;
            continue;
        }
        if t.is_empty() || t.starts_with("//") {
            continue;
        }
        if let Some(rest) = t.strip_prefix("pub ") {
            let rest = ["const ", "unsafe ", "async ", "extern \"C\" "]
                .iter()
                .fold(rest, |r, p| r.strip_prefix(p).unwrap_or(r));
            if let Some(sig) = rest.strip_prefix("fn ") {
                let n = name(sig).to_string();
                if is_stable {
                    stable.insert(n);
                } else if is_unstable {
                    unstable.insert(n);
                }
            }
        }
        is_stable = false;
        is_unstable = false;
    }
}

/// The matches to send, in rust-analyzer's order, duplicates removed. `field_is_public` is
/// asked about fields (it hovers them).
pub fn filter(
    candidates: &[Candidate<'_>],
    after_dot: bool,
    stability: &StdStability,
    mut field_is_public: impl FnMut(&str) -> bool,
) -> Vec<Match> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for c in candidates {
        let n = name(c.code);
        if n.is_empty() || n.starts_with("evcxr_") || n.starts_with("__dl") || stability.is_unstable(n) {
            continue;
        }
        let is_fn = c.kind == "function" || c.label.contains('(');
        let is_field = after_dot && !is_fn && c.kind == "instance";
        if is_field && !field_is_public(n) {
            continue;
        }
        let kind = match c.kind {
            "function" => "function",
            _ if is_field => "property",
            "class" => "class",
            "module" => "module",
            "keyword" => "keyword",
            _ => "instance",
        };
        let text =
            if is_fn && !c.code.ends_with('!') && c.code.contains('(') { n.to_string() } else { c.code.to_string() };
        if seen.insert(text.clone()) {
            out.push(Match { text, kind });
        }
    }
    out
}

/// Whether a hover's text shows a field others may use: `pub` (not `pub(crate)`), or declared
/// in the notebook's own crate.
pub fn hover_shows_public_field(hover: &str) -> bool {
    let mut lines = hover.lines().map(str::trim).filter(|l| !l.is_empty());
    let path = lines.next().unwrap_or("");
    let def = lines.next().unwrap_or("");
    path == "ctx" || path.starts_with("ctx::") || (def.starts_with("pub ") && !def.starts_with("pub("))
}

/// Documentation as a student reads it: without rustdoc's hidden example lines (`# ...`), and
/// a struct's definition without the fields others cannot use.
pub fn clean_docs(text: &str) -> String {
    let mut out = Vec::new();
    let mut in_struct = false;
    let mut hidden_fields = false;
    for line in text.lines() {
        let t = line.trim_start();
        if t == "#" || t.starts_with("# ") {
            continue;
        }
        if t.starts_with("pub struct ") && t.ends_with('{') {
            in_struct = true;
            out.push(line.to_string());
            continue;
        }
        if in_struct {
            if t == "}" {
                if hidden_fields {
                    out.push("    /* private fields */".to_string());
                }
                in_struct = false;
                hidden_fields = false;
            } else if !t.starts_with("pub ") || t.starts_with("pub(") {
                hidden_fields = true;
                continue;
            }
        }
        out.push(line.to_string());
    }
    out.join("\n")
}

/// For inspecting `recv.method(`: the code and cursor that make rust-analyzer show the method
/// (hovering `v.len` in place shows the private field `len`): `Type::method`, with the
/// receiver's type from the variables of earlier cells. `None` when the word is not a method
/// on a variable.
pub fn method_path(code: &str, start: usize, end: usize, variables: &[(String, String)]) -> Option<(String, usize)> {
    let before = code[..start].strip_suffix('.')?;
    let receiver = before.rsplit(|c: char| !(c.is_alphanumeric() || c == '_')).next()?;
    let (_, ty) = variables.iter().find(|(n, _)| n == receiver)?;
    let ty = turbofish(ty);
    let path = format!("{ty}::{}", &code[start..end]);
    let at = path.len();
    Some((path, at))
}

/// `Vec<i32>` as a path segment: `Vec::<i32>`.
fn turbofish(ty: &str) -> String {
    match ty.find('<') {
        Some(i) if !ty[..i].ends_with("::") => format!("{}::{}", &ty[..i], &ty[i..]),
        _ => ty.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STD: &str = "impl<T> Vec<T> {\n    /// Len.\n    #[stable(feature = \"rust1\", since = \"1.0.0\")]\n    #[inline]\n    pub const fn len(&self) -> usize { self.len }\n\n    #[unstable(\n        feature = \"push_mut\",\n        issue = \"1\"\n    )]\n    /// Pushes.\n    pub fn push_mut(&mut self, value: T) -> &mut T { todo!() }\n    #[unstable(feature = \"x\", issue = \"2\")]\n    pub fn is_sorted(&self) -> bool { todo!() }\n}\n#[stable(feature = \"is_sorted\", since = \"1.82.0\")]\npub fn is_sorted() {}\n";

    #[test]
    fn unstable_only_names_are_found_in_the_library_sources() {
        let s = StdStability::from_sources(&[STD]);
        assert!(s.is_unstable("push_mut"));
        assert!(!s.is_unstable("len") && !s.is_unstable("is_sorted"), "stable somewhere: kept");
    }

    #[test]
    fn the_toolchains_library_marks_nightly_only_methods() {
        // rust-src is installed by tests/run (the kernel needs it). Nightly-only on `Vec` in Rust
        // 1.95 (`push_mut` and `into_raw_parts` were too before 1.95 and 1.93).
        let s = StdStability::get();
        assert!(s.is_unstable("push_within_capacity") && s.is_unstable("try_remove") && s.is_unstable("as_non_null"));
        for stable in ["push", "len", "iter", "map", "sum", "collect", "is_sorted", "as_slice"] {
            assert!(!s.is_unstable(stable), "{stable}");
        }
    }

    #[test]
    fn private_unstable_and_internal_candidates_go_and_each_match_has_a_type() {
        let stability = StdStability::from_sources(&[STD]);
        let c = |code: &'static str, kind: &'static str, label: &'static str| Candidate { code, kind, label };
        let candidates = [
            c("buf", "instance", "buf"),
            c("len", "instance", "len"),
            c("push_mut(value)", "function", "push_mut(…)"),
            c("evcxr_display()", "function", "evcxr_display()"),
            c("len()", "function", "len()"),
            c("push(value)", "function", "push(…)"),
            c("start", "instance", "start"),
        ];
        let got = filter(&candidates, true, &stability, |f| f == "start");
        assert_eq!(
            got,
            vec![
                Match { text: "len".into(), kind: "function" },
                Match { text: "push".into(), kind: "function" },
                Match { text: "start".into(), kind: "property" },
            ]
        );
    }

    #[test]
    fn a_field_is_public_when_hover_says_pub_or_the_notebook_declared_it() {
        assert!(!hover_shows_public_field("alloc::vec::Vec\n\nbuf: RawVec<T, A>"));
        assert!(!hover_shows_public_field("dl_core::model\n\npub(crate) name: String"));
        assert!(hover_shows_public_field("core::ops::range::Range\n\npub start: Idx"));
        assert!(hover_shows_public_field("ctx\n\nx: f64"));
    }

    #[test]
    fn docs_lose_hidden_lines_and_private_fields() {
        let text = "dl_core::model\n\npub struct Sequential {\n    pub(crate) name: String,\n}\n\nExample\nlet m = 1;\n# Ok::<(), dl_core::Error>(())";
        assert_eq!(
            clean_docs(text),
            "dl_core::model\n\npub struct Sequential {\n    /* private fields */\n}\n\nExample\nlet m = 1;"
        );
    }

    #[test]
    fn a_method_on_a_variable_is_inspected_through_its_type() {
        let vars = vec![("v".to_string(), "Vec<i32>".to_string())];
        assert_eq!(method_path("v.len()", 2, 5, &vars), Some(("Vec::<i32>::len".to_string(), 15)));
        assert_eq!(method_path("len()", 0, 3, &vars), None);
        assert_eq!(method_path("w.len()", 2, 5, &vars), None);
    }
}
