//! State that must be shared by every cell of a notebook: the random generator's state (see
//! [`crate::random`]), Keras's automatic layer/model name counters, and the interrupt request.
//!
//! evcxr loads each cell as a separate shared library, and each one links its own copy of
//! dl-core, statics included. In a dl-kernel session ([`SESSION_DIR_ENV`] set by the kernel)
//! this state therefore lives in small files in the session directory, which every copy sees;
//! the kernel asks a running loop to stop by creating [`INTERRUPT_FILE`] there. Outside a kernel
//! it lives in ordinary statics.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use crate::kernel_protocol::{INTERRUPT_FILE, SESSION_DIR_ENV};

fn dir() -> Option<PathBuf> {
    std::env::var_os(SESSION_DIR_ENV).map(PathBuf::from)
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

/// A token naming this session, made once and kept in the session directory; outside a kernel,
/// one per process. Random enough that no two sessions (nor a session and its restart, which
/// gets a new directory) share it.
pub(crate) fn token() -> String {
    static LOCAL: Mutex<Option<String>> = Mutex::new(None);
    with_state("token", &LOCAL, |t| {
        t.get_or_insert_with(|| {
            let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
            let mixed = crate::random::Rng::new(nanos as u64 ^ ((std::process::id() as u64) << 40)).next_u64();
            format!("{mixed:016x}")
        })
        .clone()
    })
}

/// Resets the counter `name` to 0.
pub(crate) fn reset_count(name: &str, local: &AtomicUsize) {
    local.store(0, Ordering::Relaxed);
    if let Some(d) = dir() {
        let _ = std::fs::remove_file(d.join(name));
    }
}

/// Runs `f` on the state `name` (`None` when never set) and keeps what it leaves there: as a
/// file in the session directory in a kernel, else in `local`.
pub(crate) fn with_state<R>(name: &str, local: &Mutex<Option<String>>, f: impl FnOnce(&mut Option<String>) -> R) -> R {
    match dir() {
        Some(d) => {
            let path = d.join(name);
            let mut state = std::fs::read_to_string(&path).ok();
            let r = f(&mut state);
            if let Some(s) = &state {
                let _ = std::fs::write(&path, s);
            }
            r
        }
        None => f(&mut local.lock().unwrap_or_else(|e| e.into_inner())),
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
    std::fs::remove_file(d.join(INTERRUPT_FILE)).is_ok()
}

/// Forgets an interrupt requested while no loop was running.
pub(crate) fn clear_interrupt() {
    LOCAL_INTERRUPT.store(false, Ordering::SeqCst);
    *LAST_CHECK.lock().unwrap_or_else(|e| e.into_inner()) = None;
    if let Some(d) = dir() {
        let _ = std::fs::remove_file(d.join(INTERRUPT_FILE));
    }
}

/// Requests that the running loop stop (what the kernel's interrupt does, for tests and
/// embedding code).
pub fn request_interrupt() {
    LOCAL_INTERRUPT.store(true, Ordering::SeqCst);
    if let Some(d) = dir() {
        let _ = std::fs::write(d.join(INTERRUPT_FILE), b"");
    }
}
