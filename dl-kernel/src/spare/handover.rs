//! The hand-over: a stand-in (the process Jupyter started) gives its connection file, working
//! directory and per-kernel variables to a warm spare, which becomes the kernel; the stand-in
//! stays until the kernel exits, and the kernel exits when the stand-in goes.

use super::{create_dir, enabled, original_env, paths, per_kernel, timeout, Paths};
use crate::engine::toolchain;
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
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
    let connection = serde_json::from_value(v.get("connection").cloned().unwrap_or(Value::Null))
        .context("no valid connection info")?;
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
        let listener =
            UnixListener::bind(&paths.socket).with_context(|| format!("binding {}", paths.socket.display()))?;
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
        let toolchain = toolchain::rustc_version();
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
                if toolchain::rustc_version() != toolchain {
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
        crate::engine::cleanup::exit(0);
    });
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
    use serde_json::json;

    #[test]
    fn the_adoption_cell_sets_escaped_values_and_removes_missing_ones() {
        let a = Adoption {
            connection: serde_json::from_value(
                json!({"ip": "127.0.0.1", "transport": "tcp", "shell_port": 1, "iopub_port": 2,
                "stdin_port": 3, "control_port": 4, "hb_port": 5, "key": "", "signature_scheme": "hmac-sha256"}),
            )
            .unwrap(),
            cwd: PathBuf::from("/tmp/a \"b\""),
            env: BTreeMap::from([("JPY_SESSION_NAME".to_string(), "x\"y\\z.ipynb".to_string())]),
        };
        let code =
            adoption_cell(&a, &[("JPY_PARENT_PID".into(), "1".into()), ("JPY_SESSION_NAME".into(), "old".into())]);
        assert!(code.contains(r#"set_current_dir("/tmp/a \"b\"")"#), "{code}");
        assert!(code.contains(r#"set_var("JPY_SESSION_NAME", "x\"y\\z.ipynb")"#), "{code}");
        assert!(code.contains(r#"remove_var("JPY_PARENT_PID")"#), "{code}");
        assert!(!code.contains(r#"remove_var("JPY_SESSION_NAME")"#), "{code}");
    }
}
