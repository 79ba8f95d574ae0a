//! State that must be shared by every cell of a notebook: the random generator behind
//! [`crate::set_random_seed`], Keras's automatic layer/model name counters, and the interrupt
//! request.
//!
//! evcxr loads each cell as a separate shared library, and each one links its own copy of
//! dl-core, statics included. In a dl-kernel session (`DL_SESSION_DIR` set by the kernel) this
//! state therefore lives in small files in the session directory, which every copy sees; the
//! kernel asks a running loop to stop by creating `interrupt` there. Outside a kernel it lives in
//! ordinary statics.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The variable that names the session directory.
pub const SESSION_ENV: &str = "DL_SESSION_DIR";

fn dir() -> Option<PathBuf> {
    std::env::var_os(SESSION_ENV).map(PathBuf::from)
}

/// Adds one to the counter `name` and returns its previous value.
pub(crate) fn next_count(name: &str, local: &AtomicUsize) -> usize {
    match dir() {
        Some(d) => {
            let path = d.join(name);
            let n: usize = std::fs::read_to_string(&path).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
            let _ = std::fs::write(&path, (n + 1).to_string());
            n
        }
        None => local.fetch_add(1, Ordering::Relaxed),
    }
}

/// Resets the counter `name` to 0.
pub(crate) fn reset_count(name: &str, local: &AtomicUsize) {
    local.store(0, Ordering::Relaxed);
    if let Some(d) = dir() {
        let _ = std::fs::remove_file(d.join(name));
    }
}

static RNG_STATE: Mutex<Option<[u64; 4]>> = Mutex::new(None);

/// Runs `f` on the global generator's state (`None` when never seeded) and stores the result.
pub(crate) fn with_rng_state<R>(f: impl FnOnce(&mut Option<[u64; 4]>) -> R) -> R {
    match dir() {
        Some(d) => {
            let path = d.join("rng");
            let mut state = std::fs::read_to_string(&path).ok().and_then(|s| {
                let v: Vec<u64> = s.split_whitespace().filter_map(|w| w.parse().ok()).collect();
                <[u64; 4]>::try_from(v).ok()
            });
            let r = f(&mut state);
            if let Some(s) = state {
                let _ = std::fs::write(&path, format!("{} {} {} {}", s[0], s[1], s[2], s[3]));
            }
            r
        }
        None => f(&mut RNG_STATE.lock().unwrap_or_else(|e| e.into_inner())),
    }
}

static LOCAL_INTERRUPT: AtomicBool = AtomicBool::new(false);
static LAST_CHECK: Mutex<Option<Instant>> = Mutex::new(None);

/// At most this often a loop looks for the interrupt file (a system call), so that tiny batches
/// stay fast; an interrupt is still noticed within a fraction of a second.
const CHECK_EVERY: Duration = Duration::from_millis(50);

/// True once if an interrupt was requested since the last call (clears the request).
pub(crate) fn take_interrupt() -> bool {
    if LOCAL_INTERRUPT.swap(false, Ordering::SeqCst) {
        return true;
    }
    let Some(d) = dir() else { return false };
    let now = Instant::now();
    {
        let mut last = LAST_CHECK.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|t| now - t < CHECK_EVERY) {
            return false;
        }
        *last = Some(now);
    }
    std::fs::remove_file(d.join("interrupt")).is_ok()
}

/// Forgets an interrupt requested while no loop was running.
pub(crate) fn clear_interrupt() {
    LOCAL_INTERRUPT.store(false, Ordering::SeqCst);
    *LAST_CHECK.lock().unwrap_or_else(|e| e.into_inner()) = None;
    if let Some(d) = dir() {
        let _ = std::fs::remove_file(d.join("interrupt"));
    }
}

/// Requests that the running loop stop (what the kernel's interrupt does, for tests and
/// embedding code).
pub fn request_interrupt() {
    LOCAL_INTERRUPT.store(true, Ordering::SeqCst);
    if let Some(d) = dir() {
        let _ = std::fs::write(d.join("interrupt"), b"");
    }
}
