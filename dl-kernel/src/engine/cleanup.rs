//! Leaving nothing behind: a kernel ends with `std::process::exit` (after a shutdown reply, when
//! its stand-in or its parent goes away), which runs no destructors, so what must not outlive the
//! kernel is registered here and removed by [`exit`]: its working directory (about 70 MB of a
//! prebuilt copy) and the process that runs cells (which would otherwise run on, orphaned, if a
//! cell was busy).
//!
//! The working directory has writers besides the kernel's own threads: cargo and rustc while a
//! cell (or the preload) compiles. A directory removed while they run comes back (they create
//! the folders they write to), so [`exit`] kills every descendant first and removes each
//! directory until it stays gone; the kernel's own copying thread stops at [`exiting`].

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Leftovers {
    dirs: Vec<PathBuf>,
    children: Vec<Arc<Mutex<std::process::Child>>>,
}

static LEFTOVERS: Mutex<Option<Leftovers>> = Mutex::new(None);
static EXITING: AtomicBool = AtomicBool::new(false);

fn with<R>(f: impl FnOnce(&mut Leftovers) -> R) -> R {
    let mut guard = LEFTOVERS.lock().unwrap_or_else(|e| e.into_inner());
    f(guard.get_or_insert_with(Leftovers::default))
}

/// Removes `dir` when the kernel exits (unless [`forget_dir`] was called first).
pub fn remove_at_exit(dir: PathBuf) {
    with(|l| l.dirs.push(dir));
}

/// `dir` is gone already (its owner removed it).
pub fn forget_dir(dir: &Path) {
    with(|l| l.dirs.retain(|d| d != dir));
}

/// Kills `child` when the kernel exits.
pub fn kill_at_exit(child: Arc<Mutex<std::process::Child>>) {
    with(|l| l.children.push(child));
}

/// Whether the kernel is on its way out: a thread filling a registered directory stops.
pub fn exiting() -> bool {
    EXITING.load(Ordering::Relaxed)
}

/// Kills this process's descendants and the registered processes, removes the registered
/// directories, and exits.
pub fn exit(code: i32) -> ! {
    EXITING.store(true, Ordering::Relaxed);
    // Held until the process ends: a directory registered from now on would not be removed, so
    // its registration waits for ever.
    let mut guard = LEFTOVERS.lock().unwrap_or_else(|e| e.into_inner());
    clear(guard.take().unwrap_or_default(), std::process::id());
    std::process::exit(code)
}

fn clear(leftovers: Leftovers, root: u32) {
    super::process_tree::kill_descendants_of(root);
    for child in leftovers.children {
        if let Ok(mut c) = child.lock() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
    for dir in leftovers.dirs {
        remove_for_good(&dir);
    }
}

/// Removes `dir` and checks, for up to a second, that nothing recreated it (a killed writer
/// finishes the system call it was in).
fn remove_for_good(dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline {
        let _ = std::fs::remove_dir_all(dir);
        std::thread::sleep(Duration::from_millis(20));
        if !dir.exists() {
            return;
        }
    }
    log::warn!("could not remove {}", dir.display());
}

/// Exits (through [`exit`]) once this process's parent is gone: a kernel whose Jupyter server
/// was killed is adopted by init (or a subreaper) instead of being told, so it looks once a
/// second, as ipykernel does.
pub fn exit_with_parent() {
    let parent = rustix::process::getppid();
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_secs(1));
        if rustix::process::getppid() != parent {
            log::info!("the parent process is gone; exiting");
            exit(0);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_that_a_descendant_keeps_filling_is_removed_for_good() {
        let dir = std::env::temp_dir().join(format!("dl-kernel-cleanup-test-{}", std::process::id()));
        // A writer two levels down, as rustc is under cargo: it recreates the folders it writes to
        // (`echo`: a failed redirection of dash's special built-in `:` would end the loop).
        let script = format!(
            "(while :; do mkdir -p '{0}/target/debug' && echo > '{0}/target/debug/x'; done 2>/dev/null) & wait",
            dir.display()
        );
        let mut parent = std::process::Command::new("sh").args(["-c", &script]).spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !dir.join("target/debug/x").exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        clear(Leftovers { dirs: vec![dir.clone()], children: vec![] }, parent.id());
        std::thread::sleep(Duration::from_millis(300));
        let left = dir.exists();
        crate::engine::process_tree::kill_descendants_of(parent.id());
        let _ = parent.kill();
        let _ = parent.wait();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(!left, "{} came back", dir.display());
    }
}
