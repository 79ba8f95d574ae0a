//! The one place that starts an evcxr context: its working directory and the environment the
//! process running cells inherits (see `dl_core::kernel_protocol` for what crosses into it).

use super::{rustc_wrapper, toolchain};
use anyhow::Result;
use dl_core::kernel_protocol::{DISPLAY_ENV, DOWNLOAD_HELPER_ENV, SESSION_DIR_ENV};
use evcxr::{CommandContext, EvalContextOutputs};
use std::path::Path;

/// Starts evcxr working in `workdir`. With a `session` directory the context is a kernel's:
/// dl-core in cells keeps its shared state there, downloads through this binary, and cells
/// compile through the kernel's compiler wrapper. Without one it only builds (the template).
///
/// # Errors
/// When evcxr cannot start.
pub fn start(workdir: &Path, session: Option<&Path>) -> Result<(CommandContext, EvalContextOutputs)> {
    // evcxr reads its working directory from this variable when the context is created, and the
    // process that runs cells inherits this process's environment.
    std::env::set_var("EVCXR_TMPDIR", workdir);
    std::env::set_var(DISPLAY_ENV, "1");
    if let Some(session) = session {
        std::env::set_var(SESSION_DIR_ENV, session);
        std::env::set_var(DOWNLOAD_HELPER_ENV, std::env::current_exe()?);
        rustc_wrapper::install_for_cells(workdir);
    }
    toolchain::export_std_library_path();
    CommandContext::new().map_err(|e| anyhow::anyhow!("cannot start evcxr: {e}"))
}
