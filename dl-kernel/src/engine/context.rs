//! The one place that starts an evcxr context: its working directory and the environment the
//! process running cells gets (see `dl_core::kernel_protocol` for what crosses into it).
//!
//! Several contexts may live in one process (`dl-kernel run` keeps warm ones in reserve), so
//! what differs between them, the session directory, goes on the command that starts the
//! process running cells, which evcxr also uses when it restarts that process; evcxr reads its
//! working directory from `EVCXR_TMPDIR` while a context is made, so contexts are made one at a
//! time.

use super::{rustc_wrapper, toolchain};
use anyhow::Result;
use dl_core::kernel_protocol::{DISPLAY_ENV, DOWNLOAD_HELPER_ENV, SESSION_DIR_ENV};
use evcxr::{CommandContext, EvalContext, EvalContextOutputs};
use std::path::Path;
use std::sync::Mutex;

/// Starts evcxr working in `workdir`. With a `session` directory the context is a kernel's:
/// dl-core in cells keeps its shared state there, downloads through this binary, and cells
/// compile through the kernel's compiler wrapper. Without one it only builds (the template).
///
/// # Errors
/// When evcxr cannot start.
pub fn start(workdir: &Path, session: Option<&Path>) -> Result<(CommandContext, EvalContextOutputs)> {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    std::env::set_var("EVCXR_TMPDIR", workdir);
    std::env::set_var(DISPLAY_ENV, "1");
    let exe = std::env::current_exe()?;
    let mut cells = std::process::Command::new(&exe);
    if let Some(session) = session {
        cells.env(SESSION_DIR_ENV, session);
        if let Some(bytes) = super::memory::cell_limit() {
            cells.env(super::memory::CELL_LIMIT_ENV, bytes.to_string());
        }
        std::env::set_var(DOWNLOAD_HELPER_ENV, &exe);
        rustc_wrapper::install_for_cells(workdir);
        absolute_data_dirs();
    }
    toolchain::export_std_library_path();
    let (eval, outputs) =
        EvalContext::with_subprocess_command(cells).map_err(|e| anyhow::anyhow!("cannot start evcxr: {e}"))?;
    Ok((CommandContext::with_eval_context(eval), outputs))
}

/// Makes relative dataset directories absolute, so that cells find them from any working
/// directory (a kernel's is its notebook's folder, as in Jupyter).
fn absolute_data_dirs() {
    for var in ["DL_DATASETS_DIR", "KERAS_HOME"] {
        if let Some(dir) = std::env::var_os(var).map(std::path::PathBuf::from) {
            if dir.is_relative() {
                if let Ok(abs) = std::path::absolute(&dir) {
                    std::env::set_var(var, abs);
                }
            }
        }
    }
}
