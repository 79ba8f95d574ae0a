//! dl-core in every context: where its sources are, and the code that loads it.

use super::outcome::SENTINEL_VAR;
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

/// Where dl-core's sources are: `DL_CORE_PATH`, else beside this crate in the workspace it was
/// built from.
pub fn dl_core_path() -> PathBuf {
    let path = std::env::var_os("DL_CORE_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dl-core"));
    // A path that does not exist stays as given, for `check_dl_core` to name.
    path.canonicalize().unwrap_or(path)
}

/// Checks that dl-core's sources are where [`dl_core_path`] says: cells are compiled against them.
///
/// # Errors
/// When they are not there. The path is fixed when this binary is built, and cargo does not
/// rebuild the binary for a clone at another path whose files are older than it, nor for a moved
/// repository; the message says how to recover.
pub fn check_dl_core(core: &Path) -> Result<()> {
    if core.join("Cargo.toml").is_file() {
        return Ok(());
    }
    if std::env::var_os("DL_CORE_PATH").is_some() {
        bail!("DL_CORE_PATH is {}, which holds no dl-core sources (no Cargo.toml there)", core.display());
    }
    bail!(
        "dl-core's sources are not at {}: the repository this dl-kernel was built from has moved \
         or is gone. Set DL_CORE_PATH to the dl-core directory, or rebuild the kernel in the \
         repository: touch dl-kernel/src/main.rs && cargo build --release -p dl-kernel",
        core.display()
    )
}

/// Code run first in every context: dl-core in scope and its kernel hooks installed. Its last
/// line stores a variable through `?`, so that the context pays here, while the kernel waits for
/// its first cell, what the user's first cell would otherwise pay: rust-analyzer's cold start
/// (the first variable whose type it infers) and evcxr's switch to cells that may use `?` (a
/// failed compile and a retry, once per context). dl-core comes without its `download` feature:
/// the HTTP and TLS crates behind it (22 of dl-core's 89) would otherwise be checked by cargo
/// and loaded by rust-analyzer for every cell (measured: preload 5.7 → 4.9 s, trivial cells
/// about 0.1 s faster); the kernel binary downloads for cells instead (see `fetch.rs`).
pub fn preload_code() -> String {
    format!(
        ":dep dl-core = {{ path = {:?}, default-features = false }}\nuse dl_core::prelude::*;\nuse dl_core::ndarray;\ndl_core::display::kernel_init();\nlet {SENTINEL_VAR}: u8 = \"0\".parse::<u8>()?;",
        dl_core_path().display().to_string()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_dl_core_sources_are_a_clear_error() {
        let gone = std::env::temp_dir().join(format!("dl-core-gone-{}", std::process::id()));
        let e = check_dl_core(&gone).unwrap_err().to_string();
        assert!(e.contains(&gone.display().to_string()), "{e}");
        check_dl_core(&dl_core_path()).unwrap();
    }
}
