//! The compiler wrapper for cells: turns off rustc's ThinLTO pass for the cell crate.
//!
//! evcxr compiles each cell as a crate named `ctx`, with the profile it writes into the cell's
//! `Cargo.toml`: `opt-level = 2`, 16 codegen units, `lto = false`. With that profile rustc runs
//! ThinLTO across the crate's *own* codegen units ("thin local" LTO). A cell is a little glue
//! between the variable store and code already compiled in the dependencies, so that pass only
//! costs time. `-C lto=off` skips it; dependencies are untouched (they are not workspace
//! members, so cargo never passes them through this wrapper), and what a cell inlines from them
//! does not depend on it either.
//!
//! Measured with the cell crate's own `rustc` command, replayed on a kernel's work directory,
//! `let z = N;` and `y * N` cells in turn, 8 each, medians: 0.151 / 0.184 s as evcxr compiles
//! them, 0.111 / 0.132 s with `-C lto=off` (and 0.135 / 0.162 s at `opt-level = 1`, which would
//! also slow the cell's own loops).
//!
//! How: the engine sets `RUSTC_WORKSPACE_WRAPPER` to this binary (unless the user has a compiler
//! wrapper of their own, see [`install_for_cells`]), so cargo runs `dl-kernel <rustc> <args>`
//! for the cell crate, and [`ENV`] so that `main` knows it is the wrapper before anything else
//! runs.

use std::path::{Path, PathBuf};

/// Set for cargo by the engine: this process is the compiler wrapper.
pub const ENV: &str = "DL_KERNEL_RUSTC_WRAPPER";

/// The crate name evcxr gives every cell.
const CELL_CRATE: &str = "ctx";

/// If this process was started as the compiler wrapper (`args` without the program name:
/// rustc's path, then its arguments), runs rustc and returns its exit code.
pub fn run_if_wrapper(args: &[String]) -> Option<i32> {
    if std::env::var_os(ENV).is_none_or(|v| v != "1") {
        return None;
    }
    let (rustc, rest) = args.split_first()?;
    // The variable is inherited by the process that runs cells, and whatever a cell starts: only
    // a call whose first argument is a rustc is cargo calling the wrapper.
    if !Path::new(rustc).file_stem().is_some_and(|s| s.to_string_lossy().starts_with("rustc")) {
        return None;
    }
    let mut command = std::process::Command::new(rustc);
    command.args(rustc_args(rest));
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let e = command.exec();
        eprintln!("dl-kernel: cannot run {rustc}: {e}");
        Some(1)
    }
    #[cfg(not(unix))]
    Some(match command.status() {
        Ok(s) => s.code().unwrap_or(1),
        Err(e) => {
            eprintln!("dl-kernel: cannot run {rustc}: {e}");
            1
        }
    })
}

/// rustc's arguments for this invocation: those cargo gave, plus `-C lto=off` when compiling
/// the cell crate.
fn rustc_args(args: &[String]) -> Vec<String> {
    let mut out = args.to_vec();
    let is_cell = args.windows(2).any(|w| w[0] == "--crate-name" && w[1] == CELL_CRATE);
    if is_cell {
        out.extend(["-C".to_string(), "lto=off".to_string()]);
    }
    out
}

/// Makes cargo, started by evcxr from this process, compile the cells in `workdir` through this
/// binary. Does nothing when the user has a compiler wrapper of their own: a workspace wrapper
/// would be replaced, and behind a `rustc-wrapper` such as sccache cargo would run
/// `sccache dl-kernel rustc …`, which sccache does not take for a compiler.
pub fn install_for_cells(workdir: &Path) {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    if ["RUSTC_WORKSPACE_WRAPPER", "RUSTC_WRAPPER", "CARGO_BUILD_RUSTC_WRAPPER", "CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER"]
        .iter()
        .any(|n| set(n))
    {
        return;
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let configs = workdir.ancestors().map(|d| d.join(".cargo")).chain(cargo_home);
    if configs.into_iter().any(|dir| names_a_wrapper(&dir)) {
        return;
    }
    if let Ok(exe) = std::env::current_exe() {
        std::env::set_var("RUSTC_WORKSPACE_WRAPPER", exe);
        std::env::set_var(ENV, "1");
    }
}

/// Whether a cargo configuration directory (`.cargo`, or `CARGO_HOME`) sets a compiler wrapper.
fn names_a_wrapper(dir: &Path) -> bool {
    ["config.toml", "config"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(dir.join(f)).ok())
        .any(|text| text.contains("rustc-wrapper") || text.contains("rustc-workspace-wrapper"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn a_cargo_config_that_sets_a_wrapper_is_noticed() {
        let dir = std::env::temp_dir().join(format!("dl-wrapper-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(!names_a_wrapper(&dir));
        std::fs::write(dir.join("config.toml"), "[net]\noffline = false\n").unwrap();
        assert!(!names_a_wrapper(&dir));
        std::fs::write(dir.join("config.toml"), "[build]\nrustc-wrapper = \"sccache\"\n").unwrap();
        assert!(names_a_wrapper(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn only_the_cell_crate_gets_lto_off() {
        let cell = strings(&["--crate-name", "ctx", "--edition=2024", "src/lib.rs", "-C", "opt-level=2"]);
        let mut expected = cell.clone();
        expected.extend(strings(&["-C", "lto=off"]));
        assert_eq!(rustc_args(&cell), expected);
        let dep = strings(&["--crate-name", "dl_core", "src/lib.rs", "-C", "opt-level=2"]);
        assert_eq!(rustc_args(&dep), dep);
        // A crate merely mentioning the name elsewhere is not the cell.
        let other = strings(&["--crate-name", "ctx2", "--cfg", "ctx"]);
        assert_eq!(rustc_args(&other), other);
    }
}
