//! Leaving nothing behind: a kernel ends with `std::process::exit` (after a shutdown reply, when
//! its stand-in or its parent goes away), which runs no destructors, so what must not outlive the
//! kernel is registered here and removed by [`exit`]: its working directory (about 70 MB of a
//! prebuilt copy) and the process that runs cells (which would otherwise run on, orphaned, if a
//! cell was busy).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Leftovers {
    dirs: Vec<PathBuf>,
    children: Vec<Arc<Mutex<std::process::Child>>>,
}

static LEFTOVERS: Mutex<Option<Leftovers>> = Mutex::new(None);

fn with<R>(f: impl FnOnce(&mut Leftovers) -> R) -> R {
    let mut guard = LEFTOVERS.lock().unwrap_or_else(|e| e.into_inner());
    f(guard.get_or_insert_with(Leftovers::default))
}

/// Removes `dir` when the kernel exits (unless [`forget_dir`] was called first).
pub fn remove_at_exit(dir: PathBuf) {
    with(|l| l.dirs.push(dir));
}

/// `dir` is gone already (its owner removed it).
pub fn forget_dir(dir: &std::path::Path) {
    with(|l| l.dirs.retain(|d| d != dir));
}

/// Kills `child` when the kernel exits.
pub fn kill_at_exit(child: Arc<Mutex<std::process::Child>>) {
    with(|l| l.children.push(child));
}

/// Kills the registered processes, removes the registered directories, and exits.
pub fn exit(code: i32) -> ! {
    let leftovers = LEFTOVERS.lock().unwrap_or_else(|e| e.into_inner()).take().unwrap_or_default();
    for child in leftovers.children {
        if let Ok(mut c) = child.lock() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
    for dir in leftovers.dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
    std::process::exit(code)
}

/// Exits (through [`exit`]) once this process's parent is gone: a kernel whose Jupyter server
/// was killed is adopted by init (or a subreaper) instead of being told, so it looks once a
/// second, as ipykernel does.
pub fn exit_with_parent() {
    let parent = rustix::process::getppid();
    std::thread::spawn(move || loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
        if rustix::process::getppid() != parent {
            log::info!("the parent process is gone; exiting");
            exit(0);
        }
    });
}
