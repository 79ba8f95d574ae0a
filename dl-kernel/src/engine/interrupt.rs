//! Interrupting a running cell from another thread: first politely, through the session
//! directory (dl-core's loops stop at the next batch and keep the model), then, after a grace
//! period, by killing the process that runs cells (evcxr starts a fresh one).

use dl_core::kernel_protocol::INTERRUPT_FILE;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Lets another thread interrupt the running cell.
#[derive(Clone)]
pub struct Interrupter {
    pub(super) child: Arc<Mutex<std::process::Child>>,
    pub(super) session: PathBuf,
    pub(super) busy: Arc<AtomicBool>,
    pub(super) generation: Arc<AtomicU64>,
    /// Set when the process had to be killed (the engine then reports an interrupt).
    pub(super) killed: Arc<AtomicBool>,
    pub(super) grace: Duration,
}

impl Interrupter {
    /// Asks the running cell to stop. If it has not finished after the grace period, the process
    /// running it is killed; the engine then reports which variables were lost.
    pub fn interrupt(&self) {
        if !self.busy.load(Ordering::SeqCst) {
            return;
        }
        let _ = std::fs::write(self.session.join(INTERRUPT_FILE), b"");
        let gen = self.generation.load(Ordering::SeqCst);
        let me = self.clone();
        // While grading a second is enough (dl-core's loops stop within 50 ms), and nbclient waits
        // only four seconds for a timed-out cell to end.
        let grace = if super::fair::grading() { Duration::from_secs(1).min(me.grace) } else { me.grace };
        std::thread::spawn(move || {
            let deadline = Instant::now() + grace;
            while Instant::now() < deadline {
                if !me.busy.load(Ordering::SeqCst) || me.generation.load(Ordering::SeqCst) != gen {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if me.busy.load(Ordering::SeqCst) && me.generation.load(Ordering::SeqCst) == gen {
                if let Ok(mut c) = me.child.lock() {
                    me.killed.store(true, Ordering::SeqCst);
                    let _ = c.kill();
                }
            }
        });
    }
}
