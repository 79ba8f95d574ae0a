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

use crate::prebuilt;
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How often a waiting spare checks that `rustc` is still the toolchain it warmed with.
const TOOLCHAIN_CHECK: Duration = Duration::from_secs(5);

/// What a stand-in hands to the spare.
pub struct Adoption {
    pub connection: jupyter_protocol::ConnectionInfo,
    pub cwd: PathBuf,
    /// The per-kernel variables the cell process should have (all of them: the others go).
    pub env: BTreeMap<String, String>,
}

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

/// Variables that differ from one kernel to the next of the same Jupyter server (or client).
pub fn per_kernel(name: &str) -> bool {
    name.starts_with("JPY_") || matches!(name, "PWD" | "OLDPWD" | "SHLVL" | "_")
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
    let name: String = h.finalize().iter().take(10).map(|b| format!("{b:02x}")).collect();
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
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&d).with_context(|| format!("creating {}", d.display()))?;
    // Whoever can connect to a spare runs code as this user: the directory stays private even
    // if something else made it first.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).with_context(|| format!("making {} private", d.display()))
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

/// Stand-in side: hands `connection_file` to a spare for this environment. Returns the
/// connection to hold until the kernel exits (see [`stand_in`]), or `None` when there is no
/// spare or it did not accept, and this process should be the kernel itself.
pub fn hand_over(connection_file: &Path) -> Option<UnixStream> {
    if !enabled() {
        return None;
    }
    let p = paths();
    let stream = UnixStream::connect(&p.socket).ok()?;
    let attempt = |mut s: UnixStream| -> Result<UnixStream> {
        let connection: Value = serde_json::from_str(&std::fs::read_to_string(connection_file)?)?;
        let env: BTreeMap<String, String> = own_per_kernel_env().into_iter().collect();
        let cwd = std::env::current_dir()?;
        let Some(cwd) = cwd.to_str() else { bail!("the working directory is not UTF-8") };
        let request = json!({"connection": connection, "cwd": cwd, "env": env});
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        writeln!(s, "{request}")?;
        let mut answer = String::new();
        BufReader::new(&s).take(4096).read_line(&mut answer)?;
        if answer.trim() != "ok" {
            bail!("the spare answered {:?}", answer.trim());
        }
        Ok(s)
    };
    match attempt(stream) {
        Ok(s) => {
            log::info!("handed the connection file to a spare kernel");
            Some(s)
        }
        Err(e) => {
            log::warn!("no hand-over to the spare kernel ({e:#}); starting one here");
            None
        }
    }
}

/// Stand-in side: waits until the kernel behind `s` exits. Returns the exit code.
pub fn stand_in(s: UnixStream) -> i32 {
    wait_closed(s);
    0
}

/// Blocks until the other end of `s` is closed (its process ended).
fn wait_closed(mut s: UnixStream) {
    use std::io::ErrorKind::{Interrupted, TimedOut, WouldBlock};
    if s.set_read_timeout(None).is_err() || s.set_nonblocking(false).is_err() {
        return;
    }
    let mut buf = [0u8; 64];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), Interrupted | TimedOut | WouldBlock) => {}
            Err(_) => return,
        }
    }
}

/// What a spare learns from a connection to its socket.
enum Request {
    Adopt(Adoption),
    Stop,
}

fn read_request(s: &UnixStream) -> Result<Request> {
    s.set_nonblocking(false)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut line = String::new();
    BufReader::new(s).take(1 << 20).read_line(&mut line)?;
    let v: Value = serde_json::from_str(&line).context("a request that is not JSON")?;
    if v.get("stop").and_then(Value::as_bool) == Some(true) {
        return Ok(Request::Stop);
    }
    let connection = serde_json::from_value(v.get("connection").cloned().unwrap_or(Value::Null)).context("no valid connection info")?;
    let cwd = PathBuf::from(v.get("cwd").and_then(Value::as_str).context("no working directory")?);
    if !cwd.is_absolute() || !cwd.is_dir() {
        bail!("{} is not a directory", cwd.display());
    }
    let mut env = BTreeMap::new();
    for (k, val) in v.get("env").and_then(Value::as_object).context("no environment")? {
        let Some(val) = val.as_str() else { bail!("{k} is not a string") };
        if !per_kernel(k) {
            bail!("{k} is not a per-kernel variable");
        }
        env.insert(k.clone(), val.to_string());
    }
    Ok(Request::Adopt(Adoption { connection, cwd, env }))
}

/// A spare that holds its name: the lock, and the socket stand-ins connect to.
pub struct Spare {
    paths: Paths,
    listener: UnixListener,
    _lock: std::fs::File,
}

impl Spare {
    /// Takes the name for this environment; `None` when another spare has it.
    ///
    /// # Errors
    /// When the spares directory or the socket cannot be made.
    pub fn claim() -> Result<Option<Spare>> {
        create_dir()?;
        let paths = paths();
        let lock = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&paths.lock)?;
        // A few tries: another process may hold the lock for a moment to see whether it is free.
        let locked = (0..4).any(|i| {
            std::thread::sleep(Duration::from_millis(20 * i));
            lock.try_lock().is_ok()
        });
        if !locked {
            log::info!("another spare kernel is there; leaving");
            return Ok(None);
        }
        // Left by a spare that was killed: with the lock held, nothing else is there.
        let _ = std::fs::remove_file(&paths.socket);
        let _ = std::fs::remove_file(&paths.warm);
        let listener = UnixListener::bind(&paths.socket).with_context(|| format!("binding {}", paths.socket.display()))?;
        Ok(Some(Spare { paths, listener, _lock: lock }))
    }

    /// Waits for a stand-in, and returns what it handed over with the connection to it; `None`
    /// when the spare should leave (a stop request, the timeout, or an engine that failed).
    /// `warm` says whether the engine is warm (`Some(true)`), warming (`None`) or failed.
    /// The name is given up on return: the next spare can take it.
    ///
    /// # Errors
    /// When the socket fails.
    pub fn wait(self, warm: &dyn Fn() -> Option<bool>) -> Result<Option<(Adoption, UnixStream)>> {
        let p = &self.paths;
        let leave = |why: &str| {
            log::info!("spare kernel: {why}");
            let _ = std::fs::remove_file(&p.socket);
            let _ = std::fs::remove_file(&p.warm);
        };
        let deadline = Instant::now() + timeout();
        let toolchain = prebuilt::rustc_version();
        let mut checked = Instant::now();
        let mut marked = false;
        // Connections are accepted on a thread of their own, so a stand-in is served at once.
        // The thread outlives the wait, blocked on a socket whose path is gone: harmless.
        let (tx, rx) = std::sync::mpsc::channel();
        let listener = self.listener.try_clone()?;
        listener.set_nonblocking(false)?;
        std::thread::spawn(move || {
            for s in listener.incoming() {
                if tx.send(s).is_err() {
                    break;
                }
            }
        });
        loop {
            match warm() {
                Some(false) => {
                    leave("its engine did not start; leaving");
                    return Ok(None);
                }
                Some(true) if !marked => {
                    std::fs::write(&p.warm, std::process::id().to_string())?;
                    marked = true;
                }
                _ => {}
            }
            if checked.elapsed() >= TOOLCHAIN_CHECK {
                checked = Instant::now();
                if prebuilt::rustc_version() != toolchain {
                    leave("the Rust toolchain changed; leaving");
                    return Ok(None);
                }
            }
            let s = match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(s) => s?,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => continue,
                Err(_) => {
                    leave("unused for too long; leaving");
                    return Ok(None);
                }
            };
            match read_request(&s) {
                Ok(Request::Adopt(a)) => {
                    let mut w = &s;
                    if writeln!(w, "ok").is_err() {
                        continue;
                    }
                    leave("handed a connection file; serving it");
                    return Ok(Some((a, s)));
                }
                Ok(Request::Stop) => {
                    leave("asked to stop");
                    return Ok(None);
                }
                Err(e) => {
                    log::warn!("spare kernel: refused a request: {e:#}");
                    let mut w = &s;
                    let _ = writeln!(w, "refused: {e}");
                }
            }
        }
    }
}

/// Kernel side, after the hand-over: exits this process when the stand-in goes away.
pub fn exit_with_stand_in(s: UnixStream) {
    std::thread::spawn(move || {
        wait_closed(s);
        log::info!("the stand-in process is gone; exiting");
        std::process::exit(0);
    });
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

/// The hidden cell that gives the process running cells the stand-in's working directory and
/// per-kernel variables (it was started with the spare's). `own` is that process's current set
/// of per-kernel variables.
pub fn adoption_cell(a: &Adoption, own: &[(String, String)]) -> String {
    let mut code = format!("std::env::set_current_dir({:?}).ok();\nunsafe {{\n", a.cwd.to_string_lossy());
    for (k, _) in own {
        if !a.env.contains_key(k) {
            code += &format!("    std::env::remove_var({k:?});\n");
        }
    }
    for (k, v) in &a.env {
        code += &format!("    std::env::set_var({k:?}, {v:?});\n");
    }
    code + "}"
}

/// This process's per-kernel variables as it started (the cell process inherited them).
pub fn own_per_kernel_env() -> Vec<(String, String)> {
    original_env()
        .iter()
        .filter_map(|(k, v)| Some((k.to_str()?.to_string(), v.to_str()?.to_string())))
        .filter(|(k, _)| per_kernel(k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_jupyters_per_kernel_variables_are_left_out_of_the_name() {
        assert!(per_kernel("JPY_SESSION_NAME") && per_kernel("JPY_PARENT_PID") && per_kernel("PWD"));
        assert!(!per_kernel("PATH") && !per_kernel("KERAS_HOME") && !per_kernel("CARGO_HOME"));
    }

    #[test]
    fn the_adoption_cell_sets_escaped_values_and_removes_missing_ones() {
        let a = Adoption {
            connection: serde_json::from_value(json!({"ip": "127.0.0.1", "transport": "tcp", "shell_port": 1, "iopub_port": 2,
                "stdin_port": 3, "control_port": 4, "hb_port": 5, "key": "", "signature_scheme": "hmac-sha256"}))
            .unwrap(),
            cwd: PathBuf::from("/tmp/a \"b\""),
            env: BTreeMap::from([("JPY_SESSION_NAME".to_string(), "x\"y\\z.ipynb".to_string())]),
        };
        let code = adoption_cell(&a, &[("JPY_PARENT_PID".into(), "1".into()), ("JPY_SESSION_NAME".into(), "old".into())]);
        assert!(code.contains(r#"set_current_dir("/tmp/a \"b\"")"#), "{code}");
        assert!(code.contains(r#"set_var("JPY_SESSION_NAME", "x\"y\\z.ipynb")"#), "{code}");
        assert!(code.contains(r#"remove_var("JPY_PARENT_PID")"#), "{code}");
        assert!(!code.contains(r#"remove_var("JPY_SESSION_NAME")"#), "{code}");
    }
}
