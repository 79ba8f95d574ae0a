//! `dl-kernel nbgrader-config [FILE]`: the settings nbgrader needs for Rust notebooks, written
//! into `nbgrader_config.py` (created, or its Rust (dl) block added or replaced).

use anyhow::{Context, Result};
use std::path::Path;

/// What `dbg!` prints in a cell (`[src/lib.rs:3:5] x = 4`): nbgrader's `IgnorePattern` drops
/// stderr outputs that match it, so a leftover `dbg!` does not fail a test.
pub const DBG_PATTERN: &str = r"^\[src/lib\.rs:\d+:\d+\]";

/// The stub that replaces a solution region (`BEGIN SOLUTION` ... `END SOLUTION`): it has every
/// type, so the function around it compiles, and it panics when called.
pub const RUST_CODE_STUB: &str = "// YOUR CODE HERE\ntodo!()";

const BEGIN: &str = "# --- Rust (dl) kernel: written by `dl-kernel nbgrader-config` ---";
const END: &str = "# --- end of the Rust (dl) kernel's settings ---";

/// [`DBG_PATTERN`] compiled.
pub fn dbg_pattern() -> regex::Regex {
    regex::Regex::new(DBG_PATTERN).expect("a valid pattern")
}

/// The settings, as a block of Python.
pub fn block() -> String {
    format!(
        r##"{BEGIN}
c = get_config()
# Solution regions in Rust cells become a stub that compiles and panics when called.
c.ClearSolutions.code_stub = {{"rust": {stub:?}, "python": "# YOUR CODE HERE\nraise NotImplementedError()"}}
# Each cell compiles before it runs: give it a minute. A kernel loads dl-core before its first
# cell (about 10 s without a warm spare; run `dl-kernel install` once so that it is built).
c.Execute.timeout = 60
c.Execute.startup_timeout = 600
# After a timeout the kernel stops the cell and answers within seconds; leave it room.
c.Execute.iopub_timeout = 15
# `dbg!()` writes to stderr, which nbgrader scores as a failed test: drop what it printed
# (nbgrader ships this preprocessor turned off).
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"{pattern}"
{END}
"##,
        stub = RUST_CODE_STUB,
        pattern = DBG_PATTERN,
    )
}

/// Writes the settings into `path`: the file is made if missing; an earlier block of ours is
/// replaced; otherwise the block is added at the end.
///
/// # Errors
/// When the file cannot be read or written.
pub fn write(path: &Path) -> Result<()> {
    let old = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(a), Some(b)) if b > a => {
            format!("{}{}{}", &old[..a], block(), old[b + END.len()..].trim_start_matches('\n'))
        }
        _ if old.trim().is_empty() => block(),
        _ => format!("{}\n\n{}", old.trim_end(), block()),
    };
    std::fs::write(path, new).with_context(|| format!("writing {}", path.display()))?;
    println!("wrote the Rust (dl) kernel's nbgrader settings into {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_is_added_once_and_replaced_after() {
        let dir = std::env::temp_dir().join(format!("dl-nbconfig-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("nbgrader_config.py");
        std::fs::write(&path, "c = get_config()\nc.CourseDirectory.course_id = \"dl\"\n").unwrap();
        write(&path).unwrap();
        write(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("c = get_config()\nc.CourseDirectory.course_id"));
        assert_eq!(text.matches(BEGIN).count(), 1, "{text}");
        assert!(text.contains("\"rust\": \"// YOUR CODE HERE\\ntodo!()\""), "{text}");
        assert!(text.contains("c.IgnorePattern.enabled = True"), "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_pattern_matches_dbg_output_only() {
        let p = dbg_pattern();
        assert!(p.is_match("[src/lib.rs:3:5] x = 4\n"));
        assert!(p.is_match("[src/lib.rs:12:9] &v = [\n    1,\n]\n"));
        assert!(!p.is_match("thread 'main' panicked\n"));
        assert!(!p.is_match("warning [src/lib.rs:3:5]\n"));
    }
}
