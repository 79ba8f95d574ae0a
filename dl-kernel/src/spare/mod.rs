//! Warm spare kernels: the next kernel is warm before anyone asks for it.
//!
//! A new kernel needs about 8 s before its first dl-core cell can run: evcxr's start
//! (rust-analyzer loading the standard library, a first compile, the process that runs cells)
//! and the preload (dl-core linked, rust-analyzer's first inference over its crates). None of
//! that depends on the notebook. So a kernel that has been idle for a moment, or that is shut
//! down for good, starts a *spare*, `dl-kernel kernel --spare`: it warms an engine exactly as a
//! kernel does and waits on a Unix socket. The next `dl-kernel kernel --connection-file F` that
//! Jupyter starts (the *stand-in*) sends the spare its connection file, working directory and
//! per-kernel variables (`JPY_*`); the spare binds the five sockets and is the kernel from then
//! on, with the variables set and the directory changed in the process that runs cells. The
//! stand-in stays until the kernel exits, so Jupyter sees its kernel process live and end, and
//! the kernel exits when the stand-in is killed (the socket between them closes).
//!
//! A handed-over spare may still be warming: it then serves at once and runs the first cell
//! when warm, still sooner than a cold start.
//!
//! Only a spare started from the same environment is used: the socket's name is a hash of the
//! template key, this binary and every environment variable except the per-kernel ones. One
//! spare per name (a lock file), and one per user (see [`spawn_if_missing`]). It leaves after
//! `DL_KERNEL_SPARE_TIMEOUT` seconds unused (default 1800). `DL_KERNEL_SPARE=0` turns spares
//! off; their sockets, locks and logs live in `DL_KERNEL_SPARE_DIR` (default `spares/` in the
//! kernel cache), a directory only the user can open.

mod handover;

pub use handover::{adoption_cell, exit_with_stand_in, hand_over, own_per_kernel_env, stand_in, Adoption, Spare};

use crate::engine::prebuilt;
use anyhow::{bail, Context, Result};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::ffi::OsString;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

static ORIGINAL_ENV: OnceLock<Vec<(OsString, OsString)>> = OnceLock::new();

/// Remembers the environment the process started with, before the engine adds its own
/// variables: a spare is started with it, and its name is derived from it.
pub fn record_original_env() {
    let _ = ORIGINAL_ENV.set(std::env::vars_os().collect());
}

fn original_env() -> &'static [(OsString, OsString)] {
    ORIGINAL_ENV.get_or_init(|| std::env::vars_os().collect())
}

/// Spares are on unless `DL_KERNEL_SPARE=0`.
pub fn enabled() -> bool {
    std::env::var_os("DL_KERNEL_SPARE").is_none_or(|v| v != "0")
}

/// Variables that differ from one kernel to the next of the same Jupyter server (or client), or
/// that say how one kernel is used (nbgrader's, grading): a spare serves any of them.
pub fn per_kernel(name: &str) -> bool {
    name.starts_with("JPY_")
        || name.starts_with("NBGRADER_")
        || matches!(name, "PWD" | "OLDPWD" | "SHLVL" | "_" | "DL_KERNEL_GRADING")
}

fn dir() -> PathBuf {
    std::env::var_os("DL_KERNEL_SPARE_DIR").map(PathBuf::from).unwrap_or_else(|| prebuilt::cache_root().join("spares"))
}

fn timeout() -> Duration {
    let secs = std::env::var("DL_KERNEL_SPARE_TIMEOUT").ok().and_then(|s| s.parse::<f64>().ok()).unwrap_or(1800.0);
    Duration::from_secs_f64(secs.max(0.0))
}

/// The files of the spare for this environment.
struct Paths {
    socket: PathBuf,
    lock: PathBuf,
    /// Exists, holding the spare's pid, while a warm spare waits.
    warm: PathBuf,
    log: PathBuf,
}

fn paths() -> Paths {
    // Not the toolchain (`rustc -V` would delay every hand-over by 15 ms, long enough for the
    // client's first connection to find no kernel and retry 100 ms later): a spare checks it
    // itself while it waits.
    let mut h = Sha256::new();
    h.update(prebuilt::sources_key());
    if let Ok(exe) = std::env::current_exe() {
        h.update(exe.to_string_lossy().as_bytes());
        if let Ok(m) = exe.metadata() {
            h.update(format!("{} {:?}", m.len(), m.modified().ok()));
        }
    }
    // `DL_CORE_PATH` counts through `sources_key` (the path it resolves to and the sources there),
    // so that a kernelspec that sets it and a shell that does not can share a spare.
    let mut vars: Vec<_> = original_env()
        .iter()
        .filter(|(k, _)| !per_kernel(&k.to_string_lossy()) && k.as_os_str() != "DL_CORE_PATH")
        .collect();
    vars.sort();
    for (k, v) in vars {
        h.update(k.as_encoded_bytes());
        h.update(b"=");
        h.update(v.as_encoded_bytes());
        h.update(b"\0");
    }
    let name = hex::encode(&h.finalize()[..10]);
    let d = dir();
    Paths {
        socket: d.join(format!("{name}.sock")),
        lock: d.join(format!("{name}.lock")),
        warm: d.join(format!("{name}.warm")),
        log: d.join(format!("{name}.log")),
    }
}

fn create_dir() -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    let d = dir();
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&d)
        .with_context(|| format!("creating {}", d.display()))?;
    // Whoever can connect to a spare runs code as this user: the directory stays private even
    // if something else made it first.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("making {} private", d.display()))
}

/// Whether a spare for this environment exists (warming or waiting).
fn spare_exists(p: &Paths) -> bool {
    lock_held(&p.lock)
}

/// Whether any spare, of any environment, holds its name.
fn any_spare_exists() -> bool {
    let Ok(rd) = std::fs::read_dir(dir()) else { return false };
    rd.flatten().any(|e| e.path().extension().is_some_and(|x| x == "lock") && lock_held(&e.path()))
}

/// Whether a spare holds the lock file `lock` (one that cannot be opened counts as held).
fn lock_held(lock: &Path) -> bool {
    match std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(lock) {
        Ok(f) => f.try_lock().is_err(),
        Err(_) => true,
    }
}

/// Starts a spare for this environment unless one exists. It runs in its own process group,
/// with the environment this process started with, its log in the spares directory.
///
/// There is one spare per user (a warm kernel holds about 1 GB, most of it rust-analyzer's).
/// With `replace`, a spare of another environment is stopped to make room: a kernel shutting
/// down for good, or `spare --wait`, says which environment comes next. Without it (an idle
/// kernel making sure a spare waits), another environment's spare is left alone: two idle
/// kernels of different environments replaced each other's spare every second, forever, each
/// spare stopped while it warmed (seen as a spare that never got warm and a core kept busy).
pub fn spawn_if_missing(replace: bool) {
    if !enabled() || create_dir().is_err() {
        return;
    }
    let p = paths();
    if spare_exists(&p) {
        return;
    }
    // A spare holds a second kernel's memory: only where it fits (JupyterHub's containers often
    // give a user 1-2 GB, and a spare there would get the user's kernel killed).
    if let Err(why) = crate::engine::memory::room_for_spare() {
        log::info!("no spare kernel: {why}");
        return;
    }
    if replace {
        stop_all();
    } else if any_spare_exists() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else { return };
    // Appended to: the kernel that was the previous spare may still write to it.
    if p.log.metadata().is_ok_and(|m| m.len() > 1 << 20) {
        let _ = std::fs::remove_file(&p.log);
    }
    let Ok(log) = std::fs::OpenOptions::new().create(true).append(true).open(&p.log) else { return };
    use std::os::unix::process::CommandExt;
    let child = std::process::Command::new(exe)
        .args(["kernel", "--spare"])
        .env_clear()
        .envs(original_env().iter().map(|(k, v)| (k, v)))
        .current_dir(dir())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .process_group(0)
        .spawn();
    match child {
        // Reaped when it ends, so an early exit (another spare won the lock) leaves no zombie.
        Ok(mut c) => {
            log::info!("started spare kernel {}", c.id());
            std::thread::spawn(move || c.wait());
        }
        Err(e) => log::warn!("cannot start a spare kernel: {e}"),
    }
}

/// `dl-kernel spare --wait`: starts a spare for this environment if there is none and waits
/// until it is warm; prints its pid.
///
/// # Errors
/// When spares are off or no warm spare appears within `limit`.
pub fn wait_warm(limit: Duration) -> Result<u32> {
    if !enabled() {
        bail!("spare kernels are off (DL_KERNEL_SPARE=0)");
    }
    let p = paths();
    let t0 = Instant::now();
    let mut first = true;
    while t0.elapsed() < limit {
        if let Some(pid) = std::fs::read_to_string(&p.warm).ok().and_then(|s| s.trim().parse().ok()) {
            if spare_exists(&p) {
                return Ok(pid);
            }
        }
        // Room is made once: two of these waiting for different environments would otherwise
        // stop each other's spare in turn.
        spawn_if_missing(first);
        first = false;
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("no warm spare kernel after {:.0} s; see {}", limit.as_secs_f64(), p.log.display())
}

/// `dl-kernel spare --stop`: asks every spare in the spares directory to leave. Returns how
/// many were asked.
pub fn stop_all() -> usize {
    let Ok(rd) = std::fs::read_dir(dir()) else { return 0 };
    let mut n = 0;
    for e in rd.flatten() {
        let path = e.path();
        if path.extension().is_some_and(|x| x == "sock") {
            if let Ok(mut s) = UnixStream::connect(&path) {
                if writeln!(s, "{}", json!({"stop": true})).is_ok() {
                    n += 1;
                }
            }
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_kernel_variables_are_left_out_of_the_name() {
        assert!(per_kernel("JPY_SESSION_NAME") && per_kernel("JPY_PARENT_PID") && per_kernel("PWD"));
        assert!(per_kernel("NBGRADER_EXECUTION") && per_kernel("DL_KERNEL_GRADING"));
        assert!(!per_kernel("PATH") && !per_kernel("KERAS_HOME") && !per_kernel("CARGO_HOME"));
    }
}
