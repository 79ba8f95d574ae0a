//! What the engine needs of the Rust toolchain: the standard library's sources (for
//! rust-analyzer), its shared object (for the process that loads cells), and its version.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::Command;

/// rust-analyzer (inside evcxr) needs the standard library's sources; without them variable
/// types are not inferred and e.g. `let v = vec![1, 2, 3];` does not persist.
///
/// # Errors
/// When `rust-src` is not installed, with the command that installs it.
pub fn check_rust_src() -> Result<()> {
    let out =
        Command::new("rustc").args(["--print", "sysroot"]).output().context("running rustc (is Rust installed?)")?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if !sysroot.join("lib/rustlib/src/rust/library/core").exists() {
        bail!(
            "the Rust standard library sources (rust-src) are missing; the kernel needs them to infer types.\n\
             Install them with:  rustup component add rust-src"
        );
    }
    Ok(())
}

/// The standard library's sources (`library/` of rust-src), if installed.
pub fn std_sources() -> Option<PathBuf> {
    let out = Command::new("rustc").args(["--print", "sysroot"]).output().ok()?;
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("lib/rustlib/src/rust/library");
    dir.is_dir().then_some(dir)
}

/// Makes the standard library's shared object findable by the process that loads the cells.
///
/// Cells are compiled with `-C prefer-dynamic`, so each one needs `libstd-*.so` from the
/// toolchain. Its relative `RUNPATH` only holds at the depth where rustc wrote the file, not
/// where evcxr moves it (nor in a copied work directory), so the toolchain's library directory
/// goes on `LD_LIBRARY_PATH`, which the cell process inherits.
pub fn export_std_library_path() {
    let Ok(out) = Command::new("rustc").args(["--print", "target-libdir"]).output() else { return };
    let libdir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let var = if cfg!(target_os = "macos") { "DYLD_LIBRARY_PATH" } else { "LD_LIBRARY_PATH" };
    let old = std::env::var(var).unwrap_or_default();
    if !old.split(':').any(|p| p == libdir) {
        let new = if old.is_empty() { libdir } else { format!("{libdir}:{old}") };
        std::env::set_var(var, new);
    }
}

/// `rustc -V` of the toolchain on `PATH` (about 15 ms through rustup's proxy).
pub fn rustc_version() -> String {
    Command::new("rustc")
        .arg("-V")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
