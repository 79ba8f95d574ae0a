//! `dl-kernel install` / `uninstall`: the `dl-rust` kernelspec ("Rust (dl)") in the user's
//! Jupyter data directory, and the prebuilt dl-core that makes new kernels start fast.

use anyhow::{Context, Result};
use serde_json::json;
use std::path::{Path, PathBuf};

/// The kernelspec's directory name.
pub const KERNEL_NAME: &str = "dl-rust";

/// The kernelspec's logos, as Jupyter names them (`dl-kernel/assets/`).
const LOGOS: [(&str, &[u8]); 3] = [
    ("logo-32x32.png", include_bytes!("../assets/logo-32x32.png")),
    ("logo-64x64.png", include_bytes!("../assets/logo-64x64.png")),
    ("logo-svg.svg", include_bytes!("../assets/logo-svg.svg")),
];

/// Jupyter's data directory: `JUPYTER_DATA_DIR`, else what `jupyter --data-dir` prints (when
/// Jupyter is installed), else the platform default (`~/.local/share/jupyter` on Linux,
/// `~/Library/Jupyter` on macOS).
pub fn jupyter_data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("JUPYTER_DATA_DIR") {
        return PathBuf::from(d);
    }
    if let Ok(out) = std::process::Command::new("jupyter").arg("--data-dir").output() {
        let d = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if out.status.success() && !d.is_empty() {
            return PathBuf::from(d);
        }
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    if cfg!(target_os = "macos") {
        home.join("Library/Jupyter")
    } else {
        std::env::var_os("XDG_DATA_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".local/share"))
            .join("jupyter")
    }
}

fn kernels_dir(prefix: Option<&Path>) -> PathBuf {
    match prefix {
        Some(p) => p.join("share/jupyter/kernels"),
        None => jupyter_data_dir().join("kernels"),
    }
}

/// Writes the kernelspec and, unless `build` is false, builds dl-core for kernels to reuse.
///
/// # Errors
/// When the directory cannot be written or dl-core does not build.
pub fn install(prefix: Option<&Path>, build: bool) -> Result<PathBuf> {
    let dir = kernels_dir(prefix).join(KERNEL_NAME);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let exe = std::env::current_exe()?.canonicalize()?;
    let core = crate::engine::preload::dl_core_path();
    // Kernels started by Jupyter compile cells against the dl-core that install saw (`DL_CORE_PATH`
    // as `./run` sets it, else the one beside the sources this binary was built from, which goes
    // stale if the repository moves without a rebuild).
    let spec = json!({
        "argv": [exe.to_string_lossy(), "kernel", "--connection-file", "{connection_file}"],
        "display_name": "Rust (dl)",
        "language": "rust",
        "interrupt_mode": "message",
        "env": {"DL_CORE_PATH": core.to_string_lossy()},
        "metadata": {"debugger": false},
    });
    std::fs::write(dir.join("kernel.json"), serde_json::to_string_pretty(&spec)? + "\n")?;
    // The Launcher's tile and the notebook's kernel icon (without them JupyterLab shows a letter).
    for (name, bytes) in LOGOS {
        std::fs::write(dir.join(name), bytes)?;
    }
    println!("Installed the \"Rust (dl)\" kernelspec in {}", dir.display());
    if build {
        crate::engine::toolchain::check_rust_src()?;
        crate::engine::preload::check_dl_core(&core)?;
        let t = crate::engine::prebuilt::ensure_template(&mut |m| println!("{m}"))?;
        println!("dl-core is ready for new kernels ({})", t.display());
    }
    Ok(dir)
}

/// Removes the kernelspec.
///
/// # Errors
/// When it exists but cannot be removed.
pub fn uninstall(prefix: Option<&Path>) -> Result<()> {
    let dir = kernels_dir(prefix).join(KERNEL_NAME);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
        println!("Removed {}", dir.display());
    } else {
        println!("No kernelspec at {}", dir.display());
    }
    Ok(())
}
